// SPDX-License-Identifier: Apache-2.0
//
// query/expression.h: arithmetic over QueryValue (every rule of the semantics table in
// docs/query-language.md "Arithmetic"), constant folding, and conditions evaluated per row.
#include "query/expression.h"

#include <cstdint>
#include <limits>
#include <map>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include <phenix/phenixql.h>

#include "query/exec.h"
#include "query/parser.h"

namespace phenix {
// Readable values in failure messages.
void PrintTo(const QueryValue& value, std::ostream* out) {
    *out << value.ToJson() << " (type " << static_cast<int>(value.type) << ")";
}
}  // namespace phenix

namespace phenix::query {
namespace {

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

// The first expression of `SELECT <text> FROM t`, parsed.
Expr Parse(const std::string& text) {
    Result<Statement> statement = ParseStatement("SELECT " + text + " FROM t");
    EXPECT_TRUE(statement.ok()) << text << ": " << statement.status().ToString();
    if (!statement.ok()) {
        return {};
    }
    return std::get<SelectStmt>(statement->body).items[0].expr;
}

// Evaluates `text` with metadata-free leaves: constants, and the fields of `fields`
// (metadata.<name> -> JSON value).
Result<QueryValue> Eval(const std::string& text, const QueryParams& params = {}) {
    const Expr expr = Parse(text);
    return EvalValue(expr, [&](const Expr& leaf) { return EvalConstant(leaf, params); });
}

QueryValue Must(const std::string& text, const QueryParams& params = {}) {
    Result<QueryValue> value = Eval(text, params);
    EXPECT_TRUE(value.ok()) << text << ": " << value.status().ToString();
    return value.ok() ? *value : QueryValue::Null();
}

std::string Error(const std::string& text, const QueryParams& params = {}) {
    Result<QueryValue> value = Eval(text, params);
    EXPECT_FALSE(value.ok()) << text;
    if (value.ok()) {
        return "OK";
    }
    EXPECT_TRUE(value.status().IsInvalidArgument()) << value.status().ToString();
    return std::string(value.status().message());
}

TEST(Expression, IntegerArithmeticStaysInteger) {
    EXPECT_EQ(Must("2 + 3"), QueryValue::Int(5));
    EXPECT_EQ(Must("2 - 3"), QueryValue::Int(-1));
    EXPECT_EQ(Must("6 * 7"), QueryValue::Int(42));
    EXPECT_EQ(Must("-(4)"), QueryValue::Int(-4));
    EXPECT_EQ(Must("- - 4"), QueryValue::Int(4));
}

TEST(Expression, IntegerDivisionTruncatesTowardZeroAndModuloFollowsTheDividend) {
    EXPECT_EQ(Must("7 / 2"), QueryValue::Int(3));
    EXPECT_EQ(Must("-7 / 2"), QueryValue::Int(-3));
    EXPECT_EQ(Must("7 / -2"), QueryValue::Int(-3));
    EXPECT_EQ(Must("7 % 3"), QueryValue::Int(1));
    EXPECT_EQ(Must("-7 % 3"), QueryValue::Int(-1));
    EXPECT_EQ(Must("7 % -3"), QueryValue::Int(1));
    EXPECT_EQ(Must("5 / -1"), QueryValue::Int(-5));
    EXPECT_EQ(Must("5 % -1"), QueryValue::Int(0));
}

TEST(Expression, PrecedenceIsSql) {
    EXPECT_EQ(Must("2 + 3 * 4"), QueryValue::Int(14));
    EXPECT_EQ(Must("(2 + 3) * 4"), QueryValue::Int(20));
    EXPECT_EQ(Must("10 - 4 - 3"), QueryValue::Int(3));  // left-associative
    EXPECT_EQ(Must("100 / 10 / 5"), QueryValue::Int(2));
    EXPECT_EQ(Must("-2 * 3"), QueryValue::Int(-6));
    EXPECT_EQ(Must("2 * -3"), QueryValue::Int(-6));
    EXPECT_EQ(Must("7 % 4 * 2"), QueryValue::Int(6));
    EXPECT_EQ(Must("1 - -1"), QueryValue::Int(2));
}

TEST(Expression, MixingIntAndFloatGivesFloat) {
    EXPECT_EQ(Must("1 + 0.5"), QueryValue::Float(1.5));
    EXPECT_EQ(Must("0.5 + 1"), QueryValue::Float(1.5));
    EXPECT_EQ(Must("7 / 2.0"), QueryValue::Float(3.5));
    EXPECT_EQ(Must("7.0 / 2"), QueryValue::Float(3.5));
    EXPECT_EQ(Must("2 * 1.0"), QueryValue::Float(2.0));
    EXPECT_EQ(Must("7.5 % 2"), QueryValue::Float(1.5));
    EXPECT_EQ(Must("-7.5 % 2"), QueryValue::Float(-1.5));
    EXPECT_EQ(Must("-(2.5)"), QueryValue::Float(-2.5));
}

TEST(Expression, NullInNullOut) {
    for (const char* text : {"NULL + 1", "1 - NULL", "NULL * 2.5", "NULL / 0", "5 % NULL", "-NULL",
                             "NULL + NULL", "(1 + NULL) * 3"}) {
        EXPECT_EQ(Must(text), QueryValue::Null()) << text;
    }
}

TEST(Expression, IntegerOverflowIsAnErrorNamingTheOperation) {
    EXPECT_EQ(Error("9223372036854775807 + 1"),
              "line 1, column 8: integer overflow in 9223372036854775807 + 1 (integers are "
              "64-bit; write a float such as 1.0 * x to compute in floating point)");
    EXPECT_NE(Error("-9223372036854775808 - 1")
                  .find("integer overflow in "
                        "-9223372036854775808 - 1"),
              std::string::npos);
    EXPECT_NE(Error("4611686018427387904 * 2").find("integer overflow in 4611686018427387904 * 2"),
              std::string::npos);
    EXPECT_NE(Error("-9223372036854775808 * -1").find("integer overflow"), std::string::npos);
    EXPECT_NE(Error("-(-9223372036854775808)").find("integer overflow in -(-9223372036854775808)"),
              std::string::npos);
    // The largest values that fit still compute.
    EXPECT_EQ(Must("9223372036854775806 + 1"), QueryValue::Int(kMax));
    EXPECT_EQ(Must("-9223372036854775807 - 1"), QueryValue::Int(kMin));
    EXPECT_EQ(Must("-(9223372036854775807)"), QueryValue::Int(-kMax));
}

TEST(Expression, Int64MinDividedByMinusOne) {
    EXPECT_NE(Error("-9223372036854775808 / -1")
                  .find("integer overflow in "
                        "-9223372036854775808 / -1"),
              std::string::npos);
    EXPECT_EQ(Must("-9223372036854775808 % -1"), QueryValue::Int(0));
    EXPECT_EQ(Must("-9223372036854775808 / 1"), QueryValue::Int(kMin));
    EXPECT_EQ(Must("-9223372036854775808 % 2"), QueryValue::Int(0));
    EXPECT_EQ(Must("-9223372036854775808 / 2"), QueryValue::Int(kMin / 2));
}

TEST(Expression, DivisionByZeroIsAnErrorAtTheExpression) {
    EXPECT_EQ(Error("1 / 0"), "line 1, column 8: division by zero");
    EXPECT_EQ(Error("1 % 0"), "line 1, column 8: division by zero");
    EXPECT_EQ(Error("1.5 / 0"), "line 1, column 8: division by zero");
    EXPECT_EQ(Error("1 / 0.0"), "line 1, column 8: division by zero");
    EXPECT_EQ(Error("2.5 % 0.0"), "line 1, column 8: division by zero");
    // The position is the failing operator's expression, here the inner one.
    EXPECT_EQ(Error("1 +\n  (4 / (2 - 2))"), "line 2, column 4: division by zero");
}

TEST(Expression, FloatOverflowIsAnError) {
    EXPECT_NE(Error("1e308 * 10").find("float overflow in 1e+308 * 10.0"), std::string::npos);
    EXPECT_NE(Error("-1e308 - 1e308").find("float overflow"), std::string::npos);
}

TEST(Expression, NonNumericOperandsAreErrorsNamingTheType) {
    EXPECT_EQ(Error("'abc' + 1"),
              "line 1, column 8: operator + takes numbers, not a string (\"abc\")");
    EXPECT_EQ(Error("1 * TRUE"),
              "line 1, column 8: operator * takes numbers, not a boolean (true)");
    EXPECT_EQ(Error("{\"a\": 1} - 1"),
              "line 1, column 8: operator - takes numbers, not a JSON object ({\"a\":1})");
    EXPECT_EQ(Error("[{\"a\": 1}] / 2"),
              "line 1, column 8: operator / takes numbers, not a JSON array ([{\"a\":1}])");
    EXPECT_EQ(Error("[1, 2] % 2"),
              "line 1, column 8: operator % takes numbers, not a vector ([1,2])");
    EXPECT_EQ(Error("-'x'"), "line 1, column 8: unary - takes a number, not a string (\"x\")");
    // A NULL beside a wrong type is still a type error.
    EXPECT_NE(Error("NULL + 'x'").find("not a string"), std::string::npos);
}

TEST(Expression, ParametersTakePart) {
    const QueryParams params = {{"1", QueryValue::Int(40)}, {"f", QueryValue::Float(0.5)}};
    EXPECT_EQ(Must("$1 + 2", params), QueryValue::Int(42));
    EXPECT_EQ(Must("-$f * 4", params), QueryValue::Float(-2.0));
    EXPECT_NE(Error("$2 + 1", params).find("no value was given for parameter $2"),
              std::string::npos);
}

TEST(Expression, ConstantArithmeticIsAConstant) {
    EXPECT_TRUE(IsConstant(Parse("1 + 2 * $x")));
    EXPECT_TRUE(IsConstant(Parse("-(3)")));
    EXPECT_FALSE(IsConstant(Parse("metadata.a + 1")));
    EXPECT_FALSE(IsConstant(Parse("-metadata.a")));
    Result<QueryValue> value = EvalConstant(Parse("60 * 60 * 24"), {});
    ASSERT_TRUE(value.ok());
    EXPECT_EQ(*value, QueryValue::Int(86400));
}

TEST(Expression, FoldConstantsReplacesConstantSubtreesOnly) {
    const LeafFn constant = [](const Expr& leaf) { return EvalConstant(leaf, {}); };
    Result<Expr> folded = FoldConstants(Parse("metadata.a * (60 * 60) + -(2.5)"), constant);
    ASSERT_TRUE(folded.ok()) << folded.status().ToString();
    EXPECT_EQ(ToString(*folded), "metadata.a * 3600 + -2.5");
    Result<Expr> failed = FoldConstants(Parse("metadata.a + 1 / 0"), constant);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().message(), "line 1, column 21: division by zero");
}

// Conditions over leaves given by name (a: the row's fields as values).
class ConditionTest : public ::testing::Test {
  protected:
    Truth Check(const std::string& condition) {
        Result<Statement> statement = ParseStatement("SELECT id FROM t WHERE " + condition);
        EXPECT_TRUE(statement.ok()) << statement.status().ToString();
        const Expr& where = *std::get<SelectStmt>(statement->body).where;
        Result<Truth> truth = EvalCondition(where, [&](const Expr& leaf) -> Result<QueryValue> {
            if (leaf.kind == ExprKind::kPath) {
                auto it = fields_.find(leaf.path.back());
                return it == fields_.end() ? QueryValue::Null() : it->second;
            }
            return EvalConstant(leaf, {});
        });
        EXPECT_TRUE(truth.ok()) << condition << ": " << truth.status().ToString();
        return truth.ok() ? *truth : Truth();
    }

