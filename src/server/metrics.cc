// SPDX-License-Identifier: Apache-2.0
#include "server/metrics.h"

#include <cstdint>
#include <utility>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace phenix::server {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Latency buckets (seconds) of the request and statement histograms.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
    static const prometheus::Histogram::BucketBoundaries kBuckets = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
        0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
    return kBuckets;
}

// A family of the engine's series, built at scrape time (prometheus-cpp serializes and escapes
// it like the registry's own).
class Family {
  public:
    Family(std::string name, std::string help, MetricType type) {
        family_.name = std::move(name);
        family_.help = std::move(help);
        family_.type = type;
    }
    Family& Add(double value, std::vector<ClientMetric::Label> labels = {}) {
        ClientMetric metric;
        metric.label = std::move(labels);
        if (family_.type == MetricType::Counter) {
            metric.counter.value = value;
        } else {
            metric.gauge.value = value;
        }
        family_.metric.push_back(std::move(metric));
        return *this;
    }
    MetricFamily Take() { return std::move(family_); }

  private:
    MetricFamily family_;
};

double AsDouble(std::uint64_t value) {
    return static_cast<double>(value);
}

void AppendEngineFamilies(const DatabaseStats& stats, std::vector<MetricFamily>& out) {
    Family entities("phenix_collection_entities", "live entities per collection",
                    MetricType::Gauge);
    Family bytes("phenix_collection_bytes",
                 "RocksDB's estimate of the bytes of a collection's entities, ids and edges (SST "
                 "files and memtables; old versions count until compaction)",
                 MetricType::Gauge);
    Family tail("phenix_vector_index_tail_length",
                "committed vector changes the HNSW graph has not absorbed yet (searched exactly)",
                MetricType::Gauge);
    Family lag("phenix_vector_index_build_lag_seconds",
               "how long the oldest change in the HNSW tail has waited (0: the graph is current)",
               MetricType::Gauge);
    Family nodes("phenix_vector_index_nodes", "HNSW graph nodes", MetricType::Gauge);
    for (const CollectionStats& collection : stats.collections) {
        std::vector<ClientMetric::Label> labels = {{"tenant", collection.ref.tenant},
                                                   {"collection", collection.ref.name}};
        entities.Add(AsDouble(collection.entities), labels);
        bytes.Add(AsDouble(collection.approximate_bytes), labels);
        if (collection.has_vector_index) {
            tail.Add(AsDouble(collection.vector_index_tail), labels);
            lag.Add(collection.vector_index_lag_seconds, labels);
            nodes.Add(AsDouble(collection.vector_index_nodes), labels);
        }
    }
    out.push_back(entities.Take());
    out.push_back(bytes.Take());
    out.push_back(tail.Take());
    out.push_back(lag.Take());
    out.push_back(nodes.Take());

    out.push_back(Family("phenix_commits_total",
                         "commits since the database opened (transactions and single writes)",
                         MetricType::Counter)
                      .Add(AsDouble(stats.commits))
                      .Take());
    out.push_back(Family("phenix_commit_conflicts_total",
                         "commits refused by a write-write conflict (Aborted, retryable)",
                         MetricType::Counter)
                      .Add(AsDouble(stats.commit_conflicts))
                      .Take());

    const StorageStats& storage = stats.storage;
    out.push_back(Family("phenix_rocksdb_pending_compaction_bytes",
                         "bytes RocksDB estimates compaction must rewrite (writes slow down, then "
                         "stop, as it grows)",
                         MetricType::Gauge)
                      .Add(AsDouble(storage.pending_compaction_bytes))
                      .Take());
    out.push_back(
        Family("phenix_rocksdb_running_compactions", "compactions running now", MetricType::Gauge)
            .Add(AsDouble(storage.running_compactions))
            .Take());
    out.push_back(Family("phenix_rocksdb_write_stalls_total",
                         "times a column family entered a slowed-down or stopped write state",
                         MetricType::Counter)
                      .Add(AsDouble(storage.write_stalls))
                      .Take());
    out.push_back(Family("phenix_rocksdb_write_stall_seconds_total",
                         "time writes waited in write stalls", MetricType::Counter)
                      .Add(AsDouble(storage.write_stall_micros) / 1e6)
                      .Take());
    out.push_back(Family("phenix_rocksdb_writes_stopped",
                         "1 while RocksDB stops writes until compaction or flushes catch up",
                         MetricType::Gauge)
                      .Add(storage.writes_stopped ? 1 : 0)
                      .Take());
    out.push_back(Family("phenix_rocksdb_block_cache_hits_total",
                         "block cache lookups that found their block", MetricType::Counter)
                      .Add(AsDouble(storage.block_cache_hits))
                      .Take());
    out.push_back(Family("phenix_rocksdb_block_cache_misses_total",
                         "block cache lookups that read their block from a file",
                         MetricType::Counter)
                      .Add(AsDouble(storage.block_cache_misses))
                      .Take());
    const std::uint64_t lookups = storage.block_cache_hits + storage.block_cache_misses;
    out.push_back(
        Family("phenix_rocksdb_block_cache_hit_ratio",
               "block cache hits / lookups since open (1 before any lookup); for a "
               "recent rate use rate() of the hits and misses counters",
               MetricType::Gauge)
            .Add(lookups == 0 ? 1.0 : AsDouble(storage.block_cache_hits) / AsDouble(lookups))
            .Take());
    out.push_back(Family("phenix_rocksdb_block_cache_usage_bytes", "bytes in the block cache",
                         MetricType::Gauge)
                      .Add(AsDouble(storage.block_cache_usage_bytes))
                      .Take());
    out.push_back(Family("phenix_rocksdb_block_cache_capacity_bytes", "the block cache's size",
                         MetricType::Gauge)
                      .Add(AsDouble(storage.block_cache_capacity_bytes))
                      .Take());
    out.push_back(Family("phenix_rocksdb_memtable_bytes", "bytes in memtables (not yet flushed)",
                         MetricType::Gauge)
                      .Add(AsDouble(storage.memtable_bytes))
                      .Take());
    out.push_back(Family("phenix_rocksdb_sst_bytes", "bytes in live SST files", MetricType::Gauge)
                      .Add(AsDouble(storage.sst_bytes))
                      .Take());
}

}  // namespace

