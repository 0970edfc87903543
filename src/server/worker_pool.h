// SPDX-License-Identifier: Apache-2.0
//
// WorkerPool: a fixed set of threads running blocking engine calls, fed by a bounded queue.
// Admission is the queue bound: TrySubmit refuses (the caller answers 503 at once) instead of
// letting waiting requests and their bodies pile up in memory. I/O threads never block on the
// engine; workers never touch sockets.
//
// A task may carry a deadline: if it is still queued when the deadline passes (every worker
// busy), it leaves the queue and its `expired` callback runs instead, on the pool's own expiry
// thread, so that the request is answered at its deadline rather than whenever a worker frees
// up. Exactly one of `task` and `expired` runs.
//
// Thread-safe. Stop() runs the tasks already queued, then joins the threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace phenix::server {

class WorkerPool {
  public:
    using Clock = std::chrono::steady_clock;

    WorkerPool(std::uint32_t num_threads, std::uint32_t queue_capacity);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    /// Queues `task`; false (and `task` dropped) when the queue is full or the pool stopped.
    [[nodiscard]] bool TrySubmit(std::function<void()> task);
    /// The same, with a deadline: still queued at `deadline`, the task is dropped and `expired`
    /// runs in its place (on the expiry thread). Clock::time_point::max() never expires.
    [[nodiscard]] bool TrySubmit(std::function<void()> task, Clock::time_point deadline,
                                 std::function<void()> expired);
    /// Runs what is queued, then joins the threads. Idempotent.
    void Stop();
    [[nodiscard]] std::size_t queued() const;

  private:
    struct Entry {
        std::function<void()> task;
        Clock::time_point deadline;
        std::function<void()> expired;
    };

    void Loop();
    void ExpiryLoop();

    // Immutable after construction.
    const std::size_t capacity_;
    std::vector<std::thread> threads_;
    std::thread expiry_thread_;

    mutable Mutex mu_;
    CondVar cv_;         // signalled when a task is queued or the pool stops
    CondVar expiry_cv_;  // signalled when a task with a deadline is queued or the pool stops
    std::deque<Entry> queue_ GUARDED_BY(mu_);
    bool stopping_ GUARDED_BY(mu_) = false;
};

}  // namespace phenix::server
