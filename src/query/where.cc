// SPDX-License-Identifier: Apache-2.0
//
// WHERE binding: a PhenixQL condition -> the engine's MongoDB-style metadata filter plus an id
// set (exec.h). SQL's three-valued logic (docs/query-language.md, "Conditions"): a condition is
// TRUE, FALSE or UNKNOWN, WHERE keeps the TRUE rows, and NOT is pushed down, so `negate` asks
// for the rows where the condition is FALSE. A field is NULL when it is missing or null; an
// array is compared element by element, and the condition is TRUE when some element makes it
// TRUE, FALSE when every element makes it FALSE (none is null), UNKNOWN otherwise.
//
//   condition                 TRUE rows                       FALSE rows (under NOT)
//   metadata.p = v            {"p": v}                        present, no null, {"$ne": v}
//   != <>                     the FALSE rows of =             the TRUE rows of =
//   < <= > >=                 {"$lt"|...: v}                  present, no element of another
//                                                             type than v, {"$not": {"$lt": v}}
//   ... = NULL, < NULL, ...   nothing                         nothing
//   metadata.p IN (a, b)      {"$in": [a, b]} (NULLs dropped)  present, no null, {"$nin": [...]}
//                                                             (nothing if the list has a NULL)
//   metadata.p LIKE 'a%'      {"$like": "a%"}                 present, only strings, $not $like
//   exists(metadata.p)        {"$exists": true}               {"$exists": false}
//   metadata.p IS NULL        missing or (an element) null    the complement
//   c IS [NOT] TRUE|FALSE     c's TRUE / FALSE rows or their complements (never UNKNOWN)
//   AND / OR                  $and / $or                      $or / $and of the FALSE rows
//   id = 'x', id IN (...)     the id set (top-level conjuncts only)
//
// Values of another type are unequal (= is FALSE), but not ordered (< is UNKNOWN), and LIKE
// needs a string (UNKNOWN otherwise). The JSON form (json_query.cc) translates the filter
// language into these conditions.
//
// Conditions without a field are folded here (1 + 1 = 2 is TRUE, NULL = 1 UNKNOWN). Top-level
// conjuncts the filter cannot express (arithmetic over fields, two row values compared, id
// conditions other than the id set) become BoundWhere::residual when the caller allows it
// (SELECT FROM a collection): EvalCondition (expression.h) evaluates them per row with the same
// table on values, so moving a term between the filter and the residual never changes a row.
#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "document/filter.h"
#include "document/value_key.h"
#include "query/exec.h"
#include "query/expression.h"
#include "query/parser.h"

namespace phenix::query {

namespace {

using nlohmann::json;

constexpr int kMaxConditionDepth = document::kMaxFilterDepth - 2;

// A segment for a filter path: plain when it fits [A-Za-z0-9_$-]+, else double-quoted.
std::string PathSegment(std::string_view name) {
    const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '$' || c == '-';
    });
    if (plain) {
        return std::string(name);
    }
    std::string out = "\"";
    for (const char c : name) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

// Whether `expr` reads the row: it holds a field or a function call.
bool ReadsRow(const Expr& expr) {
    if (expr.kind == ExprKind::kPath || expr.kind == ExprKind::kCall ||
        expr.kind == ExprKind::kStar) {
        return true;
    }
    return std::any_of(expr.children.begin(), expr.children.end(), ReadsRow);
}

bool IsIdPath(const Expr& expr, std::string_view variable) {
    if (expr.kind != ExprKind::kPath) {
        return false;
    }
    if (variable.empty()) {
        return expr.path.size() == 1 && expr.path[0] == "id";
    }
    return expr.path.size() == 2 && expr.path[0] == variable && expr.path[1] == "id";
}

// Whether the metadata filter cannot express the condition, so that it is evaluated per row:
// arithmetic over fields, a comparison or IN between two row values, a LIKE whose pattern reads
// the row, or any condition on id (the top-level id = / IN conjuncts are taken first).
bool NeedsRowEvaluation(const Expr& expr, std::string_view variable) {
    if (IsArithmetic(expr) && ReadsRow(expr)) {
        return true;
    }
    if (IsIdPath(expr, variable)) {
        return true;
    }
    const bool is_comparison =
        expr.kind == ExprKind::kBinary && expr.op >= Op::kEq && expr.op <= Op::kGe;
    if ((is_comparison || expr.kind == ExprKind::kIn || expr.kind == ExprKind::kLike) &&
        ReadsRow(expr.children[0]) &&
        std::any_of(expr.children.begin() + 1, expr.children.end(), ReadsRow)) {
        return true;
    }
    return std::any_of(expr.children.begin(), expr.children.end(),
                       [&](const Expr& child) { return NeedsRowEvaluation(child, variable); });
}

struct FieldRef {
    bool is_id = false;
    std::string filter_path;  // for metadata fields
};

class Binder {
  public:
    Binder(const QueryParams& params, std::string_view variable, std::string_view root)
        : params_(params), variable_(variable), root_(root) {}

