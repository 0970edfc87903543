// SPDX-License-Identifier: Apache-2.0
//
// Checkpoint files of derived state (e.g. a vector index's graph): written whole, checked by a
// trailing XXH3-64 of everything before it, and replaced atomically (temp file, sync, rename,
// directory sync). They go through RocksDB's FileSystem — the one the database's own files use —
// so the power-loss tests' fault-injecting file system sees them exactly like the WAL and SSTs:
// unsynced bytes and un-fsynced renames are lost in a simulated power cut, and a full disk fails
// a checkpoint the same way it fails a write (docs/formats/vector-index.md).
//
// Thread-compatible: one CheckpointWriter per file being written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>
#include <phenix/status.h>

namespace rocksdb {
class FileSystem;
class FSWritableFile;
}  // namespace rocksdb

namespace phenix::storage {

/// Writes `path` + ".tmp" and, on Commit, renames it to `path`. Destroying an uncommitted
/// writer removes the temp file. The trailing checksum is added by Commit.
class CheckpointWriter {
  public:
    /// `fs` (not owned; nullptr = the default file system) must outlive the writer. Creates the
    /// parent directory if needed. IOError / ResourceExhausted (disk full) on failure.
    static Result<std::unique_ptr<CheckpointWriter>> Create(rocksdb::FileSystem* fs,
                                                            std::string path);
    ~CheckpointWriter();
    CheckpointWriter(const CheckpointWriter&) = delete;
    CheckpointWriter& operator=(const CheckpointWriter&) = delete;

    /// Buffers and hashes `n` bytes. Errors are remembered and reported by Commit.
    void Write(const void* data, std::size_t n);
    /// Appends the checksum, syncs the file, renames it into place and syncs the directory.
    /// Nothing replaces `path` unless every step succeeded.
    Status Commit();

  private:
    CheckpointWriter(rocksdb::FileSystem* fs, std::string path,
                     std::unique_ptr<rocksdb::FSWritableFile> file);
    void Flush();

    rocksdb::FileSystem* fs_;
    std::string path_;
    std::string tmp_path_;
    std::unique_ptr<rocksdb::FSWritableFile> file_;
    void* hash_state_;  // XXH3_state_t
    std::vector<char> buffer_;
    Status error_;
    bool committed_ = false;
};

/// Reads a checkpoint written by CheckpointWriter and checks its checksum; returns the content
/// without the checksum. NotFound if there is no file; Corruption if it is truncated or its
/// checksum is wrong; IOError if it cannot be read.
Result<std::string> ReadCheckpointFile(rocksdb::FileSystem* fs, const std::string& path);

/// Removes `path` if it exists (OK if it does not).
Status RemoveCheckpointFile(rocksdb::FileSystem* fs, const std::string& path);

}  // namespace phenix::storage
