// SPDX-License-Identifier: Apache-2.0
// The info LOG Phenix writes for RocksDB (storage/info_log.h): nothing before the open succeeded,
// rotation only then, and a full disk costs lines, never the process.
#include "storage/info_log.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include "testing/temp_dir.h"

namespace phenix::storage {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(InfoLog, WritesNothingUntilStartedThenWhatWasHeld) {
    testing::TempDir dir;
    const std::string path = dir.Sub("LOG");
    auto log = std::make_shared<InfoLog>(path);
    rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, log, "opening %d", 1);
    rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, log, "careful");
    EXPECT_FALSE(fs::exists(path));
    log->Start(/*rotate_above_bytes=*/1u << 20);
    rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, log, "open");
    const std::string text = ReadFile(path);
    EXPECT_NE(text.find("opening 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("[WARN] careful\n"), std::string::npos) << text;
    EXPECT_NE(text.find("open\n"), std::string::npos) << text;
    EXPECT_LT(text.find("opening 1"), text.find("open\n")) << text;
    EXPECT_EQ(log->GetLogFileSize(), text.size());
    EXPECT_EQ(log->dropped_lines(), 0u);
}

TEST(InfoLog, AFailedOpenLeavesTheLogAsItWas) {
    testing::TempDir dir;
    const std::string path = dir.Sub("LOG");
    { std::ofstream(path) << "an earlier session\n"; }
    auto log = std::make_shared<InfoLog>(path);
    rocksdb::Log(rocksdb::InfoLogLevel::ERROR_LEVEL, log, "no space");
    log->Discard();
    rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, log, "closing");
    EXPECT_EQ(ReadFile(path), "an earlier session\n");
    EXPECT_EQ(log->dropped_lines(), 1u);
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(InfoLog, AppendsAcrossOpensAndRotatesOnlyALargeLog) {
    testing::TempDir dir;
    const std::string path = dir.Sub("LOG");
    { std::ofstream(path) << "small\n"; }
    {
        auto log = std::make_shared<InfoLog>(path);
        log->Start(/*rotate_above_bytes=*/100);
        rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, log, "second");
    }
    const std::string appended = ReadFile(path);
    EXPECT_TRUE(appended.starts_with("small\n")) << appended;
    EXPECT_NE(appended.find("second\n"), std::string::npos) << appended;
    { std::ofstream(path, std::ios::app) << std::string(200, 'x') << "\n"; }
    const std::string big = ReadFile(path);
    {
        auto log = std::make_shared<InfoLog>(path);
        log->Start(/*rotate_above_bytes=*/100);
        rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, log, "third");
    }
    std::string rotated;
    for (const auto& entry : fs::directory_iterator(dir.path())) {
        if (entry.path().filename().string().starts_with("LOG.old.")) {
            rotated = entry.path().string();
        }
    }
    ASSERT_FALSE(rotated.empty()) << "the large LOG was not rotated";
    EXPECT_EQ(ReadFile(rotated), big);
    const std::string fresh = ReadFile(path);
    EXPECT_FALSE(fresh.starts_with("small")) << fresh;
    EXPECT_NE(fresh.find("third\n"), std::string::npos) << fresh;
}

// Every write fails with ENOSPC on /dev/full: lines are dropped and counted, and logging goes on.
TEST(InfoLog, AFullDiskCostsLinesNotTheProcess) {
    auto log = std::make_shared<InfoLog>("/dev/full");
    rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, log, "held");
    log->Start(/*rotate_above_bytes=*/std::uint64_t{1} << 40);
    for (int idx = 0; idx < 100; ++idx) {
        rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, log, "line %d", idx);
        log->Flush();
    }
    EXPECT_EQ(log->dropped_lines(), 101u);
}

}  // namespace
}  // namespace phenix::storage
