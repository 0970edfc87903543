// SPDX-License-Identifier: Apache-2.0
#include "document/filter.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <rapidcheck/gtest.h>

namespace phenix::document {
namespace {

Filter Parse(std::string_view text) {
    auto filter = ParseFilter(text);
    EXPECT_TRUE(filter.ok()) << text << ": " << filter.status().ToString();
    return filter.ok() ? *filter : Filter();
}

// Whether the filter matches the document; both must parse.
bool M(std::string_view filter, std::string_view doc) {
    auto result = Matches(Parse(filter), doc);
    EXPECT_TRUE(result.ok()) << doc << ": " << result.status().ToString();
    return result.ok() && *result;
}

std::string Error(std::string_view text) {
    auto filter = ParseFilter(text);
    EXPECT_FALSE(filter.ok()) << text << " parsed as " << (filter.ok() ? filter->ToString() : "");
    if (filter.ok()) {
        return "";
    }
    EXPECT_EQ(filter.status().code(), StatusCode::kInvalidArgument) << text;
    return filter.status().message();
}

JsonPath P(std::string_view text) {
    return *JsonPath::Parse(text);
}

// Parsing ------------------------------------------------------------------------------------

TEST(FilterParse, EmptyFiltersMatchEverything) {
    for (const char* text : {"", "  \n", "{}", " { } "}) {
        EXPECT_EQ(Parse(text).kind, Filter::Kind::kAll) << text;
    }
    EXPECT_EQ(Parse(R"({"$not": {}})").kind, Filter::Kind::kNone);
}

TEST(FilterParse, BuildsTheTree) {
    Filter eq = Parse(R"({"metadata.author.name": "Ann"})");
    EXPECT_EQ(eq.kind, Filter::Kind::kCompare);
    EXPECT_EQ(eq.path, P("author.name"));
    EXPECT_EQ(eq.op, Filter::Op::kEq);
    EXPECT_EQ(eq.value, Scalar::String("Ann"));

    Filter several = Parse(R"({"b": 1, "a": {"$gt": 1, "$lte": 5}})");
    ASSERT_EQ(several.kind, Filter::Kind::kAnd);
    ASSERT_EQ(several.children.size(), 2u);
    EXPECT_EQ(several.children[0].path, P("b"));  // key order is kept
    ASSERT_EQ(several.children[1].kind, Filter::Kind::kAnd);
    EXPECT_EQ(several.children[1].children[0].op, Filter::Op::kGt);
    EXPECT_EQ(several.children[1].children[1].op, Filter::Op::kLte);

    Filter in = Parse(R"({"t": {"$nin": [3, "x", 1, 3, 1.0, null, "2024-01-01"]}})");
    EXPECT_EQ(in.kind, Filter::Kind::kIn);
    EXPECT_TRUE(in.negated_in);
    EXPECT_EQ(in.values, std::vector<Scalar>({Scalar::Null(), Scalar::Number(1), Scalar::Number(3),
                                              Scalar::String("2024-01-01"), Scalar::String("x")}));

    Filter field_not = Parse(R"({"a": {"$not": {"$gt": 5}}})");
    ASSERT_EQ(field_not.kind, Filter::Kind::kNot);
    EXPECT_EQ(field_not.children[0].op, Filter::Op::kGt);
    EXPECT_EQ(field_not, Parse(R"({"$not": {"a": {"$gt": 5}}})"));

    Filter exists = Parse(R"({"a": {"$exists": false}})");
    EXPECT_EQ(exists.kind, Filter::Kind::kExists);
    EXPECT_FALSE(exists.exists);

    Filter logic = Parse(R"({"$or": [{"a": 1}, {"$and": [{"b": 2}, {"c": 3}]}]})");
    ASSERT_EQ(logic.kind, Filter::Kind::kOr);
    EXPECT_EQ(logic.children[1].kind, Filter::Kind::kAnd);
}

TEST(FilterParse, LiteralsAreTypedScalars) {
    EXPECT_EQ(Parse(R"({"a": 1})").value, Scalar::Number(1));
    EXPECT_EQ(Parse(R"({"a": 1.0})").value, Scalar::Number(1));
    EXPECT_EQ(Parse(R"({"a": -0.0})").value, Scalar::Number(0));
    EXPECT_EQ(Parse(R"({"a": 18446744073709551615})").value,
              Scalar::Number(18446744073709551615.0));
    EXPECT_EQ(Parse(R"({"a": null})").value, Scalar::Null());
    EXPECT_EQ(Parse(R"({"a": false})").value, Scalar::Bool(false));
    EXPECT_EQ(Parse(R"({"a": "2024-05-01T10:00:00+02:00"})").value.type, ValueType::kTimestamp);
    EXPECT_EQ(Parse(R"({"a": "2024"})").value.type, ValueType::kString);
}

TEST(FilterParse, ErrorMessagesSayWhatAndWhere) {
    EXPECT_EQ(Error(R"({"year": {"$gte": [1]}})"),
              R"(filter: "$gte" on "year" needs a scalar value, got an array)");
    EXPECT_EQ(Error(R"({"$or": [{"a": 1}, {"year": {"$gte": {"x": 1}}}]})"),
              R"(filter: $or[1]: "$gte" on "year" needs a scalar value, got an object)");
    EXPECT_EQ(Error(R"({"$and": [{"$not": {"a": {"$lt": []}}}]})"),
              R"(filter: $and[0].$not: "$lt" on "a" needs a scalar value, got an empty array)");
    EXPECT_EQ(Error(R"({"a": {"$foo": 1}})"),
              R"(filter: unknown operator "$foo" on "a" (field operators: $eq, $ne, $gt, $gte, )"
              R"($lt, $lte, $in, $nin, $exists, $type, $like, $not))");
    EXPECT_EQ(
        Error(R"({"$foo": 1})"),
        R"(filter: unknown operator "$foo" (filter operators: $and, $or, $not; field )"
        R"(operators: $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $type, $like, $not))");
    EXPECT_EQ(Error(R"({"$gt": 1})"),
              R"(filter: "$gt" must be applied to a field, as in {"year": {"$gt": ...}})");
    EXPECT_EQ(Error(R"({"a": [1, 2]})"),
              R"(filter: condition on "a" must be a scalar (string, number, boolean or null) )"
              R"(or an object of operators, got an array)");
    EXPECT_EQ(Error(R"({"a": {"b": 1}})"),
              R"(filter: condition on "a" has the non-operator key "b"; object literals are )"
              R"(not supported (operators start with "$"; use a dotted path for nested fields))");
    EXPECT_EQ(
        Error(R"({"a": {"$gt": 1, "b": 1}})").find(R"(non-operator key "b")") != std::string::npos,
        true);
    EXPECT_EQ(Error(R"({"a": {}})"),
              R"(filter: condition on "a" is an empty object; use a scalar or operators such )"
              R"(as {"$eq": ...})");
    EXPECT_EQ(Error(R"({"a": {"$in": []}})"),
              R"(filter: "$in" on "a" needs a non-empty array of scalars, got an empty array)");
    EXPECT_EQ(Error(R"({"a": {"$nin": "x"}})"),
              R"(filter: "$nin" on "a" needs a non-empty array of scalars, got a string)");
    EXPECT_EQ(Error(R"({"a": {"$in": [1, [2]]}})"),
              R"(filter: "$in" on "a": element 1 is an array; only scalars are allowed)");
    EXPECT_EQ(Error(R"({"a": {"$exists": 1}})"),
              R"(filter: "$exists" on "a" needs true or false, got a number)");
    EXPECT_EQ(Error(R"({"a": {"$not": 5}})"),
              R"(filter: "$not" on "a" needs an object of operators such as {"$gt": 5}, got a )"
              R"(number)");
    EXPECT_EQ(Error(R"({"a": {"$not": {"b": 5}}})").find(R"("$not" on "a" has the non-operator)") !=
                  std::string::npos,
              true);
    EXPECT_EQ(Error(R"({"a": {"$or": [{"$gt": 1}]}})"),
              R"(filter: "$or" cannot be used inside the condition on "a"; write {"$or": )"
              R"([{"a": ...}, ...]})");
    EXPECT_EQ(Error(R"({"$and": []})"),
              R"(filter: "$and" needs a non-empty array of filter objects, got an empty array)");
    EXPECT_EQ(Error(R"({"$or": {"a": 1}})"),
              R"(filter: "$or" needs a non-empty array of filter objects, got an object)");
    EXPECT_EQ(Error(R"({"$and": [{"a": 1}, 2]})"),
              R"(filter: $and[1]: expected a filter object, got a number)");
    EXPECT_EQ(Error(R"({"$not": [1]})"), R"(filter: "$not" needs a filter object, got an array)");
    EXPECT_EQ(Error(R"({"a..b": 1})"), R"(filter: invalid path "a..b": empty segment at column 3)");
    EXPECT_EQ(Error(R"({"a": 1, "b": {"x": 1, "x": 2}})"),
              R"(filter: duplicate key "x" in one object; combine the conditions)");
    EXPECT_EQ(Error("[1]"), "filter must be a JSON object, got an array");
    EXPECT_EQ(Error("5"), "filter must be a JSON object, got a number");
    EXPECT_EQ(
        Error(R"({"a": )").rfind("filter is not valid JSON: parse error at line 1, column 7", 0),
        0u);
    EXPECT_EQ(Error(R"({"a": 1e400})").rfind("filter is not valid JSON: number overflow", 0), 0u);
    const std::string bad_utf8 = Error("{\"a\": \"\xff\"}");
    EXPECT_EQ(bad_utf8.rfind("filter is not valid JSON: parse error at line 1, column 8", 0), 0u);
    EXPECT_EQ(bad_utf8.find('\xff'), std::string::npos);  // messages stay valid UTF-8
}

TEST(FilterParse, LimitsTheNumberOfInValues) {
    std::string values = "0";
    for (std::size_t idx = 1; idx < kMaxInValues; ++idx) {
        values += "," + std::to_string(idx);
    }
    EXPECT_EQ(Parse(R"({"a": {"$in": [)" + values + "]}}").values.size(), kMaxInValues);
    EXPECT_EQ(Error(R"({"a": {"$in": [)" + values + ",-1]}}"),
              R"(filter: "$in" on "a" has 10001 values; the limit is 10000)");
}

TEST(FilterParse, LimitsNesting) {
    auto nested_not = [](int levels) {
        std::string text;
        for (int idx = 0; idx < levels; ++idx) {
            text += R"({"$not": )";
        }
        text += R"({"a": 1})";
        text += std::string(static_cast<std::size_t>(levels), '}');
        return text;
    };
    EXPECT_TRUE(ParseFilter(nested_not(kMaxFilterDepth)).ok());
    EXPECT_NE(Error(nested_not(kMaxFilterDepth + 1))
                  .find(R"("$not" nests $and/$or/$not more than 32 levels deep)"),
              std::string::npos);
    auto nested_and = [](int levels) {
        std::string text;
        for (int idx = 0; idx < levels; ++idx) {
            text += R"({"$and": [)";
        }
        text += R"({"a": {"$not": {"$in": [1]}}})";
        for (int idx = 0; idx < levels; ++idx) {
            text += "]}";
        }
        return text;
    };
    EXPECT_TRUE(ParseFilter(nested_and(kMaxFilterDepth - 1)).ok());
    EXPECT_FALSE(ParseFilter(nested_and(kMaxFilterDepth)).ok());
    // Deep JSON is refused before it is parsed.
    std::string deep =
        R"({"a": {"$in": )" + std::string(100000, '[') + std::string(100000, ']') + "}}";
    EXPECT_NE(Error(deep).find("nested 100002 levels deep"), std::string::npos);
}

// Matching -----------------------------------------------------------------------------------

TEST(FilterMatch, ComparisonOperators) {
    const char* doc = R"({"year": 2020, "title": "Dune", "ok": true, "none": null})";
    EXPECT_TRUE(M(R"({"year": 2020})", doc));
    EXPECT_TRUE(M(R"({"year": 2020.0})", doc));
    EXPECT_FALSE(M(R"({"year": 2021})", doc));
    EXPECT_TRUE(M(R"({"year": {"$eq": 2020}})", doc));
    EXPECT_TRUE(M(R"({"year": {"$ne": 2021}})", doc));
    EXPECT_FALSE(M(R"({"year": {"$ne": 2020}})", doc));
    EXPECT_TRUE(M(R"({"year": {"$gt": 2019}})", doc));
    EXPECT_FALSE(M(R"({"year": {"$gt": 2020}})", doc));
    EXPECT_TRUE(M(R"({"year": {"$gte": 2020}})", doc));
    EXPECT_TRUE(M(R"({"year": {"$lt": 2020.5}})", doc));
    EXPECT_FALSE(M(R"({"year": {"$lt": 2020}})", doc));
    EXPECT_TRUE(M(R"({"year": {"$lte": 2020}})", doc));
    EXPECT_TRUE(M(R"({"year": {"$gt": 2000, "$lt": 2030}})", doc));
    EXPECT_FALSE(M(R"({"year": {"$gt": 2000, "$lt": 2010}})", doc));
    EXPECT_TRUE(M(R"({"title": {"$gt": "Dun", "$lt": "Dunf"}})", doc));
    EXPECT_TRUE(M(R"({"ok": true})", doc));
    EXPECT_TRUE(M(R"({"ok": {"$gt": false}})", doc));
    EXPECT_FALSE(M(R"({"ok": {"$lt": true}})", doc));
    EXPECT_TRUE(M(R"({"none": null})", doc));
    EXPECT_TRUE(M(R"({"none": {"$gte": null}})", doc));
    EXPECT_FALSE(M(R"({"none": {"$gt": null}})", doc));
}

TEST(FilterMatch, InAndNin) {
    const char* doc = R"({"color": "red", "n": 3})";
    EXPECT_TRUE(M(R"({"color": {"$in": ["blue", "red"]}})", doc));
    EXPECT_FALSE(M(R"({"color": {"$in": ["blue", "green"]}})", doc));
    EXPECT_TRUE(M(R"({"n": {"$in": [1, 3.0]}})", doc));
    EXPECT_FALSE(M(R"({"n": {"$in": ["3"]}})", doc));
    EXPECT_TRUE(M(R"({"color": {"$nin": ["blue"]}})", doc));
    EXPECT_FALSE(M(R"({"color": {"$nin": ["blue", "red"]}})", doc));
}

TEST(FilterMatch, ExistsAndNull) {
    const char* doc = R"({"a": null, "b": 0, "o": {}, "e": []})";
    for (const char* field : {"a", "b", "o", "e"}) {
        const std::string name(field);
        EXPECT_TRUE(M(R"({")" + name + R"(": {"$exists": true}})", doc)) << field;
        EXPECT_FALSE(M(R"({")" + name + R"(": {"$exists": false}})", doc)) << field;
    }
    EXPECT_FALSE(M(R"({"zz": {"$exists": true}})", doc));
    EXPECT_TRUE(M(R"({"zz": {"$exists": false}})", doc));
    // $eq null is an explicit null only.
    EXPECT_TRUE(M(R"({"a": null})", doc));
    EXPECT_FALSE(M(R"({"zz": null})", doc));
    EXPECT_FALSE(M(R"({"o": null})", doc));
    EXPECT_FALSE(M(R"({"b": null})", doc));
    EXPECT_TRUE(M(R"({"x": null})", R"({"x": [1, null]})"));
}

TEST(FilterMatch, MissingFieldsMatchNegations) {
    const char* doc = R"({"other": 1})";
    EXPECT_TRUE(M(R"({"a": {"$ne": 5}})", doc));
    EXPECT_TRUE(M(R"({"a": {"$ne": null}})", doc));
    EXPECT_TRUE(M(R"({"a": {"$nin": [1, 2]}})", doc));
    EXPECT_TRUE(M(R"({"a": {"$not": {"$gt": 5}}})", doc));
    EXPECT_TRUE(M(R"({"$not": {"a": 5}})", doc));
    EXPECT_FALSE(M(R"({"a": {"$gt": 5}})", doc));
    EXPECT_FALSE(M(R"({"a": {"$lte": 5}})", doc));
    EXPECT_FALSE(M(R"({"a": {"$in": [5]}})", doc));
    // Empty metadata is the empty object.
    EXPECT_TRUE(M(R"({"a": {"$ne": 5}})", ""));
    EXPECT_FALSE(M(R"({"a": 5})", ""));
    EXPECT_TRUE(M("{}", ""));
}

TEST(FilterMatch, ArraysMatchIfAnyValueDoes) {
    const char* doc = R"({"tags": ["sci-fi", "classic"], "scores": [3, 9]})";
    EXPECT_TRUE(M(R"({"tags": "classic"})", doc));
    EXPECT_FALSE(M(R"({"tags": "horror"})", doc));
    EXPECT_TRUE(M(R"({"tags": {"$in": ["horror", "sci-fi"]}})", doc));
    EXPECT_FALSE(M(R"({"tags": {"$nin": ["horror", "sci-fi"]}})", doc));
    EXPECT_TRUE(M(R"({"tags": {"$ne": "horror"}})", doc));
    EXPECT_FALSE(M(R"({"tags": {"$ne": "classic"}})", doc));
    // Each bound may be met by a different element (as in MongoDB).
    EXPECT_TRUE(M(R"({"scores": {"$gt": 5, "$lt": 4}})", doc));
    EXPECT_FALSE(M(R"({"scores": {"$gt": 10}})", doc));
    EXPECT_TRUE(M(R"({"scores": {"$not": {"$gt": 10}}})", doc));
    EXPECT_FALSE(M(R"({"scores": {"$not": {"$gt": 5}}})", doc));
    EXPECT_FALSE(M(R"({"tags": {"$exists": false}})", R"({"tags": []})"));
    EXPECT_FALSE(M(R"({"tags": "x"})", R"({"tags": [["x"]]})"));
}

TEST(FilterMatch, NestedPathsThroughArraysOfObjects) {
    const char* doc =
        R"({"authors": [{"name": "Ann", "born": 1970}, {"name": "Bob", "born": 1985}],
            "pub": {"city": "Paris", "address": {"zip": "75001"}}})";
    EXPECT_TRUE(M(R"({"authors.name": "Bob"})", doc));
    EXPECT_TRUE(M(R"({"metadata.authors.name": "Ann"})", doc));
    EXPECT_FALSE(M(R"({"authors.name": "Cy"})", doc));
    EXPECT_TRUE(M(R"({"authors.born": {"$gt": 1980}})", doc));
    EXPECT_TRUE(M(R"({"pub.address.zip": "75001"})", doc));
    EXPECT_TRUE(M(R"({"pub.address": {"$exists": true}})", doc));
    EXPECT_FALSE(M(R"({"pub.address.zip.x": {"$exists": true}})", doc));
    EXPECT_TRUE(M(R"({"\"a.b\"": 1})", R"({"a.b": 1, "a": {"b": 2}})"));
    EXPECT_TRUE(M(R"({"a.b": 2})", R"({"a.b": 1, "a": {"b": 2}})"));
}

