// SPDX-License-Identifier: Apache-2.0
//
// RateLimiter: one token bucket per client (its address now; its principal once auth exists).
// A bucket holds up to `burst` tokens and refills at `rate_per_second`; a request takes one or is
// refused with the time until the next token (429 with Retry-After). Memory is bounded: past
// kMaxClients buckets, the full ones (idle clients) are dropped, and if none is full the new
// client shares an overflow bucket.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace phenix::server {

class RateLimiter {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kMaxClients = 10'000;

    /// rate_per_second == 0 disables limiting.
    RateLimiter(std::uint32_t rate_per_second, std::uint32_t burst);

    struct Decision {
        bool allowed = true;
        std::uint32_t retry_after_seconds = 0;  ///< when refused: at least 1
    };
    Decision Admit(std::string_view client, Clock::time_point now);
    [[nodiscard]] bool enabled() const { return rate_per_second_ > 0; }
    [[nodiscard]] std::size_t num_clients() const;

  private:
    struct Bucket {
        double tokens = 0;
        Clock::time_point updated;
    };
    void Refill(Bucket& bucket, Clock::time_point now) const;

    // Immutable after construction.
    const double rate_per_second_;
    const double burst_;

    mutable Mutex mu_;
    std::unordered_map<std::string, Bucket> buckets_ GUARDED_BY(mu_);
    Bucket overflow_ GUARDED_BY(mu_);
    bool overflow_used_ GUARDED_BY(mu_) = false;
};

/// "127.0.0.1:5000" -> "127.0.0.1"; "[::1]:5000" or "::1:5000" style -> the address part.
std::string_view ClientAddress(std::string_view client);

}  // namespace phenix::server
