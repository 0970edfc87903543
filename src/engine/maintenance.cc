// SPDX-License-Identifier: Apache-2.0
#include "engine/maintenance.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "common/sync_point.h"
#include "storage/catalog_codec.h"
#include "txn/commit.h"
#include "txn/read_view.h"

namespace phenix::engine {

using storage::ColumnFamily;

Maintenance::Maintenance(const Options& options, storage::Store& store, txn::Oracle& oracle,
                         PendingPurgeMap pending_purges)
    : options_(options),
      store_(store),
      oracle_(oracle),
      pending_purges_(std::move(pending_purges)) {}

Maintenance::~Maintenance() {
    Stop();
}

void Maintenance::Start(Hooks hooks) {
    thread_ = std::thread([this, hooks = std::move(hooks)] { Loop(hooks); });
}

void Maintenance::Stop() {
    {
        MutexLock lock(mu_);
        stop_ = true;
    }
    wake_.NotifyAll();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void Maintenance::SchedulePurge(storage::CollectionId collection, storage::TenantId tenant) {
    {
        MutexLock lock(purge_mu_);
        pending_purges_[collection] = tenant;
    }
    wake_.NotifyAll();
}

void Maintenance::Loop(const Hooks& hooks) {
    std::uint64_t last_floor = 0;
    std::uint64_t rounds = 0;
    mu_.Lock();
    while (!stop_) {
        wake_.WaitFor(mu_, std::chrono::milliseconds(100));
        if (stop_) {
            break;
        }
        mu_.Unlock();
        hooks.reap_idle_transactions();
        if (rounds++ % 10 == 0) {
            // At the first round after open, then about once a second. Read-only, the statistics
            // are recomputed in memory and not persisted.
            hooks.refresh_stale_index_stats();
        }
        if (store_.read_only()) {
            mu_.Lock();
            continue;  // no purges, and the history floor stays where the writer left it
        }
        // A failure (e.g. disk full) leaves the purge pending; the next round retries.
        PurgeDroppedCollections().IgnoreError();
        if (hooks.run_key_rotations) {
            hooks.run_key_rotations();
        }
        const txn::Timestamp floor = oracle_.AdvanceFloor(options_.history_retention_ms * 1000);
        // Moving RocksDB's floor costs a synced write and a MANIFEST update per column family,
        // so it moves in steps of a tenth of the retention window, between 100 ms and 1 s.
        const std::uint64_t step_micros =
            std::clamp<std::uint64_t>(options_.history_retention_ms * 100, 100'000, 1'000'000);
        txn::Timestamp store_floor = floor;
        // Tests hold the persisted floor back (as a crash between the two would).
        PHENIX_SYNC_POINT_ARG("DatabaseImpl::MaintenanceLoop:StoreFloor", &store_floor);
        if (store_floor >= last_floor + step_micros) {
            // A failure here only delays garbage collection; the next round retries.
            if (store_.SetHistoryFloor(store_floor).ok()) {
                last_floor = store_floor;
            }
        }
        mu_.Lock();
    }
    mu_.Unlock();
}

Maintenance::PendingPurgeMap Maintenance::PendingPurges() {
    MutexLock lock(purge_mu_);
    return pending_purges_;
}

Status Maintenance::PurgeDroppedCollections() {
    constexpr std::size_t kChunkKeys = 10000;
    MutexLock lock(purge_mu_);
    while (!pending_purges_.empty()) {
        const auto [collection, tenant] = *pending_purges_.begin();
        const std::string prefix = storage::CollectionPrefix(tenant, collection);
        const std::string end = storage::PrefixSuccessor(prefix);
        const txn::ReadView latest(store_, storage::kLatestTimestamp);
        bool more = true;
        while (more) {
            more = false;
            rocksdb::WriteBatch wb = storage::Store::NewBatch();
            std::size_t keys = 0;
            for (ColumnFamily family :
                 {ColumnFamily::kEntities, ColumnFamily::kIds, ColumnFamily::kOutEdges,
                  ColumnFamily::kInEdges, ColumnFamily::kMetaIndex}) {
                auto it = latest.NewIterator(family, prefix, end);
                for (; it->Valid() && keys < kChunkKeys; it->Next(), ++keys) {
                    wb.Delete(store_.cf(family),
                              rocksdb::Slice(it->key().data(), it->key().size()));
                }
                PHENIX_RETURN_IF_ERROR(it->status().WithContext("purging a dropped collection"));
                more = more || it->Valid();
            }
            if (keys == 0) {
                break;
            }
            PHENIX_RETURN_IF_ERROR(txn::CommitBatch(oracle_, store_, wb)
                                       .status()
                                       .WithContext("purging a dropped collection"));
        }
        rocksdb::WriteBatch done = storage::Store::NewBatch();
        done.Delete(store_.cf(ColumnFamily::kCatalog), storage::DroppedCollectionKey(collection));
        PHENIX_RETURN_IF_ERROR(txn::CommitBatch(oracle_, store_, done)
                                   .status()
                                   .WithContext("finishing the purge of a dropped collection"));
        pending_purges_.erase(collection);
    }
    return Status::Ok();
}

}  // namespace phenix::engine
