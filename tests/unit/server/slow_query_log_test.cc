// SPDX-License-Identifier: Apache-2.0
//
// The slow-query log (server/slow_query_log.h): its options, the threshold, the record's members
// with and without redaction, a session's statements watched end to end into a file, and the
// file's rotation.
#include "server/slow_query_log.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <phenix/phenixql.h>
#include <phenix/write_batch.h>

#include "server/config.h"
#include "server/log.h"
#include "testing/db_fixture.h"
#include "testing/temp_dir.h"

namespace phenix::server {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;

std::optional<std::string> NoEnv(const std::string&) {
    return std::nullopt;
}

std::vector<std::string> Lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

// The record as its log line would hold it.
Json RecordJson(const SlowQuery& query, bool log_parameters) {
    const std::string line =
        "{\"msg\":\"slow query\"," + SlowQueryFields(query, log_parameters) + "}";
    Json parsed = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(parsed.is_discarded()) << line;
    return parsed;
}

TEST(SlowQueryConfigTest, OptionsParseFromFlagsEnvironmentAndToml) {
    auto loaded = LoadConfig({"--slow-query-threshold-ms", "250", "--slow-query-log",
                              "/var/log/phenix/slow.log", "--slow-query-log-parameters", "true"},
                             NoEnv);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->config.slow_query_threshold_ms, 250);
    EXPECT_EQ(loaded->config.slow_query_log, "/var/log/phenix/slow.log");
    EXPECT_TRUE(loaded->config.slow_query_log_parameters);

    const ServerConfig defaults;
    EXPECT_EQ(defaults.slow_query_threshold_ms, 1000);
    EXPECT_TRUE(defaults.slow_query_log.empty());
    EXPECT_FALSE(defaults.slow_query_log_parameters);

    auto off = LoadConfig({"--slow-query-threshold-ms=-1"}, NoEnv);
    ASSERT_TRUE(off.ok()) << off.status().ToString();
    EXPECT_EQ(off->config.slow_query_threshold_ms, -1);
    auto env = LoadConfig({}, [](const std::string& name) -> std::optional<std::string> {
        if (name == "PHENIX_SLOW_QUERY_THRESHOLD_MS") {
            return "0";
        }
        return std::nullopt;
    });
    ASSERT_TRUE(env.ok()) << env.status().ToString();
    EXPECT_EQ(env->config.slow_query_threshold_ms, 0);

    testing::TempDir dir;
    const std::string toml = dir.Sub("phenixd.toml");
    std::ofstream(toml) << "slow_query_threshold_ms = -1\nslow_query_log = \"x.log\"\n"
                        << "slow_query_log_parameters = true\n";
    auto from_file = LoadConfig({"--config", toml}, NoEnv);
    ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
    EXPECT_EQ(from_file->config.slow_query_threshold_ms, -1);
    EXPECT_EQ(from_file->config.slow_query_log, "x.log");
    EXPECT_TRUE(from_file->config.slow_query_log_parameters);

    for (const char* bad : {"-2", "fast", "1.5"}) {
        auto refused = LoadConfig({std::string("--slow-query-threshold-ms=") + bad}, NoEnv);
        ASSERT_FALSE(refused.ok()) << bad;
        EXPECT_NE(refused.status().message().find("-1 (off)"), std::string::npos)
            << refused.status().ToString();
    }
}

TEST(SlowQueryLogTest, ThresholdDecidesWhatIsSlow) {
    Logger main("error", false);
    auto every = SlowQueryLog::Open({.threshold_ms = 0}, main);
    ASSERT_TRUE(every.ok());
    EXPECT_TRUE((*every)->enabled());
    EXPECT_TRUE((*every)->IsSlow(std::chrono::nanoseconds(0)));

    auto second = SlowQueryLog::Open({.threshold_ms = 1000}, main);
    ASSERT_TRUE(second.ok());
    EXPECT_FALSE((*second)->IsSlow(milliseconds(999)));
    EXPECT_TRUE((*second)->IsSlow(milliseconds(1000)));
    EXPECT_TRUE((*second)->IsSlow(milliseconds(5000)));

    // A path under a regular file cannot be opened (nor its directory made).
    testing::TempDir dir;
    std::ofstream(dir.Sub("file")) << "x";
    const std::string unwritable_path = dir.Sub("file") + "/slow.log";
    auto off = SlowQueryLog::Open({.threshold_ms = -1, .file = unwritable_path}, main);
    ASSERT_TRUE(off.ok());  // off: the file is not opened
    EXPECT_FALSE((*off)->enabled());
    EXPECT_FALSE((*off)->IsSlow(std::chrono::hours(1)));

    auto unwritable = SlowQueryLog::Open({.threshold_ms = 0, .file = unwritable_path}, main);
    ASSERT_FALSE(unwritable.ok());
    EXPECT_EQ(unwritable.status().code(), StatusCode::kIOError);
    EXPECT_NE(unwritable.status().message().find(unwritable_path), std::string::npos);
}

