// SPDX-License-Identifier: Apache-2.0
//
// Ordering and limits over projected rows (their ORDER BY keys): TopK keeps the best k rows in
// a heap as they stream (ORDER BY ... LIMIT), Sort keeps them all (ORDER BY without LIMIT);
// both are stable (ties keep arrival order) and charge what they hold to the memory budget.
// Limit skips OFFSET rows and stops pulling its input after LIMIT rows (so an id-ordered scan
// below it stops early).
//
// Thread-compatible: one statement's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "query/operators/operator.h"

namespace phenix::query {

/// Orders rows by the statement's ORDER BY keys; `k` set: a top-k heap of k rows.
class SortOperator final : public PhysicalOperator {
  public:
    SortOperator(ExecState& state, std::optional<std::size_t> k) : PhysicalOperator(state), k_(k) {}
    [[nodiscard]] std::string Label() const override;
    [[nodiscard]] std::vector<std::string> Details() const override;

  protected:
    Result<bool> NextImpl(RowBatch* batch) override;

  private:
    [[nodiscard]] bool Better(const Row& a, const Row& b) const;
    Status Add(Row row);

    std::optional<std::size_t> k_;
    std::vector<Row> rows_;  // a heap (worst on top) while a top-k collects
    bool sorted_ = false;
    std::size_t next_ = 0;
};

class LimitOperator final : public PhysicalOperator {
  public:
    LimitOperator(ExecState& state, std::optional<std::size_t> limit, std::size_t offset)
        : PhysicalOperator(state), limit_(limit), offset_(offset) {}
    [[nodiscard]] std::string Label() const override;

  protected:
    Result<bool> NextImpl(RowBatch* batch) override;

  private:
    std::optional<std::size_t> limit_;
    std::size_t offset_;
    std::size_t skipped_ = 0;
    std::size_t returned_ = 0;
};

}  // namespace phenix::query
