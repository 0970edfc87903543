// SPDX-License-Identifier: Apache-2.0
//
// QuerySession: parse, then dispatch each statement kind to its executor (exec.h), and the
// session's transaction.
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <phenix/phenixql.h>

#include "query/exec.h"
#include "query/json_query.h"
#include "query/parser.h"

namespace phenix {

std::string_view StatementKindName(StatementKind kind) {
    switch (kind) {
        case StatementKind::kSelect:
            return "select";
        case StatementKind::kCreateCollection:
            return "create_collection";
        case StatementKind::kDropCollection:
            return "drop_collection";
        case StatementKind::kCreateIndex:
            return "create_index";
        case StatementKind::kDropIndex:
            return "drop_index";
        case StatementKind::kShowCollections:
            return "show_collections";
        case StatementKind::kDescribe:
            return "describe";
        case StatementKind::kInsert:
            return "insert";
        case StatementKind::kUpdate:
            return "update";
        case StatementKind::kDelete:
            return "delete";
        case StatementKind::kBegin:
            return "begin";
        case StatementKind::kCommit:
            return "commit";
        case StatementKind::kRollback:
            return "rollback";
        case StatementKind::kCopyFrom:
            return "copy_from";
        case StatementKind::kCopyTo:
            return "copy_to";
        case StatementKind::kShowIndexes:
            return "show_indexes";
        case StatementKind::kShowTenants:
            return "show_tenants";
        case StatementKind::kShowTimestamp:
            return "show_timestamp";
        case StatementKind::kAnalyze:
            return "analyze";
        case StatementKind::kReindex:
            return "reindex";
        case StatementKind::kVerify:
            return "verify";
        case StatementKind::kCreateTenant:
            return "create_tenant";
        case StatementKind::kUseTenant:
            return "use_tenant";
        case StatementKind::kSecurityAdmin:
            return "security_admin";
        case StatementKind::kDropTenant:
            return "drop_tenant";
        case StatementKind::kAlterTenant:
            return "alter_tenant";
        case StatementKind::kShowStats:
            return "show_stats";
        case StatementKind::kRotateTenantKey:
            return "rotate_tenant_key";
        case StatementKind::kShowKeyRotation:
            return "show_key_rotation";
    }
    return "unknown";
}

QuerySession::QuerySession(Database& db, std::string tenant)
    : db_(db), tenant_(std::move(tenant)) {}

QuerySession::~QuerySession() {
    if (txn_ != nullptr) {
        (void)txn_->Rollback();
    }
}

Status QuerySession::Begin(const TransactionOptions& options) {
    if (txn_ != nullptr) {
        return Status::FailedPrecondition(
            "a transaction is already open; COMMIT or ROLLBACK it first");
    }
    PHENIX_ASSIGN_OR_RETURN(txn_, db_.BeginTransaction(options));
    txn_read_only_ = options.read_only;
    return Status::Ok();
}

Result<Timestamp> QuerySession::Commit() {
    if (txn_ == nullptr) {
        return Status::FailedPrecondition("no transaction is open (BEGIN starts one)");
    }
    std::unique_ptr<Transaction> txn = std::move(txn_);
    query::StageTimer stage(execution_observer_, "commit");
    Result<Timestamp> committed = txn->Commit();
    if (committed.ok()) {
        stage.Succeeded();
    }
    return committed;
}

Status QuerySession::Rollback() {
    if (txn_ == nullptr) {
        return Status::FailedPrecondition("no transaction is open (BEGIN starts one)");
    }
    std::unique_ptr<Transaction> txn = std::move(txn_);
    return txn->Rollback();
}

namespace {

// Statements that change the catalog run outside transactions (the catalog is not
// transactional).
Status RefuseInTransaction(const Transaction* txn, std::string_view what) {
    if (txn == nullptr) {
        return Status::Ok();
    }
    return Status::FailedPrecondition(
        std::string(what) +
        " cannot run inside a transaction (catalog changes are not transactional); COMMIT or "
        "ROLLBACK first");
}

// ALTER TENANT t ROTATE KEY and SHOW KEY ROTATION FOR TENANT t: one row.
QueryResult KeyRotationResult(const KeyRotationInfo& info) {
    QueryResult result{
        .has_rows = true,
        .columns = {"tenant", "state", "from_generation", "to_generation", "payloads_total",
                    "payloads_checked", "payloads_reencrypted", "last_error", "last_error_at"}};
    auto count = [](std::uint64_t value) {
        return QueryValue::Int(static_cast<std::int64_t>(value));
    };
    auto text_or_null = [](const std::string& text) {
        return text.empty() ? QueryValue::Null() : QueryValue::String(text);
    };
    result.rows.push_back({QueryValue::String(info.tenant), QueryValue::String(info.state),
                           count(info.from_generation), count(info.to_generation),
                           count(info.num_total), count(info.num_checked),
                           count(info.num_reencrypted), text_or_null(info.last_error),
                           text_or_null(info.last_error_at)});
    return result;
}

}  // namespace

namespace query {
namespace {

struct Dispatcher {
    QuerySession& session;
    ExecContext& ctx;
    ExplainMode explain;

