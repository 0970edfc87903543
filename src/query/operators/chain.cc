// SPDX-License-Identifier: Apache-2.0
//
// MATCH chains (chain.h).
#include "query/operators/chain.h"

#include <algorithm>
#include <string>
#include <utility>

#include "query/operators/match.h"

namespace phenix::query {
namespace {

phenix::EdgeDirection Reverse(phenix::EdgeDirection direction) {
    return direction == phenix::EdgeDirection::kOut  ? phenix::EdgeDirection::kIn
           : direction == phenix::EdgeDirection::kIn ? phenix::EdgeDirection::kOut
                                                     : direction;
}

std::string IdList(const std::vector<std::string>& ids) {
    std::string text;
    for (std::size_t idx = 0; idx < ids.size() && idx < 3; ++idx) {
        text += (idx == 0 ? "'" : ", '") + ids[idx] + "'";
    }
    if (ids.size() > 3) {
        text += ", ... (" + std::to_string(ids.size()) + " ids)";
    }
    return text;
}

// Keeps of an entity only what the query reads of it (rows copy their bindings as they grow).
void Trim(const NodeNeeds& needs, Entity* entity) {
    if (!needs.metadata) {
        entity->metadata.clear();
    }
    if (!needs.vector) {
        entity->vector.clear();
    }
    if (!needs.edges) {
        entity->edges.clear();
    }
}

}  // namespace

std::string DescribeSegment(const BoundChain& chain, std::size_t segment) {
    const ChainSegment& seg = chain.segments[segment];
    std::string edge = "[" + seg.edge_var;
    if (!seg.edge_match.labels.empty()) {
        edge += ":" + seg.edge_match.labels[0];
    }
    if (!seg.single_edge) {
        edge += "*" + std::to_string(seg.min_hops) + ".." + std::to_string(seg.max_hops);
    }
    edge += "]";
    const std::string left = "(" + chain.nodes[segment].var + ")";
    const std::string right = "(" + chain.nodes[segment + 1].var + ")";
    switch (seg.direction) {
        case phenix::EdgeDirection::kOut:
            return left + "-" + edge + "->" + right;
        case phenix::EdgeDirection::kIn:
            return left + "<-" + edge + "-" + right;
        case phenix::EdgeDirection::kBoth:
            break;
    }
    return left + "-" + edge + "-" + right;
}

// ---- ChainStart -------------------------------------------------------------------------------

std::string ChainStartOperator::Label() const {
    const BoundChain& chain = *state_.bound.chain;
    const ChainNode& node = chain.nodes[chain.start];
    return "ChainStart " + node.var + " in " + node.ref.name + " (" + IdList(*node.where.ids) + ")";
}

Result<bool> ChainStartOperator::NextImpl(RowBatch* batch) {
    if (done_) {
        return false;
    }
    done_ = true;
    const BoundChain& chain = *state_.bound.chain;
    const ChainNode& node = chain.nodes[chain.start];
    std::optional<document::Filter> filter;
    if (!node.where.filter_json.empty()) {
        PHENIX_ASSIGN_OR_RETURN(filter, document::ParseFilter(node.where.filter_json));
    }
    std::vector<std::string> ids = *node.where.ids;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (const std::string& id : ids) {
        PHENIX_RETURN_IF_ERROR(CheckInterrupted());
        Result<Entity> entity = state_.reader.Get(node.ref, id);
        if (!entity.ok()) {
            if (entity.status().code() == StatusCode::kNotFound) {
                continue;  // no such start: no rows from it
            }
            return entity.status();
        }
        if (filter) {
            PHENIX_ASSIGN_OR_RETURN(bool matches, document::Matches(*filter, entity->metadata));
            if (!matches) {
                continue;
            }
        }
        Row row;
        row.nodes.resize(chain.nodes.size());
        if (std::any_of(chain.segments.begin(), chain.segments.end(),
                        [](const ChainSegment& segment) { return !segment.edge_var.empty(); })) {
            row.segment_paths.resize(chain.segments.size());  // else rows copy no paths
        }
        Trim(needs_, &*entity);
        row.nodes[chain.start] = std::move(*entity);
        batch->rows.push_back(std::move(row));
    }
    return !batch->rows.empty();
}

// ---- ChainExpand ------------------------------------------------------------------------------

std::string ChainExpandOperator::Label() const {
    const BoundChain& chain = *state_.bound.chain;
    const ChainNode& to = chain.nodes[step_.to];
    return "ChainExpand " + chain.nodes[step_.from].var + " -> " + to.var + " in " + to.ref.name +
           (chain.segments[step_.segment].edge_var.empty() ? "" : " (paths)");
}

std::vector<std::string> ChainExpandOperator::Details() const {
    const BoundChain& chain = *state_.bound.chain;
    const ChainSegment& seg = chain.segments[step_.segment];
    BoundMatch walked;
    walked.direction = step_.backwards ? Reverse(seg.direction) : seg.direction;
    walked.min_hops = seg.min_hops;
    walked.max_hops = seg.max_hops;
    walked.edge_match = seg.edge_match;
    std::vector<std::string> details;
    details.push_back("segment " + std::to_string(step_.segment + 1) + " " +
                      DescribeSegment(chain, step_.segment) +
                      (step_.backwards ? ", walked backwards: " : ": ") + DescribeEdges(walked));
    const ChainNode& to = chain.nodes[step_.to];
    if (to.where.ids) {
        details.push_back("only " + to.var + ".id in (" + IdList(*to.where.ids) + ")");
    }
    if (!to.where.filter_json.empty()) {
        details.push_back("filter on " + to.var + ": " + to.where.filter_json);
    }
    if (has_run()) {
        details.push_back(std::to_string(bindings_) + " bindings of " +
                          chain.nodes[step_.from].var + " expanded, " +
                          std::to_string(reached_total_) + " reached, " +
                          std::to_string(edges_examined_) + " edges examined");
    }
    details.insert(details.end(), details_.begin(), details_.end());
    return details;
}

void ChainExpandOperator::ReleasePending() {
    state_.memory.Release(pending_bytes_);
    pending_bytes_ = 0;
    pending_next_ = 0;
    pending_size_ = 0;
    reached_ = TraversalResponse{};
    paths_.clear();
}

Status ChainExpandOperator::Traverse() {
    const BoundChain& chain = *state_.bound.chain;
    const ChainSegment& seg = chain.segments[step_.segment];
    const ChainNode& from = chain.nodes[step_.from];
    const ChainNode& to = chain.nodes[step_.to];
    TraversalSpec spec;
    spec.start_id = base_.nodes[step_.from].id;
    spec.min_hops = seg.min_hops;
    spec.max_hops = seg.max_hops;
    spec.direction = step_.backwards ? Reverse(seg.direction) : seg.direction;
    spec.edges = seg.edge_match;
    // As in a one-edge pattern: the binding itself is reached when a walk in the range returns
    // to it (a self-loop, a cycle) or the range starts at 0.
    spec.include_start = true;
    spec.end_collection = to.ref.name;
    spec.filter = to.where.filter_json;
    spec.filter_ids = to.where.ids;
    spec.include_metadata = needs_.metadata;
    spec.include_vector = needs_.vector;
    Result<TraversalResponse> traversed = state_.reader.Traverse(from.ref, spec);
    if (!traversed.ok() && traversed.status().code() == StatusCode::kNotFound) {
        return Status::Ok();  // the binding is gone (a dangling edge's target): no rows
    }
    PHENIX_ASSIGN_OR_RETURN(reached_, std::move(traversed));
    if (reached_.truncated) {
        return Status::ResourceExhausted(
            "segment " + std::to_string(step_.segment + 1) + " of the pattern (" +
            DescribeSegment(chain, step_.segment) + ") reaches more entities from '" +
            spec.start_id +
            "' than Options::max_traversal_nodes; narrow it (a label, fewer hops, an id) or "
            "raise the option");
    }
    edges_examined_ += reached_.edges_examined;
    pending_size_ = reached_.entities.size();
    std::size_t bytes = 0;
    for (std::size_t idx = 0; idx < reached_.entities.size(); ++idx) {
        bytes += sizeof(ReachedEntity) + reached_.entities[idx].id.size();
        if (idx < reached_.metadata.size()) {
            bytes += reached_.metadata[idx].size();
        }
        if (idx < reached_.vectors.size()) {
            bytes += reached_.vectors[idx].size() * sizeof(float);
        }
    }
    pending_bytes_ = bytes;
    return state_.memory.Charge(bytes);
}

Status ChainExpandOperator::FindPaths() {
    const BoundChain& chain = *state_.bound.chain;
    const ChainSegment& seg = chain.segments[step_.segment];
    const ChainNode& from = chain.nodes[step_.from];
    const ChainNode& to = chain.nodes[step_.to];
    BoundMatch walked;
    walked.start_id = base_.nodes[step_.from].id;
    walked.direction = step_.backwards ? Reverse(seg.direction) : seg.direction;
    walked.edge_match = seg.edge_match;
    // One hop out or in: the binding's edges, without the path search's cap (as in a one-edge
    // pattern).
    Result<PathsResponse> found = [&]() -> Result<PathsResponse> {
        if (seg.single_edge && walked.direction != phenix::EdgeDirection::kBoth) {
            return OneHopPaths(state_, walked, from.ref);
        }
        PathSpec spec;
        spec.start_id = walked.start_id;
        spec.min_hops = seg.min_hops;
        spec.max_hops = seg.max_hops;
        spec.direction = walked.direction;
        spec.edges = seg.edge_match;
        spec.include_cycles = true;  // a path back to the binding (a self-loop) is a row too
        return state_.reader.FindPaths(from.ref, spec);
    }();
    if (!found.ok() && found.status().code() == StatusCode::kNotFound) {
        return Status::Ok();
    }
    PHENIX_ASSIGN_OR_RETURN(PathsResponse paths, std::move(found));
    if (paths.truncated) {
        // The rows would be those of an arbitrary subset of the paths.
        return Status::ResourceExhausted(
            "segment " + std::to_string(step_.segment + 1) + " of the pattern (" +
            DescribeSegment(chain, step_.segment) + ") has more paths from '" + walked.start_id +
            "' than Options::max_traversal_paths (" + std::to_string(paths.paths.size()) +
            "); narrow it (a label, a WHERE on the edge, fewer hops), drop the edge variable "
            "(one row per reached node instead of per path), or raise the option");
    }
    std::size_t bytes = 0;
    for (GraphPath& path : paths.paths) {
        const PathNode& last = path.nodes.back();
        if (last.collection.name != to.ref.name || (ids_ && !ids_->contains(last.id))) {
            continue;
        }
        if (step_.backwards) {
            // Edges in the pattern's order, left to right, whichever end the walk started from.
            std::reverse(path.nodes.begin(), path.nodes.end());
            std::reverse(path.edges.begin(), path.edges.end());
        }
        for (const EdgeRecord& edge : path.edges) {
            bytes += sizeof(EdgeRecord) + edge.label.size() + edge.source_id.size() +
                     edge.target_id.size() + edge.properties.size();
        }
        paths_.push_back(std::make_shared<const GraphPath>(std::move(path)));
    }
    pending_size_ = paths_.size();
    pending_bytes_ = bytes;
    return state_.memory.Charge(bytes);
}

Status ChainExpandOperator::Expand(Row row) {
    ++bindings_;
    base_ = std::move(row);
    const BoundChain& chain = *state_.bound.chain;
    if (chain.segments[step_.segment].edge_var.empty()) {
        PHENIX_RETURN_IF_ERROR(Traverse());
    } else {
        PHENIX_RETURN_IF_ERROR(FindPaths());
    }
    reached_total_ += pending_size_;
    return Status::Ok();
}

Result<bool> ChainExpandOperator::EmitPending(RowBatch* batch) {
    const BoundChain& chain = *state_.bound.chain;
    const ChainNode& to = chain.nodes[step_.to];
    while (pending_next_ < pending_size_) {
        const std::size_t idx = pending_next_++;
        Entity entity;
        if (paths_.empty()) {
            entity.id = std::move(reached_.entities[idx].id);
            if (needs_.metadata) {
                entity.metadata = std::move(reached_.metadata[idx]);
            }
            if (needs_.vector) {
                entity.vector = std::move(reached_.vectors[idx]);
            }
            if (needs_.edges) {
                PHENIX_ASSIGN_OR_RETURN(Entity read, state_.reader.Get(to.ref, entity.id));
                entity.edges = std::move(read.edges);
            }
        } else {
            const GraphPath& path = *paths_[idx];
            const std::string& id = step_.backwards ? path.nodes.front().id : path.nodes.back().id;
            if (needs_.any() || filter_) {
                Result<Entity> read = state_.reader.Get(to.ref, id);
                if (!read.ok() && read.status().code() == StatusCode::kNotFound) {
                    continue;  // a dangling edge's target
                }
                PHENIX_ASSIGN_OR_RETURN(entity, std::move(read));
                if (filter_) {
                    PHENIX_ASSIGN_OR_RETURN(bool matches,
                                            document::Matches(*filter_, entity.metadata));
                    if (!matches) {
                        continue;
                    }
                }
                Trim(needs_, &entity);
            } else {
                entity.id = id;  // only the far node's id is read: it comes with the path
            }
        }
        Row row;
        row.nodes = base_.nodes;
        row.segment_paths = base_.segment_paths;
        row.nodes[step_.to] = std::move(entity);
        if (!paths_.empty()) {
            row.segment_paths[step_.segment] = paths_[idx];
        }
        batch->rows.push_back(std::move(row));
        return true;
    }
    return false;
}

Result<bool> ChainExpandOperator::NextImpl(RowBatch* batch) {
    if (!prepared_) {
        prepared_ = true;
        const ChainNode& to = state_.bound.chain->nodes[step_.to];
        if (!to.where.filter_json.empty()) {
            PHENIX_ASSIGN_OR_RETURN(filter_, document::ParseFilter(to.where.filter_json));
        }
        if (to.where.ids) {
            ids_.emplace(to.where.ids->begin(), to.where.ids->end());
        }
    }
    while (batch->rows.size() < kBatchRows) {
        PHENIX_ASSIGN_OR_RETURN(bool emitted, EmitPending(batch));
        if (emitted) {
            continue;
        }
        ReleasePending();
        if (input_next_ >= input_.rows.size()) {
            if (input_done_) {
                break;
            }
            PHENIX_ASSIGN_OR_RETURN(bool more, child().Next(&input_));
            input_next_ = 0;
            if (!more) {
                input_done_ = true;
                break;
            }
            continue;
        }
        PHENIX_RETURN_IF_ERROR(CheckInterrupted());
        PHENIX_RETURN_IF_ERROR(Expand(std::move(input_.rows[input_next_++])));
    }
    return !batch->rows.empty();
}

}  // namespace phenix::query
