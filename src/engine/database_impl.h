// SPDX-License-Identifier: Apache-2.0
//
// DatabaseImpl — the engine behind the public phenix::Database interface.
//
// Concurrency: catalog_mu_ is taken shared by every entity read and write and exclusively by
// DDL (create/drop tenant or collection) and Close, so a collection cannot disappear under an
// in-flight operation. Commits (autocommit writes and transaction commits) lock the entity keys
// they decide on through the LockTable, take a commit timestamp from the Oracle (which also
// rejects write-write conflicts), then write one RocksDB batch stamped with it; concurrent synced
// commits share an fsync through RocksDB's write-group leader (group commit). Every read sees
// one snapshot timestamp (txn/read_view.h); docs/decisions/0003-mvcc-timestamps.md.
//
// Lock order: TxnState::mu -> catalog_mu_ (shared or exclusive) -> LockTable stripes
// (ascending) -> Oracle; the commit hook (under the stripes, outside the Oracle's mutex) takes
// VectorIndexes' vector_mu_ shared -> a CollectionVectorIndex's tail lock. catalog_mu_ shared -> a
// MetadataIndex's stats_record_mu -> its statistics mutex. The transaction registry's mutex is a
// leaf.
//
// Metadata index state written after a long operation (a build's chunks and "ready" record,
// statistics records) is written under catalog_mu_ shared after checking that the very index
// object is still listed (MetadataIndexes::IsListedLocked), so DropIndex and CreateIndex, which
// take it exclusively, always win over work that started before them. MetadataIndexes shares
// catalog_mu_ by reference (metadata_indexes.h).
//
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>

#include <phenix/db.h>

#include "common/latency_histogram.h"
#include "common/mutex.h"
#include "engine/catalog.h"
#include "engine/graph_caches.h"
#include "engine/graph_operators.h"
#include "engine/key_rotation.h"
#include "engine/lock_table.h"
#include "engine/maintenance.h"
#include "engine/metadata_indexes.h"
#include "engine/snapshot_guard.h"
#include "engine/transactions.h"
#include "engine/vector_index.h"
#include "engine/vector_indexes.h"
#include "engine/vector_searcher.h"
#include "engine/verifier.h"
#include "graph/adjacency_cache.h"
#include "graph/traversal.h"
#include "storage/entity_codec.h"
#include "storage/store.h"
#include "txn/oracle.h"
#include "txn/read_view.h"
#include "txn/write_set.h"

namespace phenix::engine {

class DatabaseImpl final : public Database {
  public:
    /// `env`: see storage::Store::Open (tests only; nullptr = RocksDB's default).
    static Result<std::unique_ptr<Database>> Open(const std::string& path, const Options& options,
                                                  rocksdb::Env* env = nullptr);
    ~DatabaseImpl() override;

    Status Close() override;
    [[nodiscard]] bool IsReadOnly() const override;

    Status CreateTenant(std::string_view tenant) override;
    Result<std::vector<std::string>> ListTenants() override;
    Status DropTenant(std::string_view tenant) override;
    // At open: crypto-shreds the tenants whose keys outlived their catalog entry (a crash inside
    // DropTenant), then loads every tenant's key (TenantKeyring::Preload).
    Status ShredDroppedTenantsLocked() REQUIRES(catalog_mu_);
    Result<KeyRotationInfo> RotateTenantKey(std::string_view tenant) override;
    Result<KeyRotationInfo> GetKeyRotation(std::string_view tenant) override;

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

    Result<std::unique_ptr<Transaction>> BeginTransaction(
        const TransactionOptions& options) override;
    Timestamp CurrentTimestamp() override;
    Result<SearchResponse> Search(const CollectionRef& collection, std::span<const float> query,
                                  const SearchOptions& options) override;
    Result<VectorIndexInfo> GetVectorIndexInfo(const CollectionRef& collection) override;
    Status RebuildVectorIndex(
        const CollectionRef& collection,
        const std::function<void(std::uint64_t, std::uint64_t)>& progress) override;
    Status Verify() override;
    Status Compact() override;
    Result<DatabaseStats> Stats() override;

    Status CreateIndex(const CollectionRef& collection, std::string_view path,
                       const ProgressFn& progress) override;
    Status DropIndex(const CollectionRef& collection, std::string_view path) override;
    Result<std::vector<MetadataIndexInfo>> ListIndexes(const CollectionRef& collection) override;
    Status AnalyzeIndexes(const CollectionRef& collection) override;
    Result<FindResponse> Find(const CollectionRef& collection, const FindOptions& options) override;
    Result<TraversalResponse> Traverse(const CollectionRef& collection,
                                       const TraversalSpec& spec) override;
    Result<PathsResponse> FindPaths(const CollectionRef& collection, const PathSpec& spec) override;
    Result<std::optional<GraphPath>> ShortestPath(const CollectionRef& collection,
                                                  const ShortestPathSpec& spec) override;
    Result<std::uint64_t> Degree(const CollectionRef& collection, std::string_view id,
                                 EdgeDirection direction, const EdgeMatch& edges) override;

