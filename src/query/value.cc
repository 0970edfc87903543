// SPDX-License-Identifier: Apache-2.0
//
// QueryValue, constant evaluation, positioned errors and name suggestions (exec.h).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/utf8.h"
#include "document/json.h"
#include "query/exec.h"
#include "query/expression.h"
#include "query/json_value.h"
#include "query/lexer.h"
#include "query/parser.h"

namespace phenix {

QueryValue QueryValue::Bool(bool value) {
    QueryValue v;
    v.type = Type::kBool;
    v.bool_value = value;
    return v;
}
QueryValue QueryValue::Int(std::int64_t value) {
    QueryValue v;
    v.type = Type::kInt;
    v.int_value = value;
    return v;
}
QueryValue QueryValue::Float(double value) {
    QueryValue v;
    v.type = Type::kFloat;
    v.float_value = value;
    return v;
}
QueryValue QueryValue::String(std::string value) {
    QueryValue v;
    v.type = Type::kString;
    v.text = std::move(value);
    return v;
}
QueryValue QueryValue::Vector(std::vector<float> value) {
    QueryValue v;
    v.type = Type::kVector;
    v.vector = std::move(value);
    return v;
}
QueryValue QueryValue::Json(std::string json_text) {
    QueryValue v;
    v.type = Type::kJson;
    v.text = std::move(json_text);
    return v;
}

namespace {

// The shortest text that reads back as the same value (std::to_chars), e.g. 0.1 not
// 0.10000000000000001; a float keeps a fraction or exponent ("2.0", not "2").
std::string FormatDouble(double value) {
    if (!std::isfinite(value)) {
        return "null";
    }
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    std::string text(buffer, ec == std::errc() ? end : buffer);
    if (text.find_first_of(".eE") == std::string::npos) {
        text += ".0";
    }
    return text;
}

std::string FormatFloat(float value) {
    if (!std::isfinite(value)) {
        return "null";
    }
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, ec == std::errc() ? end : buffer);
}

}  // namespace

Result<QueryValue> QueryValue::FromJson(std::string_view json_text) {
    // Serializing a value back (kJson text) recurses once per level: bound the depth first.
    if (const int depth = document::JsonNestingDepth(json_text);
        static_cast<std::size_t>(depth) > query::kMaxJsonLiteralDepth) {
        return Status::InvalidArgument("JSON is nested " + std::to_string(depth) +
                                       " levels deep; the limit is " +
                                       std::to_string(query::kMaxJsonLiteralDepth));
    }
    nlohmann::json json = nlohmann::json::parse(json_text, nullptr, false);
    if (json.is_discarded()) {
        return Status::InvalidArgument("not valid JSON: " + std::string(json_text.substr(0, 60)));
    }
    return query::QueryValueFromJson(json);
}

std::string QueryValue::ToJson() const {
    switch (type) {
        case Type::kNull:
            return "null";
        case Type::kBool:
            return bool_value ? "true" : "false";
        case Type::kInt:
            return std::to_string(int_value);
        case Type::kFloat:
            return FormatDouble(float_value);
        case Type::kString:
            return nlohmann::json(text).dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace);
        case Type::kVector: {
            std::string out = "[";
            for (std::size_t idx = 0; idx < vector.size(); ++idx) {
                if (idx > 0) {
                    out += ',';
                }
                out += FormatFloat(vector[idx]);
            }
            return out + "]";
        }
        case Type::kJson:
            return text;
    }
    return "null";
}

std::string QueryValue::ToText() const {
    switch (type) {
        case Type::kNull:
            return "NULL";
        case Type::kString:
            return text;
        case Type::kVector: {
            std::string out = "[";
            for (std::size_t idx = 0; idx < vector.size(); ++idx) {
                if (idx > 0) {
                    out += ", ";
                }
                out += FormatFloat(vector[idx]);
            }
            return out + "]";
        }
        default:
            return ToJson();
    }
}

}  // namespace phenix

