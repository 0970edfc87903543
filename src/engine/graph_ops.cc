// SPDX-License-Identifier: Apache-2.0
//
// The graph operators of the public API (Traverse, FindPaths, ShortestPath, Degree, and the
// graph constraint of Search) over the graph module's algorithms (graph/traversal.h).
// GraphOperators (graph_operators.h) implements them; the public entry points at the end, and
// the graph caches' upkeep, are DatabaseImpl's.
//
// StorageAdjacency lists a node's edges at one snapshot: from the adjacency cache when it holds
// a list valid at the snapshot, else from the out_edges/in_edges column families (offering the
// list to the cache). A transaction's own edge writes are merged by the ReadView, and nodes
// whose edges the transaction changed bypass the cache. The commit hook invalidates the lists
// of every node whose edges a commit changes, before the commit becomes visible
// (graph/adjacency_cache.h explains why that keeps the cache exact under MVCC).
#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <numeric>
#include <optional>
#include <tuple>

#include <phenix/limits.h>

#include "common/coding.h"
#include "document/filter.h"
#include "engine/database_impl.h"
#include "engine/filter_eval.h"
#include "engine/graph_operators.h"
#include "engine/storage_adjacency.h"
#include "engine/validation.h"
#include "graph/adjacency_cache.h"
#include "graph/traversal.h"
#include "storage/entity_codec.h"
#include "storage/keys.h"

