// SPDX-License-Identifier: Apache-2.0
//
// GROUP BY and aggregates (aggregate.h).
#include "query/operators/aggregate.h"

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "query/expression.h"
#include "query/parser.h"

namespace phenix::query {

std::vector<std::string> AggregateOperator::Details() const {
    const BoundSelect& b = state_.bound;
    std::vector<std::string> details;
    std::string columns;
    for (std::size_t idx = 0; idx < b.items.size(); ++idx) {
        columns += (columns.empty() ? "" : ", ") +
                   (idx < b.num_visible_items ? b.items[idx].name : ToString(b.items[idx].expr));
    }
    details.push_back(columns);
    if (!b.stmt->group_by.empty()) {
        std::string keys;
        for (const Expr& key : b.stmt->group_by) {
            keys += (keys.empty() ? "" : ", ") + ToString(key);
        }
        details.push_back("group by " + keys);
    }
    details.insert(details.end(), details_.begin(), details_.end());
    return details;
}

Status AggregateOperator::Accumulate(const Row& row) {
    const BoundSelect& b = state_.bound;
    std::vector<QueryValue> keys;
    std::string key_text;
    for (const Expr& key : b.stmt->group_by) {
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, state_.eval.Eval(key, row));
        AppendKey(value, &key_text);
        keys.push_back(std::move(value));
    }
    auto [it, inserted] = groups_.try_emplace(key_text);
    Group& group = it->second;
    if (inserted) {
        std::size_t bytes = key_text.size() + 96 + b.items.size() * sizeof(Accumulator);
        for (const QueryValue& key : keys) {
            bytes += ValueBytes(key);
        }
        PHENIX_RETURN_IF_ERROR(state_.memory.Charge(bytes));
        group.keys = std::move(keys);
        group.accumulators.resize(b.items.size());
    }
    for (std::size_t idx = 0; idx < b.items.size(); ++idx) {
        const Item& item = b.items[idx];
        if (!item.is_aggregate) {
            continue;
        }
        const Aggregate aggregate = *AggregateOf(item.expr);
        Accumulator& acc = group.accumulators[idx];
        if (item.expr.is_star) {
            ++acc.count;
            continue;
        }
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, state_.eval.Eval(item.expr.children[0], row));
        if (value.type == QueryValue::Type::kNull) {
            continue;
        }
        switch (aggregate) {
            case Aggregate::kCount:
                ++acc.count;
                break;
            case Aggregate::kMin:
            case Aggregate::kMax: {
                ++acc.count;
                if (!acc.best) {
                    acc.best = value;
                } else {
                    const int cmp = CompareValues(value, *acc.best);
                    if ((aggregate == Aggregate::kMin && cmp < 0) ||
                        (aggregate == Aggregate::kMax && cmp > 0)) {
                        acc.best = value;
                    }
                }
                break;
            }
            case Aggregate::kAvg:
            case Aggregate::kSum:
                if (value.type != QueryValue::Type::kInt &&
                    value.type != QueryValue::Type::kFloat) {
                    break;  // non-numbers are skipped, like NULL
                }
                ++acc.count;
                acc.sum += AsDouble(value);
                if (value.type == QueryValue::Type::kInt) {
                    acc.int_sum += value.int_value;  // 128 bits: 2^64 int64 values cannot overflow
                } else {
                    acc.all_int = false;
                }
                break;
        }
    }
    return Status::Ok();
}

Status AggregateOperator::Finish() {
    const BoundSelect& b = state_.bound;
    finished_ = true;
    if (count_) {
        Row row;
        row.values.push_back(QueryValue::Int(static_cast<std::int64_t>(*count_)));
        out_.push_back(std::move(row));
    } else if (groups_.empty() && b.stmt->group_by.empty()) {
        groups_[""].accumulators.resize(b.items.size());  // aggregates over no rows: one row
    }
    for (auto& [key_text, group] : groups_) {
        std::vector<QueryValue> out;
        for (std::size_t idx = 0; idx < b.items.size(); ++idx) {
            const Item& item = b.items[idx];
            if (item.is_computed) {
                out.emplace_back();  // computed below, from the other columns
                continue;
            }
            if (!item.is_aggregate) {
                if (IsConstant(item.expr)) {
                    PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(item.expr, *b.params));
                    out.push_back(std::move(value));
                    continue;
                }
                std::size_t key_idx = 0;
                for (; key_idx < b.stmt->group_by.size(); ++key_idx) {
                    if (ToString(b.stmt->group_by[key_idx]) == ToString(item.expr)) {
                        break;
                    }
                }
                out.push_back(key_idx < group.keys.size() ? group.keys[key_idx]
                                                          : QueryValue::Null());
                continue;
            }
            const Accumulator& acc = group.accumulators[idx];
            switch (*AggregateOf(item.expr)) {
                case Aggregate::kCount:
                    out.push_back(QueryValue::Int(static_cast<std::int64_t>(acc.count)));
                    break;
                case Aggregate::kMin:
                case Aggregate::kMax:
                    out.push_back(acc.best.value_or(QueryValue::Null()));
                    break;
                case Aggregate::kAvg:
                    out.push_back(acc.count == 0 ? QueryValue::Null()
                                                 : QueryValue::Float(
                                                       acc.sum / static_cast<double>(acc.count)));
                    break;
                case Aggregate::kSum: {
                    // Integers sum exactly; a sum beyond 64 bits is returned as a float.
                    const bool fits = acc.int_sum >= std::numeric_limits<std::int64_t>::min() &&
                                      acc.int_sum <= std::numeric_limits<std::int64_t>::max();
                    out.push_back(acc.count == 0 ? QueryValue::Null()
                                  : !acc.all_int ? QueryValue::Float(acc.sum)
                                  : fits ? QueryValue::Int(static_cast<std::int64_t>(acc.int_sum))
                                         : QueryValue::Float(static_cast<double>(acc.int_sum)));
                    break;
                }
            }
        }
        for (std::size_t idx = 0; idx < b.items.size(); ++idx) {
            if (b.items[idx].is_computed) {  // arithmetic over the group's other columns
                PHENIX_ASSIGN_OR_RETURN(out[idx],
                                        EvalValue(b.items[idx].expr, [&](const Expr& leaf) {
                                            return state_.eval.EvalOutput(leaf, out);
                                        }));
            }
        }
        Row row;
        row.values = std::move(out);
        out_.push_back(std::move(row));
    }
    groups_.clear();
    // The ORDER BY keys name output columns.
    std::uint64_t seq = 0;
    for (Row& row : out_) {
        for (const auto& [item_index, order] : b.order_keys) {
            row.keys.push_back(row.values[static_cast<std::size_t>(item_index)]);
        }
        row.seq = seq++;
    }
    return Status::Ok();
}

Result<bool> AggregateOperator::NextImpl(RowBatch* batch) {
    if (!finished_) {
        RowBatch input;
        while (true) {
            PHENIX_ASSIGN_OR_RETURN(bool more, child().Next(&input));
            if (!more) {
                break;
            }
            for (const Row& row : input.rows) {
                if (input_is_count_) {
                    count_ = static_cast<std::uint64_t>(row.values[0].int_value);
                    continue;
                }
                PHENIX_RETURN_IF_ERROR(Accumulate(row));
            }
        }
        PHENIX_RETURN_IF_ERROR(Finish());
    }
    while (next_ < out_.size() && batch->rows.size() < kBatchRows) {
        batch->rows.push_back(std::move(out_[next_++]));
    }
    return !batch->rows.empty();
}

}  // namespace phenix::query
