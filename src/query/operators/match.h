// SPDX-License-Identifier: Apache-2.0
//
// MATCH sources: Expand walks the pattern from its start node with one Database::Traverse call
// (one row per reached entity; the engine filters the far node, pages, counts and reads only the
// fields the query uses) or one Database::FindPaths call (an edge variable: one row per path,
// far nodes read and checked here). A walk cut short by Options::max_traversal_paths is an
// error, never a silently partial answer.
//
// Thread-compatible: one statement's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <phenix/db.h>

#include "query/operators/operator.h"
#include "query/operators/scan.h"

namespace phenix::query {

struct ExpandSpec {
    bool paths = false;       // one row per path (FindPaths)
    bool count_only = false;  // count(*) alone: the traversal counts; one row with the count
    std::optional<std::size_t> limit;  // stop after this many rows (no ORDER BY, aggregate, ...)
    NodeNeeds needs;                   // of the far node
};

class ExpandOperator final : public PhysicalOperator {
  public:
    ExpandOperator(ExecState& state, ExpandSpec spec)
        : PhysicalOperator(state), spec_(std::move(spec)) {}
    [[nodiscard]] std::string Label() const override;

  protected:
    Result<bool> NextImpl(RowBatch* batch) override;

  private:
    Status Walk();
    Status WalkPaths(const std::optional<Entity>& start);

    ExpandSpec spec_;
    bool walked_ = false;
    std::vector<GraphPath> paths_;  // rows point here
    std::vector<Row> rows_;
    std::size_t next_ = 0;
};

/// The one-hop paths from `match.start_id` (in `ref`): each of its edges in `match.direction`
/// (out or in, not both) that `match.edge_match` accepts, as a two-node path, without the path
/// search's max_traversal_paths cap. NotFound when the start does not exist.
Result<PathsResponse> OneHopPaths(ExecState& state, const BoundMatch& match,
                                  const CollectionRef& ref);

/// The pattern's edge conditions as EXPLAIN prints them: "1..2 hops out, label r".
std::string DescribeEdges(const BoundMatch& match);

}  // namespace phenix::query
