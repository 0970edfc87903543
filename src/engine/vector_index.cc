// SPDX-License-Identifier: Apache-2.0
#include "engine/vector_index.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <unordered_set>

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
                                             std::string checkpoint_path,
                                             std::unique_ptr<index::HnswIndex> graph)
    : collection_(collection),
      dimension_(dimension),
      settings_(settings),
      checkpoint_path_(std::move(checkpoint_path)),
      graph_(std::move(graph)) {}

Result<std::unique_ptr<CollectionVectorIndex>> CollectionVectorIndex::Create(
    storage::CollectionId collection, std::uint32_t dimension, Metric metric,
    const document::VectorIndexSettings& settings, std::string checkpoint_path) {
    PHENIX_ASSIGN_OR_RETURN(auto graph,
                            index::HnswIndex::Create(ParamsFor(dimension, metric, settings)));
    return std::unique_ptr<CollectionVectorIndex>(new CollectionVectorIndex(
        collection, dimension, settings, std::move(checkpoint_path), std::move(graph)));
}

Result<std::unique_ptr<CollectionVectorIndex>> CollectionVectorIndex::Open(
    storage::CollectionId collection, std::uint32_t dimension, Metric metric,
    const document::VectorIndexSettings& settings, std::string checkpoint_path) {
    txn::Timestamp watermark = 0;
    auto loaded = index::HnswIndex::Load(checkpoint_path, &watermark);
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
        collection, dimension, settings, std::move(checkpoint_path), std::move(*loaded)));
    index->durable_watermark_.store(watermark);
    return index;
}

void CollectionVectorIndex::SetVectorSource(index::VectorSource source) {
    graph_->SetVectorSource(std::move(source));
}

void CollectionVectorIndex::Apply(storage::RowId row, txn::Timestamp ts,
                                  std::optional<std::span<const float>> vector) {
    std::unique_lock lock(tail_mu_);
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
    changes_since_checkpoint_.fetch_add(1, std::memory_order_relaxed);
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
    std::unique_lock lock(tail_mu_);
    std::size_t ended = 0;
    for (const index::RowId row : graph_->LiveRows()) {
        if (!present.contains(static_cast<std::uint32_t>(row)) && graph_->EndRow(row, ts)) {
            ++ended;
            changes_since_checkpoint_.fetch_add(1, std::memory_order_relaxed);
        }
    }
    return ended;
}

std::size_t CollectionVectorIndex::tail_size() const {
    std::shared_lock lock(tail_mu_);
    return tail_.size();
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
        std::shared_lock lock(tail_mu_);
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

std::size_t CollectionVectorIndex::Drain(std::size_t max_entries, unsigned threads) {
    std::lock_guard drain(drain_mu_);
    if (failed_ || !TrainIfReadyLocked()) {
        return 0;
    }
    // A prefix of the tail with distinct rows (versions of one row go in order, one per round).
    std::vector<TailEntry*> batch;
    {
        std::unique_lock lock(tail_mu_);
        std::unordered_set<storage::RowId> rows;
        for (TailEntry& entry : tail_) {
            if (batch.size() >= max_entries || !rows.insert(entry.row).second) {
                break;
            }
            batch.push_back(&entry);
        }
    }
    if (batch.empty()) {
        return 0;
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
        // Should not happen (vectors were validated when written). Keep every entry in the tail,
        // where searches still score it exactly, and stop feeding the graph.
        std::fprintf(stderr,
                     "phenix: vector index of collection %u stopped indexing: %s; searches scan "
                     "the unindexed rows exactly; RebuildVectorIndex rebuilds it\n",
                     collection_, error.message().c_str());
        failed_ = true;
        return 0;
    }
    std::unique_lock lock(tail_mu_);
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
    changes_since_checkpoint_.fetch_add(batch.size(), std::memory_order_relaxed);
    return batch.size();
}

txn::Timestamp CollectionVectorIndex::Watermark(txn::Timestamp visible) const {
    std::shared_lock lock(tail_mu_);
    txn::Timestamp watermark = visible;
    for (const TailEntry& entry : tail_) {
        watermark = std::min(watermark, entry.ts - 1);
    }
    return watermark;
}

Result<VectorSearchResult> CollectionVectorIndex::Search(const VectorSearchRequest& request) const {
    PHENIX_ASSIGN_OR_RETURN(std::vector<float> query, graph_->PrepareQuery(request.query));
    VectorSearchResult result;
    // (distance, row, inserted_ts) candidates from outside the graph.
    std::vector<index::Neighbor> exact;
    // Whether a row passes the filter (bitmap or predicate), exclusions aside.
    auto passes = [&request](storage::RowId row) {
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
        std::shared_lock lock(tail_mu_);
        for (const TailEntry& entry : tail_) {
            if (entry.ts > request.snapshot ||
                (entry.end.load() != index::kForever && entry.end.load() <= request.snapshot) ||
                !allowed(entry.row)) {
                continue;
            }
            ++result.unindexed_rows_scanned;
            exact.push_back({entry.row, graph_->Distance(query, entry.vector), entry.ts});
        }
    }
    for (const PendingVector& own : request.own_vectors) {
        if (passes(own.row)) {
            exact.push_back({own.row, graph_->Distance(query, own.vector), index::kForever});
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
    PHENIX_ASSIGN_OR_RETURN(index::SearchResult graph, graph_->Search(query, options));
    result.stats = graph.stats;
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
    std::lock_guard drain(drain_mu_);
    return graph_->Repair(floor);
}

void CollectionVectorIndex::Retire() {
    std::lock_guard drain(drain_mu_);
    retired_ = true;
}

Status CollectionVectorIndex::Checkpoint(txn::Timestamp visible, txn::Timestamp floor) {
    std::lock_guard drain(drain_mu_);
    if (retired_) {
        return Status::Ok();
    }
    const std::uint64_t changes = changes_since_checkpoint_.load();
    const txn::Timestamp watermark = Watermark(visible);
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(checkpoint_path_).parent_path(), ec);
    PHENIX_RETURN_IF_ERROR(graph_->Save(checkpoint_path_, watermark, floor));
    durable_watermark_.store(watermark);
    changes_since_checkpoint_.fetch_sub(changes);
    return Status::Ok();
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
    return info;
}

}  // namespace phenix::engine
