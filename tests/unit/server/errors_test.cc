// SPDX-License-Identifier: Apache-2.0
#include "server/errors.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace phenix::server {
namespace {

using Json = nlohmann::json;

TEST(ServerErrorsTest, EveryCodeHasAnHttpStatusAndName) {
    const std::pair<StatusCode, unsigned> expected[] = {
        {StatusCode::kInvalidArgument, 400},
        {StatusCode::kNotFound, 404},
        {StatusCode::kAlreadyExists, 409},
        {StatusCode::kAborted, 409},
        {StatusCode::kFailedPrecondition, 400},
        {StatusCode::kResourceExhausted, 429},
        {StatusCode::kDeadlineExceeded, 504},
        {StatusCode::kCancelled, 499},
        {StatusCode::kUnavailable, 503},
        {StatusCode::kPermissionDenied, 403},
        {StatusCode::kUnauthenticated, 401},
        {StatusCode::kCorruption, 500},
        {StatusCode::kIOError, 500},
        {StatusCode::kUnimplemented, 501},
        {StatusCode::kInternal, 500},
    };
    for (const auto& [code, http] : expected) {
        EXPECT_EQ(HttpStatusFor(code), http) << StatusCodeName(code);
        EXPECT_NE(ErrorCodeName(code), "UNKNOWN");
    }
    EXPECT_EQ(ErrorCodeName(StatusCode::kInvalidArgument), "INVALID_ARGUMENT");
    EXPECT_EQ(ErrorCodeName(StatusCode::kDeadlineExceeded), "DEADLINE_EXCEEDED");
}

TEST(ServerErrorsTest, BodyShape) {
    const Json body = Json::parse(ErrorJson(Status::NotFound("collection 'x' does not exist")));
    EXPECT_EQ(body["error"]["code"], "NOT_FOUND");
    EXPECT_EQ(body["error"]["message"], "collection 'x' does not exist");
    EXPECT_FALSE(body["error"].contains("details"));
}

TEST(ServerErrorsTest, QueryErrorsKeepLineAndColumn) {
    const Json body = Json::parse(ErrorJson(
        Status::InvalidArgument("line 2, column 15: unknown column 'nmae' (did you mean 'name'?)"),
        "\"statement\":1"));
    EXPECT_EQ(body["error"]["code"], "INVALID_ARGUMENT");
    EXPECT_EQ(body["error"]["details"]["line"], 2);
    EXPECT_EQ(body["error"]["details"]["column"], 15);
    EXPECT_EQ(body["error"]["details"]["statement"], 1);
}

TEST(ServerErrorsTest, ConflictsSayRetryable) {
    const Json body = Json::parse(ErrorJson(Status::Aborted("write conflict on 'd1'")));
    EXPECT_EQ(body["error"]["code"], "ABORTED");
    EXPECT_EQ(body["error"]["details"]["retryable"], true);
    EXPECT_EQ(ErrorResponse(Status::Aborted("x")).status, 409u);
}

TEST(ServerErrorsTest, MessagesAreValidJsonWhateverTheirBytes) {
    const std::string message = std::string("quote \" backslash \\ newline \n tab \t nul ") +
                                std::string(1, '\0') + " bad utf8 \xff\xfe end \xc3\xa9";
    const Json body = Json::parse(ErrorJson(Status::InvalidArgument(message)));
    const std::string decoded = body["error"]["message"];
    EXPECT_NE(decoded.find("quote \" backslash \\ newline \n"), std::string::npos);
    EXPECT_NE(decoded.find("\xef\xbf\xbd"), std::string::npos);  // U+FFFD for the bad bytes
    EXPECT_NE(decoded.find("end \xc3\xa9"), std::string::npos);
}

TEST(ServerErrorsTest, ExplicitHttpStatusWins) {
    HttpResponse response = ErrorResponse(Status::InvalidArgument("bad entity"), 422);
    EXPECT_EQ(response.status, 422u);
    EXPECT_EQ(Json::parse(response.body)["error"]["code"], "INVALID_ARGUMENT");
}

}  // namespace
}  // namespace phenix::server
