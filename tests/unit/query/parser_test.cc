// SPDX-License-Identifier: Apache-2.0
#include "query/parser.h"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "query/ast.h"
#include "query/lexer.h"

namespace phenix::query {
namespace {

// The normative statements of issue #6, exactly as written there (one per entry; the
// transaction line is a script).
const std::vector<std::string> kNormative = {
    "CREATE COLLECTION docs (DIMENSION 4, METRIC cosine);",
    "CREATE INDEX ON docs (metadata.category);",
    "INSERT INTO docs (id, vector, metadata) VALUES ('d1', [0.1, 0.2, 0.3, 0.4], "
    "{\"category\": \"tech\", \"year\": 2021});",
    "INSERT INTO docs (id, vector, metadata, edges) VALUES\n"
    "  ('d2', [0.5, 0.6, 0.7, 0.8], {\"category\": \"science\", \"year\": 2019},\n"
    "   [{\"label\": \"related_to\", \"target\": \"d1\", \"weight\": 0.8}]);",
    "SELECT id, metadata.year, vector <=> [0.1, 0.2, 0.3, 0.4] AS distance\n"
    "  FROM docs WHERE metadata.category = 'tech' AND metadata.year >= 2020\n"
    "  ORDER BY distance LIMIT 10;",
    "SELECT b.id, b.metadata.category FROM MATCH (a:docs)-[:related_to*1..2]->(b:docs)\n"
    "  WHERE a.id = 'd2' ORDER BY b.vector <-> [0.1, 0.2, 0.3, 0.4] LIMIT 5;",
    "UPDATE docs SET metadata.year = 2022 WHERE id = 'd1';",
    "DELETE FROM docs WHERE id = 'd2';",
    "SELECT count(*) FROM docs WHERE metadata.category IN ('tech', 'science');",
    "EXPLAIN SELECT id FROM docs WHERE metadata.category = 'tech' ORDER BY vector <=> [0.1, "
    "0.2, 0.3, 0.4] LIMIT 10;",
    "COPY docs FROM 'path/file.jsonl';",
    "COPY docs TO 'file.jsonl'",
};
constexpr std::string_view kNormativeScript =
    "BEGIN; INSERT INTO docs (id, metadata) VALUES ('d3', {\"category\": \"tech\"}); ROLLBACK;";

const std::vector<std::string> kExtra = {
    "CREATE COLLECTION points (DIMENSION 128, METRIC l2)",
    "CREATE COLLECTION p2 (METRIC IP, DIMENSION 3)",
    "create collection plain",
    "DROP COLLECTION docs",
    "DROP INDEX ON docs (metadata.category)",
    "SHOW COLLECTIONS",
    "DESCRIBE docs",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "COPY docs FROM 'in.jsonl' (ON_ERROR skip)",
    "EXPLAIN ANALYZE SELECT * FROM docs LIMIT 3",
    "SELECT * FROM docs AS OF 42 WHERE metadata.year > 2000",
    "SELECT id FROM docs ORDER BY vector <-> $1 LIMIT $k WITH (ef = 128)",
    "SELECT id FROM docs ORDER BY vector <#> [1, -2, 3.5e2, -0.25] DESC, id ASC LIMIT 4",
    "SELECT metadata.category, count(*) AS n, min(metadata.year), max(metadata.year), "
    "avg(metadata.score) FROM docs GROUP BY metadata.category",
    "SELECT a.id, e.weight, b.id FROM MATCH (a:docs)-[e:related_to*1..2 WHERE e.weight > 0.5]->"
    "(b:docs)",
    "SELECT b.id FROM MATCH (a:docs)<-[e:cites]-(b:docs)-[:tags*2]-(c) WHERE c.id IS NOT NULL",
    "SELECT x FROM MATCH (:docs)-[*]->(b)-[*..3]->(c)-[*2..]->(d)",
    "SELECT id FROM docs WHERE NOT (a = 1 OR b <> 2) AND c != 3 AND d < 4 AND e <= 5 AND f IS "
    "NULL",
    "SELECT id FROM docs WHERE metadata.tag NOT IN ('a', 'b''c', \"x\".\"y z\") OR flag = TRUE "
    "OR flag = false OR v = null",
    "SELECT id FROM docs WHERE n = -5 AND f = -1.5e-3 AND g = 2.0 AND h = 9223372036854775807",
    "UPDATE docs SET metadata.year = 2023, metadata.info = {\"a\": [1, {\"b\": \"}\"}]} WHERE "
    "id = $id",
    "INSERT INTO docs (id, vector) VALUES ('a', [1, 2]), ('b', [3, 4]), ('c', [])",
    "DELETE FROM docs",
    "SELECT \"select\", \"we\"\"ird\" FROM \"my docs\" -- trailing comment\n",
    "/* lead */ SELECT id /* mid */ FROM docs",
    "select ID from Docs where Metadata.Year >= 1 order by Id desc limit 1",
    "SELECT id FROM docs WHERE (a = 1) = (b = 2) AND v <-> [1] <-> [2] < 3",
    // Issue 13: LIKE [ESCAPE], NOT LIKE, IS [NOT] TRUE | FALSE.
    "SELECT id FROM docs WHERE metadata.s LIKE 'a%' AND metadata.t NOT LIKE $1",
    "SELECT id FROM docs WHERE NOT metadata.s like 'a!%%' escape '!' OR like LIKE 'x'",
    "SELECT id FROM docs WHERE (metadata.y > 5) IS NOT TRUE AND metadata.f IS FALSE",
    "SELECT id FROM docs WHERE ((a = 1) IS TRUE) IS NOT FALSE AND (a LIKE 'b') IS TRUE",
};

std::vector<std::string> AllStatements() {
    std::vector<std::string> all = kNormative;
    all.insert(all.end(), kExtra.begin(), kExtra.end());
    return all;
}

Statement MustParse(std::string_view text) {
    Result<Statement> result = ParseStatement(text);
    EXPECT_TRUE(result.ok()) << text << "\n" << result.status().ToString();
    return result.ok() ? std::move(result).value() : Statement{};
}

// A copy of the statement's body (the statement is often a temporary).
template <typename T>
T Body(const Statement& statement) {
    EXPECT_TRUE(std::holds_alternative<T>(statement.body));
    return std::holds_alternative<T>(statement.body) ? std::get<T>(statement.body) : T{};
}

std::string ErrorOf(std::string_view text) {
    Result<std::vector<Statement>> result = ParseScript(text);
    if (result.ok()) {
        return "OK";
    }
    EXPECT_TRUE(result.status().IsInvalidArgument()) << result.status().ToString();
    return std::string(result.status().message());
}

TEST(Parser, ParsesEveryNormativeAndExtraStatement) {
    for (const std::string& text : AllStatements()) {
        MustParse(text);
    }
    Result<std::vector<Statement>> script = ParseScript(kNormativeScript);
    ASSERT_TRUE(script.ok()) << script.status().ToString();
    ASSERT_EQ(script->size(), 3u);
    EXPECT_EQ(Body<TxnStmt>((*script)[0]).action, TxnAction::kBegin);
    EXPECT_EQ(Body<InsertStmt>((*script)[1]).columns, (std::vector<std::string>{"id", "metadata"}));
    EXPECT_EQ(Body<TxnStmt>((*script)[2]).action, TxnAction::kRollback);
}

TEST(Parser, CreateCollectionAndIndex) {
    const auto& create = Body<CreateCollectionStmt>(MustParse(kNormative[0]));
    EXPECT_EQ(create.name, "docs");
    EXPECT_EQ(create.dimension, 4);
    EXPECT_EQ(create.metric, "cosine");
    EXPECT_EQ(Body<CreateCollectionStmt>(MustParse(kExtra[1])).metric, "ip");
    EXPECT_EQ(Body<CreateCollectionStmt>(MustParse(kExtra[2])).dimension, 0);
    const auto& index = Body<IndexStmt>(MustParse(kNormative[1]));
    EXPECT_FALSE(index.is_drop);
    EXPECT_EQ(index.collection, "docs");
    EXPECT_EQ(index.path, (std::vector<std::string>{"metadata", "category"}));
    EXPECT_TRUE(Body<IndexStmt>(MustParse("DROP INDEX ON docs (metadata.category)")).is_drop);
    EXPECT_EQ(Body<DropCollectionStmt>(MustParse("DROP COLLECTION docs")).name, "docs");
    EXPECT_EQ(Body<DescribeStmt>(MustParse("DESCRIBE docs")).collection, "docs");
    MustParse("SHOW COLLECTIONS");
    EXPECT_TRUE(std::holds_alternative<ShowCollectionsStmt>(MustParse("show collections").body));
}

TEST(Parser, InsertKeepsVectorsAndRawJson) {
    const auto& insert = Body<InsertStmt>(MustParse(kNormative[3]));
    EXPECT_EQ(insert.collection, "docs");
    ASSERT_EQ(insert.rows.size(), 1u);
    const std::vector<Expr>& row = insert.rows[0];
    ASSERT_EQ(row.size(), 4u);
    EXPECT_EQ(row[0].kind, ExprKind::kString);
    EXPECT_EQ(row[0].text, "d2");
    EXPECT_EQ(row[1].kind, ExprKind::kVector);
    EXPECT_EQ(row[1].vector_value, (std::vector<double>{0.5, 0.6, 0.7, 0.8}));
    EXPECT_EQ(row[2].kind, ExprKind::kJson);
    EXPECT_EQ(row[2].text, "{\"category\": \"science\", \"year\": 2019}");
    EXPECT_EQ(row[3].kind, ExprKind::kJson);
    EXPECT_EQ(row[3].text, "[{\"label\": \"related_to\", \"target\": \"d1\", \"weight\": 0.8}]");
    EXPECT_EQ(row[1].pos.line, 2u);
    EXPECT_EQ(row[1].pos.column, 10u);

    const auto& multi = Body<InsertStmt>(MustParse(kExtra[23]));
    ASSERT_EQ(multi.rows.size(), 3u);
    EXPECT_TRUE(multi.rows[2][1].vector_value.empty());
}

TEST(Parser, SelectWithDistanceFilterOrderLimit) {
    const auto& select = Body<SelectStmt>(MustParse(kNormative[4]));
    ASSERT_EQ(select.items.size(), 3u);
    EXPECT_EQ(select.items[0].expr.path, (std::vector<std::string>{"id"}));
    EXPECT_EQ(select.items[1].expr.path, (std::vector<std::string>{"metadata", "year"}));
    const Expr& distance = select.items[2].expr;
    EXPECT_EQ(distance.kind, ExprKind::kBinary);
    EXPECT_EQ(distance.op, Op::kCosineDistance);
    EXPECT_EQ(distance.children[1].vector_value, (std::vector<double>{0.1, 0.2, 0.3, 0.4}));
    EXPECT_EQ(select.items[2].alias, "distance");
    EXPECT_EQ(select.collection, "docs");
    ASSERT_TRUE(select.where.has_value());
    EXPECT_EQ(select.where->op, Op::kAnd);
    EXPECT_EQ(select.where->children[0].op, Op::kEq);
    EXPECT_EQ(select.where->children[1].op, Op::kGe);
    EXPECT_EQ(select.where->children[1].children[1].int_value, 2020);
    ASSERT_EQ(select.order_by.size(), 1u);
    EXPECT_EQ(select.order_by[0].expr.path, (std::vector<std::string>{"distance"}));
    EXPECT_FALSE(select.order_by[0].is_descending);
    ASSERT_TRUE(select.limit.has_value());
    EXPECT_EQ(select.limit->int_value, 10);
}

TEST(Parser, SelectFromMatchPattern) {
    const auto& select = Body<SelectStmt>(MustParse(kNormative[5]));
    ASSERT_TRUE(select.match.has_value());
    EXPECT_TRUE(select.collection.empty());
    const MatchPattern& match = *select.match;
    ASSERT_EQ(match.nodes.size(), 2u);
    EXPECT_EQ(match.nodes[0].variable, "a");
    EXPECT_EQ(match.nodes[0].collection, "docs");
    EXPECT_EQ(match.nodes[1].variable, "b");
    ASSERT_EQ(match.edges.size(), 1u);
    EXPECT_EQ(match.edges[0].label, "related_to");
    EXPECT_TRUE(match.edges[0].variable.empty());
    EXPECT_EQ(match.edges[0].direction, EdgeDirection::kOut);
    EXPECT_EQ(match.edges[0].min_hops, 1u);
    EXPECT_EQ(match.edges[0].max_hops, 2u);
    EXPECT_EQ(select.items[1].expr.path, (std::vector<std::string>{"b", "metadata", "category"}));
    EXPECT_EQ(select.order_by[0].expr.op, Op::kL2Distance);
    EXPECT_EQ(select.limit->int_value, 5);

    const auto& weighted = Body<SelectStmt>(MustParse(kExtra[16]));
    const EdgePattern& edge = weighted.match->edges[0];
    EXPECT_EQ(edge.variable, "e");
    ASSERT_TRUE(edge.where.has_value());
    EXPECT_EQ(edge.where->op, Op::kGt);
    EXPECT_EQ(edge.where->children[1].float_value, 0.5);

    const auto& chain = Body<SelectStmt>(MustParse(kExtra[17]));
    ASSERT_EQ(chain.match->edges.size(), 2u);
    EXPECT_EQ(chain.match->edges[0].direction, EdgeDirection::kIn);
    EXPECT_EQ(chain.match->edges[1].direction, EdgeDirection::kBoth);
    EXPECT_EQ(chain.match->edges[1].min_hops, 2u);
    EXPECT_EQ(chain.match->edges[1].max_hops, 2u);
    EXPECT_EQ(chain.where->kind, ExprKind::kIsNull);
    EXPECT_TRUE(chain.where->is_negated);

    const auto& hops = Body<SelectStmt>(MustParse(kExtra[18]));
    EXPECT_EQ(hops.match->nodes[0].variable, "");
    EXPECT_EQ(hops.match->nodes[0].collection, "docs");
    EXPECT_EQ(hops.match->edges[0].max_hops, std::nullopt);
    EXPECT_EQ(hops.match->edges[1].min_hops, 1u);
    EXPECT_EQ(hops.match->edges[1].max_hops, 3u);
    EXPECT_EQ(hops.match->edges[2].min_hops, 2u);
    EXPECT_EQ(hops.match->edges[2].max_hops, std::nullopt);
}

TEST(Parser, UpdateDeleteCountExplainCopy) {
    const auto& update = Body<UpdateStmt>(MustParse(kNormative[6]));
    ASSERT_EQ(update.assignments.size(), 1u);
    EXPECT_EQ(update.assignments[0].path, (std::vector<std::string>{"metadata", "year"}));
    EXPECT_EQ(update.assignments[0].value.int_value, 2022);
    EXPECT_EQ(update.where->children[1].text, "d1");
    const auto& update2 = Body<UpdateStmt>(MustParse(kExtra[22]));
    EXPECT_EQ(update2.assignments[1].value.text, "{\"a\": [1, {\"b\": \"}\"}]}");
    EXPECT_EQ(update2.where->children[1].kind, ExprKind::kParam);
    EXPECT_EQ(update2.where->children[1].text, "id");

    const auto& del = Body<DeleteStmt>(MustParse(kNormative[7]));
    EXPECT_EQ(del.collection, "docs");
    EXPECT_EQ(del.where->op, Op::kEq);
    EXPECT_FALSE(Body<DeleteStmt>(MustParse("DELETE FROM docs")).where.has_value());

    const auto& count = Body<SelectStmt>(MustParse(kNormative[8]));
    EXPECT_EQ(count.items[0].expr.kind, ExprKind::kCall);
    EXPECT_EQ(count.items[0].expr.text, "count");
    EXPECT_TRUE(count.items[0].expr.is_star);
    EXPECT_EQ(count.where->kind, ExprKind::kIn);
    EXPECT_FALSE(count.where->is_negated);
    EXPECT_EQ(count.where->children.size(), 3u);

    Statement explain = MustParse(kNormative[9]);
    EXPECT_EQ(explain.explain, ExplainMode::kExplain);
    EXPECT_EQ(Body<SelectStmt>(explain).limit->int_value, 10);
    EXPECT_EQ(MustParse(kExtra[11]).explain, ExplainMode::kExplainAnalyze);

    const auto& load = Body<CopyStmt>(MustParse(kNormative[10]));
    EXPECT_FALSE(load.is_export);
    EXPECT_EQ(load.file_path, "path/file.jsonl");
    EXPECT_TRUE(load.on_error.empty());
    EXPECT_TRUE(Body<CopyStmt>(MustParse(kNormative[11])).is_export);
    EXPECT_EQ(Body<CopyStmt>(MustParse(kExtra[10])).on_error, "skip");
}

TEST(Parser, ClausesParamsLiteralsAndNames) {
    const auto& as_of = Body<SelectStmt>(MustParse(kExtra[12]));
    EXPECT_EQ(as_of.items[0].expr.kind, ExprKind::kStar);
    EXPECT_EQ(as_of.as_of->int_value, 42);

    const auto& params = Body<SelectStmt>(MustParse(kExtra[13]));
    EXPECT_EQ(params.order_by[0].expr.children[1].kind, ExprKind::kParam);
    EXPECT_EQ(params.order_by[0].expr.children[1].text, "1");
    EXPECT_EQ(params.limit->text, "k");
    ASSERT_EQ(params.options.size(), 1u);
    EXPECT_EQ(params.options[0].name, "ef");
    EXPECT_EQ(params.options[0].value.int_value, 128);

    const auto& ip = Body<SelectStmt>(MustParse(kExtra[14]));
    EXPECT_EQ(ip.order_by[0].expr.op, Op::kNegInnerProduct);
    EXPECT_EQ(ip.order_by[0].expr.children[1].vector_value,
              (std::vector<double>{1, -2, 350, -0.25}));
    EXPECT_TRUE(ip.order_by[0].is_descending);
    EXPECT_FALSE(ip.order_by[1].is_descending);

    const auto& group = Body<SelectStmt>(MustParse(kExtra[15]));
    ASSERT_EQ(group.items.size(), 5u);
    EXPECT_EQ(group.items[1].alias, "n");
    EXPECT_EQ(group.items[4].expr.text, "avg");
    EXPECT_EQ(group.items[4].expr.children[0].path,
              (std::vector<std::string>{"metadata", "score"}));
    ASSERT_EQ(group.group_by.size(), 1u);

    const auto& logic = Body<SelectStmt>(MustParse(kExtra[19]));
    // NOT (...) AND c != 3 AND d < 4 AND ...: one flat AND chain.
    EXPECT_EQ(logic.where->op, Op::kAnd);
    const Expr* leftmost = &*logic.where;
    while (leftmost->kind == ExprKind::kBinary && leftmost->op == Op::kAnd) {
        leftmost = &leftmost->children[0];
    }
    EXPECT_EQ(leftmost->kind, ExprKind::kUnary);
    EXPECT_EQ(leftmost->children[0].op, Op::kOr);
    EXPECT_EQ(leftmost->children[0].children[1].op, Op::kNe);

    const auto& in = Body<SelectStmt>(MustParse(kExtra[20]));
    const Expr* not_in = &*in.where;
    while (not_in->kind == ExprKind::kBinary) {
        not_in = &not_in->children[0];
    }
    EXPECT_EQ(not_in->kind, ExprKind::kIn);
    EXPECT_TRUE(not_in->is_negated);
    EXPECT_EQ(not_in->children[2].text, "b'c");
    EXPECT_EQ(not_in->children[3].path, (std::vector<std::string>{"x", "y z"}));

    const auto& numbers = Body<SelectStmt>(MustParse(kExtra[21]));
    const Expr& where = *numbers.where;
    // One flat AND chain with a child per term (issue 13).
    ASSERT_EQ(where.children.size(), 4u);
    EXPECT_EQ(where.children[3].children[1].int_value, 9223372036854775807);
    EXPECT_EQ(where.children[2].children[1].kind, ExprKind::kFloat);
    EXPECT_EQ(where.children[2].children[1].float_value, 2.0);
    EXPECT_EQ(where.children[1].children[1].float_value, -1.5e-3);
    EXPECT_EQ(where.children[0].children[1].int_value, -5);

    const auto& quoted = Body<SelectStmt>(MustParse(kExtra[24 + 1]));
    EXPECT_EQ(quoted.items[0].expr.path, (std::vector<std::string>{"select"}));
    EXPECT_EQ(quoted.items[1].expr.path, (std::vector<std::string>{"we\"ird"}));
    EXPECT_EQ(quoted.collection, "my docs");
    EXPECT_EQ(Body<SelectStmt>(MustParse(kExtra[27])).collection, "Docs");
}

TEST(Parser, ToStringRoundTripsEveryStatement) {
    std::vector<std::string> all = AllStatements();
    Result<std::vector<Statement>> script = ParseScript(kNormativeScript);
    ASSERT_TRUE(script.ok());
    std::vector<Statement> statements = *script;
    for (const std::string& text : all) {
        statements.push_back(MustParse(text));
    }
    for (const Statement& statement : statements) {
        std::string canonical = ToString(statement);
        Result<Statement> again = ParseStatement(canonical);
        ASSERT_TRUE(again.ok()) << canonical << "\n" << again.status().ToString();
        EXPECT_EQ(*again, statement) << canonical;
        EXPECT_EQ(ToString(*again), canonical);
    }
    EXPECT_EQ(ToString(MustParse(kNormative[4])),
              "SELECT id, metadata.year, vector <=> [0.1, 0.2, 0.3, 0.4] AS distance FROM docs "
              "WHERE metadata.category = 'tech' AND metadata.year >= 2020 ORDER BY distance "
              "LIMIT 10");
    EXPECT_EQ(ToString(MustParse(kNormative[5])),
              "SELECT b.id, b.metadata.category FROM MATCH (a:docs)-[:related_to*1..2]->(b:docs) "
              "WHERE a.id = 'd2' ORDER BY b.vector <-> [0.1, 0.2, 0.3, 0.4] LIMIT 5");
    EXPECT_EQ(ToString(MustParse("SELECT x FROM t WHERE NOT (a OR b) AND (c AND d OR e)")),
              "SELECT x FROM t WHERE NOT (a OR b) AND (c AND d OR e)");
    for (const char* text :
         {"SELECT DISTINCT metadata.a, count(*) FROM t GROUP BY metadata.a HAVING count(*) > 1 "
          "AND max(metadata.b) IS NOT NULL ORDER BY metadata.a DESC LIMIT 5 OFFSET 10",
          "SELECT id FROM t OFFSET $1", "SELECT count(*) FROM t HAVING count(*) IN (1, 2)"}) {
        const Statement statement = MustParse(text);
        EXPECT_EQ(ToString(statement), text);
        EXPECT_EQ(MustParse(ToString(statement)), statement);
    }
    EXPECT_TRUE(Body<SelectStmt>(MustParse("SELECT DISTINCT id FROM t")).distinct);
    // DISTINCT, OFFSET and HAVING are reserved: as names they are quoted.
    EXPECT_FALSE(ParseStatement("SELECT id FROM offset").ok());
    EXPECT_EQ(Body<SelectStmt>(MustParse("SELECT id FROM \"offset\"")).collection, "offset");
}

TEST(Parser, ScriptsSkipEmptyStatements) {
    Result<std::vector<Statement>> script = ParseScript(";; BEGIN ;; COMMIT; ");
    ASSERT_TRUE(script.ok());
    EXPECT_EQ(script->size(), 2u);
    Result<std::vector<Statement>> empty = ParseScript("  -- nothing\n");
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->empty());
}

struct ErrorCase {
    std::string_view text;
    std::string_view message;
};

TEST(Parser, ErrorsNameLineColumnAndExpectation) {
    const ErrorCase kCases[] = {
        {"SELECT id, name FORM docs",
         "line 1, column 17: expected FROM, found 'FORM'; did you mean FROM?"},
        {"SELCT id FROM docs",
         "line 1, column 1: expected a statement, found 'SELCT'; did you mean SELECT?"},
        {"", "OK"},
        {"SELECT", "line 1, column 7: expected an expression, found end of input"},
        {"SELECT id FROM",
         "line 1, column 15: expected a collection name or MATCH, found end of input"},
        {"SELECT id\nFROM docs\nWHERE",
         "line 3, column 6: expected an expression, found end of input"},
        {"SELECT id FROM docs LIMIT x", "line 1, column 27: expected a row count, found 'x'"},
        {"SELECT id FROM docs ORDER distance", "line 1, column 27: expected BY, found 'distance'"},
        {"CREATE TABLE t",
         "line 1, column 8: expected COLLECTION, INDEX, TENANT, ROLE or API KEY, found 'TABLE'"},
        {"CREATE COLECTION t",
         "line 1, column 8: expected COLLECTION, INDEX, TENANT, ROLE or API KEY, found "
         "'COLECTION'; did you mean "
         "COLLECTION?"},
        {"CREATE COLLECTION t (DIMENSON 4)",
         "line 1, column 22: expected DIMENSION or METRIC, found 'DIMENSON'; did you mean "
         "DIMENSION?"},
        {"CREATE COLLECTION t (DIMENSION 0)", "line 1, column 32: the dimension must be positive"},
        {"CREATE COLLECTION t (DIMENSION 4, DIMENSION 5)",
         "line 1, column 35: DIMENSION given twice"},
        {"INSERT docs (id) VALUES ('a')", "line 1, column 8: expected INTO, found 'docs'"},
        {"INSERT INTO docs (id) VALUES ('a'",
         "line 1, column 34: expected ')', found end of input"},
        {"INSERT INTO docs (id) VALUES ('a)", "line 1, column 31: unterminated string literal"},
        {"SELECT \"x FROM t", "line 1, column 8: unterminated quoted identifier"},
        {"SELECT x FROM t /* open", "line 1, column 17: unterminated comment"},
        {"INSERT INTO t (m) VALUES ({\"a\": [1}",
         "line 1, column 35: unbalanced '}' in JSON literal"},
        {"INSERT INTO t (m) VALUES ({\"a\": 1)", "line 1, column 27: unterminated JSON literal"},
        {"SELECT x FROM t WHERE a = $",
         "line 1, column 27: expected a parameter number or name after '$'"},
        {"SELECT x FROM t WHERE a ? 1", "line 1, column 25: unexpected '?'"},
        {"SELECT x FROM t WHERE a = 99999999999999999999",
         "line 1, column 27: integer 99999999999999999999 is out of range"},
        {"SELECT x FROM t WHERE a = 1e999", "line 1, column 27: number 1e999 is out of range"},
        {"SELECT x FROM t WHERE a IS 5",
         "line 1, column 28: expected NULL, TRUE or FALSE, found '5'"},
        {"SELECT x FROM t WHERE a IN 5", "line 1, column 28: expected '(', found '5'"},
        {"SELECT x FROM t ORDER BY v <-> [1, 'a']",
         "line 1, column 36: expected a number, found ''a''"},
        {"SELECT x FROM MATCH (a)<-[e]->(b)", "line 1, column 24: an edge cannot point both ways"},
        {"SELECT x FROM MATCH (a)-[*3..2]->(b)",
         "line 1, column 27: the maximum hop count is below the minimum"},
        {"SELECT x FROM MATCH (a)-[e:]->(b)",
         "line 1, column 28: expected an edge label, found ']'"},
        {"SELECT x FROM t WITH (ef 128)", "line 1, column 26: expected '=', found '128'"},
        {"COPY docs FROM 'f' (ON_EROR skip)",
         "line 1, column 21: expected ON_ERROR, found 'ON_EROR'; did you mean ON_ERROR?"},
        {"COPY docs INTO 'f'", "line 1, column 11: expected FROM or TO, found 'INTO'"},
        {"COPY docs FROM f", "line 1, column 16: expected a file path in single quotes, found 'f'"},
        {"SHOW TABLES",
         "line 1, column 6: expected COLLECTIONS, INDEXES, TENANTS, TIMESTAMP, STATS, DATABASE "
         "STATS, ROLES, GRANTS or API KEYS, found 'TABLES'"},
        {"EXPLAIN EXPLAIN SELECT x FROM t",
         "line 1, column 9: expected a statement to explain, found 'EXPLAIN'"},
        {"BEGIN COMMIT",
         "line 1, column 7: expected READ ONLY, AS OF or end of statement, found 'COMMIT'"},
        {"SELECT x FROM select",
         "line 1, column 15: expected a collection name or MATCH, found 'select'"},
        {"SELECT x FROM t WHERE a = \x01", "line 1, column 27: unexpected byte 0x01"},
    };
    for (const ErrorCase& error_case : kCases) {
        EXPECT_EQ(ErrorOf(error_case.text), error_case.message) << error_case.text;
    }
    Result<Statement> two = ParseStatement("BEGIN; COMMIT");
    ASSERT_FALSE(two.ok());
    EXPECT_EQ(two.status().message(), "line 1, column 8: expected end of input, found 'COMMIT'");
}

TEST(Parser, DeepNestingFailsCleanly) {
    std::string deep(100000, '(');
    Result<Statement> result = ParseStatement("SELECT " + deep);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.status().message().find("nested deeper than 256"), std::string::npos)
        << result.status().message();

