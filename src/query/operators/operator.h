// SPDX-License-Identifier: Apache-2.0
//
// Physical operators: the tree the optimizer builds, that runs, and that EXPLAIN prints
// (docs/decisions/0011-query-operators.md). Each operator pulls row batches from its children
// with Next() and hands batches up; the root is pulled by the driver (select.cc).
//
// Next() is the boundary every operator shares: it polls the statement's interrupt (Cancelled),
// times the call and counts the rows handed up, so EXPLAIN ANALYZE reports each operator's own
// rows and time. Operators that keep rows (sort, top-k, DISTINCT, groups, the result) charge
// them to the statement's MemoryBudget (ResourceExhausted naming the setting).
//
// Some work happens inside one engine call that an operator makes (the filter's bitmap inside a
// filtered vector search, the expansion inside a graph-first search): such a step is a child
// operator that is never pulled (an EngineStep); the engine reports its rows and time, which
// the parent records on it.
//
// Thread-compatible: a tree belongs to one statement on one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <phenix/phenixql.h>
#include <phenix/result.h>
#include <phenix/status.h>

#include "query/binder.h"
#include "query/exec.h"
#include "query/operators/row.h"
#include "query/row_eval.h"

namespace phenix::query {

/// The memory a statement's operators hold, against the session's limit.
class MemoryBudget {
  public:
    explicit MemoryBudget(std::size_t limit) : limit_(limit) {}
    /// ResourceExhausted (naming QuerySession::set_memory_limit and the shell's --memory-limit)
    /// when the statement would hold more than the limit.
    Status Charge(std::size_t bytes);
    void Release(std::size_t bytes) { used_ -= bytes < used_ ? bytes : used_; }

  private:
    std::size_t limit_;
    std::size_t used_ = 0;
};

/// What every operator of one statement shares.
struct ExecState {
    ExecState(ExecContext& context, const BoundSelect& bound_select, bool is_analyze)
        : ctx(context),
          bound(bound_select),
          reader(bound_select.reader(context.db)),
          eval(bound_select),
          memory(context.memory_limit),
          analyze(is_analyze) {}

    ExecContext& ctx;
    const BoundSelect& bound;
    Reader reader;
    RowEvaluator eval;
    MemoryBudget memory;
    bool analyze;
};

class PhysicalOperator {
  public:
    explicit PhysicalOperator(ExecState& state) : state_(state) {}
    virtual ~PhysicalOperator() = default;
    PhysicalOperator(const PhysicalOperator&) = delete;
    PhysicalOperator& operator=(const PhysicalOperator&) = delete;

    /// Clears `batch` and fills it with the next rows: true when it holds at least one row,
    /// false when the operator has no more (the batch is then empty). Cancelled when the
    /// statement's interrupt fires; the errors of the engine calls the operator makes.
    Result<bool> Next(RowBatch* batch);

    /// What ran (after Next), or what will run: "Scan docs", "TopK 10".
    [[nodiscard]] virtual std::string Label() const = 0;
    /// Lines printed under the label.
    [[nodiscard]] virtual std::vector<std::string> Details() const { return details_; }
    /// What EXPLAIN ANALYZE prints for an operator that did not run on its own.
    [[nodiscard]] virtual std::string NotRunText() const { return "not run"; }
    /// A source operator's access strategy (QueryResult::plan_strategy): what ran (after Next)
    /// or what will run. Empty for operators that only transform their input.
    [[nodiscard]] virtual std::string_view Strategy() const { return {}; }

    void AddChild(std::unique_ptr<PhysicalOperator> child) {
        children_.push_back(std::move(child));
    }
    [[nodiscard]] const std::vector<std::unique_ptr<PhysicalOperator>>& children() const {
        return children_;
    }
    [[nodiscard]] PhysicalOperator& child(std::size_t idx = 0) const { return *children_[idx]; }

    // Statistics, for EXPLAIN [ANALYZE].
    double estimated_rows = -1;  // < 0: unknown
    [[nodiscard]] std::uint64_t rows_out() const { return rows_out_; }
    [[nodiscard]] bool has_run() const { return has_run_; }
    /// Time in Next, children's included (or what the engine reported for an EngineStep).
    [[nodiscard]] double total_millis() const { return total_millis_; }
    /// total_millis less the children's.
    [[nodiscard]] double self_millis() const;
    void AddDetail(std::string detail) { details_.push_back(std::move(detail)); }
    /// Run figures by name (QueryPlanNode::figures), for tracing.
    [[nodiscard]] const std::vector<std::pair<std::string, double>>& figures() const {
        return figures_;
    }
    /// For an EngineStep: the rows and time the engine reported for it.
    void SetReported(std::uint64_t rows, double millis) {
        rows_out_ = rows;
        total_millis_ = millis;
        has_run_ = true;
    }

  protected:
    /// Next without the shared bookkeeping; `batch` is empty on entry.
    virtual Result<bool> NextImpl(RowBatch* batch) = 0;
    /// Cancelled when the statement's interrupt fires (long loops inside NextImpl call it).
    Status CheckInterrupted() const;

    ExecState& state_;
    std::vector<std::unique_ptr<PhysicalOperator>> children_;
    std::vector<std::string> details_;
    std::vector<std::pair<std::string, double>> figures_;

  private:
    std::uint64_t rows_out_ = 0;
    double total_millis_ = 0;
    bool has_run_ = false;
};

/// A step that runs inside its parent's engine call (see the file comment): never pulled.
class EngineStep final : public PhysicalOperator {
  public:
    EngineStep(ExecState& state, std::string label)
        : PhysicalOperator(state), label_(std::move(label)) {}
    [[nodiscard]] std::string Label() const override { return label_; }
    [[nodiscard]] std::string NotRunText() const override {
        return is_inside_parent_ ? "done inside its parent: rows and time are the parent's"
                                 : "not run";
    }
    /// The engine did this step's work as part of its parent's (checked the filter on the
    /// search's candidates instead of building its rows): it has no rows or time of its own.
    void MarkInsideParent() { is_inside_parent_ = true; }

  protected:
    Result<bool> NextImpl(RowBatch* batch) override;

  private:
    std::string label_;
    bool is_inside_parent_ = false;
};

/// Rows as EXPLAIN prints them ("?" when unknown).
std::string FormatRows(double rows);
/// The tree in its structured form (QueryPlanNode), the one EXPLAIN's text is printed from
/// (QueryPlan::Text); with `analyze`, each operator's actual rows and times.
QueryPlanNode BuildPlan(const PhysicalOperator& root, bool analyze);
/// The plan's access strategy: the first operator's, from the root down (parents first), that
/// has one; "" when none does.
std::string_view PlanStrategy(const PhysicalOperator& root);

}  // namespace phenix::query
