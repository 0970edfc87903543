// SPDX-License-Identifier: Apache-2.0
//
// Graph traversal operators over an AdjacencySource (graph/adjacency.h): k-hop expansion,
// degree, variable-length simple paths and weighted shortest path. They hold no state between
// calls, read the graph only through the source, and are bounded in time and memory by
// TraversalLimits: a traversal that would exceed a limit fails with ResourceExhausted (or, for
// the number of paths, returns what it found with `truncated` set) instead of growing.
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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>
#include <phenix/status.h>

#include "graph/adjacency.h"

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
};

struct ReachedNode {
    NodeRef node;
    std::uint32_t depth = 0;  // the fewest hops in [min_hops, max_hops] that reach the node
    friend bool operator==(const ReachedNode&, const ReachedNode&) = default;
};

struct ExpandResult {
    std::vector<ReachedNode> nodes;  // sorted by (depth, node)
    std::uint64_t edges_examined = 0;
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
};

struct FindPathsResult {
    std::vector<Path> paths;  // at most limits.max_paths, in DFS order
    bool truncated = false;   // more paths exist than were returned
    std::uint64_t edges_examined = 0;
};

// Simple paths from spec.start: no node repeats, except that when end == start a path may
// return to the start with its last hop (a cycle); with no end, or another end, a path never
// returns to the start. Lengths lie in [min_hops, max_hops] (min_hops == 0 admits the one-node
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
};

// The path of least total weight from `from` to `to` with at most max_hops edges (Dijkstra over
// (node, hops) states, so the hop bound is exact). Ties: fewer hops first, then the path found
// first in source edge order. from == to gives the zero-length path. nullopt when `to` is not
// reachable within max_hops.
// InvalidArgument: max_hops > limits.max_depth; a followed (matching) edge whose weight is
// negative, NaN or infinite (the message names the edge).
// ResourceExhausted: more than limits.max_nodes distinct nodes discovered, or more than
// limits.max_edges edges examined (the heap holds at most one entry per examined edge).
Result<std::optional<Path>> ShortestPath(AdjacencySource& source, const ShortestPathSpec& spec,
                                         const TraversalLimits& limits);

}  // namespace phenix::graph
