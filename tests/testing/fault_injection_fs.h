// SPDX-License-Identifier: Apache-2.0
//
// FaultInjectionFileSystem — a RocksDB FileSystem for tests that simulates power loss and disk
// faults. It forwards every call to a base FileSystem (the real disk by default) and remembers
// what has not been made durable yet, so that DropUnsyncedData() can leave the files as a
// machine would find them after losing power. It can also fail writes (an I/O error, a full disk)
// and "freeze" the disk (SetFilesystemActive(false)).
//
// The durability model (what survives a power loss):
//   * File data. Every file opened for writing through this FileSystem (NewWritableFile,
//     ReopenWritableFile, ReuseWritableFile) has a logical size and a synced size. Sync() and
//     Fsync() make everything appended before the call durable. Append, Flush, Close and
//     RangeSync do not (RangeSync is sync_file_range(2), which promises nothing after a crash).
//   * Directory entries. Creating a file (NewWritableFile or ReopenWritableFile of a name that did
//     not exist, LinkFile) and renaming one are durable only once their directory has been
//     fsynced through an FSDirectory from NewDirectory (Fsync or FsyncWithDirOptions). Each such
//     operation goes into a journal that the fsync of its directory (the target's directory for
//     a rename) clears. Syncing a file does NOT make its directory entry durable: POSIX does not
//     promise it, even where ext4 happens to.
//   * DropUnsyncedData() truncates every tracked file to its synced size, then undoes the journal
//     newest first: a created file is deleted; a renamed file gets its old name back, and the
//     file it replaced (if any) gets back its synced content. DropRandomUnsyncedData() instead
//     keeps a random prefix of each file's unsynced tail (the OS may have written some of it
//     back before the power went), then undoes the journal the same way.
//   RocksDB 7.8 lives up to this model: it fsyncs the directory after renaming CURRENT, OPTIONS
//   and IDENTITY into place, after writing each SST, and on the first synced write to a new WAL
//   (a WAL created at open is covered by the CURRENT rename that follows). Treat renames as never
//   durable and the reopen after a relaxed-mode power loss fails: the model does catch a
//   missing directory fsync.
//   Not simulated: deletions and directory creation/removal are durable at once (a file deleted
//   before its directory is fsynced does not come back); data reaching the disk out of order
//   within a file (what survives is always a prefix); a rename target bigger than
//   kMaxRestoredFileBytes is not restored (that rename is treated as durable); a rename across
//   directories is journaled in the target directory only; an existing file truncated by
//   NewWritableFile keeps nothing of its old content. Files written outside RocksDB's FileSystem
//   (Phenix's PHENIX_FORMAT and LOCK) and through NewRandomRWFile or NewLogger (RocksDB's LOG)
//   are not tracked: their data counts as durable.
//
// A power-loss test: write through a database opened with NewFaultInjectionEnv(fs);
// SetFilesystemActive(false); destroy the database (its shutdown writes and syncs fail and
// change nothing); DropUnsyncedData(); SetFilesystemActive(true); reopen and verify.
//
// Thread-safe: RocksDB calls it from its background threads. The bookkeeping is guarded by mu_.
// Metadata operations (create, rename, delete) run under mu_ so that the journal holds them in
// the order the disk saw them; appends and syncs do not hold mu_ during the I/O.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <phenix/status.h>

namespace phenix::testing {

class FaultInjectionFileSystem final : public rocksdb::FileSystemWrapper {
  public:
    // A file replaced by an un-synced rename is restored only up to this size.
    static constexpr std::uint64_t kMaxRestoredFileBytes = 1u << 20;

    // What the last DropUnsyncedData() or DropRandomUnsyncedData() undid.
    struct DropStats {
        std::uint64_t num_bytes_dropped = 0;    // unsynced bytes cut off tracked files
        std::uint64_t num_files_truncated = 0;  // tracked files that lost bytes
        std::uint64_t num_files_removed = 0;    // un-synced creations undone
        std::uint64_t num_renames_undone = 0;   // un-synced renames undone
    };

    // `base` is shared with nothing else in practice; the shared_ptr is what
    // rocksdb::FileSystemWrapper takes.
    explicit FaultInjectionFileSystem(
        std::shared_ptr<rocksdb::FileSystem> base = rocksdb::FileSystem::Default());
    ~FaultInjectionFileSystem() override;
    FaultInjectionFileSystem(const FaultInjectionFileSystem&) = delete;
    FaultInjectionFileSystem& operator=(const FaultInjectionFileSystem&) = delete;

