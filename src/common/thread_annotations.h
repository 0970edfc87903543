// SPDX-License-Identifier: Apache-2.0
//
// Clang thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html), the
// names abseil and LevelDB use. They make "guarded by" comments checked: a clang build with
// -Wthread-safety (`make tsa`, run by `make test` when clang++-14 is installed) fails when a
// GUARDED_BY member is touched without its mutex, or a REQUIRES function is called without it.
// No-ops on other compilers.
//
//   Mutex mu_;
//   int count_ GUARDED_BY(mu_) = 0;
//   void BumpLocked() REQUIRES(mu_);
//   void Bump() EXCLUDES(mu_) { MutexLock lock(mu_); BumpLocked(); }
//
// Use the annotated wrappers in common/mutex.h (std::mutex is not annotated in libstdc++).
#pragma once

#if defined(__clang__)
#define PHENIX_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define PHENIX_THREAD_ANNOTATION(x)
#endif

// Abseil (which gRPC's headers include) defines the same names with the same meaning: ours
// replace them, so the two may be included in either order.
#undef CAPABILITY
#undef SCOPED_CAPABILITY
#undef GUARDED_BY
#undef PT_GUARDED_BY
#undef ACQUIRED_BEFORE
#undef ACQUIRED_AFTER
#undef REQUIRES
#undef REQUIRES_SHARED
#undef ACQUIRE
#undef ACQUIRE_SHARED
#undef RELEASE
#undef RELEASE_SHARED
#undef RELEASE_GENERIC
#undef TRY_ACQUIRE
#undef TRY_ACQUIRE_SHARED
#undef EXCLUDES
#undef ASSERT_CAPABILITY
#undef ASSERT_SHARED_CAPABILITY
#undef RETURN_CAPABILITY
#undef NO_THREAD_SAFETY_ANALYSIS

#define CAPABILITY(x) PHENIX_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY PHENIX_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) PHENIX_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) PHENIX_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) PHENIX_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) PHENIX_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define REQUIRES(...) PHENIX_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) PHENIX_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) PHENIX_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) PHENIX_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) PHENIX_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) PHENIX_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) PHENIX_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) PHENIX_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define TRY_ACQUIRE_SHARED(...) PHENIX_THREAD_ANNOTATION(try_acquire_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) PHENIX_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) PHENIX_THREAD_ANNOTATION(assert_capability(x))
#define ASSERT_SHARED_CAPABILITY(x) PHENIX_THREAD_ANNOTATION(assert_shared_capability(x))
#define RETURN_CAPABILITY(x) PHENIX_THREAD_ANNOTATION(lock_returned(x))
// For the rare function the analysis cannot follow (say why next to it).
#define NO_THREAD_SAFETY_ANALYSIS PHENIX_THREAD_ANNOTATION(no_thread_safety_analysis)
