// SPDX-License-Identifier: Apache-2.0
//
// The shell's statement parser (tools/phenix/command.h): the transaction and maintenance
// commands, and that the help table covers every command.
#include "command.h"

#include <algorithm>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace phenix::shell {
namespace {

Command Parsed(std::string_view statement) {
    auto cmd = ParseCommand(statement);
    EXPECT_TRUE(cmd.ok()) << statement << ": " << cmd.status().ToString();
    return cmd.ok() ? *cmd : Command{};
}

// The message of the InvalidArgument that `statement` must fail with.
std::string ParseError(std::string_view statement) {
    auto cmd = ParseCommand(statement);
    EXPECT_FALSE(cmd.ok()) << statement << " parsed";
    if (cmd.ok()) {
        return {};
    }
    EXPECT_EQ(cmd.status().code(), StatusCode::kInvalidArgument) << statement;
    return cmd.status().message();
}

TEST(ParseCommand, BeginWithoutOptionsIsReadWriteAtNow) {
    const Command cmd = Parsed("begin");
    EXPECT_EQ(cmd.kind, CommandKind::kBegin);
    EXPECT_FALSE(cmd.read_only);
    EXPECT_FALSE(cmd.as_of.has_value());
}

TEST(ParseCommand, BeginReadOnly) {
    const Command cmd = Parsed("BEGIN Read ONLY");
    EXPECT_EQ(cmd.kind, CommandKind::kBegin);
    EXPECT_TRUE(cmd.read_only);
    EXPECT_FALSE(cmd.as_of.has_value());
}

TEST(ParseCommand, BeginAsOfInEitherOrder) {
    for (std::string_view statement :
         {"begin read only as of 1764100000123456", "begin as of 1764100000123456 read only"}) {
        const Command cmd = Parsed(statement);
        EXPECT_EQ(cmd.kind, CommandKind::kBegin) << statement;
        EXPECT_TRUE(cmd.read_only) << statement;
        EXPECT_EQ(cmd.as_of, 1764100000123456u) << statement;
    }
}

TEST(ParseCommand, BeginAsOfImpliesReadOnly) {
    const Command cmd = Parsed("begin as of 42");
    EXPECT_TRUE(cmd.read_only);
    EXPECT_EQ(cmd.as_of, 42u);
}

TEST(ParseCommand, BeginAsOfAcceptsTheLargestTimestamp) {
    EXPECT_EQ(Parsed("begin as of 18446744073709551615").as_of, 18446744073709551615u);
}

TEST(ParseCommand, BeginRejectsMalformedOptions) {
    EXPECT_NE(ParseError("begin read").find("missing 'only' after 'read'"), std::string::npos);
    EXPECT_NE(ParseError("begin read write").find("expected 'only' after 'read', not 'write'"),
              std::string::npos);
    EXPECT_NE(ParseError("begin as 5").find("expected 'of' after 'as'"), std::string::npos);
    EXPECT_NE(ParseError("begin as of").find("missing timestamp"), std::string::npos);
    EXPECT_NE(ParseError("begin as of yesterday").find("timestamp must be an integer"),
              std::string::npos);
    EXPECT_NE(ParseError("begin as of -1").find("timestamp must be an integer"), std::string::npos);
    EXPECT_NE(ParseError("begin as of 18446744073709551616").find("timestamp must be an integer"),
              std::string::npos);
    EXPECT_NE(ParseError("begin transaction").find("unexpected 'transaction'"), std::string::npos);
    // Each option at most once.
    EXPECT_NE(ParseError("begin read only read only").find("unexpected 'read'"), std::string::npos);
    EXPECT_NE(ParseError("begin as of 1 as of 2").find("unexpected 'as'"), std::string::npos);
}

TEST(ParseCommand, BeginErrorsShowItsUsage) {
    EXPECT_NE(ParseError("begin now").find("usage: begin [read only] [as of TIMESTAMP]"),
              std::string::npos);
}

TEST(ParseCommand, TransactionAndMaintenanceCommandsTakeNoArguments) {
    EXPECT_EQ(Parsed("commit").kind, CommandKind::kCommit);
    EXPECT_EQ(Parsed("ROLLBACK").kind, CommandKind::kRollback);
    EXPECT_EQ(Parsed("timestamp").kind, CommandKind::kTimestamp);
    EXPECT_EQ(Parsed("now").kind, CommandKind::kTimestamp);
    EXPECT_EQ(Parsed("verify").kind, CommandKind::kVerify);
    EXPECT_NE(ParseError("commit now").find("usage: commit"), std::string::npos);
    EXPECT_NE(ParseError("rollback all").find("usage: rollback"), std::string::npos);
    EXPECT_NE(ParseError("timestamp 5").find("usage: timestamp"), std::string::npos);
    EXPECT_NE(ParseError("now please").find("usage: timestamp"), std::string::npos);
    EXPECT_NE(ParseError("verify docs").find("usage: verify"), std::string::npos);
}

TEST(ParseCommand, SuggestsTransactionCommandsForTypos) {
    EXPECT_NE(ParseError("comit").find("did you mean 'commit'?"), std::string::npos);
    EXPECT_NE(ParseError("rollbak").find("did you mean 'rollback'?"), std::string::npos);
    EXPECT_NE(ParseError("begn").find("did you mean 'begin'?"), std::string::npos);
    EXPECT_NE(ParseError("verfy").find("did you mean 'verify'?"), std::string::npos);
    EXPECT_NE(ParseError("timestmp").find("did you mean 'timestamp'?"), std::string::npos);
}

TEST(ParseCommand, SplitsATransactionOnOneLine) {
    const auto statements =
        SplitStatements(R"(begin; insert c {"id":"a","metadata":{"x":";"}}; commit)");
    ASSERT_EQ(statements.size(), 3u);
    EXPECT_EQ(Parsed(statements[0]).kind, CommandKind::kBegin);
    EXPECT_EQ(Parsed(statements[1]).kind, CommandKind::kInsert);
    EXPECT_EQ(Parsed(statements[2]).kind, CommandKind::kCommit);
}

TEST(AllCommandHelp, ListsTheNewCommands) {
    const auto help = AllCommandHelp();
    for (std::string_view usage :
         {"begin [read only] [as of TIMESTAMP]", "commit", "rollback", "timestamp", "verify"}) {
        EXPECT_TRUE(std::any_of(help.begin(), help.end(), [&](const CommandHelp& entry) {
            return entry.usage == usage;
        })) << usage;
    }
}

TEST(AllCommandHelp, EveryUsageStartsWithAWordThatParses) {
    // A usage line names its command first; that word must be one the parser knows (not
    // "unknown command"), which catches a help entry and the parser drifting apart.
    for (const CommandHelp& entry : AllCommandHelp()) {
        const std::string_view usage = entry.usage;
        if (usage.starts_with('#')) {
            continue;
        }
        const std::string word(usage.substr(0, usage.find(' ')));
        auto cmd = ParseCommand(word);
        if (!cmd.ok()) {
            EXPECT_EQ(cmd.status().message().find("unknown command"), std::string::npos)
                << usage << ": " << cmd.status().ToString();
        }
    }
}

}  // namespace
}  // namespace phenix::shell
