// SPDX-License-Identifier: Apache-2.0
#include "server/json_scan.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace phenix::server {
namespace {

std::optional<ScannedObject> Scan(std::string_view text) {
    return ScanObjectKeys(text, {"collection", "explain"});
}

TEST(JsonScanTest, FindsTopLevelKeysOnly) {
    auto plain = Scan(R"({"vector": [0.5, -1e-3, 2E+2, 0], "k": 10, "ef": 64})");
    ASSERT_TRUE(plain.has_value());
    EXPECT_FALSE(plain->has_key);
    EXPECT_FALSE(plain->empty);

    auto named = Scan(R"( {"k": 1, "collection": "docs"} )");
    ASSERT_TRUE(named.has_value());
    EXPECT_TRUE(named->has_key);

    auto explain = Scan(R"({"explain": false})");
    ASSERT_TRUE(explain.has_value());
    EXPECT_TRUE(explain->has_key);

    // Nested keys and string values that spell a key do not count.
    auto nested = Scan(R"({"filter": {"collection": {"$eq": "explain"}}, "k": "collection"})");
    ASSERT_TRUE(nested.has_value());
    EXPECT_FALSE(nested->has_key);

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
        EXPECT_EQ(scanned->has_key, parsed.contains("collection") || parsed.contains("explain"))
            << text;
        EXPECT_EQ(scanned->empty, parsed.empty()) << text;
    }
}

}  // namespace
}  // namespace phenix::server