TEST(FilterMatch, ComparisonsStayWithinATypeBracket) {
    const char* doc = R"({"v": "10", "n": 5, "b": false, "z": null})";
    EXPECT_FALSE(M(R"({"v": {"$gt": 5}})", doc));
    EXPECT_FALSE(M(R"({"v": {"$lt": 5}})", doc));
    EXPECT_FALSE(M(R"({"v": 10})", doc));
    EXPECT_TRUE(M(R"({"v": {"$gt": "1"}})", doc));
    EXPECT_FALSE(M(R"({"n": {"$gt": "1"}})", doc));
    EXPECT_FALSE(M(R"({"n": {"$lt": "1"}})", doc));
    EXPECT_FALSE(M(R"({"n": {"$gt": null}})", doc));
    EXPECT_FALSE(M(R"({"n": {"$gt": false}})", doc));
    EXPECT_FALSE(M(R"({"b": {"$lt": 1}})", doc));
    EXPECT_FALSE(M(R"({"b": 0})", doc));
    EXPECT_FALSE(M(R"({"z": {"$lt": 0}})", doc));
    EXPECT_FALSE(M(R"({"z": false})", doc));
    // $ne across brackets is true: the value is not equal.
    EXPECT_TRUE(M(R"({"v": {"$ne": 10}})", doc));
    // Strings compare by UTF-8 bytes.
    EXPECT_TRUE(M(R"({"s": {"$gt": "Z"}})", R"({"s": "a"})"));
    EXPECT_TRUE(M(R"({"s": {"$gt": "z"}})", "{\"s\": \"\xc3\xa9\"}"));
}

