// SPDX-License-Identifier: Apache-2.0
// How SELECT executes: one snapshot per statement, rows streamed into a top-k heap or stopped at
// LIMIT on id-ordered input, OFFSET and DISTINCT, LIMIT 0 on every plan, numbers grouped by
// value, integer sums beyond 64 bits, the memory limit, cancellation, and MATCH's row rule
// (one row per path when the pattern names its edge, whatever the columns).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <phenix/phenixql.h>
#include <phenix/write_batch.h>

#include "common/sync_point.h"
#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;
using Lines = std::vector<std::string>;

class SelectExecutionTest : public DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        session_ = std::make_unique<QuerySession>(*db_);
    }
    void TearDown() override { SyncPoints::ClearAll(); }

    // n entities e0000.. with metadata {"n": i, "parity": i % 2, "bucket": i % 7}, written in
    // reverse so that the row order is not the id order.
    void Load(int n) {
        WriteBatch batch;
        for (int i = n - 1; i >= 0; --i) {
            char id[16];
            std::snprintf(id, sizeof id, "e%04d", i);
            batch.Upsert(
                "docs", Doc(id, {1.0f + static_cast<float>(i), 1, 1, 1},
                            "{\"n\":" + std::to_string(i) + ",\"parity\":" + std::to_string(i % 2) +
                                ",\"bucket\":" + std::to_string(i % 7) + "}"));
        }
        PHENIX_ASSERT_OK(db_->Write(batch));
    }

    Result<QueryResult> Execute(std::string_view text) { return session_->Execute(text); }

    Lines Rows(std::string_view text) {
        auto result = session_->Execute(text);
        EXPECT_TRUE(result.ok()) << text << ": " << result.status().ToString();
        Lines out;
        if (!result.ok()) {
            return out;
        }
        for (const auto& row : result->rows) {
            std::string line;
            for (const QueryValue& value : row) {
                line += (line.empty() ? "" : "|") + value.ToText();
            }
            out.push_back(line);
        }
        return out;
    }

    std::string Plan(std::string_view text) {
        std::string plan;
        for (const std::string& line : Rows(text)) {
            plan += line + "\n";
        }
        return plan;
    }

    std::unique_ptr<QuerySession> session_;
};

// Every read of a statement sees one snapshot: an entity deleted after the filter chose it is
// still returned (it existed in the statement's snapshot), instead of failing the statement with
// NotFound or returning a row its WHERE never saw.
TEST_F(SelectExecutionTest, AStatementReadsOneSnapshot) {
    Load(20);
    int fired = 0;
    SyncPoints::Set("ReadOperator::Next:AfterFind", [&] {
        if (fired++ == 0) {
            PHENIX_EXPECT_OK(db_->Delete("docs", "e0004"));
            PHENIX_EXPECT_OK(db_->ReplaceMetadata("docs", "e0006", R"({"n":600})"));
        }
    });
    // `vector` makes the plan read each entity after the filter.
    const Lines rows = Rows(
        "SELECT id, metadata.n, vector FROM docs WHERE metadata.parity = 0 AND metadata.n < 10 "
        "ORDER BY id");
    ASSERT_EQ(fired, 1);
    ASSERT_EQ(rows.size(), 5u);
    EXPECT_EQ(rows[2].substr(0, 8), "e0004|4|");
    EXPECT_EQ(rows[3].substr(0, 8), "e0006|6|");
    // The next statement sees the changes.
    EXPECT_EQ(Rows("SELECT id FROM docs WHERE id IN ('e0004', 'e0006')"), (Lines{"e0006"}));
}

