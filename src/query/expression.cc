// SPDX-License-Identifier: Apache-2.0
//
// Arithmetic and per-row conditions (expression.h).
#include "query/expression.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "document/filter.h"
#include "document/value_key.h"
#include "query/exec.h"
#include "query/json_value.h"
#include "query/lexer.h"
#include "query/parser.h"

namespace phenix::query {
namespace {

using document::Scalar;

// "a string ('abc')", "a boolean (true)", "a JSON object ({...})": for type errors.
std::string Described(const QueryValue& value) {
    std::string kind;
    switch (value.type) {
        case QueryValue::Type::kBool:
            kind = "a boolean";
            break;
        case QueryValue::Type::kString:
            kind = "a string";
            break;
        case QueryValue::Type::kVector:
            kind = "a vector";
            break;
        case QueryValue::Type::kJson:
            kind = !value.text.empty() && value.text[0] == '[' ? "a JSON array" : "a JSON object";
            break;
        default:
            kind = "a number";
            break;
    }
    constexpr std::size_t kMaxShown = 40;
    std::string shown = value.ToJson();
    if (shown.size() > kMaxShown) {
        shown = shown.substr(0, kMaxShown) + "...";
    }
    return kind + " (" + shown + ")";
}

bool IsNumber(const QueryValue& value) {
    return value.type == QueryValue::Type::kInt || value.type == QueryValue::Type::kFloat;
}

double AsDouble(const QueryValue& value) {
    return value.type == QueryValue::Type::kInt ? static_cast<double>(value.int_value)
                                                : value.float_value;
}

Status Overflow(Op op, const QueryValue& left, const QueryValue& right, SourcePos pos) {
    return ErrorAt(pos, "integer overflow in " + left.ToJson() + " " + std::string(OpText(op)) +
                            " " + right.ToJson() +
                            " (integers are 64-bit; write a float such as 1.0 * x to compute "
                            "in floating point)");
}

Result<QueryValue> IntArithmetic(Op op, const QueryValue& left, const QueryValue& right,
                                 SourcePos pos) {
    const std::int64_t a = left.int_value;
    const std::int64_t b = right.int_value;
    std::int64_t out = 0;
    switch (op) {
        case Op::kAdd:
            if (__builtin_add_overflow(a, b, &out)) {
                return Overflow(op, left, right, pos);
            }
            return QueryValue::Int(out);
        case Op::kSub:
            if (__builtin_sub_overflow(a, b, &out)) {
                return Overflow(op, left, right, pos);
            }
            return QueryValue::Int(out);
        case Op::kMul:
            if (__builtin_mul_overflow(a, b, &out)) {
                return Overflow(op, left, right, pos);
            }
            return QueryValue::Int(out);
        case Op::kDiv:
        case Op::kMod:
            if (b == 0) {
                return ErrorAt(pos, "division by zero");
            }
            if (b == -1) {
                // INT64_MIN / -1 does not fit; INT64_MIN % -1 is 0 (both are UB in C++).
                if (op == Op::kMod) {
                    return QueryValue::Int(0);
                }
                if (a == std::numeric_limits<std::int64_t>::min()) {
                    return Overflow(op, left, right, pos);
                }
                return QueryValue::Int(-a);
            }
            return QueryValue::Int(op == Op::kDiv ? a / b : a % b);
        default:
            return ErrorAt(pos, "not an arithmetic operator");
    }
}

Result<QueryValue> FloatArithmetic(Op op, double a, double b, SourcePos pos) {
    double out = 0;
    switch (op) {
        case Op::kAdd:
            out = a + b;
            break;
        case Op::kSub:
            out = a - b;
            break;
        case Op::kMul:
            out = a * b;
            break;
        case Op::kDiv:
        case Op::kMod:
            if (b == 0) {
                return ErrorAt(pos, "division by zero");
            }
            out = op == Op::kDiv ? a / b : std::fmod(a, b);
            break;
        default:
            return ErrorAt(pos, "not an arithmetic operator");
    }
    if (!std::isfinite(out)) {
        return ErrorAt(pos, "float overflow in " + QueryValue::Float(a).ToJson() + " " +
                                std::string(OpText(op)) + " " + QueryValue::Float(b).ToJson());
    }
    return QueryValue::Float(out);
}

// ---- conditions ------------------------------------------------------------------------------

// What a value holds for a comparison: NULL (missing or null), or its scalars (one, or an
// array's elements; objects and nested arrays hold none), and whether an element is null.
struct Elements {
    bool is_null = false;
    bool has_null_element = false;
    std::vector<Scalar> values;
};

void AddScalar(const nlohmann::json& json, Elements* out) {
    switch (json.type()) {
        case nlohmann::json::value_t::null:
            out->has_null_element = true;
            break;
        case nlohmann::json::value_t::boolean:
            out->values.push_back(Scalar::Bool(json.get<bool>()));
            break;
        case nlohmann::json::value_t::number_integer:
        case nlohmann::json::value_t::number_unsigned:
        case nlohmann::json::value_t::number_float:
            out->values.push_back(Scalar::Number(json.get<double>()));
            break;
        case nlohmann::json::value_t::string:
            out->values.push_back(Scalar::String(json.get<std::string>()));
            break;
        default:
            break;  // objects and nested arrays yield no values
    }
}

Elements ElementsOf(const QueryValue& value) {
    Elements out;
    switch (value.type) {
        case QueryValue::Type::kNull:
            out.is_null = true;
            break;
        case QueryValue::Type::kBool:
            out.values.push_back(Scalar::Bool(value.bool_value));
            break;
        case QueryValue::Type::kInt:
        case QueryValue::Type::kFloat:
            out.values.push_back(Scalar::Number(AsDouble(value)));
            break;
        case QueryValue::Type::kString:
            out.values.push_back(Scalar::String(value.text));
            break;
        case QueryValue::Type::kVector:
            for (const float element : value.vector) {
                out.values.push_back(Scalar::Number(element));
            }
            break;
        case QueryValue::Type::kJson: {
            const nlohmann::json json = nlohmann::json::parse(value.text, nullptr, false);
            if (json.is_array()) {
                for (const auto& element : json) {
                    AddScalar(element, &out);
                }
            }
            break;
        }
    }
    return out;
}

bool Holds(Op op, int cmp) {
    switch (op) {
        case Op::kEq:
            return cmp == 0;
        case Op::kNe:
            return cmp != 0;
        case Op::kLt:
            return cmp < 0;
        case Op::kLe:
            return cmp <= 0;
        case Op::kGt:
            return cmp > 0;
        default:
            return cmp >= 0;
    }
}

Truth Not(Truth value) {
    return value.IsUnknown() ? Truth() : Truth(!value.IsTrue());
}

// a = b: TRUE when some pair is equal, FALSE when none is and no element is null.
Truth Equal(const Elements& a, const Elements& b) {
    if (a.is_null || b.is_null) {
        return Truth();
    }
    for (const Scalar& x : a.values) {
        for (const Scalar& y : b.values) {
            if (document::SameBracket(x, y) && document::CompareScalars(x, y) == 0) {
                return true;
            }
        }
    }
    if (a.has_null_element || b.has_null_element) {
        return Truth();
    }
    return false;
}

// a < b (and <= > >=): TRUE when some pair of one kind holds, FALSE when every pair is of one
// kind (no null element) and none holds.
Truth Ordered(Op op, const Elements& a, const Elements& b) {
    if (a.is_null || b.is_null) {
        return Truth();
    }
    bool all_comparable = !a.has_null_element && !b.has_null_element;
    for (const Scalar& x : a.values) {
        for (const Scalar& y : b.values) {
            if (!document::SameBracket(x, y)) {
                all_comparable = false;
                continue;
            }
            if (Holds(op, document::CompareScalars(x, y))) {
                return true;
            }
        }
    }
    return all_comparable ? Truth(false) : Truth();
}

Result<Truth> Compare(const Expr& expr, const LeafFn& leaf) {
    PHENIX_ASSIGN_OR_RETURN(QueryValue left, EvalValue(expr.children[0], leaf));
    PHENIX_ASSIGN_OR_RETURN(QueryValue right, EvalValue(expr.children[1], leaf));
    const Elements a = ElementsOf(left);
    const Elements b = ElementsOf(right);
    switch (expr.op) {
        case Op::kEq:
            return Equal(a, b);
        case Op::kNe:
            return Not(Equal(a, b));
        default:
            return Ordered(expr.op, a, b);
    }
}

Result<Truth> In(const Expr& expr, const LeafFn& leaf) {
    PHENIX_ASSIGN_OR_RETURN(QueryValue left, EvalValue(expr.children[0], leaf));
    const Elements a = ElementsOf(left);
    Elements list;
    bool list_has_null = false;
    for (std::size_t idx = 1; idx < expr.children.size(); ++idx) {
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalValue(expr.children[idx], leaf));
        Elements element = ElementsOf(value);
        if (element.is_null) {
            list_has_null = true;
            continue;
        }
        for (Scalar& scalar : element.values) {
            list.values.push_back(std::move(scalar));
        }
    }
    Truth found = Equal(a, list);
    if (found == false && list_has_null) {
        found = Truth();  // x IN (..., NULL) is never FALSE
    }
    return expr.is_negated ? Not(found) : found;
}

Result<Truth> Like(const Expr& expr, const LeafFn& leaf) {
    PHENIX_ASSIGN_OR_RETURN(QueryValue subject, EvalValue(expr.children[0], leaf));
    PHENIX_ASSIGN_OR_RETURN(QueryValue pattern, EvalValue(expr.children[1], leaf));
    bool is_unknown = pattern.type == QueryValue::Type::kNull;
    char escape = '\\';
    if (expr.children.size() > 2) {
        PHENIX_ASSIGN_OR_RETURN(QueryValue escape_value, EvalValue(expr.children[2], leaf));
        if (escape_value.type == QueryValue::Type::kNull) {
            is_unknown = true;
        } else if (escape_value.type != QueryValue::Type::kString ||
                   escape_value.text.size() != 1) {
            return ErrorAt(expr.children[2].pos,
                           "ESCAPE takes a string of one character, e.g. ESCAPE '!'");
        } else {
            escape = escape_value.text[0];
        }
    }
    if (!is_unknown && pattern.type != QueryValue::Type::kString) {
        return ErrorAt(expr.children[1].pos,
                       "LIKE takes a string pattern such as 'abc%', not " + Described(pattern));
    }
    const Elements a = ElementsOf(subject);
    if (is_unknown || a.is_null) {
        return Truth();
    }
    PHENIX_ASSIGN_OR_RETURN(std::string like,
                            LikeToFilterPattern(pattern.text, escape, expr.children[1].pos));
    bool only_strings = !a.has_null_element;
    bool matched = false;
    for (const Scalar& value : a.values) {
        if (value.type != document::ValueType::kString &&
            value.type != document::ValueType::kTimestamp) {
            only_strings = false;
            continue;
        }
        if (document::LikeMatches(value.text, like)) {
            matched = true;
            break;
        }
    }
    // FALSE only when every element is a string that does not match.
    const Truth truth = matched ? Truth(true) : only_strings ? Truth(false) : Truth();
    return expr.is_negated ? Not(truth) : truth;
}

// `c IS TRUE`'s condition: a field stands for `field = TRUE`.
Result<Truth> Truthiness(const Expr& condition, const LeafFn& leaf) {
    if (condition.kind != ExprKind::kPath) {
        return EvalCondition(condition, leaf);
    }
    PHENIX_ASSIGN_OR_RETURN(QueryValue value, leaf(condition));
    return Equal(ElementsOf(value), ElementsOf(QueryValue::Bool(true)));
}

// Walks `path[idx..]` from `node` with the filter's fan-out; `*fanned` is set when an array was
// crossed. Appends what the ends hold to `ends` and returns whether anything was reached.
bool CollectEnds(const nlohmann::json& node, const std::vector<std::string>& path, std::size_t idx,
                 bool* fanned, std::vector<const nlohmann::json*>* ends) {
    if (idx == path.size()) {
        ends->push_back(&node);
        return true;
    }
    if (node.is_object()) {
        const auto it = node.find(path[idx]);
        return it != node.end() && CollectEnds(*it, path, idx + 1, fanned, ends);
    }
    if (!node.is_array()) {
        return false;
    }
    *fanned = true;
    bool reached = false;
    for (const auto& element : node) {
        if (element.is_object()) {
            reached = CollectEnds(element, path, idx, fanned, ends) || reached;
        }
    }
    return reached;
}

}  // namespace

