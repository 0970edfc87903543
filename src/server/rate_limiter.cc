// SPDX-License-Identifier: Apache-2.0
#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace phenix::server {

RateLimiter::RateLimiter(std::uint32_t rate_per_second, std::uint32_t burst)
    : rate_per_second_(rate_per_second), burst_(std::max<std::uint32_t>(burst, 1)) {}

void RateLimiter::Refill(Bucket& bucket, Clock::time_point now) const {
    const std::chrono::duration<double> elapsed = now - bucket.updated;
    if (elapsed.count() > 0) {
        bucket.tokens = std::min(burst_, bucket.tokens + elapsed.count() * rate_per_second_);
        bucket.updated = now;
    }
}

RateLimiter::Decision RateLimiter::Admit(std::string_view client, Clock::time_point now) {
    if (!enabled()) {
        return {};
    }
    MutexLock lock(mu_);
    auto it = buckets_.find(std::string(client));
    Bucket* bucket = nullptr;
    if (it != buckets_.end()) {
        bucket = &it->second;
    } else {
        if (buckets_.size() >= kMaxClients) {
            for (auto old = buckets_.begin(); old != buckets_.end();) {
                Refill(old->second, now);
                old = old->second.tokens >= burst_ ? buckets_.erase(old) : std::next(old);
            }
        }
        if (buckets_.size() < kMaxClients) {
            bucket = &buckets_.emplace(std::string(client), Bucket{burst_, now}).first->second;
        } else {
            if (!overflow_used_) {
                overflow_ = Bucket{burst_, now};
                overflow_used_ = true;
            }
            bucket = &overflow_;
        }
    }
    Refill(*bucket, now);
    if (bucket->tokens >= 1) {
        bucket->tokens -= 1;
        return {};
    }
    const double wait_seconds = (1 - bucket->tokens) / rate_per_second_;
    return {.allowed = false,
            .retry_after_seconds =
                std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::ceil(wait_seconds)))};
}

std::size_t RateLimiter::num_clients() const {
    MutexLock lock(mu_);
    return buckets_.size();
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
