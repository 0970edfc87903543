// SPDX-License-Identifier: Apache-2.0
#include "graph/traversal.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <queue>
#include <utility>

namespace phenix::graph {
namespace {

// How many nodes ahead of the one being expanded a BFS asks the source to prefetch.
constexpr std::size_t kPrefetchAhead = 8;

constexpr std::string_view kNarrowHint =
    "; narrow the traversal (labels, hops) or raise Options::max_traversal_nodes / "
    "max_traversal_edges";

std::string NodeName(NodeRef node) {
    return std::to_string(node.collection) + ":" + std::to_string(node.row);
}

Status TooManyEdges(std::uint64_t max_edges) {
    return Status::ResourceExhausted("graph traversal examined more than the max_edges limit (" +
                                     std::to_string(max_edges) + " edges)" +
                                     std::string(kNarrowHint));
}

Status TooManyNodes(std::uint64_t max_nodes) {
    return Status::ResourceExhausted("graph traversal reached more than the max_nodes limit (" +
                                     std::to_string(max_nodes) + " nodes)" +
                                     std::string(kNarrowHint));
}

Status CheckHops(std::string_view op, std::uint32_t min_hops, std::uint32_t max_hops,
                 const TraversalLimits& limits) {
    if (min_hops > max_hops) {
        return Status::InvalidArgument(std::string(op) + ": min_hops (" + std::to_string(min_hops) +
                                       ") is greater than max_hops (" + std::to_string(max_hops) +
                                       ")");
    }
    if (max_hops > limits.max_depth) {
        return Status::InvalidArgument(std::string(op) + ": max_hops (" + std::to_string(max_hops) +
                                       ") exceeds the traversal depth limit (" +
                                       std::to_string(limits.max_depth) +
                                       "); use fewer hops or raise Options::max_traversal_depth");
    }
    return Status::Ok();
}

Direction Reverse(Direction dir) {
    switch (dir) {
        case Direction::kOut:
            return Direction::kIn;
        case Direction::kIn:
            return Direction::kOut;
        case Direction::kBoth:
            return Direction::kBoth;
    }
    return Direction::kBoth;
}

// One edge handed to an operator by EdgeWalker: from a packed list (fast path: `list` and `idx`)
// or from the source's callback (`view`). Valid during the callback only; label() of a packed
// edge stays valid for the label table's lifetime.
struct WalkedEdge {
    NodeRef other;
    double weight = 1.0;
    bool reversed = false;
    const PackedList* list = nullptr;
    std::uint32_t idx = 0;
    const EdgeView* view = nullptr;

    [[nodiscard]] std::string_view label() const { return list ? list->label(idx) : view->label; }
    [[nodiscard]] std::string_view other_id() const {
        return list ? list->other_id(idx) : view->other_id;
    }
    [[nodiscard]] std::string_view properties() const {
        return list ? std::string_view() : view->properties;
    }
    [[nodiscard]] bool has_properties() const {
        return list ? list->edge(idx).has_properties() : view->has_properties;
    }
};

// Lists the matching edges of nodes for one traversal, counting every edge the source delivers
// against limits.max_edges (non-matching edges cost the same I/O as matching ones). Walks packed
// lists when the source has them and no properties are needed, else the source's callback.
class EdgeWalker {
  public:
    // need_properties: the predicate reads properties, so every list comes from the source's
    // callback with them. want_properties: the caller would like them, but takes packed lists
    // (which have none) when the source has them; from the callback they come along.
    EdgeWalker(AdjacencySource& source, const EdgePredicate& predicate, bool need_properties,
               std::uint64_t max_edges, bool want_properties = false)
        : source_(source),
          predicate_(predicate),
          need_properties_(need_properties),
          want_properties_(need_properties || want_properties),
          max_edges_(max_edges) {}

    // Keep the packed lists of the last ForEach in lists() (for callers that hold on to them).
    void KeepLists() { keep_lists_ = true; }

    // Calls fn(const WalkedEdge&) for each matching edge of `node` in `dir` (out-edges, then
    // in-edges, for kBoth) until fn returns false. skip_reversed_self_loops: under kBoth, a
    // self-loop is delivered once, as an out-edge. ResourceExhausted past max_edges. Not
    // re-entrant: fn must not call the walker (nor the source).
    template <typename Fn>
    Status ForEach(NodeRef node, Direction dir, bool skip_reversed_self_loops, Fn&& fn) {
        constexpr Direction kDirs[2] = {Direction::kOut, Direction::kIn};
        const std::size_t first = dir == Direction::kIn ? 1 : 0;
        const std::size_t last = dir == Direction::kOut ? 1 : 2;
        if (keep_lists_) {
            lists_[0].reset();
            lists_[1].reset();
        }
        for (std::size_t dir_idx = first; dir_idx < last; ++dir_idx) {
            const bool skip_self_loops =
                skip_reversed_self_loops && dir == Direction::kBoth && dir_idx == 1;
            const bool reversed = dir_idx == 1;
            if (!need_properties_) {
                PHENIX_ASSIGN_OR_RETURN(PackedListPtr list, source_.ReadList(node, kDirs[dir_idx]));
                if (list) {
                    const PackedList& packed = *list;
                    if (keep_lists_) {
                        lists_[dir_idx] = list;
                    }
                    const std::span<const PackedEdge> edges = packed.edges();
                    for (std::size_t idx = 0; idx < edges.size(); ++idx) {
                        if (++examined_ > max_edges_) {
                            return TooManyEdges(max_edges_);
                        }
                        const PackedEdge& edge = edges[idx];
                        if (skip_self_loops && edge.other() == node) {
                            continue;
                        }
                        if (!MatchesPacked(packed, edge)) {
                            continue;
                        }
                        const WalkedEdge walked{.other = edge.other(),
                                                .weight = edge.weight,
                                                .reversed = reversed,
                                                .list = &packed,
                                                .idx = static_cast<std::uint32_t>(idx)};
                        if (!fn(walked)) {
                            return Status::Ok();
                        }
                    }
                    continue;
                }
            }
            bool exhausted = false;
            bool stopped = false;
            auto visit = [&](const EdgeView& edge) {
                if (++examined_ > max_edges_) {
                    exhausted = true;
                    return false;
                }
                if (skip_self_loops && edge.other == node) {
                    return true;
                }
                if (!predicate_.Matches(edge)) {
                    return true;
                }
                const WalkedEdge walked{.other = edge.other,
                                        .weight = edge.weight,
                                        .reversed = edge.reversed,
                                        .view = &edge};
                if (!fn(walked)) {
                    stopped = true;
                    return false;
                }
                return true;
            };
            PHENIX_RETURN_IF_ERROR(
                source_.ForEachEdge(node, kDirs[dir_idx], want_properties_, visit));
            if (exhausted) {
                return TooManyEdges(max_edges_);
            }
            if (stopped) {
                break;
            }
        }
        return Status::Ok();
    }