namespace phenix::engine {

using graph::NodeRef;
using storage::ColumnFamily;
using storage::RowId;

// ---------------------------------------------------------------- StorageAdjacency

bool StorageAdjacency::OverlayTouches(ColumnFamily family, NodeRef node) const {
    if (own_writes_ == nullptr) {
        return false;
    }
    const std::string prefix = storage::EdgeRowPrefix(tenant_, node.collection, node.row);
    const auto& map = own_writes_->map(family);
    auto it = map.lower_bound(prefix);
    return it != map.end() && it->first.starts_with(prefix);
}

txn::ReadView::Iterator& StorageAdjacency::SeekEdges(ColumnFamily family, NodeRef node) {
    std::unique_ptr<txn::ReadView::Iterator>& it =
        family == ColumnFamily::kOutEdges ? out_it_ : in_it_;
    if (!it) {
        it = view_.NewSeekableIterator(family);
    }
    prefix_ = storage::EdgeRowPrefix(tenant_, node.collection, node.row);
    upper_ = storage::PrefixSuccessor(prefix_);
    it->Seek(prefix_, upper_);
    ++storage_reads_;
    return *it;
}

Result<graph::PackedListPtr> StorageAdjacency::ReadList(NodeRef node, graph::Direction dir) {
    if (!memoize_ || cache_ == nullptr) {
        return ReadListOnce(node, dir);
    }
    graph::NodeMap<graph::PackedListPtr>& memo =
        dir == graph::Direction::kOut ? memo_out_ : memo_in_;
    if (const graph::PackedListPtr* known = memo.Find(node)) {
        return *known;
    }
    PHENIX_ASSIGN_OR_RETURN(graph::PackedListPtr list, ReadListOnce(node, dir));
    if (list) {
        memo.TryEmplace(node, list);
    }
    return list;
}

Result<graph::PackedListPtr> StorageAdjacency::ReadListOnce(NodeRef node, graph::Direction dir) {
    if (cache_ == nullptr) {
        return graph::PackedListPtr();  // unpacked: the operators use ForEachEdge
    }
    const ColumnFamily family =
        dir == graph::Direction::kOut ? ColumnFamily::kOutEdges : ColumnFamily::kInEdges;
    const bool overlaid = OverlayTouches(family, node);
    if (!overlaid) {
        graph::PackedListPtr cached = cache_->Find(node, dir, view_.ts());
        if (cached) {
            return cached;
        }
    }
    txn::ReadView::Iterator& it = SeekEdges(family, node);
    graph::PackedListBuilder builder(cache_->labels());
    bool packed = true;
    for (; it.Valid(); it.Next()) {
        storage::EdgeKeyView key;
        if (!storage::DecodeEdgeKeyView(it.key(), key)) {
            return Status::Corruption("malformed edge key");
        }
        PHENIX_ASSIGN_OR_RETURN(std::string_view stored, OpenEdge(family, it));
        PHENIX_ASSIGN_OR_RETURN(storage::EdgeValueView value, storage::DecodeEdgeValueView(stored));
        packed =
            packed && builder.Add(graph::EdgeView{.other = {key.other_collection, key.other_row},
                                                  .label = key.label,
                                                  .weight = value.weight,
                                                  .has_properties = !value.properties.empty(),
                                                  .other_id = value.other_external_id});
    }
    PHENIX_RETURN_IF_ERROR(it.status().WithContext("reading edges"));
    if (!packed) {
        return graph::PackedListPtr();  // the label table is full: ForEachEdge serves it
    }
    graph::PackedListPtr list = builder.Finish();
    if (list && !overlaid) {
        (void)cache_->OfferPacked(node, dir, view_.ts(), list);
    }
    return list;
}

Status StorageAdjacency::ForEachEdge(NodeRef node, graph::Direction dir, bool need_properties,
                                     graph::FunctionRef<bool(const graph::EdgeView&)> visit) {
    const ColumnFamily family =
        dir == graph::Direction::kOut ? ColumnFamily::kOutEdges : ColumnFamily::kInEdges;
    const bool cacheable = cache_ != nullptr && !OverlayTouches(family, node);
    if (cacheable && !need_properties) {
        graph::PackedListPtr cached = cache_->Find(node, dir, view_.ts());
        if (cached) {
            for (std::size_t idx = 0; idx < cached->size(); ++idx) {
                if (!visit(cached->View(idx, dir))) {
                    break;
                }
            }
            return Status::Ok();
        }
    }
    txn::ReadView::Iterator& it = SeekEdges(family, node);
    std::optional<graph::PackedListBuilder> builder;
    if (cacheable) {
        builder.emplace(cache_->labels());
    }
    bool complete = true;
    for (; it.Valid(); it.Next()) {
        storage::EdgeKeyView key;
        if (!storage::DecodeEdgeKeyView(it.key(), key)) {
            return Status::Corruption("malformed edge key");
        }
        PHENIX_ASSIGN_OR_RETURN(std::string_view stored, OpenEdge(family, it));
        PHENIX_ASSIGN_OR_RETURN(storage::EdgeValueView value, storage::DecodeEdgeValueView(stored));
        const graph::EdgeView edge{
            .other = {key.other_collection, key.other_row},
            .label = key.label,
            .weight = value.weight,
            .properties = need_properties ? value.properties : std::string_view(),
            .has_properties = !value.properties.empty(),
            .reversed = dir == graph::Direction::kIn,
            .other_id = value.other_external_id};
        if (builder.has_value() && !builder->Add(edge)) {
            builder.reset();
        }
        if (!visit(edge)) {
            complete = false;
            break;
        }
    }
    PHENIX_RETURN_IF_ERROR(it.status().WithContext("reading edges"));
    if (builder.has_value() && complete) {
        graph::PackedListPtr list = builder->Finish();
        if (list) {
            (void)cache_->OfferPacked(node, dir, view_.ts(), std::move(list));
        }
    }
    return Status::Ok();
}

namespace {

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
    graph_caches_->Invalidate(*store_, wb, ts);
}

void DatabaseImpl::ResetAdjacencyCacheLocked() {
    if (graph_caches_ && graph_caches_->adjacency() != nullptr) {
        const graph::AdjacencyCache::Stats before = graph_caches_->adjacency()->stats();
        graph_cache_hits_before_ += before.hits;
        graph_cache_misses_before_ += before.misses;
    }
    graph_caches_ =
        std::make_unique<GraphCaches>(options_.adjacency_cache_bytes, oracle_->visible());
}

// ---------------------------------------------------------------- GraphOperators

GraphOperators::GraphOperators(const Options& options, storage::Store& store,
                               SharedMutex& catalog_mu, const std::unique_ptr<Catalog>& catalog,
                               const std::unique_ptr<GraphCaches>& graph_caches, Hooks hooks)
    : options_(options),
      store_(&store),
      catalog_mu_(catalog_mu),
      catalog_(catalog),
      graph_caches_(graph_caches),
      hooks_(std::move(hooks)) {}

// ---------------------------------------------------------------- shared pieces

Result<graph::EdgePredicate> GraphOperators::MakeEdgePredicate(const EdgeMatch& match) const {
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

graph::TraversalLimits GraphOperators::TraversalLimitsFromOptions() const {
    return graph::TraversalLimits{.max_depth = options_.max_traversal_depth,
                                  .max_nodes = options_.max_traversal_nodes,
                                  .max_edges = options_.max_traversal_edges,
                                  .max_paths = options_.max_traversal_paths};
}

Status GraphOperators::CheckHops(std::uint32_t min_hops, std::uint32_t max_hops) const {
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

// The id cache maps (collection, id) to the row at a snapshot with the adjacency cache's
// protocol: its key is (collection, a 64-bit hash of the id) in direction kOut, its value a
// one-edge list whose edge holds the row (kAbsentRow: no such entity) and, as other_id, the id
// itself (a hash collision is then a miss, never a wrong row). The commit hook invalidates the
// key of every id a commit adds or removes.
Result<NodeRef> GraphOperators::ResolveNode(const CollectionHandle& handle, std::string_view id,
                                            const txn::ReadView& view) const {
    PHENIX_RETURN_IF_ERROR(ValidateEntityId(id));
    auto not_found = [&]() {
        return Status::NotFound("entity " + QuoteForMessage(id) + " not found in collection '" +
                                handle.ref().ToString() + "'");
    };
    const NodeRef key = IdCacheKey(handle.id(), id);
    const bool cacheable =
        graph_caches_->ids() != nullptr &&
        (!view.has_overlay() ||
         !view.OverlayHas(ColumnFamily::kIds, storage::IdKey(handle.tenant_id, handle.id(), id)));
    if (cacheable) {
        const graph::PackedListPtr cached =
            graph_caches_->ids()->Find(key, graph::Direction::kOut, view.ts());
        if (cached && cached->size() == 1 && cached->other_id(0) == id) {
            const std::uint64_t row = cached->edge(0).row;
            if (row == kAbsentRow) {
                return not_found();
            }
            return NodeRef{handle.id(), row};
        }
    }
    PHENIX_ASSIGN_OR_RETURN(auto row, LookupRow(handle, id, view));
    if (cacheable) {
        graph::PackedListBuilder builder(graph_caches_->ids()->labels());
        if (builder.Add(graph::EdgeView{.other = {handle.id(), row.value_or(kAbsentRow)},
                                        .other_id = id})) {
            (void)graph_caches_->ids()->OfferPacked(key, graph::Direction::kOut, view.ts(),
                                                    builder.Finish());
        }
    }
    if (!row) {
        return not_found();
    }
    return NodeRef{handle.id(), *row};
}

Result<std::shared_ptr<CollectionHandle>> GraphOperators::CollectionOfNode(
    storage::CollectionId id, std::vector<std::shared_ptr<CollectionHandle>>& seen) const {
    // Traversals rarely span more than a few collections: a linear memo beats the catalog lock.
    for (const auto& handle : seen) {
        if (handle->id() == id) {
            return handle;
        }
    }
    auto handle = catalog_->FindById(id);
    if (!handle) {
        return Status::Corruption("an edge refers to collection id " + std::to_string(id) +
                                  ", which does not exist");
    }
    seen.push_back(handle);
    return handle;
}

Result<std::vector<PathNode>> GraphOperators::DescribeNodes(
    const std::vector<NodeRef>& nodes, const std::vector<std::string_view>& known,
    const txn::ReadView& view) const {
    std::vector<PathNode> out(nodes.size());
    std::vector<std::string> keys;
    std::vector<std::size_t> unknown;  // positions whose id must be read from the record
    std::vector<std::shared_ptr<CollectionHandle>> handles;
    for (std::size_t idx = 0; idx < nodes.size(); ++idx) {
        PHENIX_ASSIGN_OR_RETURN(auto handle, CollectionOfNode(nodes[idx].collection, handles));
        out[idx].collection = handle->ref();
        if (idx < known.size() && !known[idx].empty()) {
            out[idx].id = std::string(known[idx]);
            continue;
        }
        unknown.push_back(idx);
        keys.push_back(storage::EntityKey(handle->tenant_id, handle->id(), nodes[idx].row));
    }
    if (keys.empty()) {
        return out;
    }
    std::vector<std::string_view> key_views(keys.begin(), keys.end());
    PHENIX_ASSIGN_OR_RETURN(auto records, view.MultiGet(ColumnFamily::kEntities, key_views));
    std::string plain;
    for (std::size_t pos = 0; pos < records.size(); ++pos) {
        const std::size_t idx = unknown[pos];
        if (!records[pos]) {
            return Status::Corruption("an edge points to row " + std::to_string(nodes[idx].row) +
                                      " of collection '" + out[idx].collection.ToString() +
                                      "', which has no entity (run Verify)");
        }
        PHENIX_ASSIGN_OR_RETURN(std::string_view record,
                                view.store().payloads().Open(storage::PayloadKind::kEntity,
                                                             key_views[pos], *records[pos], plain));
        PHENIX_ASSIGN_OR_RETURN(std::string_view id, storage::DecodeEntityRecordId(record));
        out[idx].id = std::string(id);
    }
    return out;
}

Result<std::vector<GraphPath>> GraphOperators::ToGraphPaths(const std::vector<graph::Path>& paths,
                                                            std::string_view start_id,
                                                            const txn::ReadView& view) const {
    // Every node of every path in one DescribeNodes (ids come with the edges; a record is read
    // only where an edge had none).
    std::vector<NodeRef> nodes;
    std::vector<std::string_view> known;
    for (const graph::Path& path : paths) {
        nodes.insert(nodes.end(), path.nodes.begin(), path.nodes.end());
        known.push_back(start_id);
        for (const graph::PathStep& step : path.edges) {
            known.push_back(step.to_id);
        }
    }
    PHENIX_ASSIGN_OR_RETURN(std::vector<PathNode> described, DescribeNodes(nodes, known, view));
    std::vector<GraphPath> out;
    out.reserve(paths.size());
    std::size_t first = 0;
    for (const graph::Path& path : paths) {
        GraphPath converted;
        converted.total_weight = path.total_weight;
        for (std::size_t idx = 0; idx < path.edges.size(); ++idx) {
            const graph::PathStep& step = path.edges[idx];
            EdgeRecord edge;
            edge.label = step.label;
            edge.weight = step.weight;
            edge.properties = step.properties;
            const PathNode& from =
                step.reversed ? described[first + idx + 1] : described[first + idx];
            const PathNode& to =
                step.reversed ? described[first + idx] : described[first + idx + 1];
            edge.source = from.collection;
            edge.source_id = from.id;
            edge.target = to.collection;
            edge.target_id = to.id;
            converted.edges.push_back(std::move(edge));
        }
        converted.nodes.assign(
            std::make_move_iterator(described.begin() + static_cast<std::ptrdiff_t>(first)),
            std::make_move_iterator(described.begin() +
                                    static_cast<std::ptrdiff_t>(first + path.nodes.size())));
        first += path.nodes.size();
        out.push_back(std::move(converted));
    }
    return out;
}

// ---------------------------------------------------------------- operators

Result<graph::ExpandSpec> GraphOperators::ResolveGraphConstraint(const CollectionHandle& handle,
                                                                 const GraphConstraint& spec,
                                                                 bool include_start,
                                                                 const txn::ReadView& view) const {
    PHENIX_RETURN_IF_ERROR(CheckHops(spec.min_hops, spec.max_hops));
    PHENIX_ASSIGN_OR_RETURN(NodeRef start, ResolveNode(handle, spec.start_id, view));
    PHENIX_ASSIGN_OR_RETURN(graph::EdgePredicate predicate, MakeEdgePredicate(spec.edges));
    return graph::ExpandSpec{.starts = {start},
                             .min_hops = spec.min_hops,
                             .max_hops = spec.max_hops,
                             .direction = ToDirection(spec.direction),
                             .edge = std::move(predicate),
                             .include_starts = include_start};
}

namespace {

std::string FormatCount(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
    return buffer;
}

std::string FormatDegree(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f", value);
    return buffer;
}

}  // namespace

Result<GraphOperators::GraphPlanChoice> GraphOperators::ChooseGraphPlan(
    const CollectionHandle& handle, const SearchOptions& options, std::uint64_t rows_in_collection,
    graph::AdjacencySource& source, const txn::ReadView& view) const {
    const GraphConstraint& constraint = *options.graph;
    GraphPlanChoice choice;
    PHENIX_ASSIGN_OR_RETURN(choice.spec, ResolveGraphConstraint(handle, constraint,
                                                                constraint.include_start, view));
    PHENIX_ASSIGN_OR_RETURN(graph::NeighbourhoodEstimate estimate,
                            graph::EstimateNeighbourhood(source, choice.spec));
    choice.estimated_rows = std::min(estimate.nodes, static_cast<double>(rows_in_collection));
    const std::string hops =
        std::to_string(constraint.min_hops) + ".." + std::to_string(constraint.max_hops) + " hops";
    const std::string estimated =
        "est. " + FormatCount(choice.estimated_rows) + " entities within " + hops + " (degree " +
        std::to_string(estimate.start_degree) +
        (constraint.max_hops > 1 ? " x mean degree " + FormatDegree(estimate.sampled_degree) +
                                       " of " + std::to_string(estimate.sampled) + " neighbours"
                                 : std::string()) +
        ")";
    // Vector-first needs the probe's semantics (walks of at least one hop: min_hops <= 1) and no
    // metadata filter (which would need the filter's rows; the expansion evaluates it within the
    // neighbourhood); an exact scan needs the rows too.
    std::string impossible;
    if (constraint.min_hops > 1) {
        impossible = "min_hops > 1";
    } else if (!options.filter.empty()) {
        impossible = "a metadata filter";
    } else if (options.strategy == SearchStrategy::kExactScan) {
        impossible = "strategy exact_scan";
    }
    const char* check_edges = constraint.direction == EdgeDirection::kOut  ? "in-edges"
                              : constraint.direction == EdgeDirection::kIn ? "out-edges"
                                                                           : "edges";
    const std::string vector_first_how =
        "search first, check each candidate's own " + std::string(check_edges) + " against the " +
        std::to_string(constraint.max_hops - 1) + "-hop ball of '" + constraint.start_id + "'";
    const auto threshold = static_cast<double>(index::FilterPlannerOptions{}.exact_scan_max_rows);
    if (options.graph_plan == GraphPlan::kExpand) {
        choice.plan = GraphPlan::kExpand;
        choice.reason = "expand (forced); " + estimated;
    } else if (options.graph_plan == GraphPlan::kVectorFirst) {
        if (impossible.empty()) {
            choice.plan = GraphPlan::kVectorFirst;
            choice.reason = "vector_first (forced): " + vector_first_how + "; " + estimated;
        } else {
            choice.plan = GraphPlan::kExpand;
            choice.reason = "expand: vector_first was asked for but cannot serve " + impossible +
                            "; " + estimated;
        }
    } else if (!impossible.empty()) {
        choice.plan = GraphPlan::kExpand;
        choice.reason = "expand: vector_first cannot serve " + impossible + "; " + estimated;
    } else if (choice.estimated_rows > threshold) {
        choice.plan = GraphPlan::kVectorFirst;
        choice.reason = "vector_first: " + estimated + " > " + FormatCount(threshold) +
                        " (the exact-scan limit): " + vector_first_how;
    } else {
        choice.plan = GraphPlan::kExpand;
        choice.reason = "expand: " + estimated + " <= " + FormatCount(threshold) +
                        ": expand, then search the reached set exactly";
    }
    return choice;
}

Result<graph::ExpandResult> GraphOperators::ExpandLocked(
    const CollectionHandle& handle, const GraphConstraint& spec, bool include_start,
    const txn::ReadView& view, const txn::WriteSet* own_writes, bool collect_ids) const {
    PHENIX_ASSIGN_OR_RETURN(graph::ExpandSpec expand,
                            ResolveGraphConstraint(handle, spec, include_start, view));
    expand.collect_ids = collect_ids;
    expand.sort = false;
    StorageAdjacency source(handle.tenant_id, view, own_writes, graph_caches_->adjacency());
    return graph::Expand(source, expand, TraversalLimitsFromOptions());
}

namespace {

// A reached node's place in Traverse's order: depth, then the collection's rank by (tenant,
// name), then the id (its first 8 bytes here; the full id breaks ties).
struct SortKey {
    std::uint32_t depth;
    std::uint32_t collection;
    std::uint64_t id_prefix;  // the id's first 8 bytes, big-endian, zero-padded
    std::uint32_t idx;
};

// From this many reached nodes on, Traverse orders them with RadixSortKeys.
constexpr std::size_t kRadixSortFrom = 4096;

// Stable LSD radix sort by (depth, collection, id_prefix): the prefix's bytes from the last,
// then the collection rank, then the depth, one counting pass per byte that varies.
void RadixSortKeys(std::vector<SortKey>& keys) {
    std::vector<SortKey> scratch(keys.size());
    auto pass = [&](auto digit) {
        std::array<std::size_t, 257> offsets{};
        for (const SortKey& key : keys) {
            ++offsets[digit(key) + 1];
        }
        for (std::size_t idx = 0; idx < 256; ++idx) {
            if (offsets[idx + 1] == keys.size()) {
                return;  // every key has this byte: nothing to reorder
            }
            offsets[idx + 1] += offsets[idx];
        }
        for (const SortKey& key : keys) {
            scratch[offsets[digit(key)]++] = key;
        }
        keys.swap(scratch);
    };
    for (unsigned shift = 0; shift < 64; shift += 8) {
        pass([shift](const SortKey& key) {
            return static_cast<std::size_t>((key.id_prefix >> shift) & 0xFF);
        });
    }
    for (unsigned shift = 0; shift < 32; shift += 8) {
        pass([shift](const SortKey& key) {
            return static_cast<std::size_t>((key.collection >> shift) & 0xFF);
        });
    }
    for (unsigned shift = 0; shift < 32; shift += 8) {
        pass([shift](const SortKey& key) {
            return static_cast<std::size_t>((key.depth >> shift) & 0xFF);
        });
    }
}

}  // namespace

// Traverse: expand (stopping at the depth that fills the page when nothing filters), restrict
// to the end collection, the filters and the page, and read the page's records (if asked) in one
// MultiGet at the traversal's snapshot. Ids come from the edges, not from records.
Result<TraversalResponse> GraphOperators::TraverseLocked(const CollectionRef& collection,
                                                         const TraversalSpec& spec,
                                                         const txn::ReadView& view,
                                                         const txn::WriteSet* own_writes) const {
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    const bool filtered = !spec.filter.empty() || spec.filter_ids.has_value();
    std::shared_ptr<CollectionHandle> end_handle;  // null: every collection
    if (!spec.end_collection.empty() && spec.end_collection != handle->name) {
        PHENIX_ASSIGN_OR_RETURN(end_handle,
                                catalog_->Resolve({handle->tenant_name, spec.end_collection}));
    } else if (!spec.end_collection.empty() || filtered) {
        end_handle = handle;
    }
    std::optional<document::Filter> filter;
    if (!spec.filter.empty()) {
        PHENIX_ASSIGN_OR_RETURN(filter, document::ParseFilter(spec.filter));
    }
    const GraphConstraint constraint{.start_id = spec.start_id,
                                     .min_hops = spec.min_hops,
                                     .max_hops = spec.max_hops,
                                     .direction = spec.direction,
                                     .edges = spec.edges};
    PHENIX_ASSIGN_OR_RETURN(graph::ExpandSpec expand,
                            ResolveGraphConstraint(*handle, constraint, spec.include_start, view));
    const NodeRef start = expand.starts[0];
    const std::size_t limit =
        spec.limit == 0 ? static_cast<std::size_t>(options_.max_traversal_nodes) : spec.limit;
    if (end_handle) {
        expand.emit_collection = end_handle->id();
    }
    expand.collect_ids = !spec.count_only;
    expand.sort = false;
    if (!filtered && !spec.count_only) {
        expand.max_results = limit;
    }
    StorageAdjacency source(handle->tenant_id, view, own_writes, graph_caches_->adjacency());
    PHENIX_ASSIGN_OR_RETURN(graph::ExpandResult expanded,
                            graph::Expand(source, expand, TraversalLimitsFromOptions()));
    TraversalResponse response;
    response.edges_examined = expanded.edges_examined;

    // The reached nodes that pass the filters (indexes into expanded.nodes).
    std::vector<std::uint32_t> kept;
    if (!filtered) {
        kept.resize(expanded.nodes.size());
        std::iota(kept.begin(), kept.end(), 0U);
    } else {
        index::RowBitmap allowed;
        for (const graph::ReachedNode& reached : expanded.nodes) {
            if (reached.node.row <= index::kMaxRow) {
                allowed.add(static_cast<std::uint32_t>(reached.node.row));
            }
        }
        if (spec.filter_ids) {
            index::RowBitmap listed;
            for (const std::string& id : *spec.filter_ids) {
                PHENIX_RETURN_IF_ERROR(ValidateEntityId(id));
                PHENIX_ASSIGN_OR_RETURN(auto row, LookupRow(*end_handle, id, view));
                if (row && *row <= index::kMaxRow) {
                    listed.add(static_cast<std::uint32_t>(*row));
                }
            }
            allowed &= listed;
        }
        if (filter && !allowed.isEmpty()) {
            PHENIX_ASSIGN_OR_RETURN(std::uint64_t rows, CollectionRowCount(*end_handle));
            FilterEvaluator evaluator(*store_, *end_handle, view, own_writes, rows, nullptr);
            PHENIX_ASSIGN_OR_RETURN(allowed, evaluator.EvaluateWithin(*filter, allowed));
        }
        for (std::size_t idx = 0; idx < expanded.nodes.size(); ++idx) {
            const std::uint64_t row = expanded.nodes[idx].node.row;
            if (row <= index::kMaxRow && allowed.contains(static_cast<std::uint32_t>(row))) {
                kept.push_back(static_cast<std::uint32_t>(idx));
            }
        }
    }
    if (spec.count_only) {
        response.count = kept.size();
        return response;
    }

    // Nearest first, then by collection and id; then the page. Sorted on fixed-size keys (depth,
    // collection rank, the id's first 8 bytes) with the full id only to break ties.
    std::vector<std::shared_ptr<CollectionHandle>> handles;
    std::vector<std::uint32_t> node_handle(expanded.nodes.size(), 0);  // index into handles
    for (const std::uint32_t idx : kept) {
        const storage::CollectionId id = expanded.nodes[idx].node.collection;
        std::size_t pos = 0;
        while (pos < handles.size() && handles[pos]->id() != id) {
            ++pos;
        }
        if (pos == handles.size()) {
            PHENIX_ASSIGN_OR_RETURN(auto found, CollectionOfNode(id, handles));
            (void)found;
        }
        node_handle[idx] = static_cast<std::uint32_t>(pos);
    }
    std::vector<std::uint32_t> rank(handles.size());
    {
        std::vector<std::uint32_t> order(handles.size());
        std::iota(order.begin(), order.end(), 0U);
        std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
            return std::tie(handles[a]->tenant_name, handles[a]->name) <
                   std::tie(handles[b]->tenant_name, handles[b]->name);
        });
        for (std::uint32_t pos = 0; pos < order.size(); ++pos) {
            rank[order[pos]] = pos;
        }
    }
    auto id_of = [&](std::uint32_t idx) {
        const std::string_view id = expanded.id(idx);
        return id.empty() && expanded.nodes[idx].node == start ? std::string_view(spec.start_id)
                                                               : id;
    };
    std::vector<SortKey> keys;
    keys.reserve(kept.size());
    for (const std::uint32_t idx : kept) {
        const std::string_view id = id_of(idx);
        std::uint64_t prefix = 0;
        for (std::size_t pos = 0; pos < 8; ++pos) {
            prefix = (prefix << 8) |
                     (pos < id.size() ? static_cast<std::uint8_t>(id[pos]) : std::uint8_t{0});
        }
        keys.push_back({expanded.nodes[idx].depth, rank[node_handle[idx]], prefix, idx});
    }
    auto before = [&](const SortKey& a, const SortKey& b) {
        if (a.depth != b.depth) {
            return a.depth < b.depth;
        }
        if (a.collection != b.collection) {
            return a.collection < b.collection;
        }
        if (a.id_prefix != b.id_prefix) {
            return a.id_prefix < b.id_prefix;
        }
        return id_of(a.idx) < id_of(b.idx);
    };
    if (keys.size() > kRadixSortFrom) {
        // Large results (a hub's neighbourhood): an LSD radix sort on the fixed-size key, then
        // the rare runs of equal keys by their full ids.
        RadixSortKeys(keys);
        auto same = [](const SortKey& a, const SortKey& b) {
            return a.depth == b.depth && a.collection == b.collection && a.id_prefix == b.id_prefix;
        };
        for (std::size_t first = 0; first < keys.size();) {
            std::size_t last = first + 1;
            while (last < keys.size() && same(keys[first], keys[last])) {
                ++last;
            }
            if (last - first > 1) {
                std::sort(keys.begin() + static_cast<std::ptrdiff_t>(first),
                          keys.begin() + static_cast<std::ptrdiff_t>(last), before);
            }
            first = last;
        }
    } else if (keys.size() > limit) {
        // Only the page is ordered: the first `limit` selected, then sorted.
        std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(limit),
                         keys.end(), before);
        std::sort(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(limit), before);
    } else {
        std::sort(keys.begin(), keys.end(), before);
    }
    for (std::size_t pos = 0; pos < keys.size(); ++pos) {
        kept[pos] = keys[pos].idx;
    }
    response.truncated = expanded.truncated || kept.size() > limit;
    if (kept.size() > limit) {
        kept.resize(limit);
    }

