// SPDX-License-Identifier: Apache-2.0
//
// Graph table functions in FROM (exec.h, docs/query-language.md "Table functions"):
//
//   edges('docs', 'd1' [, direction = 'out'])        label, source, source_id, target,
//                                                     target_id, weight, properties
//   traverse('docs', 'd1' [, options])  (neighbors)   collection, id, depth
//   paths('docs', 'a' [, 'b'] [, options])            path, hops, total_weight, nodes, labels
//   shortest_path('docs', 'a', 'b' [, options])       step, collection, id, label, weight,
//                                                     total_weight
//   degree('docs', 'd1' [, options])                  degree
//
// Each runs one Database / Transaction graph call (on the session's open transaction when there
// is one) and applies the select list (* or column names, with aliases), LIMIT and OFFSET. LIMIT
// is passed down where the engine can stop early (traverse, paths). Clauses a table function does
// not support (WHERE, GROUP BY, ORDER BY, ...) are InvalidArgument, never ignored.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "query/exec.h"

namespace phenix::query {
namespace {

// The public API's edge direction (query::EdgeDirection is the AST's, for MATCH patterns).
using phenix::EdgeDirection;

constexpr std::string_view kFunctionNames[] = {"edges", "traverse",      "neighbors",
                                               "paths", "shortest_path", "degree"};

// Options shared by the functions that follow edges (EdgeMatch and direction).
constexpr std::string_view kEdgeOptions[] = {"direction", "label", "min_weight", "max_weight"};

std::string JoinNames(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& name : names) {
        out += (out.empty() ? "" : ", ") + name;
    }
    return out;
}

// The arguments of one call, checked against what the function takes.
class Arguments {
  public:
    Arguments(const ExecContext& ctx, const TableFunctionCall& call) : ctx_(ctx), call_(call) {}

    // `min`..`max` positional arguments and only the named ones in `known`.
    Status Check(std::size_t min, std::size_t max, std::string_view usage,
                 const std::vector<std::string>& known) const {
        if (call_.args.size() < min || call_.args.size() > max) {
            return ErrorAt(call_.pos, call_.name + " takes " + std::string(usage) + ", not " +
                                          std::to_string(call_.args.size()) + " arguments");
        }
        for (std::size_t idx = 0; idx < call_.named_args.size(); ++idx) {
            const OptionItem& option = call_.named_args[idx];
            if (std::find(known.begin(), known.end(), option.name) == known.end()) {
                std::string message = "unknown option '" + option.name + "' of " + call_.name +
                                      " (options: " + JoinNames(known) + ")";
                if (auto suggestion = ClosestName(option.name, known)) {
                    message += "; did you mean '" + *suggestion + "'?";
                }
                return ErrorAt(option.pos, message);
            }
            for (std::size_t other = 0; other < idx; ++other) {
                if (call_.named_args[other].name == option.name) {
                    return ErrorAt(option.pos, "option '" + option.name + "' is given twice");
                }
            }
        }
        return Status::Ok();
    }

    // Positional argument `idx` as a string; `what` names it in errors.
    Result<std::string> String(std::size_t idx, std::string_view what) const {
        const Expr& expr = call_.args[idx];
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(expr, ctx_.params));
        if (value.type != QueryValue::Type::kString) {
            return ErrorAt(expr.pos, call_.name + ": the " + std::string(what) +
                                         " must be a string like 'd1', not " + value.ToJson());
        }
        return std::move(value.text);
    }

    [[nodiscard]] bool Has(std::size_t idx) const { return idx < call_.args.size(); }

    [[nodiscard]] const OptionItem* Named(std::string_view name) const {
        for (const OptionItem& option : call_.named_args) {
            if (option.name == name) {
                return &option;
            }
        }
        return nullptr;
    }

