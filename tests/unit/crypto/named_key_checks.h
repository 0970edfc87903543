// SPDX-License-Identifier: Apache-2.0
//
// The contract of Kms named keys (crypto/kms.h) and of TenantKeyring over them, checked the same
// way for every backend (local key store, in memory, PKCS#11 in SoftHSM2).
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "crypto/data_key.h"
#include "crypto/kms.h"
#include "crypto/tenant_keys.h"

namespace phenix::crypto::testing_checks {

// `prefix` keeps the names of several calls against one token apart.
inline void ExpectNamedKeysWork(Kms& kms, const std::string& prefix) {
    const std::string a = prefix + "t1-a";
    const std::string b = prefix + "t2-b";
    ASSERT_TRUE(kms.CreateNamedKey(a).ok());
    ASSERT_TRUE(kms.CreateNamedKey(b).ok());
    EXPECT_EQ(kms.CreateNamedKey(a).code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(kms.CreateNamedKey("../escape").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(kms.CreateNamedKey(".hidden").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(kms.CreateNamedKey("").code(), StatusCode::kInvalidArgument);

    auto dek = RandomSecret(kKeyBytes);
    ASSERT_TRUE(dek.ok());
    auto wrapped = kms.WrapWithNamedKey(a, *dek);
    ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
    auto unwrapped = kms.UnwrapWithNamedKey(a, *wrapped);
    ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
    EXPECT_EQ(KeyFingerprint(*unwrapped), KeyFingerprint(*dek));
    // Another named key, the master key, altered bytes: refused, never the key.
    EXPECT_EQ(kms.UnwrapWithNamedKey(b, *wrapped).status().code(), StatusCode::kFailedPrecondition);
    EXPECT_FALSE(kms.UnwrapKey(*wrapped).ok());
    std::string altered = *wrapped;
    altered[altered.size() / 2] ^= 1;
    EXPECT_EQ(kms.UnwrapWithNamedKey(a, altered).status().code(), StatusCode::kFailedPrecondition);
    EXPECT_FALSE(kms.UnwrapWithNamedKey(a, wrapped->substr(0, 20)).ok());

    // Destroyed: nothing it wrapped opens again; the other key is untouched.
    auto wrapped_b = kms.WrapWithNamedKey(b, *dek);
    ASSERT_TRUE(wrapped_b.ok());
    ASSERT_TRUE(kms.DestroyNamedKey(a).ok());
    EXPECT_EQ(kms.UnwrapWithNamedKey(a, *wrapped).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(kms.WrapWithNamedKey(a, *dek).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(kms.DestroyNamedKey(a).code(), StatusCode::kNotFound);
    EXPECT_TRUE(kms.UnwrapWithNamedKey(b, *wrapped_b).ok());
}

// A keyring in `data_dir` over `kms`: keys are made on first use, survive a new keyring (a
// reopen), and a shred makes them unrecoverable from a copy of the record.
inline void ExpectTenantKeyringShreds(const std::shared_ptr<Kms>& kms,
                                      const std::string& data_dir) {
    ASSERT_TRUE(CreateDataKey(data_dir, *kms).ok());
    TenantKeyring keyring(data_dir, kms, /*read_only=*/false);
    EXPECT_EQ(keyring.Get(7, /*create=*/false).status().code(), StatusCode::kNotFound);
    auto seven = keyring.Get(7, /*create=*/true);
    ASSERT_TRUE(seven.ok()) << seven.status().ToString();
    auto eight = keyring.Get(8, /*create=*/true);
    ASSERT_TRUE(eight.ok());
    EXPECT_NE(KeyFingerprint((*seven)->key), KeyFingerprint((*eight)->key));
    auto tenants = keyring.Tenants();
    ASSERT_TRUE(tenants.ok());
    EXPECT_EQ(tenants->size(), 2u);

    auto saved = ReadTenantKeyRecord(data_dir, 7);  // the attacker's copy of the record
    ASSERT_TRUE(saved.ok()) << saved.status().ToString();
    {
        TenantKeyring reopened(data_dir, kms, /*read_only=*/true);
        auto again = reopened.Get(7, /*create=*/false);
        ASSERT_TRUE(again.ok()) << again.status().ToString();
        EXPECT_EQ(KeyFingerprint((*again)->key), KeyFingerprint((*seven)->key));
        EXPECT_EQ(reopened.Get(9, /*create=*/true).status().code(), StatusCode::kNotFound);
        EXPECT_EQ(reopened.Shred(7).code(), StatusCode::kFailedPrecondition);
    }

    ASSERT_TRUE(keyring.Shred(7).ok());
    EXPECT_TRUE(keyring.Shred(7).ok());  // idempotent
    EXPECT_EQ(ReadTenantKeyRecord(data_dir, 7).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(keyring.Get(7, /*create=*/false).status().code(), StatusCode::kNotFound);
    // The saved record, put back, names a key the KMS no longer has.
    ASSERT_TRUE(WriteTenantKeyRecord(data_dir, *saved).ok());
    TenantKeyring attacker(data_dir, kms, /*read_only=*/true);
    auto gone = attacker.Get(7, /*create=*/false);
    ASSERT_EQ(gone.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(gone.status().message().find("crypto-shredded"), std::string::npos)
        << gone.status().ToString();
    EXPECT_EQ(
        kms->UnwrapWithNamedKey(saved->kms_key, saved->wrapped.at(kms->KeyId())).status().code(),
        StatusCode::kNotFound);
    EXPECT_TRUE(attacker.Get(8, /*create=*/false).ok());
}

}  // namespace phenix::crypto::testing_checks
