// SPDX-License-Identifier: Apache-2.0
//
// Per-tenant data keys and crypto-shredding through the public API (docs/decisions/0022): two
// tenants write marker strings in metadata, distinctive vectors and edge properties; a copy of
// the data directory is saved; tenant "acme" is dropped. Then, from the saved copy plus every key
// that still exists (the master key and tenant "beta"'s key):
//   * the copy opens, beta's data reads back, searches and verifies; acme's reads fail with an
//     error that says its key is gone;
//   * every file of the copy, decrypted at the file layer with the database's data key (which
//     the attacker has), holds none of acme's markers (its ids, which are keys and not payloads,
//     are there: the control that the decryption worked);
//   * acme's wrapped data key in the copy cannot be unwrapped by the KMS.
// Also: a crash inside DropTenant (key outlives the catalog entry) is finished at the next open.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include <phenix/db.h>

#include "crypto/data_key.h"
#include "crypto/kms.h"
#include "crypto/tenant_keys.h"
#include "storage/encrypted_fs.h"
#include "testing/db_fixture.h"
#include "testing/temp_dir.h"

namespace phenix {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t kDim = 8;
constexpr int kEntities = 30;

std::vector<float> TenantVector(int tenant, int idx) {
    std::vector<float> v(kDim);
    for (std::uint32_t d = 0; d < kDim; ++d) {
        v[d] = 4321.125f * static_cast<float>(tenant) + static_cast<float>(idx) * 0.002f +
               static_cast<float>(d) * 3.5f;
    }
    return v;
}

std::string VectorBytes(const std::vector<float>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// `tag` "ACME" or "BETA"; `tenant` 1 or 2 (only for the vectors).
Entity TenantEntity(const std::string& tag, int tenant, int idx) {
    Entity e{.id = tag + "ID-" + std::to_string(idx),
             .vector = TenantVector(tenant, idx),
             .metadata = R"({"m":")" + tag + "MARKER-" + std::to_string(idx) + R"(-zq"})"};
    if (idx > 0) {
        e.edges.push_back(
            Edge{.label = "next",
                 .target_id = tag + "ID-" + std::to_string(idx - 1),
                 .properties = R"({"p":")" + tag + "EDGEPROP-" + std::to_string(idx) + R"(-zq"})"});
    }
    return e;
}

std::vector<std::string> Markers(const std::string& tag, int tenant) {
    std::vector<std::string> markers = {tag + "MARKER", tag + "EDGEPROP"};
    for (int idx = 0; idx < kEntities; ++idx) {
        markers.push_back(VectorBytes(TenantVector(tenant, idx)));
    }
    return markers;
}

// The plaintext of every file under `dir` as the holder of the database's data key sees it:
// files of the encrypted file layer decrypted, the others (LOG, key files, format file) raw.
std::map<std::string, std::string> DecryptedFiles(const std::string& dir,
                                                  const crypto::SecretBytes& data_key) {
    std::map<std::string, std::string> out;
    auto efs = storage::NewEncryptedFileSystem(rocksdb::FileSystem::Default(), data_key);
    EXPECT_TRUE(efs.ok());
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (!entry.is_regular_file()) {
            continue;
        }
        const std::string path = entry.path().string();
        std::ifstream in(path, std::ios::binary);
        std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::string text = raw;
        if (raw.starts_with(storage::kEncryptionMagic)) {
            std::unique_ptr<rocksdb::FSSequentialFile> file;
            const rocksdb::IOStatus opened =
                (*efs)->NewSequentialFile(path, rocksdb::FileOptions(), &file, nullptr);
            EXPECT_TRUE(opened.ok()) << path << ": " << opened.ToString();
            if (opened.ok()) {
                text.clear();
                std::string buffer(1 << 16, '\0');
                for (;;) {
                    rocksdb::Slice got;
                    if (!file->Read(buffer.size(), rocksdb::IOOptions(), &got, buffer.data(),
                                    nullptr)
                             .ok() ||
                        got.empty()) {
                        break;
                    }
                    text.append(got.data(), got.size());
                }
            }
        }
        out[fs::relative(entry.path(), dir).string()] = std::move(text);
    }
    return out;
}

std::set<std::string> Found(const std::map<std::string, std::string>& files,
                            const std::vector<std::string>& markers) {
    std::set<std::string> found;
    for (const auto& [name, bytes] : files) {
        for (const std::string& marker : markers) {
            if (bytes.find(marker) != std::string::npos) {
                found.insert(marker.size() > 20 ? "a vector, in " + name : marker + " in " + name);
            }
        }
    }
    return found;
}

// The tenant ids that have a key in `path`, in creation order (acme is made before beta; the
// default tenant writes nothing here, so it has none).
std::vector<std::uint32_t> KeyedTenants(const std::string& path) {
    auto tenants = crypto::TenantKeyring(path, nullptr, true).Tenants();
    EXPECT_TRUE(tenants.ok());
    std::vector<std::uint32_t> out = tenants.ok() ? *tenants : std::vector<std::uint32_t>{};
    std::sort(out.begin(), out.end());
    return out;
}

class CryptoShredTest : public ::testing::Test {
  protected:
    void SetUp() override {
        key_path_ = dir_.Sub("master.key");
        ASSERT_TRUE(crypto::CreateLocalKeyFile(key_path_).ok());
        options_.encryption.kms = "local:" + key_path_;
        options_.vector_checkpoint_interval_ms = 0;  // checkpoints at Close only
        path_ = dir_.Sub("db");
    }