    Result<std::optional<std::string>> NamedString(std::string_view name) const {
        const OptionItem* option = Named(name);
        if (option == nullptr) {
            return std::optional<std::string>();
        }
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(option->value, ctx_.params));
        if (value.type != QueryValue::Type::kString) {
            return ErrorAt(option->value.pos, "option '" + std::string(name) +
                                                  "' must be a string, not " + value.ToJson());
        }
        return std::optional<std::string>(std::move(value.text));
    }

    Result<std::optional<std::uint32_t>> NamedCount(std::string_view name) const {
        const OptionItem* option = Named(name);
        if (option == nullptr) {
            return std::optional<std::uint32_t>();
        }
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(option->value, ctx_.params));
        constexpr std::int64_t kMax = 1'000'000;
        if (value.type != QueryValue::Type::kInt || value.int_value < 0 || value.int_value > kMax) {
            return ErrorAt(option->value.pos, "option '" + std::string(name) +
                                                  "' must be an integer from 0 to " +
                                                  std::to_string(kMax) + ", not " + value.ToJson());
        }
        return std::optional<std::uint32_t>(static_cast<std::uint32_t>(value.int_value));
    }

    Result<std::optional<double>> NamedNumber(std::string_view name) const {
        const OptionItem* option = Named(name);
        if (option == nullptr) {
            return std::optional<double>();
        }
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(option->value, ctx_.params));
        if (value.type == QueryValue::Type::kInt) {
            return std::optional<double>(static_cast<double>(value.int_value));
        }
        if (value.type != QueryValue::Type::kFloat) {
            return ErrorAt(option->value.pos, "option '" + std::string(name) +
                                                  "' must be a number, not " + value.ToJson());
        }
        return std::optional<double>(value.float_value);
    }

    Result<bool> NamedBool(std::string_view name) const {
        const OptionItem* option = Named(name);
        if (option == nullptr) {
            return false;
        }
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(option->value, ctx_.params));
        if (value.type != QueryValue::Type::kBool) {
            return ErrorAt(option->value.pos, "option '" + std::string(name) +
                                                  "' must be TRUE or FALSE, not " + value.ToJson());
        }
        return value.bool_value;
    }

    Result<EdgeDirection> Direction() const {
        PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> text, NamedString("direction"));
        if (!text || *text == "out") {
            return EdgeDirection::kOut;
        }
        if (*text == "in") {
            return EdgeDirection::kIn;
        }
        if (*text == "both") {
            return EdgeDirection::kBoth;
        }
        return ErrorAt(Named("direction")->value.pos,
                       "option 'direction' must be 'out', 'in' or 'both', not '" + *text + "'");
    }

    // label = 'cites' or 'cites,links'; min_weight, max_weight (inclusive).
    Result<EdgeMatch> Edges() const {
        EdgeMatch match;
        PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> labels, NamedString("label"));
        if (labels) {
            std::string_view rest = *labels;
            while (!rest.empty()) {
                const std::size_t comma = rest.find(',');
                std::string_view label = rest.substr(0, comma);
                while (!label.empty() && label.front() == ' ') {
                    label.remove_prefix(1);
                }
                while (!label.empty() && label.back() == ' ') {
                    label.remove_suffix(1);
                }
                if (!label.empty()) {
                    match.labels.emplace_back(label);
                }
                rest =
                    comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            }
        }
        PHENIX_ASSIGN_OR_RETURN(match.min_weight, NamedNumber("min_weight"));
        PHENIX_ASSIGN_OR_RETURN(match.max_weight, NamedNumber("max_weight"));
        return match;
    }

    // min_hops / max_hops (and `hops`, both at once) over the given defaults.
    Status Hops(std::uint32_t& min_hops, std::uint32_t& max_hops) const {
        PHENIX_ASSIGN_OR_RETURN(std::optional<std::uint32_t> hops, NamedCount("hops"));
        if (hops) {
            if (Named("min_hops") != nullptr || Named("max_hops") != nullptr) {
                return ErrorAt(Named("hops")->value.pos,
                               "option 'hops' sets both min_hops and max_hops: give either");
            }
            min_hops = *hops;
            max_hops = *hops;
            return Status::Ok();
        }
        PHENIX_ASSIGN_OR_RETURN(std::optional<std::uint32_t> min, NamedCount("min_hops"));
        PHENIX_ASSIGN_OR_RETURN(std::optional<std::uint32_t> max, NamedCount("max_hops"));
        min_hops = min.value_or(min_hops);
        max_hops = max.value_or(std::max(max_hops, min_hops));
        if (min_hops > max_hops) {
            return ErrorAt(call_.pos, "min_hops (" + std::to_string(min_hops) +
                                          ") is larger than max_hops (" + std::to_string(max_hops) +
                                          ")");
        }
        return Status::Ok();
    }

  private:
    const ExecContext& ctx_;
    const TableFunctionCall& call_;
};

