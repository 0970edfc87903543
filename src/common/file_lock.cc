// SPDX-License-Identifier: Apache-2.0
#include "common/file_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <sys/file.h>

namespace phenix {

Result<std::unique_ptr<FileLock>> FileLock::Acquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return Status::IOError("cannot open lock file " + path + ": " + std::strerror(errno));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        std::string holder;
        char buf[32] = {};
        ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
        if (n > 0) {
            holder = std::string(buf, static_cast<std::size_t>(n));
            while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) {
                holder.pop_back();
            }
        }
        ::close(fd);
        if (err == EWOULDBLOCK) {
            return Status::Unavailable(
                "the data directory is in use by another process" +
                (holder.empty() ? std::string() : " (pid " + holder + ")") +
                " or another open Database in this process; close it first (lock file " + path +
                ")");
        }
        return Status::IOError("cannot lock " + path + ": " + std::strerror(err));
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) == 0) {
        // Best effort: the pid only improves the error message a second process sees.
        [[maybe_unused]] ssize_t written = ::pwrite(fd, pid.data(), pid.size(), 0);
    }
    return std::unique_ptr<FileLock>(new FileLock(fd));
}

FileLock::~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
}

}  // namespace phenix
