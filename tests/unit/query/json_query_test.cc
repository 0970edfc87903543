// SPDX-License-Identifier: Apache-2.0
#include "query/json_query.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "query/ast.h"
#include "query/parser.h"

namespace phenix::query {
namespace {

// The JSON form must give exactly the AST of its PhenixQL twin: the canonical text is `text`,
// and parsing that text gives back an equal statement.
void ExpectTwin(std::string_view json, std::string_view text) {
    SCOPED_TRACE(std::string(json));
    Result<Statement> from_json = ParseJsonQuery(json);
    ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();
    EXPECT_EQ(ToString(*from_json), text);
    Result<Statement> from_text = ParseStatement(text);
    ASSERT_TRUE(from_text.ok()) << from_text.status().ToString();
    EXPECT_TRUE(*from_text == *from_json);
}

std::string ErrorOf(std::string_view json) {
    Result<Statement> result = ParseJsonQuery(json);
    if (result.ok()) {
        return "OK: " + ToString(*result);
    }
    EXPECT_TRUE(result.status().IsInvalidArgument()) << result.status().ToString();
    return std::string(result.status().message());
}

TEST(JsonQuery, VectorSearchUsesTheCollectionMetric) {
    ExpectTwin(R"({"collection": "docs", "vector": [0.1, 0.2, 0.3, 0.4], "k": 5})",
               "SELECT id, distance(vector, [0.1, 0.2, 0.3, 0.4]) AS distance FROM docs "
               "ORDER BY distance LIMIT 5");
    // k defaults to 10; integers in the vector print as integers and read back as the same doubles.
    ExpectTwin(R"({"collection": "docs", "vector": [1, -2, 2.5e-3]})",
               "SELECT id, distance(vector, [1, -2, 0.0025]) AS distance FROM docs "
               "ORDER BY distance LIMIT 10");
}

// The three examples of docs/query-language.md "The JSON form", with their PhenixQL twins.
TEST(JsonQuery, DocumentedExamples) {
    ExpectTwin(R"({"collection": "docs", "vector": [0.1, 0.2, 0.3, 0.4], "k": 10,
                   "filter": {"category": "tech", "year": {"$gte": 2020}},
                   "include": ["metadata"]})",
               "SELECT id, distance(vector, [0.1, 0.2, 0.3, 0.4]) AS distance, metadata FROM docs "
               "WHERE metadata.category = 'tech' AND metadata.year >= 2020 ORDER BY distance "
               "LIMIT 10");
    ExpectTwin(R"({"collection": "docs", "vector": [0.1, 0.2, 0.3, 0.4], "metric": "l2", "k": 5,
                   "graph": {"from": "d2", "label": "related_to", "min_hops": 1,
                             "max_hops": 2}})",
               "SELECT b.id, b.vector <-> [0.1, 0.2, 0.3, 0.4] AS distance FROM MATCH "
               "(a:docs)-[:related_to*1..2]->(b:docs) WHERE a.id = 'd2' ORDER BY distance LIMIT 5");
    ExpectTwin(R"({"collection": "docs", "filter": {"$or": [{"tags": {"$in": ["a", "b"]}},
                   {"draft": {"$exists": false}}]}, "k": 100})",
               "SELECT id FROM docs WHERE metadata.tags IN ('a', 'b') OR NOT "
               "exists(metadata.draft) LIMIT 100");
}

TEST(JsonQuery, MetricPicksThePgvectorOperator) {
    ExpectTwin(R"({"collection": "docs", "vector": [1, 2], "metric": "l2", "k": 3})",
               "SELECT id, vector <-> [1, 2] AS distance FROM docs ORDER BY distance LIMIT 3");
    ExpectTwin(R"({"collection": "docs", "vector": [1, 2], "metric": "cosine", "k": 3})",
               "SELECT id, vector <=> [1, 2] AS distance FROM docs ORDER BY distance LIMIT 3");
    ExpectTwin(R"({"collection": "docs", "vector": [1, 2], "metric": "ip", "k": 3})",
               "SELECT id, vector <#> [1, 2] AS distance FROM docs ORDER BY distance LIMIT 3");
}

TEST(JsonQuery, FullQueryWithFilterIncludeAndEf) {
    ExpectTwin(R"({"collection": "docs", "vector": [0.1, 0.2], "metric": "cosine", "k": 10,
                   "filter": {"category": "tech", "year": {"$gte": 2020}}, "ef": 128,
                   "include": ["metadata", "vector", "distance", "id"]})",
               "SELECT id, vector <=> [0.1, 0.2] AS distance, metadata, vector FROM docs "
               "WHERE metadata.category = 'tech' AND metadata.year >= 2020 ORDER BY distance "
               "LIMIT 10 WITH (ef = 128)");
}

