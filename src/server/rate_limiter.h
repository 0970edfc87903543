// SPDX-License-Identifier: Apache-2.0
//
// Token buckets. A bucket holds up to `burst` tokens and refills at `rate_per_second`; a request
// takes one or is refused with the time until the next token (429 with Retry-After).
//
// TokenBuckets: buckets by key, each call naming the key's rate and burst (a tenant's quota can
// change between calls: the bucket takes the new rate at once, its tokens capped by the new
// burst). One call may take from several buckets at once, all or nothing (a tenant's and a
// principal's). Memory is bounded: past max_keys buckets, the full ones (idle keys) are dropped,
// and if none is full a new key shares an overflow bucket.
//
// RateLimiter: one rate for every client (phenixd's per-address rate_limit_per_second).
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace phenix::server {

struct RateDecision {
    bool allowed = true;
    std::uint32_t retry_after_seconds = 0;  ///< when refused: at least 1
    std::size_t limiting = 0;  ///< when refused: the index of the limit with the longest wait
};

class TokenBuckets {
  public:
    using Clock = std::chrono::steady_clock;

    struct Limit {
        std::string_view key;
        double rate_per_second = 0;  ///< > 0
        double burst = 1;            ///< >= 1
    };

    explicit TokenBuckets(std::size_t max_keys);

    /// Takes one token from each limit's bucket when every one has a token; otherwise takes none
    /// and answers the wait until all would have one.
    RateDecision Admit(std::initializer_list<Limit> limits, Clock::time_point now);
    [[nodiscard]] std::size_t size() const;

  private:
    struct Bucket {
        double tokens = 0;
        double rate = 0;
        double burst = 1;
        Clock::time_point updated;
    };
    static void Refill(Bucket& bucket, Clock::time_point now);
    Bucket& Find(const Limit& limit, Clock::time_point now) REQUIRES(mu_);

    const std::size_t max_keys_;
    mutable Mutex mu_;
    std::unordered_map<std::string, Bucket> buckets_ GUARDED_BY(mu_);
    Bucket overflow_ GUARDED_BY(mu_);
    bool overflow_used_ GUARDED_BY(mu_) = false;
};

class RateLimiter {
  public:
    using Clock = TokenBuckets::Clock;
    using Decision = RateDecision;
    static constexpr std::size_t kMaxClients = 10'000;

    /// rate_per_second == 0 disables limiting.
    RateLimiter(std::uint32_t rate_per_second, std::uint32_t burst);

    Decision Admit(std::string_view client, Clock::time_point now);
    [[nodiscard]] bool enabled() const { return rate_per_second_ > 0; }
    [[nodiscard]] std::size_t num_clients() const { return buckets_.size(); }

  private:
    // Immutable after construction.
    const double rate_per_second_;
    const double burst_;
    TokenBuckets buckets_;
};

/// "127.0.0.1:5000" -> "127.0.0.1"; "[::1]:5000" or "::1:5000" style -> the address part.
std::string_view ClientAddress(std::string_view client);

}  // namespace phenix::server