    Result<FieldRef> Field(const Expr& expr) const {
        if (IsArithmetic(expr) && ReadsRow(expr)) {
            return ErrorAt(expr.pos, "arithmetic on fields (" + ToString(expr) +
                                         ") is not supported in MATCH conditions; compare a "
                                         "field with a value");
        }
        if (expr.kind != ExprKind::kPath) {
            return ErrorAt(expr.pos, "expected a field such as id or " + std::string(root_) +
                                         ".category, found " + ToString(expr));
        }
        std::size_t start = 0;
        if (!variable_.empty()) {
            if (expr.path.size() < 2 || expr.path[0] != variable_) {
                return ErrorAt(expr.pos, "expected a field of '" + std::string(variable_) +
                                             "' such as " + std::string(variable_) + ".id, found " +
                                             ToString(expr));
            }
            start = 1;
        }
        const std::string& head = expr.path[start];
        if (head == "id" && expr.path.size() == start + 1 && root_ == "metadata") {
            return FieldRef{true, {}};
        }
        if (head == root_ && expr.path.size() > start + 1) {
            FieldRef ref;
            for (std::size_t idx = start + 1; idx < expr.path.size(); ++idx) {
                if (!ref.filter_path.empty()) {
                    ref.filter_path += '.';
                }
                ref.filter_path += PathSegment(expr.path[idx]);
            }
            return ref;
        }
        std::string hint = root_ == "metadata"
                               ? "fields are id and metadata.<path>"
                               : "edge fields are label, weight and properties.<path>";
        if (head == root_) {
            hint = "name a field inside " + std::string(root_) + ", e.g. " + std::string(root_) +
                   ".category";
        } else if (head == "vector" || head == "edges") {
            hint = "conditions on " + head + " are not supported; " + hint;
        } else if (expr.path.size() == start + 1 && head != root_) {
            hint += "; did you mean " + std::string(root_) + "." + head + "?";
        }
        return ErrorAt(expr.pos, "unknown field " + ToString(expr) + ": " + hint);
    }

    Result<json> Scalar(const Expr& expr) const {
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(expr, params_));
        switch (value.type) {
            case QueryValue::Type::kNull:
                return json(nullptr);
            case QueryValue::Type::kBool:
                return json(value.bool_value);
            case QueryValue::Type::kInt:
                return json(value.int_value);
            case QueryValue::Type::kFloat:
                return json(value.float_value);
            case QueryValue::Type::kString:
                return json(value.text);
            default:
                return ErrorAt(expr.pos,
                               "conditions compare with a string, number, boolean or "
                               "NULL, not " +
                                   value.ToJson().substr(0, 40));
        }
    }