    // Ids from the edges; a record only where an edge had none (a source without ids).
    std::vector<CollectionRef> refs;
    refs.reserve(handles.size());
    for (const auto& owner : handles) {
        refs.push_back(owner->ref());
    }
    response.entities.resize(kept.size());
    std::vector<std::size_t> unknown;  // positions whose id an edge did not give
    for (std::size_t pos = 0; pos < kept.size(); ++pos) {
        const std::uint32_t idx = kept[pos];
        ReachedEntity& entity = response.entities[pos];
        entity.collection = refs[node_handle[idx]];
        entity.id.assign(id_of(idx));
        entity.depth = expanded.nodes[idx].depth;
        if (entity.id.empty()) {
            unknown.push_back(pos);
        }
    }
    if (!unknown.empty()) {
        std::vector<NodeRef> nodes;
        for (const std::size_t pos : unknown) {
            nodes.push_back(expanded.nodes[kept[pos]].node);
        }
        PHENIX_ASSIGN_OR_RETURN(std::vector<PathNode> described, DescribeNodes(nodes, {}, view));
        for (std::size_t at = 0; at < unknown.size(); ++at) {
            response.entities[unknown[at]].id = std::move(described[at].id);
        }
    }

    // The page's records, in one MultiGet at the traversal's snapshot.
    if (spec.include_metadata || spec.include_vector) {
        std::vector<std::string> record_keys;
        record_keys.reserve(kept.size());
        for (const std::uint32_t idx : kept) {
            const CollectionHandle& owner = *handles[node_handle[idx]];
            record_keys.push_back(
                storage::EntityKey(owner.tenant_id, owner.id(), expanded.nodes[idx].node.row));
        }
        std::vector<std::string_view> key_views(record_keys.begin(), record_keys.end());
        PHENIX_ASSIGN_OR_RETURN(auto records, view.MultiGet(ColumnFamily::kEntities, key_views));
        if (spec.include_metadata) {
            response.metadata.resize(records.size());
        }
        if (spec.include_vector) {
            response.vectors.resize(records.size());
        }
        std::string plain;
        for (std::size_t pos = 0; pos < records.size(); ++pos) {
            const ReachedEntity& entity = response.entities[pos];
            if (!records[pos]) {
                return Status::Corruption("an edge points to entity " + QuoteForMessage(entity.id) +
                                          " of collection '" + entity.collection.ToString() +
                                          "', which has no record (run Verify)");
            }
            PHENIX_ASSIGN_OR_RETURN(
                std::string_view record,
                view.store().payloads().Open(storage::PayloadKind::kEntity, key_views[pos],
                                             *records[pos], plain));
            if (spec.include_metadata) {
                PHENIX_ASSIGN_OR_RETURN(std::string_view metadata,
                                        storage::DecodeEntityRecordMetadata(record));
                response.metadata[pos] = std::string(metadata);
            }
            if (spec.include_vector) {
                PHENIX_RETURN_IF_ERROR(
                    storage::DecodeEntityRecordVector(record, response.vectors[pos]));
            }
        }
    }
    return response;
}

