// SPDX-License-Identifier: Apache-2.0
#include "engine/lock_table.h"

#include <algorithm>
#include <functional>

namespace phenix::engine {

namespace {

bool Overlaps(const std::vector<std::size_t>& a, const std::vector<std::size_t>& b) {
    auto ia = a.begin();
    auto ib = b.begin();
    while (ia != a.end() && ib != b.end()) {
        if (*ia == *ib) {
            return true;
        }
        if (*ia < *ib) {
            ++ia;
        } else {
            ++ib;
        }
    }
    return false;
}

}  // namespace

std::size_t LockTable::StripeOf(storage::CollectionId collection, std::string_view external_id) {
    std::size_t h = std::hash<std::string_view>{}(external_id);
    h ^= static_cast<std::size_t>(collection) * 0x9E3779B97F4A7C15ULL;
    return h % kNumStripes;
}

bool LockTable::CanGrantLocked(
    const std::vector<std::size_t>& stripes,
    std::list<const std::vector<std::size_t>*>::const_iterator self) const {
    for (std::size_t stripe : stripes) {
        if (held_[stripe] != 0) {
            return false;
        }
    }
    for (auto it = waiting_.begin(); it != self; ++it) {
        if (Overlaps(**it, stripes)) {
            return false;
        }
    }
    return true;
}

LockTable::Guard LockTable::Lock(std::vector<std::size_t> stripes) {
    std::sort(stripes.begin(), stripes.end());
    stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
    MutexLock lock(mu_);
    if (waiting_.empty() && CanGrantLocked(stripes, waiting_.end())) {
        for (std::size_t stripe : stripes) {
            held_[stripe] = 1;
        }
        return Guard(this, std::move(stripes));
    }
    auto self = waiting_.insert(waiting_.end(), &stripes);
    while (!CanGrantLocked(stripes, self)) {
        released_.Wait(mu_);
    }
    waiting_.erase(self);
    for (std::size_t stripe : stripes) {
        held_[stripe] = 1;
    }
    // Leaving the queue may unblock a later waiter that overlapped only with us as a waiter.
    released_.NotifyAll();
    return Guard(this, std::move(stripes));
}

void LockTable::Unlock(const std::vector<std::size_t>& stripes) {
    {
        MutexLock lock(mu_);
        for (std::size_t stripe : stripes) {
            held_[stripe] = 0;
        }
    }
    released_.NotifyAll();
}

LockTable::Guard::~Guard() {
    if (table_ != nullptr) {
        table_->Unlock(stripes_);
    }
}

}  // namespace phenix::engine
