// SPDX-License-Identifier: Apache-2.0
#include "graph/traversal.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <queue>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace phenix::graph {
namespace {

using NodeSet = std::unordered_set<NodeRef, NodeRefHash>;

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

// Lists the matching edges of nodes for one traversal, counting every edge the source delivers
// against limits.max_edges (non-matching edges cost the same I/O as matching ones).
class EdgeWalker {
  public:
    EdgeWalker(AdjacencySource& source, const EdgePredicate& predicate, bool need_properties,
               std::uint64_t max_edges)
        : source_(source),
          predicate_(predicate),
          need_properties_(need_properties),
          max_edges_(max_edges) {}

    // Calls fn(edge) for each matching edge of `node` in `dir` (out-edges, then in-edges, for
    // kBoth) until fn returns false. skip_reversed_self_loops: under kBoth, a self-loop is
    // delivered once, as an out-edge. ResourceExhausted past max_edges.
    template <typename Fn>
    Status ForEach(NodeRef node, Direction dir, bool skip_reversed_self_loops, Fn&& fn) {
        constexpr Direction kDirs[2] = {Direction::kOut, Direction::kIn};
        const std::size_t first = dir == Direction::kIn ? 1 : 0;
        const std::size_t last = dir == Direction::kOut ? 1 : 2;
        for (std::size_t dir_idx = first; dir_idx < last; ++dir_idx) {
            const bool skip_self_loops =
                skip_reversed_self_loops && dir == Direction::kBoth && dir_idx == 1;
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
                if (!fn(edge)) {
                    stopped = true;
                    return false;
                }
                return true;
            };
            PHENIX_RETURN_IF_ERROR(
                source_.ForEachEdge(node, kDirs[dir_idx], need_properties_, visit));
            if (exhausted) {
                return TooManyEdges(max_edges_);
            }
            if (stopped) {
                break;
            }
        }
        return Status::Ok();
    }

    [[nodiscard]] std::uint64_t examined() const { return std::min(examined_, max_edges_); }

