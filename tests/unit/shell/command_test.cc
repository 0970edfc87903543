// SPDX-License-Identifier: Apache-2.0
//
// The shell's statement parser (tools/phenix/command.h): the transaction, maintenance, vector
// search, metadata index, find and graph commands, and that the help table covers every command.
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

TEST(ParseCommand, CreateAndDropIndexTakeACollectionAndAPath) {
    const Command create = Parsed("create index docs category");
    EXPECT_EQ(create.kind, CommandKind::kCreateIndex);
    EXPECT_EQ(create.name, "docs");
    EXPECT_EQ(create.path, "category");
    const Command nested = Parsed("CREATE INDEX 'my docs' metadata.author.name");
    EXPECT_EQ(nested.kind, CommandKind::kCreateIndex);
    EXPECT_EQ(nested.name, "my docs");
    EXPECT_EQ(nested.path, "metadata.author.name");
    const Command drop = Parsed("Drop Index docs tags");
    EXPECT_EQ(drop.kind, CommandKind::kDropIndex);
    EXPECT_EQ(drop.name, "docs");
    EXPECT_EQ(drop.path, "tags");
    // The collection commands are unchanged.
    EXPECT_EQ(Parsed("drop collection docs").kind, CommandKind::kDropCollection);
    EXPECT_EQ(Parsed("create tenant acme").kind, CommandKind::kCreateTenant);
}

TEST(ParseCommand, CreateAndDropIndexRejectMalformedStatements) {
    EXPECT_NE(ParseError("create index docs")
                  .find("create index: missing metadata path; usage: create index NAME PATH"),
              std::string::npos);
    EXPECT_NE(ParseError("create index").find("create index: missing collection name"),
              std::string::npos);
    EXPECT_NE(ParseError("create index docs a b").find("unexpected 'b'"), std::string::npos);
    EXPECT_NE(ParseError("drop index docs")
                  .find("drop index: missing metadata path; usage: drop index NAME PATH"),
              std::string::npos);
    EXPECT_NE(ParseError("drop index docs a extra").find("unexpected 'extra'"), std::string::npos);
    EXPECT_NE(ParseError("create indx docs a").find("did you mean 'index'?"), std::string::npos);
    EXPECT_NE(ParseError("drop tenant acme")
                  .find("expected 'collection' or 'index', not 'tenant'; usage: drop collection "
                        "NAME | drop index NAME PATH"),
              std::string::npos);
    EXPECT_NE(ParseError("create thing x").find("expected 'collection' or 'tenant' or 'index'"),
              std::string::npos);
}

TEST(ParseCommand, IndexesAndAnalyzeTakeACollection) {
    const Command list = Parsed("INDEXES docs");
    EXPECT_EQ(list.kind, CommandKind::kListIndexes);
    EXPECT_EQ(list.name, "docs");
    const Command analyze = Parsed("analyze docs");
    EXPECT_EQ(analyze.kind, CommandKind::kAnalyze);
    EXPECT_EQ(analyze.name, "docs");
    EXPECT_NE(ParseError("indexes").find("indexes: missing collection name; usage: indexes NAME"),
              std::string::npos);
    EXPECT_NE(ParseError("analyze").find("analyze: missing collection name; usage: analyze NAME"),
              std::string::npos);
    EXPECT_NE(ParseError("analyze docs now").find("unexpected 'now'"), std::string::npos);
    EXPECT_NE(ParseError("indxes docs").find("did you mean 'indexes'?"), std::string::npos);
    EXPECT_NE(ParseError("analyse docs").find("did you mean 'analyze'?"), std::string::npos);
}

TEST(ParseCommand, FindTakesAFilterThenOptionsInAnyOrder) {
    const Command cmd =
        Parsed(R"(find docs {"category": "tech", "year": {"$gte": 2020}} limit 5 count explain)");
    EXPECT_EQ(cmd.kind, CommandKind::kFind);
    EXPECT_EQ(cmd.name, "docs");
    EXPECT_EQ(cmd.find.filter, R"({"category": "tech", "year": {"$gte": 2020}})");
    EXPECT_EQ(cmd.find.limit, 5u);
    EXPECT_TRUE(cmd.find.count_only);
    EXPECT_TRUE(cmd.explain);
    const Command reordered = Parsed(R"(FIND docs {"a": 1} EXPLAIN Count LIMIT 7)");
    EXPECT_EQ(reordered.find.filter, R"({"a": 1})");
    EXPECT_EQ(reordered.find.limit, 7u);
    EXPECT_TRUE(reordered.find.count_only);
    EXPECT_TRUE(reordered.explain);
}

