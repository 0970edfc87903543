// SPDX-License-Identifier: Apache-2.0
#include "client/query_stream.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/http_client.h"

namespace phenix::client {
namespace {

// Records what a decoder hands over.
class RecordingSink final : public RowSink {
  public:
    Status OnColumns(const std::vector<std::string>& columns) override {
        columns_.push_back(columns);
        return Status::Ok();
    }
    Status OnRows(std::vector<std::vector<QueryValue>> rows) override {
        ++num_batches_;
        for (auto& row : rows) {
            rows_.push_back(std::move(row));
        }
        return fail_rows_ ? Status(StatusCode::kCancelled, "stop") : Status::Ok();
    }
    std::vector<std::vector<std::string>> columns_;
    std::vector<std::vector<QueryValue>> rows_;
    int num_batches_ = 0;
    bool fail_rows_ = false;
};

constexpr std::string_view kSelectStream =
    "{\"statement\":0,\"columns\":[\"id\",\"d\"]}\n"
    "[\"a\",0.5]\n"
    "[\"b\",1]\n"
    "{\"statement\":0,\"rows\":2}\n"
    "{\"done\":{\"statements\":1}}\n";

TEST(NdjsonDecoder, DecodesRowsOfOneStatement) {
    RecordingSink sink;
    NdjsonDecoder decoder(sink);
    ASSERT_TRUE(decoder.Feed(kSelectStream).ok());
    auto result = decoder.Finish();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_TRUE(result->has_rows);
    EXPECT_EQ(result->columns, (std::vector<std::string>{"id", "d"}));
    ASSERT_EQ(sink.columns_.size(), 1u);
    ASSERT_EQ(sink.rows_.size(), 2u);
    EXPECT_EQ(sink.rows_[0][0], QueryValue::String("a"));
    EXPECT_EQ(sink.rows_[0][1], QueryValue::Float(0.5));
    EXPECT_EQ(sink.rows_[1][1], QueryValue::Int(1));
    EXPECT_EQ(decoder.num_rows(), 2u);
}

TEST(NdjsonDecoder, AcceptsLinesSplitAcrossReadsAnywhere) {
    const std::string stream(kSelectStream);
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        RecordingSink sink;
        NdjsonDecoder decoder(sink);
        ASSERT_TRUE(decoder.Feed(std::string_view(stream).substr(0, cut)).ok()) << cut;
        ASSERT_TRUE(decoder.Feed(std::string_view(stream).substr(cut)).ok()) << cut;
        auto result = decoder.Finish();
        ASSERT_TRUE(result.ok()) << cut << ": " << result.status().ToString();
        ASSERT_EQ(sink.rows_.size(), 2u) << cut;
        EXPECT_EQ(sink.rows_[1][0], QueryValue::String("b")) << cut;
    }
}

TEST(NdjsonDecoder, HandsRowsOverPerFeedAsOneBatch) {
    RecordingSink sink;
    NdjsonDecoder decoder(sink);
    ASSERT_TRUE(decoder.Feed("{\"statement\":0,\"columns\":[\"n\"]}\n[1]\n[2]\n").ok());
    EXPECT_EQ(sink.num_batches_, 1);
    EXPECT_EQ(sink.rows_.size(), 2u);  // printed before the statement ends
    ASSERT_TRUE(decoder.Feed("[3]\n{\"statement\":0,\"rows\":3}\n{\"done\":{}}\n").ok());
    EXPECT_EQ(sink.num_batches_, 2);
    EXPECT_TRUE(decoder.Finish().ok());
}

TEST(NdjsonDecoder, MessageOfAStatementWithoutRows) {
    RecordingSink sink;
    NdjsonDecoder decoder(sink);
    ASSERT_TRUE(decoder
                    .Feed("{\"statement\":0,\"message\":\"INSERT 2\",\"affected\":2}\r\n"
                          "{\"done\":{\"statements\":1}}")  // no final newline
                    .ok());
    auto result = decoder.Finish();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_FALSE(result->has_rows);
    EXPECT_EQ(result->message, "INSERT 2");
    EXPECT_EQ(result->affected, 2u);
    EXPECT_TRUE(sink.columns_.empty());
}

TEST(NdjsonDecoder, ProgressLinesGoToTheProgressFunctionInOrder) {
    RecordingSink sink;
    NdjsonDecoder decoder(sink);
    std::vector<std::string> events;
    decoder.set_progress([&](std::string_view line) {
        events.push_back("progress " + std::string(line) + " after " +
                         std::to_string(sink.rows_.size()) + " rows");
    });
    ASSERT_TRUE(decoder
                    .Feed("{\"statement\":0,\"progress\":\"COPY d: 5 lines\"}\n"
                          "{\"statement\":0,\"message\":\"COPY 5\",\"affected\":5}\n"
                          "{\"statement\":1,\"columns\":[\"n\"]}\n[1]\n"
                          "{\"statement\":1,\"progress\":\"later\"}\n[2]\n"
                          "{\"statement\":1,\"rows\":2}\n{\"done\":{\"statements\":2}}\n")
                    .ok());
    auto result = decoder.Finish();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(events, (std::vector<std::string>{"progress COPY d: 5 lines after 0 rows",
                                                "progress later after 1 rows"}));
    EXPECT_EQ(sink.rows_.size(), 2u);

    // Without a progress function they are skipped; one without text is not the wire format.
    RecordingSink quiet;
    NdjsonDecoder skipping(quiet);
    ASSERT_TRUE(skipping
                    .Feed("{\"statement\":0,\"progress\":\"x\"}\n"
                          "{\"statement\":0,\"message\":\"COPY 0\",\"affected\":0}\n"
                          "{\"done\":{\"statements\":1}}\n")
                    .ok());
    ASSERT_TRUE(skipping.Finish().ok());
    NdjsonDecoder strict(quiet);
    EXPECT_EQ(strict.Feed("{\"statement\":0,\"progress\":7}\n").code(), StatusCode::kInternal);
}

TEST(NdjsonDecoder, ErrorLineBecomesTheEngineErrorAfterTheRowsBeforeIt) {
    RecordingSink sink;
    NdjsonDecoder decoder(sink);
    Status status = decoder.Feed(
        "{\"statement\":0,\"columns\":[\"n\"]}\n[1]\n"
        "{\"error\":{\"code\":\"INVALID_ARGUMENT\",\"message\":\"line 1, column 8: division by "
        "zero\",\"statement\":0,\"line\":1,\"column\":8}}\n");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), "line 1, column 8: division by zero");
    ASSERT_EQ(sink.rows_.size(), 1u);  // the row before the error was handed over
    EXPECT_EQ(decoder.Finish().status().code(), StatusCode::kInvalidArgument);
}