    // One condition as a filter; id conditions are refused here (they are taken at the top).
    // SQL's three-valued logic: a comparison with a missing or null field is unknown, and NOT
    // unknown is unknown, so `negate` asks for the rows where the condition is FALSE (not merely
    // not true): NOT is pushed down, swapping AND and OR.
    Result<json> Filter(const Expr& expr, int depth, bool negate = false) const {
        // The engine refuses $and/$or nested deeper than document::kMaxFilterDepth; refuse here,
        // where the text's position is known. `depth` counts the AND/OR chains around `expr`; a
        // comparison may add one level (an $and of presence checks) and BindWhere one more.
        if (depth > kMaxConditionDepth) {
            return ErrorAt(expr.pos, "conditions are nested more than " +
                                         std::to_string(kMaxConditionDepth) +
                                         " levels deep (AND and OR inside one another)");
        }
        if (!ReadsRow(expr)) {
            // No field: folded now to TRUE, FALSE or UNKNOWN (1 + 1 = 2, NULL IS NULL).
            PHENIX_ASSIGN_OR_RETURN(Truth truth, EvalCondition(expr, [&](const Expr& leaf) {
                                        return EvalConstant(leaf, params_);
                                    }));
            return truth == Truth(!negate) ? json::object() : Nothing();
        }
        switch (expr.kind) {
            case ExprKind::kBinary:
                if (expr.op == Op::kAnd || expr.op == Op::kOr) {
                    json parts = json::array();
                    // Flatten chains of the same operator.
                    std::vector<const Expr*> stack{&expr};
                    std::vector<const Expr*> operands;
                    while (!stack.empty()) {
                        const Expr* node = stack.back();
                        stack.pop_back();
                        if (node->kind == ExprKind::kBinary && node->op == expr.op) {
                            for (auto child = node->children.rbegin();
                                 child != node->children.rend(); ++child) {
                                stack.push_back(&*child);
                            }
                        } else {
                            operands.push_back(node);
                        }
                    }
                    for (const Expr* operand : operands) {
                        PHENIX_ASSIGN_OR_RETURN(json part, Filter(*operand, depth + 1, negate));
                        parts.push_back(std::move(part));
                    }
                    const bool is_and = (expr.op == Op::kAnd) != negate;
                    return json{{is_and ? "$and" : "$or", std::move(parts)}};
                }
                return Comparison(expr, negate);
            case ExprKind::kUnary:
                return Filter(expr.children[0], depth, !negate);  // NOT adds no level
            case ExprKind::kIn: {
                PHENIX_ASSIGN_OR_RETURN(FieldRef field, Field(expr.children[0]));
                if (field.is_id) {
                    return IdInsideError(expr);
                }
                json values = json::array();
                bool has_null = false;
                for (std::size_t idx = 1; idx < expr.children.size(); ++idx) {
                    PHENIX_ASSIGN_OR_RETURN(json value, Scalar(expr.children[idx]));
                    if (value.is_null()) {
                        has_null = true;  // p = NULL is UNKNOWN: never TRUE, never FALSE
                        continue;
                    }
                    values.push_back(std::move(value));
                }
                const std::string& p = field.filter_path;
                if (expr.is_negated == negate) {  // IN, or NOT (... NOT IN ...)
                    if (values.empty()) {
                        return Nothing();
                    }
                    return json{{p, {{"$in", std::move(values)}}}};
                }
                if (has_null) {
                    return Nothing();
                }
                return Present(p, json{{p, {{"$nin", std::move(values)}}}});
            }
            case ExprKind::kIsNull: {
                PHENIX_ASSIGN_OR_RETURN(FieldRef field, Field(expr.children[0]));
                if (field.is_id) {
                    return ErrorAt(expr.pos, "id is never NULL");
                }
                const std::string& p = field.filter_path;
                if (expr.is_negated != negate) {  // IS NOT NULL
                    return json{{"$and", json::array({json{{p, {{"$exists", true}}}},
                                                      json{{p, {{"$ne", nullptr}}}}})}};
                }
                return json{
                    {"$or", json::array({json{{p, {{"$exists", false}}}}, json{{p, nullptr}}})}};
            }
            case ExprKind::kIsBool: {
                // Two-valued: `c IS TRUE` is never UNKNOWN, so NOT flips it to IS NOT TRUE.
                const bool want_false = !expr.bool_value;
                const bool complement = expr.is_negated != negate;
                Expr condition = expr.children[0];
                if (condition.kind == ExprKind::kPath) {  // a boolean field: p IS TRUE
                    Expr literal;
                    literal.kind = ExprKind::kBool;
                    literal.bool_value = true;
                    literal.pos = condition.pos;
                    Expr compare;
                    compare.kind = ExprKind::kBinary;
                    compare.op = Op::kEq;
                    compare.pos = condition.pos;
                    compare.children.push_back(std::move(condition));
                    compare.children.push_back(std::move(literal));
                    condition = std::move(compare);
                }
                PHENIX_ASSIGN_OR_RETURN(json rows, Filter(condition, depth + 1, want_false));
                if (complement) {
                    return json{{"$not", std::move(rows)}};
                }
                return rows;
            }
            case ExprKind::kLike:
                return Like(expr, negate);
            case ExprKind::kCall:
                if (expr.text == "exists" && expr.children.size() == 1 && !expr.is_star) {
                    PHENIX_ASSIGN_OR_RETURN(FieldRef field, Field(expr.children[0]));
                    if (field.is_id) {
                        return ErrorAt(expr.pos, "id always exists");
                    }
                    return json{{field.filter_path, {{"$exists", !negate}}}};
                }
                return ErrorAt(expr.pos,
                               "function " + expr.text +
                                   "() cannot be used in a condition (exists(field) can)");
            default:
                return ErrorAt(expr.pos,
                               "expected a condition such as metadata.year >= 2020, "
                               "found " +
                                   ToString(expr));
        }
    }

