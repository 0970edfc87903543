// SPDX-License-Identifier: Apache-2.0
//
// The vocabulary of the graph module: a node is a (collection, row) pair, an edge is seen from
// one of its ends as an EdgeView, and an AdjacencySource lists the edges of a node in one
// direction. The traversal operators (graph/traversal.h) are written against AdjacencySource
// only, so they know nothing of storage: the engine implements it over RocksDB plus the
// adjacency cache (graph/adjacency_cache.h) at one snapshot, tests over an in-memory map.
//
// A source may also hand out a node's list as a PackedList: compact arrays (24 bytes per edge,
// labels interned in a LabelTable, the other ends' ids side by side) that are immutable and
// shared, so that the cache can give a traversal its list without copying, without locks held
// during the walk, and without a callback per edge. The operators use packed lists when the
// source has them and no edge properties are needed, and the callback otherwise.
//
// Thread safety: NodeRef, Direction, EdgeView and PackedEdge are values; a PackedList is
// immutable once built (shared between threads through PackedListPtr). An AdjacencySource is
// used by one traversal at a time (thread-compatible) unless its implementation says more.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>
#include <phenix/status.h>

#include "graph/function_ref.h"
#include "graph/label_table.h"

namespace phenix::graph {

// A node of the graph: a row of a collection (edges may cross collections of one tenant).
struct NodeRef {
    std::uint32_t collection = 0;
    std::uint64_t row = 0;

    friend bool operator==(const NodeRef&, const NodeRef&) = default;
    // Orders by (collection, row).
    friend auto operator<=>(const NodeRef&, const NodeRef&) = default;
};

// A well-mixed hash of a NodeRef (splitmix64 finalizer over both fields), usable with
// std::unordered_* and for sharding.
struct NodeRefHash {
    [[nodiscard]] std::size_t operator()(const NodeRef& node) const noexcept {
        std::uint64_t x = node.row ^ (std::uint64_t{node.collection} * 0x9E3779B97F4A7C15ULL);
        x ^= x >> 30;
        x *= 0xBF58476D1CE4E5B9ULL;
        x ^= x >> 27;
        x *= 0x94D049BB133111EBULL;
        x ^= x >> 31;
        return static_cast<std::size_t>(x);
    }
};

// Which edges of a node to follow: out-edges (node -> other), in-edges (other -> node) or both.
enum class Direction : std::uint8_t { kOut, kIn, kBoth };

// One edge seen from the node whose adjacency is being listed. Every view (label, properties)
// is valid only during the visit callback that receives it; copy what must outlive the call.
struct EdgeView {
    NodeRef other;  // the other end (the node itself for a self-loop)
    std::string_view label;
    double weight = 1.0;
    // The edge's properties as JSON object text; empty when the edge has none. When the visit
    // was made with need_properties == false the source may leave it empty for an edge that
    // has properties: has_properties still says whether it has any.
    std::string_view properties;
    bool has_properties = false;
    bool reversed = false;  // true when reached through an in-edge (other -> node)
    // The other end's external id when the source knows it (the engine stores it in every
    // edge value), so that traversal results need no record reads; empty otherwise.
    std::string_view other_id;
};

// One edge of a packed list, seen from the node whose list holds it (24 bytes).
struct PackedEdge {
    static constexpr std::uint32_t kHasPropertiesBit = 0x8000'0000u;
    static constexpr std::uint32_t kMaxLabelId = kHasPropertiesBit - 1;

    std::uint64_t row = 0;  // the other end: (collection, row)
    double weight = 1.0;
    std::uint32_t collection = 0;
    std::uint32_t label_bits = 0;  // label id in the low 31 bits, kHasPropertiesBit

    [[nodiscard]] NodeRef other() const { return {collection, row}; }
    [[nodiscard]] std::uint32_t label_id() const { return label_bits & kMaxLabelId; }
    [[nodiscard]] bool has_properties() const { return (label_bits & kHasPropertiesBit) != 0; }
};
static_assert(sizeof(PackedEdge) == 24);

class PackedList;

// A counted reference to an immutable PackedList (like std::shared_ptr<const PackedList>, but the
// count lives in the list's own allocation: one allocation per list, and a reader touches one
// contiguous block). Copying costs one atomic increment.
class PackedListPtr {
  public:
    PackedListPtr() = default;
    PackedListPtr(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): like a pointer
    PackedListPtr(const PackedListPtr& other) noexcept;
    PackedListPtr(PackedListPtr&& other) noexcept : list_(other.list_) { other.list_ = nullptr; }
    PackedListPtr& operator=(const PackedListPtr& other) noexcept;
    PackedListPtr& operator=(PackedListPtr&& other) noexcept;
    ~PackedListPtr() { reset(); }

    void reset() noexcept;
    [[nodiscard]] const PackedList* get() const { return list_; }
    const PackedList* operator->() const { return list_; }
    const PackedList& operator*() const { return *list_; }
    explicit operator bool() const { return list_ != nullptr; }
    friend bool operator==(const PackedListPtr& a, std::nullptr_t) { return a.list_ == nullptr; }

  private:
    friend class PackedListBuilder;
    explicit PackedListPtr(PackedList* adopted) : list_(adopted) {}
    PackedList* list_ = nullptr;
};

// The edges of one node in one direction, packed in one allocation: a header, the edges, and
// (when the source gave ids) edges + 1 offsets and the other ends' external ids concatenated.
// Edge properties are not kept (has_properties says whether an edge has any). Built by
// PackedListBuilder; immutable; shared through PackedListPtr.
class PackedList {
  public:
    PackedList(const PackedList&) = delete;
    PackedList& operator=(const PackedList&) = delete;