TEST(FilterMatch, TimestampsCompareByInstantOnBothSides) {
    const char* doc = R"({"d": "2024-05-01T12:00:00+02:00", "s": "2024", "day": "2024-05-01"})";
    EXPECT_TRUE(M(R"({"d": "2024-05-01T10:00:00Z"})", doc));
    EXPECT_TRUE(M(R"({"d": {"$gt": "2024-05-01"}})", doc));
    EXPECT_TRUE(M(R"({"d": {"$lt": "2024-05-02"}})", doc));
    // "...T10:00Z" (no seconds) is not a timestamp, so it is a string bound that no timestamp
    // meets.
    EXPECT_FALSE(
        M(R"({"d": {"$gte": "2024-05-01T10:00:00.000Z", "$lte": "2024-05-01T10:00Z"}})", doc));
    EXPECT_TRUE(M(R"({"d": {"$gte": "2024-05-01T10:00:00.000Z"}})", doc));
    EXPECT_FALSE(M(R"({"d": {"$gt": "2024"}})", doc));  // a string literal, a timestamp value
    EXPECT_FALSE(M(R"({"d": {"$gt": 0}})", doc));
    EXPECT_TRUE(M(R"({"s": {"$gte": "2024"}})", doc));
    EXPECT_FALSE(M(R"({"s": {"$gte": "2000-01-01"}})", doc));
    EXPECT_TRUE(M(R"({"day": "2024-05-01T00:00:00Z"})", doc));
    EXPECT_TRUE(M(R"({"day": {"$in": ["2024-05-01T02:00:00+02:00"]}})", doc));
}

