// SPDX-License-Identifier: Apache-2.0
//
// The traversal operators' fast paths against their plain forms and brute-force references:
// packed lists against callbacks, flat node sets against std::set, limits pushed into Expand
// against cutting the full result, the neighbourhood probe against Expand, the node-level
// Dijkstra against the (node, hops) search, and the unweighted (bidirectional) shortest path
// against a breadth-first reference. Random graphs are small (cycles, self-loops and multi-edges
// come up often); hubs have 20k+ edges.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "graph/node_set.h"
#include "graph/traversal.h"
#include "unit/graph/map_graph.h"

namespace phenix::graph {
namespace {

using testing::MapGraph;
using testing::N;
using testing::TestEdge;

template <typename T>
T Uniform(T min, T max) {
    return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(min, max));
}

// Random edges over `num_nodes` nodes of collection 1, and some of collection 2.
std::vector<TestEdge> GenEdges(std::uint64_t num_nodes, std::size_t num_edges) {
    std::vector<TestEdge> edges;
    for (std::size_t idx = 0; idx < num_edges; ++idx) {
        const auto from = Uniform<std::uint64_t>(0, num_nodes);
        const auto to = Uniform<std::uint64_t>(0, num_nodes);
        const auto to_collection = *rc::gen::elementOf(std::vector<std::uint32_t>{1, 1, 1, 2});
        const auto label = *rc::gen::elementOf(std::vector<std::string>{"a", "b", "c"});
        const auto weight = *rc::gen::elementOf(std::vector<double>{0, 1, 1, 2, 5});
        edges.push_back({N(from), N(to, to_collection), label, weight});
    }
    return edges;
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

// ---- flat sets ----

TEST(NodeSet, AgreesWithStdSetAcrossTheDenseSwitch) {
    std::mt19937_64 rng(7);
    std::printf("seed 7\n");
    NodeSet set;
    std::set<NodeRef> reference;
    for (int step = 0; step < 20000; ++step) {
        // Mostly one collection (what goes dense), some others, a few rows beyond 2^40.
        const auto collection = static_cast<std::uint32_t>(rng() % 10 == 0 ? 2 + rng() % 3 : 1);
        const std::uint64_t row =
            rng() % 100 == 0 ? (std::uint64_t{1} << 41) + rng() % 50 : rng() % 60000;
        const NodeRef node{collection, row};
        ASSERT_EQ(set.Insert(node), reference.insert(node).second) << step;
        ASSERT_EQ(set.size(), reference.size());
        const NodeRef probe{static_cast<std::uint32_t>(1 + rng() % 4), rng() % 60000};
        ASSERT_EQ(set.Contains(probe), reference.contains(probe)) << step;
    }
    EXPECT_GT(reference.size(), NodeSet::kDenseFrom);
    for (const NodeRef& node : reference) {
        ASSERT_TRUE(set.Contains(node));
    }
}

TEST(NodeMap, KeepsValuesAcrossGrowth) {
    NodeMap<std::uint64_t> map;
    for (std::uint64_t row = 0; row < 5000; ++row) {
        auto [value, inserted] =
            map.TryEmplace(N(row, static_cast<std::uint32_t>(row % 3)), row * 2);
        ASSERT_TRUE(inserted);
        ASSERT_EQ(*value, row * 2);
    }
    EXPECT_FALSE(map.TryEmplace(N(7, 1), 0).second);
    for (std::uint64_t row = 0; row < 5000; ++row) {
        const std::uint64_t* value = map.Find(N(row, static_cast<std::uint32_t>(row % 3)));
        ASSERT_NE(value, nullptr);
        EXPECT_EQ(*value, row * 2);
    }
    EXPECT_EQ(map.Find(N(7, 2)), nullptr);
    EXPECT_EQ(map.size(), 5000u);
}

// ---- packed lists ----

TEST(PackedList, KeepsEdgesLabelsIdsAndThePropertiesBit) {
    LabelTable labels(1 << 16);
    const std::vector<EdgeView> edges = {
        {.other = N(5), .label = "knows", .weight = 0.5, .other_id = "five"},
        {.other = N(6, 3), .label = "knows", .weight = 2, .has_properties = true},
        {.other = N(7), .label = "likes", .weight = 1, .other_id = "seven"},
    };
    const PackedListPtr list = PackList(labels, edges);
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 3u);
    EXPECT_TRUE(list->has_ids());
    EXPECT_EQ(list->id_bytes(), 9u);
    EXPECT_EQ(list->other_id(0), "five");
    EXPECT_EQ(list->other_id(1), "");  // an edge without an id among edges with ids
    EXPECT_EQ(list->other_id(2), "seven");
    EXPECT_EQ(list->label(0), "knows");
    EXPECT_EQ(list->label(2), "likes");
    EXPECT_EQ(list->edge(0).label_id(), list->edge(1).label_id());
    EXPECT_FALSE(list->edge(0).has_properties());
    EXPECT_TRUE(list->edge(1).has_properties());
    EXPECT_EQ(list->edge(1).other(), N(6, 3));
    EXPECT_EQ(list->View(2, Direction::kIn).other, N(7));
    EXPECT_TRUE(list->View(2, Direction::kIn).reversed);
    EXPECT_EQ(list->AllocatedBytes(), PackedList::AllocationBytes(3, true, 9));

    // Copies share the list; it lives until the last reference goes.
    PackedListPtr copy = list;
    PackedListPtr moved = std::move(copy);
    EXPECT_EQ(moved.get(), list.get());
    EXPECT_FALSE(copy);  // NOLINT(bugprone-use-after-move): moved-from is null by contract

    const PackedListPtr without_ids = PackList(labels, std::vector<EdgeView>{{.other = N(1)}});
    ASSERT_TRUE(without_ids);
    EXPECT_FALSE(without_ids->has_ids());
    EXPECT_EQ(without_ids->other_id(0), "");
    const PackedListPtr empty = PackList(labels, {});
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());
}