std::vector<std::string> WithEdgeOptions(std::vector<std::string> names) {
    names.insert(names.end(), std::begin(kEdgeOptions), std::end(kEdgeOptions));
    return names;
}

// Runs `op` on the open transaction if there is one, else on the database; `op` is a generic
// lambda calling the method both share.
template <typename Op>
auto Read(const ExecContext& ctx, Op&& op) {
    return ctx.txn != nullptr ? op(*ctx.txn) : op(ctx.db);
}

QueryValue Count(std::uint64_t value) {
    return QueryValue::Int(static_cast<std::int64_t>(value));
}

// The rows the call returns (before the select list, LIMIT and OFFSET).
struct Table {
    std::vector<std::string> columns;
    std::vector<std::vector<QueryValue>> rows;
};

// `limit` rows after `offset` are wanted (nullopt: all): what to ask the engine for.
std::size_t EngineLimit(std::optional<std::size_t> limit, std::size_t offset) {
    return limit ? *limit + offset : 0;  // 0: the engine's own cap
}

Status Truncated(const ExecContext& ctx, std::string_view function, std::string_view what) {
    return AtPos(
        ctx.statement_pos,
        Status::ResourceExhausted(
            std::string(function) + " stopped at the engine's limit on " + std::string(what) +
            " (Options::max_traversal_nodes / max_traversal_paths) before it found "
            "them all; add LIMIT to take the first ones, or narrow it (hops, label)"));
}

Result<Table> RunEdges(const ExecContext& ctx, const Arguments& args, const CollectionRef& ref) {
    PHENIX_RETURN_IF_ERROR(
        args.Check(2, 2, "(collection, id [, direction = 'out'])", {"direction"}));
    PHENIX_ASSIGN_OR_RETURN(std::string id, args.String(1, "entity id"));
    PHENIX_ASSIGN_OR_RETURN(EdgeDirection direction, args.Direction());
    auto edges = Read(ctx, [&](auto& source) { return source.ListEdges(ref, id, direction); });
    if (!edges.ok()) {
        return AtPos(ctx.statement_pos, edges.status());
    }
    Table table{
        .columns = {"label", "source", "source_id", "target", "target_id", "weight", "properties"}};
    for (const EdgeRecord& edge : *edges) {
        std::vector<QueryValue> row = {QueryValue::String(edge.label),
                                       QueryValue::String(edge.source.name),
                                       QueryValue::String(edge.source_id),
                                       QueryValue::String(edge.target.name),
                                       QueryValue::String(edge.target_id),
                                       QueryValue::Float(edge.weight),
                                       QueryValue::Null()};
        if (!edge.properties.empty()) {
            row.back() = QueryValue::Json(edge.properties);
        }
        table.rows.push_back(std::move(row));
    }
    return table;
}

Result<Table> RunTraverse(const ExecContext& ctx, const Arguments& args, const CollectionRef& ref,
                          std::string_view name, std::optional<std::size_t> limit,
                          std::size_t offset) {
    PHENIX_RETURN_IF_ERROR(args.Check(
        2, 2, "(collection, start id [, options])",
        WithEdgeOptions({"hops", "min_hops", "max_hops", "include_start", "end_collection"})));
    TraversalSpec spec;
    PHENIX_ASSIGN_OR_RETURN(spec.start_id, args.String(1, "start id"));
    PHENIX_RETURN_IF_ERROR(args.Hops(spec.min_hops, spec.max_hops));
    PHENIX_ASSIGN_OR_RETURN(spec.direction, args.Direction());
    PHENIX_ASSIGN_OR_RETURN(spec.edges, args.Edges());
    PHENIX_ASSIGN_OR_RETURN(const bool include_start, args.NamedBool("include_start"));
    // A walk of zero edges reaches the start: min_hops = 0 includes it.
    spec.include_start = include_start || spec.min_hops == 0;
    PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> end, args.NamedString("end_collection"));
    spec.end_collection = end.value_or("");
    spec.limit = EngineLimit(limit, offset);
    auto response = Read(ctx, [&](auto& source) { return source.Traverse(ref, spec); });
    if (!response.ok()) {
        return AtPos(ctx.statement_pos, response.status());
    }
    if (response->truncated && !limit) {
        return Truncated(ctx, name, "entities");
    }
    Table table{.columns = {"collection", "id", "depth"}};
    for (const ReachedEntity& entity : response->entities) {
        table.rows.push_back({QueryValue::String(entity.collection.name),
                              QueryValue::String(entity.id), Count(entity.depth)});
    }
    return table;
}

