// SPDX-License-Identifier: Apache-2.0
//
// TopK, Sort and Limit (sort.h).
#include "query/operators/sort.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "query/parser.h"

namespace phenix::query {

std::string SortOperator::Label() const {
    return k_ ? "TopK " + std::to_string(*k_) : std::string("Sort");
}

std::vector<std::string> SortOperator::Details() const {
    std::string keys;
    for (const auto& [item_index, order] : state_.bound.order_keys) {
        std::string key = ToString(order->expr);
        if (const std::size_t bracket = key.find('[');
            key.size() > 60 && bracket != std::string::npos) {
            key = key.substr(0, bracket) + "[..]";  // a distance to a long vector literal
        }
        keys += (keys.empty() ? "" : ", ") + key + (order->is_descending ? " DESC" : "");
    }
    std::vector<std::string> details = {k_ ? "order by " + keys + ": a heap of the best " +
                                                 std::to_string(*k_) + " rows"
                                           : "order by " + keys};
    details.insert(details.end(), details_.begin(), details_.end());
    return details;
}

bool SortOperator::Better(const Row& a, const Row& b) const {
    const auto& order_keys = state_.bound.order_keys;
    for (std::size_t idx = 0; idx < order_keys.size(); ++idx) {
        const int cmp = CompareValues(a.keys[idx], b.keys[idx]);
        if (cmp != 0) {
            return order_keys[idx].second->is_descending ? cmp > 0 : cmp < 0;
        }
    }
    return a.seq < b.seq;
}

Status SortOperator::Add(Row row) {
    auto worse_on_top = [this](const Row& a, const Row& b) { return Better(a, b); };
    if (!k_) {  // a full sort at the end
        PHENIX_RETURN_IF_ERROR(state_.memory.Charge(row.bytes));
        rows_.push_back(std::move(row));
        return Status::Ok();
    }
    // Top-k: a heap of the best k rows so far, the worst of them on top.
    if (rows_.size() < *k_) {
        PHENIX_RETURN_IF_ERROR(state_.memory.Charge(row.bytes));
        rows_.push_back(std::move(row));
        std::push_heap(rows_.begin(), rows_.end(), worse_on_top);
    } else if (Better(row, rows_.front())) {
        std::pop_heap(rows_.begin(), rows_.end(), worse_on_top);
        state_.memory.Release(rows_.back().bytes);
        PHENIX_RETURN_IF_ERROR(state_.memory.Charge(row.bytes));
        rows_.back() = std::move(row);
        std::push_heap(rows_.begin(), rows_.end(), worse_on_top);
    }
    return Status::Ok();
}

Result<bool> SortOperator::NextImpl(RowBatch* batch) {
    if (!sorted_) {
        if (!k_ || *k_ > 0) {
            RowBatch input;
            while (true) {
                PHENIX_ASSIGN_OR_RETURN(bool more, child().Next(&input));
                if (!more) {
                    break;
                }
                for (Row& row : input.rows) {
                    PHENIX_RETURN_IF_ERROR(Add(std::move(row)));
                }
            }
        }
        auto better = [this](const Row& a, const Row& b) { return Better(a, b); };
        if (k_) {
            std::sort_heap(rows_.begin(), rows_.end(), better);
        } else {
            std::sort(rows_.begin(), rows_.end(), better);  // seq breaks ties: stable
        }
        sorted_ = true;
    }
    while (next_ < rows_.size() && batch->rows.size() < kBatchRows) {
        state_.memory.Release(rows_[next_].bytes);  // the consumer charges what it keeps
        batch->rows.push_back(std::move(rows_[next_++]));
    }
    return !batch->rows.empty();
}

std::string LimitOperator::Label() const {
    std::string label = "Limit";
    if (limit_) {
        label += " " + std::to_string(*limit_);
    }
    if (offset_ > 0) {
        label += " offset " + std::to_string(offset_);
    }
    return label;
}

Result<bool> LimitOperator::NextImpl(RowBatch* batch) {
    RowBatch input;
    while (batch->rows.empty()) {
        if (limit_ && returned_ >= *limit_) {
            return false;  // no more pulls: the input stops here
        }
        PHENIX_ASSIGN_OR_RETURN(bool more, child().Next(&input));
        if (!more) {
            return false;
        }
        for (Row& row : input.rows) {
            if (skipped_ < offset_) {
                ++skipped_;
                continue;
            }
            if (limit_ && returned_ >= *limit_) {
                break;
            }
            batch->rows.push_back(std::move(row));
            ++returned_;
        }
    }
    return true;
}

}  // namespace phenix::query