TEST(ParseCommand, FindWithoutAFilterOrOptionsUsesTheDefaults) {
    const Command cmd = Parsed("find docs");
    EXPECT_EQ(cmd.kind, CommandKind::kFind);
    EXPECT_TRUE(cmd.find.filter.empty());
    EXPECT_EQ(cmd.find.limit, 100u);
    EXPECT_FALSE(cmd.find.count_only);
    EXPECT_FALSE(cmd.explain);
    EXPECT_EQ(Parsed("find docs count").find.count_only, true);
    EXPECT_EQ(Parsed("find docs limit 100000").find.limit, 100000u);
}

TEST(ParseCommand, FindFilterKeepsBracketsInsideStringsAndNesting) {
    EXPECT_EQ(Parsed(R"(find c {"a": "}", "b": ["{", {"c": "]"}]} limit 2)").find.filter,
              R"({"a": "}", "b": ["{", {"c": "]"}]})");
    EXPECT_EQ(Parsed(R"(find c {"a\"}": 1})").find.filter, R"({"a\"}": 1})");
    // The filter is passed as written; the engine reports bad JSON or an unknown operator.
    EXPECT_EQ(Parsed(R"(find c {"a": {"$regex": 1}})").find.filter, R"({"a": {"$regex": 1}})");
    EXPECT_EQ(Parsed(R"(find c {"a": })").find.filter, R"({"a": })");
}

TEST(ParseCommand, FindRejectsMalformedStatements) {
    EXPECT_NE(ParseError("find").find("find: missing collection name"), std::string::npos);
    EXPECT_NE(ParseError(R"(find docs {"a": 1)").find("the filter: unterminated '{' (missing '}')"),
              std::string::npos);
    EXPECT_NE(ParseError(R"(find docs {"a": 1}limit 5)").find("unexpected text right after '}'"),
              std::string::npos);
    EXPECT_NE(
        ParseError("find docs [1]").find("the filter must be a JSON object starting with '{'"),
        std::string::npos);
    EXPECT_NE(ParseError("find docs {} sort a").find("unexpected 'sort'"), std::string::npos);
    EXPECT_NE(ParseError("find docs {} {}").find("unexpected '{}'"), std::string::npos);
    for (std::string_view statement :
         {"find docs limit 0", "find docs limit 100001", "find docs limit x"}) {
        EXPECT_NE(ParseError(statement).find("limit must be an integer from 1 to 100000"),
                  std::string::npos)
            << statement;
    }
    EXPECT_NE(ParseError("find docs limit").find("missing limit"), std::string::npos);
    EXPECT_NE(ParseError("find docs count count").find("'count' is given twice"),
              std::string::npos);
    EXPECT_NE(ParseError("find docs {} limit 1 limit 2").find("'limit' is given twice"),
              std::string::npos);
    EXPECT_NE(
        ParseError("find docs x").find("; usage: find NAME [{filter json}] [limit N] [count]"),
        std::string::npos);
    EXPECT_NE(ParseError("fnd docs").find("did you mean 'find'?"), std::string::npos);
}

TEST(ParseCommand, SplitsAfterAFindFilter) {
    const auto statements = SplitStatements(R"(find c {"a": ";", "b": [";"]} limit 2; indexes c)");
    ASSERT_EQ(statements.size(), 2u);
    EXPECT_EQ(Parsed(statements[0]).find.filter, R"({"a": ";", "b": [";"]})");
    EXPECT_EQ(Parsed(statements[0]).find.limit, 2u);
    EXPECT_EQ(Parsed(statements[1]).kind, CommandKind::kListIndexes);
}

TEST(ParseCommand, ExplainPrefixesFindAndSearch) {
    const Command find = Parsed(R"(explain find docs {"a": 1})");
    EXPECT_EQ(find.kind, CommandKind::kFind);
    EXPECT_TRUE(find.explain);
    EXPECT_EQ(find.find.filter, R"({"a": 1})");
    const Command search = Parsed(R"(EXPLAIN search docs [1, 2] where {"a": 1})");
    EXPECT_EQ(search.kind, CommandKind::kSearch);
    EXPECT_TRUE(search.explain);
    EXPECT_EQ(search.search.filter, R"({"a": 1})");
    EXPECT_TRUE(Parsed("search docs [1] explain").explain);
    EXPECT_FALSE(Parsed("search docs [1]").explain);
    EXPECT_NE(ParseError("explain get docs a")
                  .find("explain: only find and search can be "
                        "explained; usage: explain find ..."),
              std::string::npos);
    EXPECT_NE(ParseError("explain").find("explain: missing the command to explain"),
              std::string::npos);
    // The explained command's own errors come through.
    EXPECT_NE(ParseError("explain find").find("find: missing collection name"), std::string::npos);
}

