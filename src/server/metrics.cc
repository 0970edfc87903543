// SPDX-License-Identifier: Apache-2.0
#include "server/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <sstream>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sys/resource.h>

#include "common/mutex.h"
#include "common/thread_annotations.h"

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
    /// A histogram series from the engine's cumulative buckets (stats.h LatencySummary); the
    /// serializer adds the +Inf bucket (the count).
    Family& AddHistogram(const LatencySummary& summary,
                         std::vector<ClientMetric::Label> labels = {}) {
        ClientMetric metric;
        metric.label = std::move(labels);
        metric.histogram.sample_count = summary.count;
        metric.histogram.sample_sum = summary.sum_seconds;
        const std::size_t buckets = std::min(summary.bounds.size(), summary.buckets.size());
        for (std::size_t idx = 0; idx < buckets; ++idx) {
            metric.histogram.bucket.push_back(
                {.cumulative_count = summary.buckets[idx], .upper_bound = summary.bounds[idx]});
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

// The label value the folded collections share (tenant and collection).
constexpr const char* kOther = "_other";

// Adds `from` into the folded series `into`: sizes and counts add up, ages and levels take the
// worst, build progress the least.
void FoldInto(CollectionStats& into, const CollectionStats& from) {
    into.entities += from.entities;
    into.approximate_bytes += from.approximate_bytes;
    into.has_vector_index = into.has_vector_index || from.has_vector_index;
    into.vector_index_tail += from.vector_index_tail;
    into.vector_index_lag_seconds =
        std::max(into.vector_index_lag_seconds, from.vector_index_lag_seconds);
    into.vector_index_nodes += from.vector_index_nodes;
    into.vector_index_dead_nodes += from.vector_index_dead_nodes;
    into.vector_index_levels = std::max(into.vector_index_levels, from.vector_index_levels);
    into.vector_index_vector_bytes += from.vector_index_vector_bytes;
    into.vector_index_graph_bytes += from.vector_index_graph_bytes;
    into.vector_index_other_bytes += from.vector_index_other_bytes;
    into.vector_index_checkpoint_age_seconds = std::max(into.vector_index_checkpoint_age_seconds,
                                                        from.vector_index_checkpoint_age_seconds);
    into.vector_index_checkpoint_pending_changes += from.vector_index_checkpoint_pending_changes;
    into.metadata_indexes += from.metadata_indexes;
    into.metadata_index_entries += from.metadata_index_entries;
    into.metadata_indexes_building += from.metadata_indexes_building;
    into.metadata_index_build_progress =
        std::min(into.metadata_index_build_progress, from.metadata_index_build_progress);
    into.statistics_age_seconds =
        std::max(into.statistics_age_seconds, from.statistics_age_seconds);
}

}  // namespace

std::vector<CollectionStats> CapCollections(const std::vector<CollectionStats>& collections,
                                            std::size_t max_collections, std::size_t* folded) {
    *folded = 0;
    if (collections.size() <= max_collections) {
        return collections;
    }
    // The largest `max_collections` keep their own series (by bytes, then entities, then name,
    // so that the choice is stable between scrapes); the rest are summed into one.
    std::vector<std::size_t> order(collections.size());
    for (std::size_t idx = 0; idx < order.size(); ++idx) {
        order[idx] = idx;
    }
    std::sort(order.begin(), order.end(), [&](std::size_t lhs, std::size_t rhs) {
        const CollectionStats& a = collections[lhs];
        const CollectionStats& b = collections[rhs];
        if (a.approximate_bytes != b.approximate_bytes) {
            return a.approximate_bytes > b.approximate_bytes;
        }
        if (a.entities != b.entities) {
            return a.entities > b.entities;
        }
        return std::tie(a.ref.tenant, a.ref.name) < std::tie(b.ref.tenant, b.ref.name);
    });
    std::vector<bool> kept(collections.size(), false);
    for (std::size_t rank = 0; rank < max_collections; ++rank) {
        kept[order[rank]] = true;
    }
    std::vector<CollectionStats> out;
    out.reserve(max_collections + 1);
    CollectionStats other;
    other.ref = {kOther, kOther};
    other.metadata_index_build_progress = 1;
    for (std::size_t idx = 0; idx < collections.size(); ++idx) {
        if (kept[idx]) {
            out.push_back(collections[idx]);
        } else {
            FoldInto(other, collections[idx]);
            ++*folded;
        }
    }
    out.push_back(std::move(other));
    return out;
}

namespace {

void AppendCollectionFamilies(const std::vector<CollectionStats>& collections,
                              std::vector<MetricFamily>& out) {
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
    Family dead("phenix_vector_index_dead_nodes",
                "HNSW nodes of deleted or re-embedded entities waiting for repair",
                MetricType::Gauge);
    Family levels("phenix_vector_index_levels", "levels of the HNSW graph", MetricType::Gauge);
    Family memory("phenix_vector_index_memory_bytes",
                  "memory the vector index holds, by part (vectors, graph, other)",
                  MetricType::Gauge);
    Family checkpoint("phenix_vector_index_checkpoint_age_seconds",
                      "seconds since the oldest vector index change not yet in a checkpoint was "
                      "applied (0: the checkpoint holds every change)",
                      MetricType::Gauge);
    Family pending("phenix_vector_index_checkpoint_pending_changes",
                   "vector index changes applied since its last checkpoint (what a restart "
                   "replays)",
                   MetricType::Gauge);
    Family indexes("phenix_metadata_indexes", "metadata (secondary) indexes on the collection",
                   MetricType::Gauge);
    Family entries("phenix_metadata_index_entries",
                   "entries across the collection's metadata "
                   "indexes",
                   MetricType::Gauge);
    Family building("phenix_metadata_indexes_building",
                    "metadata indexes still being built in the background", MetricType::Gauge);
    Family progress("phenix_metadata_index_build_progress",
                    "progress of the metadata index builds, 0 to 1 (1: none building)",
                    MetricType::Gauge);
    Family statistics("phenix_statistics_age_seconds",
                      "seconds since the planner's statistics were refreshed (absent: none)",
                      MetricType::Gauge);
    for (const CollectionStats& collection : collections) {
        std::vector<ClientMetric::Label> labels = {{"tenant", collection.ref.tenant},
                                                   {"collection", collection.ref.name}};
        entities.Add(AsDouble(collection.entities), labels);
        bytes.Add(AsDouble(collection.approximate_bytes), labels);
        if (collection.has_vector_index) {
            tail.Add(AsDouble(collection.vector_index_tail), labels);
            lag.Add(collection.vector_index_lag_seconds, labels);
            nodes.Add(AsDouble(collection.vector_index_nodes), labels);
            dead.Add(AsDouble(collection.vector_index_dead_nodes), labels);
            levels.Add(collection.vector_index_levels, labels);
            const std::array<std::pair<const char*, std::uint64_t>, 3> parts = {{
                {"vectors", collection.vector_index_vector_bytes},
                {"graph", collection.vector_index_graph_bytes},
                {"other", collection.vector_index_other_bytes},
            }};
            for (const auto& [part, part_bytes] : parts) {
                std::vector<ClientMetric::Label> part_labels = labels;
                part_labels.push_back({"part", part});
                memory.Add(AsDouble(part_bytes), std::move(part_labels));
            }
            if (collection.vector_index_checkpoint_age_seconds >= 0) {
                checkpoint.Add(collection.vector_index_checkpoint_age_seconds, labels);
            }
            pending.Add(AsDouble(collection.vector_index_checkpoint_pending_changes), labels);
        }
        indexes.Add(AsDouble(collection.metadata_indexes), labels);
        entries.Add(AsDouble(collection.metadata_index_entries), labels);
        building.Add(AsDouble(collection.metadata_indexes_building), labels);
        progress.Add(collection.metadata_index_build_progress, labels);
        if (collection.statistics_age_seconds >= 0) {
            statistics.Add(collection.statistics_age_seconds, labels);
        }
    }
    for (Family* family :
         {&entities, &bytes, &tail, &lag, &nodes, &dead, &levels, &memory, &checkpoint, &pending,
          &indexes, &entries, &building, &progress, &statistics}) {
        out.push_back(family->Take());
    }
}

void AppendEngineFamilies(const DatabaseStats& stats, std::size_t max_collections,
                          std::size_t* folded, std::vector<MetricFamily>& out) {
    AppendCollectionFamilies(CapCollections(stats.collections, max_collections, folded), out);

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
    Family by_column_family("phenix_rocksdb_column_family_sst_bytes",
                            "bytes in live SST files, by column family", MetricType::Gauge);
    for (const auto& [column_family, cf_bytes] : storage.sst_bytes_by_column_family) {
        by_column_family.Add(AsDouble(cf_bytes), {{"column_family", column_family}});
    }
    out.push_back(by_column_family.Take());
    out.push_back(Family("phenix_wal_write_duration_seconds", "write-ahead log appends",
                         MetricType::Histogram)
                      .AddHistogram(storage.wal_write)
                      .Take());
    out.push_back(Family("phenix_wal_sync_duration_seconds",
                         "write-ahead log syncs (fsync/fdatasync)", MetricType::Histogram)
                      .AddHistogram(storage.wal_sync)
                      .Take());
    out.push_back(Family("phenix_disk_free_bytes", "free bytes in the data directory's file system",
                         MetricType::Gauge)
                      .Add(AsDouble(storage.disk_free_bytes))
                      .Take());
    out.push_back(Family("phenix_disk_used_bytes",
                         "bytes the data directory takes on disk (SST, WAL, checkpoints)",
                         MetricType::Gauge)
                      .Add(AsDouble(storage.disk_used_bytes))
                      .Take());

    const TransactionStats& transactions = stats.transactions;
    out.push_back(
        Family("phenix_transactions_active", "explicit transactions open now", MetricType::Gauge)
            .Add(AsDouble(transactions.active))
            .Take());
    out.push_back(Family("phenix_transaction_oldest_snapshot_age_seconds",
                         "age of the oldest snapshot a reader or transaction holds (0: none)",
                         MetricType::Gauge)
                      .Add(transactions.oldest_snapshot_age_seconds)
                      .Take());
    out.push_back(Family("phenix_mvcc_history_floor_lag_seconds",
                         "how far the oldest kept MVCC version lags the newest commit",
                         MetricType::Gauge)
                      .Add(transactions.history_floor_lag_seconds)
                      .Take());
    out.push_back(Family("phenix_transaction_aborts_total", "transactions aborted, by reason",
                         MetricType::Counter)
                      .Add(AsDouble(transactions.aborted_conflict), {{"reason", "conflict"}})
                      .Add(AsDouble(transactions.aborted_rollback), {{"reason", "rollback"}})
                      .Add(AsDouble(transactions.aborted_expired), {{"reason", "expired"}})
                      .Add(AsDouble(transactions.aborted_error), {{"reason", "error"}})
                      .Take());
    out.push_back(Family("phenix_commit_duration_seconds",
                         "commit latency (lock wait, WAL write and sync, index hook)",
                         MetricType::Histogram)
                      .AddHistogram(transactions.commit)
                      .Take());

    const GraphCacheStats& graph = stats.graph_cache;
    out.push_back(Family("phenix_graph_cache_hits_total",
                         "graph adjacency cache lookups that found their snapshot",
                         MetricType::Counter)
                      .Add(AsDouble(graph.hits))
                      .Take());
    out.push_back(Family("phenix_graph_cache_misses_total",
                         "graph adjacency cache lookups that built their snapshot",
                         MetricType::Counter)
                      .Add(AsDouble(graph.misses))
                      .Take());
    out.push_back(
        Family("phenix_graph_cache_bytes", "bytes in the graph adjacency cache", MetricType::Gauge)
            .Add(AsDouble(graph.bytes))
            .Take());
}

// The process's standard series (the names every Prometheus client library uses), from
// /proc/self; a series whose file cannot be read is left out.
void AppendProcessFamilies(std::vector<MetricFamily>& out) {
    const long ticks_per_second = sysconf(_SC_CLK_TCK);
    const long page_bytes = sysconf(_SC_PAGESIZE);
    std::ifstream stat_file("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold spaces) in ")": field 3 is the first.
    const std::size_t close = stat.rfind(')');
    if (close != std::string::npos && ticks_per_second > 0) {
        std::istringstream fields(stat.substr(close + 1));
        std::vector<std::string> values{std::istream_iterator<std::string>(fields),
                                        std::istream_iterator<std::string>()};
        const auto field = [&](std::size_t number) {
            return number - 3 < values.size() ? std::strtod(values[number - 3].c_str(), nullptr)
                                              : 0.0;
        };
        if (values.size() >= 22) {
            const double ticks = static_cast<double>(ticks_per_second);
            out.push_back(Family("process_cpu_seconds_total",
                                 "user and system CPU time spent in seconds", MetricType::Counter)
                              .Add((field(14) + field(15)) / ticks)
                              .Take());
            out.push_back(Family("process_threads", "number of OS threads", MetricType::Gauge)
                              .Add(field(20))
                              .Take());
            out.push_back(Family("process_virtual_memory_bytes", "virtual memory size in bytes",
                                 MetricType::Gauge)
                              .Add(field(23))
                              .Take());
            out.push_back(Family("process_resident_memory_bytes", "resident memory size in bytes",
                                 MetricType::Gauge)
                              .Add(field(24) * static_cast<double>(page_bytes))
                              .Take());
            static const double boot_time = [] {
                std::ifstream proc_stat("/proc/stat");
                std::string key;
                double value = 0;
                while (proc_stat >> key) {
                    if (key == "btime" && (proc_stat >> value)) {
                        return value;
                    }
                }
                return 0.0;
            }();
            if (boot_time > 0) {
                out.push_back(Family("process_start_time_seconds",
                                     "start time of the process since the Unix epoch in seconds",
                                     MetricType::Gauge)
                                  .Add(boot_time + field(22) / ticks)
                                  .Take());
            }
        }
    }
    std::error_code error;
    std::size_t open_fds = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
         it.increment(error)) {
        ++open_fds;
    }
    if (!error) {
        out.push_back(
            Family("process_open_fds", "number of open file descriptors", MetricType::Gauge)
                .Add(AsDouble(open_fds))
                .Take());
    }
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        out.push_back(
            Family("process_max_fds", "maximum number of open file descriptors", MetricType::Gauge)
                .Add(limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                                     : static_cast<double>(limit.rlim_cur))
                .Take());
    }
}

