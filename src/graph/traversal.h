// SPDX-License-Identifier: Apache-2.0
//
// Graph traversal operators over an AdjacencySource (graph/adjacency.h): k-hop expansion,
// degree, variable-length simple paths, weighted and unweighted shortest paths, and the
// neighbourhood probe and estimate the hybrid (vector-first) plan uses. They hold no state
// between calls, read the graph only through the source, and are bounded in time and memory by
// TraversalLimits: a traversal that would exceed a limit fails with ResourceExhausted (or, for
// the number of paths, returns what it found with `truncated` set) instead of growing.
//
// Speed: the operators walk packed lists (AdjacencySource::ReadList) with no callback per edge
// when the source has them and no edge properties are needed, keep visited sets in flat arrays
// (graph/node_set.h), and compare labels by interned id.
//
// Edges: multi-edges (same two nodes, different labels) are distinct edges; self-loops are
// followed like any edge. With Direction::kBoth, out-edges and in-edges are both followed; a
// self-loop then appears once as an out-edge and once (reversed) as an in-edge.
//
// Errors common to every operator: the source's own errors (IOError, ...) are returned as is.
//
// Thread safety: pure functions; concurrent calls are fine if the sources allow them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>
#include <phenix/status.h>

#include "graph/adjacency.h"
#include "graph/node_set.h"

namespace phenix::graph {

// Which edges a traversal may follow. Default: every edge.
struct EdgePredicate {
    std::vector<std::string> labels;   // empty = any label
    std::optional<double> min_weight;  // inclusive
    std::optional<double> max_weight;  // inclusive
    // Called with the edge's properties (JSON object text; empty when the edge has none).
    // Null = no property predicate. When set, the operators ask the source for properties.
    std::function<bool(std::string_view properties_json)> properties;

    [[nodiscard]] bool needs_properties() const { return properties != nullptr; }
    [[nodiscard]] bool Matches(const EdgeView& edge) const;
};

// Bounds on one traversal (the engine fills them from Options::max_traversal_*).
struct TraversalLimits {
    std::uint32_t max_depth = 16;          // hops
    std::uint64_t max_nodes = 1'000'000;   // distinct nodes held (visited sets, result size)
    std::uint64_t max_edges = 20'000'000;  // edges examined (delivered by the source)
    std::uint64_t max_paths = 10'000;      // paths FindPaths returns
};

// ---- k-hop expansion ----

struct ExpandSpec {
    std::vector<NodeRef> starts;  // duplicates are ignored
    std::uint32_t min_hops = 1;
    std::uint32_t max_hops = 1;
    Direction direction = Direction::kOut;
    EdgePredicate edge;
    bool include_starts = false;
    // Only nodes of this collection are returned (others are routed through). Unset: any.
    std::optional<std::uint32_t> emit_collection;
    // 0: every node. Else the expansion stops after the first depth at which the nodes returned
    // reach max_results: `nodes` then holds every node of the depths expanded (possibly more
    // than max_results; the caller orders the last depth and cuts), and `truncated` says
    // whether the complete result would hold more than max_results nodes.
    std::uint64_t max_results = 0;
    // Record the external id the source gives for each returned node (ExpandResult::id).
    bool collect_ids = false;
    // Sort the result by (depth, node); false leaves it by depth in discovery order.
    bool sort = true;
};

struct ReachedNode {
    NodeRef node;
    std::uint32_t depth = 0;  // the fewest hops in [min_hops, max_hops] that reach the node
    friend bool operator==(const ReachedNode&, const ReachedNode&) = default;
};

struct ExpandResult {
    std::vector<ReachedNode> nodes;  // sorted by (depth, node) with ExpandSpec::sort
    std::uint64_t edges_examined = 0;
    bool truncated = false;  // with max_results: more nodes would be returned

