// SPDX-License-Identifier: Apache-2.0
#include "security/catalog.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "security/api_keys.h"

namespace phenix::security {
namespace {

namespace fs = std::filesystem;

class SecurityCatalogTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("phenix-security-" + std::to_string(::getpid()) + "-" +
                                            std::to_string(std::random_device{}()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::unique_ptr<SecurityCatalog> Open() {
        auto catalog = SecurityCatalog::Open(dir_.string());
        EXPECT_TRUE(catalog.ok()) << catalog.status().ToString();
        return catalog.ok() ? std::move(*catalog) : nullptr;
    }

    fs::path dir_;
};

TEST_F(SecurityCatalogTest, ChangesSurviveReopen) {
    std::string key_id;
    {
        auto catalog = Open();
        ASSERT_TRUE(catalog->CreateRole("acme", "analyst", {Permission::kRead}, 1).ok());
        ASSERT_TRUE(catalog->CreateRole("acme", "ingest", {}, 2).ok());
        ASSERT_TRUE(catalog->Grant("acme", "ingest", Permission::kWrite, "docs").ok());
        ASSERT_TRUE(catalog->Grant("acme", "ingest", Permission::kRead, "").ok());
        auto key = catalog->CreateApiKey("acme", {"ingest", "reader"}, 0, "alice", 10);
        ASSERT_TRUE(key.ok()) << key.status().ToString();
        key_id = key->record.id;
        auto other = catalog->CreateApiKey("acme", {"reader"}, 99, "a b\n", 10);
        ASSERT_TRUE(other.ok());
        ASSERT_TRUE(catalog->RevokeApiKey("acme", other->record.id, 11).ok());
    }
    auto catalog = Open();
    auto data = catalog->Snapshot();
    ASSERT_EQ(data->roles.size(), 2u);
    EXPECT_EQ(data->FindRole("acme", "analyst")->permissions,
              std::vector<Permission>{Permission::kRead});
    EXPECT_EQ(data->grants.size(), 2u);
    EXPECT_TRUE(data->grants.contains(GrantRecord{.tenant = "acme",
                                                  .role = "ingest",
                                                  .permission = Permission::kWrite,
                                                  .collection = "docs"}));
    ASSERT_EQ(data->keys.size(), 2u);
    const ApiKeyRecord& key = data->keys.at(key_id);
    EXPECT_EQ(key.roles, (std::vector<std::string>{"ingest", "reader"}));
    EXPECT_EQ(key.created_by, "alice");
    EXPECT_EQ(key.revoked_ms, 0);
    int revoked = 0;
    for (const auto& [id, record] : data->keys) {
        revoked += record.revoked_ms != 0 ? 1 : 0;
        if (id != key_id) {
            EXPECT_EQ(record.created_by, "a b\n");
            EXPECT_EQ(record.expires_ms, 99);
        }
    }
    EXPECT_EQ(revoked, 1);
}

TEST_F(SecurityCatalogTest, FileHoldsNoSecret) {
    auto catalog = Open();
    auto key = catalog->CreateApiKey("acme", {"reader"}, 0, "", 1);
    ASSERT_TRUE(key.ok());
    auto parts = ParseApiKey(key->key);
    ASSERT_TRUE(parts.ok());
    std::ifstream in(dir_ / "SECURITY");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_NE(text.find(parts->id), std::string::npos);
    EXPECT_EQ(text.find(parts->secret), std::string::npos);
}

TEST_F(SecurityCatalogTest, ValidatesNamesAndReferences) {
    auto catalog = Open();
    EXPECT_EQ(catalog->CreateRole("acme", "admin", {}, 0).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(catalog->CreateRole("acme", "1x", {}, 0).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(catalog->CreateRole("ac me", "r", {}, 0).code(), StatusCode::kInvalidArgument);
    ASSERT_TRUE(catalog->CreateRole("acme", "r", {}, 0).ok());
    EXPECT_EQ(catalog->CreateRole("acme", "r", {}, 0).code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(catalog->Grant("acme", "nope", Permission::kRead, "").code(), StatusCode::kNotFound);
    EXPECT_EQ(catalog->Grant("other", "r", Permission::kRead, "").code(), StatusCode::kNotFound);
    EXPECT_EQ(catalog->Grant("acme", "writer", Permission::kSchema, "").code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(catalog->Grant("acme", "r", Permission::kRead, "bad name").code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(catalog->Revoke("acme", "r", Permission::kRead, "").code(), StatusCode::kNotFound);
    EXPECT_EQ(catalog->CreateApiKey("acme", {}, 0, "", 5).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(catalog->CreateApiKey("acme", {"ghost"}, 0, "", 5).status().code(),
              StatusCode::kNotFound);
    EXPECT_EQ(catalog->CreateApiKey("acme", {"r"}, 5, "", 5).status().code(),
              StatusCode::kInvalidArgument);
    auto key = catalog->CreateApiKey("acme", {"r"}, 0, "", 5);
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(catalog->RevokeApiKey("other", key->record.id, 6).code(), StatusCode::kNotFound);
    EXPECT_TRUE(catalog->RevokeApiKey("", key->record.id, 6).ok());
    EXPECT_TRUE(catalog->RevokeApiKey("acme", key->record.id, 7).ok());
    EXPECT_EQ(catalog->Snapshot()->keys.at(key->record.id).revoked_ms, 6);
}

TEST_F(SecurityCatalogTest, DropRoleDropsItsGrantsAndDropTenantEverything) {
    auto catalog = Open();
    ASSERT_TRUE(catalog->CreateRole("acme", "r", {}, 0).ok());
    ASSERT_TRUE(catalog->CreateRole("beta", "r", {}, 0).ok());
    ASSERT_TRUE(catalog->Grant("acme", "r", Permission::kRead, "docs").ok());
    ASSERT_TRUE(catalog->Grant("beta", "r", Permission::kRead, "docs").ok());
    ASSERT_TRUE(catalog->CreateApiKey("acme", {"r"}, 0, "", 1).ok());
    ASSERT_TRUE(catalog->CreateApiKey("beta", {"r"}, 0, "", 1).ok());
    ASSERT_TRUE(catalog->DropRole("acme", "r").ok());
    EXPECT_EQ(catalog->DropRole("acme", "r").code(), StatusCode::kNotFound);
    EXPECT_EQ(catalog->Snapshot()->grants.size(), 1u);
    ASSERT_TRUE(catalog->DropTenant("beta").ok());
    auto data = catalog->Snapshot();
    EXPECT_TRUE(data->roles.empty());
    EXPECT_TRUE(data->grants.empty());
    ASSERT_EQ(data->keys.size(), 1u);
    EXPECT_EQ(data->keys.begin()->second.tenant, "acme");
}

TEST_F(SecurityCatalogTest, ASnapshotIsImmutable) {
    auto catalog = Open();
    auto before = catalog->Snapshot();
    ASSERT_TRUE(catalog->CreateRole("acme", "r", {}, 0).ok());
    EXPECT_TRUE(before->roles.empty());
    EXPECT_EQ(catalog->Snapshot()->roles.size(), 1u);
}

TEST_F(SecurityCatalogTest, CorruptOrTruncatedFileIsDataLoss) {
    {
        auto catalog = Open();
        ASSERT_TRUE(catalog->CreateRole("acme", "r", {Permission::kRead}, 0).ok());
    }
    const fs::path path = dir_ / "SECURITY";
    std::string text;
    {
        std::ifstream in(path);
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    for (const std::string& bad : {text.substr(0, text.size() / 2), std::string("garbage\n"), [&] {
                                       std::string edited = text;
                                       edited[edited.find("read")] =
                                           'w';  // a flipped byte: the checksum catches it
                                       return edited;
                                   }()}) {
        std::ofstream(path, std::ios::trunc) << bad;
        auto catalog = SecurityCatalog::Open(dir_.string());
        ASSERT_FALSE(catalog.ok());
        EXPECT_EQ(catalog.status().code(), StatusCode::kCorruption) << catalog.status().ToString();
    }
}

TEST_F(SecurityCatalogTest, LeftoverTempFileFromACrashIsIgnored) {
    {
        auto catalog = Open();
        ASSERT_TRUE(catalog->CreateRole("acme", "r", {}, 0).ok());
    }
    std::ofstream(dir_ / "SECURITY.tmp") << "phenix-security-catalog 1\nrole acme half";
    auto catalog = Open();
    EXPECT_NE(catalog->Snapshot()->FindRole("acme", "r"), nullptr);
    EXPECT_FALSE(fs::exists(dir_ / "SECURITY.tmp"));
}

// kill -9 of a process in the middle of a stream of changes: every change it acknowledged (the
// call returned OK, then it told the parent) is there after reopening.
TEST_F(SecurityCatalogTest, AcknowledgedChangesSurviveKill9) {
    int acks[2];
    ASSERT_EQ(::pipe(acks), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(acks[0]);
        auto catalog = SecurityCatalog::Open(dir_.string());
        if (!catalog.ok()) {
            ::_exit(1);
        }
        for (int i = 0; i < 100000; ++i) {
            if (!(*catalog)->CreateRole("acme", "r" + std::to_string(i), {}, i).ok()) {
                ::_exit(2);
            }
            if (::write(acks[1], &i, sizeof(i)) != sizeof(i)) {
                ::_exit(3);
            }
        }
        ::_exit(0);
    }
    ::close(acks[1]);
    int last = -1;
    int value = 0;
    while (last < 5 && ::read(acks[0], &value, sizeof(value)) == sizeof(value)) {
        last = value;
    }
    ::kill(child, SIGKILL);
    while (::read(acks[0], &value, sizeof(value)) == sizeof(value)) {
        last = value;
    }
    ::close(acks[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child ended on its own: " << status;
    ASSERT_GE(last, 5);
    auto catalog = Open();
    auto data = catalog->Snapshot();
    for (int i = 0; i <= last; ++i) {
        EXPECT_NE(data->FindRole("acme", "r" + std::to_string(i)), nullptr) << i;
    }
}

TEST_F(SecurityCatalogTest, QuotasSurviveReopenAndGoWithTheTenant) {
    {
        auto catalog = Open();
        ASSERT_NE(catalog, nullptr);
        ASSERT_TRUE(catalog
                        ->SetQuota("acme", {.max_entities = 1'000'000,
                                            .max_bytes = 10ULL << 30,
                                            .requests_per_second = 500,
                                            .principal_requests_per_second = 50})
                        .ok());
        ASSERT_TRUE(catalog->SetQuota("beta", {.max_entities = 7}).ok());
        EXPECT_FALSE(catalog->SetQuota("*", {.max_entities = 1}).ok());
        EXPECT_FALSE(catalog->SetQuota("bad name", {.max_entities = 1}).ok());
    }
    auto catalog = Open();
    ASSERT_NE(catalog, nullptr);
    const TenantQuota* acme = catalog->Snapshot()->FindQuota("acme");
    ASSERT_NE(acme, nullptr);
    EXPECT_EQ(*acme, (TenantQuota{.max_entities = 1'000'000,
                                  .max_bytes = 10ULL << 30,
                                  .requests_per_second = 500,
                                  .principal_requests_per_second = 50}));
    // An empty quota removes the record; dropping a tenant removes its quota.
    ASSERT_TRUE(catalog->SetQuota("acme", {}).ok());
    EXPECT_EQ(catalog->Snapshot()->FindQuota("acme"), nullptr);
    ASSERT_NE(catalog->Snapshot()->FindQuota("beta"), nullptr);
    ASSERT_TRUE(catalog->DropTenant("beta").ok());
    EXPECT_EQ(catalog->Snapshot()->FindQuota("beta"), nullptr);
    EXPECT_TRUE(Open()->Snapshot()->quotas.empty());
    // The line in the file, and back.
    CatalogData data;
    data.quotas["acme"] = TenantQuota{.max_entities = 5};
    std::string text = EncodeCatalog(data);
    EXPECT_NE(text.find("quota acme 5 0 0 0\n"), std::string::npos) << text;
    auto decoded = DecodeCatalog(text);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->quotas.at("acme").max_entities, 5u);
}

TEST(SecurityCatalogMemory, InMemoryCatalogWritesNothing) {
    auto catalog = SecurityCatalog::Open("");
    ASSERT_TRUE(catalog.ok());
    EXPECT_TRUE((*catalog)->path().empty());
    EXPECT_TRUE((*catalog)->CreateRole("acme", "r", {}, 0).ok());
}

}  // namespace
}  // namespace phenix::security
