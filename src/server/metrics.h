// SPDX-License-Identifier: Apache-2.0
//
// Metrics: phenixd's Prometheus metrics (GET /metrics, text format 0.0.4), on prometheus-cpp's
// core registry: requests by route, method and status; latency histograms by route and by plan
// strategy (the access strategy the planner chose for each SELECT and search); requests in
// flight; rejections by reason; transactions committed and aborted over the wire. The engine's
// series — per-collection entities, bytes, HNSW tail length and build lag (labelled by tenant
// and collection), commits and conflicts, RocksDB's compaction backlog, write stalls and block
// cache, WAL and commit latency, transactions, HNSW memory, metadata indexes, the graph cache — are
// collected at scrape time from Database::Stats (include/phenix/stats.h), which reads counters
// and estimates only and never blocks writers. Per-collection series are capped at
// max_collections collections: the smallest beyond it are summed into tenant="_other",
// collection="_other" (docs/decisions/0024-metrics-label-cap.md). Also gRPC calls by method and
// code, failed statements by code, the admission queue, phenix_build_info and the process's
// standard process_* series (from /proc/self). docs/observability.md#metrics lists every series.
//
// Two formats: Prometheus text 0.0.4 (the default, prometheus-cpp's serializer) and OpenMetrics
// 1.0 text (a client that accepts application/openmetrics-text, as Prometheus does), written
// here because prometheus-cpp 1.0 has no OpenMetrics: the same families, plus exemplars on the
// HTTP request histogram's buckets naming the trace id of the latest kept trace that fell in
// each bucket (docs/observability.md, "Exemplars").
//
// Thread-safe. prometheus-cpp types stay in metrics.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/db.h>
#include <phenix/stats.h>

namespace phenix::server {

/// The per-collection label cap: `collections` itself when it has at most `max_collections`;
/// otherwise the `max_collections` largest (by bytes, then entities) in their order, then one
/// CollectionStats with tenant and name "_other" summing the rest (ages and levels: the largest;
/// build progress: the least). `*folded`: how many were summed.
std::vector<CollectionStats> CapCollections(const std::vector<CollectionStats>& collections,
                                            std::size_t max_collections, std::size_t* folded);

enum class ExpositionFormat {
    kText,         ///< text/plain; version=0.0.4
    kOpenMetrics,  ///< application/openmetrics-text; version=1.0.0 (with exemplars)
};

/// OpenMetrics when `accept` (a request's Accept header) names application/openmetrics-text;
/// otherwise the 0.0.4 text format.
ExpositionFormat ExpositionFormatFor(std::string_view accept);
/// The Content-Type of a format.
std::string_view ContentTypeOf(ExpositionFormat format);

class Metrics {
  public:
    /// The default of the metrics_max_collections option.
    static constexpr std::uint32_t kDefaultMaxCollections = 200;
    explicit Metrics(std::uint32_t max_collections = kDefaultMaxCollections);
    ~Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    /// `trace_id` (hex; empty: none): the request's trace, when it was kept for export; it
    /// becomes the exemplar of the latency bucket the request fell in (OpenMetrics only).
    void RecordRequest(std::string_view method, std::string_view route, unsigned status,
                       double latency_seconds, std::string_view trace_id = {});
    void AddInFlight(double delta);
    /// A short request answered on its I/O thread (phenix_http_inline_requests_total).
    void RecordInlineRequest();
    /// `reason`: queue_full, rate_limited, body_too_large, headers_too_large, max_connections,
    /// malformed.
    void RecordRejected(std::string_view reason);
    /// One finished gRPC call: its full method name (/phenix.v1.Phenix/Query) and status code
    /// name (ok, invalid_argument, ...).
    void RecordGrpcCall(std::string_view method, std::string_view code, double latency_seconds);
    /// One statement that failed, by its Status code name (invalid_argument, ...).
    void RecordQueryError(std::string_view code);
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
    /// Requests waiting for a worker (phenix_admission_queued), read at scrape time; set once
    /// before serving (otherwise the series is absent).
    void SetQueueDepth(std::function<std::size_t()> depth);
    /// The exposition text; `db` (may be null: no engine series) adds the engine's series.
    std::string Render(Database* db, ExpositionFormat format = ExpositionFormat::kText);
    /// The same with the engine's series from `stats` (null: none).
    std::string Render(const DatabaseStats* stats,
                       ExpositionFormat format = ExpositionFormat::kText);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace phenix::server