// A full scan whose rows are grouped or sorted reads the records in storage order (one pass),
// still in the statement's snapshot: rows deleted or changed after the statement began are
// seen as they were, not as NotFound; the answers equal the id-ordered read's.
TEST_F(SelectExecutionTest, AStorageOrderScanReadsTheStatementsSnapshot) {
    Load(300);
    const Lines expected_top = {"e0299|299", "e0298|298", "e0297|297"};
    const std::string group =
        "SELECT metadata.bucket, count(*), sum(metadata.n) FROM docs GROUP BY metadata.bucket";
    const Lines expected_groups = Rows(group);
    ASSERT_EQ(expected_groups.size(), 7u);
    int fired = 0;
    SyncPoints::Set("ReadOperator::Next:BeforePage", [&] {
        if (fired++ == 0) {
            PHENIX_EXPECT_OK(db_->Delete("docs", "e0299"));
            PHENIX_EXPECT_OK(db_->ReplaceMetadata("docs", "e0298", R"({"n":-1,"bucket":9})"));
        }
    });
    EXPECT_EQ(Rows("SELECT id, metadata.n FROM docs ORDER BY metadata.n DESC LIMIT 3"),
              expected_top);
    EXPECT_EQ(fired, 1);
    fired = 0;
    PHENIX_ASSERT_OK(
        db_->Upsert("docs", Doc("e0299", {1, 1, 1, 1}, R"({"n":299,"parity":1,"bucket":5})")));
    PHENIX_ASSERT_OK(db_->ReplaceMetadata("docs", "e0298", R"({"n":298,"parity":0,"bucket":4})"));
    // The same again (both put back first) for a grouping.
    EXPECT_EQ(Rows(group), expected_groups);
    EXPECT_EQ(fired, 1);
    SyncPoints::ClearAll();
    // The next statement sees the changes.
    EXPECT_EQ(Rows("SELECT id, metadata.n FROM docs ORDER BY metadata.n DESC LIMIT 1"),
              (Lines{"e0297|297"}));
    EXPECT_NE(Rows(group), expected_groups);
    const std::string plan =
        Plan("EXPLAIN ANALYZE SELECT metadata.bucket, count(*) FROM docs GROUP BY metadata.bucket");
    EXPECT_NE(plan.find("records read in storage order"), std::string::npos) << plan;
    // Without ORDER BY or grouping the rows keep coming in id order.
    const std::string plain = Plan("EXPLAIN ANALYZE SELECT id FROM docs LIMIT 3");
    EXPECT_EQ(plain.find("storage order"), std::string::npos) << plain;
    EXPECT_EQ(Rows("SELECT id FROM docs LIMIT 2"), (Lines{"e0000", "e0001"}));
}

TEST_F(SelectExecutionTest, AnInterruptCancelsAGroupingScan) {
    Load(3000);
    int polls = 0;
    session_->set_interrupt([&] { return ++polls > 1; });
    auto result = Execute("SELECT metadata.bucket, count(*) FROM docs GROUP BY metadata.bucket");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kCancelled) << result.status().ToString();
    session_->set_interrupt({});
    EXPECT_EQ(Rows("SELECT count(*) FROM docs GROUP BY metadata.parity").size(), 2u);
}

TEST_F(SelectExecutionTest, OrderByIdLimitStopsEarlyOnEveryAccessPath) {
    Load(300);
    const Lines first = {"e0000", "e0001", "e0002"};
    EXPECT_EQ(Rows("SELECT id FROM docs ORDER BY id LIMIT 3"), first);
    EXPECT_EQ(Rows("SELECT id FROM docs ORDER BY id LIMIT 2 OFFSET 1"), (Lines{"e0001", "e0002"}));
    EXPECT_EQ(Rows("SELECT id FROM docs WHERE metadata.parity = 1 ORDER BY id LIMIT 2"),
              (Lines{"e0001", "e0003"}));
    EXPECT_EQ(Rows("SELECT id FROM docs WHERE id IN ('e0009', 'e0002', 'e0005') ORDER BY id "
                   "LIMIT 2"),
              (Lines{"e0002", "e0005"}));
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "parity"));
    EXPECT_EQ(
        Rows("SELECT id, vector FROM docs WHERE metadata.parity = 1 ORDER BY id LIMIT 2").size(),
        2u);
    EXPECT_EQ(Rows("SELECT id FROM docs WHERE metadata.parity = 1 ORDER BY id LIMIT 2"),
              (Lines{"e0001", "e0003"}));
    // The scan stops: it reads a small first page, not the collection.
    const std::string plan = Plan("EXPLAIN ANALYZE SELECT id FROM docs ORDER BY id LIMIT 3");
    EXPECT_NE(plan.find("Scan docs"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("Sort"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("TopK"), std::string::npos) << plan;
    EXPECT_NE(plan.find("actual rows=3"), std::string::npos) << plan;
}

// Issue 13: a WHERE term evaluated per row (arithmetic) keeps fewer rows than the filter beside
// it selects, so LIMIT must not be passed down to the filter's reads: the 5 rows with
// n * 1 < 10 are the last of the 150 even rows in row order (Load writes n = 299 first), on the
// scan and on the index.
TEST_F(SelectExecutionTest, PerRowWhereTermsAreNotCutShortByLimit) {
    Load(300);
    const std::string query =
        "SELECT id FROM docs WHERE metadata.parity = 0 AND metadata.n * 1 < 10 LIMIT 3";
    EXPECT_EQ(Rows(query).size(), 3u);
    EXPECT_EQ(Rows("SELECT id FROM docs WHERE metadata.parity = 0 AND metadata.n * 1 < 10 "
                   "ORDER BY id DESC LIMIT 2"),
              (Lines{"e0008", "e0006"}));
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "parity"));
    EXPECT_EQ(Rows(query).size(), 3u);
    // The per-row term is a Filter operator of its own above the read.
    const std::string plan = Plan("EXPLAIN " + query);
    EXPECT_NE(plan.find("Filter  (est."), std::string::npos) << plan;
    EXPECT_NE(plan.find("metadata.n * 1 < 10"), std::string::npos) << plan;
}

