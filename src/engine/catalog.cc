// SPDX-License-Identifier: Apache-2.0
#include "engine/catalog.h"

#include <algorithm>
#include <chrono>

#include <rocksdb/write_batch.h>

#include "common/coding.h"
#include "document/json.h"
#include "engine/validation.h"
#include "txn/commit.h"

namespace phenix::engine {

using storage::ColumnFamily;

std::int64_t NowMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string ClosestName(std::string_view name, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_distance = SIZE_MAX;
    for (const std::string& candidate : candidates) {
        // Optimal string alignment distance: edits plus adjacent transpositions ("dcos" -> "docs"
        // is 1).
        const std::size_t rows = name.size() + 1;
        const std::size_t cols = candidate.size() + 1;
        std::vector<std::size_t> d(rows * cols);
        for (std::size_t row = 0; row < rows; ++row) {
            d[row * cols] = row;
        }
        for (std::size_t col = 0; col < cols; ++col) {
            d[col] = col;
        }
        for (std::size_t row = 1; row < rows; ++row) {
            for (std::size_t col = 1; col < cols; ++col) {
                const std::size_t cost = name[row - 1] == candidate[col - 1] ? 0 : 1;
                std::size_t best_here =
                    std::min({d[(row - 1) * cols + col] + 1, d[row * cols + col - 1] + 1,
                              d[(row - 1) * cols + col - 1] + cost});
                if (row > 1 && col > 1 && name[row - 1] == candidate[col - 2] &&
                    name[row - 2] == candidate[col - 1]) {
                    best_here = std::min(best_here, d[(row - 2) * cols + col - 2] + 1);
                }
                d[row * cols + col] = best_here;
            }
        }
        const std::size_t distance = d[rows * cols - 1];
        if (distance < best_distance) {
            best_distance = distance;
            best = candidate;
        }
    }
    // Suggest only plausible typos: at most a third of the name's length (and at least 1 edit).
    if (best_distance <= std::max<std::size_t>(1, name.size() / 3)) {
        return best;
    }
    return {};
}

Result<std::unique_ptr<Catalog>> Catalog::Load(storage::Store& store) {
    auto catalog = std::unique_ptr<Catalog>(new Catalog(store));
    rocksdb::ReadOptions read_options;
    std::unique_ptr<rocksdb::Iterator> it(
        store.db()->NewIterator(read_options, store.cf(ColumnFamily::kCatalog)));
    std::map<storage::TenantId, std::string> tenant_names;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
        std::string_view key(it->key().data(), it->key().size());
        std::string_view value(it->value().data(), it->value().size());
        if (key.starts_with(storage::kTenantKeyPrefix)) {
            PHENIX_ASSIGN_OR_RETURN(storage::TenantRecord record,
                                    storage::DecodeTenantRecord(value));
            std::string name(key.substr(storage::kTenantKeyPrefix.size()));
            catalog->tenants_[name] = record.tenant_id;
            tenant_names[record.tenant_id] = name;
        } else if (key == storage::kNextTenantIdKey) {
            PHENIX_ASSIGN_OR_RETURN(std::uint64_t next, storage::DecodeCounter(value));
            catalog->next_tenant_id_ = static_cast<std::uint32_t>(next);
        } else if (key.starts_with(storage::kDroppedPrefix) &&
                   key.size() == storage::kDroppedPrefix.size() + 4) {
            PHENIX_ASSIGN_OR_RETURN(std::uint64_t tenant, storage::DecodeCounter(value));
            catalog->pending_purges_at_load_[coding::DecodeFixed32BE(
                key.data() + storage::kDroppedPrefix.size())] =
                static_cast<storage::TenantId>(tenant);
        } else if (key == storage::kNextCollectionIdKey) {
            PHENIX_ASSIGN_OR_RETURN(std::uint64_t next, storage::DecodeCounter(value));
            catalog->next_collection_id_ = static_cast<std::uint32_t>(next);
        }
    }
    PHENIX_RETURN_IF_ERROR(storage::FromRocks(it->status(), "reading the catalog"));

