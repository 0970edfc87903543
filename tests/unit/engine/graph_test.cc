// SPDX-License-Identifier: Apache-2.0
// Graph operators through the public API: k-hop expansion, paths, Dijkstra and degree over the
// stored adjacency, at the caller's snapshot (a transaction's own edges included), with the
// adjacency cache in play and the documented limits enforced.
#include <algorithm>
#include <random>
#include <set>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;
using IdList = std::vector<std::string>;

class GraphTest : public DbTest {
  protected:
    IdList Reach(const TraversalSpec& spec, Transaction* txn = nullptr) {
        auto r = txn ? txn->Traverse("docs", spec) : db_->Traverse("docs", spec);
        EXPECT_TRUE(r.ok()) << r.status().ToString();
        IdList ids;
        if (r.ok()) {
            for (const ReachedEntity& e : r->entities) {
                ids.push_back(e.id + "@" + std::to_string(e.depth));
            }
        }
        std::sort(ids.begin(), ids.end());
        return ids;
    }
    void Node(const std::string& id, std::vector<Edge> edges = {}) {
        PHENIX_ASSERT_OK(db_->Upsert("docs", Doc(id, {0.1f, 0.2f, 0.3f, 0.4f}, "{}", edges)));
    }
    // a -> b -> c -> a (cycle), c -> d, d -> d (self-loop), a =likes=> c (multi-label)
    void BuildSmallGraph() {
        for (const char* id : {"a", "b", "c", "d"}) {
            Node(id);
        }
        Node("a", {To("b", "next"), To("c", "likes", 5.0)});
        Node("b", {To("c", "next", 2.0)});
        Node("c", {To("a", "next"), To("d", "next", 0.5)});
        Node("d", {To("d", "self")});
    }
};

TEST_F(GraphTest, KHopExpansionWithCyclesSelfLoopsLabelsAndDirections) {
    BuildSmallGraph();
    EXPECT_EQ(Reach({.start_id = "a"}), (IdList{"b@1", "c@1"}));
    EXPECT_EQ(Reach({.start_id = "a", .max_hops = 2}), (IdList{"b@1", "c@1", "d@2"}));
    // The cycle returns to the start only when asked for.
    EXPECT_EQ(Reach({.start_id = "a", .max_hops = 3, .include_start = true}),
              (IdList{"a@2", "b@1", "c@1", "d@2"}));
    EXPECT_EQ(Reach({.start_id = "a", .max_hops = 2, .edges = {.labels = {"next"}}}),
              (IdList{"b@1", "c@2"}));
    // Exactly 2 hops (walks): c via b, a via c, d via c.
    EXPECT_EQ(Reach({.start_id = "a", .min_hops = 2, .max_hops = 2}), (IdList{"c@2", "d@2"}));
    // The self-loop reaches the start, which is left out unless include_start.
    EXPECT_EQ(Reach({.start_id = "d", .direction = EdgeDirection::kIn}), (IdList{"c@1"}));
    EXPECT_EQ(Reach({.start_id = "d", .direction = EdgeDirection::kIn, .include_start = true}),
              (IdList{"c@1", "d@1"}));
    EXPECT_EQ(Reach({.start_id = "b", .direction = EdgeDirection::kBoth}), (IdList{"a@1", "c@1"}));
    EXPECT_EQ(Reach({.start_id = "a", .max_hops = 3, .edges = {.min_weight = 1.5}}),
              (IdList{"c@1"}));
    EXPECT_EQ(Reach({.start_id = "d", .min_hops = 0, .max_hops = 0, .include_start = true}),
              (IdList{"d@0"}));
}

