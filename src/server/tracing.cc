// SPDX-License-Identifier: Apache-2.0
#include "server/tracing.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "server/errors.h"
#include "server/log.h"

namespace phenix::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::int64_t MillisToNanos(double millis) {
    return std::llround(millis * 1e6);
}

std::int64_t SteadyNanos(CommitTiming::Clock::time_point at) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
}

// The span of one commit (its phases are its children).
constexpr std::string_view kCommitSpan = "db.commit";

}  // namespace

// ------------------------------------------------------------------------------ RequestTrace

void RequestTrace::SetRoute(std::string_view method, std::string_view route) {
    trace::Trace& trace = *trace_;
    std::string name(method);
    name += ' ';
    name += route;
    trace.SetName(trace::Trace::kRoot, name);
    if (method == "GRPC") {
        trace.SetAttribute(trace::Trace::kRoot, "rpc.system", "grpc");
        trace.SetAttribute(trace::Trace::kRoot, "rpc.method", route);
    } else {
        trace.SetAttribute(trace::Trace::kRoot, "http.method", method);
        trace.SetAttribute(trace::Trace::kRoot, "http.route", route);
    }
}

bool RequestTrace::Finish(trace::Tracer& tracer, unsigned status, std::string_view error_code) {
    if (finished_) {
        return false;
    }
    finished_ = true;
    trace::Trace& trace = *trace_;
    trace.SetAttribute(trace::Trace::kRoot, "http.status_code", static_cast<std::int64_t>(status));
    if (status >= 400) {
        trace.SetError(trace::Trace::kRoot,
                       error_code.empty() ? std::string_view("error") : error_code);
    } else {
        trace.SetOk(trace::Trace::kRoot);
    }
    return tracer.Finish(std::move(trace_));
}

void RequestTrace::OnStage(std::string_view stage, std::int64_t start_unix_ns,
                           std::int64_t end_unix_ns, bool ok) {
    if (trace_ == nullptr) {
        return;  // finished: a session must not report after its request ended
    }
    trace::Trace& trace = *trace_;
    const trace::Trace::SpanIndex span =
        trace.AddSpan(stage, trace::Trace::kRoot, start_unix_ns, end_unix_ns);
    if (!ok) {
        trace.SetError(span, "failed");
    }
    // The commits the statement made during this stage hang under it.
    if (span != trace::Trace::kRoot) {
        for (trace::Trace::SpanIndex idx = since_stage_; idx < span; ++idx) {
            const trace::SpanData& data = trace.span(idx);
            if (data.parent == trace::Trace::kRoot && data.name == kCommitSpan &&
                data.start_unix_ns >= start_unix_ns) {
                trace.SetParent(idx, span);
            }
        }
    }
    since_stage_ = static_cast<trace::Trace::SpanIndex>(trace.size());
    if (stage == "execute") {
        last_execute_ = span;
        execute_start_ = start_unix_ns;
        execute_end_ = end_unix_ns;
    }
}

void RequestTrace::OnPlan(const QueryPlan& plan, std::string_view plan_strategy) {
    if (trace_ == nullptr) {
        return;
    }
    trace::Trace& trace = *trace_;
    if (!plan_strategy.empty()) {
        trace.SetAttribute(last_execute_, "phenix.plan.strategy", plan_strategy);
        trace.SetAttribute(trace::Trace::kRoot, "phenix.plan.strategy", plan_strategy);
    }
    AddOperator(plan.root, last_execute_, execute_start_, execute_end_);
}

void RequestTrace::OnCommit(const CommitTiming& timing) {
    if (trace_ == nullptr) {
        return;
    }
    // Steady-clock phases to span times: the offset between the clocks, read once.
    const std::int64_t offset_ns = trace::NowUnixNanos() - SteadyNanos(CommitTiming::Clock::now());
    const auto unix_ns = [offset_ns](CommitTiming::Clock::time_point at) {
        return SteadyNanos(at) + offset_ns;
    };
    trace::Trace& trace = *trace_;
    const trace::Trace::SpanIndex commit =
        trace.AddSpan(kCommitSpan, trace::Trace::kRoot, unix_ns(timing.start), unix_ns(timing.end));
    if (commit == trace::Trace::kRoot) {
        return;  // the trace is full
    }
    if (timing.committed) {
        trace.SetOk(commit);
    } else {
        trace.SetError(commit, "not committed");
    }
    const auto add = [&](std::string_view name, const CommitTiming::Phase& phase,
                         trace::Trace::SpanIndex parent) {
        if (!phase.ran()) {
            return trace::Trace::kRoot;
        }
        const std::int64_t start = unix_ns(phase.start);
        const trace::Trace::SpanIndex span =
            trace.AddSpan(name, parent, start, start + phase.duration.count());
        if (phase.count > 1) {
            trace.SetAttribute(span, "phenix.count", static_cast<std::int64_t>(phase.count));
        }
        return span;
    };
    add("lock_wait", timing.lock_wait, commit);
    add("index_maintenance", timing.index_maintenance, commit);
    const trace::Trace::SpanIndex write = add("storage_write", timing.storage_write, commit);
    if (write != trace::Trace::kRoot) {
        add("wal_write", timing.wal_write, write);
        add("wal_sync", timing.wal_sync, write);
        // A write group's follower: its batch went into the WAL with the leader's write.
        trace.SetAttribute(write, "phenix.wal.written_by_group_leader", !timing.wal_write.ran());
    }
    add("index_hook", timing.index_hook, commit);
}

