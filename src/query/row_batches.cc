// SPDX-License-Identifier: Apache-2.0
//
// UPDATE / DELETE over the rows WHERE chooses (row_batches.h): in the session's transaction, or
// in batches of their own transactions chosen from one snapshot.
#include "query/row_batches.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <phenix/limits.h>

#include "common/sync_point.h"
#include "query/expression.h"
#include "query/json_value.h"
#include "query/lexer.h"

namespace phenix::query {
namespace {

// A batch whose commit conflicts is redone from a fresh snapshot at most this often.
constexpr int kMaxStatementAttempts = 5;
constexpr auto kProgressInterval = std::chrono::seconds(1);

// The ids of the rows matching a RowCondition in one snapshot (`txn`'s), handed out one at a
// time. When the engine's Find can return them all (at most limits::kMaxFindLimit) they are
// read at Start; otherwise the collection is scanned (in storage order) a page at a time in the
// same snapshot and the filter checked on each entity, so no statement holds more than a page of
// ids beyond the ones its current batch has not committed yet.
//
// Position() / Seek() move back over ids handed out since the last Mark() (a batch that must
// be redone, or a chunk that did not fit its transaction). Confined to one statement.
class MatchingRows {
  public:
    MatchingRows(Transaction& txn, CollectionRef ref, const RowCondition& condition)
        : txn_(txn), ref_(std::move(ref)), condition_(condition) {}

    // Reads the count (and, when Find can return them all, the ids). With a residual the count
    // is the filter's (at most the rows that match), and the rows are scanned and checked.
    Status Start() {
        if (condition_.bound.ids) {
            return ReadListedIds();
        }
        PHENIX_ASSIGN_OR_RETURN(FindResponse found,
                                txn_.Find(ref_, FindOptions{.filter = condition_.bound.filter_json,
                                                            .limit = limits::kMaxFindLimit}));
        total_ = found.count;
        if (found.ids.size() >= found.count && !condition_.bound.residual) {
            ids_ = std::move(found.ids);
            is_exhausted_ = true;
        }
        return Status::Ok();
    }

    // Matching rows in the snapshot, exact.
    [[nodiscard]] std::uint64_t total() const { return total_; }

    // The next id, or null at the end. Valid until the next call of Next or Mark.
    Result<const std::string*> Next() {
        while (pos_ == ids_.size()) {
            if (is_exhausted_) {
                return nullptr;
            }
            PHENIX_RETURN_IF_ERROR(ScanPage());
        }
        return &ids_[pos_++];
    }

    [[nodiscard]] std::size_t Position() const { return base_ + pos_; }
    // Back to `position`, which must not be before the last Mark().
    void Seek(std::size_t position) { pos_ = position - base_; }
    // The ids before the current position are done: forgets them.
    void Mark() {
        // Erasing from the front only once half the buffer is done keeps this amortized O(1).
        if (pos_ > ids_.size() / 2) {
            ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(pos_));
            base_ += pos_;
            pos_ = 0;
        }
        mark_ = base_ + pos_;
    }
    [[nodiscard]] std::size_t mark() const { return mark_; }
    // Whether every id is in memory (the snapshot is no longer needed).
    [[nodiscard]] bool is_exhausted() const { return is_exhausted_; }

  private:
    // id = 'x' / id IN (...): each id read in the snapshot; missing ids are left out.
    Status ReadListedIds() {
        std::set<std::string> seen;
        for (const std::string& id : *condition_.bound.ids) {
            if (!seen.insert(id).second) {
                continue;
            }
            Result<Entity> entity = txn_.Get(ref_, id);
            if (!entity.ok()) {
                if (entity.status().code() == StatusCode::kNotFound) {
                    continue;
                }
                return entity.status();
            }
            PHENIX_ASSIGN_OR_RETURN(bool matches, condition_.Matches(*entity));
            if (matches) {
                ids_.push_back(id);
            }
        }
        total_ = ids_.size();
        is_exhausted_ = true;
        return Status::Ok();
    }

    Status ScanPage() {
        // Drop what is done before appending, so the buffer stays about a page long.
        if (mark_ > base_) {
            const std::size_t done = mark_ - base_;
            ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(done));
            base_ += done;
            pos_ -= done;
        }
        // Storage order: one pass over the records, no lookup per id (the order rows are
        // handed out in does not matter; scan_after_ is then a position, not an id).
        ScanOptions options{.start_after = scan_after_,
                            .limit = limits::kMaxScanLimit,
                            .include_edges = false,
                            .storage_order = true};
        PHENIX_ASSIGN_OR_RETURN(phenix::ScanPage page, txn_.Scan(ref_, options));
        for (Entity& entity : page.entities) {
            PHENIX_ASSIGN_OR_RETURN(bool matches, condition_.Matches(entity));
            if (matches) {
                ids_.push_back(std::move(entity.id));
            }
        }
        scan_after_ = std::move(page.next_start_after);
        is_exhausted_ = scan_after_.empty();
        return Status::Ok();
    }

