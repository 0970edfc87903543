// SPDX-License-Identifier: Apache-2.0
//
// Transactions: the public Transaction object, and the DatabaseImpl methods it calls.
//
// A transaction reads at the snapshot timestamp it took at Begin, overlaid with its own writes
// (txn::ReadView over its txn::WriteSet). Writes run the same write path as autocommit
// (batch_writer.cc) against that view and merge their key/value changes into the WriteSet.
// Commit locks the touched entity keys, asks the Oracle for a commit timestamp (rejecting a
// write-write conflict with a commit after the snapshot), and writes the WriteSet as one RocksDB
// batch. Because a successful conflict check proves that nothing the transaction touched changed
// since its snapshot, the changes computed against the snapshot are exactly what a serial
// execution at the commit timestamp would produce.
#include <chrono>

#include "common/coding.h"
#include "common/commit_timing.h"
#include "engine/database_impl.h"
#include "engine/validation.h"
#include "storage/catalog_codec.h"

namespace phenix::engine {

namespace {

using Clock = std::chrono::steady_clock;

const char* PhaseMessage(TxnState::Phase phase) {
    switch (phase) {
        case TxnState::Phase::kOpen:
            return "open";
        case TxnState::Phase::kCommitted:
            return "the transaction has already committed; begin a new one";
        case TxnState::Phase::kRolledBack:
            return "the transaction was rolled back (or its commit failed); begin a new one";
        case TxnState::Phase::kTimedOut:
            return "the transaction was rolled back because it was idle longer than "
                   "Options::transaction_idle_timeout_ms; begin a new one";
        case TxnState::Phase::kClosed:
            return "the transaction was rolled back because the database was closed";
    }
    return "the transaction is finished";
}

class TransactionImpl final : public Transaction {
  public:
    explicit TransactionImpl(std::shared_ptr<TxnState> state) : state_(std::move(state)) {}

    ~TransactionImpl() override { Rollback().IgnoreError(); }

    [[nodiscard]] Timestamp read_timestamp() const override { return state_->read_ts; }

    Result<Entity> Get(const CollectionRef& collection, std::string_view id) override {
        MutexLock lock(state_->mu);
        PHENIX_RETURN_IF_ERROR(Usable());
        return state_->db->TxnGet(*state_, collection, id);
    }
    Result<ScanPage> Scan(const CollectionRef& collection, const ScanOptions& options) override {
        MutexLock lock(state_->mu);
        PHENIX_RETURN_IF_ERROR(Usable());
        return state_->db->TxnScan(*state_, collection, options);
    }
    Result<SearchResponse> Search(const CollectionRef& collection, std::span<const float> query,
                                  const SearchOptions& options) override {
        MutexLock lock(state_->mu);
        PHENIX_RETURN_IF_ERROR(Usable());
        return state_->db->TxnSearch(*state_, collection, query, options);
    }
    Result<std::vector<EdgeRecord>> ListEdges(const CollectionRef& collection, std::string_view id,
                                              EdgeDirection direction) override {
        MutexLock lock(state_->mu);
        PHENIX_RETURN_IF_ERROR(Usable());
        return state_->db->TxnListEdges(*state_, collection, id, direction);
    }

    Result<FindResponse> Find(const CollectionRef& collection,
                              const FindOptions& options) override {
        MutexLock lock(state_->mu);
        PHENIX_RETURN_IF_ERROR(Usable());
        return state_->db->TxnFind(*state_, collection, options);
    }
    Result<TraversalResponse> Traverse(const CollectionRef& collection,
                                       const TraversalSpec& spec) override {
        MutexLock lock(state_->mu);
        PHENIX_RETURN_IF_ERROR(Usable());
        return state_->db->TxnTraverse(*state_, collection, spec);
    }
    Result<PathsResponse> FindPaths(const CollectionRef& collection,
                                    const PathSpec& spec) override {
        MutexLock lock(state_->mu);
        PHENIX_RETURN_IF_ERROR(Usable());
        return state_->db->TxnFindPaths(*state_, collection, spec);
    }
    Result<std::optional<GraphPath>> ShortestPath(const CollectionRef& collection,
                                                  const ShortestPathSpec& spec) override {
        MutexLock lock(state_->mu);
        PHENIX_RETURN_IF_ERROR(Usable());
        return state_->db->TxnShortestPath(*state_, collection, spec);
    }
    Result<std::uint64_t> Degree(const CollectionRef& collection, std::string_view id,
                                 EdgeDirection direction, const EdgeMatch& edges) override {
        MutexLock lock(state_->mu);
        PHENIX_RETURN_IF_ERROR(Usable());
        return state_->db->TxnDegree(*state_, collection, id, direction, edges);
    }

