// SPDX-License-Identifier: Apache-2.0
//
// SHOW STATS [FOR coll] and SHOW DATABASE STATS: Database::Stats (include/phenix/stats.h) as
// rows (scope, metric, value, warning, note), for a person at a prompt (phenix stats formats
// them) and for scripts. Metric names follow the engine's fields (and phenixd's /metrics series
// without the phenix_ prefix); values are numbers in base units (bytes, seconds), NULL where the
// engine has none (e.g. a checkpoint never written). `warning` is true when a figure deserves a
// look, and `note` then says why, in words (docs/observability.md lists the thresholds); other
// notes add detail (a memory breakdown, a build's progress).
//
// Tenant isolation: SHOW STATS reports the session tenant's collections and their totals only;
// the engine-wide figures (storage, WAL, transactions, graph cache) sum every tenant's activity
// and so are in SHOW DATABASE STATS, which the server treats as cluster administration
// (StatementAccess::all_tenants).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <phenix/stats.h>

#include "query/exec.h"

namespace phenix::query {
namespace {

// Thresholds of the notes (docs/observability.md, "SHOW STATS").
constexpr double kDeadNodeRatioNote = 0.2;
constexpr double kIndexLagNoteSeconds = 60;
constexpr double kSnapshotAgeNoteSeconds = 300;
constexpr double kSlowSyncNoteSeconds = 0.1;
constexpr double kLowDiskNoteRatio = 0.1;

class Rows {
  public:
    Rows()
        : result_{.has_rows = true, .columns = {"scope", "metric", "value", "warning", "note"}} {}

    // `warning`: the note says why the figure deserves a look (else it only adds detail).
    void Add(const std::string& scope, std::string metric, QueryValue value, std::string note = {},
             bool warning = false) {
        result_.rows.push_back({QueryValue::String(scope), QueryValue::String(std::move(metric)),
                                std::move(value), QueryValue::Bool(warning),
                                QueryValue::String(std::move(note))});
    }
    void Count(const std::string& scope, std::string metric, std::uint64_t value,
               std::string note = {}, bool warning = false) {
        Add(scope, std::move(metric), QueryValue::Int(static_cast<std::int64_t>(value)),
            std::move(note), warning);
    }
    void Seconds(const std::string& scope, std::string metric, std::optional<double> value,
                 std::string note = {}, bool warning = false) {
        Add(scope, std::move(metric), value ? QueryValue::Float(*value) : QueryValue::Null(),
            std::move(note), warning);
    }
    // A figure with a warning when `warn`: `why` is the note then (and no note otherwise).
    void CountWarn(const std::string& scope, std::string metric, std::uint64_t value, bool warn,
                   const std::string& why) {
        Count(scope, std::move(metric), value, warn ? why : std::string(), warn);
    }
    void SecondsWarn(const std::string& scope, std::string metric, std::optional<double> value,
                     bool warn, const std::string& why) {
        Seconds(scope, std::move(metric), value, warn ? why : std::string(), warn);
    }

    QueryResult Take() { return std::move(result_); }