    // The number of matching edges of `node` in `dir` (kBoth: out plus in, a self-loop twice).
    Result<std::uint64_t> Count(NodeRef node, Direction dir) {
        const bool trivial = predicate_.labels.empty() && !predicate_.min_weight &&
                             !predicate_.max_weight && !predicate_.needs_properties();
        std::uint64_t count = 0;
        constexpr Direction kDirs[2] = {Direction::kOut, Direction::kIn};
        for (std::size_t dir_idx = dir == Direction::kIn ? 1 : 0;
             dir_idx < (dir == Direction::kOut ? 1U : 2U); ++dir_idx) {
            if (trivial) {
                PHENIX_ASSIGN_OR_RETURN(PackedListPtr list, source_.ReadList(node, kDirs[dir_idx]));
                if (list) {
                    examined_ += list->size();
                    count += list->size();
                    continue;
                }
            }
            PHENIX_RETURN_IF_ERROR(ForEach(node, kDirs[dir_idx], false, [&](const WalkedEdge&) {
                ++count;
                return true;
            }));
        }
        return count;
    }

    // With KeepLists: the packed lists the last ForEach read ([0] out, [1] in; null where it
    // had none).
    std::array<PackedListPtr, 2>& lists() { return lists_; }
    // Whether edges from the callback carry their properties.
    [[nodiscard]] bool callback_has_properties() const { return want_properties_; }

    [[nodiscard]] std::uint64_t examined() const { return std::min(examined_, max_edges_); }

  private:
    // EdgePredicate::Matches for a packed edge: labels by id (memoised per label table), weights.
    bool MatchesPacked(const PackedList& list, const PackedEdge& edge) {
        if (!predicate_.labels.empty()) {
            if (list.labels() != memo_table_) {
                memo_table_ = list.labels();
                label_memo_.clear();
            }
            const std::uint32_t id = edge.label_id();
            if (id >= label_memo_.size()) {
                label_memo_.resize(id + 1, -1);
            }
            if (label_memo_[id] < 0) {
                const std::string_view label = list.labels()->Get(id);
                label_memo_[id] = std::find(predicate_.labels.begin(), predicate_.labels.end(),
                                            label) != predicate_.labels.end()
                                      ? 1
                                      : 0;
            }
            if (label_memo_[id] == 0) {
                return false;
            }
        }
        // Written as !(a >= b) so that a NaN weight fails any bound.
        if (predicate_.min_weight.has_value() && !(edge.weight >= *predicate_.min_weight)) {
            return false;
        }
        if (predicate_.max_weight.has_value() && !(edge.weight <= *predicate_.max_weight)) {
            return false;
        }
        return true;
    }

    AdjacencySource& source_;
    const EdgePredicate& predicate_;
    const bool need_properties_;
    const bool want_properties_;
    const std::uint64_t max_edges_;
    std::uint64_t examined_ = 0;
    bool keep_lists_ = false;
    std::array<PackedListPtr, 2> lists_;
    const LabelTable* memo_table_ = nullptr;
    std::vector<std::int8_t> label_memo_;  // label id -> -1 unknown, 0 no, 1 matches
};

// Node ids met during a traversal, kept in one buffer (the views the source gives live only as
// long as its lists).
class IdBuffer {
  public:
    void Add(std::string_view id) {
        bytes_.append(id);
        ends_.push_back(static_cast<std::uint32_t>(bytes_.size()));
    }
    [[nodiscard]] std::string_view Get(std::size_t idx) const {
        const std::uint32_t begin = idx == 0 ? 0 : ends_[idx - 1];
        return std::string_view(bytes_).substr(begin, ends_[idx] - begin);
    }
    [[nodiscard]] std::uint32_t size() const { return static_cast<std::uint32_t>(ends_.size()); }
    void Clear() {
        bytes_.clear();
        ends_.clear();
    }

