// SPDX-License-Identifier: Apache-2.0
//
// VectorIndexes (vector_indexes.h): opening the collections' vector indexes and catching them
// up, the commit hook, the builder thread (drains tails, repairs, checkpoints), backpressure,
// checkpoints, DropVectorIndex, RebuildVectorIndex and GetVectorIndexInfo.
// See engine/vector_index.h.
#include "engine/vector_indexes.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <rocksdb/write_batch.h>

#include "common/coding.h"
#include "common/sync_point.h"
#include "engine/batch_changes.h"
#include "storage/catalog_codec.h"
#include "storage/checkpoint_file.h"
#include "storage/entity_codec.h"
#include "storage/payload_cipher.h"
#include "txn/read_view.h"

namespace phenix::engine {

using storage::ColumnFamily;
using storage::RowId;

namespace {

// Tail sizes above this are drained in large batches with every core.
constexpr std::size_t kBulkDrainThreshold = 4096;
constexpr std::uint64_t kCheckpointChanges = 200'000;
constexpr auto kRepairInterval = std::chrono::seconds(5);

// Full-precision vectors for re-ranking a quantized index: the entity's vector at the snapshot.
index::VectorSource MakeVectorSource(const storage::Store* store, storage::TenantId tenant,
                                     storage::CollectionId collection) {
    return [store, tenant, collection](index::RowId row, index::Timestamp snapshot, float* out) {
        auto value =
            store->Get(ColumnFamily::kEntities, storage::EntityKey(tenant, collection, row),
                       snapshot == index::kForever ? storage::kLatestTimestamp : snapshot);
        std::vector<float> vector;
        std::string plain;
        if (!value.ok()) {
            return false;
        }
        auto record =
            store->payloads().Open(storage::PayloadKind::kEntity,
                                   storage::EntityKey(tenant, collection, row), *value, plain);
        if (!record.ok() || !storage::DecodeEntityRecordVector(*record, vector).ok() ||
            vector.empty()) {
            return false;
        }
        std::copy(vector.begin(), vector.end(), out);
        return true;
    };
}

}  // namespace

VectorIndexes::~VectorIndexes() {
    StopBuilder();
}

void VectorIndexes::StartBuilder() {
    vector_builder_ = std::thread([this] { VectorBuilderLoop(); });
}

void VectorIndexes::StopBuilder() {
    {
        MutexLock lock(builder_mu_);
        stop_builder_ = true;
    }
    builder_cv_.NotifyAll();
    backlog_cv_.NotifyAll();  // writers waiting on a backlog give up
    if (vector_builder_.joinable()) {
        vector_builder_.join();
    }
}

// ---------------------------------------------------------------- lifecycle

std::string VectorIndexes::VectorCheckpointPath(storage::CollectionId id) const {
    return store_->path() + "/index/c" + std::to_string(id) + ".hnsw";
}

std::shared_ptr<CollectionVectorIndex> VectorIndexes::FindVectorIndex(
    storage::CollectionId id) const {
    ReaderMutexLock lock(vector_mu_);
    auto it = vector_indexes_.find(id);
    return it == vector_indexes_.end() ? nullptr : it->second;
}

Status VectorIndexes::OpenVectorIndex(const CollectionHandle& handle) {
    if (!handle.record.dimension) {
        return Status::Ok();
    }
    PHENIX_ASSIGN_OR_RETURN(document::VectorIndexSettings settings,
                            document::ParseVectorIndexSettings(handle.record.settings));
    const std::uint32_t dim = *handle.record.dimension;
    const std::string path = VectorCheckpointPath(handle.id());
    // The checkpoint holds the tenant's vectors: it is sealed under the tenant's data key.
    auto fs = store_->payloads().CheckpointFileSystem(handle.tenant_id);
    if (!fs.ok() && fs.status().code() == StatusCode::kFailedPrecondition) {
        // The tenant's key is gone (a copy of the directory taken before the tenant was
        // crypto-shredded): its collections cannot be read, the others can.
        std::fprintf(stderr, "phenix: no vector index for '%s': %s\n",
                     handle.ref().ToString().c_str(), fs.status().message().c_str());
        return Status::Ok();
    }
    PHENIX_RETURN_IF_ERROR(fs.status());
    auto opened =
        CollectionVectorIndex::Open(handle.id(), dim, handle.record.metric, settings, path, *fs);
    std::unique_ptr<CollectionVectorIndex> index;
    std::string rejected;
    if (opened.ok()) {
        index = std::move(*opened);
        if (!index && std::filesystem::exists(path)) {
            rejected = "the checkpoint was written for other index settings";
        }
    } else {
        // The index is derived data: a damaged checkpoint is rebuilt, never fatal.
        rejected = opened.status().message();
        std::fprintf(stderr,
                     "phenix: %s; rebuilding the vector index of '%s' from the stored data\n",
                     rejected.c_str(), handle.ref().ToString().c_str());
    }
    txn::Timestamp from = 1;
    if (index) {
        from = index->durable_watermark() + 1;
    } else {
        PHENIX_ASSIGN_OR_RETURN(
            index, CollectionVectorIndex::Create(handle.id(), dim, handle.record.metric, settings,
                                                 path, *fs));
        index->set_checkpoint_rejected(std::move(rejected));
    }
    index->SetVectorSource(MakeVectorSource(store_, handle.tenant_id, handle.id()));
    PHENIX_RETURN_IF_ERROR(LoadVectorIndexFromStorage(handle, *index, from, oracle_->visible()));
    {
        WriterMutexLock lock(vector_mu_);
        vector_indexes_[handle.id()] = std::move(index);
    }
    builder_cv_.NotifyAll();
    return Status::Ok();
}

Status VectorIndexes::OpenVectorIndexes() {
    std::set<std::string> wanted;
    for (const std::string& tenant : catalog_->TenantNames()) {
        PHENIX_ASSIGN_OR_RETURN(auto collections, catalog_->Collections(tenant));
        for (const auto& handle : collections) {
            PHENIX_RETURN_IF_ERROR(OpenVectorIndex(*handle));
            wanted.insert(std::filesystem::path(VectorCheckpointPath(handle->id())).filename());
        }
    }
    if (store_->read_only()) {
        return Status::Ok();  // writes nothing: leftovers wait for a read-write open
    }
    // Checkpoints of dropped collections (a crash between the drop and the file deletion) and
    // leftovers of interrupted saves.
    std::error_code ec;
    const std::filesystem::path dir = std::filesystem::path(store_->path()) / "index";
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (wanted.count(entry.path().filename().string()) == 0) {
            std::filesystem::remove(entry.path(), ec);
        }
    }
    return Status::Ok();
}

