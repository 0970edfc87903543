// SPDX-License-Identifier: Apache-2.0
#include "common/file_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <sys/file.h>

namespace phenix {

namespace {

// The pid a writer recorded in the lock file ("" if none).
std::string ReadHolder(int fd) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0) {
        return {};
    }
    std::string holder(buf, static_cast<std::size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) {
        holder.pop_back();
    }
    return holder;
}

// Whether only shared holders have the file locked (a writer would refuse LOCK_SH too).
bool HeldOnlyShared(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    const bool shared = ::flock(fd, LOCK_SH | LOCK_NB) == 0;
    ::close(fd);  // releases the probe's lock
    return shared;
}

}  // namespace

Result<std::unique_ptr<FileLock>> FileLock::Acquire(const std::string& path, Mode mode) {
    // O_CREAT on an existing file writes nothing (and works on a read-only mount).
    const int flags = (mode == Mode::kExclusive ? O_RDWR : O_RDONLY) | O_CREAT | O_CLOEXEC;
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) {
        return Status::IOError("cannot open lock file " + path + ": " + std::strerror(errno));
    }
    if (::flock(fd, (mode == Mode::kExclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
        const int err = errno;
        const std::string holder = ReadHolder(fd);
        ::close(fd);
        if (err != EWOULDBLOCK) {
            return Status::IOError("cannot lock " + path + ": " + std::strerror(err));
        }
        if (mode == Mode::kExclusive && HeldOnlyShared(path)) {
            return Status::Unavailable(
                "the data directory is open read-only by another process or another open "
                "Database in this process; close it first (lock file " +
                path + ")");
        }
        return Status::Unavailable(
            "the data directory is in use by another process" +
            (holder.empty() ? std::string() : " (pid " + holder + ")") +
            " or another open Database in this process; close it first (lock file " + path + ")");
    }
    return std::unique_ptr<FileLock>(new FileLock(fd, mode));
}

void FileLock::RecordHolder() {
    if (mode_ != Mode::kExclusive) {
        return;
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    // Best effort: the pid only improves the error message a second process sees.
    if (::pwrite(fd_, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size())) {
        [[maybe_unused]] const int truncated = ::ftruncate(fd_, static_cast<off_t>(pid.size()));
    }
}

FileLock::~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
}

}  // namespace phenix
