// SPDX-License-Identifier: Apache-2.0
#include "document/json_path.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "document/filter.h"

namespace phenix::document {
namespace {

std::vector<std::string> Segments(std::string_view text) {
    auto path = JsonPath::Parse(text);
    EXPECT_TRUE(path.ok()) << text << ": " << path.status().ToString();
    return path.ok() ? path->segments() : std::vector<std::string>{};
}

std::string ParseError(std::string_view text) {
    auto path = JsonPath::Parse(text);
    EXPECT_FALSE(path.ok()) << text;
    if (path.ok()) {
        return "";
    }
    EXPECT_EQ(path.status().code(), StatusCode::kInvalidArgument);
    return path.status().message();
}

using Strings = std::vector<std::string>;

TEST(JsonPath, ParsesDottedPaths) {
    EXPECT_EQ(Segments("category"), Strings({"category"}));
    EXPECT_EQ(Segments("author.name"), Strings({"author", "name"}));
    EXPECT_EQ(Segments("a_b.C-9.$x"), Strings({"a_b", "C-9", "$x"}));
    EXPECT_EQ(Segments("metadata.tags"), Strings({"tags"}));
    EXPECT_EQ(Segments("metadata"), Strings({"metadata"}));
    EXPECT_EQ(Segments("metadata.metadata.x"), Strings({"metadata", "x"}));
    EXPECT_EQ(Segments("metadatax.y"), Strings({"metadatax", "y"}));
}

TEST(JsonPath, ParsesQuotedSegments) {
    EXPECT_EQ(Segments(R"("file.name".ext)"), Strings({"file.name", "ext"}));
    EXPECT_EQ(Segments(R"(a."b c"."d")"), Strings({"a", "b c", "d"}));
    EXPECT_EQ(Segments(R"("say \"hi\"\\")"), Strings({"say \"hi\"\\"}));
    EXPECT_EQ(Segments(R"("")"), Strings({""}));
    EXPECT_EQ(Segments(R"("metadata".x)"), Strings({"metadata", "x"}));
    EXPECT_EQ(Segments("\"caf\xc3\xa9\""), Strings({"caf\xc3\xa9"}));
}

TEST(JsonPath, ErrorsNameTheColumn) {
    EXPECT_EQ(ParseError(""), "invalid path \"\": the path is empty");
    EXPECT_EQ(ParseError("a..b"), "invalid path \"a..b\": empty segment at column 3");
    EXPECT_EQ(ParseError("a."), "invalid path \"a.\": empty segment at column 3");
    EXPECT_EQ(ParseError(".a"), "invalid path \".a\": empty segment at column 1");
    EXPECT_EQ(ParseError("metadata."), "invalid path \"metadata.\": empty segment at column 10");
    EXPECT_EQ(ParseError("a.b c"),
              "invalid path \"a.b c\": ' ' is not allowed in a segment (use [A-Za-z0-9_$-] or "
              "quote the segment) at column 4");
    EXPECT_NE(ParseError("tags[0]").find("'[' is not allowed in a segment"), std::string::npos);
    EXPECT_EQ(ParseError(R"("abc)"),
              "invalid path \"\\\"abc\": unterminated quoted segment starting at column 1");
    EXPECT_NE(ParseError(R"("a"b)").find("expected '.' after a quoted segment, found 'b' at "
                                         "column 4"),
              std::string::npos);
    EXPECT_NE(ParseError(R"("a\n")").find("bad escape"), std::string::npos);
    EXPECT_NE(ParseError("a\x01").find("byte 0x01 is not allowed"), std::string::npos);
}

