// SPDX-License-Identifier: Apache-2.0
#include "storage/store.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "storage/catalog_codec.h"
#include "testing/temp_dir.h"

namespace phenix::storage {
namespace {

using phenix::testing::TempDir;

TEST(Store, CreatesFormatFileLockAndRocksDir) {
    TempDir dir;
    const std::string path = dir.Sub("data");
    auto store = Store::Open(path, {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_TRUE(std::filesystem::exists(path + "/PHENIX_FORMAT"));
    EXPECT_TRUE(std::filesystem::exists(path + "/LOCK"));
    EXPECT_TRUE(std::filesystem::exists(path + "/db/CURRENT"));
    std::ifstream in(path + "/PHENIX_FORMAT");
    std::string magic;
    int version = 0;
    in >> magic >> version;
    EXPECT_EQ(magic, "phenix-data-format");
    EXPECT_EQ(version, kDataFormatVersion);
}

TEST(Store, SecondOpenOfTheSameDirectoryIsUnavailable) {
    TempDir dir;
    auto first = Store::Open(dir.path(), {});
    ASSERT_TRUE(first.ok());
    auto second = Store::Open(dir.path(), {});
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(second.status().message().find("in use"), std::string::npos)
        << second.status().ToString();
    // Once the first closes, the directory can be opened again.
    ASSERT_TRUE((*first)->Close().ok());
    EXPECT_TRUE(Store::Open(dir.path(), {}).ok());
}

TEST(Store, NewerFormatIsRefusedWithAClearMessage) {
    TempDir dir;
    ASSERT_TRUE(Store::Open(dir.path(), {}).ok());
    {
        std::ofstream out(dir.Sub("PHENIX_FORMAT"), std::ios::trunc);
        out << "phenix-data-format " << kDataFormatVersion + 1 << "\n";
    }
    auto reopened = Store::Open(dir.path(), {});
    ASSERT_FALSE(reopened.ok());
    EXPECT_EQ(reopened.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(reopened.status().message().find("newer"), std::string::npos)
        << reopened.status().ToString();
}

// Format 2 lacked the meta_index column family: it is created and the format file rewritten.
TEST(Store, FormatTwoIsUpgradedInPlaceAndFormatOneIsRefused) {
    TempDir dir;
    {
        auto store = Store::Open(dir.path(), {});
        ASSERT_TRUE(store.ok());
        rocksdb::WriteBatch batch = Store::NewBatch();
        batch.Put((*store)->cf(ColumnFamily::kCatalog), "k", "v");
        ASSERT_TRUE((*store)->WriteCatalog(batch, true).ok());
        ASSERT_TRUE((*store)->Close().ok());
    }
    auto version_on_disk = [&] {
        std::ifstream in(dir.Sub("PHENIX_FORMAT"));
        std::string magic;
        int version = 0;
        in >> magic >> version;
        return version;
    };
    {
        std::ofstream out(dir.Sub("PHENIX_FORMAT"), std::ios::trunc);
        out << "phenix-data-format 2\n";
    }
    {
        auto store = Store::Open(dir.path(), {});
        ASSERT_TRUE(store.ok()) << store.status().ToString();
        EXPECT_EQ(version_on_disk(), kDataFormatVersion);
        auto value = (*store)->Get(ColumnFamily::kCatalog, "k");
        ASSERT_TRUE(value.ok());
        EXPECT_EQ(*value, "v");
        ASSERT_TRUE((*store)->Close().ok());
    }
    {
        std::ofstream out(dir.Sub("PHENIX_FORMAT"), std::ios::trunc);
        out << "phenix-data-format 1\n";
    }
    auto old = Store::Open(dir.path(), {});
    ASSERT_FALSE(old.ok());
    EXPECT_EQ(old.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(old.status().message().find("cannot convert it in place"), std::string::npos)
        << old.status().ToString();
}

TEST(Store, GarbledFormatFileIsRefused) {
    TempDir dir;
    ASSERT_TRUE(Store::Open(dir.path(), {}).ok());
    for (const char* content :
         {"", "something else 1\n", "phenix-data-format x\n", "phenix-data-format 0\n"}) {
        {
            std::ofstream out(dir.Sub("PHENIX_FORMAT"), std::ios::trunc);
            out << content;
        }
        auto reopened = Store::Open(dir.path(), {});
        EXPECT_EQ(reopened.status().code(), StatusCode::kFailedPrecondition)
            << "content: " << content;
    }
}

TEST(Store, RefusesANonEmptyDirectoryThatIsNotPhenix) {
    TempDir dir;
    {
        std::ofstream out(dir.Sub("important.txt"));
        out << "user data";
    }
    auto store = Store::Open(dir.path(), {});
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_TRUE(std::filesystem::exists(dir.Sub("important.txt")));
}

TEST(Store, MissingDirectoryWithoutCreateIsNotFound) {
    TempDir dir;
    Options options;
    options.create_if_missing = false;
    EXPECT_EQ(Store::Open(dir.Sub("absent"), options).status().code(), StatusCode::kNotFound);
}

TEST(Store, ErrorIfExists) {
    TempDir dir;
    ASSERT_TRUE(Store::Open(dir.path(), {}).ok());
    Options options;
    options.error_if_exists = true;
    EXPECT_EQ(Store::Open(dir.path(), options).status().code(), StatusCode::kAlreadyExists);
}

TEST(Store, PathThatIsAFileIsRefused) {
    TempDir dir;
    { std::ofstream out(dir.Sub("file")); }
    EXPECT_EQ(Store::Open(dir.Sub("file"), {}).status().code(), StatusCode::kFailedPrecondition);
}

TEST(Store, CounterMergeOperatorTakesMaxAndSums) {
    TempDir dir;
    auto store = Store::Open(dir.path(), {});
    ASSERT_TRUE(store.ok());
    rocksdb::WriteBatch batch = Store::NewBatch();
    auto* cf = (*store)->cf(ColumnFamily::kCatalog);
    batch.Merge(cf, RowHighWaterKey(1), EncodeCounter(5));
    batch.Merge(cf, RowHighWaterKey(1), EncodeCounter(3));
    batch.Merge(cf, EntityCountKey(1), EncodeCounter(10));
    batch.Merge(cf, EntityCountKey(1), EncodeCounter(static_cast<std::uint64_t>(-3)));
    ASSERT_TRUE((*store)->Write(batch, /*commit_ts=*/1).ok());
    EXPECT_EQ(*DecodeCounter(*(*store)->Get(ColumnFamily::kCatalog, RowHighWaterKey(1))), 5u);
    EXPECT_EQ(*DecodeCounter(*(*store)->Get(ColumnFamily::kCatalog, EntityCountKey(1))), 7u);
}

// Bytes in the write-ahead log files of a closed store (what the next open replays).
std::uintmax_t WalBytes(const std::string& path) {
    std::uintmax_t total = 0;
    for (const auto& entry : std::filesystem::directory_iterator(path + "/db")) {
        if (entry.path().extension() == ".log") {
            total += entry.file_size();
        }
    }
    return total;
}

// Issue 12: the first open after a bulk load replayed the whole load from the WAL (a load that
// fits in the memtables was never flushed, and a clean close did not flush it).
TEST(Store, CleanCloseLeavesNoWriteAheadLogToReplay) {
    TempDir dir;
    const std::string path = dir.Sub("data");
    for (const Durability durability : {Durability::kSync, Durability::kRelaxed}) {
        auto store = Store::Open(path, {.durability = durability});
        ASSERT_TRUE(store.ok()) << store.status().ToString();
        rocksdb::WriteBatch batch = Store::NewBatch();
        for (int idx = 0; idx < 1000; ++idx) {
            batch.Put((*store)->cf(ColumnFamily::kEntities),
                      EntityKey(1, 2, static_cast<RowId>(idx)), std::string(100, 'v'));
        }
        ASSERT_TRUE((*store)->Write(batch, /*commit_ts=*/10).ok());
        ASSERT_TRUE((*store)->Close().ok());
        EXPECT_EQ(WalBytes(path), 0u);

        auto reopened = Store::Open(path, {});
        ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
        auto value = (*reopened)->Get(ColumnFamily::kEntities, EntityKey(1, 2, 999),
                                      /*read_ts=*/10);
        ASSERT_TRUE(value.ok()) << value.status().ToString();
        EXPECT_EQ(*value, std::string(100, 'v'));
        ASSERT_TRUE((*reopened)->Close().ok());
    }
}

}  // namespace
}  // namespace phenix::storage
