// SPDX-License-Identifier: Apache-2.0
//
// The REST/JSON API under /v1 (docs/server.md), plus /health and /ready: handlers that parse
// a request, call QuerySession / Database, and render the result. No query logic lives here.
//
// Thread safety: handlers run concurrently on workers; ApiState is shared through atomics.
#pragma once

#include <atomic>
#include <string>

#include <phenix/db.h>
#include <phenix/phenixql.h>

#include "security/audit_sink.h"
#include "security/catalog.h"
#include "server/access.h"
#include "server/metrics.h"
#include "server/quota.h"
#include "server/router.h"
#include "server/transactions.h"

namespace phenix::server {

enum class ServingState { kStarting, kReady, kDraining };

class SlowQueryLog;

struct ApiState {
    /// Null until the database is open (then the /v1 routes answer 503).
    std::atomic<Database*> db{nullptr};
    std::atomic<ServingState> state{ServingState::kStarting};
    /// Set once before serving: COPY's directory for every session.
    std::string copy_directory;
    /// Set once before serving: the interactive transactions.
    TransactionRegistry* transactions = nullptr;
    /// Set once before serving.
    Metrics* metrics = nullptr;
    /// Set once before serving, never null: where security events go (the Server's audit_: an
    /// audit::AuditLog with --audit-dir, otherwise a NullAuditSink). Thread-safe.
    security::AuditSink* audit = nullptr;
    /// Set once before serving: --audit-reads, record reads too.
    bool audit_reads = false;
    /// Set once before serving: roles, grants and API keys (loaded from the data directory when
    /// the database opens).
    security::SecurityCatalog* security = nullptr;
    /// Set once before serving: the enforcement point (per-statement authorization, transaction
    /// owners). Never null while serving.
    const AccessControl* access = nullptr;
    /// Set once before serving: the slow-query log of /v1/query and gRPC Query (null: off).
    const SlowQueryLog* slow_queries = nullptr;
    /// Set once before serving: tenants' quotas (server/quota.h); null in unit tests.
    QuotaEnforcer* quotas = nullptr;
};

/// The plan of a search run with "explain": true, as JSON text: {"strategy", "execution_ms",
/// "root": {"operator", "strategy"?, "estimated_rows", "actual_rows", ..., "children"}, "text"}
/// (REST's "plan", and gRPC Search's).
std::string SearchPlanJson(const QueryPlan& plan, const std::string& strategy);

/// Counts a statement that failed (phenix_query_errors_total) when `state` has metrics.
void RecordQueryError(const ApiState& state, const Status& failed);

/// Adds every route to `router`. `state` must outlive the router's use.
void RegisterRoutes(Router& router, ApiState& state);

}  // namespace phenix::server
