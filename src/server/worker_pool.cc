// SPDX-License-Identifier: Apache-2.0
#include "server/worker_pool.h"

#include <utility>

namespace phenix::server {

WorkerPool::WorkerPool(std::uint32_t num_threads, std::uint32_t queue_capacity)
    : capacity_(queue_capacity) {
    threads_.reserve(num_threads);
    for (std::uint32_t thread_idx = 0; thread_idx < num_threads; ++thread_idx) {
        threads_.emplace_back([this] { Loop(); });
    }
}

WorkerPool::~WorkerPool() {
    Stop();
}

bool WorkerPool::TrySubmit(std::function<void()> task) {
    {
        MutexLock lock(mu_);
        if (stopping_ || queue_.size() >= capacity_) {
            return false;
        }
        queue_.push_back(std::move(task));
    }
    cv_.NotifyOne();
    return true;
}

void WorkerPool::Stop() {
    {
        MutexLock lock(mu_);
        stopping_ = true;
    }
    cv_.NotifyAll();
    for (std::thread& thread : threads_) {
        if (thread.joinable()) {
            thread.join();
        }
    }
}

std::size_t WorkerPool::queued() const {
    MutexLock lock(mu_);
    return queue_.size();
}

void WorkerPool::Loop() {
    while (true) {
        std::function<void()> task;
        {
            MutexLock lock(mu_);
            while (!stopping_ && queue_.empty()) {
                cv_.Wait(mu_);
            }
            if (queue_.empty()) {
                return;  // stopping, and nothing left to run
            }
            task = std::move(queue_.front());
            queue_.pop_front();
        }
        task();
    }
}

}  // namespace phenix::server
