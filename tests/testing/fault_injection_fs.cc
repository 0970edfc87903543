// SPDX-License-Identifier: Apache-2.0
#include "testing/fault_injection_fs.h"

#include <algorithm>
#include <filesystem>
#include <random>
#include <utility>

#include <rocksdb/system_clock.h>

namespace phenix::testing {

using rocksdb::FileOptions;
using rocksdb::FSDirectory;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

namespace {

// One spelling per path, so that "dir//f" and "dir/f" (or "dir/" and "dir") are the same key.
std::string Normalize(const std::string& path) {
    std::string out = std::filesystem::path(path).lexically_normal().string();
    while (out.size() > 1 && out.back() == '/') {
        out.pop_back();
    }
    return out;
}

std::string DirOf(const std::string& normalized_path) {
    const std::size_t slash = normalized_path.rfind('/');
    if (slash == std::string::npos) {
        return ".";
    }
    if (slash == 0) {
        return "/";
    }
    return normalized_path.substr(0, slash);
}

// Cuts a file to `size` bytes. Through a writable handle, because the POSIX FileSystem does not
// implement FileSystem::Truncate.
IOStatus TruncateFile(rocksdb::FileSystem& fs, const std::string& path, std::uint64_t size) {
    std::unique_ptr<FSWritableFile> file;
    IOStatus s = fs.ReopenWritableFile(path, FileOptions(), &file, nullptr);
    if (!s.ok()) {
        return s;
    }
    s = file->Truncate(size, IOOptions(), nullptr);
    if (s.ok()) {
        s = file->Fsync(IOOptions(), nullptr);
    }
    IOStatus closed = file->Close(IOOptions(), nullptr);
    return s.ok() ? closed : s;
}

}  // namespace

// ---- TrackedFile: a writable file that reports appends and syncs to the FileSystem ----

class FaultInjectionFileSystem::TrackedFile final : public rocksdb::FSWritableFileOwnerWrapper {
  public:
    TrackedFile(std::unique_ptr<FSWritableFile> file, FaultInjectionFileSystem* fs,
                std::shared_ptr<FileState> state)
        : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), state_(std::move(state)) {}

    IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
        return Budgeted(data, std::nullopt, options, dbg,
                        [&]() { return FSWritableFileOwnerWrapper::Append(data, options, dbg); });
    }
    IOStatus Append(const Slice& data, const IOOptions& options,
                    const rocksdb::DataVerificationInfo& verification_info,
                    IODebugContext* dbg) override {
        return Budgeted(data, std::nullopt, options, dbg, [&]() {
            return FSWritableFileOwnerWrapper::Append(data, options, verification_info, dbg);
        });
    }
    IOStatus PositionedAppend(const Slice& data, std::uint64_t offset, const IOOptions& options,
                              IODebugContext* dbg) override {
        return Budgeted(data, offset, options, dbg, [&]() {
            return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, dbg);
        });
    }
    IOStatus PositionedAppend(const Slice& data, std::uint64_t offset, const IOOptions& options,
                              const rocksdb::DataVerificationInfo& verification_info,
                              IODebugContext* dbg) override {
        return Budgeted(data, offset, options, dbg, [&]() {
            return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options,
                                                                verification_info, dbg);
        });
    }

    IOStatus Truncate(std::uint64_t size, const IOOptions& options, IODebugContext* dbg) override {
        IOStatus s = fs_->CheckActive("truncate");
        if (!s.ok()) {
            return s;
        }
        s = FSWritableFileOwnerWrapper::Truncate(size, options, dbg);
        if (s.ok()) {
            std::uint64_t freed = 0;
            {
                std::lock_guard lock(fs_->mu_);
                freed = state_->size > size ? state_->size - size : 0;
                state_->size = size;
                state_->synced_size = std::min(state_->synced_size, size);
            }
            fs_->GiveSpace(freed);
        }
        return s;
    }

    IOStatus Flush(const IOOptions& options, IODebugContext* dbg) override {
        IOStatus s = fs_->CheckActive("flush");
        return s.ok() ? FSWritableFileOwnerWrapper::Flush(options, dbg) : s;
    }
    IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
        return SyncImpl(/*full=*/false, options, dbg);
    }
    IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
        return SyncImpl(/*full=*/true, options, dbg);
    }
    // sync_file_range(2) writes pages back but promises nothing after a crash: not durable.
    IOStatus RangeSync(std::uint64_t offset, std::uint64_t nbytes, const IOOptions& options,
                       IODebugContext* dbg) override {
        IOStatus s = fs_->CheckActive("range sync");
        return s.ok() ? FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, options, dbg) : s;
    }

    // The descriptor is released even while inactive (a dead machine leaks nothing into the next
    // test); closing writes no data in the base FileSystem, so nothing changes on disk.
    IOStatus Close(const IOOptions& options, IODebugContext* dbg) override {
        IOStatus s = FSWritableFileOwnerWrapper::Close(options, dbg);
        IOStatus active = fs_->CheckActive("close");
        return active.ok() ? s : active;
    }

  private:
    // An append under the space budget (fault checks first): `full` writes all of `data`; when
    // only part of it fits, that part is written with a plain append and NoSpace returned.
    template <typename Full>
    IOStatus Budgeted(const Slice& data, std::optional<std::uint64_t> offset,
                      const IOOptions& options, IODebugContext* dbg, Full full) {
        IOStatus s = fs_->CheckAppend();
        if (!s.ok()) {
            return s;
        }
        const std::uint64_t granted = fs_->TakeSpace(data.size());
        if (granted == data.size()) {
            s = full();
        } else if (granted > 0) {
            const Slice part(data.data(), granted);
            s = offset ? FSWritableFileOwnerWrapper::PositionedAppend(part, *offset, options, dbg)
                       : FSWritableFileOwnerWrapper::Append(part, options, dbg);
        }
        if (!s.ok()) {
            fs_->GiveSpace(granted);
            return s;
        }
        if (granted > 0) {
            Appended(offset, granted);
        }
        if (granted < data.size()) {
            return IOStatus::NoSpace("fault injection: the simulated disk is full");
        }
        return s;
    }

    // `offset` is nullopt for a plain append at the end.
    void Appended(std::optional<std::uint64_t> offset, std::size_t num_bytes) {
        std::lock_guard lock(fs_->mu_);
        const std::uint64_t start = offset.value_or(state_->size);
        state_->size = std::max(state_->size, start + num_bytes);
    }

    IOStatus SyncImpl(bool full, const IOOptions& options, IODebugContext* dbg) {
        IOStatus s = fs_->CheckActive("sync");
        if (!s.ok()) {
            return s;
        }
        if (fs_->sync_error_) {
            return IOStatus::IOError("fault injection: simulated sync error");
        }
        // Only what was appended before the sync started is known to be covered by it.
        std::uint64_t size_at_start = 0;
        {
            std::lock_guard lock(fs_->mu_);
            size_at_start = state_->size;
        }
        s = full ? FSWritableFileOwnerWrapper::Fsync(options, dbg)
                 : FSWritableFileOwnerWrapper::Sync(options, dbg);
        if (s.ok()) {
            std::lock_guard lock(fs_->mu_);
            state_->synced_size =
                std::max(state_->synced_size, std::min(size_at_start, state_->size));
        }
        return s;
    }

    FaultInjectionFileSystem* fs_;  // not owned; outlives its files
    std::shared_ptr<FileState> state_;
};

// ---- TrackedDirectory: a directory handle whose fsync makes the journal entries durable ----

