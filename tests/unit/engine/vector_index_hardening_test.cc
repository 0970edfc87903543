// SPDX-License-Identifier: Apache-2.0
//
// Regression tests for issue 12 (vector index hardening) through the engine: every path by which
// the index's state is saved, rebuilt or reloaded agrees with storage — the quantizer across a
// restart, a rebuild racing commits, checkpoints never ahead of durable storage (relaxed mode
// under power loss, an ambiguous failed commit), reconcile and replay pinned against garbage
// collection, the persisted floor after a reopen, a failed drain, and Verify() catching an
// index that disagrees with storage.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <phenix/db.h>

#include "common/sync_point.h"
#include "engine/database_impl.h"
#include "index/hnsw/hnsw_index.h"
#include "storage/catalog_codec.h"
#include "storage/store.h"
#include "testing/db_fixture.h"
#include "testing/fault_injection_fs.h"
#include "testing/temp_dir.h"

namespace phenix::engine {
namespace {

using phenix::testing::FaultInjectionFileSystem;
using phenix::testing::TempDir;

constexpr std::uint32_t kDim = 8;

std::vector<float> RandomVector(std::mt19937_64& rng, float offset = 0) {
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    std::vector<float> v(kDim);
    for (float& x : v) {
        x = offset + gauss(rng);
    }
    return v;
}

float L2(std::span<const float> a, std::span<const float> b) {
    float sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        sum += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return sum;
}

// Polls `done` for up to 20 s (background work: the builder drains and checkpoints).
bool WaitFor(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
}

class VectorIndexHardeningTest : public ::testing::Test {
  protected:
    void TearDown() override {
        SyncPoints::ClearAll();
        if (db_) {
            db_->Close().IgnoreError();
            db_.reset();
        }
    }

    void Open(const Options& options = {}, rocksdb::Env* env = nullptr) {
        auto db = DatabaseImpl::Open(dir_.Sub("data"), options, env);
        ASSERT_TRUE(db.ok()) << db.status().ToString();
        db_ = std::move(db).value();
    }

    void Reopen(const Options& options = {}, rocksdb::Env* env = nullptr) {
        PHENIX_ASSERT_OK(db_->Close());
        db_.reset();
        Open(options, env);
    }

    // Upserts n entities "<prefix><i>" with random vectors (offset added) and remembers them.
    void Load(const std::string& collection, std::size_t n, std::uint64_t seed,
              const std::string& prefix = "e", float offset = 0) {
        std::mt19937_64 rng(seed);
        WriteBatch batch;
        for (std::size_t i = 0; i < n; ++i) {
            const std::string id = prefix + std::to_string(i);
            vectors_[id] = RandomVector(rng, offset);
            batch.Upsert(collection, Entity{.id = id, .vector = vectors_[id], .metadata = "{}"});
        }
        PHENIX_ASSERT_OK(db_->Write(batch));
    }

    std::vector<std::string> Exact(std::span<const float> q, std::size_t k) const {
        std::vector<std::pair<float, std::string>> all;
        for (const auto& [id, v] : vectors_) {
            all.emplace_back(L2(v, q), id);
        }
        std::sort(all.begin(), all.end());
        std::vector<std::string> ids;
        for (std::size_t i = 0; i < std::min(k, all.size()); ++i) {
            ids.push_back(all[i].second);
        }
        return ids;
    }

    // The nearest hit's id for `vector` (empty if none).
    std::string Nearest(const std::string& collection, std::span<const float> vector) {
        auto r = db_->Search(collection, vector, {.k = 1});
        EXPECT_TRUE(r.ok()) << r.status().ToString();
        return r.ok() && !r->hits.empty() ? r->hits[0].id : "";
    }

    bool Drained(const std::string& collection) {
        auto info = db_->GetVectorIndexInfo(collection);
        return info.ok() && info->unindexed_rows == 0;
    }

