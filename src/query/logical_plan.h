// SPDX-License-Identifier: Apache-2.0
//
// The logical plan of a SELECT: what the statement computes, as a tree of relational steps over
// a BoundSelect, before any access path is chosen. The optimizer (optimizer.h) turns it into
// physical operators, choosing among the alternatives each step has (scan, index filter or id
// list for Get; vector-first, filter-first or exact ranking for an Order by distance over Get;
// graph-first or vector-first for one over Expand; top-k or sort; a counting source for
// count(*)).
//
//   Limit (LIMIT / OFFSET)
//   └─ Order (ORDER BY: a distance first, or keys)
//      └─ Distinct
//         └─ Project (select items)          or   Filter (HAVING) ─ Aggregate (GROUP BY)
//            └─ Filter (residual WHERE)
//               └─ Get (collection, the engine's filter)   or   Expand (MATCH pattern)
//
// Thread-compatible: a value built per statement; it borrows the BoundSelect.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "query/binder.h"

namespace phenix::query {

enum class LogicalKind { kGet, kExpand, kFilter, kAggregate, kProject, kDistinct, kOrder, kLimit };

struct LogicalNode {
    LogicalKind kind = LogicalKind::kGet;
    std::unique_ptr<LogicalNode> child;  // none for kGet / kExpand

    // kFilter: the condition, over input rows or (HAVING) over aggregated rows.
    const Expr* condition = nullptr;
    bool over_groups = false;
    // kOrder: ORDER BY with its first key a distance (the bound statement's order_distance).
    bool by_distance = false;
    // kOrder: LIMIT + OFFSET rows are needed (nullopt: all); kLimit: LIMIT and OFFSET.
    std::optional<std::size_t> keep;
    std::optional<std::size_t> limit;
    std::size_t offset = 0;

    /// One line per node, indented: the logical tree (for tests and debugging).
    [[nodiscard]] std::string ToString() const;
};

/// The logical tree of `bound` (see the file comment); `bound` must outlive it.
std::unique_ptr<LogicalNode> BuildLogicalPlan(const BoundSelect& bound);

}  // namespace phenix::query
