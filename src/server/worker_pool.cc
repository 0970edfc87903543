// SPDX-License-Identifier: Apache-2.0
#include "server/worker_pool.h"

#include <algorithm>
#include <utility>

namespace phenix::server {

WorkerPool::WorkerPool(std::uint32_t num_threads, std::uint32_t queue_capacity)
    : capacity_(queue_capacity) {
    threads_.reserve(num_threads);
    for (std::uint32_t thread_idx = 0; thread_idx < num_threads; ++thread_idx) {
        threads_.emplace_back([this] { Loop(); });
    }
    expiry_thread_ = std::thread([this] { ExpiryLoop(); });
}

WorkerPool::~WorkerPool() {
    Stop();
}

bool WorkerPool::TrySubmit(std::function<void()> task) {
    return TrySubmit(std::move(task), Clock::time_point::max(), nullptr);
}

bool WorkerPool::TrySubmit(std::function<void()> task, Clock::time_point deadline,
                           std::function<void()> expired) {
    const bool expires = deadline != Clock::time_point::max() && expired != nullptr;
    {
        MutexLock lock(mu_);
        if (stopping_ || queue_.size() >= capacity_) {
            return false;
        }
        queue_.push_back({std::move(task), expires ? deadline : Clock::time_point::max(),
                          expires ? std::move(expired) : nullptr});
    }
    cv_.NotifyOne();
    if (expires) {
        expiry_cv_.NotifyOne();
    }
    return true;
}

void WorkerPool::Stop() {
    {
        MutexLock lock(mu_);
        stopping_ = true;
    }
    cv_.NotifyAll();
    expiry_cv_.NotifyAll();
    for (std::thread& thread : threads_) {
        if (thread.joinable()) {
            thread.join();
        }
    }
    if (expiry_thread_.joinable()) {
        expiry_thread_.join();
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
            task = std::move(queue_.front().task);
            queue_.pop_front();
        }
        task();
    }
}

// Sleeps until the earliest deadline of a queued task, then takes every task whose deadline
// passed out of the queue and runs its `expired` callback (outside the lock). The queue holds at
// most queue_capacity entries, so a scan per wake-up is cheap. On Stop the workers run what is
// queued (the tasks themselves check their deadline), so this thread just leaves.
void WorkerPool::ExpiryLoop() {
    while (true) {
        std::vector<std::function<void()>> expired;
        {
            MutexLock lock(mu_);
            if (stopping_) {
                return;
            }
            Clock::time_point earliest = Clock::time_point::max();
            for (const Entry& entry : queue_) {
                earliest = std::min(earliest, entry.deadline);
            }
            if (earliest == Clock::time_point::max()) {
                expiry_cv_.Wait(mu_);
                continue;
            }
            if (Clock::now() < earliest) {
                expiry_cv_.WaitUntil(mu_, earliest);
                continue;  // woken early (a new task, Stop) or on time: look again
            }
            const Clock::time_point now = Clock::now();
            for (auto it = queue_.begin(); it != queue_.end();) {
                if (it->deadline <= now) {
                    expired.push_back(std::move(it->expired));
                    it = queue_.erase(it);
                } else {
                    ++it;
                }
            }
        }
        for (std::function<void()>& callback : expired) {
            callback();
        }
    }
}

}  // namespace phenix::server
