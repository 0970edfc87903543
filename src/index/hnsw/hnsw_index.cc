// SPDX-License-Identifier: Apache-2.0
//
// Layout of one node (docs/vector-search.md, "Memory"):
//   level-0 block (ChunkedArray blocks_): u32 count | u32 links[2m] | u32 row | u32 flags | payload
//     payload = float[dim]                        (float index; normalised under cosine)
//             | u8 codes[dim] | f32 sum(codes)    (int8 index)
//   NodeMeta (ChunkedArray metas_): row, lifetime, upper-layer links, lock
//   upper layers: one heap block per node with level > 0: level x (u32 count | u32 links[m])
// Link words are read with acquire loads and written with release stores (plain moves on
// x86-64), so a search never takes a lock and always sees fully written nodes.
#include "index/hnsw/hnsw_index.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <shared_mutex>
#include <thread>
#include <tuple>

#include "common/mutex.h"
#include "common/sync_point.h"
#include "index/distance/distance.h"
#include "index/hnsw/node_store.h"
#include "storage/checkpoint_file.h"

namespace phenix::index {

std::string_view FilterStrategyName(FilterStrategy strategy) {
    switch (strategy) {
        case FilterStrategy::kAuto:
            return "auto";
        case FilterStrategy::kNone:
            return "none";
        case FilterStrategy::kExactScan:
            return "exact_scan";
        case FilterStrategy::kInGraph:
            return "in_graph";
        case FilterStrategy::kPostFilter:
            return "post_filter";
    }
    return "unknown";
}

namespace {

constexpr int kMaxLevel = 16;
// Fresh (zeroed) memory reads as kStateEmpty: a node whose slot is allocated but whose fields
// are not written yet. Scans over node ids skip it.
constexpr std::uint8_t kStateEmpty = 0;
constexpr std::uint8_t kStateInserting = 1;
constexpr std::uint8_t kStateLinked = 2;
constexpr std::uint8_t kStateRemoved = 3;
// Block flags: a search reads NodeMeta (a cache miss) only for nodes with a flag set.
constexpr std::uint32_t kFlagEnded = 1;      // deleted_ts is set
constexpr std::uint32_t kFlagUnsettled = 2;  // inserted after the last Repair floor
constexpr std::uint32_t kVisibilityFlags = kFlagEnded | kFlagUnsettled;
// Bits 8..15: the lowest layer whose links are written yet, plus one (0: fully inserted). A
// greedy descent never steps onto a node still being inserted: from it, the layers below would
// have no links yet (and another insert could link to it before its own list is written).
constexpr unsigned kPendingShift = 8;
constexpr std::uint32_t kPendingMask = 0xFFu << kPendingShift;

struct NodeMeta {
    RowId row;
    Timestamp inserted_ts;
    std::atomic<Timestamp> deleted_ts;
    std::uint32_t* upper;      // level x (1 + m) words, or nullptr
    std::atomic<NodeId> prev;  // older node of the same row
    std::uint8_t level;
    std::atomic<std::uint8_t> lock;
    std::atomic<std::uint8_t> state;
};

// A tiny spin lock in NodeMeta::lock (link lists are held for microseconds).
class NodeLock {
  public:
    explicit NodeLock(NodeMeta& meta) : flag_(meta.lock) {
        while (flag_.exchange(1, std::memory_order_acquire) != 0) {
            while (flag_.load(std::memory_order_relaxed) != 0) {
#if defined(__x86_64__)
                __builtin_ia32_pause();
#endif
            }
        }
    }
    ~NodeLock() {
        flag_.store(0, std::memory_order_release);
    }
    NodeLock(const NodeLock&) = delete;
    NodeLock& operator=(const NodeLock&) = delete;

  private:
    std::atomic<std::uint8_t>& flag_;
};

inline std::uint32_t LoadWord(const std::uint32_t* p) {
    return std::atomic_ref<const std::uint32_t>(*p).load(std::memory_order_acquire);
}
inline void StoreWord(std::uint32_t* p, std::uint32_t v) {
    std::atomic_ref<std::uint32_t>(*p).store(v, std::memory_order_release);
}

inline void Prefetch(const void* p) {
    __builtin_prefetch(p, 0, 3);
}

std::uint64_t SplitMix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

using DistId = std::pair<float, NodeId>;
// Max-heap on distance (the worst on top).
using MaxHeap = std::priority_queue<DistId, std::vector<DistId>>;
// Min-heap on distance (the best on top).
using MinHeap = std::priority_queue<DistId, std::vector<DistId>, std::greater<>>;

// Per-search "visited" marks: a tag per node; a new search bumps the tag instead of clearing.
struct VisitedList {
    std::vector<std::uint16_t> tags;
    // Nodes a filtered search found not to match (same epoch scheme): checked once per search.
    std::vector<std::uint16_t> rejected;
    std::uint16_t current = 0;

    void Reset(std::size_t n) {
        if (tags.size() < n) {
            tags.resize(n + n / 4 + 1024, 0);
            rejected.resize(tags.size(), 0);
        }
        if (++current == 0) {
            std::fill(tags.begin(), tags.end(), 0);
            std::fill(rejected.begin(), rejected.end(), 0);
            current = 1;
        }
    }
    [[nodiscard]] bool Rejected(NodeId id) const {
        return id >= rejected.size() || rejected[id] == current;
    }
    void Reject(NodeId id) {
        if (id < rejected.size()) {
            rejected[id] = current;
        }
    }
    // True if `id` was not yet visited (and marks it). Ids past the list (nodes inserted after
    // the search started) count as visited.
    bool Visit(NodeId id) {
        if (id >= tags.size() || tags[id] == current) {
            return false;
        }
        tags[id] = current;
        return true;
    }
    [[nodiscard]] bool Seen(NodeId id) const { return id >= tags.size() || tags[id] == current; }
};

}  // namespace

class HnswIndex::Impl {
  public:
    explicit Impl(const HnswParams& params)
        : params_(params),
          dim_(params.dimension),
          m_(params.m),
          m0_(2 * params.m),
          quantized_(params.quantize_int8),
          level_mult_(1.0 / std::log(static_cast<double>(params.m))),
          payload_bytes_(quantized_ ? dim_ + sizeof(float) : dim_ * sizeof(float)),
          header_bytes_(sizeof(std::uint32_t) * (3 + m0_)),
          file_block_bytes_(header_bytes_ + payload_bytes_),
          // Padded so that every block's u32 words are aligned (an int8 payload of dim + 4
          // bytes is not a multiple of 4 when dim is not).
          block_bytes_((file_block_bytes_ + 3) / 4 * 4),
          upper_stride_(1 + m_),
          blocks_(block_bytes_),
          metas_(sizeof(NodeMeta)),
          row_map_(sizeof(std::atomic<NodeId>)),
          node_rows_(sizeof(std::uint32_t)),
          kernels_(Kernels()) {}

    ~Impl() {
        const std::uint64_t n = ScanLimit();
        for (std::uint64_t id = 0; id < n; ++id) {
            delete[] Meta(static_cast<NodeId>(id)).upper;
        }
    }

    // ---- node access ----
    NodeMeta& Meta(NodeId id) const { return *reinterpret_cast<NodeMeta*>(metas_.At(id)); }
    std::uint32_t* Links0(NodeId id) const {
        return reinterpret_cast<std::uint32_t*>(blocks_.At(id));
    }
    std::uint32_t* Links(NodeId id, int level) const {
        if (level == 0) {
            return Links0(id);
        }
        return Meta(id).upper + static_cast<std::size_t>(level - 1) * upper_stride_;
    }
    const char* Payload(NodeId id) const { return blocks_.At(id) + header_bytes_; }
    // The row and flags words sit just before the payload: in the cache line a distance
    // computation has just loaded.
    std::uint32_t* RowWord(NodeId id) const { return Links0(id) + 1 + m0_; }
    std::uint32_t* FlagsWord(NodeId id) const { return Links0(id) + 2 + m0_; }
    std::uint32_t RowOf(NodeId id) const { return *RowWord(id); }
    // The same row from a dense array beside the blocks (4 bytes a node): filter checks during
    // a filtered search read it without touching the node's block.
    std::uint32_t CompactRow(NodeId id) const {
        return std::atomic_ref<const std::uint32_t>(
                   *reinterpret_cast<const std::uint32_t*>(node_rows_.At(id)))
            .load(std::memory_order_relaxed);
    }
    std::size_t MaxLinks(int level) const { return level == 0 ? m0_ : m_; }

    // The row map stores node + 1 (0: no node), so fresh zeroed chunks mean "no node".
    std::atomic<NodeId>* RowSlot(RowId row) const {
        return reinterpret_cast<std::atomic<NodeId>*>(row_map_.At(row));
    }
    // How far a reader that holds no structure lock may scan: Insert reserves a node id before
    // it maps the node's chunk, so a count read concurrently may run past the mapped memory.
    // Slots below the bound but not yet written read as kStateEmpty (fresh chunks are zeroed).
    std::uint64_t ScanLimit() const {
        const std::uint64_t n = num_allocated_.load(std::memory_order_acquire);
        return std::min(n, metas_.capacity());
    }

    NodeId RowNode(RowId row) const {
        if (row >= row_map_.capacity()) {
            return kNoNode;
        }
        // seq_cst: pairs with Insert's end_watch (a store-then-load on each side).
        return RowSlot(row)->load(std::memory_order_seq_cst) - 1;  // 0 - 1 == kNoNode
    }

    bool Visible(NodeId id, Timestamp snapshot) const {
        const std::uint32_t flags =
            std::atomic_ref<const std::uint32_t>(*FlagsWord(id)).load(std::memory_order_acquire) &
            kVisibilityFlags;
        if (flags == 0) {
            return true;
        }
        if (snapshot == kForever) {
            return (flags & kFlagEnded) == 0;
        }
        return Visible(Meta(id), snapshot);
    }
    static bool Visible(const NodeMeta& meta, Timestamp snapshot) {
        // kForever as a snapshot means "the newest state": ended nodes are not visible.
        const Timestamp deleted = meta.deleted_ts.load(std::memory_order_acquire);
        return meta.inserted_ts <= snapshot && (snapshot < deleted || deleted == kForever);
    }