Result<Table> RunPaths(const ExecContext& ctx, const Arguments& args, const CollectionRef& ref,
                       std::optional<std::size_t> limit, std::size_t offset) {
    PHENIX_RETURN_IF_ERROR(args.Check(
        2, 3, "(collection, from id [, to id] [, options])",
        WithEdgeOptions({"hops", "min_hops", "max_hops", "end_collection", "include_cycles"})));
    PathSpec spec;
    PHENIX_ASSIGN_OR_RETURN(spec.start_id, args.String(1, "start id"));
    if (args.Has(2)) {
        PHENIX_ASSIGN_OR_RETURN(spec.end_id, args.String(2, "end id"));
    }
    PHENIX_RETURN_IF_ERROR(args.Hops(spec.min_hops, spec.max_hops));
    PHENIX_ASSIGN_OR_RETURN(spec.direction, args.Direction());
    PHENIX_ASSIGN_OR_RETURN(spec.edges, args.Edges());
    PHENIX_ASSIGN_OR_RETURN(spec.include_cycles, args.NamedBool("include_cycles"));
    PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> end, args.NamedString("end_collection"));
    spec.end_collection = end.value_or("");
    spec.limit = EngineLimit(limit, offset);
    auto response = Read(ctx, [&](auto& source) { return source.FindPaths(ref, spec); });
    if (!response.ok()) {
        return AtPos(ctx.statement_pos, response.status());
    }
    if (response->truncated && !limit) {
        return Truncated(ctx, "paths", "paths");
    }
    Table table{.columns = {"path", "hops", "total_weight", "nodes", "labels"}};
    std::int64_t number = 0;
    for (const GraphPath& path : response->paths) {
        // Nodes as ids; a node in another collection than the start's as "collection/id".
        std::vector<std::string> nodes;
        for (const PathNode& node : path.nodes) {
            nodes.push_back(
                node.collection.name == ref.name ? node.id : node.collection.name + "/" + node.id);
        }
        std::vector<std::string> labels;
        for (const EdgeRecord& edge : path.edges) {
            labels.push_back(edge.label);
        }
        auto json_array = [](const std::vector<std::string>& items) {
            std::string out = "[";
            for (const std::string& item : items) {
                out += (out.size() == 1 ? "" : ",") + QueryValue::String(item).ToJson();
            }
            return out + "]";
        };
        table.rows.push_back({QueryValue::Int(++number), Count(path.edges.size()),
                              QueryValue::Float(path.total_weight),
                              QueryValue::Json(json_array(nodes)),
                              QueryValue::Json(json_array(labels))});
    }
    return table;
}