TEST_F(GraphTest, EdgePropertiesFilter) {
    Node("x");
    Node("y");
    Edge old_edge = To("x", "knows");
    old_edge.properties = R"({"since":2010})";
    Edge new_edge = To("y", "knows");
    new_edge.properties = R"({"since":2022})";
    Node("s", {old_edge, new_edge});
    EXPECT_EQ(Reach({.start_id = "s", .edges = {.properties_filter = R"({"since":{"$gt":2015}})"}}),
              (IdList{"y@1"}));
    auto bad = db_->Traverse("docs", {.start_id = "s", .edges = {.properties_filter = "{"}});
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(GraphTest, DeletedTargetsAreNeverReturnedAndTheCacheFollowsCommits) {
    BuildSmallGraph();
    // Warm the cache, then change the graph: every later read sees the change.
    EXPECT_EQ(Reach({.start_id = "a", .max_hops = 2}), (IdList{"b@1", "c@1", "d@2"}));
    auto before = db_->BeginTransaction({.read_only = true});
    ASSERT_TRUE(before.ok());
    PHENIX_ASSERT_OK(db_->Delete("docs", "c"));
    EXPECT_EQ(Reach({.start_id = "a", .max_hops = 3}), (IdList{"b@1"}));
    EXPECT_EQ(Reach({.start_id = "d", .direction = EdgeDirection::kIn, .include_start = true}),
              (IdList{"d@1"}));
    // The older snapshot still sees the old graph (from storage, not the cache).
    EXPECT_EQ(Reach({.start_id = "a", .max_hops = 2}, before->get()),
              (IdList{"b@1", "c@1", "d@2"}));
    Node("b", {To("d", "next")});
    EXPECT_EQ(Reach({.start_id = "a", .max_hops = 3}), (IdList{"b@1", "d@2"}));
    EXPECT_EQ(Reach({.start_id = "a", .max_hops = 3}), (IdList{"b@1", "d@2"}));  // cached now
    PHENIX_ASSERT_OK(db_->Verify());
}

TEST_F(GraphTest, TransactionTraversesItsOwnUncommittedEdges) {
    BuildSmallGraph();
    Node("e");
    auto txn = db_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    PHENIX_ASSERT_OK((*txn)->Upsert("docs", Doc("d", {1, 0, 0, 0}, "{}", {To("e", "next")})));
    PHENIX_ASSERT_OK((*txn)->Insert("docs", Doc("f", {1, 0, 0, 0}, "{}", {To("a", "next")})));
    EXPECT_EQ(Reach({.start_id = "c", .max_hops = 2}, txn->get()),
              (IdList{"a@1", "b@2", "d@1", "e@2"}));
    EXPECT_EQ(Reach({.start_id = "a", .direction = EdgeDirection::kIn}, txn->get()),
              (IdList{"c@1", "f@1"}));
    auto degree = (*txn)->Degree("docs", "a", EdgeDirection::kIn);
    ASSERT_TRUE(degree.ok());
    EXPECT_EQ(*degree, 2u);
    // Outside the transaction nothing changed.
    EXPECT_EQ(Reach({.start_id = "c", .max_hops = 2}), (IdList{"a@1", "b@2", "d@1"}));
    PHENIX_ASSERT_OK((*txn)->Rollback());
    EXPECT_EQ(Reach({.start_id = "a", .direction = EdgeDirection::kIn}), (IdList{"c@1"}));
}

TEST_F(GraphTest, ShortestPathPathsAndDegree) {
    BuildSmallGraph();
    auto path = db_->ShortestPath("docs", {.from_id = "a", .to_id = "d"});
    ASSERT_TRUE(path.ok()) << path.status().ToString();
    ASSERT_TRUE(path->has_value());
    // a -next(1)-> b -next(2)-> c -next(0.5)-> d = 3.5 beats a -likes(5)-> c -> d = 5.5.
    EXPECT_DOUBLE_EQ((*path)->total_weight, 3.5);
    ASSERT_EQ((*path)->nodes.size(), 4u);
    EXPECT_EQ((*path)->nodes[1].id, "b");
    EXPECT_EQ((*path)->edges[2].source_id, "c");
    EXPECT_EQ((*path)->edges[2].target_id, "d");
    auto none = db_->ShortestPath("docs", {.from_id = "d", .to_id = "a"});
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    auto against = db_->ShortestPath(
        "docs", {.from_id = "d", .to_id = "a", .direction = EdgeDirection::kIn});
    ASSERT_TRUE(against.ok() && against->has_value());
    // Against the edges: d <-(0.5)- c <-(2)- b <-(1)- a = 3.5 beats d <- c <-likes(5)- a.
    EXPECT_DOUBLE_EQ((*against)->total_weight, 3.5);
    EXPECT_EQ((*against)->edges[0].source_id, "c");  // edges keep their stored orientation
    EXPECT_EQ((*against)->edges[0].target_id, "d");
    auto paths = db_->FindPaths("docs", {.start_id = "a", .end_id = "d", .max_hops = 3});
    ASSERT_TRUE(paths.ok()) << paths.status().ToString();
    ASSERT_EQ(paths->paths.size(), 2u);
    auto limited = db_->FindPaths("docs", {.start_id = "a", .max_hops = 3, .limit = 1});
    ASSERT_TRUE(limited.ok());
    EXPECT_EQ(limited->paths.size(), 1u);
    EXPECT_TRUE(limited->truncated);
    EXPECT_EQ(*db_->Degree("docs", "a", EdgeDirection::kOut), 2u);
    EXPECT_EQ(*db_->Degree("docs", "c", EdgeDirection::kBoth), 4u);
    EXPECT_EQ(*db_->Degree("docs", "d", EdgeDirection::kBoth, {.labels = {"self"}}), 2u);
    EXPECT_EQ(db_->Degree("docs", "zz", EdgeDirection::kOut).status().code(),
              StatusCode::kNotFound);
}

TEST_F(GraphTest, CrossCollectionEdges) {
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "people"}));
    PHENIX_ASSERT_OK(db_->Insert("people", Entity{.id = "ann"}));
    Edge authored = To("ann", "author");
    authored.target_collection = "people";
    Node("doc1", {authored});
    auto r = db_->Traverse("docs", {.start_id = "doc1"});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->entities.size(), 1u);
    EXPECT_EQ(r->entities[0].collection.name, "people");
    EXPECT_EQ(r->entities[0].id, "ann");
    auto back = db_->Traverse("people", {.start_id = "ann", .direction = EdgeDirection::kIn});
    ASSERT_TRUE(back.ok());
    ASSERT_EQ(back->entities.size(), 1u);
    EXPECT_EQ(back->entities[0].id, "doc1");
    PHENIX_ASSERT_OK(db_->DropCollection("people"));
    auto after = db_->Traverse("docs", {.start_id = "doc1"});
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    EXPECT_TRUE(after->entities.empty());
}

