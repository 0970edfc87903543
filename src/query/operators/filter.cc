// SPDX-License-Identifier: Apache-2.0
//
// Row filters (filter.h).
#include "query/operators/filter.h"

#include <string>
#include <utility>
#include <vector>

#include "query/parser.h"

namespace phenix::query {

std::vector<std::string> FilterOperator::Details() const {
    std::vector<std::string> details = details_;
    details.insert(details.begin(), ToString(condition_));
    return details;
}

Result<bool> FilterOperator::NextImpl(RowBatch* batch) {
    RowBatch input;
    while (batch->rows.empty()) {
        PHENIX_ASSIGN_OR_RETURN(bool more, child().Next(&input));
        if (!more) {
            return false;
        }
        for (Row& row : input.rows) {
            bool keep = false;
            if (over_ == Over::kGroups) {
                PHENIX_ASSIGN_OR_RETURN(QueryValue value,
                                        state_.eval.EvalOutput(condition_, row.values));
                keep = value.type == QueryValue::Type::kBool && value.bool_value;
            } else {
                PHENIX_ASSIGN_OR_RETURN(keep, state_.eval.Test(condition_, row));
            }
            if (keep) {
                batch->rows.push_back(std::move(row));
            }
        }
    }
    return true;
}

Result<bool> ExactRankOperator::NextImpl(RowBatch* batch) {
    const BoundSelect& b = state_.bound;
    const DistanceExpr& distance = *b.order_distance;
    // A chain ranks any node variable, in that node's collection's metric.
    const std::size_t node = b.chain ? b.chain->NodeOf(distance.variable).value_or(0) : 0;
    const Metric metric =
        OpMetric(distance.op, b.chain ? b.chain->nodes[node].info.spec.metric : b.info.spec.metric);
    const bool of_start = b.is_match && !b.chain && distance.variable == b.match.start_var;
    RowBatch input;
    while (batch->rows.empty()) {
        PHENIX_ASSIGN_OR_RETURN(bool more, child().Next(&input));
        if (!more) {
            return false;
        }
        for (Row& row : input.rows) {
            const Entity& entity = b.chain ? row.nodes[node] : of_start ? *row.start : row.entity;
            if (ExactDistance(metric, entity.vector, distance.query)) {
                batch->rows.push_back(std::move(row));  // rows without a vector never rank
            }
        }
    }
    return true;
}

}  // namespace phenix::query
