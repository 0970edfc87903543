// SPDX-License-Identifier: Apache-2.0
//
// LockTable — exclusive locks on entity keys (collection id, external id), hashed onto stripes.
// A write locks every entity it reads to decide what to write (the entities it writes and the
// targets of the edges it creates), so that checks such as "insert fails if the id exists" and
// "an edge target exists" cannot race with another writer.
//
// A request takes all of its stripes at once or waits holding none (no hold-and-wait, so no
// deadlock, whatever the order). Requests are served first come, first served among those that
// overlap: a request does not overtake an earlier waiting request it shares a stripe with, so a
// large batch cannot be starved by a stream of small writes. A stripe may cover several keys;
// that only costs concurrency. Only one OS mutex is ever held, however many keys a batch locks.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "storage/keys.h"

namespace phenix::engine {

class LockTable {
  public:
    static constexpr std::size_t kNumStripes = 8192;

    LockTable() : held_(kNumStripes, 0) {}

    /// Holds a set of stripes; releases them when destroyed.
    class [[nodiscard]] Guard {
      public:
        Guard(Guard&& other) noexcept : table_(other.table_), stripes_(std::move(other.stripes_)) {
            other.table_ = nullptr;
        }
        Guard& operator=(Guard&&) = delete;
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;
        ~Guard();

      private:
        friend class LockTable;
        Guard(LockTable* table, std::vector<std::size_t> stripes)
            : table_(table), stripes_(std::move(stripes)) {}
        LockTable* table_;
        std::vector<std::size_t> stripes_;  // sorted, unique
    };

    /// The stripe of one entity key.
    static std::size_t StripeOf(storage::CollectionId collection, std::string_view external_id);

    /// Locks the given stripes (duplicates allowed, any order); blocks until all are held.
    Guard Lock(std::vector<std::size_t> stripes) EXCLUDES(mu_);

  private:
    void Unlock(const std::vector<std::size_t>& stripes) EXCLUDES(mu_);
    // All of `stripes` are free and no earlier waiter overlaps them.
    bool CanGrantLocked(const std::vector<std::size_t>& stripes,
                        std::list<const std::vector<std::size_t>*>::const_iterator self) const
        REQUIRES(mu_);

    Mutex mu_;
    CondVar released_;
    std::vector<std::uint8_t> held_ GUARDED_BY(mu_);                      // one flag per stripe
    std::list<const std::vector<std::size_t>*> waiting_ GUARDED_BY(mu_);  // arrival order
};

}  // namespace phenix::engine
