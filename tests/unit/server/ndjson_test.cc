// SPDX-License-Identifier: Apache-2.0
#include "server/ndjson.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace phenix::server {
namespace {

// Collects what a handler writes; fails writes after `fail_after` of them.
class FakeWriter final : public ChunkWriter {
  public:
    Status Write(std::string_view bytes) override {
        if (writes_ == fail_after) {
            return Status(StatusCode::kCancelled, "the client went away");
        }
        ++writes_;
        body += bytes;
        return Status::Ok();
    }
    void Finish(std::string_view bytes) override { body += bytes; }
    void Reject(HttpResponse) override {}
    [[nodiscard]] bool started() const override { return writes_ > 0; }

    std::string body;
    int fail_after = -1;

  private:
    int writes_ = 0;
};

TEST(Ndjson, RendersTheWireLines) {
    EXPECT_EQ(NdjsonColumnsLine(0, {"id", "d"}), "{\"statement\":0,\"columns\":[\"id\",\"d\"]}\n");
    std::string row;
    AppendNdjsonRow(row, {QueryValue::String("a"), QueryValue::Float(0.5), QueryValue::Null(),
                          QueryValue::Json("{\"k\":[1,2]}")});
    EXPECT_EQ(row, "[\"a\",0.5,null,{\"k\":[1,2]}]\n");
    EXPECT_EQ(NdjsonRowsEndLine(0, 2), "{\"statement\":0,\"rows\":2}\n");
    QueryResult begin;
    begin.message = "BEGIN";
    EXPECT_EQ(NdjsonMessageLine(1, begin),
              "{\"statement\":1,\"message\":\"BEGIN\",\"affected\":0}\n");
    EXPECT_EQ(NdjsonDoneLine(2), "{\"done\":{\"statements\":2}}\n");
    EXPECT_EQ(NdjsonProgressLine(1, "COPY \"d\": 10 lines"),
              "{\"statement\":1,\"progress\":\"COPY \\\"d\\\": 10 lines\"}\n");
}

TEST(Ndjson, ErrorLineCarriesTheCodeStatementAndPosition) {
    EXPECT_EQ(NdjsonErrorLine(Status::InvalidArgument("line 2, column 7: unknown column \"x\""), 1),
              "{\"error\":{\"code\":\"INVALID_ARGUMENT\",\"message\":\"line 2, column 7: unknown "
              "column \\\"x\\\"\",\"statement\":1,\"line\":2,\"column\":7}}\n");
    EXPECT_EQ(
        NdjsonErrorLine(Status(StatusCode::kDeadlineExceeded, "late"), 0),
        "{\"error\":{\"code\":\"DEADLINE_EXCEEDED\",\"message\":\"late\",\"statement\":0}}\n");
}

TEST(Ndjson, AcceptHeader) {
    EXPECT_TRUE(AcceptsNdjson("application/x-ndjson"));
    EXPECT_TRUE(AcceptsNdjson("application/json, Application/X-NDJSON; q=0.9"));
    EXPECT_FALSE(AcceptsNdjson("application/json"));
    EXPECT_FALSE(AcceptsNdjson(""));
    EXPECT_FALSE(AcceptsNdjson("*/*"));
}

TEST(NdjsonRowSink, WritesTheHeaderAndEachBatchAsItComes) {
    FakeWriter writer;
    NdjsonRowSink sink(writer, 3);
    ASSERT_TRUE(sink.OnColumns({"id"}).ok());
    EXPECT_EQ(writer.body, "{\"statement\":3,\"columns\":[\"id\"]}\n");
    ASSERT_TRUE(sink.OnRows({{QueryValue::String("a")}, {QueryValue::String("b")}}).ok());
    EXPECT_EQ(writer.body, "{\"statement\":3,\"columns\":[\"id\"]}\n[\"a\"]\n[\"b\"]\n");
    ASSERT_TRUE(sink.OnRows({{QueryValue::Int(7)}}).ok());
    EXPECT_TRUE(sink.has_columns());
    EXPECT_EQ(sink.num_rows(), 3u);
    EXPECT_EQ(writer.body.substr(writer.body.size() - 4), "[7]\n");
}

TEST(NdjsonRowSink, AFailedWriteStopsTheStatement) {
    FakeWriter writer;
    writer.fail_after = 1;
    NdjsonRowSink sink(writer, 0);
    ASSERT_TRUE(sink.OnColumns({"id"}).ok());
    EXPECT_EQ(sink.OnRows({{QueryValue::Int(1)}}).code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace phenix::server