class FaultInjectionFileSystem::TrackedDirectory final : public rocksdb::FSDirectoryWrapper {
  public:
    TrackedDirectory(std::unique_ptr<FSDirectory> dir, FaultInjectionFileSystem* fs,
                     std::string path)
        : FSDirectoryWrapper(std::move(dir)), fs_(fs), path_(std::move(path)) {}

    IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
        IOStatus s = fs_->CheckActive("directory fsync");
        if (!s.ok()) {
            return s;
        }
        const std::uint64_t seq = fs_->CurrentSeq();
        s = FSDirectoryWrapper::Fsync(options, dbg);
        if (s.ok()) {
            fs_->OnDirectorySynced(path_, seq);
        }
        return s;
    }
    IOStatus FsyncWithDirOptions(const IOOptions& options, IODebugContext* dbg,
                                 const rocksdb::DirFsyncOptions& dir_fsync_options) override {
        IOStatus s = fs_->CheckActive("directory fsync");
        if (!s.ok()) {
            return s;
        }
        const std::uint64_t seq = fs_->CurrentSeq();
        s = FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_fsync_options);
        if (s.ok()) {
            fs_->OnDirectorySynced(path_, seq);
        }
        return s;
    }

  private:
    FaultInjectionFileSystem* fs_;  // not owned; outlives its directories
    std::string path_;              // normalized
};

// ---- FaultInjectionFileSystem ----

FaultInjectionFileSystem::FaultInjectionFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
    : rocksdb::FileSystemWrapper(base) {}

FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

IOStatus FaultInjectionFileSystem::CheckActive(const char* operation) const {
    if (!active_) {
        return IOStatus::IOError("fault injection: filesystem inactive (power loss); refused",
                                 operation);
    }
    return IOStatus::OK();
}

IOStatus FaultInjectionFileSystem::CheckAppend() const {
    IOStatus s = CheckActive("append");
    if (!s.ok()) {
        return s;
    }
    if (no_space_) {
        return IOStatus::NoSpace("fault injection: simulated full disk");
    }
    if (write_error_) {
        return IOStatus::IOError("fault injection: simulated write error");
    }
    return IOStatus::OK();
}

void FaultInjectionFileSystem::SetSpaceBudget(std::optional<std::uint64_t> free_bytes) {
    space_left_ = free_bytes.value_or(0);
    has_budget_ = free_bytes.has_value();
}

std::optional<std::uint64_t> FaultInjectionFileSystem::SpaceLeft() const {
    if (!has_budget_) {
        return std::nullopt;
    }
    return space_left_.load();
}

void FaultInjectionFileSystem::SetReportedFreeSpace(std::optional<std::uint64_t> free_bytes) {
    reported_free_ = free_bytes.value_or(0);
    has_reported_free_ = free_bytes.has_value();
}

std::uint64_t FaultInjectionFileSystem::TakeSpace(std::uint64_t num_bytes) {
    if (!has_budget_) {
        return num_bytes;
    }
    std::uint64_t left = space_left_.load();
    std::uint64_t granted = 0;
    do {
        granted = std::min(left, num_bytes);
    } while (!space_left_.compare_exchange_weak(left, left - granted));
    return granted;
}

void FaultInjectionFileSystem::GiveSpace(std::uint64_t num_bytes) {
    if (has_budget_) {
        space_left_ += num_bytes;
    }
}

std::uint64_t FaultInjectionFileSystem::CurrentSeq() const {
    std::lock_guard lock(mu_);
    return next_seq_;
}

void FaultInjectionFileSystem::OnDirectorySynced(const std::string& dir,
                                                 std::uint64_t seq_at_start) {
    std::lock_guard lock(mu_);
    std::erase_if(journal_,
                  [&](const DirOp& op) { return op.dir == dir && op.seq < seq_at_start; });
}

std::shared_ptr<FaultInjectionFileSystem::FileState> FaultInjectionFileSystem::TrackLocked(
    const std::string& path, std::uint64_t size, std::uint64_t synced_size) {
    auto state = std::make_shared<FileState>(FileState{.size = size, .synced_size = synced_size});
    files_[path] = state;
    return state;
}

