// SPDX-License-Identifier: Apache-2.0
#include "engine/database_impl.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <mutex>

#include <phenix/limits.h>

#include "common/coding.h"
#include "common/commit_timing.h"
#include "common/sync_point.h"
#include "engine/metadata_index.h"
#include "engine/validation.h"
#include "storage/entity_codec.h"
#include "storage/payload_cipher.h"
#include "txn/commit.h"

namespace phenix {

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, const Options& options) {
    return engine::DatabaseImpl::Open(path, options);
}

namespace engine {

using storage::ColumnFamily;
using storage::RowId;

Result<std::unique_ptr<Database>> DatabaseImpl::Open(const std::string& path,
                                                     const Options& options, rocksdb::Env* env) {
    auto db = std::unique_ptr<DatabaseImpl>(new DatabaseImpl());
    db->options_ = options;
    PHENIX_ASSIGN_OR_RETURN(db->store_, storage::Store::Open(path, options, env));
    {
        // Nobody else sees the database yet: the lock is uncontended (it tells the analysis that
        // the open-time loading below runs as DDL would).
        WriterMutexLock open_lock(db->catalog_mu_);
        PHENIX_ASSIGN_OR_RETURN(db->catalog_, Catalog::Load(*db->store_));
        PHENIX_RETURN_IF_ERROR(db->ShredDroppedTenantsLocked());
        // The commit clock restarts above every timestamp already written (even if the wall clock
        // went backwards while the database was closed).
        txn::Timestamp last_commit = 0;
        auto clock = db->store_->Get(ColumnFamily::kCatalog, storage::kCommitClockKey);
        if (clock.ok()) {
            PHENIX_ASSIGN_OR_RETURN(last_commit, storage::DecodeCounter(*clock));
        } else if (!clock.status().IsNotFound()) {
            return clock.status();
        }
        db->oracle_ = std::make_unique<txn::Oracle>(last_commit);
        db->oracle_->RestoreFloor(db->store_->history_floor());
        db->key_rotations_ = std::make_unique<KeyRotations>(*db->store_, *db->oracle_);
        const Catalog& catalog = *db->catalog_;
        PHENIX_RETURN_IF_ERROR(db->key_rotations_->Load(
            [&catalog](storage::TenantId tenant) { return catalog.HasTenantId(tenant); }));
        db->maintenance_ = std::make_unique<Maintenance>(db->options_, *db->store_, *db->oracle_,
                                                         db->catalog_->pending_purges_at_load());
        DatabaseImpl* raw = db.get();
        db->metadata_indexes_ = std::make_unique<MetadataIndexes>(
            *db->store_, *db->oracle_, db->locks_, db->catalog_mu_, db->catalog_,
            MetadataIndexes::Hooks{
                // The hooks are called with the catalog lock held.
                .check_open =
                    [raw] {
                        raw->catalog_mu_.AssertSharedHeld();
                        return raw->CheckOpenLocked();
                    },
                .check_writable =
                    [raw](std::string_view operation) {
                        raw->catalog_mu_.AssertSharedHeld();
                        return raw->CheckWritableLocked(operation);
                    },
                .commit =
                    [raw](rocksdb::WriteBatch& wb, std::optional<txn::Timestamp> start_ts,
                          const txn::WriteEffects& effects) {
                        raw->catalog_mu_.AssertSharedHeld();
                        return raw->CommitLocked(wb, start_ts, effects);
                    },
                .row_count =
                    [raw](const CollectionHandle& handle) {
                        return raw->CollectionRowCount(handle);
                    }});
        db->graph_ops_ = std::make_unique<GraphOperators>(
            db->options_, *db->store_, db->catalog_mu_, db->catalog_, db->graph_caches_,
            GraphOperators::Hooks{
                // The hooks are called with the catalog lock held.
                .lookup_row =
                    [raw](const CollectionHandle& handle, std::string_view id,
                          const txn::ReadView& view) { return raw->LookupRow(handle, id, view); },
                .row_count =
                    [raw](const CollectionHandle& handle) {
                        return raw->CollectionRowCount(handle);
                    }});
        db->verifier_ = std::make_unique<Verifier>(
            *db->store_, *db->oracle_, db->catalog_mu_, db->catalog_, *db->maintenance_,
            Verifier::Hooks{
                // The hooks are called with the catalog lock held.
                .check_open =
                    [raw] {
                        raw->catalog_mu_.AssertSharedHeld();
                        return raw->CheckOpenLocked();
                    },
                .find_vector_index =
                    [raw](storage::CollectionId id) {
                        return raw->vector_indexes_->FindVectorIndex(id);
                    },
                .describe =
                    [raw](const CollectionHandle& handle) { return raw->DescribeLocked(handle); }});
        // The hooks are called with the catalog lock held.
        db->vector_indexes_ = std::make_unique<VectorIndexes>(
            db->options_, *db->store_, *db->oracle_, db->catalog_mu_, db->catalog_,
            VectorIndexes::Hooks{.check_open =
                                     [raw] {
                                         raw->catalog_mu_.AssertSharedHeld();
                                         return raw->CheckOpenLocked();
                                     },
                                 .check_writable =
                                     [raw](std::string_view operation) {
                                         raw->catalog_mu_.AssertSharedHeld();
                                         return raw->CheckWritableLocked(operation);
                                     }});
        db->vector_searcher_ = std::make_unique<VectorSearcher>(
            *db->store_, db->catalog_mu_, db->catalog_, db->graph_caches_, *db->graph_ops_,
            *db->vector_indexes_,
            VectorSearcher::Hooks{
                // The hooks are called with the catalog lock held.
                .lookup_row =
                    [raw](const CollectionHandle& handle, std::string_view id,
                          const txn::ReadView& view) { return raw->LookupRow(handle, id, view); },
                .row_count =
                    [raw](const CollectionHandle& handle) {
                        return raw->CollectionRowCount(handle);
                    }});
        db->metadata_indexes_->catalog_mu().AssertHeld();  // it is catalog_mu_
        PHENIX_RETURN_IF_ERROR(db->metadata_indexes_->LoadMetadataIndexes());
        db->ResetAdjacencyCacheLocked();
        db->vector_indexes_->catalog_mu().AssertHeld();  // it is catalog_mu_
        PHENIX_RETURN_IF_ERROR(db->vector_indexes_->OpenVectorIndexes());
    }
    db->maintenance_->Start(
        {.reap_idle_transactions = [raw = db.get()] { raw->ReapIdleTransactions(); },
         .refresh_stale_index_stats =
             [raw = db.get()] { raw->metadata_indexes_->RefreshStaleIndexStats(); },
         .run_key_rotations = [raw = db.get()] { raw->RunKeyRotations(); }});
    db->vector_indexes_->StartBuilder();
    // Read-only, an index whose build a crash interrupted stays unfinished (and unused: Find
    // does not read an index that is not ready) until a read-write open finishes it.
    if (!options.read_only) {
        PHENIX_RETURN_IF_ERROR(db->metadata_indexes_->FinishInterruptedIndexBuilds());
    }
    return std::unique_ptr<Database>(std::move(db));
}

DatabaseImpl::~DatabaseImpl() {
    Close().IgnoreError();
}

Status DatabaseImpl::Close() {
    {
        WriterMutexLock lock(catalog_mu_);
        if (closed_) {
            return Status::Ok();
        }
        // From here on every call fails with "closed" before touching storage.
        closed_ = true;
    }
    PHENIX_SYNC_POINT("DatabaseImpl::Close:Closing");
    if (maintenance_) {
        maintenance_->Stop();
    }
    if (vector_indexes_) {
        vector_indexes_->StopBuilder();  // also wakes writers waiting on a backlog
    }
    const std::vector<std::shared_ptr<TxnState>> open = txns_.Open();
    for (auto& state : open) {
        MutexLock lock(state->mu);
        if (state->phase == TxnState::Phase::kOpen) {
            FinishTxn(*state, TxnState::Phase::kClosed);
        }
    }
    // After the transactions: a checkpoint covers everything committed (nothing is in flight).
    if (store_ && vector_indexes_) {
        vector_indexes_->CheckpointVectorIndexes(true);
    }
    // After the maintenance thread: a statistics refresh it finished after closed_ was set could
    // not store its record.
    {
        ReaderMutexLock lock(catalog_mu_);
        if (store_ && catalog_ && metadata_indexes_) {
            metadata_indexes_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
            metadata_indexes_->StoreIndexChangeCountsLocked();
        }
    }
    WriterMutexLock lock(catalog_mu_);
    catalog_.reset();
    // store_ is null when Open failed before the store was opened (e.g. the directory is in use).
    return store_ ? store_->Close() : Status::Ok();
}

Status DatabaseImpl::Compact() {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckWritableLocked("Compact"));
    PHENIX_RETURN_IF_ERROR(maintenance_->PurgeDroppedCollections());
    vector_indexes_->CheckpointVectorIndexes(false);
    PHENIX_RETURN_IF_ERROR(
        store_->SetHistoryFloor(oracle_->AdvanceFloor(options_.history_retention_ms * 1000)));
    return store_->CompactAll();
}