  private:
    std::string bytes_;
    std::vector<std::uint32_t> ends_;
};

}  // namespace

bool EdgePredicate::Matches(const EdgeView& edge) const {
    if (!labels.empty() && std::find(labels.begin(), labels.end(), edge.label) == labels.end()) {
        return false;
    }
    // Written as !(a >= b) so that a NaN weight fails any bound.
    if (min_weight.has_value() && !(edge.weight >= *min_weight)) {
        return false;
    }
    if (max_weight.has_value() && !(edge.weight <= *max_weight)) {
        return false;
    }
    if (properties && !properties(edge.properties)) {
        return false;
    }
    return true;
}

// Expand runs in two phases.
//
// Phase 1 computes the exact level sets L_k = {nodes at the end of some k-hop walk from a
// start} for k = 0..min_hops: L_0 = starts and L_k = matching neighbours of L_{k-1}. Each level
// is deduplicated on its own (a node may lie on several levels), which is exact for walks.
//
// Phase 2 is a plain BFS with one global visited set, seeded with L_min at depth min_hops, up to
// depth max_hops. Why that is exact: a walk of k >= min_hops hops splits into its first
// min_hops hops, which end at some w in L_min, and a walk of k - min_hops >= 0 hops from w
// (and conversely any such concatenation is a walk). So v is reached by a walk with
// min_hops <= k <= max_hops iff dist(L_min, v) <= max_hops - min_hops, where dist is the fewest
// hops from any node of L_min (0 on L_min itself), and the fewest such k is
// min_hops + dist(L_min, v). BFS with a global visited set computes dist(L_min, .) exactly.
//
// For min_hops <= 1 phase 1 is at most one level, so this is the plain BFS (seeded with the
// starts' neighbours when min_hops == 1, which also finds walks that return to a start). For
// min_hops > 1 the cost is min_hops exact levels plus one BFS, not max_hops exact levels.
// Memory: at most two levels plus one per-level set in phase 1, one visited set and the result
// in phase 2, each capped at limits.max_nodes.
//
// max_results: BFS returns nodes depth by depth, so once a completed depth brings the count to
// max_results, every node of a later depth comes after them in (depth, ...) order: the caller's
// page is within what was found. When the count is exactly max_results, the BFS goes on until
// it finds one more node (or runs out) to tell whether the result is truncated.
Result<ExpandResult> Expand(AdjacencySource& source, const ExpandSpec& spec,
                            const TraversalLimits& limits) {
    PHENIX_RETURN_IF_ERROR(CheckHops("Expand", spec.min_hops, spec.max_hops, limits));
    EdgeWalker walker(source, spec.edge, spec.edge.needs_properties(), limits.max_edges);

    NodeSet starts;
    std::vector<NodeRef> level;
    for (const NodeRef& start : spec.starts) {
        if (starts.Insert(start)) {
            level.push_back(start);
        }
    }
    if (starts.size() > limits.max_nodes) {
        return TooManyNodes(limits.max_nodes);
    }
    const bool level_is_single_start = starts.size() == 1;
    const NodeRef single_start = level.empty() ? NodeRef{} : level.front();
    // The ids of the level's nodes (phase 1), as the edges that reached them gave them.
    IdBuffer level_ids;
    for (std::size_t idx = 0; idx < level.size() && spec.collect_ids; ++idx) {
        level_ids.Add({});
    }

    // Phase 1: exact levels L_1..L_min.
    for (std::uint32_t hop = 1; hop <= spec.min_hops && !level.empty(); ++hop) {
        std::vector<NodeRef> next;
        IdBuffer next_ids;
        NodeSet seen;
        bool too_many = false;
        for (const NodeRef& node : level) {
            PHENIX_RETURN_IF_ERROR(
                walker.ForEach(node, spec.direction, false, [&](const WalkedEdge& edge) {
                    if (seen.Insert(edge.other)) {
                        if (seen.size() > limits.max_nodes) {
                            too_many = true;
                            return false;
                        }
                        next.push_back(edge.other);
                        if (spec.collect_ids) {
                            next_ids.Add(edge.other_id());
                        }
                    }
                    return true;
                }));
            if (too_many) {
                return TooManyNodes(limits.max_nodes);
            }
        }
        level = std::move(next);
        level_ids = std::move(next_ids);
    }

    // Phase 2: BFS from L_min. (Room for a typical small result up front: fewer regrowths.)
    constexpr std::size_t kInitialNodes = 64;
    ExpandResult result;
    result.nodes.reserve(kInitialNodes);
    if (spec.collect_ids) {
        result.id_ends.reserve(kInitialNodes);
        result.id_bytes.reserve(8 * kInitialNodes);
    }
    bool probing = false;  // looking for one more node to tell whether the result is truncated
    // Records a returned node; false once probing found one.
    auto emit = [&](NodeRef node, std::uint32_t depth, std::string_view id) {
        // One start (the engine's case) is compared directly, without a hash probe.
        if (!spec.include_starts &&
            (level_is_single_start ? node == single_start : starts.Contains(node))) {
            return true;
        }
        if (spec.emit_collection.has_value() && node.collection != *spec.emit_collection) {
            return true;
        }
        if (probing) {
            result.truncated = true;
            return false;
        }
        result.nodes.push_back({node, depth});
        if (spec.collect_ids) {
            result.id_bytes.append(id);
            result.id_ends.push_back(static_cast<std::uint32_t>(result.id_bytes.size()));
        }
        return true;
    };
    // After a completed depth: whether to stop (max_results reached or passed).
    auto enough = [&]() {
        if (spec.max_results == 0 || probing || result.nodes.size() < spec.max_results) {
            return false;
        }
        if (result.nodes.size() > spec.max_results) {
            result.truncated = true;
            return true;
        }
        probing = true;
        return false;
    };
    NodeSet visited;
    for (std::size_t idx = 0; idx < level.size(); ++idx) {
        visited.Insert(level[idx]);
        emit(level[idx], spec.min_hops, spec.collect_ids ? level_ids.Get(idx) : std::string_view());
    }
    if (visited.size() > limits.max_nodes) {
        return TooManyNodes(limits.max_nodes);
    }
    std::vector<NodeRef> frontier = std::move(level);
    std::vector<NodeRef> next;
    next.reserve(kInitialNodes);
    for (std::uint32_t depth = spec.min_hops;
         depth < spec.max_hops && !frontier.empty() && !enough() && !result.truncated; ++depth) {
        next.clear();
        bool too_many = false;
        for (std::size_t pos = 0; pos < frontier.size(); ++pos) {
            const NodeRef node = frontier[pos];
            // Overlap the memory latency of the lists a few nodes ahead.
            if (pos + kPrefetchAhead < frontier.size()) {
                source.Prefetch(frontier[pos + kPrefetchAhead], spec.direction);
            }
            PHENIX_RETURN_IF_ERROR(
                walker.ForEach(node, spec.direction, false, [&](const WalkedEdge& edge) {
                    if (visited.Insert(edge.other)) {
                        if (visited.size() > limits.max_nodes) {
                            too_many = true;
                            return false;
                        }
                        next.push_back(edge.other);
                        return emit(edge.other, depth + 1,
                                    spec.collect_ids ? edge.other_id() : std::string_view());
                    }
                    return true;
                }));
            if (too_many) {
                return TooManyNodes(limits.max_nodes);
            }
            if (result.truncated && probing) {
                break;
            }
        }
        frontier.swap(next);
    }

    // The loop may end (depth bound, no frontier) before enough() looked at the last depth.
    if (spec.max_results != 0 && result.nodes.size() > spec.max_results) {
        result.truncated = true;
    }
    if (spec.sort) {
        auto by_depth_node = [](const ReachedNode& a, const ReachedNode& b) {
            return a.depth != b.depth ? a.depth < b.depth : a.node < b.node;
        };
        if (!spec.collect_ids) {
            std::sort(result.nodes.begin(), result.nodes.end(), by_depth_node);
        } else {
            std::vector<std::uint32_t> order(result.nodes.size());
            std::iota(order.begin(), order.end(), 0U);
            std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
                return by_depth_node(result.nodes[a], result.nodes[b]);
            });
            ExpandResult sorted;
            sorted.nodes.reserve(order.size());
            sorted.id_bytes.reserve(result.id_bytes.size());
            for (const std::uint32_t idx : order) {
                sorted.nodes.push_back(result.nodes[idx]);
                sorted.id_bytes.append(result.id(idx));
                sorted.id_ends.push_back(static_cast<std::uint32_t>(sorted.id_bytes.size()));
            }
            sorted.truncated = result.truncated;
            result = std::move(sorted);
        }
    }
    result.edges_examined = walker.examined();
    return result;
}

Result<std::uint64_t> Degree(AdjacencySource& source, NodeRef node, Direction dir,
                             const EdgePredicate& edge) {
    EdgeWalker walker(source, edge, edge.needs_properties(),
                      std::numeric_limits<std::uint64_t>::max());
    return walker.Count(node, dir);
}

namespace {

// An edge of a DFS frame: packed (list + idx, the frame pins the list) or copied from the
// source's callback (label and properties owned).
struct Hop {
    NodeRef other;
    double weight = 1.0;
    bool reversed = false;
    bool has_properties = false;
    const PackedList* list = nullptr;
    std::uint32_t idx = 0;
    std::string label;       // unpacked edges only
    std::string properties;  // unpacked edges only, when asked for
    std::string other_id;    // unpacked edges only