    TempDir dir_;
    std::unique_ptr<Database> db_;
    std::map<std::string, std::vector<float>> vectors_;
};

// Item 1: an int8 collection closed before its quantizer was trained (created, then restarted
// before enough vectors arrived) reloaded as "trained" on the default range, so vectors outside
// [0, 255] all got the same codes and search ranked at random.
TEST_F(VectorIndexHardeningTest, QuantizedCollectionRestartedBeforeTrainingTrainsOnItsData) {
    Open();
    PHENIX_ASSERT_OK(db_->CreateCollection(
        {.ref = "q", .dimension = kDim, .settings = R"({"hnsw": {"quantization": "int8"}})"}));
    Load("q", 20, 1, "early", 1000.0f);
    auto before = db_->GetVectorIndexInfo("q");
    ASSERT_TRUE(before.ok());
    ASSERT_GT(before->unindexed_rows, 0u) << "the quantizer trained before the restart";
    Reopen();
    Load("q", 1500, 2, "late", 1000.0f);
    ASSERT_TRUE(WaitFor([&] { return Drained("q"); }));
    std::mt19937_64 rng(3);
    double recall = 0;
    constexpr int kQueries = 40;
    for (int i = 0; i < kQueries; ++i) {
        const std::vector<float> q = RandomVector(rng, 1000.0f);
        auto r = db_->Search("q", q, {.k = 10});
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        ASSERT_EQ(r->hits.size(), 10u);
        const auto truth = Exact(q, 10);
        const std::set<std::string> want(truth.begin(), truth.end());
        for (const SearchHit& hit : r->hits) {
            recall += want.count(hit.id) ? 0.1 : 0.0;
        }
    }
    EXPECT_GE(recall / kQueries, 0.9);
    PHENIX_EXPECT_OK(db_->Verify());
}

// Item 2: a commit whose hook ran on the old index but that was not yet visible when the
// rebuild caught up was lost by the new index.
TEST_F(VectorIndexHardeningTest, RebuildKeepsACommitThatWasHookedButNotYetVisible) {
    Open();
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "v", .dimension = kDim}));
    Load("v", 300, 4);
    std::mt19937_64 rng(5);
    const std::vector<float> late = RandomVector(rng, 50.0f);

    std::mutex mu;
    std::condition_variable cv;
    bool hooked = false;
    bool rebuilt = false;
    std::atomic<std::thread::id> writer_id;
    SyncPoints::Set("txn::CommitBatch:BeforePublish", [&] {
        if (std::this_thread::get_id() != writer_id.load()) {
            return;
        }
        std::unique_lock lock(mu);
        hooked = true;
        cv.notify_all();
        cv.wait_for(lock, std::chrono::seconds(20), [&] { return rebuilt; });
    });
    std::thread writer([&] {
        writer_id = std::this_thread::get_id();
        PHENIX_EXPECT_OK(db_->Upsert("v", Entity{.id = "late", .vector = late}));
    });
    {
        std::unique_lock lock(mu);
        ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return hooked; }));
    }
    // The commit is written and hooked into the current index, not yet visible.
    PHENIX_EXPECT_OK(db_->RebuildVectorIndex("v", nullptr));
    {
        std::lock_guard lock(mu);
        rebuilt = true;
    }
    cv.notify_all();
    writer.join();
    SyncPoints::ClearAll();
    EXPECT_EQ(Nearest("v", late), "late");
    PHENIX_EXPECT_OK(db_->Verify());
}

// Item 5: the rebuild's reconcile-at-floor and replay read one history: garbage collection
// cannot move the floor (and compaction cannot merge the versions they read) in between.
TEST_F(VectorIndexHardeningTest, RebuildReadsOneHistoryWhileGarbageCollectionRuns) {
    Open({.history_retention_ms = 0});
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "v", .dimension = kDim}));
    Load("v", 200, 6);
    std::mt19937_64 rng(7);
    int rounds = 0;
    SyncPoints::Set("DatabaseImpl::LoadVectorIndexFromStorage:Pinned", [&] {
        if (rounds++ > 0) {
            return;
        }
        // Between pinning the floor and reading: rewrite vectors and collect garbage.
        for (int i = 0; i < 50; ++i) {
            const std::string id = "e" + std::to_string(i);
            vectors_[id] = RandomVector(rng);
            PHENIX_EXPECT_OK(db_->Upsert("v", Entity{.id = id, .vector = vectors_[id]}));
        }
        PHENIX_EXPECT_OK(db_->Delete("v", "e60"));
        vectors_.erase("e60");
        PHENIX_EXPECT_OK(db_->Compact());
    });
    PHENIX_EXPECT_OK(db_->RebuildVectorIndex("v", nullptr));
    EXPECT_GE(rounds, 1);
    SyncPoints::ClearAll();
    PHENIX_EXPECT_OK(db_->Verify());
    for (int i = 0; i < 50; i += 7) {
        const std::string id = "e" + std::to_string(i);
        EXPECT_EQ(Nearest("v", vectors_[id]), id);
    }
}

