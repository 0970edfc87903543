// SPDX-License-Identifier: Apache-2.0
#include "common/json_string.h"

#include <gtest/gtest.h>

namespace phenix {
namespace {

TEST(JsonString, EscapesWhatWouldEndTheStringOrTheLine) {
    EXPECT_EQ(JsonQuote(""), "\"\"");
    EXPECT_EQ(JsonQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(JsonQuote("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
    EXPECT_EQ(JsonQuote(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\\u007f\"");
    EXPECT_EQ(JsonQuote(std::string("a\0b", 3)), "\"a\\u0000b\"");
}

// The audit log's canonical form (audit/verify.cc re-encodes records with it): these bytes must
// never change.
TEST(JsonString, KeepsValidUtf8AndReplacesEachInvalidByte) {
    EXPECT_EQ(JsonQuote("h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
              "\"h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
    // A lone continuation byte, an overlong form, a surrogate, a truncated sequence.
    EXPECT_EQ(JsonQuote("a\x80"
                        "b"),
              "\"a\xEF\xBF\xBD"
              "b\"");
    EXPECT_EQ(JsonQuote("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
    EXPECT_EQ(JsonQuote("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
    EXPECT_EQ(JsonQuote("\xE2\x82"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
    EXPECT_EQ(JsonQuote("\xF4\x90\x80\x80"),
              "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // > U+10FFFF
    std::string out = "x";
    AppendJsonString(out, "y");
    EXPECT_EQ(out, "x\"y\"");
    EXPECT_EQ(Utf8SequenceLength(""), 0u);
    EXPECT_EQ(Utf8SequenceLength("\xE2\x82\xAC!"), 3u);
}

}  // namespace
}  // namespace phenix
