// SPDX-License-Identifier: Apache-2.0
//
// PhenixQL expression evaluation: arithmetic over QueryValue, and conditions evaluated per row
// with SQL's three-valued logic (the WHERE terms the engine's metadata filter cannot express).
// Pure functions: the caller supplies the value of every leaf (a field, a constant, an
// aggregate) through a LeafFn, so one evaluator serves the select list, ORDER BY, aggregate
// arguments, HAVING, the residual WHERE and constant folding at bind time.
//
// Arithmetic (docs/query-language.md, "Arithmetic"):
//   - `+ - * / %` and unary minus take numbers (int or float); a string, boolean, vector or JSON
//     object/array operand is InvalidArgument naming the operator and the type.
//   - NULL (a missing or null field included) in any operand gives NULL.
//   - int op int is an int. Overflow is InvalidArgument "integer overflow in a * b" (never a
//     silent wrap): the int64 range is -9223372036854775808..9223372036854775807.
//   - `/` on two ints is integer division truncating toward zero (7 / 2 = 3, -7 / 2 = -3), as in
//     PostgreSQL; write 7 / 2.0 or 7 * 1.0 / 2 for 3.5. `%` takes the sign of the dividend
//     (-7 % 2 = -1). INT64_MIN / -1 overflows; INT64_MIN % -1 is 0.
//   - int op float and float op float are floats (the int converted to a double); `%` on floats
//     is fmod. A float result that is infinite or NaN is InvalidArgument "float overflow".
//   - Division or modulo by zero (0 or 0.0) is InvalidArgument "division by zero" at the
//     operator's expression.
// Every error is positioned: "line L, column C: ...".
//
// Conditions (EvalCondition) follow where.cc's table exactly, on values instead of filters: a
// comparison with NULL is UNKNOWN; an array is compared element by element (TRUE when some
// element makes it TRUE, FALSE when every element makes it FALSE and none is null, else
// UNKNOWN); values of different kinds are unequal (= FALSE) but not ordered (< UNKNOWN);
// numbers compare by value (2 = 2.0), RFC 3339 strings as timestamps; LIKE needs a string.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <phenix/phenixql.h>
#include <phenix/result.h>

#include "query/ast.h"

namespace phenix::query {

/// The value of a leaf expression (anything that is not an arithmetic node).
using LeafFn = std::function<Result<QueryValue>(const Expr& leaf)>;

/// TRUE, FALSE or UNKNOWN (the default): a condition's value under three-valued logic.
class Truth {
  public:
    constexpr Truth() = default;
    constexpr Truth(bool value)  // NOLINT(google-explicit-constructor): TRUE or FALSE
        : state_(value ? State::kTrue : State::kFalse) {}
    [[nodiscard]] constexpr bool IsTrue() const { return state_ == State::kTrue; }
    [[nodiscard]] constexpr bool IsFalse() const { return state_ == State::kFalse; }
    [[nodiscard]] constexpr bool IsUnknown() const { return state_ == State::kUnknown; }
    friend constexpr bool operator==(Truth, Truth) = default;

  private:
    enum class State : std::uint8_t { kUnknown, kFalse, kTrue };
    State state_ = State::kUnknown;
};

/// + - * / % (binary) or unary minus.
bool IsArithmeticOp(Op op);
/// Whether `expr` is an arithmetic node: a binary + - * / % or a unary minus.
bool IsArithmetic(const Expr& expr);
/// Whether any node of `expr` is arithmetic.
bool ContainsArithmetic(const Expr& expr);

/// `left op right` for a binary arithmetic op (semantics in the file comment); errors are
/// positioned at `pos`.
Result<QueryValue> ApplyArithmetic(Op op, const QueryValue& left, const QueryValue& right,
                                   SourcePos pos);
/// -value: NULL stays NULL; -INT64_MIN overflows.
Result<QueryValue> ApplyNegate(const QueryValue& value, SourcePos pos);

/// Evaluates `expr`: arithmetic nodes here, every other node through `leaf`.
Result<QueryValue> EvalValue(const Expr& expr, const LeafFn& leaf);

/// Evaluates a condition (AND, OR, NOT, = != <> < <= > >=, [NOT] IN, IS [NOT] NULL,
/// IS [NOT] TRUE|FALSE, [NOT] LIKE [ESCAPE], TRUE/FALSE/NULL literals) with three-valued
/// logic; operands go through EvalValue. InvalidArgument for anything that is not a
/// condition, and for a LIKE pattern that is not a string.
Result<Truth> EvalCondition(const Expr& expr, const LeafFn& leaf);

/// A leaf of a WHERE term evaluated per row on an entity (BoundWhere::residual): `id`, a field
/// `metadata.<path>`, `exists(metadata.<path>)` (a boolean), or a constant (with `params`).
/// Fields follow the filter's paths (document/json_path.h), so that a term means the same
/// evaluated here or by the engine: a step that meets an array continues into its object
/// elements, and then the field's value is a JSON array of what the path's ends hold (scalars,
/// an array's scalar elements, nulls), or NULL when it reaches nothing. `metadata` is the
/// entity's parsed metadata object.
Result<QueryValue> EntityConditionLeaf(const Expr& leaf, std::string_view id,
                                       const nlohmann::json& metadata, const QueryParams& params);

/// `value` as a literal expression at `pos` (null, bool, int, float, string), or nullopt for
/// values without a literal form here (vectors, JSON).
std::optional<Expr> LiteralOf(const QueryValue& value, SourcePos pos);

/// `expr` with every all-constant arithmetic subexpression (IsConstant in exec.h) replaced by
/// its value, computed with `constant` (EvalConstant); errors in them (division by zero,
/// overflow) are reported here, at bind time.
Result<Expr> FoldConstants(const Expr& expr, const LeafFn& constant);

/// A LIKE pattern whose escape character is `escape` rewritten to the filter language's $like
/// form, whose escape is a backslash (escaped characters stay literal, a literal backslash is
/// escaped). An error at `pos` when the pattern ends in the escape character.
Result<std::string> LikeToFilterPattern(const std::string& pattern, char escape, SourcePos pos);

/// The literal prefix of a LIKE pattern (up to its first unescaped % or _), unescaped.
std::string LikeLiteralPrefix(const std::string& pattern, char escape);

}  // namespace phenix::query
