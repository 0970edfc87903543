// SPDX-License-Identifier: Apache-2.0
//
// PhenixQL — the query language of Phenix DB (docs/query-language.md) and its JSON form.
//
// A QuerySession runs statements against an open Database: it parses, binds (names and types
// against the catalog), plans (chooses vector-first, filter-first or graph-first from the
// metadata index statistics) and executes, and keeps the session state: the tenant and the open
// transaction (BEGIN ... COMMIT). Results are values: a table of typed cells, or a message for
// statements that return no rows.
//
//   phenix::QuerySession session(*db);
//   auto result = session.Execute(
//       "SELECT id, vector <=> [0.1, 0.2, 0.3, 0.4] AS distance FROM docs "
//       "WHERE metadata.category = 'tech' ORDER BY distance LIMIT 10");
//
// Thread-compatible: one session per thread (sessions on one Database may run concurrently).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <phenix/db.h>
#include <phenix/result.h>
#include <phenix/status.h>
#include <phenix/transaction.h>

namespace phenix {

/// One cell of a result, or one parameter value.
struct QueryValue {
    enum class Type : std::uint8_t { kNull, kBool, kInt, kFloat, kString, kVector, kJson };

    Type type = Type::kNull;
    bool bool_value = false;
    std::int64_t int_value = 0;
    double float_value = 0;
    std::string text;           ///< kString: the string; kJson: JSON text (object or array)
    std::vector<float> vector;  ///< kVector

    static QueryValue Null() { return {}; }
    static QueryValue Bool(bool value);
    static QueryValue Int(std::int64_t value);
    static QueryValue Float(double value);
    static QueryValue String(std::string value);
    static QueryValue Vector(std::vector<float> value);
    static QueryValue Json(std::string json_text);
    /// Any JSON text: null/true/false/numbers/strings become scalars, objects and arrays kJson.
    static Result<QueryValue> FromJson(std::string_view json_text);

    /// The value as JSON text (strings quoted and escaped, vectors as arrays).
    [[nodiscard]] std::string ToJson() const;
    /// The value for people (tables, CSV): strings unquoted, NULL as "NULL".
    [[nodiscard]] std::string ToText() const;