void VectorIndexes::DropVectorIndex(storage::CollectionId id) {
    std::shared_ptr<CollectionVectorIndex> index;
    {
        WriterMutexLock lock(vector_mu_);
        auto it = vector_indexes_.find(id);
        if (it == vector_indexes_.end()) {
            return;
        }
        index = std::move(it->second);
        vector_indexes_.erase(it);
    }
    index->Retire();
    // A failure leaves a stale file that the next open removes (it belongs to no collection).
    storage::RemoveCheckpointFile(store_->file_system(), index->checkpoint_path()).IgnoreError();
}

Status VectorIndexes::CatchUpVectorIndex(const CollectionHandle& handle,
                                         CollectionVectorIndex& index, txn::Timestamp from_ts,
                                         txn::Timestamp to_ts) const {
    if (from_ts > to_ts) {
        return Status::Ok();
    }
    // Versions come newest first per key; apply each row's versions oldest first.
    struct Version {
        txn::Timestamp ts;
        std::optional<std::vector<float>> vector;
        std::string external_id;
    };
    std::vector<Version> versions;
    std::string current_key;
    std::vector<float> decoded;
    std::string plain;
    auto flush = [&]() {
        if (current_key.empty()) {
            return;
        }
        const RowId row = storage::RowFromEntityKey(current_key);
        for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
            if (it->vector) {
                index.Apply(row, it->ts, std::span<const float>(*it->vector), it->external_id);
            } else {
                index.Apply(row, it->ts, std::nullopt);
            }
        }
        versions.clear();
    };
    const std::string prefix = storage::CollectionPrefix(handle.tenant_id, handle.id());
    const Status scanned = store_->ScanVersions(
        ColumnFamily::kEntities, prefix, from_ts, to_ts,
        [&](const storage::Store::KeyVersion& version) -> Status {
            if (version.key != current_key) {
                flush();
                current_key.assign(version.key);
            }
            Version v{.ts = version.ts, .vector = std::nullopt, .external_id = {}};
            if (version.value) {
                PHENIX_ASSIGN_OR_RETURN(
                    std::string_view record,
                    store_->payloads().Open(storage::PayloadKind::kEntity, version.key,
                                            *version.value, plain));
                PHENIX_RETURN_IF_ERROR(storage::DecodeEntityRecordVector(record, decoded));
                if (!decoded.empty()) {
                    v.vector = decoded;
                    PHENIX_ASSIGN_OR_RETURN(std::string_view id,
                                            storage::DecodeEntityRecordId(record));
                    v.external_id = id;
                }
            }
            versions.push_back(std::move(v));
            return Status::Ok();
        });
    PHENIX_RETURN_IF_ERROR(scanned);
    flush();
    return Status::Ok();
}

