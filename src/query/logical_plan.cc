// SPDX-License-Identifier: Apache-2.0
//
// The logical plan of a SELECT (logical_plan.h).
#include "query/logical_plan.h"

#include <string>
#include <utility>

namespace phenix::query {
namespace {

std::unique_ptr<LogicalNode> Over(LogicalKind kind, std::unique_ptr<LogicalNode> child) {
    auto node = std::make_unique<LogicalNode>();
    node->kind = kind;
    node->child = std::move(child);
    return node;
}

const char* KindName(LogicalKind kind) {
    switch (kind) {
        case LogicalKind::kGet:
            return "Get";
        case LogicalKind::kExpand:
            return "Expand";
        case LogicalKind::kFilter:
            return "Filter";
        case LogicalKind::kAggregate:
            return "Aggregate";
        case LogicalKind::kProject:
            return "Project";
        case LogicalKind::kDistinct:
            return "Distinct";
        case LogicalKind::kOrder:
            return "Order";
        case LogicalKind::kLimit:
            return "Limit";
    }
    return "?";
}

}  // namespace

std::string LogicalNode::ToString() const {
    std::string text;
    std::string indent;
    for (const LogicalNode* node = this; node != nullptr; node = node->child.get()) {
        text += indent + KindName(node->kind);
        if (node->kind == LogicalKind::kOrder && node->by_distance) {
            text += " (distance)";
        }
        if (node->kind == LogicalKind::kFilter && node->over_groups) {
            text += " (groups)";
        }
        text += "\n";
        indent += "  ";
    }
    return text;
}

std::unique_ptr<LogicalNode> BuildLogicalPlan(const BoundSelect& bound) {
    auto plan = std::make_unique<LogicalNode>();
    plan->kind = bound.is_match ? LogicalKind::kExpand : LogicalKind::kGet;
    if (bound.residual) {
        plan = Over(LogicalKind::kFilter, std::move(plan));
        plan->condition = &*bound.residual;
    }
    if (bound.is_aggregate) {
        plan = Over(LogicalKind::kAggregate, std::move(plan));
        if (bound.stmt->having) {
            plan = Over(LogicalKind::kFilter, std::move(plan));
            plan->condition = &*bound.stmt->having;
            plan->over_groups = true;
        }
    } else {
        plan = Over(LogicalKind::kProject, std::move(plan));
    }
    if (bound.stmt->distinct) {
        plan = Over(LogicalKind::kDistinct, std::move(plan));
    }
    if (!bound.order_keys.empty()) {
        plan = Over(LogicalKind::kOrder, std::move(plan));
        plan->by_distance = bound.order_distance.has_value();
        if (bound.limit) {
            plan->keep = bound.Wanted();
        }
    }
    if (bound.limit || bound.offset.value_or(0) > 0) {
        plan = Over(LogicalKind::kLimit, std::move(plan));
        plan->limit = bound.limit;
        plan->offset = bound.offset.value_or(0);
    }
    return plan;
}

}  // namespace phenix::query
