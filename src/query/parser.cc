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
    "ANALYZE",  "AND",    "AS",     "ASC",      "BEGIN",  "BY",       "COLLECTION", "COLLECTIONS",
    "COMMIT",   "COPY",   "CREATE", "DELETE",   "DESC",   "DESCRIBE", "DIMENSION",  "DROP",
    "EXPLAIN",  "FALSE",  "FROM",   "GROUP",    "IN",     "INDEX",    "INSERT",     "INTO",
    "IS",       "LIMIT",  "MATCH",  "METRIC",   "NOT",    "NULL",     "OF",         "ON",
    "ON_ERROR", "OR",     "ORDER",  "ROLLBACK", "SELECT", "SET",      "SHOW",       "TO",
    "TRUE",     "UPDATE", "VALUES", "WHERE",    "WITH",
};

constexpr std::string_view kStatementKeywords[] = {
    "SELECT",   "INSERT", "UPDATE", "DELETE",   "CREATE",  "DROP", "SHOW",
    "DESCRIBE", "BEGIN",  "COMMIT", "ROLLBACK", "EXPLAIN", "COPY",
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

// Levenshtein distance, only for short words (callers cap the lengths).
std::size_t EditDistance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1);
    std::vector<std::size_t> cur(b.size() + 1);
    for (std::size_t col = 0; col <= b.size(); ++col) {
        prev[col] = col;
    }
    for (std::size_t row = 1; row <= a.size(); ++row) {
        cur[0] = row;
        for (std::size_t col = 1; col <= b.size(); ++col) {
            std::size_t cost = a[row - 1] == b[col - 1] ? 0 : 1;
            cur[col] = std::min({prev[col] + 1, cur[col - 1] + 1, prev[col - 1] + cost});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
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

bool IsPlainIdentifier(std::string_view text) {
    if (text.empty()) {
        return false;
    }
    auto is_start = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    };
    if (!is_start(text[0])) {
        return false;
    }
    return std::all_of(text.begin() + 1, text.end(),
                       [&](char c) { return is_start(c) || (c >= '0' && c <= '9'); });
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
    // Counts the depth of the expression tree being built (parentheses, NOT, and each link of an
    // operator chain, which nests the tree to the left) and gives it back on exit.
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
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("COLLECTIONS"));
            return StatementBody(ShowCollectionsStmt{});
        }
        if (AcceptKeyword("DESCRIBE")) {
            DescribeStmt describe;
            PHENIX_ASSIGN_OR_RETURN(describe.collection, ParseName("a collection name"));
            return StatementBody(std::move(describe));
        }
        if (AcceptKeyword("BEGIN")) {
            return StatementBody(TxnStmt{.action = TxnAction::kBegin});
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
        return ErrorExpected("a statement", kStatementKeywords);
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
        } else {
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
        if (AcceptKeyword("WITH")) {
            PHENIX_RETURN_IF_ERROR(ExpectSymbol("("));
            do {
                OptionItem option;
                PHENIX_ASSIGN_OR_RETURN(std::string name, ParseName("an option name"));
                option.name = Lower(name);
                PHENIX_RETURN_IF_ERROR(ExpectSymbol("="));
                PHENIX_ASSIGN_OR_RETURN(option.value, ParsePrimary());
                select.options.push_back(std::move(option));
            } while (AcceptSymbol(","));
            PHENIX_RETURN_IF_ERROR(ExpectSymbol(")"));
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
        return insert;
    }

    Result<UpdateStmt> ParseUpdate() {
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("UPDATE"));
        UpdateStmt update;
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
        static constexpr std::string_view kWhat[] = {"COLLECTION", "INDEX"};
        if (!AcceptKeyword("COLLECTION")) {
            return ErrorExpected("COLLECTION or INDEX", kWhat);
        }
        CreateCollectionStmt create;
        PHENIX_ASSIGN_OR_RETURN(create.name, ParseName("a collection name"));
        if (!AcceptSymbol("(")) {
            return StatementBody(std::move(create));
        }
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
        PHENIX_RETURN_IF_ERROR(ExpectSymbol(")"));
        return StatementBody(std::move(create));
    }

    Result<IndexStmt> ParseIndexTarget(bool is_drop) {
        IndexStmt index;
        index.is_drop = is_drop;
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("ON"));
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
        static constexpr std::string_view kWhat[] = {"COLLECTION", "INDEX"};
        if (!AcceptKeyword("COLLECTION")) {
            return ErrorExpected("COLLECTION or INDEX", kWhat);
        }
        DropCollectionStmt drop;
        PHENIX_ASSIGN_OR_RETURN(drop.name, ParseName("a collection name"));
        return StatementBody(std::move(drop));
    }

    Result<CopyStmt> ParseCopy() {
        PHENIX_RETURN_IF_ERROR(ExpectKeyword("COPY"));
        CopyStmt copy;
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

    // ---- expressions, lowest precedence first: OR, AND, NOT, comparison/IN/IS, distance ----

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

    Result<Expr> ParseOr() {
        DepthGuard guard(depth_);
        PHENIX_ASSIGN_OR_RETURN(Expr left, ParseAnd());
        while (AcceptKeyword("OR")) {
            if (!guard.Add()) {
                return TooDeep();
            }
            PHENIX_ASSIGN_OR_RETURN(Expr right, ParseAnd());
            left = MakeBinary(Op::kOr, std::move(left), std::move(right));
        }
        return left;
    }

    Result<Expr> ParseAnd() {
        DepthGuard guard(depth_);
        PHENIX_ASSIGN_OR_RETURN(Expr left, ParseNot());
        while (AcceptKeyword("AND")) {
            if (!guard.Add()) {
                return TooDeep();
            }
            PHENIX_ASSIGN_OR_RETURN(Expr right, ParseNot());
            left = MakeBinary(Op::kAnd, std::move(left), std::move(right));
        }
        return left;
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
            PHENIX_RETURN_IF_ERROR(ExpectKeyword("NULL"));
            expr.children.push_back(std::move(left));
            return expr;
        }
        bool is_negated = false;
        if (IsKeyword(Cur(), "NOT") && IsKeyword(Ahead(1), "IN")) {
            is_negated = true;
            Next();
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
        return std::nullopt;
    }

    Result<Expr> ParseDistance() {
        DepthGuard guard(depth_);
        PHENIX_ASSIGN_OR_RETURN(Expr left, ParsePrimary());
        while (std::optional<Op> op = DistanceOp(Cur())) {
            if (!guard.Add()) {
                return TooDeep();
            }
            Next();
            PHENIX_ASSIGN_OR_RETURN(Expr right, ParsePrimary());
            left = MakeBinary(*op, std::move(left), std::move(right));
        }
        return left;
    }

    Result<Expr> ParseVector() {
        Expr expr;
        expr.kind = ExprKind::kVector;
        expr.pos = Cur().pos;
        PHENIX_RETURN_IF_ERROR(ExpectSymbol("["));
        if (AcceptSymbol("]")) {
            return expr;
        }
        do {
            if (Cur().kind != TokenKind::kInteger && Cur().kind != TokenKind::kFloat &&
                !IsSymbol(Cur(), "-")) {
                return ErrorExpected("a number");
            }
            PHENIX_ASSIGN_OR_RETURN(Expr number, ParseNumber());
            expr.vector_value.push_back(number.kind == ExprKind::kInt
                                            ? static_cast<double>(number.int_value)
                                            : number.float_value);
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

// ---- printing ----

std::string QuoteName(std::string_view name) {
    if (IsPlainIdentifier(name) && !IsKeywordText(name)) {
        return std::string(name);
    }
    std::string out = "\"";
    for (char c : name) {
        if (c == '"') {
            out += '"';
        }
        out += c;
    }
    return out + "\"";
}

std::string PathText(const std::vector<std::string>& path) {
    std::string out;
    for (std::size_t idx = 0; idx < path.size(); ++idx) {
        if (idx > 0) {
            out += '.';
        }
        out += QuoteName(path[idx]);
    }
    return out;
}

std::string FloatText(double value) {
    std::array<char, 64> buffer{};
    auto [ptr, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    std::string out(buffer.data(), ec == std::errc() ? ptr : buffer.data());
    if (out.find_first_of(".en") == std::string::npos) {
        out += ".0";  // keep it a float when read back
    }
    return out;
}

std::string NumberText(double value) {
    std::array<char, 64> buffer{};
    auto [ptr, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    return std::string(buffer.data(), ec == std::errc() ? ptr : buffer.data());
}

// Precedence levels for parenthesizing: higher binds tighter.
constexpr int kLevelOr = 1;
constexpr int kLevelAnd = 2;
constexpr int kLevelNot = 3;
constexpr int kLevelCompare = 4;
constexpr int kLevelDistance = 5;
constexpr int kLevelPrimary = 6;

int Level(const Expr& expr) {
    switch (expr.kind) {
        case ExprKind::kUnary:
            return kLevelNot;
        case ExprKind::kIn:
        case ExprKind::kIsNull:
            return kLevelCompare;
        case ExprKind::kBinary:
            switch (expr.op) {
                case Op::kOr:
                    return kLevelOr;
                case Op::kAnd:
                    return kLevelAnd;
                case Op::kL2Distance:
                case Op::kCosineDistance:
                case Op::kNegInnerProduct:
                    return kLevelDistance;
                default:
                    return kLevelCompare;
            }
        default:
            return kLevelPrimary;
    }
}

std::string_view OpText(Op op) {
    switch (op) {
        case Op::kNone:
            return "?";
        case Op::kOr:
            return "OR";
        case Op::kAnd:
            return "AND";
        case Op::kNot:
            return "NOT";
        case Op::kEq:
            return "=";
        case Op::kNe:
            return "!=";
        case Op::kLt:
            return "<";
        case Op::kLe:
            return "<=";
        case Op::kGt:
            return ">";
        case Op::kGe:
            return ">=";
        case Op::kL2Distance:
            return "<->";
        case Op::kCosineDistance:
            return "<=>";
        case Op::kNegInnerProduct:
            return "<#>";
    }
    return "?";
}

std::string ExprText(const Expr& expr);

// The child printed at `min_level` or tighter, parenthesized otherwise.
std::string ChildText(const Expr& child, int min_level) {
    std::string text = ExprText(child);
    return Level(child) < min_level ? "(" + text + ")" : text;
}

std::string ListText(const std::vector<Expr>& exprs, std::size_t first) {
    std::string out;
    for (std::size_t idx = first; idx < exprs.size(); ++idx) {
        if (idx > first) {
            out += ", ";
        }
        out += ExprText(exprs[idx]);
    }
    return out;
}

std::string ExprText(const Expr& expr) {
    switch (expr.kind) {
        case ExprKind::kNull:
            return "NULL";
        case ExprKind::kBool:
            return expr.bool_value ? "TRUE" : "FALSE";
        case ExprKind::kInt:
            return std::to_string(expr.int_value);
        case ExprKind::kFloat:
            return FloatText(expr.float_value);
        case ExprKind::kString: {
            std::string out = "'";
            for (char c : expr.text) {
                if (c == '\'') {
                    out += '\'';
                }
                out += c;
            }
            return out + "'";
        }
        case ExprKind::kVector: {
            std::string out = "[";
            for (std::size_t idx = 0; idx < expr.vector_value.size(); ++idx) {
                if (idx > 0) {
                    out += ", ";
                }
                out += NumberText(expr.vector_value[idx]);
            }
            return out + "]";
        }
        case ExprKind::kJson:
            return expr.text;
        case ExprKind::kParam:
            return "$" + expr.text;
        case ExprKind::kPath:
            return PathText(expr.path);
        case ExprKind::kStar:
            return "*";
        case ExprKind::kCall:
            return QuoteName(expr.text) + "(" + (expr.is_star ? "*" : ListText(expr.children, 0)) +
                   ")";
        case ExprKind::kUnary:
            return "NOT " + ChildText(expr.children[0], kLevelNot);
        case ExprKind::kBinary: {
            int level = Level(expr);
            // Left-associative chains keep their shape; comparisons do not chain.
            int left_level = level == kLevelCompare ? level + 1 : level;
            return ChildText(expr.children[0], left_level) + " " + std::string(OpText(expr.op)) +
                   " " + ChildText(expr.children[1], level + 1);
        }
        case ExprKind::kIn:
            return ChildText(expr.children[0], kLevelDistance) +
                   (expr.is_negated ? " NOT IN (" : " IN (") + ListText(expr.children, 1) + ")";
        case ExprKind::kIsNull:
            return ChildText(expr.children[0], kLevelDistance) +
                   (expr.is_negated ? " IS NOT NULL" : " IS NULL");
    }
    return "";
}

std::string HopsText(const EdgePattern& edge) {
    if (edge.min_hops == 1 && edge.max_hops == 1u) {
        return "";
    }
    if (edge.max_hops == edge.min_hops) {
        return "*" + std::to_string(edge.min_hops);
    }
    return "*" + std::to_string(edge.min_hops) + ".." +
           (edge.max_hops.has_value() ? std::to_string(*edge.max_hops) : "");
}

std::string MatchText(const MatchPattern& match) {
    auto node_text = [](const NodePattern& node) {
        std::string out = "(";
        if (!node.variable.empty()) {
            out += QuoteName(node.variable);
        }
        if (!node.collection.empty()) {
            out += ":" + QuoteName(node.collection);
        }
        return out + ")";
    };
    std::string out = node_text(match.nodes[0]);
    for (std::size_t idx = 0; idx < match.edges.size(); ++idx) {
        const EdgePattern& edge = match.edges[idx];
        std::string inner;
        if (!edge.variable.empty()) {
            inner += QuoteName(edge.variable);
        }
        if (!edge.label.empty()) {
            inner += ":" + QuoteName(edge.label);
        }
        inner += HopsText(edge);
        if (edge.where.has_value()) {
            inner += (inner.empty() ? "WHERE " : " WHERE ") + ExprText(*edge.where);
        }
        out += edge.direction == EdgeDirection::kIn ? "<-[" : "-[";
        out += inner;
        out += edge.direction == EdgeDirection::kOut ? "]->" : "]-";
        if (idx + 1 < match.nodes.size()) {
            out += node_text(match.nodes[idx + 1]);
        }
    }
    return out;
}

struct BodyPrinter {
    std::string operator()(const SelectStmt& select) const {
        std::string out = "SELECT ";
        for (std::size_t idx = 0; idx < select.items.size(); ++idx) {
            if (idx > 0) {
                out += ", ";
            }
            out += ExprText(select.items[idx].expr);
            if (!select.items[idx].alias.empty()) {
                out += " AS " + QuoteName(select.items[idx].alias);
            }
        }
        out += " FROM ";
        out += select.match.has_value() ? "MATCH " + MatchText(*select.match)
                                        : QuoteName(select.collection);
        if (select.as_of.has_value()) {
            out += " AS OF " + ExprText(*select.as_of);
        }
        if (select.where.has_value()) {
            out += " WHERE " + ExprText(*select.where);
        }
        if (!select.group_by.empty()) {
            out += " GROUP BY " + ListText(select.group_by, 0);
        }
        for (std::size_t idx = 0; idx < select.order_by.size(); ++idx) {
            out += idx == 0 ? " ORDER BY " : ", ";
            out += ExprText(select.order_by[idx].expr);
            if (select.order_by[idx].is_descending) {
                out += " DESC";
            }
        }
        if (select.limit.has_value()) {
            out += " LIMIT " + ExprText(*select.limit);
        }
        for (std::size_t idx = 0; idx < select.options.size(); ++idx) {
            out += idx == 0 ? " WITH (" : ", ";
            out +=
                QuoteName(select.options[idx].name) + " = " + ExprText(select.options[idx].value);
        }
        if (!select.options.empty()) {
            out += ")";
        }
        return out;
    }
    std::string operator()(const CreateCollectionStmt& create) const {
        std::string out = "CREATE COLLECTION " + QuoteName(create.name);
        std::vector<std::string> options;
        if (create.dimension != 0) {
            options.push_back("DIMENSION " + std::to_string(create.dimension));
        }
        if (!create.metric.empty()) {
            options.push_back("METRIC " + create.metric);
        }
        for (std::size_t idx = 0; idx < options.size(); ++idx) {
            out += (idx == 0 ? " (" : ", ") + options[idx];
        }
        return options.empty() ? out : out + ")";
    }
    std::string operator()(const IndexStmt& index) const {
        return std::string(index.is_drop ? "DROP" : "CREATE") + " INDEX ON " +
               QuoteName(index.collection) + " (" + PathText(index.path) + ")";
    }
    std::string operator()(const DropCollectionStmt& drop) const {
        return "DROP COLLECTION " + QuoteName(drop.name);
    }
    std::string operator()(const ShowCollectionsStmt&) const { return "SHOW COLLECTIONS"; }
    std::string operator()(const DescribeStmt& describe) const {
        return "DESCRIBE " + QuoteName(describe.collection);
    }
    std::string operator()(const InsertStmt& insert) const {
        std::string out = "INSERT INTO " + QuoteName(insert.collection) + " (";
        for (std::size_t idx = 0; idx < insert.columns.size(); ++idx) {
            out += (idx == 0 ? "" : ", ") + QuoteName(insert.columns[idx]);
        }
        out += ") VALUES ";
        for (std::size_t idx = 0; idx < insert.rows.size(); ++idx) {
            out += (idx == 0 ? "(" : ", (") + ListText(insert.rows[idx], 0) + ")";
        }
        return out;
    }
    std::string operator()(const UpdateStmt& update) const {
        std::string out = "UPDATE " + QuoteName(update.collection) + " SET ";
        for (std::size_t idx = 0; idx < update.assignments.size(); ++idx) {
            out += (idx == 0 ? "" : ", ") + PathText(update.assignments[idx].path) + " = " +
                   ExprText(update.assignments[idx].value);
        }
        if (update.where.has_value()) {
            out += " WHERE " + ExprText(*update.where);
        }
        return out;
    }
    std::string operator()(const DeleteStmt& del) const {
        std::string out = "DELETE FROM " + QuoteName(del.collection);
        if (del.where.has_value()) {
            out += " WHERE " + ExprText(*del.where);
        }
        return out;
    }
    std::string operator()(const TxnStmt& txn) const {
        switch (txn.action) {
            case TxnAction::kBegin:
                return "BEGIN";
            case TxnAction::kCommit:
                return "COMMIT";
            case TxnAction::kRollback:
                return "ROLLBACK";
        }
        return "";
    }
    std::string operator()(const CopyStmt& copy) const {
        Expr path;
        path.kind = ExprKind::kString;
        path.text = copy.file_path;
        std::string out = "COPY " + QuoteName(copy.collection) +
                          (copy.is_export ? " TO " : " FROM ") + ExprText(path);
        if (!copy.on_error.empty()) {
            out += " (ON_ERROR " + QuoteName(copy.on_error) + ")";
        }
        return out;
    }
};

}  // namespace

Result<Statement> ParseStatement(std::string_view text) {
    PHENIX_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(text));
    return Parser(std::move(tokens)).ParseOne();
}

Result<std::vector<Statement>> ParseScript(std::string_view text) {
    PHENIX_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(text));
    return Parser(std::move(tokens)).ParseScript();
}

std::string ToString(const Expr& expr) {
    return ExprText(expr);
}

std::string ToString(const Statement& statement) {
    std::string prefix;
    if (statement.explain == ExplainMode::kExplain) {
        prefix = "EXPLAIN ";
    } else if (statement.explain == ExplainMode::kExplainAnalyze) {
        prefix = "EXPLAIN ANALYZE ";
    }
    return prefix + std::visit(BodyPrinter{}, statement.body);
}

}  // namespace phenix::query