Status DatabaseImpl::CheckOpenLocked() const {
    if (closed_) {
        return Status::FailedPrecondition("the database is closed");
    }
    return Status::Ok();
}

Status DatabaseImpl::CheckWritableLocked(std::string_view operation) const {
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    if (store_->read_only()) {
        return storage::ReadOnlyError(operation);
    }
    return Status::Ok();
}

bool DatabaseImpl::IsReadOnly() const {
    return options_.read_only;
}

// ---------------------------------------------------------------- tenants and collections

Status DatabaseImpl::CreateTenant(std::string_view tenant) {
    WriterMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckWritableLocked("CreateTenant"));
    return catalog_->CreateTenant(tenant);
}

Result<std::vector<std::string>> DatabaseImpl::ListTenants() {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    return catalog_->TenantNames();
}

Status DatabaseImpl::DropTenant(std::string_view tenant) {
    WriterMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckWritableLocked("DropTenant"));
    PHENIX_ASSIGN_OR_RETURN(storage::TenantId id, catalog_->ResolveTenant(tenant));
    // The catalog entry goes first (synced), then the tenant's keys (crypto-shredding, with
    // encryption at rest): a crash in between leaves a key whose tenant is gone, which the next
    // open destroys (ShredDroppedTenantsLocked). The other order would leave a live tenant
    // whose data no key opens.
    PHENIX_RETURN_IF_ERROR(catalog_->DropTenant(tenant));
    PHENIX_RETURN_IF_ERROR(key_rotations_->Forget(id));
    if (crypto::TenantKeyring* keyring = store_->payloads().keyring(); keyring != nullptr) {
        PHENIX_RETURN_IF_ERROR(keyring->Shred(id).WithContext(
            "tenant '" + std::string(tenant) +
            "' was dropped, but destroying its keys failed (the next open retries)"));
    }
    return Status::Ok();
}

