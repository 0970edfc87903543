// SPDX-License-Identifier: Apache-2.0
//
// FilterCache — the row bitmaps of metadata filters, kept across queries and carried to other
// snapshots by a log of the rows that commits changed.
//
// A filtered vector search needs the filter's matching rows as a bitmap before the graph search
// starts. Built from a metadata index that costs one index-entry read per matching row (~0.5 µs
// each with Debian's librocksdb: a 10% filter over 200k entities is ~10 ms, far more than the
// search it restricts); without an index, a scan of every record. Applications repeat their
// filters, so the result is cached: a bitmap computed at snapshot C serves a query at snapshot
// S when this cache has logged every row changed between the two: those rows (and only those)
// are decided again at S from their records, the rest keep their answer from C.
//
// The change log: the commit hook (RecordChanges, before a commit becomes visible) appends the
// rows each commit changed in collections that have cached filters. Logging for a collection
// starts with its first cached result (EnableLogging, before that result is computed): a result
// is usable only across the span the log covers. The log is bounded per collection; when it is
// trimmed, results older than the trimmed span can no longer be carried forward and are
// recomputed (and re-cached) by their next query.
//
// Bitmaps are shared (shared_ptr to const), so a lookup with nothing to re-decide copies
// nothing. The cache is bounded by bytes (least recently used first out).
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "index/hnsw/hnsw_index.h"
#include "storage/keys.h"
#include "txn/oracle.h"

namespace phenix::engine {

class FilterCache {
  public:
    struct Limits {
        std::size_t max_bytes = 64u << 20;          ///< bitmaps kept, all collections together
        std::size_t max_log_rows = 256u << 10;      ///< changed rows logged per collection
        std::size_t max_rows_to_redecide = 20'000;  ///< beyond this a lookup is a miss
    };
    explicit FilterCache(Limits limits) : limits_(limits) {}

    /// Starts logging the collection's changes (no-op if it does). Call before computing a
    /// result to Insert: commits hooked from here on are logged.
    void EnableLogging(storage::CollectionId collection);

    /// The commit hook, for every commit: notes `ts` and returns whether any collection logs
    /// (if not, the hook need not decode the batch). Then, for each collection the commit
    /// changed, RecordChanges with its rows.
    bool RecordCommit(txn::Timestamp ts);
    void RecordChanges(storage::CollectionId collection, txn::Timestamp ts,
                       std::span<const storage::RowId> rows);

    struct Hit {
        std::shared_ptr<const index::RowBitmap> rows;  ///< the result at `as_of`
        txn::Timestamp as_of = 0;
        /// Rows changed between as_of and the snapshot asked for: their answer must be decided
        /// again at that snapshot (remove them from `rows`, add back those that match).
        std::vector<storage::RowId> redecide;
    };
    /// A cached result for `key` usable at `snapshot`, or nullopt.
    std::optional<Hit> Lookup(storage::CollectionId collection, std::string_view key,
                              txn::Timestamp snapshot);
    /// Caches the result of `key` computed at `as_of` (replaces an older one). Ignored unless
    /// logging covers `as_of` (EnableLogging was called before the result was computed).
    void Insert(storage::CollectionId collection, std::string key, txn::Timestamp as_of,
                index::RowBitmap rows);

    struct Stats {
        std::uint64_t hits = 0;
        std::uint64_t misses = 0;
        std::uint64_t entries = 0;
        std::uint64_t bytes = 0;
    };
    [[nodiscard]] Stats stats() const;

  private:
    struct Log {
        // Every commit with ts > complete_from that touched the collection is in `changes`.
        txn::Timestamp complete_from = 0;
        std::map<txn::Timestamp, std::vector<storage::RowId>> changes;
        std::size_t rows = 0;
    };
    struct Entry {
        storage::CollectionId collection = 0;
        std::string key;
        txn::Timestamp as_of = 0;
        std::shared_ptr<const index::RowBitmap> rows;
        std::size_t bytes = 0;
    };
    using EntryList = std::list<Entry>;  // most recently used first

    static std::string MapKey(storage::CollectionId collection, std::string_view key);
    void EvictLocked() REQUIRES(mu_);

    const Limits limits_;
    mutable Mutex mu_;
    txn::Timestamp max_hooked_ts_ GUARDED_BY(mu_) = 0;
    std::unordered_map<storage::CollectionId, Log> logs_ GUARDED_BY(mu_);
    EntryList entries_ GUARDED_BY(mu_);
    std::unordered_map<std::string, EntryList::iterator> by_key_ GUARDED_BY(mu_);
    std::size_t bytes_ GUARDED_BY(mu_) = 0;
    std::uint64_t hits_ GUARDED_BY(mu_) = 0;
    std::uint64_t misses_ GUARDED_BY(mu_) = 0;
};

}  // namespace phenix::engine
