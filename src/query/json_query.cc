// SPDX-License-Identifier: Apache-2.0
//
// The JSON form is translated to the AST the parser builds for its PhenixQL twin (see
// json_query.h), so the binder, planner and executor never see JSON. nlohmann::json runs with
// exceptions disabled: parse() reports failure as a discarded value, and every value is read
// through get_ptr(), which returns null instead of throwing on a type mismatch.
#include "query/json_query.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "document/filter.h"
#include "document/json_path.h"
#include "query/lexer.h"

namespace phenix::query {
namespace {

// Objects keep their keys in the order written: several keys or operators become an AND chain in
// that order, as in document::ParseFilter.
using Json = nlohmann::ordered_json;

constexpr std::int64_t kDefaultK = 10;
constexpr std::int64_t kMaxK = 10000;
constexpr std::int64_t kMaxEf = 100000;
constexpr std::int64_t kMaxHops = 1000;
// JSON nesting of the whole query. A filter at kMaxFilterDepth nests about two JSON levels per
// filter level ({"$and": [{...}]}), so this cap only rejects what the filter depth would.
constexpr int kMaxJsonDepth = 2 * document::kMaxFilterDepth + 16;
// Comparisons, IN lists and exists() calls in one filter. Each one is a link in an AND/OR chain,
// which the parser counts against kMaxExpressionDepth (parser.h); with the filter depth capped
// too, the printed twin of any accepted query stays within that limit.
constexpr int kMaxFilterConditions = 128;
constexpr std::size_t kMaxShownKey = 40;

constexpr std::string_view kTopFields[] = {"collection", "vector", "metric", "k",
                                           "filter",     "graph",  "ef",     "include"};
constexpr std::string_view kGraphFields[] = {"from", "label", "direction", "min_hops", "max_hops"};
constexpr std::string_view kIncludeValues[] = {"metadata", "vector", "distance", "id"};
constexpr std::string_view kMetrics[] = {"l2", "cosine", "ip"};
constexpr std::string_view kDirections[] = {"out", "in", "both"};
constexpr std::string_view kFilterOperators[] = {"$eq",  "$ne",  "$gt",  "$gte",    "$lt",
                                                 "$lte", "$in",  "$nin", "$exists", "$like",
                                                 "$not", "$and", "$or"};

// `text` in double quotes for messages, cut short when long.
std::string Quote(std::string_view text) {
    if (text.size() > kMaxShownKey) {
        return "\"" + std::string(text.substr(0, kMaxShownKey)) + "...\"";
    }
    return "\"" + std::string(text) + "\"";
}

// "; did you mean "x"?" when `word` is close to one of `options`, else "".
std::string DidYouMean(std::string_view word, std::span<const std::string_view> options) {
    constexpr std::size_t kMaxWordLength = 32;
    constexpr std::size_t kMaxDistance = 2;
    if (word.size() > kMaxWordLength) {
        return "";
    }
    std::size_t best = kMaxDistance + 1;
    std::string_view suggestion;
    for (std::string_view option : options) {
        std::size_t distance = EditDistance(word, option);
        // Very short words are close to everything; ask for one edit at most there.
        std::size_t limit = option.size() <= 3 ? 1 : kMaxDistance;
        if (distance > 0 && distance <= limit && distance < best) {
            best = distance;
            suggestion = option;
        }
    }
    return suggestion.empty() ? "" : "; did you mean " + Quote(suggestion) + "?";
}

std::string TypeName(const Json& value) {
    if (value.is_object()) {
        return "an object";
    }
    if (value.is_array()) {
        return "an array";
    }
    if (value.is_string()) {
        return "a string";
    }
    if (value.is_boolean()) {
        return "a boolean";
    }
    if (value.is_null()) {
        return "null";
    }
    return "a number";
}

Status Invalid(std::string message) {
    return Status::InvalidArgument(std::move(message));
}

// The integer in `value` when it is one in [min, max].
std::optional<std::int64_t> IntegerIn(const Json& value, std::int64_t min, std::int64_t max) {
    std::optional<std::int64_t> number;
    // Unsigned first: get_ptr<number_integer_t*> also answers for unsigned values.
    if (const auto* us = value.get_ptr<const Json::number_unsigned_t*>()) {
        if (*us <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            number = static_cast<std::int64_t>(*us);
        }
    } else if (const auto* is = value.get_ptr<const Json::number_integer_t*>()) {
        number = *is;
    } else if (const auto* fp = value.get_ptr<const Json::number_float_t*>()) {
        // JSON has one number type: 12.0 is the integer 12 (JSON Schema reads it so too).
        // Range-checked as a double first, so the conversion below is exact.
        if (std::trunc(*fp) == *fp && *fp >= static_cast<double>(min) &&
            *fp <= static_cast<double>(max)) {
            number = static_cast<std::int64_t>(*fp);
        }
    }
    if (!number.has_value() || *number < min || *number > max) {
        return std::nullopt;
    }
    return number;
}

Result<std::int64_t> IntegerField(const Json& value, std::string_view name, std::int64_t min,
                                  std::int64_t max) {
    std::optional<std::int64_t> number = IntegerIn(value, min, max);
    if (!number.has_value()) {
        return Invalid(Quote(name) + " must be an integer from " + std::to_string(min) + " to " +
                       std::to_string(max) + ", got " +
                       (value.is_number() ? value.dump() : TypeName(value)));
    }
    return *number;
}

Result<std::string> NonEmptyString(const Json& value, std::string_view name) {
    const auto* text = value.get_ptr<const Json::string_t*>();
    if (text == nullptr || text->empty()) {
        return Invalid(Quote(name) + " must be a non-empty string, got " +
                       (text == nullptr ? TypeName(value) : "an empty string"));
    }
    return *text;
}

// ---- building the AST ----

Expr MakePath(std::vector<std::string> path) {
    Expr expr;
    expr.kind = ExprKind::kPath;
    expr.path = std::move(path);
    return expr;
}

Expr MakeString(std::string text) {
    Expr expr;
    expr.kind = ExprKind::kString;
    expr.text = std::move(text);
    return expr;
}

Expr MakeInt(std::int64_t value) {
    Expr expr;
    expr.kind = ExprKind::kInt;
    expr.int_value = value;
    return expr;
}

Expr MakeCall(std::string name, std::vector<Expr> args) {
    Expr expr;
    expr.kind = ExprKind::kCall;
    expr.text = std::move(name);
    expr.children = std::move(args);
    return expr;
}

Expr MakeBinary(Op op, Expr left, Expr right) {
    Expr expr;
    expr.kind = ExprKind::kBinary;
    expr.op = op;
    expr.children.push_back(std::move(left));
    expr.children.push_back(std::move(right));
    return expr;
}

Expr MakeNot(Expr operand) {
    Expr expr;
    expr.kind = ExprKind::kUnary;
    expr.op = Op::kNot;
    expr.children.push_back(std::move(operand));
    return expr;
}

// `condition IS NOT TRUE`: the exact complement of the rows where `condition` is TRUE, which is
// what the filter language's $not, $ne and $nin mean (a missing field included).
Expr MakeIsNotTrue(Expr condition) {
    Expr expr;
    expr.kind = ExprKind::kIsBool;
    expr.bool_value = true;
    expr.is_negated = true;
    expr.children.push_back(std::move(condition));
    return expr;
}

// `path IS NULL AND exists(path)`: the filter's {"p": null}, an explicit null (also as an array
// element); PhenixQL's `path = NULL` is UNKNOWN.
Expr MakeExplicitNull(const Expr& path) {
    Expr is_null;
    is_null.kind = ExprKind::kIsNull;
    is_null.children.push_back(path);
    return MakeBinary(Op::kAnd, std::move(is_null), MakeCall("exists", {path}));
}

// Appends the operands of `expr` as an `op` chain would list them: an AND (OR) built here is
// associative, so nested chains flatten into one, as a person would write them.
void AppendFlattened(Op op, Expr expr, std::vector<Expr>& terms) {
    if (expr.kind == ExprKind::kBinary && expr.op == op) {
        for (Expr& child : expr.children) {
            AppendFlattened(op, std::move(child), terms);
        }
        return;
    }
    terms.push_back(std::move(expr));
}

// a op b op c as one flat chain, as the parser builds it. `terms` is not empty.
Expr Chain(Op op, std::vector<Expr> terms) {
    std::vector<Expr> flat;
    for (Expr& term : terms) {
        AppendFlattened(op, std::move(term), flat);
    }
    if (flat.size() == 1) {
        return std::move(flat[0]);
    }
    Expr out;
    out.kind = ExprKind::kBinary;
    out.op = op;
    out.children = std::move(flat);
    return out;
}

// ---- filters ----

// Translates a MongoDB-style filter (document/filter.h) into a WHERE expression over
// `prefix` + "metadata" paths. Confined to one translation.
class FilterTranslator {
  public:
    explicit FilterTranslator(std::vector<std::string> prefix) : prefix_(std::move(prefix)) {}