    // Collections second: their keys name the tenant by id.
    for (it->Seek(std::string(storage::kCollectionKeyPrefix));
         it->Valid() && it->key().starts_with(std::string(storage::kCollectionKeyPrefix));
         it->Next()) {
        std::string_view key(it->key().data(), it->key().size());
        if (key.size() < storage::kCollectionKeyPrefix.size() + 4) {
            return Status::Corruption("catalog collection key is truncated");
        }
        auto tenant_id = coding::DecodeFixed32BE(key.data() + storage::kCollectionKeyPrefix.size());
        auto tenant = tenant_names.find(tenant_id);
        if (tenant == tenant_names.end()) {
            return Status::Corruption("catalog collection refers to unknown tenant id " +
                                      std::to_string(tenant_id));
        }
        PHENIX_ASSIGN_OR_RETURN(
            storage::CollectionRecord record,
            storage::DecodeCollectionRecord({it->value().data(), it->value().size()}));
        auto handle = std::make_shared<CollectionHandle>();
        handle->tenant_id = tenant_id;
        handle->tenant_name = tenant->second;
        handle->name = std::string(key.substr(storage::kCollectionKeyPrefix.size() + 4));
        handle->record = record;
        auto high_water =
            store.Get(ColumnFamily::kCatalog, storage::RowHighWaterKey(record.collection_id));
        if (high_water.ok()) {
            PHENIX_ASSIGN_OR_RETURN(std::uint64_t hw, storage::DecodeCounter(*high_water));
            handle->next_row_id.store(hw + 1);
        } else if (!high_water.status().IsNotFound()) {
            return high_water.status();
        }
        catalog->collections_[tenant_id][handle->name] = handle;
        catalog->by_id_[record.collection_id] = handle;
    }
    PHENIX_RETURN_IF_ERROR(storage::FromRocks(it->status(), "reading the catalog"));

    // (Read-only, a database that lacks it stays without: a crash right after creation.)
    if (catalog->tenants_.find(kDefaultTenant) == catalog->tenants_.end() && !store.read_only()) {
        PHENIX_RETURN_IF_ERROR(catalog->CreateTenant(kDefaultTenant));
    }
    return catalog;
}

Result<storage::TenantId> Catalog::ResolveTenant(std::string_view tenant) const {
    auto it = tenants_.find(tenant);
    if (it == tenants_.end()) {
        std::string msg = "tenant '" + std::string(tenant) + "' does not exist";
        if (std::string hint = ClosestName(tenant, TenantNames()); !hint.empty()) {
            msg += "; did you mean '" + hint + "'?";
        }
        return Status::NotFound(std::move(msg));
    }
    return it->second;
}

Result<std::shared_ptr<CollectionHandle>> Catalog::Resolve(const CollectionRef& ref) const {
    PHENIX_ASSIGN_OR_RETURN(storage::TenantId tenant_id, ResolveTenant(ref.tenant));
    auto tenant_it = collections_.find(tenant_id);
    if (tenant_it != collections_.end()) {
        auto it = tenant_it->second.find(ref.name);
        if (it != tenant_it->second.end()) {
            return it->second;
        }
    }
    std::string msg = "collection '" + ref.ToString() + "' does not exist";
    std::vector<std::string> names;
    if (tenant_it != collections_.end()) {
        for (const auto& [name, handle] : tenant_it->second) {
            names.push_back(name);
        }
    }
    if (std::string hint = ClosestName(ref.name, names); !hint.empty()) {
        msg += "; did you mean '" + hint + "'?";
    }
    return Status::NotFound(std::move(msg));
}

std::shared_ptr<CollectionHandle> Catalog::FindById(storage::CollectionId id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second;
}

std::vector<std::string> Catalog::TenantNames() const {
    std::vector<std::string> names;
    names.reserve(tenants_.size());
    for (const auto& [name, id] : tenants_) {
        names.push_back(name);
    }
    return names;
}

bool Catalog::HasTenantId(storage::TenantId id) const {
    for (const auto& [name, tenant_id] : tenants_) {
        if (tenant_id == id) {
            return true;
        }
    }
    return false;
}