    // ---- fault controls (any thread, any time) ----
    // While inactive, every write, sync, truncation, creation, rename and deletion (and
    // directory fsync) fails with IOError and changes nothing; reads still work.
    void SetFilesystemActive(bool active) { active_ = active; }
    [[nodiscard]] bool IsFilesystemActive() const { return active_; }
    // While enabled, every Append / PositionedAppend fails with a plain IOError.
    void InjectWriteError(bool enabled) { write_error_ = enabled; }
    // While enabled, every file Sync / Fsync fails with a plain IOError after the data was
    // appended: the bytes are in the file (a restart without power loss finds them) but not
    // durable (DropUnsyncedData removes them). A write whose WAL sync fails this way is the
    // ambiguous case: reported failed, yet possibly recovered.
    void InjectSyncError(bool enabled) { sync_error_ = enabled; }
    // While enabled, every Append / PositionedAppend fails with IOError subcode kNoSpace
    // (rocksdb::IOStatus::NoSpace()) and GetFreeSpace reports 0 bytes free.
    void SetNoSpace(bool enabled) { no_space_ = enabled; }
    // A disk with `free_bytes` left (nullopt, the default: no limit). Appends use the space up:
    // one that does not fit writes the part that fits and fails with NoSpace, as write(2) does on
    // a full disk, so each failed attempt can eat a little more. Deleting, truncating or
    // replacing (by a rename) a file written through this FileSystem gives its bytes back.
    // GetFreeSpace reports what is left. Only files written through this FileSystem's writable
    // files count, both ways: not files written outside RocksDB's FileSystem (the info LOG,
    // which storage/info_log.h writes directly; PHENIX_FORMAT, LOCK, vector index checkpoints).
    // Creating a file is free (a full disk usually still has inodes).
    void SetSpaceBudget(std::optional<std::uint64_t> free_bytes);
    // The space left under SetSpaceBudget (nullopt: no budget).
    [[nodiscard]] std::optional<std::uint64_t> SpaceLeft() const;
    // While set, GetFreeSpace reports this, whatever the budget: a disk that fills up between a
    // free-space check and the writes, or a quota that statvfs does not show.
    void SetReportedFreeSpace(std::optional<std::uint64_t> free_bytes);

    // ---- power loss ----
    // Puts the disk in the state a power loss would leave (see the model above), then treats
    // what remains as durable. Call only while nothing writes through this FileSystem (the
    // database is destroyed, or the FileSystem is inactive). Works while inactive.
    // Errors: IOError if the base FileSystem fails (the state is then partly rolled back).
    Status DropUnsyncedData();
    // Like DropUnsyncedData, but each tracked file keeps a random prefix (possibly empty,
    // possibly all) of its unsynced tail, drawn from `seed` in path order.
    Status DropRandomUnsyncedData(std::uint64_t seed);
    [[nodiscard]] DropStats last_drop_stats() const;

    // ---- introspection for tests ----
    // Un-synced creations and renames waiting for a directory fsync.
    [[nodiscard]] std::size_t NumPendingDirectoryOps() const;
    // The synced size of a tracked file, or nullopt if the file is not tracked.
    [[nodiscard]] std::optional<std::uint64_t> SyncedSize(const std::string& path) const;

