// SPDX-License-Identifier: Apache-2.0
#include "engine/filter_cache.h"

#include <gtest/gtest.h>

namespace phenix::engine {
namespace {

index::RowBitmap Rows(std::initializer_list<std::uint32_t> rows) {
    index::RowBitmap out;
    for (const std::uint32_t row : rows) {
        out.add(row);
    }
    return out;
}

std::vector<storage::RowId> Changed(std::initializer_list<storage::RowId> rows) {
    return rows;
}

TEST(FilterCache, AResultIsCarriedToLaterAndEarlierSnapshotsByTheRowsChangedBetween) {
    FilterCache cache(FilterCache::Limits{});
    EXPECT_FALSE(cache.RecordCommit(10));  // nothing logs yet
    cache.EnableLogging(1);
    EXPECT_TRUE(cache.RecordCommit(11));
    cache.RecordChanges(1, 11, Changed({5, 6}));
    cache.Insert(1, "f", 12, Rows({1, 2, 3}));
    ASSERT_TRUE(cache.RecordCommit(13));
    cache.RecordChanges(1, 13, Changed({7}));
    ASSERT_TRUE(cache.RecordCommit(14));
    cache.RecordChanges(2, 14, Changed({9}));  // another collection: not logged
    ASSERT_TRUE(cache.RecordCommit(15));
    cache.RecordChanges(1, 15, Changed({2, 7}));

    auto same = cache.Lookup(1, "f", 12);
    ASSERT_TRUE(same.has_value());
    EXPECT_TRUE(same->redecide.empty());
    EXPECT_EQ(same->rows->cardinality(), 3u);

    auto later = cache.Lookup(1, "f", 15);
    ASSERT_TRUE(later.has_value());
    EXPECT_EQ(later->as_of, 12u);
    EXPECT_EQ(later->redecide, Changed({2, 7}));  // 13 and 15, sorted, each once

    auto between = cache.Lookup(1, "f", 14);
    ASSERT_TRUE(between.has_value());
    EXPECT_EQ(between->redecide, Changed({7}));

    auto earlier = cache.Lookup(1, "f", 11);  // back across (11, 12]: nothing changed there
    ASSERT_TRUE(earlier.has_value());
    EXPECT_TRUE(earlier->redecide.empty());

    EXPECT_FALSE(cache.Lookup(1, "other", 15).has_value());
    EXPECT_FALSE(cache.Lookup(2, "f", 15).has_value());
    EXPECT_EQ(cache.stats().hits, 4u);
    EXPECT_EQ(cache.stats().misses, 2u);
}

TEST(FilterCache, ResultsOlderThanTheLogAreNeitherCachedNorServed) {
    FilterCache cache(FilterCache::Limits{});
    ASSERT_FALSE(cache.RecordCommit(20));
    cache.EnableLogging(1);  // complete from 20: commits at or below were never logged
    cache.Insert(1, "old", 19, Rows({1}));
    EXPECT_FALSE(cache.Lookup(1, "old", 19).has_value());
    cache.Insert(1, "new", 20, Rows({1}));
    ASSERT_TRUE(cache.Lookup(1, "new", 25).has_value());
    EXPECT_FALSE(cache.Lookup(1, "new", 18).has_value());  // the log does not reach back
    // A result computed without logging enabled for its collection is ignored.
    cache.Insert(3, "f", 30, Rows({1}));
    EXPECT_FALSE(cache.Lookup(3, "f", 30).has_value());
}

TEST(FilterCache, TrimmingTheLogRetiresOlderResults) {
    FilterCache cache(FilterCache::Limits{.max_bytes = 1u << 20, .max_log_rows = 4});
    cache.EnableLogging(1);
    cache.Insert(1, "f", 1, Rows({1}));
    for (txn::Timestamp ts = 2; ts <= 4; ++ts) {
        ASSERT_TRUE(cache.RecordCommit(ts));
        cache.RecordChanges(1, ts, Changed({ts, ts + 100}));
    }
    // 6 rows logged > 4: the commit at 2 was dropped, so 1 can no longer be carried past it.
    EXPECT_FALSE(cache.Lookup(1, "f", 4).has_value());
    cache.Insert(1, "g", 3, Rows({1}));
    auto hit = cache.Lookup(1, "g", 4);
    ASSERT_TRUE(hit.has_value());
    EXPECT_EQ(hit->redecide, Changed({4, 104}));
}

TEST(FilterCache, TooManyChangesMakeALookupAMiss) {
    FilterCache cache(FilterCache::Limits{.max_rows_to_redecide = 2});
    cache.EnableLogging(1);
    cache.Insert(1, "f", 1, Rows({1}));
    ASSERT_TRUE(cache.RecordCommit(2));
    cache.RecordChanges(1, 2, Changed({7, 8, 9}));
    EXPECT_FALSE(cache.Lookup(1, "f", 2).has_value());
    EXPECT_TRUE(cache.Lookup(1, "f", 1).has_value());
}

TEST(FilterCache, EvictsTheLeastRecentlyUsedBeyondItsBytes) {
    index::RowBitmap big;
    for (std::uint32_t row = 0; row < 100'000; row += 3) {
        big.add(row);
    }
    const std::size_t one = big.getSizeInBytes();
    FilterCache cache(FilterCache::Limits{.max_bytes = one * 2 + 500});
    cache.EnableLogging(1);
    cache.Insert(1, "a", 1, big);
    cache.Insert(1, "b", 1, big);
    ASSERT_TRUE(cache.Lookup(1, "a", 1).has_value());  // now the most recently used
    cache.Insert(1, "c", 1, big);
    EXPECT_TRUE(cache.Lookup(1, "a", 1).has_value());
    EXPECT_FALSE(cache.Lookup(1, "b", 1).has_value());
    EXPECT_TRUE(cache.Lookup(1, "c", 1).has_value());
    EXPECT_EQ(cache.stats().entries, 2u);
    EXPECT_LE(cache.stats().bytes, one * 2 + 500);
}

}  // namespace
}  // namespace phenix::engine