    std::string nots;
    for (int idx = 0; idx < 100000; ++idx) {
        nots += "NOT ";
    }
    EXPECT_FALSE(ParseStatement("SELECT x FROM t WHERE " + nots + "a").ok());

    // A left-nested distance chain is deep.
    std::string distances = "SELECT a";
    for (int idx = 0; idx < 10000; ++idx) {
        distances += " <-> a";
    }
    EXPECT_FALSE(ParseStatement(distances + " FROM t").ok());

    // Just under the limit still parses and round-trips.
    std::string ok_nesting =
        "SELECT x FROM t WHERE " + std::string(200, '(') + "a = 1" + std::string(200, ')');
    Statement statement = MustParse(ok_nesting);
    EXPECT_EQ(MustParse(ToString(statement)), statement);
}

// Issue 13: a flat list of 300 OR terms was refused as "nested deeper than 256": each link of a
// chain counted as a level. A chain is one node with a child per term.
TEST(Parser, FlatChainsAreNotDeep) {
    for (std::string_view op : {" OR ", " AND "}) {
        std::string where = "a = 0";
        for (int idx = 1; idx < 10000; ++idx) {
            where += std::string(op) + "a = " + std::to_string(idx);
        }
        Statement statement = MustParse("SELECT x FROM t WHERE " + where);
        const Expr chain = *Body<SelectStmt>(statement).where;
        EXPECT_EQ(chain.op, op == " OR " ? Op::kOr : Op::kAnd);
        ASSERT_EQ(chain.children.size(), 10000u);
        EXPECT_EQ(chain.children[9999].children[1].int_value, 9999);
        EXPECT_EQ(MustParse(ToString(statement)), statement);
    }
    // AND binds tighter: a OR b AND c OR d is OR(a, AND(b, c), d).
    Statement mixed = MustParse("SELECT x FROM t WHERE a = 1 OR b = 2 AND c = 3 OR d = 4");
    const Expr top = *Body<SelectStmt>(mixed).where;
    ASSERT_EQ(top.children.size(), 3u);
    EXPECT_EQ(top.children[1].op, Op::kAnd);
    EXPECT_EQ(top.children[1].children.size(), 2u);
    // Parentheses keep a nested chain of the same operator, and print back with them.
    Statement nested = MustParse("SELECT x FROM t WHERE (a = 1 OR b = 2) OR c = 3");
    const Expr outer = *Body<SelectStmt>(nested).where;
    ASSERT_EQ(outer.children.size(), 2u);
    EXPECT_EQ(outer.children[0].op, Op::kOr);
    EXPECT_EQ(ToString(outer), "(a = 1 OR b = 2) OR c = 3");
    EXPECT_EQ(MustParse(ToString(nested)), nested);
    // Real nesting is still bounded: 300 parenthesized chains, or NOT 300 times.
    std::string deep = "a = 1";
    for (int idx = 0; idx < 300; ++idx) {
        deep = "(" + deep + " OR b = 2)";
    }
    EXPECT_FALSE(ParseStatement("SELECT x FROM t WHERE " + deep).ok());
    std::string nots;
    for (int idx = 0; idx < 300; ++idx) {
        nots += "NOT ";
    }
    EXPECT_FALSE(ParseStatement("SELECT x FROM t WHERE " + nots + "a = 1").ok());
}

