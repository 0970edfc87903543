// SPDX-License-Identifier: Apache-2.0
//
// CommitBatch — the one way a RocksDB batch of versioned data is committed: take a commit
// timestamp from the oracle (after its conflict check), record it as the clock's high-water mark,
// write the batch stamped with it, and publish it (Oracle::EndCommit). Callers hold the locks
// that cover every key of the batch (docs/decisions/0003-mvcc-timestamps.md).
#pragma once

#include <functional>
#include <optional>

#include <rocksdb/write_batch.h>

#include <phenix/result.h>

#include "storage/store.h"
#include "txn/oracle.h"

namespace phenix::txn {

/// Runs after the batch is durably written and before its commit becomes visible (derived
/// in-memory state that must be current when a snapshot can see the commit, e.g. the vector
/// index). Must not fail.
using BeforePublish = std::function<void(Timestamp commit_ts)>;

/// `start_ts`/`keys`: see Oracle::BeginCommit (nullopt and no keys: never rejected). On
/// Aborted, *conflict_index (if given) names the conflicting key.
Result<Timestamp> CommitBatch(Oracle& oracle, storage::Store& store, rocksdb::WriteBatch& batch,
                              std::optional<Timestamp> start_ts = std::nullopt,
                              const ConflictKeys& keys = {}, std::size_t* conflict_index = nullptr,
                              const BeforePublish& before_publish = nullptr);

}  // namespace phenix::txn
