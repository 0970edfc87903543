// SPDX-License-Identifier: Apache-2.0
//
// MATCH chains (patterns of two or more edges) as a pipeline of index nested-loop joins over
// adjacency: ChainStart binds the start node (its ids, checked against its conditions), and each
// ChainExpand takes the bindings its child hands up and expands one segment from one bound node
// to the next one, outward from the start (BoundChain::steps), so that every segment is an
// operator of its own in the tree and in EXPLAIN ANALYZE.
//
// A segment without an edge variable is one Database::Traverse per binding (the far node's
// distinct entities within the hop range, filtered by its conditions in the engine); one with an
// edge variable is one Database::FindPaths per binding (one row per path; one hop: the binding's
// edges), the far node read and checked here. A segment cut short by max_traversal_nodes or
// max_traversal_paths is an error (ResourceExhausted), never a partial answer.
//
// Rows carry one entity per node variable (Row::nodes, pattern order) and a path per segment
// with an edge variable (Row::segment_paths, its edges in the pattern's left-to-right order).
// What one binding expands to waits in the operator, charged to the memory budget, until it has
// been handed up in batches.
//
// Thread-compatible: one statement's.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <phenix/db.h>

#include "document/filter.h"
#include "query/operators/operator.h"
#include "query/operators/scan.h"

namespace phenix::query {

class ChainStartOperator final : public PhysicalOperator {
  public:
    ChainStartOperator(ExecState& state, NodeNeeds needs)
        : PhysicalOperator(state), needs_(needs) {}
    [[nodiscard]] std::string Label() const override;

  protected:
    Result<bool> NextImpl(RowBatch* batch) override;

  private:
    NodeNeeds needs_;
    bool done_ = false;
};

class ChainExpandOperator final : public PhysicalOperator {
  public:
    ChainExpandOperator(ExecState& state, ChainStep step, NodeNeeds needs)
        : PhysicalOperator(state), step_(step), needs_(needs) {}
    [[nodiscard]] std::string Label() const override;
    [[nodiscard]] std::vector<std::string> Details() const override;

  protected:
    Result<bool> NextImpl(RowBatch* batch) override;

  private:
    // Expands one binding into pending_ (its reached entities or paths).
    Status Expand(Row row);
    Status Traverse();
    Status FindPaths();
    // The next pending row into `batch`; false when the binding's rows are all handed up.
    Result<bool> EmitPending(RowBatch* batch);
    void ReleasePending();

    ChainStep step_;
    NodeNeeds needs_;                         // of the far node
    std::optional<document::Filter> filter_;  // the far node's metadata conditions (paths)
    std::optional<std::set<std::string>> ids_;
    bool prepared_ = false;

    RowBatch input_;
    std::size_t input_next_ = 0;
    bool input_done_ = false;

    // The binding being expanded and what it reached.
    Row base_;
    TraversalResponse reached_;
    std::vector<std::shared_ptr<const GraphPath>> paths_;
    std::size_t pending_next_ = 0;
    std::size_t pending_size_ = 0;
    std::size_t pending_bytes_ = 0;

    // For EXPLAIN ANALYZE.
    std::uint64_t bindings_ = 0;
    std::uint64_t edges_examined_ = 0;
    std::uint64_t reached_total_ = 0;
};

/// Segment `segment` of the chain as written: "(b)<-[:authored*1..2]-(c)".
std::string DescribeSegment(const BoundChain& chain, std::size_t segment);

}  // namespace phenix::query