TEST(FilterMatch, LogicalOperators) {
    const char* doc = R"({"a": 1, "b": 2})";
    EXPECT_TRUE(M(R"({"$and": [{"a": 1}, {"b": 2}]})", doc));
    EXPECT_FALSE(M(R"({"$and": [{"a": 1}, {"b": 3}]})", doc));
    EXPECT_TRUE(M(R"({"$or": [{"a": 5}, {"b": 2}]})", doc));
    EXPECT_FALSE(M(R"({"$or": [{"a": 5}, {"b": 5}]})", doc));
    EXPECT_TRUE(M(R"({"$not": {"a": 1, "b": 3}})", doc));
    EXPECT_FALSE(M(R"({"$not": {"a": 1, "b": 2}})", doc));
    EXPECT_FALSE(M(R"({"$not": {}})", doc));
    EXPECT_TRUE(M(R"({"a": 1, "$or": [{"b": 2}, {"c": 3}]})", doc));
}

TEST(FilterMatch, DocumentErrors) {
    const Filter all;
    EXPECT_EQ(Matches(all, "[1]").status().message(),
              "metadata must be a JSON object, not an array");
    EXPECT_EQ(Matches(all, "{").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(Matches(all, "{\"a\": 1} x").status().code(), StatusCode::kInvalidArgument);
    auto doc = Document::Parse("\"s\"");
    ASSERT_FALSE(doc.ok());
    EXPECT_EQ(doc.status().message(), "metadata must be a JSON object, not a string");
    auto bad = Document::Parse("{\"a\": tru}");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("column"), std::string::npos) << bad.status().message();
    // A default Document is the empty object and a moved-from one stays usable.
    Document empty;
    EXPECT_TRUE(Matches(Parse(R"({"a": {"$exists": false}})"), empty));
    Document parsed = *Document::Parse(R"({"a": 1})");
    Document moved = std::move(parsed);
    EXPECT_TRUE(Matches(Parse(R"({"a": 1})"), moved));
}

TEST(FilterMatch, ParsedDocumentsCanBeReusedAcrossParses) {
    auto first = Document::Parse(R"({"a": "first"})");
    auto second = Document::Parse(R"({"a": "second", "b": [1, 2, 3]})");
    ASSERT_TRUE(first.ok() && second.ok());
    // The thread's parser has moved on; each Document owns its data.
    ASSERT_TRUE(Matches(Parse("{}"), R"({"x": 1})").ok());
    EXPECT_TRUE(Matches(Parse(R"({"a": "first"})"), *first));
    EXPECT_TRUE(Matches(Parse(R"({"a": "second", "b": 3})"), *second));
}