void VectorIndexes::ApplyToVectorIndexes(const rocksdb::WriteBatch& wb, txn::Timestamp ts) {
    ReaderMutexLock lock(vector_mu_);
    // RebuildVectorIndex reads storage up to here (with vector_mu_ exclusive) before it takes
    // over: commits whose hook already ran on the index it replaces must not be lost.
    txn::Timestamp hooked = last_hooked_ts_.load();
    while (ts > hooked && !last_hooked_ts_.compare_exchange_weak(hooked, ts)) {
    }
    if (vector_indexes_.empty()) {
        return;
    }
    EntityChanges changes(store_->cf(ColumnFamily::kEntities)->GetID());
    // Iterating an in-memory batch cannot fail for a batch RocksDB has just written.
    (void)wb.Iterate(&changes);
    std::vector<float> vector;
    std::string plain;
    bool applied = false;
    for (const EntityChanges::Change& change : changes.changes) {
        const auto collection = coding::DecodeFixed32BE(change.key.data() + 4);
        auto it = vector_indexes_.find(collection);
        if (it == vector_indexes_.end()) {
            continue;
        }
        const RowId row = storage::RowFromEntityKey(change.key);
        // A value this process has just sealed always opens; failing that, the row leaves the
        // index, as an undecodable record always did.
        auto record = change.value ? store_->payloads().Open(storage::PayloadKind::kEntity,
                                                             change.key, *change.value, plain)
                                   : Result<std::string_view>(Status::NotFound("deleted"));
        if (record.ok() && storage::DecodeEntityRecordVector(*record, vector).ok() &&
            !vector.empty()) {
            auto id = storage::DecodeEntityRecordId(*record);
            it->second->Apply(row, ts, std::span<const float>(vector),
                              id.ok() ? *id : std::string_view());
        } else {
            it->second->Apply(row, ts, std::nullopt);
        }
        applied = true;
    }
    if (applied) {
        builder_cv_.NotifyOne();
    }
}