TEST(NdjsonDecoder, StreamWithoutDoneIsReportedAsCutOff) {
    RecordingSink sink;
    NdjsonDecoder decoder(sink);
    ASSERT_TRUE(decoder.Feed("{\"statement\":0,\"columns\":[\"n\"]}\n[1]\n").ok());
    auto result = decoder.Finish();
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(result.status().message().find("cut off"), std::string::npos);
}

TEST(NdjsonDecoder, RefusesWhatIsNotTheWireFormat) {
    for (std::string_view bad : {
             "not json\n",
             "[1]\n",                                                   // a row before columns
             "{\"statement\":0,\"columns\":[\"a\",\"b\"]}\n[1]\n",      // too few values
             "{\"statement\":0,\"columns\":[\"a\"]}\n{\"done\":{}}\n",  // done inside rows
             "{\"statement\":0,\"rows\":1}\n",                          // an end that began nowhere
             "{\"what\":1}\n",                                          // unknown line
             "{\"done\":{}}\n{\"statement\":1,\"message\":\"X\"}\n",    // after done
         }) {
        RecordingSink sink;
        NdjsonDecoder decoder(sink);
        Status status = decoder.Feed(bad);
        EXPECT_EQ(status.code(), StatusCode::kInternal) << bad;
        EXPECT_FALSE(decoder.Finish().ok()) << bad;
    }
}

