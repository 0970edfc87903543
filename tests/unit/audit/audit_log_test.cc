// SPDX-License-Identifier: Apache-2.0
#include "audit/audit_log.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "audit/audit_files.h"
#include "audit/record.h"
#include "audit/verify.h"
#include "testing/temp_dir.h"
#include "unit/audit/audit_test_util.h"

namespace phenix::audit {
namespace {

using testing::Event;
using testing::ReadLines;
using testing::TestOptions;
using testing::WriteLog;

TEST(AuditLog, WritesAChainThatVerifies) {
    phenix::testing::TempDir dir;
    auto log = AuditLog::Open(TestOptions(dir.Sub("audit")));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (std::uint64_t idx = 1; idx <= 3; ++idx) {
        (*log)->Record(Event(idx));
    }
    ASSERT_TRUE((*log)->Flush().ok());
    EXPECT_EQ((*log)->last_seq(), 3U);
    const std::string last_hash = (*log)->last_hash();
    ASSERT_TRUE((*log)->Close().ok());

    const auto lines = ReadLines(dir.Sub("audit/audit-000001.jsonl"));
    ASSERT_EQ(lines.size(), 3U);
    const auto first = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(first["seq"], 1);
    EXPECT_EQ(first["prev"], std::string(kGenesisHash));
    EXPECT_EQ(first["principal"], "alice");
    EXPECT_EQ(first["request_id"], "req-1");
    EXPECT_EQ(nlohmann::json::parse(lines[1])["prev"], first["hash"]);

    auto report = VerifyAuditLog(dir.Sub("audit"));
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok()) << report->ToString();
    EXPECT_EQ(report->num_records, 3U);
    EXPECT_EQ(report->last_hash, last_hash);
    EXPECT_EQ(report->ToString(), "ok: 3 records in 1 files, last hash " + last_hash);
}

TEST(AuditLog, ChainCrossesRotatedFiles) {
    phenix::testing::TempDir dir;
    AuditOptions options = TestOptions(dir.Sub("audit"));
    options.max_file_bytes = 1000;  // two records a file (a record is ~420 bytes)
    WriteLog(options, 9);
    auto files = ListAuditFiles(options.dir);
    ASSERT_TRUE(files.ok());
    ASSERT_EQ(files->size(), 5U);
    for (std::size_t file_idx = 0; file_idx < files->size(); ++file_idx) {
        const auto lines = ReadLines((*files)[file_idx].path);
        ASSERT_FALSE(lines.empty());
        EXPECT_LE(std::filesystem::file_size((*files)[file_idx].path), 1000U);
        if (file_idx > 0) {
            // The first record of a file chains from the last record of the file before.
            const auto before = ReadLines((*files)[file_idx - 1].path);
            EXPECT_EQ(nlohmann::json::parse(lines.front())["prev"],
                      nlohmann::json::parse(before.back())["hash"]);
        }
    }
    auto report = VerifyAuditLog(options.dir);
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok()) << report->ToString();
    EXPECT_EQ(report->num_records, 9U);
    EXPECT_EQ(report->num_files, 5U);
}

TEST(AuditLog, AFileTakesARecordLargerThanTheLimit) {
    phenix::testing::TempDir dir;
    AuditOptions options = TestOptions(dir.Sub("audit"));
    options.max_file_bytes = 10;
    WriteLog(options, 3);
    auto report = VerifyAuditLog(options.dir);
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok()) << report->ToString();
    EXPECT_EQ(report->num_files, 3U);
}

TEST(AuditLog, RestartContinuesTheChainInTheNewestFile) {
    phenix::testing::TempDir dir;
    AuditOptions options = TestOptions(dir.Sub("audit"));
    options.max_file_bytes = 1000;
    WriteLog(options, 3);  // files 1 (seq 1, 2) and 2 (seq 3)
    auto log = AuditLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_EQ((*log)->last_seq(), 3U);
    (*log)->Record(Event(4));
    ASSERT_TRUE((*log)->Close().ok());

    const auto lines = ReadLines(options.dir + "/audit-000002.jsonl");
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_EQ(nlohmann::json::parse(lines[1])["seq"], 4);
    auto report = VerifyAuditLog(options.dir);
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok()) << report->ToString();
    EXPECT_EQ(report->num_records, 4U);
}

TEST(AuditLog, TornLastLineIsTruncatedAndRecorded) {
    phenix::testing::TempDir dir;
    const AuditOptions options = TestOptions(dir.Sub("audit"));
    WriteLog(options, 3);
    const std::string path = options.dir + "/audit-000001.jsonl";
    {
        std::ofstream out(path, std::ios::binary | std::ios::app);
        out << "{\"seq\":4,\"time\":\"2026-";  // a write cut off by a crash
    }
    auto before = VerifyAuditLog(options.dir);
    ASSERT_TRUE(before.ok());
    ASSERT_FALSE(before->ok());
    EXPECT_EQ(before->failure->line, 4U);

    auto log = AuditLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    (*log)->Record(Event(5));
    ASSERT_TRUE((*log)->Close().ok());

    const auto lines = ReadLines(path);
    ASSERT_EQ(lines.size(), 5U);
    const auto recovered = nlohmann::json::parse(lines[3]);
    EXPECT_EQ(recovered["seq"], 4);
    EXPECT_EQ(recovered["action"], "log.recovered");
    EXPECT_EQ(recovered["target"], "audit-000001.jsonl");
    EXPECT_NE(recovered["reason"].get<std::string>().find("truncated 22 bytes"), std::string::npos)
        << recovered["reason"];
    EXPECT_EQ(nlohmann::json::parse(lines[4])["request_id"], "req-5");
    auto report = VerifyAuditLog(options.dir);
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok()) << report->ToString();
    EXPECT_EQ(report->num_records, 5U);
}

