// SPDX-License-Identifier: Apache-2.0
//
// UPDATE and DELETE over any number of rows (ddl_dml.cc decides what a statement does to one
// row; this runs it over the rows WHERE chooses). Inside the session's transaction a statement
// is one atomic write that must fit the transaction. Outside one (autocommit), the rows
// matching WHERE are chosen in one snapshot taken at the start and changed in batches, each
// batch its own transaction: not atomic beyond one batch, and the result, a failure and ^C
// all say how many rows the committed batches changed. docs/decisions/0008-batched-dml.md.
//
// Thread-compatible: one statement at a time.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <phenix/result.h>
#include <phenix/transaction.h>
#include <phenix/write_batch.h>

#include "document/filter.h"
#include "query/exec.h"

namespace phenix::query {

// The WHERE of an UPDATE / DELETE, bound once: the engine filter and id list, and the filter
// parsed again to re-check a row's current version (autocommit batches, below). Terms the
// filter cannot express (arithmetic over fields, ...: BoundWhere::residual) are evaluated on
// each row.
struct RowCondition {
    BoundWhere bound;
    std::optional<document::Filter> filter;  // set when bound.filter_json is non-empty
    const QueryParams* params = nullptr;     // the statement's, for the residual's parameters

    // Whether a row must be read to know that it matches (a filter or a residual).
    [[nodiscard]] bool ChecksRows() const { return filter.has_value() || bound.residual; }

    // Whether the entity satisfies the filter and the residual (ids are checked by
    // MatchingRows).
    [[nodiscard]] Result<bool> Matches(const Entity& entity) const;
};

// Binds an UPDATE's or DELETE's WHERE (none: every row). InvalidArgument at the offending
// expression.
Result<RowCondition> BindRowCondition(const ExecContext& ctx, const std::optional<Expr>& where);

// How a RowWriter treats the row it is given.
enum class RowCheck {
    // The row was chosen in the writing transaction's own snapshot: it exists and matches.
    kNone,
    // Chosen in an earlier snapshot: like kFull, except that a statement that need not read the
    // row (no WHERE filter, a change that needs no read) writes it blindly. Such a write fails
    // with NotFound when the row is gone, and the caller redoes it with kFull.
    kIfNeeded,
    // Chosen in an earlier snapshot: the row is read, and skipped when it is gone or no longer
    // matches WHERE.
    kFull,
};

// Writes what an UPDATE or DELETE does to the row `id` into `batch`, reading the row through
// `txn` when it must. Returns false when the row is skipped (RowCheck).
using RowWriter = std::function<Result<bool>(Transaction& txn, const std::string& id,
                                             RowCheck check, WriteBatch& batch)>;

// Runs `write_row` over the rows matching `condition` in `ref`: in ctx.txn when the session has
// a transaction, else in batches. The result's message is "<what> <rows changed>", followed
// by "(committed in N batches; M rows skipped: ...)" when there was more than one batch or a
// row was skipped. Errors: ResourceExhausted (inside a transaction: more than
// limits::kMaxBatchOps rows or Options::max_transaction_bytes; nothing applied); Aborted (a
// batch conflicted kMaxStatementAttempts times); Cancelled (ctx.Interrupted()); the engine's
// errors. Outside a transaction an error after the first batch says what was committed.
Result<QueryResult> RunRowStatement(ExecContext& ctx, std::string_view what,
                                    const CollectionRef& ref, const RowCondition& condition,
                                    const RowWriter& write_row);

}  // namespace phenix::query