    // The filter no row matches: an UNKNOWN condition's TRUE (or FALSE) rows.
    static json Nothing() { return json{{"$not", json::object()}}; }

    // The $type names of every value type that does not compare with `value` (a non-null
    // literal) by order, null included.
    static json OtherTypes(const json& value) {
        std::string_view own = "string";
        if (value.is_boolean()) {
            own = "boolean";
        } else if (value.is_number()) {
            own = "number";
        } else if (value.is_string() &&
                   document::ParseTimestamp(value.get_ref<const std::string&>())) {
            own = "timestamp";
        }
        json out = json::array();
        for (const std::string_view name : {"null", "boolean", "number", "timestamp", "string"}) {
            if (name != own) {
                out.push_back(std::string(name));
            }
        }
        return out;
    }

    // The FALSE rows of an order comparison or LIKE whose TRUE rows are {p: positive}: the
    // field exists and every element compares (is of a type in `others` for none) and makes
    // `positive` false.
    static json EveryElementFalse(const std::string& p, const json& others, json positive) {
        return json{{"$and", json::array({json{{p, {{"$exists", true}}}},
                                          json{{p, {{"$not", {{"$type", others}}}}}},
                                          json{{p, {{"$not", std::move(positive)}}}}})}};
    }

    // [NOT] LIKE: the pattern becomes the filter's $like, whose escape character is \.
    Result<json> Like(const Expr& expr, bool negate) const {
        PHENIX_ASSIGN_OR_RETURN(FieldRef field, Field(expr.children[0]));
        if (field.is_id) {
            return IdInsideError(expr);
        }
        PHENIX_ASSIGN_OR_RETURN(QueryValue pattern, EvalConstant(expr.children[1], params_));
        char escape = '\\';
        bool is_unknown = pattern.type == QueryValue::Type::kNull;
        if (expr.children.size() > 2) {
            PHENIX_ASSIGN_OR_RETURN(QueryValue escape_value,
                                    EvalConstant(expr.children[2], params_));
            if (escape_value.type == QueryValue::Type::kNull) {
                is_unknown = true;
            } else if (escape_value.type != QueryValue::Type::kString ||
                       escape_value.text.size() != 1) {
                return ErrorAt(expr.children[2].pos,
                               "ESCAPE takes a string of one character, e.g. ESCAPE '!'");
            }
            if (!is_unknown) {
                escape = escape_value.text[0];
            }
        }
        if (!is_unknown && pattern.type != QueryValue::Type::kString) {
            return ErrorAt(expr.children[1].pos,
                           "LIKE takes a string pattern such as 'abc%', not " +
                               pattern.ToJson().substr(0, 40));
        }
        if (is_unknown) {
            return Nothing();
        }
        PHENIX_ASSIGN_OR_RETURN(std::string like,
                                LikeToFilterPattern(pattern.text, escape, expr.children[1].pos));
        const std::string& p = field.filter_path;
        json positive = {{"$like", like}};
        if (expr.is_negated == negate) {
            return json{{p, std::move(positive)}};
        }
        return EveryElementFalse(p, json::array({"null", "boolean", "number"}),
                                 std::move(positive));
    }