    // With collect_ids: the id of nodes[idx] as the edge that reached it gave it (empty for a
    // start node, or when the source has no ids).
    [[nodiscard]] std::string_view id(std::size_t idx) const {
        const std::uint32_t begin = idx == 0 ? 0 : id_ends[idx - 1];
        return std::string_view(id_bytes).substr(begin, id_ends[idx] - begin);
    }
    std::string id_bytes;                // the ids, concatenated (collect_ids)
    std::vector<std::uint32_t> id_ends;  // id_ends[idx]: end of nodes[idx]'s id in id_bytes
};

// The nodes reached from the starts: a node is in the result iff some walk (nodes and edges may
// repeat) of k hops, min_hops <= k <= max_hops, from some start reaches it through edges that
// match spec.edge. Start nodes are left out unless include_starts, and then they are in the
// result only when they satisfy the same rule (min_hops == 0, or a walk returns to a start).
// Nodes are routed through whether or not they are returned.
// InvalidArgument: min_hops > max_hops, or max_hops > limits.max_depth.
// ResourceExhausted: more than limits.max_nodes distinct nodes would be held at once, or more
// than limits.max_edges edges examined.
Result<ExpandResult> Expand(AdjacencySource& source, const ExpandSpec& spec,
                            const TraversalLimits& limits);

// ---- degree ----

// The number of edges of `node` in `dir` that match `edge`. kBoth counts out- and in-edges, so
// a self-loop counts twice (once per direction). Not bounded by limits: it examines each edge of
// the node once.
Result<std::uint64_t> Degree(AdjacencySource& source, NodeRef node, Direction dir,
                             const EdgePredicate& edge);

// ---- paths ----

// One edge of a path, in the order the path walks it.
struct PathStep {
    std::string label;
    double weight = 1.0;
    std::string properties;  // JSON object text; empty when not requested or the edge has none
    bool has_properties = false;
    bool reversed = false;  // walked against its direction (an in-edge, under kIn or kBoth)
    std::string to_id;      // the id of the node the step leads to, as the edge gives it (or empty)
};

struct Path {
    std::vector<NodeRef> nodes;   // nodes.size() == edges.size() + 1
    std::vector<PathStep> edges;  // edges[i] joins nodes[i] and nodes[i + 1]
    double total_weight = 0;      // sum of edges[i].weight
};

struct PathSpec {
    NodeRef start;
    std::optional<NodeRef> end;  // unset: paths may end anywhere
    std::uint32_t min_hops = 1;
    std::uint32_t max_hops = 1;
    Direction direction = Direction::kOut;
    EdgePredicate edge;
    bool include_properties = true;  // fill PathStep::properties (asks the source for them)
    bool include_cycles = false;     // with no end: also paths that return to the start
};

struct FindPathsResult {
    std::vector<Path> paths;  // at most limits.max_paths, in DFS order
    bool truncated = false;   // more paths exist than were returned
    std::uint64_t edges_examined = 0;
};

// Simple paths from spec.start: no node repeats, except that when end == start (or with no end
// and include_cycles) a path may return to the start with its last hop (a cycle; a self-loop is
// one of one hop); otherwise a path never returns to the start. Lengths lie in [min_hops, max_hops] (min_hops == 0 admits the one-node
// path [start] when it may end there); with `end` set only paths that end there are returned.
// Order: depth-first, edges in source order (kOut before kIn under kBoth), a path before its
// extensions. Under kBoth a self-loop is followed once (as an out-edge), not twice.
// Stops after limits.max_paths paths and sets `truncated` when there are more (not an error).
// InvalidArgument: min_hops > max_hops, or max_hops > limits.max_depth.
// ResourceExhausted: more than limits.max_edges edges examined (the search is exponential in
// max_hops on dense graphs; narrow it with labels or fewer hops). limits.max_nodes does not
// apply: memory is the DFS frames (the edges examined) plus the paths returned.
Result<FindPathsResult> FindPaths(AdjacencySource& source, const PathSpec& spec,
                                  const TraversalLimits& limits);

struct ShortestPathSpec {
    NodeRef from;
    NodeRef to;
    Direction direction = Direction::kOut;
    EdgePredicate edge;
    std::uint32_t max_hops = 0;      // 0 = limits.max_depth
    bool include_properties = true;  // fill PathStep::properties (re-reads the path's edges)
    bool unweighted = false;         // fewest hops, weights ignored (bidirectional search)
};

// Weighted (default): the path of least total weight from `from` to `to` with at most max_hops
// edges. Ties: fewer hops first, then the path found first in source edge order (Dijkstra over
// (node, hops) states, pops ordered by (weight, hops, push order)). It first runs a plain
// Dijkstra over nodes, ordered by (weight, hops); when the path it finds has at most max_hops
// edges it is that answer (the hop bound did not bind), else the (node, hops) search runs.
// Unweighted: the fewest edges (bidirectional breadth-first search from both ends, expanding the
// smaller frontier); among those the first path in edge order: at each step the first edge, in
// the source's order (out before in under kBoth), that still reaches `to` in the fewest hops.
// from == to gives the zero-length path. nullopt when `to` is not reachable within max_hops.
// InvalidArgument: max_hops > limits.max_depth; weighted only: a followed (matching) edge whose
// weight is negative, NaN or infinite (the message names the edge).
// ResourceExhausted: more than limits.max_nodes distinct nodes discovered, or more than
// limits.max_edges edges examined (the heap holds at most one entry per examined edge).
Result<std::optional<Path>> ShortestPath(AdjacencySource& source, const ShortestPathSpec& spec,
                                         const TraversalLimits& limits);

namespace internal {
// The weighted search over (node, hops) states alone (what ShortestPath falls back to), for
// tests that check the fast path returns the same paths.
Result<std::optional<Path>> HopBoundedShortestPath(AdjacencySource& source,
                                                   const ShortestPathSpec& spec,
                                                   const TraversalLimits& limits);
}  // namespace internal

// ---- the neighbourhood, one node at a time ----

// Answers "is this node in Expand(spec)?" for one node at a time, without expanding the whole
// neighbourhood: Build expands the starts to max_hops - 1 hops (the ball), and Contains(node)
// walks the node's own edges backwards (in-edges under kOut, out-edges under kIn) looking for a
// ball node one hop away: meet in the middle. For a hub whose 2-hop neighbourhood has 100k
// nodes, the ball is its direct neighbours and each check one adjacency list. Exact: Contains
// agrees with membership in Expand(spec)'s result (a test checks it on random graphs).
// InvalidArgument: min_hops > 1 (walk semantics need the full level sets), max_hops == 0, or
// max_hops > limits.max_depth. ResourceExhausted as Expand (the ball), and when the checks
// together examine more than limits.max_edges edges.
class NeighbourhoodProbe {
  public:
    static Result<NeighbourhoodProbe> Build(AdjacencySource& source, const ExpandSpec& spec,
                                            const TraversalLimits& limits);