    [[nodiscard]] std::string_view Label() const {
        return list != nullptr ? list->label(idx) : std::string_view(label);
    }
    [[nodiscard]] std::string_view OtherId() const {
        return list != nullptr ? list->other_id(idx) : std::string_view(other_id);
    }
};

struct Frame {
    std::vector<Hop> hops;               // the matching edges of the frame's node
    std::size_t next = 0;                // the next one to try
    std::array<PackedListPtr, 2> lists;  // pins the packed lists hops point into
};

double SumWeights(const std::vector<PathStep>& steps) {
    double total = 0;
    for (const PathStep& step : steps) {
        total += step.weight;
    }
    return total;
}

// The properties of edges walked from packed lists (which hold none), read with the source's
// callback once per (node, direction) for the whole traversal.
class PropertiesReader {
  public:
    explicit PropertiesReader(AdjacencySource& source) : source_(source) {}

    // The properties of the edge `from` -(label)-> `other` seen from `from` in `dir`.
    Result<std::string> Get(NodeRef from, Direction dir, NodeRef other, std::string_view label,
                            double weight) {
        NodeMap<std::size_t>& index = dir == Direction::kIn ? in_ : out_;
        std::size_t* slot = index.Find(from);
        if (slot == nullptr) {
            std::vector<Entry> entries;
            PHENIX_RETURN_IF_ERROR(source_.ForEachEdge(from, dir, true, [&](const EdgeView& edge) {
                if (edge.has_properties) {
                    entries.push_back({edge.other, std::string(edge.label), edge.weight,
                                       std::string(edge.properties)});
                }
                return true;
            }));
            lists_.push_back(std::move(entries));
            slot = index.TryEmplace(from, lists_.size() - 1).first;
        }
        for (const Entry& entry : lists_[*slot]) {
            if (entry.other == other && entry.label == label && entry.weight == weight) {
                return entry.properties;
            }
        }
        return std::string();
    }

  private:
    struct Entry {
        NodeRef other;
        std::string label;
        double weight = 0;
        std::string properties;
    };
    AdjacencySource& source_;
    NodeMap<std::size_t> out_;
    NodeMap<std::size_t> in_;
    std::vector<std::vector<Entry>> lists_;
};

}  // namespace

// Iterative DFS: one frame per node on the current path holds that node's matching edges (views
// into pinned packed lists, or copies of the source's callback views, which die with the
// callback; the source is never re-entered). The frames hold at most the edges examined, which
// max_edges bounds. Steps become PathSteps (label text, properties) only when a path is emitted.
Result<FindPathsResult> FindPaths(AdjacencySource& source, const PathSpec& spec,
                                  const TraversalLimits& limits) {
    PHENIX_RETURN_IF_ERROR(CheckHops("FindPaths", spec.min_hops, spec.max_hops, limits));
    // Packed lists carry no properties: with include_properties (and no property predicate) the
    // walk uses them and the emitted paths' edges that have properties are read once each.
    EdgeWalker walker(source, spec.edge, spec.edge.needs_properties(), limits.max_edges,
                      spec.include_properties);
    walker.KeepLists();
    PropertiesReader properties_reader(source);
    const bool closes_cycle =
        spec.end.has_value() ? *spec.end == spec.start : spec.include_cycles;

    FindPathsResult result;
    std::vector<NodeRef> path_nodes{spec.start};
    std::vector<const Hop*> path_hops;  // into the frames, which outlive them
    // Records the current path; false when max_paths is reached (the DFS stops).
    auto emit = [&]() -> Result<bool> {
        if (result.paths.size() >= limits.max_paths) {
            result.truncated = true;
            return false;
        }
        Path path;
        path.nodes = path_nodes;
        path.edges.reserve(path_hops.size());
        for (std::size_t idx = 0; idx < path_hops.size(); ++idx) {
            const Hop& hop = *path_hops[idx];
            PathStep step{.label = std::string(hop.Label()),
                          .weight = hop.weight,
                          .has_properties = hop.has_properties,
                          .reversed = hop.reversed,
                          .to_id = std::string(hop.OtherId())};
            if (spec.include_properties && hop.has_properties) {
                if (hop.list == nullptr && walker.callback_has_properties()) {
                    step.properties = hop.properties;
                } else {
                    PHENIX_ASSIGN_OR_RETURN(
                        step.properties,
                        properties_reader.Get(path_nodes[idx],
                                              hop.reversed ? Direction::kIn : Direction::kOut,
                                              path_nodes[idx + 1], hop.Label(), hop.weight));
                }
            }
            path.edges.push_back(std::move(step));
        }
        path.total_weight = SumWeights(path.edges);
        result.paths.push_back(std::move(path));
        return true;
    };
    auto finish = [&]() {
        result.edges_examined = walker.examined();
        return std::move(result);
    };

    if (spec.min_hops == 0 && (!spec.end.has_value() || closes_cycle)) {
        PHENIX_ASSIGN_OR_RETURN(bool more, emit());
        if (!more) {
            return finish();
        }
    }
    if (spec.max_hops == 0) {
        return finish();
    }

    // Frames are boxed so that path_hops' pointers survive the stack growing.
    std::vector<std::unique_ptr<Frame>> stack;
    auto push_frame = [&](NodeRef node) -> Status {
        auto frame = std::make_unique<Frame>();
        PHENIX_RETURN_IF_ERROR(
            walker.ForEach(node, spec.direction, true, [&](const WalkedEdge& edge) {
                Hop hop{.other = edge.other,
                        .weight = edge.weight,
                        .reversed = edge.reversed,
                        .has_properties = edge.has_properties(),
                        .list = edge.list,
                        .idx = edge.idx};
                if (edge.list == nullptr) {
                    hop.label = std::string(edge.label());
                    hop.other_id = std::string(edge.other_id());
                    if (spec.include_properties && walker.callback_has_properties()) {
                        hop.properties = std::string(edge.properties());
                    }
                }
                frame->hops.push_back(std::move(hop));
                return true;
            }));
        frame->lists = std::move(walker.lists());
        stack.push_back(std::move(frame));
        return Status::Ok();
    };
    NodeMap<bool> on_path;
    on_path.TryEmplace(spec.start, true);
    PHENIX_RETURN_IF_ERROR(push_frame(spec.start));

    // Invariant: path_nodes.size() == stack.size(); stack[i] lists the edges of path_nodes[i].
    while (!stack.empty()) {
        Frame& top = *stack.back();
        if (top.next == top.hops.size()) {
            stack.pop_back();
            if (!stack.empty()) {
                *on_path.Find(path_nodes.back()) = false;
                path_nodes.pop_back();
                path_hops.pop_back();
            }
            continue;
        }
        const Hop& hop = top.hops[top.next++];
        const auto hops = static_cast<std::uint32_t>(stack.size());  // once the edge is taken
        if (hop.other == spec.start) {
            // Under kBoth, start -e-> x can come back over the same edge e seen from x's other
            // side; that walks one edge twice and is not a cycle. Edges are identified by
            // (source, label, target) (unique in the engine), so it is the same edge exactly
            // when the path has one edge so far, the labels agree and the directions differ.
            const bool same_edge_back = stack.size() == 2 && !path_hops.empty() &&
                                        path_hops[0]->Label() == hop.Label() &&
                                        path_hops[0]->reversed != hop.reversed;
            if (closes_cycle && hops >= spec.min_hops && !same_edge_back) {
                path_nodes.push_back(hop.other);
                path_hops.push_back(&hop);
                PHENIX_ASSIGN_OR_RETURN(bool more, emit());
                path_nodes.pop_back();
                path_hops.pop_back();
                if (!more) {
                    return finish();
                }
            }
            continue;
        }
        const bool* on = on_path.Find(hop.other);
        if (on != nullptr && *on) {
            continue;
        }
        const bool at_end = spec.end.has_value() && *spec.end == hop.other;
        path_nodes.push_back(hop.other);
        path_hops.push_back(&hop);
        if (hops >= spec.min_hops && (!spec.end.has_value() || at_end)) {
            PHENIX_ASSIGN_OR_RETURN(bool more, emit());
            if (!more) {
                return finish();
            }
        }
        // A simple path that reached `end` cannot come back to it, so it is not extended.
        if (!at_end && hops < spec.max_hops) {
            *on_path.TryEmplace(hop.other).first = true;
            PHENIX_RETURN_IF_ERROR(push_frame(hop.other));
        } else {
            path_nodes.pop_back();
            path_hops.pop_back();
        }
    }
    return finish();
}