TEST(NdjsonDecoder, SinkErrorStopsTheDecoder) {
    RecordingSink sink;
    sink.fail_rows_ = true;
    NdjsonDecoder decoder(sink);
    EXPECT_EQ(decoder.Feed(kSelectStream).code(), StatusCode::kCancelled);
    EXPECT_EQ(decoder.Feed("[\"c\",2]\n").code(), StatusCode::kCancelled);
}

TEST(ValueFromJson, MapsTypesAndKeepsKeyOrder) {
    EXPECT_EQ(*ValueFromJson("null"), QueryValue::Null());
    EXPECT_EQ(*ValueFromJson("true"), QueryValue::Bool(true));
    EXPECT_EQ(*ValueFromJson("-3"), QueryValue::Int(-3));
    EXPECT_EQ(*ValueFromJson("2.0"), QueryValue::Float(2.0));
    EXPECT_EQ(*ValueFromJson("\"x\""), QueryValue::String("x"));
    EXPECT_EQ(*ValueFromJson("[0.5,2]"), QueryValue::Vector({0.5F, 2.0F}));
    EXPECT_EQ(*ValueFromJson("[]"), QueryValue::Json("[]"));
    EXPECT_EQ(*ValueFromJson("[1,\"a\"]"), QueryValue::Json("[1,\"a\"]"));
    // The server's key order, not sorted: the embedded shell prints the stored order.
    EXPECT_EQ(*ValueFromJson("{\"z\":1,\"a\":{\"y\":2,\"b\":3}}"),
              QueryValue::Json("{\"z\":1,\"a\":{\"y\":2,\"b\":3}}"));
    EXPECT_FALSE(ValueFromJson("{").ok());
}

TEST(DecodeJsonAnswer, OneResultWithRows) {
    RecordingSink sink;
    auto result = DecodeJsonAnswer(R"({"columns":["id"],"rows":[["a"],["b"]]})", sink);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_TRUE(result->has_rows);
    ASSERT_EQ(sink.columns_.size(), 1u);
    EXPECT_EQ(sink.rows_.size(), 2u);
}

TEST(DecodeJsonAnswer, MessageAndSeveralResults) {
    RecordingSink sink;
    auto one =
        DecodeJsonAnswer(R"({"columns":[],"rows":[],"message":"INSERT 1","affected":1})", sink);
    ASSERT_TRUE(one.ok());
    EXPECT_FALSE(one->has_rows);
    EXPECT_EQ(one->message, "INSERT 1");
    EXPECT_EQ(one->affected, 1u);
    EXPECT_TRUE(sink.columns_.empty());

    auto many = DecodeJsonAnswer(
        R"({"results":[{"columns":["n"],"rows":[[1]]},{"columns":[],"rows":[],"message":"DELETE 0","affected":0}]})",
        sink);
    ASSERT_TRUE(many.ok()) << many.status().ToString();
    EXPECT_EQ(many->message, "DELETE 0");
    EXPECT_EQ(sink.rows_.size(), 1u);
}

TEST(DecodeJsonAnswer, RefusesOtherBodies) {
    RecordingSink sink;
    EXPECT_EQ(DecodeJsonAnswer("<html>", sink).status().code(), StatusCode::kInternal);
    EXPECT_EQ(DecodeJsonAnswer(R"({"columns":["a"],"rows":[[1,2]]})", sink).status().code(),
              StatusCode::kInternal);
    EXPECT_EQ(DecodeJsonAnswer(R"({"results":[]})", sink).status().code(), StatusCode::kInternal);
}

