// SPDX-License-Identifier: Apache-2.0
//
// phenixd's tracing (docs/observability.md, docs/decisions/0021-tracing.md): the request's trace
// (RequestTrace: the root span of a REST route or gRPC method, and the ExecutionObserver that
// turns a QuerySession's stages and plans into child spans), and the OTLP/HTTP JSON exporter
// the trace module's Tracer hands kept traces to (a POST per batch on the tracer's thread, with a
// timeout: a down or slow endpoint only drops spans, never slows a request).
//
// Thread safety: a RequestTrace is confined to its request (one thread at a time; a request
// moves from the I/O thread to a worker with a happens-before edge). The exporter function is
// called on the tracer's thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <phenix/phenixql.h>
#include <phenix/status.h>

#include "common/commit_timing.h"
#include "server/config.h"
#include "trace/trace.h"

namespace phenix::server {

class Logger;

/// One request's trace: the root span, the observer a QuerySession reports to, and the commit
/// observer (common/commit_timing.h) the request's thread installs around its Database calls:
/// each commit becomes a "db.commit" span with a child per phase (docs/observability.md
/// "Commit spans"), under the root or, for a statement, under its stage span.
class RequestTrace final : public ExecutionObserver, public CommitObserver {
  public:
    explicit RequestTrace(trace::Tracer::TraceHandle trace)
        : trace_(std::move(trace)),
          trace_id_(trace_->trace_id().ToHex()),
          root_span_id_(trace_->span_id(trace::Trace::kRoot).ToHex()) {}

    /// The trace's id and our root span's, in hex: what the request's log lines carry (valid
    /// after Finish too).
    [[nodiscard]] const std::string& TraceId() const { return trace_id_; }
    [[nodiscard]] const std::string& RootSpanId() const { return root_span_id_; }

    [[nodiscard]] trace::Trace& trace() { return *trace_; }
    /// The traceparent of our root span, for the response.
    [[nodiscard]] std::string Traceparent() const { return trace_->RootTraceparent(); }
    /// Sets the root's name and HTTP attributes once the route is known.
    void SetRoute(std::string_view method, std::string_view route);
    /// Ends the root with the response's status (an error status >= 400 marks it failed, with
    /// `error_code`) and hands the trace to the tracer's decision: true when it is kept.
    bool Finish(trace::Tracer& tracer, unsigned status, std::string_view error_code);

    // ExecutionObserver: stage spans under the root, a SELECT's operators under its "execute".
    void OnStage(std::string_view stage, std::int64_t start_unix_ns, std::int64_t end_unix_ns,
                 bool ok) override;
    void OnPlan(const QueryPlan& plan, std::string_view plan_strategy) override;

    // CommitObserver: a "db.commit" span and its phases.
    void OnCommit(const CommitTiming& timing) override;

  private:
    void AddOperator(const QueryPlanNode& node, trace::Trace::SpanIndex parent,
                     std::int64_t start_unix_ns, std::int64_t end_unix_ns);

    trace::Tracer::TraceHandle trace_;
    std::string trace_id_;
    std::string root_span_id_;
    trace::Trace::SpanIndex last_execute_ = trace::Trace::kRoot;
    std::int64_t execute_start_ = 0;
    std::int64_t execute_end_ = 0;
    // The first span recorded since the last stage: commit spans from there on belong to the
    // next stage reported (a stage is reported when it ended).
    trace::Trace::SpanIndex since_stage_ = 1;
    bool finished_ = false;
};

/// The Tracer's export function: POSTs the OTLP/JSON body of each batch to `url` (Content-Type
/// application/json), giving up after `timeout`. A failure is logged when the endpoint turns
/// unreachable and again when it recovers (not per batch).
trace::ExportFn MakeOtlpHttpExporter(HttpUrl url, std::chrono::milliseconds timeout,
                                     Logger* logger);

/// One POST of `body` to `url` with a deadline; OK on a 2xx answer. Exposed for tests.
Status PostJson(const HttpUrl& url, std::string body, std::chrono::milliseconds timeout);

}  // namespace phenix::server
