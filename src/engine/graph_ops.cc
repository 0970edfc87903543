// SPDX-License-Identifier: Apache-2.0
//
// The graph operators of the public API (Traverse, FindPaths, ShortestPath, Degree, and the
// graph constraint of Search) over the graph module's algorithms (graph/traversal.h).
//
// StorageAdjacency lists a node's edges at one snapshot: from the adjacency cache when it holds
// a list valid at the snapshot, else from the out_edges/in_edges column families (offering the
// list to the cache). A transaction's own edge writes are merged by the ReadView, and nodes
// whose edges the transaction changed bypass the cache. The commit hook invalidates the lists
// of every node whose edges a commit changes, before the commit becomes visible
// (graph/adjacency_cache.h explains why that keeps the cache exact under MVCC).
#include <algorithm>
#include <map>

#include <phenix/limits.h>

#include "common/coding.h"
#include "document/filter.h"
#include "engine/database_impl.h"
#include "engine/filter_eval.h"
#include "engine/validation.h"
#include "graph/adjacency_cache.h"
#include "graph/traversal.h"
#include "storage/entity_codec.h"
#include "storage/keys.h"

namespace phenix::engine {

using graph::NodeRef;
using storage::ColumnFamily;
using storage::RowId;

namespace {

class StorageAdjacency final : public graph::AdjacencySource {
  public:
    // `ids` (nullable) collects the external id of every node reached through an edge, so that
    // results need no record reads.
    StorageAdjacency(storage::TenantId tenant, const txn::ReadView& view,
                     const txn::WriteSet* own_writes, graph::AdjacencyCache* cache,
                     NodeIds* ids = nullptr)
        : tenant_(tenant), view_(view), own_writes_(own_writes), cache_(cache), ids_(ids) {}

    Status ForEachEdge(NodeRef node, graph::Direction dir, bool need_properties,
                       graph::FunctionRef<bool(const graph::EdgeView&)> visit) override {
        const ColumnFamily family =
            dir == graph::Direction::kOut ? ColumnFamily::kOutEdges : ColumnFamily::kInEdges;
        const std::string prefix = storage::EdgeRowPrefix(tenant_, node.collection, node.row);
        const bool overlaid = OverlayTouches(family, prefix);
        const bool cacheable = cache_ != nullptr && !overlaid;
        if (cacheable && !need_properties) {
            const bool hit =
                cache_->VisitWithIds(node, dir, view_.ts(),
                                     [&](const graph::CachedEdge& edge, std::string_view label,
                                         std::string_view other_id) {
                                         graph::EdgeView view = graph::ToEdgeView(edge, label, dir);
                                         view.other_id = other_id;
                                         Remember(view);
                                         return visit(view);
                                     });
            if (hit) {
                return Status::Ok();
            }
        }
        auto it = view_.NewIterator(family, prefix, storage::PrefixSuccessor(prefix));
        keys_.clear();
        views_.clear();
        properties_.clear();
        weights_.clear();
        other_ids_.clear();
        for (; it->Valid(); it->Next()) {
            storage::EdgeKey key;
            if (!storage::DecodeEdgeKey(it->key(), key)) {
                return Status::Corruption("malformed edge key");
            }
            PHENIX_ASSIGN_OR_RETURN(storage::EdgeValue value,
                                    storage::DecodeEdgeValue(it->value()));
            if (!cacheable) {
                // Visit as we go: there is no list to offer.
                const graph::EdgeView edge{.other = {key.other_collection, key.other_row},
                                           .label = key.label,
                                           .weight = value.weight,
                                           .properties = need_properties
                                                             ? std::string_view(value.properties)
                                                             : std::string_view(),
                                           .has_properties = !value.properties.empty(),
                                           .reversed = dir == graph::Direction::kIn,
                                           .other_id = value.other_external_id};
                Remember(edge);
                if (!visit(edge)) {
                    return it->status().ok() ? Status::Ok() : Status::IOError("reading edges");
                }
                continue;
            }
            keys_.push_back(std::move(key));
            weights_.push_back(value.weight);
            properties_.push_back(std::move(value.properties));
            other_ids_.push_back(std::move(value.other_external_id));
        }
        PHENIX_RETURN_IF_ERROR(it->status().WithContext("reading edges"));
        if (!cacheable) {
            return Status::Ok();
        }
        views_.reserve(keys_.size());
        for (std::size_t idx = 0; idx < keys_.size(); ++idx) {
            views_.push_back(ViewOf(idx, dir, need_properties));
        }
        cache_->Offer(node, dir, view_.ts(), views_);
        for (const graph::EdgeView& edge : views_) {
            Remember(edge);
            if (!visit(edge)) {
                break;
            }
        }
        return Status::Ok();
    }