// The method label: a request's method is the client's, so any other than the ones phenixd
// routes is "other" (a client must not be able to add series).
std::string MethodLabel(std::string_view method) {
    static constexpr std::array<std::string_view, 8> kKnown = {
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "GRPC"};
    return std::find(kKnown.begin(), kKnown.end(), method) != kKnown.end() ? std::string(method)
                                                                           : "other";
}

// A status code's name as a label value: ErrorCodeName's, lower-cased (invalid_argument).
std::string CodeLabel(std::string_view code) {
    std::string out(code);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

// ---- OpenMetrics 1.0 text (prometheus-cpp 1.0 writes only 0.0.4)

// The latest kept trace that fell in one latency bucket.
struct Exemplar {
    std::string trace_id;
    double value = 0;
    double unix_seconds = 0;
};
// Per label set (route), one slot per bucket (the boundaries, then +Inf).
using ExemplarSlots = std::vector<Exemplar>;

void AppendNumber(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
    } else if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
    } else if (value == std::trunc(value) && std::fabs(value) < 1e15) {
        char text[32];
        std::snprintf(text, sizeof(text), "%.0f", value);
        out += text;
    } else {
        // The fewest %g digits that read back exactly: 0.0001, 0.25 (as the 0.0.4 serializer
        // writes bucket bounds, so that le values are the same in both formats).
        char text[32];
        for (int digits = 1; digits <= 17; ++digits) {
            std::snprintf(text, sizeof(text), "%.*g", digits, value);
            if (std::strtod(text, nullptr) == value) {
                break;
            }
        }
        out += text;
    }
}

