// SPDX-License-Identifier: Apache-2.0
//
// Tampering with an audit log: each kind of edit makes VerifyAuditLog fail at the record where
// the log stops being the one AuditLog wrote (file, line, seq, why).
#include "audit/verify.h"

#include <filesystem>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "audit/audit_files.h"
#include "audit/record.h"
#include "testing/temp_dir.h"
#include "unit/audit/audit_test_util.h"

namespace phenix::audit {
namespace {

using testing::Event;
using testing::ReadLines;
using testing::TestOptions;
using testing::WriteLines;
using testing::WriteLog;

class AuditVerify : public ::testing::Test {
  protected:
    // A one-file log of 6 records.
    void SetUp() override {
        WriteLog(TestOptions(Dir()), 6);
        lines_ = ReadLines(File());
        ASSERT_EQ(lines_.size(), 6U);
    }
    std::string Dir() const { return dir_.Sub("audit"); }
    std::string File() const { return Dir() + "/audit-000001.jsonl"; }

    // Writes `lines` back and verifies; the failure it must report.
    VerifyFailure Tampered(const std::vector<std::string>& lines) {
        WriteLines(File(), lines);
        auto report = VerifyAuditLog(Dir());
        EXPECT_TRUE(report.ok()) << report.status().ToString();
        if (!report.ok() || report->ok()) {
            ADD_FAILURE() << "verify did not notice";
            return {};
        }
        return *report->failure;
    }

    std::string HashOf(std::size_t line_idx) const {
        return nlohmann::json::parse(lines_[line_idx])["hash"];
    }

