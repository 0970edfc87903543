// SPDX-License-Identifier: Apache-2.0
//
// phenixd's slow-query log (docs/observability.md "Slow-query log", docs/decisions/0025-*):
// one JSON line per statement that took at least `slow_query_threshold_ms`, run by
// POST /v1/query (JSON or NDJSON) or gRPC Query, with the statement, its plan and each
// operator's actual rows and times (EXPLAIN ANALYZE's data).
//
// Redaction (the default): the statement is reprinted from its syntax tree with every literal
// replaced by `?` (query::ToRedactedString), parameter values are left out, and the plan's
// operators are named without their arguments and detail lines (which quote filter values and
// ids). `slow_query_log_parameters` keeps the statement as sent, the parameters and the whole
// plan.
//
// Cost: the operators count their rows and times for every statement anyway; the plan tree (its
// strings) is built only for a statement already past the threshold when its plan finished
// (SlowQueryWatch::WantsPlan), and redaction (a second parse) only for one that is logged.
//
// Thread safety: SlowQueryLog is thread-safe (its Logger is). A SlowQueryWatch belongs to one
// request (one thread at a time).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <phenix/phenixql.h>
#include <phenix/result.h>

namespace phenix::server {

class Logger;

struct SlowQueryLogOptions {
    /// Statements at least this slow are logged; 0: every statement; < 0: off.
    std::int64_t threshold_ms = 1000;
    /// Keep the statement as sent, its parameters and the plan's details (not redacted).
    bool log_parameters = false;
    /// Where: empty for the main log (stderr), else a file rotated at kMaxFileBytes.
    std::string file;
};

/// The slow-query log file's rotation: this size per file, this many older files kept.
inline constexpr std::size_t kSlowQueryLogMaxFileBytes = std::size_t{64} << 20;
inline constexpr std::size_t kSlowQueryLogMaxFiles = 3;

/// One logged statement, as the record says it.
struct SlowQuery {
    std::string_view request_id;  ///< empty for gRPC (no request id)
    std::string_view route;       ///< "/v1/query", "/phenix.v1.Phenix/Query"
    std::string_view client;
    std::string_view tenant;
    std::string_view principal;  ///< the caller's subject (JWT sub, API key id, "local")
    std::string_view trace_id;   ///< of a traced request, else empty
    std::string_view span_id;
    std::size_t statement_index = 0;
    std::string_view statement;  ///< as the client sent it
    const QueryParams* params = nullptr;
    double duration_ms = 0;
    std::string_view error_code;  ///< "NOT_FOUND", ...; empty when it succeeded
    std::string_view plan_strategy;
    const QueryPlan* plan = nullptr;  ///< null: no plan (not a SELECT, or it failed)
};

/// The statement with its literals redacted (query::ToRedactedString), or nullopt when it does
/// not parse (then nothing of it can be shown safely).
std::optional<std::string> RedactStatement(std::string_view statement);

/// `plan` with each operator named by its first word ("Expand docs from 'a'" -> "Expand") and
/// no detail lines: the figures stay (strategy, estimated and actual rows, times).
QueryPlan RedactPlan(const QueryPlan& plan);

/// The record's JSON members after "msg" (see docs/observability.md for each).
std::string SlowQueryFields(const SlowQuery& query, bool log_parameters);

class SlowQueryLog {
  public:
    /// `main` is the server's log (used when options.file is empty); it must outlive this.
    /// IOError when the file cannot be opened.
    static Result<std::unique_ptr<SlowQueryLog>> Open(SlowQueryLogOptions options, Logger& main);
    ~SlowQueryLog();
    SlowQueryLog(const SlowQueryLog&) = delete;
    SlowQueryLog& operator=(const SlowQueryLog&) = delete;

    [[nodiscard]] bool enabled() const { return options_.threshold_ms >= 0; }
    /// Whether a statement that took `elapsed` is logged.
    [[nodiscard]] bool IsSlow(std::chrono::steady_clock::duration elapsed) const {
        return enabled() && elapsed >= threshold_;
    }
    [[nodiscard]] const SlowQueryLogOptions& options() const { return options_; }

    /// Writes the record (a "slow query" line at warn level).
    void Write(const SlowQuery& query) const;

  private:
    SlowQueryLog(SlowQueryLogOptions options, Logger& main, std::unique_ptr<Logger> file);

    const SlowQueryLogOptions options_;
    const std::chrono::steady_clock::duration threshold_;
    Logger& main_;
    std::unique_ptr<Logger> file_;  // null: the main log
};

/// What one request's records say about it (copied: a streamed response outlives its handler).
struct SlowQueryRequest {
    std::string request_id;
    std::string route;
    std::string client;
    std::string principal;
    std::string trace_id;
    std::string span_id;
};

/// Watches one request's statements: Begin before each runs and End after it; End writes the
/// record of a slow one. Set it as the session's ExecutionObserver (it passes every call on to
/// `next`, the request's trace, when there is one) so that it can take the plan of a slow
/// SELECT: it wants the plan only when the statement is already past the threshold (or `next`
/// wants it).
class SlowQueryWatch final : public ExecutionObserver {
  public:
    SlowQueryWatch(const SlowQueryLog& log, SlowQueryRequest request, ExecutionObserver* next);

    void Begin();
    /// `statement` as sent; `tenant` the session's after it ran; `status` its outcome.
    void End(std::size_t statement_index, std::string_view statement, const QueryParams& params,
             std::string_view tenant, const Status& status, std::string_view plan_strategy);

    void OnStage(std::string_view stage, std::int64_t start_unix_ns, std::int64_t end_unix_ns,
                 bool ok) override;
    void OnPlan(const QueryPlan& plan, std::string_view plan_strategy) override;
    bool WantsPlan() override;

  private:
    const SlowQueryLog& log_;
    const SlowQueryRequest request_;
    ExecutionObserver* const next_;
    std::chrono::steady_clock::time_point start_;
    std::optional<QueryPlan> plan_;  // the running statement's, when it was slow by then
};

/// Runs `run` (one statement of `session`: a call to its Execute), watched by `watch` when that
/// is not null.
template <typename Run>
Result<QueryResult> RunWatched(SlowQueryWatch* watch, const QuerySession& session,
                               std::size_t statement_index, std::string_view statement,
                               const QueryParams& params, Run&& run) {
    if (watch == nullptr) {
        return run();
    }
    watch->Begin();
    Result<QueryResult> result = run();
    watch->End(statement_index, statement, params, session.tenant(), result.status(),
               result.ok() ? std::string_view(result->plan_strategy) : std::string_view());
    return result;
}

}  // namespace phenix::server
