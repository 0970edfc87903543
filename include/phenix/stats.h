// SPDX-License-Identifier: Apache-2.0
//
// Database::Stats — a cheap, read-only snapshot of the counters and estimates the engine keeps,
// for monitoring (phenixd's GET /metrics reads it on every scrape). Nothing here scans data: each
// value is a counter the engine maintains, a RocksDB property, or RocksDB's size estimate for a
// key range, so a call costs about one catalog read per collection. Values are approximate and
// not mutually consistent (each is read at a slightly different moment); counters only grow
// while the database stays open and start again at 0 when it is reopened.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <phenix/types.h>

namespace phenix {

/// One collection's size and the freshness of its vector index.
struct CollectionStats {
    CollectionRef ref;  ///< tenant and name
    /// Live entities (the count the engine keeps; what CollectionInfo::num_entities says).
    std::uint64_t entities = 0;
    /// RocksDB's estimate of the bytes the collection's entities, ids and edges take, on disk
    /// (compressed SST files) and in the memtables. Old MVCC versions count until compaction
    /// drops them; metadata index entries are not included.
    std::uint64_t approximate_bytes = 0;
    /// The collection has vectors (and so an HNSW index); the fields below are 0 otherwise.
    bool has_vector_index = false;
    /// Committed vector changes the HNSW graph has not absorbed yet (searches scan them
    /// exactly): VectorIndexInfo::unindexed_rows.
    std::uint64_t vector_index_tail = 0;
    /// How long the oldest of those changes has waited, in seconds (0 when the tail is empty).
    double vector_index_lag_seconds = 0;
    /// HNSW graph nodes (VectorIndexInfo::nodes).
    std::uint64_t vector_index_nodes = 0;
    /// Graph nodes whose entity was deleted or re-embedded and that still wait for repair
    /// (they are skipped by searches but cost memory and hops): nodes - live nodes. Repair
    /// unlinks a node only once no snapshot can see it (after history_retention_ms).
    std::uint64_t vector_index_dead_nodes = 0;
    /// Levels of the HNSW graph (the entry point's level + 1; 0 when empty).
    std::uint32_t vector_index_levels = 0;
    /// Memory the index holds, by part: vectors (full precision or quantized codes), the
    /// neighbour lists, and everything else (node lifetimes, row map, labels, and an estimate
    /// of the tail's entries).
    std::uint64_t vector_index_vector_bytes = 0;
    std::uint64_t vector_index_graph_bytes = 0;
    std::uint64_t vector_index_other_bytes = 0;
    /// How stale the index's checkpoint is: seconds since the oldest change the checkpoint
    /// does not hold yet was applied to the index (what a restart must replay from storage);
    /// 0 when it holds every change, however long ago it was written (checkpoints are written
    /// only when the index changed: an idle index is not stale), and always 0 on a read-only
    /// database (which writes none). -1: no vector index.
    double vector_index_checkpoint_age_seconds = -1;
    /// Changes applied to the vector index since its last checkpoint (0: it is current).
    std::uint64_t vector_index_checkpoint_pending_changes = 0;
    /// Metadata (secondary) indexes on the collection.
    std::uint64_t metadata_indexes = 0;
    /// Entries across those indexes as of their statistics (IndexStats::entries, refreshed after
    /// about 10% of the collection changed, after a build and by ANALYZE): approximate; an
    /// index still building counts 0.
    std::uint64_t metadata_index_entries = 0;
    /// Indexes still being built (CREATE INDEX runs the build in the caller, other statements
    /// go on meanwhile), and their progress: rows read / the collection's rows when the build
    /// started, summed over the builds (0..1, 1 when none).
    std::uint64_t metadata_indexes_building = 0;
    double metadata_index_build_progress = 1;
    /// Seconds since the oldest statistics of the collection's metadata indexes (what the
    /// planner estimates from) were computed (-1: no index has statistics).
    double statistics_age_seconds = -1;
};

/// Write-ahead log and commit latency (since open).
struct LatencySummary {
    std::uint64_t count = 0;
    double sum_seconds = 0;
    /// Cumulative counts per upper bound: buckets[i] = observations <= bounds[i] (Prometheus
    /// histogram semantics; the +Inf bucket is `count`). bounds and buckets have equal length.
    std::vector<double> bounds;
    std::vector<std::uint64_t> buckets;
};

/// The storage engine's (RocksDB's) health.
struct StorageStats {
    /// Bytes compaction must rewrite to bring every level within its target size (RocksDB's
    /// estimate, all column families). Writes are slowed, then stopped, as it grows.
    std::uint64_t pending_compaction_bytes = 0;
    std::uint64_t running_compactions = 0;
    /// Times a column family entered a slowed-down or stopped write state.
    std::uint64_t write_stalls = 0;
    /// Total time writes waited in such stalls, in microseconds.
    std::uint64_t write_stall_micros = 0;
    /// Writes are stopped right now (until compaction or flushes catch up).
    bool writes_stopped = false;
    /// Block cache lookups that found / did not find their block (data, index and filter).
    std::uint64_t block_cache_hits = 0;
    std::uint64_t block_cache_misses = 0;
    std::uint64_t block_cache_usage_bytes = 0;
    std::uint64_t block_cache_capacity_bytes = 0;
    /// Bytes in the memtables (not yet flushed to SST files), and in live SST files.
    std::uint64_t memtable_bytes = 0;
    std::uint64_t sst_bytes = 0;
    /// Live SST bytes per column family (name, bytes), in the store's column-family order.
    std::vector<std::pair<std::string, std::uint64_t>> sst_bytes_by_column_family;
    /// WAL appends (the write(2) of a commit group's records) and WAL syncs (fsync/fdatasync:
    /// one per synced commit group, more with several column families flushed) as latency
    /// histograms, measured around the file calls (storage/wal_timing_env.h). Empty with
    /// Options::wal_latency_metrics off, and in a read-only open.
    LatencySummary wal_write;
    LatencySummary wal_sync;
    /// Bytes in the data directory's file system that are free to an unprivileged user
    /// (statvfs f_bavail), and the sizes of all files under the directory (SST, WAL, MANIFEST,
    /// index checkpoints, logs; a listing, no data read); for disk-full alerts.
    std::uint64_t disk_free_bytes = 0;
    std::uint64_t disk_used_bytes = 0;
};

/// Transactions: MVCC state and outcomes since open.
struct TransactionStats {
    /// Transactions open now (explicit ones; autocommit statements are not counted).
    std::uint64_t active = 0;
    /// Age in seconds of the oldest snapshot still held by a reader or a transaction (0: none).
    double oldest_snapshot_age_seconds = 0;
    /// How far the history floor (the oldest timestamp versions are kept for) lags behind the
    /// newest visible commit, in seconds: what garbage collection cannot reclaim yet. At least
    /// about history_retention_ms once the floor moves; an old snapshot holds it back. 0 until
    /// the maintenance thread first sets the floor.
    double history_floor_lag_seconds = 0;
    /// Transactions that ended without committing, by reason: write-write conflict at commit
    /// (first committer wins), rolled back by the client (Rollback, or the Transaction
    /// destroyed while open), expired (idle timeout), and other errors at commit (e.g. disk
    /// full, a collection dropped meanwhile). Autocommit writes are never aborted by a conflict.
    std::uint64_t aborted_conflict = 0;
    std::uint64_t aborted_rollback = 0;
    std::uint64_t aborted_expired = 0;
    std::uint64_t aborted_error = 0;
    /// Latency of successful commits (transactions and autocommit writes), from the commit's
    /// metadata index maintenance through the conflict check, WAL write and sync (including
    /// the wait for a group-commit leader) and the index hooks, to publication. Waiting for
    /// the entities' key locks, before, is not included.
    LatencySummary commit;
};

/// The graph layer's adjacency cache, since open: lookups of a node's edge list that found it
/// cached or not, and the bytes it holds (lists, change markers and interned labels).
struct GraphCacheStats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t bytes = 0;
};

struct DatabaseStats {
    /// Every collection of every tenant, by tenant then name.
    std::vector<CollectionStats> collections;
    /// Commits since open (transactions and autocommit writes, each batch once), and commits
    /// refused with Aborted by a write-write conflict (first committer wins).
    std::uint64_t commits = 0;
    std::uint64_t commit_conflicts = 0;
    StorageStats storage;
    TransactionStats transactions;
    GraphCacheStats graph_cache;
};

}  // namespace phenix
