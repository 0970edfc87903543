// SPDX-License-Identifier: Apache-2.0
#include "server/json_scan.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace phenix::server {
namespace {

std::optional<ScannedSearch> Scan(std::string_view text) {
    return ScanSearchBody(text);
}

TEST(JsonScanTest, FindsTopLevelKeysOnly) {
    auto plain = Scan(R"({"vector": [0.5, -1e-3, 2E+2, 0], "k": 10, "ef": 64})");
    ASSERT_TRUE(plain.has_value());
    EXPECT_FALSE(plain->names_collection_or_explain);
    EXPECT_FALSE(plain->empty);

    auto named = Scan(R"( {"k": 1, "collection": "docs"} )");
    ASSERT_TRUE(named.has_value());
    EXPECT_TRUE(named->names_collection_or_explain);

    auto explain = Scan(R"({"explain": false})");
    ASSERT_TRUE(explain.has_value());
    EXPECT_TRUE(explain->names_collection_or_explain);

    // Nested keys and string values that spell a key do not count.
    auto nested = Scan(R"({"filter": {"collection": {"$eq": "explain"}}, "k": "collection"})");
    ASSERT_TRUE(nested.has_value());
    EXPECT_FALSE(nested->names_collection_or_explain);

    auto empty = Scan(" {\n} ");
    ASSERT_TRUE(empty.has_value());
    EXPECT_TRUE(empty->empty);
}

TEST(JsonScanTest, RefusesWhatIsNotOneObjectOrWhatItIsUnsureOf) {
    const std::vector<std::string> refused = {
        "",
        "[]",
        "1",
        "\"x\"",
        "{",
        "}",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{\"a\":1}x",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":1e}",
        "{\"a\":-}",
        "{\"a\":tru}",
        "{\"a\":[1,]}",
        "{\"a\":[1 2]}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12g4\"}",
        "{\"a\":\"tab\there\"}",
        "{a:1}",
        "{\"a\":1}{}",
        "{'a':1}",
        "{\"a\":\"\xc3\xa9\"}",          // UTF-8: left to the full parser
        "\xef\xbb\xbf{\"a\":1}",         // a byte-order mark: likewise
        "{\"coll\\u0065ction\":\"x\"}",  // an escaped key: likewise
        std::string(100, '[') + std::string(100, ']')};
    for (const std::string& text : refused) {
        EXPECT_FALSE(Scan(text).has_value()) << text;
    }
}

// Whatever the scanner accepts, the full parser accepts as an object with the same answer.
TEST(JsonScanTest, AgreesWithTheFullParser) {
    const std::vector<std::string> accepted = {
        R"({"vector":[1,2.5,-3e-7],"k":10})",
        R"({"a":{"b":[true,false,null,{"c":"\"\\\/\b\f\n\r\t\u00e9"}]},"collection":"x"})",
        "{\"a\" : [ ] , \"b\" : { } }", R"({"explain":true,"explain":false})",
        "{\"deep\":" + std::string(60, '[') + std::string(60, ']') + "}"};
    for (const std::string& text : accepted) {
        auto scanned = Scan(text);
        ASSERT_TRUE(scanned.has_value()) << text;
        const auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
        ASSERT_TRUE(parsed.is_object()) << text;
        EXPECT_EQ(scanned->names_collection_or_explain,
                  parsed.contains("collection") || parsed.contains("explain"))
            << text;
        EXPECT_EQ(scanned->empty, parsed.empty()) << text;
    }
}

// The usual search is decoded; the vector as the JSON form converts it (via nlohmann: decimal
// -> double -> float).
TEST(JsonScanTest, DecodesTheUsualSearch) {
    const std::string text =
        R"({ "k" : 7, "vector": [0.1, -0, -0.0, 1e-3, 2E+2, 12345678901234567890, )"
        R"(0.333333333333333314829616256247, -1.0000001],"ef":64, "collection":"docs"})";
    auto scanned = Scan(text);
    ASSERT_TRUE(scanned.has_value());
    ASSERT_TRUE(scanned->simple.has_value());
    const SimpleSearch& simple = *scanned->simple;
    EXPECT_EQ(simple.k, 7U);
    EXPECT_EQ(simple.ef, 64U);
    EXPECT_EQ(simple.collection, "docs");
    const auto parsed = nlohmann::json::parse(text);
    ASSERT_EQ(simple.vector.size(), parsed["vector"].size());
    for (std::size_t idx = 0; idx < simple.vector.size(); ++idx) {
        const auto want = static_cast<float>(parsed["vector"][idx].get<double>());
        EXPECT_EQ(std::memcmp(&simple.vector[idx], &want, sizeof want), 0) << idx;  // -0 too
    }
    EXPECT_TRUE(std::signbit(simple.vector[2]));   // -0.0 is a float: negative zero
    EXPECT_FALSE(std::signbit(simple.vector[1]));  // -0 is an integer: zero

    auto bare = Scan(R"({"vector":[1]})");
    ASSERT_TRUE(bare.has_value() && bare->simple.has_value());
    EXPECT_FALSE(bare->simple->k.has_value());
    EXPECT_FALSE(bare->simple->ef.has_value());
    EXPECT_FALSE(bare->simple->collection.has_value());
}