namespace {

constexpr std::uint32_t kNoParent = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint32_t kUnsettled = std::numeric_limits<std::uint32_t>::max();

// The edge that reaches a search state, kept to rebuild the path.
struct StepInfo {
    std::uint32_t label_id = 0;  // into the search's own label names
    std::uint32_t id_idx = 0;    // into the search's IdBuffer: the id of the node reached
    double weight = 0;
    bool reversed = false;
    bool has_properties = false;
};

// Labels of the edges a search keeps, interned per call (the previous one is checked first:
// lists are in label order).
class LabelNames {
  public:
    std::uint32_t Intern(std::string_view label) {
        if (!names_.empty() && names_.back() == label) {
            return static_cast<std::uint32_t>(names_.size() - 1);
        }
        auto it = ids_.find(label);
        if (it == ids_.end()) {
            it = ids_.emplace(std::string(label), static_cast<std::uint32_t>(names_.size())).first;
            names_.emplace_back(label);
        }
        return it->second;
    }
    [[nodiscard]] const std::string& Name(std::uint32_t id) const { return names_[id]; }

  private:
    std::vector<std::string> names_;
    std::map<std::string, std::uint32_t, std::less<>> ids_;
};

// A (node, hops) state on the Dijkstra heap, with the edge that reaches it.
struct Candidate {
    double dist = 0;
    std::uint32_t hops = 0;
    std::uint64_t seq = 0;  // push order: the last tie-breaker
    NodeRef node;
    std::uint32_t parent = kNoParent;  // index into the settled states
    StepInfo step;
};

// Heap order of both Dijkstras: least dist first, then fewest hops, then push order. Any type
// with `dist`, `hops` and `seq`.
struct LaterByDistHopsSeq {
    template <typename T>
    bool operator()(const T& a, const T& b) const {
        if (a.dist != b.dist) {
            return a.dist > b.dist;
        }
        if (a.hops != b.hops) {
            return a.hops > b.hops;
        }
        return a.seq > b.seq;
    }
};

struct NodeState {
    double best_dist = 0;                     // least dist among the node's pushed candidates
    std::uint32_t best_dist_hops = 0;         // the hops of that candidate
    std::uint32_t settled_hops = kUnsettled;  // fewest hops among the node's settled states
};

std::string EdgeName(NodeRef node, const WalkedEdge& edge) {
    const NodeRef from = edge.reversed ? edge.other : node;
    const NodeRef to = edge.reversed ? node : edge.other;
    return "(" + NodeName(from) + ")-[" + std::string(edge.label()) + "]->(" + NodeName(to) + ")";
}

Status BadWeight(NodeRef node, const WalkedEdge& edge) {
    return Status::InvalidArgument("ShortestPath: edge " + EdgeName(node, edge) + " has weight " +
                                   std::to_string(edge.weight) +
                                   "; weighted shortest paths need finite weights >= 0");
}

// Fills PathStep::properties of a path's steps that have properties, re-reading their edges
// (searches keep no properties). The source is a consistent view, so the edge is still there.
Status FillProperties(AdjacencySource& source, const EdgePredicate& predicate, Path& path) {
    for (std::size_t idx = 0; idx < path.edges.size(); ++idx) {
        PathStep& step = path.edges[idx];
        if (!step.has_properties) {
            continue;
        }
        const NodeRef next = path.nodes[idx + 1];
        PHENIX_RETURN_IF_ERROR(
            source.ForEachEdge(path.nodes[idx], step.reversed ? Direction::kIn : Direction::kOut,
                               true, [&](const EdgeView& edge) {
                                   if (edge.other == next && edge.label == step.label &&
                                       edge.weight == step.weight && predicate.Matches(edge)) {
                                       step.properties = std::string(edge.properties);
                                       return false;
                                   }
                                   return true;
                               }));
    }
    return Status::Ok();
}

// The path from a chain of (node, step) pairs, first to last.
Path BuildPath(const std::vector<std::pair<NodeRef, const StepInfo*>>& chain,
               const LabelNames& labels, const IdBuffer& ids) {
    Path path;
    path.nodes.push_back(chain.front().first);
    for (std::size_t idx = 1; idx < chain.size(); ++idx) {
        const StepInfo& step = *chain[idx].second;
        path.nodes.push_back(chain[idx].first);
        path.edges.push_back(PathStep{.label = labels.Name(step.label_id),
                                      .weight = step.weight,
                                      .has_properties = step.has_properties,
                                      .reversed = step.reversed,
                                      .to_id = std::string(ids.Get(step.id_idx))});
    }
    path.total_weight = SumWeights(path.edges);
    return path;
}

// Why a fast search gave up (the exact hop-bounded search decides instead).
enum class FastOutcome { kFound, kUnreachable, kFallBack };

// Dijkstra over nodes (each settles once) ordered by (dist, hops, push order), with no hop
// bound. When `to` settles within max_hops the path is the one the (node, hops) search returns
// (its first settle of every node is the same state, reached through the same parent, and the
// hop bound never cut that chain); otherwise, or on any bad weight or limit, the caller runs
// the exact search.
Result<FastOutcome> NodeDijkstra(AdjacencySource& source, const ShortestPathSpec& spec,
                                 std::uint32_t max_hops, const TraversalLimits& limits,
                                 Path* found) {
    EdgeWalker walker(source, spec.edge, spec.edge.needs_properties(), limits.max_edges);
    struct State {
        double dist = 0;
        std::uint32_t hops = 0;
        std::uint32_t parent = kNoParent;  // index into states
        bool settled = false;
        NodeRef node;
        StepInfo step;
    };
    struct Item {
        double dist;
        std::uint32_t hops;
        std::uint64_t seq;
        std::uint32_t state;
    };
    LabelNames labels;
    IdBuffer ids;
    std::vector<State> states;
    NodeMap<std::uint32_t> index;
    std::priority_queue<Item, std::vector<Item>, LaterByDistHopsSeq> heap;
    std::uint64_t seq = 0;
    states.push_back(State{.node = spec.from});
    index.TryEmplace(spec.from, 0);
    heap.push(Item{0, 0, seq++, 0});
    bool fall_back = false;
    while (!heap.empty()) {
        const Item item = heap.top();
        heap.pop();
        State& current = states[item.state];
        if (current.settled || item.dist != current.dist || item.hops != current.hops) {
            continue;  // stale
        }
        current.settled = true;
        if (current.node == spec.to) {
            if (current.hops > max_hops) {
                return FastOutcome::kFallBack;
            }
            std::vector<std::pair<NodeRef, const StepInfo*>> chain;
            for (std::uint32_t idx = item.state; idx != kNoParent; idx = states[idx].parent) {
                chain.emplace_back(states[idx].node, &states[idx].step);
            }
            std::reverse(chain.begin(), chain.end());
            *found = BuildPath(chain, labels, ids);
            return FastOutcome::kFound;
        }
        const NodeRef node = current.node;
        const double dist = current.dist;
        const std::uint32_t hops = current.hops;
        const std::uint32_t current_idx = item.state;
        const Status walked =
            walker.ForEach(node, spec.direction, true, [&](const WalkedEdge& edge) {
                if (!std::isfinite(edge.weight) || edge.weight < 0) {
                    fall_back = true;  // the exact search reports it (or never meets it)
                    return false;
                }
                const double next_dist = dist + edge.weight;
                const std::uint32_t next_hops = hops + 1;
                auto [slot, inserted] =
                    index.TryEmplace(edge.other, static_cast<std::uint32_t>(states.size()));
                if (inserted) {
                    if (states.size() >= limits.max_nodes) {
                        fall_back = true;
                        return false;
                    }
                    states.push_back(
                        State{.dist = next_dist, .hops = next_hops, .node = edge.other});
                } else {
                    State& other = states[*slot];
                    if (other.settled || next_dist > other.dist ||
                        (next_dist == other.dist && next_hops >= other.hops)) {
                        return true;
                    }
                    other.dist = next_dist;
                    other.hops = next_hops;
                }
                State& target = states[*slot];
                target.parent = current_idx;
                ids.Add(edge.other_id());
                target.step = StepInfo{.label_id = labels.Intern(edge.label()),
                                       .id_idx = ids.size() - 1,
                                       .weight = edge.weight,
                                       .reversed = edge.reversed,
                                       .has_properties = edge.has_properties()};
                heap.push(Item{next_dist, next_hops, seq++, *slot});
                return true;
            });
        if (!walked.ok() || fall_back) {
            return FastOutcome::kFallBack;  // limits and bad weights: as the exact search says
        }
    }
    return FastOutcome::kUnreachable;  // not reachable at all, so not within max_hops either
}

// Fewest hops, bidirectional: breadth-first from both ends, one whole depth at a time on the
// side with the smaller frontier, until the balls meet; then the first path in edge order.
Result<std::optional<Path>> BidirectionalShortestPath(AdjacencySource& source,
                                                      const ShortestPathSpec& spec,
                                                      std::uint32_t max_hops,
                                                      const TraversalLimits& limits) {
    EdgeWalker walker(source, spec.edge, spec.edge.needs_properties(), limits.max_edges);
    const Direction backward = Reverse(spec.direction);
    NodeMap<std::uint32_t> forward_depth;   // dist(from, v) for the forward ball
    NodeMap<std::uint32_t> backward_depth;  // dist(v, to) for the backward ball
    forward_depth.TryEmplace(spec.from, 0);
    backward_depth.TryEmplace(spec.to, 0);
    std::vector<NodeRef> forward_frontier{spec.from};
    std::vector<NodeRef> backward_frontier{spec.to};
    std::uint32_t forward_radius = 0;
    std::uint32_t backward_radius = 0;
    std::uint32_t best = kNoParent;
    std::vector<NodeRef> next;
    while (best == kNoParent && forward_radius + backward_radius < max_hops &&
           !forward_frontier.empty() && !backward_frontier.empty()) {
        const bool go_forward = forward_frontier.size() <= backward_frontier.size();
        NodeMap<std::uint32_t>& depth = go_forward ? forward_depth : backward_depth;
        const NodeMap<std::uint32_t>& other_depth = go_forward ? backward_depth : forward_depth;
        std::vector<NodeRef>& frontier = go_forward ? forward_frontier : backward_frontier;
        std::uint32_t& radius = go_forward ? forward_radius : backward_radius;
        next.clear();
        bool too_many = false;
        for (const NodeRef& node : frontier) {
            PHENIX_RETURN_IF_ERROR(walker.ForEach(
                node, go_forward ? spec.direction : backward, true, [&](const WalkedEdge& edge) {
                    if (!depth.TryEmplace(edge.other, radius + 1).second) {
                        return true;
                    }
                    if (forward_depth.size() + backward_depth.size() > limits.max_nodes) {
                        too_many = true;
                        return false;
                    }
                    next.push_back(edge.other);
                    if (const std::uint32_t* met = other_depth.Find(edge.other)) {
                        best = std::min(best, radius + 1 + *met);
                    }
                    return true;
                }));
            if (too_many) {
                return TooManyNodes(limits.max_nodes);
            }
        }
        ++radius;
        frontier.swap(next);
    }
    if (best == kNoParent || best > max_hops) {
        return std::optional<Path>();
    }

    // The first path in edge order: from each node, the first edge to a node that still reaches
    // `to` in the hops left. dist(v, to) is known in the backward ball; nearer the start it is
    // found by a DFS over the forward ball (a node at forward depth j can only lie on a shortest
    // path at position j), memoised per node.
    const std::uint32_t d = best;
    NodeMap<std::int8_t> memo;  // node -> 1 reaches `to` in d - depth hops, 0 does not
    // Whether `node`, at position `pos` of a shortest path, reaches `to` in d - pos hops.
    std::function<Result<bool>(NodeRef, std::uint32_t)> reaches =
        [&](NodeRef node, std::uint32_t pos) -> Result<bool> {
        const std::uint32_t left = d - pos;
        if (left <= backward_radius) {
            const std::uint32_t* back = backward_depth.Find(node);
            return back != nullptr && *back == left;
        }
        const std::uint32_t* fwd = forward_depth.Find(node);
        if (fwd == nullptr || *fwd != pos) {
            return false;
        }
        if (const std::int8_t* known = memo.Find(node)) {
            return *known == 1;
        }
        std::vector<NodeRef> successors;
        PHENIX_RETURN_IF_ERROR(
            walker.ForEach(node, spec.direction, true, [&](const WalkedEdge& edge) {
                successors.push_back(edge.other);
                return true;
            }));
        bool ok = false;
        for (const NodeRef& successor : successors) {
            PHENIX_ASSIGN_OR_RETURN(ok, reaches(successor, pos + 1));
            if (ok) {
                break;
            }
        }
        memo.TryEmplace(node, ok ? 1 : 0);
        return ok;
    };
    LabelNames labels;
    IdBuffer ids;
    std::vector<StepInfo> steps(d + 1);
    std::vector<std::pair<NodeRef, const StepInfo*>> chain{{spec.from, nullptr}};
    NodeRef node = spec.from;
    std::vector<std::pair<NodeRef, StepInfo>> edges;
    for (std::uint32_t pos = 0; pos < d; ++pos) {
        // The node's edges first (the walker is not re-entrant), then the first that leads on.
        edges.clear();
        PHENIX_RETURN_IF_ERROR(
            walker.ForEach(node, spec.direction, true, [&](const WalkedEdge& edge) {
                ids.Add(edge.other_id());
                edges.emplace_back(edge.other, StepInfo{.label_id = labels.Intern(edge.label()),
                                                        .id_idx = ids.size() - 1,
                                                        .weight = edge.weight,
                                                        .reversed = edge.reversed,
                                                        .has_properties = edge.has_properties()});
                return true;
            }));
        std::optional<NodeRef> chosen;
        for (const auto& [other, step] : edges) {
            PHENIX_ASSIGN_OR_RETURN(bool ok, reaches(other, pos + 1));
            if (ok) {
                chosen = other;
                steps[pos + 1] = step;
                break;
            }
        }
        if (!chosen.has_value()) {
            return Status::Internal("ShortestPath: the bidirectional search met at distance " +
                                    std::to_string(d) + " but no path was rebuilt");
        }
        node = *chosen;
        chain.emplace_back(node, &steps[pos + 1]);
    }
    return std::optional<Path>(BuildPath(chain, labels, ids));
}

}  // namespace