    // Null when the filter is {} (matches everything).
    Result<std::optional<Expr>> Translate(const Json& filter) {
        if (!filter.is_object()) {
            return Invalid("\"filter\" must be an object, got " + TypeName(filter));
        }
        if (filter.empty()) {
            return std::optional<Expr>();
        }
        PHENIX_ASSIGN_OR_RETURN(std::vector<Expr> terms, Object(filter, "", 0));
        return std::optional<Expr>(Chain(Op::kAnd, std::move(terms)));
    }

  private:
    static Status Error(const std::string& where, std::string_view message) {
        return Invalid("\"filter\": " + where + std::string(message));
    }

    Status CountCondition(const std::string& where) {
        if (++num_conditions_ > kMaxFilterConditions) {
            return Error(where, "more than " + std::to_string(kMaxFilterConditions) +
                                    " conditions in one filter");
        }
        return Status::Ok();
    }

    static Status CheckDepth(const std::string& where, int depth) {
        if (depth > document::kMaxFilterDepth) {
            return Error(where, "$and/$or/$not nested deeper than " +
                                    std::to_string(document::kMaxFilterDepth) + " levels");
        }
        return Status::Ok();
    }

    // The conditions of one filter object, to be joined with AND.
    Result<std::vector<Expr>> Object(const Json& object, const std::string& where, int depth) {
        if (!object.is_object()) {
            return Error(where, "expected a filter object, got " + TypeName(object));
        }
        if (object.empty()) {
            return Error(where, "an empty filter object {} is only allowed as the whole filter");
        }
        std::vector<Expr> terms;
        for (const auto& [key, value] : object.items()) {
            if (!key.starts_with('$')) {
                PHENIX_ASSIGN_OR_RETURN(Expr path, FieldPath(key, where));
                PHENIX_ASSIGN_OR_RETURN(std::vector<Expr> field_terms,
                                        Field(path, key, value, where, depth));
                for (Expr& term : field_terms) {
                    terms.push_back(std::move(term));
                }
                continue;
            }
            if (key == "$and" || key == "$or") {
                PHENIX_ASSIGN_OR_RETURN(Expr logical, Logical(key, value, where, depth + 1));
                terms.push_back(std::move(logical));
            } else if (key == "$not") {
                PHENIX_RETURN_IF_ERROR(CheckDepth(where, depth + 1));
                PHENIX_ASSIGN_OR_RETURN(std::vector<Expr> inner,
                                        Object(value, where + "$not: ", depth + 1));
                terms.push_back(MakeIsNotTrue(Chain(Op::kAnd, std::move(inner))));
            } else if (IsFieldOperator(key)) {
                return Error(where, Quote(key) + " needs a field: write {\"field\": {" +
                                        Quote(key) + ": ...}}");
            } else {
                return Error(where,
                             "unknown operator " + Quote(key) + DidYouMean(key, kFilterOperators));
            }
        }
        return terms;
    }