struct Metrics::Impl {
    prometheus::Registry registry;
    prometheus::Family<prometheus::Counter>& requests =
        prometheus::BuildCounter()
            .Name("phenix_http_requests_total")
            .Help("HTTP requests answered, by route, method and status")
            .Register(registry);
    prometheus::Family<prometheus::Histogram>& latency =
        prometheus::BuildHistogram()
            .Name("phenix_http_request_duration_seconds")
            .Help("HTTP request latency from the request read to the response ready, by route")
            .Register(registry);
    prometheus::Gauge& in_flight = prometheus::BuildGauge()
                                       .Name("phenix_http_requests_in_flight")
                                       .Help("requests queued for or running on a worker")
                                       .Register(registry)
                                       .Add({});
    prometheus::Family<prometheus::Counter>& rejected =
        prometheus::BuildCounter()
            .Name("phenix_http_rejected_total")
            .Help("requests and connections refused by admission control, by reason")
            .Register(registry);
    prometheus::Family<prometheus::Counter>& quota_rejected =
        prometheus::BuildCounter()
            .Name("phenix_quota_rejected_total")
            .Help("requests and writes refused by a tenant quota, by kind (entities, bytes, rate)")
            .Register(registry);
    prometheus::Family<prometheus::Counter>& transactions =
        prometheus::BuildCounter()
            .Name("phenix_transactions_total")
            .Help("interactive transactions ended over the wire, by outcome")
            .Register(registry);
    prometheus::Family<prometheus::Histogram>& statements =
        prometheus::BuildHistogram()
            .Name("phenix_query_duration_seconds")
            .Help("SELECT statements and searches that ran, by the plan's access strategy")
            .Register(registry);
    prometheus::TextSerializer serializer;
    std::function<TraceCounters()> trace_counters;  // set once before serving
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::RecordRequest(std::string_view method, std::string_view route, unsigned status,
                            double latency_seconds) {
    impl_->requests
        .Add({{"route", std::string(route)},
              {"method", std::string(method)},
              {"status", std::to_string(status)}})
        .Increment();
    impl_->latency.Add({{"route", std::string(route)}}, LatencyBuckets()).Observe(latency_seconds);
}

void Metrics::AddInFlight(double delta) {
    impl_->in_flight.Increment(delta);
}

void Metrics::RecordRejected(std::string_view reason) {
    impl_->rejected.Add({{"reason", std::string(reason)}}).Increment();
}

void Metrics::RecordQuotaRejected(std::string_view kind) {
    impl_->quota_rejected.Add({{"kind", std::string(kind)}}).Increment();
}

void Metrics::RecordTransaction(std::string_view outcome) {
    impl_->transactions.Add({{"outcome", std::string(outcome)}}).Increment();
}

void Metrics::RecordStatement(std::string_view plan_strategy, double seconds) {
    if (plan_strategy.empty()) {
        return;
    }
    impl_->statements.Add({{"strategy", std::string(plan_strategy)}}, LatencyBuckets())
        .Observe(seconds);
}

void Metrics::SetTraceCounters(std::function<TraceCounters()> counters) {
    impl_->trace_counters = std::move(counters);
}

std::string Metrics::Render(Database* db) {
    if (db == nullptr) {
        return Render(static_cast<const DatabaseStats*>(nullptr));
    }
    // A closed or failing database still answers the server's own series.
    Result<DatabaseStats> stats = db->Stats();
    return Render(stats.ok() ? &*stats : nullptr);
}

std::string Metrics::Render(const DatabaseStats* stats) {
    std::vector<MetricFamily> families = impl_->registry.Collect();
    if (stats != nullptr) {
        AppendEngineFamilies(*stats, families);
    }
    if (impl_->trace_counters) {
        const TraceCounters counters = impl_->trace_counters();
        families.push_back(Family("phenix_trace_spans_exported_total",
                                  "spans delivered to the OTLP endpoint", MetricType::Counter)
                               .Add(AsDouble(counters.spans_exported))
                               .Take());
        families.push_back(Family("phenix_trace_spans_dropped_total",
                                  "spans of kept traces that were not delivered: the export "
                                  "queue was full, or the OTLP endpoint failed or timed out",
                                  MetricType::Counter)
                               .Add(AsDouble(counters.spans_dropped))
                               .Take());
        families.push_back(Family("phenix_trace_traces_kept_total",
                                  "traces kept for export (sampled, failed or slow)",
                                  MetricType::Counter)
                               .Add(AsDouble(counters.traces_kept))
                               .Take());
    }
    return impl_->serializer.Serialize(families);
}

}  // namespace phenix::server