TEST(Parser, LargeInputParses) {
    std::string insert = "INSERT INTO docs (id, vector) VALUES ('x', [0.5])";
    while (insert.size() < (std::size_t{1} << 20)) {
        insert += ", ('x', [0.5, 1.5, -2.5, 3.5])";
    }
    const auto& parsed = Body<InsertStmt>(MustParse(insert));
    EXPECT_GT(parsed.rows.size(), 10000u);
}

TEST(Parser, RandomBytesNeverCrash) {
    constexpr std::uint32_t kSeed = 20261126;
    std::printf("seed %u\n", kSeed);
    std::mt19937 rng(kSeed);
    for (int round = 0; round < 3000; ++round) {
        std::size_t length = rng() % 200;
        std::string text;
        for (std::size_t idx = 0; idx < length; ++idx) {
            text.push_back(static_cast<char>(rng() % 256));
        }
        Result<std::vector<Statement>> result = ParseScript(text);
        if (!result.ok()) {
            EXPECT_TRUE(result.status().IsInvalidArgument());
        }
    }
}

TEST(Parser, RandomTokenSoupNeverCrashesAndRoundTrips) {
    constexpr std::uint32_t kSeed = 7;
    std::printf("seed %u\n", kSeed);
    const std::vector<std::string_view> kPieces = {
        "SELECT",      "FROM",   "WHERE",   "MATCH", "(",      ")",          "[",     "]",
        "-",           "->",     "<",       "<->",   "<=>",    "<#>",        "=",     "!=",
        ">=",          ",",      ";",       ".",     "..",     "*",          ":",     "AND",
        "OR",          "NOT",    "IN",      "IS",    "NULL",   "TRUE",       "x",     "docs",
        "metadata",    "1",      "2.5",     "-3",    "'s'",    "$1",         "$p",    "{\"a\":1}",
        "[{\"b\":2}]", "ORDER",  "BY",      "LIMIT", "GROUP",  "AS",         "OF",    "WITH",
        "ef",          "count",  "INSERT",  "INTO",  "VALUES", "UPDATE",     "SET",   "DELETE",
        "COPY",        "TO",     "EXPLAIN", "BEGIN", "CREATE", "COLLECTION", "INDEX", "ON",
        "DIMENSION",   "METRIC", "DESC",    "e",     "a",      "b",          "+",     "/",
        "%",           "- -",    "-x",
    };
    std::mt19937 rng(kSeed);
    int num_parsed = 0;
    for (int round = 0; round < 5000; ++round) {
        std::size_t length = 1 + rng() % (round % 2 == 0 ? 6 : 30);
        std::string text;
        // Start most soups with a statement keyword so that some of them parse.
        if (rng() % 2 == 0) {
            text = "SELECT x FROM docs WHERE";
        }
        for (std::size_t idx = 0; idx < length; ++idx) {
            text += " ";
            text += kPieces[rng() % kPieces.size()];
        }
        Result<std::vector<Statement>> result = ParseScript(text);
        if (!result.ok()) {
            EXPECT_TRUE(result.status().IsInvalidArgument());
            continue;
        }
        for (const Statement& statement : *result) {
            ++num_parsed;
            Result<Statement> again = ParseStatement(ToString(statement));
            ASSERT_TRUE(again.ok()) << text << "\n" << ToString(statement);
            EXPECT_EQ(*again, statement) << text;
        }
    }
    std::printf("%d soup statements parsed\n", num_parsed);
}

