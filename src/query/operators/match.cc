// SPDX-License-Identifier: Apache-2.0
//
// MATCH sources (match.h).
#include "query/operators/match.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "document/filter.h"
#include "query/operators/vector_search.h"

namespace phenix::query {

std::string DescribeEdges(const BoundMatch& match) {
    std::string text = std::to_string(match.min_hops) + ".." + std::to_string(match.max_hops) +
                       " hops " +
                       (match.direction == phenix::EdgeDirection::kOut  ? "out"
                        : match.direction == phenix::EdgeDirection::kIn ? "in"
                                                                        : "both ways");
    const EdgeMatch& edges = match.edge_match;
    if (!edges.labels.empty()) {
        text += ", label " + edges.labels[0];
    }
    if (edges.min_weight || edges.max_weight) {
        text += ", weight in [" +
                (edges.min_weight ? std::to_string(*edges.min_weight) : std::string("-inf")) +
                ", " + (edges.max_weight ? std::to_string(*edges.max_weight) : std::string("inf")) +
                "]";
    }
    if (!edges.properties_filter.empty()) {
        text += ", properties " + edges.properties_filter;
    }
    return text;
}

std::string ExpandOperator::Label() const {
    return "Expand " + state_.bound.info.spec.ref.name + " from '" + state_.bound.match.start_id +
           "'" + (spec_.paths ? " (paths)" : "");
}

// The one-hop paths of a MATCH from its start: each of the start's edges (out or in) that
// `match.edge_match` accepts, as a two-node path. All of them (as many as the start's degree):
// a LIMIT counts rows, which the end node's conditions may still drop.
Result<PathsResponse> OneHopPaths(ExecState& state, const BoundMatch& match,
                                  const CollectionRef& ref) {
    PHENIX_ASSIGN_OR_RETURN(std::vector<EdgeRecord> edges,
                            state.reader.ListEdges(ref, match.start_id, match.direction));
    const EdgeMatch& accept = match.edge_match;
    std::optional<document::Filter> properties;
    if (!accept.properties_filter.empty()) {
        PHENIX_ASSIGN_OR_RETURN(properties, document::ParseFilter(accept.properties_filter));
    }
    const bool out = match.direction == phenix::EdgeDirection::kOut;
    PathsResponse response;
    for (EdgeRecord& edge : edges) {
        if ((!accept.labels.empty() && std::find(accept.labels.begin(), accept.labels.end(),
                                                 edge.label) == accept.labels.end()) ||
            (accept.min_weight && edge.weight < *accept.min_weight) ||
            (accept.max_weight && edge.weight > *accept.max_weight)) {
            continue;
        }
        if (properties) {
            PHENIX_ASSIGN_OR_RETURN(
                bool matches,
                document::Matches(*properties, edge.properties.empty() ? "{}" : edge.properties));
            if (!matches) {
                continue;
            }
        }
        GraphPath path;
        path.nodes.push_back(PathNode{out ? edge.source : edge.target,
                                      out ? edge.source_id : edge.target_id});
        path.nodes.push_back(PathNode{out ? edge.target : edge.source,
                                      out ? edge.target_id : edge.source_id});
        path.total_weight = edge.weight;
        path.edges.push_back(std::move(edge));
        response.paths.push_back(std::move(path));
    }
    return response;
}

Status ExpandOperator::WalkPaths(const std::optional<Entity>& start) {
    const BoundSelect& b = state_.bound;
    const BoundMatch& match = b.match;
    const CollectionRef end_ref = state_.ctx.Ref(match.end_collection);
    std::optional<document::Filter> filter;
    if (!b.where.filter_json.empty()) {
        PHENIX_ASSIGN_OR_RETURN(filter, document::ParseFilter(b.where.filter_json));
    }
    std::optional<std::set<std::string>> ids;
    if (b.where.ids) {
        ids.emplace(b.where.ids->begin(), b.where.ids->end());
    }
    PathSpec spec;
    spec.start_id = match.start_id;
    spec.min_hops = match.min_hops;
    spec.max_hops = match.max_hops;
    spec.direction = match.direction;
    spec.edges = match.edge_match;
    spec.include_cycles = true;  // a path back to the start (a self-loop) is a row too
    if (spec_.limit) {
        spec.limit = *spec_.limit;
    }
    // One hop out or in: the paths are the start's edges, listed without the engine's path
    // search and its max_traversal_paths cap (a hub's 20k edges are 20k rows, not an error).
    const bool one_hop = match.min_hops == 1 && match.max_hops == 1 &&
                         match.direction != phenix::EdgeDirection::kBoth;
    Result<PathsResponse> found =
        one_hop ? OneHopPaths(state_, match, b.ref) : state_.reader.FindPaths(b.ref, spec);
    if (!found.ok() && found.status().code() == StatusCode::kNotFound && !start) {
        return Status::Ok();  // the start does not exist: no rows
    }
    PHENIX_ASSIGN_OR_RETURN(PathsResponse paths, std::move(found));
    paths_ = std::move(paths.paths);
    const std::size_t wanted = spec_.limit.value_or(SIZE_MAX);
    for (const GraphPath& path : paths_) {
        if (rows_.size() >= wanted) {
            break;
        }
        const PathNode& last = path.nodes.back();
        if (last.collection.name != match.end_collection || (ids && !ids->contains(last.id))) {
            continue;
        }
        Entity entity;
        if (spec_.needs.any() || filter) {
            PHENIX_ASSIGN_OR_RETURN(entity, state_.reader.Get(end_ref, last.id));
        } else {
            entity.id = last.id;  // only the far node's id is read: it comes with the path
        }
        if (filter) {
            PHENIX_ASSIGN_OR_RETURN(bool matches, document::Matches(*filter, entity.metadata));
            if (!matches) {
                continue;
            }
        }
        Row row;
        row.entity = std::move(entity);
        row.start = start;
        row.path = &path;
        rows_.push_back(std::move(row));
    }
    if (paths.truncated && rows_.size() < wanted) {
        // The rows would be those of an arbitrary subset of the paths: refuse rather than
        // return a silently wrong answer.
        return Status::ResourceExhausted(
            "the pattern has more paths than Options::max_traversal_paths (" +
            std::to_string(paths_.size()) +
            "); narrow it (a label, a WHERE on the edge, fewer hops), drop the edge variable "
            "(one row per reached node instead of per path), or raise the option");
    }
    return Status::Ok();
}

Status ExpandOperator::Walk() {
    walked_ = true;
    const BoundSelect& b = state_.bound;
    const BoundMatch& match = b.match;
    std::optional<Entity> start;
    bool no_rows = false;
    PHENIX_RETURN_IF_ERROR(
        ReadMatchStart(state_, match.needs_start, match.start_filter, &start, &no_rows));
    if (no_rows || (spec_.limit && *spec_.limit == 0)) {
        return Status::Ok();
    }
    if (spec_.paths) {
        return WalkPaths(start);
    }
    // The traversal does the filtering, the page and count(*) itself, and reads only the
    // returned page's records (in one batch, at its snapshot), and only the fields the query
    // uses: a query of b.id reads no record at all (ids come with the edges).
    TraversalSpec spec;
    spec.start_id = match.start_id;
    spec.min_hops = match.min_hops;
    spec.max_hops = match.max_hops;
    spec.direction = match.direction;
    spec.edges = match.edge_match;
    // The start is a row when a walk in the hop range returns to it (a self-loop, a cycle), or
    // min_hops is 0: it is reached like any other entity.
    spec.include_start = true;
    spec.end_collection = match.end_collection;
    spec.filter = b.where.filter_json;
    spec.filter_ids = b.where.ids;
    spec.count_only = spec_.count_only;
    spec.include_metadata = spec_.needs.metadata;
    spec.include_vector = spec_.needs.vector;
    if (spec_.limit) {
        spec.limit = *spec_.limit;
    }
    Result<TraversalResponse> traversed = state_.reader.Traverse(b.ref, spec);
    if (!traversed.ok() && traversed.status().code() == StatusCode::kNotFound && !start) {
        return Status::Ok();  // the start does not exist: no rows
    }
    PHENIX_ASSIGN_OR_RETURN(TraversalResponse reached, std::move(traversed));
    figures_ = {{"min_hops", static_cast<double>(spec.min_hops)},
                {"max_hops", static_cast<double>(spec.max_hops)},
                {"edges_examined", static_cast<double>(reached.edges_examined)},
                {"reached",
                 static_cast<double>(spec_.count_only ? reached.count : reached.entities.size())}};
    details_.push_back((spec_.count_only ? std::to_string(reached.count) + " counted, "
                                         : std::to_string(reached.entities.size()) + " returned" +
                                               (reached.truncated ? " (more exist), " : ", ")) +
                       std::to_string(reached.edges_examined) + " edges examined; records read: " +
                       (spec_.needs.metadata || spec_.needs.vector ? "the page" : "none"));
    if (spec_.count_only) {
        Row row;
        row.values.push_back(QueryValue::Int(static_cast<std::int64_t>(reached.count)));
        rows_.push_back(std::move(row));
        return Status::Ok();
    }
    const CollectionRef end_ref = state_.ctx.Ref(match.end_collection);
    rows_.reserve(reached.entities.size());
    for (std::size_t idx = 0; idx < reached.entities.size(); ++idx) {
        Row row;
        row.entity.id = std::move(reached.entities[idx].id);
        if (spec_.needs.metadata) {
            row.entity.metadata = std::move(reached.metadata[idx]);
        }
        if (spec_.needs.vector) {
            row.entity.vector = std::move(reached.vectors[idx]);
        }
        if (spec_.needs.edges) {
            PHENIX_ASSIGN_OR_RETURN(Entity entity, state_.reader.Get(end_ref, row.entity.id));
            row.entity.edges = std::move(entity.edges);
        }
        row.start = start;
        rows_.push_back(std::move(row));
    }
    return Status::Ok();
}

Result<bool> ExpandOperator::NextImpl(RowBatch* batch) {
    if (!walked_) {
        PHENIX_RETURN_IF_ERROR(Walk());
    }
    while (next_ < rows_.size() && batch->rows.size() < kBatchRows) {
        batch->rows.push_back(std::move(rows_[next_++]));
    }
    return !batch->rows.empty();
}

}  // namespace phenix::query
