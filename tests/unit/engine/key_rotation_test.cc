// SPDX-License-Identifier: Apache-2.0
//
// Data-key rotation through the public API (docs/decisions/0031): a tenant's key is rotated while
// a writer keeps upserting and deleting; the re-encryption is stopped after two batches (a batch
// failing before its commit, as a crash there would) and the database is closed and reopened; it
// resumes from its persisted cursor, finishes, and destroys the old key. Then every row reads
// back as last written, the raw stored versions of the tenant (every MVCC version, read below
// the engine) are all sealed under the new key generation, the old key's file is gone from the
// KMS, and a reopen reads everything again.
#include "engine/key_rotation.h"

#include <atomic>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include <phenix/db.h>

#include "common/coding.h"
#include "common/sync_point.h"
#include "crypto/kms.h"
#include "crypto/tenant_keys.h"
#include "storage/payload_cipher.h"
#include "storage/store.h"
#include "testing/db_fixture.h"
#include "testing/temp_dir.h"

namespace phenix {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t kDim = 4;
constexpr int kSeedEntities = 400;
const CollectionRef kDocs{"acme", "docs"};

std::vector<float> VectorFor(int idx, int version) {
    return {static_cast<float>(idx) + 0.5f, static_cast<float>(version), 1.0f, 2.0f};
}

Entity SeedEntity(int idx) {
    Entity e{.id = "S-" + std::to_string(idx),
             .vector = VectorFor(idx, 0),
             .metadata = R"({"seed":)" + std::to_string(idx) + "}"};
    if (idx > 0) {
        e.edges.push_back(Edge{.label = "prev",
                               .target_id = "S-" + std::to_string(idx - 1),
                               .properties = R"({"p":)" + std::to_string(idx) + "}"});
    }
    return e;
}

// What the writer thread last did to each of its ids: the entity, or nullopt (deleted).
using Expected = std::map<std::string, std::optional<Entity>>;

// Upserts and deletes ids W-0..W-39 (each upsert with an edge to a seed entity) until `stop`.
void RunWriter(Database& db, std::atomic<bool>& stop, int& version, Expected& expected) {
    while (!stop.load()) {
        ++version;
        const int idx = version % 40;
        const std::string id = "W-" + std::to_string(idx);
        if (version % 7 == 0 && expected.contains(id) && expected[id].has_value()) {
            ASSERT_TRUE(db.Delete(kDocs, id).ok());
            expected[id] = std::nullopt;
            continue;
        }
        Entity e{.id = id,
                 .vector = VectorFor(idx, version),
                 .metadata = R"({"w":)" + std::to_string(version) + "}",
                 .edges = {Edge{.label = "seed",
                                .target_id = "S-" + std::to_string(version % kSeedEntities),
                                .properties = R"({"v":)" + std::to_string(version) + "}"}}};
        auto upserted = db.Upsert(kDocs, e);
        ASSERT_TRUE(upserted.ok()) << upserted.ToString();
        expected[id] = e;
    }
}

class KeyRotationTest : public ::testing::Test {
  protected:
    void SetUp() override {
        key_path_ = dir_.Sub("master.key");
        ASSERT_TRUE(crypto::CreateLocalKeyFile(key_path_).ok());
        options_.encryption.kms = "local:" + key_path_;
        options_.history_retention_ms = 0;  // the old key may go as soon as the pass is done
        path_ = dir_.Sub("db");
    }
    void TearDown() override { SyncPoints::ClearAll(); }

    std::unique_ptr<Database> OpenOrDie() {
        auto db = Database::Open(path_, options_);
        EXPECT_TRUE(db.ok()) << db.status().ToString();
        return db.ok() ? std::move(db).value() : nullptr;
    }

