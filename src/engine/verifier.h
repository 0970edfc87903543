// SPDX-License-Identifier: Apache-2.0
//
// Verifier — Database::Verify, the engine's fsck for one snapshot (verify.cc explains how it
// reads): every derived structure (id mappings, edge mirrors, counters, metadata index entries,
// vector indexes) must agree with the entity records. A subsystem DatabaseImpl owns
// (docs/architecture.md); a run keeps its state in locals.
//
// It takes the owner's catalog lock (DatabaseImpl::catalog_mu_, shared by reference) shared for
// the whole run; the owner's checks and lookups come through hooks, called with it held.
//
// Thread-safe.
#pragma once

#include <functional>
#include <memory>

#include <phenix/db.h>

#include "common/mutex.h"
#include "engine/catalog.h"
#include "engine/maintenance.h"
#include "engine/vector_index.h"
#include "storage/store.h"
#include "txn/oracle.h"

namespace phenix::engine {

class Verifier {
  public:
    struct Hooks {
        /// FailedPrecondition once the database is closed.
        std::function<Status()> check_open;
        /// The collection's index (null: none).
        std::function<std::shared_ptr<CollectionVectorIndex>(storage::CollectionId id)>
            find_vector_index;
        /// What GetCollection reports for the collection (its counters).
        std::function<Result<CollectionInfo>(const CollectionHandle& handle)> describe;
    };

    /// `catalog_mu` and `catalog` are the owner's; everything must outlive this object.
    Verifier(storage::Store& store, txn::Oracle& oracle, SharedMutex& catalog_mu,
             const std::unique_ptr<Catalog>& catalog, Maintenance& maintenance, Hooks hooks)
        : store_(&store),
          oracle_(&oracle),
          catalog_mu_(catalog_mu),
          catalog_(catalog),
          maintenance_(&maintenance),
          hooks_(std::move(hooks)) {}
    Verifier(const Verifier&) = delete;
    Verifier& operator=(const Verifier&) = delete;

    /// Corruption naming the problems found (the first few of each kind), or Ok.
    Status Verify();

  private:
    Status CheckOpenLocked() const REQUIRES_SHARED(catalog_mu_) { return hooks_.check_open(); }
    std::shared_ptr<CollectionVectorIndex> FindVectorIndex(storage::CollectionId id) const {
        return hooks_.find_vector_index(id);
    }
    Result<CollectionInfo> DescribeLocked(const CollectionHandle& handle) const
        REQUIRES_SHARED(catalog_mu_) {
        return hooks_.describe(handle);
    }

    storage::Store* const store_;
    txn::Oracle* const oracle_;
    SharedMutex& catalog_mu_;
    const std::unique_ptr<Catalog>& catalog_ GUARDED_BY(catalog_mu_);
    Maintenance* const maintenance_;
    const Hooks hooks_;
};

}  // namespace phenix::engine