TEST(ParseCommand, TraverseWithoutOptionsIsOneHopOut) {
    const Command cmd = Parsed("traverse g a");
    EXPECT_EQ(cmd.kind, CommandKind::kTraverse);
    EXPECT_EQ(cmd.name, "g");
    EXPECT_EQ(cmd.id, "a");
    EXPECT_EQ(cmd.traversal.start_id, "a");
    EXPECT_EQ(cmd.traversal.min_hops, 1u);
    EXPECT_EQ(cmd.traversal.max_hops, 1u);
    EXPECT_EQ(cmd.traversal.direction, EdgeDirection::kOut);
    EXPECT_TRUE(cmd.traversal.edges.labels.empty());
    EXPECT_FALSE(cmd.traversal.edges.min_weight.has_value());
    EXPECT_FALSE(cmd.traversal.edges.max_weight.has_value());
    EXPECT_TRUE(cmd.traversal.edges.properties_filter.empty());
    EXPECT_FALSE(cmd.traversal.include_start);
    EXPECT_EQ(cmd.traversal.limit, 100u);
}

TEST(ParseCommand, TraverseOptionsInAnyOrder) {
    for (std::string_view statement :
         {"traverse g a hops 1..3 both label knows,likes weight >= 0.5 weight <= 2 limit 7 "
          "with start",
          "TRAVERSE g a WITH START Limit 7 weight<=2 WEIGHT>=0.5 LABEL knows,likes BOTH HOPS 1..3",
          "traverse g a weight >=0.5 weight<= 2 labels [\"knows\", \"likes\"] both hops 1..3 "
          "limit 7 with start"}) {
        const Command cmd = Parsed(statement);
        EXPECT_EQ(cmd.kind, CommandKind::kTraverse) << statement;
        EXPECT_EQ(cmd.traversal.min_hops, 1u) << statement;
        EXPECT_EQ(cmd.traversal.max_hops, 3u) << statement;
        EXPECT_EQ(cmd.traversal.direction, EdgeDirection::kBoth) << statement;
        EXPECT_EQ(cmd.traversal.edges.labels, (std::vector<std::string>{"knows", "likes"}))
            << statement;
        EXPECT_EQ(cmd.traversal.edges.min_weight, 0.5) << statement;
        EXPECT_EQ(cmd.traversal.edges.max_weight, 2.0) << statement;
        EXPECT_EQ(cmd.traversal.limit, 7u) << statement;
        EXPECT_TRUE(cmd.traversal.include_start) << statement;
    }
}

TEST(ParseCommand, TraverseHops) {
    EXPECT_EQ(Parsed("traverse g a hops 2").traversal.min_hops, 2u);
    EXPECT_EQ(Parsed("traverse g a hops 2").traversal.max_hops, 2u);
    EXPECT_EQ(Parsed("traverse g a hops 0..0").traversal.max_hops, 0u);
    // 0 hops asks for the start itself.
    EXPECT_TRUE(Parsed("traverse g a hops 0..2").traversal.include_start);
    EXPECT_FALSE(Parsed("traverse g a hops 1..2").traversal.include_start);
    EXPECT_EQ(Parsed("traverse g a hops 0..64").traversal.max_hops, 64u);
    EXPECT_EQ(Parsed("traverse g a in").traversal.direction, EdgeDirection::kIn);
    EXPECT_EQ(Parsed("traverse g a OUT").traversal.direction, EdgeDirection::kOut);
    EXPECT_EQ(Parsed("traverse g a label 'a b,c'").traversal.edges.labels,
              (std::vector<std::string>{"a b", "c"}));
    EXPECT_EQ(Parsed("traverse g a weight >= -1.5e0").traversal.edges.min_weight, -1.5);
}

