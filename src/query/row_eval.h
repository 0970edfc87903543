// SPDX-License-Identifier: Apache-2.0
//
// The one place where expressions are evaluated against a row: fields of the entity (or of a
// MATCH variable's node or edge), distances, constants, and conditions (SQL three-valued logic)
// over a row (a residual WHERE) or over an aggregated row's output columns (HAVING). Also the
// value order (ORDER BY, min/max), grouping keys and the sizes charged to the memory budget.
//
// Thread-compatible; a RowEvaluator borrows its BoundSelect.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <phenix/phenixql.h>
#include <phenix/result.h>

#include "query/binder.h"
#include "query/operators/row.h"

namespace phenix::query {

// ---- values ---------------------------------------------------------------------------------

/// Rank of a value's type in ORDER BY and min/max: NULL sorts last.
int TypeRank(const QueryValue& value);
double AsDouble(const QueryValue& value);
/// -1, 0, 1 in ORDER BY order (types by TypeRank, numbers by value).
int CompareValues(const QueryValue& a, const QueryValue& b);
/// Appends a value's grouping / DISTINCT key: numbers by value (2020 and 2020.0 are one key),
/// everything else by its JSON text.
void AppendKey(const QueryValue& value, std::string* key);
/// About how many bytes a value holds (for the memory budget).
std::size_t ValueBytes(const QueryValue& value);

// ---- distances ------------------------------------------------------------------------------

/// The engine's distance for `metric` (squared L2, 1 - cos, -dot), computed exactly; nullopt
/// when it is undefined (no vector, a zero vector under cosine).
std::optional<double> ExactDistance(Metric metric, std::span<const float> a,
                                    std::span<const float> b);
/// The distance as PhenixQL reports it (Euclidean L2, float precision).
double ReportedDistance(Metric metric, DistanceOp op, double engine_distance);

// ---- evaluation -----------------------------------------------------------------------------

class RowEvaluator {
  public:
    explicit RowEvaluator(const BoundSelect& bound) : b_(bound) {}

    /// A select item, ORDER BY or GROUP BY key, or aggregate argument on an input row.
    Result<QueryValue> Eval(const Expr& expr, const Row& row) const;
    /// A condition on an input row (a residual WHERE): TRUE keeps the row, FALSE and UNKNOWN
    /// drop it.
    Result<bool> Test(const Expr& condition, const Row& row) const;
    /// A HAVING condition (or operand) over one aggregated row: every item's value, hidden
    /// ones included.
    Result<QueryValue> EvalOutput(const Expr& expr, const std::vector<QueryValue>& row) const;

  private:
    Result<QueryValue> EvalPath(const Expr& expr, const Row& row) const;
    Result<QueryValue> EvalDistance(const DistanceExpr& distance, const Row& row) const;
    // AND / OR / NOT, comparisons, IN and IS NULL over `leaf`'s values of the other nodes.
    template <typename Leaf>
    Result<QueryValue> EvalCondition(const Expr& expr, const Leaf& leaf) const;

    const BoundSelect& b_;
};

}  // namespace phenix::query
