// SPDX-License-Identifier: Apache-2.0
// The physical plan: EXPLAIN prints the operator tree that runs (EXPLAIN ANALYZE prints the same
// tree), and each operator reports its own rows (exact) and time (> 0 when it did work); labels
// name what ran.
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <phenix/phenixql.h>
#include <phenix/write_batch.h>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

struct PlanLine {
    std::string label;
    bool has_run = false;
    std::uint64_t rows = 0;
    double millis = -1;
    double self_millis = -1;
};

// The operator lines of a plan, top down: the label without the tree's glyphs, and the
// ANALYZE numbers.
std::vector<PlanLine> ParsePlan(const QueryResult& result) {
    std::vector<PlanLine> lines;
    for (const auto& row : result.rows) {
        const std::string& text = row[0].text;
        const std::size_t stats = text.find("  (est. rows=");
        if (stats == std::string::npos) {
            continue;
        }
        std::size_t begin = 0;
        // Skip the tree's prefix: spaces, │, ├─, └─ (multi-byte) up to the first letter.
        while (begin < stats && !std::isalpha(static_cast<unsigned char>(text[begin]))) {
            ++begin;
        }
        PlanLine line;
        line.label = text.substr(begin, stats - begin);
        const std::size_t actual = text.find("actual rows=", stats);
        if (actual != std::string::npos) {
            line.has_run = true;
            line.rows = std::stoull(text.substr(actual + 12));
            line.millis = std::stod(text.substr(text.find("time=", actual) + 5));
            line.self_millis = std::stod(text.substr(text.find("self=", actual) + 5));
        }
        lines.push_back(std::move(line));
    }
    return lines;
}

class PlanTest : public DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        session_ = std::make_unique<QuerySession>(*db_);
    }

    // n entities e0000.. with {"n": i, "bucket": i % 7}; e(i) -> e(i+1) and e(i+2) along "r".
    void Load(int n) {
        WriteBatch batch;
        for (int i = 0; i < n; ++i) {
            char id[16];
            std::snprintf(id, sizeof id, "e%04d", i);
            std::vector<Edge> edges;
            for (int step : {1, 2}) {
                if (i + step < n) {
                    char target[16];
                    std::snprintf(target, sizeof target, "e%04d", i + step);
                    edges.push_back(To(target, "r"));
                }
            }
            batch.Upsert("docs", Doc(id, {1.0f + static_cast<float>(i), 1, 1, 1},
                                     "{\"n\":" + std::to_string(i) +
                                         ",\"bucket\":" + std::to_string(i % 7) + "}",
                                     edges));
        }
        PHENIX_ASSERT_OK(db_->Write(batch));
    }

    QueryResult Run(const std::string& text) {
        auto result = session_->Execute(text);
        EXPECT_TRUE(result.ok()) << text << ": " << result.status().ToString();
        return result.ok() ? std::move(result).value() : QueryResult{};
    }

    std::vector<PlanLine> Analyze(const std::string& select) {
        return ParsePlan(Run("EXPLAIN ANALYZE " + select));
    }

    std::vector<std::string> Labels(const std::vector<PlanLine>& plan) {
        std::vector<std::string> labels;
        for (const PlanLine& line : plan) {
            labels.push_back(line.label);
        }
        return labels;
    }

    std::unique_ptr<QuerySession> session_;
};