TEST(JsonQuery, WithoutVectorThereIsNoOrderBy) {
    ExpectTwin(R"({"collection": "docs"})", "SELECT id FROM docs LIMIT 10");
    ExpectTwin(R"({"collection": "docs", "k": 2, "include": ["vector", "metadata"],
                   "filter": {}})",
               "SELECT id, metadata, vector FROM docs LIMIT 2");
    ExpectTwin(R"({"collection": "my docs", "filter": {"tags": {"$in": ["a", "b"]}}})",
               "SELECT id FROM \"my docs\" WHERE metadata.tags IN ('a', 'b') LIMIT 10");
}

TEST(JsonQuery, GraphQueries) {
    ExpectTwin(R"({"collection": "docs", "vector": [0.1, 0.2], "k": 5,
                   "graph": {"from": "d2", "label": "related_to", "min_hops": 1, "max_hops": 2},
                   "filter": {"year": {"$gt": 2020}}, "include": ["metadata"]})",
               "SELECT b.id, distance(b.vector, [0.1, 0.2]) AS distance, b.metadata FROM MATCH "
               "(a:docs)-[:related_to*1..2]->(b:docs) WHERE a.id = 'd2' AND "
               "b.metadata.year > 2020 ORDER BY distance LIMIT 5");
    ExpectTwin(R"({"collection": "docs", "graph": {"from": "d2", "direction": "in"}})",
               "SELECT b.id FROM MATCH (a:docs)<-[]-(b:docs) WHERE a.id = 'd2' LIMIT 10");
    ExpectTwin(R"({"collection": "docs", "graph": {"from": "it's", "direction": "both",
                   "min_hops": 2}, "include": ["vector"]})",
               "SELECT b.id, b.vector FROM MATCH (a:docs)-[*2]-(b:docs) WHERE a.id = 'it''s' "
               "LIMIT 10");
    ExpectTwin(R"({"collection": "docs", "graph": {"from": "d1", "max_hops": 3},
                   "vector": [1], "metric": "l2",
                   "filter": {"$or": [{"a": 1}, {"b": 2}]}})",
               "SELECT b.id, b.vector <-> [1] AS distance FROM MATCH (a:docs)-[*1..3]->(b:docs) "
               "WHERE a.id = 'd1' AND (b.metadata.a = 1 OR b.metadata.b = 2) ORDER BY distance "
               "LIMIT 10");
}

TEST(JsonQuery, FilterOperators) {
    ExpectTwin(R"({"collection": "c", "filter": {"a": {"$ne": "x", "$lt": 5, "$lte": 5.5},
                   "b": {"$gt": -1, "$nin": [1, 2.5, "s", true, null]}}})",
               "SELECT id FROM c WHERE (metadata.a = 'x') IS NOT TRUE AND metadata.a < 5 AND "
               "metadata.a <= 5.5 AND metadata.b > -1 AND (metadata.b IN (1, 2.5, 's', TRUE) OR "
               "metadata.b IS NULL AND exists(metadata.b)) IS NOT TRUE LIMIT 10");
    ExpectTwin(
        R"({"collection": "c", "filter": {"a": {"$exists": true}, "b": {"$exists": false},
                   "c": {"$eq": null}, "d": false, "e": 2.0}})",
        "SELECT id FROM c WHERE exists(metadata.a) AND NOT exists(metadata.b) AND metadata.c IS "
        "NULL AND exists(metadata.c) AND metadata.d = FALSE AND metadata.e = 2.0 LIMIT 10");
    ExpectTwin(R"({"collection": "c", "filter": {"author.name": "x", "\"file.name\".ext": 1,
                   "metadata.year": 3}})",
               "SELECT id FROM c WHERE metadata.author.name = 'x' AND metadata.\"file.name\".ext "
               "= 1 AND metadata.year = 3 LIMIT 10");
}

