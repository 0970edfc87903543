// SPDX-License-Identifier: Apache-2.0
//
// Mutexes the thread-safety analysis understands (common/thread_annotations.h): thin wrappers
// over std::mutex and std::shared_mutex, whose libstdc++ declarations carry no annotations.
//
//   Mutex mu_;                      MutexLock lock(mu_);            exclusive, scoped
//   SharedMutex smu_;               WriterMutexLock lock(smu_);     exclusive, scoped
//                                   ReaderMutexLock lock(smu_);     shared, scoped
//   CondVar cv_;                    cv_.Wait(mu_) / WaitFor / WaitUntil (REQUIRES(mu_))
//
// CondVar waits take the Mutex, not a lock object: loop on the condition at the call site
// (`while (!ready_) cv_.Wait(mu_);`), so the analysis sees the guarded reads under the mutex
// (a predicate lambda is a separate function to it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#include "common/thread_annotations.h"

namespace phenix {

class CAPABILITY("mutex") Mutex {
  public:
    Mutex() = default;
    Mutex(const Mutex&) = delete;
    Mutex& operator=(const Mutex&) = delete;

    void Lock() ACQUIRE() { mu_.lock(); }
    void Unlock() RELEASE() { mu_.unlock(); }
    bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
    // Tells the analysis the caller holds the mutex (where it cannot see that itself).
    void AssertHeld() const ASSERT_CAPABILITY(this) {}

    // BasicLockable, for std::scoped_lock and friends (not annotated: prefer MutexLock).
    void lock() ACQUIRE() { mu_.lock(); }
    void unlock() RELEASE() { mu_.unlock(); }

  private:
    friend class CondVar;
    std::mutex mu_;
};

class CAPABILITY("shared_mutex") SharedMutex {
  public:
    SharedMutex() = default;
    SharedMutex(const SharedMutex&) = delete;
    SharedMutex& operator=(const SharedMutex&) = delete;

    void Lock() ACQUIRE() { mu_.lock(); }
    void Unlock() RELEASE() { mu_.unlock(); }
    void LockShared() ACQUIRE_SHARED() { mu_.lock_shared(); }
    void UnlockShared() RELEASE_SHARED() { mu_.unlock_shared(); }
    bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
    bool TryLockShared() TRY_ACQUIRE_SHARED(true) { return mu_.try_lock_shared(); }
    void AssertHeld() const ASSERT_CAPABILITY(this) {}
    void AssertSharedHeld() const ASSERT_SHARED_CAPABILITY(this) {}

  private:
    std::shared_mutex mu_;
};

// Holds `mu` for its scope.
class SCOPED_CAPABILITY MutexLock {
  public:
    explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
    ~MutexLock() RELEASE() { mu_.Unlock(); }
    MutexLock(const MutexLock&) = delete;
    MutexLock& operator=(const MutexLock&) = delete;

  private:
    Mutex& mu_;
};

// Holds `mu` exclusively for its scope.
class SCOPED_CAPABILITY WriterMutexLock {
  public:
    explicit WriterMutexLock(SharedMutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
    ~WriterMutexLock() RELEASE() { mu_.Unlock(); }
    WriterMutexLock(const WriterMutexLock&) = delete;
    WriterMutexLock& operator=(const WriterMutexLock&) = delete;

  private:
    SharedMutex& mu_;
};

// Holds `mu` shared for its scope.
class SCOPED_CAPABILITY ReaderMutexLock {
  public:
    explicit ReaderMutexLock(SharedMutex& mu) ACQUIRE_SHARED(mu) : mu_(mu) { mu_.LockShared(); }
    ~ReaderMutexLock() RELEASE() { mu_.UnlockShared(); }
    ReaderMutexLock(const ReaderMutexLock&) = delete;
    ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

  private:
    SharedMutex& mu_;
};

// A condition variable for Mutex. Waits may wake spuriously: loop on the condition.
class CondVar {
  public:
    void Wait(Mutex& mu) REQUIRES(mu) {
        std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
        cv_.wait(lock);
        lock.release();
    }
    // False when `timeout` passed (the caller re-checks its condition either way).
    template <class Rep, class Period>
    bool WaitFor(Mutex& mu, std::chrono::duration<Rep, Period> timeout) REQUIRES(mu) {
        std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
        const bool woken = cv_.wait_for(lock, timeout) == std::cv_status::no_timeout;
        lock.release();
        return woken;
    }
    template <class Clock, class Duration>
    bool WaitUntil(Mutex& mu, std::chrono::time_point<Clock, Duration> deadline) REQUIRES(mu) {
        std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
        const bool woken = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
        lock.release();
        return woken;
    }
    void NotifyOne() { cv_.notify_one(); }
    void NotifyAll() { cv_.notify_all(); }

  private:
    std::condition_variable cv_;
};

}  // namespace phenix