TEST(PackedList, RefusesALabelThatDoesNotFitTheTable) {
    LabelTable labels(0);  // no room for any label
    EXPECT_FALSE(PackList(labels, std::vector<EdgeView>{{.other = N(1), .label = "x"}}));
}

// ---- Expand: packed == callbacks, and the pushed-down limit ----

std::vector<std::pair<ReachedNode, std::string>> WithIds(const ExpandResult& result) {
    std::vector<std::pair<ReachedNode, std::string>> out;
    for (std::size_t idx = 0; idx < result.nodes.size(); ++idx) {
        out.emplace_back(result.nodes[idx],
                         result.id_ends.empty() ? std::string() : std::string(result.id(idx)));
    }
    return out;
}

RC_GTEST_PROP(TraversalFast, PackedExpandEqualsCallbackExpand, ()) {
    const auto num_nodes = Uniform<std::uint64_t>(1, 30);
    const std::vector<TestEdge> edges = GenEdges(num_nodes, Uniform<std::size_t>(0, 80));
    MapGraph plain(edges);
    MapGraph packed(edges);
    packed.set_packed(true);
    ExpandSpec spec;
    spec.starts = {N(Uniform<std::uint64_t>(0, num_nodes))};
    spec.min_hops = Uniform<std::uint32_t>(0, 3);
    spec.max_hops = spec.min_hops + Uniform<std::uint32_t>(0, 3);
    spec.direction = GenDirection();
    spec.edge = GenPredicate();
    spec.include_starts = *rc::gen::arbitrary<bool>();
    spec.collect_ids = true;
    auto a = Expand(plain, spec, TraversalLimits{});
    auto b = Expand(packed, spec, TraversalLimits{});
    RC_ASSERT(a.ok());
    RC_ASSERT(b.ok());
    RC_ASSERT(WithIds(*a) == WithIds(*b));
    RC_ASSERT(a->edges_examined == b->edges_examined);
    RC_ASSERT(packed.calls == 0);  // every list came packed
    // Ids are the ones the reaching edges carry (none for a start reached at depth 0).
    for (std::size_t idx = 0; idx < b->nodes.size(); ++idx) {
        if (b->nodes[idx].depth > 0) {
            RC_ASSERT(b->id(idx) == packed.IdOf(b->nodes[idx].node));
        }
    }
}