namespace internal {

// Dijkstra over (node, hops) states, so that the hop bound is exact: a heavier path with fewer
// hops may be the only one within max_hops. States pop in (dist, hops, push order); a popped
// state (v, h) is dominated, and skipped, when v already settled with <= h hops (at a dist no
// larger, since pops are in dist order). So each node settles at most max_hops + 1 times, and
// the first settled state of `to` is the answer. A push is skipped when an earlier push for the
// same node had both no larger dist and no more hops.
Result<std::optional<Path>> HopBoundedShortestPath(AdjacencySource& source,
                                                   const ShortestPathSpec& spec,
                                                   const TraversalLimits& limits) {
    const std::uint32_t max_hops = spec.max_hops == 0 ? limits.max_depth : spec.max_hops;
    PHENIX_RETURN_IF_ERROR(CheckHops("ShortestPath", 0, max_hops, limits));
    if (spec.from == spec.to) {
        Path path;
        path.nodes.push_back(spec.from);
        return std::optional<Path>(std::move(path));
    }
    EdgeWalker walker(source, spec.edge, spec.edge.needs_properties(), limits.max_edges);
    LabelNames labels;
    IdBuffer ids;
    std::vector<Candidate> settled;
    NodeMap<NodeState> nodes;
    std::priority_queue<Candidate, std::vector<Candidate>, LaterByDistHopsSeq> heap;
    std::uint64_t seq = 0;
    nodes.TryEmplace(spec.from, NodeState{});
    heap.push(Candidate{.seq = seq++, .node = spec.from});

    while (!heap.empty()) {
        const Candidate current = heap.top();
        heap.pop();
        NodeState& state = *nodes.Find(current.node);
        if (state.settled_hops <= current.hops) {
            continue;
        }
        state.settled_hops = current.hops;
        if (settled.size() >= kNoParent) {
            return TooManyNodes(limits.max_nodes);
        }
        const auto current_idx = static_cast<std::uint32_t>(settled.size());
        settled.push_back(current);
        if (current.node == spec.to) {
            break;
        }
        if (current.hops == max_hops) {
            continue;
        }
        Status edge_error;
        PHENIX_RETURN_IF_ERROR(
            walker.ForEach(current.node, spec.direction, true, [&](const WalkedEdge& edge) {
                if (!std::isfinite(edge.weight) || edge.weight < 0) {
                    edge_error = BadWeight(current.node, edge);
                    return false;
                }
                const double dist = current.dist + edge.weight;
                const std::uint32_t hops = current.hops + 1;
                auto [other, inserted] = nodes.TryEmplace(
                    edge.other, NodeState{.best_dist = dist, .best_dist_hops = hops});
                if (!inserted) {
                    if (other->settled_hops <= hops ||
                        (other->best_dist <= dist && other->best_dist_hops <= hops)) {
                        return true;
                    }
                    if (dist < other->best_dist ||
                        (dist == other->best_dist && hops < other->best_dist_hops)) {
                        other->best_dist = dist;
                        other->best_dist_hops = hops;
                    }
                } else if (nodes.size() > limits.max_nodes) {
                    edge_error = TooManyNodes(limits.max_nodes);
                    return false;
                }
                ids.Add(edge.other_id());
                heap.push(Candidate{.dist = dist,
                                    .hops = hops,
                                    .seq = seq++,
                                    .node = edge.other,
                                    .parent = current_idx,
                                    .step = StepInfo{.label_id = labels.Intern(edge.label()),
                                                     .id_idx = ids.size() - 1,
                                                     .weight = edge.weight,
                                                     .reversed = edge.reversed,
                                                     .has_properties = edge.has_properties()}});
                return true;
            }));
        PHENIX_RETURN_IF_ERROR(edge_error);
    }
    if (settled.empty() || settled.back().node != spec.to) {
        return std::optional<Path>();
    }
    std::vector<std::pair<NodeRef, const StepInfo*>> chain;
    for (std::uint32_t idx = static_cast<std::uint32_t>(settled.size() - 1); idx != kNoParent;
         idx = settled[idx].parent) {
        chain.emplace_back(settled[idx].node, &settled[idx].step);
    }
    std::reverse(chain.begin(), chain.end());
    Path path = BuildPath(chain, labels, ids);
    if (spec.include_properties) {
        PHENIX_RETURN_IF_ERROR(FillProperties(source, spec.edge, path));
    }
    return std::optional<Path>(std::move(path));
}

}  // namespace internal

