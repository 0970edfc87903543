// SPDX-License-Identifier: Apache-2.0
#include "storage/wal_timing_env.h"

#include <algorithm>
#include <string>
#include <utility>

#include <rocksdb/file_system.h>

namespace phenix::storage {

bool IsWalFileName(std::string_view file_name) {
    const std::size_t slash = file_name.find_last_of('/');
    if (slash != std::string_view::npos) {
        file_name.remove_prefix(slash + 1);
    }
    constexpr std::string_view kSuffix = ".log";
    if (file_name.size() <= kSuffix.size() || !file_name.ends_with(kSuffix)) {
        return false;
    }
    file_name.remove_suffix(kSuffix.size());
    return std::all_of(file_name.begin(), file_name.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
}

namespace {

// A WAL file: Append and Sync/Fsync timed (each forwards to the wrapped file exactly once).
class TimedWalFile final : public rocksdb::FSWritableFileOwnerWrapper {
  public:
    TimedWalFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::shared_ptr<WalLatency> latency)
        : FSWritableFileOwnerWrapper(std::move(file)), latency_(std::move(latency)) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
        ScopedLatency timed(&latency_->write, &CommitTiming::wal_write);
        return FSWritableFileOwnerWrapper::Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& verification_info,
                             rocksdb::IODebugContext* dbg) override {
        ScopedLatency timed(&latency_->write, &CommitTiming::wal_write);
        return FSWritableFileOwnerWrapper::Append(data, options, verification_info, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
        ScopedLatency timed(&latency_->sync, &CommitTiming::wal_sync);
        return FSWritableFileOwnerWrapper::Sync(options, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* dbg) override {
        ScopedLatency timed(&latency_->sync, &CommitTiming::wal_sync);
        return FSWritableFileOwnerWrapper::Fsync(options, dbg);
    }

  private:
    std::shared_ptr<WalLatency> latency_;
};

class WalTimingFileSystem final : public rocksdb::FileSystemWrapper {
  public:
    WalTimingFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base,
                        std::shared_ptr<WalLatency> latency)
        : FileSystemWrapper(base), latency_(std::move(latency)) {}

    const char* Name() const override { return "PhenixWalTimingFileSystem"; }

    rocksdb::IOStatus NewWritableFile(const std::string& fname,
                                      const rocksdb::FileOptions& file_opts,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
        return Wrap(fname, FileSystemWrapper::NewWritableFile(fname, file_opts, result, dbg),
                    result);
    }
    rocksdb::IOStatus ReopenWritableFile(const std::string& fname,
                                         const rocksdb::FileOptions& file_opts,
                                         std::unique_ptr<rocksdb::FSWritableFile>* result,
                                         rocksdb::IODebugContext* dbg) override {
        return Wrap(fname, FileSystemWrapper::ReopenWritableFile(fname, file_opts, result, dbg),
                    result);
    }
    rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                        const rocksdb::FileOptions& file_opts,
                                        std::unique_ptr<rocksdb::FSWritableFile>* result,
                                        rocksdb::IODebugContext* dbg) override {
        return Wrap(fname,
                    FileSystemWrapper::ReuseWritableFile(fname, old_fname, file_opts, result, dbg),
                    result);
    }

  private:
    rocksdb::IOStatus Wrap(const std::string& fname, rocksdb::IOStatus status,
                           std::unique_ptr<rocksdb::FSWritableFile>* result) const {
        if (status.ok() && *result && IsWalFileName(fname)) {
            *result = std::make_unique<TimedWalFile>(std::move(*result), latency_);
        }
        return status;
    }

    std::shared_ptr<WalLatency> latency_;
};

// The wrapped Env with the timing file system; clock and threads stay the base Env's.
// (Env's file_system_ and system_clock_ are what GetFileSystem()/GetSystemClock() return.)
class WalTimingEnv final : public rocksdb::EnvWrapper {
  public:
    WalTimingEnv(rocksdb::Env* base, std::shared_ptr<WalLatency> latency) : EnvWrapper(base) {
        file_system_ =
            std::make_shared<WalTimingFileSystem>(base->GetFileSystem(), std::move(latency));
        system_clock_ = base->GetSystemClock();
    }
    const char* Name() const override { return "PhenixWalTimingEnv"; }
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewWalTimingEnv(rocksdb::Env* base,
                                              std::shared_ptr<WalLatency> latency) {
    return std::make_unique<WalTimingEnv>(base, std::move(latency));
}

}  // namespace phenix::storage
