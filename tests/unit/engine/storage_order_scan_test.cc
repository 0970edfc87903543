// SPDX-License-Identifier: Apache-2.0
// Database::Scan / Transaction::Scan with ScanOptions::storage_order (one pass over the records,
// in the order they were first written) and include_vector: every entity once across pages, the
// vector only when asked for, a transaction's snapshot and its own writes, a bad position.
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <phenix/db.h>
#include <phenix/limits.h>
#include <phenix/transaction.h>
#include <phenix/write_batch.h>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

class StorageOrderScanTest : public DbTest {
  protected:
    // n entities e0000.. written in reverse id order (so storage order is not id order), with
    // metadata {"n": i} and vector {i, 1, 1, 1}.
    std::vector<std::string> Load(int n) {
        WriteBatch batch;
        std::vector<std::string> written;
        for (int i = n - 1; i >= 0; --i) {
            char id[16];
            std::snprintf(id, sizeof id, "e%04d", i);
            batch.Upsert("docs", Doc(id, {static_cast<float>(i), 1, 1, 1},
                                     "{\"n\":" + std::to_string(i) + "}"));
            written.emplace_back(id);
        }
        EXPECT_TRUE(db_->Write(batch).ok());
        return written;
    }

    // Every page of a scan with `options` (limit per page), through `reader`.
    template <typename Reader>
    std::vector<Entity> ScanAll(Reader& reader, ScanOptions options) {
        std::vector<Entity> out;
        for (int pages = 0; pages < 1000; ++pages) {
            auto page = reader.Scan("docs", options);
            EXPECT_TRUE(page.ok()) << page.status().ToString();
            if (!page.ok()) {
                break;
            }
            EXPECT_LE(page->entities.size(), options.limit);
            for (Entity& entity : page->entities) {
                out.push_back(std::move(entity));
            }
            if (page->next_start_after.empty()) {
                break;
            }
            options.start_after = page->next_start_after;
        }
        return out;
    }

    static std::vector<std::string> Ids(const std::vector<Entity>& entities) {
        std::vector<std::string> ids;
        for (const Entity& entity : entities) {
            ids.push_back(entity.id);
        }
        return ids;
    }
};

TEST_F(StorageOrderScanTest, PagesReturnEveryEntityOnceInTheOrderWritten) {
    const std::vector<std::string> written = Load(50);
    const std::vector<Entity> scanned =
        ScanAll(*db_, ScanOptions{.limit = 7, .include_edges = false, .storage_order = true});
    EXPECT_EQ(Ids(scanned), written);
    // Id order for the same options without storage_order: the same set, sorted.
    std::vector<std::string> sorted = written;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(Ids(ScanAll(*db_, ScanOptions{.limit = 7, .include_edges = false})), sorted);
    // A page exactly as long as what is left ends the scan.
    auto whole = db_->Scan("docs", ScanOptions{.limit = 50, .storage_order = true});
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    EXPECT_EQ(whole->entities.size(), 50u);
    EXPECT_TRUE(whole->next_start_after.empty());
}

TEST_F(StorageOrderScanTest, TheVectorIsReturnedOnlyWhenAskedFor) {
    Load(5);
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("linked", {1, 2, 3, 4}, R"({"k":1})", {To("e0001")})));
    for (const bool storage_order : {false, true}) {
        const std::vector<Entity> without = ScanAll(
            *db_,
            ScanOptions{.limit = 100, .include_vector = false, .storage_order = storage_order});
        ASSERT_EQ(without.size(), 6u);
        const std::vector<Entity> with =
            ScanAll(*db_, ScanOptions{.limit = 100, .storage_order = storage_order});
        ASSERT_EQ(with.size(), 6u);
        for (std::size_t idx = 0; idx < with.size(); ++idx) {
            EXPECT_TRUE(without[idx].vector.empty()) << without[idx].id;
            EXPECT_EQ(with[idx].vector.size(), 4u) << with[idx].id;
            EXPECT_EQ(without[idx].id, with[idx].id);
            EXPECT_EQ(without[idx].metadata, with[idx].metadata);
            EXPECT_EQ(without[idx].edges, with[idx].edges);  // edges: include_edges' default
        }
        const Entity& linked = with.back();  // written last; its id sorts last too
        EXPECT_EQ(linked.id, "linked");
        EXPECT_EQ(linked.vector, (std::vector<float>{1, 2, 3, 4}));
        ASSERT_EQ(linked.edges.size(), 1u);
        EXPECT_EQ(linked.edges[0].target_id, "e0001");
    }
}

// A transaction's scan reads its snapshot, with its own writes: an entity deleted or changed by
// someone else after the snapshot is still returned as it was (no NotFound), the transaction's
// own insert is returned and its own delete is not.
TEST_F(StorageOrderScanTest, ATransactionScansItsSnapshotAndItsOwnWrites) {
    Load(20);
    auto txn = db_->BeginTransaction();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    PHENIX_ASSERT_OK(db_->Delete("docs", "e0004"));
    PHENIX_ASSERT_OK(db_->ReplaceMetadata("docs", "e0006", R"({"n":600})"));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("late")));
    PHENIX_ASSERT_OK((*txn)->Upsert("docs", Doc("mine", {1, 1, 1, 1}, R"({"n":-1})")));
    PHENIX_ASSERT_OK((*txn)->Delete("docs", "e0010"));
    const std::vector<Entity> scanned =
        ScanAll(**txn, ScanOptions{.limit = 3, .include_edges = false, .storage_order = true});
    std::set<std::string> ids;
    for (const Entity& entity : scanned) {
        EXPECT_TRUE(ids.insert(entity.id).second) << entity.id << " twice";
        if (entity.id == "e0006") {
            EXPECT_EQ(entity.metadata, R"({"n":6})");
        }
    }
    EXPECT_EQ(scanned.size(), 20u);  // 20 - e0010 + mine
    EXPECT_TRUE(ids.contains("e0004"));
    EXPECT_TRUE(ids.contains("e0006"));
    EXPECT_TRUE(ids.contains("mine"));
    EXPECT_FALSE(ids.contains("e0010"));
    EXPECT_FALSE(ids.contains("late"));
    PHENIX_ASSERT_OK((*txn)->Rollback());
    // Outside the transaction: the latest state.
    const std::vector<Entity> latest =
        ScanAll(*db_, ScanOptions{.limit = 100, .include_edges = false, .storage_order = true});
    const std::vector<std::string> latest_ids = Ids(latest);
    EXPECT_EQ(latest.size(), 20u);  // 20 - e0004 + late
    EXPECT_EQ(std::count(latest_ids.begin(), latest_ids.end(), "e0004"), 0);
    EXPECT_EQ(latest_ids.back(), "late");
}

TEST_F(StorageOrderScanTest, APositionThatNoPageReturnedIsRefused) {
    Load(3);
    for (const std::string bad : {"e0001", "12x", "-1", "18446744073709551615"}) {
        auto page = db_->Scan("docs", ScanOptions{.start_after = bad, .storage_order = true});
        ASSERT_FALSE(page.ok()) << bad;
        EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument) << bad;
        EXPECT_NE(page.status().message().find("next_start_after"), std::string::npos)
            << page.status().message();
    }
    // A position past the last row is an empty last page.
    auto past = db_->Scan("docs", ScanOptions{.start_after = "1000000", .storage_order = true});
    ASSERT_TRUE(past.ok()) << past.status().ToString();
    EXPECT_TRUE(past->entities.empty());
    EXPECT_TRUE(past->next_start_after.empty());
}

}  // namespace
}  // namespace phenix
