// SPDX-License-Identifier: Apache-2.0
//
// Expressions against a row (row_eval.h).
#include "query/row_eval.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include <phenix/json.h>

#include "document/filter.h"
#include "query/exec.h"
#include "query/expression.h"
#include "query/json_value.h"
#include "query/parser.h"

namespace phenix::query {
namespace {

using nlohmann::json;

json EntityEdgesJson(const Entity& entity) {
    json out = json::array();
    for (const Edge& edge : entity.edges) {
        json item = {{"label", edge.label}, {"target", edge.target_id}, {"weight", edge.weight}};
        if (!edge.target_collection.empty()) {
            item["target_collection"] = edge.target_collection;
        }
        if (!edge.properties.empty()) {
            json properties = json::parse(edge.properties, nullptr, false);
            if (!properties.is_discarded()) {
                item["properties"] = std::move(properties);
            }
        }
        out.push_back(std::move(item));
    }
    return out;
}

// Value at `path[from..]` inside a JSON document; NULL when missing.
QueryValue Extract(const json& root, const std::vector<std::string>& path, std::size_t from) {
    const json* node = &root;
    for (std::size_t idx = from; idx < path.size(); ++idx) {
        if (!node->is_object()) {
            return QueryValue::Null();
        }
        const auto it = node->find(path[idx]);
        if (it == node->end()) {
            return QueryValue::Null();
        }
        node = &*it;
    }
    return QueryValueFromJson(*node);
}

}  // namespace

// Rank of a value's type in ORDER BY and min/max: NULL sorts last.
int TypeRank(const QueryValue& value) {
    switch (value.type) {
        case QueryValue::Type::kBool:
            return 0;
        case QueryValue::Type::kInt:
        case QueryValue::Type::kFloat:
            return 1;
        case QueryValue::Type::kString:
            return 2;
        case QueryValue::Type::kVector:
            return 3;
        case QueryValue::Type::kJson:
            return 4;
        case QueryValue::Type::kNull:
            return 5;
    }
    return 5;
}

double AsDouble(const QueryValue& value) {
    return value.type == QueryValue::Type::kInt ? static_cast<double>(value.int_value)
                                                : value.float_value;
}

int CompareValues(const QueryValue& a, const QueryValue& b) {
    const int rank_a = TypeRank(a);
    const int rank_b = TypeRank(b);
    if (rank_a != rank_b) {
        return rank_a < rank_b ? -1 : 1;
    }
    switch (a.type) {
        case QueryValue::Type::kBool:
            return static_cast<int>(a.bool_value) - static_cast<int>(b.bool_value);
        case QueryValue::Type::kInt:
        case QueryValue::Type::kFloat: {
            if (a.type == QueryValue::Type::kInt && b.type == QueryValue::Type::kInt) {
                return a.int_value < b.int_value ? -1 : (a.int_value > b.int_value ? 1 : 0);
            }
            const double x = AsDouble(a);
            const double y = AsDouble(b);
            return x < y ? -1 : (x > y ? 1 : 0);
        }
        case QueryValue::Type::kString:
        case QueryValue::Type::kJson:
            return a.text.compare(b.text) < 0 ? -1 : (a.text == b.text ? 0 : 1);
        case QueryValue::Type::kVector:
            return a.vector < b.vector ? -1 : (a.vector == b.vector ? 0 : 1);
        case QueryValue::Type::kNull:
            return 0;
    }
    return 0;
}

// Values' JSON as a grouping / DISTINCT key: numbers compare by value (2020 and 2020.0 are one
// key), everything else by its JSON text.
void AppendKey(const QueryValue& value, std::string* key) {
    if (value.type == QueryValue::Type::kFloat && std::isfinite(value.float_value) &&
        value.float_value == std::trunc(value.float_value) &&
        std::fabs(value.float_value) < 9.2e18) {
        *key += std::to_string(static_cast<std::int64_t>(value.float_value));
    } else {
        *key += value.ToJson();
    }
    *key += '\x1f';
}

std::size_t ValueBytes(const QueryValue& value) {
    return sizeof(QueryValue) + value.text.size() + value.vector.size() * sizeof(float);
}

// The distance as PhenixQL reports it: L2 is Euclidean (the index ranks by its square), for <->
// and for distance() on an l2 collection alike.
// Distances come from float32 vectors: they are rounded to float precision so that they print
// as 0.1, not 0.099999994.
double ReportedDistance(Metric metric, DistanceOp op, double engine_distance) {
    double distance = engine_distance;
    if (metric == Metric::kL2 && (op == DistanceOp::kL2 || op == DistanceOp::kCollection)) {
        distance = std::sqrt(std::max(0.0, engine_distance));
    }
    // 1 - cos of float vectors is exact to about 1e-7 absolute: below that it is rounding noise.
    if (metric == Metric::kCosine && std::abs(distance) < 1e-7) {
        distance = 0;
    }
    const auto rounded = static_cast<float>(distance);
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, rounded);
    double out = distance;
    if (ec == std::errc()) {
        std::from_chars(buffer, end, out);
    }
    return out;
}