void FaultInjectionFileSystem::JournalLocked(DirOpKind kind, const std::string& path,
                                             const std::string& from,
                                             std::optional<std::string> replaced_content) {
    journal_.push_back(DirOp{.seq = next_seq_++,
                             .kind = kind,
                             .dir = DirOf(path),
                             .path = path,
                             .from = from,
                             .replaced_content = std::move(replaced_content)});
}

std::unique_ptr<FSWritableFile> FaultInjectionFileSystem::Wrap(std::unique_ptr<FSWritableFile> file,
                                                               std::shared_ptr<FileState> state) {
    return std::make_unique<TrackedFile>(std::move(file), this, std::move(state));
}

IOStatus FaultInjectionFileSystem::NewWritableFile(const std::string& fname,
                                                   const FileOptions& file_opts,
                                                   std::unique_ptr<FSWritableFile>* result,
                                                   IODebugContext* dbg) {
    IOStatus s = CheckActive("create");
    if (!s.ok()) {
        return s;
    }
    const std::string path = Normalize(fname);
    std::lock_guard lock(mu_);
    const bool existed = target()->FileExists(fname, IOOptions(), dbg).ok();
    s = target()->NewWritableFile(fname, file_opts, result, dbg);
    if (!s.ok()) {
        return s;
    }
    auto state = TrackLocked(path, 0, 0);
    if (!existed) {
        JournalLocked(DirOpKind::kCreate, path, "", std::nullopt);
    }
    *result = Wrap(std::move(*result), std::move(state));
    return s;
}

IOStatus FaultInjectionFileSystem::ReopenWritableFile(const std::string& fname,
                                                      const FileOptions& file_opts,
                                                      std::unique_ptr<FSWritableFile>* result,
                                                      IODebugContext* dbg) {
    IOStatus s = CheckActive("reopen for writing");
    if (!s.ok()) {
        return s;
    }
    const std::string path = Normalize(fname);
    std::lock_guard lock(mu_);
    const bool existed = target()->FileExists(fname, IOOptions(), dbg).ok();
    s = target()->ReopenWritableFile(fname, file_opts, result, dbg);
    if (!s.ok()) {
        return s;
    }
    std::uint64_t size = 0;
    if (existed && !target()->GetFileSize(fname, IOOptions(), &size, dbg).ok()) {
        size = 0;
    }
    std::shared_ptr<FileState> state;
    auto it = files_.find(path);
    if (it != files_.end()) {
        state = it->second;
        state->size = size;
        state->synced_size = std::min(state->synced_size, size);
    } else {
        // A file this FileSystem never wrote: its existing content counts as durable.
        state = TrackLocked(path, size, size);
    }
    if (!existed) {
        JournalLocked(DirOpKind::kCreate, path, "", std::nullopt);
    }
    *result = Wrap(std::move(*result), std::move(state));
    return s;
}

IOStatus FaultInjectionFileSystem::ReuseWritableFile(const std::string& fname,
                                                     const std::string& old_fname,
                                                     const FileOptions& file_opts,
                                                     std::unique_ptr<FSWritableFile>* result,
                                                     IODebugContext* dbg) {
    IOStatus s = CheckActive("reuse for writing");
    if (!s.ok()) {
        return s;
    }
    const std::string path = Normalize(fname);
    const std::string old_path = Normalize(old_fname);
    std::lock_guard lock(mu_);
    s = target()->ReuseWritableFile(fname, old_fname, file_opts, result, dbg);
    if (!s.ok()) {
        return s;
    }
    // A rename of the old file, then writes from offset 0 (its old bytes count as unsynced).
    files_.erase(old_path);
    auto state = TrackLocked(path, 0, 0);
    JournalLocked(DirOpKind::kRename, path, old_path, std::nullopt);
    *result = Wrap(std::move(*result), std::move(state));
    return s;
}