// id LIKE 'e01%' reads the ids from e01 on and stops after the last one with that prefix.
TEST_F(SelectExecutionTest, IdPrefixLikeIsAnIdRangeScan) {
    Load(300);
    EXPECT_EQ(Rows("SELECT id FROM docs WHERE id LIKE 'e01%' ORDER BY id LIMIT 3"),
              (Lines{"e0100", "e0101", "e0102"}));
    EXPECT_EQ(Rows("SELECT count(*) FROM docs WHERE id LIKE 'e01%'"), (Lines{"100"}));
    EXPECT_EQ(Rows("SELECT id FROM docs WHERE id LIKE 'e029%' AND metadata.parity = 1 ORDER BY id"),
              (Lines{"e0291", "e0293", "e0295", "e0297", "e0299"}));
    EXPECT_EQ(Rows("SELECT id FROM docs WHERE id LIKE 'e03%'"), (Lines{}));
    const std::string plan =
        Plan("EXPLAIN ANALYZE SELECT id FROM docs WHERE id LIKE 'e01%' ORDER BY id LIMIT 3");
    EXPECT_NE(plan.find("IdRangeScan docs"), std::string::npos) << plan;
    EXPECT_NE(plan.find("ids starting with \"e01\""), std::string::npos) << plan;
    EXPECT_EQ(plan.find("Sort"), std::string::npos) << plan;
    // The scan starts at the prefix (not at e0000) and stops after it: a small first page for
    // LIMIT 3, and at most the 200 ids from e0100 on for the count.
    const auto scanned = [](const std::string& text) {
        const std::size_t at = text.find("entities scanned: ");
        return at == std::string::npos ? -1 : std::stoi(text.substr(at + 18));
    };
    EXPECT_GE(scanned(plan), 3) << plan;
    EXPECT_LE(scanned(plan), 100) << plan;
    const std::string count_plan =
        Plan("EXPLAIN ANALYZE SELECT count(*) FROM docs WHERE id LIKE 'e01%'");
    EXPECT_GE(scanned(count_plan), 100) << count_plan;
    EXPECT_LE(scanned(count_plan), 200) << count_plan;
}

TEST_F(SelectExecutionTest, OrderByLimitIsATopKThatMatchesAFullSort) {
    Load(500);
    // Ties on bucket keep arrival order (a stable sort) both ways.
    const Lines full = Rows(
        "SELECT id, metadata.bucket FROM docs ORDER BY metadata.bucket DESC, "
        "metadata.n");
    ASSERT_EQ(full.size(), 500u);
    for (std::size_t limit : {1u, 7u, 100u, 499u, 500u, 600u}) {
        for (std::size_t offset : {0u, 3u}) {
            const Lines top = Rows(
                "SELECT id, metadata.bucket FROM docs ORDER BY metadata.bucket "
                "DESC, metadata.n LIMIT " +
                std::to_string(limit) + " OFFSET " + std::to_string(offset));
            const std::size_t begin = std::min(offset, full.size());
            const std::size_t end = std::min(full.size(), offset + limit);
            EXPECT_EQ(top, Lines(full.begin() + static_cast<std::ptrdiff_t>(begin), full.begin() + static_cast<std::ptrdiff_t>(end)))
                << limit << " " << offset;
        }
    }
    const std::string plan =
        Plan("EXPLAIN ANALYZE SELECT id FROM docs ORDER BY metadata.n DESC LIMIT 5");
    EXPECT_NE(plan.find("TopK 5"), std::string::npos) << plan;
    EXPECT_NE(Plan("EXPLAIN SELECT id FROM docs ORDER BY metadata.n").find("Sort"),
              std::string::npos);
    EXPECT_EQ(Rows("SELECT id FROM docs ORDER BY id DESC LIMIT 2"), (Lines{"e0499", "e0498"}));
}

