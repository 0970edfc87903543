// SPDX-License-Identifier: Apache-2.0
//
// VectorSearcher (vector_searcher.h): searches over the vector indexes (VectorIndexes,
// vector_indexes.h) with the metadata filter (cached results, checking it on candidates), the
// graph constraint and a transaction's own writes; the filter cache's commit hook; and
// DatabaseImpl's entry points Search and TxnSearch.
#include <algorithm>
#include <cmath>
#include <functional>
#include <mutex>

#include <rocksdb/write_batch.h>

#include <phenix/limits.h>

#include "common/coding.h"
#include "engine/batch_changes.h"
#include "engine/database_impl.h"
#include "engine/filter_cache.h"
#include "engine/filter_eval.h"
#include "engine/storage_adjacency.h"
#include "engine/validation.h"
#include "engine/vector_searcher.h"
#include "storage/catalog_codec.h"
#include "storage/entity_codec.h"
#include "storage/payload_cipher.h"

namespace phenix {

std::string_view SearchStrategyName(SearchStrategy strategy) {
    switch (strategy) {
        case SearchStrategy::kAuto:
            return "auto";
        case SearchStrategy::kExactScan:
            return "exact_scan";
        case SearchStrategy::kInGraph:
            return "in_graph";
        case SearchStrategy::kPostFilter:
            return "post_filter";
    }
    return "unknown";
}

std::string_view GraphPlanName(GraphPlan plan) {
    switch (plan) {
        case GraphPlan::kAuto:
            return "auto";
        case GraphPlan::kExpand:
            return "expand";
        case GraphPlan::kVectorFirst:
            return "vector_first";
    }
    return "unknown";
}

namespace engine {

using storage::ColumnFamily;
using storage::RowId;

namespace {

constexpr std::size_t kMaxK = 10000;
// Filters without a usable index on collections this large are checked on search candidates
// (below it, scanning every record is cheap anyway).
constexpr std::uint64_t kLazyFilterMinRows = 5000;
// The first round's candidates when checking such a filter on candidates (at least 4k and ef).
constexpr std::size_t kLazyFirstRound = 64;
// Cost model (µs, FilterEvaluator's): a record checked by point read vs one read by a scan.
constexpr double kRecordCheckCost = 2.0;
constexpr double kScanCost = 1.5;
// A graph search's cost per candidate of its beam (~12 distances and the heap work): 1.9-2.5 µs
// measured at beams of 4,096-10,000 on the Debian catalog.
constexpr double kGraphCandidateCost = 2.5;

index::FilterStrategy ToIndexStrategy(SearchStrategy strategy) {
    switch (strategy) {
        case SearchStrategy::kAuto:
            return index::FilterStrategy::kAuto;
        case SearchStrategy::kExactScan:
            return index::FilterStrategy::kExactScan;
        case SearchStrategy::kInGraph:
            return index::FilterStrategy::kInGraph;
        case SearchStrategy::kPostFilter:
            return index::FilterStrategy::kPostFilter;
    }
    return index::FilterStrategy::kAuto;
}

SearchStrategy FromIndexStrategy(index::FilterStrategy strategy) {
    switch (strategy) {
        case index::FilterStrategy::kExactScan:
            return SearchStrategy::kExactScan;
        case index::FilterStrategy::kInGraph:
            return SearchStrategy::kInGraph;
        case index::FilterStrategy::kPostFilter:
            return SearchStrategy::kPostFilter;
        case index::FilterStrategy::kAuto:
        case index::FilterStrategy::kNone:
            break;
    }
    return SearchStrategy::kAuto;
}

}  // namespace

// ---------------------------------------------------------------- filter cache

void VectorSearcher::RecordFilterChanges(const rocksdb::WriteBatch& wb, txn::Timestamp ts) {
    if (!filter_cache_.RecordCommit(ts)) {
        return;  // no cached filter results: nothing to log
    }
    EntityChanges changes(store_->cf(ColumnFamily::kEntities)->GetID());
    (void)wb.Iterate(&changes);  // an in-memory batch RocksDB has just written
    std::vector<RowId> rows;
    storage::CollectionId current = 0;
    auto flush = [&] {
        if (!rows.empty()) {
            filter_cache_.RecordChanges(current, ts, rows);
            rows.clear();
        }
    };
    for (const EntityChanges::Change& change : changes.changes) {
        const auto collection = coding::DecodeFixed32BE(change.key.data() + 4);
        if (collection != current) {
            flush();
            current = collection;
        }
        rows.push_back(storage::RowFromEntityKey(change.key));
    }
    flush();
}

// ---------------------------------------------------------------- search

Result<SearchResponse> VectorSearcher::SearchLocked(const CollectionRef& collection,
                                                    std::span<const float> query,
                                                    const SearchOptions& options,
                                                    const txn::ReadView& view,
                                                    const txn::WriteSet* own_writes) const {
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    if (!handle->record.dimension) {
        return Status::InvalidArgument("collection '" + handle->ref().ToString() +
                                       "' has no vectors (it was created without a dimension)");
    }
    if (options.k < 1 || options.k > kMaxK) {
        return Status::InvalidArgument("k must be from 1 to " + std::to_string(kMaxK) + ", not " +
                                       std::to_string(options.k));
    }
    if (options.ef > document::kMaxEf) {
        return Status::InvalidArgument("ef must be at most " + std::to_string(document::kMaxEf));
    }
    if (query.size() != *handle->record.dimension) {
        return Status::InvalidArgument("query vector has dimension " +
                                       std::to_string(query.size()) + "; collection '" +
                                       handle->ref().ToString() + "' has dimension " +
                                       std::to_string(*handle->record.dimension));
    }
    auto index = vector_indexes_->FindVectorIndex(handle->id());
    if (!index) {
        return Status::Internal("collection '" + handle->ref().ToString() +
                                "' has no vector index");
    }

    VectorSearchRequest request;
    request.query = query;
    request.k = options.k;
    request.ef = options.ef != 0 ? options.ef : index->settings().ef_search;
    request.snapshot = view.ts();
    request.strategy = ToIndexStrategy(options.strategy);

    index::RowBitmap filter;
    if (options.filter_ids) {
        for (const std::string& id : *options.filter_ids) {
            PHENIX_RETURN_IF_ERROR(ValidateEntityId(id));
            PHENIX_ASSIGN_OR_RETURN(auto row, LookupRow(*handle, id, view));
            if (row && *row <= index::kMaxRow) {
                filter.add(static_cast<std::uint32_t>(*row));
            }
        }
        request.filter = &filter;
    }

    // Graph constraint and metadata filter. The graph side is either expanded (its
    // neighbourhood is usually small), the filter evaluated within it, and the search restricted
    // to the result; or, for a large neighbourhood, left to a predicate that checks each
    // candidate of the search against reachability (graph::NeighbourhoodProbe). All combined
    // with filter_ids by AND.
    std::vector<std::string> filter_steps;
    graph::ExpandResult reached;  // expansion plan: the neighbourhood, with ids from its edges
    std::optional<GraphPlanChoice> graph_choice;
    std::optional<StorageAdjacency> graph_source;
    std::optional<graph::NeighbourhoodProbe> probe;
    std::function<bool(std::uint32_t)> graph_predicate;
    Status probe_error;
    std::shared_ptr<const index::RowBitmap> shared_filter;  // a cached result, when used
    std::optional<document::Filter> lazy_filter;  // an unindexed filter checked on candidates
    std::uint64_t collection_rows = 0;  // for the graph estimate and the filter's planner
    if (options.graph || !options.filter.empty()) {
        PHENIX_ASSIGN_OR_RETURN(collection_rows, CollectionRowCount(*handle));
    }
    SearchResponse response;
    response.metric = handle->record.metric;
    if (options.graph) {
        graph_source.emplace(handle->tenant_id, view, own_writes, graph_caches_->adjacency());
        graph_ops_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
        PHENIX_ASSIGN_OR_RETURN(
            graph_choice,
            graph_ops_->ChooseGraphPlan(*handle, options, collection_rows, *graph_source, view));
        response.plan.graph_plan = graph_choice->plan;
        response.plan.graph_estimated_rows = graph_choice->estimated_rows;
        response.plan.graph_plan_reason = graph_choice->reason;
    }
    if (options.estimate_only) {
        return response;
    }
    // Builds the filter from filter_ids, the expanded neighbourhood and the metadata filter (the
    // expansion plan; also the fallback of the vector-first plan).
    double filter_millis = 0;  // building the filter's rows (EXPLAIN ANALYZE's filter node)
    auto expand_and_filter = [&]() -> Status {
        const auto filter_start = std::chrono::steady_clock::now();
        struct AddElapsed {
            std::chrono::steady_clock::time_point start;
            double* total;
            ~AddElapsed() {
                *total += std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - start)
                              .count();
            }
        } add_elapsed{filter_start, &filter_millis};
        std::optional<index::RowBitmap> allowed;
        if (options.filter_ids) {
            allowed = filter;
        }
        if (options.graph) {
            graph::ExpandSpec spec = graph_choice->spec;
            spec.collect_ids = true;
            spec.sort = false;
            PHENIX_ASSIGN_OR_RETURN(
                reached,
                graph::Expand(*graph_source, spec, graph_ops_->TraversalLimitsFromOptions()));
            index::RowBitmap rows;
            for (const graph::ReachedNode& node : reached.nodes) {
                if (node.node.collection == handle->id() && node.node.row <= index::kMaxRow) {
                    rows.add(static_cast<std::uint32_t>(node.node.row));
                }
            }
            filter_steps.push_back("graph: " + std::to_string(rows.cardinality()) +
                                   " entities within " + std::to_string(options.graph->min_hops) +
                                   ".." + std::to_string(options.graph->max_hops) + " hops of " +
                                   QuoteForMessage(options.graph->start_id) + " (" +
                                   std::to_string(reached.edges_examined) + " edges examined)");
            if (allowed) {
                *allowed &= rows;
            } else {
                allowed = std::move(rows);
            }
        }
        if (!options.filter.empty()) {
            PHENIX_ASSIGN_OR_RETURN(document::Filter parsed, document::ParseFilter(options.filter));
            FilterPlan plan;
            FilterEvaluator evaluator(*store_, *handle, view, own_writes, collection_rows, &plan);
            if (allowed) {
                PHENIX_ASSIGN_OR_RETURN(index::RowBitmap matched,
                                        evaluator.EvaluateWithin(parsed, *allowed));
                allowed = std::move(matched);
            } else if (WritesCollection(own_writes, *handle)) {
                // The transaction's own writes decide its rows: no shared result applies.
                PHENIX_ASSIGN_OR_RETURN(index::RowBitmap matched, evaluator.Evaluate(parsed));
                allowed = std::move(matched);
            } else {
                PHENIX_ASSIGN_OR_RETURN(
                    FilterRows filtered,
                    FilterRowsForSearch(*handle, parsed, options.filter, collection_rows, view,
                                        evaluator, options.k, filter_steps));
                shared_filter = std::move(filtered.rows);
                lazy_filter = std::move(filtered.lazy);
            }
            for (std::string& step : plan.steps) {
                filter_steps.push_back(std::move(step));
            }
        }
        if (shared_filter) {
            request.filter = shared_filter.get();
        } else if (allowed) {
            filter = std::move(*allowed);
            request.filter = &filter;
        }
        return Status::Ok();
    };
    if (graph_choice && graph_choice->plan == GraphPlan::kVectorFirst) {
        PHENIX_ASSIGN_OR_RETURN(
            probe, graph::NeighbourhoodProbe::Build(*graph_source, graph_choice->spec,
                                                    graph_ops_->TraversalLimitsFromOptions()));
        const bool has_ids = options.filter_ids.has_value();
        graph_predicate = [&, has_ids](std::uint32_t row) {
            if (!probe_error.ok() || (has_ids && !filter.contains(row))) {
                return false;
            }
            Result<bool> in = probe->Contains(*graph_source, graph::NodeRef{handle->id(), row});
            if (!in.ok()) {
                probe_error = in.status();
                return false;
            }
            return *in;
        };
        request.filter = nullptr;
        request.predicate = &graph_predicate;
        request.predicate_rows = static_cast<std::uint64_t>(graph_choice->estimated_rows);
    } else if (options.graph || !options.filter.empty()) {
        PHENIX_RETURN_IF_ERROR(expand_and_filter());
    }