    // ---- used by TransactionImpl; REQUIRES state.mu held and state open ----
    Status TxnWrite(TxnState& state, const WriteBatch& batch) REQUIRES(state.mu);
    Result<Entity> TxnGet(TxnState& state, const CollectionRef& collection, std::string_view id)
        REQUIRES(state.mu);
    Result<ScanPage> TxnScan(TxnState& state, const CollectionRef& collection,
                             const ScanOptions& options) REQUIRES(state.mu);
    Result<std::vector<EdgeRecord>> TxnListEdges(TxnState& state, const CollectionRef& collection,
                                                 std::string_view id, EdgeDirection direction)
        REQUIRES(state.mu);
    Result<SearchResponse> TxnSearch(TxnState& state, const CollectionRef& collection,
                                     std::span<const float> query, const SearchOptions& options)
        REQUIRES(state.mu);
    Result<FindResponse> TxnFind(TxnState& state, const CollectionRef& collection,
                                 const FindOptions& options) REQUIRES(state.mu);
    Result<TraversalResponse> TxnTraverse(TxnState& state, const CollectionRef& collection,
                                          const TraversalSpec& spec) REQUIRES(state.mu);
    Result<PathsResponse> TxnFindPaths(TxnState& state, const CollectionRef& collection,
                                       const PathSpec& spec) REQUIRES(state.mu);
    Result<std::optional<GraphPath>> TxnShortestPath(TxnState& state,
                                                     const CollectionRef& collection,
                                                     const ShortestPathSpec& spec)
        REQUIRES(state.mu);
    Result<std::uint64_t> TxnDegree(TxnState& state, const CollectionRef& collection,
                                    std::string_view id, EdgeDirection direction,
                                    const EdgeMatch& edges) REQUIRES(state.mu);
    Result<Timestamp> TxnCommit(TxnState& state) REQUIRES(state.mu);
    /// Discards the transaction's writes and snapshot and leaves it in `phase`.
    void FinishTxn(TxnState& state, TxnState::Phase phase) REQUIRES(state.mu);
    [[nodiscard]] const Options& options() const { return options_; }
    /// Counts a transaction that ended without committing (Database::Stats).
    void CountAbort(TransactionRegistry::AbortReason reason) { txns_.CountAbort(reason); }

  private:
    DatabaseImpl() = default;

    Status CheckOpenLocked() const REQUIRES_SHARED(catalog_mu_);
    // CheckOpenLocked, then FailedPrecondition naming `operation` if the database is read-only.
    Status CheckWritableLocked(std::string_view operation) const REQUIRES_SHARED(catalog_mu_);
    Result<CollectionInfo> DescribeLocked(const CollectionHandle& handle) const;
    // Live entities of the collection (the counter every commit keeps; latest, not snapshot).
    Result<std::uint64_t> CollectionRowCount(const CollectionHandle& handle) const;
    Result<std::optional<storage::RowId>> LookupRow(const CollectionHandle& handle,
                                                    std::string_view id,
                                                    const txn::ReadView& view) const;
    Result<storage::EntityRecord> ReadRecord(const CollectionHandle& handle, storage::RowId row,
                                             const txn::ReadView& view) const;
    // Edges filed under (handle, row) in the out_edges or in_edges column family.
    Result<std::vector<EdgeRecord>> ReadEdges(const CollectionHandle& handle, storage::RowId row,
                                              std::string_view external_id, bool outgoing,
                                              const txn::ReadView& view) const
        REQUIRES_SHARED(catalog_mu_);
    Result<Entity> ReadEntity(const CollectionHandle& handle, storage::RowId row,
                              bool include_edges, const txn::ReadView& view,
                              bool include_vector = true) const REQUIRES_SHARED(catalog_mu_);
    // The entity of one stored record (`key`, `value` as in the entities column family; the
    // value still sealed by the payload cipher), with its out-edges if asked for.
    Result<Entity> EntityFromRecord(const CollectionHandle& handle, std::string_view key,
                                    std::string_view value, bool include_edges, bool include_vector,
                                    const txn::ReadView& view) const REQUIRES_SHARED(catalog_mu_);
    // ScanLocked in storage order: one pass over the collection's records.
    Result<ScanPage> ScanRecordsLocked(const CollectionHandle& handle, const ScanOptions& options,
                                       const txn::ReadView& view) const
        REQUIRES_SHARED(catalog_mu_);

