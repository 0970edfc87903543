// SPDX-License-Identifier: Apache-2.0
#include "server/grpc_service.h"

#include <gtest/gtest.h>

#include "server/errors.h"

namespace phenix::server {
namespace {

namespace pb = phenix::v1;

TEST(GrpcServiceTest, EveryStatusCodeMapsToTheGrpcCodeRestNames) {
    // One table for both transports: the gRPC code is the one errors.cc spells for REST.
    const std::pair<StatusCode, grpc::StatusCode> expected[] = {
        {StatusCode::kOk, grpc::StatusCode::OK},
        {StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
        {StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
        {StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
        {StatusCode::kAborted, grpc::StatusCode::ABORTED},
        {StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
        {StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
        {StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
        {StatusCode::kCancelled, grpc::StatusCode::CANCELLED},
        {StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
        {StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED},
        {StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
        {StatusCode::kCorruption, grpc::StatusCode::DATA_LOSS},
        {StatusCode::kIOError, grpc::StatusCode::INTERNAL},
        {StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
        {StatusCode::kInternal, grpc::StatusCode::INTERNAL},
    };
    for (const auto& [code, grpc_code] : expected) {
        EXPECT_EQ(GrpcCodeFor(code), grpc_code) << ErrorCodeName(code);
    }
    // Every code of the enum is in the table above (kInternal is the last one).
    EXPECT_EQ(static_cast<int>(StatusCode::kInternal) + 1, static_cast<int>(std::size(expected)));
    const grpc::Status status = ToGrpcStatus(Status::Aborted("write conflict on 'k'"));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
    EXPECT_EQ(status.error_message(), "write conflict on 'k'");
    EXPECT_TRUE(ToGrpcStatus(Status::Ok()).ok());
}

TEST(GrpcServiceTest, ValuesRoundTripExactly) {
    const QueryValue values[] = {
        QueryValue::Null(),
        QueryValue::Bool(true),
        QueryValue::Int(std::int64_t{1} << 62),  // beyond a double's exact integers
        QueryValue::Int(-3),
        QueryValue::Float(0.25),
        QueryValue::String("héllo"),
        QueryValue::Vector({0.5f, -1.0f, 3.0f}),
        QueryValue::Json(R"({"a":[1,2]})"),
    };
    for (const QueryValue& value : values) {
        pb::Value wire;
        ToProto(value, wire);
        auto back = FromProto(wire);
        ASSERT_TRUE(back.ok()) << back.status().ToString();
        EXPECT_EQ(back->type, value.type) << value.ToJson();
        EXPECT_EQ(back->ToJson(), value.ToJson());
    }
}

TEST(GrpcServiceTest, MalformedValuesAreInvalidArgument) {
    pb::Value unset;
    EXPECT_EQ(FromProto(unset).status().code(), StatusCode::kInvalidArgument);
    pb::Value scalar_json;
    scalar_json.set_json_value("3");
    EXPECT_EQ(FromProto(scalar_json).status().code(), StatusCode::kInvalidArgument);
    pb::Value bad_json;
    bad_json.set_json_value("{\"a\":");
    EXPECT_EQ(FromProto(bad_json).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace phenix::server