    friend bool operator==(const QueryValue&, const QueryValue&) = default;
};

/// Parameters by name: "1" for $1, "name" for $name.
using QueryParams = std::map<std::string, QueryValue, std::less<>>;

/// One operator of a SELECT's plan: the structured form EXPLAIN [ANALYZE] prints its text from
/// (docs/query-language.md "EXPLAIN").
struct QueryPlanNode {
    /// What runs (or ran): "VectorFirst docs [in_graph]", "TopK 10", "IndexFilter docs".
    std::string label;
    /// The access strategy of a source operator (see QueryResult::plan_strategy); empty for the
    /// others (sort, limit, project...).
    std::string strategy;
    /// The lines EXPLAIN prints under the label (filters, costs, choices and why).
    std::vector<std::string> details;
    double estimated_rows = -1;  ///< < 0: unknown
    /// Run figures (EXPLAIN ANALYZE, or a plan collected after running): whether the operator
    /// ran on its own, its rows, and its time with and without its children's.
    bool has_run = false;
    std::uint64_t actual_rows = 0;
    double total_millis = 0;
    double self_millis = 0;
    /// For an operator that did not run on its own: why ("not run", "done inside its parent").
    std::string not_run;
    /// Run figures by name, for tracing (phenixd's operator spans, docs/observability.md): a
    /// vector search's "ef", "distance_computations", "filter_rows", "selectivity"; a graph
    /// expansion's "min_hops", "max_hops", "edges_examined", "reached". Empty for the others.
    std::vector<std::pair<std::string, double>> figures;
    std::vector<QueryPlanNode> children;
};

struct QueryPlan {
    QueryPlanNode root;
    /// Run figures are present (EXPLAIN ANALYZE, or QuerySession::set_collect_plan).
    bool analyzed = false;
    double execution_millis = 0;  ///< when analyzed
    /// The lines EXPLAIN [ANALYZE] prints, rendered from `root`.
    [[nodiscard]] std::vector<std::string> Text() const;
};

struct QueryResult {
    /// True for statements that return rows (SELECT, SHOW, DESCRIBE, EXPLAIN), even zero rows.
    bool has_rows = false;
    std::vector<std::string> columns;
    std::vector<std::vector<QueryValue>> rows;
    /// A one-line summary for statements without rows: "INSERT 2", "CREATE COLLECTION", "BEGIN",
    /// "COPY 200000 (3 lines skipped)".
    std::string message;
    /// Entities written by INSERT / UPDATE / DELETE / COPY.
    std::uint64_t affected = 0;
    /// A SELECT's access strategy (also under EXPLAIN, and with a RowSink): how its rows were
    /// found, from the plan that ran — "vector_index" (HNSW, no filter), "filtered_graph" (HNSW
    /// with the filter applied in the graph walk), "post_filter", "exact_scan" (the filter's
    /// rows ranked exactly), "graph_first" / "graph_vector_first" (a MATCH ranked by distance),
    /// "graph_expand", "metadata_index", "filtered_scan", "full_scan", "id_lookup",
    /// "id_range_scan", "count", "table_function". Empty for other statements.
    std::string plan_strategy;
    /// The plan, structured: for EXPLAIN and EXPLAIN ANALYZE, and for every SELECT (with its
    /// run figures, as EXPLAIN ANALYZE shows them) while QuerySession::collect_plan() is set.
    std::optional<QueryPlan> plan;
};

/// Progress of long statements (COPY, CREATE INDEX, UPDATE, DELETE): a short line such as
/// "COPY docs: 120000 lines, 118000 entities, 52000/s".
using QueryProgressFn = std::function<void(std::string_view line)>;

/// Receives a statement's rows as they are produced (QuerySession::Execute with a sink), so a
/// caller can print or send them (gRPC streams, HTTP chunks) before the statement ends and
/// without holding the whole result. Calls come on the thread running Execute, in order:
/// OnColumns once, then OnRows zero or more times, each with one or more rows in result order.
class RowSink {
  public:
    virtual ~RowSink() = default;
    /// The result's column names, before any row.
    virtual Status OnColumns(const std::vector<std::string>& columns) = 0;
    /// The next rows (the sink may keep them). A non-OK status (e.g. Cancelled when the client
    /// went away) stops the statement, which returns that status.
    virtual Status OnRows(std::vector<std::vector<QueryValue>> rows) = 0;
};

/// A stream of bytes that QuerySession::CopyFrom loads (an HTTP request body, a pipe).
class ByteSource {
  public:
    virtual ~ByteSource() = default;
    /// Reads up to `size` bytes into `buffer`, blocking until at least one is there; 0 at the
    /// end. A non-OK status (e.g. Cancelled when the sender went away) ends the load with it.
    /// Called from COPY's reader threads, one call at a time.
    virtual Result<std::size_t> Read(char* buffer, std::size_t size) = 0;
};

/// What QuerySession::CopyFrom did.
struct CopyReport {
    struct LineError {
        std::uint64_t line = 0;  ///< 1-based line of the source
        std::string message;
    };
    /// OK, or why the load stopped (the first bad line without skip_errors, a read error, an
    /// interrupt). Entities written before it stay written (COPY upserts: loading the same
    /// source again completes the load).
    Status status;
    std::uint64_t entities = 0;  ///< entities written
    std::uint64_t skipped_lines = 0;
    std::uint64_t skipped_edges = 0;
    /// The first skipped lines (up to 10), then the line that stopped the load, if one did.
    std::vector<LineError> errors;
    /// COPY's one-line summary ("COPY 200 (3 lines skipped: ...)"), or the error's message.
    std::string message;
};

/// A security administration statement (docs/query-language.md "Roles, grants and API keys"):
/// CREATE ROLE, DROP ROLE, GRANT, REVOKE, CREATE API KEY, REVOKE API KEY, SHOW ROLES / GRANTS /
/// API KEYS, as the parser read it. QuerySession hands it to the session's SecurityAdmin.
struct SecurityStatement {
    enum class Kind {
        kCreateRole,
        kDropRole,
        kGrant,
        kRevoke,
        kCreateApiKey,
        kRevokeApiKey,
        kShowRoles,
        kShowGrants,
        kShowApiKeys,
        kDropTenant,
        kSetQuota,         ///< ALTER TENANT t SET QUOTA (name = value, ...)
        kRotateKey,        ///< ALTER TENANT t ROTATE KEY (run on the database)
        kShowKeyRotation,  ///< SHOW KEY ROTATION FOR TENANT t (run on the database)
    };
    /// One `name = value` of ALTER TENANT ... SET QUOTA, as written.
    struct QuotaSetting {
        std::string name;
        std::string value;     ///< an integer's digits, a string's text; empty for NONE / NULL
        bool is_text = false;  ///< a string literal ('10GB')
        bool is_null = false;  ///< NONE or NULL: no limit
        friend bool operator==(const QuotaSetting&, const QuotaSetting&) = default;
    };
    Kind kind = Kind::kShowRoles;
    std::string role;  ///< CREATE/DROP ROLE r; GRANT ... TO r; REVOKE ... FROM r
    std::vector<std::string> permissions;  ///< WITH PERMISSIONS / GRANT's list: read, write, ...
    std::string collection;                ///< GRANT/REVOKE ... ON coll; empty: ON TENANT
    std::vector<std::string> roles;        ///< CREATE API KEY FOR ROLE r, ...
    std::int64_t expires_in_s = 0;         ///< CREATE API KEY ... EXPIRES IN n unit; 0: never
    std::string key_id;                    ///< REVOKE API KEY 'id'
    std::string tenant;  ///< DROP TENANT t; ALTER TENANT t; SHOW KEY ROTATION FOR TENANT t
    std::vector<QuotaSetting> quota;       ///< ALTER TENANT t SET QUOTA (...)
    friend bool operator==(const SecurityStatement&, const SecurityStatement&) = default;
};

/// Runs security administration statements on a security catalog. phenixd sets one on its
/// sessions (its catalog, in the session's tenant); a session without one (the embedded shell)
/// answers these statements with FailedPrecondition, except DROP TENANT, which it runs on the
/// database alone (there are no roles or keys to remove). Authorization happens before (the
/// server's enforcement point): implementations only act.
/// A tenant's quotas as SHOW TENANTS shows them (phenixd's; docs/security.md "Quotas"). 0: no
/// limit.
struct TenantQuotaLimits {
    std::uint64_t max_entities = 0;
    std::uint64_t max_bytes = 0;
    std::uint64_t requests_per_second = 0;
    std::uint64_t principal_requests_per_second = 0;
};

class SecurityAdmin {
  public:
    virtual ~SecurityAdmin() = default;
    virtual Result<QueryResult> Execute(std::string_view tenant,
                                        const SecurityStatement& statement) = 0;
    /// `tenant`'s quotas, for SHOW TENANTS' quota columns. The default: none (no limits).
    [[nodiscard]] virtual TenantQuotaLimits QuotaOf(std::string_view /*tenant*/) const {
        return {};
    }
};
/// The kinds of PhenixQL statement, for a server's authorization (QuerySession::
/// set_statement_guard). Closed set: a new statement adds a kind here, and a server that does not
/// map it refuses it (phenixd denies kinds its permission table does not list).
enum class StatementKind : std::uint8_t {
    kSelect,  ///< SELECT (also EXPLAIN, table functions, the JSON form)
    kCreateCollection,
    kDropCollection,
    kCreateIndex,
    kDropIndex,
    kShowCollections,
    kDescribe,
    kInsert,
    kUpdate,
    kDelete,
    kBegin,
    kCommit,
    kRollback,
    kCopyFrom,  ///< COPY coll FROM 'file'
    kCopyTo,    ///< COPY coll TO 'file'
    kShowIndexes,
    kShowTenants,
    kShowTimestamp,
    kAnalyze,
    kReindex,
    kVerify,
    kCreateTenant,
    kUseTenant,
    kSecurityAdmin,  ///< CREATE/DROP ROLE, GRANT, REVOKE, CREATE/REVOKE API KEY, SHOW ROLES/...
    kDropTenant,
    kAlterTenant,      ///< ALTER TENANT t SET QUOTA (...)
    kShowStats,        ///< SHOW STATS [FOR coll] (the tenant's), SHOW DATABASE STATS (all_tenants)
    kRotateTenantKey,  ///< ALTER TENANT t ROTATE KEY
    kShowKeyRotation,  ///< SHOW KEY ROTATION FOR TENANT t
};
/// Every kind, in declaration order.
inline constexpr StatementKind kAllStatementKinds[] = {
    StatementKind::kSelect,          StatementKind::kCreateCollection,
    StatementKind::kDropCollection,  StatementKind::kCreateIndex,
    StatementKind::kDropIndex,       StatementKind::kShowCollections,
    StatementKind::kDescribe,        StatementKind::kInsert,
    StatementKind::kUpdate,          StatementKind::kDelete,
    StatementKind::kBegin,           StatementKind::kCommit,
    StatementKind::kRollback,        StatementKind::kCopyFrom,
    StatementKind::kCopyTo,          StatementKind::kShowIndexes,
    StatementKind::kShowTenants,     StatementKind::kShowTimestamp,
    StatementKind::kAnalyze,         StatementKind::kReindex,
    StatementKind::kVerify,          StatementKind::kCreateTenant,
    StatementKind::kUseTenant,       StatementKind::kSecurityAdmin,
    StatementKind::kDropTenant,      StatementKind::kAlterTenant,
    StatementKind::kShowStats,       StatementKind::kRotateTenantKey,
    StatementKind::kShowKeyRotation,
};
/// "select", "create_collection", ... (snake_case of the enumerator).
std::string_view StatementKindName(StatementKind kind);

/// What one statement is about to touch: its kind, the tenant it acts in (for USE TENANT and
/// CREATE TENANT the tenant it names) and the collections it names (empty for statements on the
/// whole tenant: SHOW COLLECTIONS, ANALYZE without a collection, ...). `all_tenants`: the
/// statement reaches past one tenant (SHOW TENANTS, VERIFY without a collection).
struct StatementAccess {
    StatementKind kind = StatementKind::kSelect;
    std::string tenant;
    std::vector<std::string> collections;
    bool all_tenants = false;
    /// What a statement that names no collection acts on, for audit records: the role, API key
    /// id or tenant of a security statement ("role/analyst", "key/0123...", "tenant/acme").
    std::string target;
    /// At most how many new entities the statement writes (INSERT: its rows; COPY FROM: 1, its
    /// size is not known before it reads its file), for tenant quotas; 0 for other statements.
    std::uint64_t adds_entities = 0;
};

/// Called before each statement runs; a non-OK status refuses it (the statement returns it and
/// does not run). See QuerySession::set_statement_guard.
using StatementGuard = std::function<Status(const StatementAccess& access)>;

/// Observes the stages of the statements a session runs, for tracing (phenixd's spans,
/// docs/observability.md): set with QuerySession::set_execution_observer. Calls come on the
/// thread running the statement; times are nanoseconds since the Unix epoch (system clock).
class ExecutionObserver {
  public:
    virtual ~ExecutionObserver() = default;
    /// One stage ran: "parse", "bind", "plan", "execute" (a SELECT's plan run, or the whole of
    /// another statement), "commit" (COMMIT of a transaction). `ok`: whether it succeeded.
    virtual void OnStage(std::string_view stage, std::int64_t start_unix_ns,
                         std::int64_t end_unix_ns, bool ok) = 0;
    /// A SELECT ran: its plan with run figures (the EXPLAIN ANALYZE tree) and its strategy.
    /// Called when WantsPlan said yes, or when the session builds the plan anyway
    /// (set_collect_plan).
    virtual void OnPlan(const QueryPlan& plan, std::string_view plan_strategy) = 0;
    /// Asked when a SELECT's plan has run, before its plan tree is built: whether to build it
    /// and call OnPlan. The operators count their rows and times anyway; building the tree (its
    /// labels and detail lines) is what costs, so an observer that needs the plan only for some
    /// statements (phenixd's slow-query log: those past the threshold) says no for the others.
    virtual bool WantsPlan() { return true; }
};

class QuerySession {
  public:
    /// `db` must outlive the session. The session starts in `tenant` with no transaction.
    explicit QuerySession(Database& db, std::string tenant = std::string(kDefaultTenant));
    ~QuerySession();  // rolls back an open transaction
    QuerySession(const QuerySession&) = delete;
    QuerySession& operator=(const QuerySession&) = delete;

