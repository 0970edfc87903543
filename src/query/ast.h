// SPDX-License-Identifier: Apache-2.0
//
// The PhenixQL abstract syntax tree: what the parser (parser.h) builds and the binder reads.
// Plain value types (copyable, comparable); a Statement owns all of its nodes. Names are kept as
// written (collections, columns, aliases, variables); words that act like keywords (function
// names, metric, option names) are lowercased. Every node carries the SourcePos of its first
// token so later stages can point at the text.
//
// Equality compares the tree and ignores positions (SourcePos always compares equal), so
// ParseStatement(ToString(s)) == s holds although the canonical text lays tokens out anew.
//
// Thread safety: values; distinct objects may be used from distinct threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <phenix/phenixql.h>

namespace phenix::query {

/// A place in the query text: 1-based line and column (in bytes), 0-based byte offset. Line 0
/// marks a node the JSON form built (json_query.h): its column then indexes the statement's
/// JsonFieldPaths (the field the node came from), and errors name that field instead of a place.
struct SourcePos {
    std::uint32_t line = 1, column = 1;
    std::uint32_t offset = 0;

    // Positions never take part in AST equality (see the file comment).
    friend bool operator==(const SourcePos&, const SourcePos&) { return true; }
};

enum class ExprKind {
    kNull,
    kBool,    // bool_value
    kInt,     // int_value
    kFloat,   // float_value
    kString,  // text (unescaped)
    kVector,  // vector_value: [0.1, -2, 3e4]
    kJson,    // text: the raw JSON object {...} or array of objects [{...}], as written
    kParam,   // text: "1" for $1, "name" for $name
    kPath,    // path: id, metadata.year, b.metadata.category
    kStar,    // * in a select list
    kCall,    // text: function name (lowercased); children: arguments; is_star: count(*)
    kUnary,   // op (kNot, kNeg); children[0]
    kBinary,  // op; children[0], children[1]; kAnd/kOr: two or more children (a flat chain)
    kIn,      // children[0] [NOT] IN (children[1..]); is_negated
    kIsNull,  // children[0] IS [NOT] NULL; is_negated
    kIsBool,  // children[0] IS [NOT] TRUE|FALSE; bool_value, is_negated
    kLike,    // children[0] [NOT] LIKE children[1] [ESCAPE children[2]]; is_negated
};

enum class Op {
    kNone,
    kOr,
    kAnd,
    kNot,  // unary
    kEq,
    kNe,
    kLt,
    kLe,
    kGt,
    kGe,
    kL2Distance,       // <->
    kCosineDistance,   // <=>
    kNegInnerProduct,  // <#>
    kConcat,           // || (shallow JSON object merge: SET metadata = metadata || {...})
    // Arithmetic (query/expression.h): binary + - * / %, and unary minus (kUnary).
    kAdd,
    kSub,
    kMul,
    kDiv,
    kMod,
    kNeg,  // unary: -x (a minus before a number literal makes a negative literal instead)
};

struct Expr {
    ExprKind kind = ExprKind::kNull;
    SourcePos pos;
    Op op = Op::kNone;
    bool bool_value = false;
    bool is_negated = false;
    bool is_star = false;
    std::int64_t int_value = 0;
    double float_value = 0;
    std::string text;
    std::vector<double> vector_value;
    std::vector<std::string> path;
    std::vector<Expr> children;