    // ---- quantizer ----
    // Callers check trained_ (acquire) first: the range is written before it is set.
    void Encode(const float* v, char* payload) const {
        auto* codes = reinterpret_cast<std::uint8_t*>(payload);
        std::uint32_t sum = 0;
        const float q_min = q_min_.load(std::memory_order_relaxed);
        const float q_scale = q_scale_.load(std::memory_order_relaxed);
        for (std::size_t d = 0; d < dim_; ++d) {
            const float scaled = std::round((v[d] - q_min) / q_scale);
            const float clamped = std::clamp(scaled, 0.0f, 255.0f);
            codes[d] = static_cast<std::uint8_t>(clamped);
            sum += codes[d];
        }
        const auto sum_f = static_cast<float>(sum);
        std::memcpy(payload + dim_, &sum_f, sizeof(float));
    }

    // A query prepared for this index: the (normalised) float vector, and its codes if quantized.
    struct Query {
        std::vector<float> vec;
        std::vector<char> payload;  // same layout as a node payload
        const char* data() const { return payload.data(); }
    };

    Result<Query> Prepare(std::span<const float> q) const {
        if (q.size() != dim_) {
            return Status::InvalidArgument("query vector has dimension " +
                                           std::to_string(q.size()) + ", the index has " +
                                           std::to_string(dim_));
        }
        Query query;
        query.vec.assign(q.begin(), q.end());
        for (float x : query.vec) {
            if (!std::isfinite(x)) {
                return Status::InvalidArgument("query vector contains NaN or infinity");
            }
        }
        if (params_.metric == Metric::kCosine && !NormalizeInPlace(query.vec.data(), dim_)) {
            return Status::InvalidArgument("query vector is all zeros (cosine metric)");
        }
        query.payload.resize(payload_bytes_);
        if (quantized_) {
            // An untrained quantized index has no nodes yet: its codes are never compared.
            if (trained_.load(std::memory_order_acquire)) {
                Encode(query.vec.data(), query.payload.data());
            }
        } else {
            std::memcpy(query.payload.data(), query.vec.data(), payload_bytes_);
        }
        return query;
    }

    // Distance between two payloads (query or node) in the index's space.
    float PayloadDistance(const char* a, const char* b) const {
        if (!quantized_) {
            const auto* fa = reinterpret_cast<const float*>(a);
            const auto* fb = reinterpret_cast<const float*>(b);
            switch (params_.metric) {
                case Metric::kL2:
                    return kernels_.l2_squared(fa, fb, dim_);
                case Metric::kCosine:
                    return 1.0f - kernels_.dot(fa, fb, dim_);
                case Metric::kInnerProduct:
                    return -kernels_.dot(fa, fb, dim_);
            }
            return 0;
        }
        const auto* ca = reinterpret_cast<const std::uint8_t*>(a);
        const auto* cb = reinterpret_cast<const std::uint8_t*>(b);
        // Codes exist only once trained_ was set (after the range): relaxed loads suffice.
        const float q_min = q_min_.load(std::memory_order_relaxed);
        const float q_scale = q_scale_.load(std::memory_order_relaxed);
        if (params_.metric == Metric::kL2) {
            return q_scale * q_scale * static_cast<float>(kernels_.code_l2_squared(ca, cb, dim_));
        }
        float sa = 0;
        float sb = 0;
        std::memcpy(&sa, a + dim_, sizeof(float));
        std::memcpy(&sb, b + dim_, sizeof(float));
        const float dot = static_cast<float>(dim_) * q_min * q_min + q_min * q_scale * (sa + sb) +
                          q_scale * q_scale * static_cast<float>(kernels_.code_dot(ca, cb, dim_));
        return params_.metric == Metric::kCosine ? 1.0f - dot : -dot;
    }
    float FloatDistance(const float* a, const float* b) const {
        switch (params_.metric) {
            case Metric::kL2:
                return kernels_.l2_squared(a, b, dim_);
            case Metric::kCosine:
                return 1.0f - kernels_.dot(a, b, dim_);
            case Metric::kInnerProduct:
                return -kernels_.dot(a, b, dim_);
        }
        return 0;
    }
    float NodeDistance(const char* query_payload, NodeId id) const {
        return PayloadDistance(query_payload, Payload(id));
    }

    // ---- search over one layer ----
    // Greedy descent on an upper layer.
    NodeId Greedy(const char* q, NodeId cur, float& cur_dist, int level,
                  std::size_t& dcomps) const {
        bool changed = true;
        while (changed) {
            changed = false;
            const std::uint32_t* links = Links(cur, level);
            const std::uint32_t count = LoadWord(links);
            for (std::uint32_t i = 1; i <= count; ++i) {
                const NodeId cand = LoadWord(links + i);
                if ((LoadWord(FlagsWord(cand)) & kPendingMask) != 0) {
                    continue;  // still being inserted
                }
                const float d = NodeDistance(q, cand);
                ++dcomps;
                if (d < cur_dist) {
                    cur_dist = d;
                    cur = cand;
                    changed = true;
                }
            }
        }
        return cur;
    }

    NodeId DescendToLayer0(const char* q, int target_level, NodeId ep, int max_level,
                           std::size_t& dcomps, float* ep_dist) const {
        float d = NodeDistance(q, ep);
        ++dcomps;
        for (int level = max_level; level > target_level; --level) {
            ep = Greedy(q, ep, d, level, dcomps);
        }
        *ep_dist = d;
        return ep;
    }

    // Beam search on `level` from `ep` keeping `ef` results. `accept(id)` says whether a node may
    // be a result (it routes either way). `two_hop`: for a node that is not accepted, its own
    // neighbours are examined as well (only accepted ones are scored), after ACORN-1.
    template <typename Accept>
    MaxHeap SearchLayer(const char* q, NodeId ep, float ep_dist, std::size_t ef, int level,
                        Accept&& accept, bool two_hop, VisitedList& visited,
                        SearchStats& stats) const {
        MaxHeap top;
        MinHeap candidates;
        visited.Visit(ep);
        candidates.emplace(ep_dist, ep);
        if (accept(ep)) {
            top.emplace(ep_dist, ep);
        }
        float bound = top.empty() ? std::numeric_limits<float>::max() : ep_dist;
        std::vector<NodeId> scratch;
        scratch.reserve(MaxLinks(level) * 2);
        const std::size_t max_links = MaxLinks(level);
        while (!candidates.empty()) {
            const auto [cdist, cid] = candidates.top();
            if (cdist > bound && top.size() >= ef) {
                break;
            }
            candidates.pop();
            ++stats.nodes_expanded;
            const std::uint32_t* links = Links(cid, level);
            const std::uint32_t count =
                std::min<std::uint32_t>(LoadWord(links), static_cast<std::uint32_t>(max_links));
            scratch.clear();
            for (std::uint32_t i = 1; i <= count; ++i) {
                const NodeId nb = LoadWord(links + i);
                if (visited.Seen(nb)) {
                    continue;
                }
                if (two_hop && (visited.Rejected(nb) || !accept(nb))) {
                    // Route through the non-matching neighbour without scoring it. A node found
                    // not to match is remembered, so it is checked once per search.
                    visited.Visit(nb);
                    const std::uint32_t* links2 = Links(nb, level);
                    const std::uint32_t count2 = std::min<std::uint32_t>(
                        LoadWord(links2), static_cast<std::uint32_t>(max_links));
                    for (std::uint32_t j = 1; j <= count2 && scratch.size() < max_links; ++j) {
                        const NodeId nb2 = LoadWord(links2 + j);
                        if (visited.Seen(nb2) || visited.Rejected(nb2)) {
                            continue;
                        }
                        if (accept(nb2)) {
                            visited.Visit(nb2);
                            scratch.push_back(nb2);
                        } else {
                            visited.Reject(nb2);
                        }
                    }
                    continue;
                }
                visited.Visit(nb);
                scratch.push_back(nb);
                if (scratch.size() >= max_links * 2) {
                    break;
                }
            }
            for (std::size_t i = 0; i < scratch.size(); ++i) {
                if (i + 1 < scratch.size()) {
                    Prefetch(Payload(scratch[i + 1]));
                }
                const NodeId nb = scratch[i];
                const float d = NodeDistance(q, nb);
                ++stats.distance_computations;
                if (top.size() < ef || d < bound) {
                    candidates.emplace(d, nb);
                    if (accept(nb)) {
                        top.emplace(d, nb);
                        if (top.size() > ef) {
                            top.pop();
                        }
                        bound = top.top().first;
                    }
                }
            }
        }
        return top;
    }

    // ---- insertion ----
    int RandomLevel(NodeId id) const {
        const std::uint64_t r =
            SplitMix64(params_.seed ^ (static_cast<std::uint64_t>(id) * 0x9E37u));
        const double u = (static_cast<double>(r >> 11) + 0.5) * (1.0 / 9007199254740992.0);
        const int level = static_cast<int>(-std::log(u) * level_mult_);
        return std::min(level, kMaxLevel);
    }

