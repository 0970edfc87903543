// SPDX-License-Identifier: Apache-2.0
// The fault-injecting FileSystem itself: what survives DropUnsyncedData (synced file data, file
// creations and renames whose directory was fsynced) and what its injected faults return.
#include "testing/fault_injection_fs.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "storage/store.h"
#include "testing/temp_dir.h"

namespace phenix::testing {
namespace {

using rocksdb::FileOptions;
using rocksdb::FSWritableFile;
using rocksdb::IOOptions;
using rocksdb::IOStatus;

#define PHENIX_ASSERT_ROCKS_OK(expr)                       \
    do {                                                   \
        const ::rocksdb::Status rocks_s_ = (expr);         \
        ASSERT_TRUE(rocks_s_.ok()) << rocks_s_.ToString(); \
    } while (false)

std::string ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool Exists(const std::string& path) {
    return std::filesystem::exists(path);
}

class FaultInjectionFileSystemTest : public ::testing::Test {
  protected:
    std::unique_ptr<FSWritableFile> Create(const std::string& name) {
        std::unique_ptr<FSWritableFile> file;
        IOStatus s = fs_->NewWritableFile(dir_.Sub(name), FileOptions(), &file, nullptr);
        EXPECT_TRUE(s.ok()) << s.ToString();
        return file;
    }
    IOStatus Append(FSWritableFile& file, std::string_view data) {
        return file.Append(rocksdb::Slice(data.data(), data.size()), IOOptions(), nullptr);
    }
    IOStatus SyncDir() {
        std::unique_ptr<rocksdb::FSDirectory> dir;
        IOStatus s = fs_->NewDirectory(dir_.path(), IOOptions(), &dir, nullptr);
        return s.ok() ? dir->Fsync(IOOptions(), nullptr) : s;
    }
    // Creates `name` with `content`, syncs it, closes it and fsyncs the directory: all durable.
    void CreateDurable(const std::string& name, std::string_view content) {
        auto file = Create(name);
        ASSERT_NE(file, nullptr);
        PHENIX_ASSERT_ROCKS_OK(Append(*file, content));
        PHENIX_ASSERT_ROCKS_OK(file->Sync(IOOptions(), nullptr));
        PHENIX_ASSERT_ROCKS_OK(file->Close(IOOptions(), nullptr));
        PHENIX_ASSERT_ROCKS_OK(SyncDir());
    }