    // Polls the rotation until `done` holds (at most ~60 s).
    KeyRotationInfo WaitFor(Database& db, const std::function<bool(const KeyRotationInfo&)>& done) {
        KeyRotationInfo info;
        for (int attempt = 0; attempt < 6000; ++attempt) {
            auto got = db.GetKeyRotation("acme");
            EXPECT_TRUE(got.ok()) << got.status().ToString();
            if (!got.ok()) {
                return info;
            }
            info = *got;
            if (done(info)) {
                return info;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ADD_FAILURE() << "the rotation did not get there; state " << info.state << ", "
                      << info.num_checked << "/" << info.num_total;
        return info;
    }

    // Tenant acme with kSeedEntities entities, so under its first key generation: its tenant
    // id and that generation's key in the KMS (checked to exist).
    void SeedAcme(Database& db, std::uint32_t& tenant, std::string& old_kms_key) {
        PHENIX_ASSERT_OK(db.CreateTenant("acme"));
        PHENIX_ASSERT_OK(db.CreateCollection({.ref = kDocs, .dimension = kDim}));
        WriteBatch seed;
        for (int idx = 0; idx < kSeedEntities; ++idx) {
            seed.Upsert(kDocs, SeedEntity(idx));
        }
        PHENIX_ASSERT_OK(db.Write(seed));
        auto keyed = crypto::TenantKeyring(path_, nullptr, true).Tenants();
        ASSERT_TRUE(keyed.ok());
        ASSERT_EQ(keyed->size(), 1u);
        tenant = keyed->front();
        auto record = crypto::ReadTenantKeyRecord(path_, tenant);
        ASSERT_TRUE(record.ok()) << record.status().ToString();
        EXPECT_EQ(record->generation, 1);
        old_kms_key = record->kms_key;
        ASSERT_TRUE(fs::exists(key_path_ + ".keys/" + old_kms_key));
    }

    // A database with SeedAcme done; nullptr (a failure reported) when that failed.
    std::unique_ptr<Database> OpenSeeded(std::string& old_kms_key) {
        auto db = OpenOrDie();
        if (db == nullptr) {
            return nullptr;
        }
        std::uint32_t tenant = 0;
        SeedAcme(*db, tenant, old_kms_key);
        return HasFatalFailure() ? nullptr : std::move(db);
    }

    void ExpectReadsBack(Database& db, const Expected& expected) {
        for (int idx = 0; idx < kSeedEntities; ++idx) {
            auto got = db.Get(kDocs, "S-" + std::to_string(idx));
            ASSERT_TRUE(got.ok()) << got.status().ToString();
            const Entity want = SeedEntity(idx);
            EXPECT_EQ(got->metadata, want.metadata);
            EXPECT_EQ(got->vector, want.vector);
            ASSERT_EQ(got->edges.size(), want.edges.size());
            if (!want.edges.empty()) {
                EXPECT_EQ(got->edges[0].properties, want.edges[0].properties);
            }
        }
        int num_live = 0;
        for (const auto& [id, want] : expected) {
            auto got = db.Get(kDocs, id);
            if (!want) {
                EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << id;
                continue;
            }
            ++num_live;
            ASSERT_TRUE(got.ok()) << id << ": " << got.status().ToString();
            EXPECT_EQ(got->metadata, want->metadata) << id;
            EXPECT_EQ(got->vector, want->vector) << id;
            ASSERT_EQ(got->edges.size(), 1u) << id;
            EXPECT_EQ(got->edges[0].properties, want->edges[0].properties) << id;
            auto in = db.ListEdges(kDocs, want->edges[0].target_id, EdgeDirection::kIn);
            ASSERT_TRUE(in.ok()) << in.status().ToString();
        }
        EXPECT_GT(num_live, 0);
        auto hits = db.Search(kDocs, VectorFor(7, 0), {.k = 1});
        ASSERT_TRUE(hits.ok()) << hits.status().ToString();
        ASSERT_EQ(hits->hits.size(), 1u);
        EXPECT_EQ(hits->hits[0].id, "S-7");
    }

    testing::TempDir dir_;
    std::string key_path_;
    std::string path_;
    Options options_;
};

TEST_F(KeyRotationTest, RotatesUnderWritesResumesAfterReopenAndDestroysTheOldKey) {
    Expected expected;
    int version = 0;
    std::uint32_t tenant = 0;
    std::string old_kms_key;
    std::uint64_t checked_at_stop = 0;
    {
        auto db = OpenOrDie();
        ASSERT_NE(db, nullptr);
        SeedAcme(*db, tenant, old_kms_key);
        if (HasFatalFailure()) {
            return;
        }

        // Batches after the second committed one fail before their commit, as a crash there
        // would leave it. (A batch that lost to a concurrent write is retried: count commits.)
        std::atomic<int> failed{0};
        SyncPoints::SetWithArg("KeyRotations::ReencryptBatch:BeforeCommit", [&](void* arg) {
            auto* point = static_cast<engine::KeyRotationBatchPoint*>(arg);
            if (point->before->num_checked >= 2 * engine::KeyRotations::kBatchValues) {
                *point->inject = Status::IOError("injected: the process dies here");
                failed.fetch_add(1);
            }
        });
        std::atomic<bool> stop{false};
        std::thread writer([&] { RunWriter(*db, stop, version, expected); });
        auto started = db->RotateTenantKey("acme");
        ASSERT_TRUE(started.ok()) << started.status().ToString();
        EXPECT_EQ(started->state, "re-encrypting");
        EXPECT_EQ(started->from_generation, 1u);
        EXPECT_EQ(started->to_generation, 2u);
        // A second rotation while this one runs is refused.
        EXPECT_EQ(db->RotateTenantKey("acme").status().code(), StatusCode::kFailedPrecondition);
        while (failed.load() < 2) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        stop = true;
        writer.join();
        const KeyRotationInfo stopped = *db->GetKeyRotation("acme");
        EXPECT_EQ(stopped.state, "re-encrypting");
        EXPECT_EQ(stopped.num_checked, 2 * engine::KeyRotations::kBatchValues);
        EXPECT_GT(stopped.num_total, 2 * engine::KeyRotations::kBatchValues);
        checked_at_stop = stopped.num_checked;
        // New writes use the new key at once, and every row still reads (old or new key).
        ExpectReadsBack(*db, expected);
        PHENIX_ASSERT_OK(db->Close());
        SyncPoints::ClearAll();
    }
    {
        // The old generation is still held: both keys are in the record.
        auto record = crypto::ReadTenantKeyRecord(path_, tenant);
        ASSERT_TRUE(record.ok()) << record.status().ToString();
        EXPECT_EQ(record->generation, 2);
        ASSERT_EQ(record->older.size(), 1u);
        EXPECT_EQ(record->older.begin()->second.kms_key, old_kms_key);
    }
    {
        // The first batch after the reopen starts where the last committed one ended.
        std::atomic<std::int64_t> first_checked{-1};
        SyncPoints::SetWithArg("KeyRotations::ReencryptBatch:BeforeCommit", [&](void* arg) {
            auto* point = static_cast<engine::KeyRotationBatchPoint*>(arg);
            std::int64_t unset = -1;
            first_checked.compare_exchange_strong(
                unset, static_cast<std::int64_t>(point->before->num_checked));
        });
        auto db = OpenOrDie();
        ASSERT_NE(db, nullptr);
        std::atomic<bool> stop{false};
        std::thread writer([&] { RunWriter(*db, stop, version, expected); });
        WaitFor(*db, [](const KeyRotationInfo& info) { return info.state != "re-encrypting"; });
        stop = true;
        writer.join();
        EXPECT_EQ(first_checked.load(), static_cast<std::int64_t>(checked_at_stop));
        const KeyRotationInfo done =
            WaitFor(*db, [](const KeyRotationInfo& info) { return info.state == "finished"; });
        EXPECT_GT(done.num_reencrypted, 0u);
        EXPECT_GE(done.num_checked, done.num_reencrypted);
        ExpectReadsBack(*db, expected);
        PHENIX_ASSERT_OK(db->Close());
    }
    // The old key is destroyed: gone from the KMS and from the record.
    EXPECT_FALSE(fs::exists(key_path_ + ".keys/" + old_kms_key));
    auto record = crypto::ReadTenantKeyRecord(path_, tenant);
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    EXPECT_EQ(record->generation, 2);
    EXPECT_TRUE(record->older.empty());
    EXPECT_TRUE(fs::exists(key_path_ + ".keys/" + record->kms_key));
    {
        // Raw storage: every stored version of the tenant's payloads is under generation 2.
        auto store = storage::Store::Open(path_, options_);
        ASSERT_TRUE(store.ok()) << store.status().ToString();
        std::string prefix;
        coding::PutFixed32BE(prefix, tenant);
        std::uint64_t num_versions = 0;
        for (auto family : {storage::ColumnFamily::kEntities, storage::ColumnFamily::kOutEdges,
                            storage::ColumnFamily::kInEdges}) {
            PHENIX_ASSERT_OK((*store)->ScanVersions(
                family, prefix, 0, storage::kLatestTimestamp,
                [&](const storage::Store::KeyVersion& v) -> Status {
                    if (v.value) {
                        ++num_versions;
                        EXPECT_EQ(storage::SealedPayloadGeneration(*v.value), 2)
                            << storage::ColumnFamilyName(family);
                    }
                    return Status::Ok();
                }));
        }
        EXPECT_GT(num_versions, static_cast<std::uint64_t>(2 * kSeedEntities));
        PHENIX_ASSERT_OK((*store)->Close());
    }
    auto db = OpenOrDie();
    ASSERT_NE(db, nullptr);
    ExpectReadsBack(*db, expected);
    auto info = db->GetKeyRotation("acme");
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->state, "finished");
    // The next rotation may start now.
    auto again = db->RotateTenantKey("acme");
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->to_generation, 3u);
}

// Nothing commits after the rotation's pass (a new user's idle catalog). The pass's last
// re-sealed versions sit exactly at the history floor, where RocksDB's garbage collection keeps
// the newest version below full_history_ts_low beside them: the old-generation one. Settle commits
// a clock tick so the floor can pass them; without it the old key was never destroyed.
TEST_F(KeyRotationTest, FinishesOnAnIdleDatabase) {
    std::string old_kms_key;
    auto db = OpenSeeded(old_kms_key);
    if (db == nullptr) {
        return;
    }
    auto started = db->RotateTenantKey("acme");
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    const KeyRotationInfo done =
        WaitFor(*db, [](const KeyRotationInfo& info) { return info.state == "finished"; });
    EXPECT_EQ(done.state, "finished");
    EXPECT_GT(done.num_reencrypted, static_cast<std::uint64_t>(kSeedEntities));
    EXPECT_FALSE(fs::exists(key_path_ + ".keys/" + old_kms_key));
    auto hit = db->Get(kDocs, "S-7");
    ASSERT_TRUE(hit.ok()) << hit.status().ToString();
    EXPECT_EQ(hit->metadata, SeedEntity(7).metadata);
}

// The vector index checkpoint written before the rotation is sealed under the old generation:
// a reopen while the rotation runs reads it under that generation (the keyring still holds it),
// and before the old key is destroyed the checkpoint is rewritten under the new one, so a reopen
// after the rotation loads it too instead of rebuilding the index from storage.
TEST_F(KeyRotationTest, ReopensLoadTheVectorCheckpointDuringAndAfterTheRotation) {
    std::uint32_t tenant = 0;
    std::string old_kms_key;
    std::string checkpoint;
    auto expect_loaded = [&](Database& db) {
        auto info = db.GetVectorIndexInfo(kDocs);
        ASSERT_TRUE(info.ok()) << info.status().ToString();
        EXPECT_TRUE(info->loaded_from_checkpoint) << info->checkpoint_rejected;
        EXPECT_EQ(info->checkpoint_rejected, "");
        EXPECT_EQ(info->live_nodes, static_cast<std::uint64_t>(kSeedEntities));
        auto hits = db.Search(kDocs, VectorFor(7, 0), {.k = 1});
        ASSERT_TRUE(hits.ok()) << hits.status().ToString();
        ASSERT_EQ(hits->hits.size(), 1u);
        EXPECT_EQ(hits->hits[0].id, "S-7");
    };
    {
        auto db = OpenOrDie();
        ASSERT_NE(db, nullptr);
        SeedAcme(*db, tenant, old_kms_key);
        if (HasFatalFailure()) {
            return;
        }
        auto described = db->GetCollection(kDocs);
        ASSERT_TRUE(described.ok()) << described.status().ToString();
        checkpoint = path_ + "/index/c" + std::to_string(described->collection_id) + ".hnsw";
        PHENIX_ASSERT_OK(db->Close());  // writes the checkpoint (under generation 1)
    }
    ASSERT_TRUE(fs::exists(checkpoint)) << "no checkpoint at " << checkpoint;
    // Every re-encryption batch fails: the rotation stays in its pass, generation 1 stays held.
    SyncPoints::SetWithArg("KeyRotations::ReencryptBatch:BeforeCommit", [&](void* arg) {
        *static_cast<engine::KeyRotationBatchPoint*>(arg)->inject =
            Status::IOError("injected: the batch fails");
    });
    {
        auto db = OpenOrDie();
        ASSERT_NE(db, nullptr);
        expect_loaded(*db);
        auto started = db->RotateTenantKey("acme");
        ASSERT_TRUE(started.ok()) << started.status().ToString();
        PHENIX_ASSERT_OK(db->Close());  // nothing changed: the checkpoint stays as it was
    }
    {
        auto db = OpenOrDie();
        ASSERT_NE(db, nullptr);
        expect_loaded(*db);  // sealed under generation 1, read while 2 is current
        auto during = db->GetKeyRotation("acme");
        ASSERT_TRUE(during.ok());
        EXPECT_EQ(during->state, "re-encrypting");
        SyncPoints::ClearAll();
        WaitFor(*db, [](const KeyRotationInfo& info) { return info.state == "finished"; });
        PHENIX_ASSERT_OK(db->Close());
    }
    EXPECT_FALSE(fs::exists(key_path_ + ".keys/" + old_kms_key));
    auto record = crypto::ReadTenantKeyRecord(path_, tenant);
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    EXPECT_TRUE(record->older.empty());
    auto db = OpenOrDie();
    ASSERT_NE(db, nullptr);
    expect_loaded(*db);  // rewritten under generation 2 before generation 1 was destroyed
}

// A failing background step shows in the rotation's status with its time, until a later step
// succeeds.
TEST_F(KeyRotationTest, StatusShowsTheLastBackgroundErrorUntilAStepSucceeds) {
    std::string old_kms_key;
    auto db = OpenSeeded(old_kms_key);
    if (db == nullptr) {
        return;
    }
    auto before = db->GetKeyRotation("acme");
    ASSERT_TRUE(before.ok());
    EXPECT_EQ(before->last_error, "");
    EXPECT_EQ(before->last_error_at, "");
    SyncPoints::SetWithArg("KeyRotations::ReencryptBatch:BeforeCommit", [&](void* arg) {
        *static_cast<engine::KeyRotationBatchPoint*>(arg)->inject =
            Status::IOError("injected: the KMS refuses");
    });
    auto started = db->RotateTenantKey("acme");
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    EXPECT_EQ(started->last_error, "");
    const KeyRotationInfo failing =
        WaitFor(*db, [](const KeyRotationInfo& info) { return !info.last_error.empty(); });
    EXPECT_EQ(failing.state, "re-encrypting");
    EXPECT_NE(failing.last_error.find("injected: the KMS refuses"), std::string::npos)
        << failing.last_error;
    // UTC, to the second: "YYYY-MM-DDTHH:MM:SSZ".
    ASSERT_EQ(failing.last_error_at.size(), 20u) << failing.last_error_at;
    EXPECT_EQ(failing.last_error_at[4], '-');
    EXPECT_EQ(failing.last_error_at[10], 'T');
    EXPECT_EQ(failing.last_error_at.back(), 'Z');
    SyncPoints::ClearAll();
    const KeyRotationInfo done =
        WaitFor(*db, [](const KeyRotationInfo& info) { return info.state == "finished"; });
    EXPECT_EQ(done.last_error, "");
    EXPECT_EQ(done.last_error_at, "");
    EXPECT_FALSE(fs::exists(key_path_ + ".keys/" + old_kms_key));
}

TEST_F(KeyRotationTest, RefusesWithoutEncryptionAndForUnknownTenants) {
    Options plain;
    auto db = Database::Open(dir_.Sub("plain"), plain);
    ASSERT_TRUE(db.ok());
    PHENIX_ASSERT_OK((*db)->CreateTenant("acme"));
    EXPECT_EQ((*db)->RotateTenantKey("acme").status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ((*db)->RotateTenantKey("nobody").status().code(), StatusCode::kNotFound);
    auto info = (*db)->GetKeyRotation("acme");
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->state, "none");
    auto encrypted = OpenOrDie();
    ASSERT_NE(encrypted, nullptr);
    PHENIX_ASSERT_OK(encrypted->CreateTenant("acme"));
    // No key yet: nothing of the tenant is encrypted.
    EXPECT_EQ(encrypted->RotateTenantKey("acme").status().code(), StatusCode::kFailedPrecondition);
}

TEST(KeyRotationProgress, RoundTripsAndRejectsMalformedRecords) {
    engine::KeyRotationProgress progress;
    progress.phase = engine::KeyRotationProgress::Phase::kSettling;
    progress.from_generation = 255;
    progress.to_generation = 1;
    progress.family_idx = 2;
    progress.cursor = std::string("\0\0\0\7abc\0", 8);
    progress.counted = true;
    progress.num_total = 1000;
    progress.num_checked = 600;
    progress.num_reencrypted = 500;
    progress.pass_end_ts = 123456789;
    auto decoded = engine::KeyRotationProgress::Decode(progress.Encode());
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->phase, progress.phase);
    EXPECT_EQ(decoded->from_generation, 255);
    EXPECT_EQ(decoded->to_generation, 1);
    EXPECT_EQ(decoded->family_idx, 2);
    EXPECT_EQ(decoded->cursor, progress.cursor);
    EXPECT_TRUE(decoded->counted);
    EXPECT_EQ(decoded->num_total, 1000u);
    EXPECT_EQ(decoded->num_checked, 600u);
    EXPECT_EQ(decoded->num_reencrypted, 500u);
    EXPECT_EQ(decoded->pass_end_ts, 123456789u);
    const std::string encoded = progress.Encode();
    for (std::size_t size = 0; size < 38; ++size) {
        EXPECT_EQ(engine::KeyRotationProgress::Decode(encoded.substr(0, size)).status().code(),
                  StatusCode::kCorruption)
            << size;
    }
    std::string bad_phase = encoded;
    bad_phase[1] = 9;
    EXPECT_EQ(engine::KeyRotationProgress::Decode(bad_phase).status().code(),
              StatusCode::kCorruption);
    std::string bad_version = encoded;
    bad_version[0] = 2;
    EXPECT_EQ(engine::KeyRotationProgress::Decode(bad_version).status().code(),
              StatusCode::kCorruption);
}

}  // namespace
}  // namespace phenix
