// SPDX-License-Identifier: Apache-2.0
//
// InfoLog — RocksDB's info log (DIR/db/LOG), written by Phenix instead of RocksDB's own logger.
//
// Why (docs/decisions/0007-full-disk-and-read-only-open.md):
//   * On a full disk, RocksDB 7.8's logger (EnvLogger over a WritableFileWriter) aborts the
//     process: once a write to the LOG has failed, its next line trips an assertion, and Debian
//     builds librocksdb with assertions on. A real ENOSPC during a COPY crashed the shell that way
//     (RocksDB's free-space poll logs every few seconds). This logger drops a line it cannot write
//     (and counts it) and never stops the process.
//   * RocksDB rotates the LOG (LOG -> LOG.old.<time>, a new LOG) at the start of every open,
//     before the open can fail, so every failed open on a full disk added a file. Lines logged
//     before Start() are held in memory; Start(), called once the open succeeded, rotates the LOG
//     if it grew past a size and then writes them. A failed open writes nothing (Discard()).
// RocksDB removes the oldest LOG.old.* files beyond DBOptions::keep_log_file_num itself.
//
// Thread-safe (RocksDB logs from its background threads).
#pragma once

#include <cstdarg>
#include <cstdint>
#include <mutex>
#include <string>

#include <rocksdb/env.h>

#include "common/mutex.h"

namespace phenix::storage {

class InfoLog final : public rocksdb::Logger {
  public:
    /// Lines held before Start() beyond this are dropped (and counted).
    static constexpr std::size_t kMaxHeldBytes = 1u << 20;

    /// `path` is the LOG file; nothing is opened or written until Start().
    explicit InfoLog(std::string path,
                     rocksdb::InfoLogLevel level = rocksdb::InfoLogLevel::INFO_LEVEL);
    ~InfoLog() override;

    /// Renames the LOG to LOG.old.<microseconds> first if it is `rotate_above_bytes` or larger,
    /// then opens it for appending and writes the lines held so far. Best effort: if the file
    /// cannot be opened, lines are dropped.
    void Start(std::uint64_t rotate_above_bytes);
    /// Forgets the held lines; later lines are dropped too (a failed open).
    void Discard();
    /// Lines that could not be written (full disk, I/O error) or held.
    [[nodiscard]] std::uint64_t dropped_lines() const;

    // ---- rocksdb::Logger ----
    using rocksdb::Logger::Logv;
    void Logv(const char* format, va_list ap) override;
    size_t GetLogFileSize() const override;

  protected:
    rocksdb::Status CloseImpl() override;

  private:
    // Writes one line.
    void WriteLocked(const std::string& line) REQUIRES(mu_);

    const std::string path_;
    mutable Mutex mu_;
    enum class State : std::uint8_t { kHolding, kWriting, kDiscarding };
    State state_ GUARDED_BY(mu_) = State::kHolding;
    int fd_ GUARDED_BY(mu_) = -1;
    std::string held_ GUARDED_BY(mu_);
    std::uint64_t size_ GUARDED_BY(mu_) = 0;  // bytes in the file
    std::uint64_t dropped_lines_ GUARDED_BY(mu_) = 0;
};

}  // namespace phenix::storage
