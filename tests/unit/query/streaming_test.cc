// SPDX-License-Identifier: Apache-2.0
// QuerySession::Execute with a RowSink: a SELECT's rows reach the caller batch by batch as the
// plan produces them, the same rows Execute returns; the result is not held (the memory limit
// bounds only what the plan keeps); a sink's error stops the statement.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <phenix/phenixql.h>
#include <phenix/write_batch.h>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

class CollectingSink : public RowSink {
  public:
    Status OnColumns(const std::vector<std::string>& names) override {
        ++column_calls;
        columns = names;
        return Status::Ok();
    }
    Status OnRows(std::vector<std::vector<QueryValue>> batch) override {
        batch_sizes.push_back(batch.size());
        for (auto& row : batch) {
            rows.push_back(std::move(row));
        }
        if (stop_after_batches > 0 && batch_sizes.size() >= stop_after_batches) {
            return Status(StatusCode::kCancelled, "the client went away");
        }
        return Status::Ok();
    }

    int column_calls = 0;
    std::vector<std::string> columns;
    std::vector<std::vector<QueryValue>> rows;
    std::vector<std::size_t> batch_sizes;
    std::size_t stop_after_batches = 0;
};

class StreamingTest : public DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        session_ = std::make_unique<QuerySession>(*db_);
        WriteBatch batch;
        for (int i = 0; i < 3000; ++i) {
            char id[16];
            std::snprintf(id, sizeof id, "e%04d", i);
            batch.Upsert("docs", Doc(id, {1.0f + static_cast<float>(i), 1, 1, 1},
                                     "{\"n\":" + std::to_string(i) + "}"));
        }
        PHENIX_ASSERT_OK(db_->Write(batch));
    }

    std::unique_ptr<QuerySession> session_;
};

TEST_F(StreamingTest, ASelectStreamsTheRowsExecuteReturns) {
    const std::string select = "SELECT id, metadata.n FROM docs WHERE metadata.n >= 100";
    auto whole = session_->Execute(select);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    ASSERT_EQ(whole->rows.size(), 2900u);
    CollectingSink sink;
    auto streamed = session_->Execute(select, sink);
    ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
    EXPECT_TRUE(streamed->rows.empty());
    EXPECT_EQ(streamed->columns, whole->columns);
    EXPECT_EQ(sink.column_calls, 1);
    EXPECT_EQ(sink.columns, whole->columns);
    EXPECT_EQ(sink.rows, whole->rows);
    EXPECT_GT(sink.batch_sizes.size(), 1u);  // batches, not one result at the end
}

TEST_F(StreamingTest, TheResultIsNotHeldSoTheMemoryLimitBoundsOnlyThePlan) {
    session_->set_memory_limit(64 * 1024);
    const std::string select = "SELECT id, metadata FROM docs";
    EXPECT_EQ(session_->Execute(select).status().code(), StatusCode::kResourceExhausted);
    CollectingSink sink;
    auto streamed = session_->Execute(select, sink);
    ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
    EXPECT_EQ(sink.rows.size(), 3000u);
    // A sort keeps its rows: it still fails cleanly.
    CollectingSink sorted;
    EXPECT_EQ(session_->Execute(select + " ORDER BY metadata.n DESC", sorted).status().code(),
              StatusCode::kResourceExhausted);
}

TEST_F(StreamingTest, ASinkErrorStopsTheStatement) {
    CollectingSink sink;
    sink.stop_after_batches = 1;
    auto result = session_->Execute("SELECT id FROM docs", sink);
    EXPECT_EQ(result.status().code(), StatusCode::kCancelled) << result.status().ToString();
    ASSERT_EQ(sink.batch_sizes.size(), 1u);
    EXPECT_LT(sink.rows.size(), 3000u);
}

TEST_F(StreamingTest, OtherStatementsHandTheirRowsOverWhenTheyEnd) {
    CollectingSink sink;
    auto shown = session_->Execute("SHOW COLLECTIONS", sink);
    ASSERT_TRUE(shown.ok()) << shown.status().ToString();
    EXPECT_EQ(sink.column_calls, 1);
    ASSERT_FALSE(sink.rows.empty());
    CollectingSink plan;
    ASSERT_TRUE(session_->Execute("EXPLAIN SELECT id FROM docs", plan).ok());
    EXPECT_EQ(plan.columns, std::vector<std::string>{"plan"});
    EXPECT_FALSE(plan.rows.empty());
    CollectingSink degree;
    ASSERT_TRUE(session_->Execute("SELECT * FROM degree('docs', 'e0001')", degree).ok());
    EXPECT_EQ(degree.column_calls, 1);
    EXPECT_EQ(degree.rows.size(), 1u);
    CollectingSink none;
    auto inserted = session_->Execute("INSERT INTO docs (id) VALUES ('x')", none);
    ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
    EXPECT_EQ(none.column_calls, 0);
    EXPECT_EQ(inserted->message, "INSERT 1");
}

}  // namespace
}  // namespace phenix