TEST_F(SelectExecutionTest, DistinctAndOffset) {
    Load(30);
    EXPECT_EQ(Rows("SELECT DISTINCT metadata.parity FROM docs ORDER BY metadata.parity"),
              (Lines{"0", "1"}));
    EXPECT_EQ(Rows("SELECT DISTINCT metadata.bucket FROM docs ORDER BY metadata.bucket DESC LIMIT "
                   "2 OFFSET 1"),
              (Lines{"5", "4"}));
    EXPECT_EQ(Rows("SELECT DISTINCT metadata.parity FROM docs LIMIT 5").size(), 2u);
    EXPECT_EQ(Rows("SELECT id FROM docs ORDER BY id OFFSET 28"), (Lines{"e0028", "e0029"}));
    EXPECT_EQ(Rows("SELECT id FROM docs ORDER BY id OFFSET 100"), Lines{});
    EXPECT_EQ(Rows("SELECT metadata.parity, count(*) FROM docs GROUP BY metadata.parity ORDER BY "
                   "metadata.parity OFFSET 1"),
              (Lines{"1|15"}));
    EXPECT_EQ(Rows("SELECT id FROM docs ORDER BY vector <-> [1, 1, 1, 1] LIMIT 2 OFFSET 1"),
              (Lines{"e0001", "e0002"}));
    auto bad = Execute("SELECT id FROM docs OFFSET -1");
    ASSERT_FALSE(bad.ok());
}

TEST_F(SelectExecutionTest, LimitZeroIsLegalOnEveryPlan) {
    Load(10);
    PHENIX_ASSERT_OK(
        db_->Upsert("docs", Doc("hub", {1, 1, 1, 1}, "{}", {To("e0001"), To("e0002")})));
    for (const char* query : {
             "SELECT id FROM docs LIMIT 0",
             "SELECT id FROM docs ORDER BY id LIMIT 0",
             "SELECT id FROM docs ORDER BY metadata.n LIMIT 0",
             "SELECT id FROM docs WHERE metadata.parity = 1 LIMIT 0",
             "SELECT id FROM docs ORDER BY vector <-> [1, 1, 1, 1] LIMIT 0",
             "SELECT id FROM docs ORDER BY vector <=> [1, 1, 1, 1] LIMIT 0",
             "SELECT b.id FROM MATCH (a:docs)-[]->(b:docs) WHERE a.id = 'hub' LIMIT 0",
             "SELECT b.id FROM MATCH (a:docs)-[e]->(b:docs) WHERE a.id = 'hub' LIMIT 0",
             "SELECT b.id FROM MATCH (a:docs)-[]->(b:docs) WHERE a.id = 'hub' ORDER BY b.vector "
             "<=> [1, 1, 1, 1] LIMIT 0",
             "SELECT count(*) FROM docs GROUP BY metadata.parity LIMIT 0",
         }) {
        auto result = Execute(query);
        ASSERT_TRUE(result.ok()) << query << ": " << result.status().ToString();
        EXPECT_TRUE(result->rows.empty()) << query;
        // The same query with LIMIT 5 has rows: LIMIT 0 is what empties it.
        std::string five = query;
        five.replace(five.rfind("LIMIT 0"), 7, "LIMIT 5");
        auto with_rows = Execute(five);
        ASSERT_TRUE(with_rows.ok()) << five << ": " << with_rows.status().ToString();
        EXPECT_FALSE(with_rows->rows.empty()) << five;
    }
}

TEST_F(SelectExecutionTest, GroupByComparesNumbersByValue) {
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("a", {1, 1, 1, 1}, R"({"year":2020})")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("b", {1, 1, 1, 1}, R"({"year":2020.0})")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("c", {1, 1, 1, 1}, R"({"year":2020.5})")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d", {1, 1, 1, 1}, R"({"year":"2020"})")));
    const Lines groups = Rows(
        "SELECT metadata.year, count(*) AS n FROM docs GROUP BY metadata.year ORDER BY n DESC");
    ASSERT_EQ(groups.size(), 3u) << ::testing::PrintToString(groups);
    EXPECT_EQ(groups[0], "2020|2");
    EXPECT_EQ(Rows("SELECT DISTINCT metadata.year FROM docs WHERE id IN ('a', 'b')").size(), 1u);
}

