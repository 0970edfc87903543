// SPDX-License-Identifier: Apache-2.0
//
// Options for opening a Phenix database. See docs/configuration.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace phenix {

/// When a write is acknowledged relative to the disk.
enum class Durability : std::uint8_t {
    /// Default. A write returns only after its write-ahead-log record has been fsynced:
    /// it survives a process crash and a power loss. Concurrent writers share one fsync
    /// (group commit).
    kSync,
    /// A write returns once its log record has reached the operating system. It survives a
    /// process crash (kill -9) but the most recent writes can be lost on power loss or an OS
    /// crash. Faster for bulk loads that can be repeated.
    kRelaxed,
};

/// Encryption at rest (docs/security.md, "Encryption at rest"): every file of the data directory
/// (write-ahead log, SST files, MANIFEST, vector index checkpoints) is encrypted with AES-256-CTR
/// under a random data key, which is stored only wrapped by a master key held by a KMS.
struct EncryptionOptions {
    /// The master key: "local:/path/to/keyfile" (32 random bytes, mode 0600) or
    /// "pkcs11:module=/path/lib.so;token=LABEL;key=LABEL". Empty: no encryption. A database is
    /// created encrypted or not, for good: opening it the other way fails with
    /// FailedPrecondition.
    std::string kms;
    /// PKCS#11: a file holding the user PIN (when empty, the environment variable
    /// PHENIX_PKCS11_PIN).
    std::string pin_file;
};

struct Options {
    /// Create the data directory (and the default tenant) if it does not exist.
    bool create_if_missing = true;
    /// Fail if the data directory already holds a database.
    bool error_if_exists = false;
    /// Open an existing database read-only, writing nothing to its directory: reads, searches,
    /// Find, traversals, read-only transactions, Verify and exports work; every write (entity
    /// writes, writing transactions, DDL, CreateIndex, Compact, RebuildVectorIndex) fails with
    /// FailedPrecondition. For a disk that is full (or a copy to inspect): vector indexes are
    /// caught up in memory and statistics recomputed in memory, nothing is checkpointed or
    /// purged. Any number of read-only opens may share a directory; none may run beside a
    /// read-write open (docs/configuration.md). create_if_missing does not apply.
    bool read_only = false;
    Durability durability = Durability::kSync;
    /// Encryption at rest (off by default).
    EncryptionOptions encryption;
    /// Size of the block cache shared by all column families.
    std::size_t block_cache_bytes = 64u * 1024u * 1024u;
    /// Threads RocksDB uses for flushes and compactions (0 = number of cores, at least 2).
    int background_threads = 0;
    /// Time every write-ahead-log append and sync for Database::Stats (StorageStats::wal_write
    /// and wal_sync; phenixd's WAL latency metrics): two clock reads per WAL system call.
    /// false leaves those histograms empty.
    bool wal_latency_metrics = true;

    // ---- transactions (docs/transactions.md) ----
    /// How far back `AS OF` reads may go. Older versions are garbage-collected by compaction
    /// once no open transaction reads them. 0 keeps only what open transactions need.
    std::uint64_t history_retention_ms = 60'000;
    /// A transaction with no call for this long is rolled back; its next call fails with
    /// FailedPrecondition. 0 disables the timeout.
    std::uint64_t transaction_idle_timeout_ms = 60'000;
    /// Open transactions beyond this make BeginTransaction fail with ResourceExhausted.
    std::size_t max_open_transactions = 1024;
    /// Upper bound on the bytes a transaction may buffer (its encoded writes). A write that would
    /// exceed it fails with ResourceExhausted and leaves the transaction as it was.
    std::size_t max_transaction_bytes = 64u * 1024u * 1024u;

    // ---- vector indexes (docs/vector-search.md) ----
    /// How often a changed vector index is checkpointed to DIR/index/ (also after 200,000
    /// changes and at Close). A restart loads the checkpoint and catches the index up from
    /// storage: it replays the versions committed after the checkpoint, or, for a checkpoint
    /// older than the history floor, compares the index with the state at the floor first.
    /// Garbage collection never waits for the index (docs/decisions/0004-vector-index.md), so a
    /// longer interval only means a longer catch-up after a crash. In relaxed durability each
    /// checkpoint also syncs the write-ahead log. 0: only at Close.
    std::uint64_t vector_checkpoint_interval_ms = 30'000;
    /// Backpressure: committed vectors a collection's index may hold that its graph has not
    /// absorbed yet (they are searched exactly, so a long backlog costs memory and slows every
    /// search). A write (or transaction commit) that finds a backlog this long waits until the
    /// background builder has brought it back under the limit. 0 disables the wait.
    std::uint64_t max_vector_backlog = 50'000;
    // ---- graph (docs/graph.md) ----
    /// Deepest traversal allowed (hops; 1..limits::kMaxTraversalDepth).
    std::uint32_t max_traversal_depth = 16;
    /// Entities one traversal may reach before it fails with ResourceExhausted.
    std::uint64_t max_traversal_nodes = 1'000'000;
    /// Edges one traversal may examine before it fails with ResourceExhausted.
    std::uint64_t max_traversal_edges = 20'000'000;
    /// Paths FindPaths returns at most (more set `truncated`).
    std::uint64_t max_traversal_paths = 10'000;
    /// Memory for the in-memory cache of hot adjacency lists. 0 disables the cache.
    std::size_t adjacency_cache_bytes = 256u * 1024u * 1024u;
};

}  // namespace phenix
