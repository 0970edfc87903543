// SPDX-License-Identifier: Apache-2.0
#include "server/worker_pool.h"

#include <atomic>
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

}  // namespace
}  // namespace phenix::server
