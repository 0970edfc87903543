// SPDX-License-Identifier: Apache-2.0
//
// The vocabulary of the graph module: a node is a (collection, row) pair, an edge is seen from
// one of its ends as an EdgeView, and an AdjacencySource lists the edges of a node in one
// direction. The traversal operators (graph/traversal.h) are written against AdjacencySource
// only, so they know nothing of storage: the engine implements it over RocksDB plus the
// adjacency cache (graph/adjacency_cache.h) at one snapshot, tests over an in-memory map.
//
// Thread safety: NodeRef, Direction and EdgeView are values. An AdjacencySource is used by one
// traversal at a time (thread-compatible) unless its implementation says more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include <phenix/status.h>

#include "graph/function_ref.h"

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

// The edges of the graph as one consistent view (e.g. one MVCC snapshot).
class AdjacencySource {
  public:
    virtual ~AdjacencySource() = default;

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
