// SPDX-License-Identifier: Apache-2.0
//
// The filtered-search planner's rule: which strategy a filtered nearest-neighbour search uses,
// from the number of rows the filter allows. One function for every caller: the HNSW search
// applies it to the filter's exact row count, PhenixQL's EXPLAIN to the statistics' estimate,
// so that what EXPLAIN shows and what runs come from the same rule.
//
// Thread safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace phenix::index {

enum class FilterStrategy : std::uint8_t {
    kAuto,        ///< choose by estimated selectivity (requests only)
    kNone,        ///< no filter
    kExactScan,   ///< distance to every matching row
    kInGraph,     ///< graph search that only returns matching nodes
    kPostFilter,  ///< graph search with a larger ef, then drop non-matching
};
[[nodiscard]] std::string_view FilterStrategyName(FilterStrategy strategy);

/// Tuning of the filtered-search planner (defaults measured on the data kit; see
/// docs/vector-search.md).
struct FilterPlannerOptions {
    /// Exact scan when at most this many rows match (or when k >= matches).
    std::uint64_t exact_scan_max_rows = 5000;
    /// Below this selectivity the in-graph search expands two hops from non-matching nodes.
    double two_hop_below = 0.3;
    /// At or above this selectivity: over-fetch by ef / selectivity, then filter. Measured on
    /// the data kit (docs/benchmarks.md): from ~5% the larger unfiltered beam is cheaper than
    /// the in-graph search's filter checks on two-hop neighbours.
    double post_filter_from = 0.05;
    /// Distances a filtered graph search computes per unit of the ef it needs (ef / selectivity
    /// for an over-fetch): 8.3-8.9 for post-filter searches on the medium kit, 15-26 in the plans
    /// of the Debian catalog.
    double graph_distances_per_ef = 12;
    /// What one distance of a graph search costs, in distances of an exact scan. The scan reads
    /// the filter's rows in row order (26-37 ns per row on the medium kit, 128-d); the graph
    /// search pays random access, the visited set and the heaps besides (130-139 ns per distance,
    /// the same run: docs/benchmarks.md, "Costed strategy choice (issue 13)"). Measured ~4; 3 stays
    /// on the graph's side.
    double graph_distance_cost = 3;
};

/// Whether an exact scan of the filter's rows costs less than a graph search: at most
/// exact_scan_max_rows or ef rows match, or scanning them costs less than the distances a graph
/// search computes to gather ef matches (graph_distances_per_ef * ef / selectivity), each
/// weighted graph_distance_cost. On 200,000 rows at ef 64 filters up to ~21,500 rows (10.7%)
/// are scanned; on 63,697 rows, up to ~12,100 (19%).
[[nodiscard]] inline bool ExactScanIsCheaper(const FilterPlannerOptions& planner,
                                             double filter_rows, double total_rows, double ef) {
    if (filter_rows <= static_cast<double>(planner.exact_scan_max_rows) || filter_rows <= ef) {
        return true;
    }
    const double selectivity = total_rows > 0 ? filter_rows / total_rows : 1.0;
    return filter_rows <=
           planner.graph_distance_cost * planner.graph_distances_per_ef * ef / selectivity;
}

[[nodiscard]] inline FilterStrategy ChooseFilterStrategy(const FilterPlannerOptions& planner,
                                                         double filter_rows, double total_rows,
                                                         double ef, bool can_scan = true) {
    if (can_scan && ExactScanIsCheaper(planner, filter_rows, total_rows, ef)) {
        return FilterStrategy::kExactScan;
    }
    const double selectivity = total_rows > 0 ? filter_rows / total_rows : 1.0;
    return selectivity >= planner.post_filter_from ? FilterStrategy::kPostFilter
                                                   : FilterStrategy::kInGraph;
}

}  // namespace phenix::index