Result<KeyRotationInfo> DatabaseImpl::RotateTenantKey(std::string_view tenant) {
    // Exclusively: every write in flight finishes first, so none seals under the old key after
    // the rotation (KeyRotations::Start).
    WriterMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckWritableLocked("rotating a data key"));
    PHENIX_ASSIGN_OR_RETURN(storage::TenantId id, catalog_->ResolveTenant(tenant));
    auto progress = key_rotations_->Start(id);
    if (!progress.ok()) {
        return progress.status().WithContext("tenant '" + std::string(tenant) + "'");
    }
    return ToKeyRotationInfo(std::string(tenant), *progress);
}

Result<KeyRotationInfo> DatabaseImpl::GetKeyRotation(std::string_view tenant) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    PHENIX_ASSIGN_OR_RETURN(storage::TenantId id, catalog_->ResolveTenant(tenant));
    return ToKeyRotationInfo(std::string(tenant), key_rotations_->Get(id),
                             key_rotations_->LastError(id));
}

void DatabaseImpl::RunKeyRotations() {
    constexpr auto kBudget = std::chrono::milliseconds(50);
    {
        ReaderMutexLock lock(catalog_mu_);
        if (closed_) {
            return;
        }
        const Catalog& catalog = *catalog_;
        // A failure (e.g. disk full) leaves the rotation where its last batch left it; the next
        // round retries.
        const auto is_live = [&catalog](storage::TenantId tenant,
                                        storage::CollectionId collection) {
            auto handle = catalog.FindById(collection);
            return handle != nullptr && handle->tenant_id == tenant;
        };
        key_rotations_
            ->RunSome(
                is_live,
                [this, &is_live](storage::TenantId tenant) {
                    return vector_indexes_->RewriteVectorCheckpoints(
                        [&is_live, tenant](storage::CollectionId collection) {
                            return is_live(tenant, collection);
                        });
                },
                kBudget)
            .IgnoreError();
    }
    // Close stops this thread before it closes the store, so the store is still open here.
    key_rotations_->CompactIfWanted().IgnoreError();
}

