// SPDX-License-Identifier: Apache-2.0
// MATCH chains beyond what the .slt scripts can set up: traversal limits that must fail the
// statement rather than answer from part of the walk, the memory budget, the interrupt, and
// EXPLAIN ANALYZE timing every segment's operator.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <phenix/phenixql.h>
#include <phenix/write_batch.h>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

class MatchChainTest : public DbTest {
  protected:
    // s -> m0..m5 -> hub, and the hub -> t0..t9.
    void Load() {
        WriteBatch batch;
        std::vector<Edge> from_start;
        std::vector<Edge> from_hub;
        for (int idx = 0; idx < 10; ++idx) {
            batch.Upsert("docs", Doc("t" + std::to_string(idx)));
            from_hub.push_back(To("t" + std::to_string(idx), "r"));
        }
        batch.Upsert("docs", Doc("hub", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", from_hub));
        for (int idx = 0; idx < 6; ++idx) {
            batch.Upsert("docs", Doc("m" + std::to_string(idx), {0.1f, 0.2f, 0.3f, 0.4f},
                                     R"({"n":)" + std::to_string(idx) + "}", {To("hub", "r")}));
            from_start.push_back(To("m" + std::to_string(idx), "r"));
        }
        batch.Upsert("docs", Doc("s", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", from_start));
        PHENIX_ASSERT_OK(db_->Write(batch));
        session_ = std::make_unique<QuerySession>(*db_);
    }

    std::unique_ptr<QuerySession> session_;
};

TEST_F(MatchChainTest, ReturnsOneRowPerBindingThroughEveryMiddle) {
    Load();
    auto result = session_->Execute(
        "SELECT count(*) FROM MATCH (a:docs)-[:r]->(b:docs)-[:r]->(c:docs) WHERE a.id = 's'");
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->rows.at(0).at(0).int_value, 6);  // s, m_i, hub for each of the six m_i
}

TEST_F(MatchChainTest, TooManyPathsInASegmentIsAnErrorNotAPartialAnswer) {
    Options options;
    options.max_traversal_paths = 4;
    Reopen(options);
    Load();
    // From s, 1..2 hops: six paths to the m_i and six on to the hub, more than 4.
    auto result = session_->Execute(
        "SELECT count(*) FROM MATCH (a:docs)-[e:r*1..2]->(b:docs)-[:r]->(c:docs) "
        "WHERE a.id = 's'");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(result.status().message().find("max_traversal_paths"), std::string::npos)
        << result.status().ToString();
}

TEST_F(MatchChainTest, TooManyReachedEntitiesInASegmentIsAnError) {
    Options options;
    options.max_traversal_nodes = 5;
    Reopen(options);
    Load();
    // The hub reaches ten entities in one hop: more than 5.
    auto result = session_->Execute(
        "SELECT c.id FROM MATCH (a:docs)-[:r]->(b:docs)-[:r]->(c:docs) WHERE b.id = 'hub' "
        "AND a.id = 'm0'");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted) << result.status().ToString();
    EXPECT_NE(result.status().message().find("max_traversal_nodes"), std::string::npos)
        << result.status().ToString();
}

TEST_F(MatchChainTest, MemoryLimitFailsTheStatementCleanly) {
    Load();
    session_->set_memory_limit(64);
    auto result = session_->Execute(
        "SELECT c.id FROM MATCH (a:docs)-[:r]->(b:docs)-[:r*1..2]->(c:docs) WHERE a.id = 's'");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(result.status().message().find("memory"), std::string::npos)
        << result.status().ToString();
}

TEST_F(MatchChainTest, InterruptCancelsTheWalk) {
    Load();
    session_->set_interrupt([] { return true; });
    auto result = session_->Execute(
        "SELECT c.id FROM MATCH (a:docs)-[:r]->(b:docs)-[:r]->(c:docs) WHERE a.id = 's'");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kCancelled);
}

TEST_F(MatchChainTest, ExplainAnalyzeTimesEverySegment) {
    Load();
    auto result = session_->Execute(
        "EXPLAIN ANALYZE SELECT a.id, c.id FROM MATCH (a:docs)-[:r]->(b:docs)-[:r]->(c:docs) "
        "WHERE a.id = 's'");
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    std::vector<std::string> expands;
    for (const auto& row : result->rows) {
        const std::string& line = row.at(0).text;
        if (line.find("ChainExpand") != std::string::npos) {
            expands.push_back(line);
        }
    }
    ASSERT_EQ(expands.size(), 2u);
    EXPECT_NE(expands[0].find("actual rows=6, time="), std::string::npos) << expands[0];
    EXPECT_NE(expands[1].find("actual rows=6, time="), std::string::npos) << expands[1];
}

}  // namespace
}  // namespace phenix
