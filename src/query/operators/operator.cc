// SPDX-License-Identifier: Apache-2.0
//
// The operators' shared boundary (operator.h) and the plan's text.
#include "query/operators/operator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace phenix::query {
namespace {

using Clock = std::chrono::steady_clock;

std::string FormatMillis(double millis) {
    char buffer[32];
    // Sub-microsecond work prints its digits rather than 0.000: an operator that ran took time.
    std::snprintf(buffer, sizeof buffer, millis > 0 && millis < 0.001 ? "%.6f" : "%.3f", millis);
    return buffer;
}

void Render(const QueryPlanNode& node, const std::string& prefix, bool is_root, bool is_last,
            bool analyze, std::vector<std::string>* lines) {
    std::string line = prefix;
    if (!is_root) {
        line += is_last ? "└─ " : "├─ ";
    }
    line += node.label + "  (est. rows=" + FormatRows(node.estimated_rows);
    if (analyze) {
        if (node.has_run) {
            line += ", actual rows=" + std::to_string(node.actual_rows) +
                    ", time=" + FormatMillis(node.total_millis) +
                    " ms, self=" + FormatMillis(node.self_millis) + " ms";
        } else {
            line += ", " + node.not_run;
        }
    }
    line += ")";
    lines->push_back(std::move(line));
    const std::string child_prefix = is_root ? prefix : prefix + (is_last ? "   " : "│  ");
    for (const std::string& detail : node.details) {
        lines->push_back(child_prefix + (node.children.empty() ? "   " : "│  ") + detail);
    }
    for (std::size_t idx = 0; idx < node.children.size(); ++idx) {
        Render(node.children[idx], child_prefix, false, idx + 1 == node.children.size(), analyze,
               lines);
    }
}

}  // namespace

Status MemoryBudget::Charge(std::size_t bytes) {
    used_ += bytes;
    if (used_ > limit_) {
        return Status::ResourceExhausted(
            "the query needs more than " + std::to_string(limit_ >> 20) +
            " MiB for its rows (the session's memory limit: QuerySession::set_memory_limit, the "
            "shell's --memory-limit); add a LIMIT, select fewer or smaller columns, or raise the "
            "limit");
    }
    return Status::Ok();
}

Status PhysicalOperator::CheckInterrupted() const {
    if (state_.ctx.Interrupted()) {
        return Status(StatusCode::kCancelled, "statement cancelled");
    }
    return Status::Ok();
}

Result<bool> PhysicalOperator::Next(RowBatch* batch) {
    batch->rows.clear();
    PHENIX_RETURN_IF_ERROR(CheckInterrupted());
    has_run_ = true;
    const Clock::time_point start = Clock::now();
    Result<bool> more = NextImpl(batch);
    total_millis_ += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (more.ok()) {
        if (!*more) {
            batch->rows.clear();
        }
        rows_out_ += batch->rows.size();
    }
    return more;
}

double PhysicalOperator::self_millis() const {
    double children = 0;
    for (const auto& child : children_) {
        children += child->total_millis();
    }
    return std::max(0.0, total_millis_ - children);
}

Result<bool> EngineStep::NextImpl(RowBatch* /*batch*/) {
    return Status::Internal("an engine step runs inside its parent's engine call");
}

std::string FormatRows(double rows) {
    if (rows < 0) {
        return "?";
    }
    return std::to_string(static_cast<std::uint64_t>(std::llround(rows)));
}

QueryPlanNode BuildPlan(const PhysicalOperator& root, bool analyze) {
    QueryPlanNode node;
    node.label = root.Label();
    node.strategy = std::string(root.Strategy());
    node.details = root.Details();
    node.estimated_rows = root.estimated_rows;
    if (analyze) {
        node.figures = root.figures();
        node.has_run = root.has_run();
        if (node.has_run) {
            node.actual_rows = root.rows_out();
            node.total_millis = root.total_millis();
            node.self_millis = root.self_millis();
        } else {
            node.not_run = root.NotRunText();
        }
    }
    node.children.reserve(root.children().size());
    for (const auto& child : root.children()) {
        node.children.push_back(BuildPlan(*child, analyze));
    }
    return node;
}

std::string_view PlanStrategy(const PhysicalOperator& root) {
    if (std::string_view own = root.Strategy(); !own.empty()) {
        return own;
    }
    for (const auto& child : root.children()) {
        if (std::string_view found = PlanStrategy(*child); !found.empty()) {
            return found;
        }
    }
    return {};
}

}  // namespace phenix::query

namespace phenix {

std::vector<std::string> QueryPlan::Text() const {
    std::vector<std::string> lines;
    query::Render(root, "", true, true, analyzed, &lines);
    if (analyzed) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "Execution time: %.3f ms", execution_millis);
        lines.emplace_back(buffer);
    }
    return lines;
}

}  // namespace phenix
