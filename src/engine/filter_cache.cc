// SPDX-License-Identifier: Apache-2.0
#include "engine/filter_cache.h"

#include <algorithm>

#include "common/coding.h"

namespace phenix::engine {

std::string FilterCache::MapKey(storage::CollectionId collection, std::string_view key) {
    std::string out;
    coding::PutFixed32BE(out, collection);
    out.append(key);
    return out;
}

void FilterCache::EnableLogging(storage::CollectionId collection) {
    MutexLock lock(mu_);
    // Every commit hooked so far has a timestamp at or below max_hooked_ts_; every later one
    // will be logged (RecordCommit and this run under mu_).
    logs_.try_emplace(collection, Log{.complete_from = max_hooked_ts_, .changes = {}, .rows = 0});
}

bool FilterCache::RecordCommit(txn::Timestamp ts) {
    MutexLock lock(mu_);
    max_hooked_ts_ = std::max(max_hooked_ts_, ts);
    return !logs_.empty();
}

void FilterCache::RecordChanges(storage::CollectionId collection, txn::Timestamp ts,
                                std::span<const storage::RowId> rows) {
    MutexLock lock(mu_);
    auto it = logs_.find(collection);
    if (it == logs_.end() || rows.empty()) {
        return;
    }
    Log& log = it->second;
    std::vector<storage::RowId>& at = log.changes[ts];
    at.insert(at.end(), rows.begin(), rows.end());
    log.rows += rows.size();
    // Bounded: drop the oldest commits; results older than them can no longer be carried.
    while (log.rows > limits_.max_log_rows && !log.changes.empty()) {
        auto oldest = log.changes.begin();
        log.rows -= oldest->second.size();
        log.complete_from = std::max(log.complete_from, oldest->first);
        log.changes.erase(oldest);
    }
}

std::optional<FilterCache::Hit> FilterCache::Lookup(storage::CollectionId collection,
                                                    std::string_view key, txn::Timestamp snapshot) {
    MutexLock lock(mu_);
    auto found = by_key_.find(MapKey(collection, key));
    auto log = logs_.find(collection);
    if (found == by_key_.end() || log == logs_.end()) {
        ++misses_;
        return std::nullopt;
    }
    const Entry& entry = *found->second;
    const txn::Timestamp low = std::min(entry.as_of, snapshot);
    const txn::Timestamp high = std::max(entry.as_of, snapshot);
    if (low < log->second.complete_from) {
        ++misses_;
        return std::nullopt;  // the log no longer covers the span between them
    }
    Hit hit{.rows = entry.rows, .as_of = entry.as_of, .redecide = {}};
    for (auto it = log->second.changes.upper_bound(low);
         it != log->second.changes.end() && it->first <= high; ++it) {
        hit.redecide.insert(hit.redecide.end(), it->second.begin(), it->second.end());
        if (hit.redecide.size() > limits_.max_rows_to_redecide) {
            ++misses_;
            return std::nullopt;  // cheaper to compute afresh
        }
    }
    std::sort(hit.redecide.begin(), hit.redecide.end());
    hit.redecide.erase(std::unique(hit.redecide.begin(), hit.redecide.end()), hit.redecide.end());
    entries_.splice(entries_.begin(), entries_, found->second);  // most recently used
    ++hits_;
    return hit;
}

void FilterCache::Insert(storage::CollectionId collection, std::string key, txn::Timestamp as_of,
                         index::RowBitmap rows) {
    rows.shrinkToFit();
    const std::size_t bytes = rows.getSizeInBytes() + key.size() + 64;
    MutexLock lock(mu_);
    auto log = logs_.find(collection);
    if (log == logs_.end() || as_of < log->second.complete_from || bytes > limits_.max_bytes) {
        return;
    }
    std::string map_key = MapKey(collection, key);
    if (auto found = by_key_.find(map_key); found != by_key_.end()) {
        bytes_ -= found->second->bytes;
        entries_.erase(found->second);
        by_key_.erase(found);
    }
    entries_.push_front(Entry{.collection = collection,
                              .key = std::move(key),
                              .as_of = as_of,
                              .rows = std::make_shared<const index::RowBitmap>(std::move(rows)),
                              .bytes = bytes});
    by_key_[std::move(map_key)] = entries_.begin();
    bytes_ += bytes;
    EvictLocked();
}

void FilterCache::EvictLocked() {
    while (bytes_ > limits_.max_bytes && !entries_.empty()) {
        const Entry& last = entries_.back();
        bytes_ -= last.bytes;
        by_key_.erase(MapKey(last.collection, last.key));
        entries_.pop_back();
    }
}

FilterCache::Stats FilterCache::stats() const {
    MutexLock lock(mu_);
    return Stats{.hits = hits_, .misses = misses_, .entries = entries_.size(), .bytes = bytes_};
}

}  // namespace phenix::engine