Status DatabaseImpl::ShredDroppedTenantsLocked() {
    crypto::TenantKeyring* keyring = store_->payloads().keyring();
    if (keyring == nullptr) {
        return Status::Ok();
    }
    if (!store_->read_only()) {
        PHENIX_ASSIGN_OR_RETURN(std::vector<storage::TenantId> keyed, keyring->Tenants());
        for (storage::TenantId id : keyed) {
            if (!catalog_->HasTenantId(id)) {
                PHENIX_RETURN_IF_ERROR(keyring->Shred(id).WithContext(
                    "finishing the crypto-shred of a dropped tenant"));
            }
        }
    }
    keyring->Preload();
    return Status::Ok();
}

Status DatabaseImpl::CreateCollection(const CollectionSpec& spec) {
    WriterMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckWritableLocked("CreateCollection"));
    PHENIX_RETURN_IF_ERROR(catalog_->CreateCollection(spec));
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(spec.ref));
    vector_indexes_->catalog_mu().AssertHeld();  // it is catalog_mu_
    return vector_indexes_->OpenVectorIndex(*handle);
}

Status DatabaseImpl::DropCollection(const CollectionRef& collection) {
    WriterMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckWritableLocked("DropCollection"));
    std::shared_ptr<const MetadataIndexList> indexes;
    if (auto handle = catalog_->Resolve(collection); handle.ok()) {
        indexes = (*handle)->metadata_indexes;
    }
    PHENIX_ASSIGN_OR_RETURN(auto dropped, catalog_->DropCollection(collection, *oracle_));
    if (indexes) {
        metadata_indexes_->CollectionDropped(indexes->size());
    }
    vector_indexes_->DropVectorIndex(dropped.second);
    // The drop deleted edges of other collections into it without the commit hook.
    ResetAdjacencyCacheLocked();
    maintenance_->SchedulePurge(dropped.second, dropped.first);
    return Status::Ok();
}

Result<CollectionInfo> DatabaseImpl::DescribeLocked(const CollectionHandle& handle) const {
    CollectionInfo info;
    info.spec.ref = handle.ref();
    info.spec.dimension = handle.record.dimension;
    info.spec.metric = handle.record.metric;
    info.spec.settings = handle.record.settings;
    info.collection_id = handle.id();
    info.created_at_ms = handle.record.created_at_ms;
    PHENIX_ASSIGN_OR_RETURN(info.num_entities, CollectionRowCount(handle));
    return info;
}

Result<std::uint64_t> DatabaseImpl::CollectionRowCount(const CollectionHandle& handle) const {
    auto stored = store_->Get(ColumnFamily::kCatalog, storage::EntityCountKey(handle.id()));
    if (stored.ok()) {
        return storage::DecodeCounter(*stored);
    }
    if (stored.status().IsNotFound()) {
        return std::uint64_t{0};
    }
    return stored.status();
}

Result<CollectionInfo> DatabaseImpl::GetCollection(const CollectionRef& collection) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    return DescribeLocked(*handle);
}

Result<std::vector<CollectionInfo>> DatabaseImpl::ListCollections(std::string_view tenant) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    PHENIX_ASSIGN_OR_RETURN(auto handles, catalog_->Collections(tenant));
    std::vector<CollectionInfo> out;
    out.reserve(handles.size());
    for (const auto& handle : handles) {
        PHENIX_ASSIGN_OR_RETURN(CollectionInfo info, DescribeLocked(*handle));
        out.push_back(std::move(info));
    }
    return out;
}

// ---------------------------------------------------------------- single-entity writes

Status DatabaseImpl::Insert(const CollectionRef& collection, const Entity& entity) {
    WriteBatch batch;
    batch.Insert(collection, entity);
    return Write(batch);
}

Status DatabaseImpl::Upsert(const CollectionRef& collection, const Entity& entity) {
    WriteBatch batch;
    batch.Upsert(collection, entity);
    return Write(batch);
}

Status DatabaseImpl::ReplaceMetadata(const CollectionRef& collection, std::string_view id,
                                     std::string_view metadata_json) {
    WriteBatch batch;
    batch.ReplaceMetadata(collection, std::string(id), std::string(metadata_json));
    return Write(batch);
}

Status DatabaseImpl::PatchMetadata(const CollectionRef& collection, std::string_view id,
                                   std::string_view merge_patch_json) {
    WriteBatch batch;
    batch.PatchMetadata(collection, std::string(id), std::string(merge_patch_json));
    return Write(batch);
}

Status DatabaseImpl::Delete(const CollectionRef& collection, std::string_view id) {
    WriteBatch batch;
    batch.Delete(collection, std::string(id));
    return Write(batch);
}