Result<std::vector<std::shared_ptr<CollectionHandle>>> Catalog::Collections(
    std::string_view tenant) const {
    PHENIX_ASSIGN_OR_RETURN(storage::TenantId tenant_id, ResolveTenant(tenant));
    std::vector<std::shared_ptr<CollectionHandle>> out;
    if (auto it = collections_.find(tenant_id); it != collections_.end()) {
        for (const auto& [name, handle] : it->second) {
            out.push_back(handle);
        }
    }
    return out;
}

Status Catalog::CreateTenant(std::string_view tenant) {
    PHENIX_RETURN_IF_ERROR(ValidateName("tenant", tenant));
    if (tenants_.contains(tenant)) {
        return Status::AlreadyExists("tenant '" + std::string(tenant) + "' already exists");
    }
    const storage::TenantId id = next_tenant_id_;
    rocksdb::WriteBatch batch;
    auto* cf = store_.cf(ColumnFamily::kCatalog);
    batch.Put(cf, storage::TenantKey(tenant),
              storage::EncodeTenantRecord({.tenant_id = id, .created_at_ms = NowMillis()}));
    batch.Put(cf, std::string(storage::kNextTenantIdKey), storage::EncodeCounter(id + 1ULL));
    // Catalog changes are always synced, whatever the data durability setting.
    PHENIX_RETURN_IF_ERROR(
        store_.WriteCatalog(batch, /*sync=*/true).WithContext("creating tenant"));
    next_tenant_id_ = id + 1;
    tenants_[std::string(tenant)] = id;
    return Status::Ok();
}

Status Catalog::DropTenant(std::string_view tenant) {
    if (tenant == kDefaultTenant) {
        return Status::FailedPrecondition("the default tenant cannot be dropped");
    }
    PHENIX_ASSIGN_OR_RETURN(storage::TenantId id, ResolveTenant(tenant));
    if (auto it = collections_.find(id); it != collections_.end() && !it->second.empty()) {
        return Status::FailedPrecondition("tenant '" + std::string(tenant) + "' has " +
                                          std::to_string(it->second.size()) +
                                          " collection(s); drop them first");
    }
    rocksdb::WriteBatch batch;
    batch.Delete(store_.cf(ColumnFamily::kCatalog), storage::TenantKey(tenant));
    PHENIX_RETURN_IF_ERROR(
        store_.WriteCatalog(batch, /*sync=*/true).WithContext("dropping tenant"));
    tenants_.erase(tenants_.find(tenant));
    collections_.erase(id);
    return Status::Ok();
}

Status Catalog::CreateCollection(const CollectionSpec& spec) {
    PHENIX_RETURN_IF_ERROR(ValidateCollectionSpec(spec));
    PHENIX_ASSIGN_OR_RETURN(storage::TenantId tenant_id, ResolveTenant(spec.ref.tenant));
    if (auto it = collections_.find(tenant_id);
        it != collections_.end() && it->second.contains(spec.ref.name)) {
        return Status::AlreadyExists("collection '" + spec.ref.ToString() + "' already exists");
    }
    storage::CollectionRecord record;
    record.collection_id = next_collection_id_;
    record.dimension = spec.dimension;
    record.metric = spec.metric;
    PHENIX_ASSIGN_OR_RETURN(
        record.settings,
        document::NormalizeJsonObject(spec.settings, 64u * 1024u, "collection settings"));
    record.created_at_ms = NowMillis();

    rocksdb::WriteBatch batch;
    auto* cf = store_.cf(ColumnFamily::kCatalog);
    batch.Put(cf, storage::CollectionKey(tenant_id, spec.ref.name),
              storage::EncodeCollectionRecord(record));
    batch.Put(cf, std::string(storage::kNextCollectionIdKey),
              storage::EncodeCounter(record.collection_id + 1ULL));
    PHENIX_RETURN_IF_ERROR(
        store_.WriteCatalog(batch, /*sync=*/true).WithContext("creating collection"));

    next_collection_id_ = record.collection_id + 1;
    auto handle = std::make_shared<CollectionHandle>();
    handle->tenant_id = tenant_id;
    handle->tenant_name = spec.ref.tenant;
    handle->name = spec.ref.name;
    handle->record = record;
    collections_[tenant_id][spec.ref.name] = handle;
    by_id_[record.collection_id] = handle;
    return Status::Ok();
}

