// SPDX-License-Identifier: Apache-2.0
//
// Nearest-neighbour search: one Database::Search call (HNSW with a filter applied in the graph
// walk or after an over-fetch, or an exact scan of the filter's rows; with a graph constraint,
// graph-first or vector-first over a MATCH pattern's reach), whose hits it hands up nearest
// first. The engine builds the filter's rows (or expands the pattern) inside that call: the
// EngineStep child, with the rows and time the engine reports. The label names the strategy
// that ran; before running (EXPLAIN), the one the optimizer expects.
//
// Thread-compatible: one statement's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <phenix/db.h>

#include "query/operators/operator.h"

namespace phenix::query {

struct VectorSearchSpec {
    SearchOptions options;
    std::vector<float> query;
    bool filtered = false;                            // a metadata filter or ids (FROM collection)
    bool is_forced = false;                           // WITH (strategy = ...)
    SearchStrategy expected = SearchStrategy::kAuto;  // the optimizer's expectation
    bool is_graph = false;                            // MATCH: options.graph is set
    SearchPlan expected_graph;                        // MATCH: the engine's estimate-only plan
    bool wants_edges = false;  // edges are selected: read them (a hit has none)
    bool needs_start = false;  // MATCH: read the start node (selected, or filtered)
    std::string start_filter;  // MATCH: conditions on the start node
};

class VectorSearchOperator final : public PhysicalOperator {
  public:
    VectorSearchOperator(ExecState& state, VectorSearchSpec spec)
        : PhysicalOperator(state), spec_(std::move(spec)) {}
    [[nodiscard]] std::string Label() const override;
    [[nodiscard]] std::string_view Strategy() const override;

  protected:
    Result<bool> NextImpl(RowBatch* batch) override;

  private:
    Status Search();

    VectorSearchSpec spec_;
    std::optional<SearchPlan> ran_;
    std::optional<Entity> start_;
    std::vector<SearchHit> hits_;
    bool searched_ = false;
    std::size_t next_ = 0;
};

/// MATCH: the start node, read when a query reads it or filters it. nullopt in `*start` when it
/// is not needed; `*no_rows` when it does not exist or fails its conditions (the pattern then
/// has no rows).
Status ReadMatchStart(ExecState& state, bool needs_start, const std::string& start_filter,
                      std::optional<Entity>* start, bool* no_rows);

}  // namespace phenix::query