TEST(JsonQuery, LogicalOperatorsFlattenAndParenthesize) {
    ExpectTwin(R"({"collection": "c", "filter": {"$and": [{"a": 1}, {"$and": [{"b": 2},
                   {"c": 3}]}], "d": 4}})",
               "SELECT id FROM c WHERE metadata.a = 1 AND metadata.b = 2 AND metadata.c = 3 AND "
               "metadata.d = 4 LIMIT 10");
    ExpectTwin(R"({"collection": "c", "filter": {"$or": [{"a": 1, "b": 2}, {"$or": [{"c": 3},
                   {"d": 4}]}]}})",
               "SELECT id FROM c WHERE metadata.a = 1 AND metadata.b = 2 OR metadata.c = 3 OR "
               "metadata.d = 4 LIMIT 10");
    ExpectTwin(R"({"collection": "c", "filter": {"$not": {"a": 1, "b": 2}, "e": 1}})",
               "SELECT id FROM c WHERE (metadata.a = 1 AND metadata.b = 2) IS NOT TRUE AND "
               "metadata.e = 1 LIMIT 10");
    ExpectTwin(R"({"collection": "c", "filter": {"a": {"$not": {"$gt": 5}}}})",
               "SELECT id FROM c WHERE (metadata.a > 5) IS NOT TRUE LIMIT 10");
    ExpectTwin(R"({"collection": "c", "filter": {"a": {"$not": {"$gt": 1, "$lt": 5}},
                   "$or": [{"$not": {"b": 1}}, {"c": {"$in": [1]}}]}})",
               "SELECT id FROM c WHERE (metadata.a > 1 AND metadata.a < 5) IS NOT TRUE AND "
               "((metadata.b = 1) IS NOT TRUE OR metadata.c IN (1)) LIMIT 10");
}

TEST(JsonQuery, ExtremeNumbersRoundTrip) {
    ExpectTwin(R"({"collection": "c", "vector": [1e20, -1.2345678901234567e19, 1e300, -0.0,
                   18446744073709551615],
                   "filter": {"a": -9223372036854775808, "b": 9223372036854775807}})",
               "SELECT id, distance(vector, [1e+20, -1.2345678901234567e+19, 1e+300, -0, "
               "1.8446744073709552e+19]) AS "
               "distance FROM c WHERE metadata.a = -9223372036854775808 AND metadata.b = "
               "9223372036854775807 ORDER BY distance LIMIT 10");
}

TEST(JsonQuery, KeywordsAndOddNamesAreQuoted) {
    ExpectTwin(R"({"collection": "select", "graph": {"from": "x", "label": "we\"ird"},
                   "filter": {"order.by": 1}})",
               "SELECT b.id FROM MATCH (a:\"select\")-[:\"we\"\"ird\"]->(b:\"select\") WHERE "
               "a.id = 'x' AND b.metadata.\"order\".\"by\" = 1 LIMIT 10");
}

TEST(JsonQuery, RejectsBadTopLevelFields) {
    EXPECT_EQ(ErrorOf(R"({"colection": "docs"})"),
              "unknown field \"colection\" in the JSON query; did you mean \"collection\"?");
    EXPECT_EQ(ErrorOf(R"({"collection": "docs", "kk": 1})"),
              "unknown field \"kk\" in the JSON query; did you mean \"k\"?");
    EXPECT_EQ(ErrorOf(R"({"vector": [1]})"), "the JSON query needs \"collection\"");
    EXPECT_EQ(ErrorOf(R"({"collection": ""})"),
              "\"collection\" must be a non-empty string, got an empty string");
    EXPECT_EQ(ErrorOf(R"({"collection": 5})"),
              "\"collection\" must be a non-empty string, got a number");
    EXPECT_EQ(ErrorOf(R"([1])"), "a JSON query must be an object, got an array");
    for (std::string_view k : {"0", "10001", "1.5", "\"10\"", "-1", "99999999999999999999"}) {
        std::string message = ErrorOf(R"({"collection": "d", "k": )" + std::string(k) + "}");
        EXPECT_TRUE(message.starts_with("\"k\" must be an integer from 1 to 10000")) << message;
    }
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "k": 10000})"), "OK: SELECT id FROM d LIMIT 10000");
    // JSON has one number type: 12.0 is the integer 12 (as JSON Schema reads it; a client in
    // Python or JavaScript may well send it so), 12.5 is not an integer.
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "k": 12.0})"), "OK: SELECT id FROM d LIMIT 12");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "vector": [1], "ef": 2549.0, "k": 1})"),
              "OK: SELECT id, distance(vector, [1]) AS distance FROM d ORDER BY distance LIMIT 1 "
              "WITH (ef = 2549)");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "k": 1e300})"),
              "\"k\" must be an integer from 1 to 10000, got 1e+300");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "k": 18446744073709551615})"),
              "\"k\" must be an integer from 1 to 10000, got 18446744073709551615");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "vector": [1], "metric": "cosin"})"),
              "\"metric\" must be \"l2\", \"cosine\" or \"ip\", got \"cosin\"; did you mean "
              "\"cosine\"?");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "metric": "l2"})"), "\"metric\" needs \"vector\"");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "ef": 64})"), "\"ef\" needs \"vector\"");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "vector": []})"),
              "\"vector\" must be a non-empty array of numbers, got an empty array");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "vector": [1, "x"]})"),
              "\"vector\"[1] must be a number, got a string");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "include": ["metdata"]})"),
              "\"include\" must be \"metadata\", \"vector\", \"distance\" or \"id\", got "
              "\"metdata\"; did you mean \"metadata\"?");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "collection": "e"})"),
              "invalid JSON query: key \"collection\" appears twice in one object");
    EXPECT_TRUE(ErrorOf(R"({"collection": "d",)").starts_with("invalid JSON query: "));
    EXPECT_TRUE(ErrorOf("").starts_with("invalid JSON query: "));
}

