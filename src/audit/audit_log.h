// SPDX-License-Identifier: Apache-2.0
//
// AuditLog: the security::AuditSink that phenixd records into with --audit-dir — an append-only,
// hash-chained log of JSON lines (the format: audit/record.h; docs/security.md "Audit log";
// docs/decisions/0018-audit-log.md).
//
// Record() assigns nothing and writes nothing: it queues the event and returns. One writer
// thread takes whatever is queued, gives each event the next `seq` and chains it to the record
// before, appends the lines and fsyncs once per group (group commit). The queue is bounded; when
// it is full Record() waits for the writer rather than drop the event (an audit log must not lose
// records silently; a full queue means the disk is slower than the request rate, and waiting
// slows the requests down to it). Files rotate by size (audit-000001.jsonl, audit-000002.jsonl,
// ...): the first record of a new file chains from the last record of the previous one.
//
// Open continues the chain of an existing log from the last record of its newest file. A torn
// last line (a crash in the middle of a write) is truncated away, and the first record written
// after it is a "log.recovered" event that names the file and the bytes removed. A last line that
// is complete but not a valid record is not a torn write: Open refuses (Corruption) rather than
// fork the chain. Only one AuditLog may hold a directory (a lock file, `LOCK`).
//
// Thread safety: Record, Flush and status are thread-safe; Close is called once (the destructor
// calls it when it was not).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include <phenix/result.h>
#include <phenix/status.h>

#include "common/file_lock.h"
#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "security/audit_sink.h"

namespace phenix::audit {

struct AuditOptions {
    std::string dir;  ///< created (mode 0700) if missing
    /// A file that would grow past this many bytes is closed and the next one started (a file
    /// always takes at least one record).
    std::uint64_t max_file_bytes = std::uint64_t{64} << 20;
    /// After the first queued event, the writer waits this long for more before it writes and
    /// fsyncs them as one group; 0 writes at once (what the writer was busy with still groups).
    std::chrono::milliseconds group_commit_interval{10};
    /// fdatasync each group (and the directory when a file is created). Off only in tests.
    bool fsync = true;
    /// Events that may wait for the writer; beyond it Record blocks.
    std::size_t max_queued = 8192;
};

class AuditLog final : public security::AuditSink {
  public:
    /// Opens (or creates) the log in `options.dir` and starts the writer. Errors: InvalidArgument
    /// (an empty dir, max_file_bytes 0), Unavailable (another process holds the directory),
    /// Corruption (the newest file's last complete line is not a valid record), IOError.
    static Result<std::unique_ptr<AuditLog>> Open(AuditOptions options);

    ~AuditLog() override;
    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;

    /// Queues `event` (a default `time` is replaced by now). Waits while the queue is full. After
    /// Close the event cannot be written: it is reported on stderr, never dropped silently.
    void Record(security::AuditEvent event) override;

    /// Waits until every event queued before the call is written (and fsynced when enabled).
    /// The writer's error if it cannot write them.
    Status Flush();

    /// Writes everything queued, stops the writer and closes the file. The first write error,
    /// naming how many records could not be written. Idempotent.
    Status Close();

    /// The first write error so far (OK while every write succeeded).
    Status status() const;

    /// Records written so far, and the hash of the last one (kGenesisHash for an empty log).
    std::uint64_t last_seq() const;
    std::string last_hash() const;

  private:
    explicit AuditLog(AuditOptions options) : options_(std::move(options)) {}

    Status Recover();                            // Open: find the chain's tail, repair a torn line
    Status OpenFile(std::uint64_t file_number);  // the writer's current file
    Status WriteGroup(std::deque<security::AuditEvent>& group);
    void WriterLoop();

    // Immutable after Open.
    const AuditOptions options_;
    std::unique_ptr<FileLock> lock_;

    // Confined to the writer thread once it runs (Open sets them before starting it; Close
    // reads them after joining it).
    int fd_ = -1;
    std::uint64_t file_number_ = 0;
    std::uint64_t file_bytes_ = 0;
    std::uint64_t next_seq_ = 1;
    std::string prev_hash_;

    mutable Mutex mu_;
    CondVar work_cv_;   // the writer waits for events or Close
    CondVar space_cv_;  // Record waits for room; Flush waits for written_
    std::deque<security::AuditEvent> queue_ GUARDED_BY(mu_);
    std::uint64_t queued_total_ GUARDED_BY(mu_) = 0;   // events ever queued
    std::uint64_t written_total_ GUARDED_BY(mu_) = 0;  // of those, written (and synced)
    std::uint64_t failed_total_ GUARDED_BY(mu_) = 0;   // given up at Close
    std::size_t flush_waiters_ GUARDED_BY(mu_) = 0;    // Flush calls waiting
    bool closing_ GUARDED_BY(mu_) = false;
    bool closed_ GUARDED_BY(mu_) = false;
    Status error_ GUARDED_BY(mu_);
    std::uint64_t published_seq_ GUARDED_BY(mu_) = 0;
    std::string published_hash_ GUARDED_BY(mu_);
    std::thread writer_;
};

}  // namespace phenix::audit