TEST_F(PlanTest, AnalyzeCountsEachOperatorsRowsAndTimesItsWork) {
    Load(300);
    const std::vector<PlanLine> plan = Analyze(
        "SELECT id, metadata.n FROM docs WHERE metadata.n >= 100 ORDER BY metadata.n DESC "
        "LIMIT 5 OFFSET 2");
    ASSERT_EQ(Labels(plan), (std::vector<std::string>{"Limit 5 offset 2", "TopK 7", "Project",
                                                      "FilteredScan docs"}));
    const std::vector<std::uint64_t> rows = {5, 7, 200, 200};
    for (std::size_t idx = 0; idx < plan.size(); ++idx) {
        SCOPED_TRACE(plan[idx].label);
        ASSERT_TRUE(plan[idx].has_run);
        EXPECT_EQ(plan[idx].rows, rows[idx]);
        EXPECT_GT(plan[idx].millis, 0);
        EXPECT_GT(plan[idx].self_millis, 0);
        EXPECT_LE(plan[idx].self_millis, plan[idx].millis);
    }
    // Times include the children's: a parent's time is at least its child's.
    for (std::size_t idx = 0; idx + 1 < plan.size(); ++idx) {
        EXPECT_GE(plan[idx].millis, plan[idx + 1].millis) << plan[idx].label;
    }
}

TEST_F(PlanTest, ExplainPrintsTheTreeThatAnalyzeRuns) {
    Load(50);
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "bucket"));
    for (const std::string select :
         {"SELECT id FROM docs", "SELECT id FROM docs WHERE metadata.bucket = 3",
          "SELECT id FROM docs WHERE id IN ('e0001', 'e0002') ORDER BY id",
          "SELECT metadata.bucket, count(*) FROM docs GROUP BY metadata.bucket HAVING count(*) > 7",
          "SELECT DISTINCT metadata.bucket FROM docs ORDER BY metadata.bucket LIMIT 3",
          "SELECT count(*) FROM docs WHERE metadata.bucket = 2",
          "SELECT id FROM docs WHERE metadata.bucket = 1 ORDER BY vector <=> [1, 1, 1, 1] LIMIT 3",
          "SELECT id FROM docs ORDER BY vector <-> [1, 1, 1, 1] LIMIT 3",
          "SELECT b.id FROM MATCH (a:docs)-[:r]->(b:docs) WHERE a.id = 'e0003'",
          "SELECT a.id FROM MATCH (a:docs)-[:r]->(b:docs) WHERE b.id = 'e0003'"}) {
        SCOPED_TRACE(select);
        const std::vector<PlanLine> explained = ParsePlan(Run("EXPLAIN " + select));
        const std::vector<PlanLine> analyzed = Analyze(select);
        ASSERT_FALSE(explained.empty());
        EXPECT_EQ(Labels(explained), Labels(analyzed));
        for (const PlanLine& line : explained) {
            EXPECT_FALSE(line.has_run) << line.label;
        }
    }
}

TEST_F(PlanTest, LabelsNameWhatRan) {
    Load(40);
    // No index on n: the filter's rows come from reading the records, never "IndexFilter".
    std::vector<PlanLine> plan = Analyze("SELECT id FROM docs WHERE metadata.n < 10");
    ASSERT_EQ(plan.size(), 2u);
    EXPECT_EQ(plan[1].label, "FilteredScan docs");
    EXPECT_EQ(plan[1].rows, 10u);
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "n"));
    plan = Analyze("SELECT id FROM docs WHERE metadata.n < 10");
    EXPECT_EQ(plan[1].label, "IndexFilter docs");
    EXPECT_EQ(plan[1].rows, 10u);
    plan = Analyze("SELECT id FROM docs WHERE id IN ('e0001', 'nope', 'e0005')");
    EXPECT_EQ(plan[1].label, "IdLookup docs");
    EXPECT_EQ(plan[1].rows, 2u);
    plan = Analyze("SELECT count(*) FROM docs WHERE metadata.n < 10");
    EXPECT_EQ(Labels(plan), (std::vector<std::string>{"Aggregate", "Count docs"}));
    EXPECT_EQ(Run("SELECT count(*) FROM docs WHERE metadata.n < 10").rows[0][0].int_value, 10);
}

