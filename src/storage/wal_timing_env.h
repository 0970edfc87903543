// SPDX-License-Identifier: Apache-2.0
//
// WalTimingEnv — the Env RocksDB writes through, with the write-ahead log's files timed: every
// Append to a WAL file (a write(2) of a commit group's records, when RocksDB flushes its
// buffer) and every Sync/Fsync of one (the fsync at a synced commit) is recorded in a latency
// histogram (Database::Stats: StorageStats::wal_write, wal_sync) and, when the calling thread is
// recording a commit (common/commit_timing.h: a traced request's), into that commit's wal_write
// or wal_sync phase, from the same clock reads. Other files pass through
// untouched. It wraps whatever Env the store would use (RocksDB's default, an encrypting one,
// or a test's fault-injecting one), keeping that Env's threads and clock.
//
// Cost: two steady_clock reads and three relaxed atomic increments per timed call, next to a
// system call (measured with phenix_ingest_bench; docs/decisions/0027-engine-health-stats.md).
//
// Thread-safe.
#pragma once

#include <memory>
#include <string_view>

#include <rocksdb/env.h>

#include "common/latency_histogram.h"

namespace phenix::storage {

/// The histograms a WalTimingEnv records into (owned by the Store, outliving the Env).
struct WalLatency {
    LatencyHistogram write;
    LatencyHistogram sync;
};

/// Whether `file_name` (a path or a bare name) is one of RocksDB's WAL files: digits + ".log".
bool IsWalFileName(std::string_view file_name);

/// `base` (not owned, must outlive the result) with its WAL files timed into `latency`.
std::unique_ptr<rocksdb::Env> NewWalTimingEnv(rocksdb::Env* base,
                                              std::shared_ptr<WalLatency> latency);

}  // namespace phenix::storage