TEST(JsonPath, AllowsAtMostSixteenSegments) {
    std::string text = "s0";
    for (int idx = 1; idx < 16; ++idx) {
        text += ".s" + std::to_string(idx);
    }
    EXPECT_EQ(Segments(text).size(), 16u);
    EXPECT_EQ(Segments("metadata." + text).size(), 16u);
    const std::string message = ParseError(text + ".s16");
    EXPECT_NE(message.find("too many segments (the limit is 16); segment 17 starts at column"),
              std::string::npos)
        << message;
    EXPECT_FALSE(JsonPath::FromSegments({}).ok());
    EXPECT_FALSE(JsonPath::FromSegments(Strings(17, "x")).ok());
    EXPECT_TRUE(JsonPath::FromSegments(Strings(16, "x")).ok());
}

TEST(JsonPath, ToStringIsCanonical) {
    auto canonical = [](std::string_view text) { return JsonPath::Parse(text)->ToString(); };
    EXPECT_EQ(canonical("metadata.author.name"), "author.name");
    EXPECT_EQ(canonical(R"("plain".x)"), "plain.x");
    EXPECT_EQ(canonical(R"("a.b".c)"), R"("a.b".c)");
    EXPECT_EQ(canonical(R"("q\"\\")"), R"("q\"\\")");
    EXPECT_EQ(canonical("metadata.metadata.x"), R"("metadata".x)");
    EXPECT_EQ(canonical("metadata"), "metadata");
    EXPECT_EQ(canonical("x.metadata"), "x.metadata");
    EXPECT_EQ(canonical("$x.$y"), R"("$x".$y)");
    EXPECT_EQ(canonical(R"("")"), R"("")");
}

RC_GTEST_PROP(JsonPath, ParseOfToStringRoundTrips, ()) {
    const auto segment = rc::gen::oneOf(
        rc::gen::element<std::string>("a", "metadata", "$x", "", "a.b", "q\"", "\\", "x y", "-"),
        rc::gen::container<std::string>(rc::gen::element('a', 'Z', '0', '_', '$', '-', '.', ' ',
                                                         '"', '\\', '\0', '\xc3', '\xa9')));
    const auto segments =
        *rc::gen::resize(16, rc::gen::nonEmpty(rc::gen::container<Strings>(segment)));
    RC_PRE(segments.size() <= kMaxPathSegments);
    auto path = JsonPath::FromSegments(segments);
    RC_ASSERT(path.ok());
    auto reparsed = JsonPath::Parse(path->ToString());
    RC_ASSERT(reparsed.ok());
    RC_ASSERT(*reparsed == *path);
    // The metadata prefix is always optional.
    auto prefixed = JsonPath::Parse("metadata." + path->ToString());
    RC_ASSERT(prefixed.ok());
    RC_ASSERT(*prefixed == *path);
}

// Extraction (Document::Extract) -------------------------------------------------------------

Extracted Extract(std::string_view json, std::string_view path) {
    auto doc = Document::Parse(json);
    EXPECT_TRUE(doc.ok()) << doc.status().ToString();
    auto parsed = JsonPath::Parse(path);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    if (!doc.ok() || !parsed.ok()) {
        return {};
    }
    return doc->Extract(*parsed);
}

std::vector<Scalar> Values(std::vector<Scalar> values) {
    return values;
}

TEST(JsonPathExtract, ScalarsAndMissingPaths) {
    const char* doc = R"({"a": 1, "s": "x", "n": null, "b": true, "o": {"p": 2.5}})";
    Extracted e = Extract(doc, "a");
    EXPECT_TRUE(e.exists);
    EXPECT_EQ(e.values, Values({Scalar::Number(1)}));
    EXPECT_EQ(Extract(doc, "s").values, Values({Scalar::String("x")}));
    EXPECT_EQ(Extract(doc, "n").values, Values({Scalar::Null()}));
    EXPECT_TRUE(Extract(doc, "n").exists);
    EXPECT_EQ(Extract(doc, "b").values, Values({Scalar::Bool(true)}));
    EXPECT_EQ(Extract(doc, "o.p").values, Values({Scalar::Number(2.5)}));
    EXPECT_EQ(Extract(doc, "metadata.o.p").values, Values({Scalar::Number(2.5)}));
    for (const char* missing : {"zz", "a.b", "o.q", "o.p.r", "s.length"}) {
        Extracted none = Extract(doc, missing);
        EXPECT_FALSE(none.exists) << missing;
        EXPECT_TRUE(none.values.empty()) << missing;
    }
}

TEST(JsonPathExtract, ObjectsAndEmptyArraysExistWithoutValues) {
    const char* doc = R"({"o": {"p": 1}, "e": [], "eo": {}, "nested": [[1, 2], {"x": 1}]})";
    for (const char* path : {"o", "e", "eo", "nested"}) {
        Extracted e = Extract(doc, path);
        EXPECT_TRUE(e.exists) << path;
        EXPECT_TRUE(e.values.empty()) << path;
    }
}

TEST(JsonPathExtract, ArraysFanOutOneLevelAndValuesAreDistinctAndSorted) {
    Extracted e = Extract(R"({"tags": ["b", "a", "b", 3, null, [4], {"x": 5}, 1.0, 1]})", "tags");
    EXPECT_TRUE(e.exists);
    EXPECT_EQ(e.values, Values({Scalar::Null(), Scalar::Number(1), Scalar::Number(3),
                                Scalar::String("a"), Scalar::String("b")}));
}

TEST(JsonPathExtract, PathsContinueThroughArraysOfObjects) {
    const char* doc = R"({"authors": [{"name": "Ann", "tags": ["x", "y"]}, {"name": "Bob"},
                                      {"nick": "C"}, "loose", [{"name": "deep"}]]})";
    EXPECT_EQ(Extract(doc, "authors.name").values,
              Values({Scalar::String("Ann"), Scalar::String("Bob")}));
    EXPECT_EQ(Extract(doc, "authors.tags").values,
              Values({Scalar::String("x"), Scalar::String("y")}));
    EXPECT_TRUE(Extract(doc, "authors.nick").exists);
    Extracted missing = Extract(doc, "authors.age");
    EXPECT_FALSE(missing.exists);
    // Scalars in the middle of a path count for nothing.
    EXPECT_FALSE(Extract(R"({"a": [1, 2]})", "a.b").exists);
    EXPECT_FALSE(Extract(R"({"a": []})", "a.b").exists);
}