RC_GTEST_PROP(TraversalFast, MaxResultsKeepsTheFirstPageAndTellsTruncation, ()) {
    const auto num_nodes = Uniform<std::uint64_t>(1, 40);
    const std::vector<TestEdge> edges = GenEdges(num_nodes, Uniform<std::size_t>(0, 120));
    MapGraph graph(edges);
    graph.set_packed(*rc::gen::arbitrary<bool>());
    ExpandSpec spec;
    spec.starts = {N(Uniform<std::uint64_t>(0, num_nodes))};
    spec.min_hops = Uniform<std::uint32_t>(0, 2);
    spec.max_hops = spec.min_hops + Uniform<std::uint32_t>(0, 4);
    spec.direction = GenDirection();
    spec.edge = GenPredicate();
    spec.include_starts = *rc::gen::arbitrary<bool>();
    if (*rc::gen::arbitrary<bool>()) {
        spec.emit_collection = *rc::gen::element(1U, 2U);
    }
    auto full = Expand(graph, spec, TraversalLimits{});
    RC_ASSERT(full.ok());
    for (const ReachedNode& reached : full->nodes) {
        RC_ASSERT(!spec.emit_collection || reached.node.collection == *spec.emit_collection);
    }
    RC_ASSERT(!full->truncated);
    const auto limit = Uniform<std::uint64_t>(1, 12);
    spec.max_results = limit;
    auto limited = Expand(graph, spec, TraversalLimits{});
    RC_ASSERT(limited.ok());
    // The first `limit` in (depth, node) order are the same, and nothing is returned that the
    // full expansion does not return (at the same depth).
    const std::size_t page = std::min<std::size_t>(limit, full->nodes.size());
    RC_ASSERT(limited->nodes.size() >= page);
    RC_ASSERT(std::equal(full->nodes.begin(), full->nodes.begin() + static_cast<long>(page),
                         limited->nodes.begin()));
    const std::set<std::pair<std::uint32_t, NodeRef>> all = [&] {
        std::set<std::pair<std::uint32_t, NodeRef>> out;
        for (const ReachedNode& reached : full->nodes) {
            out.emplace(reached.depth, reached.node);
        }
        return out;
    }();
    for (const ReachedNode& reached : limited->nodes) {
        RC_ASSERT(all.contains({reached.depth, reached.node}));
    }
    RC_ASSERT(limited->truncated == (full->nodes.size() > limit));
    RC_ASSERT(limited->edges_examined <= full->edges_examined);
}

// A hub with `spokes` in-edges from distinct nodes, each of which has one in-edge of its own.
std::vector<TestEdge> HubEdges(std::uint64_t spokes) {
    std::vector<TestEdge> edges;
    for (std::uint64_t row = 1; row <= spokes; ++row) {
        edges.push_back({N(row), N(0), "to_hub", 1.0});
        edges.push_back({N(spokes + row), N(row), "feeds", 2.0});
    }
    edges.push_back({N(0), N(0), "self", 1.0});  // a self-loop on the hub
    return edges;
}

TEST(TraversalFast, ExpandsAHubWithTwentyThousandInEdges) {
    constexpr std::uint64_t kSpokes = 20000;
    MapGraph graph(HubEdges(kSpokes));
    for (const bool packed : {false, true}) {
        graph.set_packed(packed);
        auto reached = Expand(
            graph, {.starts = {N(0)}, .min_hops = 1, .max_hops = 2, .direction = Direction::kIn},
            TraversalLimits{});
        ASSERT_TRUE(reached.ok()) << reached.status().ToString();
        ASSERT_EQ(reached->nodes.size(), 2 * kSpokes);  // the self-loop returns to the start only
        EXPECT_EQ(reached->nodes.front(), (ReachedNode{N(1), 1}));
        EXPECT_EQ(reached->nodes.back(), (ReachedNode{N(2 * kSpokes), 2}));
        // The first ten only: the BFS stops after depth 1 (which has 20,000 nodes).
        auto page = Expand(graph,
                           {.starts = {N(0)},
                            .min_hops = 1,
                            .max_hops = 2,
                            .direction = Direction::kIn,
                            .max_results = 10},
                           TraversalLimits{});
        ASSERT_TRUE(page.ok());
        EXPECT_TRUE(page->truncated);
        EXPECT_EQ(page->nodes.size(), kSpokes);
        EXPECT_LT(page->edges_examined, reached->edges_examined);
        auto degree = Degree(graph, N(0), Direction::kBoth, EdgePredicate{});
        ASSERT_TRUE(degree.ok());
        EXPECT_EQ(*degree, kSpokes + 2);  // in-edges, plus the self-loop out and in
        auto labelled = Degree(graph, N(0), Direction::kIn, EdgePredicate{.labels = {"self"}});
        ASSERT_TRUE(labelled.ok());
        EXPECT_EQ(*labelled, 1u);
    }
}