// The engine's distance for `metric` (squared L2, 1 - cos, -dot), computed exactly.
std::optional<double> ExactDistance(Metric metric, std::span<const float> a,
                                    std::span<const float> b) {
    if (a.size() != b.size() || a.empty()) {
        return std::nullopt;
    }
    double dot = 0;
    double norm_a = 0;
    double norm_b = 0;
    double l2 = 0;
    for (std::size_t idx = 0; idx < a.size(); ++idx) {
        const double x = a[idx];
        const double y = b[idx];
        dot += x * y;
        norm_a += x * x;
        norm_b += y * y;
        l2 += (x - y) * (x - y);
    }
    switch (metric) {
        case Metric::kL2:
            return l2;
        case Metric::kCosine:
            if (norm_a == 0 || norm_b == 0) {
                return std::nullopt;
            }
            return 1.0 - dot / (std::sqrt(norm_a) * std::sqrt(norm_b));
        case Metric::kInnerProduct:
            return -dot;
    }
    return std::nullopt;
}

Result<QueryValue> RowEvaluator::EvalDistance(const DistanceExpr& distance, const Row& row) const {
    if (b_.chain) {
        const std::size_t node = *b_.chain->NodeOf(distance.variable);
        const Metric metric = OpMetric(distance.op, b_.chain->nodes[node].info.spec.metric);
        const std::optional<double> exact =
            ExactDistance(metric, row.nodes[node].vector, distance.query);
        if (!exact) {
            return QueryValue::Null();
        }
        return QueryValue::Float(ReportedDistance(metric, distance.op, *exact));
    }
    const Entity* entity = &row.entity;
    if (b_.is_match && distance.variable == b_.match.start_var) {
        entity = &*row.start;
    }
    const Metric metric = OpMetric(distance.op, b_.info.spec.metric);
    if (entity->vector.empty() && entity == &row.entity && row.engine_distance &&
        b_.order_distance && metric == b_.info.spec.metric &&
        b_.order_distance->query == distance.query &&
        b_.order_distance->variable == distance.variable) {
        return QueryValue::Float(ReportedDistance(metric, distance.op, *row.engine_distance));
    }
    const std::optional<double> exact = ExactDistance(metric, entity->vector, distance.query);
    if (!exact) {
        return QueryValue::Null();
    }
    return QueryValue::Float(ReportedDistance(metric, distance.op, *exact));
}

namespace {

// An edge variable's value: the edge (one hop) or the list of edges of `path`; NULL without one.
QueryValue EdgeValue(const GraphPath* graph_path, bool single_edge,
                     const std::vector<std::string>& path) {
    if (graph_path == nullptr || graph_path->edges.empty()) {
        return QueryValue::Null();
    }
    if (!single_edge) {
        std::string edges = "[";
        for (const EdgeRecord& edge : graph_path->edges) {
            edges += (edges.size() > 1 ? "," : "") + EdgeRecordToJson(edge);
        }
        return QueryValue::Json(edges + "]");
    }
    const EdgeRecord& edge = graph_path->edges[0];
    if (path.size() == 1) {
        return QueryValue::Json(EdgeRecordToJson(edge));
    }
    if (path[1] == "label") {
        return QueryValue::String(edge.label);
    }
    if (path[1] == "weight") {
        return QueryValue::Float(edge.weight);
    }
    if (path[1] == "source") {
        return QueryValue::String(edge.source_id);
    }
    if (path[1] == "target") {
        return QueryValue::String(edge.target_id);
    }
    json properties = json::parse(edge.properties.empty() ? "{}" : edge.properties, nullptr, false);
    if (properties.is_discarded()) {
        return QueryValue::Null();
    }
    return Extract(properties, path, 2);
}

// A field of `entity` at `path[start..]`; `metadata()` gives its parsed metadata (cached).
template <typename Metadata>
QueryValue EntityValue(const Entity& entity, const Metadata& metadata,
                       const std::vector<std::string>& path, std::size_t start) {
    const std::string& field = path[start];
    if (field == "id") {
        return QueryValue::String(entity.id);
    }
    if (field == "vector") {
        if (entity.vector.empty()) {
            return QueryValue::Null();
        }
        return QueryValue::Vector(entity.vector);
    }
    if (field == "edges") {
        return QueryValue::Json(EntityEdgesJson(entity).dump());
    }
    // metadata
    if (path.size() == start + 1) {
        return QueryValue::Json(entity.metadata.empty() ? "{}" : entity.metadata);
    }
    // A scalar straight from the text (no DOM built: scans read a field or two of each row);
    // objects and arrays, and what simdjson does not read, from the parsed metadata.
    const auto rest = std::span<const std::string>(path).subspan(start + 1);
    if (std::optional<document::JsonScalar> scalar = document::ScalarAt(entity.metadata, rest)) {
        using Kind = document::JsonScalar::Kind;
        switch (scalar->kind) {
            case Kind::kMissing:
            case Kind::kNull:
                return QueryValue::Null();
            case Kind::kBool:
                return QueryValue::Bool(scalar->boolean);
            case Kind::kInt:
                return QueryValue::Int(scalar->int_value);
            case Kind::kUint:
                return scalar->uint_value > static_cast<std::uint64_t>(INT64_MAX)
                           ? QueryValue::Float(static_cast<double>(scalar->uint_value))
                           : QueryValue::Int(static_cast<std::int64_t>(scalar->uint_value));
            case Kind::kDouble:
                return QueryValue::Float(scalar->double_value);
            case Kind::kString:
                return QueryValue::String(std::move(scalar->text));
            case Kind::kComposite:
                break;
        }
    }
    return Extract(*metadata(), path, start + 1);
}

}  // namespace