    std::map<std::string, QueryValue> fields_ = {
        {"a", QueryValue::Int(3)},
        {"b", QueryValue::Float(2.5)},
        {"s", QueryValue::String("abc")},
        {"n", QueryValue::Null()},
        {"arr", QueryValue::Json("[1,5,null]")},
        {"nums", QueryValue::Json("[1,5]")},
        {"flag", QueryValue::Bool(true)},
        {"ts", QueryValue::String("2024-03-05T10:00:00Z")},
    };
};

TEST_F(ConditionTest, ComparisonsOfExpressions) {
    EXPECT_EQ(Check("metadata.a + metadata.b > 5"), Truth(true));
    EXPECT_EQ(Check("metadata.a * 2 = 6.0"), Truth(true));  // numbers by value
    EXPECT_EQ(Check("metadata.a - 1 < metadata.b"), Truth(true));
    EXPECT_EQ(Check("metadata.a > metadata.b * 2"), Truth(false));
    EXPECT_EQ(Check("metadata.n + 1 > 0"), Truth());  // NULL in: UNKNOWN
    EXPECT_EQ(Check("NOT (metadata.n + 1 > 0)"), Truth());
    EXPECT_EQ(Check("metadata.a + 1 IS NULL"), Truth(false));
    EXPECT_EQ(Check("metadata.n * 2 IS NULL"), Truth(true));
    EXPECT_EQ(Check("metadata.a % 2 IN (0, 1)"), Truth(true));
    EXPECT_EQ(Check("metadata.a % 2 NOT IN (0, NULL)"), Truth());
    EXPECT_EQ(Check("(metadata.a > 1) IS TRUE"), Truth(true));
    EXPECT_EQ(Check("(metadata.n > 1) IS NOT FALSE"), Truth(true));
}

TEST_F(ConditionTest, ThreeValuedLogic) {
    EXPECT_EQ(Check("metadata.n > 1 OR metadata.a = 3"), Truth(true));
    EXPECT_EQ(Check("metadata.n > 1 AND metadata.a = 3"), Truth());
    EXPECT_EQ(Check("metadata.n > 1 AND metadata.a = 4"), Truth(false));
    EXPECT_EQ(Check("NULL"), Truth());
    EXPECT_EQ(Check("TRUE AND NOT FALSE"), Truth(true));
}

TEST_F(ConditionTest, KindsAndArraysFollowTheFilterSemantics) {
    // Different kinds: unequal, but not ordered.
    EXPECT_EQ(Check("metadata.s = metadata.a"), Truth(false));
    EXPECT_EQ(Check("metadata.s != metadata.a"), Truth(true));
    EXPECT_EQ(Check("metadata.s < metadata.a"), Truth());
    // Arrays: some element TRUE is TRUE; FALSE needs every element FALSE and none null.
    EXPECT_EQ(Check("metadata.arr = metadata.a + 2"), Truth(true));
    EXPECT_EQ(Check("metadata.arr = metadata.a + 3"), Truth());  // a null element
    EXPECT_EQ(Check("metadata.nums = metadata.a + 3"), Truth(false));
    EXPECT_EQ(Check("metadata.nums > metadata.a"), Truth(true));
    EXPECT_EQ(Check("NOT (metadata.nums > metadata.a)"), Truth(false));
    EXPECT_EQ(Check("metadata.nums > metadata.a * 2"), Truth(false));
    EXPECT_EQ(Check("metadata.arr IS NULL"), Truth(true));  // an element is null
    // Timestamps compare as instants.
    EXPECT_EQ(Check("metadata.ts > '2024-01-01'"), Truth(true));
    EXPECT_EQ(Check("metadata.ts = '2024-03-05T11:00:00+01:00'"), Truth(true));
}

TEST_F(ConditionTest, Like) {
    EXPECT_EQ(Check("metadata.s LIKE 'a%'"), Truth(true));
    EXPECT_EQ(Check("metadata.s NOT LIKE 'a_c'"), Truth(false));
    EXPECT_EQ(Check("metadata.s LIKE 'b%'"), Truth(false));
    EXPECT_EQ(Check("metadata.a LIKE '3%'"), Truth());  // not a string: UNKNOWN
    EXPECT_EQ(Check("metadata.s LIKE NULL"), Truth());
    EXPECT_EQ(Check("metadata.s LIKE 'ab!%' ESCAPE '!'"), Truth(false));
}

TEST(Expression, ConditionErrors) {
    const LeafFn constant = [](const Expr& leaf) { return EvalConstant(leaf, {}); };
    Result<Truth> truth = EvalCondition(Parse("1 + 1"), constant);
    ASSERT_FALSE(truth.ok());
    EXPECT_EQ(truth.status().message(),
              "line 1, column 8: expected a condition such as metadata.year >= 2020, found 1 + 1");
    truth = EvalCondition(Parse("'a' LIKE 5"), constant);
    ASSERT_FALSE(truth.ok());
    EXPECT_EQ(truth.status().message(),
              "line 1, column 17: LIKE takes a string pattern such as 'abc%', not a number (5)");
}

TEST(Expression, LikeLiteralPrefix) {
    EXPECT_EQ(LikeLiteralPrefix("abc%", '\\'), "abc");
    EXPECT_EQ(LikeLiteralPrefix("ab_c%", '\\'), "ab");
    EXPECT_EQ(LikeLiteralPrefix("a!%b%", '!'), "a%b");
    EXPECT_EQ(LikeLiteralPrefix("%abc", '\\'), "");
    EXPECT_EQ(LikeLiteralPrefix("exact", '\\'), "exact");
}

}  // namespace
}  // namespace phenix::query
