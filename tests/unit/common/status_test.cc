// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <phenix/result.h>
#include <phenix/status.h>

namespace phenix {
namespace {

TEST(Status, DefaultIsOk) {
    Status s;
    EXPECT_TRUE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kOk);
    EXPECT_EQ(s.ToString(), "OK");
}

TEST(Status, CarriesCodeAndMessage) {
    Status s = Status::NotFound("collection 'docs' does not exist");
    EXPECT_FALSE(s.ok());
    EXPECT_TRUE(s.IsNotFound());
    EXPECT_EQ(s.ToString(), "NotFound: collection 'docs' does not exist");
}

TEST(Status, WithContextPrefixesMessageAndKeepsCode) {
    Status s = Status::InvalidArgument("bad").WithContext("op 3");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), "op 3: bad");
    EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

TEST(Status, EveryCodeHasAName) {
    for (int code = 0; code <= static_cast<int>(StatusCode::kInternal); ++code) {
        EXPECT_NE(StatusCodeName(static_cast<StatusCode>(code)), "Unknown") << code;
    }
}

TEST(Result, DefaultConstructedIsNotOk) {
    Result<int> r;
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(Result, HoldsValueOrError) {
    Result<std::string> good = std::string("x");
    ASSERT_TRUE(good.ok());
    EXPECT_EQ(*good, "x");
    Result<std::string> bad = Status::Aborted("conflict");
    EXPECT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), StatusCode::kAborted);
    EXPECT_EQ(bad.value_or("fallback"), "fallback");
}

TEST(Result, OkStatusWithoutValueBecomesInternalError) {
    Result<int> r = Status::Ok();
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

Result<int> Half(int x) {
    if (x % 2 != 0) {
        return Status::InvalidArgument("odd");
    }
    return x / 2;
}

Result<int> Quarter(int x) {
    PHENIX_ASSIGN_OR_RETURN(int half, Half(x));
    PHENIX_ASSIGN_OR_RETURN(int quarter, Half(half));
    return quarter;
}

TEST(Result, AssignOrReturnPropagatesTheFirstError) {
    EXPECT_EQ(*Quarter(8), 2);
    EXPECT_EQ(Quarter(6).status().message(), "odd");
}

TEST(ResultDeathTest, ValueOfFailedResultAborts) {
    Result<int> r = Status::NotFound("nope");
    EXPECT_DEATH({ [[maybe_unused]] int v = r.value(); },
                 "value\\(\\) of a failed Result: NotFound: nope");
}

}  // namespace
}  // namespace phenix