Result<QueryValue> RowEvaluator::EvalPath(const Expr& expr, const Row& row) const {
    const std::vector<std::string>& path = expr.path;
    std::size_t start = 0;
    const Entity* entity = &row.entity;
    bool of_start = false;
    if (b_.chain) {
        const std::optional<std::size_t> node = b_.chain->NodeOf(path[0]);
        if (!node) {
            const std::size_t segment = *b_.chain->SegmentOf(path[0]);
            return EdgeValue(
                segment < row.segment_paths.size() ? row.segment_paths[segment].get() : nullptr,
                b_.chain->segments[segment].single_edge, path);
        }
        return EntityValue(
            row.nodes[*node], [&] { return &row.NodeMetadata(*node); }, path, 1);
    }
    if (b_.is_match) {
        if (path[0] == b_.match.edge_var) {
            return EdgeValue(row.path, b_.match.single_edge, path);
        }
        if (path[0] == b_.match.start_var) {
            entity = &*row.start;
            of_start = true;
        }
        start = 1;
    }
    return EntityValue(
        *entity, [&] { return &row.Metadata(of_start); }, path, start);
}

Result<QueryValue> RowEvaluator::Eval(const Expr& expr, const Row& row) const {
    if (IsConstant(expr)) {
        return EvalConstant(expr, *b_.params);
    }
    if (expr.kind == ExprKind::kPath) {
        return EvalPath(expr, row);
    }
    if (IsArithmetic(expr)) {
        return EvalValue(expr, [&](const Expr& leaf) { return Eval(leaf, row); });
    }
    PHENIX_ASSIGN_OR_RETURN(auto distance, AsDistance(b_, expr));
    if (distance) {
        return EvalDistance(*distance, row);
    }
    return ErrorAt(expr.pos, "cannot evaluate " + ToString(expr) + " per row");
}

