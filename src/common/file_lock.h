// SPDX-License-Identifier: Apache-2.0
//
// FileLock — an advisory lock (flock) on a file, held for the lifetime of the object. Used to
// make sure that a data directory is open read-write by one process (and one open Database) at a
// time, or read-only by any number of them, never both: writers take it exclusively, read-only
// opens shared. flock locks belong to the open file description, so a second Open in the same
// process is refused too. The lock disappears when the process dies, so a crash never leaves a
// stale lock.
//
// Thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <phenix/result.h>

namespace phenix {

class FileLock {
  public:
    enum class Mode : std::uint8_t {
        kExclusive,  ///< one holder; the file may be written (RecordHolder)
        kShared,     ///< any number of shared holders, no exclusive one; nothing is written
    };

    /// Locks `path` without waiting, creating it (empty) if it does not exist. A shared lock
    /// writes nothing else: creating the file is what keeps a writer out.
    /// Errors: Unavailable if the lock is held in a conflicting mode (the message names the
    /// writer's pid when a writer holds it, or says the directory is open read-only); IOError
    /// otherwise.
    static Result<std::unique_ptr<FileLock>> Acquire(const std::string& path,
                                                     Mode mode = Mode::kExclusive);

    /// Writes our pid into the file (exclusive lock only), so that the error a second process
    /// sees can name the holder. Best effort: called once the holder is sure it keeps the lock
    /// (a failed open writes nothing), overwriting in place and then shortening, which needs no
    /// new disk space.
    void RecordHolder();

    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

  private:
    FileLock(int fd, Mode mode) : fd_(fd), mode_(mode) {}
    int fd_;
    Mode mode_;
};

}  // namespace phenix