IOStatus FaultInjectionFileSystem::NewRandomRWFile(const std::string& fname,
                                                   const FileOptions& file_opts,
                                                   std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                                   IODebugContext* dbg) {
    IOStatus s = CheckActive("open for random writes");
    return s.ok() ? target()->NewRandomRWFile(fname, file_opts, result, dbg) : s;
}

IOStatus FaultInjectionFileSystem::NewDirectory(const std::string& name, const IOOptions& io_opts,
                                                std::unique_ptr<FSDirectory>* result,
                                                IODebugContext* dbg) {
    IOStatus s = target()->NewDirectory(name, io_opts, result, dbg);
    if (s.ok()) {
        *result = std::make_unique<TrackedDirectory>(std::move(*result), this, Normalize(name));
    }
    return s;
}

IOStatus FaultInjectionFileSystem::DeleteFile(const std::string& fname, const IOOptions& options,
                                              IODebugContext* dbg) {
    IOStatus s = CheckActive("delete");
    if (!s.ok()) {
        return s;
    }
    std::lock_guard lock(mu_);
    std::uint64_t size = 0;
    if (!target()->GetFileSize(fname, options, &size, dbg).ok()) {
        size = 0;
    }
    s = target()->DeleteFile(fname, options, dbg);
    if (s.ok()) {
        // Only files written through this FileSystem were charged to the budget.
        if (files_.erase(Normalize(fname)) > 0) {
            GiveSpace(size);
        }
    }
    return s;
}

IOStatus FaultInjectionFileSystem::Truncate(const std::string& fname, size_t size,
                                            const IOOptions& options, IODebugContext* dbg) {
    IOStatus s = CheckActive("truncate");
    if (!s.ok()) {
        return s;
    }
    std::lock_guard lock(mu_);
    std::uint64_t old_size = 0;
    if (!target()->GetFileSize(fname, options, &old_size, dbg).ok()) {
        old_size = 0;
    }
    s = target()->Truncate(fname, size, options, dbg);
    if (s.ok()) {
        auto it = files_.find(Normalize(fname));
        if (it != files_.end()) {
            GiveSpace(old_size > size ? old_size - size : 0);
            it->second->size = size;
            it->second->synced_size = std::min<std::uint64_t>(it->second->synced_size, size);
        }
    }
    return s;
}

IOStatus FaultInjectionFileSystem::RenameFile(const std::string& src, const std::string& dst,
                                              const IOOptions& options, IODebugContext* dbg) {
    IOStatus s = CheckActive("rename");
    if (!s.ok()) {
        return s;
    }
    const std::string from = Normalize(src);
    const std::string to = Normalize(dst);
    std::lock_guard lock(mu_);

    // Keep the durable content of a file the rename replaces, to restore it on undo.
    std::optional<std::string> replaced;
    bool journal = true;
    std::uint64_t replaced_size = 0;
    if (target()->GetFileSize(to, options, &replaced_size, dbg).ok()) {
        auto it = files_.find(to);
        const std::uint64_t durable =
            it == files_.end() ? replaced_size : std::min(replaced_size, it->second->synced_size);
        if (durable > kMaxRestoredFileBytes) {
            journal = false;  // documented limitation: treated as durable
        } else {
            std::string content;
            s = rocksdb::ReadFileToString(target(), to, &content);
            if (!s.ok()) {
                return s;
            }
            content.resize(std::min<std::size_t>(content.size(), durable));
            replaced = std::move(content);
        }
    }

    s = target()->RenameFile(src, dst, options, dbg);
    if (!s.ok()) {
        return s;
    }
    if (files_.contains(to)) {
        GiveSpace(replaced_size);  // the replaced file's space
    }
    auto it = files_.find(from);
    if (it != files_.end()) {
        files_[to] = it->second;
        files_.erase(from);
    } else {
        files_.erase(to);
    }
    if (journal) {
        JournalLocked(DirOpKind::kRename, to, from, std::move(replaced));
    }
    return s;
}

