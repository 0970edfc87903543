// SPDX-License-Identifier: Apache-2.0
#include "server/slow_query_log.h"

#include <cstdio>
#include <utility>

#include "query/parser.h"
#include "server/api.h"
#include "server/errors.h"
#include "server/log.h"

namespace phenix::server {
namespace {

QueryPlanNode RedactNode(const QueryPlanNode& node) {
    QueryPlanNode out;
    out.label = node.label.substr(0, node.label.find(' '));
    out.strategy = node.strategy;
    out.estimated_rows = node.estimated_rows;
    out.has_run = node.has_run;
    out.actual_rows = node.actual_rows;
    out.total_millis = node.total_millis;
    out.self_millis = node.self_millis;
    out.not_run = node.not_run;
    out.figures = node.figures;
    out.children.reserve(node.children.size());
    for (const QueryPlanNode& child : node.children) {
        out.children.push_back(RedactNode(child));
    }
    return out;
}

std::string MillisText(double millis) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3f", millis);
    return buffer;
}

// "key":"value" for a non-empty value, with a leading comma.
void AddString(std::string& out, std::string_view key, std::string_view value) {
    if (!value.empty()) {
        out += ",\"";
        out += key;
        out += "\":" + JsonQuote(value);
    }
}

}  // namespace

std::optional<std::string> RedactStatement(std::string_view statement) {
    Result<query::Statement> parsed = query::ParseStatement(statement);
    if (!parsed.ok()) {
        return std::nullopt;
    }
    return query::ToRedactedString(*parsed);
}

QueryPlan RedactPlan(const QueryPlan& plan) {
    return QueryPlan{.root = RedactNode(plan.root),
                     .analyzed = plan.analyzed,
                     .execution_millis = plan.execution_millis};
}

std::string SlowQueryFields(const SlowQuery& query, bool log_parameters) {
    std::string out = "\"duration_ms\":" + MillisText(query.duration_ms);
    AddString(out, "request_id", query.request_id);
    AddString(out, "route", query.route);
    AddString(out, "client", query.client);
    AddString(out, "tenant", query.tenant);
    AddString(out, "principal", query.principal);
    if (!query.trace_id.empty()) {
        out += "," + TraceFields(query.trace_id, query.span_id);
    }
    out += ",\"statement_index\":" + std::to_string(query.statement_index);
    if (log_parameters) {
        out += ",\"statement\":" + JsonQuote(query.statement);
        if (query.params != nullptr && !query.params->empty()) {
            out += ",\"params\":{";
            bool first = true;
            for (const auto& [name, value] : *query.params) {
                out += (first ? "" : ",") + JsonQuote(name) + ":" + value.ToJson();
                first = false;
            }
            out += "}";
        }
    } else if (std::optional<std::string> redacted = RedactStatement(query.statement)) {
        out += ",\"statement\":" + JsonQuote(*redacted) + ",\"redacted\":true";
    } else {
        // A statement that does not parse cannot be reprinted without its literals.
        out += ",\"statement\":null,\"redacted\":true";
    }
    AddString(out, "error", query.error_code);
    AddString(out, "strategy", query.plan_strategy);
    if (query.plan != nullptr) {
        const std::string strategy(query.plan_strategy);
        out += ",\"plan\":" + (log_parameters ? SearchPlanJson(*query.plan, strategy)
                                              : SearchPlanJson(RedactPlan(*query.plan), strategy));
    }
    return out;
}

// ------------------------------------------------------------------------------ SlowQueryLog

Result<std::unique_ptr<SlowQueryLog>> SlowQueryLog::Open(SlowQueryLogOptions options,
                                                         Logger& main) {
    std::unique_ptr<Logger> file;
    if (options.threshold_ms >= 0 && !options.file.empty()) {
        PHENIX_ASSIGN_OR_RETURN(
            file, Logger::OpenFile(options.file, kSlowQueryLogMaxFileBytes, kSlowQueryLogMaxFiles));
    }
    return std::unique_ptr<SlowQueryLog>(
        new SlowQueryLog(std::move(options), main, std::move(file)));
}

SlowQueryLog::SlowQueryLog(SlowQueryLogOptions options, Logger& main, std::unique_ptr<Logger> file)
    : options_(std::move(options)),
      threshold_(std::chrono::milliseconds(options_.threshold_ms < 0 ? 0 : options_.threshold_ms)),
      main_(main),
      file_(std::move(file)) {}

SlowQueryLog::~SlowQueryLog() = default;

void SlowQueryLog::Write(const SlowQuery& query) const {
    Logger& logger = file_ != nullptr ? *file_ : main_;
    logger.Log(LogLevel::kWarn, "slow query", SlowQueryFields(query, options_.log_parameters));
}

// ---------------------------------------------------------------------------- SlowQueryWatch

SlowQueryWatch::SlowQueryWatch(const SlowQueryLog& log, SlowQueryRequest request,
                               ExecutionObserver* next)
    : log_(log), request_(std::move(request)), next_(next) {}

void SlowQueryWatch::Begin() {
    plan_.reset();
    start_ = std::chrono::steady_clock::now();
}

void SlowQueryWatch::End(std::size_t statement_index, std::string_view statement,
                         const QueryParams& params, std::string_view tenant, const Status& status,
                         std::string_view plan_strategy) {
    const auto elapsed = std::chrono::steady_clock::now() - start_;
    if (log_.IsSlow(elapsed)) {
        log_.Write({.request_id = request_.request_id,
                    .route = request_.route,
                    .client = request_.client,
                    .tenant = tenant,
                    .principal = request_.principal,
                    .trace_id = request_.trace_id,
                    .span_id = request_.span_id,
                    .statement_index = statement_index,
                    .statement = statement,
                    .params = &params,
                    .duration_ms = std::chrono::duration<double, std::milli>(elapsed).count(),
                    .error_code = status.ok() ? std::string_view() : ErrorCodeName(status.code()),
                    .plan_strategy = plan_strategy,
                    .plan = status.ok() && plan_.has_value() ? &*plan_ : nullptr});
    }
    plan_.reset();
}

void SlowQueryWatch::OnStage(std::string_view stage, std::int64_t start_unix_ns,
                             std::int64_t end_unix_ns, bool ok) {
    if (next_ != nullptr) {
        next_->OnStage(stage, start_unix_ns, end_unix_ns, ok);
    }
}

void SlowQueryWatch::OnPlan(const QueryPlan& plan, std::string_view plan_strategy) {
    if (next_ != nullptr && next_->WantsPlan()) {
        next_->OnPlan(plan, plan_strategy);
    }
    if (log_.IsSlow(std::chrono::steady_clock::now() - start_)) {
        plan_ = plan;
    }
}

bool SlowQueryWatch::WantsPlan() {
    return (next_ != nullptr && next_->WantsPlan()) ||
           log_.IsSlow(std::chrono::steady_clock::now() - start_);
}

}  // namespace phenix::server