void AppendEscaped(std::string& out, std::string_view text) {
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
}

void AppendLabels(std::string& out, const std::vector<ClientMetric::Label>& labels,
                  const ClientMetric::Label* extra = nullptr) {
    if (labels.empty() && extra == nullptr) {
        return;
    }
    out += '{';
    bool first = true;
    const auto append = [&](const ClientMetric::Label& label) {
        out += first ? "" : ",";
        first = false;
        out += label.name;
        out += "=\"";
        AppendEscaped(out, label.value);
        out += '"';
    };
    for (const ClientMetric::Label& label : labels) {
        append(label);
    }
    if (extra != nullptr) {
        append(*extra);
    }
    out += '}';
}

void AppendSample(std::string& out, std::string_view name,
                  const std::vector<ClientMetric::Label>& labels, double value,
                  const ClientMetric::Label* extra = nullptr) {
    out += name;
    AppendLabels(out, labels, extra);
    out += ' ';
    AppendNumber(out, value);
}

// `exemplars` (may be null): the exemplar slots of a histogram family by its series' labels.
std::string SerializeOpenMetrics(
    const std::vector<MetricFamily>& families,
    const std::map<std::string, std::map<std::vector<ClientMetric::Label>, ExemplarSlots>>&
        exemplars) {
    std::string out;
    out.reserve(16384);
    for (const MetricFamily& family : families) {
        std::string_view name = family.name;
        const char* type = "unknown";
        switch (family.type) {
            case MetricType::Counter:
                // An OpenMetrics counter family is named without its samples' "_total".
                if (name.ends_with("_total")) {
                    name.remove_suffix(std::string_view("_total").size());
                    type = "counter";
                }
                break;
            case MetricType::Gauge:
                type = "gauge";
                break;
            case MetricType::Histogram:
                type = "histogram";
                break;
            case MetricType::Summary:
                type = "summary";
                break;
            default:
                break;
        }
        out += "# TYPE ";
        out += name;
        out += ' ';
        out += type;
        out += "\n# HELP ";
        out += name;
        out += ' ';
        AppendEscaped(out, family.help);
        out += '\n';
        const auto family_exemplars = exemplars.find(family.name);
        for (const ClientMetric& metric : family.metric) {
            switch (family.type) {
                case MetricType::Counter:
                    AppendSample(out, family.name, metric.label, metric.counter.value);
                    out += '\n';
                    break;
                case MetricType::Gauge:
                    AppendSample(out, family.name, metric.label, metric.gauge.value);
                    out += '\n';
                    break;
                case MetricType::Histogram: {
                    const ExemplarSlots* slots = nullptr;
                    if (family_exemplars != exemplars.end()) {
                        const auto found = family_exemplars->second.find(metric.label);
                        slots = found == family_exemplars->second.end() ? nullptr : &found->second;
                    }
                    const std::string bucket_name = family.name + "_bucket";
                    std::vector<ClientMetric::Bucket> buckets = metric.histogram.bucket;
                    if (buckets.empty() || !std::isinf(buckets.back().upper_bound)) {
                        buckets.push_back({.cumulative_count = metric.histogram.sample_count,
                                           .upper_bound = std::numeric_limits<double>::infinity()});
                    }
                    for (std::size_t idx = 0; idx < buckets.size(); ++idx) {
                        std::string le;
                        AppendNumber(le, buckets[idx].upper_bound);
                        const ClientMetric::Label le_label{"le", le};
                        AppendSample(out, bucket_name, metric.label,
                                     AsDouble(buckets[idx].cumulative_count), &le_label);
                        if (slots != nullptr && idx < slots->size() &&
                            !(*slots)[idx].trace_id.empty()) {
                            const Exemplar& exemplar = (*slots)[idx];
                            out += " # {trace_id=\"";
                            out += exemplar.trace_id;
                            out += "\"} ";
                            AppendNumber(out, exemplar.value);
                            out += ' ';
                            char stamp[32];
                            std::snprintf(stamp, sizeof(stamp), "%.3f", exemplar.unix_seconds);
                            out += stamp;
                        }
                        out += '\n';
                    }
                    AppendSample(out, family.name + "_count", metric.label,
                                 AsDouble(metric.histogram.sample_count));
                    out += '\n';
                    AppendSample(out, family.name + "_sum", metric.label,
                                 metric.histogram.sample_sum);
                    out += '\n';
                    break;
                }
                default:
                    AppendSample(out, family.name, metric.label, metric.untyped.value);
                    out += '\n';
                    break;
            }
        }
    }
    out += "# EOF\n";
    return out;
}

}  // namespace