TEST(ParseCommand, TraverseRejectsMalformedOptions) {
    EXPECT_NE(ParseError("traverse g").find("traverse: missing entity id"), std::string::npos);
    EXPECT_NE(ParseError("traverse g a hops 3..1").find("hops 3..1 has MIN above MAX"),
              std::string::npos);
    for (std::string_view statement :
         {"traverse g a hops 65", "traverse g a hops 1..65", "traverse g a hops x",
          "traverse g a hops ..2", "traverse g a hops 1..", "traverse g a hops -1",
          "traverse g a hops 1...2"}) {
        EXPECT_NE(ParseError(statement).find(
                      "hops must be N or MIN..MAX with integers from 0 to 64, not '"),
                  std::string::npos)
            << statement;
    }
    EXPECT_NE(ParseError("traverse g a hops").find("missing hops"), std::string::npos);
    EXPECT_NE(ParseError("traverse g a out in").find("the direction is given twice ('in')"),
              std::string::npos);
    EXPECT_NE(ParseError("traverse g a hops 1 hops 2").find("'hops' is given twice"),
              std::string::npos);
    EXPECT_NE(ParseError("traverse g a label a label b").find("'label' is given twice"),
              std::string::npos);
    EXPECT_NE(ParseError("traverse g a weight > 1").find("expected '>=' or '<=' after 'weight'"),
              std::string::npos);
    EXPECT_NE(ParseError("traverse g a weight").find("missing '>=' or '<=' after 'weight'"),
              std::string::npos);
    EXPECT_NE(ParseError("traverse g a weight >=").find("missing number after 'weight >='"),
              std::string::npos);
    EXPECT_NE(ParseError("traverse g a weight >= x").find("weight >= needs a number, not 'x'"),
              std::string::npos);
    EXPECT_NE(ParseError("traverse g a weight <= nan").find("weight <= needs a number"),
              std::string::npos);
    EXPECT_NE(ParseError("traverse g a weight >= 1 weight>=2").find("'weight >=' is given twice"),
              std::string::npos);
    EXPECT_NE(ParseError("traverse g a label a,,b").find("empty label in label 'a,,b'"),
              std::string::npos);
    EXPECT_NE(ParseError("traverse g a labels []").find("labels needs at least one label"),
              std::string::npos);
    EXPECT_NE(ParseError("traverse g a limit 0").find("limit must be an integer from 1"),
              std::string::npos);
    EXPECT_NE(ParseError("traverse g a to b").find("unexpected 'to'"), std::string::npos);
    EXPECT_NE(ParseError("traverse g a with end").find("expected 'start' after 'with', not 'end'"),
              std::string::npos);
    EXPECT_NE(ParseError("traverse g a sideways")
                  .find("unexpected 'sideways'; usage: traverse NAME ID [hops N|M..N]"),
              std::string::npos);
    EXPECT_NE(ParseError("travers g a").find("did you mean 'traverse'?"), std::string::npos);
}

TEST(ParseCommand, PathsTakesAnOptionalTargetAndDefaultsToThreeHops) {
    const Command any = Parsed("paths g a");
    EXPECT_EQ(any.kind, CommandKind::kPaths);
    EXPECT_EQ(any.paths.start_id, "a");
    EXPECT_TRUE(any.paths.end_id.empty());
    EXPECT_EQ(any.paths.min_hops, 1u);
    EXPECT_EQ(any.paths.max_hops, 3u);
    EXPECT_EQ(any.paths.direction, EdgeDirection::kOut);
    EXPECT_EQ(any.paths.limit, 100u);
    const Command cmd = Parsed("PATHS g a TO d hops 2..4 in label x limit 3 weight <= 9");
    EXPECT_EQ(cmd.paths.end_id, "d");
    EXPECT_EQ(cmd.paths.min_hops, 2u);
    EXPECT_EQ(cmd.paths.max_hops, 4u);
    EXPECT_EQ(cmd.paths.direction, EdgeDirection::kIn);
    EXPECT_EQ(cmd.paths.edges.labels, (std::vector<std::string>{"x"}));
    EXPECT_EQ(cmd.paths.edges.max_weight, 9.0);
    EXPECT_EQ(cmd.paths.limit, 3u);
    EXPECT_NE(ParseError("paths g").find("paths: missing start entity id"), std::string::npos);
    EXPECT_NE(ParseError("paths g a to").find("missing entity id after 'to'"), std::string::npos);
    EXPECT_NE(ParseError("paths g a to b to c").find("'to' is given twice"), std::string::npos);
    EXPECT_NE(ParseError("paths g a with start").find("unexpected 'with'"), std::string::npos);
    EXPECT_NE(ParseError("paths g a x").find("; usage: paths NAME FROM [to ID]"),
              std::string::npos);
}

