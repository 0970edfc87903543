// SPDX-License-Identifier: Apache-2.0
#include "server/service.h"

#include <gtest/gtest.h>

#include "testing/db_fixture.h"

namespace phenix::server {
namespace {

using ServiceTest = testing::DbTest;

TEST_F(ServiceTest, PutCollectionIsIdempotentAndRefusesOtherSettings) {
    CollectionSpec spec{.ref = "images", .dimension = 8, .metric = Metric::kL2};
    PutCollectionOutcome first = PutCollection(*db_, spec);
    ASSERT_TRUE(first.status.ok()) << first.status.ToString();
    EXPECT_TRUE(first.created);
    ASSERT_TRUE(first.info.has_value());
    EXPECT_EQ(first.info->spec.dimension, 8u);

    PutCollectionOutcome again = PutCollection(*db_, spec);
    ASSERT_TRUE(again.status.ok()) << again.status.ToString();
    EXPECT_FALSE(again.created);

    spec.dimension = 16;
    PutCollectionOutcome other = PutCollection(*db_, spec);
    EXPECT_TRUE(other.status.IsAlreadyExists()) << other.status.ToString();
    ASSERT_TRUE(other.info.has_value());  // the existing collection, for the error's details
    EXPECT_EQ(other.info->spec.dimension, 8u);

    spec.dimension = 8;
    spec.settings = R"({"hnsw":{"m":4}})";
    EXPECT_TRUE(PutCollection(*db_, spec).status.IsAlreadyExists());
}

TEST_F(ServiceTest, UpsertEntitiesWritesAtomicallyAndChecksTheCollection) {
    auto written = UpsertEntities(*db_, "docs", {Doc("a"), Doc("b")});
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    EXPECT_EQ(written->upserted, 2u);
    EXPECT_GT(written->timestamp, 0u);
    EXPECT_TRUE(db_->Get("docs", "b").ok());

    // One bad entity: nothing of the batch is written.
    auto bad = UpsertEntities(*db_, "docs", {Doc("c"), Doc("d", {1.0f, 2.0f})});
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(db_->Get("docs", "c").status().IsNotFound());

    EXPECT_TRUE(UpsertEntities(*db_, "missing", {}).status().IsNotFound());
    auto empty = UpsertEntities(*db_, "docs", {});
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(empty->upserted, 0u);
}

TEST(EngineStatusTest, CancelledByThePassedDeadlineIsDeadlineExceeded) {
    RequestContext context;
    const Status cancelled(StatusCode::kCancelled, "interrupted");
    EXPECT_EQ(EngineStatus(cancelled, context).code(), StatusCode::kCancelled);
    context.deadline = RequestContext::Clock::now() - std::chrono::milliseconds(1);
    EXPECT_EQ(EngineStatus(cancelled, context).code(), StatusCode::kDeadlineExceeded);
    EXPECT_EQ(EngineStatus(Status::NotFound("x"), context).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace phenix::server