// A plan whose labels and details quote what the statement named (as real ones do: an
// expansion's start id, a filter's JSON).
QueryPlan SamplePlan() {
    QueryPlanNode expand{.label = "Expand docs from 'Quokka-7'",
                         .strategy = "graph_expand",
                         .details = {"filter: {\"metadata.owner\":\"Mallory\"}"},
                         .estimated_rows = 40,
                         .has_run = true,
                         .actual_rows = 12,
                         .total_millis = 7.5,
                         .self_millis = 7.5};
    QueryPlanNode top{.label = "TopK 5",
                      .estimated_rows = 5,
                      .has_run = true,
                      .actual_rows = 5,
                      .total_millis = 8.25,
                      .self_millis = 0.75};
    top.children.push_back(expand);
    return QueryPlan{.root = top, .analyzed = true, .execution_millis = 8.5};
}

TEST(SlowQueryLogTest, RecordIsRedactedByDefault) {
    const QueryPlan plan = SamplePlan();
    const QueryParams params = {{"who", QueryValue::String("Mallory")}};
    const SlowQuery query{
        .request_id = "req-1",
        .route = "/v1/query",
        .client = "127.0.0.1:5000",
        .tenant = "acme",
        .principal = "alice",
        .trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
        .span_id = "00f067aa0ba902b7",
        .statement_index = 1,
        .statement =
            "SELECT b.id FROM MATCH (a:docs)-[e]->(b) WHERE a.id = 'Quokka-7' AND "
            "b.metadata.owner = $who ORDER BY b.vector <-> [0.3125, 0.6875] LIMIT 5",
        .params = &params,
        .duration_ms = 1234.5678,
        .plan_strategy = "graph_expand",
        .plan = &plan};
    const Json record = RecordJson(query, /*log_parameters=*/false);
    EXPECT_EQ(record["msg"], "slow query");
    EXPECT_DOUBLE_EQ(record["duration_ms"].get<double>(), 1234.568);
    EXPECT_EQ(record["request_id"], "req-1");
    EXPECT_EQ(record["route"], "/v1/query");
    EXPECT_EQ(record["client"], "127.0.0.1:5000");
    EXPECT_EQ(record["tenant"], "acme");
    EXPECT_EQ(record["principal"], "alice");
    EXPECT_EQ(record["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(record["span_id"], "00f067aa0ba902b7");
    EXPECT_EQ(record["statement_index"], 1);
    EXPECT_EQ(record["statement"],
              "SELECT b.id FROM MATCH (a:docs)-[e]->(b) WHERE a.id = ? AND b.metadata.owner = "
              "$who ORDER BY b.vector <-> ? LIMIT ?");
    EXPECT_EQ(record["redacted"], true);
    EXPECT_FALSE(record.contains("params"));
    EXPECT_FALSE(record.contains("error"));
    EXPECT_EQ(record["strategy"], "graph_expand");
    // The plan: every operator with its actual rows and times, named without its arguments.
    const Json& root = record["plan"]["root"];
    EXPECT_EQ(root["operator"], "TopK");
    EXPECT_EQ(root["actual_rows"], 5);
    EXPECT_DOUBLE_EQ(root["time_ms"].get<double>(), 8.25);
    const Json& expand = root["children"][0];
    EXPECT_EQ(expand["operator"], "Expand");
    EXPECT_EQ(expand["strategy"], "graph_expand");
    EXPECT_EQ(expand["estimated_rows"], 40);
    EXPECT_EQ(expand["actual_rows"], 12);
    EXPECT_DOUBLE_EQ(expand["self_ms"].get<double>(), 7.5);
    EXPECT_TRUE(expand["details"].empty());
    EXPECT_EQ(record["plan"]["text"][1],
              "└─ Expand  (est. rows=40, actual rows=12, time=7.500 ms, self=7.500 ms)");
    const std::string text = record.dump();
    for (const char* secret : {"Quokka", "Mallory", "0.3125", "0.6875"}) {
        EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << text;
    }
}

TEST(SlowQueryLogTest, RecordWithParametersKeepsTheStatementAndPlan) {
    const QueryPlan plan = SamplePlan();
    const QueryParams params = {{"who", QueryValue::String("Mallory")}, {"1", QueryValue::Int(42)}};
    const std::string statement = "SELECT id FROM docs WHERE metadata.owner = $who LIMIT $1";
    const Json record = RecordJson({.statement = statement,
                                    .params = &params,
                                    .duration_ms = 2,
                                    .plan_strategy = "scan",
                                    .plan = &plan},
                                   /*log_parameters=*/true);
    EXPECT_EQ(record["statement"], statement);
    EXPECT_FALSE(record.contains("redacted"));
    EXPECT_EQ(record["params"], Json::parse(R"({"1":42,"who":"Mallory"})"));
    EXPECT_EQ(record["plan"]["root"]["children"][0]["operator"], "Expand docs from 'Quokka-7'");
    EXPECT_EQ(record["plan"]["root"]["children"][0]["details"][0],
              "filter: {\"metadata.owner\":\"Mallory\"}");
    // No request id (gRPC), no trace: the members are left out.
    EXPECT_FALSE(record.contains("request_id"));
    EXPECT_FALSE(record.contains("trace_id"));
}

TEST(SlowQueryLogTest, FailedAndUnparsableStatements) {
    const Json failed = RecordJson(
        {.statement = "INSERT INTO nowhere (id) VALUES ('Okapi')", .error_code = "NOT_FOUND"},
        false);
    EXPECT_EQ(failed["statement"], "INSERT INTO nowhere (id) VALUES (?)");
    EXPECT_EQ(failed["error"], "NOT_FOUND");
    EXPECT_FALSE(failed.contains("plan"));
    // A statement that does not parse cannot be reprinted without its literals: none of it.
    const Json unparsable = RecordJson(
        {.statement = "SELEC 'Okapi' FROM docs", .error_code = "INVALID_ARGUMENT"}, false);
    EXPECT_TRUE(unparsable["statement"].is_null());
    EXPECT_EQ(unparsable["redacted"], true);
    EXPECT_EQ(unparsable.dump().find("Okapi"), std::string::npos);
}

class SlowQueryWatchTest : public testing::DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        WriteBatch batch;
        for (int i = 0; i < 30; ++i) {
            batch.Upsert("docs",
                         Doc("e" + std::to_string(i), {1.0f + static_cast<float>(i), 1, 1, 1},
                             R"({"owner":"Mallory"})"));
        }
        PHENIX_ASSERT_OK(db_->Write(batch));
    }

    Result<QueryResult> Run(SlowQueryWatch& watch, QuerySession& session, std::size_t index,
                            const std::string& statement, const QueryParams& params = {}) {
        return RunWatched(&watch, session, index, statement, params,
                          [&] { return session.Execute(statement, params); });
    }

    testing::TempDir logs_;
    Logger main_{"error", false};
};

