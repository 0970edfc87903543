// SPDX-License-Identifier: Apache-2.0
// Database::Stats (issues 14 and 16, /metrics): per-collection entities, bytes, vector index
// tail, lag, dead nodes, levels, memory and checkpoint age, metadata indexes; commit and
// conflict counters, transactions, WAL latency, RocksDB's storage figures and the graph cache.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <phenix/db.h>

#include "common/commit_timing.h"
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

    // Two transactions write d1; the first commits, the second's commit must be refused with
    // Aborted (first committer wins): one commit and one conflict.
    void MakeAWriteWriteConflict() {
        auto first = db_->BeginTransaction();
        auto second = db_->BeginTransaction();
        ASSERT_TRUE(first.ok() && second.ok());
        PHENIX_ASSERT_OK((*first)->Upsert("docs", Doc("d1", {1, 0, 0, 0})));
        PHENIX_ASSERT_OK((*second)->Upsert("docs", Doc("d1", {0, 1, 0, 0})));
        ASSERT_TRUE((*first)->Commit().ok());
        auto lost = (*second)->Commit();
        ASSERT_FALSE(lost.ok());
        EXPECT_EQ(lost.status().code(), StatusCode::kAborted);
    }

    // One collection's stats now (a failed read or a missing collection fails the test and
    // gives empty stats).
    CollectionStats StatsOf(const CollectionRef& ref) {
        auto stats = db_->Stats();
        EXPECT_TRUE(stats.ok()) << stats.status().ToString();
        const CollectionStats* found = stats.ok() ? Find(*stats, ref) : nullptr;
        if (found == nullptr) {
            ADD_FAILURE() << "no stats for collection " << ref.ToString();
            return {};
        }
        return *found;
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
    ASSERT_NO_FATAL_FAILURE(MakeAWriteWriteConflict());

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

TEST_F(StatsTest, ReportsDeadNodesLevelsMemoryAndCheckpointAgeOfTheVectorIndex) {
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d1", {0.1f, 0.2f, 0.3f, 0.4f})));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d2", {0.4f, 0.3f, 0.2f, 0.1f})));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d3", {0.9f, 0.1f, 0.5f, 0.2f})));
    ASSERT_NO_FATAL_FAILURE(testing::WaitForVectorIndex(*db_, "docs"));
    CollectionStats docs = StatsOf("docs");
    EXPECT_EQ(docs.vector_index_nodes, 3u);
    EXPECT_EQ(docs.vector_index_dead_nodes, 0u);
    EXPECT_GE(docs.vector_index_levels, 1u);
    EXPECT_GE(docs.vector_index_vector_bytes, 3u * 4u * sizeof(float));
    EXPECT_GT(docs.vector_index_graph_bytes, 0u);
    EXPECT_GT(docs.vector_index_other_bytes, 0u);
    // No checkpoint yet: the changes wait for one (the interval is 30 s), since the first.
    EXPECT_GE(docs.vector_index_checkpoint_pending_changes, 3u);
    EXPECT_GT(docs.vector_index_checkpoint_age_seconds, 0.0);
    EXPECT_LT(docs.vector_index_checkpoint_age_seconds, 60.0);

    // A deleted entity's node stays (ended) until repair, which waits for the history
    // retention (60 s by default) to pass.
    PHENIX_ASSERT_OK(db_->Delete("docs", "d2"));
    docs = StatsOf("docs");
    EXPECT_EQ(docs.vector_index_nodes, 3u);
    EXPECT_EQ(docs.vector_index_dead_nodes, 1u);
    EXPECT_EQ(docs.entities, 2u);

    // Close writes a checkpoint, which the next open loads: it holds every change, so the
    // index is not stale however old the file gets (an idle collection reads 0).
    Reopen();
    docs = StatsOf("docs");
    EXPECT_EQ(docs.vector_index_checkpoint_pending_changes, 0u);
    EXPECT_EQ(docs.vector_index_checkpoint_age_seconds, 0.0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(StatsOf("docs").vector_index_checkpoint_age_seconds, 0.0);

    // A change after it: its age grows from when it was applied, not from the checkpoint.
    const auto before_change = std::chrono::steady_clock::now();
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d4", {0.3f, 0.3f, 0.3f, 0.3f})));
    ASSERT_NO_FATAL_FAILURE(testing::WaitForVectorIndex(*db_, "docs"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    docs = StatsOf("docs");
    const double since_change =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - before_change).count();
    EXPECT_GT(docs.vector_index_checkpoint_pending_changes, 0u);
    EXPECT_GT(docs.vector_index_checkpoint_age_seconds, 0.0);
    EXPECT_LE(docs.vector_index_checkpoint_age_seconds, since_change + 0.01);

    // Read-only: no checkpoint is ever written there, so none is stale, even with the index
    // rebuilt from storage (its checkpoints removed) and every change pending.
    PHENIX_ASSERT_OK(db_->Close());
    db_.reset();
    std::filesystem::remove_all(dir_.Sub("data") + "/index");
    Open(Options{.read_only = true});
    ASSERT_NO_FATAL_FAILURE(testing::WaitForVectorIndex(*db_, "docs"));
    docs = StatsOf("docs");
    EXPECT_GT(docs.vector_index_checkpoint_pending_changes, 0u);
    EXPECT_EQ(docs.vector_index_checkpoint_age_seconds, 0.0);
}

TEST_F(StatsTest, ReportsMetadataIndexesTheirEntriesBuildProgressAndStatisticsAge) {
    CollectionStats docs = StatsOf("docs");
    EXPECT_EQ(docs.metadata_indexes, 0u);
    EXPECT_EQ(docs.metadata_index_build_progress, 1.0);
    EXPECT_EQ(docs.statistics_age_seconds, -1.0);

    WriteBatch batch;
    for (int idx = 0; idx < 1500; ++idx) {  // two build chunks of up to 1024 rows
        batch.Upsert("docs", Doc("d" + std::to_string(idx), {0.1f, 0.2f, 0.3f, 0.4f},
                                 R"({"tags":["a","b"],"n":)" + std::to_string(idx) + "}"));
    }
    PHENIX_ASSERT_OK(db_->Write(batch));
    // Mid-build (after the first chunk): one index building, part of the way.
    std::vector<CollectionStats> during;
    SyncPoints::Set("DatabaseImpl::BuildIndex:AfterChunk", [&] {
        if (during.empty()) {
            during.push_back(StatsOf("docs"));
        }
    });
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "tags"));
    SyncPoints::ClearAll();
    ASSERT_EQ(during.size(), 1u);
    EXPECT_EQ(during[0].metadata_indexes, 1u);
    EXPECT_EQ(during[0].metadata_indexes_building, 1u);
    EXPECT_GT(during[0].metadata_index_build_progress, 0.5);
    EXPECT_LT(during[0].metadata_index_build_progress, 1.0);

    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "n"));
    docs = StatsOf("docs");
    EXPECT_EQ(docs.metadata_indexes, 2u);
    EXPECT_EQ(docs.metadata_indexes_building, 0u);
    EXPECT_EQ(docs.metadata_index_build_progress, 1.0);
    EXPECT_EQ(docs.metadata_index_entries, 1500u * 2u + 1500u);  // two tags each, one n
    EXPECT_GE(docs.statistics_age_seconds, 0.0);
    EXPECT_LT(docs.statistics_age_seconds, 60.0);
}