    Transaction& txn_;
    const CollectionRef ref_;
    const RowCondition& condition_;
    std::vector<std::string> ids_;  // ids_[0] is id number base_ of the statement
    std::size_t base_ = 0;
    std::size_t pos_ = 0;   // into ids_
    std::size_t mark_ = 0;  // absolute
    std::uint64_t total_ = 0;
    bool is_exhausted_ = false;  // no ids beyond ids_
    std::string scan_after_;
};

// Rows an autocommit UPDATE / DELETE commits per transaction at most; fewer when their writes
// reach Options::max_transaction_bytes first.
constexpr std::size_t kMaxRowsPerBatch = 10000;
// Rows handed to Transaction::Write at once (the unit a full transaction gives back).
constexpr std::size_t kRowsPerWrite = 1000;

std::string RowsText(std::uint64_t count) {
    return std::to_string(count) + (count == 1 ? " row" : " rows");
}

std::string BatchesText(std::uint64_t count) {
    return std::to_string(count) + (count == 1 ? " batch" : " batches");
}

// What a batched statement has committed so far.
struct BatchProgress {
    std::uint64_t changed = 0;
    std::uint64_t skipped = 0;  // chosen at the start, then deleted or no longer matching
    std::uint64_t batches = 0;
};

// An UPDATE / DELETE inside the session's transaction: every row in one Transaction::Write, so
// that the statement is atomic within the transaction (a failed Write leaves the transaction as
// it was). Too large a statement fails and changes nothing.
Result<BatchProgress> RunInSessionTransaction(ExecContext& ctx, std::string_view what,
                                              const CollectionRef& ref,
                                              const RowCondition& condition,
                                              const RowWriter& write_row) {
    Transaction& txn = *ctx.txn;
    MatchingRows rows(txn, ref, condition);
    PHENIX_RETURN_IF_ERROR(AtPos(ctx.statement_pos, rows.Start()));
    const std::string advice =
        ". Nothing of the statement was applied and the transaction is still open. A statement "
        "inside BEGIN ... COMMIT is atomic and must fit one transaction: run it outside BEGIN ... "
        "COMMIT, where " +
        std::string(what) +
        " commits in batches; or split it into statements with narrower WHERE clauses, "
        "committing between them";
    if (rows.total() > limits::kMaxBatchOps) {
        return Status::ResourceExhausted(PositionedMessage(
            ctx.statement_pos,
            std::string(what) + " inside a transaction matches " + RowsText(rows.total()) +
                ", more than one statement in a transaction may change (" +
                std::to_string(limits::kMaxBatchOps) + ", limits::kMaxBatchOps)" + advice));
    }
    WriteBatch batch;
    BatchProgress progress;
    while (true) {
        Result<const std::string*> id = rows.Next();
        if (!id.ok()) {
            return AtPos(ctx.statement_pos, id.status());
        }
        if (*id == nullptr) {
            break;
        }
        Result<bool> is_written = write_row(txn, **id, RowCheck::kNone, batch);
        if (!is_written.ok()) {
            return AtPos(ctx.statement_pos, is_written.status());
        }
        progress.changed += *is_written ? 1U : 0U;
    }
    if (batch.empty()) {
        return progress;
    }
    const Status status = txn.Write(batch);
    if (status.code() == StatusCode::kResourceExhausted) {
        // The engine's message names the sizes and the limit; its advice ("commit what you
        // have") is for API users, so it is replaced by the statement's.
        std::string sizes(status.message());
        sizes = sizes.substr(0, sizes.find("; this write was not applied"));
        return Status::ResourceExhausted(PositionedMessage(
            ctx.statement_pos, std::string(what) + " of " + RowsText(progress.changed) +
                                   " does not fit in the transaction (" + sizes + ")" + advice +
                                   "; or raise Options::max_transaction_bytes"));
    }
    PHENIX_RETURN_IF_ERROR(AtPos(ctx.statement_pos, status));
    progress.batches = 1;
    return progress;
}

