// SPDX-License-Identifier: Apache-2.0
//
// CollectionVectorIndex — one collection's HNSW graph kept in step with its committed data
// under MVCC (docs/decisions/0004-vector-index.md):
//
//   * Commit hook (Apply): before a commit becomes visible, every changed row's live graph node
//     is ended at the commit timestamp and a new vector goes to the *tail*: committed rows the
//     graph has not absorbed yet. Rolled-back and aborted transactions never reach it.
//   * Builder (Drain): moves tail entries into the graph (with several threads for large
//     backlogs). Only then does an entry leave the tail.
//   * Search at snapshot s: the tail is read first (entries visible at s are scored exactly),
//     then the graph is searched at s; a row found in both (an entry being moved) counts once.
//     So a committed row is searchable the moment its commit is visible.
//   * Checkpoint: the graph is saved with a watermark W (every commit <= W is in it, and every
//     commit <= W is durable in storage: the caller passes a durable timestamp); on open it is
//     loaded, reconciled with the state at the storage history floor if W is below it, and the
//     versions committed after that are read back from storage into the tail. Garbage
//     collection never waits for the index (docs/decisions/0004-vector-index.md).
//   * Labels: each row's external id is kept beside the graph (set by Apply, before the row is
//     searchable), so a search names its hits without reading their records.
//   * A drain that fails (an insert the graph refuses, e.g. a row id past its 32-bit space)
//     stops feeding the graph and is reported by Drain and Info; the failed rows stay in the
//     tail, where searches still score them exactly.
//
// Thread safety: all methods are thread-safe. Apply for one row is called under that row's
// entity lock (commits of one row are serialised and arrive in timestamp order).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <phenix/result.h>
#include <phenix/search.h>

#include "common/mutex.h"
#include "document/vector_settings.h"
#include "index/hnsw/hnsw_index.h"
#include "storage/keys.h"
#include "txn/oracle.h"

namespace rocksdb {
class FileSystem;
}  // namespace rocksdb

namespace phenix::engine {

/// A vector a transaction wrote but has not committed (searched exactly, beside the snapshot).
struct PendingVector {
    storage::RowId row = 0;
    std::span<const float> vector;
};

struct VectorSearchRequest {
    std::span<const float> query;
    std::size_t k = 10;
    std::size_t ef = 64;
    txn::Timestamp snapshot = 0;
    const index::RowBitmap* filter = nullptr;
    /// A filter as a test per row (index::SearchOptions::predicate), used when filter is null.
    const std::function<bool(std::uint32_t row)>* predicate = nullptr;
    std::uint64_t predicate_rows = 0;
    index::FilterStrategy strategy = index::FilterStrategy::kAuto;
    /// Rows a transaction rewrote: their snapshot versions are hidden...
    const index::RowBitmap* exclude = nullptr;
    /// ...and these (its own live vectors) are scored instead.
    std::span<const PendingVector> own_vectors;
};

struct VectorSearchResult {
    std::vector<index::Neighbor> neighbors;  ///< nearest first; unique rows
    index::SearchStats stats;
    std::uint64_t unindexed_rows_scanned = 0;
};

class CollectionVectorIndex {
  public:
    /// A new, empty index. Checkpoints go through `fs` (not owned; nullptr: the default).
    static Result<std::unique_ptr<CollectionVectorIndex>> Create(
        storage::CollectionId collection, std::uint32_t dimension, Metric metric,
        const document::VectorIndexSettings& settings, std::string checkpoint_path,
        rocksdb::FileSystem* fs = nullptr);
    /// The index from `checkpoint_path` if it exists and matches the settings; nullptr (and no
    /// error) if there is none or it belongs to other settings; Corruption if it is damaged.
    static Result<std::unique_ptr<CollectionVectorIndex>> Open(
        storage::CollectionId collection, std::uint32_t dimension, Metric metric,
        const document::VectorIndexSettings& settings, std::string checkpoint_path,
        rocksdb::FileSystem* fs = nullptr);