TEST_F(StatsTest, ReportsOpenTransactionsTheOldestSnapshotAndAbortsByReason) {
    auto before = db_->Stats();
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    EXPECT_EQ(before->transactions.active, 0u);

    auto held = db_->BeginTransaction();
    ASSERT_TRUE(held.ok()) << held.status().ToString();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto during = db_->Stats();
    ASSERT_TRUE(during.ok()) << during.status().ToString();
    EXPECT_EQ(during->transactions.active, 1u);
    EXPECT_GE(during->transactions.oldest_snapshot_age_seconds, 0.019);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto later = db_->Stats();
    ASSERT_TRUE(later.ok()) << later.status().ToString();
    EXPECT_GT(later->transactions.oldest_snapshot_age_seconds,
              during->transactions.oldest_snapshot_age_seconds);

    // Rollback, then a write-write conflict.
    PHENIX_ASSERT_OK((*held)->Rollback());
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d1")));
    ASSERT_NO_FATAL_FAILURE(MakeAWriteWriteConflict());
    // A transaction destroyed while open counts as rolled back.
    {
        auto dropped = db_->BeginTransaction();
        ASSERT_TRUE(dropped.ok());
    }

    auto after = db_->Stats();
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    const TransactionStats& txns = after->transactions;
    EXPECT_EQ(txns.active, 0u);
    EXPECT_EQ(txns.aborted_rollback - before->transactions.aborted_rollback, 2u);
    EXPECT_EQ(txns.aborted_conflict - before->transactions.aborted_conflict, 1u);
    EXPECT_EQ(txns.aborted_expired, before->transactions.aborted_expired);
    EXPECT_EQ(txns.aborted_error, before->transactions.aborted_error);
    // Two commits (the autocommit upsert and `first`); the conflicting one is not timed.
    EXPECT_EQ(txns.commit.count - before->transactions.commit.count, 2u);
    EXPECT_GT(txns.commit.sum_seconds, 0.0);
    ASSERT_EQ(txns.commit.bounds.size(), txns.commit.buckets.size());
    EXPECT_EQ(txns.commit.buckets.back(), txns.commit.count);  // 10 s covers every commit
    EXPECT_GE(txns.history_floor_lag_seconds, 0.0);
}

