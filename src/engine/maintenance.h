// SPDX-License-Identifier: Apache-2.0
//
// Maintenance — the engine's background thread and the purge of dropped collections (a
// subsystem DatabaseImpl owns; docs/architecture.md). About every 100 ms the thread runs the
// owner's hooks (roll back idle transactions; about once a second, refresh stale index
// statistics) and, read-write, deletes the rows of dropped collections and advances the MVCC
// history floor (the oracle's, and RocksDB's in steps of a tenth of the retention window).
//
// Lock order: the owner's locks (catalog_mu_) -> purge_mu_; mu_ is a leaf. The hooks run on
// the thread with no lock of this class held.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <thread>

#include <phenix/options.h>
#include <phenix/status.h>

#include "common/mutex.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "txn/oracle.h"

namespace phenix::engine {

class Maintenance {
  public:
    using PendingPurgeMap = std::map<storage::CollectionId, storage::TenantId>;
    struct Hooks {
        std::function<void()> reap_idle_transactions;
        std::function<void()> refresh_stale_index_stats;
        /// Read-write only: advances data-key rotations (key_rotation.h) for a bounded time.
        std::function<void()> run_key_rotations;
    };

    /// `pending_purges`: the dropped collections whose rows are still to delete (the catalog's
    /// records at open). `store` and `oracle` must outlive this object.
    Maintenance(const Options& options, storage::Store& store, txn::Oracle& oracle,
                PendingPurgeMap pending_purges);
    ~Maintenance();
    Maintenance(const Maintenance&) = delete;
    Maintenance& operator=(const Maintenance&) = delete;

    /// Starts the thread (once).
    void Start(Hooks hooks) EXCLUDES(mu_);
    /// Stops the thread and waits for it (idempotent).
    void Stop() EXCLUDES(mu_);

    /// Records that a dropped collection's rows are to be deleted, and wakes the thread.
    void SchedulePurge(storage::CollectionId collection, storage::TenantId tenant)
        EXCLUDES(purge_mu_, mu_);
    /// Deletes the rows of dropped collections in chunks, then their pending-purge records.
    /// Takes no catalog lock: a dropped collection's key range is never used again.
    Status PurgeDroppedCollections() EXCLUDES(purge_mu_);
    [[nodiscard]] PendingPurgeMap PendingPurges() EXCLUDES(purge_mu_);

  private:
    void Loop(const Hooks& hooks) EXCLUDES(mu_);

    const Options options_;
    storage::Store& store_;
    txn::Oracle& oracle_;

    Mutex purge_mu_;  // serializes purges
    PendingPurgeMap pending_purges_ GUARDED_BY(purge_mu_);

    Mutex mu_;
    CondVar wake_;
    bool stop_ GUARDED_BY(mu_) = false;
    std::thread thread_;
};

}  // namespace phenix::engine