TEST(FilterMatch, DocumentsAndFiltersAreSharedAcrossThreads) {
    const Filter filter = Parse(R"({"a": {"$gte": 2}, "tags": {"$in": ["x"]}})");
    const Document shared = *Document::Parse(R"({"a": 3, "tags": ["y", "x"]})");
    std::vector<std::jthread> threads;
    std::vector<int> failures(4, 0);
    for (std::size_t thread_idx = 0; thread_idx < failures.size(); ++thread_idx) {
        threads.emplace_back([&, thread_idx] {
            for (int idx = 0; idx < 500; ++idx) {
                const std::string own = R"({"a": )" + std::to_string(idx % 4) + R"(, "tags": "x"})";
                const bool expected = idx % 4 >= 2;
                auto result = Matches(filter, own);
                auto doc = Document::Parse(own);
                if (!Matches(filter, shared) || !result.ok() || *result != expected || !doc.ok() ||
                    Matches(filter, *doc) != expected) {
                    ++failures[thread_idx];
                }
            }
        });
    }
    threads.clear();  // joins
    EXPECT_EQ(failures, std::vector<int>(4, 0));
}

// Printing, simplification -------------------------------------------------------------------

// Issue 13: $type and $like, the operators PhenixQL's NOT and LIKE compile to.
TEST(FilterMatch, TypeMatchesWhenAnyValueHasTheType) {
    const char* doc = R"({"n": 4, "f": 4.5, "s": "x", "t": "2024-05-01", "b": false, "z": null,
                          "mix": [1, "a"], "o": {"k": 1}, "e": []})";
    EXPECT_TRUE(M(R"({"n": {"$type": "number"}})", doc));
    EXPECT_TRUE(M(R"({"f": {"$type": "number"}})", doc));
    EXPECT_TRUE(M(R"({"s": {"$type": "string"}})", doc));
    EXPECT_FALSE(M(R"({"t": {"$type": "string"}})", doc));  // an RFC 3339 string is a timestamp
    EXPECT_TRUE(M(R"({"t": {"$type": "timestamp"}})", doc));
    EXPECT_TRUE(M(R"({"b": {"$type": "boolean"}})", doc));
    EXPECT_TRUE(M(R"({"z": {"$type": "null"}})", doc));
    EXPECT_TRUE(M(R"({"mix": {"$type": "string"}})", doc));
    EXPECT_TRUE(M(R"({"mix": {"$type": ["boolean", "number"]}})", doc));
    EXPECT_FALSE(M(R"({"mix": {"$type": ["boolean", "null"]}})", doc));
    EXPECT_FALSE(
        M(R"({"o": {"$type": ["null", "boolean", "number", "timestamp", "string"]}})", doc));
    EXPECT_FALSE(M(R"({"e": {"$type": "number"}})", doc));
    EXPECT_FALSE(M(R"({"missing": {"$type": "null"}})", doc));
    EXPECT_TRUE(M(R"({"mix": {"$not": {"$type": "boolean"}}})", doc));
    EXPECT_EQ(Error(R"({"a": {"$type": "int"}})"),
              R"(filter: "$type" on "a" needs a type name ("null", "boolean", "number", )"
              R"("timestamp" or "string") or a non-empty array of them, got "int")");
    EXPECT_FALSE(ParseFilter(R"({"a": {"$type": []}})").ok());
    EXPECT_FALSE(ParseFilter(R"({"a": {"$type": 1}})").ok());
}

TEST(FilterMatch, LikeMatchesSqlPatternsOnStrings) {
    EXPECT_TRUE(LikeMatches("apple", "a%"));
    EXPECT_TRUE(LikeMatches("apple", "%"));
    EXPECT_TRUE(LikeMatches("", "%"));
    EXPECT_FALSE(LikeMatches("", "_"));
    EXPECT_TRUE(LikeMatches("apple", "_pp_e"));
    EXPECT_TRUE(LikeMatches("apple", "%p%e"));
    EXPECT_FALSE(LikeMatches("apple", "%p%x"));
    EXPECT_FALSE(LikeMatches("Apple", "a%"));  // case-sensitive
    EXPECT_TRUE(LikeMatches("a%b", "a\\%b"));
    EXPECT_FALSE(LikeMatches("axb", "a\\%b"));
    EXPECT_TRUE(LikeMatches("a_b", "a\\_b"));
    EXPECT_FALSE(LikeMatches("axb", "a\\_b"));
    EXPECT_TRUE(LikeMatches("a\\b", "a\\\\b"));
    EXPECT_TRUE(
        LikeMatches("\xc3\xbc"
                    "ber",
                    "_ber"));  // _ is one UTF-8 character
    EXPECT_FALSE(
        LikeMatches("\xc3\xbc"
                    "ber",
                    "__ber"));
    EXPECT_TRUE(LikeMatches("mississippi", "%iss%ppi"));
    EXPECT_TRUE(LikeMatches("aaa", "%a%a%a%"));
    EXPECT_FALSE(LikeMatches("aa", "%a%a%a%"));
    EXPECT_FALSE(LikeMatches("ab", "ab\\"));  // malformed: matches nothing

    const char* doc = R"({"s": "apricot", "t": "2024-05-01", "n": 5, "arr": [1, "banana"],
                          "o": {"s": "apple"}})";
    EXPECT_TRUE(M(R"({"s": {"$like": "apr%"}})", doc));
    EXPECT_TRUE(M(R"({"t": {"$like": "2024-%"}})", doc));  // timestamps by their text
    EXPECT_FALSE(M(R"({"n": {"$like": "%"}})", doc));      // not a string
    EXPECT_TRUE(M(R"({"arr": {"$like": "b%"}})", doc));
    EXPECT_FALSE(M(R"({"o": {"$like": "%"}})", doc));
    EXPECT_TRUE(M(R"({"o.s": {"$like": "%pl%"}})", doc));
    EXPECT_TRUE(M(R"({"n": {"$not": {"$like": "%"}}})", doc));
    EXPECT_FALSE(ParseFilter(R"({"s": {"$like": 5}})").ok());
    EXPECT_EQ(Error(R"({"s": {"$like": "a\\"}})"),
              R"(filter: "$like" on "s": LIKE pattern ends in an escape character with nothing )"
              R"(to escape)");
    EXPECT_FALSE(ParseFilter(R"({"s": {"$like": "\\a"}})").ok());
}

