// SPDX-License-Identifier: Apache-2.0
//
// The PhenixQL executor's shared pieces: the context every statement runs in (database, open
// transaction, tenant, parameters), constant evaluation of literals and parameters, name
// resolution with "did you mean" suggestions, WHERE -> metadata filter translation, and one
// entry point per statement kind. QuerySession (session.cc) parses and dispatches here.
//
// Files: select.cc (SELECT and EXPLAIN: drives binder.h, logical_plan.h, optimizer.h and
// the operators/ tree), ddl_dml.cc (CREATE, DROP,
// SHOW COLLECTIONS, DESCRIBE, INSERT, UPDATE, DELETE), admin.cc (SHOW INDEXES / TENANTS /
// TIMESTAMP, ANALYZE, REINDEX, VERIFY, CREATE TENANT), show_stats.cc (SHOW STATS),
// table_functions.cc (graph table functions in FROM), row_batches.h (UPDATE / DELETE over their
// rows, in batches outside a transaction), copy.cc (COPY FROM / TO), where.cc (WHERE binding),
// value.cc (QueryValue, constants, errors), expression.h (arithmetic and conditions evaluated per
// row).
//
// Thread-compatible: one context per statement.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/db.h>
#include <phenix/phenixql.h>
#include <phenix/result.h>
#include <phenix/transaction.h>

#include "query/ast.h"

namespace phenix::query {

struct ExecContext {
    Database& db;
    Transaction* txn = nullptr;  // the session's open transaction, or null
    bool txn_read_only = false;
    std::string tenant;
    const QueryParams& params;
    const QueryProgressFn& progress;  // may be empty
    SourcePos statement_pos;          // where the statement starts, for errors without a node
    const std::function<bool()>& interrupted;  // may be empty; true: stop (Cancelled)
    std::size_t memory_limit = SIZE_MAX;       // QuerySession::memory_limit(), in bytes
    RowSink* sink = nullptr;  // set: a SELECT hands its rows here as they come (not in the result)
    bool collect_plan = false;  // QuerySession::collect_plan(): a SELECT returns its plan too
    ExecutionObserver* observer = nullptr;  // QuerySession::execution_observer(): stage timings
    const SecurityAdmin* security_admin = nullptr;  // QuerySession::security_admin(): quotas

    [[nodiscard]] bool Interrupted() const { return interrupted && interrupted(); }

    [[nodiscard]] CollectionRef Ref(std::string_view collection) const {
        return CollectionRef{tenant, std::string(collection)};
    }
};

// --- stage timings for an ExecutionObserver ------------------------------------------------

/// Nanoseconds since the Unix epoch (what ExecutionObserver reports).
std::int64_t UnixNanosNow();

/// Reports one stage to `observer` when it goes out of scope (nothing at all when null).
class StageTimer {
  public:
    StageTimer(ExecutionObserver* observer, std::string_view stage)
        : observer_(observer), stage_(stage), start_(observer != nullptr ? UnixNanosNow() : 0) {}
    ~StageTimer() {
        if (observer_ != nullptr) {
            observer_->OnStage(stage_, start_, UnixNanosNow(), ok_);
        }
    }
    StageTimer(const StageTimer&) = delete;
    StageTimer& operator=(const StageTimer&) = delete;
    /// Marks the stage as having succeeded (the default is failed: an early return).
    void Succeeded() { ok_ = true; }