    TempDir dir_;
    std::shared_ptr<FaultInjectionFileSystem> fs_ = std::make_shared<FaultInjectionFileSystem>();
};

TEST_F(FaultInjectionFileSystemTest, DropsUnsyncedAppendsAndKeepsSyncedOnes) {
    const std::string path = dir_.Sub("f");
    auto file = Create("f");
    PHENIX_ASSERT_ROCKS_OK(SyncDir());
    PHENIX_ASSERT_ROCKS_OK(Append(*file, "synced-"));
    PHENIX_ASSERT_ROCKS_OK(file->Sync(IOOptions(), nullptr));
    PHENIX_ASSERT_ROCKS_OK(Append(*file, "fsynced-"));
    PHENIX_ASSERT_ROCKS_OK(file->Fsync(IOOptions(), nullptr));
    // Neither Flush nor RangeSync (sync_file_range) nor Close makes data durable.
    PHENIX_ASSERT_ROCKS_OK(Append(*file, "flushed-"));
    PHENIX_ASSERT_ROCKS_OK(file->Flush(IOOptions(), nullptr));
    PHENIX_ASSERT_ROCKS_OK(file->RangeSync(0, 1024, IOOptions(), nullptr));
    PHENIX_ASSERT_ROCKS_OK(Append(*file, "closed"));
    PHENIX_ASSERT_ROCKS_OK(file->Close(IOOptions(), nullptr));
    EXPECT_EQ(ReadAll(path), "synced-fsynced-flushed-closed");
    EXPECT_EQ(fs_->SyncedSize(path), std::optional<std::uint64_t>(15));

    ASSERT_TRUE(fs_->DropUnsyncedData().ok());
    EXPECT_EQ(ReadAll(path), "synced-fsynced-");
    auto stats = fs_->last_drop_stats();
    EXPECT_EQ(stats.num_bytes_dropped, 14u);
    EXPECT_EQ(stats.num_files_truncated, 1u);
    EXPECT_EQ(stats.num_files_removed, 0u);

    // What survived is durable: a second power loss changes nothing.
    ASSERT_TRUE(fs_->DropUnsyncedData().ok());
    EXPECT_EQ(ReadAll(path), "synced-fsynced-");
    EXPECT_EQ(fs_->last_drop_stats().num_bytes_dropped, 0u);
}

TEST_F(FaultInjectionFileSystemTest, FileCreatedWithoutDirectoryFsyncDisappears) {
    auto a = Create("a");
    PHENIX_ASSERT_ROCKS_OK(Append(*a, "a"));
    PHENIX_ASSERT_ROCKS_OK(a->Fsync(IOOptions(), nullptr));
    PHENIX_ASSERT_ROCKS_OK(a->Close(IOOptions(), nullptr));
    auto b = Create("b");
    PHENIX_ASSERT_ROCKS_OK(b->Close(IOOptions(), nullptr));
    EXPECT_EQ(fs_->NumPendingDirectoryOps(), 2u);
    {
        // FsyncWithDirOptions (what RocksDB calls) is a directory fsync too; a trailing slash
        // names the same directory.
        std::unique_ptr<rocksdb::FSDirectory> dir;
        PHENIX_ASSERT_ROCKS_OK(fs_->NewDirectory(dir_.path() + "/", IOOptions(), &dir, nullptr));
        PHENIX_ASSERT_ROCKS_OK(dir->FsyncWithDirOptions(
            IOOptions(), nullptr,
            rocksdb::DirFsyncOptions(rocksdb::DirFsyncOptions::FsyncReason::kNewFileSynced)));
    }
    EXPECT_EQ(fs_->NumPendingDirectoryOps(), 0u);
    // Created after the last directory fsync: its synced data does not save it.
    auto c = Create("c");
    PHENIX_ASSERT_ROCKS_OK(Append(*c, "c"));
    PHENIX_ASSERT_ROCKS_OK(c->Sync(IOOptions(), nullptr));
    PHENIX_ASSERT_ROCKS_OK(c->Close(IOOptions(), nullptr));
    EXPECT_EQ(fs_->NumPendingDirectoryOps(), 1u);

    ASSERT_TRUE(fs_->DropUnsyncedData().ok());
    EXPECT_EQ(ReadAll(dir_.Sub("a")), "a");
    EXPECT_TRUE(Exists(dir_.Sub("b")));
    EXPECT_FALSE(Exists(dir_.Sub("c")));
    EXPECT_EQ(fs_->last_drop_stats().num_files_removed, 1u);
}

TEST_F(FaultInjectionFileSystemTest, UnsyncedRenameIsUndoneAndTheReplacedFileRestored) {
    // The CURRENT-file dance: write a temp file, sync it, rename it over the old one.
    CreateDurable("CURRENT", "MANIFEST-000001\n");
    auto tmp = Create("000002.dbtmp");
    PHENIX_ASSERT_ROCKS_OK(Append(*tmp, "MANIFEST-000002\n"));
    PHENIX_ASSERT_ROCKS_OK(tmp->Sync(IOOptions(), nullptr));
    PHENIX_ASSERT_ROCKS_OK(tmp->Close(IOOptions(), nullptr));
    PHENIX_ASSERT_ROCKS_OK(
        fs_->RenameFile(dir_.Sub("000002.dbtmp"), dir_.Sub("CURRENT"), IOOptions(), nullptr));
    EXPECT_EQ(ReadAll(dir_.Sub("CURRENT")), "MANIFEST-000002\n");

    ASSERT_TRUE(fs_->DropUnsyncedData().ok());
    EXPECT_EQ(ReadAll(dir_.Sub("CURRENT")), "MANIFEST-000001\n");
    EXPECT_FALSE(Exists(dir_.Sub("000002.dbtmp"))) << "its creation was not durable either";
    EXPECT_EQ(fs_->last_drop_stats().num_renames_undone, 1u);

    // With the directory fsync after the rename, the new content survives.
    tmp = Create("000003.dbtmp");
    PHENIX_ASSERT_ROCKS_OK(Append(*tmp, "MANIFEST-000003\n"));
    PHENIX_ASSERT_ROCKS_OK(tmp->Sync(IOOptions(), nullptr));
    PHENIX_ASSERT_ROCKS_OK(tmp->Close(IOOptions(), nullptr));
    PHENIX_ASSERT_ROCKS_OK(
        fs_->RenameFile(dir_.Sub("000003.dbtmp"), dir_.Sub("CURRENT"), IOOptions(), nullptr));
    PHENIX_ASSERT_ROCKS_OK(SyncDir());
    ASSERT_TRUE(fs_->DropUnsyncedData().ok());
    EXPECT_EQ(ReadAll(dir_.Sub("CURRENT")), "MANIFEST-000003\n");
}

TEST_F(FaultInjectionFileSystemTest, ReopenedFileKeepsItsOldContentAndLosesUnsyncedAppends) {
    {
        std::ofstream out(dir_.Sub("old"), std::ios::binary);
        out << "written before";  // not through the FileSystem: counts as durable
    }
    std::unique_ptr<FSWritableFile> file;
    PHENIX_ASSERT_ROCKS_OK(fs_->ReopenWritableFile(dir_.Sub("old"), FileOptions(), &file, nullptr));
    PHENIX_ASSERT_ROCKS_OK(Append(*file, " and after"));
    PHENIX_ASSERT_ROCKS_OK(file->Close(IOOptions(), nullptr));
    EXPECT_EQ(ReadAll(dir_.Sub("old")), "written before and after");
    ASSERT_TRUE(fs_->DropUnsyncedData().ok());
    EXPECT_EQ(ReadAll(dir_.Sub("old")), "written before");
}

TEST_F(FaultInjectionFileSystemTest, InactiveFileSystemRejectsWritesButServesReads) {
    CreateDurable("f", "abc");
    auto file = Create("pending");  // created, directory not yet fsynced
    PHENIX_ASSERT_ROCKS_OK(file->Close(IOOptions(), nullptr));
    std::unique_ptr<FSWritableFile> open_file;
    PHENIX_ASSERT_ROCKS_OK(
        fs_->ReopenWritableFile(dir_.Sub("f"), FileOptions(), &open_file, nullptr));

    fs_->SetFilesystemActive(false);
    EXPECT_FALSE(fs_->IsFilesystemActive());
    EXPECT_TRUE(Append(*open_file, "x").IsIOError());
    EXPECT_TRUE(open_file->Sync(IOOptions(), nullptr).IsIOError());
    EXPECT_TRUE(open_file->Fsync(IOOptions(), nullptr).IsIOError());
    EXPECT_TRUE(open_file->Flush(IOOptions(), nullptr).IsIOError());
    EXPECT_TRUE(open_file->Truncate(0, IOOptions(), nullptr).IsIOError());
    EXPECT_TRUE(open_file->Close(IOOptions(), nullptr).IsIOError());
    std::unique_ptr<FSWritableFile> refused;
    EXPECT_TRUE(fs_->NewWritableFile(dir_.Sub("g"), FileOptions(), &refused, nullptr).IsIOError());
    EXPECT_FALSE(Exists(dir_.Sub("g")));
    EXPECT_TRUE(fs_->RenameFile(dir_.Sub("f"), dir_.Sub("h"), IOOptions(), nullptr).IsIOError());
    EXPECT_TRUE(fs_->DeleteFile(dir_.Sub("f"), IOOptions(), nullptr).IsIOError());
    EXPECT_TRUE(fs_->Truncate(dir_.Sub("f"), 0, IOOptions(), nullptr).IsIOError());
    EXPECT_TRUE(fs_->CreateDir(dir_.Sub("d"), IOOptions(), nullptr).IsIOError());
    EXPECT_TRUE(SyncDir().IsIOError()) << "a refused directory fsync makes nothing durable";
    EXPECT_EQ(fs_->NumPendingDirectoryOps(), 1u);

    // Reads still work.
    EXPECT_TRUE(fs_->FileExists(dir_.Sub("f"), IOOptions(), nullptr).ok());
    std::string content;
    PHENIX_ASSERT_ROCKS_OK(rocksdb::ReadFileToString(fs_.get(), dir_.Sub("f"), &content));
    EXPECT_EQ(content, "abc");

    // Dropping works while inactive (the database is being torn down); so does reactivating.
    ASSERT_TRUE(fs_->DropUnsyncedData().ok());
    EXPECT_FALSE(Exists(dir_.Sub("pending")));
    fs_->SetFilesystemActive(true);
    auto again = Create("g");
    ASSERT_NE(again, nullptr);
    PHENIX_ASSERT_ROCKS_OK(Append(*again, "ok"));
}

TEST_F(FaultInjectionFileSystemTest, InjectedWriteErrorFailsAppendsWithAPlainIOError) {
    auto file = Create("f");
    PHENIX_ASSERT_ROCKS_OK(Append(*file, "a"));
    fs_->InjectWriteError(true);
    IOStatus s = Append(*file, "b");
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_FALSE(s.IsNoSpace());
    EXPECT_EQ(s.subcode(), rocksdb::Status::kNone);
    EXPECT_TRUE(file->PositionedAppend(rocksdb::Slice("c"), 1, IOOptions(), nullptr).IsIOError());
    EXPECT_EQ(storage::FromRocks(s, "write").code(), StatusCode::kIOError);
    fs_->InjectWriteError(false);
    PHENIX_ASSERT_ROCKS_OK(Append(*file, "d"));
    PHENIX_ASSERT_ROCKS_OK(file->Close(IOOptions(), nullptr));
    EXPECT_EQ(ReadAll(dir_.Sub("f")), "ad");
}

TEST_F(FaultInjectionFileSystemTest, NoSpaceFailsAppendsWithTheNoSpaceSubcode) {
    auto file = Create("f");
    fs_->SetNoSpace(true);
    IOStatus s = Append(*file, "a");
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
    std::uint64_t free_bytes = 1;
    PHENIX_ASSERT_ROCKS_OK(fs_->GetFreeSpace(dir_.path(), IOOptions(), &free_bytes, nullptr));
    EXPECT_EQ(free_bytes, 0u);
    // Phenix reports a full disk as ResourceExhausted (storage::FromRocks).
    EXPECT_EQ(storage::FromRocks(s, "write").code(), StatusCode::kResourceExhausted);
    fs_->SetNoSpace(false);
    PHENIX_ASSERT_ROCKS_OK(Append(*file, "b"));
    PHENIX_ASSERT_ROCKS_OK(fs_->GetFreeSpace(dir_.path(), IOOptions(), &free_bytes, nullptr));
    EXPECT_GT(free_bytes, 0u);
    PHENIX_ASSERT_ROCKS_OK(file->Close(IOOptions(), nullptr));
    EXPECT_EQ(ReadAll(dir_.Sub("f")), "b");
}

TEST_F(FaultInjectionFileSystemTest, RandomDropKeepsAPrefixBetweenSyncedAndWritten) {
    const std::string synced(100, 's');
    std::string unsynced;
    for (int idx = 0; idx < 1000; ++idx) {
        unsynced.push_back(static_cast<char>('a' + idx % 26));
    }
    CreateDurable("f", synced);
    int num_partial = 0;
    // Fixed seeds: std::mt19937_64 is specified exactly, so the outcome is reproducible.
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        std::unique_ptr<FSWritableFile> file;
        PHENIX_ASSERT_ROCKS_OK(
            fs_->ReopenWritableFile(dir_.Sub("f"), FileOptions(), &file, nullptr));
        PHENIX_ASSERT_ROCKS_OK(Append(*file, unsynced));
        PHENIX_ASSERT_ROCKS_OK(file->Close(IOOptions(), nullptr));
        ASSERT_TRUE(fs_->DropRandomUnsyncedData(seed).ok());
        const std::string after = ReadAll(dir_.Sub("f"));
        ASSERT_GE(after.size(), synced.size());
        ASSERT_EQ(after, (synced + unsynced).substr(0, after.size()));
        if (after.size() > synced.size() && after.size() < synced.size() + unsynced.size()) {
            ++num_partial;
        }
        // Reset to the synced prefix for the next seed.
        std::filesystem::resize_file(dir_.Sub("f"), synced.size());
    }
    EXPECT_GT(num_partial, 10) << "a random drop should usually keep part of the tail";
}

// The FileSystem under a real RocksDB: an unsynced write is lost, a synced one survives.
TEST_F(FaultInjectionFileSystemTest, RocksDbKeepsSyncedWritesAndLosesUnsyncedOnes) {
    std::unique_ptr<rocksdb::Env> env = NewFaultInjectionEnv(fs_);
    ASSERT_EQ(env->GetFileSystem().get(), fs_.get());
    rocksdb::Options options;
    options.create_if_missing = true;
    options.env = env.get();
    const std::string path = dir_.Sub("db");
    auto open = [&]() {
        rocksdb::DB* raw = nullptr;
        rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
        EXPECT_TRUE(s.ok()) << s.ToString();
        return std::unique_ptr<rocksdb::DB>(raw);
    };
    auto db = open();
    ASSERT_NE(db, nullptr);
    rocksdb::WriteOptions synced;
    synced.sync = true;
    PHENIX_ASSERT_ROCKS_OK(db->Put(synced, "synced", "1"));
    PHENIX_ASSERT_ROCKS_OK(db->Put(rocksdb::WriteOptions(), "unsynced", "2"));
    fs_->SetFilesystemActive(false);
    db.reset();
    ASSERT_TRUE(fs_->DropUnsyncedData().ok());
    fs_->SetFilesystemActive(true);
    EXPECT_GT(fs_->last_drop_stats().num_bytes_dropped, 0u);

    db = open();
    ASSERT_NE(db, nullptr);
    std::string value;
    PHENIX_ASSERT_ROCKS_OK(db->Get(rocksdb::ReadOptions(), "synced", &value));
    EXPECT_EQ(value, "1");
    EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), "unsynced", &value).IsNotFound());
}

}  // namespace
}  // namespace phenix::testing
