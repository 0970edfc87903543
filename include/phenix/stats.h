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
};

struct DatabaseStats {
    /// Every collection of every tenant, by tenant then name.
    std::vector<CollectionStats> collections;
    /// Commits since open (transactions and autocommit writes, each batch once), and commits
    /// refused with Aborted by a write-write conflict (first committer wins).
    std::uint64_t commits = 0;
    std::uint64_t commit_conflicts = 0;
    StorageStats storage;
};

}  // namespace phenix