Status VectorIndexes::ReconcileAtFloor(const CollectionHandle& handle, CollectionVectorIndex& index,
                                       txn::Timestamp floor) const {
    // Storage keeps exact history only above the floor (compaction merges older versions and
    // may clear their timestamps), and no snapshot below the floor can be taken. So the state
    // at the floor is compared with the index, and every difference starts at the floor.
    index::RowBitmap present;
    const std::string prefix = storage::CollectionPrefix(handle.tenant_id, handle.id());
    const txn::ReadView view(*store_, floor);
    auto it = view.NewIterator(ColumnFamily::kEntities, prefix, storage::PrefixSuccessor(prefix));
    std::vector<float> vector;
    std::string plain;
    for (; it->Valid(); it->Next()) {
        const RowId row = storage::RowFromEntityKey(it->key());
        if (row > index::kMaxRow) {
            continue;
        }
        present.add(static_cast<std::uint32_t>(row));
        PHENIX_ASSIGN_OR_RETURN(
            std::string_view record,
            store_->payloads().Open(storage::PayloadKind::kEntity, it->key(), it->value(), plain));
        PHENIX_RETURN_IF_ERROR(storage::DecodeEntityRecordVector(record, vector));
        if (vector.empty()) {
            index.Apply(row, floor, std::nullopt);
        } else {
            PHENIX_ASSIGN_OR_RETURN(std::string_view id, storage::DecodeEntityRecordId(record));
            index.Apply(row, floor, std::span<const float>(vector), id);  // no-op if unchanged
        }
    }
    PHENIX_RETURN_IF_ERROR(it->status());
    index.EndRowsNotIn(present, floor);
    return Status::Ok();
}

Status VectorIndexes::LoadVectorIndexFromStorage(const CollectionHandle& handle,
                                                 CollectionVectorIndex& index,
                                                 txn::Timestamp from_ts,
                                                 txn::Timestamp to_ts) const {
    // Reconcile and replay must read one history: a snapshot registered at the floor keeps
    // garbage collection from moving the floor (and compaction from merging the versions this
    // reads) until both are done. The oracle's floor is at or above the storage floor, so
    // reads at it are exact.
    txn::Timestamp pinned = 0;
    for (;;) {
        pinned = std::max(oracle_->floor(), store_->history_floor());
        if (oracle_->AcquireSnapshotAt(pinned).ok()) {
            break;  // else the floor moved on in between: pin the new one
        }
    }
    PHENIX_SYNC_POINT("DatabaseImpl::LoadVectorIndexFromStorage:Pinned");
    Status loaded = Status::Ok();
    if (pinned > 0 && from_ts <= pinned) {
        loaded = ReconcileAtFloor(handle, index, pinned);
        from_ts = pinned + 1;
    }
    if (loaded.ok()) {
        loaded = CatchUpVectorIndex(handle, index, from_ts, std::max(to_ts, pinned));
    }
    oracle_->ReleaseSnapshot(pinned);
    return loaded;
}

void VectorIndexes::CheckpointVectorIndexes(bool force) {
    if (store_->read_only()) {
        return;  // the indexes live in memory only; storage keeps what a later open replays
    }
    std::vector<std::shared_ptr<CollectionVectorIndex>> indexes;
    {
        ReaderMutexLock lock(vector_mu_);
        for (const auto& [id, index] : vector_indexes_) {
            indexes.push_back(index);
        }
    }
    // The checkpoint's watermark must not cover commits storage could still lose, and the
    // nodes it drops must be invisible to every snapshot possible after a restart: the
    // persisted history floor (the oracle's may be ahead of it) bounds those.
    std::erase_if(indexes, [force](const std::shared_ptr<CollectionVectorIndex>& index) {
        return index->changes_since_checkpoint() == 0 &&
               (!force || std::filesystem::exists(index->checkpoint_path()));
    });
    if (indexes.empty()) {
        return;
    }
    auto durable_or = DurableTimestamp();
    if (!durable_or.ok()) {
        std::fprintf(stderr, "phenix: vector index checkpoint skipped: %s\n",
                     durable_or.status().message().c_str());
        return;
    }
    const txn::Timestamp durable = *durable_or;
    const txn::Timestamp floor = std::min(oracle_->floor(), store_->history_floor());
    for (const auto& index : indexes) {
        const Status s = index->Checkpoint(durable, floor);
        if (!s.ok()) {
            // The previous checkpoint stays; a restart replays more from storage.
            std::fprintf(stderr, "phenix: vector index checkpoint failed: %s\n",
                         s.message().c_str());
        }
    }
}