    // Malkov & Yashunin's neighbour selection heuristic (algorithm 4, keepPrunedConnections off):
    // keep a candidate only if it is closer to the base than to every neighbour kept so far.
    //
    // Exact copies of the base (the same stored payload: real data has many, e.g. one shared
    // boilerplate description) need care. A copy is exactly as far from every candidate as the
    // base is, so the rule's strict "<" never rejects one, and with enough copies a node kept
    // nothing but copies: the copies formed an island that a search could enter and not leave.
    // So copies are set apart: the heuristic picks the diverse neighbours among the other
    // candidates (a copy shows no direction, so it rejects nothing), and copies fill the slots
    // the heuristic leaves free — at least kMinCopyLinks of them when there are copies (to keep
    // the copies connected to each other), never all slots when there are other candidates (to
    // keep a way out). Among copies, which are all equally close, the newest nodes go first, so
    // the copies chain up instead of all linking to the same oldest few.
    static constexpr std::size_t kMinCopyLinks = 2;
    void SelectNeighbors(const char* base, std::vector<DistId>& candidates, std::size_t m) const {
        std::sort(candidates.begin(), candidates.end());
        if (candidates.size() <= m) {
            return;
        }
        // A copy's distance to the base is the base's distance to itself (same kernel, same
        // bytes); only candidates that close are compared byte for byte.
        const float self_distance = PayloadDistance(base, base);
        std::vector<DistId> kept;
        std::vector<DistId> copies;
        kept.reserve(m);
        for (const DistId& cand : candidates) {
            const char* cp = Payload(cand.second);
            if (cand.first <= self_distance && std::memcmp(cp, base, payload_bytes_) == 0) {
                copies.push_back(cand);
                continue;
            }
            if (kept.size() >= m) {
                continue;  // keep looking for copies only
            }
            bool good = true;
            for (const DistId& k : kept) {
                if (PayloadDistance(cp, Payload(k.second)) < cand.first) {
                    good = false;
                    break;
                }
            }
            if (good) {
                kept.push_back(cand);
            }
        }
        if (!copies.empty()) {
            const std::size_t min_copies = std::min(copies.size(), kMinCopyLinks);
            kept.resize(std::min(kept.size(), m - std::min(min_copies, m - 1)));
            const std::size_t num_copies = std::min(copies.size(), m - kept.size());
            std::sort(copies.begin(), copies.end(), [](const DistId& a, const DistId& b) {
                return a.second > b.second;  // newest first
            });
            kept.insert(kept.begin(), copies.begin(),
                        copies.begin() + static_cast<std::ptrdiff_t>(num_copies));
        }
        candidates.swap(kept);
    }

    // Links `id` to the selected neighbours at `level` and adds the reverse links (shrinking a
    // full neighbour list with the heuristic). Returns the closest selected neighbour.
    NodeId Connect(NodeId id, std::vector<DistId>& selected, int level) {
        const std::size_t max_links = MaxLinks(level);
        SelectNeighbors(Payload(id), selected, m_);
        {
            NodeLock lock(Meta(id));
            std::uint32_t* links = Links(id, level);
            std::uint32_t count = 0;
            for (const DistId& s : selected) {
                StoreWord(links + 1 + count, s.second);
                ++count;
            }
            StoreWord(links, count);
        }
        const char* payload = Payload(id);
        for (const DistId& s : selected) {
            const NodeId nb = s.second;
            NodeLock lock(Meta(nb));
            std::uint32_t* links = Links(nb, level);
            const std::uint32_t count = LoadWord(links);
            bool present = false;
            for (std::uint32_t i = 1; i <= count; ++i) {
                if (links[i] == id) {
                    present = true;
                    break;
                }
            }
            if (present) {
                continue;
            }
            if (count < max_links) {
                StoreWord(links + 1 + count, id);
                StoreWord(links, count + 1);
                continue;
            }
            std::vector<DistId> cands;
            cands.reserve(count + 1);
            const char* nbp = Payload(nb);
            cands.emplace_back(PayloadDistance(nbp, payload), id);
            for (std::uint32_t i = 1; i <= count; ++i) {
                cands.emplace_back(PayloadDistance(nbp, Payload(links[i])), links[i]);
            }
            SelectNeighbors(nbp, cands, max_links);
            for (std::size_t i = 0; i < cands.size(); ++i) {
                StoreWord(links + 1 + i, cands[i].second);
            }
            StoreWord(links, static_cast<std::uint32_t>(cands.size()));
        }
        return selected.empty() ? kNoNode : selected.front().second;
    }

    Result<NodeId> Insert(RowId row, std::span<const float> vector, Timestamp ts,
                          const std::atomic<Timestamp>* end_watch, std::string_view label) {
        if (vector.size() != dim_) {
            return Status::InvalidArgument("vector has dimension " + std::to_string(vector.size()) +
                                           ", the index has " + std::to_string(dim_));
        }
        if (row > kMaxRow) {
            return Status::InvalidArgument("row id " + std::to_string(row) +
                                           " is beyond the vector index's 32-bit row space");
        }
        if (quantized_ && !trained_.load(std::memory_order_acquire)) {
            return Status::FailedPrecondition("int8 index: TrainQuantizer must run before Insert");
        }
        std::vector<float> normalized;
        const float* src = vector.data();
        if (params_.metric == Metric::kCosine) {
            normalized.assign(vector.begin(), vector.end());
            if (!NormalizeInPlace(normalized.data(), dim_)) {
                return Status::InvalidArgument("vector is all zeros (cosine metric)");
            }
            src = normalized.data();
        }
        // Before the node is reachable, so a search that finds it finds its label.
        if (!labels_.Set(row, label)) {
            return Status::ResourceExhausted("vector index label store is full");
        }
        std::shared_lock structure(structure_mu_);
        std::uint64_t id64 = 0;
        if (const std::optional<NodeId> reused = TakeFreeSlot()) {
            // A removed node's slot, no reader can still reach (see ReadGuard). Its memory is
            // mapped; its old upper layers are freed here (the level is drawn from the id, so
            // it is the same, but a fresh block is simpler than clearing the old one).
            id64 = *reused;
            NodeMeta& old = Meta(*reused);
            if (old.upper != nullptr) {
                upper_words_.fetch_sub(static_cast<std::size_t>(old.level) * upper_stride_,
                                       std::memory_order_relaxed);
                delete[] old.upper;
                old.upper = nullptr;
            }
            num_removed_.fetch_sub(1, std::memory_order_relaxed);
            if (!row_map_.EnsureCapacity(row + 1)) {
                return Status::ResourceExhausted("vector index is full (2^32 - 1 rows)");
            }
        } else {
            id64 = num_allocated_.fetch_add(1, std::memory_order_relaxed);
            if (id64 >= kNoNode || !blocks_.EnsureCapacity(id64 + 1) ||
                !metas_.EnsureCapacity(id64 + 1) || !node_rows_.EnsureCapacity(id64 + 1) ||
                !row_map_.EnsureCapacity(row + 1)) {
                return Status::ResourceExhausted("vector index is full (2^32 - 1 nodes)");
            }
        }
        const auto id = static_cast<NodeId>(id64);
        const int level = RandomLevel(id);
        NodeMeta& meta = Meta(id);
        meta.row = row;
        meta.inserted_ts = ts;
        meta.deleted_ts.store(kForever, std::memory_order_relaxed);
        meta.level = static_cast<std::uint8_t>(level);
        meta.upper = level > 0
                         ? new std::uint32_t[static_cast<std::size_t>(level) * upper_stride_]()
                         : nullptr;
        if (level > 0) {
            upper_words_.fetch_add(static_cast<std::size_t>(level) * upper_stride_,
                                   std::memory_order_relaxed);
        }
        {
            std::uint64_t seen = max_row_.load(std::memory_order_relaxed);
            while (row > seen && !max_row_.compare_exchange_weak(seen, row)) {
            }
        }
        char* payload = blocks_.At(id) + header_bytes_;
        *RowWord(id) = static_cast<std::uint32_t>(row);
        std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(node_rows_.At(id)))
            .store(static_cast<std::uint32_t>(row), std::memory_order_relaxed);
        StoreWord(FlagsWord(id),
                  (ts > settled_ts_.load(std::memory_order_relaxed) ? kFlagUnsettled : 0) |
                      (static_cast<std::uint32_t>(level + 1) << kPendingShift));
        if (quantized_) {
            Encode(src, payload);
        } else {
            std::memcpy(payload, src, payload_bytes_);
        }
        StoreWord(Links0(id), 0);
        meta.state.store(kStateInserting, std::memory_order_release);  // fields are written

        // The row now points at this node; its previous live node ends where this one starts.
        std::atomic<NodeId>* slot = RowSlot(row);
        NodeId old_plus_one = slot->load(std::memory_order_acquire);
        do {
            meta.prev.store(old_plus_one - 1, std::memory_order_relaxed);
        } while (!slot->compare_exchange_weak(old_plus_one, id + 1, std::memory_order_seq_cst));
        const NodeId old = old_plus_one - 1;
        num_live_.fetch_add(1, std::memory_order_relaxed);
        if (old != kNoNode) {
            EndNode(old, ts);
        }
        if (end_watch != nullptr) {
            const Timestamp end = end_watch->load(std::memory_order_seq_cst);
            if (end != kForever) {
                EndNode(id, end);  // before the node is linked: never visible past its end
            }
        }

        std::unique_lock global(global_mu_, std::defer_lock);
        if (level > max_level_.load(std::memory_order_acquire)) {
            global.lock();
        }
        NodeId ep = entry_point_.load(std::memory_order_acquire);
        const int max_level = max_level_.load(std::memory_order_acquire);
        if (ep == kNoNode) {
            if (!global.owns_lock()) {
                global.lock();
            }
            if (entry_point_.load() == kNoNode) {
                SetPending(id, 0);
                max_level_.store(level, std::memory_order_release);
                entry_point_.store(id, std::memory_order_release);
                meta.state.store(kStateLinked, std::memory_order_release);
                return id;
            }
            ep = entry_point_.load();
        }
        SearchStats stats;
        std::size_t dcomps = 0;
        float ep_dist = 0;
        ep = DescendToLayer0(payload, std::min(level, max_level), ep, max_level, dcomps, &ep_dist);
        VisitedHandle visited(*this);
        for (int l = std::min(level, max_level); l >= 0; --l) {
            visited->Reset(num_allocated_.load(std::memory_order_acquire));
            MaxHeap top = SearchLayer(
                payload, ep, ep_dist, params_.ef_construction, l,
                // Removed nodes are unreachable (Repair unlinks them and excludes inserts).
                [id](NodeId n) { return n != id; }, false, *visited, stats);
            std::vector<DistId> selected;
            selected.reserve(top.size());
            while (!top.empty()) {
                selected.push_back(top.top());
                top.pop();
            }
            const NodeId closest = Connect(id, selected, l);
            SetPending(id, static_cast<std::uint32_t>(l));
            if (closest != kNoNode) {
                ep = closest;
                ep_dist = NodeDistance(payload, ep);
            }
        }
        if (level > max_level) {
            max_level_.store(level, std::memory_order_release);
            entry_point_.store(id, std::memory_order_release);
        }
        meta.state.store(kStateLinked, std::memory_order_release);
        return id;
    }