TEST_F(GraphTest, LimitsFailCleanly) {
    Options options;
    options.max_traversal_nodes = 500;
    options.max_traversal_depth = 10;
    Reopen(options);
    // A dense random graph: 10 hops in both directions reaches everything.
    std::mt19937 rng(7);
    WriteBatch nodes;
    for (int i = 0; i < 800; ++i) {
        nodes.Insert("docs", Doc("n" + std::to_string(i)));
    }
    PHENIX_ASSERT_OK(db_->Write(nodes));
    WriteBatch batch;
    for (int i = 0; i < 800; ++i) {
        std::vector<Edge> edges;
        for (int e = 0; e < 8; ++e) {
            edges.push_back(To("n" + std::to_string(rng() % 800), "e"));
        }
        batch.Upsert("docs", Doc("n" + std::to_string(i), {0.1f, 0.2f, 0.3f, 0.4f}, "{}", edges));
    }
    PHENIX_ASSERT_OK(db_->Write(batch));
    auto big = db_->Traverse(
        "docs", {.start_id = "n0", .max_hops = 10, .direction = EdgeDirection::kBoth});
    EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(big.status().message().find("max_traversal_nodes"), std::string::npos)
        << big.status().ToString();
    auto deep = db_->Traverse("docs", {.start_id = "n0", .max_hops = 11});
    EXPECT_EQ(deep.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(deep.status().message().find("max_traversal_depth"), std::string::npos);
    auto backwards = db_->Traverse("docs", {.start_id = "n0", .min_hops = 3, .max_hops = 2});
    EXPECT_EQ(backwards.status().code(), StatusCode::kInvalidArgument);
    auto missing = db_->Traverse("docs", {.start_id = "nope"});
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    auto small = db_->Traverse("docs", {.start_id = "n0", .max_hops = 1, .limit = 3});
    ASSERT_TRUE(small.ok());
    EXPECT_LE(small->entities.size(), 3u);
}

// Property: Traverse equals a breadth-first search over the edge list the test keeps itself.
TEST_F(GraphTest, ExpansionMatchesAReferenceOnRandomGraphs) {
    std::mt19937 rng(11);
    constexpr int kNodes = 60;
    WriteBatch nodes;
    for (int i = 0; i < kNodes; ++i) {
        nodes.Insert("docs", Doc("v" + std::to_string(i)));
    }
    PHENIX_ASSERT_OK(db_->Write(nodes));
    std::vector<std::set<int>> out(kNodes);
    WriteBatch batch;
    for (int i = 0; i < kNodes; ++i) {
        std::vector<Edge> edges;
        for (int e = 0; e < 3; ++e) {
            const int target = static_cast<int>(rng() % kNodes);
            if (out[static_cast<std::size_t>(i)].insert(target).second) {
                edges.push_back(To("v" + std::to_string(target), "e"));
            }
        }
        batch.Upsert("docs", Doc("v" + std::to_string(i), {0.1f, 0.2f, 0.3f, 0.4f}, "{}", edges));
    }
    PHENIX_ASSERT_OK(db_->Write(batch));
    for (int start = 0; start < kNodes; start += 7) {
        for (std::uint32_t hops = 1; hops <= 3; ++hops) {
            std::map<int, std::uint32_t> depth;
            std::set<int> frontier{start};
            for (std::uint32_t level = 1; level <= hops; ++level) {
                std::set<int> next;
                for (int node : frontier) {
                    for (int target : out[static_cast<std::size_t>(node)]) {
                        next.insert(target);
                    }
                }
                for (int node : next) {
                    depth.try_emplace(node, level);
                }
                frontier = std::move(next);
            }
            depth.erase(start);
            IdList expected;
            for (const auto& [node, d] : depth) {
                expected.push_back("v" + std::to_string(node) + "@" + std::to_string(d));
            }
            std::sort(expected.begin(), expected.end());
            // Twice: cold, then from the cache.
            EXPECT_EQ(Reach({.start_id = "v" + std::to_string(start), .max_hops = hops}),
                      expected);
            EXPECT_EQ(Reach({.start_id = "v" + std::to_string(start), .max_hops = hops}),
                      expected);
        }
    }
}

TEST_F(GraphTest, HybridSearchWithGraphAndFilter) {
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "category"));
    PHENIX_ASSERT_OK(
        db_->Insert("docs", Doc("near", {1.0f, 0.0f, 0.0f, 0.0f}, R"({"category":"a"})")));
    PHENIX_ASSERT_OK(
        db_->Insert("docs", Doc("far", {0.0f, 1.0f, 0.0f, 0.0f}, R"({"category":"a"})")));
    PHENIX_ASSERT_OK(
        db_->Insert("docs", Doc("other", {0.9f, 0.1f, 0.0f, 0.0f}, R"({"category":"b"})")));
    PHENIX_ASSERT_OK(
        db_->Insert("docs", Doc("unlinked", {1.0f, 0.01f, 0.0f, 0.0f}, R"({"category":"a"})")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("seed", {0.0f, 0.0f, 1.0f, 0.0f}, "{}",
                                             {To("near"), To("other")})));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("other", {0.9f, 0.1f, 0.0f, 0.0f},
                                             R"({"category":"b"})", {To("far")})));
    const std::vector<float> query = {1.0f, 0.0f, 0.0f, 0.0f};
    SearchOptions options{.k = 5};
    options.graph = GraphConstraint{.start_id = "seed", .max_hops = 2};
    auto r = db_->Search("docs", query, options);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    IdList got;
    for (const SearchHit& hit : r->hits) {
        got.push_back(hit.id);
    }
    EXPECT_EQ(got, (IdList{"near", "other", "far"}));
    EXPECT_FALSE(r->plan.filter_steps.empty());
    options.filter = R"({"category":"a"})";
    r = db_->Search("docs", query, options);
    ASSERT_TRUE(r.ok());
    got.clear();
    for (const SearchHit& hit : r->hits) {
        got.push_back(hit.id);
    }
    EXPECT_EQ(got, (IdList{"near", "far"}));
    // Filter alone.
    options.graph.reset();
    r = db_->Search("docs", query, options);
    ASSERT_TRUE(r.ok());
    got.clear();
    for (const SearchHit& hit : r->hits) {
        got.push_back(hit.id);
    }
    EXPECT_EQ(got, (IdList{"near", "unlinked", "far"}));
    // In a transaction: a new linked entity matching the filter is found, a deleted one not.
    auto txn = db_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    PHENIX_ASSERT_OK((*txn)->Insert(
        "docs", Doc("fresh", {1.0f, 0.001f, 0.0f, 0.0f}, R"({"category":"a"})")));
    PHENIX_ASSERT_OK((*txn)->Upsert("docs", Doc("seed", {0.0f, 0.0f, 1.0f, 0.0f}, "{}",
                                                {To("fresh"), To("other")})));
    options.graph = GraphConstraint{.start_id = "seed", .max_hops = 2};
    auto in_txn = (*txn)->Search("docs", query, options);
    ASSERT_TRUE(in_txn.ok()) << in_txn.status().ToString();
    got.clear();
    for (const SearchHit& hit : in_txn->hits) {
        got.push_back(hit.id);
    }
    EXPECT_EQ(got, (IdList{"fresh", "far"}));
}

}  // namespace
}  // namespace phenix