Result<PathsResponse> GraphOperators::FindPathsLocked(const CollectionRef& collection,
                                                      const PathSpec& spec,
                                                      const txn::ReadView& view,
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
    StorageAdjacency source(handle->tenant_id, view, own_writes, graph_caches_->adjacency());
    source.MemoizeLists();  // a DFS comes back to nodes
    graph::PathSpec path_spec{.start = start,
                              .end = end,
                              .min_hops = spec.min_hops,
                              .max_hops = spec.max_hops,
                              .direction = ToDirection(spec.direction),
                              .edge = std::move(predicate),
                              .include_cycles = spec.include_cycles};
    PHENIX_ASSIGN_OR_RETURN(graph::FindPathsResult found,
                            graph::FindPaths(source, path_spec, limits));
    PathsResponse response;
    response.truncated = found.truncated;
    PHENIX_ASSIGN_OR_RETURN(response.paths, ToGraphPaths(found.paths, spec.start_id, view));
    return response;
}

Result<std::optional<GraphPath>> GraphOperators::ShortestPathLocked(
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
    StorageAdjacency source(handle->tenant_id, view, own_writes, graph_caches_->adjacency());
    source.MemoizeLists();  // the hop-bounded search settles a node up to max_hops + 1 times
    graph::ShortestPathSpec path_spec{.from = from,
                                      .to = to,
                                      .direction = ToDirection(spec.direction),
                                      .edge = std::move(predicate),
                                      .max_hops = spec.max_hops,
                                      .unweighted = spec.unweighted};
    PHENIX_ASSIGN_OR_RETURN(std::optional<graph::Path> found,
                            graph::ShortestPath(source, path_spec, TraversalLimitsFromOptions()));
    if (!found) {
        return std::optional<GraphPath>();
    }
    std::vector<graph::Path> paths;
    paths.push_back(std::move(*found));
    PHENIX_ASSIGN_OR_RETURN(std::vector<GraphPath> converted,
                            ToGraphPaths(paths, spec.from_id, view));
    return std::optional<GraphPath>(std::move(converted[0]));
}

