// SPDX-License-Identifier: Apache-2.0
#include "engine/lock_table.h"

#include <algorithm>
#include <functional>

namespace phenix::engine {

std::size_t LockTable::StripeOf(storage::CollectionId collection, std::string_view external_id) {
    std::size_t h = std::hash<std::string_view>{}(external_id);
    h ^= static_cast<std::size_t>(collection) * 0x9E3779B97F4A7C15ULL;
    return h % kNumStripes;
}

LockTable::Guard LockTable::Lock(std::vector<std::size_t> stripes) {
    std::sort(stripes.begin(), stripes.end());
    stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
    for (std::size_t stripe : stripes) {
        stripes_[stripe].lock();
    }
    return Guard(this, std::move(stripes));
}

LockTable::Guard::~Guard() {
    for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) {
        table_->stripes_[*it].unlock();
    }
}

}  // namespace phenix::engine
