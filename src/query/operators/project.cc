// SPDX-License-Identifier: Apache-2.0
//
// Projection and DISTINCT (project.h).
#include "query/operators/project.h"

#include <string>
#include <utility>
#include <vector>

namespace phenix::query {

std::vector<std::string> ProjectOperator::Details() const {
    const BoundSelect& b = state_.bound;
    std::string columns;
    for (std::size_t idx = 0; idx < b.num_visible_items; ++idx) {
        columns += (columns.empty() ? "" : ", ") + b.items[idx].name;
    }
    std::vector<std::string> details = {columns};
    details.insert(details.end(), details_.begin(), details_.end());
    return details;
}

Result<bool> ProjectOperator::NextImpl(RowBatch* batch) {
    const BoundSelect& b = state_.bound;
    PHENIX_ASSIGN_OR_RETURN(bool more, child().Next(batch));
    if (!more) {
        return false;
    }
    for (Row& row : batch->rows) {
        row.values.reserve(b.items.size());
        for (const Item& item : b.items) {
            PHENIX_ASSIGN_OR_RETURN(QueryValue value, state_.eval.Eval(item.expr, row));
            row.bytes += ValueBytes(value);
            row.values.push_back(std::move(value));
        }
        for (const auto& [item_index, order] : b.order_keys) {
            if (item_index >= 0) {
                row.keys.push_back(row.values[static_cast<std::size_t>(item_index)]);
            } else {
                PHENIX_ASSIGN_OR_RETURN(QueryValue value, state_.eval.Eval(order->expr, row));
                row.keys.push_back(std::move(value));
            }
            row.bytes += ValueBytes(row.keys.back());
        }
        row.bytes += sizeof(Row);
        row.seq = next_seq_++;
        // The entity is no longer needed: only the values travel up.
        row.entity = Entity{};
        row.start.reset();
        row.metadata.reset();
        row.start_metadata.reset();
    }
    return true;
}

Result<bool> DistinctOperator::NextImpl(RowBatch* batch) {
    const std::size_t num_visible = state_.bound.num_visible_items;
    RowBatch input;
    while (batch->rows.empty()) {
        PHENIX_ASSIGN_OR_RETURN(bool more, child().Next(&input));
        if (!more) {
            return false;
        }
        for (Row& row : input.rows) {
            std::string key;
            for (std::size_t idx = 0; idx < num_visible && idx < row.values.size(); ++idx) {
                AppendKey(row.values[idx], &key);
            }
            const std::size_t key_bytes = key.size() + 64;
            if (!seen_.insert(std::move(key)).second) {
                continue;
            }
            PHENIX_RETURN_IF_ERROR(state_.memory.Charge(key_bytes));
            batch->rows.push_back(std::move(row));
        }
    }
    return true;
}

}  // namespace phenix::query
