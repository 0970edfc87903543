// SPDX-License-Identifier: Apache-2.0
//
// DatabaseImpl — the engine behind the public phenix::Database interface.
//
// Concurrency: catalog_mu_ is taken shared by every entity read and write and exclusively by
// DDL (create/drop tenant or collection) and Close, so a collection cannot disappear under an
// in-flight operation. Entity writes additionally lock the entity keys they decide on through
// the LockTable, then commit one RocksDB write batch; concurrent synced commits share an fsync
// through RocksDB's write-group leader (group commit). Reads use one RocksDB snapshot per call.
//
// Lock order: catalog_mu_ (shared or exclusive) -> LockTable stripes (ascending).
//
// Thread-safe.
#pragma once

#include <memory>
#include <shared_mutex>

#include <phenix/db.h>

#include "engine/catalog.h"
#include "engine/lock_table.h"
#include "storage/entity_codec.h"
#include "storage/store.h"

namespace phenix::engine {

class DatabaseImpl final : public Database {
  public:
    /// `env`: see storage::Store::Open (tests only; nullptr = RocksDB's default).
    static Result<std::unique_ptr<Database>> Open(const std::string& path, const Options& options,
                                                  rocksdb::Env* env = nullptr);
    ~DatabaseImpl() override;

    Status Close() override;

    Status CreateTenant(std::string_view tenant) override;
    Result<std::vector<std::string>> ListTenants() override;

    Status CreateCollection(const CollectionSpec& spec) override;
    Status DropCollection(const CollectionRef& collection) override;
    Result<CollectionInfo> GetCollection(const CollectionRef& collection) override;
    Result<std::vector<CollectionInfo>> ListCollections(std::string_view tenant) override;

    Status Insert(const CollectionRef& collection, const Entity& entity) override;
    Status Upsert(const CollectionRef& collection, const Entity& entity) override;
    Result<Entity> Get(const CollectionRef& collection, std::string_view id) override;
    Status ReplaceMetadata(const CollectionRef& collection, std::string_view id,
                           std::string_view metadata_json) override;
    Status PatchMetadata(const CollectionRef& collection, std::string_view id,
                         std::string_view merge_patch_json) override;
    Status Delete(const CollectionRef& collection, std::string_view id) override;
    Status Write(const WriteBatch& batch) override;
    Result<ScanPage> Scan(const CollectionRef& collection, const ScanOptions& options) override;
    Result<std::vector<EdgeRecord>> ListEdges(const CollectionRef& collection, std::string_view id,
                                              EdgeDirection direction) override;

  private:
    DatabaseImpl() = default;

    // RAII holder of a RocksDB snapshot.
    class SnapshotGuard;

    Status CheckOpenLocked() const;
    Result<CollectionInfo> DescribeLocked(const CollectionHandle& handle,
                                          const rocksdb::Snapshot* snapshot) const;
    Result<std::optional<storage::RowId>> LookupRow(const CollectionHandle& handle,
                                                    std::string_view id,
                                                    const rocksdb::Snapshot* snapshot) const;
    Result<storage::EntityRecord> ReadRecord(const CollectionHandle& handle, storage::RowId row,
                                             const rocksdb::Snapshot* snapshot) const;
    // Edges filed under (handle, row) in the out_edges or in_edges column family.
    Result<std::vector<EdgeRecord>> ReadEdges(const CollectionHandle& handle, storage::RowId row,
                                              std::string_view external_id, bool outgoing,
                                              const rocksdb::Snapshot* snapshot) const;
    Result<Entity> ReadEntity(const CollectionHandle& handle, storage::RowId row,
                              bool include_edges, const rocksdb::Snapshot* snapshot) const;

    // The write path (batch_writer.cc). REQUIRES catalog_mu_ shared.
    Status ApplyBatchLocked(const WriteBatch& batch);

    std::unique_ptr<storage::Store> store_;
    mutable std::shared_mutex catalog_mu_;
    std::unique_ptr<Catalog> catalog_;  // GUARDED_BY(catalog_mu_)
    bool closed_ = false;               // GUARDED_BY(catalog_mu_)
    LockTable locks_;
};

}  // namespace phenix::engine