TEST(FilterToString, TypeAndLikeRoundTrip) {
    for (const char* text :
         {R"({"a":{"$type":"number"}})", R"({"a":{"$type":["null","boolean","string"]}})",
          R"({"a":{"$like":"x\\%y_%"}})", R"({"$not":{"a":{"$like":"%"}}})"}) {
        const Filter filter = Parse(text);
        EXPECT_EQ(filter.ToString(), text);
        EXPECT_EQ(Parse(filter.ToString()), filter);
        EXPECT_EQ(Simplify(filter).ToString(), text);
    }
    EXPECT_EQ(Parse(R"({"a": {"$type": ["string", "boolean", "string"]}})").ToString(),
              R"({"a":{"$type":["boolean","string"]}})");
    EXPECT_FALSE(Parse(R"({"a":{"$like":"x"}})") == Parse(R"({"a":{"$like":"y"}})"));
}

TEST(FilterToString, IsCanonical) {
    EXPECT_EQ(Parse("").ToString(), "{}");
    EXPECT_EQ(Parse(R"({"$not": {}})").ToString(), R"({"$not":{}})");
    EXPECT_EQ(Parse(R"({ "metadata.a" : 1.0, "b": {"$gt": "x", "$exists": true}})").ToString(),
              R"({"$and":[{"a":1},{"$and":[{"b":{"$gt":"x"}},{"b":{"$exists":true}}]}]})");
    EXPECT_EQ(Parse(R"({"t": {"$in": ["b", "a", "b"]}})").ToString(), R"({"t":{"$in":["a","b"]}})");
    EXPECT_EQ(Parse(R"({"a": {"$not": {"$ne": null}}})").ToString(),
              R"({"$not":{"a":{"$ne":null}}})");
    EXPECT_EQ(Parse(R"({"\"x.y\"": "2024-05-01"})").ToString(), R"({"\"x.y\"":"2024-05-01"})");
    EXPECT_EQ(Parse(R"({"$or": [{"a": 0.1}, {"b": -2.5e-300}]})").ToString(),
              R"({"$or":[{"a":0.1},{"b":-2.5e-300}]})");
}

TEST(FilterSimplify, FlattensAndFoldsConstants) {
    auto simple = [](std::string_view text) { return Simplify(Parse(text)).ToString(); };
    EXPECT_EQ(simple(R"({"$and": [{"a": 1}, {"$and": [{"b": 2}, {}]}, {"c": 3}]})"),
              R"({"$and":[{"a":1},{"b":2},{"c":3}]})");
    EXPECT_EQ(simple(R"({"$or": [{"a": 1}, {"$or": [{"b": 2}, {"$not": {}}]}]})"),
              R"({"$or":[{"a":1},{"b":2}]})");
    EXPECT_EQ(simple(R"({"$or": [{"a": 1}, {}]})"), "{}");
    EXPECT_EQ(simple(R"({"$and": [{"a": 1}, {"$not": {}}]})"), R"({"$not":{}})");
    EXPECT_EQ(simple(R"({"$and": [{"a": 1}]})"), R"({"a":1})");
    EXPECT_EQ(simple(R"({"$not": {"$not": {"a": {"$gt": 1}}}})"), R"({"a":{"$gt":1}})");
    EXPECT_EQ(simple(R"({"$not": {"a": 1}})"), R"({"a":{"$ne":1}})");
    EXPECT_EQ(simple(R"({"$not": {"a": {"$ne": 1}}})"), R"({"a":1})");
    EXPECT_EQ(simple(R"({"$not": {"a": {"$in": [1, 2]}}})"), R"({"a":{"$nin":[1,2]}})");
    EXPECT_EQ(simple(R"({"$not": {"a": {"$exists": true}}})"), R"({"a":{"$exists":false}})");
    EXPECT_EQ(simple(R"({"a": {"$in": [1]}})"), R"({"a":1})");
    EXPECT_EQ(simple(R"({"a": {"$nin": [1]}})"), R"({"a":{"$ne":1}})");
    EXPECT_EQ(simple(R"({"$not": {"a": {"$gt": 1}}})"), R"({"$not":{"a":{"$gt":1}}})");
    EXPECT_EQ(simple(R"({"$not": {"$not": {}}})"), "{}");
}

// Properties ---------------------------------------------------------------------------------

// Valid UTF-8 text (filters are JSON), with characters that need escaping.
rc::Gen<std::string> GenText() {
    return rc::gen::oneOf(
        rc::gen::element<std::string>("", "x", "y", "2024-05-01", "2024-05-01T00:00:00Z",
                                      "2024-05-01T02:00:00+02:00", "1999-12-31", "a.b", "$x",
                                      "metadata"),
        rc::gen::container<std::string>(
            rc::gen::element('a', 'b', '.', ' ', '"', '\\', '$', '\0', '\n', '\x7f', '-', '0')),
        rc::gen::element<std::string>("caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"));
}

rc::Gen<Scalar> GenLiteral() {
    return rc::gen::oneOf(
        rc::gen::just(Scalar::Null()), rc::gen::map(rc::gen::arbitrary<bool>(), Scalar::Bool),
        rc::gen::map(rc::gen::inRange(-3, 4), [](int v) { return Scalar::Number(v); }),
        rc::gen::map(rc::gen::element(0.5, -0.0, 1e300, -2.5e-300, 0.1, 9007199254740993.0,
                                      18446744073709551616.0, 1.7976931348623157e308),
                     Scalar::Number),
        rc::gen::map(rc::gen::arbitrary<double>(),
                     [](double d) { return Scalar::Number(std::isfinite(d) ? d : 0); }),
        rc::gen::map(GenText(), Scalar::String));
}

JsonPath GenPath() {
    if (*rc::gen::inRange(0, 2) == 0) {
        return *JsonPath::Parse(
            *rc::gen::element<std::string>("a", "b", "tags", "o.x", "o.y", "arr.x"));
    }
    const auto num_segments = *rc::gen::inRange<std::size_t>(1, 4);
    return *JsonPath::FromSegments(
        *rc::gen::container<std::vector<std::string>>(num_segments, GenText()));
}

std::vector<Scalar> Canonical(std::vector<Scalar> values) {
    std::sort(values.begin(), values.end(),
              [](const Scalar& a, const Scalar& b) { return CompareScalars(a, b) < 0; });
    values.erase(std::unique(values.begin(), values.end()), values.end());
    return values;
}

