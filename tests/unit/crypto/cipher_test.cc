// SPDX-License-Identifier: Apache-2.0
#include "crypto/cipher.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace phenix::crypto {
namespace {

SecretBytes TestKey(std::uint8_t seed) {
    SecretBytes key(kKeyBytes);
    for (std::size_t idx = 0; idx < kKeyBytes; ++idx) {
        key.data()[idx] = static_cast<std::uint8_t>(seed + idx);
    }
    return key;
}

TEST(Aes256Gcm, SealsAndOpensWithTheSameKeyAndAad) {
    auto sealed = SealAes256Gcm(TestKey(1), "secret payload", "aad");
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    EXPECT_EQ(sealed->size(), kGcmNonceBytes + 14 + kGcmTagBytes);
    EXPECT_EQ(sealed->find("secret payload"), std::string::npos);
    auto opened = OpenAes256Gcm(TestKey(1), *sealed, "aad");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(opened->data()), opened->size()),
              "secret payload");
}

TEST(AesGcmPool, InteroperatesWithTheOneShotFormAndRefusesWhatDoesNotAuthenticate) {
    auto gcm = AesGcm::Create(TestKey(1));
    ASSERT_TRUE(gcm.ok());
    EXPECT_EQ(AesGcm::Create(SecretBytes(16)).status().code(), StatusCode::kInvalidArgument);
    std::string sealed = "prefix";
    ASSERT_TRUE((*gcm)->Seal("secret payload", "domain|", "key", sealed).ok());
    ASSERT_EQ(sealed.substr(0, 6), "prefix");  // appends
    const std::string body = sealed.substr(6);
    // The same layout and associated data as SealAes256Gcm's (aad1 || aad2).
    auto one_shot = OpenAes256Gcm(TestKey(1), body, "domain|key");
    ASSERT_TRUE(one_shot.ok()) << one_shot.status().ToString();
    std::string out;
    ASSERT_TRUE((*gcm)->Open(body, "domain|", "key", out).ok());
    EXPECT_EQ(out, "secret payload");
    // Pooled contexts are reused: many calls, from several threads, stay correct.
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                std::string plain = "payload " + std::to_string(t) + "/" + std::to_string(i);
                std::string s;
                std::string o;
                if (!(*gcm)->Seal(plain, "d", plain, s).ok() ||
                    !(*gcm)->Open(s, "d", plain, o).ok() || o != plain ||
                    (*gcm)->Open(s, "d", "other", o).ok()) {
                    ++failures;
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(failures.load(), 0);
    // Another key, other associated data (either piece), altered or truncated bytes: a clear
    // FailedPrecondition and an empty output.
    auto other = AesGcm::Create(TestKey(2));
    ASSERT_TRUE(other.ok());
    out = "stale";
    EXPECT_EQ((*other)->Open(body, "domain|", "key", out).code(), StatusCode::kFailedPrecondition);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ((*gcm)->Open(body, "domain|", "kez", out).code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ((*gcm)->Open(body, "domaim|", "key", out).code(), StatusCode::kFailedPrecondition);
    std::string altered = body;
    altered[kGcmNonceBytes + 2] ^= 1;
    EXPECT_EQ((*gcm)->Open(altered, "domain|", "key", out).code(), StatusCode::kFailedPrecondition);
    for (std::size_t cut :
         {std::size_t{0}, std::size_t{5}, kGcmNonceBytes + kGcmTagBytes - 1, body.size() - 1}) {
        EXPECT_EQ((*gcm)->Open(body.substr(0, cut), "domain|", "key", out).code(),
                  StatusCode::kFailedPrecondition)
            << cut;
    }
    // And the pool still works after the failures.
    ASSERT_TRUE((*gcm)->Open(body, "domain|", "key", out).ok());
    EXPECT_EQ(out, "secret payload");
}

TEST(Aes256Gcm, RefusesAnotherKeyOtherAadAndAlteredBytes) {
    auto sealed = SealAes256Gcm(TestKey(1), "secret payload", "aad");
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(OpenAes256Gcm(TestKey(2), *sealed, "aad").status().code(),
              StatusCode::kFailedPrecondition);
    EXPECT_EQ(OpenAes256Gcm(TestKey(1), *sealed, "other").status().code(),
              StatusCode::kFailedPrecondition);
    std::string altered = *sealed;
    altered[kGcmNonceBytes] ^= 1;
    EXPECT_EQ(OpenAes256Gcm(TestKey(1), altered, "aad").status().code(),
              StatusCode::kFailedPrecondition);
    EXPECT_EQ(OpenAes256Gcm(TestKey(1), "short", "aad").status().code(),
              StatusCode::kFailedPrecondition);
    EXPECT_EQ(SealAes256Gcm(SecretBytes(5), "x", "").status().code(),
              StatusCode::kInvalidArgument);
}

TEST(Aes256Gcm, TwoSealsOfTheSameTextDiffer) {
    auto first = SealAes256Gcm(TestKey(1), "same", "");
    auto second = SealAes256Gcm(TestKey(1), "same", "");
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_NE(*first, *second);  // fresh nonce each time
}

// The key stream at any offset equals the one a single pass from offset 0 produces, so a file
// encrypted in appends of odd sizes decrypts with reads at other offsets.
TEST(AesCtr, AnyOffsetMatchesOneContinuousPass) {
    auto ctr = AesCtr::Create(TestKey(7));
    ASSERT_TRUE(ctr.ok());
    std::uint8_t iv[kCtrIvBytes];
    for (std::size_t idx = 0; idx < kCtrIvBytes; ++idx) {
        iv[idx] = 0xff;  // exercises the 128-bit carry
    }
    std::string plain(1000, '\0');
    for (std::size_t idx = 0; idx < plain.size(); ++idx) {
        plain[idx] = static_cast<char>(idx * 31 + 5);
    }
    std::string whole = plain;
    ASSERT_TRUE((*ctr)->Apply(iv, 0, whole.data(), whole.size()).ok());
    EXPECT_NE(whole, plain);
    std::string pieces = plain;
    const std::vector<std::size_t> cuts = {0, 1, 17, 32, 33, 100, 511, 999, 1000};
    for (std::size_t idx = 0; idx + 1 < cuts.size(); ++idx) {
        ASSERT_TRUE((*ctr)
                        ->Apply(iv, cuts[idx], pieces.data() + cuts[idx],
                                cuts[idx + 1] - cuts[idx])
                        .ok());
    }
    EXPECT_EQ(pieces, whole);
    ASSERT_TRUE((*ctr)->Apply(iv, 0, whole.data(), whole.size()).ok());
    EXPECT_EQ(whole, plain);
}

TEST(AesCtr, DifferentIvsGiveDifferentStreams) {
    auto ctr = AesCtr::Create(TestKey(7));
    ASSERT_TRUE(ctr.ok());
    std::uint8_t iv_a[kCtrIvBytes] = {1};
    std::uint8_t iv_b[kCtrIvBytes] = {2};
    std::string a(64, 'x');
    std::string b(64, 'x');
    ASSERT_TRUE((*ctr)->Apply(iv_a, 0, a.data(), a.size()).ok());
    ASSERT_TRUE((*ctr)->Apply(iv_b, 0, b.data(), b.size()).ok());
    EXPECT_NE(a, b);
    EXPECT_EQ(AesCtr::Create(SecretBytes(16)).status().code(), StatusCode::kInvalidArgument);
}

TEST(SecretBytes, MovesLeaveTheSourceEmptyAndHexRoundTrips) {
    SecretBytes key = TestKey(3);
    SecretBytes moved = std::move(key);
    EXPECT_TRUE(key.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is the test
    EXPECT_EQ(moved.size(), kKeyBytes);
    EXPECT_EQ(KeyFingerprint(moved).size(), 16u);
    EXPECT_EQ(KeyFingerprint(moved), KeyFingerprint(TestKey(3)));
    EXPECT_NE(KeyFingerprint(moved), KeyFingerprint(TestKey(4)));
    EXPECT_EQ(*HexDecode(HexEncode("\x01\xab")), "\x01\xab");
    EXPECT_FALSE(HexDecode("abc").ok());
    EXPECT_FALSE(HexDecode("zz").ok());
}

}  // namespace
}  // namespace phenix::crypto