    // The read paths shared by autocommit reads and transactions. REQUIRES catalog_mu_ shared.
    Result<Entity> GetLocked(const CollectionRef& collection, std::string_view id,
                             const txn::ReadView& view) const REQUIRES_SHARED(catalog_mu_);
    Result<ScanPage> ScanLocked(const CollectionRef& collection, const ScanOptions& options,
                                const txn::ReadView& view) const REQUIRES_SHARED(catalog_mu_);
    Result<std::vector<EdgeRecord>> ListEdgesLocked(const CollectionRef& collection,
                                                    std::string_view id, EdgeDirection direction,
                                                    const txn::ReadView& view) const
        REQUIRES_SHARED(catalog_mu_);

    // The write path (batch_writer.cc). REQUIRES catalog_mu_ shared. txn == nullptr: autocommit.
    Status ApplyBatchLocked(const WriteBatch& batch, TxnState* txn) REQUIRES_SHARED(catalog_mu_);
    // Stamps `wb` with a new commit timestamp and writes it. start_ts: the snapshot the changes
    // were computed from (conflicts after it abort), nullopt for autocommit (computed from the
    // latest state under key locks). REQUIRES catalog_mu_ shared and the key locks held.
    Result<txn::Timestamp> CommitLocked(rocksdb::WriteBatch& wb,
                                        std::optional<txn::Timestamp> start_ts,
                                        const txn::WriteEffects& effects)
        REQUIRES_SHARED(catalog_mu_);
    Status CheckTxnLocked(TxnState& state) const REQUIRES(state.mu);

    // ---- graph (graph_ops.cc) ----
    // The commit hook: forgets the cached adjacency of every node whose edges `wb` changes.
    void InvalidateAdjacency(const rocksdb::WriteBatch& wb, txn::Timestamp ts)
        REQUIRES_SHARED(catalog_mu_);
    // Replaces the adjacency cache by an empty one (at open, and after a collection drop, whose
    // edge deletions bypass the commit hook). REQUIRES catalog_mu_ exclusive (or open).
    void ResetAdjacencyCacheLocked() REQUIRES(catalog_mu_);

    // Hooks of the maintenance thread (maintenance.h).
    void ReapIdleTransactions();
    // Advances the data-key rotations (key_rotation.h) for a bounded time.
    void RunKeyRotations();

    Options options_;
    std::unique_ptr<storage::Store> store_;
    mutable SharedMutex catalog_mu_;
    std::unique_ptr<Catalog> catalog_ GUARDED_BY(catalog_mu_);
    bool closed_ GUARDED_BY(catalog_mu_) = false;
    LockTable locks_;
    std::unique_ptr<txn::Oracle> oracle_;

    TransactionRegistry txns_;  // the open transactions (transactions.h)
    // Latency of commits that reached CommitLocked and succeeded (Stats).
    LatencyHistogram commit_latency_;
    // The adjacency cache's hits and misses before its last reset (Stats: counted since open).
    std::uint64_t graph_cache_hits_before_ GUARDED_BY(catalog_mu_) = 0;
    std::uint64_t graph_cache_misses_before_ GUARDED_BY(catalog_mu_) = 0;

    // The adjacency and id caches (graph_caches.h): replaced only with catalog_mu_ held
    // exclusively; used with it held shared. Never null once open.
    std::unique_ptr<GraphCaches> graph_caches_ GUARDED_BY(catalog_mu_);
    // The graph operators (graph_operators.h; null until Open made it).
    std::unique_ptr<GraphOperators> graph_ops_;
    // Verify (verifier.h; null until Open made it).
    std::unique_ptr<Verifier> verifier_;
    // The metadata indexes (metadata_indexes.h; null until Open made it).
    std::unique_ptr<MetadataIndexes> metadata_indexes_;

    // The vector indexes and their builder thread (vector_indexes.h; null until Open made it).
    std::unique_ptr<VectorIndexes> vector_indexes_;
    // The search paths and the filter cache (vector_searcher.h; null until Open made it).
    std::unique_ptr<VectorSearcher> vector_searcher_;

    // Data-key rotations (key_rotation.h; null until Open made it).
    std::unique_ptr<KeyRotations> key_rotations_;
    // The background thread and the purge of dropped collections (null until Open made it).
    std::unique_ptr<Maintenance> maintenance_;
};

}  // namespace phenix::engine