TEST_F(SelectExecutionTest, IntegerSumsDoNotOverflowSilently) {
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("a", {1, 1, 1, 1}, R"({"v":9223372036854775807})")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("b", {1, 1, 1, 1}, R"({"v":9223372036854775807})")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("c", {1, 1, 1, 1}, R"({"w":-5})")));
    auto result = Execute("SELECT sum(metadata.v), sum(metadata.w) FROM docs");
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ASSERT_EQ(result->rows.size(), 1u);
    // 2^64 - 2 does not fit an int64: a float, never a wrapped negative integer.
    EXPECT_EQ(result->rows[0][0].type, QueryValue::Type::kFloat);
    EXPECT_NEAR(result->rows[0][0].float_value, 1.8446744073709552e19, 1e4);
    EXPECT_EQ(result->rows[0][1].type, QueryValue::Type::kInt);
    EXPECT_EQ(result->rows[0][1].int_value, -5);
    // Back within range, the sum is an exact integer again.
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d", {1, 1, 1, 1}, R"({"v":-9223372036854775807})")));
    auto back = Execute("SELECT sum(metadata.v) FROM docs");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->rows[0][0].type, QueryValue::Type::kInt);
    EXPECT_EQ(back->rows[0][0].int_value, 9223372036854775807LL);
}

TEST_F(SelectExecutionTest, TheMemoryLimitFailsAStatementCleanly) {
    Load(2000);
    session_->set_memory_limit(64 * 1024);
    auto sorted = Execute("SELECT id, metadata FROM docs ORDER BY metadata.n DESC");
    ASSERT_FALSE(sorted.ok());
    EXPECT_EQ(sorted.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(sorted.status().message().find("set_memory_limit"), std::string::npos)
        << sorted.status().message();
    auto grouped = Execute("SELECT metadata.n, count(*) FROM docs GROUP BY metadata.n");
    EXPECT_EQ(grouped.status().code(), StatusCode::kResourceExhausted);
    // A top-k holds k rows: it fits, and so does a stopped id-ordered scan.
    EXPECT_EQ(Rows("SELECT id, metadata FROM docs ORDER BY metadata.n DESC LIMIT 5").size(), 5u);
    EXPECT_EQ(Rows("SELECT id, metadata FROM docs ORDER BY id LIMIT 5").size(), 5u);
    EXPECT_EQ(Rows("SELECT count(*) FROM docs WHERE metadata.parity = 1"), (Lines{"1000"}));
}

TEST_F(SelectExecutionTest, AnInterruptCancelsAScan) {
    Load(3000);
    int polls = 0;
    session_->set_interrupt([&] { return ++polls > 1; });
    auto result = Execute("SELECT id FROM docs ORDER BY metadata.n");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kCancelled) << result.status().ToString();
    EXPECT_GE(polls, 2);
    session_->set_interrupt({});
    EXPECT_EQ(Rows("SELECT id FROM docs ORDER BY metadata.n LIMIT 1"), (Lines{"e0000"}));
}

// A named edge variable makes each path a row, selected or not; without one each reached node
// is a row once.
TEST_F(SelectExecutionTest, MatchRowsDoNotDependOnTheColumnsSelected) {
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("b")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("c", {1, 1, 1, 1}, "{}", {To("b", "x")})));
    PHENIX_ASSERT_OK(db_->Upsert(
        "docs", Doc("a", {1, 1, 1, 1}, "{}", {To("b", "x"), To("b", "y"), To("c", "x")})));
    const std::string pattern = "FROM MATCH (s:docs)-[e*1..2]->(t:docs) WHERE s.id = 'a'";
    const Lines ids = Rows("SELECT t.id " + pattern + " ORDER BY t.id");
    const Lines with_edge = Rows("SELECT t.id, e " + pattern + " ORDER BY t.id");
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids.size(), with_edge.size());
    EXPECT_EQ(ids, (Lines{"b", "b", "b", "c"}));  // a-x->b, a-y->b, a-x->c-x->b, a-x->c
    // Without an edge variable: each reached node once.
    EXPECT_EQ(Rows("SELECT t.id FROM MATCH (s:docs)-[*1..2]->(t:docs) WHERE s.id = 'a' ORDER BY "
                   "t.id"),
              (Lines{"b", "c"}));
}