ExpositionFormat ExpositionFormatFor(std::string_view accept) {
    return accept.find("application/openmetrics-text") != std::string_view::npos
               ? ExpositionFormat::kOpenMetrics
               : ExpositionFormat::kText;
}

std::string_view ContentTypeOf(ExpositionFormat format) {
    return format == ExpositionFormat::kOpenMetrics
               ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
               : "text/plain; version=0.0.4; charset=utf-8";
}

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
    prometheus::Gauge& in_flight =
        prometheus::BuildGauge()
            .Name("phenix_http_requests_in_flight")
            .Help("requests queued for or running on a worker or, short ones, an I/O thread")
            .Register(registry)
            .Add({});
    prometheus::Counter& inline_requests =
        prometheus::BuildCounter()
            .Name("phenix_http_inline_requests_total")
            .Help(
                "short requests (point reads, plain searches) answered on the I/O thread that "
                "read them instead of a worker (inline_short_requests)")
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
    prometheus::Family<prometheus::Counter>& grpc_requests =
        prometheus::BuildCounter()
            .Name("phenix_grpc_requests_total")
            .Help("gRPC calls finished, by full method name and status code")
            .Register(registry);
    prometheus::Family<prometheus::Histogram>& grpc_latency =
        prometheus::BuildHistogram()
            .Name("phenix_grpc_request_duration_seconds")
            .Help("gRPC call latency from the call's start to its status, by method")
            .Register(registry);
    prometheus::Family<prometheus::Counter>& query_errors =
        prometheus::BuildCounter()
            .Name("phenix_query_errors_total")
            .Help("statements that failed (REST and gRPC), by status code")
            .Register(registry);
    prometheus::Gauge& build_info = prometheus::BuildGauge()
                                        .Name("phenix_build_info")
                                        .Help("1, labelled with the phenixd version")
                                        .Register(registry)
                                        .Add({{"version", PHENIX_SERVER_VERSION}});
    prometheus::Counter& label_overflow =
        prometheus::BuildCounter()
            .Name("phenix_metrics_label_overflow_total")
            .Help(
                "per-collection series folded into tenant=\"_other\",collection=\"_other\" "
                "(metrics_max_collections), counted at every scrape")
            .Register(registry)
            .Add({{"label", "collection"}});
    prometheus::TextSerializer serializer;
    std::size_t max_collections = kDefaultMaxCollections;
    // Set once before serving.
    std::function<TraceCounters()> trace_counters;
    std::function<std::size_t()> queue_depth;
    // The request histogram's exemplars by route (kept traces only: a few per second at most).
    Mutex exemplar_mu;
    std::map<std::vector<ClientMetric::Label>, ExemplarSlots> exemplars GUARDED_BY(exemplar_mu);
};