TEST_F(StatsTest, CountsTransactionsThatExpired) {
    Reopen(Options{.transaction_idle_timeout_ms = 1});
    auto idle = db_->BeginTransaction();
    ASSERT_TRUE(idle.ok()) << idle.status().ToString();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ((*idle)->Get("docs", "d1").status().code(), StatusCode::kFailedPrecondition);
    auto stats = db_->Stats();
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_EQ(stats->transactions.aborted_expired, 1u);
    EXPECT_EQ(stats->transactions.aborted_rollback, 0u);  // its destructor finds it finished
    EXPECT_EQ(stats->transactions.active, 0u);
}

// Collects the commits reported on the thread it is installed on (common/commit_timing.h).
class CollectingObserver final : public CommitObserver {
  public:
    void OnCommit(const CommitTiming& timing) override { commits.push_back(timing); }
    std::vector<CommitTiming> commits;
};

// Checks one reported commit: every phase ran, inside the commit, the WAL ones inside the
// storage write, in the order a commit runs them, and they add up to no more than the whole.
void ExpectPlausibleCommit(const CommitTiming& timing) {
    EXPECT_TRUE(timing.reached);
    EXPECT_LT(timing.start, timing.end);
    for (const CommitTiming::Phase* phase :
         {&timing.lock_wait, &timing.index_maintenance, &timing.storage_write, &timing.wal_write,
          &timing.wal_sync, &timing.index_hook}) {
        ASSERT_TRUE(phase->ran());
        EXPECT_GE(phase->start, timing.start);
        EXPECT_LE(phase->start + phase->duration, timing.end);
    }
    for (const CommitTiming::Phase* phase : {&timing.wal_write, &timing.wal_sync}) {
        EXPECT_GE(phase->start, timing.storage_write.start);
        EXPECT_LE(phase->start + phase->duration,
                  timing.storage_write.start + timing.storage_write.duration);
    }
    EXPECT_LE(timing.lock_wait.start, timing.index_maintenance.start);
    EXPECT_LE(timing.index_maintenance.start, timing.storage_write.start);
    EXPECT_LE(timing.storage_write.start + timing.storage_write.duration, timing.index_hook.start);
    EXPECT_LE(timing.lock_wait.duration + timing.index_maintenance.duration +
                  timing.storage_write.duration + timing.index_hook.duration,
              timing.end - timing.start);
    EXPECT_LE(timing.wal_write.duration + timing.wal_sync.duration, timing.storage_write.duration);
}

TEST_F(StatsTest, ReportsEachCommitsPhasesToTheThreadsObserver) {
    CollectingObserver observer;
    {
        const CommitObserverScope scope(&observer);
        PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d1")));  // an autocommit write
        auto txn = db_->BeginTransaction();
        ASSERT_TRUE(txn.ok()) << txn.status().ToString();
        PHENIX_ASSERT_OK((*txn)->Upsert("docs", Doc("d2")));
        EXPECT_EQ(observer.commits.size(), 1u) << "buffering a write commits nothing";
        ASSERT_TRUE((*txn)->Commit().ok());
        // A write that fails validation never reaches the commit: nothing reported.
        EXPECT_FALSE(db_->Insert("docs", Doc("d1")).ok());
    }
    ASSERT_EQ(observer.commits.size(), 2u);
    for (const CommitTiming& timing : observer.commits) {
        EXPECT_TRUE(timing.committed);
        ExpectPlausibleCommit(timing);
    }
    // A commit refused by a write-write conflict is reported, not committed.
    observer.commits.clear();
    {
        const CommitObserverScope scope(&observer);
        MakeAWriteWriteConflict();
    }
    ASSERT_EQ(observer.commits.size(), 2u);
    EXPECT_TRUE(observer.commits[0].committed);
    EXPECT_FALSE(observer.commits[1].committed);
    // Out of the scope (and on other threads) nothing is reported.
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d3")));
    std::thread other([&] { EXPECT_TRUE(db_->Upsert("docs", Doc("d4")).ok()); });
    {
        const CommitObserverScope scope(&observer);
        other.join();
    }
    EXPECT_EQ(observer.commits.size(), 2u);
    EXPECT_EQ(CurrentCommitObserver(), nullptr);
    EXPECT_EQ(CurrentCommitRecording(), nullptr);
}

