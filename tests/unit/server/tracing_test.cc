// SPDX-License-Identifier: Apache-2.0
#include "server/tracing.h"

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/config.h"
#include "testing/temp_dir.h"

namespace phenix::server {
namespace {

std::optional<std::string> NoEnv(const std::string&) {
    return std::nullopt;
}

TEST(TracingConfigTest, OptionsParseAndRoundTripThroughToml) {
    auto loaded = LoadConfig({"--otlp-endpoint", "http://127.0.0.1:4318/v1/traces",
                              "--trace-sample-ratio", "0.25", "--trace-slow-threshold-ms", "0"},
                             NoEnv);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->config.otlp_endpoint, "http://127.0.0.1:4318/v1/traces");
    EXPECT_DOUBLE_EQ(loaded->config.trace_sample_ratio, 0.25);
    EXPECT_EQ(loaded->config.trace_slow_threshold_ms, 0U);
    // Off by default.
    auto defaults = LoadConfig({}, NoEnv);
    ASSERT_TRUE(defaults.ok());
    EXPECT_EQ(defaults->config.otlp_endpoint, "");
    // The TOML the server prints reads back (a float ratio included).
    testing::TempDir dir;
    const std::string path = dir.path() + "/phenixd.toml";
    std::ofstream(path) << ConfigToToml(loaded->config);
    auto reread = LoadConfig({"--config", path}, NoEnv);
    ASSERT_TRUE(reread.ok()) << reread.status().ToString();
    EXPECT_DOUBLE_EQ(reread->config.trace_sample_ratio, 0.25);
    EXPECT_EQ(reread->config.otlp_endpoint, loaded->config.otlp_endpoint);

    for (const char* bad : {"1.5", "-0.1", "x", ""}) {
        EXPECT_FALSE(LoadConfig({"--trace-sample-ratio", bad}, NoEnv).ok()) << bad;
    }
    for (const char* bad : {"https://collector:4318/v1/traces", "127.0.0.1:4318", "http://"}) {
        EXPECT_FALSE(LoadConfig({"--otlp-endpoint", bad}, NoEnv).ok()) << bad;
    }
}

TEST(TracingConfigTest, HttpUrls) {
    auto url = ParseHttpUrl("http://collector:4318/v1/traces");
    ASSERT_TRUE(url.ok());
    EXPECT_EQ(url->host, "collector");
    EXPECT_EQ(url->port, 4318);
    EXPECT_EQ(url->target, "/v1/traces");
    auto bare = ParseHttpUrl("http://collector");
    ASSERT_TRUE(bare.ok());
    EXPECT_EQ(bare->port, 80);
    EXPECT_EQ(bare->target, "/");
}

trace::TracerOptions KeepAll() {
    trace::TracerOptions options;
    options.sample_ratio = 1;
    options.flush_interval = std::chrono::hours(1);
    return options;
}

TEST(RequestTraceTest, StagesAndPlanBecomeSpansUnderTheRoot) {
    trace::Tracer tracer(KeepAll(), nullptr);
    RequestTrace request(tracer.StartTrace("POST", nullptr));
    request.SetRoute("POST", "/v1/query");
    request.OnStage("parse", 100, 200, true);
    request.OnStage("bind", 200, 300, true);
    request.OnStage("plan", 300, 400, true);
    request.OnStage("execute", 400, 10'000'400, true);
    QueryPlan plan;
    plan.root.label = "TopK 3";
    plan.root.has_run = true;
    plan.root.total_millis = 5;
    plan.root.actual_rows = 3;
    QueryPlanNode search;
    search.label = "VectorFirst docs [in_graph]";
    search.strategy = "graph_vector_first";
    search.has_run = true;
    search.total_millis = 4;
    search.figures = {{"ef", 64}, {"selectivity", 0.5}};
    plan.root.children.push_back(search);
    request.OnPlan(plan, "graph_vector_first");

    const trace::Trace& trace = request.trace();
    ASSERT_EQ(trace.size(), 7U);
    EXPECT_EQ(trace.span(0).name, "POST /v1/query");
    EXPECT_EQ(trace.span(1).name, "parse");
    EXPECT_EQ(trace.span(1).parent, 0U);
    EXPECT_EQ(trace.span(4).name, "execute");
    EXPECT_EQ(trace.span(5).name, "TopK");
    EXPECT_EQ(trace.span(5).parent, 4U);
    EXPECT_EQ(trace.span(5).end_unix_ns, 400 + 5'000'000);
    EXPECT_EQ(trace.span(6).name, "VectorFirst");
    EXPECT_EQ(trace.span(6).parent, 5U);
    const std::string body = trace::OtlpJson({&trace}, "phenixd");
    EXPECT_NE(body.find("{\"key\":\"phenix.ef\",\"value\":{\"intValue\":\"64\"}}"),
              std::string::npos);
    EXPECT_NE(body.find("{\"key\":\"phenix.selectivity\",\"value\":{\"doubleValue\":0.5}}"),
              std::string::npos);
    EXPECT_NE(body.find("\"http.route\",\"value\":{\"stringValue\":\"/v1/query\"}"),
              std::string::npos);
    EXPECT_TRUE(request.Finish(tracer, 200, ""));
}

TEST(RequestTraceTest, AnErrorAnswerIsKeptAtRatioZero) {
    trace::TracerOptions options;
    options.sample_ratio = 0;
    options.flush_interval = std::chrono::hours(1);
    trace::Tracer tracer(options, nullptr);
    RequestTrace ok(tracer.StartTrace("GET", nullptr));
    EXPECT_FALSE(ok.Finish(tracer, 200, ""));
    RequestTrace failed(tracer.StartTrace("GET", nullptr));
    EXPECT_TRUE(failed.Finish(tracer, 404, "NOT_FOUND"));
    EXPECT_EQ(tracer.traces_kept(), 1U);
}

TEST(OtlpExporterTest, AClosedPortFailsFast) {
    // Port 1 on loopback: nothing listens there (connection refused).
    HttpUrl url{.host = "127.0.0.1", .port = 1, .target = "/v1/traces"};
    const auto start = std::chrono::steady_clock::now();
    const Status sent = PostJson(url, "{}", std::chrono::milliseconds(2000));
    EXPECT_EQ(sent.code(), StatusCode::kUnavailable) << sent.ToString();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace phenix::server
