// SPDX-License-Identifier: Apache-2.0
//
// Encryption at rest through the public API (docs/security.md, "Encryption at rest"): the marker
// test — with encryption on, no file in the data directory (WAL, SSTs, MANIFEST, OPTIONS, the
// vector index checkpoint, the info LOG, the key file) contains the metadata, edge or vector
// bytes written, whether the data sits only in the write-ahead log, in flushed and compacted SST
// files or in the index checkpoint; the same run without encryption finds them (so the scan is
// not vacuous); everything reads back after a reopen. Also the refusals: encrypted vs not, and
// the wrong master key.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include <phenix/db.h>

#include "crypto/data_key.h"
#include "crypto/kms.h"
#include "testing/db_fixture.h"
#include "testing/temp_dir.h"

namespace phenix {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t kDim = 8;
constexpr int kFlushed = 40;
constexpr int kWalOnly = 10;

// A distinctive vector: no other bytes in the directory look like it.
std::vector<float> MarkerVector(int idx) {
    std::vector<float> v(kDim);
    for (std::uint32_t d = 0; d < kDim; ++d) {
        v[d] = 1234.5678f + static_cast<float>(idx) * 0.001f + static_cast<float>(d) * 7.25f;
    }
    return v;
}

std::string VectorBytes(const std::vector<float>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

Entity MarkerEntity(const std::string& kind, int idx) {
    const std::string id = kind + std::to_string(idx);
    Entity e{.id = id,
             .vector = MarkerVector(idx + (kind == "wal" ? 1000 : 0)),
             .metadata = R"({"secret":"SECRETMARKER-)" + kind + "-" + std::to_string(idx) +
                         R"(-zq"})"};
    if (idx > 0) {
        e.edges.push_back(Edge{.label = "knows",
                               .target_id = kind + std::to_string(idx - 1),
                               .properties = R"({"edgeprop":"EDGEMARKER-)" + kind + "-" +
                                             std::to_string(idx) + R"(-zq"})"});
    }
    return e;
}

struct ScanResult {
    std::set<std::string> found;  // markers found somewhere
    std::set<std::string> files;  // files scanned
    std::set<std::string> files_with_markers;
    std::uint64_t bytes = 0;

    [[nodiscard]] bool FoundIn(std::string_view suffix) const {
        for (const std::string& file : files_with_markers) {
            if (file.ends_with(suffix)) {
                return true;
            }
        }
        return false;
    }
};

// Every regular file under `dir`, searched for every marker.
ScanResult ScanDirectory(const std::string& dir, const std::vector<std::string>& markers) {
    ScanResult result;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (!entry.is_regular_file()) {
            continue;
        }
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
        result.files.insert(fs::relative(entry.path(), dir).string());
        result.bytes += bytes.size();
        for (const std::string& marker : markers) {
            if (bytes.find(marker) != std::string::npos) {
                result.found.insert(marker);
                result.files_with_markers.insert(fs::relative(entry.path(), dir).string());
            }
        }
    }
    return result;
}

class EncryptionTest : public ::testing::Test {
  protected:
    void SetUp() override {
        key_path_ = dir_.Sub("master.key");
        ASSERT_TRUE(crypto::CreateLocalKeyFile(key_path_).ok());
        kms_ = "local:" + key_path_;
    }

    Options WithKms(const std::string& kms) const {
        Options options;
        options.encryption.kms = kms;
        options.vector_checkpoint_interval_ms = 0;  // checkpoints at Close only
        return options;
    }

    std::unique_ptr<Database> OpenOrDie(const std::string& path, const Options& options) {
        auto db = Database::Open(path, options);
        EXPECT_TRUE(db.ok()) << db.status().ToString();
        return db.ok() ? std::move(db).value() : nullptr;
    }

    std::vector<std::string> Markers(bool with_wal) const {
        // The bare prefixes too: in a compressed SST only some full strings stay literal.
        std::vector<std::string> markers = {"SECRETMARKER", "EDGEMARKER"};
        for (int idx = 0; idx < kFlushed; ++idx) {
            markers.push_back("SECRETMARKER-flushed-" + std::to_string(idx) + "-zq");
            markers.push_back(VectorBytes(MarkerVector(idx)));
            if (idx > 0) {
                markers.push_back("EDGEMARKER-flushed-" + std::to_string(idx) + "-zq");
            }
        }
        for (int idx = 0; with_wal && idx < kWalOnly; ++idx) {
            markers.push_back("SECRETMARKER-wal-" + std::to_string(idx) + "-zq");
            markers.push_back(VectorBytes(MarkerVector(idx + 1000)));
        }
        return markers;
    }