// Item 5: the checkpoint dropped nodes ended below the oracle's (in-memory) floor, but a reopen
// restores the persisted floor, which may be lower: AS OF between the two then missed rows.
TEST_F(VectorIndexHardeningTest, AsOfAfterAReopenSeesRowsEndedAboveThePersistedFloor) {
    Open({.history_retention_ms = 0});
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "v", .dimension = kDim}));
    Load("v", 100, 8);
    // The persisted floor stays where it is (as when a crash comes before it is written).
    SyncPoints::SetWithArg("DatabaseImpl::MaintenanceLoop:StoreFloor",
                           [](void* arg) { *static_cast<txn::Timestamp*>(arg) = 0; });
    const Timestamp before_delete = db_->CurrentTimestamp();
    PHENIX_ASSERT_OK(db_->Delete("v", "e42"));
    // Wait until the oracle's floor has passed the delete (AS OF before it is refused).
    ASSERT_TRUE(WaitFor([&] {
        auto txn = db_->BeginTransaction({.read_only = true, .as_of = before_delete});
        return !txn.ok() && txn.status().code() == StatusCode::kFailedPrecondition;
    }));
    ASSERT_TRUE(WaitFor([&] { return Drained("v"); }));
    Reopen({.history_retention_ms = 60'000});
    auto info = db_->GetVectorIndexInfo("v");
    ASSERT_TRUE(info.ok());
    EXPECT_TRUE(info->loaded_from_checkpoint) << info->checkpoint_rejected;
    auto txn = db_->BeginTransaction({.read_only = true, .as_of = before_delete});
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    auto r = (*txn)->Search("v", vectors_["e42"], {.k = 1});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->hits.size(), 1u);
    EXPECT_EQ(r->hits[0].id, "e42");
    EXPECT_FLOAT_EQ(r->hits[0].distance, 0.0f);
    // And now it is gone.
    EXPECT_NE(Nearest("v", vectors_["e42"]), "e42");
    PHENIX_EXPECT_OK(db_->Verify());
}

// Item 6: a drain that fails (a row id beyond the graph's 32-bit space) surfaces as an error
// (GetVectorIndexInfo, RebuildVectorIndex) and never loops holding the catalog lock.
TEST_F(VectorIndexHardeningTest, AFailedDrainIsReportedAndHangsNothing) {
    Open();
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "big", .dimension = kDim}));
    auto described = db_->GetCollection("big");
    ASSERT_TRUE(described.ok());
    PHENIX_ASSERT_OK(db_->Close());
    db_.reset();
    {
        // The collection's row allocator near the end of the 32-bit space... and past it.
        auto store = storage::Store::Open(dir_.Sub("data"), Options{});
        ASSERT_TRUE(store.ok()) << store.status().ToString();
        rocksdb::WriteBatch batch = storage::Store::NewBatch();
        batch.Merge((*store)->cf(storage::ColumnFamily::kCatalog),
                    storage::RowHighWaterKey(described->collection_id),
                    storage::EncodeCounter(index::kMaxRow + 5));
        PHENIX_ASSERT_OK((*store)->WriteCatalog(batch, /*sync=*/true));
        PHENIX_ASSERT_OK((*store)->Close());
    }
    Open();
    std::mt19937_64 rng(9);
    const std::vector<float> far = RandomVector(rng);
    PHENIX_ASSERT_OK(db_->Upsert("big", Entity{.id = "far", .vector = far}));
    ASSERT_TRUE(WaitFor([&] {
        auto info = db_->GetVectorIndexInfo("big");
        return info.ok() && !info->indexing_error.empty();
    }));
    auto info = db_->GetVectorIndexInfo("big");
    ASSERT_TRUE(info.ok());
    EXPECT_NE(info->indexing_error.find("32-bit"), std::string::npos) << info->indexing_error;
    EXPECT_EQ(info->unindexed_rows, 1u);
    // Still searchable (scanned exactly), named by its record.
    EXPECT_EQ(Nearest("big", far), "far");
    const Status rebuilt = db_->RebuildVectorIndex("big", nullptr);
    EXPECT_EQ(rebuilt.code(), StatusCode::kInvalidArgument) << rebuilt.ToString();
    // DDL and Close do not wait for anything.
    PHENIX_EXPECT_OK(db_->CreateCollection({.ref = "other", .dimension = kDim}));
    PHENIX_EXPECT_OK(db_->Close());
    db_.reset();
}