    // Records that the node's links are written down to `layer` (0: fully inserted).
    void SetPending(NodeId id, std::uint32_t layer) {
        std::atomic_ref<std::uint32_t> flags(*FlagsWord(id));
        std::uint32_t old = flags.load(std::memory_order_relaxed);
        while (!flags.compare_exchange_weak(old, (old & ~kPendingMask) | (layer << kPendingShift),
                                            std::memory_order_acq_rel)) {
        }
    }

    bool EndNode(NodeId id, Timestamp ts) {
        Timestamp expected = kForever;
        if (Meta(id).deleted_ts.compare_exchange_strong(expected, ts, std::memory_order_acq_rel)) {
            std::atomic_ref<std::uint32_t>(*FlagsWord(id))
                .fetch_or(kFlagEnded, std::memory_order_acq_rel);
            num_live_.fetch_sub(1, std::memory_order_relaxed);
            return true;
        }
        return false;
    }

    bool EndRow(RowId row, Timestamp ts) {
        const ReadGuard guard(*this);  // the node id stays that row's node meanwhile
        const NodeId id = RowNode(row);
        return id != kNoNode && EndNode(id, ts);
    }

    bool SameVector(RowId row, std::span<const float> vector) const {
        const ReadGuard guard(*this);
        const NodeId id = RowNode(row);
        if (id == kNoNode || Meta(id).deleted_ts.load(std::memory_order_acquire) != kForever) {
            return false;
        }
        return NodeHasVector(id, vector);
    }

    bool NodeHasVector(NodeId id, std::span<const float> vector) const {
        if (vector.size() != dim_) {
            return false;
        }
        std::vector<float> v(vector.begin(), vector.end());
        if (params_.metric == Metric::kCosine && !NormalizeInPlace(v.data(), dim_)) {
            return false;
        }
        std::vector<char> payload(payload_bytes_);
        if (quantized_) {
            if (!trained_.load(std::memory_order_acquire)) {
                return false;
            }
            Encode(v.data(), payload.data());
        } else {
            std::memcpy(payload.data(), v.data(), payload_bytes_);
        }
        return std::memcmp(payload.data(), Payload(id), payload_bytes_) == 0;
    }

    NodeId FindRow(RowId row, Timestamp snapshot) const {
        NodeId id = RowNode(row);
        if (id != kNoNode && Visible(id, snapshot)) {
            return id;  // the common case, decided from the block's flags alone
        }
        while (id != kNoNode) {
            const NodeMeta& meta = Meta(id);
            if (Visible(meta, snapshot)) {
                return id;
            }
            if (meta.inserted_ts <= snapshot) {
                return kNoNode;  // ended before the snapshot; older nodes ended even earlier
            }
            id = meta.prev.load(std::memory_order_relaxed);
        }
        return kNoNode;
    }

    // ---- slot reuse: two-epoch reclamation ----
    // Repair removes dead nodes; their slots are reused by later inserts. A reader that runs
    // without structure_mu_ (a search, EndRow, a scan) may still hold a removed node's id, so a
    // slot is reused only once every reader that could have seen it has finished. Readers
    // register in the current epoch (ReadGuard); Repair retires the nodes it removes in epoch E
    // and moves to E + 1; at a later Repair, once no reader of epoch E remains, the slots
    // retired in E go to the free list. Two counters suffice: a Repair moves to E + 2 only after
    // the readers of E are gone.
    class ReadGuard {
      public:
        explicit ReadGuard(const Impl& impl) : impl_(impl) {
            for (;;) {
                epoch_ = impl_.epoch_.load(std::memory_order_seq_cst);
                impl_.readers_[epoch_ & 1].fetch_add(1, std::memory_order_seq_cst);
                if (impl_.epoch_.load(std::memory_order_seq_cst) == epoch_) {
                    return;
                }
                impl_.readers_[epoch_ & 1].fetch_sub(1, std::memory_order_seq_cst);
            }
        }
        ~ReadGuard() { impl_.readers_[epoch_ & 1].fetch_sub(1, std::memory_order_seq_cst); }
        ReadGuard(const ReadGuard&) = delete;
        ReadGuard& operator=(const ReadGuard&) = delete;

      private:
        const Impl& impl_;
        std::uint64_t epoch_ = 0;
    };

    // A free slot for Insert, or nullopt. REQUIRES structure_mu_ (shared).
    std::optional<NodeId> TakeFreeSlot() {
        MutexLock lock(free_mu_);
        if (free_slots_.empty()) {
            return std::nullopt;
        }
        const NodeId id = free_slots_.back();
        free_slots_.pop_back();
        return id;
    }

    // ---- search ----
    class VisitedHandle {
      public:
        explicit VisitedHandle(const Impl& impl) : impl_(impl) {
            std::lock_guard lock(impl_.visited_mu_);
            if (!impl_.visited_pool_.empty()) {
                list_ = std::move(impl_.visited_pool_.back());
                impl_.visited_pool_.pop_back();
            } else {
                list_ = std::make_unique<VisitedList>();
            }
        }
        ~VisitedHandle() {
            std::lock_guard lock(impl_.visited_mu_);
            impl_.visited_pool_.push_back(std::move(list_));
        }
        VisitedHandle(const VisitedHandle&) = delete;
        VisitedHandle& operator=(const VisitedHandle&) = delete;
        VisitedList* operator->() { return list_.get(); }
        VisitedList& operator*() { return *list_; }

      private:
        const Impl& impl_;
        std::unique_ptr<VisitedList> list_;
    };

    // Exact distances to every node whose row is in `rows` (or every node if rows == nullptr)
    // visible at the snapshot; keeps the best `keep`.
    MaxHeap ExactScan(const Query& query, const SearchOptions& options, std::size_t keep,
                      SearchStats& stats) const {
        MaxHeap top;
        auto consider = [&](NodeId id) {
            const float d = NodeDistance(query.data(), id);
            ++stats.distance_computations;
            if (top.size() < keep) {
                top.emplace(d, id);
            } else if (d < top.top().first) {
                top.pop();
                top.emplace(d, id);
            }
        };
        if (options.filter != nullptr) {
            // In chunks: read rows in bulk, map them to nodes (row map only), prefetch every
            // node's block, then check visibility and score; the misses overlap.
            constexpr std::uint32_t kChunk = 64;
            std::uint32_t rows[kChunk];
            NodeId nodes[kChunk];
            roaring_uint32_iterator_t it;
            roaring_init_iterator(&options.filter->roaring, &it);
            for (;;) {
                const std::uint32_t got = roaring_read_uint32_iterator(&it, rows, kChunk);
                if (got == 0) {
                    break;
                }
                std::uint32_t count = 0;
                for (std::uint32_t i = 0; i < got; ++i) {
                    if (options.exclude != nullptr && options.exclude->contains(rows[i])) {
                        continue;
                    }
                    const NodeId id = RowNode(rows[i]);
                    if (id != kNoNode) {
                        Prefetch(Payload(id) - sizeof(std::uint32_t));
                        nodes[count++] = id;
                    }
                }
                for (std::uint32_t i = 0; i < count; ++i) {
                    NodeId id = nodes[i];
                    if (!Visible(id, options.snapshot)) {
                        id = FindRow(Meta(id).row, options.snapshot);  // an older version
                        if (id == kNoNode) {
                            continue;
                        }
                    }
                    consider(id);
                }
            }
        } else {
            const std::uint64_t n = ScanLimit();
            for (std::uint64_t i = 0; i < n; ++i) {
                const auto id = static_cast<NodeId>(i);
                const NodeMeta& meta = Meta(id);
                const std::uint8_t state = meta.state.load(std::memory_order_acquire);
                if (state == kStateEmpty || state == kStateRemoved ||
                    !Visible(id, options.snapshot) ||
                    (options.exclude != nullptr && options.exclude->contains(RowOf(id)))) {
                    continue;
                }
                consider(id);
            }
        }
        return top;
    }

