// SPDX-License-Identifier: Apache-2.0
//
// Traverse with what MATCH pushes into it (limit, end collection, metadata filter, ids,
// count_only, the page's records) against the plain traversal cut and filtered by the test; at
// old snapshots (AS OF), inside transactions (their own writes) and across deletes, which the id
// cache and the adjacency cache must follow; and the hybrid search's vector-first plan against
// the expansion plan.
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

struct Reached {
    std::string collection;
    std::string id;
    std::uint32_t depth = 0;
    friend bool operator==(const Reached&, const Reached&) = default;
};

std::vector<Reached> Flatten(const TraversalResponse& response) {
    std::vector<Reached> out;
    for (const ReachedEntity& entity : response.entities) {
        out.push_back({entity.collection.name, entity.id, entity.depth});
    }
    return out;
}

class TraversePushdownTest : public DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "other", .dimension = 4}));
    }

    // A random graph over "docs" (d0..) and "other" (o0..), with self-loops and edges both ways
    // between the collections; metadata {"cat": i % 3, "n": i}; then a few entities deleted (and
    // with them every edge from or to them).
    void BuildRandomGraph(std::uint32_t seed) {
        std::mt19937 rng(seed);
        std::printf("seed %u\n", seed);
        WriteBatch nodes;
        for (int idx = 0; idx < kDocs; ++idx) {
            nodes.Insert("docs", Doc("d" + std::to_string(idx), Vec(idx), Meta(idx)));
        }
        for (int idx = 0; idx < kOthers; ++idx) {
            nodes.Insert("other", Doc("o" + std::to_string(idx), Vec(idx), Meta(idx)));
        }
        PHENIX_ASSERT_OK(db_->Write(nodes));
        WriteBatch edges;
        for (int idx = 0; idx < kDocs; ++idx) {
            std::vector<Edge> out;
            std::set<std::pair<std::string, std::string>> seen;
            for (int edge = 0; edge < 4; ++edge) {
                const bool cross = rng() % 4 == 0;
                const std::string target = cross
                                               ? "o" + std::to_string(rng() % kOthers)
                                               : "d" + std::to_string(rng() % kDocs);  // or itself
                const std::string label = rng() % 2 == 0 ? "x" : "y";
                if (seen.emplace(label, target).second) {
                    Edge e = To(target, label, 1.0 + static_cast<double>(rng() % 3));
                    if (cross) {
                        e.target_collection = "other";
                    }
                    out.push_back(e);
                }
            }
            edges.Upsert("docs", Doc("d" + std::to_string(idx), Vec(idx), Meta(idx), out));
        }
        for (int idx = 0; idx < kOthers; ++idx) {
            Edge back = To("d" + std::to_string(rng() % kDocs), "z");
            back.target_collection = "docs";
            edges.Upsert("other", Doc("o" + std::to_string(idx), Vec(idx), Meta(idx), {back}));
        }
        PHENIX_ASSERT_OK(db_->Write(edges));
        for (int idx = 0; idx < 3; ++idx) {
            PHENIX_ASSERT_OK(db_->Delete("docs", "d" + std::to_string(7 + 11 * idx)));
        }
    }

    static std::vector<float> Vec(int idx) {
        return {1.0f, static_cast<float>(idx % 7), static_cast<float>(idx % 5), 0.5f};
    }
    static std::string Meta(int idx) {
        return R"({"cat":)" + std::to_string(idx % 3) + R"(,"n":)" + std::to_string(idx) + "}";
    }

    static constexpr int kDocs = 50;
    static constexpr int kOthers = 12;
};