    Result<Expr> Logical(const std::string& key, const Json& value, const std::string& where,
                         int depth) {
        PHENIX_RETURN_IF_ERROR(CheckDepth(where, depth));
        if (!value.is_array() || value.empty()) {
            return Error(where, Quote(key) + " needs a non-empty array of filter objects, got " +
                                    (value.is_array() ? "an empty array" : TypeName(value)));
        }
        bool is_and = key == "$and";
        std::vector<Expr> terms;
        std::size_t idx = 0;
        for (const Json& element : value) {
            std::string element_where = where + key + "[" + std::to_string(idx++) + "]: ";
            PHENIX_ASSIGN_OR_RETURN(std::vector<Expr> inner, Object(element, element_where, depth));
            if (is_and) {
                for (Expr& term : inner) {
                    terms.push_back(std::move(term));
                }
            } else {
                terms.push_back(Chain(Op::kAnd, std::move(inner)));
            }
        }
        return Chain(is_and ? Op::kAnd : Op::kOr, std::move(terms));
    }

    static bool IsFieldOperator(std::string_view key) {
        return key == "$eq" || key == "$ne" || key == "$gt" || key == "$gte" || key == "$lt" ||
               key == "$lte" || key == "$in" || key == "$nin" || key == "$exists" || key == "$like";
    }