  private:
    graph::EdgeView ViewOf(std::size_t idx, graph::Direction dir, bool need_properties) const {
        const storage::EdgeKey& key = keys_[idx];
        const std::string& properties = properties_[idx];
        return graph::EdgeView{
            .other = {key.other_collection, key.other_row},
            .label = key.label,
            .weight = weights_[idx],
            .properties = need_properties ? std::string_view(properties) : std::string_view(),
            .has_properties = !properties.empty(),
            .reversed = dir == graph::Direction::kIn,
            .other_id = other_ids_[idx]};
    }

    void Remember(const graph::EdgeView& edge) {
        if (ids_ != nullptr && !edge.other_id.empty()) {
            ids_->try_emplace(edge.other, edge.other_id);
        }
    }

    bool OverlayTouches(ColumnFamily family, const std::string& prefix) const {
        if (own_writes_ == nullptr) {
            return false;
        }
        const auto& map = own_writes_->map(family);
        auto it = map.lower_bound(prefix);
        return it != map.end() && it->first.starts_with(prefix);
    }

    storage::TenantId tenant_;
    const txn::ReadView& view_;
    const txn::WriteSet* own_writes_;
    graph::AdjacencyCache* cache_;
    NodeIds* ids_;
    std::vector<storage::EdgeKey> keys_;
    std::vector<std::string> other_ids_;
    std::vector<std::string> properties_;
    std::vector<double> weights_;
    std::vector<graph::EdgeView> views_;
};

// Node-level edge changes of a written batch (keys carry the commit timestamp at the end).
class EdgeChanges final : public rocksdb::WriteBatch::Handler {
  public:
    EdgeChanges(std::uint32_t out_cf, std::uint32_t in_cf) : out_cf_(out_cf), in_cf_(in_cf) {}

    rocksdb::Status PutCF(std::uint32_t cf, const rocksdb::Slice& key,
                          const rocksdb::Slice&) override {
        Note(cf, key);
        return rocksdb::Status::OK();
    }
    rocksdb::Status DeleteCF(std::uint32_t cf, const rocksdb::Slice& key) override {
        Note(cf, key);
        return rocksdb::Status::OK();
    }
    rocksdb::Status SingleDeleteCF(std::uint32_t cf, const rocksdb::Slice& key) override {
        Note(cf, key);
        return rocksdb::Status::OK();
    }
    rocksdb::Status MergeCF(std::uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
        return rocksdb::Status::OK();
    }
    rocksdb::Status DeleteRangeCF(std::uint32_t, const rocksdb::Slice&,
                                  const rocksdb::Slice&) override {
        return rocksdb::Status::OK();
    }

    // (node, direction) whose adjacency the batch changes.
    std::vector<std::pair<NodeRef, graph::Direction>> changed;

  private:
    void Note(std::uint32_t cf, const rocksdb::Slice& key) {
        if ((cf != out_cf_ && cf != in_cf_) || key.size() < storage::kRowPrefixBytes) {
            return;
        }
        const NodeRef node{coding::DecodeFixed32BE(key.data() + 4),
                           coding::DecodeFixed64BE(key.data() + storage::kCollectionPrefixBytes)};
        const graph::Direction dir = cf == out_cf_ ? graph::Direction::kOut : graph::Direction::kIn;
        if (changed.empty() || changed.back().first != node || changed.back().second != dir) {
            changed.emplace_back(node, dir);
        }
    }

