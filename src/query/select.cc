// SPDX-License-Identifier: Apache-2.0
//
// SELECT and EXPLAIN [ANALYZE]: the driver of the pipeline (docs/query-language.md,
// docs/decisions/0011-query-operators.md):
//
//   binder.h        the statement bound against the catalog (names, types, the WHERE split)
//   logical_plan.h  what it computes, as a tree of relational steps
//   optimizer.h     the physical operators that compute it (access paths, strategies, costs)
//   operators/      the operators, pulled here in row batches
//
// EXPLAIN prints the operator tree the optimizer built without running it; EXPLAIN ANALYZE runs
// it and prints the same tree with each operator's rows and times.
#include <chrono>
#include <cstdio>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "query/binder.h"
#include "query/exec.h"
#include "query/logical_plan.h"
#include "query/operators/operator.h"
#include "query/optimizer.h"

namespace phenix::query {
namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// EXPLAIN's result: the plan's text, one row per line, and the plan itself.
QueryResult PlanResult(QueryPlan plan, std::string_view strategy) {
    QueryResult result;
    result.has_rows = true;
    result.columns = {"plan"};
    for (std::string& line : plan.Text()) {
        result.rows.push_back({QueryValue::String(std::move(line))});
    }
    result.plan_strategy = std::string(strategy);
    result.plan = std::move(plan);
    return result;
}

}  // namespace

Result<QueryResult> ExecuteSelect(ExecContext& ctx, const SelectStmt& stmt, ExplainMode mode) {
    std::optional<StageTimer> stage(std::in_place, ctx.observer, "bind");
    PHENIX_ASSIGN_OR_RETURN(BoundSelect bound, BindSelect(ctx, stmt));
    PHENIX_RETURN_IF_ERROR(ChooseMatchStart(bound, ctx.db));
    stage->Succeeded();
    stage.emplace(ctx.observer, "plan");
    const std::unique_ptr<LogicalNode> logical = BuildLogicalPlan(bound);
    ExecState state(ctx, bound, mode == ExplainMode::kExplainAnalyze);
    const Clock::time_point start = Clock::now();
    PHENIX_ASSIGN_OR_RETURN(std::unique_ptr<PhysicalOperator> root,
                            Optimize(*logical, state, mode));
    stage->Succeeded();
    stage.reset();
    if (mode == ExplainMode::kExplain) {
        return PlanResult(QueryPlan{.root = BuildPlan(*root, /*analyze=*/false)},
                          PlanStrategy(*root));
    }
    stage.emplace(ctx.observer, "execute");
    // Pull the root's batches into the result, which the memory budget charges like any rows
    // an operator keeps.
    QueryResult result;
    result.has_rows = true;
    for (std::size_t idx = 0; idx < bound.num_visible_items; ++idx) {
        result.columns.push_back(bound.items[idx].name);
    }
    // Streaming (ctx.sink): each batch goes to the caller as it comes, and is not kept.
    RowSink* const sink = mode == ExplainMode::kNone ? ctx.sink : nullptr;
    if (sink != nullptr) {
        PHENIX_RETURN_IF_ERROR(sink->OnColumns(result.columns));
    }
    RowBatch batch;
    while (true) {
        PHENIX_ASSIGN_OR_RETURN(bool more, root->Next(&batch));
        if (!more) {
            break;
        }
        std::vector<std::vector<QueryValue>> rows;
        rows.reserve(batch.rows.size());
        for (Row& row : batch.rows) {
            if (sink == nullptr) {
                PHENIX_RETURN_IF_ERROR(state.memory.Charge(row.bytes));
            }
            row.values.resize(bound.num_visible_items);  // HAVING's hidden columns
            rows.push_back(std::move(row.values));
        }
        if (sink != nullptr) {
            PHENIX_RETURN_IF_ERROR(sink->OnRows(std::move(rows)));
        } else {
            std::move(rows.begin(), rows.end(), std::back_inserter(result.rows));
        }
    }
    // The strategy that ran (a filtered search's label names the strategy the engine chose).
    result.plan_strategy = std::string(PlanStrategy(*root));
    stage->Succeeded();
    stage.reset();
    // The operators counted their rows and times as they ran; the plan tree is built only for
    // a caller that asked for it (EXPLAIN ANALYZE, collect_plan) or an observer that wants it.
    if (mode == ExplainMode::kNone && !ctx.collect_plan &&
        (ctx.observer == nullptr || !ctx.observer->WantsPlan())) {
        return result;
    }
    QueryPlan plan{.root = BuildPlan(*root, /*analyze=*/true),
                   .analyzed = true,
                   .execution_millis = MillisSince(start)};
    if (mode == ExplainMode::kNone) {
        result.plan = std::move(plan);
        return result;
    }
    return PlanResult(std::move(plan), result.plan_strategy);
}

}  // namespace phenix::query