  private:
    AdjacencySource& source_;
    const EdgePredicate& predicate_;
    const bool need_properties_;
    const std::uint64_t max_edges_;
    std::uint64_t examined_ = 0;
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
Result<ExpandResult> Expand(AdjacencySource& source, const ExpandSpec& spec,
                            const TraversalLimits& limits) {
    PHENIX_RETURN_IF_ERROR(CheckHops("Expand", spec.min_hops, spec.max_hops, limits));
    EdgeWalker walker(source, spec.edge, spec.edge.needs_properties(), limits.max_edges);

    NodeSet starts;
    std::vector<NodeRef> level;
    for (const NodeRef& start : spec.starts) {
        if (starts.insert(start).second) {
            level.push_back(start);
        }
    }
    if (starts.size() > limits.max_nodes) {
        return TooManyNodes(limits.max_nodes);
    }

    // Phase 1: exact levels L_1..L_min.
    for (std::uint32_t hop = 1; hop <= spec.min_hops && !level.empty(); ++hop) {
        std::vector<NodeRef> next;
        NodeSet seen;
        bool too_many = false;
        for (const NodeRef& node : level) {
            PHENIX_RETURN_IF_ERROR(
                walker.ForEach(node, spec.direction, false, [&](const EdgeView& edge) {
                    if (seen.insert(edge.other).second) {
                        if (seen.size() > limits.max_nodes) {
                            too_many = true;
                            return false;
                        }
                        next.push_back(edge.other);
                    }
                    return true;
                }));
            if (too_many) {
                return TooManyNodes(limits.max_nodes);
            }
        }
        level = std::move(next);
    }

    // Phase 2: BFS from L_min.
    ExpandResult result;
    auto emit = [&](NodeRef node, std::uint32_t depth) {
        if (spec.include_starts || !starts.contains(node)) {
            result.nodes.push_back({node, depth});
        }
    };
    NodeSet visited(level.begin(), level.end());
    for (const NodeRef& node : level) {
        emit(node, spec.min_hops);
    }
    std::vector<NodeRef> frontier = std::move(level);
    for (std::uint32_t depth = spec.min_hops; depth < spec.max_hops && !frontier.empty(); ++depth) {
        std::vector<NodeRef> next;
        bool too_many = false;
        for (const NodeRef& node : frontier) {
            PHENIX_RETURN_IF_ERROR(
                walker.ForEach(node, spec.direction, false, [&](const EdgeView& edge) {
                    if (visited.insert(edge.other).second) {
                        if (visited.size() > limits.max_nodes) {
                            too_many = true;
                            return false;
                        }
                        next.push_back(edge.other);
                        emit(edge.other, depth + 1);
                    }
                    return true;
                }));
            if (too_many) {
                return TooManyNodes(limits.max_nodes);
            }
        }
        frontier = std::move(next);
    }

    std::sort(result.nodes.begin(), result.nodes.end(),
              [](const ReachedNode& a, const ReachedNode& b) {
                  return a.depth != b.depth ? a.depth < b.depth : a.node < b.node;
              });
    result.edges_examined = walker.examined();
    return result;
}

Result<std::uint64_t> Degree(AdjacencySource& source, NodeRef node, Direction dir,
                             const EdgePredicate& edge) {
    EdgeWalker walker(source, edge, edge.needs_properties(),
                      std::numeric_limits<std::uint64_t>::max());
    std::uint64_t degree = 0;
    PHENIX_RETURN_IF_ERROR(walker.ForEach(node, dir, false, [&](const EdgeView&) {
        ++degree;
        return true;
    }));
    return degree;
}

namespace {

// An edge copied out of the source's callback, for a DFS frame.
struct Hop {
    NodeRef other;
    PathStep step;
};

struct Frame {
    std::vector<Hop> hops;  // the matching edges of the frame's node
    std::size_t next = 0;   // the next one to try
};

double SumWeights(const std::vector<PathStep>& steps) {
    double total = 0;
    for (const PathStep& step : steps) {
        total += step.weight;
    }
    return total;
}

}  // namespace

// Iterative DFS: one frame per node on the current path holds that node's matching edges,
// copied (the source's views die with its callback, and the source is never re-entered). The
// frames hold at most the edges examined, which max_edges bounds.
Result<FindPathsResult> FindPaths(AdjacencySource& source, const PathSpec& spec,
                                  const TraversalLimits& limits) {
    PHENIX_RETURN_IF_ERROR(CheckHops("FindPaths", spec.min_hops, spec.max_hops, limits));
    const bool need_properties = spec.include_properties || spec.edge.needs_properties();
    EdgeWalker walker(source, spec.edge, need_properties, limits.max_edges);
    const bool closes_cycle = spec.end.has_value() && *spec.end == spec.start;

    FindPathsResult result;
    Path path;
    path.nodes.push_back(spec.start);
    // Records the current path; false when max_paths is reached (the DFS stops).
    auto emit = [&]() {
        if (result.paths.size() >= limits.max_paths) {
            result.truncated = true;
            return false;
        }
        path.total_weight = SumWeights(path.edges);
        result.paths.push_back(path);
        return true;
    };
    auto finish = [&]() {
        result.edges_examined = walker.examined();
        return std::move(result);
    };

    if (spec.min_hops == 0 && (!spec.end.has_value() || closes_cycle) && !emit()) {
        return finish();
    }
    if (spec.max_hops == 0) {
        return finish();
    }

    std::vector<Frame> stack;
    auto push_frame = [&](NodeRef node) -> Status {
        Frame frame;
        PHENIX_RETURN_IF_ERROR(walker.ForEach(node, spec.direction, true, [&](const EdgeView& e) {
            Hop hop{.other = e.other,
                    .step = {.label = std::string(e.label),
                             .weight = e.weight,
                             .properties = spec.include_properties ? std::string(e.properties)
                                                                   : std::string(),
                             .has_properties = e.has_properties,
                             .reversed = e.reversed}};
            frame.hops.push_back(std::move(hop));
            return true;
        }));
        stack.push_back(std::move(frame));
        return Status::Ok();
    };
    NodeSet on_path{spec.start};
    PHENIX_RETURN_IF_ERROR(push_frame(spec.start));

    // Invariant: path.nodes.size() == stack.size(); stack[i] lists the edges of path.nodes[i].
    while (!stack.empty()) {
        Frame& top = stack.back();
        if (top.next == top.hops.size()) {
            stack.pop_back();
            if (!stack.empty()) {
                on_path.erase(path.nodes.back());
                path.nodes.pop_back();
                path.edges.pop_back();
            }
            continue;
        }
        Hop hop = std::move(top.hops[top.next++]);
        // `top` may dangle from here on (push_frame grows the stack).
        const auto hops = static_cast<std::uint32_t>(stack.size());  // once the edge is taken
        if (hop.other == spec.start) {
            // Under kBoth, start -e-> x can come back over the same edge e seen from x's other
            // side; that walks one edge twice and is not a cycle. Edges are identified by
            // (source, label, target) (unique in the engine), so it is the same edge exactly
            // when the path has one edge so far, the labels agree and the directions differ.
            const bool same_edge_back = stack.size() == 2 && !path.edges.empty() &&
                                        path.edges[0].label == hop.step.label &&
                                        path.edges[0].reversed != hop.step.reversed;
            if (closes_cycle && hops >= spec.min_hops && !same_edge_back) {
                path.nodes.push_back(hop.other);
                path.edges.push_back(std::move(hop.step));
                const bool more = emit();
                path.nodes.pop_back();
                path.edges.pop_back();
                if (!more) {
                    return finish();
                }
            }
            continue;
        }
        if (on_path.contains(hop.other)) {
            continue;
        }
        const bool at_end = spec.end.has_value() && *spec.end == hop.other;
        path.nodes.push_back(hop.other);
        path.edges.push_back(std::move(hop.step));
        if (hops >= spec.min_hops && (!spec.end.has_value() || at_end) && !emit()) {
            return finish();
        }
        // A simple path that reached `end` cannot come back to it, so it is not extended.
        if (!at_end && hops < spec.max_hops) {
            on_path.insert(hop.other);
            PHENIX_RETURN_IF_ERROR(push_frame(hop.other));
        } else {
            path.nodes.pop_back();
            path.edges.pop_back();
        }
    }
    return finish();
}

namespace {

constexpr std::uint32_t kNoParent = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint32_t kUnsettled = std::numeric_limits<std::uint32_t>::max();

// A (node, hops) state on the Dijkstra heap, with the edge that reaches it.
struct Candidate {
    double dist = 0;
    std::uint32_t hops = 0;
    std::uint64_t seq = 0;  // push order: the last tie-breaker
    NodeRef node;
    std::uint32_t parent = kNoParent;  // index into the settled states
    std::uint32_t label_id = 0;
    double weight = 0;
    bool reversed = false;
    bool has_properties = false;
};

struct LaterCandidate {
    bool operator()(const Candidate& a, const Candidate& b) const {
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

std::string EdgeName(NodeRef node, const EdgeView& edge) {
    const NodeRef from = edge.reversed ? edge.other : node;
    const NodeRef to = edge.reversed ? node : edge.other;
    return "(" + NodeName(from) + ")-[" + std::string(edge.label) + "]->(" + NodeName(to) + ")";
}

}  // namespace

// Dijkstra over (node, hops) states, so that the hop bound is exact: a heavier path with fewer
// hops may be the only one within max_hops. States pop in (dist, hops, push order); a popped
// state (v, h) is dominated, and skipped, when v already settled with <= h hops (at a dist no
// larger, since pops are in dist order). So each node settles at most max_hops + 1 times, and
// the first settled state of `to` is the answer. A push is skipped when an earlier push for the
// same node had both no larger dist and no more hops.
Result<std::optional<Path>> ShortestPath(AdjacencySource& source, const ShortestPathSpec& spec,
                                         const TraversalLimits& limits) {
    const std::uint32_t max_hops = spec.max_hops == 0 ? limits.max_depth : spec.max_hops;
    PHENIX_RETURN_IF_ERROR(CheckHops("ShortestPath", 0, max_hops, limits));
    if (spec.from == spec.to) {
        Path path;
        path.nodes.push_back(spec.from);
        return std::optional<Path>(std::move(path));
    }
    EdgeWalker walker(source, spec.edge, spec.edge.needs_properties(), limits.max_edges);

    std::vector<std::string> label_names;
    std::map<std::string, std::uint32_t, std::less<>> label_ids;
    auto intern = [&](std::string_view label) {
        if (!label_names.empty() && label_names.back() == label) {
            return static_cast<std::uint32_t>(label_names.size() - 1);
        }
        auto it = label_ids.find(label);
        if (it == label_ids.end()) {
            it = label_ids
                     .emplace(std::string(label), static_cast<std::uint32_t>(label_names.size()))
                     .first;
            label_names.emplace_back(label);
        }
        return it->second;
    };

    std::vector<Candidate> settled;
    std::unordered_map<NodeRef, NodeState, NodeRefHash> nodes;
    std::priority_queue<Candidate, std::vector<Candidate>, LaterCandidate> heap;
    std::uint64_t seq = 0;
    nodes[spec.from] = NodeState{};
    heap.push(Candidate{.seq = seq++, .node = spec.from});

    while (!heap.empty()) {
        const Candidate current = heap.top();
        heap.pop();
        NodeState& state = nodes[current.node];
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
            walker.ForEach(current.node, spec.direction, true, [&](const EdgeView& edge) {
                if (!std::isfinite(edge.weight) || edge.weight < 0) {
                    edge_error = Status::InvalidArgument(
                        "ShortestPath: edge " + EdgeName(current.node, edge) + " has weight " +
                        std::to_string(edge.weight) +
                        "; weighted shortest paths need finite weights >= 0");
                    return false;
                }
                const double dist = current.dist + edge.weight;
                const std::uint32_t hops = current.hops + 1;
                auto [it, inserted] = nodes.try_emplace(
                    edge.other, NodeState{.best_dist = dist, .best_dist_hops = hops});
                if (!inserted) {
                    NodeState& other = it->second;
                    if (other.settled_hops <= hops ||
                        (other.best_dist <= dist && other.best_dist_hops <= hops)) {
                        return true;
                    }
                    if (dist < other.best_dist ||
                        (dist == other.best_dist && hops < other.best_dist_hops)) {
                        other.best_dist = dist;
                        other.best_dist_hops = hops;
                    }
                } else if (nodes.size() > limits.max_nodes) {
                    edge_error = TooManyNodes(limits.max_nodes);
                    return false;
                }
                heap.push(Candidate{.dist = dist,
                                    .hops = hops,
                                    .seq = seq++,
                                    .node = edge.other,
                                    .parent = current_idx,
                                    .label_id = intern(edge.label),
                                    .weight = edge.weight,
                                    .reversed = edge.reversed,
                                    .has_properties = edge.has_properties});
                return true;
            }));
        PHENIX_RETURN_IF_ERROR(edge_error);
    }
    if (settled.empty() || settled.back().node != spec.to) {
        return std::optional<Path>();
    }