    std::unique_ptr<Database> OpenOrDie(const std::string& path) {
        auto db = Database::Open(path, options_);
        EXPECT_TRUE(db.ok()) << db.status().ToString();
        return db.ok() ? std::move(db).value() : nullptr;
    }

    // Both tenants' collections, flushed and checkpointed (Close), then a few more writes that
    // stay in the write-ahead log of the copy.
    void WriteBothTenants() {
        auto db = OpenOrDie(path_);
        ASSERT_NE(db, nullptr);
        for (const auto& [tag, tenant] : {std::pair<std::string, int>{"ACME", 1}, {"BETA", 2}}) {
            const std::string name = tag == "ACME" ? "acme" : "beta";
            PHENIX_ASSERT_OK(db->CreateTenant(name));
            PHENIX_ASSERT_OK(db->CreateCollection({.ref = {name, "docs"}, .dimension = kDim}));
            WriteBatch batch;
            for (int idx = 0; idx < kEntities; ++idx) {
                batch.Upsert(CollectionRef{name, "docs"}, TenantEntity(tag, tenant, idx));
            }
            PHENIX_ASSERT_OK(db->Write(batch));
        }
        PHENIX_ASSERT_OK(db->Close());
        EXPECT_TRUE(fs::exists(path_ + "/index"));
    }

    void ExpectBetaReadsBack(Database& db) {
        for (int idx = 0; idx < kEntities; ++idx) {
            auto got = db.Get(CollectionRef{"beta", "docs"}, "BETAID-" + std::to_string(idx));
            ASSERT_TRUE(got.ok()) << got.status().ToString();
            EXPECT_EQ(got->metadata, TenantEntity("BETA", 2, idx).metadata);
            EXPECT_EQ(got->vector, TenantVector(2, idx));
        }
        auto edges = db.ListEdges(CollectionRef{"beta", "docs"}, "BETAID-4");
        ASSERT_TRUE(edges.ok()) << edges.status().ToString();
        ASSERT_EQ(edges->size(), 1u);
        EXPECT_EQ(edges->front().properties, R"({"p":"BETAEDGEPROP-4-zq"})");
        auto hits = db.Search(CollectionRef{"beta", "docs"}, TenantVector(2, 9), {.k = 1});
        ASSERT_TRUE(hits.ok()) << hits.status().ToString();
        ASSERT_EQ(hits->hits.size(), 1u);
        EXPECT_EQ(hits->hits[0].id, "BETAID-9");
        auto filtered = db.Search(CollectionRef{"beta", "docs"}, TenantVector(2, 9),
                                  {.k = 1, .filter = R"({"m":"BETAMARKER-3-zq"})"});
        ASSERT_TRUE(filtered.ok()) << filtered.status().ToString();
        ASSERT_EQ(filtered->hits.size(), 1u);
        EXPECT_EQ(filtered->hits[0].id, "BETAID-3");
    }

