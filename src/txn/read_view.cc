// SPDX-License-Identifier: Apache-2.0
#include "txn/read_view.h"

#include <algorithm>

namespace phenix::txn {

using storage::ColumnFamily;

Result<std::optional<std::string>> ReadView::Get(ColumnFamily cf, std::string_view key) const {
    if (overlay_ != nullptr) {
        if (const auto* found = overlay_->Find(cf, key)) {
            return *found;
        }
    }
    auto value = store_.Get(cf, rocksdb::Slice(key.data(), key.size()), ts_.value());
    if (!value.ok()) {
        if (value.status().IsNotFound()) {
            return std::optional<std::string>();
        }
        return value.status();
    }
    return std::optional<std::string>(std::move(*value));
}

Result<std::vector<std::optional<std::string>>> ReadView::MultiGet(
    ColumnFamily cf, const std::vector<std::string_view>& keys) const {
    std::vector<std::optional<std::string>> out(keys.size());
    std::vector<rocksdb::Slice> lookup;
    std::vector<std::size_t> positions;
    lookup.reserve(keys.size());
    positions.reserve(keys.size());
    for (std::size_t idx = 0; idx < keys.size(); ++idx) {
        if (overlay_ != nullptr) {
            if (const auto* found = overlay_->Find(cf, keys[idx])) {
                out[idx] = *found;
                continue;
            }
        }
        lookup.emplace_back(keys[idx].data(), keys[idx].size());
        positions.push_back(idx);
    }
    if (lookup.empty()) {
        return out;
    }
    // RocksDB sorts the keys of a MultiGet through the column family's comparator (virtual calls
    // that strip timestamps), which cost more than the lookups of a write batch's edge targets;
    // sorted here with plain byte comparisons (the same order for keys without timestamps), it
    // is told the input is sorted.
    auto slice_less = [](const rocksdb::Slice& a, const rocksdb::Slice& b) {
        return a.compare(b) < 0;
    };
    if (!std::is_sorted(lookup.begin(), lookup.end(), slice_less)) {
        std::vector<std::size_t> order(lookup.size());
        for (std::size_t idx = 0; idx < order.size(); ++idx) {
            order[idx] = idx;
        }
        std::sort(order.begin(), order.end(),
                  [&](std::size_t a, std::size_t b) { return slice_less(lookup[a], lookup[b]); });
        std::vector<rocksdb::Slice> sorted_lookup(lookup.size());
        std::vector<std::size_t> sorted_positions(lookup.size());
        for (std::size_t idx = 0; idx < order.size(); ++idx) {
            sorted_lookup[idx] = lookup[order[idx]];
            sorted_positions[idx] = positions[order[idx]];
        }
        lookup = std::move(sorted_lookup);
        positions = std::move(sorted_positions);
    }
    std::vector<rocksdb::PinnableSlice> values(lookup.size());
    std::vector<rocksdb::Status> statuses(lookup.size());
    const rocksdb::ReadOptions read_options = ts_.For(cf);
    store_.db()->MultiGet(read_options, store_.cf(cf), lookup.size(), lookup.data(), values.data(),
                          statuses.data(), /*sorted_input=*/true);
    for (std::size_t idx = 0; idx < lookup.size(); ++idx) {
        if (statuses[idx].IsNotFound()) {
            continue;
        }
        PHENIX_RETURN_IF_ERROR(storage::FromRocks(
            statuses[idx], std::string("read from ") + storage::ColumnFamilyName(cf) + " failed"));
        out[positions[idx]] = values[idx].ToString();
    }
    return out;
}

std::unique_ptr<ReadView::Iterator> ReadView::NewIterator(ColumnFamily cf, std::string_view lower,
                                                          std::string_view upper,
                                                          IteratorUse use) const {
    auto it = std::unique_ptr<Iterator>(new Iterator());
    it->upper_ = std::string(upper);
    it->upper_slice_ = rocksdb::Slice(it->upper_);
    rocksdb::ReadOptions read_options = ts_.For(cf);
    if (use == IteratorUse::kBulkScan) {
        read_options.readahead_size = kBulkScanReadaheadBytes;
        read_options.fill_cache = false;
    }
    if (!upper.empty()) {
        read_options.iterate_upper_bound = &it->upper_slice_;
    }
    it->db_.reset(store_.db()->NewIterator(read_options, store_.cf(cf)));
    it->db_->Seek(rocksdb::Slice(lower.data(), lower.size()));
    if (overlay_ != nullptr) {
        const WriteSet::Map& map = overlay_->map(cf);
        it->overlay_it_ = map.lower_bound(lower);
        it->overlay_end_ = upper.empty() ? map.end() : map.lower_bound(upper);
    }
    it->Settle();
    return it;
}

std::unique_ptr<ReadView::Iterator> ReadView::NewSeekableIterator(ColumnFamily cf) const {
    auto it = std::unique_ptr<Iterator>(new Iterator());
    it->check_upper_ = true;
    it->db_.reset(store_.db()->NewIterator(ts_.For(cf), store_.cf(cf)));
    if (overlay_ != nullptr) {
        it->overlay_map_ = &overlay_->map(cf);
        it->overlay_it_ = it->overlay_map_->end();
        it->overlay_end_ = it->overlay_map_->end();
    }
    return it;
}

void ReadView::Iterator::Seek(std::string_view lower, std::string_view upper) {
    upper_.assign(upper);
    db_->Seek(rocksdb::Slice(lower.data(), lower.size()));
    if (overlay_map_ != nullptr) {
        overlay_it_ = overlay_map_->lower_bound(lower);
        overlay_end_ = upper.empty() ? overlay_map_->end() : overlay_map_->lower_bound(upper);
    }
    Settle();
}

Status ReadView::Iterator::status() const {
    return storage::FromRocks(db_->status(), "iterating");
}

// Positions on the smallest key of (database, overlay); the overlay wins ties and its deletions
// hide the database key.
void ReadView::Iterator::Settle() {
    while (true) {
        const bool db_valid =
            db_->Valid() &&
            (!check_upper_ || upper_.empty() ||
             std::string_view(db_->key().data(), db_->key().size()) < std::string_view(upper_));
        const bool ov_valid = overlay_it_ != overlay_end_;
        if (!db_valid && !ov_valid) {
            valid_ = false;
            return;
        }
        int order = 0;  // <0: database first, >0: overlay first, 0: same key
        if (!ov_valid) {
            order = -1;
        } else if (!db_valid) {
            order = 1;
        } else {
            const rocksdb::Slice db_key = db_->key();
            order = std::string_view(db_key.data(), db_key.size()).compare(overlay_it_->first);
            order = order < 0 ? -1 : (order > 0 ? 1 : 0);
        }
        if (order < 0) {
            from_overlay_ = false;
            key_ = {db_->key().data(), db_->key().size()};
            value_ = {db_->value().data(), db_->value().size()};
            valid_ = true;
            return;
        }
        if (order == 0) {
            db_->Next();  // shadowed by the overlay
        }
        if (!overlay_it_->second) {
            ++overlay_it_;  // deleted in the transaction
            continue;
        }
        from_overlay_ = true;
        key_ = overlay_it_->first;
        value_ = *overlay_it_->second;
        valid_ = true;
        return;
    }
}

void ReadView::Iterator::Next() {
    if (!valid_) {
        return;
    }
    if (from_overlay_) {
        ++overlay_it_;
    } else {
        db_->Next();
    }
    Settle();
}

}  // namespace phenix::txn