// ---- the neighbourhood probe ----

RC_GTEST_PROP(TraversalFast, ProbeAgreesWithExpand, ()) {
    const auto num_nodes = Uniform<std::uint64_t>(1, 25);
    const std::vector<TestEdge> edges = GenEdges(num_nodes, Uniform<std::size_t>(0, 70));
    MapGraph graph(edges);
    graph.set_packed(*rc::gen::arbitrary<bool>());
    ExpandSpec spec;
    spec.starts = {N(Uniform<std::uint64_t>(0, num_nodes))};
    spec.min_hops = Uniform<std::uint32_t>(0, 2);
    spec.max_hops = std::max<std::uint32_t>(1, spec.min_hops + Uniform<std::uint32_t>(0, 3));
    spec.direction = GenDirection();
    spec.edge = GenPredicate();
    spec.include_starts = *rc::gen::arbitrary<bool>();
    auto expanded = Expand(graph, spec, TraversalLimits{});
    RC_ASSERT(expanded.ok());
    std::set<NodeRef> reached;
    for (const ReachedNode& node : expanded->nodes) {
        reached.insert(node.node);
    }
    auto probe = NeighbourhoodProbe::Build(graph, spec, TraversalLimits{});
    RC_ASSERT(probe.ok());
    for (std::uint32_t collection : {1U, 2U}) {
        for (std::uint64_t row = 0; row < num_nodes; ++row) {
            auto in = probe->Contains(graph, N(row, collection));
            RC_ASSERT(in.ok());
            RC_ASSERT(*in == reached.contains(N(row, collection)));
        }
    }
}

TEST(TraversalFast, ProbeChecksHubCandidatesByTheirOwnEdges) {
    constexpr std::uint64_t kSpokes = 20000;
    MapGraph graph(HubEdges(kSpokes));
    graph.set_packed(true);
    const ExpandSpec spec{
        .starts = {N(0)}, .min_hops = 1, .max_hops = 2, .direction = Direction::kIn};
    auto probe = NeighbourhoodProbe::Build(graph, spec, TraversalLimits{});
    ASSERT_TRUE(probe.ok());
    EXPECT_EQ(probe->ball_size(), kSpokes + 1);  // a 2-hop probe's ball: the start and its 1-hop
    const int reads_before = graph.list_reads;
    for (std::uint64_t row : {std::uint64_t{1}, kSpokes, kSpokes + 1, 2 * kSpokes}) {
        auto in = probe->Contains(graph, N(row));
        ASSERT_TRUE(in.ok());
        EXPECT_TRUE(*in) << row;
    }
    auto outside = probe->Contains(graph, N(2 * kSpokes + 5));
    ASSERT_TRUE(outside.ok());
    EXPECT_FALSE(*outside);
    // One adjacency list per check, not the hub's 40,000-node neighbourhood.
    EXPECT_LE(graph.list_reads - reads_before, 5);
    EXPECT_FALSE(NeighbourhoodProbe::Build(graph, {.starts = {N(0)}, .min_hops = 2, .max_hops = 2},
                                           TraversalLimits{})
                     .ok());
}

TEST(TraversalFast, EstimatesANeighbourhoodFromDegrees) {
    // A complete 3-ary tree of depth 3 along out-edges: 3 + 9 + 27 nodes within 3 hops.
    std::vector<TestEdge> edges;
    for (std::uint64_t node = 0; node < 13; ++node) {
        for (std::uint64_t child = 1; child <= 3; ++child) {
            edges.push_back({N(node), N(3 * node + child)});
        }
    }
    MapGraph graph(edges);
    graph.set_packed(true);
    auto estimate = EstimateNeighbourhood(graph, {.starts = {N(0)}, .min_hops = 1, .max_hops = 3});
    ASSERT_TRUE(estimate.ok());
    EXPECT_EQ(estimate->start_degree, 3u);
    EXPECT_EQ(estimate->sampled, 3u);
    EXPECT_DOUBLE_EQ(estimate->sampled_degree, 3.0);
    EXPECT_DOUBLE_EQ(estimate->nodes, 39.0);
    auto one_hop = EstimateNeighbourhood(graph, {.starts = {N(0)}, .max_hops = 1}, 2);
    ASSERT_TRUE(one_hop.ok());
    EXPECT_DOUBLE_EQ(one_hop->nodes, 3.0);
    EXPECT_EQ(one_hop->sampled, 2u);
}

