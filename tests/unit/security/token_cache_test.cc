// SPDX-License-Identifier: Apache-2.0
#include "security/token_cache.h"

#include <string>

#include <gtest/gtest.h>

namespace phenix::security {
namespace {

Principal Alice() {
    return Principal{
        .subject = "alice", .tenant = "acme", .roles = {"reader"}, .method = AuthMethod::kJwt};
}

TEST(VerifiedTokenCache, HitsOnlyTheSameTokenGenerationAndWindow) {
    VerifiedTokenCache cache;
    cache.Insert("tok-a", 1, Alice(), {.not_after = 200, .not_before = 100});
    auto hit = cache.Find("tok-a", 1, 150);
    ASSERT_TRUE(hit.has_value());
    EXPECT_EQ(hit->subject, "alice");
    EXPECT_EQ(hit->roles, std::vector<std::string>{"reader"});
    EXPECT_EQ(cache.hits(), 1u);
    EXPECT_FALSE(cache.Find("tok-b", 1, 150).has_value());
    EXPECT_FALSE(cache.Find("tok-", 1, 150).has_value());
    EXPECT_FALSE(cache.Find("tok-a", 1, 99).has_value());  // before nbf: dropped
    EXPECT_EQ(cache.size(), 0u);
    cache.Insert("tok-a", 1, Alice(), {.not_after = 200});
    EXPECT_FALSE(cache.Find("tok-a", 2, 150).has_value());  // another key generation
    cache.Insert("tok-a", 1, Alice(), {.not_after = 200});
    EXPECT_TRUE(cache.Find("tok-a", 1, 199).has_value());
    EXPECT_FALSE(cache.Find("tok-a", 1, 200).has_value());  // at not_after: expired
    EXPECT_EQ(cache.hits(), 2u);
}

TEST(VerifiedTokenCache, StaysWithinItsBounds) {
    VerifiedTokenCache cache(/*max_entries=*/3, /*max_token_bytes=*/16);
    for (int i = 0; i < 10; ++i) {
        cache.Insert("token-" + std::to_string(i), 1, Alice(), {.not_after = 100});
        EXPECT_LE(cache.size(), 3u);
    }
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_TRUE(cache.Find("token-9", 1, 0).has_value());  // the newest is always kept
    const std::string long_token(17, 'x');
    cache.Insert(long_token, 1, Alice(), {.not_after = 100});
    EXPECT_FALSE(cache.Find(long_token, 1, 0).has_value());
    VerifiedTokenCache off(/*max_entries=*/0);
    off.Insert("t", 1, Alice(), {.not_after = 100});
    EXPECT_EQ(off.size(), 0u);
    EXPECT_FALSE(off.Find("t", 1, 0).has_value());
}

}  // namespace
}  // namespace phenix::security
