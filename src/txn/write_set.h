// SPDX-License-Identifier: Apache-2.0
//
// WriteSet — the buffered writes of an open transaction: the exact key/value changes its
// operations produced (per versioned column family), the counter deltas, and the entity keys it
// touched (for conflict detection at commit). Reads inside the transaction overlay it on the
// snapshot (txn/read_view.h); Commit appends it to one RocksDB batch.
//
// Not thread-safe; owned by one transaction.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/write_batch.h>

#include "storage/keys.h"
#include "storage/store.h"

namespace phenix::txn {

/// Where the write path emits key/value changes: a RocksDB batch (autocommit) or a WriteSet.
class WriteSink {
  public:
    virtual ~WriteSink() = default;
    virtual void Put(storage::ColumnFamily cf, std::string_view key, std::string_view value) = 0;
    virtual void Delete(storage::ColumnFamily cf, std::string_view key) = 0;
};

/// Emits straight into a RocksDB batch (built with storage::Store::NewBatch).
class RocksBatchSink final : public WriteSink {
  public:
    RocksBatchSink(const storage::Store& store, rocksdb::WriteBatch& batch)
        : store_(store), batch_(batch) {}
    void Put(storage::ColumnFamily cf, std::string_view key, std::string_view value) override {
        batch_.Put(store_.cf(cf), rocksdb::Slice(key.data(), key.size()),
                   rocksdb::Slice(value.data(), value.size()));
    }
    void Delete(storage::ColumnFamily cf, std::string_view key) override {
        batch_.Delete(store_.cf(cf), rocksdb::Slice(key.data(), key.size()));
    }

  private:
    const storage::Store& store_;
    rocksdb::WriteBatch& batch_;
};

/// Counter changes and touched keys of a group of operations.
struct WriteEffects {
    std::map<storage::CollectionId, std::int64_t> count_delta;
    std::map<storage::CollectionId, storage::RowId> max_row;
    /// ids-column-family key of every touched entity -> true if written, false if only
    /// referenced as an edge target.
    std::map<std::string, bool, std::less<>> touched;
    /// Lock stripes of entities whose keys are written without touching the entity (the mirror
    /// half of an edge deleted from its other end): Commit locks them too.
    std::vector<std::size_t> extra_stripes;

    void MergeFrom(const WriteEffects& other);
    /// Appends the counter merges to `batch`.
    void AppendCounters(const storage::Store& store, rocksdb::WriteBatch& batch) const;
};

class WriteSet final : public WriteSink {
  public:
    using Map = std::map<std::string, std::optional<std::string>, std::less<>>;

    void Put(storage::ColumnFamily cf, std::string_view key, std::string_view value) override;
    void Delete(storage::ColumnFamily cf, std::string_view key) override;

    /// nullptr: the transaction did not touch the key; else its value (nullopt: deleted).
    [[nodiscard]] const std::optional<std::string>* Find(storage::ColumnFamily cf,
                                                         std::string_view key) const;
    [[nodiscard]] const Map& map(storage::ColumnFamily cf) const {
        return maps_[static_cast<std::size_t>(cf)];
    }

    /// Applies `other` on top of this set (its entries replace ours).
    void MergeFrom(WriteSet&& other);

    /// Approximate encoded size of the buffered writes (keys + values + per-entry overhead).
    [[nodiscard]] std::size_t bytes() const { return bytes_; }
    [[nodiscard]] bool empty() const;

    /// Appends every buffered change to `batch` (not the counters).
    void AppendTo(const storage::Store& store, rocksdb::WriteBatch& batch) const;

    WriteEffects effects;

  private:
    static std::size_t EntryBytes(std::string_view key, const std::optional<std::string>& value) {
        return key.size() + (value ? value->size() : 0) + 16;
    }
    void Set(storage::ColumnFamily cf, std::string_view key, std::optional<std::string> value);

    std::array<Map, storage::kNumColumnFamilies> maps_;
    std::size_t bytes_ = 0;
};

}  // namespace phenix::txn