TEST_F(StatsTest, TimesWalWritesAndSyncsOfDurableCommits) {
    auto before = db_->Stats();
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    for (int idx = 0; idx < 5; ++idx) {
        PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d" + std::to_string(idx))));
    }
    auto after = db_->Stats();
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    const StorageStats& storage = after->storage;
    // Durability kSync (the default): every commit writes and syncs the WAL.
    EXPECT_GE(storage.wal_write.count - before->storage.wal_write.count, 5u);
    EXPECT_GE(storage.wal_sync.count - before->storage.wal_sync.count, 5u);
    EXPECT_GT(storage.wal_sync.sum_seconds, before->storage.wal_sync.sum_seconds);
    ASSERT_FALSE(storage.wal_sync.bounds.empty());
    ASSERT_EQ(storage.wal_sync.bounds.size(), storage.wal_sync.buckets.size());
    EXPECT_TRUE(std::is_sorted(storage.wal_sync.buckets.begin(), storage.wal_sync.buckets.end()));
    EXPECT_LE(storage.wal_sync.buckets.back(), storage.wal_sync.count);

    // Relaxed durability writes the WAL without syncing it.
    Reopen(Options{.durability = Durability::kRelaxed});
    before = db_->Stats();
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    for (int idx = 0; idx < 5; ++idx) {
        PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("r" + std::to_string(idx))));
    }
    after = db_->Stats();
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    EXPECT_GE(after->storage.wal_write.count - before->storage.wal_write.count, 5u);
    EXPECT_EQ(after->storage.wal_sync.count, before->storage.wal_sync.count);

    // Switched off: nothing is timed.
    Reopen(Options{.wal_latency_metrics = false});
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("off")));
    after = db_->Stats();
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    EXPECT_EQ(after->storage.wal_write.count, 0u);
    EXPECT_EQ(after->storage.wal_sync.count, 0u);
}

TEST_F(StatsTest, ReportsSstBytesPerColumnFamilyAndDiskSpace) {
    for (int idx = 0; idx < 50; ++idx) {
        PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d" + std::to_string(idx))));
    }
    PHENIX_ASSERT_OK(db_->Compact());
    auto stats = db_->Stats();
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    const StorageStats& storage = stats->storage;
    ASSERT_FALSE(storage.sst_bytes_by_column_family.empty());
    std::uint64_t sum = 0;
    std::uint64_t entities = 0;
    for (const auto& [name, bytes] : storage.sst_bytes_by_column_family) {
        EXPECT_FALSE(name.empty());
        sum += bytes;
        if (name == "entities") {
            entities = bytes;
        }
    }
    EXPECT_GT(entities, 0u);
    EXPECT_EQ(sum, storage.sst_bytes);
    EXPECT_GT(storage.disk_free_bytes, 0u);
    EXPECT_GT(storage.disk_used_bytes, storage.sst_bytes);  // plus WAL, MANIFEST, LOG, ...
}

TEST_F(StatsTest, CountsGraphCacheHitsAndMisses) {
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("b")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("a", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", {To("b")})));
    auto before = db_->Stats();
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    auto first = db_->Traverse("docs", {.start_id = "a"});
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    ASSERT_EQ(first->entities.size(), 1u);
    auto cold = db_->Stats();
    ASSERT_TRUE(cold.ok()) << cold.status().ToString();
    EXPECT_GT(cold->graph_cache.misses, before->graph_cache.misses);
    EXPECT_GT(cold->graph_cache.bytes, 0u);
    auto second = db_->Traverse("docs", {.start_id = "a"});
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    auto warm = db_->Stats();
    ASSERT_TRUE(warm.ok()) << warm.status().ToString();
    EXPECT_GT(warm->graph_cache.hits, cold->graph_cache.hits);

    // Dropping a collection replaces the cache; the counters keep counting since open.
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "other"}));
    PHENIX_ASSERT_OK(db_->DropCollection("other"));
    auto dropped = db_->Stats();
    ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
    EXPECT_GE(dropped->graph_cache.hits, warm->graph_cache.hits);
    EXPECT_GE(dropped->graph_cache.misses, warm->graph_cache.misses);
}

TEST_F(StatsTest, FailsAfterClose) {
    PHENIX_ASSERT_OK(db_->Close());
    auto stats = db_->Stats();
    ASSERT_FALSE(stats.ok());
    EXPECT_EQ(stats.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace phenix