// An autocommit UPDATE / DELETE: the rows matching WHERE are chosen in one snapshot taken at the
// start, then changed in batches, each its own transaction of at most kMaxRowsPerBatch rows and
// Options::max_transaction_bytes of writes. Each batch reads the current version of its rows
// and re-checks WHERE on it (a row deleted or changed to no longer match since the start is
// skipped), so a concurrent writer's change made before the batch is kept, never overwritten;
// one committed while the batch runs makes its commit fail (first committer wins) and the batch
// is redone from a fresh snapshot, up to kMaxStatementAttempts times. The statement is atomic
// per batch only: a failure or ^C part-way leaves the committed batches in place, and the
// error says how many rows they changed.
Result<BatchProgress> RunInBatches(ExecContext& ctx, std::string_view what,
                                   const CollectionRef& ref, const RowCondition& condition,
                                   const RowWriter& write_row) {
    Result<std::unique_ptr<Transaction>> snapshot =
        ctx.db.BeginTransaction(TransactionOptions{.read_only = true});
    if (!snapshot.ok()) {
        return AtPos(ctx.statement_pos, snapshot.status());
    }
    MatchingRows rows(**snapshot, ref, condition);
    PHENIX_RETURN_IF_ERROR(AtPos(ctx.statement_pos, rows.Start()));
    const std::uint64_t total = rows.total();
    if (rows.is_exhausted()) {
        // Every id is read: release the snapshot rather than hold back garbage collection for
        // the whole statement.
        (*snapshot)->Rollback().IgnoreError();
    }
    PHENIX_SYNC_POINT("RunInBatches:SnapshotTaken");

    BatchProgress done;
    // The statement's error: `cause` plus what the committed batches already changed.
    auto stopped = [&](const Status& cause) {
        std::string message(cause.message());
        if (done.batches > 0) {
            message += "; " + std::string(what) + " stopped after committing " +
                       RowsText(done.changed) + " in " + BatchesText(done.batches) +
                       " (each batch is its own transaction); the other rows of the " +
                       std::to_string(total) + " matching were not changed";
        } else {
            message += "; no row was changed";
        }
        // An error of a WHERE term evaluated per row already names its place.
        const bool is_positioned = std::string_view(cause.message()).starts_with("line ");
        return Status(cause.code(),
                      is_positioned ? message : PositionedMessage(ctx.statement_pos, message));
    };
    const auto start = std::chrono::steady_clock::now();
    auto last_progress = start;
    std::size_t rows_per_write = kRowsPerWrite;
    while (true) {
        if (ctx.Interrupted()) {
            return stopped(Status(StatusCode::kCancelled, "interrupted"));
        }
        rows.Mark();
        bool is_finished = false;
        Status conflict;
        int attempt = 0;
        for (; attempt < kMaxStatementAttempts; ++attempt) {
            rows.Seek(rows.mark());
            is_finished = false;
            Result<std::unique_ptr<Transaction>> begun = ctx.db.BeginTransaction();
            if (!begun.ok()) {
                return stopped(begun.status());
            }
            Transaction& txn = **begun;
            PHENIX_SYNC_POINT("RunInBatches:BatchBegun");
            std::size_t batch_rows = 0;
            BatchProgress batch;
            RowCheck check = RowCheck::kIfNeeded;
            while (batch_rows < kMaxRowsPerBatch) {
                const std::size_t write_start = rows.Position();
                WriteBatch writes;
                std::size_t write_rows = 0;
                std::uint64_t written = 0;
                while (write_rows < rows_per_write && batch_rows + write_rows < kMaxRowsPerBatch) {
                    Result<const std::string*> id = rows.Next();
                    if (!id.ok()) {
                        return stopped(id.status());
                    }
                    if (*id == nullptr) {
                        is_finished = true;
                        break;
                    }
                    Result<bool> is_written = write_row(txn, **id, check, writes);
                    if (!is_written.ok()) {
                        return stopped(is_written.status());
                    }
                    ++write_rows;
                    written += *is_written ? 1U : 0U;
                }
                const Status status = writes.empty() ? Status::Ok() : txn.Write(writes);
                if (status.code() == StatusCode::kResourceExhausted) {
                    // The transaction is full: commit what it has and go on in the next batch.
                    // A write that does not fit an empty transaction is retried smaller.
                    rows.Seek(write_start);
                    is_finished = false;
                    if (batch_rows > 0) {
                        break;
                    }
                    if (write_rows > 1) {
                        rows_per_write = write_rows / 2;
                        continue;
                    }
                    std::string sizes(status.message());
                    sizes = sizes.substr(0, sizes.find("; this write was not applied"));
                    return stopped(Status::ResourceExhausted(
                        "the change of one row does not fit in a transaction (" + sizes +
                        "); raise Options::max_transaction_bytes"));
                }
                if (status.code() == StatusCode::kNotFound && check == RowCheck::kIfNeeded) {
                    // A row written blindly is gone: read these rows one by one.
                    rows.Seek(write_start);
                    is_finished = false;
                    check = RowCheck::kFull;
                    continue;
                }
                if (!status.ok()) {
                    return stopped(status);
                }
                check = RowCheck::kIfNeeded;
                batch_rows += write_rows;
                batch.changed += written;
                batch.skipped += write_rows - written;
                if (is_finished) {
                    break;
                }
            }
            if (batch_rows == 0) {
                break;  // nothing left: the empty transaction is rolled back
            }
            Result<Timestamp> committed = txn.Commit();
            if (committed.ok()) {
                done.changed += batch.changed;
                done.skipped += batch.skipped;
                ++done.batches;
                break;
            }
            if (committed.status().code() != StatusCode::kAborted) {
                return stopped(committed.status());
            }
            conflict = committed.status();
        }
        if (attempt == kMaxStatementAttempts) {
            return stopped(Status(
                StatusCode::kAborted,
                "a batch conflicted with concurrent writers " +
                    std::to_string(kMaxStatementAttempts) +
                    " times in a row (the last time: " + std::string(conflict.message()) + ")"));
        }
        if (is_finished) {
            return done;
        }
        const auto now = std::chrono::steady_clock::now();
        if (ctx.progress && now - last_progress >= kProgressInterval) {
            last_progress = now;
            ctx.progress(std::string(what) + " " + ref.name + ": " +
                         std::to_string(done.changed + done.skipped) + "/" + std::to_string(total) +
                         " rows in " + BatchesText(done.batches));
        }
    }
}

}  // namespace