TEST_F(TraversePushdownTest, PageCountFiltersAndRecordsEqualThePlainTraversalCut) {
    BuildRandomGraph(5);
    int checked = 0;
    for (int start = 0; start < kDocs; start += 4) {
        if (start % 11 == 7) {
            continue;  // deleted
        }
        for (const EdgeDirection direction :
             {EdgeDirection::kOut, EdgeDirection::kIn, EdgeDirection::kBoth}) {
            for (std::uint32_t max_hops = 1; max_hops <= 3; ++max_hops) {
                TraversalSpec spec{.start_id = "d" + std::to_string(start),
                                   .min_hops = 1,
                                   .max_hops = max_hops,
                                   .direction = direction};
                auto full = db_->Traverse("docs", spec);
                ASSERT_TRUE(full.ok()) << full.status().ToString();
                const std::vector<Reached> all = Flatten(*full);
                EXPECT_FALSE(full->truncated);
                // Ordered by depth, collection, id.
                EXPECT_TRUE(
                    std::is_sorted(all.begin(), all.end(), [](const Reached& a, const Reached& b) {
                        return std::tie(a.depth, a.collection, a.id) <
                               std::tie(b.depth, b.collection, b.id);
                    }));
                // The first `limit`, and whether there were more.
                for (const std::size_t limit : {std::size_t{1}, std::size_t{3}, std::size_t{7}}) {
                    TraversalSpec paged = spec;
                    paged.limit = limit;
                    auto page = db_->Traverse("docs", paged);
                    ASSERT_TRUE(page.ok());
                    const std::vector<Reached> want(
                        all.begin(), all.begin() + static_cast<long>(std::min(limit, all.size())));
                    EXPECT_EQ(Flatten(*page), want) << spec.start_id << " limit " << limit;
                    EXPECT_EQ(page->truncated, all.size() > limit);
                }
                // One collection, a filter, ids, count.
                std::vector<Reached> docs;
                std::vector<Reached> cat1;
                for (const Reached& reached : all) {
                    if (reached.collection == "docs") {
                        docs.push_back(reached);
                        if (std::stoi(reached.id.substr(1)) % 3 == 1) {
                            cat1.push_back(reached);
                        }
                    }
                }
                TraversalSpec only_docs = spec;
                only_docs.end_collection = "docs";
                auto got_docs = db_->Traverse("docs", only_docs);
                ASSERT_TRUE(got_docs.ok());
                EXPECT_EQ(Flatten(*got_docs), docs);
                TraversalSpec filtered = spec;
                filtered.filter = R"({"cat": 1})";
                auto got_cat1 = db_->Traverse("docs", filtered);
                ASSERT_TRUE(got_cat1.ok()) << got_cat1.status().ToString();
                EXPECT_EQ(Flatten(*got_cat1), cat1);
                filtered.count_only = true;
                auto counted = db_->Traverse("docs", filtered);
                ASSERT_TRUE(counted.ok());
                EXPECT_EQ(counted->count, cat1.size());
                EXPECT_TRUE(counted->entities.empty());
                TraversalSpec counted_all = spec;
                counted_all.count_only = true;
                auto count_all = db_->Traverse("docs", counted_all);
                ASSERT_TRUE(count_all.ok());
                EXPECT_EQ(count_all->count, all.size());
                if (!docs.empty()) {
                    TraversalSpec by_ids = spec;
                    by_ids.filter_ids = std::vector<std::string>{docs.front().id, "d999"};
                    auto got_ids = db_->Traverse("docs", by_ids);
                    ASSERT_TRUE(got_ids.ok());
                    EXPECT_EQ(Flatten(*got_ids), std::vector<Reached>{docs.front()});
                }
                // The page's records, as Get returns them.
                TraversalSpec with_records = spec;
                with_records.limit = 5;
                with_records.include_metadata = true;
                with_records.include_vector = true;
                auto records = db_->Traverse("docs", with_records);
                ASSERT_TRUE(records.ok());
                ASSERT_EQ(records->metadata.size(), records->entities.size());
                ASSERT_EQ(records->vectors.size(), records->entities.size());
                for (std::size_t idx = 0; idx < records->entities.size(); ++idx) {
                    const ReachedEntity& entity = records->entities[idx];
                    auto stored = db_->Get(entity.collection, entity.id);
                    ASSERT_TRUE(stored.ok());
                    EXPECT_EQ(records->metadata[idx], stored->metadata);
                    EXPECT_EQ(records->vectors[idx], stored->vector);
                }
                checked += all.empty() ? 0 : 1;
            }
        }
    }
    EXPECT_GT(checked, 40);
}

