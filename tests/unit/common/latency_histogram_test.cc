// SPDX-License-Identifier: Apache-2.0
// LatencyHistogram: observations land in the first bucket whose bound covers them; the summary
// is cumulative, with the count and the sum.
#include "common/latency_histogram.h"

#include <chrono>

#include <gtest/gtest.h>

namespace phenix {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(LatencyHistogram, SummaryIsCumulativeWithCountAndSum) {
    LatencyHistogram histogram;
    const LatencySummary empty = histogram.Summary();
    EXPECT_EQ(empty.count, 0u);
    ASSERT_EQ(empty.bounds.size(), LatencyHistogram::kNumBuckets);
    ASSERT_EQ(empty.buckets.size(), LatencyHistogram::kNumBuckets);
    EXPECT_EQ(empty.buckets.back(), 0u);

    histogram.Record(microseconds(10));  // <= 50 µs: the first bucket
    histogram.Record(microseconds(50));  // exactly on the first bound: still the first
    histogram.Record(milliseconds(3));   // <= 5 ms
    histogram.Record(seconds(20));       // beyond 10 s: only in the count (+Inf)
    histogram.Record(microseconds(-5));  // a clock step backwards counts as 0
    const LatencySummary summary = histogram.Summary();
    EXPECT_EQ(summary.count, 5u);
    EXPECT_NEAR(summary.sum_seconds, 20.00306, 1e-9);
    EXPECT_EQ(summary.bounds.front(), 0.00005);
    EXPECT_EQ(summary.bounds.back(), 10.0);
    EXPECT_EQ(summary.buckets[0], 3u);
    std::size_t five_ms = 0;
    while (summary.bounds[five_ms] < 0.005) {
        ++five_ms;
    }
    EXPECT_EQ(summary.buckets[five_ms - 1], 3u);
    EXPECT_EQ(summary.buckets[five_ms], 4u);
    EXPECT_EQ(summary.buckets.back(), 4u);
}

TEST(LatencyHistogram, ScopedLatencyRecordsOnceAndNullRecordsNothing) {
    LatencyHistogram histogram;
    { ScopedLatency timed(&histogram); }
    { ScopedLatency untimed(nullptr); }
    EXPECT_EQ(histogram.Summary().count, 1u);
}

}  // namespace
}  // namespace phenix