TEST(AuditLog, RefusesToForkTheChainAfterADamagedLastRecord) {
    phenix::testing::TempDir dir;
    const AuditOptions options = TestOptions(dir.Sub("audit"));
    WriteLog(options, 2);
    const std::string path = options.dir + "/audit-000001.jsonl";
    auto lines = ReadLines(path);
    lines[1][lines[1].find("alice")] = 'A';
    testing::WriteLines(path, lines);
    auto log = AuditLog::Open(options);
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.status().code(), StatusCode::kCorruption) << log.status().ToString();
    EXPECT_NE(log.status().message().find("phenix audit verify"), std::string::npos);
}

TEST(AuditLog, AnEmptyNewestFileContinuesFromTheFileBefore) {
    phenix::testing::TempDir dir;
    const AuditOptions options = TestOptions(dir.Sub("audit"));
    WriteLog(options, 2);
    { std::ofstream create(options.dir + "/audit-000002.jsonl"); }  // rotation cut off
    WriteLog(options, 1);
    const auto lines = ReadLines(options.dir + "/audit-000002.jsonl");
    ASSERT_EQ(lines.size(), 1U);
    EXPECT_EQ(nlohmann::json::parse(lines[0])["seq"], 3);
    auto report = VerifyAuditLog(options.dir);
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok()) << report->ToString();
}

TEST(AuditLog, OneWriterPerDirectory) {
    phenix::testing::TempDir dir;
    auto first = AuditLog::Open(TestOptions(dir.Sub("audit")));
    ASSERT_TRUE(first.ok());
    auto second = AuditLog::Open(TestOptions(dir.Sub("audit")));
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
}

TEST(AuditLog, RejectsBadOptions) {
    EXPECT_EQ(AuditLog::Open(AuditOptions{}).status().code(), StatusCode::kInvalidArgument);
    phenix::testing::TempDir dir;
    AuditOptions options = TestOptions(dir.path());
    options.max_file_bytes = 0;
    EXPECT_EQ(AuditLog::Open(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(AuditLog, FlushWritesBeforeClose) {
    phenix::testing::TempDir dir;
    AuditOptions options = TestOptions(dir.Sub("audit"));
    options.group_commit_interval = std::chrono::seconds(10);  // Flush need not wait for it
    options.fsync = true;
    auto log = AuditLog::Open(options);
    ASSERT_TRUE(log.ok());
    (*log)->Record(Event(1));
    ASSERT_TRUE((*log)->Flush().ok());
    EXPECT_EQ(ReadLines(options.dir + "/audit-000001.jsonl").size(), 1U);
    ASSERT_TRUE((*log)->Close().ok());
    (*log)->Record(Event(2));  // after Close: reported on stderr, no crash
    EXPECT_EQ(ReadLines(options.dir + "/audit-000001.jsonl").size(), 1U);
}

TEST(AuditLog, ConcurrentRecordsGetEverySeqOnce) {
    constexpr std::uint64_t kThreads = 8;
    constexpr std::uint64_t kPerThread = 100;
    phenix::testing::TempDir dir;
    AuditOptions options = TestOptions(dir.Sub("audit"));
    options.max_queued = 16;  // Record blocks on a full queue
    options.max_file_bytes = 32 * 1024;
    options.group_commit_interval = std::chrono::milliseconds(1);
    auto log = AuditLog::Open(options);
    ASSERT_TRUE(log.ok());
    std::vector<std::thread> threads;
    for (std::uint64_t thread_idx = 0; thread_idx < kThreads; ++thread_idx) {
        threads.emplace_back([&, thread_idx] {
            for (std::uint64_t event_idx = 0; event_idx < kPerThread; ++event_idx) {
                (*log)->Record(Event(thread_idx * kPerThread + event_idx));
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    ASSERT_TRUE((*log)->Close().ok());

    auto report = VerifyAuditLog(options.dir);
    ASSERT_TRUE(report.ok());
    ASSERT_TRUE(report->ok()) << report->ToString();
    EXPECT_EQ(report->num_records, kThreads * kPerThread);
    EXPECT_GT(report->num_files, 1U);
    std::set<std::string> request_ids;
    auto files = ListAuditFiles(options.dir);
    ASSERT_TRUE(files.ok());
    for (const AuditFile& file : *files) {
        for (const std::string& line : ReadLines(file.path)) {
            EXPECT_TRUE(request_ids.insert(nlohmann::json::parse(line)["request_id"]).second);
        }
    }
    EXPECT_EQ(request_ids.size(), kThreads * kPerThread);
}

}  // namespace
}  // namespace phenix::audit

namespace phenix::audit {
namespace {

TEST(AuditLog, HostileNamesStayInsideTheirFieldsAndVerify) {
    phenix::testing::TempDir dir;
    const AuditOptions options = testing::TestOptions(dir.Sub("audit"));
    auto log = AuditLog::Open(options);
    ASSERT_TRUE(log.ok());
    security::AuditEvent event = testing::Event(1);
    event.principal = "eve\n{\"seq\":2,\"action\":\"forged\"}";
    event.target = "docs/\"},\"outcome\":\"ok\xFF";
    (*log)->Record(event);
    ASSERT_TRUE((*log)->Close().ok());
    const auto lines = testing::ReadLines(options.dir + "/audit-000001.jsonl");
    ASSERT_EQ(lines.size(), 1U);
    const auto record = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(record["principal"], event.principal);
    EXPECT_EQ(record["target"], "docs/\"},\"outcome\":\"ok\xEF\xBF\xBD");
    EXPECT_EQ(record["outcome"], "ok");
    auto report = VerifyAuditLog(options.dir);
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok()) << report->ToString();
}

}  // namespace
}  // namespace phenix::audit
