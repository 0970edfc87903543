// SPDX-License-Identifier: Apache-2.0
//
// Vector search: the k entities of a collection nearest to a query vector, at the caller's
// snapshot (Database::Search reads the latest committed state; Transaction::Search its snapshot
// plus its own uncommitted writes). Results are exact with respect to visibility: a committed
// entity is searchable as soon as Commit returns, even before the HNSW graph has indexed it, and
// a deleted or replaced vector is never returned. See docs/vector-search.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/query.h>
#include <phenix/types.h>

namespace phenix {

/// How a filtered search runs (docs/vector-search.md, "Filtered search").
enum class SearchStrategy : std::uint8_t {
    kAuto,        ///< chosen per query from the filter's selectivity
    kExactScan,   ///< distance to every matching entity (small filters)
    kInGraph,     ///< HNSW search that only returns matching entities, routing through others
    kPostFilter,  ///< HNSW search with a larger ef, then drop non-matching (loose filters)
};
/// "auto", "exact_scan", "in_graph", "post_filter".
std::string_view SearchStrategyName(SearchStrategy strategy);

/// How a search with a graph constraint finds the graph's side (docs/graph.md, "Hybrid plans").
enum class GraphPlan : std::uint8_t {
    kAuto,         ///< chosen per query from an estimate of the neighbourhood's size
    kExpand,       ///< expand the whole neighbourhood, then search within it
    kVectorFirst,  ///< search first; check each candidate's own edges against reachability
};
/// "auto", "expand", "vector_first".
std::string_view GraphPlanName(GraphPlan plan);

struct SearchOptions {
    /// Number of results (1..10000).
    std::size_t k = 10;
    /// HNSW beam width; 0 uses the collection's hnsw.ef_search setting (default 64). Larger is
    /// more accurate and slower. Raised to k if smaller.
    std::uint32_t ef = 0;
    /// Only these entity ids may be returned (ids that do not exist are ignored). nullopt: all.
    std::optional<std::vector<std::string>> filter_ids;
    /// Only entities whose metadata matches this filter (JSON, include/phenix/query.h);
    /// empty: no metadata filter.
    std::string filter;
    /// Only entities reached from graph->start_id (in the searched collection) within the hop
    /// range. Combined with `filter` and `filter_ids` by AND.
    std::optional<GraphConstraint> graph;
    /// Forces a filtered-search strategy (for comparisons); kAuto lets the planner choose.
    SearchStrategy strategy = SearchStrategy::kAuto;
    /// Forces the graph plan (for comparisons); kAuto lets the planner choose. kVectorFirst
    /// needs min_hops <= 1 and no metadata `filter` (else the search expands).
    GraphPlan graph_plan = GraphPlan::kAuto;
    /// Run nothing: only fill the plan's graph choice and estimate (what EXPLAIN shows).
    bool estimate_only = false;
    /// Also return each hit's metadata / vector.
    bool include_metadata = false;
    bool include_vector = false;
};

struct SearchHit {
    std::string id;
    /// The collection's metric: squared L2, 1 - cosine similarity, or negative inner product.
    float distance = 0;
    std::string metadata;       ///< when include_metadata
    std::vector<float> vector;  ///< when include_vector
};

/// How the search ran (the basis of EXPLAIN).
struct SearchPlan {
    SearchStrategy strategy = SearchStrategy::kAuto;  ///< kAuto here means "no filter"
    double selectivity = 1.0;                         ///< matching entities / entities in the index
    std::uint64_t filter_rows = 0;                    ///< entities the filter allows
    /// The beam width the graph search ran with: the ef asked for (or the collection's
    /// default), raised to k, and widened by a post-filter search (ef / selectivity).
    std::uint32_t ef = 0;
    std::uint64_t distance_computations = 0;
    std::uint64_t unindexed_rows_scanned = 0;  ///< committed rows not yet in the graph
    bool fell_back_to_exact = false;           ///< the graph found fewer than k of >= k matches
    /// How the metadata filter and graph constraint were evaluated (empty without them).
    std::vector<std::string> filter_steps;
    /// Milliseconds spent building the filter's rows (the graph expansion, the metadata filter's
    /// bitmap) before the search proper; 0 when the filter is checked on the candidates.
    double filter_millis = 0;
    /// With a graph constraint: the plan that ran (kAuto: none), the estimated size of the
    /// neighbourhood, and why the plan was chosen.
    GraphPlan graph_plan = GraphPlan::kAuto;
    double graph_estimated_rows = 0;
    std::string graph_plan_reason;
};

struct SearchResponse {
    std::vector<SearchHit> hits;  ///< nearest first
    SearchPlan plan;
    /// The collection's metric, which the hits' distances are in.
    Metric metric = Metric::kL2;
};

/// State of a collection's vector index (Database::GetVectorIndexInfo).
struct VectorIndexInfo {
    std::uint32_t m = 0;
    std::uint32_t ef_construction = 0;
    std::uint32_t ef_search = 0;
    bool quantize_int8 = false;
    std::uint64_t nodes = 0;  ///< graph nodes (live, or kept for older snapshots)
    std::uint64_t live_nodes = 0;
    std::uint64_t unindexed_rows = 0;        ///< committed changes the graph has not absorbed yet
    std::uint64_t indexed_timestamp = 0;     ///< every commit at or below is in the graph
    std::uint64_t checkpoint_timestamp = 0;  ///< the last durable checkpoint covers this
    std::uint64_t vectors_bytes = 0;
    std::uint64_t graph_bytes = 0;
    std::uint64_t metadata_bytes = 0;
    /// Why the index stopped absorbing changes (empty while it works). Searches stay exact (the
    /// unabsorbed rows are scanned), but slower; RebuildVectorIndex reports the same error.
    std::string indexing_error;
    /// How the index was opened: from its checkpoint (then caught up from storage), or rebuilt
    /// from storage (no usable checkpoint: none yet, other settings, or a damaged file, named
    /// in checkpoint_rejected), or created with its collection.
    bool loaded_from_checkpoint = false;
    std::string checkpoint_rejected;  ///< why an existing checkpoint was not used (else empty)
};

}  // namespace phenix