    [[nodiscard]] std::size_t size() const { return num_edges_; }
    [[nodiscard]] bool empty() const { return num_edges_ == 0; }
    [[nodiscard]] const PackedEdge& edge(std::size_t idx) const { return edges()[idx]; }
    [[nodiscard]] std::span<const PackedEdge> edges() const {
        return {reinterpret_cast<const PackedEdge*>(this + 1), num_edges_};
    }
    [[nodiscard]] const LabelTable* labels() const { return labels_; }
    [[nodiscard]] bool has_ids() const { return has_ids_; }
    [[nodiscard]] std::size_t id_bytes() const { return id_bytes_; }

    [[nodiscard]] std::string_view label(std::size_t idx) const {
        return labels_->Get(edge(idx).label_id());
    }
    [[nodiscard]] std::string_view other_id(std::size_t idx) const {
        if (!has_ids_) {
            return {};
        }
        const std::uint32_t* offsets = Offsets();
        return {reinterpret_cast<const char*>(offsets + num_edges_ + 1) + offsets[idx],
                offsets[idx + 1] - offsets[idx]};
    }
    // The EdgeView of edge idx in a list for `dir` (kOut or kIn), without properties.
    [[nodiscard]] EdgeView View(std::size_t idx, Direction dir) const {
        const PackedEdge& packed = edge(idx);
        return EdgeView{.other = packed.other(),
                        .label = label(idx),
                        .weight = packed.weight,
                        .has_properties = packed.has_properties(),
                        .reversed = dir == Direction::kIn,
                        .other_id = other_id(idx)};
    }
    // Bytes of the allocation (for memory accounting).
    [[nodiscard]] std::size_t AllocatedBytes() const {
        return AllocationBytes(num_edges_, has_ids_, id_bytes_);
    }
    [[nodiscard]] static std::size_t AllocationBytes(std::size_t num_edges, bool has_ids,
                                                     std::size_t id_bytes) {
        return sizeof(PackedList) + num_edges * sizeof(PackedEdge) +
               (has_ids ? (num_edges + 1) * sizeof(std::uint32_t) + id_bytes : 0);
    }

  private:
    friend class PackedListPtr;
    friend class PackedListBuilder;
    PackedList() = default;
    ~PackedList() = default;

    [[nodiscard]] const std::uint32_t* Offsets() const {
        return reinterpret_cast<const std::uint32_t*>(edges().data() + num_edges_);
    }

    mutable std::atomic<std::uint32_t> refs_{1};
    std::uint32_t num_edges_ = 0;
    std::uint32_t id_bytes_ = 0;
    bool has_ids_ = false;
    const LabelTable* labels_ = nullptr;  // resolves the edges' label ids; outlives the list
};
static_assert(sizeof(PackedList) % alignof(PackedEdge) == 0);

// Packs `edges` (properties and `reversed` are dropped), interning labels in `labels`. nullptr
// when a label does not fit in the table or the ids exceed 4 GiB.
PackedListPtr PackList(LabelTable& labels, std::span<const EdgeView> edges);

// Builds a packed list one edge at a time (while a storage iterator moves on, so that no view
// has to outlive its step). Thread-compatible.
class PackedListBuilder {
  public:
    explicit PackedListBuilder(LabelTable& labels) : labels_(labels) {}
    // Appends an edge (its properties and `reversed` are dropped); false when its label does not
    // fit in the table (the builder is then unusable until Finish).
    bool Add(const EdgeView& edge);
    // The list built (nullptr after a failed Add, or ids beyond 4 GiB); the builder is reset.
    PackedListPtr Finish();

  private:
    LabelTable& labels_;
    std::vector<PackedEdge> edges_;
    std::vector<std::uint32_t> offsets_;
    std::string ids_;
    std::string last_label_;
    std::uint32_t last_label_id_ = 0;
    bool has_last_label_ = false;
    bool any_id_ = false;
    bool failed_ = false;
};

// The edges of the graph as one consistent view (e.g. one MVCC snapshot).
class AdjacencySource {
  public:
    virtual ~AdjacencySource() = default;

    // The edges of `node` in `dir` (kOut or kIn) as a packed list, in ForEachEdge's order; or a
    // null pointer when the source has no packed form for it (the operators then call
    // ForEachEdge). The list is immutable; it stays valid for as long as the caller holds the
    // pointer. Returns the source's error (IOError, Corruption) and nothing else.
    virtual Result<PackedListPtr> ReadList(NodeRef /*node*/, Direction /*dir*/) {
        return PackedListPtr();
    }

    // A hint that ReadList(node, dir) (kOut, kIn or kBoth) comes soon: a source may start
    // fetching it (e.g. prefetch the cache slot) so that traversals overlap the memory latency
    // of many lists. No effect on results.
    virtual void Prefetch(NodeRef /*node*/, Direction /*dir*/) {}

    // Calls visit(edge) for each edge of `node` in direction `dir`, which is kOut or kIn, never
    // kBoth (the operators make two calls), in (label, other) order; the order must be the same
    // on every call for the same arguments. `visit` returns false to stop early (still OK).
    // need_properties: the caller reads EdgeView::properties (an edge predicate on properties,
    // or a path that returns them); without it the source may omit them.
    // The operators never call ForEachEdge again from inside `visit`, so sources need not be
    // re-entrant. Returns the source's error (e.g. IOError, Corruption) and nothing else.
    virtual Status ForEachEdge(NodeRef node, Direction dir, bool need_properties,
                               FunctionRef<bool(const EdgeView&)> visit) = 0;
};

}  // namespace phenix::graph

template <>
struct std::hash<phenix::graph::NodeRef> {
    std::size_t operator()(const phenix::graph::NodeRef& node) const noexcept {
        return phenix::graph::NodeRefHash{}(node);
    }
};
