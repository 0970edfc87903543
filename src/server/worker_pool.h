// SPDX-License-Identifier: Apache-2.0
//
// WorkerPool: a fixed set of threads running blocking engine calls, fed by a bounded queue.
// Admission is the queue bound: TrySubmit refuses (the caller answers 503 at once) instead of
// letting waiting requests and their bodies pile up in memory. I/O threads never block on the
// engine; workers never touch sockets.
//
// Thread-safe. Stop() runs the tasks already queued, then joins the threads.
#pragma once

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
    WorkerPool(std::uint32_t num_threads, std::uint32_t queue_capacity);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    /// Queues `task`; false (and `task` dropped) when the queue is full or the pool stopped.
    [[nodiscard]] bool TrySubmit(std::function<void()> task);
    /// Runs what is queued, then joins the threads. Idempotent.
    void Stop();
    [[nodiscard]] std::size_t queued() const;

  private:
    void Loop();

    // Immutable after construction.
    const std::size_t capacity_;
    std::vector<std::thread> threads_;

    mutable Mutex mu_;
    CondVar cv_;  // signalled when a task is queued or the pool stops
    std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
    bool stopping_ GUARDED_BY(mu_) = false;
};

}  // namespace phenix::server