// ORDER BY id LIMIT k: the scan's own order; the Limit stops pulling, so the scan hands up
// only k rows and no sort runs.
TEST_F(PlanTest, AnIdOrderedScanStopsAtTheLimit) {
    Load(500);
    const std::vector<PlanLine> plan = Analyze("SELECT id FROM docs ORDER BY id LIMIT 3");
    ASSERT_EQ(Labels(plan), (std::vector<std::string>{"Limit 3", "Project", "Scan docs"}));
    EXPECT_EQ(plan[0].rows, 3u);
    EXPECT_EQ(plan[2].rows, 3u);
}

TEST_F(PlanTest, BothMatchStartSidesAndTheirRows) {
    Load(20);
    // Forward from e0005: e0006, e0007.
    std::vector<PlanLine> plan =
        Analyze("SELECT b.id FROM MATCH (a:docs)-[:r]->(b:docs) WHERE a.id = 'e0005'");
    ASSERT_EQ(Labels(plan), (std::vector<std::string>{"Project", "Expand docs from 'e0005'"}));
    EXPECT_EQ(plan[1].rows, 2u);
    // Backwards from e0005: e0003, e0004 point at it.
    plan = Analyze("SELECT a.id FROM MATCH (a:docs)-[:r]->(b:docs) WHERE b.id = 'e0005'");
    ASSERT_EQ(Labels(plan), (std::vector<std::string>{"Project", "Expand docs from 'e0005'"}));
    EXPECT_EQ(plan[1].rows, 2u);
    // Nearest of the 2-hop reach (e0006..e0009): graph-first; the expansion inside the search
    // reports its rows.
    plan = Analyze(
        "SELECT b.id FROM MATCH (a:docs)-[:r*1..2]->(b:docs) WHERE a.id = 'e0005' ORDER BY "
        "b.vector <=> [1, 1, 1, 1] LIMIT 2");
    ASSERT_EQ(plan.size(), 3u) << ::testing::PrintToString(Labels(plan));
    EXPECT_EQ(plan[1].label, "GraphFirst docs [search over the reached set]");
    EXPECT_EQ(plan[1].rows, 2u);
    EXPECT_EQ(plan[2].label, "Expand docs from 'e0005'");
    EXPECT_EQ(plan[2].rows, 4u);
    // An exact ranking of the reach (L2, not the collection's cosine): ExactRank under a TopK.
    plan = Analyze(
        "SELECT b.id FROM MATCH (a:docs)-[:r*1..2]->(b:docs) WHERE a.id = 'e0005' ORDER BY "
        "b.vector <-> [1, 1, 1, 1] LIMIT 2");
    EXPECT_EQ(Labels(plan), (std::vector<std::string>{"TopK 2", "Project", "ExactRank docs",
                                                      "Expand docs from 'e0005'"}));
    EXPECT_EQ(plan[3].rows, 4u);
    EXPECT_EQ(plan[0].rows, 2u);
}

// Both nodes have an id: the walk starts from the one that reaches fewer entities, and the rows
// are those of the pattern as written.
TEST_F(PlanTest, AMatchWithBothIdsStartsFromTheCheaperSide) {
    Load(20);
    std::vector<Edge> edges;
    for (int i = 0; i < 15; ++i) {
        char target[16];
        std::snprintf(target, sizeof target, "e%04d", i);
        edges.push_back(To(target, "r"));
    }
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("hub", {1, 1, 1, 1}, "{\"n\": -1}", edges)));
    // hub has 15 out-edges; e0003 has 3 in-edges (e0001, e0002, hub): from e0003, backwards.
    const std::string select =
        "SELECT a.id, b.id, a.metadata.n FROM MATCH (a:docs)-[:r]->(b:docs) WHERE a.id = 'hub' "
        "AND b.id = 'e0003'";
    std::vector<PlanLine> plan = Analyze(select);
    ASSERT_EQ(Labels(plan), (std::vector<std::string>{"Project", "Expand docs from 'e0003'"}));
    EXPECT_EQ(plan[1].rows, 1u);
    const QueryResult rows = Run(select);
    ASSERT_EQ(rows.rows.size(), 1u);
    EXPECT_EQ(rows.rows[0][0].text, "hub");
    EXPECT_EQ(rows.rows[0][1].text, "e0003");
    EXPECT_EQ(rows.rows[0][2].int_value, -1);
    // A tie (e0005 has 2 out-edges, e0006 2 in-edges) keeps the written start.
    plan = Analyze(
        "SELECT a.id FROM MATCH (a:docs)-[:r]->(b:docs) WHERE a.id = 'e0005' AND b.id = "
        "'e0006'");
    ASSERT_EQ(Labels(plan), (std::vector<std::string>{"Project", "Expand docs from 'e0005'"}));
    EXPECT_EQ(plan[1].rows, 1u);
}

