// SPDX-License-Identifier: Apache-2.0
//
// The transactions subsystem's state: TxnState, the shared state of one transaction, and
// TransactionRegistry, the database's registry of open transactions (which BeginTransaction
// fills, a finished transaction leaves, and the idle reaper and Close walk). DatabaseImpl owns
// the registry; transaction_impl.cc implements the Transaction API over both.
//
// Lock order: TxnState::mu -> (the database's locks) -> TransactionRegistry's mutex (a leaf).
//
// Thread-safe (TxnState: under its mu, as annotated).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include <phenix/status.h>

#include "common/mutex.h"
#include "engine/catalog.h"
#include "storage/keys.h"
#include "txn/oracle.h"
#include "txn/write_set.h"

namespace phenix::engine {

class DatabaseImpl;

// The shared state of one transaction: owned by the Transaction object and by the registry.
struct TxnState {
    enum class Phase : std::uint8_t { kOpen, kCommitted, kRolledBack, kTimedOut, kClosed };

    Mutex mu;
    DatabaseImpl* db GUARDED_BY(mu) = nullptr;  // cleared when the transaction finishes
    Phase phase GUARDED_BY(mu) = Phase::kOpen;
    std::uint64_t id = 0;
    txn::Timestamp read_ts = 0;
    bool read_only = false;
    txn::WriteSet writes GUARDED_BY(mu);
    // Every collection written or referenced: Commit fails if one was dropped meanwhile.
    std::map<storage::CollectionId, std::shared_ptr<CollectionHandle>> collections;
    std::chrono::steady_clock::time_point last_used GUARDED_BY(mu);
};

class TransactionRegistry {
  public:
    /// Registers `state` under a new id (set in state->id), unless `limit` transactions are
    /// open (ResourceExhausted). `prepare` runs first, under the registry's lock, and may fail
    /// (then nothing is registered).
    Status Add(const std::shared_ptr<TxnState>& state, std::size_t limit,
               const std::function<Status()>& prepare) EXCLUDES(mu_);
    /// Forgets a finished transaction.
    void Remove(std::uint64_t id) EXCLUDES(mu_);
    /// The open transactions, for the idle reaper and Close to walk without the lock.
    [[nodiscard]] std::vector<std::shared_ptr<TxnState>> Open() const EXCLUDES(mu_);
    /// How many are open (Database::Stats).
    [[nodiscard]] std::size_t NumOpen() const EXCLUDES(mu_);

    /// Why a transaction ended without committing (Database::Stats counts each).
    enum class AbortReason : std::uint8_t { kConflict, kRollback, kExpired, kError };
    void CountAbort(AbortReason reason) {
        aborts_[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t aborts(AbortReason reason) const {
        return aborts_[static_cast<std::size_t>(reason)].load(std::memory_order_relaxed);
    }

  private:
    mutable Mutex mu_;
    std::map<std::uint64_t, std::shared_ptr<TxnState>> open_ GUARDED_BY(mu_);
    std::uint64_t next_id_ GUARDED_BY(mu_) = 1;
    std::array<std::atomic<std::uint64_t>, 4> aborts_{};  // by AbortReason (relaxed)
};

}  // namespace phenix::engine
