// SPDX-License-Identifier: Apache-2.0
#include "txn/oracle.h"

#include <algorithm>
#include <chrono>

namespace phenix::txn {

Timestamp WallClockMicros() {
    return static_cast<Timestamp>(std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
}

// Starting at the wall clock (not at the last commit) makes "now" readable at once: a snapshot
// taken right after open, or AS OF a wall-clock time since the last commit, is valid.
Oracle::Oracle(Timestamp last_committed)
    : last_issued_(std::max(last_committed, WallClockMicros())) {}

Timestamp Oracle::VisibleLocked() const {
    return in_flight_.empty() ? last_issued_ : *in_flight_.begin() - 1;
}

Timestamp Oracle::visible() const {
    std::lock_guard lock(mu_);
    return VisibleLocked();
}

Timestamp Oracle::AcquireSnapshot() {
    std::lock_guard lock(mu_);
    const Timestamp ts = VisibleLocked();
    snapshots_.insert(ts);
    return ts;
}

Status Oracle::AcquireSnapshotAt(Timestamp ts) {
    std::unique_lock lock(mu_);
    if (ts > VisibleLocked()) {
        const Timestamp now = std::max(WallClockMicros(), last_issued_);
        if (ts > now) {
            return Status::InvalidArgument("AS OF timestamp " + std::to_string(ts) +
                                           " is in the future; the current timestamp is " +
                                           std::to_string(now));
        }
        // A past wall-clock time after the newest commit: commits from now on get timestamps
        // above it, and the ones in flight below it finish first, so the snapshot is stable.
        last_issued_ = std::max(last_issued_, ts);
        visible_cv_.wait(lock, [&] { return VisibleLocked() >= ts; });
    }
    if (ts < floor_) {
        return Status::FailedPrecondition(
            "AS OF timestamp " + std::to_string(ts) +
            " is older than the retained history (oldest readable timestamp: " +
            std::to_string(floor_) + "); raise Options::history_retention_ms to keep more");
    }
    snapshots_.insert(ts);
    return Status::Ok();
}

void Oracle::ReleaseSnapshot(Timestamp ts) {
    std::lock_guard lock(mu_);
    auto it = snapshots_.find(ts);
    if (it != snapshots_.end()) {
        snapshots_.erase(it);
    }
}

Status Oracle::BeginCommit(std::optional<Timestamp> start_ts, const ConflictKeys& keys,
                           Timestamp* commit_ts, std::size_t* conflict_index) {
    std::lock_guard lock(mu_);
    if (start_ts) {
        const Timestamp start = *start_ts;
        for (std::size_t idx = 0; idx < keys.writes.size(); ++idx) {
            const std::uint64_t key = keys.writes[idx];
            auto w = last_write_.find(key);
            auto r = last_ref_.find(key);
            if ((w != last_write_.end() && w->second > start) ||
                (r != last_ref_.end() && r->second > start)) {
                *conflict_index = idx;
                return Status::Aborted("write conflict");
            }
        }
        for (std::size_t idx = 0; idx < keys.refs.size(); ++idx) {
            auto w = last_write_.find(keys.refs[idx]);
            if (w != last_write_.end() && w->second > start) {
                *conflict_index = keys.writes.size() + idx;
                return Status::Aborted("write conflict");
            }
        }
    }
    const Timestamp ts = std::max(last_issued_ + 1, WallClockMicros());
    last_issued_ = ts;
    in_flight_.insert(ts);
    if (keys.check_only) {
        *commit_ts = ts;
        return Status::Ok();
    }
    for (std::uint64_t key : keys.writes) {
        last_write_[key] = ts;
    }
    for (std::uint64_t key : keys.refs) {
        last_ref_[key] = ts;
    }
    if (last_write_.size() + last_ref_.size() >= prune_at_) {
        PruneLocked();
    }
    *commit_ts = ts;
    return Status::Ok();
}

void Oracle::PruneLocked() {
    // A conflict can only be detected against a commit newer than some snapshot that may still
    // commit; snapshots taken later start at or above the visible timestamp.
    Timestamp horizon = VisibleLocked();
    if (!snapshots_.empty()) {
        horizon = std::min(horizon, *snapshots_.begin());
    }
    std::erase_if(last_write_, [horizon](const auto& kv) { return kv.second <= horizon; });
    std::erase_if(last_ref_, [horizon](const auto& kv) { return kv.second <= horizon; });
    // Amortize: prune again only after the tables doubled.
    prune_at_ = std::max<std::size_t>(4096, 2 * (last_write_.size() + last_ref_.size()));
}

void Oracle::EndCommit(Timestamp commit_ts) {
    std::unique_lock lock(mu_);
    in_flight_.erase(commit_ts);
    visible_cv_.notify_all();
    visible_cv_.wait(lock, [&] { return VisibleLocked() >= commit_ts; });
}

Timestamp Oracle::AdvanceFloor(std::uint64_t retention_micros) {
    std::lock_guard lock(mu_);
    Timestamp candidate = VisibleLocked();
    if (!snapshots_.empty()) {
        candidate = std::min(candidate, *snapshots_.begin());
    }
    const Timestamp now = WallClockMicros();
    const Timestamp retained = now > retention_micros ? now - retention_micros : 0;
    candidate = std::min(candidate, retained);
    floor_ = std::max(floor_, candidate);
    return floor_;
}

Timestamp Oracle::floor() const {
    std::lock_guard lock(mu_);
    return floor_;
}

std::optional<Timestamp> Oracle::OldestSnapshot() const {
    std::lock_guard lock(mu_);
    if (snapshots_.empty()) {
        return std::nullopt;
    }
    return *snapshots_.begin();
}

void Oracle::RestoreFloor(Timestamp floor) {
    std::lock_guard lock(mu_);
    floor_ = std::max(floor_, floor);
}

}  // namespace phenix::txn