    // prefix.metadata.<segments of the JSON path `key`>.
    Result<Expr> FieldPath(const std::string& key, const std::string& where) {
        Result<document::JsonPath> parsed = document::JsonPath::Parse(key);
        if (!parsed.ok()) {
            return Error(where, "bad path " + Quote(key) + ": " + parsed.status().message());
        }
        std::vector<std::string> path = prefix_;
        path.emplace_back("metadata");
        for (const std::string& segment : parsed->segments()) {
            if (segment.empty()) {
                return Error(where, "bad path " + Quote(key) + ": empty segment");
            }
            path.push_back(segment);
        }
        return MakePath(std::move(path));
    }

    // A string, number, boolean or null as a literal.
    static Result<Expr> Literal(const Json& value, const std::string& where, std::string_view op,
                                const std::string& key) {
        Expr expr;
        if (value.is_null()) {
            expr.kind = ExprKind::kNull;
        } else if (const auto* flag = value.get_ptr<const Json::boolean_t*>()) {
            expr.kind = ExprKind::kBool;
            expr.bool_value = *flag;
        } else if (const auto* text = value.get_ptr<const Json::string_t*>()) {
            expr = MakeString(*text);
        } else if (const auto* us = value.get_ptr<const Json::number_unsigned_t*>()) {
            // Before number_integer_t, which get_ptr also gives for unsigned values.
            if (*us > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                return Error(where, "integer " + std::to_string(*us) + " on " + Quote(key) +
                                        " is out of range");
            }
            expr = MakeInt(static_cast<std::int64_t>(*us));
        } else if (const auto* is = value.get_ptr<const Json::number_integer_t*>()) {
            expr = MakeInt(*is);
        } else if (const auto* fs = value.get_ptr<const Json::number_float_t*>()) {
            if (!std::isfinite(*fs)) {
                return Error(where, "number on " + Quote(key) + " is out of range");
            }
            expr.kind = ExprKind::kFloat;
            expr.float_value = *fs;
        } else {
            return Error(where, Quote(std::string(op)) + " on " + Quote(key) +
                                    " needs a scalar value, got " + TypeName(value));
        }
        return expr;
    }

