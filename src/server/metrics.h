// SPDX-License-Identifier: Apache-2.0
//
// Metrics: phenixd's Prometheus metrics (GET /metrics, text format 0.0.4), on prometheus-cpp's
// core registry: requests by route, method and status; latency histograms by route; requests in
// flight; rejections by reason; transactions committed and aborted. Per-collection gauges
// (entities, HNSW tail length) are read from the database at scrape time.
//
// Thread-safe. prometheus-cpp types stay in metrics.cc.
#pragma once

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
    /// `outcome`: committed, aborted (a conflict), rolled_back, expired.
    void RecordTransaction(std::string_view outcome);
    /// The exposition text; `db` (may be null) adds the per-collection gauges.
    std::string Render(Database* db);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace phenix::server
