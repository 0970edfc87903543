// SPDX-License-Identifier: Apache-2.0
// Database::Stats (issue 14, /metrics): per-collection entities, bytes and vector index tail
// and lag, commit and conflict counters, and RocksDB's storage figures.
#include <cstddef>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <phenix/db.h>

#include "common/sync_point.h"
#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

class StatsTest : public DbTest {
  protected:
    void TearDown() override { SyncPoints::ClearAll(); }

    static const CollectionStats* Find(const DatabaseStats& stats, const CollectionRef& ref) {
        for (const CollectionStats& collection : stats.collections) {
            if (collection.ref == ref) {
                return &collection;
            }
        }
        return nullptr;
    }
};

TEST_F(StatsTest, CountsEntitiesAndBytesPerCollectionOfEveryTenant) {
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "notes"}));  // no vectors
    PHENIX_ASSERT_OK(db_->CreateTenant("acme"));
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = {"acme", "docs"}, .dimension = 4}));
    // 200 entities with 300 bytes of metadata that does not compress (seeded hex digits).
    WriteBatch batch;
    std::mt19937 random(14);
    for (int idx = 0; idx < 200; ++idx) {
        std::string text;
        for (int digit = 0; digit < 300; ++digit) {
            text += "0123456789abcdef"[random() % 16];
        }
        batch.Upsert("docs",
                     Doc("d" + std::to_string(idx), {0.1f, 0.2f, 0.3f, static_cast<float>(idx)},
                         R"({"text":")" + text + "\"}"));
    }
    batch.Upsert({"acme", "docs"}, Doc("a1"));
    PHENIX_ASSERT_OK(db_->Write(batch));

    auto stats = db_->Stats();
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    ASSERT_EQ(stats->collections.size(), 3u);
    const CollectionStats* docs = Find(*stats, "docs");
    const CollectionStats* notes = Find(*stats, "notes");
    const CollectionStats* acme = Find(*stats, {"acme", "docs"});
    ASSERT_NE(docs, nullptr);
    ASSERT_NE(notes, nullptr);
    ASSERT_NE(acme, nullptr);
    EXPECT_EQ(docs->entities, 200u);
    EXPECT_EQ(notes->entities, 0u);
    EXPECT_EQ(acme->entities, 1u);
    EXPECT_TRUE(docs->has_vector_index);
    EXPECT_FALSE(notes->has_vector_index);
    EXPECT_EQ(notes->approximate_bytes, 0u);
    // The memtable estimate, then the SST files' after compaction (at data block granularity):
    // the 200 entities' 60 kB outweigh the one entity of the other tenant.
    EXPECT_GT(docs->approximate_bytes, 0u);
    PHENIX_ASSERT_OK(db_->Compact());
    stats = db_->Stats();
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    docs = Find(*stats, "docs");
    acme = Find(*stats, {"acme", "docs"});
    ASSERT_NE(docs, nullptr);
    ASSERT_NE(acme, nullptr);
    EXPECT_GT(docs->approximate_bytes, 200u * 300u / 4u);  // hex: about half compresses away
    EXPECT_GT(docs->approximate_bytes, acme->approximate_bytes);
    EXPECT_GT(stats->storage.sst_bytes, 0u);
}

TEST_F(StatsTest, ReportsTheVectorIndexTailAndHowLongItsOldestEntryWaited) {
    // The builder sees no backlog, so the committed vectors stay in the tail.
    SyncPoints::SetWithArg("DatabaseImpl::VectorBuilderLoop:Backlog",
                           [](void* arg) { *static_cast<std::size_t*>(arg) = 0; });
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d1")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d2")));
    const CollectionStats* docs = nullptr;
    Result<DatabaseStats> stats = Status::Internal("not read");
    // The lag is wall-clock time since the oldest commit: positive once a microsecond passed.
    for (int attempt = 0; attempt < 100000; ++attempt) {
        stats = db_->Stats();
        ASSERT_TRUE(stats.ok()) << stats.status().ToString();
        docs = Find(*stats, "docs");
        ASSERT_NE(docs, nullptr);
        if (docs->vector_index_lag_seconds > 0) {
            break;
        }
    }
    EXPECT_EQ(docs->vector_index_tail, 2u);
    EXPECT_GT(docs->vector_index_lag_seconds, 0.0);
    EXPECT_LT(docs->vector_index_lag_seconds, 60.0);

    // Let the builder drain the tail (a commit wakes it): no lag any more.
    SyncPoints::ClearAll();
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d3")));
    auto info = db_->GetVectorIndexInfo("docs");
    for (int attempt = 0; attempt < 10000000 && info.ok() && info->unindexed_rows > 0; ++attempt) {
        std::this_thread::yield();
        info = db_->GetVectorIndexInfo("docs");
    }
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    ASSERT_EQ(info->unindexed_rows, 0u);
    stats = db_->Stats();
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    docs = Find(*stats, "docs");
    ASSERT_NE(docs, nullptr);
    EXPECT_EQ(docs->vector_index_tail, 0u);
    EXPECT_EQ(docs->vector_index_lag_seconds, 0.0);
    EXPECT_EQ(docs->vector_index_nodes, 3u);
}

TEST_F(StatsTest, CountsCommitsAndConflicts) {
    auto before = db_->Stats();
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d1")));
    auto first = db_->BeginTransaction();
    auto second = db_->BeginTransaction();
    ASSERT_TRUE(first.ok() && second.ok());
    PHENIX_ASSERT_OK((*first)->Upsert("docs", Doc("d1", {1, 0, 0, 0})));
    PHENIX_ASSERT_OK((*second)->Upsert("docs", Doc("d1", {0, 1, 0, 0})));
    ASSERT_TRUE((*first)->Commit().ok());
    auto lost = (*second)->Commit();
    ASSERT_FALSE(lost.ok());
    EXPECT_EQ(lost.status().code(), StatusCode::kAborted);

    auto after = db_->Stats();
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    EXPECT_EQ(after->commits - before->commits, 2u);
    EXPECT_EQ(after->commit_conflicts - before->commit_conflicts, 1u);
}

TEST_F(StatsTest, ReadsTheBlockCacheAndCompactionFigures) {
    for (int idx = 0; idx < 20; ++idx) {
        PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d" + std::to_string(idx))));
    }
    PHENIX_ASSERT_OK(db_->Compact());  // to SST files, read through the block cache from here
    for (int idx = 0; idx < 20; ++idx) {
        ASSERT_TRUE(db_->Get("docs", "d" + std::to_string(idx)).ok());
    }
    auto stats = db_->Stats();
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    const StorageStats& storage = stats->storage;
    EXPECT_GT(storage.block_cache_hits + storage.block_cache_misses, 0u);
    EXPECT_GT(storage.block_cache_hits, 0u);
    EXPECT_GT(storage.block_cache_capacity_bytes, 0u);
    EXPECT_GT(storage.block_cache_usage_bytes, 0u);
    EXPECT_FALSE(storage.writes_stopped);
    EXPECT_EQ(storage.write_stalls, 0u);
}

TEST_F(StatsTest, FailsAfterClose) {
    PHENIX_ASSERT_OK(db_->Close());
    auto stats = db_->Stats();
    ASSERT_FALSE(stats.ok());
    EXPECT_EQ(stats.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace phenix