Status DatabaseImpl::Write(const WriteBatch& batch) {
    PHENIX_RETURN_IF_ERROR(vector_indexes_->WaitForVectorBacklog());
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckWritableLocked("writing entities"));
    return ApplyBatchLocked(batch, nullptr);
}

Result<txn::Timestamp> DatabaseImpl::CommitLocked(rocksdb::WriteBatch& wb,
                                                  std::optional<txn::Timestamp> start_ts,
                                                  const txn::WriteEffects& effects) {
    const auto started = std::chrono::steady_clock::now();
    txn::ConflictKeys keys;
    std::vector<std::string_view> key_names;  // parallel to writes then refs
    std::vector<std::string_view> ref_names;
    keys.writes.reserve(effects.touched.size());
    for (const auto& [id_key, written] : effects.touched) {
        const std::uint64_t hash = std::hash<std::string_view>{}(id_key);
        if (written) {
            keys.writes.push_back(hash);
            key_names.push_back(id_key);
        } else {
            keys.refs.push_back(hash);
            ref_names.push_back(id_key);
        }
    }
    metadata_indexes_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
    // A recorded commit (common/commit_timing.h: a traced request's) notes its phases here and
    // in CommitBatch; `started` and the end below are the commit latency's clock reads.
    CommitTiming* const timing = CurrentCommitRecording();
    if (timing != nullptr) {
        timing->reached = true;
    }
    PHENIX_ASSIGN_OR_RETURN(const IndexChangeCounts index_changes, [&] {
        metadata_indexes_->catalog_mu()
            .AssertSharedHeld();  // a lambda: said again for the analysis
        const ScopedCommitPhase timed(&CommitTiming::index_maintenance);
        return metadata_indexes_->AppendIndexMaintenanceLocked(wb);
    }());
    PHENIX_SYNC_POINT("DatabaseImpl::CommitLocked:BeforeWrite");
    std::size_t conflict = 0;
    auto committed = txn::CommitBatch(*oracle_, *store_, wb, start_ts, keys, &conflict,
                                      [this, &wb](txn::Timestamp ts) {
                                          // Runs inside CommitBatch, under our shared lock.
                                          catalog_mu_.AssertSharedHeld();
                                          vector_indexes_->ApplyToVectorIndexes(wb, ts);
                                          vector_searcher_->RecordFilterChanges(wb, ts);
                                          InvalidateAdjacency(wb, ts);
                                      });
    const auto ended = std::chrono::steady_clock::now();
    if (timing != nullptr) {
        timing->end = ended;
        timing->committed = committed.ok();
    }
    if (committed.ok()) {
        commit_latency_.Record(ended - started);
        for (const auto& [index, rows] : index_changes) {
            index->changes.fetch_add(rows, std::memory_order_relaxed);
        }
    }
    if (committed.status().code() == StatusCode::kAborted) {
        const bool is_write = conflict < key_names.size();
        const std::string_view id_key =
            is_write ? key_names[conflict] : ref_names[conflict - key_names.size()];
        std::string where;
        if (id_key.size() >= storage::kCollectionPrefixBytes) {
            const auto collection = coding::DecodeFixed32BE(id_key.data() + 4);
            auto handle = catalog_->FindById(collection);
            where = " in collection '" + (handle ? handle->ref().ToString() : "?") + "'";
        }
        return Status::Aborted(
            "write conflict on entity " + QuoteForMessage(storage::ExternalIdFromIdKey(id_key)) +
            where + ": another transaction committed a change to it after this transaction began" +
            (is_write ? "" : " (this transaction adds an edge to it)") +
            "; nothing was written; retry the transaction");
    }
    return committed;
}

// ---------------------------------------------------------------- reads

Result<std::optional<RowId>> DatabaseImpl::LookupRow(const CollectionHandle& handle,
                                                     std::string_view id,
                                                     const txn::ReadView& view) const {
    PHENIX_ASSIGN_OR_RETURN(
        auto value,
        view.Get(ColumnFamily::kIds, storage::IdKey(handle.tenant_id, handle.id(), id)));
    if (!value) {
        return std::optional<RowId>();
    }
    PHENIX_ASSIGN_OR_RETURN(std::uint64_t row, storage::DecodeCounter(*value));
    return std::optional<RowId>(row);
}

namespace {

// The stored value of a row's record; Corruption when the ids map to a row without one.
Result<std::string> RecordValue(const CollectionHandle& handle, std::string_view key, RowId row,
                                const txn::ReadView& view) {
    PHENIX_ASSIGN_OR_RETURN(auto value, view.Get(ColumnFamily::kEntities, key));
    if (!value) {
        return Status::Corruption("collection '" + handle.ref().ToString() +
                                  "' maps an id to row " + std::to_string(row) +
                                  ", which has no entity record");
    }
    return std::move(*value);
}

}  // namespace