    Status Insert(const CollectionRef& collection, const Entity& entity) override {
        WriteBatch batch;
        batch.Insert(collection, entity);
        return Write(batch);
    }
    Status Upsert(const CollectionRef& collection, const Entity& entity) override {
        WriteBatch batch;
        batch.Upsert(collection, entity);
        return Write(batch);
    }
    Status ReplaceMetadata(const CollectionRef& collection, std::string_view id,
                           std::string_view metadata_json) override {
        WriteBatch batch;
        batch.ReplaceMetadata(collection, std::string(id), std::string(metadata_json));
        return Write(batch);
    }
    Status PatchMetadata(const CollectionRef& collection, std::string_view id,
                         std::string_view merge_patch_json) override {
        WriteBatch batch;
        batch.PatchMetadata(collection, std::string(id), std::string(merge_patch_json));
        return Write(batch);
    }
    Status Delete(const CollectionRef& collection, std::string_view id) override {
        WriteBatch batch;
        batch.Delete(collection, std::string(id));
        return Write(batch);
    }
    Status Write(const WriteBatch& batch) override {
        MutexLock lock(state_->mu);
        PHENIX_RETURN_IF_ERROR(Usable());
        if (state_->read_only) {
            return Status::FailedPrecondition(
                "the transaction is read-only; begin one without read_only to write");
        }
        return state_->db->TxnWrite(*state_, batch);
    }

    Result<Timestamp> Commit() override {
        MutexLock lock(state_->mu);
        PHENIX_RETURN_IF_ERROR(Usable());
        return state_->db->TxnCommit(*state_);
    }

    Status Rollback() override {
        MutexLock lock(state_->mu);
        if (state_->phase == TxnState::Phase::kOpen && state_->db != nullptr) {
            // Counted first: FinishTxn clears state_->db.
            state_->db->CountAbort(TransactionRegistry::AbortReason::kRollback);
            state_->db->FinishTxn(*state_, TxnState::Phase::kRolledBack);
        }
        return Status::Ok();
    }

  private:
    // Also enforces the idle timeout at the moment of the call, so a timed-out transaction
    // fails even if the reaper has not run yet.
    Status Usable() REQUIRES(state_->mu) {
        TxnState& state = *state_;
        state.mu.AssertHeld();  // the same mutex as state_->mu, by another name
        if (state.phase != TxnState::Phase::kOpen || state.db == nullptr) {
            return Status::FailedPrecondition(PhaseMessage(state.phase));
        }
        const std::uint64_t timeout_ms = state.db->options().transaction_idle_timeout_ms;
        const auto now = Clock::now();
        if (timeout_ms != 0 && now - state.last_used > std::chrono::milliseconds(timeout_ms)) {
            state.db->FinishTxn(state, TxnState::Phase::kTimedOut);
            return Status::FailedPrecondition(PhaseMessage(state.phase));
        }
        state.last_used = now;
        return Status::Ok();
    }

    std::shared_ptr<TxnState> state_;
};

}  // namespace

Result<std::unique_ptr<Transaction>> DatabaseImpl::BeginTransaction(
    const TransactionOptions& options) {
    if (options.as_of && !options.read_only) {
        return Status::InvalidArgument(
            "as_of reads the past and needs a read-only transaction (set read_only)");
    }
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    auto state = std::make_shared<TxnState>();
    state->read_only = options.read_only;
    {
        MutexLock state_lock(state->mu);  // uncontended: nobody else sees the state yet
        state->db = this;
        state->last_used = Clock::now();
    }
    Status added = txns_.Add(state, options_.max_open_transactions, [&]() -> Status {
        if (options.as_of) {
            PHENIX_RETURN_IF_ERROR(oracle_->AcquireSnapshotAt(*options.as_of));
            state->read_ts = *options.as_of;
        } else {
            state->read_ts = oracle_->AcquireSnapshot();
        }
        return Status::Ok();
    });
    if (!added.ok()) {
        return added;
    }
    return std::unique_ptr<Transaction>(new TransactionImpl(std::move(state)));
}

Timestamp DatabaseImpl::CurrentTimestamp() {
    return oracle_->visible();
}

void DatabaseImpl::FinishTxn(TxnState& state, TxnState::Phase phase) {
    if (state.phase != TxnState::Phase::kOpen) {
        return;
    }
    if (phase == TxnState::Phase::kTimedOut) {
        txns_.CountAbort(TransactionRegistry::AbortReason::kExpired);
    }
    state.phase = phase;
    oracle_->ReleaseSnapshot(state.read_ts);
    state.writes = txn::WriteSet();
    state.collections.clear();
    state.db = nullptr;
    txns_.Remove(state.id);
}

void DatabaseImpl::ReapIdleTransactions() {
    const std::uint64_t timeout_ms = options_.transaction_idle_timeout_ms;
    if (timeout_ms == 0) {
        return;
    }
    const std::vector<std::shared_ptr<TxnState>> open = txns_.Open();
    const auto now = Clock::now();
    for (auto& state : open) {
        // A transaction whose lock is held is in a call, hence not idle.
        if (!state->mu.TryLock()) {
            continue;
        }
        if (state->phase == TxnState::Phase::kOpen &&
            now - state->last_used > std::chrono::milliseconds(timeout_ms)) {
            FinishTxn(*state, TxnState::Phase::kTimedOut);
        }
        state->mu.Unlock();
    }
}

Status DatabaseImpl::TxnWrite(TxnState& state, const WriteBatch& batch) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckWritableLocked("writing in a transaction"));
    return ApplyBatchLocked(batch, &state);
}

