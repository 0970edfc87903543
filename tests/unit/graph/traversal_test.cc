// SPDX-License-Identifier: Apache-2.0
#include "graph/traversal.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "graph/function_ref.h"
#include "unit/graph/map_graph.h"

namespace phenix::graph {
namespace {

using testing::MapGraph;
using testing::N;
using testing::TestEdge;

// (row, depth) pairs of an expansion, in result order.
std::vector<std::pair<std::uint64_t, std::uint32_t>> Rows(const ExpandResult& result) {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> rows;
    for (const ReachedNode& reached : result.nodes) {
        rows.emplace_back(reached.node.row, reached.depth);
    }
    return rows;
}

std::vector<std::uint64_t> PathRows(const Path& path) {
    std::vector<std::uint64_t> rows;
    for (const NodeRef& node : path.nodes) {
        rows.push_back(node.row);
    }
    return rows;
}

std::vector<std::string> PathLabels(const Path& path) {
    std::vector<std::string> labels;
    for (const PathStep& step : path.edges) {
        labels.push_back(step.label);
    }
    return labels;
}

// 0 -knows-> 1 -knows-> 3 -knows-> 0 (a cycle), 0 -likes-> 1 (a multi-edge), 0 -likes-> 2
// -knows-> 3, 3 -self-> 3 (a self-loop), 4 -knows-> 0.
MapGraph SocialGraph() {
    return MapGraph({
        {N(0), N(1), "knows", 1.0},
        {N(0), N(2), "likes", 2.0, R"({"since":2020})"},
        {N(1), N(3), "knows", 1.0},
        {N(2), N(3), "knows", 5.0},
        {N(3), N(0), "knows", 1.0},
        {N(3), N(3), "self", 1.0},
        {N(0), N(1), "likes", 3.0},
        {N(4), N(0), "knows", 1.0},
    });
}

Result<ExpandResult> ExpandFrom(MapGraph& graph, std::vector<NodeRef> starts,
                                std::uint32_t min_hops, std::uint32_t max_hops,
                                Direction dir = Direction::kOut, bool include_starts = false,
                                EdgePredicate edge = {}) {
    ExpandSpec spec{.starts = std::move(starts),
                    .min_hops = min_hops,
                    .max_hops = max_hops,
                    .direction = dir,
                    .edge = std::move(edge),
                    .include_starts = include_starts};
    return Expand(graph, spec, TraversalLimits{});
}

using Rs = std::vector<std::pair<std::uint64_t, std::uint32_t>>;

TEST(GraphFunctionRef, CallsTheReferencedCallable) {
    int total = 0;
    auto add = [&](int value) {
        total += value;
        return total;
    };
    FunctionRef<int(int)> ref = add;
    EXPECT_EQ(ref(2), 2);
    EXPECT_EQ(ref(3), 5);
    auto call = [](FunctionRef<void(int&)> fn) {
        int value = 1;
        fn(value);
        return value;
    };
    EXPECT_EQ(call([](int& value) { value *= 7; }), 7);
}

TEST(GraphNodeRef, OrdersByCollectionThenRowAndHashesBothFields) {
    EXPECT_LT((NodeRef{1, 9}), (NodeRef{2, 0}));
    EXPECT_LT((NodeRef{1, 1}), (NodeRef{1, 2}));
    EXPECT_EQ((NodeRef{3, 4}), (NodeRef{3, 4}));
    EXPECT_NE(NodeRefHash{}(NodeRef{1, 2}), NodeRefHash{}(NodeRef{2, 1}));
    EXPECT_EQ(std::hash<NodeRef>{}(NodeRef{5, 6}), NodeRefHash{}(NodeRef{5, 6}));
}

TEST(TraversalExpand, OneAndTwoHopsOut) {
    MapGraph graph = SocialGraph();
    auto one = ExpandFrom(graph, {N(0)}, 1, 1);
    ASSERT_TRUE(one.ok()) << one.status().ToString();
    EXPECT_EQ(Rows(*one), (Rs{{1, 1}, {2, 1}}));
    EXPECT_EQ(one->edges_examined, 3u);
    auto two = ExpandFrom(graph, {N(0)}, 1, 2);
    ASSERT_TRUE(two.ok());
    EXPECT_EQ(Rows(*two), (Rs{{1, 1}, {2, 1}, {3, 2}}));
}

TEST(TraversalExpand, CycleReturnsToTheStartOnlyWithIncludeStarts) {
    MapGraph graph = SocialGraph();
    auto without = ExpandFrom(graph, {N(0)}, 1, 3);
    ASSERT_TRUE(without.ok());
    EXPECT_EQ(Rows(*without), (Rs{{1, 1}, {2, 1}, {3, 2}}));
    auto with = ExpandFrom(graph, {N(0)}, 1, 3, Direction::kOut, true);
    ASSERT_TRUE(with.ok());
    EXPECT_EQ(Rows(*with), (Rs{{1, 1}, {2, 1}, {3, 2}, {0, 3}}));
    // Two hops do not get back to 0.
    auto short_walks = ExpandFrom(graph, {N(0)}, 1, 2, Direction::kOut, true);
    ASSERT_TRUE(short_walks.ok());
    EXPECT_EQ(Rows(*short_walks), (Rs{{1, 1}, {2, 1}, {3, 2}}));
}

TEST(TraversalExpand, MinHopsZeroReturnsTheStartsWhenIncluded) {
    MapGraph graph = SocialGraph();
    auto with = ExpandFrom(graph, {N(0)}, 0, 1, Direction::kOut, true);
    ASSERT_TRUE(with.ok());
    EXPECT_EQ(Rows(*with), (Rs{{0, 0}, {1, 1}, {2, 1}}));
    auto without = ExpandFrom(graph, {N(0)}, 0, 1);
    ASSERT_TRUE(without.ok());
    EXPECT_EQ(Rows(*without), (Rs{{1, 1}, {2, 1}}));
    graph.calls = 0;
    auto zero = ExpandFrom(graph, {N(0), N(4), N(0)}, 0, 0, Direction::kOut, true);
    ASSERT_TRUE(zero.ok());
    EXPECT_EQ(Rows(*zero), (Rs{{0, 0}, {4, 0}}));
    EXPECT_EQ(graph.calls, 0);
}

TEST(TraversalExpand, MinHopsCountsExactWalkLengths) {
    MapGraph graph = SocialGraph();
    // Exactly two hops: only 3 (1 and 2 are one hop away and no 2-hop walk ends there).
    auto two = ExpandFrom(graph, {N(0)}, 2, 2);
    ASSERT_TRUE(two.ok());
    EXPECT_EQ(Rows(*two), (Rs{{3, 2}}));
    // Exactly three hops: 0 (a start) and 3 again through its self-loop.
    auto three = ExpandFrom(graph, {N(0)}, 3, 3);
    ASSERT_TRUE(three.ok());
    EXPECT_EQ(Rows(*three), (Rs{{3, 3}}));
    auto three_with_starts = ExpandFrom(graph, {N(0)}, 3, 3, Direction::kOut, true);
    ASSERT_TRUE(three_with_starts.ok());
    EXPECT_EQ(Rows(*three_with_starts), (Rs{{0, 3}, {3, 3}}));
    // 3..5: 0@3, then 1 and 2 again at 4, 3 at 3.
    auto range = ExpandFrom(graph, {N(0)}, 3, 5, Direction::kOut, true);
    ASSERT_TRUE(range.ok());
    EXPECT_EQ(Rows(*range), (Rs{{0, 3}, {3, 3}, {1, 4}, {2, 4}}));
}

TEST(TraversalExpand, TwoHopsWithoutAOneHopShortcut) {
    // 0 -> 1 -> 2 and 0 -> 2: 2 is at one hop and also at exactly two.
    MapGraph graph({{N(0), N(1)}, {N(1), N(2)}, {N(0), N(2)}});
    auto two = ExpandFrom(graph, {N(0)}, 2, 2);
    ASSERT_TRUE(two.ok());
    EXPECT_EQ(Rows(*two), (Rs{{2, 2}}));
}

TEST(TraversalExpand, FollowsLabelsOnly) {
    MapGraph graph = SocialGraph();
    auto knows = ExpandFrom(graph, {N(0)}, 1, 3, Direction::kOut, true, {.labels = {"knows"}});
    ASSERT_TRUE(knows.ok());
    EXPECT_EQ(Rows(*knows), (Rs{{1, 1}, {3, 2}, {0, 3}}));
    auto several =
        ExpandFrom(graph, {N(3)}, 1, 1, Direction::kOut, false, {.labels = {"self", "nothing"}});
    ASSERT_TRUE(several.ok());
    EXPECT_EQ(Rows(*several), (Rs{}));  // the self-loop reaches only the start
    auto self = ExpandFrom(graph, {N(3)}, 1, 1, Direction::kOut, true, {.labels = {"self"}});
    ASSERT_TRUE(self.ok());
    EXPECT_EQ(Rows(*self), (Rs{{3, 1}}));
}

TEST(TraversalExpand, FiltersOnWeightBoundsInclusive) {
    MapGraph graph = SocialGraph();
    auto heavy = ExpandFrom(graph, {N(0)}, 1, 1, Direction::kOut, false, {.min_weight = 2.0});
    ASSERT_TRUE(heavy.ok());
    EXPECT_EQ(Rows(*heavy), (Rs{{1, 1}, {2, 1}}));  // likes(3) -> 1, likes(2) -> 2
    auto light = ExpandFrom(graph, {N(0)}, 1, 1, Direction::kOut, false, {.max_weight = 1.0});
    ASSERT_TRUE(light.ok());
    EXPECT_EQ(Rows(*light), (Rs{{1, 1}}));
    auto band = ExpandFrom(graph, {N(0)}, 1, 1, Direction::kOut, false,
                           {.min_weight = 2.0, .max_weight = 2.0});
    ASSERT_TRUE(band.ok());
    EXPECT_EQ(Rows(*band), (Rs{{2, 1}}));
}

TEST(TraversalExpand, PropertyPredicateAsksTheSourceForProperties) {
    MapGraph graph = SocialGraph();
    auto plain = ExpandFrom(graph, {N(0)}, 1, 1);
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(graph.calls_with_properties, 0);
    EdgePredicate since{.properties = [](std::string_view json) {
        return json.find("\"since\"") != std::string_view::npos;
    }};
    auto with = ExpandFrom(graph, {N(0)}, 1, 2, Direction::kOut, false, since);
    ASSERT_TRUE(with.ok());
    EXPECT_EQ(Rows(*with), (Rs{{2, 1}}));
    EXPECT_GT(graph.calls_with_properties, 0);
}

TEST(TraversalExpand, FollowsInEdgesAndBothDirections) {
    MapGraph graph = SocialGraph();
    auto in = ExpandFrom(graph, {N(0)}, 1, 1, Direction::kIn);
    ASSERT_TRUE(in.ok());
    EXPECT_EQ(Rows(*in), (Rs{{3, 1}, {4, 1}}));
    auto both = ExpandFrom(graph, {N(1)}, 1, 1, Direction::kBoth);
    ASSERT_TRUE(both.ok());
    EXPECT_EQ(Rows(*both), (Rs{{0, 1}, {3, 1}}));
    auto both_far = ExpandFrom(graph, {N(4)}, 1, 2, Direction::kBoth);
    ASSERT_TRUE(both_far.ok());
    EXPECT_EQ(Rows(*both_far), (Rs{{0, 1}, {1, 2}, {2, 2}, {3, 2}}));
}

TEST(TraversalExpand, RejectsBadHopRanges) {
    MapGraph graph = SocialGraph();
    auto inverted = ExpandFrom(graph, {N(0)}, 3, 2);
    ASSERT_FALSE(inverted.ok());
    EXPECT_EQ(inverted.status().code(), StatusCode::kInvalidArgument);
    ExpandSpec deep{.starts = {N(0)}, .max_hops = 17};
    auto too_deep = Expand(graph, deep, TraversalLimits{});
    ASSERT_FALSE(too_deep.ok());
    EXPECT_EQ(too_deep.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(too_deep.status().message().find("Options::max_traversal_depth"), std::string::npos)
        << too_deep.status().ToString();
    EXPECT_EQ(graph.calls, 0);
}

TEST(TraversalExpand, ReturnsTheSourcesError) {
    MapGraph graph = SocialGraph();
    graph.fail_on = N(1);
    auto result = ExpandFrom(graph, {N(0)}, 1, 2);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kIOError);
    // Not reached within one hop's expansion: no error.
    auto near = ExpandFrom(graph, {N(0)}, 1, 1);
    EXPECT_TRUE(near.ok());
}

TEST(TraversalExpand, StopsAtTheNodeLimit) {
    MapGraph graph = SocialGraph();
    ExpandSpec spec{.starts = {N(0)}, .min_hops = 1, .max_hops = 3};
    auto result = Expand(graph, spec, TraversalLimits{.max_nodes = 2});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
    const std::string& message = result.status().message();
    EXPECT_NE(message.find("max_nodes"), std::string::npos) << message;
    EXPECT_NE(message.find("(2 nodes)"), std::string::npos) << message;
    EXPECT_NE(message.find("Options::max_traversal_nodes / max_traversal_edges"), std::string::npos)
        << message;
    auto enough = Expand(graph, spec, TraversalLimits{.max_nodes = 4});
    EXPECT_TRUE(enough.ok());
}

TEST(TraversalExpand, StopsAtTheEdgeLimit) {
    MapGraph graph = SocialGraph();
    ExpandSpec spec{.starts = {N(0)}, .min_hops = 1, .max_hops = 3};
    auto result = Expand(graph, spec, TraversalLimits{.max_edges = 4});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(result.status().message().find("max_edges limit (4 edges)"), std::string::npos)
        << result.status().ToString();
}

// An unbounded pseudo-random graph: every node has `degree` out-edges to hashed rows among
// 2^40; nothing is materialised, so only the traversal's own memory grows.
class DenseSource : public AdjacencySource {
  public:
    explicit DenseSource(std::uint32_t degree, std::uint64_t num_nodes = std::uint64_t{1} << 40)
        : degree_(degree), num_nodes_(num_nodes) {}

