// SPDX-License-Identifier: Apache-2.0
//
// Oracle — the timestamp authority of one database: issues commit timestamps, tracks which
// commits are visible, which snapshots are being read, and detects write-write conflicts
// (first-committer-wins snapshot isolation). docs/decisions/0003-mvcc-timestamps.md.
//
// Commit protocol (engine/transaction_impl.cc, engine/batch_writer.cc):
//   1. the committer locks its entity keys (LockTable);
//   2. BeginCommit(start_ts, keys): under mu_, reject if a commit after start_ts wrote one of our
//      keys (Aborted), else issue commit_ts > every earlier one and record our keys;
//   3. write the versions at commit_ts (one RocksDB batch);
//   4. EndCommit(commit_ts): commit_ts leaves the in-flight set; the visible timestamp becomes
//      the largest ts below every in-flight commit; EndCommit returns once commit_ts is visible,
//      so a caller that saw Commit return always reads its own commit afterwards.
// Snapshots read at the visible timestamp: every commit at or below it has finished step 3, and
// commits above it are filtered out by timestamp, so a snapshot never changes.
//
// Conflict keys are 64-bit hashes of entity keys. Two kinds: a write (the entity's record, id or
// out-edges change) and a reference (an edge now points at the entity). write/write and
// write/reference pairs conflict; reference/reference pairs do not (adding edges to one hub from
// many transactions must not serialize them). A hash collision can only cause a spurious,
// retryable abort.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include <phenix/status.h>

namespace phenix::txn {

using Timestamp = std::uint64_t;

/// Microseconds since the Unix epoch (the wall clock the timestamps follow).
Timestamp WallClockMicros();

struct ConflictKeys {
    std::vector<std::uint64_t> writes;
    std::vector<std::uint64_t> refs;
    /// Checked against later commits but not recorded, so no later commit conflicts with this
    /// one: for rewrites that change no content (data-key re-encryption, engine/key_rotation.h).
    bool check_only = false;
};

class Oracle {
  public:
    /// `last_committed`: the newest commit timestamp found in storage at open. The clock starts
    /// at max(last_committed, wall clock).
    explicit Oracle(Timestamp last_committed);

    /// Registers a snapshot at the current visible timestamp and returns it.
    Timestamp AcquireSnapshot();
    /// Registers a snapshot at `ts` (AS OF). FailedPrecondition when ts is below the history
    /// floor (versions may be gone), InvalidArgument when it is in the future.
    Status AcquireSnapshotAt(Timestamp ts);
    void ReleaseSnapshot(Timestamp ts);

    /// Step 2 above. `start_ts` = nullopt: an autocommit write that read the latest state under
    /// its key locks; it is never rejected. On conflict returns Aborted and sets *conflict_index
    /// to the index of the offending key in keys.writes then keys.refs.
    Status BeginCommit(std::optional<Timestamp> start_ts, const ConflictKeys& keys,
                       Timestamp* commit_ts, std::size_t* conflict_index);
    /// Step 4 above; also for a commit whose write failed (nothing was written at commit_ts).
    void EndCommit(Timestamp commit_ts);

    [[nodiscard]] Timestamp visible() const;

    /// Moves the history floor to min(oldest open snapshot, visible, now - retention) and returns
    /// it (never lower than before). Versions hidden below the floor may be garbage-collected;
    /// snapshots below it can no longer be acquired.
    Timestamp AdvanceFloor(std::uint64_t retention_micros);
    /// The current history floor (no snapshot below it exists or can be acquired).
    [[nodiscard]] Timestamp floor() const;
    /// Sets the floor recovered from storage at open.
    void RestoreFloor(Timestamp floor);
    /// The oldest snapshot registered now (by a reader, a transaction or a build), or nullopt
    /// when none is (Database::Stats).
    [[nodiscard]] std::optional<Timestamp> OldestSnapshot() const;

    /// Commit outcomes since open (CommitBatch counts them; Database::Stats reports them).
    void CountCommit() { num_commits_.fetch_add(1, std::memory_order_relaxed); }
    void CountConflict() { num_conflicts_.fetch_add(1, std::memory_order_relaxed); }
    // Relaxed: monitoring counters, read on their own (no other data is published with them).
    [[nodiscard]] std::uint64_t num_commits() const {
        return num_commits_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t num_conflicts() const {
        return num_conflicts_.load(std::memory_order_relaxed);
    }

  private:
    Timestamp VisibleLocked() const;
    void PruneLocked();

    mutable std::mutex mu_;
    std::condition_variable visible_cv_;
    Timestamp last_issued_;
    Timestamp floor_ = 0;
    std::set<Timestamp> in_flight_;
    std::multiset<Timestamp> snapshots_;
    // Newest commit timestamp that wrote / referenced each conflict key, for commits newer than
    // the oldest snapshot that may still commit.
    std::unordered_map<std::uint64_t, Timestamp> last_write_;
    std::unordered_map<std::uint64_t, Timestamp> last_ref_;
    std::size_t prune_at_ = 4096;
    std::atomic<std::uint64_t> num_commits_{0};
    std::atomic<std::uint64_t> num_conflicts_{0};
};

}  // namespace phenix::txn