Result<Entity> DatabaseImpl::TxnGet(TxnState& state, const CollectionRef& collection,
                                    std::string_view id) {
    PHENIX_RETURN_IF_ERROR(ValidateEntityId(id));
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    return GetLocked(collection, id, txn::ReadView(*store_, state.read_ts, &state.writes));
}

Result<ScanPage> DatabaseImpl::TxnScan(TxnState& state, const CollectionRef& collection,
                                       const ScanOptions& options) {
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    return ScanLocked(collection, options, txn::ReadView(*store_, state.read_ts, &state.writes));
}

Result<std::vector<EdgeRecord>> DatabaseImpl::TxnListEdges(TxnState& state,
                                                           const CollectionRef& collection,
                                                           std::string_view id,
                                                           EdgeDirection direction) {
    PHENIX_RETURN_IF_ERROR(ValidateEntityId(id));
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    return ListEdgesLocked(collection, id, direction,
                           txn::ReadView(*store_, state.read_ts, &state.writes));
}

Result<Timestamp> DatabaseImpl::TxnCommit(TxnState& state) {
    if (!state.writes.empty()) {
        PHENIX_RETURN_IF_ERROR(vector_indexes_->WaitForVectorBacklog());
    }
    ReaderMutexLock lock(catalog_mu_);
    PHENIX_RETURN_IF_ERROR(CheckOpenLocked());
    if (state.writes.empty()) {
        const Timestamp ts = state.read_ts;
        FinishTxn(state, TxnState::Phase::kCommitted);
        return ts;
    }
    for (const auto& [id, handle] : state.collections) {
        if (!handle || catalog_->FindById(id) != handle) {
            // The message first: FinishTxn clears state.collections, which owns `handle`.
            Status dropped = Status::FailedPrecondition(
                "collection '" + (handle ? handle->ref().ToString() : std::to_string(id)) +
                "' was dropped while the transaction was open; nothing was committed");
            FinishTxn(state, TxnState::Phase::kRolledBack);
            txns_.CountAbort(TransactionRegistry::AbortReason::kError);
            return dropped;
        }
    }
    std::vector<std::size_t> stripes;
    stripes.reserve(state.writes.effects.touched.size());
    for (const auto& [id_key, written] : state.writes.effects.touched) {
        const auto collection = coding::DecodeFixed32BE(id_key.data() + 4);
        stripes.push_back(LockTable::StripeOf(collection, storage::ExternalIdFromIdKey(id_key)));
    }
    stripes.insert(stripes.end(), state.writes.effects.extra_stripes.begin(),
                   state.writes.effects.extra_stripes.end());
    // A traced request's commit reports its phases (common/commit_timing.h).
    CommitRecorder recorder;
    const LockTable::Guard guard = [&] {
        const ScopedCommitPhase timed(&CommitTiming::lock_wait);
        return locks_.Lock(std::move(stripes));
    }();
    rocksdb::WriteBatch wb = storage::Store::NewBatch(state.writes.bytes() + 1024);
    state.writes.AppendTo(*store_, wb);
    state.writes.effects.AppendCounters(*store_, wb);
    auto committed = CommitLocked(wb, state.read_ts, state.writes.effects);
    FinishTxn(state, committed.ok() ? TxnState::Phase::kCommitted : TxnState::Phase::kRolledBack);
    if (!committed.ok()) {
        txns_.CountAbort(committed.status().code() == StatusCode::kAborted
                             ? TransactionRegistry::AbortReason::kConflict
                             : TransactionRegistry::AbortReason::kError);
    }
    return committed;
}

// ---------------------------------------------------------------- the registry

Status TransactionRegistry::Add(const std::shared_ptr<TxnState>& state, std::size_t limit,
                                const std::function<Status()>& prepare) {
    MutexLock lock(mu_);
    if (open_.size() >= limit) {
        return Status::ResourceExhausted(
            std::to_string(open_.size()) +
            " transactions are open, the limit (Options::max_open_transactions) is " +
            std::to_string(limit) + "; commit or roll back open transactions first");
    }
    PHENIX_RETURN_IF_ERROR(prepare());
    state->id = next_id_++;
    open_.emplace(state->id, state);
    return Status::Ok();
}

void TransactionRegistry::Remove(std::uint64_t id) {
    MutexLock lock(mu_);
    open_.erase(id);
}

std::size_t TransactionRegistry::NumOpen() const {
    MutexLock lock(mu_);
    return open_.size();
}

std::vector<std::shared_ptr<TxnState>> TransactionRegistry::Open() const {
    MutexLock lock(mu_);
    std::vector<std::shared_ptr<TxnState>> open;
    open.reserve(open_.size());
    for (const auto& [id, state] : open_) {
        open.push_back(state);
    }
    return open;
}

}  // namespace phenix::engine