// The single evaluator of conditions: `leaf` gives the value of the nodes it knows (fields,
// output columns, constants) and nullopt for the operators evaluated here.
template <typename Leaf>
Result<QueryValue> RowEvaluator::EvalCondition(const Expr& expr, const Leaf& leaf) const {
    PHENIX_ASSIGN_OR_RETURN(std::optional<QueryValue> known, leaf(expr));
    if (known) {
        return std::move(*known);
    }
    if (IsArithmetic(expr)) {  // unary minus included: it is not NOT
        return EvalValue(expr, [&](const Expr& operand) { return EvalCondition(operand, leaf); });
    }
    auto truth = [](const QueryValue& value) -> std::optional<bool> {
        if (value.type == QueryValue::Type::kBool) {
            return value.bool_value;
        }
        return std::nullopt;  // NULL, or not a condition: unknown
    };
    auto from = [](std::optional<bool> value) {
        return value ? QueryValue::Bool(*value) : QueryValue::Null();
    };
    // SQL comparison: unknown with a NULL or values of different kinds.
    auto compare = [](const QueryValue& a, const QueryValue& b) -> std::optional<int> {
        if (a.type == QueryValue::Type::kNull || b.type == QueryValue::Type::kNull ||
            TypeRank(a) != TypeRank(b)) {
            return std::nullopt;
        }
        return CompareValues(a, b);
    };
    switch (expr.kind) {
        case ExprKind::kUnary: {
            PHENIX_ASSIGN_OR_RETURN(QueryValue operand, EvalCondition(expr.children[0], leaf));
            const std::optional<bool> value = truth(operand);
            return from(value ? std::optional<bool>(!*value) : std::nullopt);
        }
        case ExprKind::kBinary: {
            if (expr.op == Op::kAnd || expr.op == Op::kOr) {
                // A chain of two or more terms: false AND x is false, true OR x is true, else
                // UNKNOWN if a term is.
                const bool is_and = expr.op == Op::kAnd;
                bool is_decided = false;  // a false term (AND) or a true one (OR)
                bool is_unknown = false;
                for (const Expr& child : expr.children) {
                    PHENIX_ASSIGN_OR_RETURN(QueryValue term, EvalCondition(child, leaf));
                    const std::optional<bool> value = truth(term);
                    is_decided = is_decided || (value && *value != is_and);
                    is_unknown = is_unknown || !value;
                }
                if (is_decided) {
                    return QueryValue::Bool(!is_and);
                }
                return is_unknown ? QueryValue::Null() : QueryValue::Bool(is_and);
            }
            PHENIX_ASSIGN_OR_RETURN(QueryValue left, EvalCondition(expr.children[0], leaf));
            PHENIX_ASSIGN_OR_RETURN(QueryValue right, EvalCondition(expr.children[1], leaf));
            const std::optional<int> cmp = compare(left, right);
            if (!cmp) {
                return QueryValue::Null();
            }
            switch (expr.op) {
                case Op::kEq:
                    return QueryValue::Bool(*cmp == 0);
                case Op::kNe:
                    return QueryValue::Bool(*cmp != 0);
                case Op::kLt:
                    return QueryValue::Bool(*cmp < 0);
                case Op::kLe:
                    return QueryValue::Bool(*cmp <= 0);
                case Op::kGt:
                    return QueryValue::Bool(*cmp > 0);
                case Op::kGe:
                    return QueryValue::Bool(*cmp >= 0);
                default:
                    break;
            }
            break;
        }
        case ExprKind::kIn: {
            PHENIX_ASSIGN_OR_RETURN(QueryValue left, EvalCondition(expr.children[0], leaf));
            std::optional<bool> found = false;
            for (std::size_t idx = 1; idx < expr.children.size() && found != true; ++idx) {
                PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalCondition(expr.children[idx], leaf));
                const std::optional<int> cmp = compare(left, value);
                if (!cmp) {
                    found = std::nullopt;  // unknown unless a later value is equal
                } else if (*cmp == 0) {
                    found = true;
                }
            }
            if (expr.is_negated && found) {
                found = !*found;
            }
            return from(found);
        }
        case ExprKind::kIsNull: {
            PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalCondition(expr.children[0], leaf));
            return QueryValue::Bool((value.type == QueryValue::Type::kNull) != expr.is_negated);
        }
        default:
            break;
    }
    return ErrorAt(expr.pos, "cannot evaluate " + ToString(expr) + " as a condition");
}

Result<QueryValue> RowEvaluator::EvalOutput(const Expr& expr,
                                            const std::vector<QueryValue>& row) const {
    return EvalCondition(expr, [&](const Expr& node) -> Result<std::optional<QueryValue>> {
        if (IsConstant(node)) {
            PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(node, *b_.params));
            return std::optional<QueryValue>(std::move(value));
        }
        if (std::optional<std::size_t> column = OutputColumn(b_, node)) {
            return std::optional<QueryValue>(row[*column]);
        }
        return std::optional<QueryValue>();
    });
}

Result<bool> RowEvaluator::Test(const Expr& condition, const Row& row) const {
    if (!b_.is_match) {
        // A residual WHERE term on an entity: expression.h's conditions, whose fields read
        // as the engine's filter reads them (through arrays of objects), so a term means the
        // same whether it is pushed down or checked here.
        PHENIX_ASSIGN_OR_RETURN(Truth truth, query::EvalCondition(condition, [&](const Expr& leaf) {
                                    return EntityConditionLeaf(leaf, row.entity.id,
                                                               row.Metadata(false), *b_.params);
                                }));
        return truth.IsTrue();
    }
    PHENIX_ASSIGN_OR_RETURN(
        QueryValue value,
        EvalCondition(condition, [&](const Expr& node) -> Result<std::optional<QueryValue>> {
            const bool is_operator =
                node.kind == ExprKind::kUnary || node.kind == ExprKind::kIn ||
                node.kind == ExprKind::kIsNull ||
                (node.kind == ExprKind::kBinary && (node.op == Op::kAnd || node.op == Op::kOr ||
                                                    (node.op >= Op::kEq && node.op <= Op::kGe)));
            if (is_operator) {
                return std::optional<QueryValue>();
            }
            PHENIX_ASSIGN_OR_RETURN(QueryValue value, Eval(node, row));
            return std::optional<QueryValue>(std::move(value));
        }));
    return value.type == QueryValue::Type::kBool && value.bool_value;
}

}  // namespace phenix::query