TEST(JsonQuery, RejectsBadGraphs) {
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "graph": {"label": "x"}})"),
              "\"graph\" needs \"from\": the id of the start entity");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "graph": {"from": "x", "hops": 2}})"),
              "unknown field \"hops\" in \"graph\"");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "graph": {"from": "x", "direction": "up"}})"),
              "\"graph.direction\" must be \"out\", \"in\" or \"both\", got \"up\"");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "graph": {"from": "x", "min_hops": 3,
                          "max_hops": 2}})"),
              "\"graph.max_hops\" (2) is below \"graph.min_hops\" (3)");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "graph": {"from": "x", "max_hops": -1}})"),
              "\"graph.max_hops\" must be an integer from 0 to 1000, got -1");
    EXPECT_EQ(ErrorOf(R"({"collection": "d", "graph": []})"),
              "\"graph\" must be an object, got an array");
}

TEST(JsonQuery, RejectsBadFilters) {
    auto filter_error = [](std::string_view filter) {
        return ErrorOf(R"({"collection": "d", "filter": )" + std::string(filter) + "}");
    };
    EXPECT_EQ(filter_error(R"({"a": {"b": 1}})"),
              "\"filter\": \"a\": an object literal is not a filter value; use operators such as "
              "{\"$eq\": ...}");
    EXPECT_EQ(filter_error(R"({"a": [1, 2]})"),
              "\"filter\": \"$eq\" on \"a\" needs a scalar value, got an array");
    EXPECT_EQ(filter_error(R"({"$or": [{"a": 1}, {"year": {"$gte": [1]}}]})"),
              "\"filter\": $or[1]: \"$gte\" on \"year\" needs a scalar value, got an array");
    EXPECT_EQ(filter_error(R"({"a": {"$gtt": 1}})"),
              "\"filter\": unknown operator \"$gtt\" on \"a\"; did you mean \"$gt\"?");
    EXPECT_EQ(filter_error(R"({"$gt": 1})"),
              "\"filter\": \"$gt\" needs a field: write {\"field\": {\"$gt\": ...}}");
    EXPECT_EQ(filter_error(R"({"$nor": []})"),
              "\"filter\": unknown operator \"$nor\"; did you mean \"$not\"?");
    EXPECT_EQ(filter_error(R"({"a": {"$and": [{"b": 1}]}})"),
              "\"filter\": \"$and\" cannot be used inside field \"a\"; put it at the top of a "
              "filter object");
    EXPECT_EQ(filter_error(R"({"$and": []})"),
              "\"filter\": \"$and\" needs a non-empty array of filter objects, got an empty array");
    EXPECT_EQ(filter_error(R"({"$and": [{}]})"),
              "\"filter\": $and[0]: an empty filter object {} is only allowed as the whole filter");
    EXPECT_EQ(filter_error(R"({"a": {"$in": []}})"),
              "\"filter\": \"$in\" on \"a\" needs an array of 1 to 10000 values, got 0 values");
    EXPECT_EQ(filter_error(R"({"a": {"$exists": 1}})"),
              "\"filter\": \"$exists\" on \"a\" needs true or false, got a number");
    EXPECT_EQ(filter_error(R"({"a": {"$not": 5}})"),
              "\"filter\": \"$not\" on \"a\" needs an operator object, got a number");
    EXPECT_EQ(filter_error(R"({"a": 18446744073709551615})"),
              "\"filter\": integer 18446744073709551615 on \"a\" is out of range");
    EXPECT_EQ(filter_error(R"({"a": {}})"),
              "\"filter\": \"a\" needs a value or an operator object, got {}");
    EXPECT_EQ(filter_error(R"({"a": 1, "a": 2})"),
              "invalid JSON query: key \"a\" appears twice in one object");
    EXPECT_EQ(filter_error("[1]"), "\"filter\" must be an object, got an array");
    EXPECT_TRUE(filter_error(R"({"a..b": 1})").starts_with("\"filter\": bad path \"a..b\": "));
    EXPECT_TRUE(filter_error(R"({"\"\"": 1})").starts_with("\"filter\": bad path"));
}

