// SPDX-License-Identifier: Apache-2.0
#include "query/parser.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "query/lexer.h"

namespace phenix::query {
namespace {

constexpr std::string_view kKeywords[] = {
    "ANALYZE", "AND",     "AS",     "ASC",      "BEGIN",  "BY",       "COLLECTION", "COLLECTIONS",
    "COMMIT",  "COPY",    "CREATE", "DELETE",   "DESC",   "DESCRIBE", "DIMENSION",  "DISTINCT",
    "DROP",    "EXPLAIN", "FALSE",  "FROM",     "GROUP",  "HAVING",   "IN",         "INDEX",
    "INSERT",  "INTO",    "IS",     "LIMIT",    "MATCH",  "METRIC",   "NOT",        "NULL",
    "OF",      "OFFSET",  "ON",     "ON_ERROR", "OR",     "ORDER",    "ROLLBACK",   "SELECT",
    "SET",     "SHOW",    "TO",     "TRUE",     "UPDATE", "VALUES",   "WHERE",      "WITH",
};

constexpr std::string_view kStatementKeywords[] = {
    "SELECT",   "INSERT", "UPDATE", "DELETE",   "CREATE",  "DROP",  "SHOW",
    "DESCRIBE", "BEGIN",  "COMMIT", "ROLLBACK", "EXPLAIN", "COPY",  "ANALYZE",
    "REINDEX",  "VERIFY", "USE",    "GRANT",    "REVOKE",  "ALTER",
};

char ToUpper(char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}
char ToLower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string Upper(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), ToUpper);
    return out;
}

std::string Lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), ToLower);
    return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t idx = 0; idx < a.size(); ++idx) {
        if (ToUpper(a[idx]) != ToUpper(b[idx])) {
            return false;
        }
    }
    return true;
}

bool IsKeywordText(std::string_view word) {
    return std::any_of(std::begin(kKeywords), std::end(kKeywords),
                       [&](std::string_view kw) { return EqualsIgnoreCase(kw, word); });
}

std::string Describe(const Token& token) {
    if (token.kind == TokenKind::kEnd) {
        return "end of input";
    }
    constexpr std::size_t kMaxShown = 40;
    std::string_view text = token.text;
    if (text.size() > kMaxShown) {
        return "'" + std::string(text.substr(0, kMaxShown)) + "...'";
    }
    return "'" + std::string(text) + "'";
}

class Parser {
  public:
    explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

    Result<std::vector<Statement>> ParseScript() {
        std::vector<Statement> statements;
        while (true) {
            while (AcceptSymbol(";")) {
            }
            if (Cur().kind == TokenKind::kEnd) {
                return statements;
            }
            PHENIX_ASSIGN_OR_RETURN(Statement statement, ParseStatement());
            statements.push_back(std::move(statement));
            if (!AcceptSymbol(";") && Cur().kind != TokenKind::kEnd) {
                return ErrorExpected("';' or end of input");
            }
        }
    }

    Result<Statement> ParseOne() {
        PHENIX_ASSIGN_OR_RETURN(Statement statement, ParseStatement());
        while (AcceptSymbol(";")) {
        }
        if (Cur().kind != TokenKind::kEnd) {
            return ErrorExpected("end of input");
        }
        return statement;
    }

  private:
    // Counts the depth of the expression tree being built (parentheses, NOT, an AND or OR chain
    // as a whole, and each link of a distance-operator chain, which nests the tree to the left)
    // and gives it back on exit.
    class DepthGuard {
      public:
        explicit DepthGuard(int& depth) : depth_(depth) {}
        ~DepthGuard() { depth_ -= added_; }
        DepthGuard(const DepthGuard&) = delete;
        DepthGuard& operator=(const DepthGuard&) = delete;

        // One level deeper; false once past kMaxExpressionDepth.
        [[nodiscard]] bool Add() {
            ++added_;
            ++depth_;
            return depth_ <= kMaxExpressionDepth;
        }

      private:
        int& depth_;
        int added_ = 0;
    };

    Status TooDeep() {
        return ErrorAt(Cur().pos, "expression nested deeper than " +
                                      std::to_string(kMaxExpressionDepth) + " levels");
    }

    [[nodiscard]] const Token& Cur() const { return tokens_[idx_]; }
    [[nodiscard]] const Token& Ahead(std::size_t count) const {
        return tokens_[std::min(idx_ + count, tokens_.size() - 1)];
    }
    void Next() {
        if (idx_ + 1 < tokens_.size()) {
            ++idx_;
        }
    }

    static bool IsKeyword(const Token& token, std::string_view keyword) {
        return token.kind == TokenKind::kWord && EqualsIgnoreCase(token.text, keyword);
    }
    static bool IsSymbol(const Token& token, std::string_view symbol) {
        return token.kind == TokenKind::kSymbol && token.text == symbol;
    }
    bool AcceptKeyword(std::string_view keyword) {
        if (IsKeyword(Cur(), keyword)) {
            Next();
            return true;
        }
        return false;
    }
    bool AcceptSymbol(std::string_view symbol) {
        if (IsSymbol(Cur(), symbol)) {
            Next();
            return true;
        }
        return false;
    }
    Status ExpectKeyword(std::string_view keyword) {
        if (AcceptKeyword(keyword)) {
            return Status::Ok();
        }
        return ErrorExpected(keyword, std::span<const std::string_view>(&keyword, 1));
    }
    Status ExpectSymbol(std::string_view symbol) {
        if (AcceptSymbol(symbol)) {
            return Status::Ok();
        }
        return ErrorExpected("'" + std::string(symbol) + "'");
    }

    // "expected <what>, found <token>", plus a suggestion when the token is a word close to one
    // of `keywords`.
    Status ErrorExpected(std::string_view what, std::span<const std::string_view> keywords = {}) {
        const Token& token = Cur();
        std::string message = "expected " + std::string(what) + ", found " + Describe(token);
        constexpr std::size_t kMaxSuggestDistance = 2;
        constexpr std::size_t kMaxWordLength = 32;
        if (token.kind == TokenKind::kWord && token.text.size() <= kMaxWordLength) {
            std::string upper = Upper(token.text);
            std::size_t best = kMaxSuggestDistance + 1;
            std::string_view suggestion;
            for (std::string_view keyword : keywords) {
                std::size_t distance = EditDistance(upper, keyword);
                // Very short words are close to everything; ask for one edit at most there.
                std::size_t limit = keyword.size() <= 3 ? 1 : kMaxSuggestDistance;
                if (distance > 0 && distance <= limit && distance < best) {
                    best = distance;
                    suggestion = keyword;
                }
            }
            if (!suggestion.empty()) {
                message += "; did you mean " + std::string(suggestion) + "?";
            }
        }
        return Status::InvalidArgument(PositionedMessage(token.pos, message));
    }

    Status ErrorAt(SourcePos pos, std::string_view message) {
        return Status::InvalidArgument(PositionedMessage(pos, message));
    }

    // A name: a non-keyword word or a quoted identifier.
    Result<std::string> ParseName(std::string_view what) {
        const Token& token = Cur();
        if (token.kind == TokenKind::kQuotedIdent) {
            std::string name = token.value;
            Next();
            return name;
        }
        if (token.kind == TokenKind::kWord && !IsKeywordText(token.text)) {
            std::string name(token.text);
            Next();
            return name;
        }
        return ErrorExpected(what);
    }