Status VectorIndexes::RewriteVectorCheckpoints(
    const std::function<bool(storage::CollectionId)>& wanted) {
    std::vector<std::shared_ptr<CollectionVectorIndex>> indexes;
    {
        ReaderMutexLock lock(vector_mu_);
        for (const auto& [id, index] : vector_indexes_) {
            if (wanted(id) && std::filesystem::exists(index->checkpoint_path())) {
                indexes.push_back(index);
            }
        }
    }
    if (indexes.empty()) {
        return Status::Ok();
    }
    PHENIX_ASSIGN_OR_RETURN(const txn::Timestamp durable, DurableTimestamp());
    const txn::Timestamp floor = std::min(oracle_->floor(), store_->history_floor());
    for (const auto& index : indexes) {
        PHENIX_RETURN_IF_ERROR(index->Checkpoint(durable, floor));
    }
    return Status::Ok();
}

Result<txn::Timestamp> VectorIndexes::DurableTimestamp() {
    // Every commit at or below `visible` has been written. In sync mode a commit returned
    // only once synced; in relaxed mode a WAL sync now makes them durable.
    txn::Timestamp durable = oracle_->visible();
    if (options_.durability != Durability::kSync) {
        PHENIX_RETURN_IF_ERROR(store_->SyncWal());
    }
    // A failed write's WAL record may still reach the disk: replay must start at or below it.
    const std::uint64_t failed = store_->first_failed_commit_ts();
    if (failed <= durable) {
        durable = failed - 1;
    }
    PHENIX_SYNC_POINT_ARG("DatabaseImpl::DurableTimestamp", &durable);
    return durable;
}

bool VectorIndexes::VectorBacklogTooLong() const {
    const std::uint64_t limit = options_.max_vector_backlog;
    if (limit == 0) {
        return false;
    }
    ReaderMutexLock lock(vector_mu_);
    for (const auto& [id, index] : vector_indexes_) {
        if (index->tail_size() > limit && index->indexing_error().ok()) {
            return true;
        }
    }
    return false;
}

Status VectorIndexes::WaitForVectorBacklog() {
    if (!VectorBacklogTooLong()) {
        return Status::Ok();
    }
    MutexLock lock(builder_mu_);
    while (!stop_builder_) {
        // Re-checked on every absorbed batch (and every 100 ms, in case an index was dropped).
        backlog_cv_.WaitFor(builder_mu_, std::chrono::milliseconds(100));
        builder_mu_.Unlock();
        const bool too_long = VectorBacklogTooLong();
        builder_mu_.Lock();
        if (!too_long) {
            return Status::Ok();
        }
    }
    return Status::FailedPrecondition("the database is closed");
}

void VectorIndexes::VectorBuilderLoop() {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    auto last_checkpoint = std::chrono::steady_clock::now();
    auto last_repair = std::chrono::steady_clock::now();
    builder_mu_.Lock();
    while (!stop_builder_) {
        builder_mu_.Unlock();
        std::vector<std::shared_ptr<CollectionVectorIndex>> indexes;
        {
            ReaderMutexLock vlock(vector_mu_);
            for (const auto& [id, index] : vector_indexes_) {
                indexes.push_back(index);
            }
        }
        std::size_t moved = 0;
        for (const auto& index : indexes) {
            std::size_t backlog = index->tail_size();
            // Tests hold the tail back by setting the backlog to 0 (Database::Stats' lag).
            PHENIX_SYNC_POINT_ARG("DatabaseImpl::VectorBuilderLoop:Backlog", &backlog);
            // A failed index reports its error through GetVectorIndexInfo; nothing to retry.
            Result<std::size_t> drained = std::size_t{0};
            if (backlog > kBulkDrainThreshold) {
                drained = index->Drain(16 * kBulkDrainThreshold, cores);
            } else if (backlog > 0) {
                drained = index->Drain(backlog, 1);
            }
            moved += drained.ok() ? *drained : 0;
        }
        if (moved > 0) {
            backlog_cv_.NotifyAll();  // writers waiting on a backlog re-check it
        }
        const auto now = std::chrono::steady_clock::now();
        if (now - last_repair >= kRepairInterval) {
            // The persisted floor: a node no snapshot sees now may be seen again after a
            // restart (the oracle's floor is restored from storage's, which may be lower).
            const txn::Timestamp floor = std::min(oracle_->floor(), store_->history_floor());
            for (const auto& index : indexes) {
                index->Repair(floor);
            }
            last_repair = now;
        }
        const std::uint64_t interval_ms = options_.vector_checkpoint_interval_ms;
        bool checkpoint_due =
            interval_ms != 0 && now - last_checkpoint >= std::chrono::milliseconds(interval_ms);
        for (const auto& index : indexes) {
            checkpoint_due =
                checkpoint_due || index->changes_since_checkpoint() >= kCheckpointChanges;
        }
        if (checkpoint_due) {
            CheckpointVectorIndexes(false);
            last_checkpoint = now;
        }
        builder_mu_.Lock();
        if (moved == 0 && !stop_builder_) {
            builder_cv_.WaitFor(builder_mu_, std::chrono::milliseconds(50));
        }
    }
    builder_mu_.Unlock();
}