TEST(JsonQuery, CapsFilterDepthAndSize) {
    auto nested = [](int levels) {
        std::string filter = R"({"a": 1})";
        for (int level = 0; level < levels; ++level) {
            filter = R"({"$or": [)" + filter + "]}";
        }
        return R"({"collection": "d", "filter": )" + filter + "}";
    };
    Result<Statement> deepest = ParseJsonQuery(nested(32));
    ASSERT_TRUE(deepest.ok()) << deepest.status().ToString();
    EXPECT_TRUE(ParseStatement(ToString(*deepest)).ok());
    EXPECT_EQ(ErrorOf(nested(33)),
              "\"filter\": $or[0]: $or[0]: $or[0]: $or[0]: $or[0]: $or[0]: "
              "$or[0]: $or[0]: $or[0]: $or[0]: $or[0]: $or[0]: $or[0]: "
              "$or[0]: $or[0]: $or[0]: $or[0]: $or[0]: $or[0]: $or[0]: "
              "$or[0]: $or[0]: $or[0]: $or[0]: $or[0]: $or[0]: $or[0]: "
              "$or[0]: $or[0]: $or[0]: $or[0]: $or[0]: $and/$or/$not nested "
              "deeper than 32 levels");
    std::string deep_not = R"({"a": 1})";
    for (int level = 0; level < 40; ++level) {
        deep_not = R"({"$not": )" + deep_not + "}";
    }
    EXPECT_TRUE(ErrorOf(R"({"collection": "d", "filter": )" + deep_not + "}")
                    .ends_with("nested deeper than 32 levels"));
    std::string deep_json(1000, '[');
    EXPECT_TRUE(ErrorOf(R"({"collection": "d", "filter": )" + deep_json).starts_with("invalid"));

    // The most conditions allowed, alternating AND and OR at the deepest nesting, still print
    // to text the parser takes back (its expression depth limit counts chain links).
    auto wide = [](int num_conditions) {
        std::string filter = "{";
        for (int idx = 0; idx < num_conditions - 1; ++idx) {
            filter += "\"f" + std::to_string(idx) + "\": " + std::to_string(idx) + ", ";
        }
        filter += R"("last": 0})";
        for (int level = 0; level < 32; ++level) {
            filter = R"({"$or": [{"x": 1}, )" + filter + "]}";
        }
        return filter;
    };
    std::string widest =
        R"({"collection": "d", "graph": {"from": "x"}, "filter": )" + wide(128 - 32) + "}";
    Result<Statement> most = ParseJsonQuery(widest);
    ASSERT_TRUE(most.ok()) << most.status().ToString();
    Result<Statement> again = ParseStatement(ToString(*most));
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_TRUE(*again == *most);
    EXPECT_EQ(
        ErrorOf(R"({"collection": "d", "graph": {"from": "x"}, "filter": )" + wide(128 - 31) + "}")
            .substr(0, 12),
        "\"filter\": $o");
}

TEST(JsonQuery, NeverThrowsOnGarbage) {
    for (std::string_view text :
         {"{", "}", "null", "\"s\"", "{\"collection\": \"d\", \"filter\": {\"a\": \"\\ud800\"}}",
          "{\"collection\": \"d\", \"vector\": [1e999]}", "\xff\xfe",
          "{\"collection\":\"\\u0000\"}", "{\"collection\": \"d\", \"filter\": {\"a\": 1e400}}"}) {
        Result<Statement> result = ParseJsonQuery(text);
        if (result.ok()) {
            Result<Statement> again = ParseStatement(ToString(*result));
            ASSERT_TRUE(again.ok()) << text << ": " << again.status().ToString();
            EXPECT_TRUE(*again == *result) << text;
        } else {
            EXPECT_TRUE(result.status().IsInvalidArgument()) << text;
        }
    }
}

}  // namespace
}  // namespace phenix::query