Metrics::Metrics(std::uint32_t max_collections) : impl_(std::make_unique<Impl>()) {
    impl_->max_collections = max_collections;
    impl_->build_info.Set(1);
    // The quota kinds are known: their series exist at 0 from the start, so that rate() and
    // alerts see the first refusal (a series born at 1 has no increase to show).
    for (const char* kind : {"entities", "bytes", "rate"}) {
        impl_->quota_rejected.Add({{"kind", kind}});
    }
}
Metrics::~Metrics() = default;

void Metrics::RecordRequest(std::string_view method, std::string_view route, unsigned status,
                            double latency_seconds, std::string_view trace_id) {
    impl_->requests
        .Add({{"route", std::string(route)},
              {"method", MethodLabel(method)},
              {"status", std::to_string(status)}})
        .Increment();
    impl_->latency.Add({{"route", std::string(route)}}, LatencyBuckets()).Observe(latency_seconds);
    if (!trace_id.empty()) {
        const auto& bounds = LatencyBuckets();
        const std::size_t bucket = static_cast<std::size_t>(
            std::lower_bound(bounds.begin(), bounds.end(), latency_seconds) - bounds.begin());
        const double now =
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        MutexLock lock(impl_->exemplar_mu);
        ExemplarSlots& slots = impl_->exemplars[{{"route", std::string(route)}}];
        slots.resize(bounds.size() + 1);
        slots[bucket] = {std::string(trace_id), latency_seconds, now};
    }
}

