// SPDX-License-Identifier: Apache-2.0
//
// Nearest-neighbour search (vector_search.h).
#include "query/operators/vector_search.h"

#include <string>
#include <utility>

#include "document/filter.h"

namespace phenix::query {

Status ReadMatchStart(ExecState& state, bool needs_start, const std::string& start_filter,
                      std::optional<Entity>* start, bool* no_rows) {
    *no_rows = false;
    if (!needs_start && start_filter.empty()) {
        return Status::Ok();
    }
    Result<Entity> entity = state.reader.Get(state.bound.ref, state.bound.match.start_id);
    if (!entity.ok()) {
        if (entity.status().code() == StatusCode::kNotFound) {
            *no_rows = true;
            return Status::Ok();
        }
        return entity.status();
    }
    if (!start_filter.empty()) {
        PHENIX_ASSIGN_OR_RETURN(document::Filter filter, document::ParseFilter(start_filter));
        PHENIX_ASSIGN_OR_RETURN(bool matches, document::Matches(filter, entity->metadata));
        if (!matches) {
            *no_rows = true;
            return Status::Ok();
        }
    }
    *start = std::move(*entity);
    return Status::Ok();
}

std::string VectorSearchOperator::Label() const {
    const std::string& name = state_.bound.info.spec.ref.name;
    if (spec_.is_graph) {
        const SearchPlan& plan = ran_ ? *ran_ : spec_.expected_graph;
        return plan.graph_plan == GraphPlan::kVectorFirst
                   ? "VectorFirst " + name + " [search, candidates checked against the pattern]"
                   : "GraphFirst " + name + " [search over the reached set]";
    }
    const SearchStrategy shown = ran_ && spec_.filtered ? ran_->strategy : spec_.expected;
    const bool filter_first = shown == SearchStrategy::kExactScan;
    return std::string(filter_first ? "FilterFirst" : "VectorFirst") + " " + name + " [" +
           std::string(spec_.filtered || spec_.is_forced ? SearchStrategyName(shown)
                                                         : std::string_view("hnsw")) +
           "]";
}

std::string_view VectorSearchOperator::Strategy() const {
    if (spec_.is_graph) {
        const SearchPlan& plan = ran_ ? *ran_ : spec_.expected_graph;
        return plan.graph_plan == GraphPlan::kVectorFirst ? "graph_vector_first" : "graph_first";
    }
    if (!spec_.filtered && !spec_.is_forced) {
        return "vector_index";
    }
    // As in Label: what ran, else what the optimizer expects.
    switch (ran_ && spec_.filtered ? ran_->strategy : spec_.expected) {
        case SearchStrategy::kExactScan:
            return "exact_scan";
        case SearchStrategy::kPostFilter:
            return "post_filter";
        case SearchStrategy::kInGraph:
            return "filtered_graph";
        case SearchStrategy::kAuto:
            break;
    }
    return "vector_index";
}

Status VectorSearchOperator::Search() {
    searched_ = true;
    if (spec_.is_graph) {
        bool no_rows = false;
        PHENIX_RETURN_IF_ERROR(
            ReadMatchStart(state_, spec_.needs_start, spec_.start_filter, &start_, &no_rows));
        if (no_rows) {
            if (!children_.empty()) {
                children_[0]->SetReported(0, 0);
            }
            return Status::Ok();
        }
    }
    Result<SearchResponse> searched =
        state_.reader.Search(state_.bound.ref, spec_.query, spec_.options);
    if (spec_.is_graph && !searched.ok() && searched.status().code() == StatusCode::kNotFound &&
        !start_) {
        ran_ = SearchPlan{};  // the start does not exist: no rows
        if (!children_.empty()) {
            children_[0]->SetReported(0, 0);
        }
        return Status::Ok();
    }
    PHENIX_ASSIGN_OR_RETURN(SearchResponse response, std::move(searched));
    ran_ = response.plan;
    const SearchPlan& plan = response.plan;
    figures_ = {{"ef", static_cast<double>(plan.ef)},
                {"distance_computations", static_cast<double>(plan.distance_computations)},
                {"filter_rows", static_cast<double>(plan.filter_rows)},
                {"selectivity", plan.selectivity},
                {"unindexed_rows_scanned", static_cast<double>(plan.unindexed_rows_scanned)},
                {"filter_millis", plan.filter_millis}};
    if (spec_.is_graph) {
        if (!plan.graph_plan_reason.empty()) {
            details_.push_back("graph plan: " + plan.graph_plan_reason);
        }
        details_.push_back("ran: " + std::string(SearchStrategyName(plan.strategy)) + ", " +
                           std::to_string(plan.distance_computations) + " distances");
        if (plan.graph_estimated_rows > 0 && !children_.empty()) {
            children_[0]->estimated_rows = plan.graph_estimated_rows;
        }
    } else {
        details_.push_back(
            "ran: " + std::string(SearchStrategyName(plan.strategy)) +
            (plan.ef > 0 ? ", ef=" + std::to_string(plan.ef) : std::string(", no graph search")) +
            ", " + std::to_string(plan.distance_computations) + " distances" +
            (plan.fell_back_to_exact ? ", fell back to exact" : ""));
    }
    if (!children_.empty()) {
        // The filter's rows (or the pattern's reach), built inside the search. When the engine
        // checked the filter on the search's candidates instead, there is no such step of its
        // own: that work is the search's.
        auto& step = static_cast<EngineStep&>(*children_[0]);
        for (const std::string& detail : plan.filter_steps) {
            step.AddDetail(detail);
        }
        if (plan.filter_millis > 0) {
            step.SetReported(plan.filter_rows, plan.filter_millis);
        } else {
            step.MarkInsideParent();
        }
    }
    hits_ = std::move(response.hits);
    return Status::Ok();
}

Result<bool> VectorSearchOperator::NextImpl(RowBatch* batch) {
    if (!searched_) {
        PHENIX_RETURN_IF_ERROR(Search());
    }
    while (next_ < hits_.size() && batch->rows.size() < kBatchRows) {
        SearchHit& hit = hits_[next_++];
        Row row;
        row.entity.id = std::move(hit.id);
        row.entity.metadata = std::move(hit.metadata);
        row.entity.vector = std::move(hit.vector);
        row.engine_distance = hit.distance;
        row.start = start_;
        if (spec_.wants_edges) {
            // Edges are not part of a search hit: read them when selected.
            PHENIX_ASSIGN_OR_RETURN(Entity entity,
                                    state_.reader.Get(state_.bound.ref, row.entity.id));
            row.entity.edges = std::move(entity.edges);
        }
        batch->rows.push_back(std::move(row));
    }
    return !batch->rows.empty();
}

}  // namespace phenix::query
