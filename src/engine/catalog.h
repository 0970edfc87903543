// SPDX-License-Identifier: Apache-2.0
//
// Catalog — the in-memory copy of the persisted catalog (tenants and collections) plus each
// collection's row id allocator. Loaded from the `catalog` column family on open; every change
// is written to storage (synced) before it becomes visible here.
//
// Thread-compatible: DatabaseImpl guards it with its catalog mutex (shared for lookups and
// entity writes, exclusive for DDL). CollectionHandle::next_row_id is atomic and may be bumped
// under the shared lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <phenix/result.h>
#include <phenix/types.h>

#include "storage/catalog_codec.h"
#include "storage/store.h"
#include "txn/oracle.h"

namespace phenix::engine {

struct MetadataIndex;  // engine/metadata_index.h
using MetadataIndexList = std::vector<std::shared_ptr<MetadataIndex>>;
// Per index, the rows whose entries one commit changes (MetadataIndex::changes is bumped by them
// once the commit is written). The pointers are borrowed from the collections' index lists,
// valid while the committer holds the catalog lock.
using IndexChangeCounts = std::vector<std::pair<MetadataIndex*, std::int64_t>>;

struct CollectionHandle {
    // Immutable after construction.
    storage::TenantId tenant_id = 0;
    std::string tenant_name;
    std::string name;
    storage::CollectionRecord record;
    // The next row id to hand out; starts above the persisted high-water mark.
    std::atomic<storage::RowId> next_row_id{1};
    // The collection's metadata indexes, sorted by path. Replaced as a whole (copy-on-write)
    // with DatabaseImpl's catalog mutex held exclusively; read with it held shared.
    std::shared_ptr<const MetadataIndexList> metadata_indexes =
        std::make_shared<const MetadataIndexList>();

    [[nodiscard]] storage::CollectionId id() const { return record.collection_id; }
    [[nodiscard]] CollectionRef ref() const { return {tenant_name, name}; }
};

class Catalog {
  public:
    /// Loads the catalog, creating the default tenant in a new database.
    static Result<std::unique_ptr<Catalog>> Load(storage::Store& store);

    /// NotFound naming the tenant or collection (with the closest existing name, if any).
    Result<std::shared_ptr<CollectionHandle>> Resolve(const CollectionRef& ref) const;
    /// nullptr if no live collection has this id.
    [[nodiscard]] std::shared_ptr<CollectionHandle> FindById(storage::CollectionId id) const;
    Result<storage::TenantId> ResolveTenant(std::string_view tenant) const;

    [[nodiscard]] std::vector<std::string> TenantNames() const;
    /// Whether a live tenant has this id.
    [[nodiscard]] bool HasTenantId(storage::TenantId id) const;
    Result<std::vector<std::shared_ptr<CollectionHandle>>> Collections(
        std::string_view tenant) const;

    Status CreateTenant(std::string_view tenant);
    /// Database::DropTenant: an empty tenant other than the default one.
    Status DropTenant(std::string_view tenant);
    Status CreateCollection(const CollectionSpec& spec);
    /// Removes the collection's entry and the edges other collections have into it, atomically,
    /// and records it as dropped-pending-purge; returns its (tenant, id) for the purge that
    /// deletes its rows afterwards (DatabaseImpl::PurgeDroppedCollections).
    Result<std::pair<storage::TenantId, storage::CollectionId>> DropCollection(
        const CollectionRef& ref, txn::Oracle& oracle);
    /// Dropped collections whose rows were not fully deleted yet (found at Load).
    [[nodiscard]] const std::map<storage::CollectionId, storage::TenantId>& pending_purges_at_load()
        const {
        return pending_purges_at_load_;
    }

  private:
    explicit Catalog(storage::Store& store) : store_(store) {}

    storage::Store& store_;
    std::map<std::string, storage::TenantId, std::less<>> tenants_;
    // tenant id -> collection name -> handle
    std::map<storage::TenantId,
             std::map<std::string, std::shared_ptr<CollectionHandle>, std::less<>>>
        collections_;
    std::map<storage::CollectionId, std::shared_ptr<CollectionHandle>> by_id_;
    std::uint32_t next_tenant_id_ = 1;
    std::uint32_t next_collection_id_ = 1;
    std::map<storage::CollectionId, storage::TenantId> pending_purges_at_load_;
};

/// Milliseconds since the Unix epoch (wall clock).
std::int64_t NowMillis();

/// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo.
std::string ClosestName(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace phenix::engine
