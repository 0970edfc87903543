// SPDX-License-Identifier: Apache-2.0
//
// MetadataIndex — one secondary index on a JSON path of a collection's metadata
// (docs/metadata-indexes.md). Its entries live in the versioned `meta_index` column family as
// `T C index_id value row` keys (storage/keys.h), written in the same commit as the entity they
// describe, so the index is exactly as transactional as the data: a read at snapshot s scans
// the entries visible at s.
//
// This struct is the in-memory definition plus statistics (also stored in the catalog's "s/"
// records and loaded at open); the maintenance, the online build and Find are MetadataIndexes'
// (metadata_indexes.h, metadata_index.cc), the filter evaluation FilterEvaluator's
// (filter_eval.cc).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "document/filter.h"
#include "document/index_stats.h"
#include "document/json_path.h"
#include "storage/keys.h"

namespace phenix::engine {

struct MetadataIndex {
    storage::IndexId id = 0;
    document::JsonPath path;
    std::string path_text;  // canonical (JsonPath::ToString)
    std::int64_t created_at_ms = 0;
    // Set once the online build has finished: reads at or after ready_ts may use the index.
    std::atomic<bool> ready{false};
    std::atomic<std::uint64_t> ready_ts{0};
    // Rows whose entries changed since the database was opened (one per changed row, added once
    // the commit is written, so that a refresh counts a change only if its snapshot can see it,
    // except for a commit still waiting for an earlier one to be published). Only grows.
    std::atomic<std::int64_t> changes{0};
    // The online build's progress (Database::Stats): rows read so far, and the collection's
    // row count when it started (relaxed: monitoring only).
    std::atomic<std::uint64_t> build_rows_done{0};
    std::atomic<std::uint64_t> build_rows_total{0};
    // Held while the statistics record (catalog "s/") is written, so that records are written in
    // the order the statistics were installed and the last one written is the newest.
    Mutex stats_record_mu;
    // What the stored record holds: the snapshot of its statistics (0: none) and its change
    // count. Close rewrites the record when the installed state differs.
    std::uint64_t stored_stats_ts GUARDED_BY(stats_record_mu) = 0;
    std::int64_t stored_changes_since GUARDED_BY(stats_record_mu) = 0;

    [[nodiscard]] bool UsableAt(std::uint64_t snapshot) const {
        return ready.load(std::memory_order_acquire) &&
               snapshot >= ready_ts.load(std::memory_order_acquire);
    }
    [[nodiscard]] std::shared_ptr<const document::IndexStats> stats() const {
        MutexLock lock(stats_mu_);
        return stats_;
    }
    [[nodiscard]] std::uint64_t stats_ts() const {
        MutexLock lock(stats_mu_);
        return stats_ts_;
    }
    // Rows changed since the snapshot of the installed statistics (a refresh is due past ~10%
    // of the collection).
    [[nodiscard]] std::int64_t ChangesSinceStats() const {
        MutexLock lock(stats_mu_);
        return changes.load() - changes_at_stats_;
    }
    // The installed statistics (null: none yet), their snapshot and the changes since, read
    // together.
    struct InstalledStats {
        std::shared_ptr<const document::IndexStats> stats;
        std::uint64_t ts = 0;
        std::int64_t changes_since = 0;
    };
    [[nodiscard]] InstalledStats installed_stats() const {
        MutexLock lock(stats_mu_);
        return {stats_, stats_ts_, changes.load() - changes_at_stats_};
    }
    // Installs statistics computed at snapshot `ts`, when `changes` read `changes_at` (taken
    // before the snapshot), unless statistics of a later snapshot are installed already: a
    // refresh that started earlier but finished later must not replace them. Returns whether it
    // installed them.
    bool InstallStats(std::shared_ptr<const document::IndexStats> stats, std::uint64_t ts,
                      std::int64_t changes_at) {
        MutexLock lock(stats_mu_);
        if (stats_ && ts < stats_ts_) {
            return false;
        }
        stats_ = std::move(stats);
        stats_ts_ = ts;
        changes_at_stats_ = changes_at;
        return true;
    }

  private:
    mutable Mutex stats_mu_;
    std::shared_ptr<const document::IndexStats> stats_ GUARDED_BY(stats_mu_);
    std::uint64_t stats_ts_ GUARDED_BY(stats_mu_) = 0;
    // The value of `changes` the statistics reflect.
    std::int64_t changes_at_stats_ GUARDED_BY(stats_mu_) = 0;
};

/// The entry values of one document for `path`: the encoded distinct scalars it yields, plus
/// kExistsMarker when the path resolves only to objects or nested arrays (so that $exists can be
/// answered from the index). Sorted, unique.
void IndexValuesOf(const document::Document& doc, const document::JsonPath& path,
                   std::vector<std::string>* out);

/// The value an entry has when the path exists but yields no scalar: sorts after every scalar.
inline constexpr char kExistsMarker = '\xF0';

}  // namespace phenix::engine
