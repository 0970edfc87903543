// SPDX-License-Identifier: Apache-2.0
#include "audit/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include "audit/audit_files.h"
#include "audit/record.h"

namespace phenix::audit {
namespace {

Status ErrnoStatus(const std::string& what, int error) {
    return Status::IOError(what + ": " + std::strerror(error));
}

Status SyncDirectory(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return ErrnoStatus("cannot open the audit directory " + dir, errno);
    }
    const int rc = ::fsync(fd);
    const int error = errno;
    ::close(fd);
    return rc == 0 ? Status::Ok() : ErrnoStatus("cannot fsync the audit directory " + dir, error);
}

// The tail of one file: the last complete line (the text after the last-but-one '\n') and the
// number of bytes after the last '\n' (a torn write).
struct FileTail {
    std::uint64_t size = 0;
    std::string last_line;  // empty when the file holds no complete line
    std::uint64_t torn_bytes = 0;
};

Result<FileTail> ReadFileTail(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return ErrnoStatus("cannot open " + path, errno);
    }
    FileTail tail;
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        const int error = errno;
        ::close(fd);
        return ErrnoStatus("cannot stat " + path, error);
    }
    tail.size = static_cast<std::uint64_t>(info.st_size);
    // Read a window from the end, doubling it until it holds the last complete line whole.
    std::uint64_t window = std::min<std::uint64_t>(tail.size, 64 * 1024);
    std::string bytes;
    while (true) {
        bytes.assign(window, '\0');
        std::uint64_t done = 0;
        while (done < window) {
            const ssize_t got = ::pread(fd, bytes.data() + done, window - done,
                                        static_cast<off_t>(tail.size - window + done));
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got <= 0) {
                const int error = got < 0 ? errno : EIO;
                ::close(fd);
                return ErrnoStatus("cannot read " + path, error);
            }
            done += static_cast<std::uint64_t>(got);
        }
        const std::size_t last_newline = bytes.rfind('\n');
        if (last_newline == std::string::npos) {
            if (window == tail.size) {
                tail.torn_bytes = tail.size;  // no complete line at all
                break;
            }
        } else {
            const std::size_t start =
                last_newline == 0 ? std::string::npos : bytes.rfind('\n', last_newline - 1);
            if (start != std::string::npos || window == tail.size) {
                const std::size_t line_begin = start == std::string::npos ? 0 : start + 1;
                tail.last_line = bytes.substr(line_begin, last_newline - line_begin);
                tail.torn_bytes = bytes.size() - last_newline - 1;
                break;
            }
        }
        window = std::min<std::uint64_t>(tail.size, window * 2);
    }
    ::close(fd);
    return tail;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(AuditOptions options) {
    if (options.dir.empty()) {
        return Status::InvalidArgument("the audit directory must not be empty");
    }
    if (options.max_file_bytes == 0) {
        return Status::InvalidArgument("the audit log's max file size must be at least 1 byte");
    }
    options.max_queued = std::max<std::size_t>(options.max_queued, 1);
    std::unique_ptr<AuditLog> log(new AuditLog(std::move(options)));
    PHENIX_RETURN_IF_ERROR(log->Recover());
    log->writer_ = std::thread([raw = log.get()] { raw->WriterLoop(); });
    return log;
}

AuditLog::~AuditLog() {
    Status closed = Close();
    if (!closed.ok()) {
        std::fprintf(stderr, "phenix: audit log: %s\n", closed.ToString().c_str());
    }
}

