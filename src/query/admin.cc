// SPDX-License-Identifier: Apache-2.0
//
// The administrative statements (exec.h): SHOW INDEXES / TENANTS / TIMESTAMP, ANALYZE, REINDEX,
// VERIFY and CREATE TENANT. Each maps onto public Database calls; none reads entities through
// the session's transaction (the catalog and the derived indexes are not transactional).
// USE TENANT and BEGIN change session state and run in session.cc.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "query/exec.h"

namespace phenix::query {
namespace {

constexpr auto kProgressInterval = std::chrono::seconds(1);

// The collections a statement names: the one given (resolved with "did you mean"), or every
// collection of the session's tenant when `name` is empty.
Result<std::vector<CollectionInfo>> TargetCollections(const ExecContext& ctx,
                                                      const std::string& name, SourcePos pos) {
    if (!name.empty()) {
        PHENIX_ASSIGN_OR_RETURN(CollectionInfo info, ResolveCollection(ctx, name, pos));
        return std::vector<CollectionInfo>{std::move(info)};
    }
    Result<std::vector<CollectionInfo>> all = ctx.db.ListCollections(ctx.tenant);
    if (!all.ok()) {
        return AtPos(ctx.statement_pos, all.status());
    }
    std::sort(all->begin(), all->end(), [](const CollectionInfo& a, const CollectionInfo& b) {
        return a.spec.ref.name < b.spec.ref.name;
    });
    return std::move(all).value();
}

QueryValue Count(std::uint64_t value) {
    return QueryValue::Int(static_cast<std::int64_t>(value));
}

// The vector index as one SHOW INDEXES row.
std::vector<QueryValue> VectorIndexRow(const std::string& collection, const VectorIndexInfo& info) {
    std::string state = "ready";
    if (!info.indexing_error.empty()) {
        state = "failed";
    } else if (info.unindexed_rows > 0) {
        state = "catching up";
    }
    const std::uint64_t total_bytes = info.vectors_bytes + info.graph_bytes + info.metadata_bytes;
    std::string details = "m=" + std::to_string(info.m) +
                          " ef_construction=" + std::to_string(info.ef_construction) +
                          " ef_search=" + std::to_string(info.ef_search) +
                          " quantization=" + (info.quantize_int8 ? "int8" : "none");
    details += "; nodes " + std::to_string(info.nodes) + " (" + std::to_string(info.live_nodes) +
               " live), " + std::to_string(info.unindexed_rows) + " changes pending";
    details += "; indexed at " + std::to_string(info.indexed_timestamp) + ", checkpoint at " +
               std::to_string(info.checkpoint_timestamp);
    details += "; memory " + std::to_string(total_bytes) + " bytes (vectors " +
               std::to_string(info.vectors_bytes) + ", graph " + std::to_string(info.graph_bytes) +
               ", metadata " + std::to_string(info.metadata_bytes) + ")";
    if (!info.checkpoint_rejected.empty()) {
        details += "; checkpoint not used: " + info.checkpoint_rejected;
    }
    if (!info.indexing_error.empty()) {
        details += "; indexing error: " + info.indexing_error + " (REINDEX retries)";
    }
    return {QueryValue::String(collection),
            QueryValue::String("vector"),
            QueryValue::String("hnsw"),
            QueryValue::String(std::move(state)),
            Count(info.live_nodes),
            QueryValue::Null(),
            QueryValue::String(std::move(details))};
}

// A metadata index as one SHOW INDEXES row. Statistics are computed in the background (and by
// ANALYZE); until then entries and distinct_values are NULL, which is not an empty index.
std::vector<QueryValue> MetadataIndexRow(const std::string& collection,
                                         const MetadataIndexInfo& info) {
    const bool has_statistics = info.statistics_timestamp != 0;
    std::string details = has_statistics
                              ? "statistics at " + std::to_string(info.statistics_timestamp)
                              : std::string("no statistics yet (ANALYZE computes them)");
    if (info.state == IndexState::kReady) {
        details += "; usable from " + std::to_string(info.ready_timestamp);
    }
    return {QueryValue::String(collection),
            QueryValue::String("metadata." + info.path),
            QueryValue::String("metadata"),
            QueryValue::String(info.state == IndexState::kReady ? "ready" : "building"),
            has_statistics ? Count(info.entries) : QueryValue::Null(),
            has_statistics ? Count(info.distinct_values) : QueryValue::Null(),
            QueryValue::String(std::move(details))};
}

}  // namespace

Result<QueryResult> ExecuteShow(ExecContext& ctx, const ShowStmt& stmt) {
    switch (stmt.what) {
        case ShowWhat::kTenants: {
            Result<std::vector<std::string>> tenants = ctx.db.ListTenants();
            if (!tenants.ok()) {
                return AtPos(ctx.statement_pos, tenants.status());
            }
            // The quota columns are there in every session (the same columns embedded and on
            // phenixd); only phenixd's security catalog has quotas to fill them with.
            QueryResult result{.has_rows = true,
                               .columns = {"name", "current", "max_entities", "max_bytes",
                                           "requests_per_second", "principal_requests_per_second"}};
            const auto limit = [](std::uint64_t value) {
                return value == 0 ? QueryValue::Null() : Count(value);
            };
            for (const std::string& tenant : *tenants) {
                const TenantQuotaLimits quota = ctx.security_admin != nullptr
                                                    ? ctx.security_admin->QuotaOf(tenant)
                                                    : TenantQuotaLimits{};
                result.rows.push_back(
                    {QueryValue::String(tenant), QueryValue::Bool(tenant == ctx.tenant),
                     limit(quota.max_entities), limit(quota.max_bytes),
                     limit(quota.requests_per_second), limit(quota.principal_requests_per_second)});
            }
            return result;
        }
        case ShowWhat::kTimestamp: {
            // What BEGIN READ ONLY AS OF takes to read the database as it is now.
            QueryResult result{.has_rows = true, .columns = {"timestamp"}};
            result.rows.push_back({Count(ctx.db.CurrentTimestamp())});
            return result;
        }
        case ShowWhat::kStats:
            return ExecuteShowStats(ctx, stmt);
        case ShowWhat::kIndexes:
            break;
    }
    PHENIX_ASSIGN_OR_RETURN(std::vector<CollectionInfo> collections,
                            TargetCollections(ctx, stmt.collection, stmt.name_pos));
    QueryResult result{.has_rows = true,
                       .columns = {"collection", "path", "type", "state", "entries",
                                   "distinct_values", "details"}};
    for (const CollectionInfo& info : collections) {
        const CollectionRef& ref = info.spec.ref;
        if (info.spec.dimension) {
            Result<VectorIndexInfo> vector_index = ctx.db.GetVectorIndexInfo(ref);
            if (vector_index.ok()) {
                result.rows.push_back(VectorIndexRow(ref.name, *vector_index));
            } else if (vector_index.status().code() != StatusCode::kNotFound) {
                return AtPos(ctx.statement_pos, vector_index.status());
            }
        }
        Result<std::vector<MetadataIndexInfo>> indexes = ctx.db.ListIndexes(ref);
        if (!indexes.ok()) {
            // Dropped since it was listed (SHOW INDEXES without ON): leave it out.
            if (stmt.collection.empty() && indexes.status().code() == StatusCode::kNotFound) {
                continue;
            }
            return AtPos(ctx.statement_pos, indexes.status());
        }
        for (const MetadataIndexInfo& index : *indexes) {
            result.rows.push_back(MetadataIndexRow(ref.name, index));
        }
    }
    return result;
}

Result<QueryResult> ExecuteMaintenance(ExecContext& ctx, const MaintenanceStmt& stmt) {
    switch (stmt.action) {
        case MaintenanceAction::kVerify:
            PHENIX_RETURN_IF_ERROR(AtPos(ctx.statement_pos, ctx.db.Verify()));
            return QueryResult{.message = "VERIFY"};
        case MaintenanceAction::kAnalyze: {
            PHENIX_ASSIGN_OR_RETURN(std::vector<CollectionInfo> collections,
                                    TargetCollections(ctx, stmt.collection, stmt.name_pos));
            for (const CollectionInfo& info : collections) {
                Status analyzed = ctx.db.AnalyzeIndexes(info.spec.ref);
                // Dropped since it was listed (ANALYZE without a name): nothing to analyze.
                if (!analyzed.ok() &&
                    !(stmt.collection.empty() && analyzed.code() == StatusCode::kNotFound)) {
                    return AtPos(ctx.statement_pos, analyzed);
                }
            }
            return QueryResult{.message =
                                   "ANALYZE " + std::to_string(collections.size()) +
                                   (collections.size() == 1 ? " collection" : " collections")};
        }
        case MaintenanceAction::kReindex:
            break;
    }
    PHENIX_ASSIGN_OR_RETURN(CollectionInfo info,
                            ResolveCollection(ctx, stmt.collection, stmt.name_pos));
    if (!info.spec.dimension) {
        return ErrorAt(stmt.name_pos, "collection '" + info.spec.ref.name +
                                          "' has no vectors (created without DIMENSION), so it "
                                          "has no vector index to rebuild");
    }
    const auto start = std::chrono::steady_clock::now();
    auto last_report = start;
    const std::string prefix = "REINDEX " + info.spec.ref.ToString() + ": ";
    Status rebuilt =
        ctx.db.RebuildVectorIndex(info.spec.ref, [&](std::uint64_t done, std::uint64_t total) {
            const auto now = std::chrono::steady_clock::now();
            if (!ctx.progress || now - last_report < kProgressInterval) {
                return;
            }
            last_report = now;
            ctx.progress(prefix + std::to_string(done) + "/" + std::to_string(total) + " vectors");
        });
    PHENIX_RETURN_IF_ERROR(AtPos(ctx.statement_pos, rebuilt));
    Result<VectorIndexInfo> index = ctx.db.GetVectorIndexInfo(info.spec.ref);
    if (!index.ok()) {
        return AtPos(ctx.statement_pos, index.status());
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char elapsed[32];
    std::snprintf(elapsed, sizeof(elapsed), "%.2f s", seconds);
    return QueryResult{.message = "REINDEX " + std::to_string(index->nodes) + " nodes (" +
                                  std::to_string(index->live_nodes) + " live) in " + elapsed};
}

Result<QueryResult> ExecuteCreateTenant(ExecContext& ctx, const TenantStmt& stmt) {
    PHENIX_RETURN_IF_ERROR(AtPos(stmt.name_pos, ctx.db.CreateTenant(stmt.name)));
    return QueryResult{.message = "CREATE TENANT"};
}

Status CheckTenantExists(const ExecContext& ctx, const TenantStmt& stmt) {
    Result<std::vector<std::string>> tenants = ctx.db.ListTenants();
    if (!tenants.ok()) {
        return AtPos(ctx.statement_pos, tenants.status());
    }
    if (std::find(tenants->begin(), tenants->end(), stmt.name) != tenants->end()) {
        return Status::Ok();
    }
    std::string message = "tenant '" + stmt.name + "' does not exist";
    if (auto suggestion = ClosestName(stmt.name, *tenants)) {
        message += "; did you mean '" + *suggestion + "'?";
    } else {
        message += " (CREATE TENANT creates it; SHOW TENANTS lists them)";
    }
    return AtPos(stmt.name_pos, Status::NotFound(message));
}

}  // namespace phenix::query