Result<QueryValue> EntityConditionLeaf(const Expr& leaf, std::string_view id,
                                       const nlohmann::json& metadata, const QueryParams& params) {
    const bool is_exists = leaf.kind == ExprKind::kCall && leaf.text == "exists" &&
                           leaf.children.size() == 1 && leaf.children[0].kind == ExprKind::kPath;
    if (leaf.kind != ExprKind::kPath && !is_exists) {
        return EvalConstant(leaf, params);
    }
    const std::vector<std::string>& path = is_exists ? leaf.children[0].path : leaf.path;
    if (path.size() == 1 && path[0] == "id") {
        return is_exists ? QueryValue::Bool(true) : QueryValue::String(std::string(id));
    }
    if (path.size() < 2 || path[0] != "metadata") {
        return ErrorAt(leaf.pos, "expected id or a field metadata.<path>, found " + ToString(leaf));
    }
    bool fanned = false;
    std::vector<const nlohmann::json*> ends;
    const bool reached = CollectEnds(metadata, path, 1, &fanned, &ends);
    if (is_exists) {
        return QueryValue::Bool(reached);
    }
    if (!reached) {
        return QueryValue::Null();
    }
    if (!fanned) {
        return QueryValueFromJson(*ends[0]);
    }
    nlohmann::json values = nlohmann::json::array();
    for (const nlohmann::json* end : ends) {
        if (end->is_array()) {
            for (const auto& element : *end) {
                if (!element.is_structured()) {
                    values.push_back(element);
                }
            }
        } else if (!end->is_object()) {
            values.push_back(*end);
        }
    }
    return QueryValue::Json(values.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

bool IsArithmeticOp(Op op) {
    return op == Op::kAdd || op == Op::kSub || op == Op::kMul || op == Op::kDiv || op == Op::kMod ||
           op == Op::kNeg;
}

bool IsArithmetic(const Expr& expr) {
    return (expr.kind == ExprKind::kBinary || expr.kind == ExprKind::kUnary) &&
           IsArithmeticOp(expr.op);
}

bool ContainsArithmetic(const Expr& expr) {
    if (IsArithmetic(expr)) {
        return true;
    }
    for (const Expr& child : expr.children) {
        if (ContainsArithmetic(child)) {
            return true;
        }
    }
    return false;
}

Result<QueryValue> ApplyArithmetic(Op op, const QueryValue& left, const QueryValue& right,
                                   SourcePos pos) {
    for (const QueryValue* operand : {&left, &right}) {
        if (operand->type != QueryValue::Type::kNull && !IsNumber(*operand)) {
            return ErrorAt(pos, "operator " + std::string(OpText(op)) + " takes numbers, not " +
                                    Described(*operand));
        }
    }
    if (left.type == QueryValue::Type::kNull || right.type == QueryValue::Type::kNull) {
        return QueryValue::Null();
    }
    if (left.type == QueryValue::Type::kInt && right.type == QueryValue::Type::kInt) {
        return IntArithmetic(op, left, right, pos);
    }
    return FloatArithmetic(op, AsDouble(left), AsDouble(right), pos);
}

Result<QueryValue> ApplyNegate(const QueryValue& value, SourcePos pos) {
    switch (value.type) {
        case QueryValue::Type::kNull:
            return QueryValue::Null();
        case QueryValue::Type::kInt:
            if (value.int_value == std::numeric_limits<std::int64_t>::min()) {
                return ErrorAt(pos, "integer overflow in -(" + value.ToJson() + ")");
            }
            return QueryValue::Int(-value.int_value);
        case QueryValue::Type::kFloat:
            return QueryValue::Float(-value.float_value);
        default:
            return ErrorAt(pos, "unary - takes a number, not " + Described(value));
    }
}

Result<QueryValue> EvalValue(const Expr& expr, const LeafFn& leaf) {
    if (!IsArithmetic(expr)) {
        return leaf(expr);
    }
    if (expr.kind == ExprKind::kUnary) {
        PHENIX_ASSIGN_OR_RETURN(QueryValue operand, EvalValue(expr.children[0], leaf));
        return ApplyNegate(operand, expr.pos);
    }
    PHENIX_ASSIGN_OR_RETURN(QueryValue left, EvalValue(expr.children[0], leaf));
    PHENIX_ASSIGN_OR_RETURN(QueryValue right, EvalValue(expr.children[1], leaf));
    return ApplyArithmetic(expr.op, left, right, expr.pos);
}

Result<Truth> EvalCondition(const Expr& expr, const LeafFn& leaf) {
    switch (expr.kind) {
        case ExprKind::kBinary:
            if (expr.op == Op::kAnd || expr.op == Op::kOr) {
                // false AND x is false, true OR x is true, else UNKNOWN if a term is.
                const bool is_and = expr.op == Op::kAnd;
                bool is_unknown = false;
                for (const Expr& child : expr.children) {
                    PHENIX_ASSIGN_OR_RETURN(Truth term, EvalCondition(child, leaf));
                    if (!term.IsUnknown() && term.IsTrue() != is_and) {
                        return Truth(!is_and);
                    }
                    is_unknown = is_unknown || term.IsUnknown();
                }
                return is_unknown ? Truth() : Truth(is_and);
            }
            if (expr.op >= Op::kEq && expr.op <= Op::kGe) {
                return Compare(expr, leaf);
            }
            break;
        case ExprKind::kUnary:
            if (expr.op == Op::kNot) {
                PHENIX_ASSIGN_OR_RETURN(Truth operand, EvalCondition(expr.children[0], leaf));
                return Not(operand);
            }
            break;
        case ExprKind::kIn:
            return In(expr, leaf);
        case ExprKind::kIsNull: {
            PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalValue(expr.children[0], leaf));
            const Elements elements = ElementsOf(value);
            const bool is_null = elements.is_null || elements.has_null_element;
            return Truth(is_null != expr.is_negated);
        }
        case ExprKind::kIsBool: {
            PHENIX_ASSIGN_OR_RETURN(Truth value, Truthiness(expr.children[0], leaf));
            const bool holds = value == Truth(expr.bool_value);
            return Truth(holds != expr.is_negated);
        }
        case ExprKind::kLike:
            return Like(expr, leaf);
        case ExprKind::kBool:
            return Truth(expr.bool_value);
        case ExprKind::kNull:
            return Truth();
        case ExprKind::kCall:
            if (expr.text != "exists") {
                break;
            }
            [[fallthrough]];  // exists(field): the leaf says whether the field is present
        case ExprKind::kParam: {
            PHENIX_ASSIGN_OR_RETURN(QueryValue value, leaf(expr));
            if (value.type == QueryValue::Type::kBool) {
                return Truth(value.bool_value);
            }
            if (value.type == QueryValue::Type::kNull) {
                return Truth();
            }
            return ErrorAt(expr.pos,
                           ToString(expr) + " is used as a condition but is " + Described(value));
        }
        default:
            break;
    }
    return ErrorAt(expr.pos,
                   "expected a condition such as metadata.year >= 2020, found " + ToString(expr));
}

std::optional<Expr> LiteralOf(const QueryValue& value, SourcePos pos) {
    Expr out;
    out.pos = pos;
    switch (value.type) {
        case QueryValue::Type::kNull:
            out.kind = ExprKind::kNull;
            return out;
        case QueryValue::Type::kBool:
            out.kind = ExprKind::kBool;
            out.bool_value = value.bool_value;
            return out;
        case QueryValue::Type::kInt:
            out.kind = ExprKind::kInt;
            out.int_value = value.int_value;
            return out;
        case QueryValue::Type::kFloat:
            out.kind = ExprKind::kFloat;
            out.float_value = value.float_value;
            return out;
        case QueryValue::Type::kString:
            out.kind = ExprKind::kString;
            out.text = value.text;
            return out;
        default:
            return std::nullopt;
    }
}

Result<Expr> FoldConstants(const Expr& expr, const LeafFn& constant) {
    if (IsArithmetic(expr) && IsConstant(expr)) {
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalValue(expr, constant));
        if (std::optional<Expr> literal = LiteralOf(value, expr.pos)) {
            return std::move(*literal);
        }
        return expr;
    }
    Expr out = expr;
    for (Expr& child : out.children) {
        PHENIX_ASSIGN_OR_RETURN(child, FoldConstants(child, constant));
    }
    return out;
}

Result<std::string> LikeToFilterPattern(const std::string& pattern, char escape, SourcePos pos) {
    std::string like;
    for (std::size_t idx = 0; idx < pattern.size(); ++idx) {
        char c = pattern[idx];
        bool is_literal = false;
        if (c == escape) {
            if (idx + 1 >= pattern.size()) {
                return ErrorAt(pos, "LIKE pattern ends in the escape character '" +
                                        std::string(1, escape) + "'");
            }
            c = pattern[++idx];
            is_literal = true;
        }
        if (c == '\\' || (is_literal && (c == '%' || c == '_'))) {
            like += '\\';
        }
        like += c;
    }
    return like;
}

std::string LikeLiteralPrefix(const std::string& pattern, char escape) {
    std::string prefix;
    for (std::size_t idx = 0; idx < pattern.size(); ++idx) {
        char c = pattern[idx];
        if (c == escape) {
            if (idx + 1 >= pattern.size()) {
                break;
            }
            prefix += pattern[++idx];
            continue;
        }
        if (c == '%' || c == '_') {
            break;
        }
        prefix += c;
    }
    return prefix;
}

}  // namespace phenix::query