    [[nodiscard]] storage::CollectionId collection() const { return collection_; }
    [[nodiscard]] const document::VectorIndexSettings& settings() const { return settings_; }
    [[nodiscard]] std::uint32_t dimension() const { return dimension_; }

    /// The commit hook: `row` changed at `ts`; `vector` is its new vector (nullopt: the entity
    /// was deleted or has no vector any more); `external_id` names the row (kept as its label).
    /// Versions of one row arrive in timestamp order. Applying a version twice changes nothing.
    void Apply(storage::RowId row, txn::Timestamp ts, std::optional<std::span<const float>> vector,
               std::string_view external_id = {});

    /// Ends, at `ts`, the live graph node of every row not in `present` (rows deleted while
    /// the index was not running, whose deletions storage no longer keeps). Returns how many.
    std::size_t EndRowsNotIn(const index::RowBitmap& present, txn::Timestamp ts);

    /// Moves up to `max_entries` tail entries into the graph using `threads` threads. Returns
    /// how many moved (0: nothing to do). Once an insert fails, returns that error (now and on
    /// every later call): the index stopped indexing; see indexing_error().
    Result<std::size_t> Drain(std::size_t max_entries, unsigned threads);
    [[nodiscard]] std::size_t tail_size() const;
    /// The tail's length and the commit timestamp of its oldest entry (0 when empty), read
    /// together (Database::Stats: how long the oldest unindexed change has waited).
    struct TailState {
        std::size_t size = 0;
        txn::Timestamp oldest_ts = 0;
    };
    [[nodiscard]] TailState tail_state() const;
    /// Why the index stopped indexing (OK while it works).
    [[nodiscard]] Status indexing_error() const;

    /// Every commit at or below the returned timestamp is in the graph (`visible`: the oracle's
    /// visible timestamp, read by the caller before this call).
    [[nodiscard]] txn::Timestamp Watermark(txn::Timestamp visible) const;

    Result<VectorSearchResult> Search(const VectorSearchRequest& request) const;

    /// Unlinks graph nodes no snapshot at or above `floor` can see.
    std::size_t Repair(txn::Timestamp floor);
    /// Stops checkpoints (after one in progress): the index was replaced or dropped and no
    /// longer receives changes, so it must never overwrite the checkpoint file again.
    void Retire();
    /// Saves the graph with watermark min(`durable`, what the graph holds): `durable` must be a
    /// timestamp at or below which every commit is durable in storage. `floor` (the persisted
    /// history floor: no snapshot below it can exist, even after a restart) drops nodes ended
    /// at or before it. OK and nothing written once retired.
    Status Checkpoint(txn::Timestamp durable, txn::Timestamp floor);
    /// The watermark of the last durable checkpoint (0: none).
    [[nodiscard]] txn::Timestamp durable_watermark() const { return durable_watermark_.load(); }
    /// Changes applied since the last checkpoint.
    [[nodiscard]] std::uint64_t changes_since_checkpoint() const {
        return changes_since_checkpoint_.load();
    }
    [[nodiscard]] const std::string& checkpoint_path() const { return checkpoint_path_; }

    /// Verification: compares what the index holds at `snapshot` with storage. `next` yields
    /// storage's rows that have a vector at the snapshot, in ascending row order, with their
    /// vectors (false when done). Every such row must have a version visible at the snapshot
    /// (in the graph or the tail) storing exactly that vector, and no other row may be visible.
    /// Each disagreement is passed to `problem`; returns the number of rows checked.
    using NextRow = std::function<bool(storage::RowId& row, std::vector<float>& vector)>;
    std::uint64_t Verify(txn::Timestamp snapshot, const NextRow& next,
                         const std::function<void(std::string)>& problem) const;
    /// Whether Open loaded it from a checkpoint (false: created empty and rebuilt).
    [[nodiscard]] bool loaded_from_checkpoint() const { return loaded_from_checkpoint_; }
    /// Records why an existing checkpoint was not used (before the index is published).
    void set_checkpoint_rejected(std::string why) { checkpoint_rejected_ = std::move(why); }