// ---- shortest paths ----

bool SamePath(const Path& a, const Path& b) {
    if (a.nodes != b.nodes || a.edges.size() != b.edges.size() ||
        a.total_weight != b.total_weight) {
        return false;
    }
    for (std::size_t idx = 0; idx < a.edges.size(); ++idx) {
        const PathStep& x = a.edges[idx];
        const PathStep& y = b.edges[idx];
        if (x.label != y.label || x.weight != y.weight || x.reversed != y.reversed ||
            x.properties != y.properties || x.to_id != y.to_id) {
            return false;
        }
    }
    return true;
}

RC_GTEST_PROP(TraversalFast, WeightedShortestPathEqualsTheHopBoundedSearch, ()) {
    const auto num_nodes = Uniform<std::uint64_t>(1, 12);
    const std::vector<TestEdge> edges = GenEdges(num_nodes, Uniform<std::size_t>(0, 40));
    MapGraph graph(edges);
    graph.set_packed(*rc::gen::arbitrary<bool>());
    ShortestPathSpec spec;
    spec.from = N(Uniform<std::uint64_t>(0, num_nodes));
    spec.to = N(Uniform<std::uint64_t>(0, num_nodes), *rc::gen::element(1U, 2U));
    spec.direction = GenDirection();
    spec.edge = GenPredicate();
    spec.max_hops = Uniform<std::uint32_t>(0, 5);
    const TraversalLimits limits{.max_depth = 8};
    auto fast = ShortestPath(graph, spec, limits);
    auto exact = internal::HopBoundedShortestPath(graph, spec, limits);
    RC_ASSERT(fast.ok() == exact.ok());
    if (!fast.ok()) {
        return;
    }
    RC_ASSERT(fast->has_value() == exact->has_value());
    if (fast->has_value()) {
        RC_ASSERT(SamePath(**fast, **exact));
    }
}

// The fewest-hop path that takes, at each step, the first edge (in source order) that still
// reaches `to` in the fewest hops: distances to `to` by a backward BFS, then a greedy walk.
std::optional<Path> ReferenceUnweighted(MapGraph& graph, const ShortestPathSpec& spec,
                                        std::uint32_t max_hops) {
    auto steps = [&](NodeRef node, Direction dir) {
        std::vector<std::pair<NodeRef, PathStep>> out;
        for (Direction one : {Direction::kOut, Direction::kIn}) {
            if (dir != Direction::kBoth && dir != one) {
                continue;
            }
            for (std::size_t idx : graph.List(node, one)) {
                const TestEdge& edge = graph.edges()[idx];
                const NodeRef other = one == Direction::kOut ? edge.to : edge.from;
                if (dir == Direction::kBoth && one == Direction::kIn && other == node) {
                    continue;
                }
                if (!spec.edge.Matches(EdgeView{.label = edge.label, .weight = edge.weight})) {
                    continue;
                }
                out.emplace_back(other, PathStep{.label = edge.label,
                                                 .weight = edge.weight,
                                                 .reversed = one == Direction::kIn,
                                                 .to_id = std::string(graph.IdOf(other))});
            }
        }
        return out;
    };
    const Direction backward = spec.direction == Direction::kOut  ? Direction::kIn
                               : spec.direction == Direction::kIn ? Direction::kOut
                                                                  : Direction::kBoth;
    std::map<NodeRef, std::uint32_t> to_dist{{spec.to, 0}};
    std::vector<NodeRef> frontier{spec.to};
    for (std::uint32_t depth = 1; !frontier.empty(); ++depth) {
        std::vector<NodeRef> next;
        for (const NodeRef& node : frontier) {
            for (const auto& [other, step] : steps(node, backward)) {
                if (to_dist.emplace(other, depth).second) {
                    next.push_back(other);
                }
            }
        }
        frontier = std::move(next);
    }
    auto it = to_dist.find(spec.from);
    if (it == to_dist.end() || it->second > max_hops) {
        return std::nullopt;
    }
    Path path;
    path.nodes.push_back(spec.from);
    NodeRef node = spec.from;
    for (std::uint32_t left = it->second; left > 0; --left) {
        for (const auto& [other, step] : steps(node, spec.direction)) {
            auto found = to_dist.find(other);
            if (found != to_dist.end() && found->second == left - 1) {
                path.nodes.push_back(other);
                path.edges.push_back(step);
                path.total_weight += step.weight;
                node = other;
                break;
            }
        }
    }
    return path;
}