IOStatus FaultInjectionFileSystem::LinkFile(const std::string& src, const std::string& dst,
                                            const IOOptions& options, IODebugContext* dbg) {
    IOStatus s = CheckActive("link");
    if (!s.ok()) {
        return s;
    }
    std::lock_guard lock(mu_);
    s = target()->LinkFile(src, dst, options, dbg);
    if (s.ok()) {
        JournalLocked(DirOpKind::kCreate, Normalize(dst), "", std::nullopt);
    }
    return s;
}

IOStatus FaultInjectionFileSystem::CreateDir(const std::string& dirname, const IOOptions& options,
                                             IODebugContext* dbg) {
    IOStatus s = CheckActive("create directory");
    return s.ok() ? target()->CreateDir(dirname, options, dbg) : s;
}

IOStatus FaultInjectionFileSystem::CreateDirIfMissing(const std::string& dirname,
                                                      const IOOptions& options,
                                                      IODebugContext* dbg) {
    IOStatus s = CheckActive("create directory");
    return s.ok() ? target()->CreateDirIfMissing(dirname, options, dbg) : s;
}

IOStatus FaultInjectionFileSystem::DeleteDir(const std::string& dirname, const IOOptions& options,
                                             IODebugContext* dbg) {
    IOStatus s = CheckActive("delete directory");
    return s.ok() ? target()->DeleteDir(dirname, options, dbg) : s;
}

IOStatus FaultInjectionFileSystem::GetFreeSpace(const std::string& path, const IOOptions& options,
                                                std::uint64_t* diskfree, IODebugContext* dbg) {
    if (has_reported_free_) {
        *diskfree = reported_free_.load();
        return IOStatus::OK();
    }
    if (has_budget_) {
        *diskfree = space_left_.load();
        return IOStatus::OK();
    }
    if (no_space_) {
        *diskfree = 0;
        return IOStatus::OK();
    }
    return target()->GetFreeSpace(path, options, diskfree, dbg);
}

Status FaultInjectionFileSystem::DropUnsyncedData() {
    std::lock_guard lock(mu_);
    return DropLocked(std::nullopt);
}

Status FaultInjectionFileSystem::DropRandomUnsyncedData(std::uint64_t seed) {
    std::lock_guard lock(mu_);
    return DropLocked(seed);
}

Status FaultInjectionFileSystem::DropLocked(std::optional<std::uint64_t> seed) {
    DropStats stats;
    std::optional<std::mt19937_64> rng;
    if (seed.has_value()) {
        rng.emplace(*seed);
    }
    Status result;
    auto note = [&result](const IOStatus& s, const std::string& what) {
        if (!s.ok() && result.ok()) {
            result = Status::IOError("fault injection: " + what + ": " + s.ToString());
        }
    };
    const IOOptions io;

    // 1. Cut each tracked file back to its synced size (or somewhere in its unsynced tail).
    for (auto& [path, state] : files_) {
        std::uint64_t on_disk = 0;
        if (!target()->GetFileSize(path, io, &on_disk, nullptr).ok()) {
            continue;  // gone (deleted through the base FileSystem)
        }
        std::uint64_t keep = std::min(state->synced_size, on_disk);
        if (rng.has_value() && on_disk > keep) {
            keep += (*rng)() % (on_disk - keep + 1);
        }
        if (on_disk > keep) {
            IOStatus s = TruncateFile(*target(), path, keep);
            note(s, "truncating " + path);
            if (s.ok()) {
                stats.num_bytes_dropped += on_disk - keep;
                ++stats.num_files_truncated;
            }
        }
        state->size = keep;
        state->synced_size = keep;
    }

    // 2. Undo directory operations that no directory fsync covered, newest first.
    for (auto it = journal_.rbegin(); it != journal_.rend(); ++it) {
        const DirOp& op = *it;
        const bool exists = target()->FileExists(op.path, io, nullptr).ok();
        switch (op.kind) {
            case DirOpKind::kCreate:
                if (exists) {
                    IOStatus s = target()->DeleteFile(op.path, io, nullptr);
                    note(s, "removing un-synced " + op.path);
                    if (s.ok()) {
                        ++stats.num_files_removed;
                    }
                }
                files_.erase(op.path);
                break;
            case DirOpKind::kRename:
                if (exists) {
                    IOStatus s = target()->RenameFile(op.path, op.from, io, nullptr);
                    note(s, "renaming " + op.path + " back to " + op.from);
                    if (s.ok()) {
                        ++stats.num_renames_undone;
                        auto tracked = files_.find(op.path);
                        if (tracked != files_.end()) {
                            files_[op.from] = tracked->second;
                            files_.erase(op.path);
                        }
                    }
                }
                if (op.replaced_content.has_value()) {
                    IOStatus s = rocksdb::WriteStringToFile(target(), *op.replaced_content, op.path,
                                                            /*should_sync=*/true);
                    note(s, "restoring " + op.path);
                    files_.erase(op.path);
                }
                break;
        }
    }
    journal_.clear();
    last_drop_ = stats;
    return result;
}