Result<VectorIndexInfo> VectorIndexes::GetVectorIndexInfo(const CollectionRef& collection) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    auto index = FindVectorIndex(handle->id());
    if (!index) {
        return Status::InvalidArgument("collection '" + handle->ref().ToString() +
                                       "' has no vectors, so no vector index");
    }
    return index->Info(oracle_->visible());
}

Status VectorIndexes::RebuildVectorIndex(
    const CollectionRef& collection,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckWritableLocked("RebuildVectorIndex"));
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    auto old = FindVectorIndex(handle->id());
    if (!old) {
        return Status::InvalidArgument("collection '" + handle->ref().ToString() +
                                       "' has no vectors, so no vector index");
    }
    PHENIX_ASSIGN_OR_RETURN(rocksdb::FileSystem * fs,
                            store_->payloads().CheckpointFileSystem(handle->tenant_id));
    PHENIX_ASSIGN_OR_RETURN(std::shared_ptr<CollectionVectorIndex> fresh,
                            CollectionVectorIndex::Create(handle->id(), *handle->record.dimension,
                                                          handle->record.metric, old->settings(),
                                                          VectorCheckpointPath(handle->id()), fs));
    const txn::Timestamp built_to = oracle_->visible();
    PHENIX_RETURN_IF_ERROR(LoadVectorIndexFromStorage(*handle, *fresh, 1, built_to));
    const std::size_t total = fresh->tail_size();
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    std::size_t done = 0;
    while (fresh->tail_size() > 0) {
        // A failed drain ends the rebuild with its error (the old index stays in place).
        PHENIX_ASSIGN_OR_RETURN(
            std::size_t moved,
            fresh->Drain(std::max<std::size_t>(total / 20, kBulkDrainThreshold), cores));
        done += moved;
        if (progress) {
            progress(done, total);
        }
    }
    PHENIX_SYNC_POINT("DatabaseImpl::RebuildVectorIndex:Built");
    {
        // Commits wait for the swap (their hook takes vector_mu_ shared). A commit whose hook
        // already ran went to the old index, and may not be visible yet: catch up every
        // version written up to the newest hooked commit (its batch is in storage before its
        // hook runs), not just the visible ones. A version caught up here whose hook has not
        // run yet will run it on the new index too, which changes nothing.
        WriterMutexLock vlock(vector_mu_);
        const txn::Timestamp caught_up_to = std::max(oracle_->visible(), last_hooked_ts_.load());
        PHENIX_RETURN_IF_ERROR(
            LoadVectorIndexFromStorage(*handle, *fresh, built_to + 1, caught_up_to));
        fresh->SetVectorSource(MakeVectorSource(store_, handle->tenant_id, handle->id()));
        old->Retire();
        vector_indexes_[handle->id()] = fresh;
    }
    builder_cv_.NotifyAll();
    PHENIX_ASSIGN_OR_RETURN(txn::Timestamp durable, DurableTimestamp());
    return fresh->Checkpoint(durable, std::min(oracle_->floor(), store_->history_floor()));
}

}  // namespace phenix::engine
