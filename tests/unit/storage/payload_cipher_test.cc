// SPDX-License-Identifier: Apache-2.0
//
// The per-tenant payload codec (storage/payload_cipher.h): sealed values open only under their
// own tenant's key, at their own key and column family; truncated or altered ones, other
// tenants' keys and swapped entity keys give clear errors, never a crash or wrong data; without
// encryption nothing changes, and plaintext values (written before encryption of payloads) still
// read.
#include "storage/payload_cipher.h"

#include <gtest/gtest.h>

#include "crypto/data_key.h"
#include "crypto/kms.h"
#include "storage/entity_codec.h"
#include "testing/temp_dir.h"

namespace phenix::storage {
namespace {

// A KMS with a database data key made in `data_dir` (tenant keys need one: crypto/tenant_keys.h).
std::shared_ptr<crypto::Kms> TestKms(const std::string& data_dir) {
    auto key = crypto::RandomSecret(crypto::kKeyBytes);
    EXPECT_TRUE(key.ok());
    std::shared_ptr<crypto::Kms> kms = crypto::NewInMemoryKms(*key, "memory:test");
    EXPECT_TRUE(crypto::CreateDataKey(data_dir, *kms).ok());
    return kms;
}

class PayloadCipherTest : public ::testing::Test {
  protected:
    PayloadCipherTest()
        : kms_(TestKms(dir_.Sub("db"))),
          keyring_(std::make_shared<crypto::TenantKeyring>(dir_.Sub("db"), kms_, false)),
          cipher_(keyring_, nullptr) {}

    std::string Record(std::string_view marker) {
        const std::vector<float> vector = {1.5f, 2.5f};
        return EncodeEntityRecord(
            EntityRecord{.external_id = "e1", .vector = vector, .metadata = std::string(marker)});
    }