    Result<QueryResult> NoExplain(std::string_view what) const {
        return ErrorAt(ctx.statement_pos,
                       "EXPLAIN applies to SELECT only, not to " + std::string(what));
    }

    Result<QueryResult> operator()(const SelectStmt& stmt) {
        // Table functions run apart from the SELECT planner (table_functions.cc).
        if (stmt.table_function.has_value()) {
            return ExecuteTableFunction(ctx, stmt, explain);
        }
        return ExecuteSelect(ctx, stmt, explain);
    }
    Result<QueryResult> operator()(const ShowStmt& stmt) { return ExecuteShow(ctx, stmt); }
    Result<QueryResult> operator()(const MaintenanceStmt& stmt) {
        if (stmt.action == MaintenanceAction::kReindex) {
            PHENIX_RETURN_IF_ERROR(RefuseInTransaction(ctx.txn, "REINDEX"));
        }
        return ExecuteMaintenance(ctx, stmt);
    }
    Result<QueryResult> operator()(const TenantStmt& stmt) {
        if (!stmt.is_use) {
            PHENIX_RETURN_IF_ERROR(RefuseInTransaction(ctx.txn, "CREATE TENANT"));
            return ExecuteCreateTenant(ctx, stmt);
        }
        PHENIX_RETURN_IF_ERROR(CheckTenantExists(ctx, stmt));
        session.set_tenant(stmt.name);
        return QueryResult{.message = "USE TENANT " + stmt.name};
    }
    Result<QueryResult> operator()(const SecurityStmt& stmt) {
        PHENIX_RETURN_IF_ERROR(RefuseInTransaction(ctx.txn, "security administration"));
        const std::shared_ptr<SecurityAdmin>& admin = session.security_admin();
        // Data-key rotation is the database's (keys of encryption at rest), with or without a
        // security catalog.
        if (stmt.statement.kind == SecurityStatement::Kind::kRotateKey) {
            PHENIX_ASSIGN_OR_RETURN(KeyRotationInfo info,
                                    ctx.db.RotateTenantKey(stmt.statement.tenant));
            return KeyRotationResult(info);
        }
        if (stmt.statement.kind == SecurityStatement::Kind::kShowKeyRotation) {
            PHENIX_ASSIGN_OR_RETURN(KeyRotationInfo info,
                                    ctx.db.GetKeyRotation(stmt.statement.tenant));
            return KeyRotationResult(info);
        }
        if (admin == nullptr && stmt.statement.kind == SecurityStatement::Kind::kDropTenant) {
            PHENIX_RETURN_IF_ERROR(ctx.db.DropTenant(stmt.statement.tenant));
            return QueryResult{.message = "DROP TENANT " + stmt.statement.tenant};
        }
        if (admin == nullptr && stmt.statement.kind == SecurityStatement::Kind::kSetQuota) {
            return Status::FailedPrecondition(
                "tenant quotas are set and enforced by phenixd (the embedded database has no "
                "security catalog, so no quotas: SHOW TENANTS shows none): connect with "
                "`phenix --url` as a cluster administrator");
        }
        if (admin == nullptr) {
            return Status::FailedPrecondition(
                "roles, grants and API keys are administered on phenixd (the embedded database "
                "has no security catalog): connect with `phenix --url`");
        }
        return admin->Execute(session.tenant(), stmt.statement);
    }
    Result<QueryResult> operator()(const CreateCollectionStmt& stmt) {
        PHENIX_RETURN_IF_ERROR(RefuseInTransaction(ctx.txn, "CREATE COLLECTION"));
        return ExecuteCreateCollection(ctx, stmt);
    }
    Result<QueryResult> operator()(const IndexStmt& stmt) {
        PHENIX_RETURN_IF_ERROR(
            RefuseInTransaction(ctx.txn, stmt.is_drop ? "DROP INDEX" : "CREATE INDEX"));
        return ExecuteIndex(ctx, stmt);
    }
    Result<QueryResult> operator()(const DropCollectionStmt& stmt) {
        PHENIX_RETURN_IF_ERROR(RefuseInTransaction(ctx.txn, "DROP COLLECTION"));
        return ExecuteDropCollection(ctx, stmt);
    }
    Result<QueryResult> operator()(const ShowCollectionsStmt&) { return ExecuteShowCollections(ctx); }
    Result<QueryResult> operator()(const DescribeStmt& stmt) { return ExecuteDescribe(ctx, stmt); }
    Result<QueryResult> operator()(const InsertStmt& stmt) { return ExecuteInsert(ctx, stmt); }
    Result<QueryResult> operator()(const UpdateStmt& stmt) { return ExecuteUpdate(ctx, stmt); }
    Result<QueryResult> operator()(const DeleteStmt& stmt) { return ExecuteDelete(ctx, stmt); }
    Result<QueryResult> operator()(const CopyStmt& stmt) {
        PHENIX_RETURN_IF_ERROR(RefuseInTransaction(ctx.txn, "COPY"));
        return ExecuteCopy(ctx, stmt, session.copy_directory());
    }
    Result<QueryResult> operator()(const TxnStmt& stmt) {
        QueryResult result;
        switch (stmt.action) {
            case TxnAction::kBegin: {
                TransactionOptions options{.read_only = stmt.read_only};
                if (stmt.as_of.has_value()) {
                    PHENIX_ASSIGN_OR_RETURN(QueryValue ts, EvalConstant(*stmt.as_of, ctx.params));
                    if (ts.type != QueryValue::Type::kInt || ts.int_value < 0) {
                        return ErrorAt(stmt.as_of->pos,
                                       "AS OF takes a commit timestamp (SHOW TIMESTAMP prints the "
                                       "current one), not " +
                                           ts.ToJson());
                    }
                    options.as_of = static_cast<Timestamp>(ts.int_value);
                }
                PHENIX_RETURN_IF_ERROR(session.Begin(options));
                result.message = "BEGIN";
                if (stmt.read_only) {
                    result.message += " READ ONLY (snapshot " +
                                      std::to_string(session.transaction()->read_timestamp()) + ")";
                }
                break;
            }
            case TxnAction::kCommit: {
                PHENIX_ASSIGN_OR_RETURN(Timestamp ts, session.Commit());
                result.message = "COMMIT " + std::to_string(ts);
                break;
            }
            case TxnAction::kRollback:
                PHENIX_RETURN_IF_ERROR(session.Rollback());
                result.message = "ROLLBACK";
                break;
        }
        return result;
    }
};

// What a statement touches (StatementAccess), for the session's guard. A visitor with one
// overload per statement type and no catch-all: a new statement type does not compile until it
// says what it touches.
struct AccessOf {
    const std::string& tenant;

