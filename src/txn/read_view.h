// SPDX-License-Identifier: Apache-2.0
//
// ReadView — what one read sees: the versioned column families as of a timestamp, optionally
// overlaid with an open transaction's own writes (read-your-writes). Every read of entity data
// goes through a view; the catalog column family (unversioned) is read directly.
//
// A view borrows the store and the overlay; both must outlive it. Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>

#include <phenix/result.h>

#include "storage/store.h"
#include "txn/oracle.h"
#include "txn/write_set.h"

namespace phenix::txn {

/// RocksDB's readahead for an IteratorUse::kBulkScan iterator (the records of a full scan are
/// read in key order, so larger reads save system calls).
inline constexpr std::size_t kBulkScanReadaheadBytes = 2 << 20;

class ReadView {
  public:
    ReadView(const storage::Store& store, Timestamp ts, const WriteSet* overlay = nullptr)
        : store_(store), ts_(ts), overlay_(overlay) {}
    [[nodiscard]] const storage::Store& store() const { return store_; }

    [[nodiscard]] Timestamp ts() const { return ts_.value(); }
    [[nodiscard]] bool has_overlay() const { return overlay_ != nullptr; }
    /// Whether the overlay (the transaction's own writes) has `key` (written or deleted).
    [[nodiscard]] bool OverlayHas(storage::ColumnFamily cf, std::string_view key) const {
        return overlay_ != nullptr && overlay_->Find(cf, key) != nullptr;
    }

    /// The value of `key`, or nullopt when absent.
    Result<std::optional<std::string>> Get(storage::ColumnFamily cf, std::string_view key) const;
    /// Get for many keys at once (one RocksDB MultiGet for those not in the overlay).
    Result<std::vector<std::optional<std::string>>> MultiGet(
        storage::ColumnFamily cf, const std::vector<std::string_view>& keys) const;

    /// Ordered iteration over keys in [lower, upper) (no upper bound if empty), merging the
    /// overlay.
    class Iterator {
      public:
        [[nodiscard]] bool Valid() const { return valid_; }
        void Next();
        [[nodiscard]] std::string_view key() const { return key_; }
        [[nodiscard]] std::string_view value() const { return value_; }
        [[nodiscard]] Status status() const;
        /// Only for an iterator from NewSeekableIterator: repositions it on [lower, upper) (no
        /// upper bound if empty), reusing the storage iterator (much cheaper than a new one).
        void Seek(std::string_view lower, std::string_view upper);

      private:
        friend class ReadView;
        void Settle();

        std::string upper_;
        rocksdb::Slice upper_slice_;
        bool check_upper_ = false;  // the bound is checked here, not by RocksDB (seekable)
        const WriteSet::Map* overlay_map_ = nullptr;
        std::unique_ptr<rocksdb::Iterator> db_;
        WriteSet::Map::const_iterator overlay_it_;
        WriteSet::Map::const_iterator overlay_end_;
        bool valid_ = false;
        bool from_overlay_ = false;
        std::string_view key_;
        std::string_view value_;
    };
    /// What an iterator is for: a short range (the default), or one pass over many records
    /// (a full scan: RocksDB reads ahead, and the blocks it reads are not added to the block
    /// cache, so a scan does not evict what point reads keep there).
    enum class IteratorUse : std::uint8_t { kShortRange, kBulkScan };
    [[nodiscard]] std::unique_ptr<Iterator> NewIterator(
        storage::ColumnFamily cf, std::string_view lower, std::string_view upper,
        IteratorUse use = IteratorUse::kShortRange) const;
    /// An iterator to Seek repeatedly (e.g. once per adjacency list of a traversal); not
    /// positioned until the first Seek.
    [[nodiscard]] std::unique_ptr<Iterator> NewSeekableIterator(storage::ColumnFamily cf) const;

  private:
    const storage::Store& store_;
    storage::ReadTimestamp ts_;
    const WriteSet* overlay_;
};

}  // namespace phenix::txn