    // The conditions `value` puts on one field: a literal ($eq) or an operator object.
    Result<std::vector<Expr>> Field(const Expr& path, const std::string& key, const Json& value,
                                    const std::string& where, int depth) {
        std::vector<Expr> terms;
        if (!value.is_object()) {
            PHENIX_RETURN_IF_ERROR(CountCondition(where));
            PHENIX_ASSIGN_OR_RETURN(Expr literal, Literal(value, where, "$eq", key));
            terms.push_back(Equals(path, std::move(literal)));
            return terms;
        }
        if (value.empty()) {
            return Error(where, Quote(key) + " needs a value or an operator object, got {}");
        }
        for (const auto& [op, operand] : value.items()) {
            if (!op.starts_with('$')) {
                return Error(where, Quote(key) + ": an object literal is not a filter value; " +
                                        "use operators such as {\"$eq\": ...}");
            }
            static constexpr std::pair<std::string_view, Op> kCompare[] = {
                {"$eq", Op::kEq},  {"$ne", Op::kNe}, {"$gt", Op::kGt},
                {"$gte", Op::kGe}, {"$lt", Op::kLt}, {"$lte", Op::kLe},
            };
            bool done = false;
            for (const auto& [name, compare] : kCompare) {
                if (op == name) {
                    PHENIX_RETURN_IF_ERROR(CountCondition(where));
                    PHENIX_ASSIGN_OR_RETURN(Expr literal, Literal(operand, where, op, key));
                    terms.push_back(Compare(compare, path, std::move(literal)));
                    done = true;
                    break;
                }
            }
            if (done) {
                continue;
            }
            if (op == "$in" || op == "$nin") {
                PHENIX_RETURN_IF_ERROR(CountCondition(where));
                PHENIX_ASSIGN_OR_RETURN(Expr in, In(path, key, op, operand, where));
                terms.push_back(std::move(in));
            } else if (op == "$exists") {
                PHENIX_RETURN_IF_ERROR(CountCondition(where));
                const auto* flag = operand.get_ptr<const Json::boolean_t*>();
                if (flag == nullptr) {
                    return Error(where, "\"$exists\" on " + Quote(key) +
                                            " needs true or false, got " + TypeName(operand));
                }
                Expr exists = MakeCall("exists", {path});
                terms.push_back(*flag ? std::move(exists) : MakeNot(std::move(exists)));
            } else if (op == "$like") {
                PHENIX_RETURN_IF_ERROR(CountCondition(where));
                const auto* pattern = operand.get_ptr<const Json::string_t*>();
                if (pattern == nullptr) {
                    return Error(where, "\"$like\" on " + Quote(key) +
                                            " needs a pattern string, got " + TypeName(operand));
                }
                if (Status status = document::CheckLikePattern(*pattern); !status.ok()) {
                    return Error(where, "\"$like\" on " + Quote(key) + ": " + status.message());
                }
                // The filter's escape character is \, PhenixQL's default one.
                Expr like;
                like.kind = ExprKind::kLike;
                like.children.push_back(path);
                like.children.push_back(MakeString(*pattern));
                terms.push_back(std::move(like));
            } else if (op == "$not") {
                PHENIX_RETURN_IF_ERROR(CheckDepth(where, depth + 1));
                if (!operand.is_object()) {
                    return Error(where, "\"$not\" on " + Quote(key) +
                                            " needs an operator object, got " + TypeName(operand));
                }
                PHENIX_ASSIGN_OR_RETURN(std::vector<Expr> inner,
                                        Field(path, key, operand, where, depth + 1));
                terms.push_back(MakeIsNotTrue(Chain(Op::kAnd, std::move(inner))));
            } else if (op == "$and" || op == "$or") {
                return Error(where, Quote(op) + " cannot be used inside field " + Quote(key) +
                                        "; put it at the top of a filter object");
            } else {
                return Error(where, "unknown operator " + Quote(op) + " on " + Quote(key) +
                                        DidYouMean(op, kFilterOperators));
            }
        }
        return terms;
    }

    static Result<Expr> In(const Expr& path, const std::string& key, const std::string& op,
                           const Json& operand, const std::string& where) {
        if (!operand.is_array() || operand.empty() || operand.size() > document::kMaxInValues) {
            return Error(where, Quote(op) + " on " + Quote(key) + " needs an array of 1 to " +
                                    std::to_string(document::kMaxInValues) + " values, got " +
                                    (operand.is_array() ? std::to_string(operand.size()) + " values"
                                                        : TypeName(operand)));
        }
        Expr in;
        in.kind = ExprKind::kIn;
        in.children.push_back(path);
        bool has_null = false;
        for (const Json& element : operand) {
            PHENIX_ASSIGN_OR_RETURN(Expr literal, Literal(element, where, op, key));
            if (literal.kind == ExprKind::kNull) {
                has_null = true;  // NULL in an IN list is UNKNOWN in PhenixQL
            } else {
                in.children.push_back(std::move(literal));
            }
        }
        Expr rows;
        if (in.children.size() == 1) {
            rows = MakeExplicitNull(path);
        } else if (has_null) {
            rows = MakeBinary(Op::kOr, std::move(in), MakeExplicitNull(path));
        } else {
            rows = std::move(in);
        }
        return op == "$nin" ? MakeIsNotTrue(std::move(rows)) : rows;
    }

    // The filter's {"p": v}: p = v, or the explicit-null test for null.
    static Expr Equals(const Expr& path, Expr literal) {
        if (literal.kind == ExprKind::kNull) {
            return MakeExplicitNull(path);
        }
        return MakeBinary(Op::kEq, path, std::move(literal));
    }

    // A filter comparison as PhenixQL with the filter's (two-valued) meaning: $ne is the
    // complement of $eq; a comparison with null holds for an explicit null ($eq, $lte, $gte)
    // or never ($lt, $gt).
    static Expr Compare(Op op, const Expr& path, Expr literal) {
        if (op == Op::kNe) {
            return MakeIsNotTrue(Equals(path, std::move(literal)));
        }
        if (literal.kind == ExprKind::kNull) {
            if (op == Op::kLt || op == Op::kGt) {
                Expr never;
                never.kind = ExprKind::kBool;
                never.bool_value = false;
                return never;
            }
            return MakeExplicitNull(path);
        }
        return MakeBinary(op, path, std::move(literal));
    }

