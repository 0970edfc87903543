// SPDX-License-Identifier: Apache-2.0
//
// What phenixd's slow-query log (server/slow_query_log.h) costs a statement: the same filtered
// vector SELECT run in a loop through a QuerySession
//   off:      no slow-query log (slow_query_threshold_ms = -1),
//   on:       the log on, the statement below the threshold (the common case: the watch is
//             asked for the plan and says no, nothing is written),
//   logged:   threshold 0, every statement written with its redacted plan (to a file).
// Rounds of each variant alternate, so that a loaded machine slows all of them alike; the
// median round of each is reported, with on/off and logged/off ratios.
//
// --point runs a point lookup (SELECT ... WHERE id = '...') instead: a statement of a few tens
// of microseconds, where a fixed cost per statement shows most.
//
// Usage: phenix_slow_query_bench [--rounds N] [--queries-per-round N] [--entities N] [--point 1]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <phenix/db.h>
#include <phenix/phenixql.h>
#include <phenix/write_batch.h>

#include "server/log.h"
#include "server/slow_query_log.h"

namespace {

using phenix::Database;
using phenix::QueryParams;
using phenix::QueryResult;
using phenix::QuerySession;
using phenix::Result;
using phenix::server::Logger;
using phenix::server::RunWatched;
using phenix::server::SlowQueryLog;
using phenix::server::SlowQueryWatch;
using Clock = std::chrono::steady_clock;

constexpr int kDimension = 16;

int Flag(int argc, char** argv, std::string_view name, int fallback) {
    for (int idx = 1; idx + 1 < argc; ++idx) {
        if (argv[idx] == name) {
            return std::atoi(argv[idx + 1]);
        }
    }
    return fallback;
}

[[noreturn]] void Die(const std::string& what) {
    std::fprintf(stderr, "slow_query_bench: %s\n", what.c_str());
    std::exit(1);
}

// Runs `queries` statements; returns the seconds they took.
double RunRound(QuerySession& session, SlowQueryWatch* watch, const std::string& statement,
                int queries, std::size_t expected_rows) {
    const QueryParams params;
    const Clock::time_point start = Clock::now();
    for (int idx = 0; idx < queries; ++idx) {
        Result<QueryResult> result = RunWatched(watch, session, 0, statement, params,
                                                [&] { return session.Execute(statement); });
        if (!result.ok() || result->rows.size() != expected_rows) {
            Die("the query failed: " + result.status().ToString());
        }
    }
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double Median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = Flag(argc, argv, "--rounds", 15);
    const int queries = Flag(argc, argv, "--queries-per-round", 200);
    const int entities = Flag(argc, argv, "--entities", 5000);
    char dir_template[] = "/tmp/phenix-slow-query-bench-XXXXXX";
    const char* dir = mkdtemp(dir_template);
    if (dir == nullptr) {
        Die("cannot make a temporary directory");
    }
    const std::string root(dir);
    auto db = Database::Open(root + "/data");
    if (!db.ok()) {
        Die(db.status().ToString());
    }
    if (auto made = (*db)->CreateCollection(
            {.ref = "docs", .dimension = kDimension, .metric = phenix::Metric::kCosine});
        !made.ok()) {
        Die(made.ToString());
    }
    std::mt19937 random(7);
    std::uniform_real_distribution<float> unit(-1, 1);
    phenix::WriteBatch batch;
    for (int idx = 0; idx < entities; ++idx) {
        std::vector<float> vector(kDimension);
        for (float& value : vector) {
            value = unit(random);
        }
        batch.Upsert("docs",
                     phenix::Entity{.id = "e" + std::to_string(idx),
                                    .vector = std::move(vector),
                                    .metadata = "{\"n\":" + std::to_string(idx % 100) +
                                                ",\"tag\":\"t" + std::to_string(idx % 7) + "\"}"});
    }
    if (auto written = (*db)->Write(batch); !written.ok()) {
        Die(written.ToString());
    }
    std::string statement =
        "SELECT id, metadata.tag FROM docs WHERE metadata.n < 50 ORDER BY vector <=> [";
    for (int idx = 0; idx < kDimension; ++idx) {
        statement += (idx == 0 ? "" : ", ") + std::to_string(0.1 * (idx % 5) - 0.2);
    }
    statement += "] LIMIT 10";
    std::size_t expected_rows = 10;
    const bool point = Flag(argc, argv, "--point", 0) != 0;
    if (point) {
        statement = "SELECT id, metadata.tag FROM docs WHERE id = 'e42'";
        expected_rows = 1;
    }

    Logger main("error", false);
    auto on_log = SlowQueryLog::Open({.threshold_ms = 60'000}, main);
    auto all_log = SlowQueryLog::Open({.threshold_ms = 0, .file = root + "/slow.log"}, main);
    if (!on_log.ok() || !all_log.ok()) {
        Die("cannot open the slow-query logs");
    }
    SlowQueryWatch on_watch(**on_log, {.request_id = "bench", .route = "/v1/query"}, nullptr);
    SlowQueryWatch all_watch(**all_log, {.request_id = "bench", .route = "/v1/query"}, nullptr);
    QuerySession off_session(**db);
    QuerySession on_session(**db);
    on_session.set_execution_observer(&on_watch);
    QuerySession all_session(**db);
    all_session.set_execution_observer(&all_watch);

    RunRound(off_session, nullptr, statement, queries, expected_rows);  // warm the caches
    std::vector<double> off;
    std::vector<double> on;
    std::vector<double> all;
    for (int round = 0; round < rounds; ++round) {
        off.push_back(RunRound(off_session, nullptr, statement, queries, expected_rows));
        on.push_back(RunRound(on_session, &on_watch, statement, queries, expected_rows));
        all.push_back(RunRound(all_session, &all_watch, statement, queries, expected_rows));
    }
    const double off_s = Median(off);
    const double on_s = Median(on);
    const double all_s = Median(all);
    std::printf(
        "{\"bench\":\"slow_query_log\",\"statement\":\"%s\",\"entities\":%d,\"rounds\":%d,"
        "\"queries_per_round\":%d,"
        "\"off_us_per_query\":%.2f,\"on_us_per_query\":%.2f,\"logged_us_per_query\":%.2f,"
        "\"on_over_off\":%.4f,\"logged_over_off\":%.4f}\n",
        point ? "point" : "filtered_search", entities, rounds, queries, off_s / queries * 1e6,
        on_s / queries * 1e6, all_s / queries * 1e6, on_s / off_s, all_s / off_s);
    on_session.set_execution_observer(nullptr);
    all_session.set_execution_observer(nullptr);
    if (auto closed = (*db)->Close(); !closed.ok()) {
        Die(closed.ToString());
    }
    std::error_code ignored;
    std::filesystem::remove_all(root, ignored);
    return 0;
}