    void SetVectorSource(index::VectorSource source);
    [[nodiscard]] VectorIndexInfo Info(txn::Timestamp visible) const;

    /// Monitoring figures (Database::Stats), from counters: nothing is scanned.
    struct Health {
        std::uint64_t nodes = 0;
        std::uint64_t dead_nodes = 0;  ///< ended (deleted or re-embedded), not yet repaired
        std::uint32_t levels = 0;
        std::uint64_t vector_bytes = 0;
        std::uint64_t graph_bytes = 0;
        std::uint64_t other_bytes = 0;  ///< node metadata, row map, labels and the tail
        TailState tail;
        /// Wall-clock microseconds when the last checkpoint was written (for one loaded at
        /// open: its file's modification time); -1: never.
        std::int64_t checkpoint_written_micros = -1;
        /// Changes applied since the last checkpoint (what a restart replays), and when the
        /// oldest of them was applied (wall-clock microseconds; -1: not known, then it is no
        /// older than the last checkpoint).
        std::uint64_t changes_since_checkpoint = 0;
        std::int64_t unsaved_since_micros = -1;
    };
    [[nodiscard]] Health health() const;

  private:
    CollectionVectorIndex(storage::CollectionId collection, std::uint32_t dimension,
                          const document::VectorIndexSettings& settings,
                          std::string checkpoint_path, rocksdb::FileSystem* fs,
                          std::unique_ptr<index::HnswIndex> graph);

    // Counts `num` changes the next checkpoint must save (and notes when the first came).
    void CountUnsavedChanges(std::uint64_t num);

    struct TailEntry {
        storage::RowId row = 0;
        txn::Timestamp ts = 0;
        std::atomic<txn::Timestamp> end{index::kForever};  // written under tail_mu_
        std::vector<float> vector;
    };

    const storage::CollectionId collection_;
    const std::uint32_t dimension_;
    const document::VectorIndexSettings settings_;
    const std::string checkpoint_path_;
    rocksdb::FileSystem* const fs_;  // not owned (the store's); nullptr: the default
    std::unique_ptr<index::HnswIndex> graph_;

    mutable SharedMutex tail_mu_;
    std::deque<TailEntry> tail_ GUARDED_BY(tail_mu_);
    std::unordered_map<storage::RowId, TailEntry*> newest_in_tail_ GUARDED_BY(tail_mu_);

    // Trains an int8 quantizer from the tail once enough vectors arrived; true when the graph
    // can take inserts.
    bool TrainIfReadyLocked() REQUIRES(drain_mu_);

    mutable Mutex drain_mu_;  // one Drain, Repair or Checkpoint at a time (and Verify)
    bool retired_ GUARDED_BY(drain_mu_) = false;
    mutable Mutex failed_mu_;               // leaf
    Status failed_ GUARDED_BY(failed_mu_);  // why indexing stopped (an insert failed)
    std::optional<std::chrono::steady_clock::time_point> waiting_for_training_
        GUARDED_BY(drain_mu_);
    std::atomic<txn::Timestamp> durable_watermark_{0};
    bool loaded_from_checkpoint_ = false;  // immutable after Open
    std::string checkpoint_rejected_;      // immutable once published
    std::atomic<std::uint64_t> changes_since_checkpoint_{0};
    std::atomic<std::int64_t> checkpoint_written_micros_{-1};  // Health
    // When the oldest change not in a checkpoint was applied (-1: none, or not known): set by
    // the change that finds it -1, reset by a checkpoint that covered every change (Health).
    std::atomic<std::int64_t> unsaved_since_micros_{-1};
    std::atomic<txn::Timestamp> last_change_ts_{0};  // the newest Apply that changed anything
};

}  // namespace phenix::engine
