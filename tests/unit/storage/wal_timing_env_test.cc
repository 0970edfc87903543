// SPDX-License-Identifier: Apache-2.0
// WalTimingEnv: only the write-ahead log's files are timed, their appends and syncs each once.
#include "storage/wal_timing_env.h"

#include <memory>

#include <gtest/gtest.h>
#include <rocksdb/file_system.h>

#include "testing/temp_dir.h"

namespace phenix::storage {
namespace {

TEST(WalTimingEnv, RecognisesWalFileNames) {
    EXPECT_TRUE(IsWalFileName("000012.log"));
    EXPECT_TRUE(IsWalFileName("/data/db/000012.log"));
    EXPECT_FALSE(IsWalFileName("LOG"));
    EXPECT_FALSE(IsWalFileName("/data/db/LOG.old.1700000000"));
    EXPECT_FALSE(IsWalFileName("/data/db/000013.sst"));
    EXPECT_FALSE(IsWalFileName("/data/db/MANIFEST-000005"));
    EXPECT_FALSE(IsWalFileName(".log"));
    EXPECT_FALSE(IsWalFileName("/data/x.log"));
}

TEST(WalTimingEnv, TimesAppendsAndSyncsOfWalFilesOnly) {
    testing::TempDir dir;
    auto latency = std::make_shared<WalLatency>();
    std::unique_ptr<rocksdb::Env> env = NewWalTimingEnv(rocksdb::Env::Default(), latency);
    const std::shared_ptr<rocksdb::FileSystem>& fs = env->GetFileSystem();
    for (const char* name : {"000007.log", "000008.sst"}) {
        std::unique_ptr<rocksdb::FSWritableFile> file;
        ASSERT_TRUE(
            fs->NewWritableFile(dir.Sub(name), rocksdb::FileOptions(), &file, nullptr).ok());
        ASSERT_TRUE(file->Append("record", rocksdb::IOOptions(), nullptr).ok());
        ASSERT_TRUE(file->Append("record", rocksdb::IOOptions(), nullptr).ok());
        ASSERT_TRUE(file->Sync(rocksdb::IOOptions(), nullptr).ok());
        ASSERT_TRUE(file->Fsync(rocksdb::IOOptions(), nullptr).ok());
        ASSERT_TRUE(file->Close(rocksdb::IOOptions(), nullptr).ok());
    }
    EXPECT_EQ(latency->write.Summary().count, 2u);
    EXPECT_EQ(latency->sync.Summary().count, 2u);
}

}  // namespace
}  // namespace phenix::storage