Status AuditLog::Recover() {
    const std::string& dir = options_.dir;
    std::error_code ec;
    const bool created = std::filesystem::create_directories(dir, ec);
    if (ec) {
        return Status::IOError("cannot create the audit directory " + dir + ": " + ec.message());
    }
    if (created) {
        std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace, ec);
    }
    PHENIX_ASSIGN_OR_RETURN(lock_, FileLock::Acquire(dir + "/LOCK"));
    PHENIX_ASSIGN_OR_RETURN(std::vector<AuditFile> files, ListAuditFiles(dir));
    prev_hash_ = std::string(kGenesisHash);
    next_seq_ = 1;
    if (files.empty()) {
        return OpenFile(1);
    }
    // The chain continues from the last complete record of the newest file that has one; a
    // torn line at the end of the newest file is cut off first.
    std::uint64_t torn_bytes = 0;
    std::string torn_file;
    for (auto file = files.rbegin(); file != files.rend(); ++file) {
        PHENIX_ASSIGN_OR_RETURN(FileTail tail, ReadFileTail(file->path));
        if (tail.torn_bytes > 0) {
            if (file != files.rbegin()) {
                return Status::Corruption("audit file " + file->path +
                                          " ends in an incomplete line but is not the newest "
                                          "file: run `phenix audit verify " +
                                          dir + "`");
            }
            const std::uint64_t keep = tail.size - tail.torn_bytes;
            if (::truncate(file->path.c_str(), static_cast<off_t>(keep)) != 0) {
                return ErrnoStatus("cannot truncate the torn end of " + file->path, errno);
            }
            torn_bytes = tail.torn_bytes;
            torn_file = file->name;
        }
        if (tail.last_line.empty()) {
            continue;  // an empty file (rotation crashed before its first write): look earlier
        }
        const std::optional<ChainFields> fields = ReadChainFields(tail.last_line);
        if (!fields.has_value() || !fields->hash_matches) {
            return Status::Corruption(
                "the last record of audit file " + file->path +
                " is damaged (a complete line, not a torn write); refusing to fork the hash "
                "chain: run `phenix audit verify " +
                dir + "`");
        }
        next_seq_ = fields->seq + 1;
        prev_hash_ = fields->hash;
        break;
    }
    PHENIX_RETURN_IF_ERROR(OpenFile(files.back().number));
    MutexLock lock(mu_);
    published_seq_ = next_seq_ - 1;
    published_hash_ = prev_hash_;
    if (torn_bytes > 0) {
        queue_.push_back(security::AuditEvent{
            .time = std::chrono::system_clock::now(),
            .principal = "",
            .tenant = "",
            .action = "log.recovered",
            .target = torn_file,
            .outcome = "ok",
            .reason = "truncated " + std::to_string(torn_bytes) +
                      " bytes of an incomplete last record (a write cut off by a crash)",
            .request_id = "",
            .client = ""});
        ++queued_total_;
    }
    return Status::Ok();
}

Status AuditLog::OpenFile(std::uint64_t file_number) {
    if (fd_ >= 0) {
        if (options_.fsync && ::fdatasync(fd_) != 0) {
            return ErrnoStatus("cannot fsync audit file " + AuditFileName(file_number_), errno);
        }
        ::close(fd_);
        fd_ = -1;
    }
    const std::string path = options_.dir + "/" + AuditFileName(file_number);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        return ErrnoStatus("cannot open audit file " + path, errno);
    }
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        const int error = errno;
        ::close(fd);
        return ErrnoStatus("cannot stat audit file " + path, error);
    }
    fd_ = fd;
    file_number_ = file_number;
    file_bytes_ = static_cast<std::uint64_t>(info.st_size);
    if (options_.fsync) {
        return SyncDirectory(options_.dir);  // the new file's name must survive a crash too
    }
    return Status::Ok();
}

Status AuditLog::WriteGroup(std::deque<security::AuditEvent>& group) {
    while (!group.empty()) {
        // The records that fit the current file, formatted with the chain as it would be after
        // them; the chain state advances only once they are written (a failed write is retried
        // with the same seq and prev).
        std::string buffer;
        std::uint64_t seq = next_seq_;
        std::string prev = prev_hash_;
        std::size_t count = 0;
        bool rotate = false;
        for (const security::AuditEvent& event : group) {
            FormattedRecord record = FormatRecord(seq, event, prev);
            const std::uint64_t size = file_bytes_ + buffer.size();
            if (size > 0 && size + record.line.size() + 1 > options_.max_file_bytes) {
                rotate = true;
                break;
            }
            buffer += record.line;
            buffer += '\n';
            ++seq;
            prev = std::move(record.hash);
            ++count;
        }
        if (count > 0) {
            std::size_t done = 0;
            while (done < buffer.size()) {
                const ssize_t wrote = ::write(fd_, buffer.data() + done, buffer.size() - done);
                if (wrote < 0 && errno == EINTR) {
                    continue;
                }
                if (wrote <= 0) {
                    const int error = wrote < 0 ? errno : EIO;
                    // Cut off what part of the group reached the file, so the retry does not
                    // leave a torn line in the middle of the log.
                    (void)::ftruncate(fd_, static_cast<off_t>(file_bytes_));
                    return ErrnoStatus("cannot write audit file " + AuditFileName(file_number_),
                                       error);
                }
                done += static_cast<std::size_t>(wrote);
            }
            if (options_.fsync && ::fdatasync(fd_) != 0) {
                const int error = errno;
                (void)::ftruncate(fd_, static_cast<off_t>(file_bytes_));
                return ErrnoStatus("cannot fsync audit file " + AuditFileName(file_number_), error);
            }
            file_bytes_ += buffer.size();
            next_seq_ = seq;
            prev_hash_ = prev;
            group.erase(group.begin(), group.begin() + static_cast<std::ptrdiff_t>(count));
            MutexLock lock(mu_);
            written_total_ += count;
            published_seq_ = next_seq_ - 1;
            published_hash_ = prev_hash_;
            space_cv_.NotifyAll();
        }
        if (rotate) {
            PHENIX_RETURN_IF_ERROR(OpenFile(file_number_ + 1));
        }
    }
    return Status::Ok();
}