    // Writes the flushed and checkpointed part (scan 1: a level-0 SST, LZ4-compressed, whose
    // literals a plain scan can see), then reopens, compacts it to the bottom level (ZSTD) and
    // writes a part that stays only in the write-ahead log (scan 2, while the database is open:
    // what a crash right then leaves on disk). Returns both scans.
    std::pair<ScanResult, ScanResult> WriteAndScan(const std::string& path,
                                                   const Options& options) {
        std::pair<ScanResult, ScanResult> scans;
        auto db = OpenOrDie(path, options);
        if (!db) {
            return scans;
        }
        EXPECT_TRUE(db->CreateCollection({.ref = "secrets", .dimension = kDim}).ok());
        WriteBatch batch;
        for (int idx = 0; idx < kFlushed; ++idx) {
            batch.Upsert("secrets", MarkerEntity("flushed", idx));
        }
        EXPECT_TRUE(db->Write(batch).ok());
        // The checkpoint holds only vectors the builder has moved into the graph: wait for all
        // of them, or a loaded machine leaves the control run's .hnsw without the marker.
        testing::WaitForVectorIndex(*db, "secrets");
        EXPECT_TRUE(db->Close().ok());  // flushes the memtables and checkpoints the index
        EXPECT_TRUE(fs::exists(path + "/index"));
        scans.first = ScanDirectory(path, Markers(false));

        db = OpenOrDie(path, options);
        if (!db) {
            return scans;
        }
        EXPECT_TRUE(db->Compact().ok());
        WriteBatch wal_batch;
        for (int idx = 0; idx < kWalOnly; ++idx) {
            wal_batch.Upsert("secrets", MarkerEntity("wal", idx));
        }
        EXPECT_TRUE(db->Write(wal_batch).ok());  // synced to the WAL, not flushed
        scans.second = ScanDirectory(path, Markers(true));
        EXPECT_TRUE(db->Close().ok());
        return scans;
    }

    void ExpectEverythingReadsBack(Database& db) {
        for (int idx = 0; idx < kFlushed; ++idx) {
            auto got = db.Get("secrets", "flushed" + std::to_string(idx));
            ASSERT_TRUE(got.ok()) << got.status().ToString();
            const Entity want = MarkerEntity("flushed", idx);
            EXPECT_EQ(got->metadata, want.metadata);
            EXPECT_EQ(got->vector, want.vector);
        }
        for (int idx = 0; idx < kWalOnly; ++idx) {
            auto got = db.Get("secrets", "wal" + std::to_string(idx));
            ASSERT_TRUE(got.ok()) << got.status().ToString();
            EXPECT_EQ(got->metadata, MarkerEntity("wal", idx).metadata);
        }
        auto edges = db.ListEdges("secrets", "flushed5");
        ASSERT_TRUE(edges.ok());
        ASSERT_EQ(edges->size(), 1u);
        EXPECT_EQ(edges->front().properties, R"({"edgeprop":"EDGEMARKER-flushed-5-zq"})");
        const std::vector<float> query = MarkerVector(7);
        auto hits = db.Search("secrets", query, {.k = 1});
        ASSERT_TRUE(hits.ok()) << hits.status().ToString();
        ASSERT_EQ(hits->hits.size(), 1u);
        EXPECT_EQ(hits->hits[0].id, "flushed7");
    }

    testing::TempDir dir_;
    std::string key_path_;
    std::string kms_;
};

TEST_F(EncryptionTest, NoFileHoldsUserDataWhenEncryptedAndTheControlRunFindsIt) {
    // Control: without encryption the scan finds the markers, in every phase.
    const std::string plain = dir_.Sub("plain");
    auto [plain_flushed, plain_wal] = WriteAndScan(plain, WithKms(""));
    EXPECT_TRUE(plain_flushed.found.contains("SECRETMARKER"));
    EXPECT_TRUE(plain_flushed.found.contains("EDGEMARKER"));
    EXPECT_TRUE(plain_flushed.found.contains(VectorBytes(MarkerVector(0))));
    EXPECT_TRUE(plain_flushed.FoundIn(".sst"));
    EXPECT_TRUE(plain_flushed.FoundIn(".hnsw"));
    EXPECT_TRUE(plain_wal.found.contains("SECRETMARKER-wal-0-zq"));
    EXPECT_TRUE(plain_wal.found.contains(VectorBytes(MarkerVector(1000))));
    EXPECT_TRUE(plain_wal.FoundIn(".log"));

    const std::string secret = dir_.Sub("secret");
    auto [flushed, wal] = WriteAndScan(secret, WithKms(kms_));
    // The scans saw the same kinds of files as the control (WAL, SSTs, MANIFEST, OPTIONS, the
    // index checkpoint, the LOG), plus the key file.
    ASSERT_GT(flushed.bytes, 0u);
    EXPECT_TRUE(wal.files.contains("keys/data_key"));
    bool saw_checkpoint = false;
    bool saw_sst = false;
    bool saw_wal = false;
    for (const std::string& file : wal.files) {
        saw_checkpoint |= file.starts_with("index/");
        saw_sst |= file.ends_with(".sst");
        saw_wal |= file.ends_with(".log");
    }
    EXPECT_TRUE(saw_checkpoint && saw_sst && saw_wal);
    EXPECT_TRUE(flushed.found.empty()) << flushed.found.size() << " markers found, e.g. "
                                       << *flushed.found.begin();
    EXPECT_TRUE(wal.found.empty()) << wal.found.size() << " markers found";

    auto db = OpenOrDie(secret, WithKms(kms_));
    ASSERT_NE(db, nullptr);
    ExpectEverythingReadsBack(*db);
    auto info = db->GetVectorIndexInfo("secrets");
    ASSERT_TRUE(info.ok());
    EXPECT_GT(info->checkpoint_timestamp, 0u);  // the encrypted checkpoint was loaded
    EXPECT_TRUE(db->Verify().ok());
    EXPECT_TRUE(db->Close().ok());
}

