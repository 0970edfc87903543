// SPDX-License-Identifier: Apache-2.0
#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace phenix::server {

TokenBuckets::TokenBuckets(std::size_t max_keys) : max_keys_(std::max<std::size_t>(max_keys, 1)) {}

void TokenBuckets::Refill(Bucket& bucket, Clock::time_point now) {
    const std::chrono::duration<double> elapsed = now - bucket.updated;
    if (elapsed.count() > 0) {
        bucket.tokens = std::min(bucket.burst, bucket.tokens + elapsed.count() * bucket.rate);
        bucket.updated = now;
    }
}

TokenBuckets::Bucket& TokenBuckets::Find(const Limit& limit, Clock::time_point now) {
    Bucket* bucket = nullptr;
    auto it = buckets_.find(std::string(limit.key));
    if (it != buckets_.end()) {
        bucket = &it->second;
    } else {
        const Bucket fresh{.tokens = limit.burst,
                           .rate = limit.rate_per_second,
                           .burst = limit.burst,
                           .updated = now};
        if (buckets_.size() < max_keys_) {
            bucket = &buckets_.emplace(std::string(limit.key), fresh).first->second;
        } else {
            if (!overflow_used_) {
                overflow_ = fresh;
                overflow_used_ = true;
            }
            bucket = &overflow_;
        }
    }
    Refill(*bucket, now);
    // The key's limit may have changed since the last call: the new one applies from now.
    bucket->rate = limit.rate_per_second;
    bucket->burst = limit.burst;
    bucket->tokens = std::min(bucket->tokens, bucket->burst);
    return *bucket;
}

RateDecision TokenBuckets::Admit(std::initializer_list<Limit> limits, Clock::time_point now) {
    MutexLock lock(mu_);
    if (buckets_.size() + limits.size() > max_keys_) {
        // Room for new keys: drop the full buckets (idle keys), before any bucket is looked up.
        for (auto old = buckets_.begin(); old != buckets_.end();) {
            Refill(old->second, now);
            old = old->second.tokens >= old->second.burst ? buckets_.erase(old) : std::next(old);
        }
    }
    std::vector<Bucket*> found;
    found.reserve(limits.size());
    double wait_seconds = 0;
    std::size_t limiting = 0;
    for (const Limit& limit : limits) {
        Bucket& bucket = Find(limit, now);
        if (bucket.tokens < 1 && (1 - bucket.tokens) / bucket.rate > wait_seconds) {
            wait_seconds = (1 - bucket.tokens) / bucket.rate;
            limiting = found.size();
        }
        found.push_back(&bucket);
    }
    if (wait_seconds > 0) {
        return {.allowed = false,
                .retry_after_seconds =
                    std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::ceil(wait_seconds))),
                .limiting = limiting};
    }
    for (Bucket* bucket : found) {
        bucket->tokens -= 1;
    }
    return {};
}

std::size_t TokenBuckets::size() const {
    MutexLock lock(mu_);
    return buckets_.size();
}

RateLimiter::RateLimiter(std::uint32_t rate_per_second, std::uint32_t burst)
    : rate_per_second_(rate_per_second),
      burst_(std::max<std::uint32_t>(burst, 1)),
      buckets_(kMaxClients) {}

RateLimiter::Decision RateLimiter::Admit(std::string_view client, Clock::time_point now) {
    if (!enabled()) {
        return {};
    }
    return buckets_.Admit({{.key = client, .rate_per_second = rate_per_second_, .burst = burst_}},
                          now);
}

std::string_view ClientAddress(std::string_view client) {
    if (!client.empty() && client.front() == '[') {
        const std::size_t close = client.find(']');
        return close == std::string_view::npos ? client : client.substr(1, close - 1);
    }
    const std::size_t colon = client.rfind(':');
    return colon == std::string_view::npos ? client : client.substr(0, colon);
}

}  // namespace phenix::server