// A filter no index serves, on a collection large enough that the engine checks it on the
// search's candidates: the Filter step under the search has the rows and time the engine
// reports for it, or says the search did its work; never a zero time for work done inside its
// parent.
TEST_F(PlanTest, AFilterCheckedOnTheCandidatesNeverShowsAZeroTime) {
    constexpr std::uint32_t kDim = 8;
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "f", .dimension = kDim}));
    std::mt19937_64 rng(7);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    WriteBatch batch;
    for (int i = 0; i < 8000; ++i) {
        std::vector<float> vector(kDim);
        for (float& x : vector) {
            x = gauss(rng);
        }
        batch.Upsert("f",
                     Entity{.id = "e" + std::to_string(i),
                            .vector = std::move(vector),
                            .metadata = i % 10 == 0 ? R"({"tag": "ten"})" : R"({"tag": "x"})"});
    }
    PHENIX_ASSERT_OK(db_->Write(batch));
    PHENIX_ASSERT_OK(db_->RebuildVectorIndex("f"));
    const QueryResult result =
        Run("EXPLAIN ANALYZE SELECT id FROM f WHERE metadata.tag = 'ten' ORDER BY vector <-> "
            "[0, 0, 0, 0, 0, 0, 0, 0] LIMIT 10");
    std::string text;
    for (const auto& row : result.rows) {
        text += row[0].text + "\n";
    }
    ASSERT_NE(text.find("checked the records of the"), std::string::npos) << text;
    const std::vector<PlanLine> plan = ParsePlan(result);
    ASSERT_EQ(Labels(plan),
              (std::vector<std::string>{"Project", "VectorFirst f [post_filter]", "Filter f"}));
    EXPECT_EQ(plan[1].rows, 10u);
    if (plan[2].has_run) {
        EXPECT_GT(plan[2].millis, 0) << text;
        EXPECT_GE(plan[1].millis, plan[2].millis) << text;
    } else {
        EXPECT_NE(text.find("Filter f  (est. rows=40, done inside its parent"), std::string::npos)
            << text;
    }
}

// The structured plan (QueryPlan, issue 14): EXPLAIN's text is printed from it, and every
// SELECT names its access strategy.
TEST_F(PlanTest, TheStructuredPlanIsWhatTheTextIsPrintedFrom) {
    Load(40);
    const std::string select =
        "SELECT id, distance(vector, [1, 1, 1, 1]) AS d FROM docs ORDER BY d LIMIT 3";
    QueryResult explained = Run("EXPLAIN " + select);
    ASSERT_TRUE(explained.plan.has_value());
    EXPECT_FALSE(explained.plan->analyzed);
    std::vector<std::string> text;
    for (const auto& row : explained.rows) {
        text.push_back(row[0].text);
    }
    EXPECT_EQ(explained.plan->Text(), text);
    EXPECT_EQ(explained.plan_strategy, "vector_index");

    QueryResult analyzed = Run("EXPLAIN ANALYZE " + select);
    ASSERT_TRUE(analyzed.plan.has_value());
    EXPECT_TRUE(analyzed.plan->analyzed);
    ASSERT_FALSE(analyzed.rows.empty());
    EXPECT_EQ(analyzed.plan->Text().size(), analyzed.rows.size());
    EXPECT_EQ(analyzed.plan->Text().front(), analyzed.rows.front()[0].text);
    // The search operator somewhere below the root, with its strategy and its rows.
    std::vector<const QueryPlanNode*> pending = {&analyzed.plan->root};
    const QueryPlanNode* search = nullptr;
    while (!pending.empty()) {
        const QueryPlanNode* node = pending.back();
        pending.pop_back();
        if (node->strategy == "vector_index") {
            search = node;
        }
        for (const QueryPlanNode& child : node->children) {
            pending.push_back(&child);
        }
    }
    ASSERT_NE(search, nullptr);
    EXPECT_TRUE(search->has_run);
    EXPECT_EQ(search->actual_rows, 3u);
    EXPECT_NE(search->label.find("VectorFirst docs"), std::string::npos) << search->label;
}