    // ---- rocksdb::FileSystem ----
    const char* Name() const override { return "PhenixFaultInjectionFileSystem"; }
    rocksdb::IOStatus NewWritableFile(const std::string& fname,
                                      const rocksdb::FileOptions& file_opts,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus ReopenWritableFile(const std::string& fname,
                                         const rocksdb::FileOptions& file_opts,
                                         std::unique_ptr<rocksdb::FSWritableFile>* result,
                                         rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                        const rocksdb::FileOptions& file_opts,
                                        std::unique_ptr<rocksdb::FSWritableFile>* result,
                                        rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus NewRandomRWFile(const std::string& fname,
                                      const rocksdb::FileOptions& file_opts,
                                      std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& io_opts,
                                   std::unique_ptr<rocksdb::FSDirectory>* result,
                                   rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                                 rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus Truncate(const std::string& fname, size_t size,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus RenameFile(const std::string& src, const std::string& dst,
                                 const rocksdb::IOOptions& options,
                                 rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus LinkFile(const std::string& src, const std::string& dst,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus CreateDir(const std::string& dirname, const rocksdb::IOOptions& options,
                                rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus CreateDirIfMissing(const std::string& dirname,
                                         const rocksdb::IOOptions& options,
                                         rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus DeleteDir(const std::string& dirname, const rocksdb::IOOptions& options,
                                rocksdb::IODebugContext* dbg) override;
    rocksdb::IOStatus GetFreeSpace(const std::string& path, const rocksdb::IOOptions& options,
                                   std::uint64_t* diskfree, rocksdb::IODebugContext* dbg) override;

  private:
    class TrackedFile;
    class TrackedDirectory;

    // One file opened for writing. Shared by files_ and the open TrackedFile (whose name may
    // change under it through a rename). Fields guarded by mu_.
    struct FileState {
        std::uint64_t size = 0;         // bytes appended (the logical size)
        std::uint64_t synced_size = 0;  // bytes made durable by Sync/Fsync
    };

    enum class DirOpKind : std::uint8_t { kCreate, kRename };
    // A directory-entry change not yet made durable by an fsync of `dir`.
    struct DirOp {
        std::uint64_t seq = 0;  // order of the operation; a dir fsync clears older ones
        DirOpKind kind = DirOpKind::kCreate;
        std::string dir;
        std::string path;  // the created file, or the rename target
        std::string from;  // the rename source
        // The synced content of the file a rename replaced, to restore on undo.
        std::optional<std::string> replaced_content;
    };

    // IOError while inactive; otherwise OK.
    rocksdb::IOStatus CheckActive(const char* operation) const;
    // CheckActive, then the injected NoSpace or write error for appends.
    rocksdb::IOStatus CheckAppend() const;
    // Under a space budget: takes up to `num_bytes` from it and returns how many it got (all of
    // them without a budget).
    std::uint64_t TakeSpace(std::uint64_t num_bytes);
    void GiveSpace(std::uint64_t num_bytes);
    // Next journal sequence number (also the snapshot a directory fsync starts from).
    std::uint64_t CurrentSeq() const;
    void OnDirectorySynced(const std::string& dir, std::uint64_t seq_at_start);

    std::shared_ptr<FileState> TrackLocked(const std::string& path, std::uint64_t size,
                                           std::uint64_t synced_size);
    void JournalLocked(DirOpKind kind, const std::string& path, const std::string& from,
                       std::optional<std::string> replaced_content);
    std::unique_ptr<rocksdb::FSWritableFile> Wrap(std::unique_ptr<rocksdb::FSWritableFile> file,
                                                  std::shared_ptr<FileState> state);
    // The shared implementation of both Drop* methods: `seed` picks random tails when set.
    Status DropLocked(std::optional<std::uint64_t> seed);

    // Fault switches, read on every call without mu_.
    std::atomic<bool> active_{true};
    std::atomic<bool> write_error_{false};
    std::atomic<bool> sync_error_{false};
    std::atomic<bool> no_space_{false};
    // The space budget: has_budget_ switches it on; space_left_ is what remains.
    std::atomic<bool> has_budget_{false};
    std::atomic<std::uint64_t> space_left_{0};
    std::atomic<bool> has_reported_free_{false};
    std::atomic<std::uint64_t> reported_free_{0};

    mutable std::mutex mu_;
    std::map<std::string, std::shared_ptr<FileState>> files_;  // GUARDED_BY(mu_); by path
    std::vector<DirOp> journal_;                               // GUARDED_BY(mu_); by seq
    std::uint64_t next_seq_ = 1;                               // GUARDED_BY(mu_)
    DropStats last_drop_;                                      // GUARDED_BY(mu_)
};

// A RocksDB Env whose file operations go through `fs`, built on rocksdb::NewCompositeEnv (threads
// and clock are RocksDB's defaults). One difference: while `fs` is inactive, the Env's and its
// clock's SleepForMicroseconds return at once, because a dead machine does not wait; otherwise
// tearing down a database whose background compaction just failed on the dead disk would sit
// out RocksDB's one-second back-off. The Env shares ownership of `fs`; pass env.get() to
// engine::DatabaseImpl::Open and keep the Env alive until the database is destroyed.
std::unique_ptr<rocksdb::Env> NewFaultInjectionEnv(
    const std::shared_ptr<FaultInjectionFileSystem>& fs);

}  // namespace phenix::testing