Result<std::uint64_t> GraphOperators::DegreeLocked(const CollectionRef& collection,
                                                   std::string_view id, EdgeDirection direction,
                                                   const EdgeMatch& edges,
                                                   const txn::ReadView& view,
                                                   const txn::WriteSet* own_writes) const {
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    PHENIX_ASSIGN_OR_RETURN(NodeRef node, ResolveNode(*handle, id, view));
    PHENIX_ASSIGN_OR_RETURN(graph::EdgePredicate predicate, MakeEdgePredicate(edges));
    StorageAdjacency source(handle->tenant_id, view, own_writes, graph_caches_->adjacency());
    return graph::Degree(source, node, ToDirection(direction), predicate);
}

// ---------------------------------------------------------------- public entry points

Result<TraversalResponse> DatabaseImpl::Traverse(const CollectionRef& collection,
                                                 const TraversalSpec& spec) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    SnapshotGuard snapshot(*oracle_);
    graph_ops_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
    return graph_ops_->TraverseLocked(collection, spec, txn::ReadView(*store_, snapshot.ts()),
                                      nullptr);
}

Result<PathsResponse> DatabaseImpl::FindPaths(const CollectionRef& collection,
                                              const PathSpec& spec) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    SnapshotGuard snapshot(*oracle_);
    graph_ops_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
    return graph_ops_->FindPathsLocked(collection, spec, txn::ReadView(*store_, snapshot.ts()),
                                       nullptr);
}