RC_GTEST_PROP(TraversalFast, UnweightedShortestPathIsTheFirstFewestHopPath, ()) {
    const auto num_nodes = Uniform<std::uint64_t>(1, 14);
    const std::vector<TestEdge> edges = GenEdges(num_nodes, Uniform<std::size_t>(0, 40));
    MapGraph graph(edges);
    graph.set_packed(*rc::gen::arbitrary<bool>());
    ShortestPathSpec spec;
    spec.from = N(Uniform<std::uint64_t>(0, num_nodes));
    spec.to = N(Uniform<std::uint64_t>(0, num_nodes), *rc::gen::element(1U, 1U, 2U));
    spec.direction = GenDirection();
    spec.edge = GenPredicate();
    spec.max_hops = Uniform<std::uint32_t>(0, 6);
    spec.unweighted = true;
    const TraversalLimits limits{.max_depth = 8};
    auto got = ShortestPath(graph, spec, limits);
    RC_ASSERT(got.ok());
    const std::uint32_t max_hops = spec.max_hops == 0 ? limits.max_depth : spec.max_hops;
    std::optional<Path> want = spec.from == spec.to
                                   ? std::optional<Path>(Path{.nodes = {spec.from}})
                                   : ReferenceUnweighted(graph, spec, max_hops);
    RC_ASSERT(got->has_value() == want.has_value());
    if (want.has_value()) {
        RC_ASSERT(SamePath(**got, *want));
    }
}

TEST(TraversalFast, UnweightedShortestPathAcrossAHub) {
    constexpr std::uint64_t kSpokes = 20000;
    MapGraph graph(HubEdges(kSpokes));
    graph.set_packed(true);
    // From a feeder to the hub: feeder -> spoke -> hub, two hops whatever the weights.
    auto path = ShortestPath(graph, {.from = N(kSpokes + 7), .to = N(0), .unweighted = true},
                             TraversalLimits{});
    ASSERT_TRUE(path.ok());
    ASSERT_TRUE(path->has_value());
    EXPECT_EQ((*path)->nodes, (std::vector<NodeRef>{N(kSpokes + 7), N(7), N(0)}));
    EXPECT_EQ((*path)->edges[1].label, "to_hub");
    EXPECT_EQ((*path)->edges[1].to_id, "c1r0");
    EXPECT_DOUBLE_EQ((*path)->total_weight, 3.0);
    // Against the edges: from the hub back to a feeder.
    auto back = ShortestPath(
        graph,
        {.from = N(0), .to = N(2 * kSpokes), .direction = Direction::kIn, .unweighted = true},
        TraversalLimits{});
    ASSERT_TRUE(back.ok());
    ASSERT_TRUE(back->has_value());
    EXPECT_EQ((*back)->edges.size(), 2u);
    EXPECT_TRUE((*back)->edges[0].reversed);
}

TEST(TraversalFast, PackedFindPathsReadsPropertiesOncePerList) {
    std::vector<TestEdge> edges = {{N(0), N(1), "a", 1.0, R"({"w":1})"},
                                   {N(1), N(2), "a", 2.0, R"({"w":2})"},
                                   {N(0), N(2), "b", 5.0},
                                   {N(2), N(3), "a", 1.0, R"({"w":3})"}};
    MapGraph plain(edges);
    MapGraph packed(edges);
    packed.set_packed(true);
    const PathSpec spec{.start = N(0), .min_hops = 1, .max_hops = 3};
    auto a = FindPaths(plain, spec, TraversalLimits{});
    auto b = FindPaths(packed, spec, TraversalLimits{});
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(b.ok());
    ASSERT_EQ(a->paths.size(), 5u);
    ASSERT_EQ(a->paths.size(), b->paths.size());
    for (std::size_t idx = 0; idx < a->paths.size(); ++idx) {
        EXPECT_TRUE(SamePath(a->paths[idx], b->paths[idx])) << idx;
    }
    EXPECT_EQ(b->paths[0].edges[0].properties, R"({"w":1})");
    // Lists 0, 1, 2 have edges with properties: each read once with them.
    EXPECT_EQ(packed.calls_with_properties, 3);
}

}  // namespace
}  // namespace phenix::graph