Result<Table> RunShortestPath(const ExecContext& ctx, const Arguments& args,
                              const CollectionRef& ref) {
    PHENIX_RETURN_IF_ERROR(
        args.Check(3, 3, "(collection, from id, to id [, options])",
                   WithEdgeOptions({"max_hops", "unweighted", "to_collection"})));
    ShortestPathSpec spec;
    PHENIX_ASSIGN_OR_RETURN(spec.from_id, args.String(1, "from id"));
    PHENIX_ASSIGN_OR_RETURN(spec.to_id, args.String(2, "to id"));
    PHENIX_ASSIGN_OR_RETURN(spec.direction, args.Direction());
    PHENIX_ASSIGN_OR_RETURN(spec.edges, args.Edges());
    PHENIX_ASSIGN_OR_RETURN(std::optional<std::uint32_t> max_hops, args.NamedCount("max_hops"));
    spec.max_hops = max_hops.value_or(0);
    PHENIX_ASSIGN_OR_RETURN(spec.unweighted, args.NamedBool("unweighted"));
    PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> to, args.NamedString("to_collection"));
    spec.to_collection = to.value_or("");
    auto path = Read(ctx, [&](auto& source) { return source.ShortestPath(ref, spec); });
    if (!path.ok()) {
        return AtPos(ctx.statement_pos, path.status());
    }
    Table table{.columns = {"step", "collection", "id", "label", "weight", "total_weight"}};
    if (!path->has_value()) {
        return table;  // unreachable: no rows
    }
    double total = 0;
    for (std::size_t step = 0; step < (*path)->nodes.size(); ++step) {
        const PathNode& node = (*path)->nodes[step];
        std::vector<QueryValue> row = {Count(step),
                                       QueryValue::String(node.collection.name),
                                       QueryValue::String(node.id),
                                       QueryValue::Null(),
                                       QueryValue::Null(),
                                       QueryValue::Float(total)};
        if (step > 0) {
            const EdgeRecord& edge = (*path)->edges[step - 1];
            total += edge.weight;
            row[3] = QueryValue::String(edge.label);
            row[4] = QueryValue::Float(edge.weight);
            row[5] = QueryValue::Float(total);
        }
        table.rows.push_back(std::move(row));
    }
    return table;
}

Result<Table> RunDegree(const ExecContext& ctx, const Arguments& args, const CollectionRef& ref) {
    PHENIX_RETURN_IF_ERROR(args.Check(2, 2, "(collection, id [, options])", WithEdgeOptions({})));
    PHENIX_ASSIGN_OR_RETURN(std::string id, args.String(1, "entity id"));
    PHENIX_ASSIGN_OR_RETURN(EdgeDirection direction, args.Direction());
    PHENIX_ASSIGN_OR_RETURN(EdgeMatch edges, args.Edges());
    auto degree = Read(ctx, [&](auto& source) { return source.Degree(ref, id, direction, edges); });
    if (!degree.ok()) {
        return AtPos(ctx.statement_pos, degree.status());
    }
    return Table{.columns = {"degree"}, .rows = {{Count(*degree)}}};
}

// InvalidArgument for the first clause a table function does not support.
Status RefuseClauses(const SelectStmt& stmt, ExplainMode mode, SourcePos statement_pos) {
    const TableFunctionCall& call = *stmt.table_function;
    auto refuse = [&](SourcePos pos, std::string_view clause) {
        return ErrorAt(pos, std::string(clause) + " is not supported on a table function (" +
                                call.name +
                                "); it supports the select list (* or column names), LIMIT and "
                                "OFFSET");
    };
    if (mode != ExplainMode::kNone) {
        return refuse(statement_pos, "EXPLAIN");
    }
    if (stmt.distinct) {
        return refuse(statement_pos, "DISTINCT");
    }
    if (stmt.as_of) {
        return refuse(stmt.as_of->pos,
                      "AS OF (use BEGIN READ ONLY AS OF ts to read the past, then SELECT)");
    }
    if (stmt.where) {
        return refuse(stmt.where->pos, "WHERE");
    }
    if (!stmt.group_by.empty()) {
        return refuse(stmt.group_by.front().pos, "GROUP BY");
    }
    if (stmt.having) {
        return refuse(stmt.having->pos, "HAVING");
    }
    if (!stmt.order_by.empty()) {
        return refuse(stmt.order_by.front().expr.pos, "ORDER BY");
    }
    if (!stmt.options.empty()) {
        return refuse(stmt.options.front().value.pos, "WITH (...)");
    }
    return Status::Ok();
}

Result<std::optional<std::size_t>> RowCount(const ExecContext& ctx, const std::optional<Expr>& expr,
                                            std::string_view clause) {
    if (!expr) {
        return std::optional<std::size_t>();
    }
    PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(*expr, ctx.params));
    if (value.type != QueryValue::Type::kInt || value.int_value < 0) {
        return ErrorAt(expr->pos, std::string(clause) + " takes a row count (0 or more), not " +
                                      value.ToJson());
    }
    return std::optional<std::size_t>(static_cast<std::size_t>(value.int_value));
}

}  // namespace