Result<storage::EntityRecord> DatabaseImpl::ReadRecord(const CollectionHandle& handle, RowId row,
                                                       const txn::ReadView& view) const {
    const std::string key = storage::EntityKey(handle.tenant_id, handle.id(), row);
    PHENIX_ASSIGN_OR_RETURN(std::string value, RecordValue(handle, key, row, view));
    std::string plain;
    PHENIX_ASSIGN_OR_RETURN(
        std::string_view record,
        store_->payloads().Open(storage::PayloadKind::kEntity, key, value, plain));
    return storage::DecodeEntityRecord(record);
}

Result<std::vector<EdgeRecord>> DatabaseImpl::ReadEdges(const CollectionHandle& handle, RowId row,
                                                        std::string_view external_id, bool outgoing,
                                                        const txn::ReadView& view) const {
    const std::string prefix = storage::EdgeRowPrefix(handle.tenant_id, handle.id(), row);
    const std::string end = storage::PrefixSuccessor(prefix);
    auto it =
        view.NewIterator(outgoing ? ColumnFamily::kOutEdges : ColumnFamily::kInEdges, prefix, end);
    std::vector<EdgeRecord> edges;
    std::string plain;
    for (; it->Valid(); it->Next()) {
        storage::EdgeKey key;
        if (!storage::DecodeEdgeKey(it->key(), key)) {
            return Status::Corruption("malformed edge key under '" + std::string(external_id) +
                                      "'");
        }
        PHENIX_ASSIGN_OR_RETURN(std::string_view stored,
                                store_->payloads().Open(outgoing ? storage::PayloadKind::kOutEdge
                                                                 : storage::PayloadKind::kInEdge,
                                                        it->key(), it->value(), plain));
        PHENIX_ASSIGN_OR_RETURN(storage::EdgeValue value, storage::DecodeEdgeValue(stored));
        auto other = key.other_collection == handle.id() ? nullptr
                                                         : catalog_->FindById(key.other_collection);
        const CollectionRef other_ref = other ? other->ref() : handle.ref();
        if (key.other_collection != handle.id() && !other) {
            return Status::Corruption(
                "edge from '" + std::string(external_id) + "' refers to collection id " +
                std::to_string(key.other_collection) + ", which does not exist");
        }
        EdgeRecord edge;
        edge.label = std::move(key.label);
        edge.weight = value.weight;
        edge.properties = std::move(value.properties);
        if (outgoing) {
            edge.source = handle.ref();
            edge.source_id = external_id;
            edge.target = other_ref;
            edge.target_id = std::move(value.other_external_id);
        } else {
            edge.source = other_ref;
            edge.source_id = std::move(value.other_external_id);
            edge.target = handle.ref();
            edge.target_id = external_id;
        }
        edges.push_back(std::move(edge));
    }
    PHENIX_RETURN_IF_ERROR(it->status().WithContext("reading edges"));
    return edges;
}

Result<Entity> DatabaseImpl::ReadEntity(const CollectionHandle& handle, RowId row,
                                        bool include_edges, const txn::ReadView& view,
                                        bool include_vector) const {
    const std::string key = storage::EntityKey(handle.tenant_id, handle.id(), row);
    PHENIX_ASSIGN_OR_RETURN(std::string value, RecordValue(handle, key, row, view));
    return EntityFromRecord(handle, key, value, include_edges, include_vector, view);
}

Result<Entity> DatabaseImpl::EntityFromRecord(const CollectionHandle& handle, std::string_view key,
                                              std::string_view value, bool include_edges,
                                              bool include_vector,
                                              const txn::ReadView& view) const {
    std::string plain;
    PHENIX_ASSIGN_OR_RETURN(
        std::string_view bytes,
        store_->payloads().Open(storage::PayloadKind::kEntity, key, value, plain));
    PHENIX_ASSIGN_OR_RETURN(storage::EntityRecord record,
                            storage::DecodeEntityRecord(bytes, include_vector));
    Entity entity;
    entity.id = std::move(record.external_id);
    entity.vector = std::move(record.vector);
    entity.metadata = std::move(record.metadata);
    if (include_edges) {
        const RowId row = storage::RowFromEntityKey(key);
        PHENIX_ASSIGN_OR_RETURN(auto edges,
                                ReadEdges(handle, row, entity.id, /*outgoing=*/true, view));
        entity.edges.reserve(edges.size());
        for (EdgeRecord& record_edge : edges) {
            Edge edge;
            edge.label = std::move(record_edge.label);
            edge.target_id = std::move(record_edge.target_id);
            if (record_edge.target.name != handle.name) {
                edge.target_collection = std::move(record_edge.target.name);
            }
            edge.weight = record_edge.weight;
            edge.properties = std::move(record_edge.properties);
            entity.edges.push_back(std::move(edge));
        }
    }
    return entity;
}