// Anything else is well-formed JSON the JSON form answers (or refuses with its own message).
TEST(JsonScanTest, LeavesEverythingElseToTheJsonForm) {
    const std::vector<std::string> others = {R"({})",
                                             R"({"k":1})",
                                             R"({"vector":[]})",
                                             R"({"vector":[1,"2"]})",
                                             R"({"vector":[1,[2]]})",
                                             R"({"vector":"[1]"})",
                                             R"({"vector":[1e39]})",
                                             R"({"vector":[1e-400]})",
                                             R"({"vector":[1],"vector":[1]})",
                                             R"({"vector":[1],"k":0})",
                                             R"({"vector":[1],"k":10001})",
                                             R"({"vector":[1],"k":1.0})",
                                             R"({"vector":[1],"k":1e1})",
                                             R"({"vector":[1],"k":-1})",
                                             R"({"vector":[1],"k":"1"})",
                                             R"({"vector":[1],"ef":0})",
                                             R"({"vector":[1],"ef":100001})",
                                             R"({"vector":[1],"k":1,"k":2})",
                                             R"({"vector":[1],"collection":"d\u006fcs"})",
                                             R"({"vector":[1],"collection":7})",
                                             R"({"vector":[1],"explain":false})",
                                             R"({"vector":[1],"filter":{}})",
                                             R"({"vector":[1],"include":["id"]})",
                                             R"({"vector":[1],"metric":"l2"})"};
    for (const std::string& text : others) {
        auto scanned = Scan(text);
        ASSERT_TRUE(scanned.has_value()) << text;
        EXPECT_FALSE(scanned->simple.has_value()) << text;
    }
}

// Random edits of search bodies: whatever the scan accepts, nlohmann parses as an object with the
// same answer, and a decoded usual search is exactly what the JSON form would read from it.
TEST(JsonScanTest, RandomEditsAgreeWithTheFullParser) {
    const std::vector<std::string> seeds = {
        R"({"vector":[0.5,-1e-3,2E+2,-0,7],"k":10,"ef":64})",
        R"( {"k" : 3 , "vector" : [ 1 , 2.25 , -0.0 ] , "collection" : "docs" } )",
        R"({"vector":[1,2],"explain":true,"filter":{"a":{"$in":[1,"x",null]}}})",
        R"({"vector":[12345678901234567890,-9223372036854775809,1e38,3.4028236e38]})"};
    const std::string alphabet = "{}[]\":,.-+eE0123456789 \\aknvtrfulx";
    std::mt19937 rng(14);
    int decoded = 0;
    for (int round = 0; round < 30000; ++round) {
        std::string text = seeds[rng() % seeds.size()];
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int edit = 0; edit < edits && !text.empty(); ++edit) {
            const std::size_t at = rng() % text.size();
            const char c = alphabet[rng() % alphabet.size()];
            switch (rng() % 3) {
                case 0:
                    text[at] = c;
                    break;
                case 1:
                    text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
                    break;
                default:
                    text.erase(at, 1);
                    break;
            }
        }
        const auto scanned = Scan(text);
        if (!scanned.has_value()) {
            continue;
        }
        const auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (parsed.is_discarded()) {
            // nlohmann refuses a number beyond double's range (1e400), which the scan leaves to
            // it: such a body must reach the JSON form, which answers its error.
            EXPECT_FALSE(scanned->simple.has_value()) << text;
            continue;
        }
        ASSERT_TRUE(parsed.is_object()) << text;
        EXPECT_EQ(scanned->names_collection_or_explain,
                  parsed.contains("collection") || parsed.contains("explain"))
            << text;
        if (!scanned->simple.has_value()) {
            continue;
        }
        ++decoded;
        const SimpleSearch& simple = *scanned->simple;
        for (const auto& [key, value] : parsed.items()) {
            EXPECT_TRUE(key == "vector" || key == "k" || key == "ef" || key == "collection")
                << text;
        }
        ASSERT_TRUE(parsed["vector"].is_array()) << text;
        ASSERT_EQ(simple.vector.size(), parsed["vector"].size()) << text;
        for (std::size_t idx = 0; idx < simple.vector.size(); ++idx) {
            const auto want = static_cast<float>(parsed["vector"][idx].get<double>());
            EXPECT_EQ(std::memcmp(&simple.vector[idx], &want, sizeof want), 0) << text;
        }
        if (simple.k.has_value()) {
            EXPECT_EQ(parsed["k"].get<std::uint64_t>(), *simple.k) << text;
        }
        if (simple.ef.has_value()) {
            EXPECT_EQ(parsed["ef"].get<std::uint64_t>(), *simple.ef) << text;
        }
    }
    EXPECT_GT(decoded, 100);  // the edits left many usual searches to compare
}

}  // namespace
}  // namespace phenix::server
