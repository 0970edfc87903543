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
// vector_mu_ shared -> a CollectionVectorIndex's tail lock. catalog_mu_ shared -> a
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

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include <phenix/db.h>

#include "common/mutex.h"
#include "engine/catalog.h"
#include "engine/filter_cache.h"
#include "engine/filter_eval.h"
#include "engine/graph_caches.h"
#include "engine/graph_operators.h"
#include "engine/lock_table.h"
#include "engine/maintenance.h"
#include "engine/metadata_indexes.h"
#include "engine/snapshot_guard.h"
#include "engine/transactions.h"
#include "engine/vector_index.h"
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
                              bool include_edges, const txn::ReadView& view) const
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

    // ---- vector indexes (vector_search.cc) ----
    // Search at `view`; `txn` (nullable) contributes its own writes. REQUIRES catalog_mu_ shared.
    Result<SearchResponse> SearchLocked(const CollectionRef& collection,
                                        std::span<const float> query, const SearchOptions& options,
                                        const txn::ReadView& view,
                                        const txn::WriteSet* own_writes) const
        REQUIRES_SHARED(catalog_mu_);
    std::shared_ptr<CollectionVectorIndex> FindVectorIndex(storage::CollectionId id) const;
    // The rows a search's metadata filter allows: a cached result carried to the view's
    // snapshot, or computed (and cached); or, for a filter no index helps with, a request to
    // check it on the search's candidates instead (`lazy`). REQUIRES catalog_mu_ shared; the
    // reader has no own writes in the collection.
    struct FilterRows {
        std::shared_ptr<const index::RowBitmap> rows;
        std::optional<document::Filter> lazy;
    };
    Result<FilterRows> FilterRowsForSearch(const CollectionHandle& handle,
                                           const document::Filter& filter,
                                           std::string_view filter_text,
                                           std::uint64_t rows_in_collection,
                                           const txn::ReadView& view, FilterEvaluator& evaluator,
                                           std::size_t k, std::vector<std::string>& steps) const;
    // Every row of `filter` at the view's snapshot, cached under filter_text for later queries
    // (the cache's change log is enabled first, so commits after the snapshot are logged).
    Result<index::RowBitmap> EvaluateAndCacheFilter(const CollectionHandle& handle,
                                                    const document::Filter& filter,
                                                    std::string_view filter_text,
                                                    const txn::ReadView& view,
                                                    FilterEvaluator& evaluator) const;
    // A search whose unindexed filter is checked on the candidates, widening until k match (or
    // deciding every record when that is cheaper; that result is cached under filter_text).
    Result<VectorSearchResult> LazyFilteredSearch(const CollectionHandle& handle,
                                                  const CollectionVectorIndex& index,
                                                  VectorSearchRequest request,
                                                  const document::Filter& filter,
                                                  std::string_view filter_text,
                                                  const txn::ReadView& view,
                                                  std::vector<std::string>& steps) const;
    static bool WritesCollection(const txn::WriteSet* writes, const CollectionHandle& handle);
    [[nodiscard]] std::string VectorCheckpointPath(storage::CollectionId id) const;
    // Creates (or loads from its checkpoint) the index of a collection with vectors and feeds it
    // every version committed after the checkpoint. REQUIRES catalog_mu_ (open or DDL).
    Status OpenVectorIndex(const CollectionHandle& handle) REQUIRES(catalog_mu_);
    // At open: every collection's index; removes checkpoints of collections that are gone.
    Status OpenVectorIndexes() REQUIRES(catalog_mu_);
    // Forgets a dropped collection's index and deletes its checkpoint.
    void DropVectorIndex(storage::CollectionId id);
    // Reads the versions of the collection's entities committed in [from_ts, to_ts] into `index`.
    Status CatchUpVectorIndex(const CollectionHandle& handle, CollectionVectorIndex& index,
                              txn::Timestamp from_ts, txn::Timestamp to_ts) const;
    // The commit hook: applies the entity changes in `wb` (stamped with `ts`) to the indexes.
    void ApplyToVectorIndexes(const rocksdb::WriteBatch& wb, txn::Timestamp ts);
    // The commit hook: logs the rows `wb` changed for the filter cache (when it holds any).
    void RecordFilterChanges(const rocksdb::WriteBatch& wb, txn::Timestamp ts);
    // Brings `index` (empty, or loaded from a checkpoint covering commits < from_ts) up to
    // to_ts: reconciles with the state at the history floor if from_ts is at or below it, then
    // replays the exact versions after that.
    Status LoadVectorIndexFromStorage(const CollectionHandle& handle, CollectionVectorIndex& index,
                                      txn::Timestamp from_ts, txn::Timestamp to_ts) const;
    Status ReconcileAtFloor(const CollectionHandle& handle, CollectionVectorIndex& index,
                            txn::Timestamp floor) const;
    void VectorBuilderLoop();
    // Backpressure (Options::max_vector_backlog): waits while any vector index holds more
    // unabsorbed vectors than allowed (an index that stopped indexing does not count).
    // FailedPrecondition if the database closes meanwhile. Takes no catalog lock.
    Status WaitForVectorBacklog();
    [[nodiscard]] bool VectorBacklogTooLong() const;
    void CheckpointVectorIndexes(bool force);
    // A timestamp at or below which every commit is durable (syncs the WAL in relaxed mode;
    // stays below a commit whose write failed). FailedPrecondition after a failed write in
    // relaxed mode (the WAL cannot be synced any more).
    Result<txn::Timestamp> DurableTimestamp();

    // ---- graph (graph_ops.cc) ----
    // The commit hook: forgets the cached adjacency of every node whose edges `wb` changes.
    void InvalidateAdjacency(const rocksdb::WriteBatch& wb, txn::Timestamp ts)
        REQUIRES_SHARED(catalog_mu_);
    // Replaces the adjacency cache by an empty one (at open, and after a collection drop, whose
    // edge deletions bypass the commit hook). REQUIRES catalog_mu_ exclusive (or open).
    void ResetAdjacencyCacheLocked() REQUIRES(catalog_mu_);
    // ChooseGraphPlan's result, for the vector search (graph_operators.h).
    using GraphPlanChoice = GraphOperators::GraphPlanChoice;

    // Hooks of the maintenance thread (maintenance.h).
    void ReapIdleTransactions();

    Options options_;
    std::unique_ptr<storage::Store> store_;
    mutable SharedMutex catalog_mu_;
    std::unique_ptr<Catalog> catalog_ GUARDED_BY(catalog_mu_);
    bool closed_ GUARDED_BY(catalog_mu_) = false;
    LockTable locks_;
    std::unique_ptr<txn::Oracle> oracle_;

    TransactionRegistry txns_;  // the open transactions (transactions.h)

    // The adjacency and id caches (graph_caches.h): replaced only with catalog_mu_ held
    // exclusively; used with it held shared. Never null once open.
    std::unique_ptr<GraphCaches> graph_caches_ GUARDED_BY(catalog_mu_);
    // The graph operators (graph_operators.h; null until Open made it).
    std::unique_ptr<GraphOperators> graph_ops_;
    // Verify (verifier.h; null until Open made it).
    std::unique_ptr<Verifier> verifier_;
    // The metadata indexes (metadata_indexes.h; null until Open made it).
    std::unique_ptr<MetadataIndexes> metadata_indexes_;

    // Metadata filter results for searches, and the log of changed rows that carries them
    // across snapshots (engine/filter_cache.h). Fed by the commit hook.
    mutable FilterCache filter_cache_{FilterCache::Limits{}};
    mutable SharedMutex vector_mu_;                  // leaf; taken shared by the commit hook
    std::atomic<txn::Timestamp> last_hooked_ts_{0};  // the newest commit the hook has seen
    std::map<storage::CollectionId, std::shared_ptr<CollectionVectorIndex>> vector_indexes_
        GUARDED_BY(vector_mu_);
    Mutex builder_mu_;
    CondVar builder_cv_;
    bool stop_builder_ GUARDED_BY(builder_mu_) = false;
    CondVar backlog_cv_;  // with builder_mu_: the builder absorbed a batch
    std::thread vector_builder_;

    // The background thread and the purge of dropped collections (null until Open made it).
    std::unique_ptr<Maintenance> maintenance_;
};

}  // namespace phenix::engine