    // name(.segment)*; after a dot any word is a segment, keywords included.
    Result<std::vector<std::string>> ParsePath(std::string_view what) {
        std::vector<std::string> path;
        PHENIX_ASSIGN_OR_RETURN(std::string first, ParseName(what));
        path.push_back(std::move(first));
        while (AcceptSymbol(".")) {
            const Token& token = Cur();
            if (token.kind == TokenKind::kWord) {
                path.emplace_back(token.text);
            } else if (token.kind == TokenKind::kQuotedIdent) {
                path.push_back(token.value);
            } else {
                return ErrorExpected("a field name after '.'");
            }
            Next();
        }
        return path;
    }

    Result<std::int64_t> ParseInteger(const Token& token, bool is_negative) {
        std::string digits = (is_negative ? "-" : "") + std::string(token.text);
        std::int64_t value = 0;
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (ec != std::errc() || ptr != digits.data() + digits.size()) {
            return ErrorAt(token.pos, "integer " + digits + " is out of range");
        }
        return value;
    }

    Result<double> ParseDouble(const Token& token, bool is_negative) {
        std::string digits = (is_negative ? "-" : "") + std::string(token.text);
        double value = 0;
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (ec != std::errc() || ptr != digits.data() + digits.size()) {
            return ErrorAt(token.pos, "number " + digits + " is out of range");
        }
        return value;
    }

    // A number with an optional leading '-', as a literal expression.
    Result<Expr> ParseNumber() {
        Expr expr;
        expr.pos = Cur().pos;
        bool is_negative = false;
        if (IsSymbol(Cur(), "-") &&
            (Ahead(1).kind == TokenKind::kInteger || Ahead(1).kind == TokenKind::kFloat)) {
            is_negative = true;
            Next();
        }
        const Token& token = Cur();
        if (token.kind == TokenKind::kInteger) {
            expr.kind = ExprKind::kInt;
            PHENIX_ASSIGN_OR_RETURN(expr.int_value, ParseInteger(token, is_negative));
        } else if (token.kind == TokenKind::kFloat) {
            expr.kind = ExprKind::kFloat;
            PHENIX_ASSIGN_OR_RETURN(expr.float_value, ParseDouble(token, is_negative));
        } else {
            return ErrorExpected("a number");
        }
        Next();
        return expr;
    }

    // A non-negative integer literal or a parameter (LIMIT, AS OF).
    Result<Expr> ParseCountOrParam(std::string_view what) {
        Expr expr;
        expr.pos = Cur().pos;
        if (Cur().kind == TokenKind::kParam) {
            expr.kind = ExprKind::kParam;
            expr.text = Cur().value;
            Next();
            return expr;
        }
        if (Cur().kind != TokenKind::kInteger) {
            return ErrorExpected(what);
        }
        expr.kind = ExprKind::kInt;
        PHENIX_ASSIGN_OR_RETURN(expr.int_value, ParseInteger(Cur(), false));
        Next();
        return expr;
    }

    Result<std::uint32_t> ParseHops() {
        if (Cur().kind != TokenKind::kInteger) {
            return ErrorExpected("a hop count");
        }
        PHENIX_ASSIGN_OR_RETURN(std::int64_t value, ParseInteger(Cur(), false));
        if (value > std::numeric_limits<std::uint32_t>::max()) {
            return ErrorAt(Cur().pos, "hop count " + std::to_string(value) + " is out of range");
        }
        Next();
        return static_cast<std::uint32_t>(value);
    }

    // ---- statements ----

    Result<Statement> ParseStatement() {
        Statement statement;
        statement.pos = Cur().pos;
        if (AcceptKeyword("EXPLAIN")) {
            statement.explain =
                AcceptKeyword("ANALYZE") ? ExplainMode::kExplainAnalyze : ExplainMode::kExplain;
            if (IsKeyword(Cur(), "EXPLAIN")) {
                return ErrorExpected("a statement to explain");
            }
        }
        PHENIX_ASSIGN_OR_RETURN(statement.body, ParseBody());
        return statement;
    }

