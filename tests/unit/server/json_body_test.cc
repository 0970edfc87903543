// SPDX-License-Identifier: Apache-2.0
#include "server/json_body.h"

#include <gtest/gtest.h>

namespace phenix::server::json_body {
namespace {

HttpRequest Request(std::string body, std::string content_type = "application/json") {
    HttpRequest request;
    request.body = std::move(body);
    request.content_type = std::move(content_type);
    return request;
}

std::string MessageOf(const std::optional<HttpResponse>& error) {
    return error.has_value() ? ErrorMessageOf(error->body) : std::string();
}

// The REST and administration handlers read bodies one way: these are the answers both give.
TEST(JsonBodyTest, ParseObjectAnswersEachMistakeOneWay) {
    Json out;
    EXPECT_FALSE(ParseObject(Request(R"({"name": "t"})"), out, {"name"}).has_value());
    EXPECT_EQ(out["name"], "t");
    EXPECT_FALSE(ParseObject(Request("{}", "application/merge-patch+json"), out, {"name"}));
    EXPECT_FALSE(ParseObject(Request("", ""), out, {"name"}, /*allow_empty=*/true).has_value());
    EXPECT_EQ(out, Json::object());

    auto media = ParseObject(Request("{}", "text/plain"), out, {"name"});
    ASSERT_TRUE(media.has_value());
    EXPECT_EQ(media->status, 415u);
    EXPECT_EQ(MessageOf(media), "Content-Type must be application/json, not 'text/plain'");

    auto empty = ParseObject(Request(""), out, {"name"});
    ASSERT_TRUE(empty.has_value());
    EXPECT_EQ(empty->status, 400u);
    EXPECT_EQ(MessageOf(empty).rfind("the body is not valid JSON: ", 0), 0u) << MessageOf(empty);

    auto array = ParseObject(Request("[1]"), out, {"name"});
    ASSERT_TRUE(array.has_value());
    EXPECT_EQ(MessageOf(array), "the body must be a JSON object");

    auto unknown = ParseObject(Request(R"({"name": "t", "nmae": 1})"), out, {"name", "roles"});
    ASSERT_TRUE(unknown.has_value());
    EXPECT_EQ(unknown->status, 400u);
    EXPECT_EQ(MessageOf(unknown), "unknown field 'nmae' (expected: name, roles)");
}

}  // namespace
}  // namespace phenix::server::json_body
