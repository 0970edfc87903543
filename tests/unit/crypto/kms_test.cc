// SPDX-License-Identifier: Apache-2.0
#include "crypto/kms.h"

#include <csignal>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/sync_point.h"
#include "crypto/data_key.h"
#include "named_key_checks.h"
#include "testing/temp_dir.h"

namespace phenix::crypto {
namespace {

TEST(LocalKms, NamedKeysLiveInAKeyStoreBesideTheMasterKeyAndAreDestroyed) {
    testing::TempDir dir;
    const std::string path = dir.Sub("master.key");
    ASSERT_TRUE(CreateLocalKeyFile(path).ok());
    auto kms = OpenKms("local:" + path);
    ASSERT_TRUE(kms.ok()) << kms.status().ToString();
    testing_checks::ExpectNamedKeysWork(**kms, "");
    // The store: a directory only its owner may enter, one 0600 file of 32 bytes per key; the
    // destroyed key's file is gone.
    struct stat st {};
    ASSERT_EQ(::stat((path + ".keys").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(::stat((path + ".keys/t2-b").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_size, 32);
    EXPECT_NE(::stat((path + ".keys/t1-a").c_str(), &st), 0);
    // A reopened KMS sees the same keys.
    auto again = OpenKms("local:" + path);
    ASSERT_TRUE(again.ok());
    auto dek = RandomSecret(kKeyBytes);
    ASSERT_TRUE(dek.ok());
    auto wrapped = (*kms)->WrapWithNamedKey("t2-b", *dek);
    ASSERT_TRUE(wrapped.ok());
    EXPECT_TRUE((*again)->UnwrapWithNamedKey("t2-b", *wrapped).ok());
    // A key file others can read is refused.
    ASSERT_EQ(::chmod((path + ".keys/t2-b").c_str(), 0644), 0);
    EXPECT_EQ((*again)->UnwrapWithNamedKey("t2-b", *wrapped).status().code(),
              StatusCode::kFailedPrecondition);
}

TEST(InMemoryKms, NamedKeysWork) {
    auto key = RandomSecret(kKeyBytes);
    ASSERT_TRUE(key.ok());
    auto kms = NewInMemoryKms(*key, "memory:test");
    testing_checks::ExpectNamedKeysWork(*kms, "");
}

TEST(TenantKeyring, MakesKeysOnFirstUseAndShredsThemForGood) {
    testing::TempDir dir;
    const std::string path = dir.Sub("master.key");
    ASSERT_TRUE(CreateLocalKeyFile(path).ok());
    auto kms = OpenKms("local:" + path);
    ASSERT_TRUE(kms.ok());
    const std::string data = dir.Sub("data");
    testing_checks::ExpectTenantKeyringShreds(std::shared_ptr<Kms>(std::move(*kms)), data);
    // Records are 0600 in a 0700 directory, and hold no key in the clear.
    struct stat st {};
    ASSERT_EQ(::stat(TenantKeysDir(data).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(::stat((TenantKeysDir(data) + "/8").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(TenantKeyring, RefusesAMalformedRecordWithAClearError) {
    testing::TempDir dir;
    auto key = RandomSecret(kKeyBytes);
    ASSERT_TRUE(key.ok());
    std::shared_ptr<Kms> kms = NewInMemoryKms(*key, "memory:test");
    const std::string data = dir.Sub("data");
    ASSERT_TRUE(CreateDataKey(data, *kms).ok());
    TenantKeyring keyring(data, kms, /*read_only=*/false);
    ASSERT_TRUE(keyring.Get(3, /*create=*/true).ok());
    // A record filed under another tenant's number is not taken for that tenant's.
    std::filesystem::copy_file(TenantKeysDir(data) + "/3", TenantKeysDir(data) + "/4");
    EXPECT_EQ(ReadTenantKeyRecord(data, 4).status().code(), StatusCode::kCorruption);
    std::ofstream(TenantKeysDir(data) + "/5") << "phenix-tenant-key 1\ntenant 5\n";
    TenantKeyring fresh(data, kms, /*read_only=*/false);
    auto five = fresh.Get(5, /*create=*/true);
    EXPECT_EQ(five.status().code(), StatusCode::kCorruption);
    EXPECT_NE(five.status().message().find("malformed"), std::string::npos);
}

TEST(TenantKeyring, MasterKeyRotationMovesTenantKeysToTheNewKms) {
    testing::TempDir dir;
    const std::string old_path = dir.Sub("old.key");
    const std::string new_path = dir.Sub("new.key");
    ASSERT_TRUE(CreateLocalKeyFile(old_path).ok());
    ASSERT_TRUE(CreateLocalKeyFile(new_path).ok());
    auto old_kms = OpenKms("local:" + old_path);
    auto new_kms = OpenKms("local:" + new_path);
    ASSERT_TRUE(old_kms.ok() && new_kms.ok());
    std::shared_ptr<Kms> old_shared = std::move(*old_kms);
    std::shared_ptr<Kms> new_shared = std::move(*new_kms);
    const std::string data = dir.Sub("data");
    ASSERT_TRUE(CreateDataKey(data, *old_shared).ok());
    TenantKeyring before(data, old_shared, /*read_only=*/false);
    auto one = before.Get(1, /*create=*/true);
    auto two = before.Get(2, /*create=*/true);
    ASSERT_TRUE(one.ok() && two.ok());
    auto old_record = ReadTenantKeyRecord(data, 1);
    ASSERT_TRUE(old_record.ok());

    ASSERT_TRUE(RotateMasterKey(data, *old_shared, *new_shared).ok());
    // The old KMS keeps its copy, for backups taken before the rotation (until the operator
    // destroys the retired KMS with its master key).
    const std::string old_wrapping = old_record->wrapped.at(old_shared->KeyId());
    EXPECT_TRUE(old_shared->UnwrapWithNamedKey(old_record->kms_key, old_wrapping).ok());
    auto new_record = ReadTenantKeyRecord(data, 1);
    ASSERT_TRUE(new_record.ok());
    // Both wrappings, so that an open with either master key works after a crash mid-rotation.
    ASSERT_EQ(new_record->wrapped.size(), 2u);
    EXPECT_EQ(new_record->wrapped.at(old_shared->KeyId()), old_wrapping);
    EXPECT_EQ(new_record->kms_key, old_record->kms_key);
    EXPECT_TRUE(TenantKeyring(data, old_shared, true).Get(1, false).ok());
    EXPECT_FALSE(
        old_shared
            ->UnwrapWithNamedKey(new_record->kms_key, new_record->wrapped.at(new_shared->KeyId()))
            .ok());
    TenantKeyring after(data, new_shared, /*read_only=*/false);
    auto moved = after.Get(1, /*create=*/false);
    ASSERT_TRUE(moved.ok()) << moved.status().ToString();
    EXPECT_EQ(KeyFingerprint((*moved)->key), KeyFingerprint((*one)->key));
    // The process opened before the rotation keeps its loaded keys but makes and shreds none.
    EXPECT_TRUE(before.Get(2, /*create=*/false).ok());
    auto refused = before.Get(3, /*create=*/true);
    EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(refused.status().message().find("reopen"), std::string::npos);
    EXPECT_EQ(before.Shred(2).code(), StatusCode::kFailedPrecondition);
    EXPECT_TRUE(after.Shred(2).ok());
    EXPECT_EQ(TenantKeyring(data, new_shared, true).Get(2, false).status().code(),
              StatusCode::kNotFound);
    // Running the rotation again (after a crash) finds nothing left to move.
    EXPECT_EQ(RotateMasterKey(data, *old_shared, *new_shared).status().code(),
              StatusCode::kFailedPrecondition);
}

// Data-key rotation (docs/decisions/0031): generations, each under a named key of its own.
TEST(TenantKeyring, RotatesRetiresAndShredsKeyGenerations) {
    EXPECT_EQ(NextKeyGeneration(1), 2);
    EXPECT_EQ(NextKeyGeneration(254), 255);
    EXPECT_EQ(NextKeyGeneration(255), 1);
    testing::TempDir dir;
    const std::string path = dir.Sub("master.key");
    ASSERT_TRUE(CreateLocalKeyFile(path).ok());
    auto opened = OpenKms("local:" + path);
    ASSERT_TRUE(opened.ok());
    std::shared_ptr<Kms> kms = std::move(*opened);
    const std::string data = dir.Sub("data");
    ASSERT_TRUE(CreateDataKey(data, *kms).ok());
    TenantKeyring keyring(data, kms, /*read_only=*/false);
    EXPECT_EQ(keyring.Rotate(6).status().code(), StatusCode::kNotFound);  // no key yet
    auto first = keyring.Get(6, /*create=*/true);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ((*first)->generation, 1);
    auto read_file = [&] {
        std::ifstream in(TenantKeysDir(data) + "/6");
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    // A record that never rotated keeps format version 1 (older builds read it).
    EXPECT_TRUE(read_file().starts_with("phenix-tenant-key 1\n")) << read_file();
    const std::string first_named = ReadTenantKeyRecord(data, 6)->kms_key;

    auto rotated = keyring.Rotate(6);
    ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
    EXPECT_EQ(*rotated, 2);
    EXPECT_TRUE(read_file().starts_with("phenix-tenant-key 2\n")) << read_file();
    auto record = ReadTenantKeyRecord(data, 6);
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    EXPECT_EQ(record->generation, 2);
    ASSERT_EQ(record->older.size(), 1u);
    EXPECT_EQ(record->older.at(1).kms_key, first_named);
    EXPECT_NE(record->kms_key, first_named);  // a named key of its own
    // A fresh keyring (a reopen) loads both generations; the old one is the same key.
    TenantKeyring reopened(data, kms, /*read_only=*/false);
    auto both = reopened.Get(6, /*create=*/false);
    ASSERT_TRUE(both.ok()) << both.status().ToString();
    EXPECT_EQ((*both)->generation, 2);
    ASSERT_NE((*both)->Find(1), nullptr);
    EXPECT_EQ(KeyFingerprint((*both)->Find(1)->key), KeyFingerprint((*first)->key));
    EXPECT_EQ((*both)->Find(3), nullptr);
    // One rotation at a time; the current generation cannot be retired.
    EXPECT_EQ(reopened.Rotate(6).status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(reopened.Retire(6, 2).code(), StatusCode::kFailedPrecondition);

    // A master-key rotation moves the older generation too.
    const std::string next_path = dir.Sub("next.key");
    ASSERT_TRUE(CreateLocalKeyFile(next_path).ok());
    auto next_opened = OpenKms("local:" + next_path);
    ASSERT_TRUE(next_opened.ok());
    std::shared_ptr<Kms> next = std::move(*next_opened);
    ASSERT_TRUE(RotateMasterKey(data, *kms, *next).ok());
    TenantKeyring after(data, next, /*read_only=*/false);
    auto moved = after.Get(6, /*create=*/false);
    ASSERT_TRUE(moved.ok()) << moved.status().ToString();
    ASSERT_NE((*moved)->Find(1), nullptr);
    EXPECT_EQ(KeyFingerprint((*moved)->Find(1)->key), KeyFingerprint((*first)->key));

    // Retire destroys the old generation's named key, then drops it from the record.
    ASSERT_TRUE(std::filesystem::exists(next_path + ".keys/" + first_named));
    ASSERT_TRUE(after.Retire(6, 1).ok());
    EXPECT_FALSE(std::filesystem::exists(next_path + ".keys/" + first_named));
    record = ReadTenantKeyRecord(data, 6);
    ASSERT_TRUE(record.ok());
    EXPECT_TRUE(record->older.empty());
    auto current = after.Get(6, /*create=*/false);
    ASSERT_TRUE(current.ok());
    EXPECT_EQ((*current)->Find(1), nullptr);
    EXPECT_TRUE(after.Retire(6, 1).ok());  // again: nothing left to do

    // Shredding during a rotation destroys every generation.
    ASSERT_TRUE(after.Rotate(6).ok());
    record = ReadTenantKeyRecord(data, 6);
    ASSERT_TRUE(record.ok());
    ASSERT_EQ(record->older.size(), 1u);
    const std::string named_2 = record->older.at(2).kms_key;
    const std::string named_3 = record->kms_key;
    ASSERT_TRUE(after.Shred(6).ok());
    EXPECT_FALSE(std::filesystem::exists(next_path + ".keys/" + named_2));
    EXPECT_FALSE(std::filesystem::exists(next_path + ".keys/" + named_3));
    EXPECT_EQ(ReadTenantKeyRecord(data, 6).status().code(), StatusCode::kNotFound);
}

TEST(TenantKeyring, ARetireThatCrashedAfterDestroyingTheKeyIsFinishedLater) {
    testing::TempDir dir;
    auto key = RandomSecret(kKeyBytes);
    ASSERT_TRUE(key.ok());
    std::shared_ptr<Kms> kms = NewInMemoryKms(*key, "memory:test", dir.Sub("named"));
    const std::string data = dir.Sub("data");
    ASSERT_TRUE(CreateDataKey(data, *kms).ok());
    TenantKeyring keyring(data, kms, /*read_only=*/false);
    ASSERT_TRUE(keyring.Get(2, /*create=*/true).ok());
    ASSERT_TRUE(keyring.Rotate(2).ok());
    auto record = ReadTenantKeyRecord(data, 2);
    ASSERT_TRUE(record.ok());
    // The crash: the KMS key is gone, the record still names it.
    ASSERT_TRUE(kms->DestroyNamedKey(record->older.at(1).kms_key).ok());
    TenantKeyring reopened(data, kms, /*read_only=*/false);
    auto loaded = reopened.Get(2, /*create=*/false);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ((*loaded)->Find(1), nullptr);
    ASSERT_TRUE(reopened.Retire(2, 1).ok());
    EXPECT_TRUE(ReadTenantKeyRecord(data, 2)->older.empty());
    // Malformed older lines are refused.
    std::ofstream(TenantKeysDir(data) + "/9")
        << "phenix-tenant-key 2\ntenant 9\ngeneration 2\nkms-key a\ndek-id b\nwrapped k 00\n"
           "older 2 c d\nolder-wrapped 2 k 00\n";
    EXPECT_EQ(ReadTenantKeyRecord(data, 9).status().code(), StatusCode::kCorruption);
    std::ofstream(TenantKeysDir(data) + "/10")
        << "phenix-tenant-key 2\ntenant 10\ngeneration 0\nkms-key a\ndek-id b\nwrapped k 00\n";
    EXPECT_EQ(ReadTenantKeyRecord(data, 10).status().code(), StatusCode::kCorruption);
}

TEST(LocalKms, CreatesAKeyFileOnlyItsOwnerCanReadAndUsesIt) {
    testing::TempDir dir;
    const std::string path = dir.Sub("master.key");
    auto key_id = CreateLocalKeyFile(path);
    ASSERT_TRUE(key_id.ok()) << key_id.status().ToString();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_size, 32);
    EXPECT_EQ(CreateLocalKeyFile(path).status().code(), StatusCode::kAlreadyExists);

    auto kms = OpenKms("local:" + path);
    ASSERT_TRUE(kms.ok()) << kms.status().ToString();
    EXPECT_EQ((*kms)->KeyId(), *key_id);
    auto dek = RandomSecret(kKeyBytes);
    ASSERT_TRUE(dek.ok());
    auto wrapped = (*kms)->WrapKey(*dek);
    ASSERT_TRUE(wrapped.ok());
    auto unwrapped = (*kms)->UnwrapKey(*wrapped);
    ASSERT_TRUE(unwrapped.ok());
    EXPECT_EQ(KeyFingerprint(*unwrapped), KeyFingerprint(*dek));
}

TEST(LocalKms, RefusesAKeyFileOthersCanReadAMissingOneAndAWrongSize) {
    testing::TempDir dir;
    const std::string path = dir.Sub("master.key");
    ASSERT_TRUE(CreateLocalKeyFile(path).ok());
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    auto opened = OpenKms("local:" + path);
    EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(opened.status().message().find("chmod 600"), std::string::npos);

    EXPECT_EQ(OpenKms("local:" + dir.Sub("missing")).status().code(), StatusCode::kNotFound);
    const std::string short_path = dir.Sub("short.key");
    std::ofstream(short_path) << "too short";
    ASSERT_EQ(::chmod(short_path.c_str(), 0600), 0);
    EXPECT_EQ(OpenKms("local:" + short_path).status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(OpenKms("vault:x").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(OpenKms("local:").status().code(), StatusCode::kInvalidArgument);
}

TEST(LocalKms, AcceptsAHexKeyFile) {
    testing::TempDir dir;
    const std::string path = dir.Sub("hex.key");
    std::ofstream(path) << std::string(64, 'a') << "\n";
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    auto kms = OpenKms("local:" + path);
    ASSERT_TRUE(kms.ok()) << kms.status().ToString();
    EXPECT_EQ((*kms)->KeyId(), "local:" + KeyFingerprint(SecretBytes(
                                              std::string(32, '\xaa').data(), 32)));
}

class DataKeyTest : public ::testing::Test {
  protected:
    void SetUp() override {
        old_kms_ = NewInMemoryKms(*RandomSecret(kKeyBytes), "test:old");
        new_kms_ = NewInMemoryKms(*RandomSecret(kKeyBytes), "test:new");
    }
    void TearDown() override { SyncPoints::ClearAll(); }
    testing::TempDir dir_;
    std::unique_ptr<Kms> old_kms_;
    std::unique_ptr<Kms> new_kms_;
};

TEST_F(DataKeyTest, StoresTheDataKeyOnlyWrapped) {
    auto dek = CreateDataKey(dir_.path(), *old_kms_);
    ASSERT_TRUE(dek.ok()) << dek.status().ToString();
    std::ifstream in(DataKeyPath(dir_.path()), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(text.empty());
    const std::string raw(reinterpret_cast<const char*>(dek->data()), dek->size());
    EXPECT_EQ(text.find(raw), std::string::npos);
    EXPECT_EQ(text.find(HexEncode(raw)), std::string::npos);
    EXPECT_NE(text.find("kek test:old"), std::string::npos);
    struct stat st {};
    ASSERT_EQ(::stat(DataKeyPath(dir_.path()).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    auto loaded = LoadDataKey(dir_.path(), *old_kms_);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(KeyFingerprint(*loaded), KeyFingerprint(*dek));
    EXPECT_EQ(CreateDataKey(dir_.path(), *old_kms_).status().code(), StatusCode::kAlreadyExists);
}

TEST_F(DataKeyTest, WrongMasterKeyIsAClearError) {
    ASSERT_TRUE(CreateDataKey(dir_.path(), *old_kms_).ok());
    auto loaded = LoadDataKey(dir_.path(), *new_kms_);
    EXPECT_EQ(loaded.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(loaded.status().message().find("wrong master key"), std::string::npos);
    // The same key id with other key bytes (a replaced key file): the GCM tag refuses it.
    auto impostor = NewInMemoryKms(*RandomSecret(kKeyBytes), "test:old");
    EXPECT_EQ(LoadDataKey(dir_.path(), *impostor).status().code(),
              StatusCode::kFailedPrecondition);
}

TEST_F(DataKeyTest, RotationRewrapsTheSameDataKey) {
    auto dek = CreateDataKey(dir_.path(), *old_kms_);
    ASSERT_TRUE(dek.ok());
    auto record = RotateMasterKey(dir_.path(), *old_kms_, *new_kms_);
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    EXPECT_EQ(record->version, 2u);
    EXPECT_EQ(record->kek_id, "test:new");
    auto loaded = LoadDataKey(dir_.path(), *new_kms_);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(KeyFingerprint(*loaded), KeyFingerprint(*dek));
    EXPECT_FALSE(LoadDataKey(dir_.path(), *old_kms_).ok());
    // Rotating with the wrong "old" key changes nothing.
    EXPECT_FALSE(RotateMasterKey(dir_.path(), *old_kms_, *new_kms_).ok());
    EXPECT_TRUE(LoadDataKey(dir_.path(), *new_kms_).ok());
}

// kill -9 in the middle of a rotation: the child process dies at the sync point; whichever side
// of the rename it died on, one complete wrapping is in place and opens with its master key.
TEST_F(DataKeyTest, KillDuringRotationLeavesTheOldOrTheNewWrapping) {
    // "fast": fork without re-running the test, so the child works on this test's directory and
    // keys (the test is single-threaded, so forking is safe).
    struct RestoreStyle {
        std::string saved = GTEST_FLAG_GET(death_test_style);
        ~RestoreStyle() { GTEST_FLAG_SET(death_test_style, saved); }
    } restore_style;
    GTEST_FLAG_SET(death_test_style, "fast");
    auto dek = CreateDataKey(dir_.path(), *old_kms_);
    ASSERT_TRUE(dek.ok());
    EXPECT_EXIT(
        {
            SyncPoints::Set("DataKey::Rewrite:BeforeRename", [] { std::raise(SIGKILL); });
            (void)RotateMasterKey(dir_.path(), *old_kms_, *new_kms_);
        },
        ::testing::KilledBySignal(SIGKILL), "");
    auto before = LoadDataKey(dir_.path(), *old_kms_);
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    EXPECT_EQ(KeyFingerprint(*before), KeyFingerprint(*dek));

    EXPECT_EXIT(
        {
            SyncPoints::Set("DataKey::Rewrite:AfterRename", [] { std::raise(SIGKILL); });
            (void)RotateMasterKey(dir_.path(), *old_kms_, *new_kms_);
        },
        ::testing::KilledBySignal(SIGKILL), "");
    auto after = LoadDataKey(dir_.path(), *new_kms_);
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    EXPECT_EQ(KeyFingerprint(*after), KeyFingerprint(*dek));
    // The leftover temp file of the first kill was replaced by the second rotation's rename.
    auto again = RotateMasterKey(dir_.path(), *new_kms_, *old_kms_);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->version, 3u);
}

}  // namespace
}  // namespace phenix::crypto
