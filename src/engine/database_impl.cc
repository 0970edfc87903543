// SPDX-License-Identifier: Apache-2.0
#include "engine/database_impl.h"

#include <mutex>

#include <phenix/limits.h>

#include "common/coding.h"
#include "engine/validation.h"
#include "storage/entity_codec.h"

namespace phenix {

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, const Options& options) {
    return engine::DatabaseImpl::Open(path, options);
}

namespace engine {

using storage::ColumnFamily;
using storage::RowId;

class DatabaseImpl::SnapshotGuard {
  public:
    explicit SnapshotGuard(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
    ~SnapshotGuard() { db_->ReleaseSnapshot(snapshot_); }
    SnapshotGuard(const SnapshotGuard&) = delete;
    SnapshotGuard& operator=(const SnapshotGuard&) = delete;
    [[nodiscard]] const rocksdb::Snapshot* get() const { return snapshot_; }

  private:
    rocksdb::DB* db_;
    const rocksdb::Snapshot* snapshot_;
};

Result<std::unique_ptr<Database>> DatabaseImpl::Open(const std::string& path,
                                                     const Options& options, rocksdb::Env* env) {
    auto db = std::unique_ptr<DatabaseImpl>(new DatabaseImpl());
    PHENIX_ASSIGN_OR_RETURN(db->store_, storage::Store::Open(path, options, env));
    PHENIX_ASSIGN_OR_RETURN(db->catalog_, Catalog::Load(*db->store_));
    return std::unique_ptr<Database>(std::move(db));
}

DatabaseImpl::~DatabaseImpl() {
    Close().IgnoreError();
}

Status DatabaseImpl::Close() {
    std::unique_lock lock(catalog_mu_);
    if (closed_) {
        return Status::Ok();
    }
    closed_ = true;
    catalog_.reset();
    // store_ is null when Open failed before the store was opened (e.g. the directory is in use).
    return store_ ? store_->Close() : Status::Ok();
}

Status DatabaseImpl::CheckOpenLocked() const {
    if (closed_) {
        return Status::FailedPrecondition("the database is closed");
    }
    return Status::Ok();
}

// ---------------------------------------------------------------- tenants and collections

Status DatabaseImpl::CreateTenant(std::string_view tenant) {
    std::unique_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    return catalog_->CreateTenant(tenant);
}

Result<std::vector<std::string>> DatabaseImpl::ListTenants() {
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    return catalog_->TenantNames();
}

Status DatabaseImpl::CreateCollection(const CollectionSpec& spec) {
    std::unique_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    return catalog_->CreateCollection(spec);
}

Status DatabaseImpl::DropCollection(const CollectionRef& collection) {
    std::unique_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    return catalog_->DropCollection(collection);
}

Result<CollectionInfo> DatabaseImpl::DescribeLocked(const CollectionHandle& handle,
                                                    const rocksdb::Snapshot* snapshot) const {
    CollectionInfo info;
    info.spec.ref = handle.ref();
    info.spec.dimension = handle.record.dimension;
    info.spec.metric = handle.record.metric;
    info.spec.settings = handle.record.settings;
    info.collection_id = handle.id();
    info.created_at_ms = handle.record.created_at_ms;
    auto count =
        store_->Get(ColumnFamily::kCatalog, storage::EntityCountKey(handle.id()), snapshot);
    if (count.ok()) {
        PHENIX_ASSIGN_OR_RETURN(info.num_entities, storage::DecodeCounter(*count));
    } else if (!count.status().IsNotFound()) {
        return count.status();
    }
    return info;
}

Result<CollectionInfo> DatabaseImpl::GetCollection(const CollectionRef& collection) {
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    return DescribeLocked(*handle, nullptr);
}

Result<std::vector<CollectionInfo>> DatabaseImpl::ListCollections(std::string_view tenant) {
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    PHENIX_ASSIGN_OR_RETURN(auto handles, catalog_->Collections(tenant));
    SnapshotGuard snapshot(store_->db());
    std::vector<CollectionInfo> out;
    out.reserve(handles.size());
    for (const auto& handle : handles) {
        PHENIX_ASSIGN_OR_RETURN(CollectionInfo info, DescribeLocked(*handle, snapshot.get()));
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
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    return ApplyBatchLocked(batch);
}

// ---------------------------------------------------------------- reads

Result<std::optional<RowId>> DatabaseImpl::LookupRow(const CollectionHandle& handle,
                                                     std::string_view id,
                                                     const rocksdb::Snapshot* snapshot) const {
    auto value = store_->Get(ColumnFamily::kIds, storage::IdKey(handle.tenant_id, handle.id(), id),
                             snapshot);
    if (!value.ok()) {
        if (value.status().IsNotFound()) {
            return std::optional<RowId>();
        }
        return value.status();
    }
    PHENIX_ASSIGN_OR_RETURN(std::uint64_t row, storage::DecodeCounter(*value));
    return std::optional<RowId>(row);
}

Result<storage::EntityRecord> DatabaseImpl::ReadRecord(const CollectionHandle& handle, RowId row,
                                                       const rocksdb::Snapshot* snapshot) const {
    auto value = store_->Get(ColumnFamily::kEntities,
                             storage::EntityKey(handle.tenant_id, handle.id(), row), snapshot);
    if (!value.ok()) {
        if (value.status().IsNotFound()) {
            return Status::Corruption("collection '" + handle.ref().ToString() +
                                      "' maps an id to row " + std::to_string(row) +
                                      ", which has no entity record");
        }
        return value.status();
    }
    return storage::DecodeEntityRecord(*value);
}

Result<std::vector<EdgeRecord>> DatabaseImpl::ReadEdges(const CollectionHandle& handle, RowId row,
                                                        std::string_view external_id, bool outgoing,
                                                        const rocksdb::Snapshot* snapshot) const {
    const std::string prefix = storage::EdgeRowPrefix(handle.tenant_id, handle.id(), row);
    const std::string end = storage::PrefixSuccessor(prefix);
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions read_options;
    read_options.snapshot = snapshot;
    read_options.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(store_->db()->NewIterator(
        read_options, store_->cf(outgoing ? ColumnFamily::kOutEdges : ColumnFamily::kInEdges)));
    std::vector<EdgeRecord> edges;
    for (it->Seek(prefix); it->Valid(); it->Next()) {
        storage::EdgeKey key;
        if (!storage::DecodeEdgeKey({it->key().data(), it->key().size()}, key)) {
            return Status::Corruption("malformed edge key under '" + std::string(external_id) +
                                      "'");
        }
        PHENIX_ASSIGN_OR_RETURN(storage::EdgeValue value,
                                storage::DecodeEdgeValue({it->value().data(), it->value().size()}));
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
    PHENIX_RETURN_IF_ERROR(storage::FromRocks(it->status(), "reading edges"));
    return edges;
}

Result<Entity> DatabaseImpl::ReadEntity(const CollectionHandle& handle, RowId row,
                                        bool include_edges,
                                        const rocksdb::Snapshot* snapshot) const {
    PHENIX_ASSIGN_OR_RETURN(storage::EntityRecord record, ReadRecord(handle, row, snapshot));
    Entity entity;
    entity.id = std::move(record.external_id);
    entity.vector = std::move(record.vector);
    entity.metadata = std::move(record.metadata);
    if (include_edges) {
        PHENIX_ASSIGN_OR_RETURN(auto edges,
                                ReadEdges(handle, row, entity.id, /*outgoing=*/true, snapshot));
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

Result<Entity> DatabaseImpl::Get(const CollectionRef& collection, std::string_view id) {
    PHENIX_RETURN_IF_ERROR(ValidateEntityId(id));
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    SnapshotGuard snapshot(store_->db());
    PHENIX_ASSIGN_OR_RETURN(auto row, LookupRow(*handle, id, snapshot.get()));
    if (!row) {
        return Status::NotFound("entity " + QuoteForMessage(id) + " not found in collection '" +
                                collection.ToString() + "'");
    }
    return ReadEntity(*handle, *row, /*include_edges=*/true, snapshot.get());
}

Result<ScanPage> DatabaseImpl::Scan(const CollectionRef& collection, const ScanOptions& options) {
    if (options.limit == 0 || options.limit > limits::kMaxScanLimit) {
        return Status::InvalidArgument("scan limit must be between 1 and " +
                                       std::to_string(limits::kMaxScanLimit) + ", not " +
                                       std::to_string(options.limit));
    }
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    SnapshotGuard snapshot(store_->db());

    const std::string prefix = storage::CollectionPrefix(handle->tenant_id, handle->id());
    const std::string end = storage::PrefixSuccessor(prefix);
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions read_options;
    read_options.snapshot = snapshot.get();
    read_options.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(
        store_->db()->NewIterator(read_options, store_->cf(ColumnFamily::kIds)));
    const std::string start = storage::IdKey(handle->tenant_id, handle->id(), options.start_after);
    it->Seek(start);
    if (!options.start_after.empty() && it->Valid() && it->key() == rocksdb::Slice(start)) {
        it->Next();
    }
    ScanPage page;
    std::vector<RowId> rows;
    for (; it->Valid(); it->Next()) {
        if (rows.size() == options.limit) {
            page.next_start_after =
                std::string(storage::ExternalIdFromIdKey({it->key().data(), it->key().size()}));
            break;
        }
        PHENIX_ASSIGN_OR_RETURN(std::uint64_t row,
                                storage::DecodeCounter({it->value().data(), it->value().size()}));
        rows.push_back(row);
    }
    PHENIX_RETURN_IF_ERROR(storage::FromRocks(it->status(), "scanning ids"));
    page.entities.reserve(rows.size());
    for (RowId row : rows) {
        PHENIX_ASSIGN_OR_RETURN(Entity entity,
                                ReadEntity(*handle, row, options.include_edges, snapshot.get()));
        page.entities.push_back(std::move(entity));
    }
    // next_start_after is the first id not returned; callers pass the last returned one.
    if (!page.next_start_after.empty()) {
        page.next_start_after = page.entities.back().id;
    }
    return page;
}

Result<std::vector<EdgeRecord>> DatabaseImpl::ListEdges(const CollectionRef& collection,
                                                        std::string_view id,
                                                        EdgeDirection direction) {
    PHENIX_RETURN_IF_ERROR(ValidateEntityId(id));
    std::shared_lock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    PHENIX_ASSIGN_OR_RETURN(auto handle, catalog_->Resolve(collection));
    SnapshotGuard snapshot(store_->db());
    PHENIX_ASSIGN_OR_RETURN(auto row, LookupRow(*handle, id, snapshot.get()));
    if (!row) {
        return Status::NotFound("entity " + QuoteForMessage(id) + " not found in collection '" +
                                collection.ToString() + "'");
    }
    std::vector<EdgeRecord> out;
    if (direction != EdgeDirection::kIn) {
        PHENIX_ASSIGN_OR_RETURN(out,
                                ReadEdges(*handle, *row, id, /*outgoing=*/true, snapshot.get()));
    }
    if (direction != EdgeDirection::kOut) {
        PHENIX_ASSIGN_OR_RETURN(auto in,
                                ReadEdges(*handle, *row, id, /*outgoing=*/false, snapshot.get()));
        out.insert(out.end(), std::make_move_iterator(in.begin()),
                   std::make_move_iterator(in.end()));
    }
    return out;
}

}  // namespace engine
}  // namespace phenix