    void DropAcme() {
        auto db = OpenOrDie(path_);
        ASSERT_NE(db, nullptr);
        PHENIX_ASSERT_OK(db->DropCollection(CollectionRef{"acme", "docs"}));
        PHENIX_ASSERT_OK(db->DropTenant("acme"));
        ExpectBetaReadsBack(*db);
        PHENIX_ASSERT_OK(db->Close());
    }

    testing::TempDir dir_;
    std::string key_path_;
    std::string path_;
    Options options_;
};

TEST_F(CryptoShredTest, ACopyPlusTheRemainingKeysRecoversNoneOfAShreddedTenantsPayloads) {
    WriteBothTenants();
    const std::string copy = dir_.Sub("copy");
    fs::copy(path_, copy, fs::copy_options::recursive);
    // Acme's key record, as the copy holds it.
    const auto keyed = KeyedTenants(copy);
    ASSERT_EQ(keyed.size(), 2u);
    const std::uint32_t acme = keyed[0];
    auto acme_record = crypto::ReadTenantKeyRecord(copy, acme);
    auto beta_record = crypto::ReadTenantKeyRecord(copy, keyed[1]);
    ASSERT_TRUE(acme_record.ok()) << acme_record.status().ToString();
    ASSERT_TRUE(beta_record.ok()) << beta_record.status().ToString();
    ASSERT_TRUE(fs::exists(key_path_ + ".keys/" + acme_record->kms_key));

    DropAcme();
    // The tenant's key is gone from the KMS and its record from the data directory.
    EXPECT_FALSE(fs::exists(key_path_ + ".keys/" + acme_record->kms_key));
    EXPECT_TRUE(fs::exists(key_path_ + ".keys/" + beta_record->kms_key));
    EXPECT_EQ(crypto::ReadTenantKeyRecord(path_, acme).status().code(), StatusCode::kNotFound);

    // The attacker: the copy, the master key, beta's key — everything that still exists.
    auto kms = crypto::OpenKms(options_.encryption.kms);
    ASSERT_TRUE(kms.ok());
    auto data_key = crypto::LoadDataKey(copy, **kms);
    ASSERT_TRUE(data_key.ok()) << data_key.status().ToString();
    EXPECT_EQ(
        (*kms)
            ->UnwrapWithNamedKey(acme_record->kms_key, acme_record->wrapped.at((*kms)->KeyId()))
            .status()
            .code(),
        StatusCode::kNotFound);
    EXPECT_TRUE(
        (*kms)
            ->UnwrapWithNamedKey(beta_record->kms_key, beta_record->wrapped.at((*kms)->KeyId()))
            .ok());

    const auto files = DecryptedFiles(copy, *data_key);
    bool saw_sst = false;
    bool saw_checkpoint = false;
    for (const auto& [name, bytes] : files) {
        saw_sst |= name.ends_with(".sst");
        saw_checkpoint |= name.starts_with("index/");
    }
    EXPECT_TRUE(saw_sst && saw_checkpoint);
    // Control: the decryption worked — acme's ids (key bytes, not payloads) are readable.
    EXPECT_FALSE(Found(files, {"ACMEID"}).empty());
    const auto acme_found = Found(files, Markers("ACME", 1));
    EXPECT_TRUE(acme_found.empty())
        << acme_found.size() << " of acme's markers found, e.g. " << *acme_found.begin();
    // Beta's payloads are sealed under beta's key: not in the clear at the file layer either.
    EXPECT_TRUE(Found(files, Markers("BETA", 2)).empty());

    // The copy opens with the remaining keys: beta is all there, acme's data does not decrypt.
    auto db = OpenOrDie(copy);
    ASSERT_NE(db, nullptr);
    ExpectBetaReadsBack(*db);
    for (int idx : {0, 7, kEntities - 1}) {
        auto got = db->Get(CollectionRef{"acme", "docs"}, "ACMEID-" + std::to_string(idx));
        ASSERT_FALSE(got.ok());
        EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition);
        EXPECT_NE(got.status().message().find("crypto-shredded"), std::string::npos)
            << got.status().ToString();
        EXPECT_EQ(got.status().message().find("ACMEMARKER"), std::string::npos);
    }
    auto edges = db->ListEdges(CollectionRef{"acme", "docs"}, "ACMEID-4");
    EXPECT_EQ(edges.status().code(), StatusCode::kFailedPrecondition);
    auto search = db->Search(CollectionRef{"acme", "docs"}, TenantVector(1, 3), {.k = 3});
    EXPECT_FALSE(search.ok());
    PHENIX_ASSERT_OK(db->Close());
}