Filter GenFilter(int depth) {
    const int choice = *rc::gen::inRange(0, depth > 0 ? 8 : 3);
    Filter f;
    switch (choice) {
        case 0:
            f.kind = Filter::Kind::kCompare;
            f.path = GenPath();
            f.op = *rc::gen::element(Filter::Op::kEq, Filter::Op::kNe, Filter::Op::kLt,
                                     Filter::Op::kLte, Filter::Op::kGt, Filter::Op::kGte);
            f.value = *GenLiteral();
            break;
        case 1:
            f.kind = Filter::Kind::kIn;
            f.path = GenPath();
            f.values = Canonical(*rc::gen::resize(
                5, rc::gen::nonEmpty(rc::gen::container<std::vector<Scalar>>(GenLiteral()))));
            f.negated_in = *rc::gen::arbitrary<bool>();
            break;
        case 2:
            f.kind = Filter::Kind::kExists;
            f.path = GenPath();
            f.exists = *rc::gen::arbitrary<bool>();
            break;
        case 3:
        case 4: {
            f.kind = choice == 3 ? Filter::Kind::kAnd : Filter::Kind::kOr;
            const int num_children = *rc::gen::inRange(1, 4);
            for (int idx = 0; idx < num_children; ++idx) {
                f.children.push_back(GenFilter(depth - 1));
            }
            break;
        }
        case 5:
        case 6: {
            f.kind = Filter::Kind::kNot;
            Filter child = GenFilter(depth - 1);
            if (child.kind == Filter::Kind::kAll) {
                child.kind = Filter::Kind::kNone;  // NOT {} has no form of its own
            }
            f.children.push_back(std::move(child));
            break;
        }
        default:
            f.kind = *rc::gen::element(Filter::Kind::kAll, Filter::Kind::kNone);
            break;
    }
    return f;
}

RC_GTEST_PROP(FilterProperties, ParseOfToStringRoundTrips, ()) {
    const Filter filter = GenFilter(3);
    const std::string text = filter.ToString();
    auto parsed = ParseFilter(text);
    RC_ASSERT(parsed.ok());
    RC_ASSERT(*parsed == filter);
    RC_ASSERT(parsed->ToString() == text);
    const Filter simple = Simplify(filter);
    auto reparsed = ParseFilter(simple.ToString());
    RC_ASSERT(reparsed.ok());
    RC_ASSERT(*reparsed == simple);
    RC_ASSERT(Simplify(simple) == simple);
}

// Documents over a small vocabulary so that filters from GenFilter often decide on real values.
std::string GenDocumentJson() {
    const auto scalar = [] {
        return *rc::gen::element<std::string>("null", "true", "false", "0", "1", "2", "-3", "0.5",
                                              "\"x\"", "\"y\"", "\"2024-05-01\"",
                                              "\"2024-05-01T02:00:00+02:00\"", "\"\"", "1e300");
    };
    const auto value = [&](int depth) {
        std::string out;
        const int kind = *rc::gen::inRange(0, depth > 0 ? 4 : 2);
        if (kind == 0 || kind == 1) {
            return kind == 0 ? scalar() : std::string("[]");
        }
        if (kind == 2) {
            out = "[";
            const int n = *rc::gen::inRange(1, 4);
            for (int idx = 0; idx < n; ++idx) {
                out += (idx > 0 ? "," : "") + (*rc::gen::inRange(0, 4) == 0
                                                   ? std::string(R"({"x":)") + scalar() + "}"
                                                   : scalar());
            }
            return out + "]";
        }
        return std::string(R"({"x":)") + scalar() + R"(,"y":[)" + scalar() + "]}";
    };
    std::string doc = "{";
    bool first = true;
    for (const char* key : {"a", "b", "tags", "o", "arr"}) {
        if (*rc::gen::inRange(0, 3) == 0) {
            continue;
        }
        doc += (first ? "\"" : ",\"") + std::string(key) + "\":" + value(1);
        first = false;
    }
    return doc + "}";
}

// What an index over `path` would answer for a leaf filter, from the document's extracted values
// and the key encoding alone: the contract between Matches and the engine's metadata indexes.
bool IndexAnswer(const Filter& leaf, const Extracted& extracted) {
    auto any_key_in = [&](const std::string& begin, bool begin_inclusive, const std::string& end,
                          bool end_inclusive) {
        return std::any_of(extracted.values.begin(), extracted.values.end(), [&](const Scalar& v) {
            const std::string key = EncodeScalarKey(v);
            return (key > begin || (begin_inclusive && key == begin)) &&
                   (key < end || (end_inclusive && key == end));
        });
    };
    switch (leaf.kind) {
        case Filter::Kind::kExists:
            return extracted.exists == leaf.exists;
        case Filter::Kind::kIn: {
            bool any = false;
            for (const Scalar& v : leaf.values) {
                const std::string key = EncodeScalarKey(v);
                any = any || any_key_in(key, true, key, true);
            }
            return any != leaf.negated_in;
        }
        case Filter::Kind::kCompare: {
            const std::string key = EncodeScalarKey(leaf.value);
            const KeyRange bracket = BracketKeyRange(leaf.value.type);
            switch (leaf.op) {
                case Filter::Op::kEq:
                    return any_key_in(key, true, key, true);
                case Filter::Op::kNe:
                    return !any_key_in(key, true, key, true);
                case Filter::Op::kLt:
                    return any_key_in(bracket.begin, true, key, false);
                case Filter::Op::kLte:
                    return any_key_in(bracket.begin, true, key, true);
                case Filter::Op::kGt:
                    return any_key_in(key, false, bracket.end, false);
                case Filter::Op::kGte:
                    return any_key_in(key, true, bracket.end, false);
            }
            return false;
        }
        default:
            return false;
    }
}

