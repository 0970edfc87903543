// SPDX-License-Identifier: Apache-2.0
//
// CommitTiming — where one commit's time went: waiting for the entity locks, the metadata index
// maintenance, the storage write (and inside it the WAL write and the WAL sync), the index hook.
// The engine reports it to whoever asked on the committing thread; phenixd's request trace
// turns it into spans (server/tracing.h, docs/observability.md "Commit spans"). The engine
// knows nothing of tracing: a caller installs a CommitObserver for its thread
// (CommitObserverScope) around its Database calls, and every commit made on that thread then
// records its phases (CommitRecorder, in the engine) and calls OnCommit once it ended.
//
// The phases are timed by the clock reads the engine's latency histograms already make (the
// commit latency of Database::Stats, WalTimingEnv's WAL write and sync); a few more are taken
// only while a commit is being recorded. Cost with no observer installed: one thread-local
// pointer read per commit and per WAL call; nothing is allocated.
//
// What a phase means under RocksDB's group commit: the thread that leads a write group writes
// (and syncs) the WAL for the whole group; a follower's storage write then contains no WAL
// write of its own (it waited for the leader): `wal_write.count` is 0 for it.
//
// Thread safety: the observer and the recording are per thread; a CommitTiming is written by
// its committing thread only.
#pragma once

#include <chrono>
#include <cstdint>

namespace phenix {

struct CommitTiming {
    using Clock = std::chrono::steady_clock;

    /// One phase: when it (first) started and how long it took in all (a phase that runs
    /// several times, such as the WAL appends of one write or the lock waits of a retried
    /// write, adds up).
    struct Phase {
        Clock::time_point start{};
        std::chrono::nanoseconds duration{0};
        std::uint32_t count = 0;

        [[nodiscard]] bool ran() const { return count > 0; }
        void Add(Clock::time_point started, std::chrono::nanoseconds elapsed) {
            if (count++ == 0) {
                start = started;
            }
            duration += elapsed;
        }
    };

    /// The commit as a whole: from the first lock wait (or, with none, the start of the
    /// commit proper) until it ended.
    Clock::time_point start{};
    Clock::time_point end{};
    /// Waiting for the entity locks (an autocommit write takes them before it reads and
    /// validates what it changes; a transaction takes them at COMMIT).
    Phase lock_wait;
    /// Adding the metadata indexes' entries to the batch.
    Phase index_maintenance;
    /// The storage (RocksDB) write of the batch: WAL write, WAL sync, memtable insert, and the
    /// wait for a write group's leader.
    Phase storage_write;
    /// Appends to the WAL made by this thread during the storage write (inside it).
    Phase wal_write;
    /// WAL syncs (fsync/fdatasync) made by this thread during the storage write (inside it).
    Phase wal_sync;
    /// The index hook: applying the commit to the in-memory vector indexes, filter caches and
    /// graph caches before it becomes visible.
    Phase index_hook;
    /// Whether the commit proper was reached (CommitLocked), and whether it committed.
    bool reached = false;
    bool committed = false;
};

/// Told about each commit made on the thread it is installed on.
class CommitObserver {
  public:
    virtual ~CommitObserver() = default;
    /// A commit ended (committed or not); `timing` is valid during the call only.
    virtual void OnCommit(const CommitTiming& timing) = 0;
};

/// The calling thread's observer (null: none).
CommitObserver* CurrentCommitObserver();
/// The commit the calling thread is recording now (null: none): WalTimingEnv and CommitBatch
/// add their phases to it.
CommitTiming* CurrentCommitRecording();

/// Installs `observer` (may be null: none) for the calling thread while in scope.
class CommitObserverScope {
  public:
    explicit CommitObserverScope(CommitObserver* observer);
    ~CommitObserverScope();
    CommitObserverScope(const CommitObserverScope&) = delete;
    CommitObserverScope& operator=(const CommitObserverScope&) = delete;

  private:
    CommitObserver* previous_;
};

/// Records one commit when the thread has an observer: makes it the thread's recording while
/// in scope and, when destroyed after the commit proper was reached, stamps its end and calls
/// the observer. With no observer it does nothing (timing() is null).
class CommitRecorder {
  public:
    CommitRecorder();
    ~CommitRecorder();
    CommitRecorder(const CommitRecorder&) = delete;
    CommitRecorder& operator=(const CommitRecorder&) = delete;

    /// The commit being recorded, or null when nobody observes.
    [[nodiscard]] CommitTiming* timing() { return observer_ != nullptr ? &timing_ : nullptr; }

  private:
    CommitObserver* observer_;
    CommitTiming* previous_ = nullptr;
    CommitTiming timing_;
};

/// Adds the time from construction to destruction to the recording's `phase` when the thread
/// is recording a commit; else nothing (no clock read).
class ScopedCommitPhase {
  public:
    explicit ScopedCommitPhase(CommitTiming::Phase CommitTiming::*phase)
        : timing_(CurrentCommitRecording()), phase_(phase) {
        if (timing_ != nullptr) {
            start_ = CommitTiming::Clock::now();
        }
    }
    ~ScopedCommitPhase() {
        if (timing_ != nullptr) {
            (timing_->*phase_).Add(start_, CommitTiming::Clock::now() - start_);
        }
    }
    ScopedCommitPhase(const ScopedCommitPhase&) = delete;
    ScopedCommitPhase& operator=(const ScopedCommitPhase&) = delete;

  private:
    CommitTiming* timing_;
    CommitTiming::Phase CommitTiming::*phase_;
    CommitTiming::Clock::time_point start_{};
};

}  // namespace phenix