    // `condition` restricted to rows where the field is present and not null.
    static json Present(const std::string& path, json condition) {
        return json{
            {"$and", json::array({json{{path, {{"$exists", true}}}},
                                  json{{path, {{"$ne", nullptr}}}}, std::move(condition)})}};
    }

    Result<json> Comparison(const Expr& expr, bool negate) const {
        Op op = expr.op;
        const Expr* field_expr = &expr.children[0];
        const Expr* value_expr = &expr.children[1];
        if (field_expr->kind != ExprKind::kPath && value_expr->kind == ExprKind::kPath) {
            std::swap(field_expr, value_expr);
            // v < x is x > v.
            op = op == Op::kLt   ? Op::kGt
                 : op == Op::kLe ? Op::kGe
                 : op == Op::kGt ? Op::kLt
                 : op == Op::kGe ? Op::kLe
                                 : op;
        }
        switch (op) {
            case Op::kEq:
            case Op::kNe:
            case Op::kLt:
            case Op::kLe:
            case Op::kGt:
            case Op::kGe:
                break;
            default:
                return ErrorAt(expr.pos, "expected a comparison (=, !=, <, <=, >, >=), found " +
                                             ToString(expr));
        }
        if (value_expr->kind == ExprKind::kPath) {
            return ErrorAt(value_expr->pos,
                           "comparing two fields is not supported; compare a field with a value");
        }
        PHENIX_ASSIGN_OR_RETURN(FieldRef field, Field(*field_expr));
        if (field.is_id) {
            return IdInsideError(expr);
        }
        PHENIX_ASSIGN_OR_RETURN(json value, Scalar(*value_expr));
        if (value.is_null()) {
            return Nothing();  // a comparison with NULL is UNKNOWN, and so is its NOT
        }
        const std::string& p = field.filter_path;
        if (op == Op::kEq || op == Op::kNe) {
            // p != v is NOT (p = v): its TRUE rows are the FALSE rows of p = v.
            if ((op == Op::kEq) != negate) {
                return json{{p, std::move(value)}};
            }
            return Present(p, json{{p, {{"$ne", std::move(value)}}}});
        }
        const char* name = op == Op::kLt   ? "$lt"
                           : op == Op::kLe ? "$lte"
                           : op == Op::kGt ? "$gt"
                                           : "$gte";
        if (!negate) {
            return json{{p, {{name, std::move(value)}}}};
        }
        // FALSE only when every element is of the literal's type and fails the comparison: the
        // opposite comparison would hold for one element of an array while another holds the
        // original (P and NOT P both true).
        json others = OtherTypes(value);
        return EveryElementFalse(p, others, json{{name, std::move(value)}});
    }

