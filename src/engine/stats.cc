// SPDX-License-Identifier: Apache-2.0
//
// Database::Stats (include/phenix/stats.h): counters the engine keeps and RocksDB's estimates,
// read under the catalog lock held shared (writers hold it shared too, so nothing waits).
#include <algorithm>
#include <string>
#include <vector>

#include "engine/database_impl.h"
#include "storage/keys.h"
#include "txn/oracle.h"

namespace phenix::engine {

Result<DatabaseStats> DatabaseImpl::Stats() {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    DatabaseStats stats;
    std::vector<std::string> prefixes;
    std::vector<std::shared_ptr<CollectionVectorIndex>> indexes;
    for (const std::string& tenant : catalog_->TenantNames()) {
        PHENIX_ASSIGN_OR_RETURN(auto handles, catalog_->Collections(tenant));
        for (const auto& handle : handles) {
            CollectionStats& collection = stats.collections.emplace_back();
            collection.ref = handle->ref();
            PHENIX_ASSIGN_OR_RETURN(collection.entities, CollectionRowCount(*handle));
            prefixes.push_back(storage::CollectionPrefix(handle->tenant_id, handle->id()));
            indexes.push_back(handle->record.dimension ? vector_indexes_->FindVectorIndex(handle->id()) : nullptr);
        }
    }
    const std::vector<std::uint64_t> bytes = store_->ApproximateBytes(prefixes);
    const txn::Timestamp now = txn::WallClockMicros();
    for (std::size_t idx = 0; idx < stats.collections.size(); ++idx) {
        CollectionStats& collection = stats.collections[idx];
        collection.approximate_bytes = bytes[idx];
        if (!indexes[idx]) {
            continue;
        }
        const CollectionVectorIndex& index = *indexes[idx];
        collection.has_vector_index = true;
        const CollectionVectorIndex::TailState tail = index.tail_state();
        collection.vector_index_tail = tail.size;
        if (tail.size > 0 && now > tail.oldest_ts) {
            collection.vector_index_lag_seconds = static_cast<double>(now - tail.oldest_ts) / 1e6;
        }
        collection.vector_index_nodes = index.Info(oracle_->visible()).nodes;
    }
    stats.commits = oracle_->num_commits();
    stats.commit_conflicts = oracle_->num_conflicts();
    stats.storage = store_->Stats();
    return stats;
}

}  // namespace phenix::engine