TEST_F(SlowQueryWatchTest, SlowStatementsAreWrittenWithTheirPlan) {
    const std::string path = logs_.Sub("slow.log");
    auto log = SlowQueryLog::Open({.threshold_ms = 0, .file = path}, main_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    SlowQueryWatch watch(**log, {.request_id = "r1", .route = "/v1/query", .principal = "bob"},
                         nullptr);
    QuerySession session(*db_);
    session.set_execution_observer(&watch);
    auto found =
        Run(watch, session, 0,
            "SELECT id FROM docs WHERE metadata.owner = 'Mallory' ORDER BY vector <=> [1, 1, 1, "
            "1] LIMIT 3");
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    EXPECT_FALSE(found->plan.has_value());  // the log's plan is not the result's
    EXPECT_FALSE(Run(watch, session, 1, "SELECT id FROM missing WHERE id = 'Okapi'").ok());
    PHENIX_ASSERT_OK(Run(watch, session, 2, "INSERT INTO docs (id) VALUES ('Okapi')").status());
    session.set_execution_observer(nullptr);

    const std::vector<std::string> lines = Lines(path);
    ASSERT_EQ(lines.size(), 3U);
    std::vector<Json> records;
    for (const std::string& line : lines) {
        records.push_back(Json::parse(line));
        EXPECT_EQ(records.back()["msg"], "slow query");
        EXPECT_EQ(records.back()["level"], "warning");  // spdlog's name for warn
        EXPECT_EQ(records.back()["request_id"], "r1");
        EXPECT_EQ(records.back()["principal"], "bob");
        EXPECT_EQ(records.back()["tenant"], "default");
        EXPECT_TRUE(records.back()["time"].is_string());
        EXPECT_GE(records.back()["duration_ms"].get<double>(), 0.0);
        EXPECT_EQ(line.find("Mallory"), std::string::npos) << line;
        EXPECT_EQ(line.find("Okapi"), std::string::npos) << line;
    }
    EXPECT_EQ(records[0]["statement"],
              "SELECT id FROM docs WHERE metadata.owner = ? ORDER BY vector <=> ? LIMIT ?");
    EXPECT_EQ(records[0]["strategy"], found->plan_strategy);
    ASSERT_TRUE(records[0].contains("plan"));
    const Json& root = records[0]["plan"]["root"];
    EXPECT_EQ(root["actual_rows"], 3);
    EXPECT_TRUE(root.contains("time_ms"));
    EXPECT_FALSE(root["children"].empty());
    bool has_actual_rows = false;
    for (const Json& text_line : records[0]["plan"]["text"]) {
        has_actual_rows = has_actual_rows ||
                          text_line.get<std::string>().find("actual rows=") != std::string::npos;
    }
    EXPECT_TRUE(has_actual_rows);
    EXPECT_EQ(records[1]["statement_index"], 1);
    EXPECT_EQ(records[1]["error"], "NOT_FOUND");
    EXPECT_FALSE(records[1].contains("plan"));
    EXPECT_EQ(records[2]["statement"], "INSERT INTO docs (id) VALUES (?)");
}

// Below the threshold: nothing is written, and the plan tree is not built (the watch does not
// want it).
TEST_F(SlowQueryWatchTest, FastStatementsAreNotWrittenAndBuildNoPlan) {
    const std::string path = logs_.Sub("slow.log");
    auto log = SlowQueryLog::Open({.threshold_ms = 60'000, .file = path}, main_);
    ASSERT_TRUE(log.ok());

    // Counts the plans the session hands on (the watch passes every call on to `next`).
    class PlanCounter final : public ExecutionObserver {
      public:
        void OnStage(std::string_view, std::int64_t, std::int64_t, bool) override {}
        void OnPlan(const QueryPlan&, std::string_view) override { ++plans; }
        bool WantsPlan() override { return wants; }
        int plans = 0;
        bool wants = false;
    } counter;
    SlowQueryWatch watch(**log, {}, &counter);
    QuerySession session(*db_);
    session.set_execution_observer(&watch);
    watch.Begin();
    EXPECT_FALSE(watch.WantsPlan());
    PHENIX_ASSERT_OK(Run(watch, session, 0, "SELECT id FROM docs LIMIT 2").status());
    EXPECT_EQ(counter.plans, 0);
    // The request's trace wants every plan: it still gets them through the watch.
    counter.wants = true;
    PHENIX_ASSERT_OK(Run(watch, session, 1, "SELECT id FROM docs LIMIT 2").status());
    EXPECT_EQ(counter.plans, 1);
    session.set_execution_observer(nullptr);
    EXPECT_TRUE(Lines(path).empty());
}

TEST(LoggerFileTest, RotatesAtItsSizeAndKeepsAFewOldFiles) {
    testing::TempDir dir;
    const std::string path = dir.Sub("slow.log");
    auto logger = Logger::OpenFile(path, 2048, 2);
    ASSERT_TRUE(logger.ok()) << logger.status().ToString();
    for (int i = 0; i < 200; ++i) {
        (*logger)->Log(LogLevel::kDebug, "line", "\"n\":" + std::to_string(i));
    }
    std::vector<std::string> names;
    std::uintmax_t total = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        names.push_back(entry.path().filename().string());
        total += entry.file_size();
        EXPECT_LE(entry.file_size(), 2048U) << entry.path();
    }
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"slow.1.log", "slow.2.log", "slow.log"}));
    EXPECT_LE(total, 3U * 2048U);
    // The newest line is in the current file, as JSON.
    const std::vector<std::string> lines = Lines(path);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(Json::parse(lines.back())["n"], 199);
}

TEST(LoggerTest, TraceFieldsNameTheTraceOrNothing) {
    EXPECT_EQ(TraceFields("", ""), "");
    EXPECT_EQ(TraceFields("abc", "def"), R"("trace_id":"abc","span_id":"def")");
}

}  // namespace
}  // namespace phenix::server