    Status ForEachEdge(NodeRef node, Direction, bool,
                       FunctionRef<bool(const EdgeView&)> visit) override {
        for (std::uint32_t idx = 0; idx < degree_; ++idx) {
            ++delivered;
            const std::uint64_t row = NodeRefHash{}(NodeRef{idx, node.row}) % num_nodes_;
            if (!visit(EdgeView{.other = NodeRef{node.collection, row}, .label = "e"})) {
                break;
            }
        }
        return Status::Ok();
    }
    std::uint64_t delivered = 0;

  private:
    std::uint32_t degree_;
    std::uint64_t num_nodes_;
};

TEST(TraversalExpand, TenHopsOnADenseGraphFailsCleanly) {
    DenseSource source(32);
    const TraversalLimits limits{.max_nodes = 20'000, .max_edges = 2'000'000};
    auto wide = Expand(source, ExpandSpec{.starts = {N(0)}, .min_hops = 1, .max_hops = 10}, limits);
    ASSERT_FALSE(wide.ok());
    EXPECT_EQ(wide.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(wide.status().message().find("max_nodes"), std::string::npos);
    // It stopped as soon as the set outgrew the limit: about max_nodes / 32 nodes expanded.
    EXPECT_LT(source.delivered, 2 * limits.max_nodes);

    // Exact levels (min_hops = 10) on a finite dense graph: bounded by the edge limit.
    // Every level holds at most 500 nodes, but each costs 32,000 edges.
    DenseSource finite(64, 500);
    const TraversalLimits few_edges{.max_edges = 100'000};
    auto deep =
        Expand(finite, ExpandSpec{.starts = {N(0)}, .min_hops = 10, .max_hops = 10}, few_edges);
    ASSERT_FALSE(deep.ok());
    EXPECT_EQ(deep.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(deep.status().message().find("max_edges"), std::string::npos);
    EXPECT_EQ(finite.delivered, few_edges.max_edges + 1);
}

TEST(TraversalDegree, CountsEachDirectionAndMultiEdges) {
    MapGraph graph = SocialGraph();
    auto degree = [&](std::uint64_t row, Direction dir, EdgePredicate edge = {}) {
        auto result = Degree(graph, N(row), dir, edge);
        EXPECT_TRUE(result.ok());
        return result.value_or(999);
    };
    EXPECT_EQ(degree(0, Direction::kOut), 3u);  // knows->1, likes->1, likes->2
    EXPECT_EQ(degree(0, Direction::kIn), 2u);
    EXPECT_EQ(degree(0, Direction::kBoth), 5u);
    EXPECT_EQ(degree(0, Direction::kOut, {.labels = {"likes"}}), 2u);
    // The self-loop counts once per direction.
    EXPECT_EQ(degree(3, Direction::kOut), 2u);
    EXPECT_EQ(degree(3, Direction::kIn), 3u);
    EXPECT_EQ(degree(3, Direction::kBoth), 5u);
    EXPECT_EQ(degree(3, Direction::kBoth, {.labels = {"self"}}), 2u);
    EXPECT_EQ(degree(9, Direction::kBoth), 0u);
    graph.fail_on = N(0);
    EXPECT_EQ(Degree(graph, N(0), Direction::kOut, {}).status().code(), StatusCode::kIOError);
}

Result<FindPathsResult> PathsFrom(MapGraph& graph, PathSpec spec, TraversalLimits limits = {}) {
    return FindPaths(graph, spec, limits);
}

using PathList = std::vector<std::vector<std::uint64_t>>;

PathList AllRows(const FindPathsResult& result) {
    PathList rows;
    for (const Path& path : result.paths) {
        EXPECT_EQ(path.nodes.size(), path.edges.size() + 1);
        rows.push_back(PathRows(path));
    }
    return rows;
}

TEST(TraversalFindPaths, EnumeratesSimplePathsDepthFirst) {
    MapGraph graph = SocialGraph();
    auto result = PathsFrom(graph, {.start = N(0), .min_hops = 1, .max_hops = 3});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_FALSE(result->truncated);
    EXPECT_EQ(AllRows(*result),
              (PathList{{0, 1}, {0, 1, 3}, {0, 1}, {0, 1, 3}, {0, 2}, {0, 2, 3}}));
    EXPECT_EQ(PathLabels(result->paths[2]), (std::vector<std::string>{"likes"}));
    EXPECT_EQ(PathLabels(result->paths[3]), (std::vector<std::string>{"likes", "knows"}));
    EXPECT_DOUBLE_EQ(result->paths[5].total_weight, 7.0);
    EXPECT_EQ(result->paths[4].edges[0].properties, R"({"since":2020})");
    EXPECT_TRUE(result->paths[4].edges[0].has_properties);
    EXPECT_FALSE(result->paths[0].edges[0].has_properties);
}

TEST(TraversalFindPaths, ClosesACycleOnlyWhenTheEndIsTheStart) {
    MapGraph graph = SocialGraph();
    auto cycles = PathsFrom(graph, {.start = N(0), .end = N(0), .min_hops = 1, .max_hops = 3});
    ASSERT_TRUE(cycles.ok());
    EXPECT_EQ(AllRows(*cycles), (PathList{{0, 1, 3, 0}, {0, 1, 3, 0}, {0, 2, 3, 0}}));
    auto too_short = PathsFrom(graph, {.start = N(0), .end = N(0), .min_hops = 1, .max_hops = 2});
    ASSERT_TRUE(too_short.ok());
    EXPECT_TRUE(too_short->paths.empty());
    // From 3 back to 3: through 0 and 1 or 2, or along the self-loop.
    auto loops = PathsFrom(graph, {.start = N(3), .end = N(3), .min_hops = 1, .max_hops = 3});
    ASSERT_TRUE(loops.ok());
    EXPECT_EQ(AllRows(*loops), (PathList{{3, 0, 1, 3}, {3, 0, 1, 3}, {3, 0, 2, 3}, {3, 3}}));
    EXPECT_EQ(PathLabels(loops->paths[3]), (std::vector<std::string>{"self"}));
}

// Issue 13: MATCH with an edge variable asks for paths to anywhere that may also close on the
// start, so that a self-loop is a row.
TEST(TraversalFindPaths, IncludeCyclesClosesOnTheStartWithoutAnEnd) {
    MapGraph graph = SocialGraph();
    auto from_three =
        PathsFrom(graph, {.start = N(3), .min_hops = 1, .max_hops = 2, .include_cycles = true});
    ASSERT_TRUE(from_three.ok());
    EXPECT_EQ(AllRows(*from_three), (PathList{{3, 0}, {3, 0, 1}, {3, 0, 1}, {3, 0, 2}, {3, 3}}));
    auto without = PathsFrom(graph, {.start = N(3), .min_hops = 1, .max_hops = 2});
    ASSERT_TRUE(without.ok());
    EXPECT_EQ(AllRows(*without), (PathList{{3, 0}, {3, 0, 1}, {3, 0, 1}, {3, 0, 2}}));
    // Under kBoth the self-loop is still one path, not two.
    auto both = PathsFrom(
        graph,
        {.start = N(3), .max_hops = 1, .direction = Direction::kBoth, .include_cycles = true});
    ASSERT_TRUE(both.ok());
    EXPECT_EQ(AllRows(*both), (PathList{{3, 0}, {3, 3}, {3, 1}, {3, 2}}));
}

TEST(TraversalFindPaths, EndsAtTheGivenNodeAndHonoursMinHops) {
    MapGraph graph = SocialGraph();
    auto to_three = PathsFrom(graph, {.start = N(0), .end = N(3), .min_hops = 1, .max_hops = 4});
    ASSERT_TRUE(to_three.ok());
    EXPECT_EQ(AllRows(*to_three), (PathList{{0, 1, 3}, {0, 1, 3}, {0, 2, 3}}));
    auto long_only = PathsFrom(graph, {.start = N(4), .end = N(3), .min_hops = 3, .max_hops = 3});
    ASSERT_TRUE(long_only.ok());
    EXPECT_EQ(AllRows(*long_only), (PathList{{4, 0, 1, 3}, {4, 0, 1, 3}, {4, 0, 2, 3}}));
    auto zero = PathsFrom(graph, {.start = N(0), .min_hops = 0, .max_hops = 1});
    ASSERT_TRUE(zero.ok());
    EXPECT_EQ(AllRows(*zero), (PathList{{0}, {0, 1}, {0, 1}, {0, 2}}));
    auto zero_elsewhere =
        PathsFrom(graph, {.start = N(0), .end = N(2), .min_hops = 0, .max_hops = 1});
    ASSERT_TRUE(zero_elsewhere.ok());
    EXPECT_EQ(AllRows(*zero_elsewhere), (PathList{{0, 2}}));
}

TEST(TraversalFindPaths, FollowsASelfLoopOnceUnderBoth) {
    MapGraph graph = SocialGraph();
    auto loops = PathsFrom(
        graph, {.start = N(3), .end = N(3), .max_hops = 1, .direction = Direction::kBoth});
    ASSERT_TRUE(loops.ok());
    ASSERT_EQ(AllRows(*loops), (PathList{{3, 3}}));
    EXPECT_FALSE(loops->paths[0].edges[0].reversed);
    auto in = PathsFrom(graph, {.start = N(3), .max_hops = 1, .direction = Direction::kIn});
    ASSERT_TRUE(in.ok());
    EXPECT_EQ(AllRows(*in), (PathList{{3, 1}, {3, 2}}));
    EXPECT_TRUE(in->paths[0].edges[0].reversed);
}

// Under kBoth, a -> b seen from b's side leads back to a over the same edge: not a cycle.
// A distinct edge b -> a with the same label is one.
TEST(TraversalFindPaths, NeverWalksOneEdgeOutAndBackAsACycle) {
    MapGraph one_edge({{N(1), N(0), "r", 1.0}});
    auto none = PathsFrom(
        one_edge,
        {.start = N(0), .end = N(0), .min_hops = 1, .max_hops = 2, .direction = Direction::kBoth});
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->paths.empty());
    MapGraph two_edges({{N(1), N(0), "r", 1.0}, {N(0), N(1), "r", 1.0}});
    auto cycles = PathsFrom(
        two_edges,
        {.start = N(0), .end = N(0), .min_hops = 2, .max_hops = 2, .direction = Direction::kBoth});
    ASSERT_TRUE(cycles.ok());
    EXPECT_EQ(cycles->paths.size(), 2u);  // out then in, and in then out
}

TEST(TraversalFindPaths, TruncatesAtMaxPaths) {
    MapGraph graph = SocialGraph();
    auto result = PathsFrom(graph, {.start = N(0), .max_hops = 3}, {.max_paths = 4});
    ASSERT_TRUE(result.ok());
    EXPECT_TRUE(result->truncated);
    EXPECT_EQ(AllRows(*result), (PathList{{0, 1}, {0, 1, 3}, {0, 1}, {0, 1, 3}}));
    auto exact = PathsFrom(graph, {.start = N(0), .max_hops = 3}, {.max_paths = 6});
    ASSERT_TRUE(exact.ok());
    EXPECT_FALSE(exact->truncated);
    EXPECT_EQ(exact->paths.size(), 6u);
}

TEST(TraversalFindPaths, LeavesOutPropertiesWhenNotAsked) {
    MapGraph graph = SocialGraph();
    auto result =
        PathsFrom(graph, {.start = N(0), .end = N(2), .max_hops = 1, .include_properties = false});
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->paths.size(), 1u);
    EXPECT_TRUE(result->paths[0].edges[0].properties.empty());
    EXPECT_TRUE(result->paths[0].edges[0].has_properties);
    EXPECT_EQ(graph.calls_with_properties, 0);
}

TEST(TraversalFindPaths, ReportsLimitsAndErrors) {
    MapGraph graph = SocialGraph();
    auto edges = PathsFrom(graph, {.start = N(0), .max_hops = 3}, {.max_edges = 3});
    ASSERT_FALSE(edges.ok());
    EXPECT_EQ(edges.status().code(), StatusCode::kResourceExhausted);
    auto deep = PathsFrom(graph, {.start = N(0), .max_hops = 17});
    EXPECT_EQ(deep.status().code(), StatusCode::kInvalidArgument);
    auto inverted = PathsFrom(graph, {.start = N(0), .min_hops = 2, .max_hops = 1});
    EXPECT_EQ(inverted.status().code(), StatusCode::kInvalidArgument);
    graph.fail_on = N(2);
    auto failed = PathsFrom(graph, {.start = N(0), .max_hops = 3});
    EXPECT_EQ(failed.status().code(), StatusCode::kIOError);
}

// 0 -r(1)-> 1 -r(1)-> 2 -r(1)-> 3, 0 -r(5)-> 2, 0 -s(10)-> 3.
MapGraph WeightedGraph() {
    return MapGraph({
        {N(0), N(1), "r", 1.0},
        {N(1), N(2), "r", 1.0, R"({"toll":true})"},
        {N(2), N(3), "r", 1.0},
        {N(0), N(2), "r", 5.0},
        {N(0), N(3), "s", 10.0},
    });
}

Result<std::optional<Path>> Shortest(MapGraph& graph, ShortestPathSpec spec,
                                     TraversalLimits limits = {}) {
    return ShortestPath(graph, spec, limits);
}

TEST(TraversalShortestPath, FindsTheLightestPath) {
    MapGraph graph = WeightedGraph();
    auto result = Shortest(graph, {.from = N(0), .to = N(3)});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ASSERT_TRUE(result->has_value());
    const Path& path = **result;
    EXPECT_EQ(PathRows(path), (std::vector<std::uint64_t>{0, 1, 2, 3}));
    EXPECT_DOUBLE_EQ(path.total_weight, 3.0);
    EXPECT_EQ(path.edges[1].properties, R"({"toll":true})");
    EXPECT_TRUE(path.edges[1].has_properties);
}

TEST(TraversalShortestPath, RespectsTheHopBoundExactly) {
    MapGraph graph = WeightedGraph();
    auto two = Shortest(graph, {.from = N(0), .to = N(3), .max_hops = 2});
    ASSERT_TRUE(two.ok());
    ASSERT_TRUE(two->has_value());
    EXPECT_EQ(PathRows(**two), (std::vector<std::uint64_t>{0, 2, 3}));
    EXPECT_DOUBLE_EQ((*two)->total_weight, 6.0);
    auto one = Shortest(graph, {.from = N(0), .to = N(3), .max_hops = 1});
    ASSERT_TRUE(one.ok());
    ASSERT_TRUE(one->has_value());
    EXPECT_EQ(PathLabels(**one), (std::vector<std::string>{"s"}));
    auto none =
        Shortest(graph, {.from = N(0), .to = N(3), .edge = {.labels = {"r"}}, .max_hops = 1});
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
}

TEST(TraversalShortestPath, RevisitsANodeWithFewerHopsWhenTheBoundNeedsIt) {
    // The lightest way to 2 (0 -> 1 -> 2, weight 0) uses up both hops; 2 -> 3 then needs the
    // heavier direct edge 0 -> 2.
    MapGraph graph({{N(0), N(1), "r", 0.0},
                    {N(1), N(2), "r", 0.0},
                    {N(2), N(3), "r", 0.0},
                    {N(0), N(2), "r", 5.0}});
    auto result = Shortest(graph, {.from = N(0), .to = N(3), .max_hops = 2});
    ASSERT_TRUE(result.ok());
    ASSERT_TRUE(result->has_value());
    EXPECT_EQ(PathRows(**result), (std::vector<std::uint64_t>{0, 2, 3}));
    EXPECT_DOUBLE_EQ((*result)->total_weight, 5.0);
}

TEST(TraversalShortestPath, ZeroLengthAndUnreachable) {
    MapGraph graph = WeightedGraph();
    auto same = Shortest(graph, {.from = N(2), .to = N(2)});
    ASSERT_TRUE(same.ok());
    ASSERT_TRUE(same->has_value());
    EXPECT_EQ(PathRows(**same), (std::vector<std::uint64_t>{2}));
    EXPECT_TRUE((*same)->edges.empty());
    EXPECT_EQ((*same)->total_weight, 0.0);
    auto back = Shortest(graph, {.from = N(3), .to = N(0)});
    ASSERT_TRUE(back.ok());
    EXPECT_FALSE(back->has_value());
}

TEST(TraversalShortestPath, WalksInEdgesReversed) {
    MapGraph graph = WeightedGraph();
    auto result = Shortest(graph, {.from = N(3), .to = N(0), .direction = Direction::kIn});
    ASSERT_TRUE(result.ok());
    ASSERT_TRUE(result->has_value());
    EXPECT_EQ(PathRows(**result), (std::vector<std::uint64_t>{3, 2, 1, 0}));
    for (const PathStep& step : (*result)->edges) {
        EXPECT_TRUE(step.reversed);
    }
    EXPECT_EQ((*result)->edges[1].properties, R"({"toll":true})");
    auto both = Shortest(graph, {.from = N(3), .to = N(1), .direction = Direction::kBoth});
    ASSERT_TRUE(both.ok());
    ASSERT_TRUE(both->has_value());
    EXPECT_EQ(PathRows(**both), (std::vector<std::uint64_t>{3, 2, 1}));
}

TEST(TraversalShortestPath, BreaksTiesByHopsThenEdgeOrder) {
    MapGraph graph({
        {N(0), N(1), "a", 1.0},
        {N(1), N(3), "a", 1.0},
        {N(0), N(2), "b", 1.0},
        {N(2), N(3), "b", 1.0},
        {N(0), N(3), "c", 2.0},
    });
    auto fewest_hops = Shortest(graph, {.from = N(0), .to = N(3)});
    ASSERT_TRUE(fewest_hops.ok());
    ASSERT_TRUE(fewest_hops->has_value());
    EXPECT_EQ(PathLabels(**fewest_hops), (std::vector<std::string>{"c"}));
    auto first = Shortest(graph, {.from = N(0), .to = N(3), .edge = {.labels = {"a", "b"}}});
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(first->has_value());
    EXPECT_EQ(PathRows(**first), (std::vector<std::uint64_t>{0, 1, 3}));
}

TEST(TraversalShortestPath, RejectsNegativeAndNonFiniteWeights) {
    MapGraph negative({{N(0), N(1), "x", -1.0}, {N(0), N(2), "ok", 1.0}});
    auto result = Shortest(negative, {.from = N(0), .to = N(2)});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find("(1:0)-[x]->(1:1)"), std::string::npos)
        << result.status().ToString();
    // An edge the predicate excludes is never followed, so its weight does not matter.
    auto filtered = Shortest(negative, {.from = N(0), .to = N(2), .edge = {.labels = {"ok"}}});
    ASSERT_TRUE(filtered.ok());
    EXPECT_TRUE(filtered->has_value());
    MapGraph not_a_number({{N(0), N(1), "x", std::nan("")}});
    EXPECT_EQ(Shortest(not_a_number, {.from = N(0), .to = N(1)}).status().code(),
              StatusCode::kInvalidArgument);
    MapGraph infinite({{N(5), N(4), "x", std::numeric_limits<double>::infinity()}});
    auto reversed = Shortest(infinite, {.from = N(4), .to = N(5), .direction = Direction::kIn});
    ASSERT_FALSE(reversed.ok());
    EXPECT_NE(reversed.status().message().find("(1:5)-[x]->(1:4)"), std::string::npos)
        << reversed.status().ToString();
}

TEST(TraversalShortestPath, ReportsLimits) {
    MapGraph graph = WeightedGraph();
    auto nodes = Shortest(graph, {.from = N(0), .to = N(3)}, {.max_nodes = 2});
    ASSERT_FALSE(nodes.ok());
    EXPECT_EQ(nodes.status().code(), StatusCode::kResourceExhausted);
    auto edges = Shortest(graph, {.from = N(0), .to = N(3)}, {.max_edges = 2});
    EXPECT_EQ(edges.status().code(), StatusCode::kResourceExhausted);
    auto deep = Shortest(graph, {.from = N(0), .to = N(3), .max_hops = 17});
    EXPECT_EQ(deep.status().code(), StatusCode::kInvalidArgument);
    graph.fail_on = N(1);
    EXPECT_EQ(Shortest(graph, {.from = N(0), .to = N(3)}).status().code(), StatusCode::kIOError);
}

TEST(TraversalShortestPath, LeavesOutPropertiesWhenNotAsked) {
    MapGraph graph = WeightedGraph();
    auto result = Shortest(graph, {.from = N(0), .to = N(3), .include_properties = false});
    ASSERT_TRUE(result.ok());
    ASSERT_TRUE(result->has_value());
    EXPECT_TRUE((*result)->edges[1].properties.empty());
    EXPECT_TRUE((*result)->edges[1].has_properties);
    EXPECT_EQ(graph.calls_with_properties, 0);
}

}  // namespace
}  // namespace phenix::graph