// Found by the parser fuzzer (tests/fuzz/corpus/parser/crash_vector_whole_number_past_int64.sql):
// a whole vector element past int64 printed as bare digits, which read back as an out-of-range
// integer. Such elements now print with an exponent.
TEST(Parser, VectorElementsPastInt64RoundTrip) {
    for (std::string_view text : {"SELECT id FROM d ORDER BY v <-> [92233720368547758080.2, 1e20]",
                                  "SELECT id FROM d ORDER BY v <-> [-1.2345678901234567e19, 5]"}) {
        Statement statement = MustParse(text);
        std::string printed = ToString(statement);
        EXPECT_TRUE(MustParse(printed) == statement) << printed;
    }
    EXPECT_EQ(ToString(MustParse("SELECT id FROM d ORDER BY v <-> [1e20, 2, -0.5]")),
              "SELECT id FROM d ORDER BY v <-> [1e+20, 2, -0.5]");
}

// The forms the JSON query translation (json_query.h) relies on.
TEST(Parser, AcceptsTheJsonFormTwins) {
    const auto& select = Body<SelectStmt>(MustParse(
        "SELECT b.id, distance(b.vector, [1, 2]) AS distance FROM MATCH (a:docs)-[*1..2]->(b:docs) "
        "WHERE a.id = 'd2' AND NOT exists(b.metadata.x) ORDER BY distance LIMIT 5 WITH (ef = "
        "128)"));
    EXPECT_EQ(select.items[1].expr.kind, ExprKind::kCall);
    EXPECT_EQ(select.items[1].expr.text, "distance");
    ASSERT_TRUE(select.match.has_value());
    EXPECT_TRUE(select.match->edges[0].label.empty());
    EXPECT_EQ(select.match->edges[0].max_hops, 2u);
    EXPECT_EQ(select.where->children[1].children[0].text, "exists");
    ASSERT_EQ(select.options.size(), 1u);
    EXPECT_EQ(select.options[0].name, "ef");
}

