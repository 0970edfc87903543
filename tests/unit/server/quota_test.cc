// SPDX-License-Identifier: Apache-2.0
//
// Tenant quotas (server/quota.h, decision 0023): the token buckets' arithmetic on a fake clock,
// the entity and byte checks against fake usage sources, the quota settings' parsing.
#include "server/quota.h"

#include <gtest/gtest.h>

#include "server/errors.h"
#include "server/metrics.h"

namespace phenix::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = QuotaEnforcer::Clock;

TEST(TokenBucketsTest, BurstRefillAndRetryAfter) {
    TokenBuckets buckets(100);
    const auto start = Clock::time_point() + std::chrono::hours(1);
    const TokenBuckets::Limit limit{.key = "a", .rate_per_second = 2, .burst = 2};
    EXPECT_TRUE(buckets.Admit({limit}, start).allowed);
    EXPECT_TRUE(buckets.Admit({limit}, start).allowed);
    const RateDecision refused = buckets.Admit({limit}, start);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.retry_after_seconds, 1u);  // half a second, rounded up
    EXPECT_FALSE(buckets.Admit({limit}, start + milliseconds(400)).allowed);
    EXPECT_TRUE(buckets.Admit({limit}, start + milliseconds(500)).allowed);  // one token back
    // A slow rate: the wait is the time to one whole token.
    const TokenBuckets::Limit slow{.key = "slow", .rate_per_second = 0.25, .burst = 1};
    EXPECT_TRUE(buckets.Admit({slow}, start).allowed);
    EXPECT_EQ(buckets.Admit({slow}, start).retry_after_seconds, 4u);
}

TEST(TokenBucketsTest, SeveralBucketsAreAllOrNothing) {
    TokenBuckets buckets(100);
    const auto now = Clock::time_point() + std::chrono::hours(1);
    const TokenBuckets::Limit tenant{.key = "tenant", .rate_per_second = 10, .burst = 10};
    const TokenBuckets::Limit one{.key = "one", .rate_per_second = 1, .burst = 1};
    const TokenBuckets::Limit two{.key = "two", .rate_per_second = 1, .burst = 1};
    EXPECT_TRUE(buckets.Admit({tenant, one}, now).allowed);
    // "one" is empty: refused, and the tenant's bucket keeps its token.
    for (int attempt = 0; attempt < 20; ++attempt) {
        const RateDecision refused = buckets.Admit({tenant, one}, now);
        EXPECT_FALSE(refused.allowed);
        EXPECT_EQ(refused.limiting, 1u);
    }
    // 9 tokens are left in the tenant's bucket: another principal gets one, then the tenant runs
    // dry and names itself as the limit.
    EXPECT_TRUE(buckets.Admit({tenant, two}, now).allowed);
    for (int key = 0; key < 8; ++key) {
        const std::string name = "p" + std::to_string(key);
        EXPECT_TRUE(
            buckets.Admit({tenant, {.key = name, .rate_per_second = 1, .burst = 1}}, now).allowed);
    }
    const RateDecision refused =
        buckets.Admit({tenant, {.key = "fresh", .rate_per_second = 1, .burst = 1}}, now);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.limiting, 0u);
}

TEST(TokenBucketsTest, ANewRateAppliesAtOnce) {
    TokenBuckets buckets(100);
    const auto now = Clock::time_point() + std::chrono::hours(1);
    EXPECT_TRUE(buckets.Admit({{.key = "k", .rate_per_second = 1, .burst = 1}}, now).allowed);
    EXPECT_FALSE(buckets.Admit({{.key = "k", .rate_per_second = 1, .burst = 1}}, now).allowed);
    // Raised to 100/s at +10 ms (the time before refilled at the old rate): a token 10 ms later,
    // not the 990 ms the old rate would take.
    const TokenBuckets::Limit raised{.key = "k", .rate_per_second = 100, .burst = 100};
    const RateDecision at_raise = buckets.Admit({raised}, now + milliseconds(10));
    EXPECT_FALSE(at_raise.allowed);
    EXPECT_EQ(at_raise.retry_after_seconds, 1u);
    EXPECT_TRUE(buckets.Admit({raised}, now + milliseconds(21)).allowed);
}

TEST(TokenBucketsTest, IdleBucketsAreEvicted) {
    TokenBuckets buckets(10);
    auto now = Clock::time_point() + std::chrono::hours(1);
    for (int key = 0; key < 25; ++key) {
        buckets.Admit({{.key = "k" + std::to_string(key), .rate_per_second = 1, .burst = 1}}, now);
    }
    EXPECT_LE(buckets.size(), 10u);
    now += seconds(5);  // every bucket is full again: room for new keys
    EXPECT_TRUE(buckets.Admit({{.key = "new", .rate_per_second = 1, .burst = 1}}, now).allowed);
    EXPECT_LE(buckets.size(), 10u);
}