Result<Entity> DatabaseImpl::GetLocked(const CollectionRef& collection, std::string_view id,
                                       const txn::ReadView& view) const {
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    PHENIX_ASSIGN_OR_RETURN(auto row, LookupRow(*handle, id, view));
    if (!row) {
        return Status::NotFound("entity " + QuoteForMessage(id) + " not found in collection '" +
                                collection.ToString() + "'");
    }
    return ReadEntity(*handle, *row, /*include_edges=*/true, view);
}

Result<Entity> DatabaseImpl::Get(const CollectionRef& collection, std::string_view id) {
    PHENIX_RETURN_IF_ERROR(ValidateEntityId(id));
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    SnapshotGuard snapshot(*oracle_);
    return GetLocked(collection, id, txn::ReadView(*store_, snapshot.ts()));
}

Result<ScanPage> DatabaseImpl::ScanLocked(const CollectionRef& collection,
                                          const ScanOptions& options,
                                          const txn::ReadView& view) const {
    if (options.limit == 0 || options.limit > limits::kMaxScanLimit) {
        return Status::InvalidArgument("scan limit must be between 1 and " +
                                       std::to_string(limits::kMaxScanLimit) + ", not " +
                                       std::to_string(options.limit));
    }
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    if (options.storage_order) {
        return ScanRecordsLocked(*handle, options, view);
    }
    const std::string prefix = storage::CollectionPrefix(handle->tenant_id, handle->id());
    const std::string end = storage::PrefixSuccessor(prefix);
    const std::string start = storage::IdKey(handle->tenant_id, handle->id(), options.start_after);
    auto it = view.NewIterator(ColumnFamily::kIds, start, end);
    if (!options.start_after.empty() && it->Valid() && it->key() == start) {
        it->Next();
    }
    ScanPage page;
    std::vector<RowId> rows;
    for (; it->Valid(); it->Next()) {
        if (rows.size() == options.limit) {
            page.next_start_after = std::string(storage::ExternalIdFromIdKey(it->key()));
            break;
        }
        PHENIX_ASSIGN_OR_RETURN(std::uint64_t row, storage::DecodeCounter(it->value()));
        rows.push_back(row);
    }
    PHENIX_RETURN_IF_ERROR(it->status().WithContext("scanning ids"));
    page.entities.reserve(rows.size());
    for (RowId row : rows) {
        PHENIX_ASSIGN_OR_RETURN(Entity entity, ReadEntity(*handle, row, options.include_edges, view,
                                                          options.include_vector));
        page.entities.push_back(std::move(entity));
    }
    // next_start_after is the first id not returned; callers pass the last returned one.
    if (!page.next_start_after.empty()) {
        page.next_start_after = page.entities.back().id;
    }
    return page;
}

Result<ScanPage> DatabaseImpl::ScanRecordsLocked(const CollectionHandle& handle,
                                                 const ScanOptions& options,
                                                 const txn::ReadView& view) const {
    // The position is the row id of the last entity returned, in decimal.
    RowId first_row = 0;
    if (const std::string& after = options.start_after; !after.empty()) {
        RowId last_row = 0;
        const auto [end, error] =
            std::from_chars(after.data(), after.data() + after.size(), last_row);
        if (error != std::errc() || end != after.data() + after.size() || last_row == ~RowId{0}) {
            return Status::InvalidArgument(
                "a storage-order scan starts after a position that an earlier page returned "
                "(next_start_after), not " +
                QuoteForMessage(after));
        }
        first_row = last_row + 1;
    }
    const std::string start = storage::EntityKey(handle.tenant_id, handle.id(), first_row);
    const std::string end =
        storage::PrefixSuccessor(storage::CollectionPrefix(handle.tenant_id, handle.id()));
    auto it = view.NewIterator(ColumnFamily::kEntities, start, end,
                               txn::ReadView::IteratorUse::kBulkScan);
    ScanPage page;
    page.entities.reserve(std::min<std::size_t>(options.limit, 1024));
    RowId last_row = 0;
    for (; it->Valid(); it->Next()) {
        if (page.entities.size() == options.limit) {
            page.next_start_after = std::to_string(last_row);
            break;
        }
        last_row = storage::RowFromEntityKey(it->key());
        PHENIX_ASSIGN_OR_RETURN(
            Entity entity, EntityFromRecord(handle, it->key(), it->value(), options.include_edges,
                                            options.include_vector, view));
        page.entities.push_back(std::move(entity));
    }
    PHENIX_RETURN_IF_ERROR(it->status().WithContext("scanning the collection's records"));
    return page;
}