    phenix::testing::TempDir dir_;
    std::vector<std::string> lines_;
};

TEST_F(AuditVerify, AnUntouchedLogVerifies) {
    auto report = VerifyAuditLog(Dir(), HashOf(5));
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok()) << report->ToString();
    EXPECT_EQ(report->num_records, 6U);
    EXPECT_EQ(report->last_hash, HashOf(5));
}

TEST_F(AuditVerify, EditingOneByteFailsAtThatRecord) {
    auto lines = lines_;
    lines[2][lines[2].find("alice") + 2] = 'x';  // "alxce"
    const VerifyFailure failure = Tampered(lines);
    EXPECT_EQ(failure.file, "audit-000001.jsonl");
    EXPECT_EQ(failure.line, 3U);
    EXPECT_EQ(failure.seq, 3U);
    EXPECT_NE(failure.why.find("hash does not match"), std::string::npos) << failure.why;
}

TEST_F(AuditVerify, EditingTheSeqFailsAtThatRecord) {
    auto lines = lines_;
    lines[3].replace(0, 9, "{\"seq\":9,");  // {"seq":4, -> {"seq":9,
    const VerifyFailure failure = Tampered(lines);
    EXPECT_EQ(failure.line, 4U);
    EXPECT_EQ(failure.seq, 9U);
    EXPECT_NE(failure.why.find("hash does not match"), std::string::npos) << failure.why;
}

TEST_F(AuditVerify, BreakingTheJsonFailsAtThatRecord) {
    auto lines = lines_;
    lines[1].back() = ']';
    const VerifyFailure failure = Tampered(lines);
    EXPECT_EQ(failure.line, 2U);
    EXPECT_FALSE(failure.seq.has_value());
    EXPECT_EQ(failure.why, "not JSON");
}

TEST_F(AuditVerify, ARewrittenButEquivalentLineFails) {
    auto lines = lines_;
    auto record = nlohmann::json::parse(lines[1]);
    lines[1] = record.dump();  // same values, keys reordered
    const VerifyFailure failure = Tampered(lines);
    EXPECT_EQ(failure.line, 2U);
    EXPECT_EQ(failure.seq, 2U);
    EXPECT_NE(failure.why.find("not in the form"), std::string::npos) << failure.why;
}

TEST_F(AuditVerify, DeletingARecordFailsWhereItWas) {
    auto lines = lines_;
    lines.erase(lines.begin() + 2);  // seq 3
    const VerifyFailure failure = Tampered(lines);
    EXPECT_EQ(failure.line, 3U);
    EXPECT_EQ(failure.seq, 4U);
    EXPECT_EQ(failure.why, "seq gap: expected 3, found 4");
}

TEST_F(AuditVerify, ReorderingTwoRecordsFailsAtTheFirst) {
    auto lines = lines_;
    std::swap(lines[3], lines[4]);
    const VerifyFailure failure = Tampered(lines);
    EXPECT_EQ(failure.line, 4U);
    EXPECT_EQ(failure.seq, 5U);
    EXPECT_EQ(failure.why, "seq gap: expected 4, found 5");
}

TEST_F(AuditVerify, InsertingACopiedRecordFailsAtIt) {
    auto lines = lines_;
    lines.insert(lines.begin() + 3, lines[1]);  // a replay of seq 2
    const VerifyFailure failure = Tampered(lines);
    EXPECT_EQ(failure.line, 4U);
    EXPECT_EQ(failure.seq, 2U);
    EXPECT_EQ(failure.why, "seq gap: expected 4, found 2");
}

TEST_F(AuditVerify, InsertingAForgedRecordWithAStaleChainFailsAtIt) {
    // Hashed correctly, but chained from record 2 and numbered 3: placed after record 3.
    auto lines = lines_;
    security::AuditEvent forged = Event(99);
    forged.principal = "mallory";
    lines.insert(lines.begin() + 3, FormatRecord(4, forged, HashOf(1)).line);
    const VerifyFailure failure = Tampered(lines);
    EXPECT_EQ(failure.line, 4U);
    EXPECT_EQ(failure.seq, 4U);
    EXPECT_EQ(failure.why, "prev does not match the hash of the record before");
}

TEST_F(AuditVerify, InsertingAFullyChainedForgeryFailsAtTheNextGenuineRecord) {
    // A forger who computes seq, prev and hash right passes at the forged line; the chain breaks
    // at the genuine record after it (it cannot be re-chained without rewriting the rest).
    auto lines = lines_;
    lines.insert(lines.begin() + 3, FormatRecord(4, Event(99), HashOf(2)).line);
    const VerifyFailure failure = Tampered(lines);
    EXPECT_EQ(failure.line, 5U);
    EXPECT_EQ(failure.seq, 4U);
    EXPECT_EQ(failure.why, "seq gap: expected 5, found 4");
}

TEST_F(AuditVerify, AChangedPrevFailsAtThatRecord) {
    auto lines = lines_;
    lines[4] = FormatRecord(5, Event(5), HashOf(2)).line;  // rehashed, chained to record 3
    const VerifyFailure failure = Tampered(lines);
    EXPECT_EQ(failure.line, 5U);
    EXPECT_EQ(failure.seq, 5U);
    EXPECT_EQ(failure.why, "prev does not match the hash of the record before");
}

TEST_F(AuditVerify, AnIncompleteLastLineFails) {
    WriteLines(File(), lines_);
    {
        std::ofstream out(File(), std::ios::binary | std::ios::app);
        out << "{\"seq\":7";
    }
    auto report = VerifyAuditLog(Dir());
    ASSERT_TRUE(report.ok());
    ASSERT_FALSE(report->ok());
    EXPECT_EQ(report->failure->line, 7U);
    EXPECT_NE(report->failure->why.find("incomplete last line"), std::string::npos);
}

TEST_F(AuditVerify, ARemovedTailVerifiesUnlessTheLastHashWasNoted) {
    auto lines = lines_;
    lines.pop_back();
    WriteLines(File(), lines);
    auto alone = VerifyAuditLog(Dir());
    ASSERT_TRUE(alone.ok());
    EXPECT_TRUE(alone->ok()) << "a shorter chain is a valid chain";
    EXPECT_EQ(alone->num_records, 5U);
    auto noted = VerifyAuditLog(Dir(), HashOf(5));
    ASSERT_TRUE(noted.ok());
    ASSERT_FALSE(noted->ok());
    EXPECT_NE(noted->failure->why.find("no record has hash " + HashOf(5)), std::string::npos)
        << noted->failure->why;
}

TEST(AuditVerifyFiles, DeletingAMiddleFileFailsAtTheFirstRecordAfterIt) {
    phenix::testing::TempDir dir;
    AuditOptions options = TestOptions(dir.Sub("audit"));
    options.max_file_bytes = 1000;
    WriteLog(options, 7);
    auto files = ListAuditFiles(options.dir);
    ASSERT_TRUE(files.ok());
    ASSERT_GE(files->size(), 3U);
    const auto third = ReadLines((*files)[2].path);
    ASSERT_FALSE(third.empty());
    const std::uint64_t first_seq_of_third = nlohmann::json::parse(third[0])["seq"];
    const std::uint64_t first_seq_of_second =
        nlohmann::json::parse(ReadLines((*files)[1].path)[0])["seq"];
    std::filesystem::remove((*files)[1].path);

    auto report = VerifyAuditLog(options.dir);
    ASSERT_TRUE(report.ok());
    ASSERT_FALSE(report->ok());
    EXPECT_EQ(report->failure->file, "audit-000003.jsonl");
    EXPECT_EQ(report->failure->line, 1U);
    EXPECT_EQ(report->failure->seq, first_seq_of_third);
    EXPECT_EQ(report->failure->why, "seq gap: expected " + std::to_string(first_seq_of_second) +
                                        ", found " + std::to_string(first_seq_of_third) +
                                        " (missing file audit-000002.jsonl)");
    EXPECT_EQ(report->ToString(), "broken: audit-000003.jsonl line 1 (seq " +
                                      std::to_string(first_seq_of_third) +
                                      "): " + report->failure->why);
}

TEST(AuditVerifyFiles, DeletingTheFirstFileFails) {
    phenix::testing::TempDir dir;
    AuditOptions options = TestOptions(dir.Sub("audit"));
    options.max_file_bytes = 1000;
    WriteLog(options, 4);
    std::filesystem::remove(options.dir + "/audit-000001.jsonl");
    auto report = VerifyAuditLog(options.dir);
    ASSERT_TRUE(report.ok());
    ASSERT_FALSE(report->ok());
    EXPECT_EQ(report->failure->file, "audit-000002.jsonl");
    EXPECT_EQ(report->failure->line, 1U);
    EXPECT_NE(report->failure->why.find("expected 1"), std::string::npos) << report->failure->why;
}

TEST(AuditVerifyFiles, NoLogIsNotFound) {
    phenix::testing::TempDir dir;
    EXPECT_EQ(VerifyAuditLog(dir.Sub("missing")).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(VerifyAuditLog(dir.path()).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace phenix::audit