    Result<SearchResult> Search(std::span<const float> q, const SearchOptions& options) const {
        const ReadGuard guard(*this);  // no slot this search can reach is reused meanwhile
        PHENIX_SYNC_POINT("HnswIndex::Search:Guarded");
        PHENIX_ASSIGN_OR_RETURN(Query query, Prepare(q));
        SearchResult result;
        SearchStats& stats = result.stats;
        const std::size_t k = options.k;
        if (k == 0) {
            return result;
        }
        const std::size_t ef = std::max(options.ef, k);
        const std::size_t rows_in_index =
            std::max<std::size_t>(1, num_live_.load(std::memory_order_relaxed));

        FilterStrategy strategy = FilterStrategy::kNone;
        const RowBitmap* filter = options.filter;
        const std::function<bool(std::uint32_t)>* predicate =
            filter == nullptr ? options.predicate : nullptr;
        if (filter == nullptr && predicate == nullptr &&
            options.strategy == FilterStrategy::kExactScan) {
            strategy = FilterStrategy::kExactScan;  // asked for: exact, without a filter too
        } else if (filter != nullptr || predicate != nullptr) {
            stats.filter_rows = filter != nullptr ? filter->cardinality() : options.predicate_rows;
            stats.selectivity = std::min(
                1.0, static_cast<double>(stats.filter_rows) / static_cast<double>(rows_in_index));
            strategy = options.strategy;
            if (strategy == FilterStrategy::kAuto || strategy == FilterStrategy::kNone) {
                strategy = ChooseFilterStrategy(
                    options.planner, static_cast<double>(stats.filter_rows),
                    static_cast<double>(rows_in_index), static_cast<double>(ef), filter != nullptr);
            }
            if (predicate != nullptr && strategy == FilterStrategy::kExactScan) {
                return Status::InvalidArgument(
                    "an exact scan needs the filter's rows: a predicate filter runs in-graph or "
                    "post-filter");
            }
        }
        // Whether a row passes the filter (bitmap or predicate).
        auto passes = [filter, predicate](std::uint32_t row32) {
            return filter != nullptr ? filter->contains(row32) : (*predicate)(row32);
        };
        stats.strategy = strategy;
        // A quantized index ranks on 8-bit codes, then re-ranks the best `keep` with full vectors;
        // an exact scan keeps more of them so that its result is exact in practice.
        const std::size_t keep = !quantized_                              ? k
                                 : strategy == FilterStrategy::kExactScan ? std::max(ef, 8 * k)
                                                                          : std::max(ef, k);

        MaxHeap top;
        if (strategy == FilterStrategy::kExactScan) {
            top = ExactScan(query, options, keep, stats);
        } else {
            const NodeId ep0 = entry_point_.load(std::memory_order_acquire);
            if (ep0 != kNoNode) {
                const int max_level = max_level_.load(std::memory_order_acquire);
                std::size_t search_ef = ef;
                bool two_hop = false;
                if (strategy == FilterStrategy::kPostFilter) {
                    search_ef = static_cast<std::size_t>(
                        std::ceil(static_cast<double>(ef) / std::max(stats.selectivity, 1e-3)));
                    search_ef = std::min<std::size_t>(search_ef, std::max<std::size_t>(ef, 4096));
                } else if (strategy == FilterStrategy::kInGraph) {
                    two_hop = stats.selectivity < options.planner.two_hop_below;
                }
                stats.ef_searched = search_ef;
                float ep_dist = 0;
                const NodeId ep = DescendToLayer0(query.data(), 0, ep0, max_level,
                                                  stats.distance_computations, &ep_dist);
                VisitedHandle visited(*this);
                visited->Reset(num_allocated_.load(std::memory_order_acquire));
                const Timestamp snapshot = options.snapshot;
                const RowBitmap* exclude = options.exclude;
                if (strategy == FilterStrategy::kNone) {
                    top = SearchLayer(
                        query.data(), ep, ep_dist, search_ef, 0,
                        [this, snapshot, exclude](NodeId n) {
                            return Visible(n, snapshot) &&
                                   (exclude == nullptr || !exclude->contains(RowOf(n)));
                        },
                        false, *visited, stats);
                } else {
                    const bool in_graph = strategy == FilterStrategy::kInGraph;
                    // The bitmap first, from the compact node -> row array: most nodes fail it,
                    // and it costs them no read of their block. A predicate (an adjacency read)
                    // is the costliest test: last.
                    auto accept = [this, snapshot, exclude, filter, &passes, in_graph](NodeId n) {
                        const std::uint32_t row32 = CompactRow(n);
                        if (in_graph && filter != nullptr && !filter->contains(row32)) {
                            return false;
                        }
                        if (exclude != nullptr && exclude->contains(row32)) {
                            return false;
                        }
                        if (!Visible(n, snapshot)) {
                            return false;
                        }
                        return !in_graph || filter != nullptr || passes(row32);
                    };
                    top = SearchLayer(query.data(), ep, ep_dist, search_ef, 0, accept, two_hop,
                                      *visited, stats);
                    if (!in_graph) {
                        // Post-filter: drop the non-matching results of the larger search.
                        MaxHeap kept;
                        while (!top.empty()) {
                            const DistId item = top.top();
                            top.pop();
                            if (passes(RowOf(item.second))) {
                                kept.push(item);
                            }
                        }
                        top.swap(kept);
                    }
                }
                while (top.size() > keep) {
                    top.pop();
                }
            }
            // Never fewer than k results when k exist: fall back to an exact scan.
            // Without a filter the bound is every node not removed (some may be invisible at
            // this snapshot, so a fallback can be wasted, but never a short answer).
            if (top.size() < k && predicate != nullptr) {
                stats.incomplete = true;  // the caller has the means to enumerate, not us
            } else if (top.size() < k) {
                const std::uint64_t available =
                    options.filter != nullptr
                        ? stats.filter_rows
                        : num_allocated_.load(std::memory_order_acquire) - num_removed_.load();
                if (available > top.size()) {
                    stats.fell_back_to_exact = true;
                    top = ExactScan(query, options, keep, stats);
                }
            }
        }

        std::vector<DistId> found;
        found.reserve(top.size());
        while (!top.empty()) {
            found.push_back(top.top());
            top.pop();
        }
        result.neighbors.reserve(std::min(found.size(), k));
        if (quantized_) {
            // Re-rank the candidates with full-precision vectors.
            std::vector<float> buf(dim_);
            std::vector<std::tuple<float, RowId, Timestamp>> exact;
            exact.reserve(found.size());
            for (const DistId& item : found) {
                const RowId row = Meta(item.second).row;
                const Timestamp inserted = Meta(item.second).inserted_ts;
                float d = item.first;
                if (source_ && source_(row, options.snapshot, buf.data())) {
                    if (params_.metric == Metric::kCosine) {
                        NormalizeInPlace(buf.data(), dim_);
                    }
                    d = FloatDistance(query.vec.data(), buf.data());
                }
                exact.emplace_back(d, row, inserted);
            }
            std::sort(exact.begin(), exact.end());
            for (std::size_t i = 0; i < exact.size() && i < k; ++i) {
                const RowId row = std::get<1>(exact[i]);
                result.neighbors.push_back(
                    {row, std::get<0>(exact[i]), std::get<2>(exact[i]), labels_.Get(row)});
            }
        } else {
            std::sort(found.begin(), found.end());
            for (std::size_t i = 0; i < found.size() && i < k; ++i) {
                const NodeMeta& meta = Meta(found[i].second);
                result.neighbors.push_back(
                    {meta.row, found[i].first, meta.inserted_ts, labels_.Get(meta.row)});
            }
        }
        return result;
    }

    // ---- repair ----
    std::size_t Repair(Timestamp floor) {
        std::unique_lock structure(structure_mu_);
        const std::uint64_t n = num_allocated_.load();
        std::vector<bool> dead(n, false);
        std::size_t num_dead = 0;
        for (std::uint64_t i = 0; i < n; ++i) {
            const auto id = static_cast<NodeId>(i);
            const NodeMeta& meta = Meta(id);
            if (meta.state.load() != kStateRemoved && meta.deleted_ts.load() <= floor) {
                dead[i] = true;
                ++num_dead;
            }
            // Every snapshot (all are >= floor) sees a node inserted at or before the floor.
            if (meta.inserted_ts <= floor) {
                std::atomic_ref<std::uint32_t>(*FlagsWord(id)).fetch_and(~kFlagUnsettled);
            }
        }
        if (floor > settled_ts_.load()) {
            settled_ts_.store(floor);
        }
        // Slots retired in the previous epoch become free once its readers are gone; only then
        // may this round retire into a new epoch (two counters, see ReadGuard).
        const std::uint64_t epoch = epoch_.load();
        const bool previous_clear = readers_[(epoch + 1) & 1].load() == 0;
        if (previous_clear && !retired_[(epoch + 1) & 1].empty()) {
            MutexLock free_lock(free_mu_);
            std::vector<NodeId>& freed = retired_[(epoch + 1) & 1];
            free_slots_.insert(free_slots_.end(), freed.begin(), freed.end());
            freed.clear();
        }
        if (num_dead == 0) {
            if (previous_clear && !retired_[epoch & 1].empty()) {
                epoch_.store(epoch + 1, std::memory_order_seq_cst);
            }
            return 0;
        }
        const int max_level = max_level_.load();
        std::vector<DistId> cands;
        std::vector<NodeId> seen;
        for (std::uint64_t i = 0; i < n; ++i) {
            const auto id = static_cast<NodeId>(i);
            NodeMeta& meta = Meta(id);
            if (dead[i] || meta.state.load() == kStateRemoved) {
                continue;
            }
            for (int level = 0; level <= meta.level; ++level) {
                std::uint32_t* links = Links(id, level);
                const std::uint32_t count = LoadWord(links);
                bool touched = false;
                for (std::uint32_t j = 1; j <= count; ++j) {
                    if (dead[links[j]]) {
                        touched = true;
                        break;
                    }
                }
                if (!touched) {
                    continue;
                }
                // Candidates: live neighbours, and the live neighbours of dead neighbours.
                cands.clear();
                seen.clear();
                const char* base = Payload(id);
                auto add = [&](NodeId c) {
                    if (c == id || dead[c] ||
                        std::find(seen.begin(), seen.end(), c) != seen.end()) {
                        return;
                    }
                    seen.push_back(c);
                    cands.emplace_back(PayloadDistance(base, Payload(c)), c);
                };
                for (std::uint32_t j = 1; j <= count; ++j) {
                    const NodeId nb = links[j];
                    if (!dead[nb]) {
                        add(nb);
                        continue;
                    }
                    if (Meta(nb).level < level) {
                        continue;
                    }
                    const std::uint32_t* links2 = Links(nb, level);
                    const std::uint32_t count2 = LoadWord(links2);
                    for (std::uint32_t t = 1; t <= count2; ++t) {
                        add(links2[t]);
                    }
                }
                SelectNeighbors(base, cands, MaxLinks(level));
                NodeLock lock(meta);
                for (std::size_t j = 0; j < cands.size(); ++j) {
                    StoreWord(links + 1 + j, cands[j].second);
                }
                StoreWord(links, static_cast<std::uint32_t>(cands.size()));
            }
        }
        // Unlink the dead nodes; fix row chains and the entry point.
        for (std::uint64_t i = 0; i < n; ++i) {
            if (!dead[i]) {
                NodeMeta& meta = Meta(static_cast<NodeId>(i));
                const NodeId prev = meta.prev.load();
                if (prev != kNoNode && dead[prev]) {
                    meta.prev.store(kNoNode);
                }
                continue;
            }
            const auto id = static_cast<NodeId>(i);
            NodeMeta& meta = Meta(id);
            meta.state.store(kStateRemoved, std::memory_order_release);
            for (int level = 0; level <= meta.level; ++level) {
                StoreWord(Links(id, level), 0);
            }
            NodeId expected = id + 1;
            RowSlot(meta.row)->compare_exchange_strong(expected, 0);
            num_removed_.fetch_add(1);
            retired_[epoch & 1].push_back(id);
        }
        const NodeId ep = entry_point_.load();
        if (ep != kNoNode && dead[ep]) {
            NodeId best = kNoNode;
            int best_level = -1;
            for (std::uint64_t i = 0; i < n; ++i) {
                const NodeMeta& meta = Meta(static_cast<NodeId>(i));
                if (!dead[i] && meta.state.load() != kStateRemoved && meta.level > best_level) {
                    best = static_cast<NodeId>(i);
                    best_level = meta.level;
                }
            }
            std::lock_guard global(global_mu_);
            max_level_.store(best == kNoNode ? -1 : best_level);
            entry_point_.store(best);
        }
        (void)max_level;
        if (previous_clear) {
            // Readers from here on cannot reach the nodes removed in `epoch`; its readers may.
            epoch_.store(epoch + 1, std::memory_order_seq_cst);
        }
        return num_dead;
    }

