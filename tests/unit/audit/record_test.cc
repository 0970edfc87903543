// SPDX-License-Identifier: Apache-2.0
#include "audit/record.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace phenix::audit {
namespace {

// The string escaping itself (common/json_string.h, the records' canonical form) is tested in
// tests/unit/common/json_string_test.cc.

TEST(AuditRecord, HostileFieldsCannotAddMembersOrLines) {
    const security::AuditEvent event{
        .time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123)),
        .principal = "mallory\",\"outcome\":\"ok",
        .tenant = "t\n{\"seq\":99}",
        .action = "entity.upsert",
        .target = "docs/\xFF\xFE",
        .outcome = "denied",
        .reason = "\\\"",
        .request_id = std::string("r\0id", 4),
        .client = "10.0.0.1:5"};
    const FormattedRecord record = FormatRecord(7, event, kGenesisHash);
    EXPECT_EQ(record.line.find('\n'), std::string::npos);
    const auto parsed = nlohmann::json::parse(record.line, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << record.line;
    EXPECT_EQ(parsed.size(), 12U);
    EXPECT_EQ(parsed["principal"], "mallory\",\"outcome\":\"ok");
    EXPECT_EQ(parsed["outcome"], "denied");
    EXPECT_EQ(parsed["tenant"], "t\n{\"seq\":99}");
    EXPECT_EQ(parsed["target"], "docs/\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(parsed["request_id"], std::string("r\0id", 4));
    EXPECT_EQ(parsed["seq"], 7);
    EXPECT_EQ(parsed["time"], "2023-11-14T22:13:20.123Z");
    EXPECT_EQ(parsed["prev"], std::string(kGenesisHash));
    EXPECT_EQ(parsed["hash"], record.hash);
}

TEST(AuditRecord, HashCoversTheBodyAndChainFieldsReadBack) {
    const security::AuditEvent event{.time = {}, .action = "server.start", .outcome = "ok"};
    const FormattedRecord record = FormatRecord(1, event, kGenesisHash);
    const auto fields = ReadChainFields(record.line);
    ASSERT_TRUE(fields.has_value());
    EXPECT_EQ(fields->seq, 1U);
    EXPECT_EQ(fields->prev, kGenesisHash);
    EXPECT_EQ(fields->hash, record.hash);
    EXPECT_TRUE(fields->hash_matches);
    // The body is the line without its hash member.
    const std::string body =
        record.line.substr(0, record.line.size() - std::string(",\"hash\":\"\"}").size() - 64) +
        "}";
    EXPECT_EQ(Sha256Hex(body), record.hash);

    std::string edited = record.line;
    edited[edited.find("server")] = 'S';
    const auto edited_fields = ReadChainFields(edited);
    ASSERT_TRUE(edited_fields.has_value());
    EXPECT_FALSE(edited_fields->hash_matches);
    EXPECT_FALSE(ReadChainFields("{\"seq\":1}").has_value());
    EXPECT_FALSE(ReadChainFields("not json").has_value());
}

TEST(AuditRecord, Sha256OfKnownInput) {
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(FormatTime(std::chrono::system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace phenix::audit