void RequestTrace::AddOperator(const QueryPlanNode& node, trace::Trace::SpanIndex parent,
                               std::int64_t start_unix_ns, std::int64_t end_unix_ns) {
    // The operators pull batches from each other, so an operator's time is not one interval:
    // its span starts with its parent's and lasts its total time (children's included).
    trace::Trace& trace = *trace_;
    const std::int64_t end =
        node.has_run ? std::min(end_unix_ns, start_unix_ns + MillisToNanos(node.total_millis))
                     : start_unix_ns;
    std::string_view name = node.label;
    name = name.substr(0, name.find(' '));  // "VectorFirst docs [in_graph]" -> "VectorFirst"
    const trace::Trace::SpanIndex span = trace.AddSpan(name, parent, start_unix_ns, end);
    if (span == trace::Trace::kRoot) {
        return;  // the trace is full
    }
    trace.SetAttribute(span, "phenix.operator", node.label);
    if (!node.strategy.empty()) {
        trace.SetAttribute(span, "phenix.strategy", node.strategy);
    }
    if (node.has_run) {
        trace.SetAttribute(span, "phenix.rows", static_cast<std::int64_t>(node.actual_rows));
        trace.SetAttribute(span, "phenix.self_ms", node.self_millis);
    } else if (!node.not_run.empty()) {
        trace.SetAttribute(span, "phenix.not_run", node.not_run);
    }
    if (node.estimated_rows >= 0) {
        trace.SetAttribute(span, "phenix.estimated_rows", node.estimated_rows);
    }
    for (const auto& [figure, value] : node.figures) {
        std::string key = "phenix.";
        key += figure;
        if (value == std::floor(value) && std::abs(value) < 9e15) {
            trace.SetAttribute(span, key, static_cast<std::int64_t>(value));
        } else {
            trace.SetAttribute(span, key, value);
        }
    }
    for (const QueryPlanNode& child : node.children) {
        AddOperator(child, span, start_unix_ns, end);
    }
}

// -------------------------------------------------------------------------------- exporter

Status PostJson(const HttpUrl& url, std::string body, std::chrono::milliseconds timeout) {
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    http::request<http::string_body> request{http::verb::post, url.target, 11};
    request.set(http::field::host, url.host + ":" + std::to_string(url.port));
    request.set(http::field::content_type, "application/json");
    request.set(http::field::user_agent, "phenixd");
    request.body() = std::move(body);
    request.prepare_payload();
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    beast::error_code failure;
    std::string failed_at;
    bool done = false;
    const auto fail = [&](const beast::error_code& ec, const char* where) {
        failure = ec;
        failed_at = where;
        done = true;
    };
    stream.expires_after(timeout);
    resolver.async_resolve(
        url.host, std::to_string(url.port),
        [&](const beast::error_code& ec, const tcp::resolver::results_type& endpoints) {
            if (ec) {
                return fail(ec, "resolve");
            }
            stream.async_connect(
                endpoints, [&](const beast::error_code& connect_ec, const tcp::endpoint&) {
                    if (connect_ec) {
                        return fail(connect_ec, "connect");
                    }
                    http::async_write(
                        stream, request, [&](const beast::error_code& write_ec, std::size_t) {
                            if (write_ec) {
                                return fail(write_ec, "send");
                            }
                            http::async_read(stream, buffer, response,
                                             [&](const beast::error_code& read_ec, std::size_t) {
                                                 if (read_ec) {
                                                     return fail(read_ec, "read the answer");
                                                 }
                                                 done = true;
                                             });
                        });
                });
        });
    // The stream's expiry bounds connect, send and read; run_for also bounds the resolve.
    io.run_for(timeout + std::chrono::milliseconds(50));
    if (!done) {
        return Status::Unavailable("the OTLP endpoint did not answer within " +
                                   std::to_string(timeout.count()) + " ms");
    }
    if (failure) {
        return Status::Unavailable("cannot " + failed_at + " (OTLP endpoint " + url.host + ":" +
                                   std::to_string(url.port) + "): " + failure.message());
    }
    const unsigned status = response.result_int();
    if (status < 200 || status >= 300) {
        return Status::Unavailable("the OTLP endpoint answered HTTP " + std::to_string(status));
    }
    return Status::Ok();
}

trace::ExportFn MakeOtlpHttpExporter(HttpUrl url, std::chrono::milliseconds timeout,
                                     Logger* logger) {
    // Only the tracer's thread calls it: the flag needs no lock, but is atomic for clarity.
    auto failing = std::make_shared<std::atomic<bool>>(false);
    return [url = std::move(url), timeout, logger,
            failing](const std::vector<const trace::Trace*>& batch) -> Status {
        Status sent = PostJson(url, trace::OtlpJson(batch, "phenixd"), timeout);
        const bool was_failing = failing->exchange(!sent.ok());
        if (logger != nullptr && sent.ok() == was_failing) {
            if (sent.ok()) {
                logger->Log(LogLevel::kInfo, "trace export recovered");
            } else {
                logger->Log(LogLevel::kWarn,
                            "trace export failed; spans are dropped until the endpoint answers "
                            "(phenix_trace_spans_dropped_total)",
                            "\"error\":" + JsonQuote(sent.message()));
            }
        }
        return sent;
    };
}

}  // namespace phenix::server