    MemoryUsage Memory() const {
        MemoryUsage usage;
        const std::uint64_t n = num_allocated_.load();
        usage.nodes = n - num_removed_.load();
        usage.vectors_bytes = n * payload_bytes_;
        usage.graph_bytes = n * sizeof(std::uint32_t) * (1 + m0_) +
                            upper_words_.load() * sizeof(std::uint32_t) +
                            (n > 0 ? sizeof(std::uint32_t*) * n : 0);
        // Row map: 4 bytes per row up to the largest row.
        const std::uint64_t max_row = max_row_.load();
        usage.metadata_bytes =
            n * (sizeof(NodeMeta) - sizeof(std::uint32_t*) + 3 * sizeof(std::uint32_t)) +
            (n > 0 ? (max_row + 1) * sizeof(NodeId) : 0) + labels_.bytes();
        return usage;
    }

    // ---- persistence (checkpoint.cc) ----
    Status Save(const std::string& path, Timestamp watermark, Timestamp floor,
                rocksdb::FileSystem* fs) const;
    static Result<std::unique_ptr<Impl>> Load(const std::string& path, Timestamp* watermark,
                                              rocksdb::FileSystem* fs);

    HnswParams params_;
    const std::size_t dim_;
    const std::size_t m_;
    const std::size_t m0_;
    const bool quantized_;
    const double level_mult_;
    const std::size_t payload_bytes_;
    const std::size_t header_bytes_;  // count, links, row, flags
    const std::size_t file_block_bytes_;  // a block in a checkpoint (unpadded)
    const std::size_t block_bytes_;       // a block in memory
    const std::size_t upper_stride_;

    internal::ChunkedArray blocks_;
    internal::ChunkedArray metas_;
    internal::ChunkedArray row_map_;    // row -> newest node + 1 (RowNode)
    internal::ChunkedArray node_rows_;  // node -> row (CompactRow)
    const KernelTable& kernels_;

    std::atomic<std::uint64_t> num_allocated_{0};
    std::atomic<std::uint64_t> num_live_{0};
    std::atomic<std::uint64_t> num_removed_{0};  // changed under structure_mu_ exclusive
    std::atomic<std::uint64_t> max_row_{0};
    std::atomic<std::size_t> upper_words_{0};
    std::atomic<Timestamp> settled_ts_{0};
    std::atomic<NodeId> entry_point_{kNoNode};
    std::atomic<int> max_level_{-1};
    std::mutex global_mu_;
    mutable std::shared_mutex structure_mu_;

    mutable std::mutex visited_mu_;
    mutable std::vector<std::unique_ptr<VisitedList>> visited_pool_;

    // The int8 range: written once by TrainQuantizer (or Load) before trained_ is set with
    // release; readers load trained_ with acquire before they use it.
    // Slot reuse (ReadGuard). retired_[e & 1]: slots removed in epoch e, not reusable yet.
    std::atomic<std::uint64_t> epoch_{0};
    mutable std::atomic<std::int64_t> readers_[2] = {0, 0};
    std::vector<NodeId> retired_[2];  // changed under structure_mu_ exclusive
    Mutex free_mu_;
    std::vector<NodeId> free_slots_ GUARDED_BY(free_mu_);

    std::atomic<bool> trained_{false};
    std::atomic<float> q_min_{0};
    std::atomic<float> q_scale_{1};
    VectorSource source_;
    internal::LabelStore labels_;
};

}  // namespace phenix::index

// ---- checkpoint ----
// File layout (little-endian; docs/formats/vector-index.md), written through
// storage::CheckpointWriter (which appends an XXH3-64 of everything before it):
//   FileHeader | NodeRecord x num_nodes | level-0 block x num_nodes | upper words
//   | label x num_nodes (version 2: u32 length + bytes)
namespace phenix::index {
namespace {

static_assert(std::endian::native == std::endian::little, "checkpoints are little-endian");

constexpr char kMagic[8] = {'P', 'H', 'X', 'H', 'N', 'S', 'W', '\0'};
// Version 2: FileHeader::flags (the quantizer's trained state) and the labels section.
constexpr std::uint32_t kCheckpointVersion = 2;
constexpr std::uint8_t kHeaderFlagQuantizerTrained = 1;

struct FileHeader {
    char magic[8];
    std::uint32_t version;
    std::uint32_t dimension;
    std::uint32_t m;
    std::uint32_t ef_construction;
    std::uint8_t metric;
    std::uint8_t quantized;
    std::uint8_t flags;  // version 1: always 0 (padding)
    std::uint8_t pad;
    float q_min;
    float q_scale;
    std::uint64_t seed;
    std::uint64_t watermark;
    std::uint64_t num_nodes;
    std::uint32_t entry_point;
    std::int32_t max_level;
    std::uint64_t upper_words;
};
static_assert(sizeof(FileHeader) == 80);

struct NodeRecord {
    std::uint64_t row;
    std::uint64_t inserted_ts;
    std::uint64_t deleted_ts;
    std::uint32_t prev;
    std::uint8_t level;
    std::uint8_t pad[3];
};
static_assert(sizeof(NodeRecord) == 32);

}  // namespace

Status HnswIndex::Impl::Save(const std::string& path, Timestamp watermark, Timestamp floor,
                             rocksdb::FileSystem* fs) const {
    // Excludes Insert and Repair (links, levels and row chains stay put); EndRow may still end
    // nodes meanwhile. So each node's end is read once, here, and both its record and its
    // block's flags are written from that one reading: a checkpoint never has a node whose
    // record and flags disagree (which Load rejects). An end read here is at most newer than
    // the watermark, which replay at open applies again (ending an ended node is a no-op).
    std::unique_lock structure(structure_mu_);
    const std::uint64_t n = num_allocated_.load();
    std::vector<NodeId> remap(n, kNoNode);
    std::vector<Timestamp> ends(n, kForever);
    std::uint64_t kept = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        const NodeMeta& meta = Meta(static_cast<NodeId>(i));
        ends[i] = meta.deleted_ts.load();
        if (meta.state.load() != kStateRemoved && ends[i] > floor) {
            remap[i] = static_cast<NodeId>(kept++);
        }
    }
    NodeId entry = entry_point_.load();
    int max_level = max_level_.load();
    if (entry != kNoNode && remap[entry] == kNoNode) {
        entry = kNoNode;
        max_level = -1;
        for (std::uint64_t i = 0; i < n; ++i) {
            if (remap[i] != kNoNode && Meta(static_cast<NodeId>(i)).level > max_level) {
                entry = static_cast<NodeId>(i);
                max_level = Meta(entry).level;
            }
        }
    }
    std::uint64_t upper_words = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        if (remap[i] != kNoNode) {
            upper_words += Meta(static_cast<NodeId>(i)).level * upper_stride_;
        }
    }

    PHENIX_ASSIGN_OR_RETURN(auto out, storage::CheckpointWriter::Create(fs, path));
    FileHeader header{};
    std::memcpy(header.magic, kMagic, sizeof(kMagic));
    header.version = kCheckpointVersion;
    header.dimension = params_.dimension;
    header.m = params_.m;
    header.ef_construction = params_.ef_construction;
    header.metric = static_cast<std::uint8_t>(params_.metric);
    header.quantized = quantized_ ? 1 : 0;
    const bool trained = trained_.load(std::memory_order_acquire);
    header.flags = quantized_ && trained ? kHeaderFlagQuantizerTrained : 0;
    header.q_min = q_min_.load(std::memory_order_relaxed);
    header.q_scale = q_scale_.load(std::memory_order_relaxed);
    header.seed = params_.seed;
    header.watermark = watermark;
    header.num_nodes = kept;
    header.entry_point = entry == kNoNode ? kNoNode : remap[entry];
    header.max_level = max_level;
    header.upper_words = upper_words;
    out->Write(&header, sizeof(header));
    for (std::uint64_t i = 0; i < n; ++i) {
        if (remap[i] == kNoNode) {
            continue;
        }
        const NodeMeta& meta = Meta(static_cast<NodeId>(i));
        NodeRecord rec{};
        rec.row = meta.row;
        rec.inserted_ts = meta.inserted_ts;
        rec.deleted_ts = ends[i];
        const NodeId prev = meta.prev.load();
        rec.prev = prev == kNoNode ? kNoNode : remap[prev];
        rec.level = meta.level;
        out->Write(&rec, sizeof(rec));
    }
    PHENIX_SYNC_POINT("HnswIndex::Save:AfterRecords");
    std::vector<std::uint32_t> words;
    auto write_links = [&](const std::uint32_t* links, std::size_t max_links) {
        words.assign(1 + max_links, 0);
        const std::uint32_t count =
            std::min<std::uint32_t>(LoadWord(links), static_cast<std::uint32_t>(max_links));
        std::uint32_t out_count = 0;
        for (std::uint32_t j = 1; j <= count; ++j) {
            const NodeId target = remap[LoadWord(links + j)];
            if (target != kNoNode) {
                words[1 + out_count++] = target;
            }
        }
        words[0] = out_count;
        out->Write(words.data(), words.size() * sizeof(std::uint32_t));
    };
    for (std::uint64_t i = 0; i < n; ++i) {
        if (remap[i] == kNoNode) {
            continue;
        }
        const auto id = static_cast<NodeId>(i);
        write_links(Links0(id), m0_);
        // The flags as of the record's end (not as of now: see above); no insert is pending.
        std::uint32_t flags = LoadWord(FlagsWord(id)) & ~(kFlagEnded | kPendingMask);
        if (ends[i] != kForever) {
            flags |= kFlagEnded;
        }
        const std::uint32_t row_flags[2] = {RowOf(id), flags};
        out->Write(row_flags, sizeof(row_flags));
        out->Write(Payload(id), payload_bytes_);
    }
    for (std::uint64_t i = 0; i < n; ++i) {
        if (remap[i] == kNoNode) {
            continue;
        }
        const auto id = static_cast<NodeId>(i);
        for (int level = 1; level <= Meta(id).level; ++level) {
            write_links(Links(id, level), m_);
        }
    }
    for (std::uint64_t i = 0; i < n; ++i) {
        if (remap[i] == kNoNode) {
            continue;
        }
        const std::string_view label = labels_.Get(Meta(static_cast<NodeId>(i)).row);
        const auto len = static_cast<std::uint32_t>(label.size());
        out->Write(&len, sizeof(len));
        out->Write(label.data(), label.size());
    }
    return out->Commit().WithContext("saving the vector index checkpoint");
}