TEST(ParseCommand, ShortestTakesTwoIds) {
    const Command cmd = Parsed("shortest g a d");
    EXPECT_EQ(cmd.kind, CommandKind::kShortest);
    EXPECT_EQ(cmd.shortest.from_id, "a");
    EXPECT_EQ(cmd.shortest.to_id, "d");
    EXPECT_TRUE(cmd.shortest.to_collection.empty());
    EXPECT_EQ(cmd.shortest.direction, EdgeDirection::kOut);
    EXPECT_EQ(cmd.shortest.max_hops, 0u);
    const Command both = Parsed("SHORTEST g a d both label r weight <= 5");
    EXPECT_EQ(both.shortest.direction, EdgeDirection::kBoth);
    EXPECT_EQ(both.shortest.edges.labels, (std::vector<std::string>{"r"}));
    EXPECT_EQ(both.shortest.edges.max_weight, 5.0);
    EXPECT_NE(ParseError("shortest g a").find("shortest: missing target entity id"),
              std::string::npos);
    EXPECT_NE(ParseError("shortest g a d hops 2").find("unexpected 'hops'"), std::string::npos);
    EXPECT_NE(ParseError("shortest g a d limit 1").find("unexpected 'limit'"), std::string::npos);
    EXPECT_NE(ParseError("shortst g a d").find("did you mean 'shortest'?"), std::string::npos);
}