  private:
    QueryResult result_;
};

std::string Percent(double ratio) {
    return std::to_string(static_cast<int>(ratio * 100 + 0.5)) + "%";
}

// The upper bound of the bucket holding quantile `q` (nullopt: no observations, or beyond the
// last bound).
std::optional<double> Quantile(const LatencySummary& summary, double q) {
    if (summary.count == 0) {
        return std::nullopt;
    }
    const auto target = static_cast<std::uint64_t>(q * static_cast<double>(summary.count) + 0.999);
    for (std::size_t idx = 0; idx < summary.buckets.size(); ++idx) {
        if (summary.buckets[idx] >= std::max<std::uint64_t>(target, 1)) {
            return summary.bounds[idx];
        }
    }
    return std::nullopt;
}

void AddLatency(Rows& rows, const std::string& scope, const std::string& name,
                const LatencySummary& summary, double slow_note_seconds = 0) {
    rows.Count(scope, name + "_total", summary.count);
    rows.Seconds(scope, name + "_p50_seconds", Quantile(summary, 0.5));
    const std::optional<double> p99 = Quantile(summary, 0.99);
    if (summary.count > 0 && !p99) {
        rows.Seconds(scope, name + "_p99_seconds", p99, "beyond the histogram's last bucket (10 s)",
                     /*warning=*/true);
        return;
    }
    rows.SecondsWarn(scope, name + "_p99_seconds", p99,
                     slow_note_seconds > 0 && p99 && *p99 > slow_note_seconds,
                     "slow: the disk takes long to make writes durable");
}

void AddCollection(Rows& rows, const std::string& scope, const CollectionStats& c) {
    rows.Count(scope, "entities", c.entities);
    rows.Count(scope, "bytes", c.approximate_bytes);
    if (c.has_vector_index) {
        rows.Count(scope, "vector_index_nodes", c.vector_index_nodes);
        const double dead_ratio = c.vector_index_nodes == 0
                                      ? 0.0
                                      : static_cast<double>(c.vector_index_dead_nodes) /
                                            static_cast<double>(c.vector_index_nodes);
        rows.CountWarn(
            scope, "vector_index_dead_nodes", c.vector_index_dead_nodes,
            dead_ratio > kDeadNodeRatioNote,
            Percent(dead_ratio) + " of the graph waits for repair (after history_retention_ms)");
        rows.Count(scope, "vector_index_levels", c.vector_index_levels);
        rows.Count(scope, "vector_index_tail_length", c.vector_index_tail);
        rows.SecondsWarn(scope, "vector_index_build_lag_seconds", c.vector_index_lag_seconds,
                         c.vector_index_lag_seconds > kIndexLagNoteSeconds,
                         "the index builder is behind: searches scan the tail exactly");
        rows.Count(
            scope, "vector_index_memory_bytes",
            c.vector_index_vector_bytes + c.vector_index_graph_bytes + c.vector_index_other_bytes,
            "vectors " + std::to_string(c.vector_index_vector_bytes) + ", graph " +
                std::to_string(c.vector_index_graph_bytes) + ", other " +
                std::to_string(c.vector_index_other_bytes));
        // The age of the oldest change the checkpoint lacks (0: it holds every change).
        rows.Seconds(scope, "vector_index_checkpoint_age_seconds",
                     c.vector_index_checkpoint_age_seconds >= 0
                         ? std::optional<double>(c.vector_index_checkpoint_age_seconds)
                         : std::nullopt,
                     c.vector_index_checkpoint_pending_changes > 0
                         ? std::to_string(c.vector_index_checkpoint_pending_changes) +
                               " changes not in a checkpoint yet"
                         : "the checkpoint holds every change");
    }
    rows.Count(scope, "metadata_indexes", c.metadata_indexes);
    if (c.metadata_indexes > 0) {
        rows.Count(scope, "metadata_index_entries", c.metadata_index_entries);
        rows.Count(scope, "metadata_indexes_building", c.metadata_indexes_building,
                   c.metadata_indexes_building > 0
                       ? Percent(c.metadata_index_build_progress) + " built"
                       : "");
        const bool has_statistics = c.statistics_age_seconds >= 0;
        rows.Seconds(
            scope, "statistics_age_seconds",
            has_statistics ? std::optional<double>(c.statistics_age_seconds) : std::nullopt,
            has_statistics ? "" : "no statistics yet (ANALYZE computes them)");
    }
}

void AddEngine(Rows& rows, const DatabaseStats& stats) {
    const TransactionStats& txns = stats.transactions;
    const std::string txn_scope = "transactions";
    rows.Count(txn_scope, "commits_total", stats.commits);
    rows.Count(txn_scope, "commit_conflicts_total", stats.commit_conflicts);
    rows.Count(txn_scope, "active", txns.active);
    rows.SecondsWarn(txn_scope, "oldest_snapshot_age_seconds", txns.oldest_snapshot_age_seconds,
                     txns.oldest_snapshot_age_seconds > kSnapshotAgeNoteSeconds,
                     "a long-open reader or transaction holds back garbage collection");
    rows.Seconds(txn_scope, "history_floor_lag_seconds", txns.history_floor_lag_seconds);
    rows.Count(txn_scope, "aborts_conflict_total", txns.aborted_conflict);
    rows.Count(txn_scope, "aborts_rollback_total", txns.aborted_rollback);
    rows.Count(txn_scope, "aborts_expired_total", txns.aborted_expired);
    rows.Count(txn_scope, "aborts_error_total", txns.aborted_error);
    AddLatency(rows, txn_scope, "commit", txns.commit);

    const StorageStats& storage = stats.storage;
    AddLatency(rows, "wal", "write", storage.wal_write);
    AddLatency(rows, "wal", "sync", storage.wal_sync, kSlowSyncNoteSeconds);

    const std::string scope = "storage";
    const double disk_total =
        static_cast<double>(storage.disk_free_bytes) + static_cast<double>(storage.disk_used_bytes);
    rows.CountWarn(scope, "disk_free_bytes", storage.disk_free_bytes,
                   static_cast<double>(storage.disk_free_bytes) < disk_total * kLowDiskNoteRatio,
                   "little free space next to the data: writes fail when the disk is full");
    rows.Count(scope, "disk_used_bytes", storage.disk_used_bytes);
    rows.Count(scope, "sst_bytes", storage.sst_bytes);
    for (const auto& [family, bytes] : storage.sst_bytes_by_column_family) {
        rows.Count(scope, "sst_bytes." + family, bytes);
    }
    rows.Count(scope, "memtable_bytes", storage.memtable_bytes);
    rows.Count(scope, "pending_compaction_bytes", storage.pending_compaction_bytes);
    rows.Count(scope, "running_compactions", storage.running_compactions);
    rows.Count(scope, "write_stalls_total", storage.write_stalls);
    rows.Add(scope, "writes_stopped", QueryValue::Bool(storage.writes_stopped),
             storage.writes_stopped ? "writes wait for compaction or flushes to catch up" : "",
             storage.writes_stopped);
    const std::uint64_t lookups = storage.block_cache_hits + storage.block_cache_misses;
    rows.Seconds(scope, "block_cache_hit_ratio",
                 lookups == 0
                     ? std::nullopt
                     : std::optional<double>(static_cast<double>(storage.block_cache_hits) /
                                             static_cast<double>(lookups)));
    rows.Count(scope, "block_cache_usage_bytes", storage.block_cache_usage_bytes);

    const GraphCacheStats& graph = stats.graph_cache;
    const std::uint64_t graph_lookups = graph.hits + graph.misses;
    rows.Count("graph_cache", "hits_total", graph.hits);
    rows.Count("graph_cache", "misses_total", graph.misses);
    rows.Seconds("graph_cache", "hit_ratio",
                 graph_lookups == 0 ? std::nullopt
                                    : std::optional<double>(static_cast<double>(graph.hits) /
                                                            static_cast<double>(graph_lookups)));
    rows.Count("graph_cache", "bytes", graph.bytes);
}

}  // namespace

Result<QueryResult> ExecuteShowStats(ExecContext& ctx, const ShowStmt& stmt) {
    std::optional<CollectionRef> only;
    if (!stmt.collection.empty()) {
        PHENIX_ASSIGN_OR_RETURN(CollectionInfo info,
                                ResolveCollection(ctx, stmt.collection, stmt.name_pos));
        only = info.spec.ref;
    }
    Result<DatabaseStats> stats = ctx.db.Stats();
    if (!stats.ok()) {
        return AtPos(ctx.statement_pos, stats.status());
    }
    std::vector<const CollectionStats*> collections;
    for (const CollectionStats& collection : stats->collections) {
        const bool wanted = only ? collection.ref == *only
                                 : stmt.whole_database || collection.ref.tenant == ctx.tenant;
        if (wanted) {
            collections.push_back(&collection);
        }
    }
    std::sort(collections.begin(), collections.end(),
              [](const CollectionStats* a, const CollectionStats* b) {
                  return std::tie(a->ref.tenant, a->ref.name) <
                         std::tie(b->ref.tenant, b->ref.name);
              });
    Rows rows;
    if (!only) {
        // Totals per tenant: the session's tenant, or every tenant of the database.
        std::string tenant;
        std::uint64_t num_collections = 0;
        std::uint64_t entities = 0;
        std::uint64_t bytes = 0;
        const auto flush = [&] {
            const std::string scope = "tenant " + tenant;
            rows.Count(scope, "collections", num_collections);
            rows.Count(scope, "entities", entities);
            rows.Count(scope, "bytes", bytes);
        };
        if (collections.empty() && !stmt.whole_database) {
            tenant = ctx.tenant;
            flush();
        }
        for (std::size_t idx = 0; idx < collections.size(); ++idx) {
            const CollectionStats& c = *collections[idx];
            if (idx > 0 && c.ref.tenant != tenant) {
                flush();
                num_collections = entities = bytes = 0;
            }
            tenant = c.ref.tenant;
            ++num_collections;
            entities += c.entities;
            bytes += c.approximate_bytes;
        }
        if (!collections.empty()) {
            flush();
        }
    }
    for (const CollectionStats* collection : collections) {
        AddCollection(rows,
                      "collection " +
                          (stmt.whole_database ? collection->ref.ToString() : collection->ref.name),
                      *collection);
    }
    if (stmt.whole_database) {
        AddEngine(rows, *stats);
    }
    return rows.Take();
}

}  // namespace phenix::query