    // id = 'x' / id IN (...) as a top-level conjunct: the ids, or nullopt when `expr` is not one.
    Result<std::optional<std::vector<std::string>>> IdSet(const Expr& expr) const {
        const Expr* field = nullptr;
        std::vector<const Expr*> values;
        if (expr.kind == ExprKind::kBinary && expr.op == Op::kEq) {
            if (expr.children[0].kind == ExprKind::kPath) {
                field = &expr.children[0];
                values.push_back(&expr.children[1]);
            } else if (expr.children[1].kind == ExprKind::kPath) {
                field = &expr.children[1];
                values.push_back(&expr.children[0]);
            }
        } else if (expr.kind == ExprKind::kIn && !expr.is_negated) {
            field = &expr.children[0];
            for (std::size_t idx = 1; idx < expr.children.size(); ++idx) {
                values.push_back(&expr.children[idx]);
            }
        }
        if (field == nullptr || field->kind != ExprKind::kPath) {
            return std::optional<std::vector<std::string>>();
        }
        Result<FieldRef> ref = Field(*field);
        if (!ref.ok() || !ref->is_id) {
            return std::optional<std::vector<std::string>>();
        }
        if (!std::all_of(values.begin(), values.end(),
                         [](const Expr* value) { return IsConstant(*value); })) {
            return std::optional<std::vector<std::string>>();  // id = <a field>: per row
        }
        std::vector<std::string> ids;
        for (const Expr* value : values) {
            PHENIX_ASSIGN_OR_RETURN(QueryValue id, EvalConstant(*value, params_));
            if (id.type != QueryValue::Type::kString) {
                return ErrorAt(value->pos, "ids are strings, not " + id.ToJson().substr(0, 40));
            }
            ids.push_back(std::move(id.text));
        }
        return std::optional<std::vector<std::string>>(std::move(ids));
    }

    // Checks a condition evaluated per row (every field exists in this binding, no function
    // calls) and returns it with its constant subexpressions folded.
    Result<Expr> Residual(const Expr& expr) const {
        std::vector<const Expr*> stack{&expr};
        while (!stack.empty()) {
            const Expr* node = stack.back();
            stack.pop_back();
            if (node->kind == ExprKind::kPath) {
                PHENIX_RETURN_IF_ERROR(Field(*node).status());
                continue;
            }
            if (node->kind == ExprKind::kCall && node->text == "exists" && !node->is_star &&
                node->children.size() == 1 && node->children[0].kind == ExprKind::kPath) {
                PHENIX_ASSIGN_OR_RETURN(FieldRef field, Field(node->children[0]));
                if (field.is_id) {
                    return ErrorAt(node->pos, "id always exists");
                }
                continue;
            }
            if (node->kind == ExprKind::kCall || node->kind == ExprKind::kStar) {
                return ErrorAt(node->pos, "function " + node->text +
                                              "() cannot be used in a condition (exists(field) "
                                              "can)");
            }
            for (const Expr& child : node->children) {
                stack.push_back(&child);
            }
        }
        return FoldConstants(expr, [&](const Expr& leaf) { return EvalConstant(leaf, params_); });
    }

    // The literal prefix of a top-level `id LIKE 'abc%'` (empty when `expr` is not one).
    Result<std::string> IdPrefix(const Expr& expr) const {
        if (expr.kind != ExprKind::kLike || expr.is_negated ||
            !IsIdPath(expr.children[0], variable_) || !IsConstant(expr.children[1]) ||
            (expr.children.size() > 2 && !IsConstant(expr.children[2]))) {
            return std::string();
        }
        PHENIX_ASSIGN_OR_RETURN(QueryValue pattern, EvalConstant(expr.children[1], params_));
        char escape = '\\';
        if (expr.children.size() > 2) {
            PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(expr.children[2], params_));
            if (value.type != QueryValue::Type::kString || value.text.size() != 1) {
                return std::string();  // NULL or malformed: the residual decides or reports
            }
            escape = value.text[0];
        }
        if (pattern.type != QueryValue::Type::kString) {
            return std::string();
        }
        return LikeLiteralPrefix(pattern.text, escape);
    }

  private:
    static Status IdInsideError(const Expr& expr) {
        return ErrorAt(expr.pos,
                       "conditions on id must be `id = '...'` or `id IN (...)` joined to the rest "
                       "of the WHERE clause by AND");
    }

    const QueryParams& params_;
    std::string_view variable_;
    std::string_view root_;
};

}  // namespace

