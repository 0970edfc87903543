// SPDX-License-Identifier: Apache-2.0
#include "document/json.h"

#include <gtest/gtest.h>

#include <phenix/json.h>
#include <phenix/limits.h>

namespace phenix {
namespace {

using document::ApplyMergePatch;
using document::NormalizeJsonObject;

TEST(Json, NormalizesObjectsAndKeepsKeyOrder) {
    auto out = NormalizeJsonObject(R"({ "b" : 1, "a" : [1, 2.5, "x"], "c": {"d": null} })", 1000,
                                   "metadata");
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, R"({"b":1,"a":[1,2.5,"x"],"c":{"d":null}})");
    EXPECT_EQ(*NormalizeJsonObject("", 1000, "metadata"), "{}");
}

TEST(Json, RejectsNonObjectsWithTheirType) {
    for (const char* text : {"[]", "1", "\"s\"", "null", "true"}) {
        auto out = NormalizeJsonObject(text, 1000, "metadata");
        ASSERT_FALSE(out.ok()) << text;
        EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
        EXPECT_NE(out.status().message().find("must be a JSON object"), std::string::npos);
    }
}

TEST(Json, SyntaxErrorsNameThePosition) {
    auto out = NormalizeJsonObject(R"({"a": })", 1000, "metadata");
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.status().message().find("column"), std::string::npos) << out.status().message();
}

TEST(Json, EnforcesSizeLimitOnMinifiedForm) {
    std::string big = R"({"k":")" + std::string(100, 'x') + R"("})";
    EXPECT_TRUE(NormalizeJsonObject(big, big.size(), "metadata").ok());
    auto out = NormalizeJsonObject(big, big.size() - 1, "metadata");
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.status().message().find("limit"), std::string::npos);
    // Whitespace does not count.
    std::string spaced = "{   \"k\"   :   1   }";
    EXPECT_TRUE(NormalizeJsonObject(spaced, 7, "metadata").ok());
}

