// SPDX-License-Identifier: Apache-2.0
//
// The shell's statement parser (tools/phenix/command.h): the transaction, maintenance and
// vector search commands, and that the help table covers every command.
#include "command.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

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

TEST(ParseCommand, SearchWithOnlyAVectorUsesTheDefaults) {
    const Command cmd = Parsed("search docs [0.5, -1, 2e-3]");
    EXPECT_EQ(cmd.kind, CommandKind::kSearch);
    EXPECT_EQ(cmd.name, "docs");
    EXPECT_EQ(cmd.query, (std::vector<float>{0.5f, -1.0f, 2e-3f}));
    EXPECT_EQ(cmd.search.k, 10u);
    EXPECT_EQ(cmd.search.ef, 0u);
    EXPECT_FALSE(cmd.search.filter_ids.has_value());
    EXPECT_EQ(cmd.search.strategy, SearchStrategy::kAuto);
    EXPECT_FALSE(cmd.search.include_metadata);
    EXPECT_FALSE(cmd.search.include_vector);
}

TEST(ParseCommand, SearchVectorSpacingIsFree) {
    EXPECT_EQ(Parsed("search docs [1,2,3]").query, (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(Parsed("search docs [ 1 ,2 , 3 ] k 2").query, (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(Parsed("search docs [7]").query, (std::vector<float>{7}));
}

TEST(ParseCommand, SearchOptionsInAnyOrderWithSpaceOrEquals) {
    for (std::string_view statement :
         {"search docs [1, 2] k 5 ef 80 ids a,b strategy in_graph with metadata with vector",
          "SEARCH docs [1, 2] WITH VECTOR Strategy=IN_GRAPH ids=a,b with metadata EF=80 k=5"}) {
        const Command cmd = Parsed(statement);
        EXPECT_EQ(cmd.kind, CommandKind::kSearch) << statement;
        EXPECT_EQ(cmd.search.k, 5u) << statement;
        EXPECT_EQ(cmd.search.ef, 80u) << statement;
        EXPECT_EQ(cmd.search.filter_ids, (std::vector<std::string>{"a", "b"})) << statement;
        EXPECT_EQ(cmd.search.strategy, SearchStrategy::kInGraph) << statement;
        EXPECT_TRUE(cmd.search.include_metadata) << statement;
        EXPECT_TRUE(cmd.search.include_vector) << statement;
    }
}

TEST(ParseCommand, SearchStrategies) {
    EXPECT_EQ(Parsed("search c [1] strategy auto").search.strategy, SearchStrategy::kAuto);
    EXPECT_EQ(Parsed("search c [1] strategy exact_scan").search.strategy,
              SearchStrategy::kExactScan);
    EXPECT_EQ(Parsed("search c [1] strategy in_graph").search.strategy, SearchStrategy::kInGraph);
    EXPECT_EQ(Parsed("search c [1] strategy post_filter").search.strategy,
              SearchStrategy::kPostFilter);
}

TEST(ParseCommand, SearchIdsAsQuotedWordOrJsonArray) {
    EXPECT_EQ(Parsed("search c [1] ids 'my id,b'").search.filter_ids,
              (std::vector<std::string>{"my id", "b"}));
    EXPECT_EQ(Parsed(R"(search c [1] ids ["a,b", "c d", "]"] k 3)").search.filter_ids,
              (std::vector<std::string>{"a,b", "c d", "]"}));
    EXPECT_EQ(Parsed(R"(search c [1] ids=["x"])").search.filter_ids,
              (std::vector<std::string>{"x"}));
}

TEST(ParseCommand, SearchKAndEfAcceptTheirLimits) {
    EXPECT_EQ(Parsed("search c [1] k 1").search.k, 1u);
    EXPECT_EQ(Parsed("search c [1] k 10000 ef 10000").search.k, 10000u);
}

TEST(ParseCommand, SearchRejectsAMissingCollectionOrVector) {
    EXPECT_NE(ParseError("search").find("search: missing collection name"), std::string::npos);
    EXPECT_NE(ParseError("search docs").find("missing query vector"), std::string::npos);
    EXPECT_NE(ParseError("search docs k 5").find("must be a list of numbers in [...], not 'k'"),
              std::string::npos);
    EXPECT_NE(ParseError("search docs 1,2").find("not '1,2'"), std::string::npos);
}

TEST(ParseCommand, SearchRejectsABadVector) {
    EXPECT_NE(
        ParseError("search docs [1, abc, 3]").find("query vector[1] must be a number, not 'abc'"),
        std::string::npos);
    EXPECT_NE(ParseError("search docs [1, 2").find("unterminated '['"), std::string::npos);
    EXPECT_NE(ParseError("search docs []").find("the query vector is empty"), std::string::npos);
    EXPECT_NE(ParseError("search docs [1,,2]").find("query vector[1] is missing"),
              std::string::npos);
    EXPECT_NE(ParseError("search docs [1, 2,]").find("query vector[2] is missing"),
              std::string::npos);
    EXPECT_NE(ParseError("search docs [nan]").find("query vector[0] must be a number"),
              std::string::npos);
    EXPECT_NE(ParseError("search docs [1, inf]").find("query vector[1] must be a number"),
              std::string::npos);
    EXPECT_NE(ParseError("search docs [\"1\"]").find("must be a number"), std::string::npos);
    EXPECT_NE(ParseError("search docs [1e39]").find("query vector[0] is out of float range"),
              std::string::npos);
    EXPECT_NE(ParseError("search docs [1]k 2").find("unexpected text right after ']'"),
              std::string::npos);
}

TEST(ParseCommand, SearchRejectsBadOptions) {
    for (std::string_view statement :
         {"search c [1] k 0", "search c [1] k ten", "search c [1] k -1", "search c [1] k 10001",
          "search c [1] k=2.5"}) {
        EXPECT_NE(ParseError(statement).find("k must be an integer from 1 to 10000"),
                  std::string::npos)
            << statement;
    }
    EXPECT_NE(ParseError("search c [1] k").find("missing k"), std::string::npos);
    EXPECT_NE(ParseError("search c [1] k=").find("missing k after '='"), std::string::npos);
    EXPECT_NE(ParseError("search c [1] ef 0").find("ef must be an integer from 1 to 10000"),
              std::string::npos);
    EXPECT_NE(ParseError("search c [1] strategy fastest")
                  .find("unknown strategy 'fastest' (expected auto, exact_scan, in_graph or "
                        "post_filter)"),
              std::string::npos);
    EXPECT_NE(ParseError("search c [1] strategy in_grap").find("did you mean 'in_graph'?"),
              std::string::npos);
    EXPECT_NE(ParseError("search c [1] ids a,,b").find("empty id in ids 'a,,b'"),
              std::string::npos);
    EXPECT_NE(ParseError("search c [1] ids []").find("ids needs at least one id"),
              std::string::npos);
    EXPECT_NE(ParseError("search c [1] ids [1]").find("must be a JSON string"), std::string::npos);
    EXPECT_NE(ParseError("search c [1] with edges")
                  .find("expected 'metadata' or 'vector' after 'with', not 'edges'"),
              std::string::npos);
    EXPECT_NE(ParseError("search c [1] limit 5").find("unexpected 'limit'"), std::string::npos);
    EXPECT_NE(ParseError("search c [1] k 1 k=2").find("'k' is given twice"), std::string::npos);
    EXPECT_NE(
        ParseError("search c [1] with vector with vector").find("'with vector' is given twice"),
        std::string::npos);
}

TEST(ParseCommand, SearchErrorsShowItsUsage) {
    EXPECT_NE(ParseError("search c [x]").find("; usage: search NAME [x1, x2, ...] [k N]"),
              std::string::npos);
}

TEST(ParseCommand, SearchVectorKeepsSemicolonsOutOfTheArray) {
    const auto statements = SplitStatements(R"(search c [1, 2] ids ["a;b"]; index c)");
    ASSERT_EQ(statements.size(), 2u);
    EXPECT_EQ(Parsed(statements[0]).search.filter_ids, (std::vector<std::string>{"a;b"}));
    EXPECT_EQ(Parsed(statements[1]).kind, CommandKind::kIndexInfo);
}

TEST(ParseCommand, IndexAndReindexTakeACollection) {
    const Command info = Parsed("index docs");
    EXPECT_EQ(info.kind, CommandKind::kIndexInfo);
    EXPECT_EQ(info.name, "docs");
    const Command rebuild = Parsed("REINDEX 'my docs'");
    EXPECT_EQ(rebuild.kind, CommandKind::kReindex);
    EXPECT_EQ(rebuild.name, "my docs");
    EXPECT_NE(ParseError("index").find("index: missing collection name; usage: index NAME"),
              std::string::npos);
    EXPECT_NE(ParseError("reindex").find("reindex: missing collection name; usage: reindex NAME"),
              std::string::npos);
    EXPECT_NE(ParseError("reindex docs now").find("unexpected 'now'"), std::string::npos);
    EXPECT_NE(ParseError("serach docs [1]").find("did you mean 'search'?"), std::string::npos);
    EXPECT_NE(ParseError("reindx docs").find("did you mean 'reindex'?"), std::string::npos);
}

TEST(ParseCommand, ErrorsShowTheUsageOfTheirOwnCommand) {
    EXPECT_NE(ParseError("load docs").find("usage: load NAME FILE"), std::string::npos);
    EXPECT_NE(ParseError("\\timing maybe").find("usage: \\timing [on|off]"), std::string::npos);
    EXPECT_NE(ParseError("scan").find("usage: scan NAME [limit N] [after ID]"), std::string::npos);
    EXPECT_NE(ParseError("create collection")
                  .find("usage: create collection NAME [dim N] "
                        "[metric l2|cosine|ip] [{settings json}]"),
              std::string::npos);
}

TEST(ParseCommand, CreateCollectionTakesTrailingSettings) {
    const Command cmd = Parsed(
        R"(create collection docs dim 4 metric cosine {"hnsw": {"m": 8, "quantization": "int8"}})");
    EXPECT_EQ(cmd.kind, CommandKind::kCreateCollection);
    EXPECT_EQ(cmd.dimension, 4u);
    EXPECT_EQ(cmd.metric, Metric::kCosine);
    EXPECT_EQ(cmd.json, R"({"hnsw": {"m": 8, "quantization": "int8"}})");
    EXPECT_EQ(Parsed(R"(create collection docs {"hnsw": {}})").json, R"({"hnsw": {}})");
    EXPECT_TRUE(Parsed("create collection docs dim 2").json.empty());
    // Settings come last: everything after '{' is the settings JSON.
    EXPECT_EQ(Parsed(R"(create collection docs {"a": 1} dim 4)").json, R"({"a": 1} dim 4)");
    EXPECT_FALSE(Parsed(R"(create collection docs {"a": 1} dim 4)").dimension.has_value());
}

TEST(AllCommandHelp, ListsTheNewCommands) {
    const auto help = AllCommandHelp();
    for (std::string_view usage : {"begin [read only] [as of TIMESTAMP]", "commit", "rollback",
                                   "timestamp", "verify", "index NAME", "reindex NAME"}) {
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