// Verify() compares the vector index with storage: it catches an index that claims to cover
// commits it does not hold (here: a checkpoint forged with a later watermark).
TEST_F(VectorIndexHardeningTest, VerifyCatchesAnIndexThatDisagreesWithStorage) {
    Open();
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "v", .dimension = kDim}));
    Load("v", 50, 10);
    // The checkpoint copied below must hold all 50 rows: the builder absorbs them in the
    // background, and a Close before it has would checkpoint fewer (and the forged watermark
    // would then report every missing row before the three the test looks for).
    ASSERT_TRUE(WaitFor([&] { return Drained("v"); }));
    PHENIX_EXPECT_OK(db_->Verify());
    auto described = db_->GetCollection("v");
    ASSERT_TRUE(described.ok());
    PHENIX_ASSERT_OK(db_->Close());
    db_.reset();
    const std::string checkpoint =
        dir_.Sub("data") + "/index/c" + std::to_string(described->collection_id) + ".hnsw";
    ASSERT_TRUE(std::filesystem::exists(checkpoint));
    const std::string old_copy = dir_.Sub("old.hnsw");
    std::filesystem::copy_file(checkpoint, old_copy);
    Open();
    std::mt19937_64 rng(11);
    const std::vector<float> moved = RandomVector(rng, 30.0f);
    PHENIX_ASSERT_OK(db_->Upsert("v", Entity{.id = "e3", .vector = moved}));
    PHENIX_ASSERT_OK(db_->Delete("v", "e4"));
    PHENIX_ASSERT_OK(db_->Upsert("v", Entity{.id = "new", .vector = moved}));
    const Timestamp now = db_->CurrentTimestamp();
    PHENIX_ASSERT_OK(db_->Close());
    db_.reset();
    // Forge: the old graph, with a watermark claiming the three commits above.
    {
        index::Timestamp watermark = 0;
        auto old = index::HnswIndex::Load(old_copy, &watermark);
        ASSERT_TRUE(old.ok()) << old.status().ToString();
        ASSERT_TRUE((*old)->Save(checkpoint, now, 0).ok());
    }
    Open();
    auto info = db_->GetVectorIndexInfo("v");
    ASSERT_TRUE(info.ok());
    ASSERT_TRUE(info->loaded_from_checkpoint);
    const Status verified = db_->Verify();
    ASSERT_EQ(verified.code(), StatusCode::kCorruption) << verified.ToString();
    const std::string& message = verified.message();
    EXPECT_NE(message.find("another vector"), std::string::npos) << message;         // e3
    EXPECT_NE(message.find("no vector for it"), std::string::npos) << message;       // e4
    EXPECT_NE(message.find("no searchable version"), std::string::npos) << message;  // new
    // A rebuild repairs it.
    PHENIX_ASSERT_OK(db_->RebuildVectorIndex("v", nullptr));
    PHENIX_EXPECT_OK(db_->Verify());
}