TEST_F(PlanTest, EverySelectNamesItsStrategyAndCanReturnItsPlan) {
    Load(40);
    auto strategy = [&](const std::string& select) { return Run(select).plan_strategy; };
    EXPECT_EQ(strategy("SELECT id FROM docs"), "full_scan");
    EXPECT_EQ(strategy("SELECT id FROM docs WHERE metadata.n < 10"), "filtered_scan");
    EXPECT_EQ(strategy("SELECT id FROM docs WHERE id = 'e0001'"), "id_lookup");
    EXPECT_EQ(strategy("SELECT count(*) FROM docs WHERE metadata.n < 10"), "count");
    EXPECT_EQ(strategy("SELECT id, distance(vector, [1, 1, 1, 1]) AS d FROM docs "
                       "WHERE metadata.n < 3 ORDER BY d LIMIT 2"),
              "exact_scan");
    EXPECT_EQ(strategy("SELECT b.id FROM MATCH (a:docs)-[:r]->(b:docs) WHERE a.id = 'e0001'"),
              "graph_expand");
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "n"));
    EXPECT_EQ(strategy("SELECT id FROM docs WHERE metadata.n < 10"), "metadata_index");
    EXPECT_EQ(Run("SHOW COLLECTIONS").plan_strategy, "");

    // A plain SELECT carries no plan unless the session collects them; then it keeps its rows.
    const std::string select = "SELECT id FROM docs WHERE metadata.n < 10";
    EXPECT_FALSE(Run(select).plan.has_value());
    session_->set_collect_plan(true);
    QueryResult collected = Run(select);
    EXPECT_EQ(collected.rows.size(), 10u);
    ASSERT_TRUE(collected.plan.has_value());
    EXPECT_TRUE(collected.plan->analyzed);
    EXPECT_EQ(collected.plan->root.children.size(), 1u);
    EXPECT_EQ(collected.plan->root.children[0].strategy, "metadata_index");
    EXPECT_EQ(collected.plan->root.children[0].actual_rows, 10u);
}

TEST_F(PlanTest, TheStatementObserverSeesEachStatementsStrategy) {
    Load(5);
    std::vector<std::pair<std::string, bool>> seen;
    session_->set_statement_observer([&](std::string_view strategy, double seconds, bool ok) {
        EXPECT_GE(seconds, 0.0);
        seen.emplace_back(std::string(strategy), ok);
    });
    Run("SELECT id FROM docs");
    Run("SHOW COLLECTIONS");
    EXPECT_FALSE(session_->Execute("SELECT id FROM nope").ok());
    ASSERT_TRUE(session_->ExecuteJson(R"({"collection": "docs", "vector": [1, 1, 1, 1]})").ok());
    EXPECT_EQ(seen, (std::vector<std::pair<std::string, bool>>{
                        {"full_scan", true}, {"", true}, {"", false}, {"vector_index", true}}));
}

}  // namespace
}  // namespace phenix