Result<std::optional<Path>> ShortestPath(AdjacencySource& source, const ShortestPathSpec& spec,
                                         const TraversalLimits& limits) {
    const std::uint32_t max_hops = spec.max_hops == 0 ? limits.max_depth : spec.max_hops;
    PHENIX_RETURN_IF_ERROR(CheckHops("ShortestPath", 0, max_hops, limits));
    if (spec.from == spec.to) {
        Path path;
        path.nodes.push_back(spec.from);
        return std::optional<Path>(std::move(path));
    }
    std::optional<Path> found;
    if (spec.unweighted) {
        PHENIX_ASSIGN_OR_RETURN(found, BidirectionalShortestPath(source, spec, max_hops, limits));
    } else {
        Path path;
        PHENIX_ASSIGN_OR_RETURN(FastOutcome outcome,
                                NodeDijkstra(source, spec, max_hops, limits, &path));
        if (outcome == FastOutcome::kFallBack) {
            return internal::HopBoundedShortestPath(source, spec, limits);
        }
        if (outcome == FastOutcome::kFound) {
            found = std::move(path);
        }
    }
    if (found.has_value() && spec.include_properties) {
        PHENIX_RETURN_IF_ERROR(FillProperties(source, spec.edge, *found));
    }
    return found;
}

// ---- the neighbourhood probe and estimate ----

