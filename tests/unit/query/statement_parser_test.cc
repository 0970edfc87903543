// SPDX-License-Identifier: Apache-2.0
//
// The statements that replaced the shell's older command language (issue 13, item 5): SHOW
// INDEXES / TENANTS / TIMESTAMP, ANALYZE, REINDEX, VERIFY, CREATE / USE TENANT, CREATE COLLECTION
// ... WITH (...), BEGIN READ ONLY [AS OF], and table functions in FROM. Each parses into the
// tree it should, prints back to text that parses to the same tree, and malformed ones fail
// with a position and what was expected.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "query/ast.h"
#include "query/parser.h"

namespace phenix::query {
namespace {

Statement MustParse(std::string_view text) {
    Result<Statement> result = ParseStatement(text);
    EXPECT_TRUE(result.ok()) << text << "\n" << result.status().ToString();
    return result.ok() ? std::move(result).value() : Statement{};
}

template <typename T>
T Body(const Statement& statement) {
    EXPECT_TRUE(std::holds_alternative<T>(statement.body)) << ToString(statement);
    return std::holds_alternative<T>(statement.body) ? std::get<T>(statement.body) : T{};
}

std::string ErrorOf(std::string_view text) {
    Result<Statement> result = ParseStatement(text);
    if (result.ok()) {
        return "OK";
    }
    EXPECT_TRUE(result.status().IsInvalidArgument()) << result.status().ToString();
    return std::string(result.status().message());
}

const std::vector<std::string> kStatements = {
    "SHOW INDEXES",
    "SHOW INDEXES ON docs",
    "show indexes on \"My Docs\";",
    "SHOW TENANTS",
    "SHOW TIMESTAMP",
    "SHOW STATS",
    "SHOW STATS FOR docs",
    "SHOW DATABASE STATS",
    "ANALYZE",
    "ANALYZE docs",
    "REINDEX docs",
    "VERIFY",
    "CREATE TENANT acme",
    "USE TENANT acme",
    "use tenant \"default\"",
    "CREATE COLLECTION c (DIMENSION 4, METRIC cosine) WITH (m = 32, ef_construction = 200, "
    "quantization = 'int8')",
    "CREATE COLLECTION c WITH (ef_search = 64)",
    "CREATE COLLECTION c (DIMENSION 8) WITH (m = $m)",
    "BEGIN READ ONLY",
    "BEGIN READ ONLY AS OF 42",
    "BEGIN AS OF $ts",
    "begin read only as of 18446744073709551",
    "SELECT * FROM shortest_path('docs', 'a', 'b')",
    "SELECT step, id AS node FROM shortest_path('docs', 'a', 'b', direction = 'both', "
    "max_hops = 4, unweighted = TRUE, min_weight = 0.5)",
    "SELECT * FROM paths('docs', 'a', label = 'cites,links') LIMIT 3 OFFSET 1",
    "SELECT * FROM traverse('docs', $1, hops = 2) LIMIT $n",
    "SELECT * FROM neighbors('docs', 'a')",
    "SELECT degree FROM degree('docs', 'a', direction = 'in')",
    "SELECT * FROM edges('docs', 'a')",
    "SELECT * FROM Edges()",
    // Words these statements recognise stay usable as names elsewhere.
    "SELECT timestamp, tenant, indexes, read, only FROM verify WHERE reindex = 1",
    "CREATE COLLECTION tenants",
};

TEST(StatementParser, ParsesAndRoundTripsEveryNewStatement) {
    for (const std::string& text : kStatements) {
        const Statement statement = MustParse(text);
        const std::string canonical = ToString(statement);
        Result<Statement> again = ParseStatement(canonical);
        ASSERT_TRUE(again.ok()) << text << " -> " << canonical << "\n" << again.status().ToString();
        EXPECT_EQ(*again, statement) << canonical;
        EXPECT_EQ(ToString(*again), canonical);
    }
}

TEST(StatementParser, ShowStatements) {
    EXPECT_TRUE(std::holds_alternative<ShowCollectionsStmt>(MustParse("SHOW COLLECTIONS").body));
    ShowStmt indexes = Body<ShowStmt>(MustParse("SHOW INDEXES"));
    EXPECT_EQ(indexes.what, ShowWhat::kIndexes);
    EXPECT_EQ(indexes.collection, "");
    indexes = Body<ShowStmt>(MustParse("SHOW INDEXES ON docs"));
    EXPECT_EQ(indexes.collection, "docs");
    EXPECT_EQ(indexes.name_pos.column, 17u);
    EXPECT_EQ(Body<ShowStmt>(MustParse("SHOW TENANTS")).what, ShowWhat::kTenants);
    EXPECT_EQ(Body<ShowStmt>(MustParse("show timestamp")).what, ShowWhat::kTimestamp);
    EXPECT_EQ(ToString(MustParse("show indexes on docs")), "SHOW INDEXES ON docs");

    ShowStmt stats = Body<ShowStmt>(MustParse("show stats"));
    EXPECT_EQ(stats.what, ShowWhat::kStats);
    EXPECT_EQ(stats.collection, "");
    EXPECT_FALSE(stats.whole_database);
    stats = Body<ShowStmt>(MustParse("SHOW STATS FOR \"My Docs\""));
    EXPECT_EQ(stats.collection, "My Docs");
    EXPECT_EQ(stats.name_pos.column, 16u);
    stats = Body<ShowStmt>(MustParse("SHOW DATABASE STATS"));
    EXPECT_EQ(stats.what, ShowWhat::kStats);
    EXPECT_TRUE(stats.whole_database);
    EXPECT_EQ(ToString(MustParse("show stats for docs")), "SHOW STATS FOR docs");
    EXPECT_EQ(ToString(MustParse("show database stats")), "SHOW DATABASE STATS");
}

TEST(StatementParser, MaintenanceAndTenantStatements) {
    MaintenanceStmt analyze = Body<MaintenanceStmt>(MustParse("ANALYZE"));
    EXPECT_EQ(analyze.action, MaintenanceAction::kAnalyze);
    EXPECT_EQ(analyze.collection, "");
    EXPECT_EQ(Body<MaintenanceStmt>(MustParse("ANALYZE docs;")).collection, "docs");
    const MaintenanceStmt reindex = Body<MaintenanceStmt>(MustParse("reindex docs"));
    EXPECT_EQ(reindex.action, MaintenanceAction::kReindex);
    EXPECT_EQ(reindex.collection, "docs");
    EXPECT_EQ(Body<MaintenanceStmt>(MustParse("VERIFY")).action, MaintenanceAction::kVerify);

    const TenantStmt create = Body<TenantStmt>(MustParse("CREATE TENANT acme"));
    EXPECT_FALSE(create.is_use);
    EXPECT_EQ(create.name, "acme");
    const TenantStmt use = Body<TenantStmt>(MustParse("USE TENANT acme"));
    EXPECT_TRUE(use.is_use);
    EXPECT_EQ(use.name, "acme");
}

TEST(StatementParser, CreateCollectionWithSettings) {
    const CreateCollectionStmt create = Body<CreateCollectionStmt>(
        MustParse("CREATE COLLECTION c (DIMENSION 4, METRIC cosine) WITH (M = 32, "
                  "ef_construction = 200, quantization = 'int8')"));
    EXPECT_EQ(create.dimension, 4);
    EXPECT_EQ(create.metric, "cosine");
    ASSERT_EQ(create.options.size(), 3u);
    EXPECT_EQ(create.options[0].name, "m");  // lowercased
    EXPECT_EQ(create.options[0].value.int_value, 32);
    EXPECT_EQ(create.options[2].name, "quantization");
    EXPECT_EQ(create.options[2].value.text, "int8");
    // Without settings the statement is what it always was.
    EXPECT_TRUE(
        Body<CreateCollectionStmt>(MustParse("CREATE COLLECTION c (DIMENSION 4)")).options.empty());
}

TEST(StatementParser, BeginReadOnlyAndAsOf) {
    TxnStmt begin = Body<TxnStmt>(MustParse("BEGIN"));
    EXPECT_EQ(begin.action, TxnAction::kBegin);
    EXPECT_FALSE(begin.read_only);
    EXPECT_FALSE(begin.as_of.has_value());
    begin = Body<TxnStmt>(MustParse("BEGIN READ ONLY"));
    EXPECT_TRUE(begin.read_only);
    EXPECT_FALSE(begin.as_of.has_value());
    begin = Body<TxnStmt>(MustParse("BEGIN READ ONLY AS OF 42"));
    EXPECT_TRUE(begin.read_only);
    ASSERT_TRUE(begin.as_of.has_value());
    EXPECT_EQ(begin.as_of->int_value, 42);
    // AS OF reads the past, which is read-only by nature: it implies READ ONLY.
    begin = Body<TxnStmt>(MustParse("BEGIN AS OF 7"));
    EXPECT_TRUE(begin.read_only);
    EXPECT_EQ(ToString(MustParse("BEGIN AS OF 7")), "BEGIN READ ONLY AS OF 7");
    EXPECT_EQ(ToString(MustParse("begin")), "BEGIN");
}

TEST(StatementParser, TableFunctionsInFrom) {
    const SelectStmt select = Body<SelectStmt>(MustParse(
        "SELECT * FROM Shortest_Path('docs', 'a', 'b', max_hops = 4, direction = 'both') LIMIT 2"));
    ASSERT_TRUE(select.table_function.has_value());
    EXPECT_TRUE(select.collection.empty());
    EXPECT_FALSE(select.match.has_value());
    const TableFunctionCall& call = *select.table_function;
    EXPECT_EQ(call.name, "shortest_path");  // lowercased
    EXPECT_EQ(call.pos.column, 15u);
    ASSERT_EQ(call.args.size(), 3u);
    EXPECT_EQ(call.args[0].kind, ExprKind::kString);
    EXPECT_EQ(call.args[2].text, "b");
    ASSERT_EQ(call.named_args.size(), 2u);
    EXPECT_EQ(call.named_args[0].name, "max_hops");
    EXPECT_EQ(call.named_args[0].value.int_value, 4);
    EXPECT_EQ(call.named_args[1].value.text, "both");
    ASSERT_TRUE(select.limit.has_value());
    EXPECT_EQ(select.limit->int_value, 2);
    // Without '(' a word after FROM is a collection, as before.
    EXPECT_EQ(Body<SelectStmt>(MustParse("SELECT * FROM edges")).collection, "edges");
}

TEST(StatementParser, MalformedStatementsSayWhatWasExpected) {
    EXPECT_EQ(ErrorOf("SHOW INDEX"),
              "line 1, column 6: expected COLLECTIONS, INDEXES, TENANTS, TIMESTAMP, STATS, "
              "DATABASE STATS, ROLES, GRANTS or API KEYS, found "
              "'INDEX'; did you mean INDEXES?");
    EXPECT_EQ(ErrorOf("SHOW STATS FOR"),
              "line 1, column 15: expected a collection name, found end of input");
    EXPECT_EQ(ErrorOf("SHOW DATABASE"), "line 1, column 14: expected STATS, found end of input");
    EXPECT_EQ(ErrorOf("SHOW INDEXES ON"),
              "line 1, column 16: expected a collection name, found "
              "end of input");
    EXPECT_EQ(ErrorOf("REINDEX"),
              "line 1, column 8: expected a collection name, found end of "
              "input");
    EXPECT_EQ(ErrorOf("VERIFY docs"),
              "line 1, column 8: VERIFY checks the whole database and takes no collection name");
    EXPECT_EQ(ErrorOf("USE acme"), "line 1, column 5: expected TENANT, found 'acme'");
    EXPECT_EQ(ErrorOf("CREATE TENANT"),
              "line 1, column 14: expected a tenant name, found end "
              "of input");
    EXPECT_NE(ErrorOf("CREATE TENAT x").find("did you mean TENANT?"), std::string::npos);
    EXPECT_EQ(ErrorOf("BEGIN READ"), "line 1, column 11: expected ONLY, found end of input");
    EXPECT_EQ(ErrorOf("BEGIN READ WRITE"), "line 1, column 12: expected ONLY, found 'WRITE'");
    EXPECT_EQ(ErrorOf("BEGIN AS OF"),
              "line 1, column 12: expected a commit timestamp, found end "
              "of input");
    EXPECT_EQ(ErrorOf("BEGIN AS OF 1 READ ONLY"),
              "line 1, column 15: expected AS OF or end of statement, found 'READ'");
    EXPECT_EQ(ErrorOf("CREATE COLLECTION c WITH m = 3"),
              "line 1, column 26: expected '(', found 'm'");
    EXPECT_EQ(ErrorOf("CREATE COLLECTION c WITH (m 3)"),
              "line 1, column 29: expected '=', found '3'");
    EXPECT_EQ(ErrorOf("SELECT * FROM paths('docs', max_hops = 2, 'a')"),
              "line 1, column 43: expected a named argument (name = value): positional arguments "
              "come first, found ''a''");
    EXPECT_EQ(ErrorOf("SELECT * FROM paths('docs', 'a'"),
              "line 1, column 32: expected ')', found end of input");
}

}  // namespace
}  // namespace phenix::query
