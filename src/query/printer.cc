// SPDX-License-Identifier: Apache-2.0
//
// The canonical PhenixQL printer (ToString in parser.h): names are quoted only when needed,
// floats keep a fraction or exponent, and operators are parenthesized by precedence, so that
// ParseStatement(ToString(s)) == s.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "query/parser.h"

namespace phenix::query {
namespace {

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

std::string QuoteName(std::string_view name) {
    if (IsPlainIdentifier(name) && !internal::IsReservedWord(name)) {
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

// Vector elements: whole numbers print as integers ([1, 2]), except past 1e18, where the parser
// would reject the digits as an out-of-range integer; those keep an exponent.
std::string NumberText(double value) {
    constexpr double kMaxPlainWhole = 1e18;
    std::array<char, 64> buffer{};
    auto [ptr, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    std::string out(buffer.data(), ec == std::errc() ? ptr : buffer.data());
    if (out.find_first_of(".en") == std::string::npos && std::fabs(value) >= kMaxPlainWhole) {
        auto [sci_ptr, sci_ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                               std::chars_format::scientific);
        out.assign(buffer.data(), sci_ec == std::errc() ? sci_ptr : buffer.data());
    }
    return out;
}

// Precedence levels for parenthesizing: higher binds tighter.
constexpr int kLevelOr = 1;
constexpr int kLevelAnd = 2;
constexpr int kLevelNot = 3;
constexpr int kLevelCompare = 4;
constexpr int kLevelDistance = 5;
constexpr int kLevelAdditive = 6;
constexpr int kLevelMultiplicative = 7;
constexpr int kLevelNegate = 8;
constexpr int kLevelPrimary = 9;

int Level(const Expr& expr) {
    switch (expr.kind) {
        case ExprKind::kUnary:
            return expr.op == Op::kNeg ? kLevelNegate : kLevelNot;
        case ExprKind::kIn:
        case ExprKind::kIsNull:
        case ExprKind::kIsBool:
        case ExprKind::kLike:
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
                case Op::kConcat:
                    return kLevelDistance;
                case Op::kAdd:
                case Op::kSub:
                    return kLevelAdditive;
                case Op::kMul:
                case Op::kDiv:
                case Op::kMod:
                    return kLevelMultiplicative;
                default:
                    return kLevelCompare;
            }
        default:
            return kLevelPrimary;
    }
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
        case ExprKind::kUnary: {
            if (expr.op != Op::kNeg) {
                return "NOT " + ChildText(expr.children[0], kLevelNot);
            }
            // -(5) stays a negation (-5 reads back as a literal), and -(-x) never prints as
            // --x, which would start a comment.
            const Expr& operand = expr.children[0];
            std::string text = ChildText(operand, kLevelNegate);
            const bool is_number =
                operand.kind == ExprKind::kInt || operand.kind == ExprKind::kFloat;
            if (is_number || text.starts_with('-')) {
                return "-(" + text + ")";
            }
            return "-" + text;
        }
        case ExprKind::kBinary: {
            int level = Level(expr);
            if (expr.op == Op::kAnd || expr.op == Op::kOr) {
                // A flat chain; a nested chain of the same operator keeps its parentheses.
                std::string out;
                for (std::size_t idx = 0; idx < expr.children.size(); ++idx) {
                    if (idx > 0) {
                        out += expr.op == Op::kAnd ? " AND " : " OR ";
                    }
                    out += ChildText(expr.children[idx], level + 1);
                }
                return out;
            }
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
        case ExprKind::kIsBool:
            return ChildText(expr.children[0], kLevelDistance) +
                   (expr.is_negated ? " IS NOT " : " IS ") + (expr.bool_value ? "TRUE" : "FALSE");
        case ExprKind::kLike:
            return ChildText(expr.children[0], kLevelDistance) +
                   (expr.is_negated ? " NOT LIKE " : " LIKE ") +
                   ChildText(expr.children[1], kLevelDistance) +
                   (expr.children.size() > 2
                        ? " ESCAPE " + ChildText(expr.children[2], kLevelDistance)
                        : "");
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

// name(args, option = value): the name and option names bare (the parser reads any word there).
std::string TableFunctionText(const TableFunctionCall& call) {
    std::string out = call.name + "(" + ListText(call.args, 0);
    for (std::size_t idx = 0; idx < call.named_args.size(); ++idx) {
        out += (idx == 0 && call.args.empty() ? "" : ", ") + call.named_args[idx].name + " = " +
               ExprText(call.named_args[idx].value);
    }
    return out + ")";
}

// WITH (name = value, ...), or nothing for no options.
std::string OptionListText(const std::vector<OptionItem>& options) {
    std::string out;
    for (std::size_t idx = 0; idx < options.size(); ++idx) {
        out += idx == 0 ? " WITH (" : ", ";
        out += QuoteName(options[idx].name) + " = " + ExprText(options[idx].value);
    }
    return options.empty() ? out : out + ")";
}

struct BodyPrinter {
    bool redact = false;  // ToRedactedString: the string fields that are not expressions too

    // A string value that the AST keeps outside an expression, as a literal (or `?`).
    [[nodiscard]] std::string StringText(const std::string& text) const {
        if (redact) {
            return "?";
        }
        Expr literal;
        literal.kind = ExprKind::kString;
        literal.text = text;
        return ExprText(literal);
    }

    std::string operator()(const SelectStmt& select) const {
        std::string out = select.distinct ? "SELECT DISTINCT " : "SELECT ";
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
        if (select.table_function.has_value()) {
            out += TableFunctionText(*select.table_function);
        } else {
            out += select.match.has_value() ? "MATCH " + MatchText(*select.match)
                                            : QuoteName(select.collection);
        }
        if (select.as_of.has_value()) {
            out += " AS OF " + ExprText(*select.as_of);
        }
        if (select.where.has_value()) {
            out += " WHERE " + ExprText(*select.where);
        }
        if (!select.group_by.empty()) {
            out += " GROUP BY " + ListText(select.group_by, 0);
        }
        if (select.having.has_value()) {
            out += " HAVING " + ExprText(*select.having);
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
        if (select.offset.has_value()) {
            out += " OFFSET " + ExprText(*select.offset);
        }
        return out + OptionListText(select.options);
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
        if (!options.empty()) {
            out += ")";
        }
        return out + OptionListText(create.options);
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
        switch (insert.on_conflict) {
            case ConflictAction::kError:
                break;
            case ConflictAction::kDoNothing:
                out += " ON CONFLICT (id) DO NOTHING";
                break;
            case ConflictAction::kDoUpdate:
                out += " ON CONFLICT (id) DO UPDATE";
                break;
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
            case TxnAction::kBegin: {
                std::string out = "BEGIN";
                if (txn.read_only) {
                    out += " READ ONLY";
                }
                if (txn.as_of.has_value()) {
                    out += " AS OF " + ExprText(*txn.as_of);
                }
                return out;
            }
            case TxnAction::kCommit:
                return "COMMIT";
            case TxnAction::kRollback:
                return "ROLLBACK";
        }
        return "";
    }
    std::string operator()(const CopyStmt& copy) const {
        std::string out = "COPY " + QuoteName(copy.collection) +
                          (copy.is_export ? " TO " : " FROM ") + StringText(copy.file_path);
        if (!copy.on_error.empty()) {
            out += " (ON_ERROR " + QuoteName(copy.on_error) + ")";
        }
        return out;
    }
    std::string operator()(const ShowStmt& show) const {
        switch (show.what) {
            case ShowWhat::kIndexes:
                return show.collection.empty() ? "SHOW INDEXES"
                                               : "SHOW INDEXES ON " + QuoteName(show.collection);
            case ShowWhat::kTenants:
                return "SHOW TENANTS";
            case ShowWhat::kTimestamp:
                return "SHOW TIMESTAMP";
            case ShowWhat::kStats:
                if (show.whole_database) {
                    return "SHOW DATABASE STATS";
                }
                return show.collection.empty() ? "SHOW STATS"
                                               : "SHOW STATS FOR " + QuoteName(show.collection);
        }
        return "";
    }
    std::string operator()(const MaintenanceStmt& stmt) const {
        const std::string name = stmt.collection.empty() ? "" : " " + QuoteName(stmt.collection);
        switch (stmt.action) {
            case MaintenanceAction::kAnalyze:
                return "ANALYZE" + name;
            case MaintenanceAction::kReindex:
                return "REINDEX" + name;
            case MaintenanceAction::kVerify:
                return "VERIFY";
        }
        return "";
    }
    std::string operator()(const TenantStmt& tenant) const {
        return (tenant.is_use ? "USE TENANT " : "CREATE TENANT ") + QuoteName(tenant.name);
    }
    static std::string Names(const std::vector<std::string>& names, bool quote) {
        std::string out;
        for (const std::string& name : names) {
            out += (out.empty() ? "" : ", ") + (quote ? QuoteName(name) : name);
        }
        return out;
    }
    std::string operator()(const SecurityStmt& security) const {
        using Kind = SecurityStatement::Kind;
        const SecurityStatement& st = security.statement;
        std::string on = st.collection.empty() ? "TENANT" : QuoteName(st.collection);
        if (on.size() == 6 && (on[0] == 't' || on[0] == 'T') && !st.collection.empty()) {
            on = "\"" + st.collection + "\"";  // a collection named tenant, not ON TENANT
        }
        switch (st.kind) {
            case Kind::kCreateRole:
                return "CREATE ROLE " + QuoteName(st.role) +
                       (st.permissions.empty()
                            ? ""
                            : " WITH PERMISSIONS " + Names(st.permissions, false));
            case Kind::kDropRole:
                return "DROP ROLE " + QuoteName(st.role);
            case Kind::kGrant:
                return "GRANT " + Names(st.permissions, false) + " ON " + on + " TO " +
                       QuoteName(st.role);
            case Kind::kRevoke:
                return "REVOKE " + Names(st.permissions, false) + " ON " + on + " FROM " +
                       QuoteName(st.role);
            case Kind::kCreateApiKey:
                return "CREATE API KEY FOR ROLE " + Names(st.roles, true) +
                       (st.expires_in_s == 0
                            ? ""
                            : " EXPIRES IN " + std::to_string(st.expires_in_s) + " SECONDS");
            case Kind::kRevokeApiKey:
                return "REVOKE API KEY " + StringText(st.key_id);
            case Kind::kShowRoles:
                return "SHOW ROLES";
            case Kind::kShowGrants:
                return "SHOW GRANTS";
            case Kind::kShowApiKeys:
                return "SHOW API KEYS";
            case Kind::kDropTenant:
                return "DROP TENANT " + QuoteName(st.tenant);
            case Kind::kSetQuota: {
                std::string out = "ALTER TENANT " + QuoteName(st.tenant) + " SET QUOTA (";
                for (std::size_t idx = 0; idx < st.quota.size(); ++idx) {
                    const SecurityStatement::QuotaSetting& setting = st.quota[idx];
                    Expr text;
                    text.kind = ExprKind::kString;
                    text.text = setting.value;
                    out += (idx == 0 ? "" : ", ") + QuoteName(setting.name) + " = " +
                           (setting.is_null   ? std::string("NONE")
                            : setting.is_text ? ExprText(text)
                                              : setting.value);
                }
                return out + ")";
            }
            case Kind::kRotateKey:
                return "ALTER TENANT " + QuoteName(st.tenant) + " ROTATE KEY";
            case Kind::kShowKeyRotation:
                return "SHOW KEY ROTATION FOR TENANT " + QuoteName(st.tenant);
        }
        return "";
    }
};

// ToRedactedString: every literal value in `expr` becomes `?` (an expression that prints its
// text verbatim, as a JSON literal does).
void RedactLiterals(Expr& expr) {
    switch (expr.kind) {
        case ExprKind::kBool:
        case ExprKind::kInt:
        case ExprKind::kFloat:
        case ExprKind::kString:
        case ExprKind::kVector:
        case ExprKind::kJson: {
            Expr placeholder;
            placeholder.kind = ExprKind::kJson;
            placeholder.text = "?";
            expr = std::move(placeholder);
            return;
        }
        case ExprKind::kNull:
        case ExprKind::kParam:
        case ExprKind::kPath:
        case ExprKind::kStar:
        case ExprKind::kCall:
        case ExprKind::kUnary:
        case ExprKind::kBinary:
        case ExprKind::kIn:
        case ExprKind::kIsNull:
        case ExprKind::kIsBool:
        case ExprKind::kLike:
            break;
    }
    for (Expr& child : expr.children) {
        RedactLiterals(child);
    }
}

void RedactLiterals(std::optional<Expr>& expr) {
    if (expr.has_value()) {
        RedactLiterals(*expr);
    }
}

void RedactLiterals(std::vector<OptionItem>& options) {
    for (OptionItem& option : options) {
        RedactLiterals(option.value);
    }
}

// Every statement kind's expressions (a kind without any has nothing to redact).
struct BodyRedactor {
    void operator()(SelectStmt& select) const {
        for (SelectItem& item : select.items) {
            RedactLiterals(item.expr);
        }
        if (select.match.has_value()) {
            for (EdgePattern& edge : select.match->edges) {
                RedactLiterals(edge.where);
            }
        }
        if (select.table_function.has_value()) {
            for (Expr& arg : select.table_function->args) {
                RedactLiterals(arg);
            }
            RedactLiterals(select.table_function->named_args);
        }
        RedactLiterals(select.as_of);
        RedactLiterals(select.where);
        for (Expr& key : select.group_by) {
            RedactLiterals(key);
        }
        RedactLiterals(select.having);
        for (OrderItem& order : select.order_by) {
            RedactLiterals(order.expr);
        }
        RedactLiterals(select.limit);
        RedactLiterals(select.offset);
        RedactLiterals(select.options);
    }
    void operator()(CreateCollectionStmt& create) const { RedactLiterals(create.options); }
    void operator()(InsertStmt& insert) const {
        for (std::vector<Expr>& row : insert.rows) {
            for (Expr& value : row) {
                RedactLiterals(value);
            }
        }
    }
    void operator()(UpdateStmt& update) const {
        for (Assignment& assignment : update.assignments) {
            RedactLiterals(assignment.value);
        }
        RedactLiterals(update.where);
    }
    void operator()(DeleteStmt& del) const { RedactLiterals(del.where); }
    void operator()(TxnStmt& txn) const { RedactLiterals(txn.as_of); }
    // COPY's path and REVOKE API KEY's id are redacted by BodyPrinter{.redact = true}.
    void operator()(CopyStmt& /*copy*/) const {}
    void operator()(SecurityStmt& /*security*/) const {}
    void operator()(IndexStmt& /*index*/) const {}
    void operator()(DropCollectionStmt& /*drop*/) const {}
    void operator()(ShowCollectionsStmt& /*show*/) const {}
    void operator()(DescribeStmt& /*describe*/) const {}
    void operator()(ShowStmt& /*show*/) const {}
    void operator()(MaintenanceStmt& /*maintenance*/) const {}
    void operator()(TenantStmt& /*tenant*/) const {}
};

std::string ExplainPrefix(const Statement& statement) {
    if (statement.explain == ExplainMode::kExplain) {
        return "EXPLAIN ";
    }
    if (statement.explain == ExplainMode::kExplainAnalyze) {
        return "EXPLAIN ANALYZE ";
    }
    return "";
}

}  // namespace

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
        case Op::kConcat:
            return "||";
        case Op::kAdd:
            return "+";
        case Op::kSub:
        case Op::kNeg:
            return "-";
        case Op::kMul:
            return "*";
        case Op::kDiv:
            return "/";
        case Op::kMod:
            return "%";
    }
    return "?";
}

std::string ToString(const Expr& expr) {
    return ExprText(expr);
}

std::string ToString(const Statement& statement) {
    return ExplainPrefix(statement) + std::visit(BodyPrinter{}, statement.body);
}

std::string ToRedactedString(const Statement& statement) {
    StatementBody body = statement.body;
    std::visit(BodyRedactor{}, body);
    return ExplainPrefix(statement) + std::visit(BodyPrinter{.redact = true}, body);
}

}  // namespace phenix::query