FaultInjectionFileSystem::DropStats FaultInjectionFileSystem::last_drop_stats() const {
    std::lock_guard lock(mu_);
    return last_drop_;
}

std::size_t FaultInjectionFileSystem::NumPendingDirectoryOps() const {
    std::lock_guard lock(mu_);
    return journal_.size();
}

std::optional<std::uint64_t> FaultInjectionFileSystem::SyncedSize(const std::string& path) const {
    std::lock_guard lock(mu_);
    auto it = files_.find(Normalize(path));
    if (it == files_.end()) {
        return std::nullopt;
    }
    return it->second->synced_size;
}

namespace {

// The default clock, except that it does not sleep while the FileSystem is inactive.
class DeadMachineClock final : public rocksdb::SystemClockWrapper {
  public:
    DeadMachineClock(const std::shared_ptr<rocksdb::SystemClock>& base,
                     std::shared_ptr<FaultInjectionFileSystem> fs)
        : SystemClockWrapper(base), fs_(std::move(fs)) {}

    const char* Name() const override { return "PhenixFaultInjectionClock"; }
    void SleepForMicroseconds(int micros) override {
        if (fs_->IsFilesystemActive()) {
            SystemClockWrapper::SleepForMicroseconds(micros);
        }
    }

  private:
    std::shared_ptr<FaultInjectionFileSystem> fs_;
};

// The composite Env over the fault-injecting FileSystem, with DeadMachineClock's sleeps. Env's
// file_system_ and system_clock_ are what RocksDB's GetFileSystem()/GetSystemClock() return.
class FaultInjectionEnv final : public rocksdb::EnvWrapper {
  public:
    explicit FaultInjectionEnv(const std::shared_ptr<FaultInjectionFileSystem>& fs)
        : EnvWrapper(rocksdb::NewCompositeEnv(fs)), fs_(fs) {
        file_system_ = fs;
        system_clock_ = std::make_shared<DeadMachineClock>(target()->GetSystemClock(), fs);
    }

    const char* Name() const override { return "PhenixFaultInjectionEnv"; }
    void SleepForMicroseconds(int micros) override {
        if (fs_->IsFilesystemActive()) {
            EnvWrapper::SleepForMicroseconds(micros);
        }
    }

  private:
    std::shared_ptr<FaultInjectionFileSystem> fs_;
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewFaultInjectionEnv(
    const std::shared_ptr<FaultInjectionFileSystem>& fs) {
    return std::make_unique<FaultInjectionEnv>(fs);
}

}  // namespace phenix::testing