// A large result is ordered by a radix sort on (depth, collection, the id's first 8 bytes) and
// ties on the full id: ids here share long prefixes, and two collections interleave.
TEST_F(TraversePushdownTest, OrdersALargeResultByDepthCollectionAndId) {
    WriteBatch batch;
    batch.Insert("docs", Doc("hub"));
    std::vector<std::string> expected_docs;
    std::vector<std::string> expected_other;
    for (int idx = 0; idx < 5000; ++idx) {
        const bool other = idx % 10 == 3;
        // Same first 8 bytes for many ids, different lengths and endings.
        const std::string id =
            "common-prefix-" + std::to_string((idx * 7919) % 5003) + (idx % 3 == 0 ? "-x" : "");
        Edge edge = To("hub", "r");
        edge.target_collection = "docs";
        batch.Insert(other ? "other" : "docs", Doc(id, {0.1f, 0.2f, 0.3f, 0.4f}, "{}", {edge}));
        (other ? expected_other : expected_docs).push_back(id);
    }
    PHENIX_ASSERT_OK(db_->Write(batch));
    std::sort(expected_docs.begin(), expected_docs.end());
    std::sort(expected_other.begin(), expected_other.end());
    std::vector<std::string> expected = expected_docs;  // "docs" sorts before "other"
    expected.insert(expected.end(), expected_other.begin(), expected_other.end());
    auto reached = db_->Traverse("docs", {.start_id = "hub", .direction = EdgeDirection::kIn});
    ASSERT_TRUE(reached.ok()) << reached.status().ToString();
    std::vector<std::string> got;
    for (const ReachedEntity& entity : reached->entities) {
        got.push_back(entity.id);
    }
    EXPECT_EQ(got, expected);
    EXPECT_EQ(reached->entities[expected_docs.size()].collection.name, "other");
    // The same order with a page.
    auto page =
        db_->Traverse("docs", {.start_id = "hub", .direction = EdgeDirection::kIn, .limit = 4500});
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->entities.size(), 4500u);
    EXPECT_TRUE(page->truncated);
    for (std::size_t idx = 0; idx < 4500; ++idx) {
        ASSERT_EQ(page->entities[idx].id, expected[idx]) << idx;
    }
}