    /// Runs exactly one PhenixQL statement (a trailing ';' is allowed). Errors are InvalidArgument
    /// "line L, column C: ..." for syntax and names (with "did you mean ...?"), and the errors of
    /// the Database calls the statement makes. A failing statement inside a transaction leaves the
    /// transaction open (the caller may ROLLBACK).
    Result<QueryResult> Execute(std::string_view statement, const QueryParams& params = {});

    /// Runs one statement like Execute, but hands its rows to `sink` instead of returning them:
    /// a SELECT's batch by batch as its plan produces them (so the session's memory limit bounds
    /// what the plan keeps, such as a sort, not the result), other statements' (SHOW, DESCRIBE,
    /// EXPLAIN) when they end. The returned QueryResult has the columns and message, no rows.
    /// Rows the sink received stay received if the statement fails later.
    Result<QueryResult> Execute(std::string_view statement, RowSink& sink,
                                const QueryParams& params = {});

    /// Loads the JSON lines of `source` into `collection` (of the session's tenant) as
    /// `COPY collection FROM ... (ON_ERROR skip)` (with `skip_errors`) or `(ON_ERROR stop)`
    /// does, in one pass: a source is not read twice, so without `skip_errors` the lines before
    /// the first bad one are written. `source_name` names the source in messages ("the request
    /// body"). Polls the interrupt between chunks. Refused inside a transaction
    /// (FailedPrecondition), as COPY is.
    CopyReport CopyFrom(std::string_view collection, ByteSource& source, bool skip_errors,
                        std::string_view source_name);