    std::vector<std::string> prefix_;
    int num_conditions_ = 0;
};

// ---- the query ----

// Parses with nlohmann::json (no exceptions), rejecting a key repeated in one object (as
// document::ParseFilter does) and nesting deeper than kMaxJsonDepth.
Result<Json> ParseJson(std::string_view text) {
    if (text.size() > kMaxQueryBytes) {
        return Invalid("JSON query longer than " + std::to_string(kMaxQueryBytes) + " bytes");
    }
    std::vector<std::set<std::string, std::less<>>> keys;  // the keys seen in each open object
    std::string problem;
    Json::parser_callback_t callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
        using Event = Json::parse_event_t;
        if (depth > kMaxJsonDepth && problem.empty()) {
            problem = "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
        }
        if (event == Event::object_start) {
            keys.emplace_back();
        } else if (event == Event::object_end && !keys.empty()) {
            keys.pop_back();
        } else if (event == Event::key && !keys.empty()) {
            if (const auto* key = parsed.get_ptr<const Json::string_t*>()) {
                if (!keys.back().insert(*key).second && problem.empty()) {
                    problem = "key " + Quote(*key) + " appears twice in one object";
                }
            }
        }
        return true;
    };
    Json json = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
        // Parse again without building anything, for the message and position.
        struct ErrorSax : nlohmann::json_sax<Json> {
            std::string message;
            bool null() override { return true; }
            bool boolean(bool) override { return true; }
            bool number_integer(number_integer_t) override { return true; }
            bool number_unsigned(number_unsigned_t) override { return true; }
            bool number_float(number_float_t, const string_t&) override { return true; }
            bool string(string_t&) override { return true; }
            bool binary(binary_t&) override { return true; }
            bool start_object(std::size_t) override { return true; }
            bool key(string_t&) override { return true; }
            bool end_object() override { return true; }
            bool start_array(std::size_t) override { return true; }
            bool end_array() override { return true; }
            bool parse_error(std::size_t, const std::string&,
                             const nlohmann::detail::exception& error) override {
                message = error.what();
                return false;
            }
        };
        ErrorSax sax;
        (void)Json::sax_parse(text.begin(), text.end(), &sax);
        std::string message = sax.message;
        if (std::size_t end = message.find("] ");
            message.starts_with("[json.") && end != std::string::npos) {
            message = message.substr(end + 2);
        }
        return Invalid("invalid JSON query: " + (message.empty() ? "syntax error" : message));
    }
    if (!problem.empty()) {
        return Invalid("invalid JSON query: " + problem);
    }
    return json;
}

Result<std::vector<double>> VectorField(const Json& value) {
    if (!value.is_array() || value.empty()) {
        return Invalid("\"vector\" must be a non-empty array of numbers, got " +
                       (value.is_array() ? "an empty array" : TypeName(value)));
    }
    std::vector<double> vector;
    vector.reserve(value.size());
    std::size_t idx = 0;
    for (const Json& element : value) {
        double number = 0;
        if (const auto* us = element.get_ptr<const Json::number_unsigned_t*>()) {
            number = static_cast<double>(*us);  // before number_integer_t (see IntegerIn)
        } else if (const auto* is = element.get_ptr<const Json::number_integer_t*>()) {
            number = static_cast<double>(*is);
        } else if (const auto* fs = element.get_ptr<const Json::number_float_t*>()) {
            number = *fs;
        } else {
            return Invalid("\"vector\"[" + std::to_string(idx) + "] must be a number, got " +
                           TypeName(element));
        }
        if (!std::isfinite(number)) {
            return Invalid("\"vector\"[" + std::to_string(idx) + "] is out of range");
        }
        vector.push_back(number);
        ++idx;
    }
    return vector;
}