    // Walk the parents back from `to`.
    std::vector<const Candidate*> chain;
    for (std::uint32_t idx = static_cast<std::uint32_t>(settled.size() - 1); idx != kNoParent;
         idx = settled[idx].parent) {
        chain.push_back(&settled[idx]);
    }
    std::reverse(chain.begin(), chain.end());
    Path path;
    path.nodes.push_back(chain.front()->node);
    for (std::size_t idx = 1; idx < chain.size(); ++idx) {
        const Candidate& step = *chain[idx];
        path.nodes.push_back(step.node);
        path.edges.push_back(PathStep{.label = label_names[step.label_id],
                                      .weight = step.weight,
                                      .has_properties = step.has_properties,
                                      .reversed = step.reversed});
    }
    path.total_weight = SumWeights(path.edges);

    // The search kept no properties (one copy per heap entry would be costly); re-read the
    // path's edges that have any. The source is a consistent view, so the edge is still there.
    if (spec.include_properties) {
        for (std::size_t idx = 0; idx < path.edges.size(); ++idx) {
            PathStep& step = path.edges[idx];
            if (!step.has_properties) {
                continue;
            }
            const NodeRef next = path.nodes[idx + 1];
            PHENIX_RETURN_IF_ERROR(source.ForEachEdge(
                path.nodes[idx], step.reversed ? Direction::kIn : Direction::kOut, true,
                [&](const EdgeView& edge) {
                    if (edge.other == next && edge.label == step.label &&
                        edge.weight == step.weight && spec.edge.Matches(edge)) {
                        step.properties = std::string(edge.properties);
                        return false;
                    }
                    return true;
                }));
        }
    }
    return std::optional<Path>(std::move(path));
}

}  // namespace phenix::graph