// Issue 13: INSERT ... ON CONFLICT and the || merge operator parse, print canonically and
// round-trip; CONFLICT, DO and NOTHING stay usable as names.
TEST(Parser, OnConflictAndConcat) {
    const auto& upsert = Body<InsertStmt>(
        MustParse("INSERT INTO docs (id, metadata) VALUES ('a', {}) on conflict (id) do update"));
    EXPECT_EQ(upsert.on_conflict, ConflictAction::kDoUpdate);
    EXPECT_EQ(Body<InsertStmt>(MustParse("INSERT INTO docs (id) VALUES ('a')")).on_conflict,
              ConflictAction::kError);
    EXPECT_EQ(Body<InsertStmt>(MustParse("INSERT INTO docs (id) VALUES ('a') ON CONFLICT DO "
                                         "NOTHING"))
                  .on_conflict,
              ConflictAction::kDoNothing);

    const auto& merge = Body<UpdateStmt>(
        MustParse("UPDATE docs SET metadata = metadata || {\"k\": 1} || $p WHERE id = 'a'"));
    const Expr& value = merge.assignments[0].value;
    ASSERT_EQ(value.kind, ExprKind::kBinary);
    EXPECT_EQ(value.op, Op::kConcat);
    EXPECT_EQ(value.children[0].op, Op::kConcat);  // left-associative
    EXPECT_EQ(value.children[0].children[0].path, (std::vector<std::string>{"metadata"}));
    EXPECT_EQ(value.children[0].children[1].kind, ExprKind::kJson);
    EXPECT_EQ(value.children[1].kind, ExprKind::kParam);

    const std::vector<std::string> statements = {
        "INSERT INTO docs (id, vector) VALUES ('a', [1, 2]) ON CONFLICT (id) DO NOTHING",
        "INSERT INTO docs (id, metadata) VALUES ('a', {\"x\": 1}), ('b', NULL) ON CONFLICT "
        "(\"id\") DO UPDATE",
        "UPDATE docs SET metadata = metadata || {\"k\": 1} WHERE metadata.k || $x = 1",
        "UPDATE docs SET metadata = {\"a\": 1} || (metadata || $p)",
        "SELECT conflict, nothing, \"do\" FROM docs WHERE a || b <-> c < 1",
    };
    for (const std::string& text : statements) {
        const Statement statement = MustParse(text);
        const std::string canonical = ToString(statement);
        Result<Statement> again = ParseStatement(canonical);
        ASSERT_TRUE(again.ok()) << canonical << "\n" << again.status().ToString();
        EXPECT_EQ(*again, statement) << canonical;
    }
    EXPECT_EQ(ToString(MustParse("insert into d (id) values ('a') on conflict do nothing")),
              "INSERT INTO d (id) VALUES ('a') ON CONFLICT (id) DO NOTHING");
    EXPECT_EQ(ToString(MustParse("UPDATE d SET metadata = {\"a\": 1} || (metadata || $p)")),
              "UPDATE d SET metadata = {\"a\": 1} || (metadata || $p)");

    EXPECT_EQ(ErrorOf("INSERT INTO d (id) VALUES ('a') ON CONFLIT (id) DO NOTHING"),
              "line 1, column 36: expected CONFLICT, found 'CONFLIT'; did you mean CONFLICT?");
    EXPECT_EQ(ErrorOf("INSERT INTO d (id) VALUES ('a') ON CONFLICT (id, x) DO NOTHING"),
              "line 1, column 48: expected ')', found ','");
    EXPECT_EQ(ErrorOf("INSERT INTO d (id) VALUES ('a') ON CONFLICT (id) DO"),
              "line 1, column 52: expected NOTHING or UPDATE, found end of input");
    EXPECT_EQ(ErrorOf("UPDATE d SET metadata = metadata | {}"),
              "line 1, column 34: unexpected '|'");
}

