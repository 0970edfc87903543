// SPDX-License-Identifier: Apache-2.0
#include "engine/vector_index.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <unordered_set>

#include <rocksdb/file_system.h>

namespace phenix::engine {

namespace {

index::HnswParams ParamsFor(std::uint32_t dimension, Metric metric,
                            const document::VectorIndexSettings& settings) {
    return {.dimension = dimension,
            .metric = metric,
            .m = settings.m,
            .ef_construction = settings.ef_construction,
            .quantize_int8 = settings.quantize_int8};
}

}  // namespace

CollectionVectorIndex::CollectionVectorIndex(storage::CollectionId collection,
                                             std::uint32_t dimension,
                                             const document::VectorIndexSettings& settings,
                                             std::string checkpoint_path, rocksdb::FileSystem* fs,
                                             std::unique_ptr<index::HnswIndex> graph)
    : collection_(collection),
      dimension_(dimension),
      settings_(settings),
      checkpoint_path_(std::move(checkpoint_path)),
      fs_(fs),
      graph_(std::move(graph)) {}

Result<std::unique_ptr<CollectionVectorIndex>> CollectionVectorIndex::Create(
    storage::CollectionId collection, std::uint32_t dimension, Metric metric,
    const document::VectorIndexSettings& settings, std::string checkpoint_path,
    rocksdb::FileSystem* fs) {
    PHENIX_ASSIGN_OR_RETURN(auto graph,
                            index::HnswIndex::Create(ParamsFor(dimension, metric, settings)));
    return std::unique_ptr<CollectionVectorIndex>(new CollectionVectorIndex(
        collection, dimension, settings, std::move(checkpoint_path), fs, std::move(graph)));
}

Result<std::unique_ptr<CollectionVectorIndex>> CollectionVectorIndex::Open(
    storage::CollectionId collection, std::uint32_t dimension, Metric metric,
    const document::VectorIndexSettings& settings, std::string checkpoint_path,
    rocksdb::FileSystem* fs) {
    txn::Timestamp watermark = 0;
    auto loaded = index::HnswIndex::Load(checkpoint_path, &watermark, fs);
    if (loaded.status().code() == StatusCode::kNotFound) {
        return std::unique_ptr<CollectionVectorIndex>();
    }
    PHENIX_RETURN_IF_ERROR(loaded.status());
    const index::HnswParams want = ParamsFor(dimension, metric, settings);
    const index::HnswParams& got = (*loaded)->params();
    if (got.dimension != want.dimension || got.metric != want.metric || got.m != want.m ||
        got.ef_construction != want.ef_construction || got.quantize_int8 != want.quantize_int8) {
        return std::unique_ptr<CollectionVectorIndex>();  // settings changed: rebuild
    }
    auto index = std::unique_ptr<CollectionVectorIndex>(new CollectionVectorIndex(
        collection, dimension, settings, std::move(checkpoint_path), fs, std::move(*loaded)));
    index->durable_watermark_.store(watermark);
    index->loaded_from_checkpoint_ = true;
    rocksdb::FileSystem* file_system = fs != nullptr ? fs : rocksdb::FileSystem::Default().get();
    std::uint64_t mtime_seconds = 0;
    if (file_system
            ->GetFileModificationTime(index->checkpoint_path_, rocksdb::IOOptions(), &mtime_seconds,
                                      nullptr)
            .ok()) {
        index->checkpoint_written_micros_.store(static_cast<std::int64_t>(mtime_seconds) *
                                                1'000'000);
    }
    return index;
}

void CollectionVectorIndex::SetVectorSource(index::VectorSource source) {
    graph_->SetVectorSource(std::move(source));
}

void CollectionVectorIndex::Apply(storage::RowId row, txn::Timestamp ts,
                                  std::optional<std::span<const float>> vector,
                                  std::string_view external_id) {
    // The label first: a search that finds the row (in the tail or the graph) finds its name.
    // (A row past the graph's 32-bit space gets none; the caller reads its record instead.)
    if (vector && row <= index::kMaxRow) {
        graph_->SetLabel(row, external_id);
    }
    WriterMutexLock lock(tail_mu_);
    auto newest = newest_in_tail_.find(row);
    const bool in_tail =
        newest != newest_in_tail_.end() && newest->second->end.load() == index::kForever;
    // An update that keeps the vector (e.g. a metadata change) leaves the index alone.
    if (vector && vector->size() == dimension_) {
        if (in_tail ? std::equal(vector->begin(), vector->end(), newest->second->vector.begin())
                    : graph_->SameVector(row, *vector)) {
            return;
        }
    }
    // The tail entry's end first, then the graph: an entry being inserted into the graph right
    // now either sees this end before its node becomes reachable, or its node is already in
    // the row map for EndRow to find (HnswIndex::Insert's end_watch).
    if (in_tail) {
        newest->second->end.store(ts, std::memory_order_seq_cst);
    }
    graph_->EndRow(row, ts);
    CountUnsavedChanges(1);
    if (ts > last_change_ts_.load(std::memory_order_relaxed)) {
        last_change_ts_.store(ts, std::memory_order_relaxed);  // under tail_mu_: one writer
    }
    if (!vector || vector->size() != dimension_) {
        if (newest != newest_in_tail_.end()) {
            newest_in_tail_.erase(newest);
        }
        return;
    }
    TailEntry& entry = tail_.emplace_back();
    entry.row = row;
    entry.ts = ts;
    entry.vector.assign(vector->begin(), vector->end());
    newest_in_tail_[row] = &entry;
}

std::size_t CollectionVectorIndex::EndRowsNotIn(const index::RowBitmap& present,
                                                txn::Timestamp ts) {
    WriterMutexLock lock(tail_mu_);
    std::size_t ended = 0;
    for (const index::RowId row : graph_->LiveRows()) {
        if (!present.contains(static_cast<std::uint32_t>(row)) && graph_->EndRow(row, ts)) {
            ++ended;
            CountUnsavedChanges(1);
        }
    }
    if (ended > 0 && ts > last_change_ts_.load(std::memory_order_relaxed)) {
        last_change_ts_.store(ts, std::memory_order_relaxed);
    }
    return ended;
}

std::size_t CollectionVectorIndex::tail_size() const {
    ReaderMutexLock lock(tail_mu_);
    return tail_.size();
}

CollectionVectorIndex::TailState CollectionVectorIndex::tail_state() const {
    ReaderMutexLock lock(tail_mu_);
    TailState state{.size = tail_.size()};
    // Entries are appended in commit-hook order and drained from the front, so the front is
    // the oldest (commits of different rows may interleave by a few microseconds).
    if (!tail_.empty()) {
        state.oldest_ts = tail_.front().ts;
    }
    return state;
}

bool CollectionVectorIndex::TrainIfReadyLocked() {
    if (!graph_->needs_training()) {
        return true;
    }
    // The int8 quantizer's range comes from the data: wait for enough vectors (or a quiet
    // moment), then train on up to kMaxTrainingVectors of the tail. Until then searches scan the
    // tail exactly, so nothing is missed while waiting.
    constexpr std::size_t kMinTrainingVectors = 1000;
    constexpr std::size_t kMaxTrainingVectors = 100'000;
    constexpr auto kMaxWait = std::chrono::seconds(2);
    std::vector<float> samples;
    {
        ReaderMutexLock lock(tail_mu_);
        if (tail_.empty()) {
            return false;
        }
        const auto now = std::chrono::steady_clock::now();
        if (!waiting_for_training_) {
            waiting_for_training_ = now;
        }
        if (tail_.size() < kMinTrainingVectors && now - *waiting_for_training_ < kMaxWait) {
            return false;
        }
        const std::size_t step = std::max<std::size_t>(1, tail_.size() / kMaxTrainingVectors);
        for (std::size_t i = 0; i < tail_.size(); i += step) {
            samples.insert(samples.end(), tail_[i].vector.begin(), tail_[i].vector.end());
        }
    }
    const Status trained = graph_->TrainQuantizer(samples);
    if (!trained.ok()) {
        std::fprintf(stderr, "phenix: cannot train the int8 quantizer of collection %u: %s\n",
                     collection_, trained.message().c_str());
        return false;
    }
    return true;
}

Status CollectionVectorIndex::indexing_error() const {
    MutexLock lock(failed_mu_);
    return failed_;
}

Result<std::size_t> CollectionVectorIndex::Drain(std::size_t max_entries, unsigned threads) {
    MutexLock drain(drain_mu_);
    PHENIX_RETURN_IF_ERROR(indexing_error());
    if (!TrainIfReadyLocked()) {
        return std::size_t{0};
    }
    // A prefix of the tail with distinct rows (versions of one row go in order, one per round).
    std::vector<TailEntry*> batch;
    {
        WriterMutexLock lock(tail_mu_);
        std::unordered_set<storage::RowId> rows;
        for (TailEntry& entry : tail_) {
            if (batch.size() >= max_entries || !rows.insert(entry.row).second) {
                break;
            }
            batch.push_back(&entry);
        }
    }
    if (batch.empty()) {
        return std::size_t{0};
    }
    // The entries stay in the tail (and their vectors valid) until they are removed below.
    std::atomic<std::size_t> next{0};
    std::mutex error_mu;
    Status error;
    auto work = [&] {
        for (std::size_t i = next.fetch_add(1); i < batch.size(); i = next.fetch_add(1)) {
            const TailEntry& entry = *batch[i];
            auto inserted = graph_->Insert(entry.row, entry.vector, entry.ts, &entry.end);
            if (!inserted.ok()) {
                std::lock_guard lock(error_mu);
                error = inserted.status();
            }
        }
    };
    threads = static_cast<unsigned>(std::clamp<std::size_t>(threads, 1, batch.size() / 64 + 1));
    if (threads <= 1) {
        work();
    } else {
        std::vector<std::thread> workers;
        for (unsigned t = 0; t < threads; ++t) {
            workers.emplace_back(work);
        }
        for (std::thread& w : workers) {
            w.join();
        }
    }
    if (!error.ok()) {
        // Vectors were validated when written, so this is a limit of the graph (e.g. a row id
        // past its 32-bit space). Keep every entry of the batch in the tail (entries that did go
        // into the graph are found in both and counted once), where searches still score them
        // exactly, and stop feeding the graph: retrying would fail the same way.
        Status stopped =
            Status(error.code(), "the vector index of collection " + std::to_string(collection_) +
                                     " stopped indexing: " + error.message() +
                                     " (searches scan the unindexed rows exactly)");
        std::fprintf(stderr, "phenix: %s\n", stopped.message().c_str());
        {
            MutexLock lock(failed_mu_);
            failed_ = stopped;
        }
        return stopped;
    }
    WriterMutexLock lock(tail_mu_);
    for (TailEntry* entry : batch) {
        if (entry->end.load() != index::kForever) {
            graph_->EndRow(entry->row, entry->end.load());  // no-op: Insert saw the end
        }
        auto newest = newest_in_tail_.find(entry->row);
        if (newest != newest_in_tail_.end() && newest->second == entry) {
            newest_in_tail_.erase(newest);
        }
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        tail_.pop_front();
    }
    // The graph changed too: a checkpoint taken while these were in the tail is now stale.
    CountUnsavedChanges(batch.size());
    return std::size_t{batch.size()};
}

txn::Timestamp CollectionVectorIndex::Watermark(txn::Timestamp visible) const {
    ReaderMutexLock lock(tail_mu_);
    txn::Timestamp watermark = visible;
    for (const TailEntry& entry : tail_) {
        watermark = std::min(watermark, entry.ts - 1);
    }
    return watermark;
}

Result<VectorSearchResult> CollectionVectorIndex::Search(const VectorSearchRequest& request) const {
    VectorSearchResult result;
    // (distance, row, inserted_ts) candidates from outside the graph. The prepared query (a
    // copy, normalised under cosine) is made only when there are any: the common case, an
    // empty tail, goes straight to the graph.
    std::vector<index::Neighbor> exact;
    std::vector<float> query;
    auto prepared = [&]() -> Result<std::span<const float>> {
        if (query.empty()) {
            PHENIX_ASSIGN_OR_RETURN(query, graph_->PrepareQuery(request.query));
        }
        return std::span<const float>(query);
    };
    // Whether a row passes the filter (bitmap or predicate), exclusions aside.
    auto passes = [&request](storage::RowId row) {
        if (row > index::kMaxRow) {
            // Filters are 32-bit row sets (and a predicate's rows too): never in one.
            return request.filter == nullptr && request.predicate == nullptr;
        }
        const auto row32 = static_cast<std::uint32_t>(row);
        if (request.filter != nullptr) {
            return request.filter->contains(row32);
        }
        return request.predicate == nullptr || (*request.predicate)(row32);
    };
    auto allowed = [&request, &passes](storage::RowId row) {
        const auto row32 = static_cast<std::uint32_t>(row);
        return passes(row) && (request.exclude == nullptr || !request.exclude->contains(row32));
    };
    {
        // The tail first: an entry that leaves it afterwards is already in the graph.
        ReaderMutexLock lock(tail_mu_);
        for (const TailEntry& entry : tail_) {
            if (entry.ts > request.snapshot ||
                (entry.end.load() != index::kForever && entry.end.load() <= request.snapshot) ||
                !allowed(entry.row)) {
                continue;
            }
            PHENIX_ASSIGN_OR_RETURN(std::span<const float> q, prepared());
            ++result.unindexed_rows_scanned;
            exact.push_back(
                {entry.row, graph_->Distance(q, entry.vector), entry.ts, graph_->Label(entry.row)});
        }
    }
    for (const PendingVector& own : request.own_vectors) {
        if (passes(own.row)) {
            PHENIX_ASSIGN_OR_RETURN(std::span<const float> q, prepared());
            exact.push_back({own.row, graph_->Distance(q, own.vector), index::kForever});
        }
    }
    // An entry being moved may be found in the graph too: the same version of the same row,
    // which the row de-duplication below keeps once. The graph's top k plus every visible tail
    // entry contain the overall top k, duplicates or not.
    index::SearchOptions options{.k = request.k,
                                 .ef = std::max(request.ef, request.k),
                                 .snapshot = request.snapshot,
                                 .filter = request.filter,
                                 .strategy = request.strategy,
                                 .exclude = request.exclude,
                                 .predicate = request.predicate,
                                 .predicate_rows = request.predicate_rows};
    PHENIX_ASSIGN_OR_RETURN(index::SearchResult graph, graph_->Search(request.query, options));
    result.stats = graph.stats;
    if (exact.empty()) {
        result.neighbors = std::move(graph.neighbors);  // one version per row at a snapshot
        return result;
    }
    std::vector<index::Neighbor> all = std::move(exact);
    all.insert(all.end(), graph.neighbors.begin(), graph.neighbors.end());
    std::sort(all.begin(), all.end(), [](const index::Neighbor& a, const index::Neighbor& b) {
        return a.distance < b.distance || (a.distance == b.distance && a.row < b.row);
    });
    std::unordered_set<storage::RowId> seen;
    for (const index::Neighbor& n : all) {
        if (result.neighbors.size() >= request.k) {
            break;
        }
        if (seen.insert(n.row).second) {
            result.neighbors.push_back(n);
        }
    }
    return result;
}

std::size_t CollectionVectorIndex::Repair(txn::Timestamp floor) {
    MutexLock drain(drain_mu_);
    return graph_->Repair(floor);
}

void CollectionVectorIndex::Retire() {
    MutexLock drain(drain_mu_);
    retired_ = true;
}

void CollectionVectorIndex::CountUnsavedChanges(std::uint64_t num) {
    changes_since_checkpoint_.fetch_add(num, std::memory_order_relaxed);
    if (unsaved_since_micros_.load(std::memory_order_relaxed) < 0) {
        std::int64_t none = -1;  // the first change since the checkpoint: note when
        unsaved_since_micros_.compare_exchange_strong(
            none, static_cast<std::int64_t>(txn::WallClockMicros()), std::memory_order_relaxed);
    }
}

Status CollectionVectorIndex::Checkpoint(txn::Timestamp durable, txn::Timestamp floor) {
    MutexLock drain(drain_mu_);
    if (retired_) {
        return Status::Ok();
    }
    const auto started = static_cast<std::int64_t>(txn::WallClockMicros());
    const std::uint64_t changes = changes_since_checkpoint_.load();
    const txn::Timestamp watermark = Watermark(durable);
    PHENIX_RETURN_IF_ERROR(graph_->Save(checkpoint_path_, watermark, floor, fs_));
    durable_watermark_.store(watermark);
    checkpoint_written_micros_.store(static_cast<std::int64_t>(txn::WallClockMicros()),
                                     std::memory_order_relaxed);
    changes_since_checkpoint_.fetch_sub(changes);
    if (watermark < last_change_ts_.load()) {
        // The graph holds changes the watermark does not cover (they were not durable yet, or
        // not visible): the next round must checkpoint again, or a restart replays them. They
        // wait since the oldest unsaved change (unsaved_since_micros_ stays).
        changes_since_checkpoint_.fetch_add(1);
    } else if (changes_since_checkpoint_.load() == 0) {
        // Every change is saved. (A change counted between this load and the store leaves -1
        // here: Stats then dates it from this checkpoint, written just before it came.)
        unsaved_since_micros_.store(-1, std::memory_order_relaxed);
    } else {
        unsaved_since_micros_.store(started, std::memory_order_relaxed);  // came during the save
    }
    return Status::Ok();
}

std::uint64_t CollectionVectorIndex::Verify(txn::Timestamp snapshot, const NextRow& next,
                                            const std::function<void(std::string)>& problem) const {
    // Node ids found below stay valid: no insert (slot reuse) or repair runs meanwhile.
    MutexLock drain(drain_mu_);
    // The tail's visible entries are copied first (an entry that leaves the tail meanwhile is
    // in the graph already), so commits are not held up while storage is read.
    std::unordered_map<storage::RowId, std::pair<txn::Timestamp, std::vector<float>>> tail;
    {
        ReaderMutexLock lock(tail_mu_);
        for (const TailEntry& entry : tail_) {
            const txn::Timestamp end = entry.end.load();
            if (entry.ts <= snapshot && (end == index::kForever || snapshot < end)) {
                tail[entry.row] = {entry.ts, entry.vector};
            }
        }
    }
    std::vector<index::RowId> visible = graph_->VisibleRows(snapshot);
    for (const auto& [row, vector] : tail) {
        visible.push_back(row);
    }
    std::sort(visible.begin(), visible.end());
    visible.erase(std::unique(visible.begin(), visible.end()), visible.end());

    const std::string where = "vector index of collection " + std::to_string(collection_);
    std::uint64_t checked = 0;
    std::size_t pos = 0;  // next row of `visible` not yet matched
    storage::RowId row = 0;
    std::vector<float> vector;
    auto extra = [&](storage::RowId stray) {
        problem(where + ": row " + std::to_string(stray) + " is searchable at timestamp " +
                std::to_string(snapshot) + " but storage has no vector for it there");
    };
    while (next(row, vector)) {
        ++checked;
        for (; pos < visible.size() && visible[pos] < row; ++pos) {
            extra(visible[pos]);
        }
        if (pos == visible.size() || visible[pos] != row) {
            problem(where + ": row " + std::to_string(row) +
                    " has a vector in storage but no searchable version at timestamp " +
                    std::to_string(snapshot));
            continue;
        }
        ++pos;
        const index::NodeId node = graph_->FindRow(row, snapshot);
        bool same = false;
        if (auto it = tail.find(row); it != tail.end()) {
            same = it->second.second == vector;
            // The graph may hold the same version (an entry being moved), never another one.
            if (node != index::kNoNode && graph_->NodeInsertedTs(node) != it->second.first) {
                problem(where + ": row " + std::to_string(row) +
                        " has two versions searchable at timestamp " + std::to_string(snapshot));
            }
        } else {
            same = node != index::kNoNode && graph_->NodeHasVector(node, vector);
        }
        if (!same) {
            problem(where + ": row " + std::to_string(row) + " is searchable at timestamp " +
                    std::to_string(snapshot) + " with another vector than storage holds");
        }
    }
    for (; pos < visible.size(); ++pos) {
        extra(visible[pos]);
    }
    return checked;
}

CollectionVectorIndex::Health CollectionVectorIndex::health() const {
    Health health;
    health.nodes = graph_->num_nodes();
    const std::uint64_t live = graph_->num_live();
    health.dead_nodes = health.nodes > live ? health.nodes - live : 0;
    health.levels = graph_->num_levels();
    const index::MemoryUsage memory = graph_->Memory();
    health.vector_bytes = memory.vectors_bytes;
    health.graph_bytes = memory.graph_bytes;
    health.tail = tail_state();
    // A tail entry: the entry, its vector and its newest_in_tail_ slot (an estimate).
    constexpr std::uint64_t kTailEntryOverhead = sizeof(TailEntry) + 4 * sizeof(void*);
    health.other_bytes =
        memory.metadata_bytes +
        health.tail.size * (kTailEntryOverhead + std::uint64_t{dimension_} * sizeof(float));
    health.checkpoint_written_micros = checkpoint_written_micros_.load(std::memory_order_relaxed);
    health.changes_since_checkpoint = changes_since_checkpoint_.load(std::memory_order_relaxed);
    health.unsaved_since_micros = unsaved_since_micros_.load(std::memory_order_relaxed);
    return health;
}

VectorIndexInfo CollectionVectorIndex::Info(txn::Timestamp visible) const {
    VectorIndexInfo info;
    info.m = settings_.m;
    info.ef_construction = settings_.ef_construction;
    info.ef_search = settings_.ef_search;
    info.quantize_int8 = settings_.quantize_int8;
    info.nodes = graph_->num_nodes();
    info.live_nodes = graph_->num_live();
    info.unindexed_rows = tail_size();
    info.indexed_timestamp = Watermark(visible);
    info.checkpoint_timestamp = durable_watermark_.load();
    const index::MemoryUsage memory = graph_->Memory();
    info.vectors_bytes = memory.vectors_bytes;
    info.graph_bytes = memory.graph_bytes;
    info.metadata_bytes = memory.metadata_bytes;
    info.loaded_from_checkpoint = loaded_from_checkpoint_;
    info.checkpoint_rejected = checkpoint_rejected_;
    if (Status error = indexing_error(); !error.ok()) {
        info.indexing_error = error.message();
    }
    return info;
}

}  // namespace phenix::engine
