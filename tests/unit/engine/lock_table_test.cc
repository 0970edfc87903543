// SPDX-License-Identifier: Apache-2.0
#include "engine/lock_table.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

namespace phenix::engine {
namespace {

TEST(LockTable, DisjointSetsDoNotBlockEachOther) {
    LockTable table;
    auto a = table.Lock({1, 2, 3});
    std::atomic<bool> acquired{false};
    std::jthread other([&] {
        auto b = table.Lock({4, 5});
        acquired = true;
    });
    other.join();
    EXPECT_TRUE(acquired);
}

TEST(LockTable, OverlappingSetWaitsForRelease) {
    LockTable table;
    std::atomic<int> stage{0};
    std::optional<LockTable::Guard> first(table.Lock({7, 3, 7}));
    std::jthread other([&] {
        auto second = table.Lock({9, 3});
        stage = 2;
    });
    // The other thread cannot get stripe 3 while we hold it.
    for (int spin = 0; spin < 1000 && stage == 0; ++spin) {
        std::this_thread::yield();
    }
    EXPECT_EQ(stage.load(), 0);
    first.reset();
    other.join();
    EXPECT_EQ(stage.load(), 2);
}

TEST(LockTable, ManyThreadsWithOverlappingSetsNeverDeadlockAndExcludeEachOther) {
    LockTable table;
    std::vector<int> counters(16, 0);  // counter k is only touched while holding stripe k
    std::atomic<int> expected{0};
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < 500; ++round) {
                std::vector<std::size_t> stripes;
                for (int k = 0; k < 1 + (round + t) % 6; ++k) {
                    stripes.push_back(static_cast<std::size_t>((round * 7 + t * 5 + k * 3) % 16));
                }
                std::sort(stripes.begin(), stripes.end());
                stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
                expected += static_cast<int>(stripes.size());
                auto guard = table.Lock(stripes);
                for (std::size_t stripe : stripes) {
                    // A read-modify-write with a yield in between loses updates (and trips TSan)
                    // unless the stripe is really exclusive.
                    int value = counters[stripe];
                    std::this_thread::yield();
                    counters[stripe] = value + 1;
                }
            }
        });
    }
    threads.clear();
    int total = 0;
    for (int c : counters) {
        total += c;
    }
    EXPECT_EQ(total, expected.load());
}

TEST(LockTable, LargeBatchHoldsOnlyItsStripes) {
    LockTable table;
    std::vector<std::size_t> big;
    for (std::size_t stripe = 0; stripe < 1000; ++stripe) {
        big.push_back(stripe * 2);  // even stripes
    }
    auto guard = table.Lock(big);
    std::atomic<bool> odd_acquired{false};
    std::jthread other([&] {
        auto odd = table.Lock({1, 3, 5});
        odd_acquired = true;
    });
    other.join();
    EXPECT_TRUE(odd_acquired);
}

}  // namespace
}  // namespace phenix::engine