// Issue 13: + - * / % and unary minus, with SQL precedence (unary minus > * / % > + - > ||
// and distances > comparisons > NOT > AND > OR), printed canonically and round-tripped.
TEST(Parser, ArithmeticPrecedenceAndPrinting) {
    const auto where = [](std::string_view text) {
        return *Body<SelectStmt>(MustParse("SELECT id FROM t WHERE " + std::string(text))).where;
    };
    // a + b * c > d: (a + (b * c)) > d.
    const Expr compare = where("metadata.a + metadata.b * 2 > 10");
    ASSERT_EQ(compare.op, Op::kGt);
    EXPECT_EQ(compare.children[0].op, Op::kAdd);
    EXPECT_EQ(compare.children[0].children[1].op, Op::kMul);
    // Left-associative: a - b - c is (a - b) - c.
    const Expr minus = where("a - b - c = 0").children[0];
    EXPECT_EQ(minus.op, Op::kSub);
    EXPECT_EQ(minus.children[0].op, Op::kSub);
    EXPECT_EQ(minus.children[1].path, (std::vector<std::string>{"c"}));
    // Unary minus binds tighter than *: -a * b is (-a) * b.
    const Expr negated = where("-a * b = 0").children[0];
    EXPECT_EQ(negated.op, Op::kMul);
    EXPECT_EQ(negated.children[0].kind, ExprKind::kUnary);
    EXPECT_EQ(negated.children[0].op, Op::kNeg);
    // A minus before a number is a negative literal; a-1 is a subtraction, not a-then-(-1).
    const Expr literal = where("x = -5").children[1];
    EXPECT_EQ(literal.kind, ExprKind::kInt);
    EXPECT_EQ(literal.int_value, -5);
    const Expr subtraction = where("metadata.a-1 = 0").children[0];
    EXPECT_EQ(subtraction.op, Op::kSub);
    EXPECT_EQ(subtraction.children[1].int_value, 1);
    // metadata.a-b is metadata.a minus the field b (names never hold '-').
    const Expr names = where("metadata.a-b = 0").children[0];
    EXPECT_EQ(names.op, Op::kSub);
    EXPECT_EQ(names.children[1].path, (std::vector<std::string>{"b"}));
    // + - bind tighter than || and the distance operators, which bind tighter than =.
    const Expr concat = where("a || b + 1 = c").children[0];
    EXPECT_EQ(concat.op, Op::kConcat);
    EXPECT_EQ(concat.children[1].op, Op::kAdd);
    // -9223372036854775808 is a literal (its digits alone are out of range).
    EXPECT_EQ(where("x = -9223372036854775808").children[1].int_value, INT64_MIN);

    const std::pair<std::string_view, std::string_view> kCanonical[] = {
        {"SELECT a+b*c, (a+b)*c, a-(b-c), (a-b)-c, -a, - -a, -(-5), -(5), a - -5 FROM t",
         "SELECT a + b * c, (a + b) * c, a - (b - c), a - b - c, -a, -(-a), -(-5), -(5), a - -5 "
         "FROM t"},
        {"SELECT a/b%c, a%(b/c), -(a*b), -a.b, 2*-x FROM t",
         "SELECT a / b % c, a % (b / c), -(a * b), -a.b, 2 * -x FROM t"},
        {"SELECT id FROM t WHERE NOT a+1>2 AND (b-1)*2 IN (1,2) ORDER BY a*b DESC",
         "SELECT id FROM t WHERE NOT a + 1 > 2 AND (b - 1) * 2 IN (1, 2) ORDER BY a * b DESC"},
        {"SELECT sum(a*b)/count(*) AS x FROM t GROUP BY c HAVING sum(a)*2 > 1",
         "SELECT sum(a * b) / count(*) AS x FROM t GROUP BY c HAVING sum(a) * 2 > 1"},
        {"SELECT a <-> [1, 2] + 1, (a || b) * 2 FROM t",
         "SELECT a <-> [1, 2] + 1, (a || b) * 2 FROM t"},
    };
    for (const auto& [text, canonical] : kCanonical) {
        const Statement statement = MustParse(text);
        EXPECT_EQ(ToString(statement), canonical);
        EXPECT_EQ(MustParse(ToString(statement)), statement) << canonical;
    }
    // Never `--` (a comment) from a negation of a negative number or of a negation.
    EXPECT_EQ(ToString(MustParse("SELECT - -1, - - - x FROM t")), "SELECT -(-1), -(-(-x)) FROM t");
    EXPECT_EQ(ErrorOf("SELECT 1 + FROM t"),
              "line 1, column 12: expected an expression, found "
              "'FROM'");
    EXPECT_EQ(ErrorOf("SELECT a * FROM t"),
              "line 1, column 12: expected an expression, found "
              "'FROM'");
}