std::vector<const Expr*> SplitConjuncts(const Expr& expr) {
    std::vector<const Expr*> out;
    std::vector<const Expr*> stack{&expr};
    while (!stack.empty()) {
        const Expr* node = stack.back();
        stack.pop_back();
        if (node->kind == ExprKind::kBinary && node->op == Op::kAnd) {
            for (auto child = node->children.rbegin(); child != node->children.rend(); ++child) {
                stack.push_back(&*child);
            }
        } else {
            out.push_back(node);
        }
    }
    return out;
}

std::string ExprVariable(const Expr& expr, const std::vector<std::string>& variables) {
    // The variable of every path in the expression, when they all agree.
    std::string found;
    bool conflict = false;
    std::vector<const Expr*> stack{&expr};
    while (!stack.empty()) {
        const Expr* node = stack.back();
        stack.pop_back();
        if (node->kind == ExprKind::kPath && !node->path.empty()) {
            const std::string& head = node->path[0];
            const bool is_variable =
                std::find(variables.begin(), variables.end(), head) != variables.end();
            const std::string variable = is_variable ? head : std::string();
            if (found.empty() && !conflict) {
                found = variable;
                if (variable.empty()) {
                    conflict = true;
                }
            } else if (found != variable) {
                conflict = true;
            }
        }
        for (const Expr& child : node->children) {
            stack.push_back(&child);
        }
    }
    return conflict ? std::string() : found;
}

Result<std::string> BindFilter(const Expr& expr, const QueryParams& params,
                               std::string_view variable, std::string_view root) {
    Binder binder(params, variable, root);
    PHENIX_ASSIGN_OR_RETURN(json filter, binder.Filter(expr, 0));
    return filter.dump();
}

Result<BoundWhere> BindWhere(const Expr* where, const QueryParams& params,
                             std::string_view variable, bool allow_residual) {
    BoundWhere bound;
    if (where == nullptr) {
        return bound;
    }
    Binder binder(params, variable, "metadata");
    json parts = json::array();
    std::vector<Expr> residual;
    for (const Expr* conjunct : SplitConjuncts(*where)) {
        PHENIX_ASSIGN_OR_RETURN(auto ids, binder.IdSet(*conjunct));
        if (ids) {
            if (!bound.ids) {
                std::sort(ids->begin(), ids->end());
                ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
                bound.ids = std::move(*ids);
            } else {
                std::set<std::string> other(ids->begin(), ids->end());
                std::erase_if(*bound.ids,
                              [&](const std::string& id) { return !other.contains(id); });
            }
            continue;
        }
        if (allow_residual && NeedsRowEvaluation(*conjunct, variable)) {
            PHENIX_ASSIGN_OR_RETURN(Expr term, binder.Residual(*conjunct));
            PHENIX_ASSIGN_OR_RETURN(std::string prefix, binder.IdPrefix(*conjunct));
            if (prefix.size() > bound.id_prefix.size()) {
                bound.id_prefix = std::move(prefix);
            }
            residual.push_back(std::move(term));
            continue;
        }
        PHENIX_ASSIGN_OR_RETURN(json part, binder.Filter(*conjunct, 0));
        parts.push_back(std::move(part));
    }
    if (residual.size() == 1) {
        bound.residual = std::move(residual[0]);
    } else if (residual.size() > 1) {
        Expr conjunction;
        conjunction.kind = ExprKind::kBinary;
        conjunction.op = Op::kAnd;
        conjunction.pos = residual[0].pos;
        conjunction.children = std::move(residual);
        bound.residual = std::move(conjunction);
    }
    if (parts.size() == 1) {
        bound.filter_json = parts[0].dump();
    } else if (parts.size() > 1) {
        bound.filter_json = json{{"$and", std::move(parts)}}.dump();
    }
    return bound;
}

}  // namespace phenix::query