Result<std::unique_ptr<HnswIndex::Impl>> HnswIndex::Impl::Load(const std::string& path,
                                                               Timestamp* watermark,
                                                               rocksdb::FileSystem* fs) {
    auto read = storage::ReadCheckpointFile(fs, path);
    if (read.status().code() == StatusCode::kNotFound) {
        return Status::NotFound("no vector index checkpoint at '" + path + "'");
    }
    if (read.status().code() == StatusCode::kCorruption) {
        return Status::Corruption("vector index " + read.status().message());
    }
    PHENIX_RETURN_IF_ERROR(read.status());
    const std::string& data = *read;
    auto corrupt = [&path](const std::string& why) {
        return Status::Corruption("vector index checkpoint '" + path + "' " + why);
    };
    if (data.size() < sizeof(FileHeader)) {
        return corrupt("is truncated");
    }
    FileHeader header{};
    std::memcpy(&header, data.data(), sizeof(header));
    if (std::memcmp(header.magic, kMagic, sizeof(kMagic)) != 0) {
        return corrupt("is not a vector index checkpoint");
    }
    if (header.version != 1 && header.version != kCheckpointVersion) {
        return corrupt("has unknown version " + std::to_string(header.version));
    }
    HnswParams params;
    params.dimension = header.dimension;
    params.metric = static_cast<Metric>(header.metric);
    params.m = header.m;
    params.ef_construction = header.ef_construction;
    params.quantize_int8 = header.quantized != 0;
    params.seed = header.seed;
    if (params.dimension == 0 || params.dimension > 65536 || params.m < 2 || params.m > 128 ||
        (params.metric != Metric::kL2 && params.metric != Metric::kCosine &&
         params.metric != Metric::kInnerProduct)) {
        return corrupt("has invalid parameters");
    }
    auto impl = std::make_unique<Impl>(params);
    const std::uint64_t n = header.num_nodes;
    const std::size_t fixed = sizeof(FileHeader) + n * sizeof(NodeRecord) +
                              n * impl->file_block_bytes_ +
                              header.upper_words * sizeof(std::uint32_t);
    const bool has_labels = header.version >= 2;
    if (n >= kNoNode || header.upper_words > data.size() ||
        (has_labels ? data.size() < fixed + n * sizeof(std::uint32_t) : data.size() != fixed)) {
        return corrupt("has the wrong size for " + std::to_string(n) + " nodes");
    }
    if (n > 0 && (!impl->blocks_.EnsureCapacity(n) || !impl->metas_.EnsureCapacity(n) ||
                  !impl->node_rows_.EnsureCapacity(n))) {
        return Status::ResourceExhausted("vector index checkpoint is too large");
    }
    const char* p = data.data() + sizeof(FileHeader);
    const char* blocks = p + n * sizeof(NodeRecord);
    const char* upper = blocks + n * impl->file_block_bytes_;
    std::uint64_t upper_used = 0;
    std::uint64_t live = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        NodeRecord rec{};
        std::memcpy(&rec, p + i * sizeof(NodeRecord), sizeof(rec));
        if (rec.row > kMaxRow || rec.level > kMaxLevel || (rec.prev != kNoNode && rec.prev >= n)) {
            return corrupt("has an invalid node record");
        }
        const auto id = static_cast<NodeId>(i);
        NodeMeta& meta = impl->Meta(id);
        meta.row = rec.row;
        meta.inserted_ts = rec.inserted_ts;
        meta.deleted_ts.store(rec.deleted_ts);
        meta.prev.store(rec.prev);
        meta.level = rec.level;
        meta.state.store(kStateLinked);
        std::memcpy(impl->blocks_.At(id), blocks + i * impl->file_block_bytes_,
                    impl->file_block_bytes_);
        *reinterpret_cast<std::uint32_t*>(impl->node_rows_.At(id)) =
            static_cast<std::uint32_t>(rec.row);
        const std::uint32_t flags = *impl->FlagsWord(id);
        if (impl->RowOf(id) != rec.row || (flags & kPendingMask) != 0 ||
            ((flags & kFlagEnded) != 0) != (rec.deleted_ts != kForever)) {
            return corrupt("has a node whose block and record disagree");
        }
        const std::size_t words = static_cast<std::size_t>(rec.level) * impl->upper_stride_;
        if (words > 0) {
            if (upper_used + words > header.upper_words) {
                return corrupt("has inconsistent upper layers");
            }
            meta.upper = new std::uint32_t[words];
            std::memcpy(meta.upper, upper + upper_used * sizeof(std::uint32_t),
                        words * sizeof(std::uint32_t));
            upper_used += words;
        }
        if (rec.deleted_ts == kForever) {
            ++live;
        }
        if (!impl->row_map_.EnsureCapacity(rec.row + 1)) {
            return Status::ResourceExhausted("vector index checkpoint row map too large");
        }
        // A row's newest node is the one inserted last (slot reuse breaks id order).
        std::atomic<NodeId>* slot = impl->RowSlot(rec.row);
        const NodeId current = slot->load() - 1;
        if (current == kNoNode || impl->Meta(current).inserted_ts <= rec.inserted_ts) {
            slot->store(id + 1);
        }
        impl->max_row_.store(std::max(impl->max_row_.load(), rec.row));
    }
    if (upper_used != header.upper_words) {
        return corrupt("has inconsistent upper layers");
    }
    if (has_labels) {
        const char* labels = upper + header.upper_words * sizeof(std::uint32_t);
        const char* end = data.data() + data.size();
        for (std::uint64_t i = 0; i < n; ++i) {
            std::uint32_t len = 0;
            if (end - labels < static_cast<std::ptrdiff_t>(sizeof(len))) {
                return corrupt("has a truncated labels section");
            }
            std::memcpy(&len, labels, sizeof(len));
            labels += sizeof(len);
            if (static_cast<std::uint64_t>(end - labels) < len) {
                return corrupt("has a truncated labels section");
            }
            impl->labels_.Set(impl->Meta(static_cast<NodeId>(i)).row,
                              std::string_view(labels, len));
            labels += len;
        }
        if (labels != end) {
            return corrupt("has trailing bytes after its labels");
        }
    }
    // Every link must name a node of the file.
    for (std::uint64_t i = 0; i < n; ++i) {
        const auto id = static_cast<NodeId>(i);
        for (int level = 0; level <= impl->Meta(id).level; ++level) {
            const std::uint32_t* links = impl->Links(id, level);
            if (links[0] > impl->MaxLinks(level)) {
                return corrupt("has an invalid link list");
            }
            for (std::uint32_t j = 1; j <= links[0]; ++j) {
                if (links[j] >= n || impl->Meta(links[j]).level < level) {
                    return corrupt("has a link to a missing node");
                }
            }
        }
    }
    if ((header.entry_point == kNoNode) != (n == 0) ||
        (header.entry_point != kNoNode &&
         (header.entry_point >= n || impl->Meta(header.entry_point).level != header.max_level))) {
        return corrupt("has an invalid entry point");
    }
    impl->upper_words_.store(upper_used);
    impl->num_allocated_.store(n);
    impl->num_live_.store(live);
    impl->entry_point_.store(header.entry_point);
    impl->max_level_.store(header.max_level);
    // Version 1 did not record whether the quantizer was trained: one with nodes must have been
    // (Insert requires it); one without is treated as untrained, so it trains on real data.
    const bool trained =
        header.version >= 2 ? (header.flags & kHeaderFlagQuantizerTrained) != 0 : n > 0;
    if (impl->quantized_ && trained &&
        !(header.q_scale > 0 && std::isfinite(header.q_scale) && std::isfinite(header.q_min))) {
        return corrupt("has an invalid quantizer range");
    }
    if (impl->quantized_ && !trained && n > 0) {
        return corrupt("has nodes but an untrained quantizer");
    }
    impl->q_min_.store(header.q_min, std::memory_order_relaxed);
    impl->q_scale_.store(header.q_scale, std::memory_order_relaxed);
    impl->trained_.store(!impl->quantized_ || trained, std::memory_order_release);
    *watermark = header.watermark;
    return impl;
}