// Random arithmetic trees (every operator, negative and extreme literals, negations of
// negations, fields, parameters, calls) print to text that parses back to the same tree.
TEST(Parser, RandomArithmeticTreesRoundTrip) {
    constexpr std::uint32_t kSeed = 1313;
    std::printf("seed %u\n", kSeed);
    std::mt19937 rng(kSeed);
    auto pick = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
    std::function<Expr(int)> make = [&](int depth) -> Expr {
        Expr expr;
        const std::uint32_t shape = depth <= 0 ? 0 : pick(6);
        if (shape == 0) {
            switch (pick(7)) {
                case 0:
                    expr.kind = ExprKind::kInt;
                    expr.int_value = static_cast<std::int64_t>(pick(21)) - 10;
                    break;
                case 1:
                    expr.kind = ExprKind::kInt;
                    expr.int_value = pick(2) == 0 ? INT64_MIN : INT64_MAX;
                    break;
                case 2:
                    expr.kind = ExprKind::kFloat;
                    expr.float_value = (static_cast<double>(pick(2001)) - 1000.0) / 8.0;
                    break;
                case 3:
                    expr.kind = ExprKind::kPath;
                    expr.path = {"metadata", pick(2) == 0 ? "a" : "b-c"};
                    break;
                case 4:
                    expr.kind = ExprKind::kParam;
                    expr.text = "1";
                    break;
                case 5:
                    expr.kind = ExprKind::kNull;
                    break;
                default:
                    expr.kind = ExprKind::kCall;
                    expr.text = "sum";
                    expr.children.push_back(make(depth - 1));
                    break;
            }
            return expr;
        }
        if (shape == 1) {
            expr.kind = ExprKind::kUnary;
            expr.op = Op::kNeg;
            expr.children.push_back(make(depth - 1));
            return expr;
        }
        static constexpr Op kOps[] = {Op::kAdd, Op::kSub, Op::kMul,   Op::kDiv,
                                      Op::kMod, Op::kLt,  Op::kConcat};
        expr.kind = ExprKind::kBinary;
        expr.op = kOps[pick(7)];
        expr.children.push_back(make(depth - 1));
        expr.children.push_back(make(depth - 1));
        return expr;
    };
    int num_checked = 0;
    for (int round = 0; round < 3000; ++round) {
        Statement statement;
        SelectStmt select;
        select.items.push_back({make(static_cast<int>(pick(5))), ""});
        select.collection = "t";
        statement.body = std::move(select);
        const std::string text = ToString(statement);
        Result<Statement> again = ParseStatement(text);
        ASSERT_TRUE(again.ok()) << text << "\n" << again.status().ToString();
        ASSERT_EQ(*again, statement) << text;
        EXPECT_EQ(ToString(*again), text);
        ++num_checked;
    }
    EXPECT_EQ(num_checked, 3000);
}

