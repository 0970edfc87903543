// SPDX-License-Identifier: Apache-2.0
#include "engine/filter_eval.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "common/coding.h"
#include "document/index_stats.h"
#include "document/value_key.h"
#include "storage/catalog_codec.h"
#include "storage/entity_codec.h"
#include "storage/keys.h"
#include "storage/payload_cipher.h"

namespace phenix::engine {

using document::Filter;
using storage::ColumnFamily;
using storage::RowId;

namespace {

// Cost model (µs), see the header.
// An index entry is one RocksDB iterator step: ~0.5 µs with Debian's librocksdb (assertions on)
// — a 10% filter's 20k entries took ~10 ms per query on medium (docs/benchmarks.md); 0.1 was
// measured on a warmer, smaller case and undercounted it 5x.
constexpr double kEntryCost = 0.5;
constexpr double kCheckCost = 2.0;
constexpr double kScanCost = 1.5;
constexpr std::size_t kCheckChunk = 256;

std::string Rounded(double v) {
    return std::to_string(static_cast<std::uint64_t>(std::llround(std::max(0.0, v))));
}

std::string ValuePrefixSuccessor(std::string_view value) {
    return storage::PrefixSuccessor(value);
}

// The index key range holding exactly the values a $like pattern matches, when there is one:
// a literal ('abc', an equality) or a literal followed by % only ('abc%', a prefix range over
// strings). The literal must not start with a digit: every timestamp's text does, and timestamps
// are keyed by instant, not by text, so a range over strings would miss them.
std::optional<document::KeyRange> LikeKeyRange(std::string_view pattern) {
    std::string literal;
    std::size_t idx = 0;
    for (; idx < pattern.size(); ++idx) {
        const char c = pattern[idx];
        if (c == '%' || c == '_') {
            break;
        }
        if (c == '\\') {
            if (++idx >= pattern.size()) {
                return std::nullopt;
            }
        }
        literal += pattern[idx];
    }
    const bool is_prefix = idx < pattern.size();
    for (; idx < pattern.size(); ++idx) {
        if (pattern[idx] != '%') {
            return std::nullopt;
        }
    }
    if (literal.empty() || (literal[0] >= '0' && literal[0] <= '9')) {
        return std::nullopt;
    }
    std::string key = document::EncodeScalarKey(document::Scalar::PlainString(literal));
    if (is_prefix) {
        key.resize(key.size() - 2);  // drop the string terminator: any continuation matches
    }
    document::KeyRange range;
    range.end = ValuePrefixSuccessor(key);
    range.begin = std::move(key);
    return range;
}

}  // namespace

std::string DescribePredicate(const Filter& filter) {
    switch (filter.kind) {
        case Filter::Kind::kAll:
            return "TRUE";
        case Filter::Kind::kNone:
            return "FALSE";
        case Filter::Kind::kCompare: {
            static constexpr const char* kOps[] = {"=", "!=", "<", "<=", ">", ">="};
            return filter.path.ToString() + " " + kOps[static_cast<int>(filter.op)] + " " +
                   document::ScalarToJson(filter.value);
        }
        case Filter::Kind::kIn: {
            std::string out = filter.path.ToString() + (filter.negated_in ? " NOT IN (" : " IN (");
            for (std::size_t idx = 0; idx < filter.values.size() && idx < 5; ++idx) {
                out += (idx > 0 ? ", " : "") + document::ScalarToJson(filter.values[idx]);
            }
            return out + (filter.values.size() > 5 ? ", ...)" : ")");
        }
        case Filter::Kind::kExists:
            return filter.path.ToString() + (filter.exists ? " EXISTS" : " NOT EXISTS");
        case Filter::Kind::kType: {
            std::string out = filter.path.ToString() + " TYPE ";
            for (std::size_t idx = 0; idx < filter.types.size(); ++idx) {
                out +=
                    (idx > 0 ? "|" : "") + std::string(document::ValueTypeName(filter.types[idx]));
            }
            return out;
        }
        case Filter::Kind::kLike:
            return filter.path.ToString() + " LIKE " + document::ScalarToJson(filter.value);
        case Filter::Kind::kNot:
            return "NOT (" + DescribePredicate(filter.children[0]) + ")";
        case Filter::Kind::kAnd:
        case Filter::Kind::kOr: {
            std::string out = "(";
            for (std::size_t idx = 0; idx < filter.children.size(); ++idx) {
                if (idx > 0) {
                    out += filter.kind == Filter::Kind::kAnd ? " AND " : " OR ";
                }
                out += DescribePredicate(filter.children[idx]);
            }
            return out + ")";
        }
    }
    return "?";
}

FilterEvaluator::FilterEvaluator(const storage::Store& store, const CollectionHandle& handle,
                                 const txn::ReadView& view, const txn::WriteSet* own_writes,
                                 std::uint64_t rows_in_collection, FilterPlan* plan)
    : store_(store),
      handle_(handle),
      view_(view),
      own_writes_(own_writes),
      rows_in_collection_(rows_in_collection),
      plan_(plan),
      indexes_(handle.metadata_indexes) {}

void FilterEvaluator::Step(std::string text) {
    if (plan_ != nullptr) {
        plan_->steps.push_back(std::move(text));
    }
}

const MetadataIndex* FilterEvaluator::UsableIndex(const document::JsonPath& path) const {
    for (const auto& index : *indexes_) {
        if (index->path == path && index->UsableAt(view_.ts())) {
            return index.get();
        }
    }
    return nullptr;
}

bool FilterEvaluator::Indexable(const Filter& filter) const {
    switch (filter.kind) {
        case Filter::Kind::kAll:
        case Filter::Kind::kNone:
            return true;
        case Filter::Kind::kCompare:
        case Filter::Kind::kIn:
        case Filter::Kind::kExists:
        case Filter::Kind::kType:
            return UsableIndex(filter.path) != nullptr;
        case Filter::Kind::kLike:
            return UsableIndex(filter.path) != nullptr && LikeKeyRange(filter.value.text);
        case Filter::Kind::kAnd:
        case Filter::Kind::kOr:
        case Filter::Kind::kNot:
            return std::all_of(filter.children.begin(), filter.children.end(),
                               [this](const Filter& child) { return Indexable(child); });
    }
    return false;
}

bool FilterEvaluator::UsesAnIndex(const Filter& input) const {
    const Filter filter = document::Simplify(input);
    if (filter.kind == Filter::Kind::kAnd) {
        return std::any_of(filter.children.begin(), filter.children.end(),
                           [this](const Filter& child) { return Indexable(child); });
    }
    return Indexable(filter);
}

double FilterEvaluator::Estimate(const Filter& filter) const {
    const double rows = static_cast<double>(rows_in_collection_);
    const double selectivity = document::EstimateSelectivity(
        filter,
        [this](const document::JsonPath& path) -> const document::IndexStats* {
            const MetadataIndex* index = UsableIndex(path);
            if (index == nullptr) {
                return nullptr;
            }
            // The stats object outlives the evaluation: the index holds it until replaced,
            // and `indexes_` holds the index. Statistics of an empty collection say nothing
            // about rows written since (until the next refresh): use the defaults.
            const document::IndexStats* stats = index->stats().get();
            if (stats != nullptr && stats->rows_in_collection == 0 && rows_in_collection_ > 0) {
                return nullptr;
            }
            return stats;
        },
        rows_in_collection_);
    return std::clamp(selectivity, 0.0, 1.0) * rows;
}

Result<const RowBitmap*> FilterEvaluator::Universe() {
    if (!universe_) {
        // From the id index: its values are the rows (8 bytes), far cheaper to read than records.
        RowBitmap all;
        const std::string prefix = storage::CollectionPrefix(handle_.tenant_id, handle_.id());
        auto it = view_.NewIterator(ColumnFamily::kIds, prefix, storage::PrefixSuccessor(prefix));
        std::uint64_t rows = 0;
        for (; it->Valid(); it->Next()) {
            PHENIX_ASSIGN_OR_RETURN(const RowId row, storage::DecodeCounter(it->value()));
            if (row > index::kMaxRow) {
                return Status::ResourceExhausted("collection '" + handle_.ref().ToString() +
                                                 "' has row ids beyond 2^32; filters cannot "
                                                 "represent them");
            }
            all.add(static_cast<std::uint32_t>(row));
            ++rows;
        }
        PHENIX_RETURN_IF_ERROR(it->status().WithContext("listing the collection's rows"));
        Step("all rows: id index scan, " + std::to_string(rows) + " rows");
        universe_ = std::move(all);
    }
    return &*universe_;
}

Status FilterEvaluator::ScanEntries(const MetadataIndex& index, std::string_view begin,
                                    std::string_view end, RowBitmap* out) {
    const std::string prefix = storage::MetaIndexPrefix(handle_.tenant_id, handle_.id(), index.id);
    std::string lower = prefix;
    lower.append(begin);
    std::string upper;
    if (end.empty()) {
        upper = storage::PrefixSuccessor(prefix);
    } else {
        upper = prefix;
        upper.append(end);
    }
    auto it = view_.NewIterator(ColumnFamily::kMetaIndex, lower, upper);
    std::uint64_t entries = 0;
    constexpr std::size_t kBuffer = 256;
    std::uint32_t rows[kBuffer];
    std::size_t buffered = 0;
    for (; it->Valid(); it->Next()) {
        const RowId row = storage::RowFromMetaIndexKey(it->key());
        if (row > index::kMaxRow) {
            return Status::ResourceExhausted("row ids beyond 2^32 cannot be filtered");
        }
        rows[buffered++] = static_cast<std::uint32_t>(row);
        if (buffered == kBuffer) {
            out->addMany(buffered, rows);
            buffered = 0;
        }
        ++entries;
    }
    out->addMany(buffered, rows);
    PHENIX_RETURN_IF_ERROR(
        it->status().WithContext("reading the index on '" + index.path_text + "'"));
    if (plan_ != nullptr) {
        plan_->index_entries_read += entries;
    }
    return Status::Ok();
}

std::vector<std::pair<double, const Filter*>> FilterEvaluator::BySelectivity(
    const std::vector<const Filter*>& filters) const {
    std::vector<std::pair<double, const Filter*>> out;
    out.reserve(filters.size());
    for (const Filter* filter : filters) {
        out.emplace_back(Estimate(*filter), filter);  // once per term, not per comparison
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
}

Result<RowBitmap> FilterEvaluator::FromIndexes(const Filter& filter) {
    switch (filter.kind) {
        case Filter::Kind::kAll: {
            PHENIX_ASSIGN_OR_RETURN(const RowBitmap* all, Universe());
            return *all;
        }
        case Filter::Kind::kNone:
            return RowBitmap();
        case Filter::Kind::kCompare: {
            const MetadataIndex& index = *UsableIndex(filter.path);
            RowBitmap out;
            const std::string key = document::EncodeScalarKey(filter.value);
            switch (filter.op) {
                case Filter::Op::kEq:
                case Filter::Op::kNe:
                    PHENIX_RETURN_IF_ERROR(
                        ScanEntries(index, key, ValuePrefixSuccessor(key), &out));
                    break;
                case Filter::Op::kLt:
                case Filter::Op::kLte:
                case Filter::Op::kGt:
                case Filter::Op::kGte: {
                    const document::KeyRange bracket = document::BracketKeyRange(filter.value.type);
                    std::string begin = bracket.begin;
                    std::string end = bracket.end;
                    if (filter.op == Filter::Op::kLt) {
                        end = key;
                    } else if (filter.op == Filter::Op::kLte) {
                        end = ValuePrefixSuccessor(key);
                    } else if (filter.op == Filter::Op::kGt) {
                        begin = ValuePrefixSuccessor(key);
                    } else {
                        begin = key;
                    }
                    if (begin < end) {
                        PHENIX_RETURN_IF_ERROR(ScanEntries(index, begin, end, &out));
                    }
                    break;
                }
            }
            const std::uint64_t matched = out.cardinality();
            if (filter.op == Filter::Op::kNe) {
                PHENIX_ASSIGN_OR_RETURN(const RowBitmap* all, Universe());
                out = *all - out;
            }
            Step(DescribePredicate(filter) + ": index, est " + Rounded(Estimate(filter)) +
                 ", actual " +
                 std::to_string(filter.op == Filter::Op::kNe ? out.cardinality() : matched));
            return out;
        }
        case Filter::Kind::kIn: {
            const MetadataIndex& index = *UsableIndex(filter.path);
            RowBitmap out;
            for (const document::Scalar& value : filter.values) {
                const std::string key = document::EncodeScalarKey(value);
                PHENIX_RETURN_IF_ERROR(ScanEntries(index, key, ValuePrefixSuccessor(key), &out));
            }
            if (filter.negated_in) {
                PHENIX_ASSIGN_OR_RETURN(const RowBitmap* all, Universe());
                out = *all - out;
            }
            Step(DescribePredicate(filter) + ": index, est " + Rounded(Estimate(filter)) +
                 ", actual " + std::to_string(out.cardinality()));
            return out;
        }
        case Filter::Kind::kExists: {
            const MetadataIndex& index = *UsableIndex(filter.path);
            RowBitmap out;
            PHENIX_RETURN_IF_ERROR(ScanEntries(index, "", "", &out));
            if (!filter.exists) {
                PHENIX_ASSIGN_OR_RETURN(const RowBitmap* all, Universe());
                out = *all - out;
            }
            Step(DescribePredicate(filter) + ": index, est " + Rounded(Estimate(filter)) +
                 ", actual " + std::to_string(out.cardinality()));
            return out;
        }
        case Filter::Kind::kType: {
            const MetadataIndex& index = *UsableIndex(filter.path);
            RowBitmap out;
            for (const document::ValueType type : filter.types) {
                const document::KeyRange bracket = document::BracketKeyRange(type);
                PHENIX_RETURN_IF_ERROR(ScanEntries(index, bracket.begin, bracket.end, &out));
            }
            Step(DescribePredicate(filter) + ": index, est " + Rounded(Estimate(filter)) +
                 ", actual " + std::to_string(out.cardinality()));
            return out;
        }
        case Filter::Kind::kLike: {
            const MetadataIndex& index = *UsableIndex(filter.path);
            const std::optional<document::KeyRange> range = LikeKeyRange(filter.value.text);
            if (!range) {
                return Status::Internal("a $like filter without a key range reached the index");
            }
            RowBitmap out;
            PHENIX_RETURN_IF_ERROR(ScanEntries(index, range->begin, range->end, &out));
            Step(DescribePredicate(filter) + ": index, est " + Rounded(Estimate(filter)) +
                 ", actual " + std::to_string(out.cardinality()));
            return out;
        }
        case Filter::Kind::kNot: {
            PHENIX_ASSIGN_OR_RETURN(RowBitmap inner, FromIndexes(filter.children[0]));
            PHENIX_ASSIGN_OR_RETURN(const RowBitmap* all, Universe());
            return *all - inner;
        }
        case Filter::Kind::kOr: {
            RowBitmap out;
            for (const Filter& child : filter.children) {
                PHENIX_ASSIGN_OR_RETURN(RowBitmap part, FromIndexes(child));
                out |= part;
            }
            return out;
        }
        case Filter::Kind::kAnd: {
            // Most selective first; stop as soon as nothing is left.
            std::vector<const Filter*> children;
            for (const Filter& child : filter.children) {
                children.push_back(&child);
            }
            RowBitmap out;
            bool first = true;
            for (const auto& [estimate, child] : BySelectivity(children)) {
                PHENIX_ASSIGN_OR_RETURN(RowBitmap part, FromIndexes(*child));
                if (first) {
                    out = std::move(part);
                    first = false;
                } else {
                    out &= part;
                }
                if (out.isEmpty()) {
                    break;
                }
            }
            return out;
        }
    }
    return Status::Internal("unknown filter kind");
}

Result<RowBitmap> FilterEvaluator::CheckRecords(const Filter& filter, const RowBitmap& rows) {
    RowBitmap out;
    std::vector<std::string> keys;
    std::vector<std::uint32_t> chunk_rows;
    keys.reserve(kCheckChunk);
    chunk_rows.reserve(kCheckChunk);
    std::uint64_t checked = 0;
    auto flush = [&]() -> Status {
        std::vector<std::string_view> views(keys.begin(), keys.end());
        PHENIX_ASSIGN_OR_RETURN(auto values, view_.MultiGet(ColumnFamily::kEntities, views));
        std::string plain;
        for (std::size_t idx = 0; idx < values.size(); ++idx) {
            if (!values[idx]) {
                continue;
            }
            PHENIX_ASSIGN_OR_RETURN(std::string_view record,
                                    store_.payloads().Open(storage::PayloadKind::kEntity,
                                                           views[idx], *values[idx], plain));
            PHENIX_ASSIGN_OR_RETURN(std::string_view metadata,
                                    storage::DecodeEntityRecordMetadata(record));
            PHENIX_ASSIGN_OR_RETURN(bool matches, document::Matches(filter, metadata));
            if (matches) {
                out.add(chunk_rows[idx]);
            }
        }
        checked += values.size();
        keys.clear();
        chunk_rows.clear();
        return Status::Ok();
    };
    for (const std::uint32_t row : rows) {
        keys.push_back(storage::EntityKey(handle_.tenant_id, handle_.id(), row));
        chunk_rows.push_back(row);
        if (keys.size() == kCheckChunk) {
            PHENIX_RETURN_IF_ERROR(flush());
        }
    }
    if (!keys.empty()) {
        PHENIX_RETURN_IF_ERROR(flush());
    }
    if (plan_ != nullptr) {
        plan_->rows_scanned += checked;
    }
    Step(DescribePredicate(filter) + ": check " + std::to_string(checked) + " records, est " +
         Rounded(Estimate(filter) * static_cast<double>(checked) /
                 std::max<double>(1.0, static_cast<double>(rows_in_collection_))) +
         ", actual " + std::to_string(out.cardinality()));
    return out;
}

Result<RowBitmap> FilterEvaluator::FullScan(const Filter& filter) {
    RowBitmap out;
    const std::string prefix = storage::CollectionPrefix(handle_.tenant_id, handle_.id());
    auto it = view_.NewIterator(ColumnFamily::kEntities, prefix, storage::PrefixSuccessor(prefix),
                                txn::ReadView::IteratorUse::kBulkScan);
    std::uint64_t scanned = 0;
    std::string plain;
    for (; it->Valid(); it->Next()) {
        ++scanned;
        const RowId row = storage::RowFromEntityKey(it->key());
        PHENIX_ASSIGN_OR_RETURN(
            std::string_view record,
            store_.payloads().Open(storage::PayloadKind::kEntity, it->key(), it->value(), plain));
        PHENIX_ASSIGN_OR_RETURN(std::string_view metadata,
                                storage::DecodeEntityRecordMetadata(record));
        PHENIX_ASSIGN_OR_RETURN(bool matches, document::Matches(filter, metadata));
        if (matches) {
            if (row > index::kMaxRow) {
                return Status::ResourceExhausted("row ids beyond 2^32 cannot be filtered");
            }
            out.add(static_cast<std::uint32_t>(row));
        }
    }
    PHENIX_RETURN_IF_ERROR(it->status().WithContext("scanning the collection"));
    if (plan_ != nullptr) {
        plan_->rows_scanned += scanned;
    }
    Step(DescribePredicate(filter) + ": full scan of " + std::to_string(scanned) +
         " records (no usable index), est " + Rounded(Estimate(filter)) + ", actual " +
         std::to_string(out.cardinality()));
    return out;
}

Status FilterEvaluator::ApplyOwnWrites(const Filter& filter, RowBitmap* result) {
    if (own_writes_ == nullptr) {
        return Status::Ok();
    }
    const std::string prefix = storage::CollectionPrefix(handle_.tenant_id, handle_.id());
    const auto& entities = own_writes_->map(ColumnFamily::kEntities);
    std::string plain;
    for (auto it = entities.lower_bound(prefix);
         it != entities.end() && it->first.starts_with(prefix); ++it) {
        const RowId row = storage::RowFromEntityKey(it->first);
        if (row > index::kMaxRow) {
            continue;
        }
        const auto row32 = static_cast<std::uint32_t>(row);
        result->remove(row32);
        if (!it->second) {
            continue;  // deleted by the transaction
        }
        PHENIX_ASSIGN_OR_RETURN(
            std::string_view record,
            store_.payloads().Open(storage::PayloadKind::kEntity, it->first, *it->second, plain));
        PHENIX_ASSIGN_OR_RETURN(std::string_view metadata,
                                storage::DecodeEntityRecordMetadata(record));
        PHENIX_ASSIGN_OR_RETURN(bool matches, document::Matches(filter, metadata));
        if (matches) {
            result->add(row32);
        }
    }
    return Status::Ok();
}

Result<RowBitmap> FilterEvaluator::Evaluate(const Filter& input) {
    const Filter filter = document::Simplify(input);
    if (plan_ != nullptr) {
        plan_->estimated_rows = Estimate(filter);
    }
    RowBitmap result;
    if (filter.kind == Filter::Kind::kAnd) {
        // The indexable conjuncts narrow the rows, most selective first; the others (and
        // indexable ones once checking the few remaining rows is cheaper than scanning their
        // index) are checked on the records of the remaining rows. Range bounds on one path
        // are not merged into one scan: with arrays, {"p": {"$gt": 1, "$lt": 5}} matches a
        // document whose elements satisfy the bounds separately.
        std::vector<const Filter*> indexed;
        Filter residual;
        residual.kind = Filter::Kind::kAnd;
        for (const Filter& child : filter.children) {
            if (Indexable(child)) {
                indexed.push_back(&child);
            } else {
                residual.children.push_back(child);
            }
        }
        if (indexed.empty()) {
            PHENIX_ASSIGN_OR_RETURN(result, FullScan(filter));
        } else {
            bool first = true;
            for (const auto& [estimate, child] : BySelectivity(indexed)) {
                // Once few rows are left, checking their records is cheaper than another scan.
                if (!first && static_cast<double>(result.cardinality()) * kCheckCost <
                                  estimate * kEntryCost) {
                    residual.children.push_back(*child);
                    continue;
                }
                PHENIX_ASSIGN_OR_RETURN(RowBitmap part, FromIndexes(*child));
                if (first) {
                    result = std::move(part);
                    first = false;
                } else {
                    result &= part;
                }
            }
            if (!residual.children.empty() && !result.isEmpty()) {
                const Filter rest = residual.children.size() == 1 ? residual.children[0] : residual;
                PHENIX_ASSIGN_OR_RETURN(result, CheckRecords(rest, result));
            }
        }
    } else if (Indexable(filter)) {
        PHENIX_ASSIGN_OR_RETURN(result, FromIndexes(filter));
    } else {
        PHENIX_ASSIGN_OR_RETURN(result, FullScan(filter));
    }
    PHENIX_RETURN_IF_ERROR(ApplyOwnWrites(filter, &result));
    return result;
}

Result<RowBitmap> FilterEvaluator::EvaluateWithin(const Filter& input,
                                                  const RowBitmap& candidates) {
    const Filter filter = document::Simplify(input);
    if (filter.kind == Filter::Kind::kAll) {
        return candidates;
    }
    const double check_cost = static_cast<double>(candidates.cardinality()) * kCheckCost;
    const double estimate = Estimate(filter);
    const double evaluate_cost = Indexable(filter)
                                     ? estimate * kEntryCost
                                     : static_cast<double>(rows_in_collection_) * kScanCost;
    if (plan_ != nullptr) {
        plan_->estimated_rows = estimate * static_cast<double>(candidates.cardinality()) /
                                std::max<double>(1.0, static_cast<double>(rows_in_collection_));
    }
    RowBitmap result;
    if (check_cost <= evaluate_cost) {
        PHENIX_ASSIGN_OR_RETURN(result, CheckRecords(filter, candidates));
        // CheckRecords reads through the view, which includes the transaction's writes.
        return result;
    }
    PHENIX_ASSIGN_OR_RETURN(result, Evaluate(filter));
    result &= candidates;
    return result;
}

}  // namespace phenix::engine