Result<QueryResult> ExecuteTableFunction(ExecContext& ctx, const SelectStmt& stmt,
                                         ExplainMode mode) {
    const TableFunctionCall& call = *stmt.table_function;
    const std::vector<std::string> names(std::begin(kFunctionNames), std::end(kFunctionNames));
    if (std::find(names.begin(), names.end(), call.name) == names.end()) {
        std::string message = "unknown table function '" + call.name +
                              "' (table functions: " + JoinNames(names) + ")";
        if (auto suggestion = ClosestName(call.name, names)) {
            message += "; did you mean '" + *suggestion + "'?";
        }
        return ErrorAt(call.pos, message);
    }
    PHENIX_RETURN_IF_ERROR(RefuseClauses(stmt, mode, ctx.statement_pos));
    PHENIX_ASSIGN_OR_RETURN(std::optional<std::size_t> limit, RowCount(ctx, stmt.limit, "LIMIT"));
    PHENIX_ASSIGN_OR_RETURN(std::optional<std::size_t> offset,
                            RowCount(ctx, stmt.offset, "OFFSET"));

    const Arguments args(ctx, call);
    if (call.args.empty()) {
        return ErrorAt(call.pos, call.name + " takes a collection name first, as in " + call.name +
                                     "('docs', 'd1')");
    }
    PHENIX_ASSIGN_OR_RETURN(std::string collection, args.String(0, "collection name"));
    PHENIX_ASSIGN_OR_RETURN(CollectionInfo info,
                            ResolveCollection(ctx, collection, call.args.front().pos));
    const CollectionRef& ref = info.spec.ref;

    Result<Table> table = Status::Internal("no table function ran");
    if (call.name == "edges") {
        table = RunEdges(ctx, args, ref);
    } else if (call.name == "traverse" || call.name == "neighbors") {
        table = RunTraverse(ctx, args, ref, call.name, limit, offset.value_or(0));
    } else if (call.name == "paths") {
        table = RunPaths(ctx, args, ref, limit, offset.value_or(0));
    } else if (call.name == "shortest_path") {
        table = RunShortestPath(ctx, args, ref);
    } else {
        table = RunDegree(ctx, args, ref);
    }
    if (!table.ok()) {
        return table.status();
    }

    // The select list: * (every column) or column names, each with an optional alias.
    std::vector<std::size_t> picked;
    QueryResult result{.has_rows = true};
    for (const SelectItem& item : stmt.items) {
        if (item.expr.kind == ExprKind::kStar) {
            for (std::size_t col = 0; col < table->columns.size(); ++col) {
                picked.push_back(col);
                result.columns.push_back(table->columns[col]);
            }
            continue;
        }
        if (item.expr.kind != ExprKind::kPath || item.expr.path.size() != 1) {
            return ErrorAt(item.expr.pos,
                           "the select list of a table function takes * or its "
                           "column names (" +
                               JoinNames(table->columns) + ")");
        }
        const std::string& column = item.expr.path.front();
        auto found = std::find(table->columns.begin(), table->columns.end(), column);
        if (found == table->columns.end()) {
            std::string message = "column '" + column + "' does not exist in " + call.name +
                                  " (columns: " + JoinNames(table->columns) + ")";
            if (auto suggestion = ClosestName(column, table->columns)) {
                message += "; did you mean '" + *suggestion + "'?";
            }
            return ErrorAt(item.expr.pos, message);
        }
        picked.push_back(static_cast<std::size_t>(found - table->columns.begin()));
        result.columns.push_back(item.alias.empty() ? column : item.alias);
    }
    const std::size_t first = std::min(offset.value_or(0), table->rows.size());
    const std::size_t last =
        limit ? std::min(table->rows.size(), first + *limit) : table->rows.size();
    for (std::size_t row_idx = first; row_idx < last; ++row_idx) {
        std::vector<QueryValue> row;
        row.reserve(picked.size());
        for (std::size_t col : picked) {
            row.push_back(table->rows[row_idx][col]);
        }
        result.rows.push_back(std::move(row));
    }
    return result;
}

}  // namespace phenix::query
