// SPDX-License-Identifier: Apache-2.0
//
// VectorIndexes — the vector index subsystem DatabaseImpl owns (docs/architecture.md): one
// CollectionVectorIndex (vector_index.h) per collection with vectors, opened (or loaded from its
// checkpoint) and caught up with storage at open and at CreateCollection, fed by the commit hook,
// drained, repaired and checkpointed by the builder thread, dropped with its collection, rebuilt
// on request; writers wait on its backlog (Options::max_vector_backlog). Implemented in
// vector_indexes.cc; searching the indexes stays with the owner (vector_search.cc), which finds
// a collection's index here.
//
// The catalog lock and the catalog are the owner's (DatabaseImpl::catalog_mu_, catalog_), shared
// by reference: OpenVectorIndex(es) run under it exclusively (open or DDL), GetVectorIndexInfo
// and RebuildVectorIndex take it shared. As the analysis cannot tell that the owner's lock and
// this object's reference are the same mutex, the owner asserts catalog_mu() before calling a
// method that REQUIRES it. The owner's open/writable checks come through hooks.
//
// Lock order: the owner's catalog_mu_ -> vector_mu_ -> a CollectionVectorIndex's locks;
// vector_mu_ is taken shared by the commit hook (under the owner's LockTable stripes, outside the
// Oracle's mutex) and exclusively to add, drop or replace an index. builder_mu_ is a leaf.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include <rocksdb/write_batch.h>

#include <phenix/db.h>

#include "common/mutex.h"
#include "engine/catalog.h"
#include "engine/vector_index.h"
#include "storage/store.h"
#include "txn/oracle.h"

namespace phenix::engine {

class VectorIndexes {
  public:
    /// What the subsystem needs of its owner. Called with the catalog lock held (shared).
    struct Hooks {
        /// FailedPrecondition once the database is closed.
        std::function<Status()> check_open;
        /// check_open, then FailedPrecondition naming the operation if the database is
        /// read-only.
        std::function<Status(std::string_view operation)> check_writable;
    };

    /// `catalog_mu` and `catalog` are the owner's catalog lock and catalog (null once closed);
    /// they, `options`, `store` and `oracle` must outlive this object.
    VectorIndexes(const Options& options, storage::Store& store, txn::Oracle& oracle,
                  SharedMutex& catalog_mu, const std::unique_ptr<Catalog>& catalog, Hooks hooks)
        : options_(options),
          store_(&store),
          oracle_(&oracle),
          catalog_mu_(catalog_mu),
          catalog_(catalog),
          hooks_(std::move(hooks)) {}
    /// Stops the builder thread (StopBuilder).
    ~VectorIndexes();
    VectorIndexes(const VectorIndexes&) = delete;
    VectorIndexes& operator=(const VectorIndexes&) = delete;

    /// The owner's catalog lock (see the file comment).
    SharedMutex& catalog_mu() const RETURN_CAPABILITY(catalog_mu_) { return catalog_mu_; }

    // ---- the public API (Database) ----
    Result<VectorIndexInfo> GetVectorIndexInfo(const CollectionRef& collection);
    Status RebuildVectorIndex(const CollectionRef& collection,
                              const std::function<void(std::uint64_t, std::uint64_t)>& progress);

    // ---- for the owner ----
    // The collection's index (null: none).
    std::shared_ptr<CollectionVectorIndex> FindVectorIndex(storage::CollectionId id) const;
    // Creates (or loads from its checkpoint) the index of a collection with vectors and feeds it
    // every version committed after the checkpoint. REQUIRES catalog_mu_ (open or DDL).
    Status OpenVectorIndex(const CollectionHandle& handle) REQUIRES(catalog_mu_);
    // At open: every collection's index; removes checkpoints of collections that are gone.
    Status OpenVectorIndexes() REQUIRES(catalog_mu_);
    // Forgets a dropped collection's index and deletes its checkpoint.
    void DropVectorIndex(storage::CollectionId id);
    // The commit hook: applies the entity changes in `wb` (stamped with `ts`) to the indexes.
    void ApplyToVectorIndexes(const rocksdb::WriteBatch& wb, txn::Timestamp ts);
    // Backpressure (Options::max_vector_backlog): waits while any vector index holds more
    // unabsorbed vectors than allowed (an index that stopped indexing does not count).
    // FailedPrecondition if the database closes meanwhile. Takes no catalog lock.
    Status WaitForVectorBacklog();
    // Saves the indexes with changes since their checkpoint (`force`: also those without a
    // checkpoint file). Failures are reported on stderr: the previous checkpoint stays.
    void CheckpointVectorIndexes(bool force);
    // Rewrites the checkpoint file of every index of a collection `wanted` selects that has one
    // (data-key rotation: the file is created under the tenant's current key). Returns the
    // first failure; the files already rewritten stay.
    Status RewriteVectorCheckpoints(const std::function<bool(storage::CollectionId)>& wanted);
    // The builder thread (drains tails, repairs, checkpoints): started once open, stopped (and
    // joined) at Close, which also wakes writers waiting on a backlog.
    void StartBuilder();
    void StopBuilder();

  private:
    [[nodiscard]] std::string VectorCheckpointPath(storage::CollectionId id) const;
    // Reads the versions of the collection's entities committed in [from_ts, to_ts] into `index`.
    Status CatchUpVectorIndex(const CollectionHandle& handle, CollectionVectorIndex& index,
                              txn::Timestamp from_ts, txn::Timestamp to_ts) const;
    // Brings `index` (empty, or loaded from a checkpoint covering commits < from_ts) up to
    // to_ts: reconciles with the state at the history floor if from_ts is at or below it, then
    // replays the exact versions after that.
    Status LoadVectorIndexFromStorage(const CollectionHandle& handle, CollectionVectorIndex& index,
                                      txn::Timestamp from_ts, txn::Timestamp to_ts) const;
    Status ReconcileAtFloor(const CollectionHandle& handle, CollectionVectorIndex& index,
                            txn::Timestamp floor) const;
    void VectorBuilderLoop();
    [[nodiscard]] bool VectorBacklogTooLong() const;
    // A timestamp at or below which every commit is durable (syncs the WAL in relaxed mode;
    // stays below a commit whose write failed). FailedPrecondition after a failed write in
    // relaxed mode (the WAL cannot be synced any more).
    Result<txn::Timestamp> DurableTimestamp();

    // The owner's, through the hooks.
    Status CheckOpenLocked() const REQUIRES_SHARED(catalog_mu_) { return hooks_.check_open(); }
    Status CheckWritableLocked(std::string_view operation) const REQUIRES_SHARED(catalog_mu_) {
        return hooks_.check_writable(operation);
    }

    // Immutable after construction.
    const Options& options_;
    storage::Store* const store_;
    txn::Oracle* const oracle_;
    SharedMutex& catalog_mu_;
    const std::unique_ptr<Catalog>& catalog_ GUARDED_BY(catalog_mu_);
    const Hooks hooks_;

    mutable SharedMutex vector_mu_;                  // taken shared by the commit hook
    std::atomic<txn::Timestamp> last_hooked_ts_{0};  // the newest commit the hook has seen
    std::map<storage::CollectionId, std::shared_ptr<CollectionVectorIndex>> vector_indexes_
        GUARDED_BY(vector_mu_);
    Mutex builder_mu_;
    CondVar builder_cv_;
    bool stop_builder_ GUARDED_BY(builder_mu_) = false;
    CondVar backlog_cv_;  // with builder_mu_: the builder absorbed a batch
    std::thread vector_builder_;
};

}  // namespace phenix::engine