void Metrics::RecordGrpcCall(std::string_view method, std::string_view code,
                             double latency_seconds) {
    impl_->grpc_requests.Add({{"method", std::string(method)}, {"code", CodeLabel(code)}})
        .Increment();
    impl_->grpc_latency.Add({{"method", std::string(method)}}, LatencyBuckets())
        .Observe(latency_seconds);
}

void Metrics::RecordQueryError(std::string_view code) {
    impl_->query_errors.Add({{"code", CodeLabel(code)}}).Increment();
}

void Metrics::AddInFlight(double delta) {
    impl_->in_flight.Increment(delta);
}

void Metrics::RecordInlineRequest() {
    impl_->inline_requests.Increment();
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

void Metrics::SetQueueDepth(std::function<std::size_t()> depth) {
    impl_->queue_depth = std::move(depth);
}

std::string Metrics::Render(Database* db, ExpositionFormat format) {
    if (db == nullptr) {
        return Render(static_cast<const DatabaseStats*>(nullptr), format);
    }
    // A closed or failing database still answers the server's own series.
    Result<DatabaseStats> stats = db->Stats();
    return Render(stats.ok() ? &*stats : nullptr, format);
}

std::string Metrics::Render(const DatabaseStats* stats, ExpositionFormat format) {
    std::vector<MetricFamily> engine;
    if (stats != nullptr) {
        std::size_t folded = 0;
        AppendEngineFamilies(*stats, impl_->max_collections, &folded, engine);
        impl_->label_overflow.Increment(AsDouble(folded));
    }
    std::vector<MetricFamily> families = impl_->registry.Collect();
    std::move(engine.begin(), engine.end(), std::back_inserter(families));
    if (impl_->queue_depth) {
        families.push_back(Family("phenix_admission_queued",
                                  "requests and calls waiting for a worker (queue_capacity)",
                                  MetricType::Gauge)
                               .Add(AsDouble(impl_->queue_depth()))
                               .Take());
    }
    AppendProcessFamilies(families);
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
    if (format == ExpositionFormat::kOpenMetrics) {
        std::map<std::string, std::map<std::vector<ClientMetric::Label>, ExemplarSlots>> exemplars;
        {
            MutexLock lock(impl_->exemplar_mu);
            exemplars["phenix_http_request_duration_seconds"] = impl_->exemplars;
        }
        return SerializeOpenMetrics(families, exemplars);
    }
    return impl_->serializer.Serialize(families);
}

}  // namespace phenix::server