Result<ScanPage> DatabaseImpl::Scan(const CollectionRef& collection, const ScanOptions& options) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    SnapshotGuard snapshot(*oracle_);
    return ScanLocked(collection, options, txn::ReadView(*store_, snapshot.ts()));
}

Result<std::vector<EdgeRecord>> DatabaseImpl::ListEdgesLocked(const CollectionRef& collection,
                                                              std::string_view id,
                                                              EdgeDirection direction,
                                                              const txn::ReadView& view) const {
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    PHENIX_ASSIGN_OR_RETURN(auto row, LookupRow(*handle, id, view));
    if (!row) {
        return Status::NotFound("entity " + QuoteForMessage(id) + " not found in collection '" +
                                collection.ToString() + "'");
    }
    std::vector<EdgeRecord> out;
    if (direction != EdgeDirection::kIn) {
        PHENIX_ASSIGN_OR_RETURN(out, ReadEdges(*handle, *row, id, /*outgoing=*/true, view));
    }
    if (direction != EdgeDirection::kOut) {
        PHENIX_ASSIGN_OR_RETURN(auto in, ReadEdges(*handle, *row, id, /*outgoing=*/false, view));
        out.insert(out.end(), std::make_move_iterator(in.begin()),
                   std::make_move_iterator(in.end()));
    }
    return out;
}

Result<std::vector<EdgeRecord>> DatabaseImpl::ListEdges(const CollectionRef& collection,
                                                        std::string_view id,
                                                        EdgeDirection direction) {
    PHENIX_RETURN_IF_ERROR(ValidateEntityId(id));
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    SnapshotGuard snapshot(*oracle_);
    return ListEdgesLocked(collection, id, direction, txn::ReadView(*store_, snapshot.ts()));
}

// ---------------------------------------------------------------- metadata indexes

Status DatabaseImpl::CreateIndex(const CollectionRef& collection, std::string_view path,
                                 const ProgressFn& progress) {
    return metadata_indexes_->CreateIndex(collection, path, progress);
}

Status DatabaseImpl::DropIndex(const CollectionRef& collection, std::string_view path) {
    return metadata_indexes_->DropIndex(collection, path);
}

Result<std::vector<MetadataIndexInfo>> DatabaseImpl::ListIndexes(const CollectionRef& collection) {
    return metadata_indexes_->ListIndexes(collection);
}

Status DatabaseImpl::AnalyzeIndexes(const CollectionRef& collection) {
    return metadata_indexes_->AnalyzeIndexes(collection);
}

Result<FindResponse> DatabaseImpl::Find(const CollectionRef& collection,
                                        const FindOptions& options) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    SnapshotGuard snapshot(*oracle_);
    metadata_indexes_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
    return metadata_indexes_->FindLocked(collection, options, txn::ReadView(*store_, snapshot.ts()),
                                         nullptr);
}

Result<FindResponse> DatabaseImpl::TxnFind(TxnState& state, const CollectionRef& collection,
                                           const FindOptions& options) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    metadata_indexes_->catalog_mu().AssertSharedHeld();  // it is catalog_mu_
    return metadata_indexes_->FindLocked(
        collection, options, txn::ReadView(*store_, state.read_ts, &state.writes), &state.writes);
}

// ---------------------------------------------------------------- vector indexes

Result<VectorIndexInfo> DatabaseImpl::GetVectorIndexInfo(const CollectionRef& collection) {
    return vector_indexes_->GetVectorIndexInfo(collection);
}

Status DatabaseImpl::RebuildVectorIndex(
    const CollectionRef& collection,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
    return vector_indexes_->RebuildVectorIndex(collection, progress);
}

// ---------------------------------------------------------------- Verify

Status DatabaseImpl::Verify() {
    return verifier_->Verify();
}

}  // namespace engine
}  // namespace phenix