Result<NeighbourhoodProbe> NeighbourhoodProbe::Build(AdjacencySource& source,
                                                     const ExpandSpec& spec,
                                                     const TraversalLimits& limits) {
    PHENIX_RETURN_IF_ERROR(CheckHops("NeighbourhoodProbe", spec.min_hops, spec.max_hops, limits));
    if (spec.min_hops > 1 || spec.max_hops == 0) {
        return Status::InvalidArgument(
            "NeighbourhoodProbe: needs min_hops <= 1 and max_hops >= 1, not " +
            std::to_string(spec.min_hops) + ".." + std::to_string(spec.max_hops));
    }
    NeighbourhoodProbe probe;
    // The ball: every node within max_hops - 1 hops of a start, starts included.
    ExpandSpec ball_spec{.starts = spec.starts,
                         .min_hops = 0,
                         .max_hops = spec.max_hops - 1,
                         .direction = spec.direction,
                         .edge = spec.edge,
                         .include_starts = true,
                         .sort = false};
    PHENIX_ASSIGN_OR_RETURN(ExpandResult ball, Expand(source, ball_spec, limits));
    for (const ReachedNode& reached : ball.nodes) {
        probe.ball_.Insert(reached.node);
    }
    for (const NodeRef& start : spec.starts) {
        probe.starts_.Insert(start);
    }
    probe.spec_ = spec;
    probe.spec_.starts.clear();
    probe.spec_.emit_collection.reset();
    probe.max_edges_ = limits.max_edges;
    probe.edges_examined_ = ball.edges_examined;
    return probe;
}

Result<bool> NeighbourhoodProbe::Contains(AdjacencySource& source, NodeRef node) {
    ++checks_;
    const bool is_start = starts_.Contains(node);
    if (is_start && !spec_.include_starts) {
        return false;
    }
    if (is_start && spec_.min_hops == 0) {
        return true;
    }
    if (!is_start && ball_.Contains(node)) {
        return true;  // 1 <= dist <= max_hops - 1
    }
    // One hop more: an edge x -> node (walked in the spec's direction) from a ball node x. For a
    // start this is a walk of 1..max_hops hops that returns to it.
    EdgeWalker walker(source, spec_.edge, spec_.edge.needs_properties(),
                      max_edges_ - std::min(max_edges_, edges_examined_));
    bool found = false;
    const Status walked =
        walker.ForEach(node, Reverse(spec_.direction), false, [&](const WalkedEdge& edge) {
            found = ball_.Contains(edge.other);
            return !found;
        });
    edges_examined_ += walker.examined();
    if (!walked.ok()) {
        if (walked.code() == StatusCode::kResourceExhausted) {
            return TooManyEdges(max_edges_);
        }
        return walked;
    }
    return found;
}

Result<NeighbourhoodEstimate> EstimateNeighbourhood(AdjacencySource& source, const ExpandSpec& spec,
                                                    std::size_t max_samples) {
    const std::uint64_t no_limit = std::numeric_limits<std::uint64_t>::max();
    EdgeWalker walker(source, spec.edge, spec.edge.needs_properties(), no_limit);
    NeighbourhoodEstimate estimate;
    std::vector<NodeRef> neighbours;
    for (const NodeRef& start : spec.starts) {
        PHENIX_RETURN_IF_ERROR(
            walker.ForEach(start, spec.direction, false, [&](const WalkedEdge& edge) {
                neighbours.push_back(edge.other);
                return true;
            }));
    }
    estimate.start_degree = neighbours.size();
    if (!neighbours.empty() && max_samples > 0) {
        const std::size_t samples = std::min(max_samples, neighbours.size());
        std::uint64_t total = 0;
        for (std::size_t idx = 0; idx < samples; ++idx) {
            const NodeRef sample = neighbours[idx * neighbours.size() / samples];
            PHENIX_ASSIGN_OR_RETURN(std::uint64_t degree, walker.Count(sample, spec.direction));
            total += degree;
        }
        estimate.sampled = samples;
        estimate.sampled_degree = static_cast<double>(total) / static_cast<double>(samples);
    }
    double level = static_cast<double>(estimate.start_degree);  // hop 1
    double nodes = spec.min_hops == 0 ? static_cast<double>(spec.starts.size()) : 0.0;
    for (std::uint32_t hop = 1; hop <= spec.max_hops; ++hop) {
        if (hop >= spec.min_hops) {
            nodes += level;
        }
        level *= estimate.sampled_degree;
    }
    estimate.nodes = nodes;
    return estimate;
}

}  // namespace phenix::graph