// Item 7: WITH (strategy = 'exact_scan') without a filter is honoured; EXPLAIN's ef is the ef
// the graph searched (a post-filter search widens it).
TEST_F(VectorIndexHardeningTest, StrategyAndEfReportWhatRan) {
    Open();
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "v", .dimension = kDim}));
    std::mt19937_64 rng(12);
    WriteBatch batch;
    for (int i = 0; i < 3000; ++i) {
        const std::string id = "e" + std::to_string(i);
        vectors_[id] = RandomVector(rng);
        batch.Upsert("v", Entity{.id = id,
                                 .vector = vectors_[id],
                                 .metadata = i % 4 == 0 ? R"({"k": 1})" : R"({"k": 2})"});
    }
    PHENIX_ASSERT_OK(db_->Write(batch));
    ASSERT_TRUE(WaitFor([&] { return Drained("v"); }));
    const std::vector<float> q = RandomVector(rng);
    auto exact = db_->Search("v", q, {.k = 10, .strategy = SearchStrategy::kExactScan});
    ASSERT_TRUE(exact.ok()) << exact.status().ToString();
    EXPECT_EQ(exact->plan.strategy, SearchStrategy::kExactScan);
    ASSERT_EQ(exact->hits.size(), 10u);
    const auto truth = Exact(q, 10);
    for (std::size_t i = 0; i < truth.size(); ++i) {
        EXPECT_EQ(exact->hits[i].id, truth[i]);
    }
    auto post = db_->Search(
        "v", q,
        {.k = 10, .ef = 40, .filter = R"({"k": 1})", .strategy = SearchStrategy::kPostFilter});
    ASSERT_TRUE(post.ok()) << post.status().ToString();
    EXPECT_EQ(post->plan.strategy, SearchStrategy::kPostFilter);
    EXPECT_GT(post->plan.ef, 40u);  // widened by 1 / selectivity
    auto plain = db_->Search("v", q, {.k = 10, .ef = 40});
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(plain->plan.ef, 40u);
}

// Backpressure: a bulk load cannot outrun the builder without bound. Every write finds the
// backlog at most at the limit, so it never exceeds the limit plus one batch; searches stay
// exact all along; and the load completes.
TEST_F(VectorIndexHardeningTest, ABulkLoadWaitsForTheBuilderInsteadOfGrowingTheBacklog) {
    constexpr std::size_t kLimit = 600;
    constexpr std::size_t kBatch = 200;
    Open({.max_vector_backlog = kLimit});
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "v", .dimension = 64}));
    std::mt19937_64 rng(16);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    std::uint64_t max_backlog = 0;
    std::vector<float> last;
    for (std::size_t b = 0; b < 20; ++b) {
        WriteBatch batch;
        for (std::size_t i = 0; i < kBatch; ++i) {
            std::vector<float> v(64);
            for (float& x : v) {
                x = gauss(rng);
            }
            last = v;
            batch.Upsert("v", Entity{.id = "b" + std::to_string(b) + "_" + std::to_string(i),
                                     .vector = std::move(v)});
        }
        PHENIX_ASSERT_OK(db_->Write(batch));
        auto info = db_->GetVectorIndexInfo("v");
        ASSERT_TRUE(info.ok());
        max_backlog = std::max(max_backlog, info->unindexed_rows);
    }
    EXPECT_LE(max_backlog, kLimit + kBatch);
    EXPECT_GT(max_backlog, 0u);  // the builder was outrun at times (the check means something)
    auto r = db_->Search("v", last, {.k = 1});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->hits.size(), 1u);
    EXPECT_EQ(r->hits[0].id, "b19_199");
    auto info = db_->GetCollection("v");
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->num_entities, 20 * kBatch);
}

// ---- durability of checkpoints (power loss on a fault-injecting file system) ----

class VectorCheckpointDurabilityTest : public VectorIndexHardeningTest {
  protected:
    std::shared_ptr<FaultInjectionFileSystem> fs_ = std::make_shared<FaultInjectionFileSystem>();
    std::unique_ptr<rocksdb::Env> env_ = testing::NewFaultInjectionEnv(fs_);

