// SPDX-License-Identifier: Apache-2.0
#include "server/rate_limiter.h"

#include <gtest/gtest.h>

namespace phenix::server {
namespace {

using std::chrono::milliseconds;

TEST(RateLimiterTest, BurstThenRate) {
    RateLimiter limiter(/*rate_per_second=*/10, /*burst=*/3);
    const auto start = RateLimiter::Clock::now();
    for (int request_idx = 0; request_idx < 3; ++request_idx) {
        EXPECT_TRUE(limiter.Admit("10.0.0.1", start).allowed);
    }
    const RateLimiter::Decision refused = limiter.Admit("10.0.0.1", start);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.retry_after_seconds, 1u);
    EXPECT_TRUE(limiter.Admit("10.0.0.2", start).allowed);  // another client has its own bucket
    EXPECT_TRUE(limiter.Admit("10.0.0.1", start + milliseconds(100)).allowed);  // one token back
    EXPECT_FALSE(limiter.Admit("10.0.0.1", start + milliseconds(100)).allowed);
    // Tokens never exceed the burst however long the client was idle.
    const auto later = start + std::chrono::hours(1);
    for (int request_idx = 0; request_idx < 3; ++request_idx) {
        EXPECT_TRUE(limiter.Admit("10.0.0.1", later).allowed);
    }
    EXPECT_FALSE(limiter.Admit("10.0.0.1", later).allowed);
}

TEST(RateLimiterTest, DisabledAdmitsEverything) {
    RateLimiter limiter(0, 1);
    const auto now = RateLimiter::Clock::now();
    for (int request_idx = 0; request_idx < 100; ++request_idx) {
        EXPECT_TRUE(limiter.Admit("10.0.0.1", now).allowed);
    }
    EXPECT_EQ(limiter.num_clients(), 0u);
}

TEST(RateLimiterTest, ClientTableIsBounded) {
    RateLimiter limiter(1, 1);
    auto now = RateLimiter::Clock::now();
    for (std::size_t client_idx = 0; client_idx < RateLimiter::kMaxClients + 10; ++client_idx) {
        limiter.Admit("c" + std::to_string(client_idx), now);
    }
    EXPECT_LE(limiter.num_clients(), RateLimiter::kMaxClients);
    // Once the old clients' buckets are full again they make room for new ones.
    now += std::chrono::seconds(5);
    EXPECT_TRUE(limiter.Admit("newcomer", now).allowed);
    EXPECT_LE(limiter.num_clients(), RateLimiter::kMaxClients);
}

TEST(RateLimiterTest, ClientAddressDropsThePort) {
    EXPECT_EQ(ClientAddress("127.0.0.1:5000"), "127.0.0.1");
    EXPECT_EQ(ClientAddress("[::1]:5000"), "::1");
    EXPECT_EQ(ClientAddress("nohost"), "nohost");
}

}  // namespace
}  // namespace phenix::server
