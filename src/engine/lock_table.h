// SPDX-License-Identifier: Apache-2.0
//
// LockTable — striped exclusive locks on entity keys (collection id, external id). A write
// locks every entity it reads to decide what to write (the entities it writes and the targets
// of the edges it creates), so that checks such as "insert fails if the id exists" and "an edge
// target exists" cannot race with another writer. Locks are taken in stripe order, so two
// writers never deadlock. A stripe may cover several keys; that only costs concurrency.
//
// Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

#include "storage/keys.h"

namespace phenix::engine {

class LockTable {
  public:
    static constexpr std::size_t kNumStripes = 8192;

    /// Holds a set of stripes; releases them when destroyed.
    class [[nodiscard]] Guard {
      public:
        Guard(Guard&& other) noexcept : table_(other.table_), stripes_(std::move(other.stripes_)) {
            other.stripes_.clear();
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
        std::vector<std::size_t> stripes_;
    };

    /// The stripe of one entity key.
    static std::size_t StripeOf(storage::CollectionId collection, std::string_view external_id);

    /// Locks the given stripes (duplicates allowed, any order); blocks until all are held.
    Guard Lock(std::vector<std::size_t> stripes);

  private:
    std::array<std::mutex, kNumStripes> stripes_;
};

}  // namespace phenix::engine