namespace phenix::query {

QueryValue QueryValueFromJson(const nlohmann::json& json) {
    switch (json.type()) {
        case nlohmann::json::value_t::null:
        case nlohmann::json::value_t::discarded:
            return QueryValue::Null();
        case nlohmann::json::value_t::boolean:
            return QueryValue::Bool(json.get<bool>());
        case nlohmann::json::value_t::number_integer:
            return QueryValue::Int(json.get<std::int64_t>());
        case nlohmann::json::value_t::number_unsigned: {
            const auto value = json.get<std::uint64_t>();
            if (value > static_cast<std::uint64_t>(INT64_MAX)) {
                return QueryValue::Float(static_cast<double>(value));
            }
            return QueryValue::Int(static_cast<std::int64_t>(value));
        }
        case nlohmann::json::value_t::number_float:
            return QueryValue::Float(json.get<double>());
        case nlohmann::json::value_t::string:
            return QueryValue::String(json.get<std::string>());
        default:
            return QueryValue::Json(
                json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
}

std::int64_t UnixNanosNow() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Status ErrorAt(SourcePos pos, std::string_view message) {
    return Status::InvalidArgument(PositionedMessage(pos, message));
}

Status AtPos(SourcePos pos, const Status& status) {
    if (status.ok()) {
        return status;
    }
    return Status(status.code(), PositionedMessage(pos, status.message()));
}

std::optional<std::string> ClosestName(std::string_view name,
                                       const std::vector<std::string>& candidates) {
    constexpr std::size_t kMaxWord = 64;
    std::optional<std::string> best;
    std::size_t best_distance = 3;
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const std::string& candidate : candidates) {
        if (candidate == name || candidate.size() > kMaxWord || name.size() > kMaxWord) {
            continue;
        }
        std::string cand_lower(candidate);
        std::transform(cand_lower.begin(), cand_lower.end(), cand_lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const std::size_t distance = cand_lower == lower ? 0 : EditDistance(lower, cand_lower);
        // Short names need a closer match: "a" is not a typo of "b".
        const std::size_t allowed = name.size() >= 4 ? 2 : (name.size() >= 2 ? 1 : 0);
        if (distance <= allowed && distance < best_distance) {
            best_distance = distance;
            best = candidate;
        }
    }
    return best;
}

bool IsConstant(const Expr& expr) {
    if (IsArithmetic(expr)) {  // folded: 1 + 2, -$1
        return std::all_of(expr.children.begin(), expr.children.end(),
                           [](const Expr& child) { return IsConstant(child); });
    }
    switch (expr.kind) {
        case ExprKind::kNull:
        case ExprKind::kBool:
        case ExprKind::kInt:
        case ExprKind::kFloat:
        case ExprKind::kString:
        case ExprKind::kVector:
        case ExprKind::kJson:
        case ExprKind::kParam:
            return true;
        default:
            return false;
    }
}

Result<QueryValue> EvalConstant(const Expr& expr, const QueryParams& params) {
    if (IsArithmetic(expr)) {
        return EvalValue(expr, [&](const Expr& leaf) { return EvalConstant(leaf, params); });
    }
    switch (expr.kind) {
        case ExprKind::kNull:
            return QueryValue::Null();
        case ExprKind::kBool:
            return QueryValue::Bool(expr.bool_value);
        case ExprKind::kInt:
            return QueryValue::Int(expr.int_value);
        case ExprKind::kFloat:
            return QueryValue::Float(expr.float_value);
        case ExprKind::kString:
            return QueryValue::String(expr.text);
        case ExprKind::kVector: {
            std::vector<float> values;
            values.reserve(expr.vector_value.size());
            for (const double value : expr.vector_value) {
                values.push_back(static_cast<float>(value));
            }
            return QueryValue::Vector(std::move(values));
        }
        case ExprKind::kJson: {
            nlohmann::json json = nlohmann::json::parse(expr.text, nullptr, false);
            if (json.is_discarded()) {
                return ErrorAt(expr.pos, "invalid JSON literal");
            }
            return QueryValue::Json(json.dump());
        }
        case ExprKind::kParam: {
            const auto it = params.find(expr.text);
            if (it == params.end()) {
                return ErrorAt(expr.pos, "no value was given for parameter $" + expr.text);
            }
            // Parameters bypass the lexer's checks on literals: make the same ones here.
            const QueryValue& value = it->second;
            if ((value.type == QueryValue::Type::kString ||
                 value.type == QueryValue::Type::kJson) &&
                !IsValidUtf8(value.text)) {
                return ErrorAt(expr.pos, "parameter $" + expr.text + " is not valid UTF-8");
            }
            if (value.type == QueryValue::Type::kJson) {
                if (const int depth = document::JsonNestingDepth(value.text);
                    static_cast<std::size_t>(depth) > kMaxJsonLiteralDepth) {
                    return ErrorAt(expr.pos, "parameter $" + expr.text + " is JSON nested " +
                                                 std::to_string(depth) +
                                                 " levels deep; the limit is " +
                                                 std::to_string(kMaxJsonLiteralDepth));
                }
            }
            return value;
        }
        default:
            return ErrorAt(expr.pos, "expected a constant (a literal or a $parameter), found " +
                                         ToString(expr));
    }
}

Result<std::vector<float>> ConstantAsVector(const Expr& expr, const QueryParams& params,
                                            std::string_view what) {
    PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(expr, params));
    if (value.type == QueryValue::Type::kVector) {
        return std::move(value.vector);
    }
    if (value.type == QueryValue::Type::kJson) {
        nlohmann::json json = nlohmann::json::parse(value.text, nullptr, false);
        if (json.is_array()) {
            std::vector<float> out;
            out.reserve(json.size());
            bool ok = true;
            for (const auto& element : json) {
                if (!element.is_number()) {
                    ok = false;
                    break;
                }
                out.push_back(element.get<float>());
            }
            if (ok) {
                return out;
            }
        }
    }
    return ErrorAt(expr.pos, std::string(what) +
                                 " must be a vector of numbers like [0.1, 0.2], not " +
                                 value.ToJson().substr(0, 60));
}

Result<CollectionInfo> ResolveCollection(const ExecContext& ctx, std::string_view name,
                                         SourcePos pos) {
    Result<CollectionInfo> info = ctx.db.GetCollection(ctx.Ref(name));
    if (info.ok() || info.status().code() != StatusCode::kNotFound) {
        if (!info.ok()) {
            return AtPos(pos, info.status());
        }
        return info;
    }
    std::string message = "collection '" + std::string(name) + "' does not exist";
    Result<std::vector<CollectionInfo>> all = ctx.db.ListCollections(ctx.tenant);
    if (all.ok()) {
        std::vector<std::string> names;
        for (const CollectionInfo& collection : *all) {
            names.push_back(collection.spec.ref.name);
        }
        if (auto suggestion = ClosestName(name, names)) {
            message += "; did you mean '" + *suggestion + "'?";
        }
    }
    return Status::NotFound(PositionedMessage(pos, message));
}

}  // namespace phenix::query