Result<bool> RowCondition::Matches(const Entity& entity) const {
    if (filter) {
        PHENIX_ASSIGN_OR_RETURN(bool matches, document::Matches(*filter, entity.metadata));
        if (!matches) {
            return false;
        }
    }
    if (!bound.residual) {
        return true;
    }
    const nlohmann::json metadata =
        nlohmann::json::parse(entity.metadata.empty() ? "{}" : entity.metadata, nullptr, false);
    const auto leaf = [&](const Expr& expr) {
        return EntityConditionLeaf(expr, entity.id, metadata, *params);
    };
    PHENIX_ASSIGN_OR_RETURN(Truth truth, EvalCondition(*bound.residual, leaf));
    return truth.IsTrue();
}

Result<RowCondition> BindRowCondition(const ExecContext& ctx, const std::optional<Expr>& where) {
    RowCondition condition;
    condition.params = &ctx.params;
    if (!where) {
        return condition;
    }
    PHENIX_ASSIGN_OR_RETURN(condition.bound,
                            BindWhere(&*where, ctx.params, {}, /*allow_residual=*/true));
    if (!condition.bound.filter_json.empty()) {
        Result<document::Filter> parsed = document::ParseFilter(condition.bound.filter_json);
        if (!parsed.ok()) {
            return AtPos(where->pos, parsed.status());
        }
        condition.filter = std::move(parsed).value();
    }
    return condition;
}

// Runs an UPDATE or DELETE in the session's transaction or in batches, and words its result.
Result<QueryResult> RunRowStatement(ExecContext& ctx, std::string_view what,
                                    const CollectionRef& ref, const RowCondition& condition,
                                    const RowWriter& write_row) {
    PHENIX_ASSIGN_OR_RETURN(BatchProgress done,
                            ctx.txn != nullptr
                                ? RunInSessionTransaction(ctx, what, ref, condition, write_row)
                                : RunInBatches(ctx, what, ref, condition, write_row));
    std::string message = std::string(what) + " " + std::to_string(done.changed);
    std::string details;
    if (done.batches > 1) {
        details = "committed in " + BatchesText(done.batches);
    }
    if (done.skipped > 0) {
        details += details.empty() ? "" : "; ";
        details += RowsText(done.skipped) +
                   " skipped: deleted or changed by a concurrent writer so that WHERE no longer "
                   "matches";
    }
    if (!details.empty()) {
        message += " (" + details + ")";
    }
    return QueryResult{.message = std::move(message), .affected = done.changed};
}

}  // namespace phenix::query
