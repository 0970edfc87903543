// SPDX-License-Identifier: Apache-2.0
//
// MetadataIndexes — the metadata index subsystem DatabaseImpl owns (docs/metadata-indexes.md,
// docs/architecture.md): loading the definitions and statistics at open, maintenance at commit,
// the online build, CreateIndex/DropIndex/ListIndexes/AnalyzeIndexes, statistics refreshes and
// their records, and Find. One index is a MetadataIndex (metadata_index.h); the filter
// evaluation that reads the indexes is FilterEvaluator (filter_eval.h). Implemented in
// metadata_index.cc.
//
// The catalog lock is the owner's (DatabaseImpl::catalog_mu_), shared by reference: the
// definitions live on the catalog's collection handles, so DDL here takes it exclusively and
// everything else shared, in the owner's lock order (docs in database_impl.h). Methods named
// ...Locked are called by the owner with that lock held; as the analysis cannot tell that the
// owner's lock and this object's reference are the same mutex, the owner asserts catalog_mu()
// before calling them. State written after a long operation (a build's chunks and "ready"
// record, statistics records) is written under the lock shared after checking that the very
// index object is still listed (IsListedLocked), so DropIndex and CreateIndex always win.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <phenix/db.h>

#include "common/mutex.h"
#include "engine/catalog.h"
#include "engine/lock_table.h"
#include "engine/metadata_index.h"
#include "storage/store.h"
#include "txn/oracle.h"
#include "txn/read_view.h"
#include "txn/write_set.h"

namespace phenix::engine {

class MetadataIndexes {
  public:
    /// What the subsystem needs of its owner. All are called with the catalog lock held (at
    /// least shared).
    struct Hooks {
        /// FailedPrecondition once the database is closed.
        std::function<Status()> check_open;
        /// check_open, then FailedPrecondition naming the operation if the database is
        /// read-only.
        std::function<Status(std::string_view operation)> check_writable;
        /// The write path's CommitLocked (the index build commits its chunks as autocommit
        /// writes). REQUIRES the rows' key locks.
        std::function<Result<txn::Timestamp>(rocksdb::WriteBatch& wb,
                                             std::optional<txn::Timestamp> start_ts,
                                             const txn::WriteEffects& effects)>
            commit;
        /// Live entities of the collection (the counter every commit keeps).
        std::function<Result<std::uint64_t>(const CollectionHandle& handle)> row_count;
    };

    /// `catalog_mu` and `catalog` are the owner's catalog lock and catalog (null once closed);
    /// they, `store`, `oracle` and `locks` must outlive this object.
    MetadataIndexes(storage::Store& store, txn::Oracle& oracle, LockTable& locks,
                    SharedMutex& catalog_mu, const std::unique_ptr<Catalog>& catalog, Hooks hooks);
    MetadataIndexes(const MetadataIndexes&) = delete;
    MetadataIndexes& operator=(const MetadataIndexes&) = delete;

    /// The owner's catalog lock (see the file comment).
    SharedMutex& catalog_mu() const RETURN_CAPABILITY(catalog_mu_) { return catalog_mu_; }

    // ---- the public API (Database) ----
    Status CreateIndex(const CollectionRef& collection, std::string_view path,
                       const ProgressFn& progress);
    Status DropIndex(const CollectionRef& collection, std::string_view path);
    Result<std::vector<MetadataIndexInfo>> ListIndexes(const CollectionRef& collection);
    Status AnalyzeIndexes(const CollectionRef& collection);
    // Find at `view` (`own_writes`: a transaction's, or null).
    Result<FindResponse> FindLocked(const CollectionRef& collection, const FindOptions& options,
                                    const txn::ReadView& view,
                                    const txn::WriteSet* own_writes) const
        REQUIRES_SHARED(catalog_mu_);

