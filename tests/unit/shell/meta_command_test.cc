// SPDX-License-Identifier: Apache-2.0
//
// The shell's input (tools/phenix/meta_command.h): meta-commands end at the end of their line,
// PhenixQL statements at ';' (over as many lines as they take), '#' lines are comments, and the
// listing meta-commands stand for PhenixQL statements that parse.
#include "meta_command.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "query/parser.h"

namespace phenix::shell {
namespace {

MetaCommand Parsed(std::string_view line) {
    auto command = ParseMetaCommand(line);
    EXPECT_TRUE(command.ok()) << line << ": " << command.status().ToString();
    return command.ok() ? *command : MetaCommand{};
}

std::string ParseError(std::string_view line) {
    auto command = ParseMetaCommand(line);
    EXPECT_FALSE(command.ok()) << line << " parsed";
    if (command.ok()) {
        return {};
    }
    EXPECT_EQ(command.status().code(), StatusCode::kInvalidArgument) << line;
    return command.status().message();
}

// The texts of the pieces, "META " marking meta-commands.
std::vector<std::string> Texts(const std::vector<InputPiece>& pieces) {
    std::vector<std::string> out;
    for (const InputPiece& piece : pieces) {
        out.push_back((piece.is_meta ? "META " : "") + piece.text);
    }
    return out;
}

TEST(ParseMetaCommand, QuitHasThreeSpellings) {
    for (std::string_view line : {"\\q", "quit", "EXIT", "exit;", "  \\q  "}) {
        EXPECT_EQ(Parsed(line).kind, MetaKind::kQuit) << line;
    }
    EXPECT_NE(ParseError("\\q now").find("unexpected 'now'"), std::string::npos);
}

TEST(ParseMetaCommand, HelpTakesAnOptionalTopic) {
    for (std::string_view line : {"\\?", "\\help", "\\h", "help"}) {
        const MetaCommand command = Parsed(line);
        EXPECT_EQ(command.kind, MetaKind::kHelp) << line;
        EXPECT_EQ(command.argument, "") << line;
    }
    EXPECT_EQ(Parsed("\\? SELECT").argument, "select");
    EXPECT_EQ(Parsed("help create").argument, "create");
}

TEST(ParseMetaCommand, TimingTogglesOrSets) {
    EXPECT_FALSE(Parsed("\\timing").enable.has_value());
    EXPECT_EQ(Parsed("\\timing on").enable, true);
    EXPECT_EQ(Parsed("\\timing OFF").enable, false);
    EXPECT_NE(ParseError("\\timing maybe").find("expected on or off"), std::string::npos);
}

TEST(ParseMetaCommand, ListingCommandsStandForPhenixQlStatements) {
    struct Case {
        std::string_view line;
        std::string_view statement;
    };
    for (const Case& c : std::vector<Case>{{"\\d", "SHOW COLLECTIONS"},
                                           {"\\d docs", "DESCRIBE \"docs\""},
                                           {"\\d \"My Docs\"", "DESCRIBE \"My Docs\""},
                                           {"\\d \"a\"\"b\";", "DESCRIBE \"a\"\"b\""},
                                           {"\\dt", "SHOW COLLECTIONS"},
                                           {"\\dt;", "SHOW COLLECTIONS"},
                                           {"\\di", "SHOW INDEXES"},
                                           {"\\di docs", "SHOW INDEXES ON \"docs\""},
                                           {"\\dn", "SHOW TENANTS"}}) {
        const auto statement = MetaStatement(Parsed(c.line));
        ASSERT_TRUE(statement.has_value()) << c.line;
        EXPECT_EQ(*statement, c.statement) << c.line;
        // The statement is PhenixQL: the parser reads it.
        EXPECT_TRUE(query::ParseStatement(*statement).ok()) << *statement;
    }
    EXPECT_FALSE(MetaStatement(Parsed("\\q")).has_value());
    EXPECT_FALSE(MetaStatement(Parsed("\\timing")).has_value());
    EXPECT_NE(ParseError("\\dt docs").find("unexpected 'docs'"), std::string::npos);
    EXPECT_EQ(Parsed("\\di \"a\"\"b\"").argument, "a\"b");
    EXPECT_NE(ParseError("\\d \"open").find("unterminated"), std::string::npos);
    EXPECT_NE(ParseError("\\d \"a\" b").find("unexpected"), std::string::npos);
}

TEST(ParseMetaCommand, UnknownOnesSuggestTheClosest) {
    EXPECT_NE(ParseError("\\timng").find("did you mean '\\timing'?"), std::string::npos);
    EXPECT_NE(ParseError("\\zzzzzz").find("unknown meta-command '\\zzzzzz'"), std::string::npos);
}

TEST(IsMetaCommandLine, BackslashOrAPsqlWord) {
    EXPECT_TRUE(IsMetaCommandLine("\\dt"));
    EXPECT_TRUE(IsMetaCommandLine("  \\timing on"));
    EXPECT_TRUE(IsMetaCommandLine("quit"));
    EXPECT_TRUE(IsMetaCommandLine("help select"));
    EXPECT_FALSE(IsMetaCommandLine("SELECT 1;"));
    EXPECT_FALSE(IsMetaCommandLine("quit now"));
    EXPECT_FALSE(IsMetaCommandLine(""));
}

TEST(StatementSplitter, StatementsEndAtSemicolonsAcrossLines) {
    StatementSplitter splitter;
    EXPECT_TRUE(splitter.AddLine("SELECT id", 1).empty());
    EXPECT_TRUE(splitter.HasPending());
    const std::vector<InputPiece> pieces = splitter.AddLine("FROM docs; SHOW TENANTS;", 2);
    EXPECT_EQ(Texts(pieces), (std::vector<std::string>{"SELECT id\nFROM docs;", "SHOW TENANTS;"}));
    ASSERT_EQ(pieces.size(), 2u);
    EXPECT_EQ(pieces[0].line, 1u);
    EXPECT_EQ(pieces[1].line, 2u);
    EXPECT_FALSE(splitter.HasPending());
}

TEST(StatementSplitter, MetaCommandsEndAtTheEndOfTheirLine) {
    StatementSplitter splitter;
    EXPECT_EQ(Texts(splitter.AddLine("\\timing on", 1)),
              (std::vector<std::string>{"META \\timing on"}));
    EXPECT_EQ(Texts(splitter.AddLine("quit", 2)), (std::vector<std::string>{"META quit"}));
}

TEST(StatementSplitter, ABackslashLineInsideAStatementIsPartOfIt) {
    // Only a line that starts a piece can be a meta-command: inside a statement it is text (the
    // parser reports it).
    StatementSplitter splitter;
    EXPECT_TRUE(splitter.AddLine("SELECT id FROM docs", 1).empty());
    EXPECT_EQ(Texts(splitter.AddLine("\\q;", 2)),
              (std::vector<std::string>{"SELECT id FROM docs\n\\q;"}));
}

TEST(StatementSplitter, CommentsAndBlankLinesAreSkipped) {
    StatementSplitter splitter;
    EXPECT_TRUE(splitter.AddLine("# a shell comment", 1).empty());
    EXPECT_TRUE(splitter.AddLine("-- a PhenixQL comment", 2).empty());
    EXPECT_TRUE(splitter.AddLine("   ", 3).empty());
    EXPECT_FALSE(splitter.HasPending());
}

TEST(StatementSplitter, SemicolonsInsideStringsAndJsonDoNotEndAStatement) {
    StatementSplitter splitter;
    EXPECT_EQ(Texts(splitter.AddLine(
                  "INSERT INTO n (id, metadata) VALUES ('a;b', {\"t\": \"x;y\"});", 1)),
              (std::vector<std::string>{
                  "INSERT INTO n (id, metadata) VALUES ('a;b', {\"t\": \"x;y\"});"}));
}

TEST(StatementSplitter, FinishReturnsTheUnfinishedStatement) {
    StatementSplitter splitter;
    EXPECT_TRUE(splitter.AddLine("SELECT 1", 4).empty());
    const auto last = splitter.Finish();
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->text, "SELECT 1");
    EXPECT_EQ(last->line, 4u);
    EXPECT_FALSE(splitter.Finish().has_value());
}

TEST(StatementSplitter, ClearForgetsTheUnfinishedStatement) {
    StatementSplitter splitter;
    EXPECT_TRUE(splitter.AddLine("SELECT", 1).empty());
    splitter.Clear();
    EXPECT_FALSE(splitter.HasPending());
    EXPECT_EQ(Texts(splitter.AddLine("\\dt", 2)), (std::vector<std::string>{"META \\dt"}));
}

TEST(AllMetaHelp, EveryUsageParses) {
    for (const MetaHelp& help : AllMetaHelp()) {
        if (help.usage.starts_with('#')) {
            continue;
        }
        const std::string line(help.usage.substr(0, help.usage.find(' ')));
        EXPECT_TRUE(ParseMetaCommand(line).ok()) << line;
    }
}

}  // namespace
}  // namespace phenix::shell
