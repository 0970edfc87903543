// SPDX-License-Identifier: Apache-2.0
#include "server/quota.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "server/metrics.h"

namespace phenix::server {
namespace {

std::string Quoted(std::string_view text) {
    return "'" + std::string(text) + "'";
}

}  // namespace

std::string_view QuotaNamed(std::string_view message) {
    for (std::string_view prefix : {kQuotaExceededPrefix, kRateLimitExceededPrefix}) {
        if (message.starts_with(prefix)) {
            message.remove_prefix(prefix.size());
            const std::size_t close = message.find(')');
            return close == std::string_view::npos ? std::string_view() : message.substr(0, close);
        }
    }
    return {};
}

QuotaSources EngineQuotaSources(const std::atomic<Database*>& db) {
    const std::atomic<Database*>* source = &db;
    QuotaSources sources;
    sources.entities = [source](std::string_view tenant) -> Result<std::uint64_t> {
        Database* database = source->load();
        if (database == nullptr) {
            return Status::Unavailable("the database is still opening; retry shortly");
        }
        PHENIX_ASSIGN_OR_RETURN(std::vector<CollectionInfo> collections,
                                database->ListCollections(tenant));
        std::uint64_t total = 0;
        for (const CollectionInfo& collection : collections) {
            total += collection.num_entities;
        }
        return total;
    };
    sources.bytes = [source]() -> Result<std::map<std::string, std::uint64_t, std::less<>>> {
        Database* database = source->load();
        if (database == nullptr) {
            return Status::Unavailable("the database is still opening; retry shortly");
        }
        PHENIX_ASSIGN_OR_RETURN(DatabaseStats stats, database->Stats());
        std::map<std::string, std::uint64_t, std::less<>> bytes;
        for (const CollectionStats& collection : stats.collections) {
            bytes[collection.ref.tenant] += collection.approximate_bytes;
        }
        return bytes;
    };
    return sources;
}

Result<std::uint64_t> ParseByteSize(std::string_view text) {
    auto bad = [&]() {
        return Status::InvalidArgument("'" + std::string(text) +
                                       "' is not a byte size (an integer with an optional unit: "
                                       "B, KB, MB, GB, TB; powers of 1024)");
    };
    std::size_t pos = 0;
    std::uint64_t value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        const std::uint64_t digit = static_cast<std::uint64_t>(text[pos] - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
            return bad();
        }
        value = value * 10 + digit;
        ++pos;
    }
    if (pos == 0) {
        return bad();
    }
    if (pos < text.size() && text[pos] == ' ') {
        ++pos;
    }
    std::string unit;
    for (; pos < text.size(); ++pos) {
        unit += static_cast<char>(std::toupper(static_cast<unsigned char>(text[pos])));
    }
    static constexpr std::pair<std::string_view, int> kUnits[] = {
        {"", 0},    {"B", 0},  {"KB", 1},  {"KIB", 1}, {"MB", 2},
        {"MIB", 2}, {"GB", 3}, {"GIB", 3}, {"TB", 4},  {"TIB", 4}};
    for (const auto& [name, power] : kUnits) {
        if (unit == name) {
            for (int step = 0; step < power; ++step) {
                if (value > std::numeric_limits<std::uint64_t>::max() / 1024) {
                    return bad();
                }
                value *= 1024;
            }
            return value;
        }
    }
    return bad();
}

Status SetQuotaField(security::TenantQuota& quota, std::string_view name, std::string_view value,
                     bool is_text, bool is_null) {
    constexpr std::uint64_t kMaxLimit = 0x7fffffffffffffffULL;
    const bool is_bytes = name == "max_bytes";
    const bool is_rate = name == "requests_per_second" || name == "principal_requests_per_second";
    if (!is_bytes && !is_rate && name != "max_entities") {
        return Status::InvalidArgument("unknown quota '" + std::string(name) +
                                       "' (expected: max_entities, max_bytes, "
                                       "requests_per_second, principal_requests_per_second)");
    }
    std::uint64_t limit = 0;
    if (!is_null) {
        const bool digits =
            !value.empty() && value.size() <= 19 &&
            std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (is_text && is_bytes) {
            PHENIX_ASSIGN_OR_RETURN(limit, ParseByteSize(value));
        } else if (!is_text && digits) {
            limit = std::stoull(std::string(value));
        } else {
            return Status::InvalidArgument("quota '" + std::string(name) +
                                           "' must be a non-negative integer" +
                                           (is_bytes ? " or a size such as '10GB'" : "") +
                                           " (0 or null: no limit), not " + std::string(value));
        }
        const std::uint64_t most = is_rate ? 0xffffffffULL : kMaxLimit;
        if (limit > most) {
            return Status::InvalidArgument("quota '" + std::string(name) + "' must be at most " +
                                           std::to_string(most));
        }
    }
    if (name == "max_entities") {
        quota.max_entities = limit;
    } else if (is_bytes) {
        quota.max_bytes = limit;
    } else if (name == "requests_per_second") {
        quota.requests_per_second = static_cast<std::uint32_t>(limit);
    } else {
        quota.principal_requests_per_second = static_cast<std::uint32_t>(limit);
    }
    return Status::Ok();
}

QuotaEnforcer::QuotaEnforcer(const security::SecurityCatalog& catalog, QuotaSources sources,
                             Metrics* metrics)
    : catalog_(catalog), sources_(std::move(sources)), metrics_(metrics), buckets_(kMaxBuckets) {}