void AuditLog::WriterLoop() {
    std::deque<security::AuditEvent> group;
    bool reported = false;
    while (true) {
        {
            MutexLock lock(mu_);
            while (queue_.empty() && group.empty() && !closing_) {
                work_cv_.Wait(mu_);
            }
            if (queue_.empty() && group.empty()) {
                break;  // closing, and everything is written
            }
            if (!closing_ && options_.group_commit_interval.count() > 0 && group.empty()) {
                // Group commit: give concurrent requests a moment to join this fsync.
                const auto deadline =
                    std::chrono::steady_clock::now() + options_.group_commit_interval;
                while (!closing_ && flush_waiters_ == 0 &&
                       queue_.size() < (options_.max_queued + 1) / 2 &&
                       work_cv_.WaitUntil(mu_, deadline)) {
                }
            }
            while (!queue_.empty()) {
                group.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            space_cv_.NotifyAll();
        }
        Status written = WriteGroup(group);
        if (written.ok()) {
            continue;
        }
        // Nothing is dropped: the group is retried until it is written or the log closes.
        if (!reported) {
            std::fprintf(stderr, "phenix: audit log: %s (retrying)\n", written.ToString().c_str());
            reported = true;
        }
        MutexLock lock(mu_);
        if (error_.ok()) {
            error_ = written;
        }
        if (closing_) {
            failed_total_ += group.size();
            group.clear();
            space_cv_.NotifyAll();
            if (queue_.empty()) {
                break;
            }
            continue;
        }
        space_cv_.NotifyAll();  // Flush reports the error
        work_cv_.WaitFor(mu_, std::chrono::milliseconds(100));
    }
}

void AuditLog::Record(security::AuditEvent event) {
    if (event.time == std::chrono::system_clock::time_point{}) {
        event.time = std::chrono::system_clock::now();
    }
    {
        MutexLock lock(mu_);
        while (queue_.size() >= options_.max_queued && !closing_) {
            space_cv_.Wait(mu_);
        }
        if (!closing_) {
            queue_.push_back(std::move(event));
            ++queued_total_;
            if (queue_.size() == 1 || queue_.size() >= (options_.max_queued + 1) / 2) {
                work_cv_.NotifyOne();
            }
            return;
        }
    }
    std::string line = FormatRecord(0, event, kGenesisHash).line;
    std::fprintf(stderr, "phenix: audit log closed; event not written: %s\n", line.c_str());
}

Status AuditLog::Flush() {
    MutexLock lock(mu_);
    const std::uint64_t target = queued_total_;
    ++flush_waiters_;  // the writer skips its group-commit wait
    work_cv_.NotifyOne();
    while (written_total_ + failed_total_ < target) {
        if (!error_.ok()) {
            break;
        }
        space_cv_.Wait(mu_);
    }
    --flush_waiters_;
    if (written_total_ < target) {
        return error_;
    }
    return Status::Ok();
}

Status AuditLog::Close() {
    {
        MutexLock lock(mu_);
        if (!closing_) {
            closing_ = true;
            work_cv_.NotifyAll();
            space_cv_.NotifyAll();
        }
    }
    if (writer_.joinable()) {
        writer_.join();
    }
    Status synced;
    if (fd_ >= 0) {
        if (options_.fsync && ::fdatasync(fd_) != 0) {
            synced = ErrnoStatus("cannot fsync audit file " + AuditFileName(file_number_), errno);
        }
        ::close(fd_);
        fd_ = -1;
    }
    MutexLock lock(mu_);
    closed_ = true;
    if (failed_total_ > 0) {
        return Status::IOError(std::to_string(failed_total_) +
                               " audit records could not be written: " + error_.message());
    }
    return synced;
}

Status AuditLog::status() const {
    MutexLock lock(mu_);
    return error_;
}

std::uint64_t AuditLog::last_seq() const {
    MutexLock lock(mu_);
    return published_seq_;
}

std::string AuditLog::last_hash() const {
    MutexLock lock(mu_);
    return published_hash_;
}

}  // namespace phenix::audit