TEST(Json, RejectsDeepNestingWithoutRecursingIntoIt) {
    std::string deep;
    for (int idx = 0; idx < 100000; ++idx) {
        deep += "{\"a\":";
    }
    deep += "1";
    for (int idx = 0; idx < 100000; ++idx) {
        deep += "}";
    }
    auto out = NormalizeJsonObject(deep, 10u << 20, "metadata");
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.status().message().find("levels deep"), std::string::npos);
    // Brackets inside strings do not count as nesting.
    EXPECT_EQ(document::JsonNestingDepth(R"({"a":"[[[[{{{{\"]]"})"), 1);
}

std::string Nested(int depth) {
    std::string text;
    for (int idx = 0; idx < depth; ++idx) {
        text += idx + 1 < depth ? "{\"a\":" : "{\"a\":1";
    }
    return text + std::string(static_cast<std::size_t>(depth), '}');
}

TEST(Json, DepthLimitIsExactlySixtyFourLevels) {
    EXPECT_TRUE(NormalizeJsonObject(Nested(limits::kMaxJsonDepth), 10000, "metadata").ok());
    auto too_deep = NormalizeJsonObject(Nested(limits::kMaxJsonDepth + 1), 10000, "metadata");
    ASSERT_FALSE(too_deep.ok());
    EXPECT_NE(too_deep.status().message().find("65 levels deep; the limit is 64"),
              std::string::npos)
        << too_deep.status().message();
    // A large document first (the parser grows), then the limit still holds.
    std::string big = R"({"k":")" + std::string(100000, 'x') + R"("})";
    EXPECT_TRUE(NormalizeJsonObject(big, 200000, "metadata").ok());
    EXPECT_FALSE(NormalizeJsonObject(Nested(limits::kMaxJsonDepth + 1), 10000, "metadata").ok());
    EXPECT_TRUE(NormalizeJsonObject(Nested(limits::kMaxJsonDepth), 10000, "metadata").ok());
}

TEST(Json, StoresNumbersAndKeysAsSent) {
    // Minification keeps number spellings and repeated keys exactly (no re-encoding).
    EXPECT_EQ(*NormalizeJsonObject(R"({"a": 1.0, "b": 1e3, "c": -0.5E-2, "a": 2})", 1000, "m"),
              R"({"a":1.0,"b":1e3,"c":-0.5E-2,"a":2})");
    EXPECT_EQ(*NormalizeJsonObject(R"({"s": "  spaces  \" kept "})", 1000, "m"),
              R"({"s":"  spaces  \" kept "})");
    // Escaped backslashes end strings correctly; whitespace inside strings is kept.
    EXPECT_EQ(
        *NormalizeJsonObject("{ \"p\" : \"C:\\\\ \" ,\n\t\"q\" : [ 1 , \"a b\" ] }", 1000, "m"),
        "{\"p\":\"C:\\\\ \",\"q\":[1,\"a b\"]}");
    // Integers beyond 64 bits are valid JSON; they take the thorough path and are kept.
    auto big = NormalizeJsonObject(R"({"n": 123456789012345678901234567890})", 1000, "m");
    ASSERT_TRUE(big.ok()) << big.status().ToString();
}

TEST(Json, RejectsInvalidUtf8InStrings) {
    auto out = NormalizeJsonObject("{\"a\":\"\xff\"}", 1000, "metadata");
    EXPECT_FALSE(out.ok());
}

TEST(Json, MergePatchFollowsRfc7386) {
    auto out =
        ApplyMergePatch(R"({"a":"b","c":{"d":"e","f":"g"}})", R"({"a":"z","c":{"f":null}})", 1000);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, R"({"a":"z","c":{"d":"e"}})");
    EXPECT_FALSE(ApplyMergePatch("{}", "[1]", 1000).ok());
    EXPECT_FALSE(ApplyMergePatch("{}", R"({"k":"0123456789"})", 5).ok());
}

TEST(EntityJson, ParsesTheFullShape) {
    auto entity = EntityFromJson(R"({"id":"d2","vector":[0.5,0.6],"metadata":{"category":"science"},
        "edges":[{"label":"related_to","target":"d1","weight":0.8,"collection":"other","properties":{"since":2020}}]})");
    ASSERT_TRUE(entity.ok()) << entity.status().ToString();
    EXPECT_EQ(entity->id, "d2");
    EXPECT_EQ(entity->vector, (std::vector<float>{0.5f, 0.6f}));
    EXPECT_EQ(entity->metadata, R"({"category":"science"})");
    ASSERT_EQ(entity->edges.size(), 1u);
    EXPECT_EQ(entity->edges[0].label, "related_to");
    EXPECT_EQ(entity->edges[0].target_id, "d1");
    EXPECT_EQ(entity->edges[0].target_collection, "other");
    EXPECT_DOUBLE_EQ(entity->edges[0].weight, 0.8);
    EXPECT_EQ(entity->edges[0].properties, R"({"since":2020})");
}

TEST(EntityJson, RoundTripsThroughToJson) {
    Entity entity{
        .id = "x",
        .vector = {0.1f, 1e-7f, -3.5f},
        .metadata = R"({"a":1})",
        .edges = {{.label = "l", .target_id = "y", .weight = 2.0, .properties = R"({"p":true})"}}};
    auto parsed = EntityFromJson(EntityToJson(entity));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, entity);
}

TEST(EntityJson, RejectsBadShapesNamingTheField) {
    struct Case {
        const char* json;
        const char* field;
    };
    for (const Case& c :
         {Case{R"({"vector":[1]})", "\"id\""}, Case{R"({"id":1})", "\"id\""},
          Case{R"({"id":"a","vector":"x"})", "\"vector\""},
          Case{R"({"id":"a","vector":[1,"x"]})", "vector[1]"},
          Case{R"({"id":"a","metadata":[1]})", "\"metadata\""},
          Case{R"({"id":"a","edges":[{"label":"l"}]})", "edges[0].target"},
          Case{R"({"id":"a","edges":[{"target":"t","label":"l","wieght":1}]})", "wieght"},
          Case{R"({"id":"a","colour":"red"})", "colour"}, Case{"[1,2]", "object"},
          Case{"{not json", "not valid JSON"}}) {
        auto parsed = EntityFromJson(c.json);
        ASSERT_FALSE(parsed.ok()) << c.json;
        EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
        EXPECT_NE(parsed.status().message().find(c.field), std::string::npos)
            << c.json << " -> " << parsed.status().message();
    }
}

}  // namespace
}  // namespace phenix
