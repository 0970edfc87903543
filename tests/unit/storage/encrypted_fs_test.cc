// SPDX-License-Identifier: Apache-2.0
#include "storage/encrypted_fs.h"

#include <gtest/gtest.h>

#include <fstream>

#include "crypto/secret.h"
#include "storage/checkpoint_file.h"
#include "testing/temp_dir.h"

namespace phenix::storage {
namespace {

crypto::SecretBytes Key(char fill) {
    const std::string bytes(crypto::kKeyBytes, fill);
    return crypto::SecretBytes(bytes.data(), bytes.size());
}

std::string RawBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(EncryptedFileSystem, RoundTripsACheckpointAndStoresOnlyCiphertext) {
    testing::TempDir dir;
    auto fs = NewEncryptedFileSystem(rocksdb::FileSystem::Default(), Key('k'));
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    const std::string path = dir.Sub("c1.hnsw");
    const std::string payload = "PLAINTEXT-MARKER " + std::string(10000, 'x') + " END";
    {
        auto writer = CheckpointWriter::Create(fs->get(), path);
        ASSERT_TRUE(writer.ok());
        (*writer)->Write(payload.data(), payload.size());
        ASSERT_TRUE((*writer)->Commit().ok());
    }
    const std::string raw = RawBytes(path);
    ASSERT_GT(raw.size(), kEncryptionHeaderBytes);
    EXPECT_EQ(raw.substr(0, 8), kEncryptionMagic);
    EXPECT_EQ(raw.find("PLAINTEXT-MARKER"), std::string::npos);
    EXPECT_EQ(raw.find(std::string(64, 'x')), std::string::npos);

    std::uint64_t size = 0;
    ASSERT_TRUE((*fs)->GetFileSize(path, rocksdb::IOOptions(), &size, nullptr).ok());
    EXPECT_EQ(size, raw.size() - kEncryptionHeaderBytes);  // the header is not data
    auto read = ReadCheckpointFile(fs->get(), path);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(*read, payload);
}

TEST(EncryptedFileSystem, RefusesPlainFilesAndFilesOfAnotherDataKey) {
    testing::TempDir dir;
    const std::string path = dir.Sub("c1.hnsw");
    {
        auto writer = CheckpointWriter::Create(nullptr, path);  // plain
        ASSERT_TRUE(writer.ok());
        const std::string payload(5000, 'p');
        (*writer)->Write(payload.data(), payload.size());
        ASSERT_TRUE((*writer)->Commit().ok());
    }
    auto fs = NewEncryptedFileSystem(rocksdb::FileSystem::Default(), Key('k'));
    ASSERT_TRUE(fs.ok());
    auto plain = ReadCheckpointFile(fs->get(), path);
    ASSERT_FALSE(plain.ok());
    EXPECT_NE(plain.status().message().find("not encrypted"), std::string::npos)
        << plain.status().ToString();

    const std::string other_path = dir.Sub("c2.hnsw");
    {
        auto writer = CheckpointWriter::Create(fs->get(), other_path);
        ASSERT_TRUE(writer.ok());
        (*writer)->Write("abc", 3);
        ASSERT_TRUE((*writer)->Commit().ok());
    }
    auto other_fs = NewEncryptedFileSystem(rocksdb::FileSystem::Default(), Key('o'));
    ASSERT_TRUE(other_fs.ok());
    auto other = ReadCheckpointFile(other_fs->get(), other_path);
    ASSERT_FALSE(other.ok());
    EXPECT_NE(other.status().message().find("another database"), std::string::npos)
        << other.status().ToString();
}

}  // namespace
}  // namespace phenix::storage
