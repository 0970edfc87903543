// SPDX-License-Identifier: Apache-2.0
//
// SnapshotGuard — RAII registration of a snapshot with the oracle (so garbage collection keeps
// it), for the engine's subsystems.
#pragma once

#include "txn/oracle.h"

namespace phenix::engine {

class SnapshotGuard {
  public:
    explicit SnapshotGuard(txn::Oracle& oracle) : oracle_(oracle), ts_(oracle.AcquireSnapshot()) {}
    ~SnapshotGuard() { oracle_.ReleaseSnapshot(ts_); }
    SnapshotGuard(const SnapshotGuard&) = delete;
    SnapshotGuard& operator=(const SnapshotGuard&) = delete;
    [[nodiscard]] txn::Timestamp ts() const { return ts_; }

  private:
    txn::Oracle& oracle_;
    txn::Timestamp ts_;
};

}  // namespace phenix::engine