// A string that must be one of `options`.
Result<std::string> ChoiceField(const Json& value, std::string_view name,
                                std::span<const std::string_view> options) {
    std::string choices;
    for (std::size_t idx = 0; idx < options.size(); ++idx) {
        choices += (idx == 0                    ? ""
                    : idx + 1 == options.size() ? " or "
                                                : ", ") +
                   Quote(options[idx]);
    }
    const auto* text = value.get_ptr<const Json::string_t*>();
    if (text == nullptr) {
        return Invalid(Quote(name) + " must be " + choices + ", got " + TypeName(value));
    }
    for (std::string_view option : options) {
        if (*text == option) {
            return *text;
        }
    }
    return Invalid(Quote(name) + " must be " + choices + ", got " + Quote(*text) +
                   DidYouMean(*text, options));
}

Status CheckKeys(const Json& object, std::string_view what,
                 std::span<const std::string_view> known) {
    for (const auto& [key, value] : object.items()) {
        bool is_known = false;
        for (std::string_view name : known) {
            is_known = is_known || key == name;
        }
        if (!is_known) {
            return Invalid("unknown field " + Quote(key) + " in " + std::string(what) +
                           DidYouMean(key, known));
        }
    }
    return Status::Ok();
}

const Json* Find(const Json& object, std::string_view key) {
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

struct GraphSpec {
    std::string from;
    std::string label;
    EdgeDirection direction = EdgeDirection::kOut;
    std::uint32_t min_hops = 1;
    std::uint32_t max_hops = 1;
};

Result<GraphSpec> GraphField(const Json& graph) {
    if (!graph.is_object()) {
        return Invalid("\"graph\" must be an object, got " + TypeName(graph));
    }
    PHENIX_RETURN_IF_ERROR(CheckKeys(graph, "\"graph\"", kGraphFields));
    GraphSpec spec;
    const Json* from = Find(graph, "from");
    if (from == nullptr) {
        return Invalid("\"graph\" needs \"from\": the id of the start entity");
    }
    PHENIX_ASSIGN_OR_RETURN(spec.from, NonEmptyString(*from, "graph.from"));
    if (const Json* label = Find(graph, "label")) {
        PHENIX_ASSIGN_OR_RETURN(spec.label, NonEmptyString(*label, "graph.label"));
    }
    if (const Json* direction = Find(graph, "direction")) {
        PHENIX_ASSIGN_OR_RETURN(std::string text,
                                ChoiceField(*direction, "graph.direction", kDirections));
        spec.direction = text == "out"  ? EdgeDirection::kOut
                         : text == "in" ? EdgeDirection::kIn
                                        : EdgeDirection::kBoth;
    }
    const Json* min_hops = Find(graph, "min_hops");
    const Json* max_hops = Find(graph, "max_hops");
    if (min_hops != nullptr) {
        PHENIX_ASSIGN_OR_RETURN(std::int64_t value,
                                IntegerField(*min_hops, "graph.min_hops", 0, kMaxHops));
        spec.min_hops = static_cast<std::uint32_t>(value);
    }
    spec.max_hops = min_hops != nullptr ? spec.min_hops : 1;
    if (max_hops != nullptr) {
        PHENIX_ASSIGN_OR_RETURN(std::int64_t value,
                                IntegerField(*max_hops, "graph.max_hops", 0, kMaxHops));
        spec.max_hops = static_cast<std::uint32_t>(value);
    }
    if (spec.max_hops < spec.min_hops) {
        return Invalid("\"graph.max_hops\" (" + std::to_string(spec.max_hops) +
                       ") is below \"graph.min_hops\" (" + std::to_string(spec.min_hops) + ")");
    }
    return spec;
}

}  // namespace