Result<std::optional<GraphPath>> DatabaseImpl::ShortestPath(const CollectionRef& collection,
                                                            const ShortestPathSpec& spec) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    SnapshotGuard snapshot(*oracle_);
    graph_ops_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
    return graph_ops_->ShortestPathLocked(collection, spec, txn::ReadView(*store_, snapshot.ts()),
                                          nullptr);
}

Result<std::uint64_t> DatabaseImpl::Degree(const CollectionRef& collection, std::string_view id,
                                           EdgeDirection direction, const EdgeMatch& edges) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    SnapshotGuard snapshot(*oracle_);
    graph_ops_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
    return graph_ops_->DegreeLocked(collection, id, direction, edges,
                                    txn::ReadView(*store_, snapshot.ts()), nullptr);
}

Result<TraversalResponse> DatabaseImpl::TxnTraverse(TxnState& state,
                                                    const CollectionRef& collection,
                                                    const TraversalSpec& spec) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    graph_ops_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
    return graph_ops_->TraverseLocked(
        collection, spec, txn::ReadView(*store_, state.read_ts, &state.writes), &state.writes);
}

Result<PathsResponse> DatabaseImpl::TxnFindPaths(TxnState& state, const CollectionRef& collection,
                                                 const PathSpec& spec) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    graph_ops_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
    return graph_ops_->FindPathsLocked(
        collection, spec, txn::ReadView(*store_, state.read_ts, &state.writes), &state.writes);
}

Result<std::optional<GraphPath>> DatabaseImpl::TxnShortestPath(TxnState& state,
                                                               const CollectionRef& collection,
                                                               const ShortestPathSpec& spec) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    graph_ops_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
    return graph_ops_->ShortestPathLocked(
        collection, spec, txn::ReadView(*store_, state.read_ts, &state.writes), &state.writes);
}

Result<std::uint64_t> DatabaseImpl::TxnDegree(TxnState& state, const CollectionRef& collection,
                                              std::string_view id, EdgeDirection direction,
                                              const EdgeMatch& edges) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    graph_ops_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
    return graph_ops_->DegreeLocked(collection, id, direction, edges,
                                    txn::ReadView(*store_, state.read_ts, &state.writes),
                                    &state.writes);
}

}  // namespace phenix::engine