void QuotaEnforcer::Rejected(std::string_view kind) const {
    if (metrics_ != nullptr) {
        metrics_->RecordQuotaRejected(kind);
    }
}

Status QuotaEnforcer::AdmitRequest(std::string_view tenant, const security::Principal& principal,
                                   Clock::time_point now, std::uint32_t* retry_after_seconds) {
    const auto snapshot = catalog_.Snapshot();
    const security::TenantQuota* quota = snapshot->FindQuota(tenant);
    if (quota == nullptr ||
        (quota->requests_per_second == 0 && quota->principal_requests_per_second == 0)) {
        return Status::Ok();
    }
    const std::string tenant_key = "t\n" + std::string(tenant);
    const std::string principal_key = "p\n" + std::string(tenant) + "\n" +
                                      std::to_string(static_cast<int>(principal.method)) + "\n" +
                                      principal.subject;
    auto limit = [](std::string_view key, std::uint32_t rate) {
        const double per_second = rate;
        return TokenBuckets::Limit{.key = key, .rate_per_second = per_second, .burst = per_second};
    };
    RateDecision decision;
    std::string_view refused_by;
    std::uint32_t refused_rate = 0;
    if (quota->requests_per_second > 0 && quota->principal_requests_per_second > 0) {
        decision = buckets_.Admit({limit(tenant_key, quota->requests_per_second),
                                   limit(principal_key, quota->principal_requests_per_second)},
                                  now);
        const bool by_principal = decision.limiting == 1;
        refused_by = by_principal ? "principal_requests_per_second" : "requests_per_second";
        refused_rate =
            by_principal ? quota->principal_requests_per_second : quota->requests_per_second;
    } else if (quota->requests_per_second > 0) {
        decision = buckets_.Admit({limit(tenant_key, quota->requests_per_second)}, now);
        refused_by = "requests_per_second";
        refused_rate = quota->requests_per_second;
    } else {
        decision =
            buckets_.Admit({limit(principal_key, quota->principal_requests_per_second)}, now);
        refused_by = "principal_requests_per_second";
        refused_rate = quota->principal_requests_per_second;
    }
    if (decision.allowed) {
        return Status::Ok();
    }
    Rejected("rate");
    if (retry_after_seconds != nullptr) {
        *retry_after_seconds = decision.retry_after_seconds;
    }
    const std::string whose = refused_by == "requests_per_second"
                                  ? "tenant " + Quoted(tenant)
                                  : "each principal of tenant " + Quoted(tenant);
    return Status::ResourceExhausted(
        std::string(kRateLimitExceededPrefix) + std::string(refused_by) + "): " + whose +
        " may make " + std::to_string(refused_rate) + " requests per second; retry after " +
        std::to_string(decision.retry_after_seconds) + " s");
}

Result<std::uint64_t> QuotaEnforcer::Entities(std::string_view tenant) const {
    return sources_.entities(tenant);
}

Result<std::uint64_t> QuotaEnforcer::ApproximateBytes(std::string_view tenant,
                                                      Clock::time_point now) {
    MutexLock lock(bytes_mu_);
    if (!bytes_valid_ || now - bytes_at_ >= kBytesRefresh) {
        PHENIX_ASSIGN_OR_RETURN(bytes_, sources_.bytes());
        bytes_at_ = now;
        bytes_valid_ = true;
    }
    auto it = bytes_.find(tenant);
    return it == bytes_.end() ? 0 : it->second;
}

Status QuotaEnforcer::CheckWrite(std::string_view tenant, std::uint64_t adding_entities,
                                 Clock::time_point now) {
    const auto snapshot = catalog_.Snapshot();
    const security::TenantQuota* quota = snapshot->FindQuota(tenant);
    if (quota == nullptr) {
        return Status::Ok();
    }
    const std::string raise = " (a cluster administrator raises it: PUT /v1/admin/tenants/" +
                              std::string(tenant) + "/quota or ALTER TENANT " +
                              std::string(tenant) + " SET QUOTA)";
    if (quota->max_entities > 0 && adding_entities > 0) {
        PHENIX_ASSIGN_OR_RETURN(std::uint64_t entities, Entities(tenant));
        if (entities > quota->max_entities || adding_entities > quota->max_entities - entities) {
            Rejected("entities");
            return Status::PermissionDenied(
                std::string(kQuotaExceededPrefix) + "max_entities): tenant " + Quoted(tenant) +
                " holds " + std::to_string(entities) + " entities and this write adds up to " +
                std::to_string(adding_entities) + ", over its max_entities quota of " +
                std::to_string(quota->max_entities) + "; nothing was written" + raise);
        }
    }
    if (quota->max_bytes > 0) {
        PHENIX_ASSIGN_OR_RETURN(std::uint64_t bytes, ApproximateBytes(tenant, now));
        if (bytes >= quota->max_bytes) {
            Rejected("bytes");
            return Status::PermissionDenied(
                std::string(kQuotaExceededPrefix) + "max_bytes): tenant " + Quoted(tenant) +
                " takes about " + std::to_string(bytes) +
                " bytes (RocksDB's estimate), at or over its max_bytes quota of " +
                std::to_string(quota->max_bytes) + "; nothing was written" + raise);
        }
    }
    return Status::Ok();
}

}  // namespace phenix::server
