// SPDX-License-Identifier: Apache-2.0
//
// The traversal operators against brute-force oracles on random small graphs (cycles,
// self-loops and multi-edges come up often at this size).
#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "graph/traversal.h"
#include "unit/graph/map_graph.h"

namespace phenix::graph {
namespace {

using testing::MapGraph;
using testing::N;
using testing::TestEdge;

struct RandomGraph {
    std::uint64_t num_nodes = 0;
    std::vector<TestEdge> edges;
};

// A value in [min, max) drawn uniformly whatever the test's size (rapidcheck scales inRange with
// the size, which would make most graphs tiny); it still shrinks towards min.
template <typename T>
T Uniform(T min, T max) {
    return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(min, max));
}

RandomGraph GenGraph(std::uint64_t max_nodes, std::size_t max_edges) {
    RandomGraph graph;
    graph.num_nodes = Uniform<std::uint64_t>(1, max_nodes + 1);
    const auto num_edges = Uniform<std::size_t>(0, max_edges + 1);
    for (std::size_t idx = 0; idx < num_edges; ++idx) {
        const auto from = Uniform<std::uint64_t>(0, graph.num_nodes);
        const auto to = Uniform<std::uint64_t>(0, graph.num_nodes);
        const auto label = *rc::gen::elementOf(std::vector<std::string>{"a", "b"});
        // Many zero weights and a few heavy ones make light long paths compete with heavy
        // short ones (what hop bounds and tie-breaking are about).
        const auto weight = *rc::gen::elementOf(std::vector<double>{0, 0, 1, 1, 2, 5});
        graph.edges.push_back({N(from), N(to), label, weight});
    }
    return graph;
}

Direction GenDirection() {
    return *rc::gen::element(Direction::kOut, Direction::kIn, Direction::kBoth);
}

EdgePredicate GenPredicate() {
    EdgePredicate predicate;
    if (*rc::gen::inRange(0, 3) == 0) {
        predicate.labels = {*rc::gen::elementOf(std::vector<std::string>{"a", "b"})};
    }
    if (*rc::gen::inRange(0, 4) == 0) {
        predicate.max_weight = *rc::gen::inRange(1, 4);
    }
    return predicate;
}

// The edges a traversal may take from `node`, in source order, as (other, edge index).
std::vector<std::pair<NodeRef, std::size_t>> Steps(const MapGraph& graph, NodeRef node,
                                                   Direction dir, const EdgePredicate& predicate,
                                                   bool skip_reversed_self_loops) {
    std::vector<std::pair<NodeRef, std::size_t>> steps;
    for (Direction one : {Direction::kOut, Direction::kIn}) {
        if (dir != Direction::kBoth && dir != one) {
            continue;
        }
        for (std::size_t idx : graph.List(node, one)) {
            const TestEdge& edge = graph.edges()[idx];
            const NodeRef other = one == Direction::kOut ? edge.to : edge.from;
            if (skip_reversed_self_loops && dir == Direction::kBoth && one == Direction::kIn &&
                other == node) {
                continue;
            }
            const EdgeView view{.other = other, .label = edge.label, .weight = edge.weight};
            if (predicate.Matches(view)) {
                steps.emplace_back(other, idx);
            }
        }
    }
    return steps;
}

// Every walk of up to max_hops hops, enumerated recursively (a walk's future depends only on
// its last node and length, so each (node, hops) is expanded once): node -> fewest hops in range.
std::map<NodeRef, std::uint32_t> BruteExpand(const MapGraph& graph, const ExpandSpec& spec) {
    std::map<NodeRef, std::uint32_t> reached;
    std::set<std::pair<NodeRef, std::uint32_t>> expanded;
    std::function<void(NodeRef, std::uint32_t)> walk = [&](NodeRef node, std::uint32_t hops) {
        if (!expanded.emplace(node, hops).second) {
            return;
        }
        if (hops >= spec.min_hops) {
            auto [it, inserted] = reached.emplace(node, hops);
            if (!inserted) {
                it->second = std::min(it->second, hops);
            }
        }
        if (hops == spec.max_hops) {
            return;
        }
        for (const auto& [other, idx] : Steps(graph, node, spec.direction, spec.edge, false)) {
            walk(other, hops + 1);
        }
    };
    for (const NodeRef& start : spec.starts) {
        walk(start, 0);
    }
    if (!spec.include_starts) {
        for (const NodeRef& start : spec.starts) {
            reached.erase(start);
        }
    }
    return reached;
}

RC_GTEST_PROP(TraversalProperty, ExpandMatchesWalkEnumeration, ()) {
    const RandomGraph random = GenGraph(6, 9);
    MapGraph graph(random.edges);
    graph.set_packed(*rc::gen::arbitrary<bool>());
    ExpandSpec spec;
    const auto num_starts = Uniform<std::size_t>(1, 3);
    for (std::size_t idx = 0; idx < num_starts; ++idx) {
        spec.starts.push_back(N(Uniform<std::uint64_t>(0, random.num_nodes)));
    }
    spec.min_hops = Uniform<std::uint32_t>(0, 4);
    spec.max_hops = spec.min_hops + Uniform<std::uint32_t>(0, 3);
    spec.direction = GenDirection();
    spec.edge = GenPredicate();
    spec.include_starts = *rc::gen::arbitrary<bool>();

    auto result = Expand(graph, spec, TraversalLimits{});
    RC_ASSERT(result.ok());
    std::map<NodeRef, std::uint32_t> got;
    for (const ReachedNode& reached : result->nodes) {
        RC_ASSERT(got.emplace(reached.node, reached.depth).second);  // no duplicates
    }
    RC_ASSERT(got == BruteExpand(graph, spec));
    RC_ASSERT(std::is_sorted(result->nodes.begin(), result->nodes.end(),
                             [](const ReachedNode& a, const ReachedNode& b) {
                                 return a.depth != b.depth ? a.depth < b.depth : a.node < b.node;
                             }));
}

// All walks in DFS pre-order, filtered to the paths FindPaths promises.
std::vector<std::vector<std::size_t>> BrutePaths(const MapGraph& graph, const PathSpec& spec) {
    std::vector<std::vector<std::size_t>> paths;  // edge indexes
    std::vector<NodeRef> nodes{spec.start};
    std::vector<std::size_t> edges;
    auto valid = [&]() {
        const std::size_t hops = edges.size();
        if (hops < spec.min_hops || hops > spec.max_hops) {
            return false;
        }
        if (spec.end.has_value() && nodes.back() != *spec.end) {
            return false;
        }
        const bool cycle = spec.end.has_value() && *spec.end == spec.start && hops > 0;
        if (cycle && hops == 2) {
            // One edge out and back (under kBoth) is not a cycle. Edges are identified by
            // (source, label, target), as in the engine, where that triple is unique.
            const TestEdge& first = graph.edges()[edges[0]];
            const TestEdge& second = graph.edges()[edges[1]];
            if (first.from == second.from && first.to == second.to && first.label == second.label) {
                return false;
            }
        }
        const std::set<NodeRef> distinct(nodes.begin(), nodes.end() - (cycle ? 1 : 0));
        return distinct.size() == nodes.size() - (cycle ? 1 : 0);
    };
    std::function<void()> walk = [&]() {
        if (valid()) {
            paths.push_back(edges);
        }
        // A walk that already repeats a node cannot become a simple path again.
        if (std::set<NodeRef>(nodes.begin(), nodes.end()).size() != nodes.size() ||
            edges.size() == spec.max_hops) {
            return;
        }
        for (const auto& [other, idx] : Steps(graph, nodes.back(), spec.direction, spec.edge,
                                              /*skip_reversed_self_loops=*/true)) {
            nodes.push_back(other);
            edges.push_back(idx);
            walk();
            nodes.pop_back();
            edges.pop_back();
        }
    };
    walk();
    return paths;
}

RC_GTEST_PROP(TraversalProperty, FindPathsMatchesFilteredWalks, ()) {
    const RandomGraph random = GenGraph(5, 9);
    MapGraph graph(random.edges);
    graph.set_packed(*rc::gen::arbitrary<bool>());
    PathSpec spec;
    spec.start = N(Uniform<std::uint64_t>(0, random.num_nodes));
    if (*rc::gen::inRange(0, 3) != 0) {
        spec.end = N(Uniform<std::uint64_t>(0, random.num_nodes));
    }
    spec.min_hops = Uniform<std::uint32_t>(0, 3);
    spec.max_hops = spec.min_hops + Uniform<std::uint32_t>(0, 3);
    spec.direction = GenDirection();
    spec.edge = GenPredicate();
    const auto max_paths = Uniform<std::uint64_t>(0, 12);

    const std::vector<std::vector<std::size_t>> expected = BrutePaths(graph, spec);
    auto result = FindPaths(graph, spec, TraversalLimits{.max_paths = max_paths});
    RC_ASSERT(result.ok());
    RC_ASSERT(result->truncated == (expected.size() > max_paths));
    RC_ASSERT(result->paths.size() == std::min<std::size_t>(expected.size(), max_paths));
    for (std::size_t path_idx = 0; path_idx < result->paths.size(); ++path_idx) {
        const Path& path = result->paths[path_idx];
        const std::vector<std::size_t>& want = expected[path_idx];
        RC_ASSERT(path.nodes.size() == want.size() + 1);
        RC_ASSERT(path.nodes.front() == spec.start);
        double total = 0;
        for (std::size_t hop = 0; hop < want.size(); ++hop) {
            const TestEdge& edge = graph.edges()[want[hop]];
            const PathStep& step = path.edges[hop];
            RC_ASSERT(step.label == edge.label);
            RC_ASSERT(step.weight == edge.weight);
            const NodeRef from = step.reversed ? path.nodes[hop + 1] : path.nodes[hop];
            const NodeRef to = step.reversed ? path.nodes[hop] : path.nodes[hop + 1];
            RC_ASSERT(from == edge.from);
            RC_ASSERT(to == edge.to);
            total += edge.weight;
        }
        RC_ASSERT(path.total_weight == total);
    }
}

RC_GTEST_PROP(TraversalProperty, ShortestPathMatchesBellmanFord, ()) {
    const RandomGraph random = GenGraph(7, 14);
    MapGraph graph(random.edges);
    graph.set_packed(*rc::gen::arbitrary<bool>());
    ShortestPathSpec spec;
    spec.from = N(Uniform<std::uint64_t>(0, random.num_nodes));
    spec.direction = GenDirection();
    spec.edge = GenPredicate();
    const TraversalLimits limits{.max_depth = 6};

    // best[k][v]: least weight of a walk of exactly k hops from `from` to v.
    constexpr double kInf = std::numeric_limits<double>::infinity();
    std::vector<std::map<NodeRef, double>> best(limits.max_depth + 1);
    best[0][spec.from] = 0;
    for (std::uint32_t hops = 1; hops <= limits.max_depth; ++hops) {
        for (const auto& [node, dist] : best[hops - 1]) {
            for (const auto& [other, idx] : Steps(graph, node, spec.direction, spec.edge, true)) {
                const double candidate = dist + graph.edges()[idx].weight;
                auto [it, inserted] = best[hops].emplace(other, candidate);
                if (!inserted) {
                    it->second = std::min(it->second, candidate);
                }
            }
        }
    }

    // Every hop bound and every target, from the one source.
    for (std::uint32_t max_hops = 0; max_hops <= 4; ++max_hops) {
        spec.max_hops = max_hops;
        const std::uint32_t hop_bound = max_hops == 0 ? limits.max_depth : max_hops;
        for (std::uint64_t to_row = 0; to_row < random.num_nodes; ++to_row) {
            spec.to = N(to_row);
            double optimum = kInf;
            std::uint32_t optimum_hops = 0;
            for (std::uint32_t hops = 0; hops <= hop_bound; ++hops) {
                auto it = best[hops].find(spec.to);
                if (it != best[hops].end() && it->second < optimum) {
                    optimum = it->second;
                    optimum_hops = hops;
                }
            }

            auto result = ShortestPath(graph, spec, limits);
            RC_ASSERT(result.ok());
            if (optimum == kInf) {
                RC_ASSERT(!result->has_value());
                continue;
            }
            RC_ASSERT(result->has_value());
            const Path& path = **result;
            RC_ASSERT(path.total_weight == optimum);
            RC_ASSERT(path.edges.size() == optimum_hops);  // ties go to fewer hops
            RC_ASSERT(path.nodes.front() == spec.from);
            RC_ASSERT(path.nodes.back() == spec.to);
            double total = 0;
            for (std::size_t hop = 0; hop < path.edges.size(); ++hop) {
                const PathStep& step = path.edges[hop];
                const NodeRef from = step.reversed ? path.nodes[hop + 1] : path.nodes[hop];
                const NodeRef to = step.reversed ? path.nodes[hop] : path.nodes[hop + 1];
                RC_ASSERT(spec.direction == Direction::kBoth ||
                          step.reversed == (spec.direction == Direction::kIn));
                const bool exists = std::any_of(
                    graph.edges().begin(), graph.edges().end(), [&](const TestEdge& edge) {
                        return edge.from == from && edge.to == to && edge.label == step.label &&
                               edge.weight == step.weight &&
                               spec.edge.Matches(
                                   EdgeView{.label = edge.label, .weight = edge.weight});
                    });
                RC_ASSERT(exists);
                total += step.weight;
            }
            RC_ASSERT(total == optimum);
        }
    }
}

RC_GTEST_PROP(TraversalProperty, DegreeCountsMatchingEdges, ()) {
    const RandomGraph random = GenGraph(4, 10);
    MapGraph graph(random.edges);
    graph.set_packed(*rc::gen::arbitrary<bool>());
    const NodeRef node = N(Uniform<std::uint64_t>(0, random.num_nodes));
    const Direction dir = GenDirection();
    const EdgePredicate predicate = GenPredicate();
    std::uint64_t expected = 0;
    for (const TestEdge& edge : random.edges) {
        const bool matches =
            predicate.Matches(EdgeView{.label = edge.label, .weight = edge.weight});
        if (matches && dir != Direction::kIn && edge.from == node) {
            ++expected;
        }
        if (matches && dir != Direction::kOut && edge.to == node) {
            ++expected;
        }
    }
    auto degree = Degree(graph, node, dir, predicate);
    RC_ASSERT(degree.ok());
    RC_ASSERT(*degree == expected);
}

}  // namespace
}  // namespace phenix::graph