TEST(StatusFromErrorBody, KeepsCodeAndPositionedMessage) {
    Status status = StatusFromErrorBody(
        R"({"error":{"code":"INVALID_ARGUMENT","message":"line 2, column 5: expected FROM","details":{"line":2,"column":5}}})",
        400);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(status.ToString(), "InvalidArgument: line 2, column 5: expected FROM");
    EXPECT_EQ(
        StatusFromErrorBody(R"({"error":{"code":"ABORTED","message":"conflict"}})", 409).code(),
        StatusCode::kAborted);
    EXPECT_EQ(StatusFromErrorBody(R"({"error":{"code":"DATA_LOSS","message":"x"}})", 500).code(),
              StatusCode::kCorruption);
}

TEST(StatusFromErrorBody, NotOurBodyFallsBackToTheHttpStatus) {
    EXPECT_EQ(StatusFromErrorBody("<html>nope</html>", 404).code(), StatusCode::kNotFound);
    EXPECT_EQ(StatusFromErrorBody("", 503).code(), StatusCode::kUnavailable);
    EXPECT_EQ(StatusFromErrorBody("", 502).code(), StatusCode::kInternal);
    EXPECT_EQ(StatusFromErrorBody(R"({"error":"text"})", 400).code(), StatusCode::kInternal);
    // A proxy's 401/403 still reads as an authentication / permission failure.
    EXPECT_EQ(StatusFromErrorBody("Unauthorized", 401).code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(StatusFromErrorBody("Forbidden", 403).code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(
        StatusFromErrorBody(R"({"error":{"code":"UNAUTHENTICATED","message":"x"}})", 401).code(),
        StatusCode::kUnauthenticated);
}

TEST(CodeFromName, UnknownNamesAreInternal) {
    EXPECT_EQ(CodeFromName("NOT_FOUND"), StatusCode::kNotFound);
    EXPECT_EQ(CodeFromName("BOGUS"), StatusCode::kInternal);
}

TEST(ParseServerUrl, HostPortAndPrefix) {
    auto url = ParseServerUrl("http://127.0.0.1:8080");
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    EXPECT_EQ(url->host, "127.0.0.1");
    EXPECT_EQ(url->port, "8080");
    EXPECT_EQ(url->prefix, "");
    url = ParseServerUrl("http://db.example/phenix/");
    ASSERT_TRUE(url.ok());
    EXPECT_EQ(url->port, "80");
    EXPECT_EQ(url->prefix, "/phenix");
    url = ParseServerUrl("http://[::1]:9000");
    ASSERT_TRUE(url.ok());
    EXPECT_EQ(url->host, "::1");
    EXPECT_EQ(url->port, "9000");
}

TEST(ParseServerUrl, HttpsIsTlsOnPort443ByDefault) {
    auto url = ParseServerUrl("https://db.example");
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    EXPECT_TRUE(url->is_tls);
    EXPECT_EQ(url->host, "db.example");
    EXPECT_EQ(url->port, "443");
    url = ParseServerUrl("https://127.0.0.1:8443/p");
    ASSERT_TRUE(url.ok());
    EXPECT_TRUE(url->is_tls);
    EXPECT_EQ(url->port, "8443");
    EXPECT_EQ(url->prefix, "/p");
    url = ParseServerUrl("http://127.0.0.1:8080");
    ASSERT_TRUE(url.ok());
    EXPECT_FALSE(url->is_tls);
    EXPECT_EQ(ParseServerUrl("https://").status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseServerUrl, RefusesWhatItCannotUse) {
    for (std::string_view bad : {"127.0.0.1:8080", "ftp://x:1", "http://", "http://:80",
                                 "http://h:port", "http://[::1", "http://h:123456"}) {
        EXPECT_EQ(ParseServerUrl(bad).status().code(), StatusCode::kInvalidArgument) << bad;
    }
}

}  // namespace
}  // namespace phenix::client
