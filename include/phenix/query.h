// SPDX-License-Identifier: Apache-2.0
//
// Metadata filters, metadata indexes and graph traversal — the row-set producers that feed
// vector search (docs/metadata-indexes.md, docs/graph.md).
//
// Filters are MongoDB-style JSON on metadata paths:
//   {"category": "tech", "year": {"$gte": 2020}}
//   {"$or": [{"tags": {"$in": ["a", "b"]}}, {"author.name": {"$exists": true}}]}
// Operators: $eq $ne $gt $gte $lt $lte $in $nin $exists $type $like $and $or $not. $ne, $nin
// and $not are complements: they also match entities without the field (one meaning wherever
// a filter is written, PhenixQL's JSON form included; docs/decisions/0008). Paths are dot
// paths into the metadata object (an optional "metadata." prefix is accepted); arrays match if
// any element matches. Comparisons only match values of the same type: numbers (ints and floats
// compare as numbers), strings (byte order), timestamps (RFC 3339 strings, by instant),
// booleans, null.
//
// Everything here reads one snapshot: the latest committed state (Database), or a transaction's
// snapshot plus its own uncommitted writes (Transaction).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <phenix/types.h>

namespace phenix {

// ---------------------------------------------------------------- metadata indexes

/// State of a metadata index: a new index is kBuilding while it reads the existing entities
/// (writes continue meanwhile and are indexed as they commit), then kReady.
enum class IndexState : std::uint8_t { kBuilding, kReady };

struct MetadataIndexInfo {
    std::string path;  ///< canonical path, without the "metadata." prefix
    IndexState state = IndexState::kBuilding;
    /// Reads at or after this commit timestamp may use the index (0 while building).
    std::uint64_t ready_timestamp = 0;
    // Statistics (refreshed when about 10% of the collection changed, and by AnalyzeIndexes).
    std::uint64_t entries = 0;          ///< (value, entity) pairs; arrays add one per element
    std::uint64_t distinct_values = 0;  ///< distinct indexed values
    std::uint64_t statistics_timestamp = 0;
    /// The statistics as JSON: distinct values, most common values with counts, histogram.
    std::string statistics_json;
};

/// Called during long work with (done, total); total may be an estimate.
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

// ---------------------------------------------------------------- find

struct FindOptions {
    /// The filter (JSON, see above). Empty or "{}" matches every entity.
    std::string filter;
    /// At most this many ids are returned (1..limits::kMaxFindLimit); `count` is always exact.
    std::size_t limit = 100;
    /// Skip the ids, only count.
    bool count_only = false;
    /// Also return each matching entity's metadata (FindResponse::metadata), read with the
    /// records Find reads anyway.
    bool include_metadata = false;
    /// Run nothing: only fill plan.estimated_rows from the index statistics (what EXPLAIN
    /// shows); ids and count stay empty.
    bool estimate_only = false;
};

/// How a filter was evaluated (the basis of EXPLAIN).
struct FilterPlan {
    /// One line per predicate: how it ran ("index", "scan", "check") with estimated and
    /// actual rows, e.g. `category = 3: index, est 17012, actual 16974`.
    std::vector<std::string> steps;
    double estimated_rows = 0;  ///< the optimizer's estimate for the whole filter
    /// Whether some predicate of the filter has a usable metadata index. When none has, the
    /// estimate rests on default selectivities, not on statistics, and a nearest-neighbour
    /// search checks the filter on its candidates instead of building the filter's rows.
    bool uses_index = false;
    std::uint64_t rows_scanned = 0;  ///< entity records read and checked
    std::uint64_t index_entries_read = 0;
};

struct FindResponse {
    std::vector<std::string> ids;  ///< in row (insertion) order, at most `limit`
    /// With FindOptions::include_metadata: the metadata JSON of each entity of `ids`.
    std::vector<std::string> metadata;
    std::uint64_t count = 0;  ///< exact number of matching entities
    FilterPlan plan;
};

// ---------------------------------------------------------------- graph

/// Edge predicate for traversals: all given conditions must hold.
struct EdgeMatch {
    /// Follow only these labels; empty follows every label.
    std::vector<std::string> labels;
    std::optional<double> min_weight;  ///< inclusive
    std::optional<double> max_weight;  ///< inclusive
    /// A filter (same syntax as metadata filters) on the edge's properties object; empty: none.
    std::string properties_filter;
};

/// A k-hop expansion: every entity reachable from `start_id` by a walk of min_hops..max_hops
/// edges matching `edges` (docs/graph.md, "Semantics").
struct TraversalSpec {
    std::string start_id;
    std::uint32_t min_hops = 1;
    std::uint32_t max_hops = 1;
    EdgeDirection direction = EdgeDirection::kOut;
    EdgeMatch edges;
    /// Include the start entity when a walk in range returns to it (or min_hops == 0).
    bool include_start = false;
    /// At most this many entities are returned (0: Options::max_traversal_nodes). The traversal
    /// stops at the depth where it has enough (the first `limit` in result order).
    std::size_t limit = 0;
    /// Only entities of this collection (of the start's tenant) are returned, counted and
    /// filtered; others are still walked through. Empty: every collection, except with `filter`
    /// or `filter_ids`, which apply to the start's collection then.
    std::string end_collection;
    /// Only entities whose metadata matches this filter (syntax above); empty: no filter.
    /// Evaluated in the traversal's snapshot, with metadata indexes where they help.
    std::string filter;
    /// Only these entity ids (ids that do not exist are ignored). nullopt: all.
    std::optional<std::vector<std::string>> filter_ids;
    /// Count only: TraversalResponse::count is the number of matching entities (no limit) and
    /// `entities` stays empty; no entity is read unless `filter` needs it.
    bool count_only = false;
    /// Also return each returned entity's metadata / vector, read in one batch at the
    /// traversal's snapshot (only the returned page is read).
    bool include_metadata = false;
    bool include_vector = false;
};

struct ReachedEntity {
    CollectionRef collection;
    std::string id;
    std::uint32_t depth = 0;  ///< fewest hops (within the range) that reach it
};

struct TraversalResponse {
    std::vector<ReachedEntity> entities;  ///< nearest first, then by collection and id
    /// With include_metadata: the metadata JSON of each entity of `entities`, in order.
    std::vector<std::string> metadata;
    /// With include_vector: the vector of each entity of `entities` (empty if it has none).
    std::vector<std::vector<float>> vectors;
    std::uint64_t edges_examined = 0;
    bool truncated = false;  ///< more than `limit` entities were reached
    /// With count_only: the number of matching entities.
    std::uint64_t count = 0;
};

struct PathSpec {
    std::string start_id;
    /// Only paths ending at this entity (of `end_collection`, default: the start's); empty: any.
    std::string end_id;
    std::string end_collection;
    std::uint32_t min_hops = 1;
    std::uint32_t max_hops = 3;
    EdgeDirection direction = EdgeDirection::kOut;
    EdgeMatch edges;
    /// At most this many paths (0: Options::max_traversal_paths).
    std::size_t limit = 0;
    /// Without end_id: also the paths that return to the start with their last hop (cycles; a
    /// self-loop is one of one edge). With end_id equal to the start they are always included.
    bool include_cycles = false;
};

struct PathNode {
    CollectionRef collection;
    std::string id;
};

/// A path: nodes[0] -edges[0]-> nodes[1] ... ; edges are oriented as stored (an edge followed
/// against its direction has source = nodes[i+1]).
struct GraphPath {
    std::vector<PathNode> nodes;
    std::vector<EdgeRecord> edges;
    double total_weight = 0;
};

struct PathsResponse {
    std::vector<GraphPath> paths;
    bool truncated = false;  ///< more paths exist than `limit`
};

struct ShortestPathSpec {
    std::string from_id;
    std::string to_id;
    std::string to_collection;  ///< empty: the same collection as from_id
    EdgeDirection direction = EdgeDirection::kOut;
    EdgeMatch edges;
    /// 0: Options::max_traversal_depth.
    std::uint32_t max_hops = 0;
    /// Fewest edges instead of least weight (weights ignored); a bidirectional search, much
    /// cheaper on large graphs. Ties: the first path in stored edge order (docs/graph.md).
    bool unweighted = false;
};

/// Restricts a vector search to entities reached from a start entity (Search's `graph`).
struct GraphConstraint {
    std::string start_id;
    std::uint32_t min_hops = 1;
    std::uint32_t max_hops = 1;
    EdgeDirection direction = EdgeDirection::kOut;
    EdgeMatch edges;
    /// Include the start entity when a walk in range returns to it (a self-loop, a cycle) or
    /// min_hops == 0, as TraversalSpec::include_start does.
    bool include_start = false;
};

}  // namespace phenix
