// SPDX-License-Identifier: Apache-2.0
//
// Sync points — named places in engine code where a test can run a callback, to force one
// interleaving of concurrent work deterministically (after RocksDB's test_util/sync_point.h).
// A race found by reading the code gets a regression test that stops one thread at the point
// where the race window opens and runs the competing operation there.
//
//   engine code:   PHENIX_SYNC_POINT("HnswIndex::Save:BetweenPasses");
//   test:          SyncPoints::Set("HnswIndex::Save:BetweenPasses", [&] { index.EndRow(7, 9); });
//                  ... run the operation ...
//                  SyncPoints::ClearAll();
//
// A point may also hand the test a pointer to a local it may change (to simulate a state that
// is hard to reach otherwise, e.g. a background step that has not run yet):
//   engine code:   PHENIX_SYNC_POINT_ARG("DatabaseImpl::MaintenanceLoop:StoreFloor", &floor);
//   test:          SyncPoints::SetWithArg("...", [](void* arg) { *static_cast<T*>(arg) = 0; });
//
// Cost when no test has set a callback (always, in production): one relaxed atomic load. The
// points are compiled into every build type, because the release build is the one `make test`
// runs. A callback runs on the thread that reaches the point, with whatever locks it holds: it
// must not take them again.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <string_view>

namespace phenix {

class SyncPoints {
  public:
    /// Runs `callback` every time a thread reaches `name` (replaces an earlier callback).
    static void Set(std::string_view name, std::function<void()> callback);
    /// Same, for a point that passes an argument (PHENIX_SYNC_POINT_ARG): the callback gets it.
    static void SetWithArg(std::string_view name, std::function<void(void*)> callback);
    /// Removes every callback; points become no-ops again.
    static void ClearAll();
    /// How many times `name` was reached since its callback was set.
    static int Hits(std::string_view name);

    /// Called by PHENIX_SYNC_POINT(_ARG) when any callback is set.
    static void Process(std::string_view name, void* arg = nullptr);
    [[nodiscard]] static bool enabled() { return enabled_.load(std::memory_order_relaxed); }

  private:
    static std::atomic<bool> enabled_;
};

}  // namespace phenix

#define PHENIX_SYNC_POINT_ARG(name, arg)              \
    do {                                              \
        if (::phenix::SyncPoints::enabled()) {        \
            ::phenix::SyncPoints::Process(name, arg); \
        }                                             \
    } while (false)

#define PHENIX_SYNC_POINT(name)                  \
    do {                                         \
        if (::phenix::SyncPoints::enabled()) {   \
            ::phenix::SyncPoints::Process(name); \
        }                                        \
    } while (false)