using ByteMap = std::map<std::string, std::uint64_t, std::less<>>;

class QuotaEnforcerTest : public ::testing::Test {
  protected:
    QuotaEnforcerTest()
        : quotas_(
              catalog_,
              QuotaSources{.entities = [this](std::string_view tenant) -> Result<std::uint64_t> {
                               ++entity_reads_;
                               auto it = entities_.find(std::string(tenant));
                               return it == entities_.end() ? 0 : it->second;
                           },
                           .bytes = [this]() -> Result<ByteMap> {
                               ++byte_reads_;
                               return bytes_;
                           }},
              &metrics_) {}

    security::SecurityCatalog catalog_;
    Metrics metrics_;
    std::map<std::string, std::uint64_t> entities_;
    ByteMap bytes_;
    int entity_reads_ = 0;
    int byte_reads_ = 0;
    QuotaEnforcer quotas_;
    const Clock::time_point now_ = Clock::time_point() + std::chrono::hours(1);
};

TEST_F(QuotaEnforcerTest, NoQuotaReadsNothing) {
    EXPECT_TRUE(quotas_.CheckWrite("acme", 1'000'000, now_).ok());
    std::uint32_t retry = 0;
    security::Principal principal{.subject = "s", .tenant = "acme"};
    for (int request = 0; request < 1000; ++request) {
        ASSERT_TRUE(quotas_.AdmitRequest("acme", principal, now_, &retry).ok());
    }
    EXPECT_EQ(entity_reads_ + byte_reads_, 0);
    EXPECT_EQ(quotas_.num_buckets(), 0u);
}

TEST_F(QuotaEnforcerTest, EntitiesUpToTheLimitAndNotOneMore) {
    ASSERT_TRUE(catalog_.SetQuota("acme", {.max_entities = 10}).ok());
    entities_["acme"] = 8;
    entities_["other"] = 1'000;
    EXPECT_TRUE(quotas_.CheckWrite("acme", 2, now_).ok());  // exactly to the limit
    const Status over = quotas_.CheckWrite("acme", 3, now_);
    ASSERT_EQ(over.code(), StatusCode::kPermissionDenied);
    const std::string message(over.message());
    EXPECT_TRUE(message.starts_with("quota exceeded (max_entities): ")) << message;
    EXPECT_NE(message.find("tenant 'acme' holds 8 entities"), std::string::npos) << message;
    EXPECT_NE(message.find("adds up to 3"), std::string::npos) << message;
    EXPECT_NE(message.find("max_entities quota of 10"), std::string::npos) << message;
    EXPECT_EQ(QuotaNamed(message), "max_entities");
    // The wire error names the quota in details.
    EXPECT_NE(ErrorJson(over).find("\"quota\":\"max_entities\""), std::string::npos);
    // Writes that add no entity (updates) pass the entity quota even when full; other tenants
    // are not limited by acme's quota.
    entities_["acme"] = 10;
    EXPECT_TRUE(quotas_.CheckWrite("acme", 0, now_).ok());
    EXPECT_FALSE(quotas_.CheckWrite("acme", 1, now_).ok());
    EXPECT_TRUE(quotas_.CheckWrite("other", 500, now_).ok());
    // Over the quota already (it was lowered): refused, no overflow in the arithmetic.
    entities_["acme"] = 50;
    EXPECT_FALSE(quotas_.CheckWrite("acme", 1, now_).ok());
    // Raised: writes go on.
    ASSERT_TRUE(catalog_.SetQuota("acme", {.max_entities = 100}).ok());
    EXPECT_TRUE(quotas_.CheckWrite("acme", 50, now_).ok());
    EXPECT_NE(metrics_.Render(static_cast<const DatabaseStats*>(nullptr))
                  .find("phenix_quota_rejected_total{kind=\"entities\"} 3"),
              std::string::npos);
}

