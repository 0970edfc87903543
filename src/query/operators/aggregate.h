// SPDX-License-Identifier: Apache-2.0
//
// Aggregate: GROUP BY and the aggregates (count, min, max, avg, sum), folding the input rows
// into their groups as they come (each group charged to the memory budget), then handing up one
// row per group (one row over no rows without GROUP BY) with every item's value, HAVING's hidden
// items last, and the ORDER BY keys. Over a counting source (Count, or an Expand that counts),
// the count arrives as the source's one row.
//
// Thread-compatible: one statement's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "query/operators/operator.h"

namespace phenix::query {

class AggregateOperator final : public PhysicalOperator {
  public:
    AggregateOperator(ExecState& state, bool input_is_count)
        : PhysicalOperator(state), input_is_count_(input_is_count) {}
    [[nodiscard]] std::string Label() const override { return "Aggregate"; }
    [[nodiscard]] std::vector<std::string> Details() const override;

  protected:
    Result<bool> NextImpl(RowBatch* batch) override;

  private:
    // Integer sums: 128 bits hold any sum of 2^64 int64 values exactly (a GCC/Clang extension).
    __extension__ typedef __int128 WideInt;
    struct Accumulator {
        std::uint64_t count = 0;
        double sum = 0;
        bool all_int = true;
        WideInt int_sum = 0;
        std::optional<QueryValue> best;
    };
    struct Group {
        std::vector<QueryValue> keys;
        std::vector<Accumulator> accumulators;
    };
    Status Accumulate(const Row& row);
    Status Finish();

    bool input_is_count_;
    std::map<std::string, Group> groups_;  // by the keys' normalised JSON text
    std::optional<std::uint64_t> count_;
    bool finished_ = false;
    std::vector<Row> out_;
    std::size_t next_ = 0;
};

}  // namespace phenix::query
