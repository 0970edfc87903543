// SPDX-License-Identifier: Apache-2.0
//
// The PKCS#11 KMS against SoftHSM2 (Debian softhsm2; scripts/install-deps.sh): a token made in a
// temporary SOFTHSM2_CONF directory with softhsm2-util, an AES key generated in it, data keys
// wrapped and unwrapped in the token, rotation between two token keys, and the refusals (wrong
// PIN, a PIN in the URI, a missing key). Skipped when SoftHSM2 is not installed.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "crypto/data_key.h"
#include "crypto/kms.h"
#include "named_key_checks.h"
#include "testing/temp_dir.h"

namespace phenix::crypto {
namespace {

constexpr const char* kModule = "/usr/lib/softhsm/libsofthsm2.so";

// One token per process: the module reads SOFTHSM2_CONF once, at C_Initialize.
class Pkcs11KmsTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (!std::filesystem::exists(kModule) || std::system("command -v softhsm2-util >/dev/null") != 0) {
            return;
        }
        dir_ = new testing::TempDir();
        std::filesystem::create_directories(dir_->Sub("tokens"));
        const std::string conf = dir_->Sub("softhsm2.conf");
        std::ofstream(conf) << "directories.tokendir = " << dir_->Sub("tokens")
                            << "\nobjectstore.backend = file\nlog.level = ERROR\n";
        ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);  // NOLINT(concurrency-mt-unsafe): no threads yet
        const std::string init =
            "softhsm2-util --init-token --free --label phenix-test --pin 1234 --so-pin 5678 "
            ">/dev/null";
        if (std::system(init.c_str()) != 0) {
            return;
        }
        std::ofstream(dir_->Sub("pin")) << "1234\n";
        ready_ = true;
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    void SetUp() override {
        if (!ready_) {
            GTEST_SKIP() << "SoftHSM2 (softhsm2, " << kModule << ") is not installed";
        }
    }
    static std::string Uri(const std::string& key) {
        return std::string("pkcs11:module=") + kModule + ";token=phenix-test;key=" + key;
    }
    static KmsCredentials Pin() { return KmsCredentials{.pin_file = dir_->Sub("pin")}; }

    static inline testing::TempDir* dir_ = nullptr;
    static inline bool ready_ = false;
};

TEST_F(Pkcs11KmsTest, WrapsAndUnwrapsInsideTheToken) {
    auto created = CreatePkcs11Key(Uri("master-a"), Pin());
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_EQ(*created, "pkcs11:phenix-test/master-a");
    EXPECT_EQ(CreatePkcs11Key(Uri("master-a"), Pin()).status().code(),
              StatusCode::kAlreadyExists);
    auto kms = OpenKms(Uri("master-a"), Pin());
    ASSERT_TRUE(kms.ok()) << kms.status().ToString();
    auto dek = RandomSecret(kKeyBytes);
    ASSERT_TRUE(dek.ok());
    auto wrapped = (*kms)->WrapKey(*dek);
    ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
    auto unwrapped = (*kms)->UnwrapKey(*wrapped);
    ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
    EXPECT_EQ(KeyFingerprint(*unwrapped), KeyFingerprint(*dek));
    std::string altered = *wrapped;
    altered.back() ^= 1;
    EXPECT_EQ((*kms)->UnwrapKey(altered).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(Pkcs11KmsTest, RotatesBetweenTokenKeysAndFromALocalKey) {
    ASSERT_TRUE(CreatePkcs11Key(Uri("master-b1"), Pin()).ok());
    ASSERT_TRUE(CreatePkcs11Key(Uri("master-b2"), Pin()).ok());
    testing::TempDir data;
    auto first = OpenKms(Uri("master-b1"), Pin());
    auto second = OpenKms(Uri("master-b2"), Pin());
    ASSERT_TRUE(first.ok() && second.ok());
    auto dek = CreateDataKey(data.path(), **first);
    ASSERT_TRUE(dek.ok()) << dek.status().ToString();
    auto rotated = RotateMasterKey(data.path(), **first, **second);
    ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
    auto loaded = LoadDataKey(data.path(), **second);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(KeyFingerprint(*loaded), KeyFingerprint(*dek));
    EXPECT_EQ(LoadDataKey(data.path(), **first).status().code(), StatusCode::kFailedPrecondition);

    // From a development key file to the token.
    const std::string key_file = data.Sub("dev.key");
    ASSERT_TRUE(CreateLocalKeyFile(key_file).ok());
    auto local = OpenKms("local:" + key_file);
    ASSERT_TRUE(local.ok());
    ASSERT_TRUE(RotateMasterKey(data.path(), **second, **local).ok());
    ASSERT_TRUE(RotateMasterKey(data.path(), **local, **first).ok());
    EXPECT_TRUE(LoadDataKey(data.path(), **first).ok());
}

TEST_F(Pkcs11KmsTest, NamedKeysAreTokenObjectsThatCanBeDestroyed) {
    ASSERT_TRUE(CreatePkcs11Key(Uri("master-d"), Pin()).ok());
    auto kms = OpenKms(Uri("master-d"), Pin());
    ASSERT_TRUE(kms.ok()) << kms.status().ToString();
    testing_checks::ExpectNamedKeysWork(**kms, "");
    // The tenant key of the token is a token object labelled master-d.<name>: another session
    // (a new Kms) finds it.
    auto other = OpenKms(Uri("master-d"), Pin());
    ASSERT_TRUE(other.ok());
    auto dek = RandomSecret(kKeyBytes);
    ASSERT_TRUE(dek.ok());
    auto wrapped = (*kms)->WrapWithNamedKey("t2-b", *dek);
    ASSERT_TRUE(wrapped.ok());
    EXPECT_TRUE((*other)->UnwrapWithNamedKey("t2-b", *wrapped).ok());
}

TEST_F(Pkcs11KmsTest, TenantKeyringShredsInTheToken) {
    ASSERT_TRUE(CreatePkcs11Key(Uri("master-e"), Pin()).ok());
    auto kms = OpenKms(Uri("master-e"), Pin());
    ASSERT_TRUE(kms.ok()) << kms.status().ToString();
    testing::TempDir data;
    testing_checks::ExpectTenantKeyringShreds(std::shared_ptr<Kms>(std::move(*kms)),
                                              data.Sub("db"));
}

TEST_F(Pkcs11KmsTest, RefusesAWrongPinAPinInTheUriAndAMissingKey) {
    ASSERT_TRUE(CreatePkcs11Key(Uri("master-c"), Pin()).ok() ||
                OpenKms(Uri("master-c"), Pin()).ok());
    const std::string wrong_pin = dir_->Sub("wrong-pin");
    std::ofstream(wrong_pin) << "9999\n";
    EXPECT_EQ(OpenKms(Uri("master-c"), KmsCredentials{.pin_file = wrong_pin}).status().code(),
              StatusCode::kFailedPrecondition);
    EXPECT_EQ(OpenKms(Uri("master-c") + ";pin=1234", Pin()).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(OpenKms(Uri("no-such-key"), Pin()).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(OpenKms("pkcs11:module=" + std::string(kModule) + ";token=nope;key=k", Pin())
                  .status()
                  .code(),
              StatusCode::kUnavailable);
    EXPECT_EQ(OpenKms("pkcs11:module=/nonexistent.so;token=t;key=k", Pin()).status().code(),
              StatusCode::kUnavailable);
}

}  // namespace
}  // namespace phenix::crypto
