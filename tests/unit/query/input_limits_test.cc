// SPDX-License-Identifier: Apache-2.0
// Bad input through whole PhenixQL statements (issue 13, item 7): whatever path a value takes
// (INSERT, UPDATE ... SET, WHERE, JSON literals, parameters), too-deep JSON and invalid UTF-8
// are InvalidArgument naming the place, never a crash, an internal library message, or a value
// stored altered.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <phenix/db.h>
#include <phenix/phenixql.h>

#include "testing/query_fixture.h"
#include "testing/temp_dir.h"

namespace phenix {
namespace {

class InputLimitsTest : public testing::QueryTest {
  protected:
    void SetUp() override {
        QueryTest::SetUp();
        Run("CREATE COLLECTION docs");
        Run("INSERT INTO docs (id, metadata) VALUES ('d1', {\"k\": \"old\", \"n\": 1})");
    }

    std::string MetadataOf(std::string_view id) {
        Result<Entity> entity = db_->Get("docs", id);
        EXPECT_TRUE(entity.ok()) << entity.status().ToString();
        return entity.ok() ? entity->metadata : std::string();
    }
};

// `levels` nested arrays around 1, as JSON text.
std::string DeepArray(int levels) {
    return std::string(static_cast<std::size_t>(levels), '[') + "1" +
           std::string(static_cast<std::size_t>(levels), ']');
}

// `levels` nested objects {"a": {"a": ... 1}}, as JSON text.
std::string DeepObject(int levels) {
    std::string out;
    for (int level = 0; level < levels; ++level) {
        out += "{\"a\": ";
    }
    return out + "1" + std::string(static_cast<std::size_t>(levels), '}');
}

// Issue 13: 80,000 nested levels in a JSON literal overflowed the stack in the JSON serializer.
TEST_F(InputLimitsTest, DeepJsonLiteralIsRefusedWithItsPositionOnEveryPath) {
    const std::string deep = DeepObject(80000);
    const std::string deep_array = "[{\"a\": " + DeepObject(80000) + "}]";
    const std::string statements[] = {
        "INSERT INTO docs (id, metadata) VALUES ('d2', " + deep + ")",
        "INSERT INTO docs (id, edges) VALUES ('d2', " + deep_array + ")",
        "UPDATE docs SET metadata.a = " + deep,
        "UPDATE docs SET metadata = " + deep,
        "SELECT id FROM docs WHERE metadata.a = " + deep,
        "DELETE FROM docs WHERE metadata.a IN (" + deep + ")",
    };
    for (const std::string& sql : statements) {
        const Status status = Fail(sql);
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
        EXPECT_NE(status.message().find("line 1, column "), std::string::npos) << status.message();
        EXPECT_NE(status.message().find("JSON literal is nested 8000"), std::string::npos)
            << status.message();
        EXPECT_NE(status.message().find("levels deep; the limit is 66"), std::string::npos)
            << status.message();
    }
    EXPECT_EQ(MetadataOf("d1"), "{\"k\":\"old\",\"n\":1}");
    // The column of the first bracket past the limit.
    const Status status = Fail("SELECT id FROM docs WHERE metadata.a = " + DeepObject(100));
    EXPECT_NE(status.message().find("line 1, column " + std::to_string(40 + 66 * 6)),
              std::string::npos)
        << status.message();
}

TEST_F(InputLimitsTest, JsonAtTheEngineLimitStillWorks) {
    // Metadata 64 levels deep (the object itself is level 1), and edge properties as deep inside
    // the edges literal (66 levels in all).
    const std::string metadata = DeepObject(64);
    std::string document_text = metadata;
    std::erase(document_text, ' ');
    Run("INSERT INTO docs (id, metadata) VALUES ('d2', " + metadata + ")");
    Run("INSERT INTO docs (id, edges) VALUES ('d3', [{\"label\": \"x\", \"target\": \"d1\", "
        "\"properties\": " +
        metadata + "}])");
    EXPECT_EQ(MetadataOf("d2"), document_text);
    QueryResult found = Run("SELECT id FROM docs WHERE exists(metadata.a)");
    EXPECT_EQ(found.rows.size(), 1u);
}

TEST_F(InputLimitsTest, DeepJsonParameterIsRefused) {
    const QueryParams params = {{"v", QueryValue::Json(DeepObject(80000))}};
    for (std::string_view sql : {"UPDATE docs SET metadata.a = $v", "UPDATE docs SET metadata = $v",
                                 "INSERT INTO docs (id, metadata) VALUES ('d2', $v)",
                                 "SELECT id FROM docs WHERE metadata.a = $v"}) {
        const Status status = Fail(sql, params);
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
        EXPECT_NE(status.message().find("parameter $v is JSON nested 80000 levels deep"),
                  std::string::npos)
            << status.message();
    }
    EXPECT_EQ(MetadataOf("d1"), "{\"k\":\"old\",\"n\":1}");
    Result<QueryValue> from_json = QueryValue::FromJson(DeepArray(80000));
    ASSERT_FALSE(from_json.ok());
    EXPECT_EQ(from_json.status().code(), StatusCode::kInvalidArgument);
}

// Issue 13: UPDATE ... SET metadata.k = '<invalid UTF-8>' stored the string with U+FFFD in place
// of the bad bytes, and the same literal in a WHERE failed with nlohmann's Internal message.
TEST_F(InputLimitsTest, InvalidUtf8LiteralIsRefusedWithItsPosition) {
    const std::string statements[] = {
        "UPDATE docs SET metadata.k = 'a\xff'",
        "UPDATE docs SET metadata = {\"k\": \"a\xff\"}",
        "SELECT id FROM docs WHERE metadata.k = 'a\xff'",
        "SELECT id FROM docs WHERE metadata.k IN ('x', 'a\xff')",
        "SELECT id FROM docs WHERE id = 'a\xff'",
        "INSERT INTO docs (id, metadata) VALUES ('d2', {\"k\": \"a\xff\"})",
        "INSERT INTO docs (id) VALUES ('a\xff')",
        "SELECT id FROM MATCH (a:docs)-[e WHERE e.label = 'a\xff']->(b) ",
    };
    for (const std::string& sql : statements) {
        const Status status = Fail(sql);
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
        const std::size_t column = sql.find('\xff') + 1;
        EXPECT_NE(status.message().find("line 1, column " + std::to_string(column) +
                                        ": the query text is not valid UTF-8 (byte 0xff)"),
                  std::string::npos)
            << status.message();
    }
    EXPECT_EQ(MetadataOf("d1"), "{\"k\":\"old\",\"n\":1}");
    // A second line: the line and column of the bad byte.
    const Status status = Fail("SELECT id\nFROM docs WHERE metadata.k = '\xc3('");
    EXPECT_NE(status.message().find("line 2, column 31:"), std::string::npos) << status.message();
}

TEST_F(InputLimitsTest, InvalidUtf8ParameterIsRefused) {
    const QueryParams params = {{"s", QueryValue::String("a\xff")},
                                {"j", QueryValue::Json("{\"k\": \"a\xff\"}")}};
    for (std::string_view sql :
         {"UPDATE docs SET metadata.k = $s", "UPDATE docs SET metadata = $j",
          "SELECT id FROM docs WHERE metadata.k = $s", "SELECT id FROM docs WHERE id = $s",
          "INSERT INTO docs (id) VALUES ($s)",
          "INSERT INTO docs (id, metadata) VALUES ('d2', $j)"}) {
        const Status status = Fail(sql, params);
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << sql << ": " << status.ToString();
        EXPECT_NE(status.message().find("is not valid UTF-8"), std::string::npos)
            << status.message();
    }
    EXPECT_EQ(MetadataOf("d1"), "{\"k\":\"old\",\"n\":1}");
}

// `count` terms `metadata.n = 0 <op> metadata.n = 1 <op> ...`.
std::string Chain(std::string_view op, int count, std::string_view field = "metadata.n") {
    std::string out;
    for (int idx = 0; idx < count; ++idx) {
        if (idx > 0) {
            out += op;
        }
        out += std::string(field) + " = " + std::to_string(idx);
    }
    return out;
}

// Issue 13: `a = 1 OR a = 2 OR ...` 300 times was refused as "nested deeper than 256 levels".
// A flat chain must get through every stage (parser, WHERE binding, the engine's filter parser and
// evaluation), at 300 terms and at 5000.
TEST_F(InputLimitsTest, FlatChainsOfManyTermsRunEverywhere) {
    Run("INSERT INTO docs (id, metadata, edges) VALUES ('d2', {\"n\": 299}, "
        "[{\"label\": \"x\", \"target\": \"d1\", \"properties\": {\"n\": 7}}]), "
        "('d3', {\"n\": 4999}, NULL), ('d4', {\"n\": 5000}, NULL)");
    for (int count : {300, 5000}) {
        SCOPED_TRACE(count);
        const std::string any = Chain(" OR ", count);
        QueryResult found = Run("SELECT id FROM docs WHERE " + any + " ORDER BY id");
        ASSERT_EQ(found.rows.size(), count == 300 ? 2u : 3u);
        EXPECT_EQ(found.rows[0][0].text, "d1");
        EXPECT_EQ(found.rows.back()[0].text, count == 300 ? "d2" : "d3");
        // NOT (a OR b OR ...) pushes down into one AND chain.
        QueryResult none = Run("SELECT id FROM docs WHERE NOT (" + any + ") ORDER BY id");
        ASSERT_EQ(none.rows.size(), count == 300 ? 2u : 1u);
        EXPECT_EQ(none.rows.back()[0].text, "d4");
        // An AND chain of as many terms (true for no row).
        QueryResult all = Run("SELECT id FROM docs WHERE " + Chain(" AND ", count));
        EXPECT_TRUE(all.rows.empty());
        // Id conjuncts inside a long AND chain, and an edge condition over the chain.
        QueryResult by_id =
            Run("SELECT id FROM docs WHERE id = 'd1' AND (" + any + ") AND metadata.n = 1");
        ASSERT_EQ(by_id.rows.size(), 1u);
        QueryResult edges =
            Run("SELECT b.id FROM MATCH (a:docs)-[e WHERE " +
                Chain(" OR ", count, "e.properties.n") + "]->(b) WHERE a.id = 'd2'");
        ASSERT_EQ(edges.rows.size(), 1u);
        EXPECT_EQ(edges.rows[0][0].text, "d1");
        EXPECT_EQ(Run("UPDATE docs SET metadata.seen = " + std::to_string(count) + " WHERE " + any)
                      .affected,
                  count == 300 ? 2u : 3u);
        // EXPLAIN prints the chain back.
        EXPECT_FALSE(Run("EXPLAIN SELECT id FROM docs WHERE " + any).rows.empty());
    }
    EXPECT_EQ(Run("DELETE FROM docs WHERE " + Chain(" OR ", 5000)).affected, 3u);
}

// Issue 13: an id given twice in one INSERT failed with "batch operation 2 (insert 'a' ...):
// entity 'a' already exists", which is not true of the database.
TEST_F(InputLimitsTest, IdTwiceInOneInsertSaysSo) {
    const Status status = Fail("INSERT INTO docs (id) VALUES ('a'), ('b'),\n  ('a')");
    EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
    EXPECT_EQ(status.message(),
              "line 2, column 4: id \"a\" appears twice in this INSERT (rows 1 and 3)");
    Result<Entity> a = db_->Get("docs", "a");
    EXPECT_EQ(a.status().code(), StatusCode::kNotFound);
    // Through parameters too.
    const Status from_params =
        Fail("INSERT INTO docs (id) VALUES ($1), ($2)",
             {{"1", QueryValue::String("x")}, {"2", QueryValue::String("x")}});
    EXPECT_NE(from_params.message().find("id \"x\" appears twice in this INSERT (rows 1 and 2)"),
              std::string::npos)
        << from_params.message();
    // An id that is already stored is still "already exists".
    const Status stored = Fail("INSERT INTO docs (id) VALUES ('d1')");
    EXPECT_EQ(stored.code(), StatusCode::kAlreadyExists);
    EXPECT_NE(stored.message().find("entity 'd1' already exists"), std::string::npos)
        << stored.message();
}

// A flat chain of three or more terms is one node: HAVING must look at every term, not two.
TEST_F(InputLimitsTest, HavingEvaluatesEveryTermOfAChain) {
    Run("INSERT INTO docs (id, metadata) VALUES ('h1', {\"g\": \"a\", \"n\": 1}), "
        "('h2', {\"g\": \"a\", \"n\": 5}), ('h3', {\"g\": \"b\", \"n\": 9})");
    auto groups = [&](std::string_view having) {
        std::vector<std::string> out;
        for (const auto& row :
             Run("SELECT metadata.g, count(*) AS c FROM docs WHERE exists(metadata.g) GROUP BY "
                 "metadata.g HAVING " +
                 std::string(having) + " ORDER BY metadata.g")
                 .rows) {
            out.push_back(row[0].ToText());
        }
        return out;
    };
    using Ids = std::vector<std::string>;
    EXPECT_EQ(groups("c >= 1 AND c >= 1 AND c > 1"), (Ids{"a"}));
    EXPECT_EQ(groups("c > 5 OR c > 5 OR max(metadata.n) >= 9"), (Ids{"b"}));
    EXPECT_EQ(groups("c > 5 OR c > 5 OR c > 5 OR c = 2"), (Ids{"a"}));
}

// `levels` chains nested in one another, alternating OR and AND, around a comparison.
std::string NestedConditions(int levels) {
    std::string out = "metadata.n != 0";
    for (int level = 0; level < levels; ++level) {
        out = "(metadata.k IS NULL " + std::string(level % 2 == 0 ? "OR " : "AND ") + out + ")";
    }
    return out;
}

// Issue 13: conditions nested past the engine's filter limit (32 levels of $and/$or) were refused
// by the engine with a message in terms of the filter JSON ("filter: $and[1].$or[1]...") and no
// position; the WHERE binder now refuses them itself, at the place in the text.
TEST_F(InputLimitsTest, NestedConditionsPastTheFilterLimitArePositioned) {
    Run("SELECT id FROM docs WHERE " + NestedConditions(30));
    for (int levels : {31, 33, 40, 100}) {
        const Status status = Fail("SELECT id FROM docs WHERE " + NestedConditions(levels));
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
        EXPECT_NE(status.message().find("line 1, column "), std::string::npos) << status.message();
        EXPECT_NE(status.message().find("conditions are nested more than 30 levels deep"),
                  std::string::npos)
            << status.message();
    }
    // NOT adds no level: it is pushed down into the comparisons.
    std::string nots;
    for (int idx = 0; idx < 100; ++idx) {
        nots += "NOT ";
    }
    EXPECT_EQ(Run("SELECT id FROM docs WHERE " + nots + "metadata.n = 1").rows.size(), 1u);
}

// The rows' values of the first column, in order.
std::vector<std::string> Column(const QueryResult& result) {
    std::vector<std::string> out;
    for (const auto& row : result.rows) {
        out.push_back(row[0].ToText());
    }
    return out;
}

// Issue 13: an edge from an entity to itself never showed up in MATCH results: the traversal left
// the start out even when a walk in the hop range returned to it, and paths never closed on it.
TEST_F(InputLimitsTest, SelfLoopsAreMatched) {
    using Ids = std::vector<std::string>;
    Run("CREATE COLLECTION g (DIMENSION 2)");
    Run("INSERT INTO g (id, vector, edges) VALUES "
        "('a', [0, 0], [{\"label\": \"x\", \"target\": \"a\"}, "
        "{\"label\": \"x\", \"target\": \"b\"}]), "
        "('b', [1, 0], [{\"label\": \"x\", \"target\": \"c\"}]), ('c', [2, 0], NULL)");
    auto ids = [&](std::string_view pattern, std::string_view rest = "ORDER BY b.id") {
        return Column(Run("SELECT b.id FROM MATCH " + std::string(pattern) + " WHERE a.id = 'a' " +
                          std::string(rest)));
    };
    EXPECT_EQ(ids("(a:g)-[:x]->(b)"), (Ids{"a", "b"}));
    EXPECT_EQ(ids("(a:g)<-[:x]-(b)"), (Ids{"a"}));
    EXPECT_EQ(ids("(a:g)-[:x]-(b)"), (Ids{"a", "b"}));
    EXPECT_EQ(ids("(a:g)-[:x*1..2]->(b)"), (Ids{"a", "b", "c"}));
    EXPECT_EQ(ids("(a:g)-[:x*2]->(b)"), (Ids{"a", "b", "c"}));  // a->a->a, a->a->b, a->b->c
    EXPECT_EQ(ids("(a:g)-[:x]->(b)", "LIMIT 1"), (Ids{"a"}));
    EXPECT_EQ(
        Run("SELECT count(*) FROM MATCH (a:g)-[:x]->(b) WHERE a.id = 'a'").rows[0][0].int_value, 2);
    // The start named on the far side: a has an in-edge from itself.
    EXPECT_EQ(Column(Run("SELECT a.id FROM MATCH (a:g)-[:x]->(b) WHERE b.id = 'a' ORDER BY a.id")),
              (Ids{"a"}));
    // With an edge variable each path is a row; a self-loop is a path of one edge back to a.
    EXPECT_EQ(ids("(a:g)-[e:x]->(b)"), (Ids{"a", "b"}));
    EXPECT_EQ(ids("(a:g)-[e:x*1..2]->(b)"), (Ids{"a", "b", "c"}));
    EXPECT_EQ(ids("(a:g)-[e:x]-(b)"), (Ids{"a", "b"}));
    // Nearest neighbours over the pattern, with either graph plan.
    for (std::string_view plan : {"expand", "vector_first"}) {
        EXPECT_EQ(
            ids("(a:g)-[:x]->(b)", "ORDER BY b.vector <-> [0, 0] LIMIT 5 WITH (graph_plan = '" +
                                       std::string(plan) + "')"),
            (Ids{"a", "b"}))
            << plan;
    }
}

}  // namespace
}  // namespace phenix
