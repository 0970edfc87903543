// SPDX-License-Identifier: Apache-2.0
//
// VectorSearcher — the read side of the vector subsystem DatabaseImpl owns (docs/architecture.md):
// a search at a read view over a collection's index (VectorIndexes, vector_indexes.h) with its
// filters (filter_ids, a metadata filter, a graph constraint through GraphOperators) and a
// transaction's own writes, and the filter cache (filter_cache.h) that carries a metadata
// filter's rows across snapshots, fed by the commit hook RecordFilterChanges. Implemented in
// vector_search.cc; the public entry points (lock, snapshot) stay DatabaseImpl's.
//
// The catalog lock, the catalog and the graph caches are the owner's (DatabaseImpl::catalog_mu_,
// catalog_, graph_caches_), shared by reference: a search runs with the lock held shared, which
// keeps the collections and the caches in place. As the analysis cannot tell that the owner's
// lock and this object's reference are the same mutex, the owner asserts catalog_mu() before
// calling. The row lookups it needs of the read path come through hooks.
//
// Thread-safe (the filter cache has its own lock).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/write_batch.h>

#include <phenix/db.h>

#include "common/mutex.h"
#include "engine/catalog.h"
#include "engine/filter_cache.h"
#include "engine/filter_eval.h"
#include "engine/graph_caches.h"
#include "engine/graph_operators.h"
#include "engine/vector_index.h"
#include "engine/vector_indexes.h"
#include "storage/store.h"
#include "txn/read_view.h"
#include "txn/write_set.h"

namespace phenix::engine {

class VectorSearcher {
  public:
    /// What the searcher needs of the owner's read path. Called with the catalog lock held.
    struct Hooks {
        /// The row of the entity `id` at `view` (nullopt: none).
        std::function<Result<std::optional<storage::RowId>>(
            const CollectionHandle& handle, std::string_view id, const txn::ReadView& view)>
            lookup_row;
        /// Live entities of the collection (the counter every commit keeps).
        std::function<Result<std::uint64_t>(const CollectionHandle& handle)> row_count;
    };

    /// `catalog_mu`, `catalog` and `graph_caches` are the owner's (see the file comment); they,
    /// `store`, `graph_ops` and `vector_indexes` must outlive this object.
    VectorSearcher(storage::Store& store, SharedMutex& catalog_mu,
                   const std::unique_ptr<Catalog>& catalog,
                   const std::unique_ptr<GraphCaches>& graph_caches, GraphOperators& graph_ops,
                   VectorIndexes& vector_indexes, Hooks hooks)
        : store_(&store),
          catalog_mu_(catalog_mu),
          catalog_(catalog),
          graph_caches_(graph_caches),
          graph_ops_(&graph_ops),
          vector_indexes_(&vector_indexes),
          hooks_(std::move(hooks)) {}
    VectorSearcher(const VectorSearcher&) = delete;
    VectorSearcher& operator=(const VectorSearcher&) = delete;

    /// The owner's catalog lock (see the file comment).
    SharedMutex& catalog_mu() const RETURN_CAPABILITY(catalog_mu_) { return catalog_mu_; }

    // Search at `view`; `own_writes` (a transaction's, or null) replace the snapshot's versions.
    Result<SearchResponse> SearchLocked(const CollectionRef& collection,
                                        std::span<const float> query, const SearchOptions& options,
                                        const txn::ReadView& view,
                                        const txn::WriteSet* own_writes) const
        REQUIRES_SHARED(catalog_mu_);
    // The commit hook: logs the rows `wb` changed for the filter cache (when it holds any).
    void RecordFilterChanges(const rocksdb::WriteBatch& wb, txn::Timestamp ts);

  private:
    using GraphPlanChoice = GraphOperators::GraphPlanChoice;

    // The rows a search's metadata filter allows: a cached result carried to the view's
    // snapshot, or computed (and cached); or, for a filter no index helps with, a request to
    // check it on the search's candidates instead (`lazy`). REQUIRES catalog_mu_ shared; the
    // reader has no own writes in the collection.
    struct FilterRows {
        std::shared_ptr<const index::RowBitmap> rows;
        std::optional<document::Filter> lazy;
    };
    Result<FilterRows> FilterRowsForSearch(const CollectionHandle& handle,
                                           const document::Filter& filter,
                                           std::string_view filter_text,
                                           std::uint64_t rows_in_collection,
                                           const txn::ReadView& view, FilterEvaluator& evaluator,
                                           std::size_t k, std::vector<std::string>& steps) const;
    // Every row of `filter` at the view's snapshot, cached under filter_text for later queries
    // (the cache's change log is enabled first, so commits after the snapshot are logged).
    Result<index::RowBitmap> EvaluateAndCacheFilter(const CollectionHandle& handle,
                                                    const document::Filter& filter,
                                                    std::string_view filter_text,
                                                    const txn::ReadView& view,
                                                    FilterEvaluator& evaluator) const;
    // A search whose unindexed filter is checked on the candidates, widening until k match (or
    // deciding every record when that is cheaper; that result is cached under filter_text).
    Result<VectorSearchResult> LazyFilteredSearch(
        const CollectionHandle& handle, const CollectionVectorIndex& index,
        VectorSearchRequest request, const document::Filter& filter, std::string_view filter_text,
        const txn::ReadView& view, std::vector<std::string>& steps) const;
    static bool WritesCollection(const txn::WriteSet* writes, const CollectionHandle& handle);
    Result<std::optional<storage::RowId>> LookupRow(const CollectionHandle& handle,
                                                    std::string_view id,
                                                    const txn::ReadView& view) const {
        return hooks_.lookup_row(handle, id, view);
    }
    Result<std::uint64_t> CollectionRowCount(const CollectionHandle& handle) const {
        return hooks_.row_count(handle);
    }

    // Immutable after construction.
    storage::Store* const store_;
    SharedMutex& catalog_mu_;
    const std::unique_ptr<Catalog>& catalog_ GUARDED_BY(catalog_mu_);
    const std::unique_ptr<GraphCaches>& graph_caches_ GUARDED_BY(catalog_mu_);
    GraphOperators* const graph_ops_;
    VectorIndexes* const vector_indexes_;
    const Hooks hooks_;

    // Metadata filter results for searches, and the log of changed rows that carries them
    // across snapshots (engine/filter_cache.h). Fed by the commit hook.
    mutable FilterCache filter_cache_{FilterCache::Limits{}};
};

}  // namespace phenix::engine