TEST_F(TraversePushdownTest, FollowsDeletesSnapshotsAndTransactionsOwnWrites) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("c")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", {To("b")})));
    auto reach = [&](Transaction* txn, const std::string& start) -> std::vector<std::string> {
        auto r = txn != nullptr ? txn->Traverse("docs", {.start_id = start})
                                : db_->Traverse("docs", {.start_id = start});
        if (!r.ok()) {
            return {r.status().code() == StatusCode::kNotFound ? "NotFound"
                                                               : r.status().ToString()};
        }
        std::vector<std::string> ids;
        for (const ReachedEntity& e : r->entities) {
            ids.push_back(e.id);
        }
        return ids;
    };
    // Warm both caches (the id of the start, the adjacency).
    ASSERT_EQ(reach(nullptr, "a"), std::vector<std::string>{"b"});
    ASSERT_EQ(reach(nullptr, "a"), std::vector<std::string>{"b"});
    const Timestamp before = db_->CurrentTimestamp();

    // A changed edge and a deleted, then re-created start.
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("a", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", {To("c")})));
    EXPECT_EQ(reach(nullptr, "a"), std::vector<std::string>{"c"});
    PHENIX_ASSERT_OK(db_->Delete("docs", "a"));
    EXPECT_EQ(reach(nullptr, "a"), std::vector<std::string>{"NotFound"});
    EXPECT_EQ(reach(nullptr, "a"), std::vector<std::string>{"NotFound"});  // cached absence
    PHENIX_ASSERT_OK(
        db_->Insert("docs", Doc("a", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", {To("b"), To("c")})));
    EXPECT_EQ(reach(nullptr, "a"), (std::vector<std::string>{"b", "c"}));

    // AS OF the first state: the old row of "a" and its old edge.
    auto as_of = db_->BeginTransaction({.read_only = true, .as_of = before});
    ASSERT_TRUE(as_of.ok()) << as_of.status().ToString();
    EXPECT_EQ(reach(as_of->get(), "a"), std::vector<std::string>{"b"});
    EXPECT_EQ(reach(as_of->get(), "c"), std::vector<std::string>{});

    // A transaction's own writes: a new start, a deleted one, a changed edge.
    auto txn = db_->BeginTransaction();
    ASSERT_TRUE(txn.ok());
    PHENIX_ASSERT_OK((*txn)->Insert("docs", Doc("new", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", {To("a")})));
    PHENIX_ASSERT_OK((*txn)->Delete("docs", "b"));
    PHENIX_ASSERT_OK((*txn)->Upsert("docs", Doc("c", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", {To("a")})));
    EXPECT_EQ(reach(txn->get(), "new"), std::vector<std::string>{"a"});
    EXPECT_EQ(reach(txn->get(), "b"), std::vector<std::string>{"NotFound"});
    EXPECT_EQ(reach(txn->get(), "a"), std::vector<std::string>{"c"});  // b is gone in the txn
    EXPECT_EQ(reach(txn->get(), "c"), std::vector<std::string>{"a"});
    // Outside it, nothing changed.
    EXPECT_EQ(reach(nullptr, "new"), std::vector<std::string>{"NotFound"});
    EXPECT_EQ(reach(nullptr, "a"), (std::vector<std::string>{"b", "c"}));
    EXPECT_EQ(reach(nullptr, "c"), std::vector<std::string>{});
    ASSERT_TRUE((*txn)->Commit().ok());
    EXPECT_EQ(reach(nullptr, "new"), std::vector<std::string>{"a"});
    EXPECT_EQ(reach(nullptr, "b"), std::vector<std::string>{"NotFound"});
    EXPECT_EQ(reach(nullptr, "a"), std::vector<std::string>{"c"});
    // The snapshot taken before still reads the old state.
    EXPECT_EQ(reach(as_of->get(), "a"), std::vector<std::string>{"b"});
}

TEST_F(TraversePushdownTest, ShortestPathsUnweightedAndWeighted) {
    // a -> b -> d (weights 5 + 5) and a -> c -> e -> d (1 + 1 + 1).
    for (const char* id : {"a", "b", "c", "d", "e"}) {
        PHENIX_ASSERT_OK(db_->Insert("docs", Doc(id)));
    }
    PHENIX_ASSERT_OK(db_->Upsert(
        "docs", Doc("a", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", {To("b", "r", 5), To("c", "r", 1)})));
    PHENIX_ASSERT_OK(
        db_->Upsert("docs", Doc("b", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", {To("d", "r", 5)})));
    PHENIX_ASSERT_OK(
        db_->Upsert("docs", Doc("c", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", {To("e", "r", 1)})));
    PHENIX_ASSERT_OK(
        db_->Upsert("docs", Doc("e", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", {To("d", "r", 1)})));
    auto nodes = [](const GraphPath& path) {
        std::vector<std::string> ids;
        for (const PathNode& node : path.nodes) {
            ids.push_back(node.id);
        }
        return ids;
    };
    auto weighted = db_->ShortestPath("docs", {.from_id = "a", .to_id = "d"});
    ASSERT_TRUE(weighted.ok());
    ASSERT_TRUE(weighted->has_value());
    EXPECT_EQ(nodes(**weighted), (std::vector<std::string>{"a", "c", "e", "d"}));
    EXPECT_DOUBLE_EQ((*weighted)->total_weight, 3.0);
    // The hop bound binds: the heavier two-hop path.
    auto bounded = db_->ShortestPath("docs", {.from_id = "a", .to_id = "d", .max_hops = 2});
    ASSERT_TRUE(bounded.ok());
    ASSERT_TRUE(bounded->has_value());
    EXPECT_EQ(nodes(**bounded), (std::vector<std::string>{"a", "b", "d"}));
    auto unweighted = db_->ShortestPath("docs", {.from_id = "a", .to_id = "d", .unweighted = true});
    ASSERT_TRUE(unweighted.ok());
    ASSERT_TRUE(unweighted->has_value());
    EXPECT_EQ(nodes(**unweighted), (std::vector<std::string>{"a", "b", "d"}));
    EXPECT_EQ((*unweighted)->edges[1].source_id, "b");
    EXPECT_EQ((*unweighted)->edges[1].target_id, "d");
    auto backwards = db_->ShortestPath(
        "docs",
        {.from_id = "d", .to_id = "a", .direction = EdgeDirection::kIn, .unweighted = true});
    ASSERT_TRUE(backwards.ok());
    ASSERT_TRUE(backwards->has_value());
    EXPECT_EQ(nodes(**backwards), (std::vector<std::string>{"d", "b", "a"}));
}

// The vector-first plan (search, then check each candidate's edges) returns what the expansion
// plan returns. With ef above the collection's size both searches are exhaustive, so any
// disagreement is a reachability mistake; the neighbourhood has a hub with 300 in-edges, each
// from a node with 3 in-edges of its own (1,200 entities within 2 reverse hops).
TEST_F(TraversePushdownTest, VectorFirstPlanEqualsTheExpansionPlan) {
    constexpr int kSpokes = 300;
    constexpr int kFeeders = 3;
    std::mt19937 rng(3);
    auto vec = [&]() {
        return std::vector<float>{static_cast<float>(rng() % 100) / 50.0f + 0.01f,
                                  static_cast<float>(rng() % 100) / 50.0f,
                                  static_cast<float>(rng() % 100) / 50.0f,
                                  static_cast<float>(rng() % 100) / 50.0f};
    };
    WriteBatch batch;
    batch.Insert("docs", Doc("hub", vec()));
    for (int idx = 0; idx < 200; ++idx) {
        batch.Insert("docs", Doc("loner" + std::to_string(idx), vec()));  // unreachable
    }
    for (int spoke = 0; spoke < kSpokes; ++spoke) {
        const std::string id = "s" + std::to_string(spoke);
        batch.Insert("docs", Doc(id, vec(), "{}", {To("hub")}));
        for (int feeder = 0; feeder < kFeeders; ++feeder) {
            batch.Insert("docs", Doc(id + "f" + std::to_string(feeder), vec(), "{}", {To(id)}));
        }
    }
    PHENIX_ASSERT_OK(db_->Write(batch));
    // Every vector in the HNSW graph, none left to the builder's tail: a graph search that finds
    // fewer than k reachable rows while the graph is still filling falls back to expanding (the
    // same answer, another plan), which would make the plan checks below depend on timing.
    PHENIX_ASSERT_OK(db_->RebuildVectorIndex("docs"));
    const std::vector<float> query = {1.0f, 0.5f, 0.25f, 0.1f};
    SearchOptions options{.k = 10, .ef = 4000};
    options.graph = GraphConstraint{
        .start_id = "hub", .min_hops = 1, .max_hops = 2, .direction = EdgeDirection::kIn};
    auto run = [&](GraphPlan plan, const SearchOptions& base) {
        SearchOptions forced = base;
        forced.graph_plan = plan;
        auto r = db_->Search("docs", query, forced);
        EXPECT_TRUE(r.ok()) << r.status().ToString();
        std::vector<std::string> ids;
        if (r.ok()) {
            EXPECT_EQ(r->plan.graph_plan, plan) << r->plan.graph_plan_reason;
            for (const SearchHit& hit : r->hits) {
                ids.push_back(hit.id + "/" + std::to_string(hit.distance));
            }
        }
        return ids;
    };
    const std::vector<std::string> expanded = run(GraphPlan::kExpand, options);
    ASSERT_EQ(expanded.size(), 10u);
    for (const std::string& hit : expanded) {
        EXPECT_EQ(hit.rfind("loner", 0), std::string::npos) << hit;  // reachable ones only
    }
    for (const SearchStrategy strategy : {SearchStrategy::kInGraph, SearchStrategy::kPostFilter}) {
        SearchOptions forced = options;
        forced.strategy = strategy;
        EXPECT_EQ(run(GraphPlan::kVectorFirst, forced), expanded);
    }
    EXPECT_EQ(run(GraphPlan::kVectorFirst, options), expanded);
    // One hop, and forward from a feeder (a 2-node neighbourhood: the plan falls back to
    // expanding when the search finds fewer than k reachable candidates).
    options.graph->max_hops = 1;
    EXPECT_EQ(run(GraphPlan::kVectorFirst, options), run(GraphPlan::kExpand, options));
    SearchOptions small = options;
    small.graph = GraphConstraint{.start_id = "s5f1", .min_hops = 1, .max_hops = 2};
    small.graph_plan = GraphPlan::kVectorFirst;
    auto fallback = db_->Search("docs", query, small);
    ASSERT_TRUE(fallback.ok());
    EXPECT_EQ(fallback->hits.size(), 2u);
    EXPECT_EQ(fallback->plan.graph_plan, GraphPlan::kExpand);
    EXPECT_NE(fallback->plan.graph_plan_reason.find("fell back"), std::string::npos)
        << fallback->plan.graph_plan_reason;
    // The planner's own choice for a small neighbourhood, with its estimate and reason.
    SearchOptions estimate = small;
    estimate.graph_plan = GraphPlan::kAuto;
    estimate.estimate_only = true;
    auto planned = db_->Search("docs", query, estimate);
    ASSERT_TRUE(planned.ok());
    EXPECT_TRUE(planned->hits.empty());
    EXPECT_EQ(planned->plan.graph_plan, GraphPlan::kExpand);
    EXPECT_DOUBLE_EQ(planned->plan.graph_estimated_rows, 2.0);
    EXPECT_NE(planned->plan.graph_plan_reason.find("est. 2 entities"), std::string::npos)
        << planned->plan.graph_plan_reason;
    // A metadata filter keeps the expansion plan even when vector-first is asked for.
    SearchOptions with_filter = options;
    with_filter.filter = R"({"missing": {"$exists": false}})";
    with_filter.graph_plan = GraphPlan::kVectorFirst;
    auto kept = db_->Search("docs", query, with_filter);
    ASSERT_TRUE(kept.ok());
    EXPECT_EQ(kept->plan.graph_plan, GraphPlan::kExpand);
}

}  // namespace
}  // namespace phenix