// ---- HnswIndex ----

HnswIndex::HnswIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HnswIndex::~HnswIndex() = default;

Result<std::unique_ptr<HnswIndex>> HnswIndex::Create(const HnswParams& params) {
    if (params.dimension == 0 || params.dimension > 65536) {
        return Status::InvalidArgument("vector index dimension must be 1..65536, not " +
                                       std::to_string(params.dimension));
    }
    if (params.m < 2 || params.m > 128) {
        return Status::InvalidArgument("HNSW m must be 2..128, not " + std::to_string(params.m));
    }
    if (params.ef_construction < 1) {
        return Status::InvalidArgument("HNSW ef_construction must be at least 1");
    }
    return std::unique_ptr<HnswIndex>(new HnswIndex(std::make_unique<Impl>(params)));
}

const HnswParams& HnswIndex::params() const {
    return impl_->params_;
}

Status HnswIndex::TrainQuantizer(std::span<const float> samples) {
    if (!impl_->quantized_) {
        return Status::FailedPrecondition("the index is not quantized");
    }
    if (impl_->num_allocated_.load() > 0) {
        return Status::FailedPrecondition("TrainQuantizer must run before the first Insert");
    }
    if (samples.empty() || samples.size() % impl_->dim_ != 0) {
        return Status::InvalidArgument(
            "quantizer samples must be a non-empty multiple of the dimension");
    }
    std::vector<float> values(samples.begin(), samples.end());
    if (impl_->params_.metric == Metric::kCosine) {
        for (std::size_t off = 0; off < values.size(); off += impl_->dim_) {
            NormalizeInPlace(values.data() + off, impl_->dim_);
        }
    }
    for (float v : values) {
        if (!std::isfinite(v)) {
            return Status::InvalidArgument("quantizer samples contain NaN or infinity");
        }
    }
    // Clip the 0.1% most extreme values at each end: outliers would waste code space.
    const std::size_t lo_idx = values.size() / 1000;
    const std::size_t hi_idx = values.size() - 1 - values.size() / 1000;
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(lo_idx),
                     values.end());
    const float lo = values[lo_idx];
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(hi_idx),
                     values.end());
    const float hi = values[hi_idx];
    impl_->q_min_.store(lo, std::memory_order_relaxed);
    impl_->q_scale_.store(hi > lo ? (hi - lo) / 255.0f : 1.0f, std::memory_order_relaxed);
    impl_->trained_.store(true, std::memory_order_release);  // publishes the range
    return Status::Ok();
}

bool HnswIndex::needs_training() const {
    return impl_->quantized_ && !impl_->trained_.load(std::memory_order_acquire);
}

Result<NodeId> HnswIndex::Insert(RowId row, std::span<const float> vector, Timestamp inserted_ts,
                                 const std::atomic<Timestamp>* end_watch, std::string_view label) {
    return impl_->Insert(row, vector, inserted_ts, end_watch, label);
}

Status HnswIndex::InsertBulk(std::span<const RowId> rows, std::span<const float> vectors,
                             Timestamp inserted_ts, unsigned threads,
                             const ProgressCallback& progress) {
    const std::size_t dim = impl_->dim_;
    if (vectors.size() != rows.size() * dim) {
        return Status::InvalidArgument("InsertBulk: " + std::to_string(rows.size()) + " rows but " +
                                       std::to_string(vectors.size()) + " floats");
    }
    threads = std::max(1u, threads);
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> done{0};
    std::atomic<bool> failed{false};
    std::mutex error_mu;
    Status error;
    constexpr std::size_t kBatch = 64;
    auto work = [&] {
        while (!failed.load(std::memory_order_relaxed)) {
            const std::size_t begin = next.fetch_add(kBatch);
            if (begin >= rows.size()) {
                return;
            }
            const std::size_t end = std::min(rows.size(), begin + kBatch);
            for (std::size_t i = begin; i < end; ++i) {
                auto r =
                    impl_->Insert(rows[i], vectors.subspan(i * dim, dim), inserted_ts, nullptr, {});
                if (!r.ok()) {
                    std::lock_guard lock(error_mu);
                    if (error.ok()) {
                        error = r.status();
                    }
                    failed = true;
                    return;
                }
            }
            done.fetch_add(end - begin, std::memory_order_relaxed);
        }
    };
    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) {
        workers.emplace_back(work);
    }
    if (progress) {
        while (done.load() < rows.size() && !failed.load()) {
            progress(done.load(), rows.size());
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }
    for (std::thread& w : workers) {
        w.join();
    }
    if (progress && !failed.load()) {
        progress(rows.size(), rows.size());
    }
    return error;
}

bool HnswIndex::EndRow(RowId row, Timestamp deleted_ts) {
    return impl_->EndRow(row, deleted_ts);
}

Result<SearchResult> HnswIndex::Search(std::span<const float> query,
                                       const SearchOptions& options) const {
    return impl_->Search(query, options);
}

Result<std::vector<float>> HnswIndex::PrepareQuery(std::span<const float> query) const {
    PHENIX_ASSIGN_OR_RETURN(Impl::Query q, impl_->Prepare(query));
    return std::move(q.vec);
}

float HnswIndex::Distance(std::span<const float> prepared_query,
                          std::span<const float> vector) const {
    if (impl_->params_.metric == Metric::kCosine) {
        std::vector<float> v(vector.begin(), vector.end());
        if (!NormalizeInPlace(v.data(), v.size())) {
            return 1.0f;
        }
        return impl_->FloatDistance(prepared_query.data(), v.data());
    }
    return impl_->FloatDistance(prepared_query.data(), vector.data());
}

std::size_t HnswIndex::Repair(Timestamp floor) {
    return impl_->Repair(floor);
}

Status HnswIndex::Save(const std::string& path, Timestamp watermark, Timestamp floor,
                       rocksdb::FileSystem* fs) const {
    return impl_->Save(path, watermark, floor, fs);
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::Load(const std::string& path, Timestamp* watermark,
                                                   rocksdb::FileSystem* fs) {
    PHENIX_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl, Impl::Load(path, watermark, fs));
    return std::unique_ptr<HnswIndex>(new HnswIndex(std::move(impl)));
}

void HnswIndex::SetVectorSource(VectorSource source) {
    impl_->source_ = std::move(source);
}

MemoryUsage HnswIndex::Memory() const {
    return impl_->Memory();
}

std::size_t HnswIndex::num_nodes() const {
    return impl_->num_allocated_.load() - impl_->num_removed_.load();
}

std::size_t HnswIndex::num_slots() const {
    return impl_->num_allocated_.load();
}

std::size_t HnswIndex::num_live() const {
    return impl_->num_live_.load();
}

std::uint32_t HnswIndex::num_levels() const {
    return static_cast<std::uint32_t>(std::max(impl_->max_level_.load() + 1, 0));
}

std::vector<RowId> HnswIndex::LiveRows() const {
    const Impl::ReadGuard guard(*impl_);
    std::vector<RowId> rows;
    const std::uint64_t n = impl_->ScanLimit();
    for (std::uint64_t i = 0; i < n; ++i) {
        const auto& meta = impl_->Meta(static_cast<NodeId>(i));
        const std::uint8_t state = meta.state.load(std::memory_order_acquire);
        if (state != kStateEmpty && state != kStateRemoved &&
            meta.deleted_ts.load(std::memory_order_acquire) == kForever) {
            rows.push_back(meta.row);
        }
    }
    return rows;
}

bool HnswIndex::SameVector(RowId row, std::span<const float> vector) const {
    return impl_->SameVector(row, vector);
}

NodeId HnswIndex::FindRow(RowId row, Timestamp snapshot) const {
    const Impl::ReadGuard guard(*impl_);
    return impl_->FindRow(row, snapshot);
}

std::vector<RowId> HnswIndex::VisibleRows(Timestamp snapshot) const {
    const Impl::ReadGuard guard(*impl_);
    std::vector<RowId> rows;
    const std::uint64_t n = impl_->ScanLimit();
    for (std::uint64_t i = 0; i < n; ++i) {
        const auto id = static_cast<NodeId>(i);
        const std::uint8_t state = impl_->Meta(id).state.load(std::memory_order_acquire);
        if (state != kStateEmpty && state != kStateRemoved && impl_->Visible(id, snapshot)) {
            rows.push_back(impl_->Meta(id).row);
        }
    }
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    return rows;
}

Timestamp HnswIndex::NodeInsertedTs(NodeId id) const {
    return impl_->Meta(id).inserted_ts;
}

bool HnswIndex::NodeHasVector(NodeId id, std::span<const float> vector) const {
    return impl_->NodeHasVector(id, vector);
}

std::string_view HnswIndex::Label(RowId row) const {
    return impl_->labels_.Get(row);
}

bool HnswIndex::SetLabel(RowId row, std::string_view label) {
    return row <= kMaxRow && impl_->labels_.Set(row, label);
}

}  // namespace phenix::index
