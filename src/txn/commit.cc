// SPDX-License-Identifier: Apache-2.0
#include "txn/commit.h"

#include "common/commit_timing.h"
#include "common/sync_point.h"
#include "storage/catalog_codec.h"

namespace phenix::txn {

Result<Timestamp> CommitBatch(Oracle& oracle, storage::Store& store, rocksdb::WriteBatch& batch,
                              std::optional<Timestamp> start_ts, const ConflictKeys& keys,
                              std::size_t* conflict_index, const BeforePublish& before_publish) {
    Timestamp commit_ts = 0;
    std::size_t conflict = 0;
    const Status begun = oracle.BeginCommit(start_ts, keys, &commit_ts, &conflict);
    if (!begun.ok()) {
        if (begun.code() == StatusCode::kAborted) {
            oracle.CountConflict();
        }
        if (conflict_index != nullptr) {
            *conflict_index = conflict;
        }
        return begun;
    }
    batch.Merge(store.cf(storage::ColumnFamily::kCatalog), storage::kCommitClockKey,
                storage::EncodeCounter(commit_ts));
    // The storage write and the index hook are phases of a recorded commit
    // (common/commit_timing.h); nothing is timed when the thread records none.
    Status written;
    {
        const ScopedCommitPhase timed(&CommitTiming::storage_write);
        written = store.Write(batch, commit_ts);
    }
    if (written.ok() && before_publish) {
        const ScopedCommitPhase timed(&CommitTiming::index_hook);
        before_publish(commit_ts);
    }
    PHENIX_SYNC_POINT("txn::CommitBatch:BeforePublish");
    oracle.EndCommit(commit_ts);  // also after a failed write: nothing was written at commit_ts
    PHENIX_RETURN_IF_ERROR(written);
    oracle.CountCommit();
    return commit_ts;
}

}  // namespace phenix::txn