Result<Statement> ParseJsonQuery(std::string_view json_text) {
    PHENIX_ASSIGN_OR_RETURN(Json query, ParseJson(json_text));
    if (!query.is_object()) {
        return Invalid("a JSON query must be an object, got " + TypeName(query));
    }
    PHENIX_RETURN_IF_ERROR(CheckKeys(query, "the JSON query", kTopFields));

    const Json* collection = Find(query, "collection");
    if (collection == nullptr) {
        return Invalid("the JSON query needs \"collection\"");
    }
    SelectStmt select;
    PHENIX_ASSIGN_OR_RETURN(std::string collection_name, NonEmptyString(*collection, "collection"));

    std::optional<Expr> vector;
    if (const Json* value = Find(query, "vector")) {
        vector.emplace();
        vector->kind = ExprKind::kVector;
        PHENIX_ASSIGN_OR_RETURN(vector->vector_value, VectorField(*value));
    }
    std::string metric;
    if (const Json* value = Find(query, "metric")) {
        if (!vector.has_value()) {
            return Invalid("\"metric\" needs \"vector\"");
        }
        PHENIX_ASSIGN_OR_RETURN(metric, ChoiceField(*value, "metric", kMetrics));
    }
    std::int64_t k = kDefaultK;
    if (const Json* value = Find(query, "k")) {
        PHENIX_ASSIGN_OR_RETURN(k, IntegerField(*value, "k", 1, kMaxK));
    }
    std::optional<std::int64_t> ef;
    if (const Json* value = Find(query, "ef")) {
        if (!vector.has_value()) {
            return Invalid("\"ef\" needs \"vector\"");
        }
        PHENIX_ASSIGN_OR_RETURN(ef, IntegerField(*value, "ef", 1, kMaxEf));
    }
    bool with_metadata = false;
    bool with_vector = false;
    if (const Json* value = Find(query, "include")) {
        if (!value->is_array()) {
            return Invalid("\"include\" must be an array of strings, got " + TypeName(*value));
        }
        for (const Json& element : *value) {
            PHENIX_ASSIGN_OR_RETURN(std::string item,
                                    ChoiceField(element, "include", kIncludeValues));
            with_metadata = with_metadata || item == "metadata";
            with_vector = with_vector || item == "vector";
        }
    }
    std::optional<GraphSpec> graph;
    if (const Json* value = Find(query, "graph")) {
        PHENIX_ASSIGN_OR_RETURN(graph, GraphField(*value));
    }

    // Columns of the result node: "b.x" in a graph query, "x" otherwise.
    std::vector<std::string> prefix;
    if (graph.has_value()) {
        prefix.emplace_back("b");
    }
    auto column = [&](std::string name) {
        std::vector<std::string> path = prefix;
        path.push_back(std::move(name));
        return MakePath(std::move(path));
    };

    select.items.push_back(SelectItem{.expr = column("id"), .alias = ""});
    if (vector.has_value()) {
        Expr distance;
        if (metric.empty()) {
            distance = MakeCall("distance", {column("vector"), *vector});
        } else {
            Op op = metric == "l2"       ? Op::kL2Distance
                    : metric == "cosine" ? Op::kCosineDistance
                                         : Op::kNegInnerProduct;
            distance = MakeBinary(op, column("vector"), *vector);
        }
        select.items.push_back(SelectItem{.expr = std::move(distance), .alias = "distance"});
    }
    if (with_metadata) {
        select.items.push_back(SelectItem{.expr = column("metadata"), .alias = ""});
    }
    if (with_vector) {
        select.items.push_back(SelectItem{.expr = column("vector"), .alias = ""});
    }

    std::optional<Expr> filter;
    if (const Json* value = Find(query, "filter")) {
        FilterTranslator translator(prefix);
        PHENIX_ASSIGN_OR_RETURN(filter, translator.Translate(*value));
    }
    if (graph.has_value()) {
        MatchPattern match;
        match.nodes.push_back(
            NodePattern{.pos = {}, .variable = "a", .collection = collection_name});
        match.edges.push_back(EdgePattern{.pos = {},
                                          .variable = "",
                                          .label = graph->label,
                                          .direction = graph->direction,
                                          .min_hops = graph->min_hops,
                                          .max_hops = graph->max_hops,
                                          .where = std::nullopt});
        match.nodes.push_back(
            NodePattern{.pos = {}, .variable = "b", .collection = collection_name});
        select.match = std::move(match);
        std::vector<Expr> terms;
        terms.push_back(MakeBinary(Op::kEq, MakePath({"a", "id"}), MakeString(graph->from)));
        if (filter.has_value()) {
            terms.push_back(std::move(*filter));
        }
        select.where = Chain(Op::kAnd, std::move(terms));
    } else {
        select.collection = std::move(collection_name);
        select.where = std::move(filter);
    }
    if (vector.has_value()) {
        select.order_by.push_back(
            OrderItem{.expr = MakePath({"distance"}), .is_descending = false});
    }
    select.limit = MakeInt(k);
    if (ef.has_value()) {
        select.options.push_back(OptionItem{.name = "ef", .value = MakeInt(*ef)});
    }

    Statement statement;
    statement.body = std::move(select);
    return statement;
}

}  // namespace phenix::query
