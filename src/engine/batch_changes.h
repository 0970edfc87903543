// SPDX-License-Identifier: Apache-2.0
//
// EntityChanges — the entity-record changes of a RocksDB batch, in batch order, for the engine's
// commit-time consumers (metadata index maintenance before the write, the vector-index hook
// after it). Keys of versioned column families carry an 8-byte timestamp (a placeholder before
// the write, the commit timestamp after); only the `T C row` part is kept.
//
// The views point into the batch: valid while it is alive and unchanged.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include <rocksdb/write_batch.h>

#include "common/coding.h"
#include "storage/keys.h"

namespace phenix::engine {

class EntityChanges final : public rocksdb::WriteBatch::Handler {
  public:
    struct Change {
        std::string_view key;                   // T C row
        std::optional<std::string_view> value;  // the new record; nullopt: deleted
    };

    // `wanted` (nullable) keeps only the changes of collections it accepts; it is asked once
    // per run of consecutive keys of one collection.
    explicit EntityChanges(std::uint32_t entities_cf,
                           std::function<bool(storage::CollectionId)> wanted = nullptr)
        : entities_cf_(entities_cf), wanted_(std::move(wanted)) {}

    rocksdb::Status PutCF(std::uint32_t cf, const rocksdb::Slice& key,
                          const rocksdb::Slice& value) override {
        if (Keep(cf, key)) {
            changes.push_back({std::string_view(key.data(), storage::kRowPrefixBytes),
                               std::string_view(value.data(), value.size())});
        }
        return rocksdb::Status::OK();
    }
    rocksdb::Status DeleteCF(std::uint32_t cf, const rocksdb::Slice& key) override {
        if (Keep(cf, key)) {
            changes.push_back(
                {std::string_view(key.data(), storage::kRowPrefixBytes), std::nullopt});
        }
        return rocksdb::Status::OK();
    }
    rocksdb::Status SingleDeleteCF(std::uint32_t cf, const rocksdb::Slice& key) override {
        return DeleteCF(cf, key);
    }
    rocksdb::Status MergeCF(std::uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
        return rocksdb::Status::OK();  // counters in the catalog
    }
    rocksdb::Status DeleteRangeCF(std::uint32_t, const rocksdb::Slice&,
                                  const rocksdb::Slice&) override {
        return rocksdb::Status::OK();
    }

    std::vector<Change> changes;

  private:
    bool Keep(std::uint32_t cf, const rocksdb::Slice& key) {
        if (cf != entities_cf_ || key.size() < storage::kRowPrefixBytes) {
            return false;
        }
        if (!wanted_) {
            return true;
        }
        const auto collection = coding::DecodeFixed32BE(key.data() + 4);
        if (!known_ || collection != last_collection_) {
            known_ = true;
            last_collection_ = collection;
            last_wanted_ = wanted_(collection);
        }
        return last_wanted_;
    }

    std::uint32_t entities_cf_;
    std::function<bool(storage::CollectionId)> wanted_;
    bool known_ = false;
    storage::CollectionId last_collection_ = 0;
    bool last_wanted_ = false;
};

}  // namespace phenix::engine
