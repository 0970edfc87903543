// SPDX-License-Identifier: Apache-2.0
//
// Row filters: Filter keeps the rows for which a condition is TRUE (a residual WHERE on the
// entity rows, evaluated by RowEvaluator::Test; or HAVING on aggregated rows, by
// RowEvaluator::EvalOutput); ExactRank keeps the rows an exact distance order can rank (those
// with a vector the distance is defined for) below the TopK / Sort that orders them.
//
// Thread-compatible: one statement's.
#pragma once

#include <string>

#include "query/operators/operator.h"

namespace phenix::query {

class FilterOperator final : public PhysicalOperator {
  public:
    enum class Over { kRows, kGroups };
    FilterOperator(ExecState& state, const Expr& condition, Over over)
        : PhysicalOperator(state), condition_(condition), over_(over) {}
    [[nodiscard]] std::string Label() const override {
        return over_ == Over::kGroups ? "Filter (HAVING)" : "Filter";
    }
    [[nodiscard]] std::vector<std::string> Details() const override;

  protected:
    Result<bool> NextImpl(RowBatch* batch) override;

  private:
    const Expr& condition_;
    Over over_;
};

class ExactRankOperator final : public PhysicalOperator {
  public:
    ExactRankOperator(ExecState& state, std::string collection)
        : PhysicalOperator(state), collection_(std::move(collection)) {}
    [[nodiscard]] std::string Label() const override { return "ExactRank " + collection_; }

  protected:
    Result<bool> NextImpl(RowBatch* batch) override;

  private:
    std::string collection_;
};

}  // namespace phenix::query
