// SPDX-License-Identifier: Apache-2.0
//
// FileLock — an exclusive advisory lock (flock) on a file, held for the lifetime of the object.
// Used to make sure only one process (and one open Database) uses a data directory.
// flock locks belong to the open file description, so a second Open in the same process is
// refused too. The lock disappears when the process dies, so a crash never leaves a stale lock.
//
// Thread-compatible.
#pragma once

#include <memory>
#include <string>

#include <phenix/result.h>

namespace phenix {

class FileLock {
  public:
    /// Creates `path` if needed and locks it without waiting. Writes our pid into the file so the
    /// error seen by a second process can name the holder.
    /// Errors: Unavailable if another holder has the lock; IOError otherwise.
    static Result<std::unique_ptr<FileLock>> Acquire(const std::string& path);

    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

  private:
    explicit FileLock(int fd) : fd_(fd) {}
    int fd_;
};

}  // namespace phenix