    // A transaction's own writes to this collection replace the snapshot's versions.
    index::RowBitmap exclude;
    std::vector<std::vector<float>> own_storage;
    std::vector<PendingVector> own_vectors;
    if (own_writes != nullptr) {
        const std::string prefix = storage::CollectionPrefix(handle->tenant_id, handle->id());
        const auto& entities = own_writes->map(ColumnFamily::kEntities);
        std::vector<RowId> rows;
        std::string plain;
        for (auto it = entities.lower_bound(prefix);
             it != entities.end() && it->first.starts_with(prefix); ++it) {
            const RowId row = storage::RowFromEntityKey(it->first);
            exclude.add(static_cast<std::uint32_t>(row));
            if (!it->second) {
                continue;
            }
            std::vector<float> vector;
            PHENIX_ASSIGN_OR_RETURN(std::string_view value,
                                    store_->payloads().Open(storage::PayloadKind::kEntity,
                                                            it->first, *it->second, plain));
            PHENIX_RETURN_IF_ERROR(storage::DecodeEntityRecordVector(value, vector));
            if (!vector.empty()) {
                own_storage.push_back(std::move(vector));
                rows.push_back(row);
            }
        }
        for (std::size_t i = 0; i < rows.size(); ++i) {
            own_vectors.push_back({rows[i], own_storage[i]});
        }
        if (!exclude.isEmpty()) {
            request.exclude = &exclude;
        }
        request.own_vectors = own_vectors;
    }

