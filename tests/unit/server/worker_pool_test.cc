// SPDX-License-Identifier: Apache-2.0
#include "server/worker_pool.h"

#include <atomic>
#include <chrono>
#include <future>

#include <gtest/gtest.h>

namespace phenix::server {
namespace {

TEST(WorkerPoolTest, RefusesBeyondTheQueueBoundAndRunsWhatItAccepted) {
    WorkerPool pool(/*num_threads=*/1, /*queue_capacity=*/2);
    std::promise<void> started;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> ran{0};
    ASSERT_TRUE(pool.TrySubmit([&] {
        started.set_value();
        released.wait();
        ++ran;
    }));
    started.get_future().wait();  // the only worker is busy; the queue is empty
    EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));  // full: refused at once, never run
    EXPECT_EQ(pool.queued(), 2u);
    release.set_value();
    pool.Stop();  // runs the queued tasks, then joins
    EXPECT_EQ(ran.load(), 3);
    EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));  // stopped
}

// A task still queued at its deadline (every worker busy) is answered then, by its `expired`
// callback, and never runs; one a worker takes in time runs, and its callback never does.
TEST(WorkerPoolTest, QueuedTaskPastItsDeadlineExpiresInsteadOfRunning) {
    WorkerPool pool(/*num_threads=*/1, /*queue_capacity=*/4);
    std::promise<void> started;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    ASSERT_TRUE(pool.TrySubmit([&] {
        started.set_value();
        released.wait();
    }));
    started.get_future().wait();
    std::atomic<int> ran{0};
    std::promise<WorkerPool::Clock::time_point> expired_at;
    const auto submitted = WorkerPool::Clock::now();
    const auto deadline = submitted + std::chrono::milliseconds(50);
    ASSERT_TRUE(pool.TrySubmit([&] { ++ran; }, deadline,
                               [&] { expired_at.set_value(WorkerPool::Clock::now()); }));
    std::atomic<int> late_expired{0};
    ASSERT_TRUE(pool.TrySubmit([&] { ++ran; }, WorkerPool::Clock::now() + std::chrono::hours(1),
                               [&] { ++late_expired; }));
    EXPECT_EQ(pool.queued(), 2u);
    const WorkerPool::Clock::time_point when = expired_at.get_future().get();
    EXPECT_GE(when, deadline);
    EXPECT_EQ(pool.queued(), 1u);  // only the expired one left the queue
    release.set_value();
    pool.Stop();
    EXPECT_EQ(ran.load(), 1);  // the hour-long one ran; the expired one never did
    EXPECT_EQ(late_expired.load(), 0);
}

}  // namespace
}  // namespace phenix::server