TEST_F(CryptoShredTest, ACrashInsideDropTenantIsFinishedAtTheNextOpen) {
    WriteBothTenants();
    const auto keyed = KeyedTenants(path_);
    ASSERT_EQ(keyed.size(), 2u);
    const std::string acme_file = crypto::TenantKeysDir(path_) + "/" + std::to_string(keyed[0]);
    auto acme_record = crypto::ReadTenantKeyRecord(path_, keyed[0]);
    ASSERT_TRUE(acme_record.ok());
    const std::string kms_file = key_path_ + ".keys/" + acme_record->kms_key;
    const std::string saved_kms_file = dir_.Sub("saved-kms-key");
    const std::string saved_record = dir_.Sub("saved-record");
    fs::copy_file(kms_file, saved_kms_file);
    fs::copy_file(acme_file, saved_record);

    DropAcme();
    // Crash after the catalog entry was deleted, before any key was destroyed: both come back.
    fs::copy_file(saved_kms_file, kms_file);
    fs::permissions(kms_file, fs::perms::owner_read | fs::perms::owner_write);
    fs::copy_file(saved_record, acme_file);
    {
        auto db = OpenOrDie(path_);
        ASSERT_NE(db, nullptr);
        EXPECT_FALSE(fs::exists(kms_file));
        EXPECT_FALSE(fs::exists(acme_file));
        ExpectBetaReadsBack(*db);
        PHENIX_ASSERT_OK(db->Close());
    }
    // Crash after the KMS key was destroyed, before the record was deleted.
    fs::copy_file(saved_record, acme_file);
    {
        auto db = OpenOrDie(path_);
        ASSERT_NE(db, nullptr);
        EXPECT_FALSE(fs::exists(acme_file));
        ExpectBetaReadsBack(*db);
        // The name can be used again, with a new key.
        PHENIX_ASSERT_OK(db->CreateTenant("acme"));
        PHENIX_ASSERT_OK(db->CreateCollection({.ref = {"acme", "docs"}, .dimension = kDim}));
        PHENIX_ASSERT_OK(db->Upsert(CollectionRef{"acme", "docs"}, TenantEntity("ACME", 1, 0)));
        auto got = db->Get(CollectionRef{"acme", "docs"}, "ACMEID-0");
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        EXPECT_EQ(got->metadata, TenantEntity("ACME", 1, 0).metadata);
        PHENIX_ASSERT_OK(db->Verify());
        PHENIX_ASSERT_OK(db->Close());
    }
}

TEST_F(CryptoShredTest, PayloadsAreSealedOnlyWithEncryptionOn) {
    // Without encryption no tenant key is made and the stored bytes are the plain encoding (the
    // marker test's control run checks the markers are on disk).
    Options plain;
    const std::string plain_path = dir_.Sub("plain");
    {
        auto db = Database::Open(plain_path, plain);
        ASSERT_TRUE(db.ok());
        PHENIX_ASSERT_OK((*db)->CreateCollection({.ref = "docs", .dimension = kDim}));
        PHENIX_ASSERT_OK((*db)->Upsert("docs", TenantEntity("PLAIN", 1, 0)));
        PHENIX_ASSERT_OK((*db)->Close());
    }
    EXPECT_FALSE(fs::exists(crypto::TenantKeysDir(plain_path)));
    // With encryption, the default tenant gets its key on its first write.
    auto db = OpenOrDie(path_);
    ASSERT_NE(db, nullptr);
    EXPECT_FALSE(fs::exists(crypto::TenantKeysDir(path_)));
    PHENIX_ASSERT_OK(db->CreateCollection({.ref = "docs"}));
    PHENIX_ASSERT_OK(db->Upsert("docs", Entity{.id = "a", .metadata = R"({"x":1})"}));
    auto tenants = crypto::TenantKeyring(path_, nullptr, true).Tenants();
    ASSERT_TRUE(tenants.ok());
    EXPECT_EQ(tenants->size(), 1u);
    PHENIX_ASSERT_OK(db->Close());
}

}  // namespace
}  // namespace phenix