TEST(ParseCommand, DegreeTakesADirectionAndEdgeConditions) {
    const Command cmd = Parsed("degree g a");
    EXPECT_EQ(cmd.kind, CommandKind::kDegree);
    EXPECT_EQ(cmd.id, "a");
    EXPECT_EQ(cmd.direction, EdgeDirection::kOut);
    EXPECT_TRUE(cmd.edges.labels.empty());
    const Command in = Parsed("DEGREE g a IN label x,y weight >= 1");
    EXPECT_EQ(in.direction, EdgeDirection::kIn);
    EXPECT_EQ(in.edges.labels, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(in.edges.min_weight, 1.0);
    EXPECT_NE(ParseError("degree g").find("degree: missing entity id"), std::string::npos);
    EXPECT_NE(ParseError("degree g a hops 2").find("unexpected 'hops'"), std::string::npos);
    EXPECT_NE(ParseError("degree g a limit 2").find("unexpected 'limit'"), std::string::npos);
    EXPECT_NE(ParseError("degree g a up").find("; usage: degree NAME ID [out|in|both]"),
              std::string::npos);
}

TEST(ParseCommand, SearchWhereTakesAFilterObject) {
    const Command cmd = Parsed(R"(search docs [1, 2] where {"tags": {"$in": ["a", "b"]}} k 3)");
    EXPECT_EQ(cmd.kind, CommandKind::kSearch);
    EXPECT_EQ(cmd.search.filter, R"({"tags": {"$in": ["a", "b"]}})");
    EXPECT_EQ(cmd.search.k, 3u);
    EXPECT_FALSE(cmd.search.graph.has_value());
    EXPECT_TRUE(Parsed("search docs [1]").search.filter.empty());
}

TEST(ParseCommand, SearchFromSetsTheGraphConstraint) {
    const Command cmd =
        Parsed("search docs [1] from a hops 1..2 both label knows weight>=0.5 k 2 explain");
    ASSERT_TRUE(cmd.search.graph.has_value());
    EXPECT_EQ(cmd.search.graph->start_id, "a");
    EXPECT_EQ(cmd.search.graph->min_hops, 1u);
    EXPECT_EQ(cmd.search.graph->max_hops, 2u);
    EXPECT_EQ(cmd.search.graph->direction, EdgeDirection::kBoth);
    EXPECT_EQ(cmd.search.graph->edges.labels, (std::vector<std::string>{"knows"}));
    EXPECT_EQ(cmd.search.graph->edges.min_weight, 0.5);
    EXPECT_EQ(cmd.search.k, 2u);
    EXPECT_TRUE(cmd.explain);
    // The graph options may come before `from`, and take `=` like the other search options.
    const Command before = Parsed(R"(search docs [1] hops=2 label=["x"] from=a)");
    ASSERT_TRUE(before.search.graph.has_value());
    EXPECT_EQ(before.search.graph->start_id, "a");
    EXPECT_EQ(before.search.graph->min_hops, 2u);
    EXPECT_EQ(before.search.graph->edges.labels, (std::vector<std::string>{"x"}));
    const Command plain = Parsed("search docs [1] from a");
    ASSERT_TRUE(plain.search.graph.has_value());
    EXPECT_EQ(plain.search.graph->min_hops, 1u);
    EXPECT_EQ(plain.search.graph->max_hops, 1u);
    EXPECT_EQ(plain.search.graph->direction, EdgeDirection::kOut);
}

TEST(ParseCommand, SearchRejectsMalformedWhereAndFrom) {
    EXPECT_NE(ParseError("search docs [1] where").find("missing the filter after 'where'"),
              std::string::npos);
    EXPECT_NE(
        ParseError("search docs [1] where x")
            .find("the filter after 'where' must be a JSON object starting with '{', not 'x'"),
        std::string::npos);
    EXPECT_NE(ParseError(R"(search docs [1] where {"a": 1)").find("unterminated '{'"),
              std::string::npos);
    EXPECT_NE(ParseError("search docs [1] where {} where {}").find("'where' is given twice"),
              std::string::npos);
    EXPECT_NE(ParseError("search docs [1] from").find("missing entity id after 'from'"),
              std::string::npos);
    EXPECT_NE(ParseError("search docs [1] from a from b").find("'from' is given twice"),
              std::string::npos);
    EXPECT_NE(ParseError("search docs [1] hops 2")
                  .find("'hops' restricts the graph constraint: it needs 'from ID'"),
              std::string::npos);
    EXPECT_NE(ParseError("search docs [1] in").find("'in' restricts the graph constraint"),
              std::string::npos);
    EXPECT_NE(ParseError("search docs [1] from a hops 99").find("hops must be N or MIN..MAX"),
              std::string::npos);
    EXPECT_NE(ParseError("search docs [1] out=a").find("unexpected 'out=a'"), std::string::npos);
}

TEST(ParseCommand, EveryNewCommandShowsItsOwnUsage) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"create index", "usage: create index NAME PATH"},
        {"drop index", "usage: drop index NAME PATH"},
        {"indexes", "usage: indexes NAME"},
        {"analyze", "usage: analyze NAME"},
        {"find", "usage: find NAME [{filter json}]"},
        {"traverse", "usage: traverse NAME ID [hops N|M..N]"},
        {"paths", "usage: paths NAME FROM [to ID]"},
        {"shortest", "usage: shortest NAME FROM TO"},
        {"degree", "usage: degree NAME ID"},
        {"search", "usage: search NAME [x1, x2, ...]"},
        {"begin x", "usage: begin [read only]"},
        {"commit x", "usage: commit"},
        {"rollback x", "usage: rollback"},
        {"timestamp x", "usage: timestamp"},
        {"verify x", "usage: verify"},
        {"\\timing x", "usage: \\timing [on|off]"},
        {"reindex", "usage: reindex NAME"},
        {"index", "usage: index NAME"},
    };
    for (const auto& [statement, usage] : cases) {
        const std::string message = ParseError(statement);
        EXPECT_NE(message.find(usage), std::string::npos) << statement << ": " << message;
    }
}

TEST(AllCommandHelp, ListsTheNewCommands) {
    const auto help = AllCommandHelp();
    for (std::string_view usage :
         {"begin [read only] [as of TIMESTAMP]", "commit", "rollback", "timestamp", "verify",
          "index NAME", "reindex NAME", "create index NAME PATH", "drop index NAME PATH",
          "indexes NAME", "analyze NAME"}) {
        EXPECT_TRUE(std::any_of(help.begin(), help.end(), [&](const CommandHelp& entry) {
            return entry.usage == usage;
        })) << usage;
    }
}

TEST(AllCommandHelp, ListsTheQueryAndGraphCommands) {
    const auto help = AllCommandHelp();
    for (std::string_view prefix :
         {"find NAME", "traverse NAME ID", "paths NAME FROM", "shortest NAME FROM TO",
          "degree NAME ID",
          "search NAME [x1, x2, ...] [k N] [ef N] [ids ID,...] [where {filter}] "
          "[from ID"}) {
        EXPECT_TRUE(std::any_of(help.begin(), help.end(), [&](const CommandHelp& entry) {
            return entry.usage.starts_with(prefix);
        })) << prefix;
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
