// SPDX-License-Identifier: Apache-2.0
//
// Project evaluates the select items (and the ORDER BY keys that are not items) on each input
// row, streaming; Distinct drops rows whose output values were seen before (the seen keys are
// charged to the memory budget).
//
// Thread-compatible: one statement's.
#pragma once

#include <string>
#include <unordered_set>
#include <vector>

#include "query/operators/operator.h"

namespace phenix::query {

class ProjectOperator final : public PhysicalOperator {
  public:
    explicit ProjectOperator(ExecState& state) : PhysicalOperator(state) {}
    [[nodiscard]] std::string Label() const override { return "Project"; }
    [[nodiscard]] std::vector<std::string> Details() const override;

  protected:
    Result<bool> NextImpl(RowBatch* batch) override;

  private:
    std::uint64_t next_seq_ = 0;
};

class DistinctOperator final : public PhysicalOperator {
  public:
    explicit DistinctOperator(ExecState& state) : PhysicalOperator(state) {}
    [[nodiscard]] std::string Label() const override { return "Distinct"; }

  protected:
    Result<bool> NextImpl(RowBatch* batch) override;

  private:
    std::unordered_set<std::string> seen_;
};

}  // namespace phenix::query