TEST_F(EncryptionTest, EncryptedAndPlainDirectoriesRefuseTheOtherMode) {
    const std::string secret = dir_.Sub("secret");
    ASSERT_NE(OpenOrDie(secret, WithKms(kms_)), nullptr);
    auto no_key = Database::Open(secret, WithKms(""));
    EXPECT_EQ(no_key.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(no_key.status().message().find("encrypted at rest"), std::string::npos)
        << no_key.status().ToString();
    Options read_only = WithKms("");
    read_only.read_only = true;
    EXPECT_EQ(Database::Open(secret, read_only).status().code(), StatusCode::kFailedPrecondition);

    const std::string plain = dir_.Sub("plain");
    ASSERT_NE(OpenOrDie(plain, WithKms("")), nullptr);
    auto with_key = Database::Open(plain, WithKms(kms_));
    EXPECT_EQ(with_key.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(with_key.status().message().find("without encryption"), std::string::npos);
}

TEST_F(EncryptionTest, WrongMasterKeyIsAClearError) {
    const std::string secret = dir_.Sub("secret");
    ASSERT_NE(OpenOrDie(secret, WithKms(kms_)), nullptr);
    const std::string other = dir_.Sub("other.key");
    ASSERT_TRUE(crypto::CreateLocalKeyFile(other).ok());
    auto wrong = Database::Open(secret, WithKms("local:" + other));
    EXPECT_EQ(wrong.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(wrong.status().message().find("wrong master key"), std::string::npos)
        << wrong.status().ToString();
    EXPECT_EQ(Database::Open(secret, WithKms("local:" + dir_.Sub("missing.key"))).status().code(),
              StatusCode::kNotFound);
}

// Rotation while the database is open and being written: the data key stays the same, so the
// open process is unaffected; the next open needs the new master key.
TEST_F(EncryptionTest, MasterKeyRotationWhileOpenKeepsEverything) {
    const std::string secret = dir_.Sub("secret");
    auto db = OpenOrDie(secret, WithKms(kms_));
    ASSERT_NE(db, nullptr);
    PHENIX_ASSERT_OK(db->CreateCollection({.ref = "secrets", .dimension = kDim}));
    const std::string new_key = dir_.Sub("new.key");
    ASSERT_TRUE(crypto::CreateLocalKeyFile(new_key).ok());
    for (int idx = 0; idx < kFlushed; ++idx) {
        PHENIX_ASSERT_OK(db->Upsert("secrets", MarkerEntity("flushed", idx)));
        if (idx == kFlushed / 2) {
            auto old_kms = crypto::OpenKms(kms_);
            auto new_kms = crypto::OpenKms("local:" + new_key);
            ASSERT_TRUE(old_kms.ok() && new_kms.ok());
            auto rotated = crypto::RotateMasterKey(secret, **old_kms, **new_kms);
            ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
        }
    }
    PHENIX_ASSERT_OK(db->Close());
    db.reset();
    EXPECT_EQ(Database::Open(secret, WithKms(kms_)).status().code(),
              StatusCode::kFailedPrecondition);
    db = OpenOrDie(secret, WithKms("local:" + new_key));
    ASSERT_NE(db, nullptr);
    for (int idx = 0; idx < kFlushed; ++idx) {
        auto got = db->Get("secrets", "flushed" + std::to_string(idx));
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        EXPECT_EQ(got->metadata, MarkerEntity("flushed", idx).metadata);
    }
}

}  // namespace
}  // namespace phenix