// An independent reading of the extraction rules on nlohmann's DOM.
void ReferenceWalk(const nlohmann::json& node, const std::vector<std::string>& segments,
                   std::size_t idx, Extracted* out) {
    auto scalar = [](const nlohmann::json& v) -> std::optional<Scalar> {
        if (v.is_null()) {
            return Scalar::Null();
        }
        if (v.is_boolean()) {
            return Scalar::Bool(v.get<bool>());
        }
        if (v.is_number()) {
            return Scalar::Number(v.get<double>());
        }
        if (v.is_string()) {
            return Scalar::String(v.get<std::string>());
        }
        return std::nullopt;
    };
    if (idx == segments.size()) {
        out->exists = true;
        if (node.is_array()) {
            for (const auto& item : node) {
                if (auto s = scalar(item)) {
                    out->values.push_back(*s);
                }
            }
        } else if (auto s = scalar(node)) {
            out->values.push_back(*s);
        }
        return;
    }
    if (node.is_object()) {
        if (auto it = node.find(segments[idx]); it != node.end()) {
            ReferenceWalk(*it, segments, idx + 1, out);
        }
    } else if (node.is_array()) {
        for (const auto& item : node) {
            if (item.is_object()) {
                ReferenceWalk(item, segments, idx, out);
            }
        }
    }
}

RC_GTEST_PROP(FilterProperties, MatchesAgreesWithIndexSemanticsAndSimplify, ()) {
    const std::string json = GenDocumentJson();
    auto doc = Document::Parse(json);
    RC_ASSERT(doc.ok());
    const Filter filter = GenFilter(2);
    const bool matches = Matches(filter, *doc);
    RC_ASSERT(Matches(Simplify(filter), *doc) == matches);
    RC_ASSERT(*Matches(filter, json) == matches);
    if (filter.kind == Filter::Kind::kCompare || filter.kind == Filter::Kind::kIn ||
        filter.kind == Filter::Kind::kExists) {
        const Extracted extracted = doc->Extract(filter.path);
        RC_ASSERT(IndexAnswer(filter, extracted) == matches);
        Extracted reference;
        ReferenceWalk(nlohmann::json::parse(json), filter.path.segments(), 0, &reference);
        reference.values = Canonical(std::move(reference.values));
        RC_ASSERT(reference.exists == extracted.exists);
        RC_ASSERT(reference.values == extracted.values);
    }
}

RC_GTEST_PROP(FilterProperties, RandomInputNeverCrashes, ()) {
    // Random bytes, and random sequences of JSON tokens that are more likely to get far.
    const std::string bytes = *rc::gen::arbitrary<std::string>();
    auto parsed = ParseFilter(bytes);
    RC_ASSERT(parsed.ok() || parsed.status().code() == StatusCode::kInvalidArgument);
    const auto tokens = *rc::gen::container<std::vector<std::string>>(rc::gen::element<std::string>(
        "{", "}", "[", "]", ":", ",", "\"a\"", "\"$and\"", "\"$or\"", "\"$not\"", "\"$in\"",
        "\"$gt\"", "\"$exists\"", "\"$eq\"", "\"x.y\"", "\"$nin\"", "1", "null", "true", "\"s\""));
    std::string text;
    for (const auto& token : tokens) {
        text += token;
    }
    auto from_tokens = ParseFilter(text);
    RC_ASSERT(from_tokens.ok() || from_tokens.status().code() == StatusCode::kInvalidArgument);
    if (from_tokens.ok()) {
        RC_ASSERT(ParseFilter(from_tokens->ToString()).ok());
        auto doc = Document::Parse(R"({"a": [1, {"y": "s"}], "x": {"y": null}})");
        RC_ASSERT(doc.ok());
        [[maybe_unused]] const bool matches = Matches(*from_tokens, *doc);
    }
    auto as_doc = Document::Parse(bytes);
    RC_ASSERT(as_doc.ok() || as_doc.status().code() == StatusCode::kInvalidArgument);
}

// ScalarAt reads one value from the text; what it cannot read the way nlohmann does is nullopt.
TEST(ScalarAt, ReadsOneValueFromTheText) {
    const std::string json =
        R"({"a":{"b":7,"s":"x\u00e9"},"f":1.5,"t":true,"n":null,"arr":[1],"big":18446744073709551615,)"
        R"("neg":-3,"dup":1,"dup":2})";
    using Kind = JsonScalar::Kind;
    auto at = [&](std::vector<std::string> path) { return ScalarAt(json, path); };
    ASSERT_TRUE(at({"a", "b"}).has_value());
    EXPECT_EQ(at({"a", "b"})->kind, Kind::kInt);
    EXPECT_EQ(at({"a", "b"})->int_value, 7);
    EXPECT_EQ(at({"neg"})->int_value, -3);
    EXPECT_EQ(at({"a", "s"})->kind, Kind::kString);
    EXPECT_EQ(at({"a", "s"})->text, "x\xc3\xa9");
    EXPECT_EQ(at({"f"})->kind, Kind::kDouble);
    EXPECT_EQ(at({"f"})->double_value, 1.5);
    EXPECT_EQ(at({"t"})->kind, Kind::kBool);
    EXPECT_TRUE(at({"t"})->boolean);
    EXPECT_EQ(at({"n"})->kind, Kind::kNull);
    EXPECT_EQ(at({"arr"})->kind, Kind::kComposite);
    EXPECT_EQ(at({"a"})->kind, Kind::kComposite);
    EXPECT_EQ(at({"big"})->kind, Kind::kUint);
    EXPECT_EQ(at({"big"})->uint_value, 18446744073709551615ULL);
    EXPECT_EQ(at({"dup"})->int_value, 2);  // the last of a duplicated key, as Extract
    // Absent: a missing key, or a step through a value that is not an object.
    EXPECT_EQ(at({"missing"})->kind, Kind::kMissing);
    EXPECT_EQ(at({"a", "b", "c"})->kind, Kind::kMissing);
    EXPECT_EQ(at({"arr", "0"})->kind, Kind::kMissing);
    EXPECT_EQ(ScalarAt("", std::vector<std::string>{"a"})->kind, Kind::kMissing);
    // Not read here: not an object, not JSON, an integer beyond 64 bits, -0.0.
    EXPECT_FALSE(ScalarAt("[1]", std::vector<std::string>{"a"}).has_value());
    EXPECT_FALSE(ScalarAt("{\"a\":", std::vector<std::string>{"a"}).has_value());
    EXPECT_FALSE(ScalarAt(R"({"a":123456789012345678901234567890})", std::vector<std::string>{"a"})
                     .has_value());
    EXPECT_FALSE(ScalarAt(R"({"a":-0.0})", std::vector<std::string>{"a"}).has_value());
}

}  // namespace
}  // namespace phenix::document