    Result<bool> Contains(AdjacencySource& source, NodeRef node);

    [[nodiscard]] std::size_t ball_size() const { return ball_.size(); }
    [[nodiscard]] std::uint64_t edges_examined() const { return edges_examined_; }
    [[nodiscard]] std::uint64_t checks() const { return checks_; }

  private:
    NeighbourhoodProbe() = default;

    NodeSet ball_;  // within max_hops - 1 hops, starts included
    NodeSet starts_;
    ExpandSpec spec_;  // direction, edge predicate, include_starts, min_hops (starts moved out)
    std::uint64_t max_edges_ = 0;
    std::uint64_t edges_examined_ = 0;
    std::uint64_t checks_ = 0;
};

// How many nodes Expand(spec) returns, estimated from degrees: the starts' matching degree d0
// (exact) and the mean matching degree d1 of up to max_samples of their neighbours (evenly
// spaced), as d0 * (1 + d1 + d1^2 + ...) over the hops of the range. Reads 1 + max_samples lists.
struct NeighbourhoodEstimate {
    double nodes = 0;
    std::uint64_t start_degree = 0;
    double sampled_degree = 0;  // mean over the sample (0 without neighbours)
    std::size_t sampled = 0;
};
Result<NeighbourhoodEstimate> EstimateNeighbourhood(AdjacencySource& source, const ExpandSpec& spec,
                                                    std::size_t max_samples = 32);

}  // namespace phenix::graph
