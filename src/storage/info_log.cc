// SPDX-License-Identifier: Apache-2.0
#include "storage/info_log.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>

#include <sys/stat.h>
#include <sys/time.h>

namespace phenix::storage {

namespace {

std::uint64_t NowMicros() {
    struct timeval now {};
    ::gettimeofday(&now, nullptr);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000u +
           static_cast<std::uint64_t>(now.tv_usec);
}

// "2024/05/01-12:34:56.123456 7f0a1b2c3d4e message\n", as RocksDB's own logger writes it.
std::string FormatLine(const char* format, va_list ap) {
    const std::uint64_t micros = NowMicros();
    const auto seconds = static_cast<std::time_t>(micros / 1'000'000u);
    struct tm t {};
    ::localtime_r(&seconds, &t);
    char prefix[64];
    const int prefix_len =
        std::snprintf(prefix, sizeof(prefix), "%04d/%02d/%02d-%02d:%02d:%02d.%06u %llx ",
                      t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                      static_cast<unsigned>(micros % 1'000'000u),
                      static_cast<unsigned long long>(::pthread_self()));
    std::string line(prefix, static_cast<std::size_t>(std::max(prefix_len, 0)));
    va_list copy;
    va_copy(copy, ap);
    char buf[512];
    const int len = std::vsnprintf(buf, sizeof(buf), format, copy);
    va_end(copy);
    if (len < 0) {
        return {};
    }
    if (static_cast<std::size_t>(len) < sizeof(buf)) {
        line.append(buf, static_cast<std::size_t>(len));
    } else {
        std::string big(static_cast<std::size_t>(len) + 1, '\0');
        va_copy(copy, ap);
        std::vsnprintf(big.data(), big.size(), format, copy);
        va_end(copy);
        big.pop_back();
        line += big;
    }
    if (line.empty() || line.back() != '\n') {
        line += '\n';
    }
    return line;
}

}  // namespace

InfoLog::InfoLog(std::string path, rocksdb::InfoLogLevel level)
    : rocksdb::Logger(level), path_(std::move(path)) {}

InfoLog::~InfoLog() {
    CloseImpl().PermitUncheckedError();
}

void InfoLog::Start(std::uint64_t rotate_above_bytes) {
    MutexLock lock(mu_);
    if (state_ != State::kHolding) {
        return;
    }
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0 &&
        static_cast<std::uint64_t>(st.st_size) >= rotate_above_bytes) {
        const std::string old = path_ + ".old." + std::to_string(NowMicros());
        ::rename(path_.c_str(), old.c_str());  // on failure: keep appending to the big one
    }
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    state_ = State::kWriting;
    if (fd_ >= 0 && ::fstat(fd_, &st) == 0) {
        size_ = static_cast<std::uint64_t>(st.st_size);
    }
    std::string held;
    held.swap(held_);
    WriteLocked(held);
}

void InfoLog::Discard() {
    MutexLock lock(mu_);
    if (state_ == State::kHolding) {
        held_.clear();
        held_.shrink_to_fit();
        state_ = State::kDiscarding;
    }
}

std::uint64_t InfoLog::dropped_lines() const {
    MutexLock lock(mu_);
    return dropped_lines_;
}

void InfoLog::Logv(const char* format, va_list ap) {
    const std::string line = FormatLine(format, ap);
    MutexLock lock(mu_);
    switch (state_) {
        case State::kHolding:
            if (held_.size() + line.size() <= kMaxHeldBytes) {
                held_ += line;
            } else {
                ++dropped_lines_;
            }
            break;
        case State::kWriting:
            WriteLocked(line);
            break;
        case State::kDiscarding:
            ++dropped_lines_;
            break;
    }
}

void InfoLog::WriteLocked(const std::string& text) {
    if (text.empty()) {
        return;
    }
    if (fd_ < 0) {
        ++dropped_lines_;
        return;
    }
    // One write per call: on a full disk it fails (or writes part of the text) and the rest is
    // dropped; nothing is retried and no error state is kept, so the next line simply tries again.
    const ssize_t written = ::write(fd_, text.data(), text.size());
    if (written > 0) {
        size_ += static_cast<std::uint64_t>(written);
    }
    if (written != static_cast<ssize_t>(text.size())) {
        ++dropped_lines_;
    }
}

size_t InfoLog::GetLogFileSize() const {
    MutexLock lock(mu_);
    return static_cast<size_t>(size_);
}

rocksdb::Status InfoLog::CloseImpl() {
    MutexLock lock(mu_);
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    state_ = State::kDiscarding;
    return rocksdb::Status::OK();
}

}  // namespace phenix::storage
