// SPDX-License-Identifier: Apache-2.0
//
// OpenAttempt — keeps a read-write open of RocksDB on a full disk from changing the data
// directory (docs/decisions/0007-full-disk-and-read-only-open.md).
//
// Every read-write DB::Open writes: it replays the write-ahead log into new table files, writes
// a new MANIFEST and switches CURRENT to it, creates a new WAL and an OPTIONS file (and RocksDB's
// own info logger rotated the LOG; Phenix's, info_log.h, writes nothing before the open
// succeeded). On a full disk each of these can fail half way, and each failed attempt used to
// leave its files behind, eating the space that was left. So:
//   * Before the open, CheckFreeSpace refuses it (ResourceExhausted, nothing touched) when the
//     disk has less free space than the attempt needs: the size of the logs to replay plus the
//     current MANIFEST (an upper bound on the new one) plus kOpenHeadroomBytes.
//   * If the open still fails for lack of space (the disk filled meanwhile; the estimate was
//     short), Undo removes the files the attempt created — only while CURRENT still names the
//     manifest it named before, so no file CURRENT references is ever removed; once CURRENT
//     moved, the attempt changed the database's state and nothing is touched.
//
// All file access goes through the rocksdb::FileSystem the database uses (tests substitute a
// fault-injecting one). Thread-compatible; used by Store::Open under the directory lock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <rocksdb/file_system.h>

#include <phenix/status.h>

namespace phenix::storage {

/// Free space a read-write open wants beyond replaying the log and writing a new manifest: the
/// OPTIONS file, the info log, the first writes to the new log, and some room to work.
inline constexpr std::uint64_t kOpenHeadroomBytes = 8u << 20;

class OpenAttempt {
  public:
    /// Records what `db_dir` (RocksDB's directory, which may not exist yet) holds before the
    /// open. `fs` is not owned and must outlive this object.
    static OpenAttempt Before(rocksdb::FileSystem* fs, std::string db_dir);

    /// Bytes the open may write: logs to replay + current manifest + kOpenHeadroomBytes.
    [[nodiscard]] std::uint64_t needed_bytes() const;

    /// OK, or ResourceExhausted (naming `data_dir`, the free and the needed space, and what to
    /// do) if the disk holding `data_dir` has less free space than needed_bytes(). OK as well
    /// when the file system cannot say how much space is free.
    [[nodiscard]] Status CheckFreeSpace(const std::string& data_dir) const;

    /// "F free, about N needed (...). Free at least M on the disk holding DIR and retry, or open
    /// the database read-only (...)": the free space now (where known) against needed_bytes().
    [[nodiscard]] std::string SpaceAdvice(const std::string& data_dir) const;

    /// After a failed DB::Open: removes what it created (see the file comment). Returns a
    /// sentence for the error message saying what was done.
    std::string Undo() const;

  private:
    OpenAttempt(rocksdb::FileSystem* fs, std::string db_dir)
        : fs_(fs), db_dir_(std::move(db_dir)) {}
    [[nodiscard]] std::optional<std::string> ReadCurrent() const;
    // The free space on the disk holding `data_dir`; nullopt if the file system cannot say.
    [[nodiscard]] std::optional<std::uint64_t> FreeBytes(const std::string& data_dir) const;

    rocksdb::FileSystem* fs_;
    std::string db_dir_;
    bool db_dir_existed_ = false;
    std::map<std::string, std::uint64_t> files_;  // name -> size, before the open
    std::optional<std::string> current_;          // CURRENT's content before the open
    std::uint64_t wal_bytes_ = 0;
    std::uint64_t manifest_bytes_ = 0;
};

/// "1.3 KiB", "12.3 MiB", "2.0 GiB".
std::string FormatBytes(std::uint64_t bytes);

}  // namespace phenix::storage