TEST(JsonPathExtract, TimestampsAreRecognisedInDocuments) {
    Extracted e = Extract(R"({"d": ["2024-05-01", "2024-05-01T00:00:00Z", "2024-05-1"]})", "d");
    ASSERT_EQ(e.values.size(), 2u);
    EXPECT_EQ(e.values[0].type, ValueType::kTimestamp);
    EXPECT_EQ(e.values[1], Scalar::PlainString("2024-05-1"));
}

TEST(JsonPathExtract, NumbersAreDoubles) {
    Extracted e = Extract(R"({"n": [1, 1.0, -0.0, 0, 18446744073709551615, 1e300]})", "n");
    EXPECT_EQ(e.values, Values({Scalar::Number(0), Scalar::Number(1),
                                Scalar::Number(18446744073709551615.0), Scalar::Number(1e300)}));
    // Beyond 64 bits simdjson declines; the nlohmann fallback reads them as doubles.
    EXPECT_EQ(Extract(R"({"big": 123456789012345678901234567890})", "big").values,
              Values({Scalar::Number(123456789012345678901234567890.0)}));
}

TEST(JsonPathExtract, LastDuplicateKeyWins) {
    EXPECT_EQ(Extract(R"({"a": 1, "a": 2})", "a").values, Values({Scalar::Number(2)}));
}

TEST(JsonPathExtract, QuotedKeysWithDots) {
    EXPECT_EQ(
        Extract(R"({"file.name": {"ext": "md"}, "file": {"name": "x"}})", R"("file.name".ext)")
            .values,
        Values({Scalar::String("md")}));
    EXPECT_EQ(Extract(R"({"file.name": {"ext": "md"}, "file": {"name": "x"}})", "file.name").values,
              Values({Scalar::String("x")}));
}

}  // namespace
}  // namespace phenix::document
