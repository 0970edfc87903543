// SPDX-License-Identifier: Apache-2.0
//
// LatencyHistogram — a fixed-bucket latency histogram of relaxed atomics, for the engine's
// monitoring counters (Database::Stats: WAL write, WAL sync and commit latency). Recording is
// a bucket search over kNumBuckets bounds and three relaxed increments; nothing locks, so hot
// paths (every WAL append, every commit) can record. Summary() reads the buckets one by one
// (not a consistent snapshot: an observation recorded meanwhile may be in `count` but not yet
// in its bucket, which Summary hides by clamping).
//
// Thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include <phenix/stats.h>

#include "common/commit_timing.h"

namespace phenix {

class LatencyHistogram {
  public:
    /// Upper bounds of the buckets in seconds: 50 µs to 10 s, roughly 1-2.5-5 per decade (the
    /// range of an fsync on NVMe up to a stalled disk).
    static constexpr std::array<double, 17> kBoundsSeconds = {
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
        0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
    static constexpr std::size_t kNumBuckets = kBoundsSeconds.size();

    void Record(std::chrono::nanoseconds elapsed) {
        const auto nanos = static_cast<std::uint64_t>(std::max<std::int64_t>(elapsed.count(), 0));
        const double seconds = static_cast<double>(nanos) / 1e9;
        const auto bound = std::lower_bound(kBoundsSeconds.begin(), kBoundsSeconds.end(), seconds);
        if (bound != kBoundsSeconds.end()) {
            buckets_[static_cast<std::size_t>(bound - kBoundsSeconds.begin())].fetch_add(
                1, std::memory_order_relaxed);
        }
        sum_nanos_.fetch_add(nanos, std::memory_order_relaxed);
        count_.fetch_add(1, std::memory_order_relaxed);
    }

    /// Cumulative buckets (Prometheus semantics; see LatencySummary).
    [[nodiscard]] LatencySummary Summary() const {
        LatencySummary summary;
        summary.count = count_.load(std::memory_order_relaxed);
        summary.sum_seconds = static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
        summary.bounds.assign(kBoundsSeconds.begin(), kBoundsSeconds.end());
        summary.buckets.reserve(kNumBuckets);
        std::uint64_t cumulative = 0;
        for (const auto& bucket : buckets_) {
            cumulative += bucket.load(std::memory_order_relaxed);
            summary.buckets.push_back(std::min(cumulative, summary.count));
        }
        return summary;
    }

  private:
    std::array<std::atomic<std::uint64_t>, kNumBuckets> buckets_{};
    std::atomic<std::uint64_t> sum_nanos_{0};
    std::atomic<std::uint64_t> count_{0};
};

/// Records the time from construction to destruction into `histogram` (null: nothing), and
/// into `phase` of the commit the thread is recording (common/commit_timing.h), if any: the
/// same two clock reads serve both.
class ScopedLatency {
  public:
    explicit ScopedLatency(LatencyHistogram* histogram,
                           CommitTiming::Phase CommitTiming::*phase = nullptr)
        : histogram_(histogram),
          recording_(phase != nullptr ? CurrentCommitRecording() : nullptr),
          phase_(phase),
          start_(std::chrono::steady_clock::now()) {}
    ~ScopedLatency() {
        const std::chrono::nanoseconds elapsed = std::chrono::steady_clock::now() - start_;
        if (histogram_ != nullptr) {
            histogram_->Record(elapsed);
        }
        if (recording_ != nullptr) {
            (recording_->*phase_).Add(start_, elapsed);
        }
    }
    ScopedLatency(const ScopedLatency&) = delete;
    ScopedLatency& operator=(const ScopedLatency&) = delete;

  private:
    LatencyHistogram* histogram_;
    CommitTiming* recording_;
    CommitTiming::Phase CommitTiming::*phase_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace phenix