    void TearDown() override {
        VectorIndexHardeningTest::TearDown();  // the database goes before env_
    }

    // Every entity readable now is findable by its own vector, and Verify agrees.
    void ExpectIndexMatchesStorage() {
        std::size_t found = 0;
        for (const auto& [id, vector] : vectors_) {
            if (db_->Get("v", id).ok()) {
                EXPECT_EQ(Nearest("v", vector), id);
                ++found;
            }
        }
        EXPECT_GT(found, 0u);
        PHENIX_EXPECT_OK(db_->Verify());
    }
};

// Item 4: in relaxed mode a checkpoint covered commits still only in the OS's cache: a power
// loss dropped them from storage while the index kept them (searches then returned rows that
// do not exist).
TEST_F(VectorCheckpointDurabilityTest, RelaxedCheckpointIsNeverAheadOfTheWal) {
    const Options options{.durability = Durability::kRelaxed,
                          .background_threads = 2,
                          .vector_checkpoint_interval_ms = 1};
    Open(options, env_.get());
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "v", .dimension = kDim}));
    Reopen(options, env_.get());  // the collection itself is durable
    Load("v", 200, 13);
    const Timestamp written = db_->CurrentTimestamp();
    ASSERT_TRUE(WaitFor([&] {
        auto info = db_->GetVectorIndexInfo("v");
        return info.ok() && info->checkpoint_timestamp >= written;
    })) <<
        [&] {
            auto info = db_->GetVectorIndexInfo("v");
            return "written " + std::to_string(written) + " checkpoint " +
                   std::to_string(info->checkpoint_timestamp) + " indexed " +
                   std::to_string(info->indexed_timestamp) + " unindexed " +
                   std::to_string(info->unindexed_rows) + " now " +
                   std::to_string(db_->CurrentTimestamp());
        }();
    // Power loss: everything not synced is gone.
    fs_->SetFilesystemActive(false);
    db_.reset();
    PHENIX_ASSERT_OK(fs_->DropUnsyncedData());
    fs_->SetFilesystemActive(true);
    Open(options, env_.get());
    auto info = db_->GetVectorIndexInfo("v");
    ASSERT_TRUE(info.ok());
    EXPECT_TRUE(info->loaded_from_checkpoint) << info->checkpoint_rejected;
    // The checkpoint synced the WAL first: the rows it covers survived.
    auto described = db_->GetCollection("v");
    ASSERT_TRUE(described.ok());
    EXPECT_EQ(described->num_entities, 200u);
    ExpectIndexMatchesStorage();
}

// Item 4: in sync mode a write whose WAL sync failed is reported failed, but its record may be
// in the file and come back at the restart: the checkpoint must not claim to cover it.
TEST_F(VectorCheckpointDurabilityTest, AFailedCommitIsNeverCoveredByACheckpoint) {
    const Options options{.background_threads = 2, .vector_checkpoint_interval_ms = 0};
    Open(options, env_.get());
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "v", .dimension = kDim}));
    Load("v", 50, 14);
    std::mt19937_64 rng(15);
    vectors_["ambiguous"] = RandomVector(rng, 20.0f);
    fs_->InjectSyncError(true);
    const Status failed =
        db_->Upsert("v", Entity{.id = "ambiguous", .vector = vectors_["ambiguous"]});
    fs_->InjectSyncError(false);
    ASSERT_FALSE(failed.ok());
    // Close checkpoints (the storage engine then refuses its own final sync; that is expected).
    db_->Close().IgnoreError();
    db_.reset();
    Open(options, env_.get());  // a process restart: the OS kept the unsynced bytes
    ASSERT_TRUE(db_->Get("v", "ambiguous").ok()) << "the scenario needs the write recovered";
    auto info = db_->GetVectorIndexInfo("v");
    ASSERT_TRUE(info.ok());
    EXPECT_TRUE(info->loaded_from_checkpoint) << info->checkpoint_rejected;
    ExpectIndexMatchesStorage();
}

}  // namespace
}  // namespace phenix::engine
