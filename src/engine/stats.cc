// SPDX-License-Identifier: Apache-2.0
//
// Database::Stats (include/phenix/stats.h): counters the engine keeps and RocksDB's estimates,
// read under the catalog lock held shared (writers hold it shared too, so nothing waits). The
// few mutexes taken besides (the oracle's, the transaction registry's, a vector index's tail
// lock shared, an index's statistics mutex, the adjacency cache's shard locks shared) are held
// for a read of a counter or two each.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "engine/database_impl.h"
#include "engine/metadata_index.h"
#include "storage/keys.h"
#include "txn/oracle.h"

namespace phenix::engine {

namespace {

// Seconds from the timestamp (or wall-clock microseconds) `then` to `now`; 0 if `then` is later.
double SecondsBetween(std::uint64_t then, std::uint64_t now) {
    return now > then ? static_cast<double>(now - then) / 1e6 : 0.0;
}

// The collection's metadata indexes: count, entries (as of their statistics), the build's
// progress, and the age of the oldest statistics. REQUIRES the catalog lock (the list).
void FillMetadataIndexStats(const MetadataIndexList& indexes, txn::Timestamp now,
                            CollectionStats& collection) {
    collection.metadata_indexes = indexes.size();
    std::uint64_t build_done = 0;
    std::uint64_t build_total = 0;
    std::optional<std::uint64_t> oldest_stats_ts;
    for (const auto& index : indexes) {
        const MetadataIndex::InstalledStats installed = index->installed_stats();
        if (installed.stats) {
            collection.metadata_index_entries += installed.stats->entries;
            oldest_stats_ts = std::min(oldest_stats_ts.value_or(installed.ts), installed.ts);
        }
        if (!index->ready.load(std::memory_order_acquire)) {
            ++collection.metadata_indexes_building;
            const std::uint64_t done = index->build_rows_done.load(std::memory_order_relaxed);
            build_done += done;
            build_total += std::max(done, index->build_rows_total.load(std::memory_order_relaxed));
        }
    }
    if (collection.metadata_indexes_building > 0) {
        collection.metadata_index_build_progress =
            build_total == 0 ? 0.0
                             : static_cast<double>(build_done) / static_cast<double>(build_total);
    }
    if (oldest_stats_ts) {
        collection.statistics_age_seconds = SecondsBetween(*oldest_stats_ts, now);
    }
}

// `saves_checkpoints`: false for a read-only database, which never writes one (its index
// changes only by replaying storage at open, which a writable open would checkpoint).
void FillVectorIndexStats(const CollectionVectorIndex& index, txn::Timestamp now,
                          bool saves_checkpoints, CollectionStats& collection) {
    collection.has_vector_index = true;
    const CollectionVectorIndex::Health health = index.health();
    collection.vector_index_tail = health.tail.size;
    if (health.tail.size > 0) {
        collection.vector_index_lag_seconds = SecondsBetween(health.tail.oldest_ts, now);
    }
    collection.vector_index_nodes = health.nodes;
    collection.vector_index_dead_nodes = health.dead_nodes;
    collection.vector_index_levels = health.levels;
    collection.vector_index_vector_bytes = health.vector_bytes;
    collection.vector_index_graph_bytes = health.graph_bytes;
    collection.vector_index_other_bytes = health.other_bytes;
    // The checkpoint's age is that of the oldest change it lacks: 0 when it holds every change,
    // however long ago it was written (an idle index is not stale).
    collection.vector_index_checkpoint_pending_changes = health.changes_since_checkpoint;
    collection.vector_index_checkpoint_age_seconds = 0;
    const std::int64_t unsaved_since = health.unsaved_since_micros >= 0
                                           ? health.unsaved_since_micros
                                           : health.checkpoint_written_micros;
    if (saves_checkpoints && health.changes_since_checkpoint > 0 && unsaved_since >= 0) {
        collection.vector_index_checkpoint_age_seconds =
            SecondsBetween(static_cast<std::uint64_t>(unsaved_since), now);
    }
}

}  // namespace

Result<DatabaseStats> DatabaseImpl::Stats() {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    DatabaseStats stats;
    std::vector<std::string> prefixes;
    std::vector<std::shared_ptr<CollectionVectorIndex>> indexes;
    const txn::Timestamp now = txn::WallClockMicros();
    for (const std::string& tenant : catalog_->TenantNames()) {
        PHENIX_ASSIGN_OR_RETURN(auto handles, catalog_->Collections(tenant));
        for (const auto& handle : handles) {
            CollectionStats& collection = stats.collections.emplace_back();
            collection.ref = handle->ref();
            PHENIX_ASSIGN_OR_RETURN(collection.entities, CollectionRowCount(*handle));
            FillMetadataIndexStats(*handle->metadata_indexes, now, collection);
            prefixes.push_back(storage::CollectionPrefix(handle->tenant_id, handle->id()));
            indexes.push_back(handle->record.dimension
                                  ? vector_indexes_->FindVectorIndex(handle->id())
                                  : nullptr);
        }
    }
    const std::vector<std::uint64_t> bytes = store_->ApproximateBytes(prefixes);
    for (std::size_t idx = 0; idx < stats.collections.size(); ++idx) {
        CollectionStats& collection = stats.collections[idx];
        collection.approximate_bytes = bytes[idx];
        if (indexes[idx]) {
            FillVectorIndexStats(*indexes[idx], now, !store_->read_only(), collection);
        }
    }
    stats.commits = oracle_->num_commits();
    stats.commit_conflicts = oracle_->num_conflicts();
    stats.storage = store_->Stats();

    TransactionStats& txns = stats.transactions;
    txns.active = txns_.NumOpen();
    if (const std::optional<txn::Timestamp> oldest = oracle_->OldestSnapshot()) {
        txns.oldest_snapshot_age_seconds = SecondsBetween(*oldest, now);
    }
    if (const txn::Timestamp floor = oracle_->floor(); floor != 0) {
        txns.history_floor_lag_seconds = SecondsBetween(floor, oracle_->visible());
    }
    using Reason = TransactionRegistry::AbortReason;
    txns.aborted_conflict = txns_.aborts(Reason::kConflict);
    txns.aborted_rollback = txns_.aborts(Reason::kRollback);
    txns.aborted_expired = txns_.aborts(Reason::kExpired);
    txns.aborted_error = txns_.aborts(Reason::kError);
    txns.commit = commit_latency_.Summary();

    stats.graph_cache.hits = graph_cache_hits_before_;
    stats.graph_cache.misses = graph_cache_misses_before_;
    if (const graph::AdjacencyCache* cache = graph_caches_->adjacency()) {
        const graph::AdjacencyCache::Stats cached = cache->stats();
        stats.graph_cache.hits += cached.hits;
        stats.graph_cache.misses += cached.misses;
        stats.graph_cache.bytes = cached.bytes + cached.label_bytes;
    }
    return stats;
}

}  // namespace phenix::engine