TEST(Lexer, TokenKindsAndPositions) {
    Result<std::vector<Token>> tokens =
        Lex("a.b 1..2 1.5e3 $x 'it''s' <-> -- c\n\"q\" ( {\"k\": [1]}");
    ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
    std::vector<TokenKind> kinds;
    for (const Token& token : *tokens) {
        kinds.push_back(token.kind);
    }
    EXPECT_EQ(kinds,
              (std::vector<TokenKind>{TokenKind::kWord, TokenKind::kSymbol, TokenKind::kWord,
                                      TokenKind::kInteger, TokenKind::kSymbol, TokenKind::kInteger,
                                      TokenKind::kFloat, TokenKind::kParam, TokenKind::kString,
                                      TokenKind::kSymbol, TokenKind::kQuotedIdent,
                                      TokenKind::kSymbol, TokenKind::kJson, TokenKind::kEnd}));
    EXPECT_EQ((*tokens)[8].value, "it's");
    EXPECT_EQ((*tokens)[10].pos.line, 2u);
    EXPECT_EQ((*tokens)[10].pos.column, 1u);
    EXPECT_EQ((*tokens)[12].text, "{\"k\": [1]}");
}

TEST(Lexer, RejectsOversizedInput) {
    std::string huge(kMaxQueryBytes + 1, ' ');
    EXPECT_FALSE(Lex(huge).ok());
}

}  // namespace
}  // namespace phenix::query
