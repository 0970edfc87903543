// SPDX-License-Identifier: Apache-2.0
//
// GraphOperators — the graph operators DatabaseImpl owns (docs/architecture.md): Traverse,
// FindPaths, ShortestPath and Degree at a read view, and the graph side of a search with a graph
// constraint (the plan choice and the neighbourhood expansion), over the graph module's
// algorithms (graph/traversal.h) and the storage adjacency source (storage_adjacency.h).
// Implemented in graph_ops.cc; the public entry points (lock, snapshot) stay DatabaseImpl's.
//
// The catalog lock, the catalog and the graph caches are the owner's (DatabaseImpl::catalog_mu_,
// catalog_, graph_caches_), shared by reference: every operator runs with the lock held shared,
// which keeps the collections and the caches in place. As the analysis cannot tell that the
// owner's lock and this object's reference are the same mutex, the owner asserts catalog_mu()
// before calling. The record reads it needs of the read path come through hooks.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/db.h>

#include "common/mutex.h"
#include "engine/catalog.h"
#include "engine/graph_caches.h"
#include "graph/traversal.h"
#include "storage/store.h"
#include "txn/read_view.h"
#include "txn/write_set.h"

namespace phenix::engine {

class GraphOperators {
  public:
    /// What the operators need of the owner's read path. Called with the catalog lock held.
    struct Hooks {
        /// The row of the entity `id` at `view` (nullopt: none).
        std::function<Result<std::optional<storage::RowId>>(
            const CollectionHandle& handle, std::string_view id, const txn::ReadView& view)>
            lookup_row;
        /// Live entities of the collection (the counter every commit keeps).
        std::function<Result<std::uint64_t>(const CollectionHandle& handle)> row_count;
    };

    /// `catalog_mu`, `catalog` and `graph_caches` are the owner's (see the file comment); they,
    /// `options` and `store` must outlive this object.
    GraphOperators(const Options& options, storage::Store& store, SharedMutex& catalog_mu,
                   const std::unique_ptr<Catalog>& catalog,
                   const std::unique_ptr<GraphCaches>& graph_caches, Hooks hooks);
    GraphOperators(const GraphOperators&) = delete;
    GraphOperators& operator=(const GraphOperators&) = delete;

    /// The owner's catalog lock (see the file comment).
    SharedMutex& catalog_mu() const RETURN_CAPABILITY(catalog_mu_) { return catalog_mu_; }

    [[nodiscard]] graph::TraversalLimits TraversalLimitsFromOptions() const;
    // REQUIRES catalog_mu_ shared (all below).
    // The graph side of a search with a graph constraint: expand the neighbourhood, or search
    // first and check candidates (graph::NeighbourhoodProbe), chosen from a degree-based
    // estimate of the neighbourhood's size against the exact-scan threshold.
    struct GraphPlanChoice {
        graph::ExpandSpec spec;  // resolved start and edge predicate (start excluded)
        GraphPlan plan = GraphPlan::kExpand;
        double estimated_rows = 0;
        std::string reason;  // for EXPLAIN
    };
    Result<GraphPlanChoice> ChooseGraphPlan(const CollectionHandle& handle,
                                            const SearchOptions& options,
                                            std::uint64_t rows_in_collection,
                                            graph::AdjacencySource& source,
                                            const txn::ReadView& view) const
        REQUIRES_SHARED(catalog_mu_);
    // The constraint's neighbourhood, unsorted (by depth in discovery order).
    Result<graph::ExpandResult> ExpandLocked(const CollectionHandle& handle,
                                             const GraphConstraint& spec, bool include_start,
                                             const txn::ReadView& view,
                                             const txn::WriteSet* own_writes,
                                             bool collect_ids) const REQUIRES_SHARED(catalog_mu_);
    Result<TraversalResponse> TraverseLocked(const CollectionRef& collection,
                                             const TraversalSpec& spec, const txn::ReadView& view,
                                             const txn::WriteSet* own_writes) const
        REQUIRES_SHARED(catalog_mu_);
    Result<PathsResponse> FindPathsLocked(const CollectionRef& collection, const PathSpec& spec,
                                          const txn::ReadView& view,
                                          const txn::WriteSet* own_writes) const
        REQUIRES_SHARED(catalog_mu_);
    Result<std::optional<GraphPath>> ShortestPathLocked(const CollectionRef& collection,
                                                        const ShortestPathSpec& spec,
                                                        const txn::ReadView& view,
                                                        const txn::WriteSet* own_writes) const
        REQUIRES_SHARED(catalog_mu_);
    Result<std::uint64_t> DegreeLocked(const CollectionRef& collection, std::string_view id,
                                       EdgeDirection direction, const EdgeMatch& edges,
                                       const txn::ReadView& view,
                                       const txn::WriteSet* own_writes) const
        REQUIRES_SHARED(catalog_mu_);

  private:
    Result<graph::EdgePredicate> MakeEdgePredicate(const EdgeMatch& match) const;
    Status CheckHops(std::uint32_t min_hops, std::uint32_t max_hops) const;
    Result<graph::NodeRef> ResolveNode(const CollectionHandle& handle, std::string_view id,
                                       const txn::ReadView& view) const
        REQUIRES_SHARED(catalog_mu_);
    // The collection of a node, memoised in `seen` for one call. Corruption if it is gone.
    Result<std::shared_ptr<CollectionHandle>> CollectionOfNode(
        storage::CollectionId id, std::vector<std::shared_ptr<CollectionHandle>>& seen) const
        REQUIRES_SHARED(catalog_mu_);
    // External ids (and collections) of nodes, in order: known[idx] (ids carried by the edges a
    // traversal followed) where present and not empty, else from the records (one MultiGet).
    Result<std::vector<PathNode>> DescribeNodes(const std::vector<graph::NodeRef>& nodes,
                                                const std::vector<std::string_view>& known,
                                                const txn::ReadView& view) const
        REQUIRES_SHARED(catalog_mu_);
    // The graph module's paths with ids and collections (`start_id`: the id of every path's
    // first node).
    Result<std::vector<GraphPath>> ToGraphPaths(const std::vector<graph::Path>& paths,
                                                std::string_view start_id,
                                                const txn::ReadView& view) const
        REQUIRES_SHARED(catalog_mu_);
    // The start node and edge predicate of a graph constraint, checked (hops, labels).
    Result<graph::ExpandSpec> ResolveGraphConstraint(const CollectionHandle& handle,
                                                     const GraphConstraint& spec,
                                                     bool include_start,
                                                     const txn::ReadView& view) const
        REQUIRES_SHARED(catalog_mu_);
    Result<std::optional<storage::RowId>> LookupRow(const CollectionHandle& handle,
                                                    std::string_view id,
                                                    const txn::ReadView& view) const {
        return hooks_.lookup_row(handle, id, view);
    }
    Result<std::uint64_t> CollectionRowCount(const CollectionHandle& handle) const {
        return hooks_.row_count(handle);
    }

    const Options& options_;
    storage::Store* const store_;
    SharedMutex& catalog_mu_;
    const std::unique_ptr<Catalog>& catalog_ GUARDED_BY(catalog_mu_);
    const std::unique_ptr<GraphCaches>& graph_caches_ GUARDED_BY(catalog_mu_);
    const Hooks hooks_;
};

}  // namespace phenix::engine
