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
    /// for an over-fetch): 15-26 in the plans of the data kit and the Debian catalog, so 12 is
    /// on the graph's side. An exact scan computes one per matching row, read in row order.
    double graph_distances_per_ef = 12;
};

/// Whether an exact scan of the filter's rows costs less than a graph search: at most
/// exact_scan_max_rows or ef rows match, or fewer than the distances a graph search computes
/// to gather ef matches (graph_distances_per_ef * ef / selectivity). On 63,697 rows at ef 64,
/// a 10.5% filter is scanned (6,711 distances against ~7,300); on 200,000 rows, filters above
/// ~6.2% walk the graph.
[[nodiscard]] inline bool ExactScanIsCheaper(const FilterPlannerOptions& planner,
                                             double filter_rows, double total_rows, double ef) {
    if (filter_rows <= static_cast<double>(planner.exact_scan_max_rows) || filter_rows <= ef) {
        return true;
    }
    const double selectivity = total_rows > 0 ? filter_rows / total_rows : 1.0;
    return filter_rows <= planner.graph_distances_per_ef * ef / selectivity;
}

/// The strategy for `filter_rows` matching rows of `total_rows`, at beam width `ef`: an exact
/// scan when it is cheaper (and possible: `can_scan` is false for a predicate filter, whose rows
/// cannot be enumerated), else post-filter from post_filter_from, else in-graph.
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