TEST_F(SelectExecutionTest, AMatchCutShortByThePathLimitIsAnError) {
    Options options;
    options.max_traversal_paths = 5;
    Reopen(options);
    session_ = std::make_unique<QuerySession>(*db_);
    std::vector<Edge> edges;
    WriteBatch batch;
    for (int i = 0; i < 8; ++i) {
        const std::string id = "t" + std::to_string(i);
        batch.Upsert("docs", Doc(id, {1, 1, 1, static_cast<float>(i)}));
        edges.push_back(To(id));
    }
    batch.Upsert("docs", Doc("hub", {1, 1, 1, 1}, "{}", edges));
    PHENIX_ASSERT_OK(db_->Write(batch));
    auto ordered = Execute(
        "SELECT t.id, e FROM MATCH (h:docs)-[e*1..2]->(t:docs) WHERE h.id = "
        "'hub' ORDER BY t.id DESC LIMIT 2");
    ASSERT_FALSE(ordered.ok());
    EXPECT_EQ(ordered.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(ordered.status().message().find("max_traversal_paths"), std::string::npos);
    // Any 3 paths are a right answer without ORDER BY: the limit does not get in the way.
    EXPECT_EQ(
        Rows("SELECT t.id FROM MATCH (h:docs)-[e*1..2]->(t:docs) WHERE h.id = 'hub' LIMIT 3")
            .size(),
        3u);
    // One hop: the paths are the hub's edges, listed whole (no path search, no path cap), so
    // a hub's every edge is a row.
    EXPECT_EQ(Rows("SELECT t.id, e.weight FROM MATCH (h:docs)-[e]->(t:docs) WHERE h.id = 'hub' "
                   "ORDER BY t.id DESC LIMIT 2"),
              (Lines{"t7|1.0", "t6|1.0"}));
    EXPECT_EQ(Rows("SELECT count(*) FROM MATCH (h:docs)-[e]->(t:docs) WHERE h.id = 'hub'"),
              (Lines{"8"}));
    EXPECT_EQ(Rows("SELECT h.id FROM MATCH (t:docs)<-[e]-(h:docs) WHERE t.id = 't3'"),
              (Lines{"hub"}));
    // Nodes (no edge variable) are not paths: all 8, in order.
    EXPECT_EQ(Rows("SELECT t.id FROM MATCH (h:docs)-[]->(t:docs) WHERE h.id = 'hub' ORDER BY t.id "
                   "DESC LIMIT 2"),
              (Lines{"t7", "t6"}));
}

TEST_F(SelectExecutionTest, HavingFiltersGroups) {
    Load(30);  // bucket = n % 7: buckets 0 and 1 have 5 rows, the others 4
    EXPECT_EQ(Rows("SELECT metadata.bucket, count(*) FROM docs GROUP BY metadata.bucket HAVING "
                   "count(*) > 4 ORDER BY metadata.bucket"),
              (Lines{"0|5", "1|5"}));
    // An aggregate only HAVING uses is computed and not returned; aliases and keys work.
    EXPECT_EQ(Rows("SELECT metadata.bucket AS b FROM docs GROUP BY metadata.bucket HAVING "
                   "sum(metadata.n) >= 70 AND b < 3 ORDER BY b"),
              (Lines{"0", "1"}));  // sums per bucket: 70, 75, 50, 54, 58, 62, 66
    EXPECT_EQ(Rows("SELECT count(*) AS c FROM docs HAVING c > 100"), Lines{});
    EXPECT_EQ(Rows("SELECT count(*) AS c FROM docs HAVING c = 30"), (Lines{"30"}));
    EXPECT_EQ(Rows("SELECT metadata.parity FROM docs GROUP BY metadata.parity HAVING "
                   "max(metadata.n) IN (28, 100) OR min(metadata.n) IS NULL"),
              (Lines{"0"}));
    // Unknown (NULL, or values of different kinds) is not true.
    EXPECT_EQ(Rows("SELECT metadata.parity FROM docs GROUP BY metadata.parity HAVING "
                   "max(metadata.missing) > 1 OR max(metadata.n) > 'a'"),
              Lines{});
    auto bad = Execute(
        "SELECT metadata.parity FROM docs GROUP BY metadata.parity HAVING "
        "metadata.n > 1");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("HAVING can use aggregates"), std::string::npos)
        << bad.status().message();
}

}  // namespace
}  // namespace phenix
