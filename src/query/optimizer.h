// SPDX-License-Identifier: Apache-2.0
//
// The optimizer: a logical plan (logical_plan.h) in, the physical operator tree that runs (and
// that EXPLAIN prints) out. It chooses, for each logical step, among the physical alternatives:
//
//   Get               id list (IdLookup) | the filter's rows from the metadata indexes
//                     (IndexFilter, or FilteredScan when no index serves it) | Scan; with
//                     ORDER BY id the scan's own order (no sort), stopped by the Limit above it;
//                     count(*) alone: Count (the filter's bitmap, no record read)
//   Order(distance)   over Get: vector-first (in-graph, post-filter), filter-first (exact scan of
//   + Get             the filter's rows), or ExactRank + TopK when the index cannot rank the
//                     distance (another metric, DESC); the costs come from the statistics'
//                     estimate and the vector index's own rule (index::ChooseFilterStrategy),
//                     and when a strategy is not forced the engine applies that same rule to the
//                     exact count at run time (one strategy logic)
//   Order(distance)   over Expand: graph-first or vector-first, chosen by the engine from its
//   + Expand          neighbourhood estimate (EXPLAIN asks it for that estimate)
//   Order             TopK (with LIMIT) or Sort; none when the input is already in order
//
// Errors: InvalidArgument with the position for plans that cannot run (ORDER BY distance
// without LIMIT, more than 10000 nearest neighbours); the statistics calls' errors.
//
// Thread-compatible: one statement's.
#pragma once

#include <memory>

#include <phenix/phenixql.h>

#include "query/logical_plan.h"
#include "query/operators/operator.h"

namespace phenix::query {

/// MATCH whose pattern can start from either node (BoundSelect::other_start): keeps the start
/// that reaches fewer entities (the start's degree along the pattern, raised to its hop count,
/// capped by the collection), switching `bound` to the other binding when that one is cheaper,
/// and records the comparison for EXPLAIN (BoundMatch::start_choice). A ranked MATCH (ORDER BY
/// distance) keeps its written start. Errors: the Degree calls'.
/// A MATCH chain (BoundSelect::chain): ChooseChainStart.
Status ChooseMatchStart(BoundSelect& bound, Database& db);

/// A MATCH chain: picks the start among the nodes with ids, and for a middle start the side
/// walked first, whose walk hands the fewest rows from segment to segment by the statistics (a
/// segment from the start: its ids' degree along it raised to the hop count, capped by the far
/// collection; a later one: the mean degree of a sample of the nodes reached before it; a node
/// with ids that is not the start: its ids' share of its collection). Sets BoundChain::start,
/// steps (with their estimates) and start_choice (for EXPLAIN). Errors: the Degree and
/// Traverse calls'.
Status ChooseChainStart(BoundSelect& bound, Database& db);

/// The physical tree for `plan`. With `mode` EXPLAIN, estimates are gathered for printing
/// (a graph pattern's degree, the engine's graph plan) that a plain run does not need.
Result<std::unique_ptr<PhysicalOperator>> Optimize(const LogicalNode& plan, ExecState& state,
                                                   ExplainMode mode);

}  // namespace phenix::query