  private:
    ExecutionObserver* observer_;
    std::string_view stage_;
    std::int64_t start_;
    bool ok_ = false;
};

// --- errors and positions (value.cc) -------------------------------------------------------

/// InvalidArgument "line L, column C: message".
Status ErrorAt(SourcePos pos, std::string_view message);
/// Prefixes a status's message with "line L, column C: " (same code).
Status AtPos(SourcePos pos, const Status& status);
/// The candidate closest to `name` (edit distance <= 2, or a case-insensitive match), if any.
std::optional<std::string> ClosestName(std::string_view name,
                                       const std::vector<std::string>& candidates);

// --- constants ------------------------------------------------------------------------------

/// The value of a literal (null, bool, int, float, string, vector, JSON), a parameter, or
/// arithmetic over them (folded: 60 * 60, -$1; errors such as division by zero are positioned).
/// InvalidArgument at the expression's position for anything else or an unbound parameter.
Result<QueryValue> EvalConstant(const Expr& expr, const QueryParams& params);
/// True when EvalConstant can evaluate the expression (a literal, a parameter, or arithmetic
/// whose operands all are).
bool IsConstant(const Expr& expr);
/// A constant as a float vector (kVector, or a JSON array of numbers); `what` names it in errors.
Result<std::vector<float>> ConstantAsVector(const Expr& expr, const QueryParams& params,
                                            std::string_view what);

// --- names ----------------------------------------------------------------------------------

/// The collection's info; NotFound "line L, column C: collection 'docs' does not exist; did you
/// mean 'doc'?" when it does not.
Result<CollectionInfo> ResolveCollection(const ExecContext& ctx, std::string_view name,
                                         SourcePos pos);

// --- WHERE (where.cc) -----------------------------------------------------------------------

/// A WHERE clause (or the part of one that concerns one pattern variable) as engine requests:
/// a metadata filter in the MongoDB-style JSON of include/phenix/query.h plus an optional set of
/// ids from `id = 'x'` / `id IN (...)` conjuncts.
struct BoundWhere {
    std::string filter_json;                        // empty: no metadata condition
    std::optional<std::vector<std::string>> ids;    // nullopt: any id
    // The conjuncts the filter cannot express (arithmetic over fields, two fields compared,
    // other conditions on id), ANDed, constants folded: evaluated per row with EvalCondition
    // (expression.h) on the rows the filter and ids select; a row is kept when it is TRUE.
    std::optional<Expr> residual;
    // From a conjunct `id LIKE 'abc%'` (also in `residual`): every matching id starts with it,
    // so an id-ordered scan may start there and stop after it. Empty: none.
    std::string id_prefix;
    [[nodiscard]] bool IsEmpty() const { return filter_json.empty() && !ids && !residual; }
};

/// Binds `where` for a single collection. Paths are `id`, `metadata.<path>` (the `metadata.`
/// prefix is required) or, when `variable` is non-empty, `<variable>.id` /
/// `<variable>.metadata.<path>`. Supported: AND, OR, NOT, = != <> < <= > >=, IN, NOT IN,
/// IS [NOT] NULL with constants on one side. Conditions without a field are folded to TRUE,
/// FALSE or UNKNOWN. With `allow_residual`, a conjunct the filter cannot express (see
/// BoundWhere::residual; an OR is taken whole) goes to the residual; without, it is an error.
/// Errors point at the offending expression.
Result<BoundWhere> BindWhere(const Expr* where, const QueryParams& params,
                             std::string_view variable = {}, bool allow_residual = false);

/// One condition (no id terms) as a filter over the fields under `root` ("metadata" for
/// entities, "properties" for edges), qualified by `variable` when it is non-empty.
Result<std::string> BindFilter(const Expr& expr, const QueryParams& params,
                               std::string_view variable, std::string_view root);

/// The conjuncts of an AND tree (a single expression is one conjunct).
std::vector<const Expr*> SplitConjuncts(const Expr& expr);
/// The first path component's variable when the path has one from `variables` (a.id -> "a"),
/// else empty. Used to assign MATCH conjuncts to pattern variables.
std::string ExprVariable(const Expr& expr, const std::vector<std::string>& variables);

// --- statements -----------------------------------------------------------------------------

Result<QueryResult> ExecuteSelect(ExecContext& ctx, const SelectStmt& stmt, ExplainMode mode);

// ddl_dml.cc
Result<QueryResult> ExecuteCreateCollection(ExecContext& ctx, const CreateCollectionStmt& stmt);
Result<QueryResult> ExecuteDropCollection(ExecContext& ctx, const DropCollectionStmt& stmt);
Result<QueryResult> ExecuteIndex(ExecContext& ctx, const IndexStmt& stmt);
Result<QueryResult> ExecuteShowCollections(ExecContext& ctx);
Result<QueryResult> ExecuteDescribe(ExecContext& ctx, const DescribeStmt& stmt);
Result<QueryResult> ExecuteInsert(ExecContext& ctx, const InsertStmt& stmt);
Result<QueryResult> ExecuteUpdate(ExecContext& ctx, const UpdateStmt& stmt);
Result<QueryResult> ExecuteDelete(ExecContext& ctx, const DeleteStmt& stmt);

// admin.cc
Result<QueryResult> ExecuteShow(ExecContext& ctx, const ShowStmt& stmt);
// show_stats.cc: SHOW STATS [FOR coll], SHOW DATABASE STATS (Database::Stats as rows).
Result<QueryResult> ExecuteShowStats(ExecContext& ctx, const ShowStmt& stmt);
/// ANALYZE, REINDEX (progress through ctx.progress), VERIFY.
Result<QueryResult> ExecuteMaintenance(ExecContext& ctx, const MaintenanceStmt& stmt);
Result<QueryResult> ExecuteCreateTenant(ExecContext& ctx, const TenantStmt& stmt);
/// NotFound (with "did you mean") unless the tenant USE TENANT names exists.
Status CheckTenantExists(const ExecContext& ctx, const TenantStmt& stmt);

// table_functions.cc
/// SELECT ... FROM shortest_path(...) / paths / traverse / neighbors / degree / edges: runs the
/// graph call on the open transaction (or the database) and applies the select list, LIMIT and
/// OFFSET; other clauses are InvalidArgument. stmt.table_function must be set.
Result<QueryResult> ExecuteTableFunction(ExecContext& ctx, const SelectStmt& stmt,
                                         ExplainMode mode);

// copy.cc
/// `copy_directory`: QuerySession::copy_directory() (empty: paths are used as given).
Result<QueryResult> ExecuteCopy(ExecContext& ctx, const CopyStmt& stmt,
                                std::string_view copy_directory);
/// Loads the JSON lines of `source` into `collection` as COPY FROM does (QuerySession::CopyFrom).
CopyReport ExecuteCopyFrom(ExecContext& ctx, std::string_view collection, ByteSource& source,
                           bool skip_errors, std::string_view source_name);

}  // namespace phenix::query