    std::uint32_t out_cf_;
    std::uint32_t in_cf_;
};

graph::Direction ToDirection(EdgeDirection direction) {
    switch (direction) {
        case EdgeDirection::kOut:
            return graph::Direction::kOut;
        case EdgeDirection::kIn:
            return graph::Direction::kIn;
        case EdgeDirection::kBoth:
            return graph::Direction::kBoth;
    }
    return graph::Direction::kOut;
}

}  // namespace

// ---------------------------------------------------------------- cache upkeep

void DatabaseImpl::InvalidateAdjacency(const rocksdb::WriteBatch& wb, txn::Timestamp ts) {
    if (!adjacency_cache_) {
        return;
    }
    EdgeChanges changes(store_->cf(ColumnFamily::kOutEdges)->GetID(),
                        store_->cf(ColumnFamily::kInEdges)->GetID());
    (void)wb.Iterate(&changes);  // an in-memory batch RocksDB has just written
    for (const auto& [node, dir] : changes.changed) {
        adjacency_cache_->Invalidate(node, dir, ts);
    }
}

void DatabaseImpl::ResetAdjacencyCacheLocked() {
    if (options_.adjacency_cache_bytes == 0) {
        adjacency_cache_.reset();
        return;
    }
    // Every commit so far is at or below visible(); no snapshot that could offer an older
    // adjacency list may use the new cache (its watermark refuses them).
    adjacency_cache_ =
        std::make_unique<graph::AdjacencyCache>(options_.adjacency_cache_bytes, oracle_->visible());
}

// ---------------------------------------------------------------- shared pieces

Result<graph::EdgePredicate> DatabaseImpl::MakeEdgePredicate(const EdgeMatch& match) const {
    graph::EdgePredicate predicate;
    for (const std::string& label : match.labels) {
        if (label.empty() || label.size() > limits::kMaxEdgeLabelBytes) {
            return Status::InvalidArgument("edge label filter: labels are 1 to " +
                                           std::to_string(limits::kMaxEdgeLabelBytes) + " bytes");
        }
    }
    predicate.labels = match.labels;
    std::sort(predicate.labels.begin(), predicate.labels.end());
    predicate.labels.erase(std::unique(predicate.labels.begin(), predicate.labels.end()),
                           predicate.labels.end());
    predicate.min_weight = match.min_weight;
    predicate.max_weight = match.max_weight;
    if (!match.properties_filter.empty()) {
        auto parsed = document::ParseFilter(match.properties_filter);
        if (!parsed.ok()) {
            return parsed.status().WithContext("edge properties filter");
        }
        auto filter = std::make_shared<const document::Filter>(std::move(*parsed));
        predicate.properties = [filter](std::string_view properties) {
            auto matches = document::Matches(*filter, properties);
            return matches.ok() && *matches;
        };
    }
    return predicate;
}

graph::TraversalLimits DatabaseImpl::TraversalLimitsFromOptions() const {
    return graph::TraversalLimits{.max_depth = options_.max_traversal_depth,
                                  .max_nodes = options_.max_traversal_nodes,
                                  .max_edges = options_.max_traversal_edges,
                                  .max_paths = options_.max_traversal_paths};
}

Status DatabaseImpl::CheckHops(std::uint32_t min_hops, std::uint32_t max_hops) const {
    if (min_hops > max_hops) {
        return Status::InvalidArgument("min_hops (" + std::to_string(min_hops) +
                                       ") is greater than max_hops (" + std::to_string(max_hops) +
                                       ")");
    }
    if (max_hops > options_.max_traversal_depth) {
        return Status::InvalidArgument("max_hops " + std::to_string(max_hops) +
                                       " exceeds the traversal depth limit " +
                                       std::to_string(options_.max_traversal_depth) +
                                       " (Options::max_traversal_depth, at most " +
                                       std::to_string(limits::kMaxTraversalDepth) + ")");
    }
    return Status::Ok();
}

Result<NodeRef> DatabaseImpl::ResolveNode(const CollectionHandle& handle, std::string_view id,
                                          const txn::ReadView& view) const {
    PHENIX_RETURN_IF_ERROR(ValidateEntityId(id));
    PHENIX_ASSIGN_OR_RETURN(auto row, LookupRow(handle, id, view));
    if (!row) {
        return Status::NotFound("entity " + QuoteForMessage(id) + " not found in collection '" +
                                handle.ref().ToString() + "'");
    }
    return NodeRef{handle.id(), *row};
}

Result<std::vector<PathNode>> DatabaseImpl::DescribeNodes(const std::vector<NodeRef>& nodes,
                                                          const txn::ReadView& view,
                                                          const NodeIds* known) const {
    std::vector<PathNode> out(nodes.size());
    std::vector<std::string> keys;
    std::vector<std::size_t> unknown;  // positions whose id must be read from the record
    keys.reserve(nodes.size());
    std::map<storage::CollectionId, std::shared_ptr<CollectionHandle>> handles;
    for (std::size_t idx = 0; idx < nodes.size(); ++idx) {
        auto& handle = handles[nodes[idx].collection];
        if (!handle) {
            handle = catalog_->FindById(nodes[idx].collection);
            if (!handle) {
                return Status::Corruption("an edge refers to collection id " +
                                          std::to_string(nodes[idx].collection) +
                                          ", which does not exist");
            }
        }
        out[idx].collection = handle->ref();
        if (known != nullptr) {
            if (auto it = known->find(nodes[idx]); it != known->end()) {
                out[idx].id = it->second;
                continue;
            }
        }
        unknown.push_back(idx);
        keys.push_back(storage::EntityKey(handle->tenant_id, handle->id(), nodes[idx].row));
    }
    if (keys.empty()) {
        return out;
    }
    std::vector<std::string_view> key_views(keys.begin(), keys.end());
    PHENIX_ASSIGN_OR_RETURN(auto records, view.MultiGet(ColumnFamily::kEntities, key_views));
    for (std::size_t pos = 0; pos < records.size(); ++pos) {
        const std::size_t idx = unknown[pos];
        if (!records[pos]) {
            return Status::Corruption("an edge points to row " + std::to_string(nodes[idx].row) +
                                      " of collection '" + out[idx].collection.ToString() +
                                      "', which has no entity (run Verify)");
        }
        PHENIX_ASSIGN_OR_RETURN(std::string_view id, storage::DecodeEntityRecordId(*records[pos]));
        out[idx].id = std::string(id);
    }
    return out;
}

Result<GraphPath> DatabaseImpl::ToGraphPath(const graph::Path& path, const txn::ReadView& view,
                                            const NodeIds* known) const {
    PHENIX_ASSIGN_OR_RETURN(std::vector<PathNode> nodes, DescribeNodes(path.nodes, view, known));
    GraphPath out;
    out.total_weight = path.total_weight;
    for (std::size_t idx = 0; idx < path.edges.size(); ++idx) {
        const graph::PathStep& step = path.edges[idx];
        EdgeRecord edge;
        edge.label = step.label;
        edge.weight = step.weight;
        edge.properties = step.properties;
        const PathNode& from = step.reversed ? nodes[idx + 1] : nodes[idx];
        const PathNode& to = step.reversed ? nodes[idx] : nodes[idx + 1];
        edge.source = from.collection;
        edge.source_id = from.id;
        edge.target = to.collection;
        edge.target_id = to.id;
        out.edges.push_back(std::move(edge));
    }
    out.nodes = std::move(nodes);
    return out;
}

// ---------------------------------------------------------------- operators

Result<graph::ExpandResult> DatabaseImpl::ExpandLocked(
    const CollectionHandle& handle, const GraphConstraint& spec, bool include_start,
    const txn::ReadView& view, const txn::WriteSet* own_writes, NodeIds* ids) const {
    PHENIX_RETURN_IF_ERROR(CheckHops(spec.min_hops, spec.max_hops));
    PHENIX_ASSIGN_OR_RETURN(NodeRef start, ResolveNode(handle, spec.start_id, view));
    PHENIX_ASSIGN_OR_RETURN(graph::EdgePredicate predicate, MakeEdgePredicate(spec.edges));
    if (ids != nullptr) {
        ids->try_emplace(start, spec.start_id);
    }
    StorageAdjacency source(handle.tenant_id, view, own_writes, adjacency_cache_.get(), ids);
    graph::ExpandSpec expand{.starts = {start},
                             .min_hops = spec.min_hops,
                             .max_hops = spec.max_hops,
                             .direction = ToDirection(spec.direction),
                             .edge = std::move(predicate),
                             .include_starts = include_start};
    return graph::Expand(source, expand, TraversalLimitsFromOptions());
}

Result<TraversalResponse> DatabaseImpl::TraverseLocked(const CollectionRef& collection,
                                                       const TraversalSpec& spec,
                                                       const txn::ReadView& view,
                                                       const txn::WriteSet* own_writes) const {
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    const GraphConstraint constraint{.start_id = spec.start_id,
                                     .min_hops = spec.min_hops,
                                     .max_hops = spec.max_hops,
                                     .direction = spec.direction,
                                     .edges = spec.edges};
    NodeIds ids;
    PHENIX_ASSIGN_OR_RETURN(
        graph::ExpandResult expanded,
        ExpandLocked(*handle, constraint, spec.include_start, view, own_writes, &ids));
    TraversalResponse response;
    response.edges_examined = expanded.edges_examined;
    const std::size_t limit =
        spec.limit == 0 ? static_cast<std::size_t>(options_.max_traversal_nodes) : spec.limit;
    if (expanded.nodes.size() > limit) {
        expanded.nodes.resize(limit);
        response.truncated = true;
    }
    std::vector<NodeRef> nodes;
    nodes.reserve(expanded.nodes.size());
    for (const graph::ReachedNode& reached : expanded.nodes) {
        nodes.push_back(reached.node);
    }
    PHENIX_ASSIGN_OR_RETURN(std::vector<PathNode> described, DescribeNodes(nodes, view, &ids));
    response.entities.reserve(described.size());
    for (std::size_t idx = 0; idx < described.size(); ++idx) {
        response.entities.push_back(
            ReachedEntity{.collection = std::move(described[idx].collection),
                          .id = std::move(described[idx].id),
                          .depth = expanded.nodes[idx].depth});
    }
    // Nearest first, then by collection and id (Expand orders by row).
    std::stable_sort(response.entities.begin(), response.entities.end(),
                     [](const ReachedEntity& a, const ReachedEntity& b) {
                         if (a.depth != b.depth) {
                             return a.depth < b.depth;
                         }
                         if (a.collection.tenant != b.collection.tenant) {
                             return a.collection.tenant < b.collection.tenant;
                         }
                         if (a.collection.name != b.collection.name) {
                             return a.collection.name < b.collection.name;
                         }
                         return a.id < b.id;
                     });
    return response;
}

Result<PathsResponse> DatabaseImpl::FindPathsLocked(const CollectionRef& collection,
                                                    const PathSpec& spec, const txn::ReadView& view,
                                                    const txn::WriteSet* own_writes) const {
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    PHENIX_RETURN_IF_ERROR(CheckHops(spec.min_hops, spec.max_hops));
    PHENIX_ASSIGN_OR_RETURN(NodeRef start, ResolveNode(*handle, spec.start_id, view));
    std::optional<NodeRef> end;
    if (!spec.end_id.empty()) {
        auto end_handle = handle;
        if (!spec.end_collection.empty() && spec.end_collection != handle->name) {
            PHENIX_ASSIGN_OR_RETURN(end_handle,
                                    catalog_->Resolve({handle->tenant_name, spec.end_collection}));
        }
        PHENIX_ASSIGN_OR_RETURN(end, ResolveNode(*end_handle, spec.end_id, view));
    }
    PHENIX_ASSIGN_OR_RETURN(graph::EdgePredicate predicate, MakeEdgePredicate(spec.edges));
    graph::TraversalLimits limits = TraversalLimitsFromOptions();
    if (spec.limit != 0) {
        limits.max_paths = std::min<std::uint64_t>(limits.max_paths, spec.limit);
    }
    NodeIds ids;
    ids.try_emplace(start, spec.start_id);
    StorageAdjacency source(handle->tenant_id, view, own_writes, adjacency_cache_.get(), &ids);
    graph::PathSpec path_spec{.start = start,
                              .end = end,
                              .min_hops = spec.min_hops,
                              .max_hops = spec.max_hops,
                              .direction = ToDirection(spec.direction),
                              .edge = std::move(predicate)};
    PHENIX_ASSIGN_OR_RETURN(graph::FindPathsResult found,
                            graph::FindPaths(source, path_spec, limits));
    PathsResponse response;
    response.truncated = found.truncated;
    for (const graph::Path& path : found.paths) {
        PHENIX_ASSIGN_OR_RETURN(GraphPath converted, ToGraphPath(path, view, &ids));
        response.paths.push_back(std::move(converted));
    }
    return response;
}

Result<std::optional<GraphPath>> DatabaseImpl::ShortestPathLocked(
    const CollectionRef& collection, const ShortestPathSpec& spec, const txn::ReadView& view,
    const txn::WriteSet* own_writes) const {
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    if (spec.max_hops != 0) {
        PHENIX_RETURN_IF_ERROR(CheckHops(0, spec.max_hops));
    }
    PHENIX_ASSIGN_OR_RETURN(NodeRef from, ResolveNode(*handle, spec.from_id, view));
    auto to_handle = handle;
    if (!spec.to_collection.empty() && spec.to_collection != handle->name) {
        PHENIX_ASSIGN_OR_RETURN(to_handle,
                                catalog_->Resolve({handle->tenant_name, spec.to_collection}));
    }
    PHENIX_ASSIGN_OR_RETURN(NodeRef to, ResolveNode(*to_handle, spec.to_id, view));
    PHENIX_ASSIGN_OR_RETURN(graph::EdgePredicate predicate, MakeEdgePredicate(spec.edges));
    NodeIds ids;
    ids.try_emplace(from, spec.from_id);
    StorageAdjacency source(handle->tenant_id, view, own_writes, adjacency_cache_.get(), &ids);
    graph::ShortestPathSpec path_spec{.from = from,
                                      .to = to,
                                      .direction = ToDirection(spec.direction),
                                      .edge = std::move(predicate),
                                      .max_hops = spec.max_hops};
    PHENIX_ASSIGN_OR_RETURN(std::optional<graph::Path> found,
                            graph::ShortestPath(source, path_spec, TraversalLimitsFromOptions()));
    if (!found) {
        return std::optional<GraphPath>();
    }
    PHENIX_ASSIGN_OR_RETURN(GraphPath converted, ToGraphPath(*found, view, &ids));
    return std::optional<GraphPath>(std::move(converted));
}

Result<std::uint64_t> DatabaseImpl::DegreeLocked(const CollectionRef& collection,
                                                 std::string_view id, EdgeDirection direction,
                                                 const EdgeMatch& edges, const txn::ReadView& view,
                                                 const txn::WriteSet* own_writes) const {
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    PHENIX_ASSIGN_OR_RETURN(NodeRef node, ResolveNode(*handle, id, view));
    PHENIX_ASSIGN_OR_RETURN(graph::EdgePredicate predicate, MakeEdgePredicate(edges));
    StorageAdjacency source(handle->tenant_id, view, own_writes, adjacency_cache_.get());
    return graph::Degree(source, node, ToDirection(direction), predicate);
}

// ---------------------------------------------------------------- public entry points

Result<TraversalResponse> DatabaseImpl::Traverse(const CollectionRef& collection,
                                                 const TraversalSpec& spec) {
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    SnapshotGuard snapshot(*oracle_);
    return TraverseLocked(collection, spec, txn::ReadView(*store_, snapshot.ts()), nullptr);
}

Result<PathsResponse> DatabaseImpl::FindPaths(const CollectionRef& collection,
                                              const PathSpec& spec) {
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    SnapshotGuard snapshot(*oracle_);
    return FindPathsLocked(collection, spec, txn::ReadView(*store_, snapshot.ts()), nullptr);
}

Result<std::optional<GraphPath>> DatabaseImpl::ShortestPath(const CollectionRef& collection,
                                                            const ShortestPathSpec& spec) {
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    SnapshotGuard snapshot(*oracle_);
    return ShortestPathLocked(collection, spec, txn::ReadView(*store_, snapshot.ts()), nullptr);
}

Result<std::uint64_t> DatabaseImpl::Degree(const CollectionRef& collection, std::string_view id,
                                           EdgeDirection direction, const EdgeMatch& edges) {
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    SnapshotGuard snapshot(*oracle_);
    return DegreeLocked(collection, id, direction, edges, txn::ReadView(*store_, snapshot.ts()),
                        nullptr);
}

Result<TraversalResponse> DatabaseImpl::TxnTraverse(TxnState& state,
                                                    const CollectionRef& collection,
                                                    const TraversalSpec& spec) {
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    return TraverseLocked(collection, spec, txn::ReadView(*store_, state.read_ts, &state.writes),
                          &state.writes);
}

Result<PathsResponse> DatabaseImpl::TxnFindPaths(TxnState& state, const CollectionRef& collection,
                                                 const PathSpec& spec) {
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    return FindPathsLocked(collection, spec, txn::ReadView(*store_, state.read_ts, &state.writes),
                           &state.writes);
}

Result<std::optional<GraphPath>> DatabaseImpl::TxnShortestPath(TxnState& state,
                                                               const CollectionRef& collection,
                                                               const ShortestPathSpec& spec) {
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    return ShortestPathLocked(collection, spec,
                              txn::ReadView(*store_, state.read_ts, &state.writes), &state.writes);
}

Result<std::uint64_t> DatabaseImpl::TxnDegree(TxnState& state, const CollectionRef& collection,
                                              std::string_view id, EdgeDirection direction,
                                              const EdgeMatch& edges) {
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    return DegreeLocked(collection, id, direction, edges,
                        txn::ReadView(*store_, state.read_ts, &state.writes), &state.writes);
}

}  // namespace phenix::engine