    friend bool operator==(const Expr&, const Expr&) = default;
};

struct SelectItem {
    Expr expr;
    std::string alias;  // empty: none
    friend bool operator==(const SelectItem&, const SelectItem&) = default;
};

struct OrderItem {
    Expr expr;
    bool is_descending = false;
    friend bool operator==(const OrderItem&, const OrderItem&) = default;
};

/// `name = value` in WITH (...) and similar option lists; name lowercased.
struct OptionItem {
    std::string name;
    Expr value;
    SourcePos pos;  // of the name
    friend bool operator==(const OptionItem&, const OptionItem&) = default;
};

/// (variable:collection); either part may be empty.
struct NodePattern {
    SourcePos pos;
    std::string variable;
    std::string collection;
    friend bool operator==(const NodePattern&, const NodePattern&) = default;
};

enum class EdgeDirection { kOut, kIn, kBoth };  // -[]->, <-[]-, -[]-

/// -[variable:label*min..max WHERE filter]->; without `*` the edge is one hop.
struct EdgePattern {
    SourcePos pos;
    std::string variable;
    std::string label;
    EdgeDirection direction = EdgeDirection::kOut;
    std::uint32_t min_hops = 1;
    std::optional<std::uint32_t> max_hops = 1;  // nullopt: unbounded (`*` or `*2..`)
    std::optional<Expr> where;
    friend bool operator==(const EdgePattern&, const EdgePattern&) = default;
};

/// MATCH node (edge node)*: nodes.size() == edges.size() + 1.
struct MatchPattern {
    SourcePos pos;
    std::vector<NodePattern> nodes;
    std::vector<EdgePattern> edges;
    friend bool operator==(const MatchPattern&, const MatchPattern&) = default;
};

/// A table function in FROM: shortest_path('docs', 'a', 'b', max_hops = 4). Positional
/// arguments are constants (literals or parameters); named ones follow them as `name = value`
/// (name lowercased). Executed by table_functions.cc.
struct TableFunctionCall {
    SourcePos pos;
    std::string name;  // lowercased
    std::vector<Expr> args;
    std::vector<OptionItem> named_args;
    friend bool operator==(const TableFunctionCall&, const TableFunctionCall&) = default;
};

struct SelectStmt {
    bool distinct = false;  // SELECT DISTINCT
    std::vector<SelectItem> items;
    std::string collection;             // FROM coll (empty when match or table_function is set)
    SourcePos name_pos;                 // of the collection name
    std::optional<MatchPattern> match;  // FROM MATCH ...
    std::optional<TableFunctionCall> table_function;  // FROM name(args)
    std::optional<Expr> as_of;          // AS OF n | $p
    std::optional<Expr> where;
    std::vector<Expr> group_by;
    std::optional<Expr> having;  // HAVING condition over the groups
    std::vector<OrderItem> order_by;
    std::optional<Expr> limit;        // an integer literal or a parameter
    std::optional<Expr> offset;       // OFFSET n: an integer literal or a parameter
    std::vector<OptionItem> options;  // WITH (ef = 128)
    friend bool operator==(const SelectStmt&, const SelectStmt&) = default;
};

struct CreateCollectionStmt {
    std::string name;
    SourcePos name_pos;  // of the collection name
    std::int64_t dimension = 0;
    std::string metric;  // lowercased; empty: the default
    std::vector<OptionItem> options;  // WITH (m = 32, quantization = 'int8'): index settings
    friend bool operator==(const CreateCollectionStmt&, const CreateCollectionStmt&) = default;
};

/// CREATE INDEX ON coll (path) and DROP INDEX ON coll (path).
struct IndexStmt {
    bool is_drop = false;
    std::string collection;
    SourcePos name_pos;  // of the collection name
    std::vector<std::string> path;
    friend bool operator==(const IndexStmt&, const IndexStmt&) = default;
};

struct DropCollectionStmt {
    std::string name;
    SourcePos name_pos;  // of the collection name
    friend bool operator==(const DropCollectionStmt&, const DropCollectionStmt&) = default;
};

struct ShowCollectionsStmt {
    friend bool operator==(const ShowCollectionsStmt&, const ShowCollectionsStmt&) = default;
};

struct DescribeStmt {
    std::string collection;
    SourcePos name_pos;  // of the collection name
    friend bool operator==(const DescribeStmt&, const DescribeStmt&) = default;
};

/// What INSERT does with a row whose id exists: ON CONFLICT (id) DO NOTHING / DO UPDATE.
enum class ConflictAction {
    kError,      // no ON CONFLICT: AlreadyExists
    kDoNothing,  // skip the row
    kDoUpdate,   // set the listed columns from the new row; the others keep their values
};

struct InsertStmt {
    std::string collection;
    SourcePos name_pos;  // of the collection name
    std::vector<std::string> columns;
    std::vector<std::vector<Expr>> rows;
    ConflictAction on_conflict = ConflictAction::kError;
    friend bool operator==(const InsertStmt&, const InsertStmt&) = default;
};

struct Assignment {
    std::vector<std::string> path;
    Expr value;
    friend bool operator==(const Assignment&, const Assignment&) = default;
};

struct UpdateStmt {
    std::string collection;
    SourcePos name_pos;  // of the collection name
    std::vector<Assignment> assignments;
    std::optional<Expr> where;
    friend bool operator==(const UpdateStmt&, const UpdateStmt&) = default;
};

struct DeleteStmt {
    std::string collection;
    SourcePos name_pos;  // of the collection name
    std::optional<Expr> where;
    friend bool operator==(const DeleteStmt&, const DeleteStmt&) = default;
};

enum class TxnAction { kBegin, kCommit, kRollback };

/// BEGIN [READ ONLY] [AS OF ts], COMMIT, ROLLBACK.
struct TxnStmt {
    TxnAction action = TxnAction::kBegin;
    bool read_only = false;     // BEGIN READ ONLY (AS OF implies it)
    std::optional<Expr> as_of;  // BEGIN [READ ONLY] AS OF n | $p: a commit timestamp
    friend bool operator==(const TxnStmt&, const TxnStmt&) = default;
};

/// COPY coll FROM 'path' [(ON_ERROR skip)] | COPY coll TO 'path'.
struct CopyStmt {
    std::string collection;
    SourcePos name_pos;      // of the collection name
    bool is_export = false;  // TO
    std::string file_path;
    std::string on_error;  // FROM only: (ON_ERROR word), lowercased; empty when not given
    friend bool operator==(const CopyStmt&, const CopyStmt&) = default;
};

/// SHOW INDEXES [ON coll], SHOW TENANTS, SHOW TIMESTAMP, SHOW STATS [FOR coll],
/// SHOW DATABASE STATS.
enum class ShowWhat { kIndexes, kTenants, kTimestamp, kStats };

struct ShowStmt {
    ShowWhat what = ShowWhat::kTenants;
    // SHOW INDEXES ON coll, SHOW STATS FOR coll; empty: every collection of the tenant
    std::string collection;
    bool whole_database = false;  // SHOW DATABASE STATS: every tenant and the engine's figures
    SourcePos name_pos;      // of the collection name
    friend bool operator==(const ShowStmt&, const ShowStmt&) = default;
};

/// ANALYZE [coll], REINDEX coll, VERIFY [coll]: maintenance of derived state.
enum class MaintenanceAction { kAnalyze, kReindex, kVerify };

struct MaintenanceStmt {
    MaintenanceAction action = MaintenanceAction::kAnalyze;
    std::string collection;  // empty: every collection of the tenant (ANALYZE) / all (VERIFY)
    SourcePos name_pos;      // of the collection name
    friend bool operator==(const MaintenanceStmt&, const MaintenanceStmt&) = default;
};

/// CREATE TENANT t, USE TENANT t.
struct TenantStmt {
    bool is_use = false;
    std::string name;
    SourcePos name_pos;
    friend bool operator==(const TenantStmt&, const TenantStmt&) = default;
};

/// CREATE ROLE, DROP ROLE, GRANT, REVOKE, CREATE API KEY, REVOKE API KEY, SHOW ROLES / GRANTS /
/// API KEYS: run by the session's SecurityAdmin (phenixql.h).
struct SecurityStmt {
    SecurityStatement statement;
    SourcePos pos;  // of the statement's first word
    friend bool operator==(const SecurityStmt&, const SecurityStmt&) = default;
};

enum class ExplainMode { kNone, kExplain, kExplainAnalyze };

using StatementBody =
    std::variant<SelectStmt, CreateCollectionStmt, IndexStmt, DropCollectionStmt,
                 ShowCollectionsStmt, DescribeStmt, InsertStmt, UpdateStmt, DeleteStmt, TxnStmt,
                 CopyStmt, ShowStmt, MaintenanceStmt, TenantStmt, SecurityStmt>;

/// The JSON form's field paths ("vector", "filter.year"), indexed by the column of a line-0
/// SourcePos; empty for text statements. Like positions, not part of AST equality.
struct JsonFieldPaths {
    std::vector<std::string> paths;
    friend bool operator==(const JsonFieldPaths&, const JsonFieldPaths&) { return true; }
};

struct Statement {
    SourcePos pos;
    ExplainMode explain = ExplainMode::kNone;
    StatementBody body;
    JsonFieldPaths json_fields;
    friend bool operator==(const Statement&, const Statement&) = default;
};

}  // namespace phenix::query