TEST_F(QuotaEnforcerTest, BytesAreReadAtMostEveryRefreshInterval) {
    ASSERT_TRUE(catalog_.SetQuota("acme", {.max_bytes = 1000}).ok());
    bytes_["acme"] = 999;
    EXPECT_TRUE(quotas_.CheckWrite("acme", 1, now_).ok());
    bytes_["acme"] = 1000;
    // Within the refresh interval the old estimate stands (the documented imprecision).
    EXPECT_TRUE(quotas_.CheckWrite("acme", 1, now_ + milliseconds(1500)).ok());
    EXPECT_EQ(byte_reads_, 1);
    const Status over = quotas_.CheckWrite("acme", 0, now_ + QuotaEnforcer::kBytesRefresh);
    ASSERT_EQ(over.code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(QuotaNamed(over.message()), "max_bytes");
    EXPECT_NE(over.message().find("about 1000 bytes"), std::string::npos) << over.message();
    EXPECT_EQ(byte_reads_, 2);
    ASSERT_TRUE(catalog_.SetQuota("acme", {.max_bytes = 2000}).ok());
    EXPECT_TRUE(quotas_.CheckWrite("acme", 1, now_ + QuotaEnforcer::kBytesRefresh).ok());
}

TEST_F(QuotaEnforcerTest, TenantAndPrincipalRates) {
    ASSERT_TRUE(
        catalog_.SetQuota("acme", {.requests_per_second = 5, .principal_requests_per_second = 3})
            .ok());
    const security::Principal alice{.subject = "alice", .tenant = "acme"};
    const security::Principal bob{.subject = "bob", .tenant = "acme"};
    const security::Principal carol{.subject = "carol", .tenant = "other"};
    std::uint32_t retry = 0;
    for (int request = 0; request < 3; ++request) {
        ASSERT_TRUE(quotas_.AdmitRequest("acme", alice, now_, &retry).ok());
    }
    Status refused = quotas_.AdmitRequest("acme", alice, now_, &retry);
    ASSERT_EQ(refused.code(), StatusCode::kResourceExhausted);
    EXPECT_EQ(QuotaNamed(refused.message()), "principal_requests_per_second");
    EXPECT_EQ(retry, 1u);
    // Bob has his own bucket, but the tenant's 5 are shared: 2 left.
    EXPECT_TRUE(quotas_.AdmitRequest("acme", bob, now_, &retry).ok());
    EXPECT_TRUE(quotas_.AdmitRequest("acme", bob, now_, &retry).ok());
    refused = quotas_.AdmitRequest("acme", bob, now_, &retry);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(QuotaNamed(refused.message()), "requests_per_second");
    EXPECT_NE(refused.message().find("tenant 'acme' may make 5 requests per second"),
              std::string::npos)
        << refused.message();
    // Another tenant without a quota is not limited.
    for (int request = 0; request < 100; ++request) {
        ASSERT_TRUE(quotas_.AdmitRequest("other", carol, now_, &retry).ok());
    }
    // A second later the buckets are full again.
    EXPECT_TRUE(quotas_.AdmitRequest("acme", alice, now_ + seconds(1), &retry).ok());
    // The same subject in another tenant, or authenticated another way, is another principal.
    const security::Principal alice_key{
        .subject = "alice", .tenant = "acme", .method = security::AuthMethod::kApiKey};
    EXPECT_TRUE(quotas_.AdmitRequest("acme", alice_key, now_ + seconds(1), &retry).ok());
}

TEST(QuotaSettingsTest, ParseByteSize) {
    EXPECT_EQ(*ParseByteSize("0"), 0u);
    EXPECT_EQ(*ParseByteSize("1024"), 1024u);
    EXPECT_EQ(*ParseByteSize("10GB"), 10ULL << 30);
    EXPECT_EQ(*ParseByteSize("10 gib"), 10ULL << 30);
    EXPECT_EQ(*ParseByteSize("3kb"), 3072u);
    EXPECT_EQ(*ParseByteSize("2TB"), 2ULL << 40);
    EXPECT_EQ(*ParseByteSize("5B"), 5u);
    for (std::string_view bad :
         {"", "GB", "10  GB", "10XB", "-1", "1.5GB", "99999999999999TB", "18446744073709551616"}) {
        EXPECT_FALSE(ParseByteSize(bad).ok()) << bad;
    }
}

TEST(QuotaSettingsTest, SetQuotaField) {
    security::TenantQuota quota;
    EXPECT_TRUE(SetQuotaField(quota, "max_entities", "1000", false, false).ok());
    EXPECT_TRUE(SetQuotaField(quota, "max_bytes", "10GB", true, false).ok());
    EXPECT_TRUE(SetQuotaField(quota, "requests_per_second", "500", false, false).ok());
    EXPECT_EQ(quota,
              (security::TenantQuota{
                  .max_entities = 1000, .max_bytes = 10ULL << 30, .requests_per_second = 500}));
    EXPECT_TRUE(SetQuotaField(quota, "max_entities", "", false, true).ok());
    EXPECT_EQ(quota.max_entities, 0u);
    Status bad = SetQuotaField(quota, "max_widgets", "1", false, false);
    EXPECT_NE(bad.message().find("unknown quota 'max_widgets'"), std::string::npos);
    bad = SetQuotaField(quota, "max_entities", "10GB", true, false);
    EXPECT_NE(bad.message().find("must be a non-negative integer"), std::string::npos);
    EXPECT_FALSE(SetQuotaField(quota, "max_entities", "-5", false, false).ok());
    EXPECT_FALSE(SetQuotaField(quota, "requests_per_second", "4294967296", false, false).ok());
    EXPECT_FALSE(SetQuotaField(quota, "max_bytes", "true", false, false).ok());
}

}  // namespace
}  // namespace phenix::server
