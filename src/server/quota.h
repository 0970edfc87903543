// SPDX-License-Identifier: Apache-2.0
//
// QuotaEnforcer: tenants' quotas (security::TenantQuota, kept in the security catalog; decision
// 0023, docs/security.md "Quotas") applied to requests and writes.
//
//  * Request rate: a token bucket per tenant (requests_per_second) and one per principal of the
//    tenant (principal_requests_per_second, keyed by tenant and subject: an API key's id, a JWT's
//    sub), both at once, all or nothing; burst = one second's worth. Refused: ResourceExhausted
//    (HTTP 429 with Retry-After, gRPC RESOURCE_EXHAUSTED). Buckets are bounded (kMaxBuckets; idle
//    ones are evicted, see TokenBuckets).
//  * Entities: a write that adds up to N entities is refused when the tenant's live entities
//    (the engine's exact per-collection counts, summed at the time of the check) plus N exceed
//    max_entities. A pre-check, not a reservation: writers running at once each see the count
//    before the others commit, so the tenant may end above the quota by at most the entities of
//    the writes admitted concurrently.
//  * Bytes: writes that add data are refused while the tenant's size (RocksDB's estimate of its
//    collections, refreshed at most every kBytesRefresh) is at or above max_bytes.
// Refusals of entities and bytes are PermissionDenied (HTTP 403, gRPC PERMISSION_DENIED) whose
// message starts with kQuotaExceededPrefix and names the quota, its limit and the current use.
// Every refusal is counted in phenix_quota_rejected_total{kind}; callers audit them.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <phenix/db.h>
#include <phenix/result.h>
#include <phenix/status.h>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "security/catalog.h"
#include "server/rate_limiter.h"

namespace phenix::server {

class Metrics;

/// The start of every quota refusal's message: "quota exceeded (max_entities): ...",
/// "rate limit exceeded (requests_per_second): ..."; the parenthesis names the quota.
inline constexpr std::string_view kQuotaExceededPrefix = "quota exceeded (";
inline constexpr std::string_view kRateLimitExceededPrefix = "rate limit exceeded (";

/// The quota a refusal's message names ("max_entities", ...); empty when it is no quota refusal.
std::string_view QuotaNamed(std::string_view message);

/// Where the usage comes from (the engine in phenixd; fakes in tests).
struct QuotaSources {
    /// The tenant's live entities.
    std::function<Result<std::uint64_t>(std::string_view tenant)> entities;
    /// Every tenant's approximate bytes.
    std::function<Result<std::map<std::string, std::uint64_t, std::less<>>>()> bytes;
};

/// The sources over the database `db` points to (null: Unavailable).
QuotaSources EngineQuotaSources(const std::atomic<Database*>& db);

/// Parses a byte size: an integer with an optional unit B, KB, MB, GB, TB (powers of 1024;
/// KiB, MiB, GiB, TiB too), case-insensitive, one space allowed before the unit.
Result<std::uint64_t> ParseByteSize(std::string_view text);

/// The quotas' names, in the order they are listed.
inline constexpr std::string_view kQuotaNames[] = {
    "max_entities", "max_bytes", "requests_per_second", "principal_requests_per_second"};

/// Sets quota `name` of `quota` from `value`: a non-negative integer (0: no limit), for
/// max_bytes also a byte size with a unit when `is_text` ("10GB"); `is_null`: no limit.
/// InvalidArgument (naming the quota) for an unknown name or a bad value.
Status SetQuotaField(security::TenantQuota& quota, std::string_view name, std::string_view value,
                     bool is_text, bool is_null);

class QuotaEnforcer {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kMaxBuckets = 10'000;
    static constexpr std::chrono::seconds kBytesRefresh{2};

    /// `metrics` may be null.
    QuotaEnforcer(const security::SecurityCatalog& catalog, QuotaSources sources, Metrics* metrics);

    /// Takes a token from the tenant's and the principal's buckets (when the tenant has those
    /// quotas). ResourceExhausted when either is empty; *retry_after_seconds is then the wait.
    Status AdmitRequest(std::string_view tenant, const security::Principal& principal,
                        Clock::time_point now, std::uint32_t* retry_after_seconds);

    /// Checks a write of `tenant` that adds up to `adding_entities` new entities (0: it adds
    /// none, e.g. an update; only the bytes quota applies) against its quotas.
    Status CheckWrite(std::string_view tenant, std::uint64_t adding_entities,
                      Clock::time_point now);

    /// The tenant's current use, for GET /v1/admin/tenants/{tenant}/quota.
    Result<std::uint64_t> Entities(std::string_view tenant) const;
    Result<std::uint64_t> ApproximateBytes(std::string_view tenant, Clock::time_point now);

    [[nodiscard]] std::size_t num_buckets() const { return buckets_.size(); }

  private:
    void Rejected(std::string_view kind) const;

    const security::SecurityCatalog& catalog_;
    const QuotaSources sources_;
    Metrics* const metrics_;
    TokenBuckets buckets_;

    Mutex bytes_mu_;
    std::map<std::string, std::uint64_t, std::less<>> bytes_ GUARDED_BY(bytes_mu_);
    Clock::time_point bytes_at_ GUARDED_BY(bytes_mu_);
    bool bytes_valid_ GUARDED_BY(bytes_mu_) = false;
};

}  // namespace phenix::server