    /// Runs a JSON query (the JSON form of a SELECT; docs/query-language.md "JSON form"):
    /// {"collection", "vector", "metric"?, "k", "filter"?, "graph"?, "ef"?, "include"?}.
    Result<QueryResult> ExecuteJson(std::string_view json_query);

    /// Statement texts of a script, split at ';' outside strings, quoted names, JSON and comments.
    /// `*incomplete` (optional) is set when the text ends inside a statement (no final ';'); the
    /// unfinished statement is returned last.
    static std::vector<std::string> SplitStatements(std::string_view script,
                                                    bool* incomplete = nullptr);

    // Session state.
    [[nodiscard]] const std::string& tenant() const { return tenant_; }
    void set_tenant(std::string tenant) { tenant_ = std::move(tenant); }
    /// The open transaction, or null.
    [[nodiscard]] Transaction* transaction() const { return txn_.get(); }
    [[nodiscard]] bool transaction_read_only() const { return txn_read_only_; }
    /// Starts a transaction (what BEGIN runs). FailedPrecondition if one is open.
    Status Begin(const TransactionOptions& options = {});
    /// COMMIT / ROLLBACK of the open transaction. FailedPrecondition if none is open.
    Result<Timestamp> Commit();
    Status Rollback();
    /// Where COPY, CREATE INDEX, UPDATE and DELETE report progress (about once a second); null:
    /// silent.
    void set_progress(QueryProgressFn progress) { progress_ = std::move(progress); }
    [[nodiscard]] const QueryProgressFn& progress() const { return progress_; }
    /// Polled by long statements (COPY; UPDATE and DELETE outside a transaction) between chunks
    /// or batches of work; returning true stops them with Cancelled (what was written so far
    /// stays written, and the message says how much).
    void set_interrupt(std::function<bool()> is_interrupted) {
        interrupt_ = std::move(is_interrupted);
    }
    [[nodiscard]] const std::function<bool()>& interrupt() const { return interrupt_; }
    /// The directory COPY reads and writes files in (docs/configuration.md, `copy_directory`).
    /// Empty (the default): any path the process can open, relative to its working directory.
    /// Set: relative paths are resolved under it, and a path that leads outside it (`..`, an
    /// absolute path elsewhere, a symbolic link out of it) fails with PermissionDenied; a server
    /// sets it for its sessions.
    void set_copy_directory(std::string directory) { copy_directory_ = std::move(directory); }
    [[nodiscard]] const std::string& copy_directory() const { return copy_directory_; }
    /// The most memory one SELECT may hold for its rows (results, sort and top-k buffers,
    /// DISTINCT sets, GROUP BY groups), in bytes, approximately. A statement that needs more
    /// fails with ResourceExhausted naming this setting instead of growing without bound.
    void set_memory_limit(std::size_t bytes) { memory_limit_ = bytes; }
    [[nodiscard]] std::size_t memory_limit() const { return memory_limit_; }
    /// Also return each SELECT's plan with its run figures (QueryResult::plan), the tree
    /// EXPLAIN ANALYZE prints, without changing its rows. Off by default (it costs a copy of the
    /// plan's labels per statement).
    void set_collect_plan(bool collect) { collect_plan_ = collect; }
    [[nodiscard]] bool collect_plan() const { return collect_plan_; }
    /// Called after each statement that ran (not after a parse error) with its plan strategy
    /// (QueryResult::plan_strategy; empty for statements other than SELECT), the seconds it
    /// took and whether it succeeded; on the thread that ran it. For monitoring (phenixd's
    /// latency by plan strategy). Null: none.
    using StatementObserver =
        std::function<void(std::string_view plan_strategy, double seconds, bool ok)>;
    void set_statement_observer(StatementObserver observer) { observer_ = std::move(observer); }
    [[nodiscard]] const StatementObserver& statement_observer() const { return observer_; }
    /// Where CREATE ROLE, GRANT, CREATE API KEY, ... go; null (the default): they fail with
    /// FailedPrecondition (security administration runs on phenixd).
    void set_security_admin(std::shared_ptr<SecurityAdmin> admin) {
        security_admin_ = std::move(admin);
    }
    [[nodiscard]] const std::shared_ptr<SecurityAdmin>& security_admin() const {
        return security_admin_;
    }
    /// Asked before every statement (Execute, ExecuteJson) runs, after it parsed: a server's
    /// authorization of each statement (phenixd's enforcement point, docs/security.md). Null (the
    /// default): every statement runs. CopyFrom is not a statement and is not asked.
    void set_statement_guard(StatementGuard guard) { guard_ = std::move(guard); }
    [[nodiscard]] const StatementGuard& statement_guard() const { return guard_; }
    /// Stage timings and each SELECT's plan go to `observer` (null: none, the default). While
    /// one is set every SELECT the observer WantsPlan for builds its plan's run figures (as
    /// set_collect_plan does, without returning them). `observer` must outlive its use; set null
    /// before it goes.
    void set_execution_observer(ExecutionObserver* observer) { execution_observer_ = observer; }
    [[nodiscard]] ExecutionObserver* execution_observer() const { return execution_observer_; }
    static constexpr std::size_t kDefaultMemoryLimit = std::size_t{1} << 30;  // 1 GiB
    [[nodiscard]] Database& db() const { return db_; }

  private:
    Database& db_;
    std::string tenant_;
    std::unique_ptr<Transaction> txn_;
    bool txn_read_only_ = false;
    QueryProgressFn progress_;
    std::function<bool()> interrupt_;
    std::string copy_directory_;
    std::size_t memory_limit_ = kDefaultMemoryLimit;
    bool collect_plan_ = false;
    StatementObserver observer_;
    std::shared_ptr<SecurityAdmin> security_admin_;
    StatementGuard guard_;
    ExecutionObserver* execution_observer_ = nullptr;
};

}  // namespace phenix