    StatementAccess Make(StatementKind kind, std::vector<std::string> collections = {}) const {
        return StatementAccess{
            .kind = kind, .tenant = tenant, .collections = std::move(collections)};
    }
    StatementAccess operator()(const SelectStmt& stmt) const {
        std::vector<std::string> collections;
        if (!stmt.collection.empty()) {
            collections.push_back(stmt.collection);
        }
        if (stmt.match.has_value()) {
            for (const NodePattern& node : stmt.match->nodes) {
                if (!node.collection.empty()) {
                    collections.push_back(node.collection);
                }
            }
        }
        return Make(StatementKind::kSelect, std::move(collections));
    }
    StatementAccess operator()(const CreateCollectionStmt& stmt) const {
        return Make(StatementKind::kCreateCollection, {stmt.name});
    }
    StatementAccess operator()(const IndexStmt& stmt) const {
        return Make(stmt.is_drop ? StatementKind::kDropIndex : StatementKind::kCreateIndex,
                    {stmt.collection});
    }
    StatementAccess operator()(const DropCollectionStmt& stmt) const {
        return Make(StatementKind::kDropCollection, {stmt.name});
    }
    StatementAccess operator()(const ShowCollectionsStmt&) const {
        return Make(StatementKind::kShowCollections);
    }
    StatementAccess operator()(const DescribeStmt& stmt) const {
        return Make(StatementKind::kDescribe, {stmt.collection});
    }
    StatementAccess operator()(const InsertStmt& stmt) const {
        StatementAccess access = Make(StatementKind::kInsert, {stmt.collection});
        access.adds_entities = std::max<std::uint64_t>(stmt.rows.size(), 1);
        return access;
    }
    StatementAccess operator()(const UpdateStmt& stmt) const {
        return Make(StatementKind::kUpdate, {stmt.collection});
    }
    StatementAccess operator()(const DeleteStmt& stmt) const {
        return Make(StatementKind::kDelete, {stmt.collection});
    }
    StatementAccess operator()(const TxnStmt& stmt) const {
        switch (stmt.action) {
            case TxnAction::kBegin:
                return Make(StatementKind::kBegin);
            case TxnAction::kCommit:
                return Make(StatementKind::kCommit);
            case TxnAction::kRollback:
                return Make(StatementKind::kRollback);
        }
        return Make(StatementKind::kRollback);
    }
    StatementAccess operator()(const CopyStmt& stmt) const {
        StatementAccess access = Make(
            stmt.is_export ? StatementKind::kCopyTo : StatementKind::kCopyFrom, {stmt.collection});
        access.adds_entities = stmt.is_export ? 0 : 1;
        return access;
    }
    StatementAccess operator()(const ShowStmt& stmt) const {
        switch (stmt.what) {
            case ShowWhat::kIndexes:
                return stmt.collection.empty()
                           ? Make(StatementKind::kShowIndexes)
                           : Make(StatementKind::kShowIndexes, {stmt.collection});
            case ShowWhat::kTenants: {
                StatementAccess access = Make(StatementKind::kShowTenants);
                access.all_tenants = true;
                return access;
            }
            case ShowWhat::kTimestamp:
                return Make(StatementKind::kShowTimestamp);
            case ShowWhat::kStats: {
                StatementAccess access = stmt.collection.empty()
                                             ? Make(StatementKind::kShowStats)
                                             : Make(StatementKind::kShowStats, {stmt.collection});
                // The engine's figures and every tenant's collections: cluster administration.
                access.all_tenants = stmt.whole_database;
                return access;
            }
        }
        return Make(StatementKind::kShowTenants);
    }
    StatementAccess operator()(const MaintenanceStmt& stmt) const {
        std::vector<std::string> collections;
        if (!stmt.collection.empty()) {
            collections.push_back(stmt.collection);
        }
        switch (stmt.action) {
            case MaintenanceAction::kAnalyze:
                return Make(StatementKind::kAnalyze, std::move(collections));
            case MaintenanceAction::kReindex:
                return Make(StatementKind::kReindex, std::move(collections));
            case MaintenanceAction::kVerify: {
                // VERIFY (it takes no collection) checks every tenant's derived state.
                StatementAccess access = Make(StatementKind::kVerify);
                access.all_tenants = true;
                return access;
            }
        }
        return Make(StatementKind::kVerify);
    }
    StatementAccess operator()(const TenantStmt& stmt) const {
        StatementAccess access{
            .kind = stmt.is_use ? StatementKind::kUseTenant : StatementKind::kCreateTenant,
            .tenant = stmt.name};
        return access;
    }
    StatementAccess operator()(const SecurityStmt& stmt) const {
        const SecurityStatement& security = stmt.statement;
        if (security.kind == SecurityStatement::Kind::kSetQuota) {
            return StatementAccess{.kind = StatementKind::kAlterTenant,
                                   .tenant = security.tenant,
                                   .target = "tenant/" + security.tenant};
        }
        if (security.kind == SecurityStatement::Kind::kRotateKey ||
            security.kind == SecurityStatement::Kind::kShowKeyRotation) {
            return StatementAccess{.kind = security.kind == SecurityStatement::Kind::kRotateKey
                                               ? StatementKind::kRotateTenantKey
                                               : StatementKind::kShowKeyRotation,
                                   .tenant = security.tenant,
                                   .target = "tenant/" + security.tenant};
        }
        if (security.kind == SecurityStatement::Kind::kDropTenant) {
            return StatementAccess{.kind = StatementKind::kDropTenant,
                                   .tenant = security.tenant,
                                   .target = "tenant/" + security.tenant};
        }
        StatementAccess access = Make(StatementKind::kSecurityAdmin);
        if (!security.role.empty()) {
            access.target = "role/" + security.role;
        } else if (!security.key_id.empty()) {
            access.target = "key/" + security.key_id;
        } else if (!security.roles.empty()) {
            // CREATE API KEY: the key's id does not exist before it runs; its roles name it.
            access.target = "key for roles/";
            for (std::size_t idx = 0; idx < security.roles.size(); ++idx) {
                access.target += (idx == 0 ? "" : ",") + security.roles[idx];
            }
        }
        return access;
    }
};

bool IsSelect(const Statement& statement) {
    return std::holds_alternative<SelectStmt>(statement.body);
}

}  // namespace
}  // namespace query

namespace {

Result<QueryResult> RunStatement(QuerySession& session, const query::Statement& statement,
                                 const QueryParams& params, RowSink* sink = nullptr) {
    query::ExecContext ctx{session.db(),
                           session.transaction(),
                           session.transaction_read_only(),
                           session.tenant(),
                           params,
                           session.progress(),
                           statement.pos,
                           session.interrupt(),
                           session.memory_limit()};
    ctx.security_admin = session.security_admin().get();
    if (statement.explain != query::ExplainMode::kNone && !query::IsSelect(statement)) {
        return query::ErrorAt(statement.pos, "EXPLAIN applies to SELECT statements only");
    }
    if (const StatementGuard& guard = session.statement_guard()) {
        PHENIX_RETURN_IF_ERROR(
            guard(std::visit(query::AccessOf{session.tenant()}, statement.body)));
    }
    // A SELECT streams its rows into the sink as its plan produces them; other statements'
    // rows (SHOW, DESCRIBE, EXPLAIN's plan, a table function's) are handed over when they end.
    const bool streams = sink != nullptr && query::IsSelect(statement) &&
                         !std::get<query::SelectStmt>(statement.body).table_function &&
                         statement.explain == query::ExplainMode::kNone;
    if (streams) {
        ctx.sink = sink;
    }
    ExecutionObserver* const execution_observer = session.execution_observer();
    ctx.observer = execution_observer;
    ctx.collect_plan = session.collect_plan();
    query::Dispatcher dispatcher{session, ctx, statement.explain};
    const auto start = std::chrono::steady_clock::now();
    const bool timed_inside =
        query::IsSelect(statement) && !std::get<query::SelectStmt>(statement.body).table_function;
    std::optional<query::StageTimer> stage;
    if (!timed_inside) {  // a SELECT reports bind, plan and execute itself (select.cc)
        stage.emplace(execution_observer, "execute");
    }
    Result<QueryResult> ran = std::visit(dispatcher, statement.body);
    if (stage.has_value() && ran.ok()) {
        stage->Succeeded();
    }
    stage.reset();
    if (execution_observer != nullptr && ran.ok() && ran->plan.has_value() &&
        statement.explain == query::ExplainMode::kNone) {
        execution_observer->OnPlan(*ran->plan, ran->plan_strategy);
        if (!session.collect_plan()) {
            ran->plan.reset();
        }
    }
    if (ran.ok() && ran->plan_strategy.empty() && query::IsSelect(statement)) {
        ran->plan_strategy = "table_function";  // the graph table functions: no planner
    }
    if (const auto& observer = session.statement_observer()) {
        observer(ran.ok() ? std::string_view(ran->plan_strategy) : std::string_view(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                 ran.ok());
    }
    PHENIX_ASSIGN_OR_RETURN(QueryResult result, std::move(ran));
    if (sink != nullptr && !streams && result.has_rows) {
        PHENIX_RETURN_IF_ERROR(sink->OnColumns(result.columns));
        if (!result.rows.empty()) {
            PHENIX_RETURN_IF_ERROR(sink->OnRows(std::move(result.rows)));
            result.rows.clear();
        }
    }
    return result;
}

}  // namespace

namespace {

Result<query::Statement> ParseObserved(ExecutionObserver* observer, std::string_view statement) {
    query::StageTimer stage(observer, "parse");
    Result<query::Statement> parsed = query::ParseStatement(statement);
    if (parsed.ok()) {
        stage.Succeeded();
    }
    return parsed;
}

}  // namespace

Result<QueryResult> QuerySession::Execute(std::string_view statement, const QueryParams& params) {
    PHENIX_ASSIGN_OR_RETURN(query::Statement parsed, ParseObserved(execution_observer_, statement));
    return RunStatement(*this, parsed, params);
}

Result<QueryResult> QuerySession::Execute(std::string_view statement, RowSink& sink,
                                          const QueryParams& params) {
    PHENIX_ASSIGN_OR_RETURN(query::Statement parsed, ParseObserved(execution_observer_, statement));
    return RunStatement(*this, parsed, params, &sink);
}

CopyReport QuerySession::CopyFrom(std::string_view collection, ByteSource& source, bool skip_errors,
                                  std::string_view source_name) {
    const QueryParams no_params;
    query::ExecContext ctx{db(),     transaction(), transaction_read_only(),
                           tenant(), no_params,     progress(),
                           {},       interrupt(),   memory_limit()};
    ctx.observer = execution_observer_;
    if (ctx.txn != nullptr) {
        // As COPY: a load may be far larger than a transaction may buffer.
        CopyReport report;
        report.status = Status::FailedPrecondition(
            "an import (COPY) cannot run inside a transaction; COMMIT or ROLLBACK first");
        report.message = report.status.message();
        return report;
    }
    return query::ExecuteCopyFrom(ctx, collection, source, skip_errors, source_name);
}

Result<QueryResult> QuerySession::ExecuteJson(std::string_view json_query) {
    PHENIX_ASSIGN_OR_RETURN(query::Statement parsed, query::ParseJsonQuery(json_query));
    Result<QueryResult> result = RunStatement(*this, parsed, {});
    if (!result.ok()) {
        return query::WithJsonFieldPaths(parsed, result.status());
    }
    return result;
}

std::vector<std::string> QuerySession::SplitStatements(std::string_view script, bool* incomplete) {
    std::vector<std::string> out;
    std::string current;
    int json_depth = 0;  // inside {...}: JSON strings use backslash escapes
    std::size_t pos = 0;
    auto flush = [&] {
        // Skip statements that are only whitespace and comments.
        bool has_text = false;
        for (std::size_t idx = 0; idx < current.size(); ++idx) {
            const char c = current[idx];
            if (c == '-' && idx + 1 < current.size() && current[idx + 1] == '-') {
                while (idx < current.size() && current[idx] != '\n') {
                    ++idx;
                }
                continue;
            }
            if (c == '/' && idx + 1 < current.size() && current[idx + 1] == '*') {
                const std::size_t end = current.find("*/", idx + 2);
                if (end == std::string::npos) {
                    has_text = true;  // an unterminated comment is the parser's to report
                    break;
                }
                idx = end + 1;
                continue;
            }
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ';') {
                has_text = true;
                break;
            }
        }
        if (has_text) {
            const std::size_t first = current.find_first_not_of(" \t\r\n");
            out.push_back(current.substr(first));
        }
        current.clear();
    };
    while (pos < script.size()) {
        const char c = script[pos];
        if (c == '\'' || c == '"') {
            // A string ('' escapes), a quoted name ("" escapes), or a JSON string (\ escapes).
            const bool backslash = json_depth > 0 && c == '"';
            std::size_t end = pos + 1;
            while (end < script.size()) {
                if (backslash && script[end] == '\\') {
                    end += 2;
                    continue;
                }
                if (script[end] == c) {
                    if (!backslash && end + 1 < script.size() && script[end + 1] == c) {
                        end += 2;
                        continue;
                    }
                    break;
                }
                ++end;
            }
            const std::size_t stop = std::min(end + 1, script.size());
            current.append(script.substr(pos, stop - pos));
            pos = stop;
            continue;
        }
        if (json_depth == 0 && c == '-' && pos + 1 < script.size() && script[pos + 1] == '-') {
            const std::size_t end = script.find('\n', pos);
            const std::size_t stop = end == std::string_view::npos ? script.size() : end;
            current.append(script.substr(pos, stop - pos));
            pos = stop;
            continue;
        }
        if (json_depth == 0 && c == '/' && pos + 1 < script.size() && script[pos + 1] == '*') {
            const std::size_t end = script.find("*/", pos + 2);
            const std::size_t stop = end == std::string_view::npos ? script.size() : end + 2;
            current.append(script.substr(pos, stop - pos));
            pos = stop;
            continue;
        }
        if (c == '{') {
            ++json_depth;
        } else if (c == '}' && json_depth > 0) {
            --json_depth;
        }
        if (c == ';' && json_depth == 0) {
            current.push_back(c);
            flush();
            ++pos;
            continue;
        }
        current.push_back(c);
        ++pos;
    }
    // What is left without a final ';'.
    const std::size_t before = out.size();
    flush();
    if (incomplete != nullptr) {
        *incomplete = out.size() > before;
    }
    return out;
}

}  // namespace phenix