    Result<StatementBody> ParseBody() {
        const Token& token = Cur();
        if (IsKeyword(token, "SELECT")) {
            return Wrap(ParseSelect());
        }
        if (IsKeyword(token, "INSERT")) {
            return Wrap(ParseInsert());
        }
        if (IsKeyword(token, "UPDATE")) {
            return Wrap(ParseUpdate());
        }
        if (IsKeyword(token, "DELETE")) {
            return Wrap(ParseDelete());
        }
        if (IsKeyword(token, "CREATE")) {
            return ParseCreate();
        }
        if (IsKeyword(token, "DROP")) {
            return ParseDrop();
        }
        if (AcceptKeyword("SHOW")) {
            return ParseShow();
        }
        // ANALYZE [coll], REINDEX coll, VERIFY. (REINDEX, VERIFY, USE, TENANT(S), INDEXES,
        // TIMESTAMP, READ and ONLY are not reserved: they are recognised only where they start or
        // continue these statements, so columns and collections may keep such names.)
        if (AcceptKeyword("ANALYZE")) {
            MaintenanceStmt analyze{.action = MaintenanceAction::kAnalyze};
            analyze.name_pos = Cur().pos;
            if (!AtStatementEnd()) {
                PHENIX_ASSIGN_OR_RETURN(analyze.collection, ParseName("a collection name"));
            }
            return StatementBody(std::move(analyze));
        }
        if (AcceptKeyword("REINDEX")) {
            MaintenanceStmt reindex{.action = MaintenanceAction::kReindex};
            reindex.name_pos = Cur().pos;
            PHENIX_ASSIGN_OR_RETURN(reindex.collection, ParseName("a collection name"));
            return StatementBody(std::move(reindex));
        }
        if (AcceptKeyword("VERIFY")) {
            if (!AtStatementEnd()) {
                return ErrorAt(Cur().pos,
                               "VERIFY checks the whole database and takes no collection name");
            }
            return StatementBody(MaintenanceStmt{.action = MaintenanceAction::kVerify});
        }
        if (AcceptKeyword("USE")) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("TENANT"));
            TenantStmt use{.is_use = true};
            use.name_pos = Cur().pos;
            PHENIX_ASSIGN_OR_RETURN(use.name, ParseName("a tenant name"));
            return StatementBody(std::move(use));
        }
        if (AcceptKeyword("DESCRIBE")) {
            DescribeStmt describe;
            describe.name_pos = Cur().pos;
            PHENIX_ASSIGN_OR_RETURN(describe.collection, ParseName("a collection name"));
            return StatementBody(std::move(describe));
        }
        if (AcceptKeyword("BEGIN")) {
            return ParseBegin();
        }
        if (AcceptKeyword("COMMIT")) {
            return StatementBody(TxnStmt{.action = TxnAction::kCommit});
        }
        if (AcceptKeyword("ROLLBACK")) {
            return StatementBody(TxnStmt{.action = TxnAction::kRollback});
        }
        if (IsKeyword(token, "COPY")) {
            return Wrap(ParseCopy());
        }
        if (IsKeyword(token, "GRANT") || IsKeyword(token, "REVOKE")) {
            return ParseGrantOrRevoke();
        }
        if (AcceptKeyword("ALTER")) {
            return ParseAlterTenant();
        }
        return ErrorExpected("a statement", kStatementKeywords);
    }

    [[nodiscard]] bool AtStatementEnd() const {
        return Cur().kind == TokenKind::kEnd || IsSymbol(Cur(), ";");
    }

    // SHOW COLLECTIONS | INDEXES [ON coll] | TENANTS | TIMESTAMP | STATS [FOR coll] |
    // DATABASE STATS
    Result<StatementBody> ParseShow() {
        if (AcceptKeyword("COLLECTIONS")) {
            return StatementBody(ShowCollectionsStmt{});
        }
        ShowStmt show;
        if (AcceptKeyword("INDEXES")) {
            show.what = ShowWhat::kIndexes;
            if (AcceptKeyword("ON")) {
                show.name_pos = Cur().pos;
                PHENIX_ASSIGN_OR_RETURN(show.collection, ParseName("a collection name"));
            }
            return StatementBody(std::move(show));
        }
        if (AcceptKeyword("TENANTS")) {
            show.what = ShowWhat::kTenants;
            return StatementBody(std::move(show));
        }
        if (AcceptKeyword("TIMESTAMP")) {
            show.what = ShowWhat::kTimestamp;
            return StatementBody(std::move(show));
        }
        if (AcceptKeyword("STATS")) {
            show.what = ShowWhat::kStats;
            if (AcceptKeyword("FOR")) {
                show.name_pos = Cur().pos;
                PHENIX_ASSIGN_OR_RETURN(show.collection, ParseName("a collection name"));
            }
            return StatementBody(std::move(show));
        }
        if (AcceptKeyword("DATABASE")) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("STATS"));
            show.what = ShowWhat::kStats;
            show.whole_database = true;
            return StatementBody(std::move(show));
        }
        const SourcePos pos = Cur().pos;
        // SHOW KEY ROTATION FOR TENANT t
        if (AcceptKeyword("KEY")) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("ROTATION"));
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("FOR"));
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("TENANT"));
            SecurityStatement show_rotation{.kind = SecurityStatement::Kind::kShowKeyRotation};
            PHENIX_ASSIGN_OR_RETURN(show_rotation.tenant, ParseName("a tenant name"));
            return Security(std::move(show_rotation), pos);
        }
        if (AcceptKeyword("ROLES")) {
            return Security(SecurityStatement{.kind = SecurityStatement::Kind::kShowRoles}, pos);
        }
        if (AcceptKeyword("GRANTS")) {
            return Security(SecurityStatement{.kind = SecurityStatement::Kind::kShowGrants}, pos);
        }
        if (AcceptKeyword("API")) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("KEYS"));
            return Security(SecurityStatement{.kind = SecurityStatement::Kind::kShowApiKeys}, pos);
        }
        static constexpr std::string_view kWhat[] = {"COLLECTIONS", "INDEXES", "TENANTS",
                                                     "TIMESTAMP",   "STATS",   "DATABASE",
                                                     "ROLES",       "GRANTS",  "API"};
        return ErrorExpected(
            "COLLECTIONS, INDEXES, TENANTS, TIMESTAMP, STATS, DATABASE STATS, ROLES, GRANTS or "
            "API KEYS",
            kWhat);
    }

    // BEGIN [READ ONLY] [AS OF ts]: AS OF reads the past, which is read-only by nature, so it
    // implies READ ONLY.
    Result<StatementBody> ParseBegin() {
        TxnStmt begin{.action = TxnAction::kBegin};
        if (AcceptKeyword("READ")) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("ONLY"));
            begin.read_only = true;
        }
        if (AcceptKeyword("AS")) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("OF"));
            PHENIX_ASSIGN_OR_RETURN(begin.as_of, ParseCountOrParam("a commit timestamp"));
            begin.read_only = true;
        }
        if (!AtStatementEnd()) {
            static constexpr std::string_view kWhat[] = {"READ", "AS"};
            return ErrorExpected(begin.read_only ? "AS OF or end of statement"
                                                 : "READ ONLY, AS OF or end of statement",
                                 kWhat);
        }
        return StatementBody(std::move(begin));
    }

    // name(arg, ..., option = value, ...) after FROM: a table function.
    Result<TableFunctionCall> ParseTableFunction() {
        TableFunctionCall call;
        call.pos = Cur().pos;
        call.name = Lower(Cur().text);
        Next();
        PHENIX_RETURN_IF_ERROR(ExpectSymbol("("));
        if (!IsSymbol(Cur(), ")")) {
            do {
                if (Cur().kind == TokenKind::kWord && IsSymbol(Ahead(1), "=")) {
                    OptionItem option;
                    option.pos = Cur().pos;
                    option.name = Lower(Cur().text);
                    Next();
                    Next();
                    PHENIX_ASSIGN_OR_RETURN(option.value, ParsePrimary());
                    call.named_args.push_back(std::move(option));
                    continue;
                }
                if (!call.named_args.empty()) {
                    return ErrorExpected(
                        "a named argument (name = value): positional arguments "
                        "come first");
                }
                PHENIX_ASSIGN_OR_RETURN(Expr arg, ParsePrimary());
                call.args.push_back(std::move(arg));
            } while (AcceptSymbol(","));
        }
        PHENIX_RETURN_IF_ERROR(ExpectSymbol(")"));
        return call;
    }

    // WITH (name = value, ...): names lowercased, values literals or parameters.
    Result<std::vector<OptionItem>> ParseOptionList() {
        std::vector<OptionItem> options;
        PHENIX_RETURN_IF_ERROR(ExpectSymbol("("));
        do {
            OptionItem option;
            option.pos = Cur().pos;
            PHENIX_ASSIGN_OR_RETURN(std::string name, ParseName("an option name"));
            option.name = Lower(name);
            PHENIX_RETURN_IF_ERROR(ExpectSymbol("="));
            PHENIX_ASSIGN_OR_RETURN(option.value, ParsePrimary());
            options.push_back(std::move(option));
        } while (AcceptSymbol(","));
        PHENIX_RETURN_IF_ERROR(ExpectSymbol(")"));
        return options;
    }

    template <typename T>
    static Result<StatementBody> Wrap(Result<T> result) {
        if (!result.ok()) {
            return result.status();
        }
        return StatementBody(std::move(result).value());
    }

    Result<SelectStmt> ParseSelect() {
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("SELECT"));
        SelectStmt select;
        select.distinct = AcceptKeyword("DISTINCT");
        do {
            SelectItem item;
            if (IsSymbol(Cur(), "*")) {
                item.expr.kind = ExprKind::kStar;
                item.expr.pos = Cur().pos;
                Next();
            } else {
                PHENIX_ASSIGN_OR_RETURN(item.expr, ParseExpr());
            }
            if (AcceptKeyword("AS")) {
                PHENIX_ASSIGN_OR_RETURN(item.alias, ParseName("an alias"));
            }
            select.items.push_back(std::move(item));
        } while (AcceptSymbol(","));
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("FROM"));
        if (AcceptKeyword("MATCH")) {
            PHENIX_ASSIGN_OR_RETURN(select.match, ParseMatch());
        } else if (Cur().kind == TokenKind::kWord && !IsKeywordText(Cur().text) &&
                   IsSymbol(Ahead(1), "(")) {
            PHENIX_ASSIGN_OR_RETURN(select.table_function, ParseTableFunction());
        } else {
            select.name_pos = Cur().pos;
            PHENIX_ASSIGN_OR_RETURN(select.collection, ParseName("a collection name or MATCH"));
        }
        if (AcceptKeyword("AS")) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("OF"));
            PHENIX_ASSIGN_OR_RETURN(select.as_of, ParseCountOrParam("a version number"));
        }
        if (AcceptKeyword("WHERE")) {
            PHENIX_ASSIGN_OR_RETURN(select.where, ParseExpr());
        }
        if (AcceptKeyword("GROUP")) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("BY"));
            do {
                PHENIX_ASSIGN_OR_RETURN(Expr expr, ParseExpr());
                select.group_by.push_back(std::move(expr));
            } while (AcceptSymbol(","));
        }
        if (AcceptKeyword("HAVING")) {
            PHENIX_ASSIGN_OR_RETURN(select.having, ParseExpr());
        }
        if (AcceptKeyword("ORDER")) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("BY"));
            do {
                OrderItem item;
                PHENIX_ASSIGN_OR_RETURN(item.expr, ParseExpr());
                if (AcceptKeyword("DESC")) {
                    item.is_descending = true;
                } else {
                    AcceptKeyword("ASC");
                }
                select.order_by.push_back(std::move(item));
            } while (AcceptSymbol(","));
        }
        if (AcceptKeyword("LIMIT")) {
            PHENIX_ASSIGN_OR_RETURN(select.limit, ParseCountOrParam("a row count"));
        }
        if (AcceptKeyword("OFFSET")) {
            PHENIX_ASSIGN_OR_RETURN(select.offset, ParseCountOrParam("a row count"));
        }
        if (AcceptKeyword("WITH")) {
            PHENIX_ASSIGN_OR_RETURN(select.options, ParseOptionList());
        }
        return select;
    }

    Result<NodePattern> ParseNode() {
        NodePattern node;
        node.pos = Cur().pos;
        PHENIX_RETURN_IF_ERROR(ExpectSymbol("("));
        if (!IsSymbol(Cur(), ":") && !IsSymbol(Cur(), ")")) {
            PHENIX_ASSIGN_OR_RETURN(node.variable, ParseName("a variable, ':' or ')'"));
        }
        if (AcceptSymbol(":")) {
            PHENIX_ASSIGN_OR_RETURN(node.collection, ParseName("a collection name"));
        }
        PHENIX_RETURN_IF_ERROR(ExpectSymbol(")"));
        return node;
    }

    Result<EdgePattern> ParseEdge() {
        EdgePattern edge;
        edge.pos = Cur().pos;
        bool points_left = AcceptSymbol("<");
        PHENIX_RETURN_IF_ERROR(ExpectSymbol("-"));
        PHENIX_RETURN_IF_ERROR(ExpectSymbol("["));
        if (!IsSymbol(Cur(), ":") && !IsSymbol(Cur(), "*") && !IsSymbol(Cur(), "]") &&
            !IsKeyword(Cur(), "WHERE")) {
            PHENIX_ASSIGN_OR_RETURN(edge.variable, ParseName("a variable, ':' or ']'"));
        }
        if (AcceptSymbol(":")) {
            PHENIX_ASSIGN_OR_RETURN(edge.label, ParseName("an edge label"));
        }
        if (AcceptSymbol("*")) {
            SourcePos hops_pos = Cur().pos;
            edge.max_hops = std::nullopt;
            if (Cur().kind == TokenKind::kInteger) {
                PHENIX_ASSIGN_OR_RETURN(edge.min_hops, ParseHops());
                edge.max_hops = edge.min_hops;
            }
            if (AcceptSymbol("..")) {
                edge.max_hops = std::nullopt;
                if (Cur().kind == TokenKind::kInteger) {
                    PHENIX_ASSIGN_OR_RETURN(edge.max_hops, ParseHops());
                }
            }
            if (edge.max_hops.has_value() && *edge.max_hops < edge.min_hops) {
                return ErrorAt(hops_pos, "the maximum hop count is below the minimum");
            }
        }
        if (AcceptKeyword("WHERE")) {
            PHENIX_ASSIGN_OR_RETURN(edge.where, ParseExpr());
        }
        PHENIX_RETURN_IF_ERROR(ExpectSymbol("]"));
        if (AcceptSymbol("->")) {
            if (points_left) {
                return ErrorAt(edge.pos, "an edge cannot point both ways");
            }
            edge.direction = EdgeDirection::kOut;
        } else {
            PHENIX_RETURN_IF_ERROR(ExpectSymbol("-"));
            edge.direction = points_left ? EdgeDirection::kIn : EdgeDirection::kBoth;
        }
        return edge;
    }

    Result<MatchPattern> ParseMatch() {
        MatchPattern match;
        match.pos = Cur().pos;
        PHENIX_ASSIGN_OR_RETURN(NodePattern first, ParseNode());
        match.nodes.push_back(std::move(first));
        while (IsSymbol(Cur(), "-") || IsSymbol(Cur(), "<")) {
            PHENIX_ASSIGN_OR_RETURN(EdgePattern edge, ParseEdge());
            match.edges.push_back(std::move(edge));
            PHENIX_ASSIGN_OR_RETURN(NodePattern node, ParseNode());
            match.nodes.push_back(std::move(node));
        }
        return match;
    }

    Result<InsertStmt> ParseInsert() {
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("INSERT"));
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("INTO"));
        InsertStmt insert;
        insert.name_pos = Cur().pos;
        PHENIX_ASSIGN_OR_RETURN(insert.collection, ParseName("a collection name"));
        PHENIX_RETURN_IF_ERROR(ExpectSymbol("("));
        do {
            PHENIX_ASSIGN_OR_RETURN(std::string column, ParseName("a column name"));
            insert.columns.push_back(std::move(column));
        } while (AcceptSymbol(","));
        PHENIX_RETURN_IF_ERROR(ExpectSymbol(")"));
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("VALUES"));
        do {
            PHENIX_RETURN_IF_ERROR(ExpectSymbol("("));
            std::vector<Expr> row;
            do {
                PHENIX_ASSIGN_OR_RETURN(Expr value, ParseExpr());
                row.push_back(std::move(value));
            } while (AcceptSymbol(","));
            PHENIX_RETURN_IF_ERROR(ExpectSymbol(")"));
            insert.rows.push_back(std::move(row));
        } while (AcceptSymbol(","));
        if (AcceptKeyword("ON")) {
            PHENIX_ASSIGN_OR_RETURN(insert.on_conflict, ParseOnConflict());
        }
        return insert;
    }

    // After ON: CONFLICT [(id)] DO NOTHING | CONFLICT (id) DO UPDATE. CONFLICT, DO and NOTHING
    // are matched here only, so they stay usable as names.
    Result<ConflictAction> ParseOnConflict() {
        static constexpr std::string_view kConflict[] = {"CONFLICT"};
        if (!AcceptKeyword("CONFLICT")) {
            return ErrorExpected("CONFLICT", kConflict);
        }
        bool has_target = false;
        if (IsSymbol(Cur(), "(")) {
            Next();
            const Token& column = Cur();
            if (!(column.kind == TokenKind::kWord || column.kind == TokenKind::kQuotedIdent) ||
                (column.kind == TokenKind::kWord ? column.text : column.value) != "id") {
                return ErrorAt(column.pos, "ON CONFLICT takes (id): id is the only unique column");
            }
            Next();
            PHENIX_RETURN_IF_ERROR(ExpectSymbol(")"));
            has_target = true;
        }
        static constexpr std::string_view kDo[] = {"DO"};
        if (!AcceptKeyword("DO")) {
            return ErrorExpected("DO", kDo);
        }
        if (AcceptKeyword("NOTHING")) {
            return ConflictAction::kDoNothing;
        }
        const SourcePos update_pos = Cur().pos;
        if (!AcceptKeyword("UPDATE")) {
            static constexpr std::string_view kActions[] = {"NOTHING", "UPDATE"};
            return ErrorExpected("NOTHING or UPDATE", kActions);
        }
        if (!has_target) {
            return ErrorAt(update_pos,
                           "ON CONFLICT DO UPDATE needs the conflict column: write "
                           "ON CONFLICT (id) DO UPDATE");
        }
        if (IsKeyword(Cur(), "SET")) {
            return ErrorAt(Cur().pos,
                           "ON CONFLICT (id) DO UPDATE takes no SET list: it sets the listed "
                           "columns from the new row and keeps the others; to merge metadata, "
                           "use UPDATE ... SET metadata = metadata || {...}");
        }
        return ConflictAction::kDoUpdate;
    }

    Result<UpdateStmt> ParseUpdate() {
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("UPDATE"));
        UpdateStmt update;
        update.name_pos = Cur().pos;
        PHENIX_ASSIGN_OR_RETURN(update.collection, ParseName("a collection name"));
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("SET"));
        do {
            Assignment assignment;
            PHENIX_ASSIGN_OR_RETURN(assignment.path, ParsePath("a field to set"));
            PHENIX_RETURN_IF_ERROR(ExpectSymbol("="));
            PHENIX_ASSIGN_OR_RETURN(assignment.value, ParseExpr());
            update.assignments.push_back(std::move(assignment));
        } while (AcceptSymbol(","));
        if (AcceptKeyword("WHERE")) {
            PHENIX_ASSIGN_OR_RETURN(update.where, ParseExpr());
        }
        return update;
    }

    Result<DeleteStmt> ParseDelete() {
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("DELETE"));
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("FROM"));
        DeleteStmt del;
        del.name_pos = Cur().pos;
        PHENIX_ASSIGN_OR_RETURN(del.collection, ParseName("a collection name"));
        if (AcceptKeyword("WHERE")) {
            PHENIX_ASSIGN_OR_RETURN(del.where, ParseExpr());
        }
        return del;
    }

    Result<StatementBody> ParseCreate() {
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("CREATE"));
        if (AcceptKeyword("INDEX")) {
            return Wrap(ParseIndexTarget(/*is_drop=*/false));
        }
        if (AcceptKeyword("TENANT")) {
            TenantStmt tenant{.is_use = false};
            tenant.name_pos = Cur().pos;
            PHENIX_ASSIGN_OR_RETURN(tenant.name, ParseName("a tenant name"));
            return StatementBody(std::move(tenant));
        }
        if (AcceptKeyword("ROLE")) {
            return ParseCreateRole();
        }
        if (AcceptKeyword("API")) {
            return ParseCreateApiKey();
        }
        static constexpr std::string_view kWhat[] = {"COLLECTION", "INDEX", "TENANT", "ROLE",
                                                     "API"};
        if (!AcceptKeyword("COLLECTION")) {
            return ErrorExpected("COLLECTION, INDEX, TENANT, ROLE or API KEY", kWhat);
        }
        CreateCollectionStmt create;
        create.name_pos = Cur().pos;
        PHENIX_ASSIGN_OR_RETURN(create.name, ParseName("a collection name"));
        if (AcceptSymbol("(")) {
            PHENIX_RETURN_IF_ERROR(ParseCollectionColumns(create));
        }
        if (AcceptKeyword("WITH")) {
            PHENIX_ASSIGN_OR_RETURN(create.options, ParseOptionList());
        }
        return StatementBody(std::move(create));
    }

    // (DIMENSION n, METRIC m) of CREATE COLLECTION, after its '('.
    Status ParseCollectionColumns(CreateCollectionStmt& create) {
        bool has_dimension = false;
        bool has_metric = false;
        static constexpr std::string_view kOptions[] = {"DIMENSION", "METRIC"};
        do {
            SourcePos option_pos = Cur().pos;
            if (AcceptKeyword("DIMENSION")) {
                if (has_dimension) {
                    return ErrorAt(option_pos, "DIMENSION given twice");
                }
                has_dimension = true;
                if (Cur().kind != TokenKind::kInteger) {
                    return ErrorExpected("a dimension");
                }
                PHENIX_ASSIGN_OR_RETURN(create.dimension, ParseInteger(Cur(), false));
                if (create.dimension == 0) {
                    return ErrorAt(Cur().pos, "the dimension must be positive");
                }
                Next();
            } else if (AcceptKeyword("METRIC")) {
                if (has_metric) {
                    return ErrorAt(option_pos, "METRIC given twice");
                }
                has_metric = true;
                if (Cur().kind != TokenKind::kWord || IsKeywordText(Cur().text)) {
                    return ErrorExpected("a metric (l2, cosine or ip)");
                }
                create.metric = Lower(Cur().text);
                Next();
            } else {
                return ErrorExpected("DIMENSION or METRIC", kOptions);
            }
        } while (AcceptSymbol(","));
        return ExpectSymbol(")");
    }

    Result<IndexStmt> ParseIndexTarget(bool is_drop) {
        IndexStmt index;
        index.is_drop = is_drop;
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("ON"));
        index.name_pos = Cur().pos;
        PHENIX_ASSIGN_OR_RETURN(index.collection, ParseName("a collection name"));
        PHENIX_RETURN_IF_ERROR(ExpectSymbol("("));
        PHENIX_ASSIGN_OR_RETURN(index.path, ParsePath("a metadata path"));
        PHENIX_RETURN_IF_ERROR(ExpectSymbol(")"));
        return index;
    }

    Result<StatementBody> ParseDrop() {
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("DROP"));
        if (AcceptKeyword("INDEX")) {
            return Wrap(ParseIndexTarget(/*is_drop=*/true));
        }
        if (AcceptKeyword("ROLE")) {
            SecurityStatement drop_role{.kind = SecurityStatement::Kind::kDropRole};
            const SourcePos pos = Cur().pos;
            PHENIX_ASSIGN_OR_RETURN(drop_role.role, ParseName("a role name"));
            return Security(std::move(drop_role), pos);
        }
        if (AcceptKeyword("TENANT")) {
            SecurityStatement drop_tenant{.kind = SecurityStatement::Kind::kDropTenant};
            const SourcePos pos = Cur().pos;
            PHENIX_ASSIGN_OR_RETURN(drop_tenant.tenant, ParseName("a tenant name"));
            return Security(std::move(drop_tenant), pos);
        }
        static constexpr std::string_view kWhat[] = {"COLLECTION", "INDEX", "ROLE", "TENANT"};
        if (!AcceptKeyword("COLLECTION")) {
            return ErrorExpected("COLLECTION, INDEX, ROLE or TENANT", kWhat);
        }
        DropCollectionStmt drop;
        drop.name_pos = Cur().pos;
        PHENIX_ASSIGN_OR_RETURN(drop.name, ParseName("a collection name"));
        return StatementBody(std::move(drop));
    }

    // ---- security administration (docs/query-language.md "Roles, grants and API keys")

    static StatementBody Security(SecurityStatement statement, SourcePos pos) {
        return StatementBody(SecurityStmt{.statement = std::move(statement), .pos = pos});
    }

    // read | write | schema | admin
    Result<std::string> ParsePermissionName() {
        static constexpr std::string_view kPermissions[] = {"read", "write", "schema", "admin"};
        if (Cur().kind == TokenKind::kWord) {
            const std::string name = Lower(Cur().text);
            for (std::string_view permission : kPermissions) {
                if (name == permission) {
                    Next();
                    return name;
                }
            }
        }
        return ErrorExpected("a permission (read, write, schema or admin)");
    }

    Result<std::vector<std::string>> ParsePermissionList() {
        std::vector<std::string> permissions;
        do {
            PHENIX_ASSIGN_OR_RETURN(std::string permission, ParsePermissionName());
            permissions.push_back(std::move(permission));
        } while (AcceptSymbol(","));
        return permissions;
    }

    // CREATE ROLE r [WITH PERMISSIONS p, ...]   (after ROLE)
    Result<StatementBody> ParseCreateRole() {
        SecurityStatement create{.kind = SecurityStatement::Kind::kCreateRole};
        const SourcePos pos = Cur().pos;
        PHENIX_ASSIGN_OR_RETURN(create.role, ParseName("a role name"));
        if (AcceptKeyword("WITH")) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("PERMISSIONS"));
            PHENIX_ASSIGN_OR_RETURN(create.permissions, ParsePermissionList());
        }
        return Security(std::move(create), pos);
    }

    // CREATE API KEY FOR ROLE r, ... [EXPIRES IN n SECONDS|MINUTES|HOURS|DAYS]   (after API)
    Result<StatementBody> ParseCreateApiKey() {
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("KEY"));
        SecurityStatement create{.kind = SecurityStatement::Kind::kCreateApiKey};
        const SourcePos pos = Cur().pos;
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("FOR"));
        if (!AcceptKeyword("ROLES")) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("ROLE"));
        }
        do {
            PHENIX_ASSIGN_OR_RETURN(std::string role, ParseName("a role name"));
            create.roles.push_back(std::move(role));
        } while (AcceptSymbol(","));
        if (AcceptKeyword("EXPIRES")) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("IN"));
            const Token& count = Cur();
            if (count.kind != TokenKind::kInteger) {
                return ErrorExpected("a whole number of seconds, minutes, hours or days");
            }
            PHENIX_ASSIGN_OR_RETURN(std::int64_t n, ParseInteger(count, false));
            const SourcePos count_pos = count.pos;
            Next();
            static constexpr struct {
                std::string_view singular, plural;
                std::int64_t seconds;
            } kUnits[] = {{"SECOND", "SECONDS", 1},
                          {"MINUTE", "MINUTES", 60},
                          {"HOUR", "HOURS", 3600},
                          {"DAY", "DAYS", 86400}};
            std::int64_t unit = 0;
            for (const auto& candidate : kUnits) {
                if (AcceptKeyword(candidate.singular) || AcceptKeyword(candidate.plural)) {
                    unit = candidate.seconds;
                    break;
                }
            }
            if (unit == 0) {
                static constexpr std::string_view kWhat[] = {"SECONDS", "MINUTES", "HOURS", "DAYS"};
                return ErrorExpected("SECONDS, MINUTES, HOURS or DAYS", kWhat);
            }
            constexpr std::int64_t kMaxSeconds = 10LL * 366 * 86400;
            if (n < 1 || n > kMaxSeconds / unit) {
                return ErrorAt(count_pos, "an API key expires in 1 second to 10 years");
            }
            create.expires_in_s = n * unit;
        }
        return Security(std::move(create), pos);
    }

    // ALTER TENANT t SET QUOTA (name = value, ...): value an integer, a 'string' (max_bytes'
    // '10GB') or NONE / NULL (no limit). The names and values are checked where it runs.
    Result<StatementBody> ParseAlterTenant() {
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("TENANT"));
        SecurityStatement alter{.kind = SecurityStatement::Kind::kSetQuota};
        const SourcePos pos = Cur().pos;
        PHENIX_ASSIGN_OR_RETURN(alter.tenant, ParseName("a tenant name"));
        // ALTER TENANT t ROTATE KEY: data-key rotation (docs/security.md).
        if (AcceptKeyword("ROTATE")) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("KEY"));
            alter.kind = SecurityStatement::Kind::kRotateKey;
            return Security(std::move(alter), pos);
        }
        if (!IsKeyword(Cur(), "SET")) {
            static constexpr std::string_view kWhat[] = {"SET", "ROTATE"};
            return ErrorExpected("SET QUOTA or ROTATE KEY", kWhat);
        }
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("SET"));
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("QUOTA"));
        PHENIX_RETURN_IF_ERROR(ExpectSymbol("("));
        do {
            SecurityStatement::QuotaSetting setting;
            PHENIX_ASSIGN_OR_RETURN(setting.name, ParseName("a quota name"));
            PHENIX_RETURN_IF_ERROR(ExpectSymbol("="));
            const Token& value = Cur();
            if (value.kind == TokenKind::kInteger) {
                setting.value = std::string(value.text);
            } else if (value.kind == TokenKind::kString) {
                setting.value = value.value;
                setting.is_text = true;
            } else if (IsKeyword(value, "NULL") || IsKeyword(value, "NONE")) {
                setting.is_null = true;
            } else {
                return ErrorExpected("a whole number, a size in quotes ('10GB') or NONE");
            }
            Next();
            alter.quota.push_back(std::move(setting));
        } while (AcceptSymbol(","));
        PHENIX_RETURN_IF_ERROR(ExpectSymbol(")"));
        return Security(std::move(alter), pos);
    }

    // GRANT p, ... ON (TENANT | coll) TO r; REVOKE p, ... ON (TENANT | coll) FROM r;
    // REVOKE API KEY 'id'
    Result<StatementBody> ParseGrantOrRevoke() {
        const SourcePos pos = Cur().pos;
        const bool grant = AcceptKeyword("GRANT");
        if (!grant) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("REVOKE"));
            if (AcceptKeyword("API")) {
                PHENIX_RETURN_IF_ERROR(ExpectKeyword("KEY"));
                if (Cur().kind != TokenKind::kString) {
                    return ErrorExpected("the key's id in single quotes");
                }
                SecurityStatement revoke{.kind = SecurityStatement::Kind::kRevokeApiKey,
                                         .key_id = Cur().value};
                Next();
                return Security(std::move(revoke), pos);
            }
        }
        SecurityStatement statement{.kind = grant ? SecurityStatement::Kind::kGrant
                                                  : SecurityStatement::Kind::kRevoke};
        PHENIX_ASSIGN_OR_RETURN(statement.permissions, ParsePermissionList());
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("ON"));
        if (!AcceptKeyword("TENANT")) {
            PHENIX_ASSIGN_OR_RETURN(statement.collection, ParseName("TENANT or a collection name"));
        }
        PHENIX_RETURN_IF_ERROR(ExpectKeyword(grant ? "TO" : "FROM"));
        PHENIX_ASSIGN_OR_RETURN(statement.role, ParseName("a role name"));
        return Security(std::move(statement), pos);
    }

    Result<CopyStmt> ParseCopy() {
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("COPY"));
        CopyStmt copy;
        copy.name_pos = Cur().pos;
        PHENIX_ASSIGN_OR_RETURN(copy.collection, ParseName("a collection name"));
        static constexpr std::string_view kWhat[] = {"FROM", "TO"};
        if (AcceptKeyword("TO")) {
            copy.is_export = true;
        } else if (!AcceptKeyword("FROM")) {
            return ErrorExpected("FROM or TO", kWhat);
        }
        if (Cur().kind != TokenKind::kString) {
            return ErrorExpected("a file path in single quotes");
        }
        copy.file_path = Cur().value;
        Next();
        if (!copy.is_export && AcceptSymbol("(")) {
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("ON_ERROR"));
            if (Cur().kind != TokenKind::kWord || IsKeywordText(Cur().text)) {
                return ErrorExpected("an ON_ERROR action such as skip");
            }
            copy.on_error = Lower(Cur().text);
            Next();
            PHENIX_RETURN_IF_ERROR(ExpectSymbol(")"));
        }
        return copy;
    }

    // ---- expressions, lowest precedence first: OR, AND, NOT, comparison/IN/IS, distance and
    // ||, + -, * / %, unary minus ----

    Result<Expr> ParseExpr() {
        DepthGuard guard(depth_);
        if (!guard.Add()) {
            return TooDeep();
        }
        return ParseOr();
    }

    static Expr MakeBinary(Op op, Expr left, Expr right) {
        Expr expr;
        expr.kind = ExprKind::kBinary;
        expr.pos = left.pos;
        expr.op = op;
        expr.children.push_back(std::move(left));
        expr.children.push_back(std::move(right));
        return expr;
    }

    // `a OR b OR c` (and AND) is one node with a child per operand: a flat chain adds one level
    // of nesting however long it is, so later stages never recurse once per term.
    Result<Expr> ParseOr() { return ParseChain(Op::kOr, "OR", &Parser::ParseAnd); }
    Result<Expr> ParseAnd() { return ParseChain(Op::kAnd, "AND", &Parser::ParseNot); }

    Result<Expr> ParseChain(Op op, std::string_view keyword, Result<Expr> (Parser::*operand)()) {
        PHENIX_ASSIGN_OR_RETURN(Expr first, (this->*operand)());
        if (!IsKeyword(Cur(), keyword)) {
            return first;
        }
        DepthGuard guard(depth_);
        if (!guard.Add()) {
            return TooDeep();
        }
        Expr chain;
        chain.kind = ExprKind::kBinary;
        chain.op = op;
        chain.pos = first.pos;
        chain.children.push_back(std::move(first));
        while (AcceptKeyword(keyword)) {
            PHENIX_ASSIGN_OR_RETURN(Expr next, (this->*operand)());
            chain.children.push_back(std::move(next));
        }
        return chain;
    }

    Result<Expr> ParseNot() {
        if (!IsKeyword(Cur(), "NOT")) {
            return ParseComparison();
        }
        DepthGuard guard(depth_);
        if (!guard.Add()) {
            return TooDeep();
        }
        Expr expr;
        expr.kind = ExprKind::kUnary;
        expr.op = Op::kNot;
        expr.pos = Cur().pos;
        Next();
        PHENIX_ASSIGN_OR_RETURN(Expr operand, ParseNot());
        expr.children.push_back(std::move(operand));
        return expr;
    }

    static std::optional<Op> ComparisonOp(const Token& token) {
        if (token.kind != TokenKind::kSymbol) {
            return std::nullopt;
        }
        static constexpr std::pair<std::string_view, Op> kOps[] = {
            {"=", Op::kEq},  {"!=", Op::kNe}, {"<>", Op::kNe}, {"<", Op::kLt},
            {"<=", Op::kLe}, {">", Op::kGt},  {">=", Op::kGe},
        };
        for (const auto& [text, op] : kOps) {
            if (token.text == text) {
                return op;
            }
        }
        return std::nullopt;
    }

    Result<Expr> ParseComparison() {
        PHENIX_ASSIGN_OR_RETURN(Expr left, ParseDistance());
        if (std::optional<Op> op = ComparisonOp(Cur())) {
            Next();
            PHENIX_ASSIGN_OR_RETURN(Expr right, ParseDistance());
            return MakeBinary(*op, std::move(left), std::move(right));
        }
        if (AcceptKeyword("IS")) {
            Expr expr;
            expr.kind = ExprKind::kIsNull;
            expr.pos = left.pos;
            expr.is_negated = AcceptKeyword("NOT");
            if (IsKeyword(Cur(), "TRUE") || IsKeyword(Cur(), "FALSE")) {
                expr.kind = ExprKind::kIsBool;
                expr.bool_value = IsKeyword(Cur(), "TRUE");
                Next();
            } else if (!AcceptKeyword("NULL")) {
                static constexpr std::string_view kAfterIs[] = {"NULL", "TRUE", "FALSE"};
                return ErrorExpected("NULL, TRUE or FALSE", kAfterIs);
            }
            expr.children.push_back(std::move(left));
            return expr;
        }
        bool is_negated = false;
        if (IsKeyword(Cur(), "NOT") && (IsKeyword(Ahead(1), "IN") || IsKeyword(Ahead(1), "LIKE"))) {
            is_negated = true;
            Next();
        }
        // LIKE and ESCAPE are words only here (not reserved), so fields named like them still
        // read as fields.
        if (IsKeyword(Cur(), "LIKE")) {
            Next();
            Expr expr;
            expr.kind = ExprKind::kLike;
            expr.pos = left.pos;
            expr.is_negated = is_negated;
            expr.children.push_back(std::move(left));
            PHENIX_ASSIGN_OR_RETURN(Expr pattern, ParseDistance());
            expr.children.push_back(std::move(pattern));
            if (IsKeyword(Cur(), "ESCAPE")) {
                Next();
                PHENIX_ASSIGN_OR_RETURN(Expr escape, ParseDistance());
                expr.children.push_back(std::move(escape));
            }
            return expr;
        }
        if (AcceptKeyword("IN")) {
            Expr expr;
            expr.kind = ExprKind::kIn;
            expr.pos = left.pos;
            expr.is_negated = is_negated;
            expr.children.push_back(std::move(left));
            PHENIX_RETURN_IF_ERROR(ExpectSymbol("("));
            do {
                PHENIX_ASSIGN_OR_RETURN(Expr value, ParseExpr());
                expr.children.push_back(std::move(value));
            } while (AcceptSymbol(","));
            PHENIX_RETURN_IF_ERROR(ExpectSymbol(")"));
            return expr;
        }
        return left;
    }

    static std::optional<Op> DistanceOp(const Token& token) {
        if (IsSymbol(token, "<->")) {
            return Op::kL2Distance;
        }
        if (IsSymbol(token, "<=>")) {
            return Op::kCosineDistance;
        }
        if (IsSymbol(token, "<#>")) {
            return Op::kNegInnerProduct;
        }
        // || binds like the distance operators (PostgreSQL gives all such operators one level).
        if (IsSymbol(token, "||")) {
            return Op::kConcat;
        }
        return std::nullopt;
    }

    Result<Expr> ParseDistance() {
        return ParseLeftChain(&Parser::DistanceOp, &Parser::ParseAdditive);
    }

    static std::optional<Op> AdditiveOp(const Token& token) {
        if (IsSymbol(token, "+")) {
            return Op::kAdd;
        }
        if (IsSymbol(token, "-")) {
            return Op::kSub;
        }
        return std::nullopt;
    }

    static std::optional<Op> MultiplicativeOp(const Token& token) {
        if (IsSymbol(token, "*")) {
            return Op::kMul;
        }
        if (IsSymbol(token, "/")) {
            return Op::kDiv;
        }
        if (IsSymbol(token, "%")) {
            return Op::kMod;
        }
        return std::nullopt;
    }

    Result<Expr> ParseAdditive() {
        return ParseLeftChain(&Parser::AdditiveOp, &Parser::ParseMultiplicative);
    }
    Result<Expr> ParseMultiplicative() {
        return ParseLeftChain(&Parser::MultiplicativeOp, &Parser::ParseUnary);
    }

    // `a op b op c` of one precedence level, nested to the left; each link is one level deeper.
    Result<Expr> ParseLeftChain(std::optional<Op> (*op_of)(const Token&),
                                Result<Expr> (Parser::*operand)()) {
        DepthGuard guard(depth_);
        PHENIX_ASSIGN_OR_RETURN(Expr left, (this->*operand)());
        while (std::optional<Op> op = op_of(Cur())) {
            if (!guard.Add()) {
                return TooDeep();
            }
            Next();
            PHENIX_ASSIGN_OR_RETURN(Expr right, (this->*operand)());
            left = MakeBinary(*op, std::move(left), std::move(right));
        }
        return left;
    }

    // Unary minus. A minus directly before a number is part of the literal (-5 is the integer
    // -5, so -9223372036854775808 is representable); before anything else it negates.
    Result<Expr> ParseUnary() {
        if (!IsSymbol(Cur(), "-") || Ahead(1).kind == TokenKind::kInteger ||
            Ahead(1).kind == TokenKind::kFloat) {
            return ParsePrimary();
        }
        DepthGuard guard(depth_);
        if (!guard.Add()) {
            return TooDeep();
        }
        Expr expr;
        expr.kind = ExprKind::kUnary;
        expr.op = Op::kNeg;
        expr.pos = Cur().pos;
        Next();
        PHENIX_ASSIGN_OR_RETURN(Expr operand, ParseUnary());
        expr.children.push_back(std::move(operand));
        return expr;
    }

    Result<Expr> ParseVector() {
        Expr expr;
        expr.kind = ExprKind::kVector;
        expr.pos = Cur().pos;
        PHENIX_RETURN_IF_ERROR(ExpectSymbol("["));
        if (AcceptSymbol("]")) {
            return expr;
        }
        // The hot path of every vector query (hundreds of numbers): read each number token
        // straight into a double, without building an Expr for it.
        do {
            bool is_negative = false;
            if (IsSymbol(Cur(), "-") &&
                (Ahead(1).kind == TokenKind::kInteger || Ahead(1).kind == TokenKind::kFloat)) {
                is_negative = true;
                Next();
            }
            const Token& token = Cur();
            if (token.kind != TokenKind::kInteger && token.kind != TokenKind::kFloat) {
                return ErrorExpected("a number");
            }
            double value = 0;
            const char* end = token.text.data() + token.text.size();
            const auto [ptr, ec] = std::from_chars(token.text.data(), end, value);
            if (ec != std::errc() || ptr != end) {
                return ErrorAt(token.pos, "number " + std::string(is_negative ? "-" : "") +
                                              std::string(token.text) + " is out of range");
            }
            expr.vector_value.push_back(is_negative ? -value : value);
            Next();
        } while (AcceptSymbol(","));
        PHENIX_RETURN_IF_ERROR(ExpectSymbol("]"));
        return expr;
    }

    Result<Expr> ParsePrimary() {
        const Token& token = Cur();
        Expr expr;
        expr.pos = token.pos;
        switch (token.kind) {
            case TokenKind::kInteger:
            case TokenKind::kFloat:
                return ParseNumber();
            case TokenKind::kString:
                expr.kind = ExprKind::kString;
                expr.text = token.value;
                Next();
                return expr;
            case TokenKind::kParam:
                expr.kind = ExprKind::kParam;
                expr.text = token.value;
                Next();
                return expr;
            case TokenKind::kJson:
                expr.kind = ExprKind::kJson;
                expr.text = std::string(token.text);
                Next();
                return expr;
            case TokenKind::kSymbol:
                if (IsSymbol(token, "(")) {
                    Next();
                    PHENIX_ASSIGN_OR_RETURN(expr, ParseExpr());
                    PHENIX_RETURN_IF_ERROR(ExpectSymbol(")"));
                    return expr;
                }
                if (IsSymbol(token, "[")) {
                    return ParseVector();
                }
                if (IsSymbol(token, "-") &&
                    (Ahead(1).kind == TokenKind::kInteger || Ahead(1).kind == TokenKind::kFloat)) {
                    return ParseNumber();
                }
                return ErrorExpected("an expression");
            case TokenKind::kWord:
                if (AcceptKeyword("NULL")) {
                    expr.kind = ExprKind::kNull;
                    return expr;
                }
                if (IsKeyword(token, "TRUE") || IsKeyword(token, "FALSE")) {
                    expr.kind = ExprKind::kBool;
                    expr.bool_value = IsKeyword(token, "TRUE");
                    Next();
                    return expr;
                }
                if (IsSymbol(Ahead(1), "(") && !IsKeywordText(token.text)) {
                    return ParseCall();
                }
                break;
            case TokenKind::kQuotedIdent:
                break;
            case TokenKind::kEnd:
                return ErrorExpected("an expression");
        }
        if (token.kind == TokenKind::kWord && IsKeywordText(token.text)) {
            return ErrorExpected("an expression");
        }
        expr.kind = ExprKind::kPath;
        PHENIX_ASSIGN_OR_RETURN(expr.path, ParsePath("an expression"));
        return expr;
    }

    Result<Expr> ParseCall() {
        Expr expr;
        expr.kind = ExprKind::kCall;
        expr.pos = Cur().pos;
        expr.text = Lower(Cur().text);
        Next();
        PHENIX_RETURN_IF_ERROR(ExpectSymbol("("));
        if (AcceptSymbol("*")) {
            expr.is_star = true;
        } else if (!IsSymbol(Cur(), ")")) {
            do {
                PHENIX_ASSIGN_OR_RETURN(Expr arg, ParseExpr());
                expr.children.push_back(std::move(arg));
            } while (AcceptSymbol(","));
        }
        PHENIX_RETURN_IF_ERROR(ExpectSymbol(")"));
        return expr;
    }

    std::vector<Token> tokens_;
    std::size_t idx_ = 0;
    int depth_ = 0;
};

}  // namespace

namespace internal {
bool IsReservedWord(std::string_view word) {
    return IsKeywordText(word);
}
}  // namespace internal

Result<Statement> ParseStatement(std::string_view text) {
    PHENIX_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(text));
    return Parser(std::move(tokens)).ParseOne();
}

Result<std::vector<Statement>> ParseScript(std::string_view text) {
    PHENIX_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(text));
    return Parser(std::move(tokens)).ParseScript();
}

}  // namespace phenix::query
