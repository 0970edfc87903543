// SPDX-License-Identifier: Apache-2.0
#include "server/transactions.h"

#include <chrono>
#include <set>

#include <gtest/gtest.h>

#include "testing/db_fixture.h"

namespace phenix::server {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

class TransactionRegistryTest : public testing::DbTest {
  protected:
    TransactionRegistry registry_{milliseconds(1000)};
};

TEST_F(TransactionRegistryTest, WritesAreVisibleOnlyAfterCommit) {
    auto id = registry_.Begin(*db_, {}, "");
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_EQ(id->size(), 32u);
    {
        auto lease = registry_.Acquire(*id);
        ASSERT_TRUE(lease.ok()) << lease.status().ToString();
        auto inserted = lease->session().Execute(
            "INSERT INTO docs (id, vector) VALUES ('t1', [0.1, 0.2, 0.3, 0.4])");
        ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
    }
    EXPECT_TRUE(db_->Get("docs", "t1").status().IsNotFound());
    auto timestamp = registry_.Commit(*id);
    ASSERT_TRUE(timestamp.ok()) << timestamp.status().ToString();
    EXPECT_TRUE(db_->Get("docs", "t1").ok());
    EXPECT_EQ(registry_.Acquire(*id).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(TransactionRegistryTest, OneRequestAtATime) {
    auto id = registry_.Begin(*db_, {}, "");
    ASSERT_TRUE(id.ok());
    auto first = registry_.Acquire(*id);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(registry_.Acquire(*id).status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(registry_.Commit(*id).status().code(), StatusCode::kFailedPrecondition);
    // A busy transaction is never reaped, however old.
    EXPECT_EQ(registry_.ReapIdle(TransactionRegistry::Clock::now() + hours(1)), 0u);
}

TEST_F(TransactionRegistryTest, IdleTransactionsRollBack) {
    auto id = registry_.Begin(*db_, {}, "");
    ASSERT_TRUE(id.ok());
    {
        auto lease = registry_.Acquire(*id);
        ASSERT_TRUE(lease.ok());
        ASSERT_TRUE(
            lease->session()
                .Execute("INSERT INTO docs (id, vector) VALUES ('t2', [0.1, 0.2, 0.3, 0.4])")
                .ok());
    }
    EXPECT_EQ(registry_.ReapIdle(TransactionRegistry::Clock::now()), 0u);  // not idle yet
    EXPECT_EQ(registry_.ReapIdle(TransactionRegistry::Clock::now() + hours(1)), 1u);
    EXPECT_EQ(registry_.Acquire(*id).status().code(), StatusCode::kNotFound);
    EXPECT_TRUE(db_->Get("docs", "t2").status().IsNotFound());
}

TEST_F(TransactionRegistryTest, ACommitStatementEndsTheTransaction) {
    auto id = registry_.Begin(*db_, {}, "");
    ASSERT_TRUE(id.ok());
    {
        auto lease = registry_.Acquire(*id);
        ASSERT_TRUE(lease.ok());
        ASSERT_TRUE(lease->session().Execute("COMMIT").ok());
    }
    EXPECT_EQ(registry_.size(), 0u);
    EXPECT_EQ(registry_.Rollback(*id).code(), StatusCode::kNotFound);
}

TEST_F(TransactionRegistryTest, IdsAreDistinct) {
    std::set<std::string> ids;
    for (int txn_idx = 0; txn_idx < 20; ++txn_idx) {
        auto id = registry_.Begin(*db_, {.read_only = true}, "");
        ASSERT_TRUE(id.ok()) << id.status().ToString();
        ids.insert(*id);
    }
    EXPECT_EQ(ids.size(), 20u);
    registry_.RollbackAll();
    EXPECT_EQ(registry_.size(), 0u);
}

}  // namespace
}  // namespace phenix::server
