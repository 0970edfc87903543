// SPDX-License-Identifier: Apache-2.0
#include "txn/write_set.h"

#include "storage/catalog_codec.h"

namespace phenix::txn {

void WriteEffects::MergeFrom(const WriteEffects& other) {
    for (const auto& [collection, delta] : other.count_delta) {
        count_delta[collection] += delta;
    }
    for (const auto& [collection, row] : other.max_row) {
        storage::RowId& high = max_row[collection];
        high = std::max(high, row);
    }
    extra_stripes.insert(extra_stripes.end(), other.extra_stripes.begin(),
                         other.extra_stripes.end());
    for (const auto& [key, written] : other.touched) {
        auto [it, inserted] = touched.try_emplace(key, written);
        if (!inserted) {
            it->second = it->second || written;
        }
    }
}

void WriteEffects::AppendCounters(const storage::Store& store, rocksdb::WriteBatch& batch) const {
    auto* catalog_cf = store.cf(storage::ColumnFamily::kCatalog);
    for (const auto& [collection, delta] : count_delta) {
        if (delta != 0) {
            batch.Merge(catalog_cf, storage::EntityCountKey(collection),
                        storage::EncodeCounter(static_cast<std::uint64_t>(delta)));
        }
    }
    for (const auto& [collection, row] : max_row) {
        batch.Merge(catalog_cf, storage::RowHighWaterKey(collection), storage::EncodeCounter(row));
    }
}

void WriteSet::Set(storage::ColumnFamily cf, std::string_view key,
                   std::optional<std::string> value) {
    Map& map = maps_[static_cast<std::size_t>(cf)];
    auto it = map.find(key);
    if (it == map.end()) {
        bytes_ += EntryBytes(key, value);
        map.emplace(std::string(key), std::move(value));
        return;
    }
    bytes_ -= EntryBytes(it->first, it->second);
    bytes_ += EntryBytes(key, value);
    it->second = std::move(value);
}

void WriteSet::Put(storage::ColumnFamily cf, std::string_view key, std::string_view value) {
    Set(cf, key, std::string(value));
}

void WriteSet::Delete(storage::ColumnFamily cf, std::string_view key) {
    Set(cf, key, std::nullopt);
}

const std::optional<std::string>* WriteSet::Find(storage::ColumnFamily cf,
                                                 std::string_view key) const {
    const Map& map = maps_[static_cast<std::size_t>(cf)];
    auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
}

void WriteSet::MergeFrom(WriteSet&& other) {
    for (std::size_t idx = 0; idx < maps_.size(); ++idx) {
        for (auto& [key, value] : other.maps_[idx]) {
            Set(static_cast<storage::ColumnFamily>(idx), key, std::move(value));
        }
    }
    effects.MergeFrom(other.effects);
}

bool WriteSet::empty() const {
    for (const Map& map : maps_) {
        if (!map.empty()) {
            return false;
        }
    }
    return effects.count_delta.empty() && effects.max_row.empty();
}

void WriteSet::AppendTo(const storage::Store& store, rocksdb::WriteBatch& batch) const {
    for (std::size_t idx = 0; idx < maps_.size(); ++idx) {
        auto* family = store.cf(static_cast<storage::ColumnFamily>(idx));
        for (const auto& [key, value] : maps_[idx]) {
            if (value) {
                batch.Put(family, key, *value);
            } else {
                batch.Delete(family, key);
            }
        }
    }
}

}  // namespace phenix::txn