    // ---- for the owner ----
    // At open: attaches the catalog's index definitions to their collections.
    Status LoadMetadataIndexes() REQUIRES(catalog_mu_);
    // At open, after everything else: builds the indexes whose build a crash interrupted.
    Status FinishInterruptedIndexBuilds();
    // Adds to `wb` the index entries that its entity changes add and remove (see the file
    // comment of metadata_index.cc); returns the rows changed per index, for the caller to add
    // to MetadataIndex::changes once the batch is committed. REQUIRES catalog_mu_ shared and the
    // entities' locks.
    Result<IndexChangeCounts> AppendIndexMaintenanceLocked(rocksdb::WriteBatch& wb)
        REQUIRES_SHARED(catalog_mu_);
    // At Close: brings every index's record up to date with its installed statistics and its
    // changes since them, so that a refresh that finished while the database was closing is
    // kept and updates in place count towards the next refresh after a restart. REQUIRES
    // catalog_mu_.
    void StoreIndexChangeCountsLocked() REQUIRES_SHARED(catalog_mu_);
    // Maintenance thread: recomputes statistics that ~10% of changes made stale.
    void RefreshStaleIndexStats();
    // A collection with `num_indexes` indexes was dropped. REQUIRES catalog_mu_ exclusive.
    void CollectionDropped(std::size_t num_indexes) {
        num_metadata_indexes_.fetch_sub(static_cast<int>(num_indexes));
    }

  private:
    // Part of LoadMetadataIndexes: gives the ready indexes their stored statistics (advisory:
    // undecodable records are ignored) and deletes the records of dropped indexes.
    void LoadIndexStats(const std::map<storage::CollectionId, MetadataIndexList>& indexes)
        REQUIRES(catalog_mu_);
    // Reads the existing rows into a published, building index, then marks it ready. Aborted
    // (writing nothing more) once the index or its collection is dropped.
    Status BuildIndex(const std::shared_ptr<CollectionHandle>& handle,
                      const std::shared_ptr<MetadataIndex>& index, const ProgressFn& progress);
    // Whether `index` is (still) one of the live collection `handle`'s listed indexes: the same
    // object, not just the same path. REQUIRES catalog_mu_ (shared or exclusive).
    bool IsListedLocked(const CollectionHandle& handle, const MetadataIndex& index) const
        REQUIRES_SHARED(catalog_mu_);
    // Computes the index's statistics and installs and stores them, unless newer ones were
    // installed meanwhile (or the index was dropped: then they are not stored).
    Status RefreshIndexStats(const CollectionHandle& handle, MetadataIndex& index);
    // Writes the index's installed statistics and changes since to its "s/" record (advisory:
    // unsynced, failures ignored); with `only_if_changed`, only when they differ from what the
    // record holds. REQUIRES catalog_mu_ and IsListedLocked(handle, index).
    void StoreIndexStatsLocked(const CollectionHandle& handle, MetadataIndex& index,
                               bool only_if_changed) REQUIRES_SHARED(catalog_mu_);

    // The owner's, through the hooks.
    Status CheckOpenLocked() const REQUIRES_SHARED(catalog_mu_) { return hooks_.check_open(); }
    Status CheckWritableLocked(std::string_view operation) const REQUIRES_SHARED(catalog_mu_) {
        return hooks_.check_writable(operation);
    }
    Result<txn::Timestamp> CommitLocked(rocksdb::WriteBatch& wb,
                                        std::optional<txn::Timestamp> start_ts,
                                        const txn::WriteEffects& effects)
        REQUIRES_SHARED(catalog_mu_) {
        return hooks_.commit(wb, start_ts, effects);
    }
    Result<std::uint64_t> CollectionRowCount(const CollectionHandle& handle) const {
        return hooks_.row_count(handle);
    }

    storage::Store* const store_;
    txn::Oracle* const oracle_;
    LockTable& locks_;
    SharedMutex& catalog_mu_;
    const std::unique_ptr<Catalog>& catalog_ GUARDED_BY(catalog_mu_);
    const Hooks hooks_;
    // Metadata indexes in all collections (a fast "none" check for the commit path).
    std::atomic<int> num_metadata_indexes_{0};
};

}  // namespace phenix::engine