    VectorSearchResult found;
    if (lazy_filter) {
        PHENIX_ASSIGN_OR_RETURN(
            found, LazyFilteredSearch(*handle, *index, request, *lazy_filter, options.filter, view,
                               filter_steps));
    } else {
        PHENIX_ASSIGN_OR_RETURN(found, index->Search(request));
    }
    if (request.predicate != nullptr) {
        PHENIX_RETURN_IF_ERROR(probe_error);
        filter_steps.push_back("graph: vector-first, " + std::to_string(probe->checks()) +
                               " candidates checked against a ball of " +
                               std::to_string(probe->ball_size()) + " entities (" +
                               std::to_string(probe->edges_examined()) + " edges examined)");
        if (found.stats.incomplete) {
            // Fewer than k reachable candidates turned up: the neighbourhood is smaller than
            // estimated. Expand it after all (exact; the same answer the expansion plan gives).
            filter_steps.push_back("graph: fewer than k candidates reachable; expanded instead");
            response.plan.graph_plan = GraphPlan::kExpand;
            response.plan.graph_plan_reason += "; fell back to expand (fewer than k found)";
            request.predicate = nullptr;
            request.predicate_rows = 0;
            PHENIX_RETURN_IF_ERROR(expand_and_filter());
            PHENIX_ASSIGN_OR_RETURN(found, index->Search(request));
        }
    }
    response.plan.strategy = FromIndexStrategy(found.stats.strategy);
    response.plan.selectivity = found.stats.selectivity;
    response.plan.filter_rows = found.stats.filter_rows;
    response.plan.ef = static_cast<std::uint32_t>(found.stats.ef_searched);
    response.plan.distance_computations = found.stats.distance_computations;
    response.plan.unindexed_rows_scanned = found.unindexed_rows_scanned;
    response.plan.fell_back_to_exact = found.stats.fell_back_to_exact;
    response.plan.filter_steps = std::move(filter_steps);
    response.plan.filter_millis = filter_millis;
    // The id is the row's label in the index, or what the expanded neighbourhood's edges carry;
    // records (one MultiGet) only for the columns that need them and for rows without either
    // (e.g. a transaction's own write).
    response.hits.resize(found.neighbors.size());
    std::vector<bool> known(found.neighbors.size(), false);
    if (!options.include_metadata && !options.include_vector) {
        graph::NodeMap<std::uint32_t> unlabelled;
        for (std::size_t idx = 0; idx < found.neighbors.size(); ++idx) {
            const index::Neighbor& n = found.neighbors[idx];
            if (!n.label.empty()) {
                response.hits[idx].id = std::string(n.label);
                known[idx] = true;
            } else {
                unlabelled.TryEmplace(graph::NodeRef{handle->id(), n.row},
                                      static_cast<std::uint32_t>(idx));
            }
        }
        for (std::size_t idx = 0; idx < reached.nodes.size() && !unlabelled.empty() &&
                                  !reached.id_ends.empty();
             ++idx) {
            const std::uint32_t* hit = unlabelled.Find(reached.nodes[idx].node);
            if (hit != nullptr && !known[*hit] && !reached.id(idx).empty()) {
                response.hits[*hit].id = std::string(reached.id(idx));
                known[*hit] = true;
            }
        }
    }
    std::vector<std::string> keys;
    std::vector<std::size_t> unknown;
    for (std::size_t idx = 0; idx < found.neighbors.size(); ++idx) {
        response.hits[idx].distance = found.neighbors[idx].distance;
        if (!known[idx]) {
            unknown.push_back(idx);
            keys.push_back(
                storage::EntityKey(handle->tenant_id, handle->id(), found.neighbors[idx].row));
        }
    }
    if (!keys.empty()) {
        std::vector<std::string_view> key_views(keys.begin(), keys.end());
        PHENIX_ASSIGN_OR_RETURN(auto records, view.MultiGet(ColumnFamily::kEntities, key_views));
        std::string plain;
        for (std::size_t pos = 0; pos < records.size(); ++pos) {
            const std::size_t idx = unknown[pos];
            if (!records[pos]) {
                return Status::Corruption("collection '" + handle->ref().ToString() + "' has row " +
                                          std::to_string(found.neighbors[idx].row) +
                                          " in its vector index but no entity record");
            }
            PHENIX_ASSIGN_OR_RETURN(std::string_view value,
                                    store_->payloads().Open(storage::PayloadKind::kEntity,
                                                            key_views[pos], *records[pos], plain));
            PHENIX_ASSIGN_OR_RETURN(storage::EntityRecord record,
                                    storage::DecodeEntityRecord(value));
            SearchHit& hit = response.hits[idx];
            hit.id = std::move(record.external_id);
            if (options.include_metadata) {
                hit.metadata = std::move(record.metadata);
            }
            if (options.include_vector) {
                hit.vector = std::move(record.vector);
            }
        }
    }
    return response;
}

bool VectorSearcher::WritesCollection(const txn::WriteSet* writes, const CollectionHandle& handle) {
    if (writes == nullptr) {
        return false;
    }
    const std::string prefix = storage::CollectionPrefix(handle.tenant_id, handle.id());
    const auto& entities = writes->map(ColumnFamily::kEntities);
    auto it = entities.lower_bound(prefix);
    return it != entities.end() && it->first.starts_with(prefix);
}

Result<VectorSearcher::FilterRows> VectorSearcher::FilterRowsForSearch(
    const CollectionHandle& handle, const document::Filter& filter, std::string_view filter_text,
    std::uint64_t rows_in_collection, const txn::ReadView& view, FilterEvaluator& evaluator,
    std::size_t k, std::vector<std::string>& steps) const {
    FilterRows out;
    // A result cached at another snapshot, carried here by re-deciding the rows changed since.
    if (auto hit = filter_cache_.Lookup(handle.id(), filter_text, view.ts())) {
        if (hit->redecide.empty()) {
            out.rows = std::move(hit->rows);
        } else {
            index::RowBitmap changed;
            for (const RowId row : hit->redecide) {
                if (row <= index::kMaxRow) {
                    changed.add(static_cast<std::uint32_t>(row));
                }
            }
            index::RowBitmap carried = *hit->rows - changed;
            PHENIX_ASSIGN_OR_RETURN(index::RowBitmap still,
                                    evaluator.MatchingAmong(filter, changed));
            carried |= still;
            out.rows = std::make_shared<const index::RowBitmap>(std::move(carried));
        }
        steps.push_back("filter: cached result (computed at " + std::to_string(hit->as_of) + "), " +
                        std::to_string(hit->redecide.size()) + " changed rows decided again, " +
                        std::to_string(out.rows->cardinality()) + " rows");
        return out;
    }
    // Without a usable index the bitmap needs every record: check the candidates the graph
    // search finds instead, unless the filter is estimated so selective that scanning the
    // collection once costs less than checking k / selectivity candidates.
    if (!evaluator.UsesAnIndex(filter) && rows_in_collection >= kLazyFilterMinRows) {
        const double estimate = std::max(1.0, evaluator.Estimate(filter));
        const double candidates =
            static_cast<double>(k) * static_cast<double>(rows_in_collection) / estimate;
        if (candidates * kRecordCheckCost < static_cast<double>(rows_in_collection) * kScanCost) {
            out.lazy = filter;
            return out;
        }
    }
    PHENIX_ASSIGN_OR_RETURN(index::RowBitmap matched,
                            EvaluateAndCacheFilter(handle, filter, filter_text, view, evaluator));
    out.rows = std::make_shared<const index::RowBitmap>(std::move(matched));
    return out;
}

Result<index::RowBitmap> VectorSearcher::EvaluateAndCacheFilter(const CollectionHandle& handle,
                                                                const document::Filter& filter,
                                                                std::string_view filter_text,
                                                                const txn::ReadView& view,
                                                                FilterEvaluator& evaluator) const {
    filter_cache_.EnableLogging(handle.id());  // before computing: its commits get logged
    PHENIX_ASSIGN_OR_RETURN(index::RowBitmap matched, evaluator.Evaluate(filter));
    filter_cache_.Insert(handle.id(), std::string(filter_text), view.ts(), matched);
    return matched;
}

Result<VectorSearchResult> VectorSearcher::LazyFilteredSearch(
    const CollectionHandle& handle, const CollectionVectorIndex& index, VectorSearchRequest request,
    const document::Filter& filter, std::string_view filter_text, const txn::ReadView& view,
    std::vector<std::string>& steps) const {
    // Widening rounds: the nearest `candidates` rows regardless of the filter, their records
    // checked (each once) in distance order, until k match or every row was a candidate. An
    // unindexed filter's estimate is a default selectivity, not a count, so the first round
    // assumes a loose filter (a small beam) and each round searches 4x more until k match,
    // then at most one more round widens the beam to ef / the selectivity seen. On the Debian
    // catalog a 10% filter then searches 64, 256 and ~512 candidates instead of the 4,000 the
    // default selectivity (0.5%) asked for.
    const std::size_t k = request.k;
    PHENIX_ASSIGN_OR_RETURN(std::uint64_t rows, CollectionRowCount(handle));
    FilterEvaluator evaluator(*store_, handle, view, nullptr, rows, nullptr);
    std::size_t candidates =
        std::min(kMaxK, std::max<std::size_t>({4 * k, request.ef, kLazyFirstRound}));
    index::RowBitmap checked_rows;
    index::RowBitmap matching;  // among checked_rows
    std::uint64_t checked = 0;
    std::uint64_t distance_computations = 0;
    for (;;) {
        VectorSearchRequest round = request;
        round.k = candidates;
        round.ef = std::max(request.ef, candidates);
        PHENIX_ASSIGN_OR_RETURN(VectorSearchResult found, index.Search(round));
        distance_computations += found.stats.distance_computations;
        index::RowBitmap rows_found;
        for (const index::Neighbor& n : found.neighbors) {
            if (n.row <= index::kMaxRow) {
                rows_found.add(static_cast<std::uint32_t>(n.row));
            }
        }
        const index::RowBitmap fresh = rows_found - checked_rows;
        PHENIX_ASSIGN_OR_RETURN(index::RowBitmap fresh_matching,
                                evaluator.MatchingAmong(filter, fresh));
        matching |= fresh_matching;
        checked_rows |= fresh;
        checked = checked_rows.cardinality();
        const bool exhausted = found.neighbors.size() < candidates;
        std::vector<index::Neighbor> kept;
        for (const index::Neighbor& n : found.neighbors) {
            if (kept.size() < k && n.row <= index::kMaxRow &&
                matching.contains(static_cast<std::uint32_t>(n.row))) {
                kept.push_back(n);
            }
        }
        // Enough matches: stop once the beam was as wide as a post-filter over-fetch at the
        // selectivity seen so far (ef / selectivity, what an indexed filter's post-filter
        // searches), so that checking on candidates costs the same recall as the index would.
        std::size_t wanted = candidates;
        if (kept.size() >= k && !matching.isEmpty()) {
            const double seen = static_cast<double>(matching.cardinality()) /
                                static_cast<double>(std::max<std::uint64_t>(1, checked));
            wanted = static_cast<std::size_t>(
                std::min(static_cast<double>(kMaxK),
                         std::ceil(static_cast<double>(std::max(request.ef, k)) / seen)));
        }
        // More rounds while short of k matches (4x the beam) or short of the over-fetch
        // (`wanted`), unless the next round costs more than deciding every record once and
        // searching the matches exactly.
        const bool need_more = !exhausted && (kept.size() < k || wanted > candidates);
        if (need_more) {
            const std::size_t next =
                kept.size() < k ? std::min<std::size_t>(candidates * 4, kMaxK) : wanted;
            const bool scan_instead =
                candidates >= kMaxK ||
                static_cast<double>(next) * (kGraphCandidateCost + kRecordCheckCost) >
                    static_cast<double>(rows) * kScanCost;
            if (!scan_instead) {
                candidates = next;
                continue;
            }
            // Cached like an indexed filter's rows: the next query with this filter starts from
            // them (FilterRowsForSearch looks the cache up first).
            PHENIX_ASSIGN_OR_RETURN(
                index::RowBitmap all,
                EvaluateAndCacheFilter(handle, filter, filter_text, view, evaluator));
            steps.push_back("filter: no usable index; " + std::to_string(checked) +
                            " candidates were not enough, scanned every record: " +
                            std::to_string(all.cardinality()) + " rows match (cached)");
            request.filter = &all;
            return index.Search(request);
        }
        steps.push_back("filter: no usable index; checked the records of the " +
                        std::to_string(checked) + " nearest candidates, " +
                        std::to_string(matching.cardinality()) + " match");
        found.neighbors = std::move(kept);
        found.stats.strategy = index::FilterStrategy::kPostFilter;
        found.stats.filter_rows = matching.cardinality();
        found.stats.selectivity = checked == 0 ? 1.0
                                               : static_cast<double>(matching.cardinality()) /
                                                     static_cast<double>(checked);
        found.stats.distance_computations = distance_computations;
        return found;
    }
}

Result<SearchResponse> DatabaseImpl::Search(const CollectionRef& collection,
                                            std::span<const float> query,
                                            const SearchOptions& options) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    SnapshotGuard snapshot(*oracle_);
    vector_searcher_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
    return vector_searcher_->SearchLocked(collection, query, options,
                                          txn::ReadView(*store_, snapshot.ts()), nullptr);
}

Result<SearchResponse> DatabaseImpl::TxnSearch(TxnState& state, const CollectionRef& collection,
                                               std::span<const float> query,
                                               const SearchOptions& options) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    vector_searcher_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
    return vector_searcher_->SearchLocked(collection, query, options,
                                          txn::ReadView(*store_, state.read_ts, &state.writes),
                                          &state.writes);
}

}  // namespace engine
}  // namespace phenix
