// SPDX-License-Identifier: Apache-2.0
//
// Metrics: phenixd's Prometheus metrics (GET /metrics, text format 0.0.4), on prometheus-cpp's
// core registry: requests by route, method and status; latency histograms by route and by plan
// strategy (the access strategy the planner chose for each SELECT and search); requests in
// flight; rejections by reason; transactions committed and aborted over the wire. The engine's
// series — per-collection entities, bytes, HNSW tail length and build lag (labelled by tenant
// and collection), commits and conflicts, RocksDB's compaction backlog, write stalls and block
// cache — are collected at scrape time from Database::Stats (include/phenix/stats.h), which reads
// counters and estimates only and never blocks writers. docs/server.md lists every series.
//
// Thread-safe. prometheus-cpp types stay in metrics.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <phenix/db.h>

namespace phenix::server {

class Metrics {
  public:
    Metrics();
    ~Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    void RecordRequest(std::string_view method, std::string_view route, unsigned status,
                       double latency_seconds);
    void AddInFlight(double delta);
    /// `reason`: queue_full, rate_limited, body_too_large, headers_too_large, max_connections,
    /// malformed.
    void RecordRejected(std::string_view reason);
    /// A request or write refused by a tenant quota (server/quota.h); `kind`: entities, bytes,
    /// rate. phenix_quota_rejected_total{kind}.
    void RecordQuotaRejected(std::string_view kind);
    /// `outcome`: committed, aborted (a conflict), rolled_back, expired.
    void RecordTransaction(std::string_view outcome);
    /// One statement that ran to completion with the plan strategy QueryResult::plan_strategy
    /// names; statements without one (not a SELECT) are not recorded.
    void RecordStatement(std::string_view plan_strategy, double seconds);
    /// Tracing's counters (docs/observability.md), read at scrape time; set once before serving
    /// when tracing is on (otherwise the series are absent).
    struct TraceCounters {
        std::uint64_t spans_exported = 0;
        std::uint64_t spans_dropped = 0;
        std::uint64_t traces_kept = 0;
    };
    void SetTraceCounters(std::function<TraceCounters()> counters);
    /// The exposition text; `db` (may be null: no engine series) adds the engine's series.
    std::string Render(Database* db);
    /// The same with the engine's series from `stats` (null: none).
    std::string Render(const DatabaseStats* stats);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace phenix::server