    testing::TempDir dir_;
    std::shared_ptr<crypto::Kms> kms_;
    std::shared_ptr<crypto::TenantKeyring> keyring_;
    PayloadCipher cipher_;
    std::string scratch_;
};

TEST_F(PayloadCipherTest, SealsUnderTheTenantKeyAndOpens) {
    const std::string key = EntityKey(1, 2, 3);
    const std::string plain = Record(R"({"m":"PAYLOADMARKER"})");
    std::string value = plain;
    ASSERT_TRUE(cipher_.Seal(PayloadKind::kEntity, key, value, scratch_).ok());
    EXPECT_TRUE(IsSealedPayload(value));
    EXPECT_EQ(value.find("PAYLOADMARKER"), std::string::npos);
    EXPECT_EQ(value.size(), plain.size() + 2 + 12 + 16);
    std::string again = plain;
    ASSERT_TRUE(cipher_.Seal(PayloadKind::kEntity, key, again, scratch_).ok());
    EXPECT_NE(again, value);  // a fresh nonce each time

    std::string out;
    auto opened = cipher_.Open(PayloadKind::kEntity, key, value, out);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, plain);
    auto record = DecodeEntityRecord(*opened);
    ASSERT_TRUE(record.ok());
    EXPECT_EQ(record->metadata, R"({"m":"PAYLOADMARKER"})");
}

TEST_F(PayloadCipherTest, RefusesSwappedKeysOtherFamiliesTruncationAndAlteration) {
    const std::string key = EntityKey(1, 2, 3);
    std::string value = Record("{}");
    ASSERT_TRUE(cipher_.Seal(PayloadKind::kEntity, key, value, scratch_).ok());
    std::string out;
    // Another row, another collection, another family: the associated data differs.
    for (const auto& [kind, other_key] : std::vector<std::pair<PayloadKind, std::string>>{
             {PayloadKind::kEntity, EntityKey(1, 2, 4)},
             {PayloadKind::kEntity, EntityKey(1, 9, 3)},
             {PayloadKind::kOutEdge, key},
             {PayloadKind::kInEdge, key}}) {
        auto opened = cipher_.Open(kind, other_key, value, out);
        ASSERT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
        EXPECT_NE(opened.status().message().find("tenant 1"), std::string::npos);
    }
    // Every truncation, and a flipped bit anywhere after the header.
    for (std::size_t cut = 1; cut < value.size(); ++cut) {
        auto opened = cipher_.Open(PayloadKind::kEntity, key, value.substr(0, cut), out);
        EXPECT_FALSE(opened.ok()) << cut;
    }
    for (std::size_t pos = 2; pos < value.size(); ++pos) {
        std::string altered = value;
        altered[pos] ^= 0x10;
        EXPECT_EQ(cipher_.Open(PayloadKind::kEntity, key, altered, out).status().code(),
                  StatusCode::kFailedPrecondition)
            << pos;
    }
    // A key generation the keyring does not hold is named as such.
    std::string future = value;
    future[1] = 7;
    auto unknown = cipher_.Open(PayloadKind::kEntity, key, future, out);
    EXPECT_EQ(unknown.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(unknown.status().message().find("generation 7"), std::string::npos);
    EXPECT_EQ(cipher_.Open(PayloadKind::kEntity, "ab", value, out).status().code(),
              StatusCode::kCorruption);
}

TEST_F(PayloadCipherTest, ATenantsValueDoesNotOpenUnderAnotherTenantsKey) {
    // Tenant 1's value filed under tenant 2's key (a swapped key prefix): tenant 2's key is used
    // and refuses it.
    std::string value = Record("{}");
    ASSERT_TRUE(cipher_.Seal(PayloadKind::kEntity, EntityKey(1, 2, 3), value, scratch_).ok());
    std::string other = Record("{}");
    ASSERT_TRUE(cipher_.Seal(PayloadKind::kEntity, EntityKey(2, 2, 3), other, scratch_).ok());
    std::string out;
    EXPECT_EQ(cipher_.Open(PayloadKind::kEntity, EntityKey(2, 2, 3), value, out).status().code(),
              StatusCode::kFailedPrecondition);
    // The same tenant in another database (another keyring, other keys) cannot open it either.
    PayloadCipher stranger(std::make_shared<crypto::TenantKeyring>(
                               dir_.Sub("other"), TestKms(dir_.Sub("other")), false),
                           nullptr);
    std::string mine = Record("{}");
    ASSERT_TRUE(stranger.Seal(PayloadKind::kEntity, EntityKey(1, 2, 3), mine, scratch_).ok());
    EXPECT_EQ(stranger.Open(PayloadKind::kEntity, EntityKey(1, 2, 3), value, out).status().code(),
              StatusCode::kFailedPrecondition);
}

TEST_F(PayloadCipherTest, AShreddedTenantsValuesNoLongerOpen) {
    std::string value = Record(R"({"m":"x"})");
    ASSERT_TRUE(cipher_.Seal(PayloadKind::kEntity, EntityKey(5, 1, 1), value, scratch_).ok());
    std::string kept = Record(R"({"m":"y"})");
    ASSERT_TRUE(cipher_.Seal(PayloadKind::kEntity, EntityKey(6, 1, 1), kept, scratch_).ok());
    ASSERT_TRUE(keyring_->Shred(5).ok());
    std::string out;
    auto opened = cipher_.Open(PayloadKind::kEntity, EntityKey(5, 1, 1), value, out);
    ASSERT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(opened.status().message().find("crypto-shredded"), std::string::npos);
    EXPECT_TRUE(cipher_.Open(PayloadKind::kEntity, EntityKey(6, 1, 1), kept, out).ok());
}

TEST_F(PayloadCipherTest, PlaintextPassesThroughAndNothingChangesWithoutEncryption) {
    const std::string plain = Record("{}");
    std::string out;
    // A value written before payload encryption (format version 1) reads as it is.
    auto opened = cipher_.Open(PayloadKind::kEntity, EntityKey(1, 2, 3), plain, out);
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(opened->data(), plain.data());  // no copy

    PayloadCipher off(nullptr, nullptr);
    EXPECT_FALSE(off.enabled());
    std::string value = plain;
    ASSERT_TRUE(off.Seal(PayloadKind::kEntity, EntityKey(1, 2, 3), value, scratch_).ok());
    EXPECT_EQ(value, plain);  // byte for byte
    auto same = off.Open(PayloadKind::kEntity, EntityKey(1, 2, 3), value, out);
    ASSERT_TRUE(same.ok());
    EXPECT_EQ(same->data(), value.data());
    // A sealed value in a database opened without encryption: a clear refusal.
    std::string sealed = plain;
    ASSERT_TRUE(cipher_.Seal(PayloadKind::kEntity, EntityKey(1, 2, 3), sealed, scratch_).ok());
    EXPECT_EQ(off.Open(PayloadKind::kEntity, EntityKey(1, 2, 3), sealed, out).status().code(),
              StatusCode::kFailedPrecondition);
}

// Data-key rotation (docs/decisions/0031): the generation byte names the key that sealed a value.
TEST_F(PayloadCipherTest, OldGenerationsOpenUntilRetiredAndResealMovesValuesToTheNewOne) {
    const std::string key = EntityKey(1, 2, 3);
    const std::string plain = Record(R"({"m":"ROTATED"})");
    std::string old_value = plain;
    ASSERT_TRUE(cipher_.Seal(PayloadKind::kEntity, key, old_value, scratch_).ok());
    EXPECT_EQ(SealedPayloadGeneration(old_value), 1);
    auto rotated = keyring_->Rotate(1);
    ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
    EXPECT_EQ(*rotated, 2);
    // New writes use the new generation at once; the old value still opens.
    std::string new_value = plain;
    ASSERT_TRUE(cipher_.Seal(PayloadKind::kEntity, key, new_value, scratch_).ok());
    EXPECT_EQ(SealedPayloadGeneration(new_value), 2);
    std::string out;
    auto opened = cipher_.Open(PayloadKind::kEntity, key, old_value, out);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, plain);
    // The generation is bound into the associated data: relabelling a value fails.
    std::string relabelled = old_value;
    relabelled[1] = 2;
    EXPECT_EQ(cipher_.Open(PayloadKind::kEntity, key, relabelled, out).status().code(),
              StatusCode::kFailedPrecondition);
    // Reseal moves an old value (and a plaintext one) to generation 2, and leaves a new one.
    std::string moved = old_value;
    auto changed = cipher_.Reseal(PayloadKind::kEntity, key, moved, scratch_);
    ASSERT_TRUE(changed.ok()) << changed.status().ToString();
    EXPECT_TRUE(*changed);
    EXPECT_EQ(SealedPayloadGeneration(moved), 2);
    opened = cipher_.Open(PayloadKind::kEntity, key, moved, out);
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(*opened, plain);
    std::string untouched = new_value;
    changed = cipher_.Reseal(PayloadKind::kEntity, key, untouched, scratch_);
    ASSERT_TRUE(changed.ok());
    EXPECT_FALSE(*changed);
    EXPECT_EQ(untouched, new_value);
    std::string legacy = plain;
    changed = cipher_.Reseal(PayloadKind::kEntity, key, legacy, scratch_);
    ASSERT_TRUE(changed.ok());
    EXPECT_TRUE(*changed);
    EXPECT_EQ(SealedPayloadGeneration(legacy), 2);
    // Retired, generation 1 no longer opens (a clear error); generation 2 does.
    ASSERT_TRUE(keyring_->Retire(1, 1).ok());
    auto retired = cipher_.Open(PayloadKind::kEntity, key, old_value, out);
    EXPECT_EQ(retired.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(retired.status().message().find("generation 1"), std::string::npos);
    EXPECT_TRUE(cipher_.Open(PayloadKind::kEntity, key, moved, out).ok());
}

}  // namespace
}  // namespace phenix::storage