Result<std::pair<storage::TenantId, storage::CollectionId>> Catalog::DropCollection(
    const CollectionRef& ref, txn::Oracle& oracle) {
    PHENIX_ASSIGN_OR_RETURN(std::shared_ptr<CollectionHandle> handle, Resolve(ref));
    const storage::TenantId tenant = handle->tenant_id;
    const storage::CollectionId id = handle->id();
    const std::string prefix = storage::CollectionPrefix(tenant, id);
    const std::string end = storage::PrefixSuccessor(prefix);

    rocksdb::WriteBatch batch = storage::Store::NewBatch();
    // The caller holds the catalog lock exclusively: no write is in flight, the latest state is
    // stable.
    const storage::ReadTimestamp latest(storage::kLatestTimestamp);
    // Edges between this collection and others: remove the half filed under the other collection.
    for (ColumnFamily family : {ColumnFamily::kOutEdges, ColumnFamily::kInEdges}) {
        const ColumnFamily mirror_family =
            family == ColumnFamily::kOutEdges ? ColumnFamily::kInEdges : ColumnFamily::kOutEdges;
        rocksdb::Slice upper(end);
        rocksdb::ReadOptions read_options = latest.For(family);
        read_options.iterate_upper_bound = &upper;
        std::unique_ptr<rocksdb::Iterator> it(
            store_.db()->NewIterator(read_options, store_.cf(family)));
        for (it->Seek(prefix); it->Valid(); it->Next()) {
            storage::EdgeKey key;
            if (!storage::DecodeEdgeKey({it->key().data(), it->key().size()}, key)) {
                return Status::Corruption("malformed edge key in collection '" + ref.ToString() +
                                          "'");
            }
            if (key.other_collection != id) {
                batch.Delete(store_.cf(mirror_family),
                             storage::EncodeEdgeKey(storage::MirrorEdgeKey(key)));
            }
        }
        PHENIX_RETURN_IF_ERROR(
            storage::FromRocks(it->status(), "scanning edges of the dropped collection"));
    }
    // The rows themselves are deleted afterwards, in chunks, by the purge (a RocksDB range
    // deletion would be one write, but Debian's RocksDB 7.8 aborts when compaction writes a file
    // holding only a timestamped range tombstone; see docs/decisions/0003-mvcc-timestamps.md).
    auto* catalog_cf = store_.cf(ColumnFamily::kCatalog);
    // Its metadata index definitions and statistics go with it, in the same write (their
    // entries go with the rows). DatabaseImpl has stopped any build or refresh from writing
    // them again: each checks under the catalog lock that its collection is still live.
    for (const std::string& record_prefix :
         {storage::MetadataIndexKeyPrefix(id), storage::IndexStatsKeyPrefix(id)}) {
        std::unique_ptr<rocksdb::Iterator> it(
            store_.db()->NewIterator(rocksdb::ReadOptions(), catalog_cf));
        for (it->Seek(record_prefix); it->Valid() && it->key().starts_with(record_prefix);
             it->Next()) {
            batch.Delete(catalog_cf, it->key());
        }
        PHENIX_RETURN_IF_ERROR(
            storage::FromRocks(it->status(), "reading the dropped collection's indexes"));
    }
    batch.Put(catalog_cf, storage::DroppedCollectionKey(id), storage::EncodeCounter(tenant));
    batch.Delete(catalog_cf, storage::CollectionKey(tenant, handle->name));
    batch.Delete(catalog_cf, storage::RowHighWaterKey(id));
    batch.Delete(catalog_cf, storage::EntityCountKey(id));
    PHENIX_RETURN_IF_ERROR(
        txn::CommitBatch(oracle, store_, batch).status().WithContext("dropping collection"));

    collections_[tenant].erase(handle->name);
    by_id_.erase(id);
    return std::make_pair(tenant, id);
}

}  // namespace phenix::engine
