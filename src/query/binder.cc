// SPDX-License-Identifier: Apache-2.0
//
// The SELECT binder (binder.h): names, types and positions; the WHERE split by pattern variable.
#include "query/binder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <phenix/limits.h>

#include "query/expression.h"
#include "query/parser.h"

namespace phenix::query {

Expr Conjunction(const std::vector<const Expr*>& terms) {
    if (terms.size() == 1) {
        return *terms[0];
    }
    Expr conjunction;
    conjunction.kind = ExprKind::kBinary;
    conjunction.op = Op::kAnd;
    conjunction.pos = terms[0]->pos;
    for (const Expr* term : terms) {
        conjunction.children.push_back(*term);
    }
    return conjunction;
}

namespace {

using nlohmann::json;

double NumberOf(const QueryValue& value) {
    return value.type == QueryValue::Type::kInt ? static_cast<double>(value.int_value)
                                                : value.float_value;
}

class Binder {
  public:
    Binder(ExecContext& ctx, const SelectStmt& stmt, BoundSelect& bound)
        : ctx_(ctx), stmt_(stmt), b_(bound) {}

    Status Bind();

  private:
    Status BindSource();
    // `from_second`: start from the second node's id even when the first has one.
    Status BindMatchWhere(bool from_second);
    Status ResolveMatchCollections();
    bool second_has_id_ = false;  // both nodes have an `id = '...'` condition
    Status BindItems();
    Status CheckExpr(const Expr& expr, bool allow_aggregate, bool allow_alias) const;
    Status CheckPath(const Expr& expr) const;
    Result<std::optional<DistanceExpr>> AsDistance(const Expr& expr) const {
        return query::AsDistance(b_, expr);
    }
    Status BindOrder();
    Status BindOptions();
    Status BindHaving(const Expr& expr);
    Status BindHavingValue(const Expr& expr);
    [[nodiscard]] std::optional<std::size_t> OutputColumn(const Expr& expr) const {
        return query::OutputColumn(b_, expr);
    }

    ExecContext& ctx_;
    const SelectStmt& stmt_;
    BoundSelect& b_;
};

// ---- binding --------------------------------------------------------------------------------

Status Binder::BindSource() {
    if (stmt_.as_of) {
        if (ctx_.txn != nullptr) {
            return ErrorAt(stmt_.as_of->pos,
                           "AS OF cannot be used inside a transaction (it reads its own snapshot)");
        }
        PHENIX_ASSIGN_OR_RETURN(QueryValue ts, EvalConstant(*stmt_.as_of, ctx_.params));
        if (ts.type != QueryValue::Type::kInt || ts.int_value < 0) {
            return ErrorAt(stmt_.as_of->pos,
                           "AS OF needs a commit timestamp (a non-negative "
                           "integer, e.g. what COMMIT printed)");
        }
        TransactionOptions options;
        options.read_only = true;
        options.as_of = static_cast<Timestamp>(ts.int_value);
        Result<std::unique_ptr<Transaction>> txn = ctx_.db.BeginTransaction(options);
        if (!txn.ok()) {
            return AtPos(stmt_.as_of->pos, txn.status());
        }
        b_.snapshot_txn = std::move(*txn);
        b_.read_txn = b_.snapshot_txn.get();
    } else if (b_.read_txn == nullptr) {
        TransactionOptions options;
        options.read_only = true;
        PHENIX_ASSIGN_OR_RETURN(b_.snapshot_txn, ctx_.db.BeginTransaction(options));
        b_.read_txn = b_.snapshot_txn.get();
    }
    if (!stmt_.match) {
        PHENIX_ASSIGN_OR_RETURN(b_.info, ResolveCollection(ctx_, stmt_.collection, stmt_.name_pos));
        b_.ref = ctx_.Ref(stmt_.collection);
        return Status::Ok();
    }
    b_.is_match = true;
    const MatchPattern& match = *stmt_.match;
    if (match.nodes.size() < 2 || match.edges.size() + 1 != match.nodes.size()) {
        return ErrorAt(match.pos, "MATCH takes a pattern of one or more edges, e.g. "
                                  "(a:docs)-[:rel]->(b:docs)");
    }
    if (match.nodes.size() > 2) {
        return BindChain(ctx_, stmt_, b_);
    }
    const NodePattern& first = match.nodes[0];
    const NodePattern& second = match.nodes[1];
    const EdgePattern& edge = match.edges[0];
    b_.match.start_var = first.variable;
    b_.match.end_var = second.variable;
    b_.match.edge_var = edge.variable;
    if (b_.match.start_var.empty() || b_.match.end_var.empty()) {
        return ErrorAt(b_.match.start_var.empty() ? first.pos : second.pos,
                       "name both nodes of the pattern, e.g. (a:docs)-[:rel]->(b:docs)");
    }
    if (b_.match.start_var == b_.match.end_var ||
        (!b_.match.edge_var.empty() &&
         (b_.match.edge_var == b_.match.start_var || b_.match.edge_var == b_.match.end_var))) {
        return ErrorAt(match.pos, "pattern variables must have distinct names");
    }
    if (first.collection.empty() && second.collection.empty()) {
        return ErrorAt(first.pos, "name the collection of at least one node, e.g. (a:docs)");
    }
    for (const NodePattern* node : {&first, &second}) {
        if (!node->collection.empty()) {
            PHENIX_RETURN_IF_ERROR(ResolveCollection(ctx_, node->collection, node->pos).status());
        }
    }
    b_.match.direction = edge.direction == query::EdgeDirection::kOut ? phenix::EdgeDirection::kOut
                         : edge.direction == query::EdgeDirection::kIn
                             ? phenix::EdgeDirection::kIn
                             : phenix::EdgeDirection::kBoth;
    b_.match.min_hops = edge.min_hops;
    b_.match.max_hops =
        edge.max_hops.value_or(std::min<std::uint32_t>(limits::kMaxTraversalDepth, 16));
    if (b_.match.max_hops > limits::kMaxTraversalDepth) {
        return ErrorAt(edge.pos, "at most " + std::to_string(limits::kMaxTraversalDepth) +
                                     " hops can be followed");
    }
    b_.match.single_edge = b_.match.min_hops == 1 && b_.match.max_hops == 1;
    if (!edge.label.empty()) {
        b_.match.edge_match.labels.push_back(edge.label);
    }
    const BoundMatch unbound = b_.match;
    PHENIX_RETURN_IF_ERROR(BindMatchWhere(/*from_second=*/false));
    PHENIX_RETURN_IF_ERROR(ResolveMatchCollections());
    // Both nodes have an id (and no edge variable fixes the direction of the rows' paths): the
    // walk may start from either; bind the other start too, for the optimizer to weigh.
    if (second_has_id_ && b_.match.edge_var.empty()) {
        BoundSelect::MatchStart chosen{std::move(b_.match), std::move(b_.where), b_.info, b_.ref};
        b_.match = unbound;
        b_.where = BoundWhere{};
        PHENIX_RETURN_IF_ERROR(BindMatchWhere(/*from_second=*/true));
        PHENIX_RETURN_IF_ERROR(ResolveMatchCollections());
        b_.other_start =
            BoundSelect::MatchStart{std::move(b_.match), std::move(b_.where), b_.info, b_.ref};
        b_.match = std::move(chosen.match);
        b_.where = std::move(chosen.where);
        b_.info = std::move(chosen.info);
        b_.ref = std::move(chosen.ref);
    }
    return Status::Ok();
}

// The walk starts at the node with the start id (the second one when walked backwards); a node
// without a collection is in the other node's.
Status Binder::ResolveMatchCollections() {
    const NodePattern& first = stmt_.match->nodes[0];
    const NodePattern& second = stmt_.match->nodes[1];
    const NodePattern& start_node = b_.match.reversed ? second : first;
    const NodePattern& end_node = b_.match.reversed ? first : second;
    const std::string start_collection =
        start_node.collection.empty() ? end_node.collection : start_node.collection;
    b_.match.end_collection = end_node.collection.empty() ? start_collection : end_node.collection;
    PHENIX_ASSIGN_OR_RETURN(b_.info, ResolveCollection(ctx_, start_collection, start_node.pos));
    b_.ref = ctx_.Ref(start_collection);
    return Status::Ok();
}

// Splits the WHERE of a MATCH (and the edge's own WHERE) by pattern variable.
Status Binder::BindMatchWhere(bool from_second) {
    const EdgePattern& edge = stmt_.match->edges[0];
    const std::vector<std::string> variables = {b_.match.start_var, b_.match.end_var,
                                                b_.match.edge_var};
    std::vector<const Expr*> start_terms;
    std::vector<const Expr*> end_terms;
    std::vector<const Expr*> edge_terms;
    if (edge.where) {
        for (const Expr* term : SplitConjuncts(*edge.where)) {
            if (b_.match.edge_var.empty() || ExprVariable(*term, variables) != b_.match.edge_var) {
                return ErrorAt(term->pos,
                               b_.match.edge_var.empty()
                                   ? "name the edge to filter it, e.g. -[e:rel WHERE "
                                     "e.weight > 0.5]->"
                                   : "an edge condition may only use the edge's fields (" +
                                         b_.match.edge_var + ".weight, " + b_.match.edge_var +
                                         ".label, " + b_.match.edge_var + ".properties.<path>)");
            }
            edge_terms.push_back(term);
        }
    }
    if (stmt_.where) {
        for (const Expr* term : SplitConjuncts(*stmt_.where)) {
            const std::string variable = ExprVariable(*term, variables);
            if (variable.empty()) {
                return ErrorAt(term->pos,
                               "each condition of a MATCH query must use exactly one of the "
                               "pattern's variables (" +
                                   b_.match.start_var + ", " + b_.match.end_var +
                                   (b_.match.edge_var.empty() ? "" : ", " + b_.match.edge_var) +
                                   "), e.g. " + b_.match.start_var + ".id = '...'");
            }
            if (variable == b_.match.start_var) {
                start_terms.push_back(term);
            } else if (variable == b_.match.end_var) {
                end_terms.push_back(term);
            } else {
                edge_terms.push_back(term);
            }
        }
    }
    // The start: `a.id = '...'` on the first node, else `b.id = '...'` on the second (the pattern
    // is then walked backwards).
    auto find_start = [&](std::vector<const Expr*>& terms,
                          const std::string& variable) -> Result<bool> {
        for (auto it = terms.begin(); it != terms.end(); ++it) {
            const Expr& term = **it;
            if (term.kind == ExprKind::kBinary && term.op == Op::kEq &&
                term.children[0].kind == ExprKind::kPath && term.children[0].path.size() == 2 &&
                term.children[0].path[0] == variable && term.children[0].path[1] == "id" &&
                IsConstant(term.children[1])) {
                PHENIX_ASSIGN_OR_RETURN(QueryValue id, EvalConstant(term.children[1], ctx_.params));
                if (id.type != QueryValue::Type::kString) {
                    return ErrorAt(term.children[1].pos, "ids are strings");
                }
                b_.match.start_id = id.text;
                terms.erase(it);
                return true;
            }
        }
        return false;
    };
    bool found = false;
    if (!from_second) {
        PHENIX_ASSIGN_OR_RETURN(found, find_start(start_terms, b_.match.start_var));
        if (found) {
            std::vector<const Expr*> probe = end_terms;
            const std::string saved_id = b_.match.start_id;
            PHENIX_ASSIGN_OR_RETURN(second_has_id_, find_start(probe, b_.match.end_var));
            b_.match.start_id = saved_id;
        }
    }
    if (!found) {
        PHENIX_ASSIGN_OR_RETURN(found, find_start(end_terms, b_.match.end_var));
        if (!found) {
            return ErrorAt(stmt_.where ? stmt_.where->pos : stmt_.match->pos,
                           "a MATCH query needs its start: add WHERE " + b_.match.start_var +
                               ".id = '...' (or " + b_.match.end_var + ".id = '...')");
        }
        // Walk from the second node back to the first: swap the roles.
        std::swap(b_.match.start_var, b_.match.end_var);
        std::swap(start_terms, end_terms);
        b_.match.direction =
            b_.match.direction == phenix::EdgeDirection::kOut  ? phenix::EdgeDirection::kIn
            : b_.match.direction == phenix::EdgeDirection::kIn ? phenix::EdgeDirection::kOut
                                                               : b_.match.direction;
        b_.match.reversed = true;
    }
    // Conditions on the start node are checked on it; those on the far node filter what the
    // pattern reaches.
    if (!start_terms.empty()) {
        const Expr conjunction = Conjunction(start_terms);
        PHENIX_ASSIGN_OR_RETURN(b_.match.start_filter, BindFilter(conjunction, ctx_.params,
                                                                  b_.match.start_var, "metadata"));
    }
    if (!end_terms.empty()) {
        const Expr conjunction = Conjunction(end_terms);
        PHENIX_ASSIGN_OR_RETURN(b_.where, BindWhere(&conjunction, ctx_.params, b_.match.end_var));
    }
    return BindEdgeConditions(edge_terms, ctx_.params, b_.match.edge_var, &b_.match.edge_match);
}

}  // namespace

Status BindEdgeConditions(const std::vector<const Expr*>& terms, const QueryParams& params,
                          const std::string& edge_var, EdgeMatch* edges) {
    json property_filters = json::array();
    for (const Expr* term : terms) {
        if (term->kind == ExprKind::kBinary && term->children.size() == 2 &&
            term->children[0].kind == ExprKind::kPath && term->children[0].path.size() == 2 &&
            IsConstant(term->children[1])) {
            const std::string& field = term->children[0].path[1];
            PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(term->children[1], params));
            if (field == "weight") {
                if (value.type != QueryValue::Type::kInt &&
                    value.type != QueryValue::Type::kFloat) {
                    return ErrorAt(term->children[1].pos, "edge weights are numbers");
                }
                const double w = NumberOf(value);
                const double inf = std::numeric_limits<double>::infinity();
                auto raise_min = [&](double v) {
                    edges->min_weight = std::max(edges->min_weight.value_or(-inf), v);
                };
                auto lower_max = [&](double v) {
                    edges->max_weight = std::min(edges->max_weight.value_or(inf), v);
                };
                switch (term->op) {
                    case Op::kGt:
                        raise_min(std::nextafter(w, inf));
                        break;
                    case Op::kGe:
                        raise_min(w);
                        break;
                    case Op::kLt:
                        lower_max(std::nextafter(w, -inf));
                        break;
                    case Op::kLe:
                        lower_max(w);
                        break;
                    case Op::kEq:
                        raise_min(w);
                        lower_max(w);
                        break;
                    default:
                        return ErrorAt(term->pos, "edge weights compare with =, <, <=, > or >=");
                }
                continue;
            }
            if (field == "label" && term->op == Op::kEq) {
                if (value.type != QueryValue::Type::kString) {
                    return ErrorAt(term->children[1].pos, "edge labels are strings");
                }
                if (!edges->labels.empty() && std::find(edges->labels.begin(), edges->labels.end(),
                                                        value.text) == edges->labels.end()) {
                    edges->labels = {"\x01no label matches"};
                } else {
                    edges->labels = {value.text};
                }
                continue;
            }
        }
        if (term->kind == ExprKind::kIn && !term->is_negated &&
            term->children[0].kind == ExprKind::kPath && term->children[0].path.size() == 2 &&
            term->children[0].path[1] == "label") {
            std::vector<std::string> labels;
            for (std::size_t idx = 1; idx < term->children.size(); ++idx) {
                PHENIX_ASSIGN_OR_RETURN(QueryValue value,
                                        EvalConstant(term->children[idx], params));
                if (value.type != QueryValue::Type::kString) {
                    return ErrorAt(term->children[idx].pos, "edge labels are strings");
                }
                if (edges->labels.empty() || std::find(edges->labels.begin(), edges->labels.end(),
                                                       value.text) != edges->labels.end()) {
                    labels.push_back(value.text);
                }
            }
            edges->labels =
                labels.empty() ? std::vector<std::string>{"\x01no label matches"} : labels;
            continue;
        }
        PHENIX_ASSIGN_OR_RETURN(std::string filter,
                                BindFilter(*term, params, edge_var, "properties"));
        property_filters.push_back(json::parse(filter));
    }
    if (property_filters.size() == 1) {
        edges->properties_filter = property_filters[0].dump();
    } else if (property_filters.size() > 1) {
        edges->properties_filter = json{{"$and", std::move(property_filters)}}.dump();
    }
    return Status::Ok();
}

namespace {

Status Binder::CheckPath(const Expr& expr) const {
    const std::vector<std::string>& path = expr.path;
    auto unknown = [&](const std::vector<std::string>& candidates, std::string_view hint) {
        std::string message = "unknown column " + ToString(expr);
        if (auto suggestion = ClosestName(path[0], candidates)) {
            message += "; did you mean " + *suggestion + "?";
        } else {
            message += "; " + std::string(hint);
        }
        return ErrorAt(expr.pos, message);
    };
    static const std::vector<std::string> kFields = {"id", "vector", "metadata", "edges"};
    std::size_t start = 0;
    if (b_.is_match) {
        std::vector<std::string> variables;
        std::string edge_var = b_.match.edge_var;
        bool single_edge = b_.match.single_edge;
        if (b_.chain) {
            for (const ChainNode& node : b_.chain->nodes) {
                variables.push_back(node.var);
            }
            for (const ChainSegment& segment : b_.chain->segments) {
                if (!segment.edge_var.empty()) {
                    variables.push_back(segment.edge_var);
                    if (segment.edge_var == path[0]) {
                        edge_var = segment.edge_var;
                        single_edge = segment.single_edge;
                    }
                }
            }
        } else {
            variables = {b_.match.start_var, b_.match.end_var};
            if (!b_.match.edge_var.empty()) {
                variables.push_back(b_.match.edge_var);
            }
        }
        if (std::find(variables.begin(), variables.end(), path[0]) == variables.end()) {
            return unknown(variables, "qualify fields with a pattern variable, e.g. " +
                                          variables[b_.chain ? 0 : 1] + ".id");
        }
        if (!edge_var.empty() && path[0] == edge_var) {
            if (path.size() == 1) {
                return Status::Ok();
            }
            static const std::vector<std::string> kEdgeFields = {"label", "weight", "source",
                                                                 "target", "properties"};
            if (!single_edge) {
                return ErrorAt(expr.pos, "'" + edge_var +
                                             "' stands for several edges here (a variable-length "
                                             "pattern): select " +
                                             edge_var + " itself to get them as a list");
            }
            if (std::find(kEdgeFields.begin(), kEdgeFields.end(), path[1]) == kEdgeFields.end()) {
                std::string message = "unknown edge field " + ToString(expr);
                if (auto suggestion = ClosestName(path[1], kEdgeFields)) {
                    message += "; did you mean " + edge_var + "." + *suggestion + "?";
                }
                return ErrorAt(expr.pos, message);
            }
            if (path[1] != "properties" && path.size() > 2) {
                return ErrorAt(expr.pos, "edge field " + path[1] + " has no sub-fields");
            }
            return Status::Ok();
        }
        if (path.size() == 1) {
            return ErrorAt(expr.pos, "select a field of the node, e.g. " + path[0] + ".id or " +
                                         path[0] + ".metadata");
        }
        start = 1;
    }
    const std::string& field = path[start];
    if (std::find(kFields.begin(), kFields.end(), field) == kFields.end()) {
        std::string message = "unknown column " + ToString(expr);
        if (auto suggestion = ClosestName(field, kFields)) {
            message += "; did you mean " + *suggestion + "?";
        } else {
            message += "; columns are id, vector, metadata (metadata.<path> for a field) and edges";
        }
        return ErrorAt(expr.pos, message);
    }
    if (field != "metadata" && path.size() > start + 1) {
        return ErrorAt(expr.pos, field + " has no sub-fields (only metadata.<path> does)");
    }
    return Status::Ok();
}

// `id LIKE 'abc%'` whose pattern is exactly the literal prefix and one final % (no other
// wildcard, no escape): the id-range scan over the prefix selects exactly its rows, so the term
// needs no per-row check, and the read may stop after LIMIT rows.
bool IsExactIdPrefix(const Expr& term, const std::string& prefix, const QueryParams& params) {
    if (prefix.empty() || term.kind != ExprKind::kLike || term.is_negated ||
        term.children.size() != 2 || term.children[0].kind != ExprKind::kPath ||
        term.children[0].path != std::vector<std::string>{"id"} || !IsConstant(term.children[1])) {
        return false;
    }
    Result<QueryValue> pattern = EvalConstant(term.children[1], params);
    return pattern.ok() && pattern->type == QueryValue::Type::kString &&
           pattern->text == prefix + "%";
}

// Removes from `residual` (one term, or an AND of terms) the term the id-range scan over
// `prefix` already decides (IsExactIdPrefix).
void DropExactIdPrefix(const std::string& prefix, const QueryParams& params,
                       std::optional<Expr>* residual) {
    if (!*residual) {
        return;
    }
    Expr& expr = **residual;
    if (IsExactIdPrefix(expr, prefix, params)) {
        residual->reset();
        return;
    }
    if (expr.kind != ExprKind::kBinary || expr.op != Op::kAnd) {
        return;
    }
    std::vector<Expr>& terms = expr.children;
    const auto exact = std::find_if(terms.begin(), terms.end(), [&](const Expr& term) {
        return IsExactIdPrefix(term, prefix, params);
    });
    if (exact == terms.end()) {
        return;
    }
    terms.erase(exact);
    if (terms.size() == 1) {
        Expr only = std::move(terms[0]);
        *residual = std::move(only);
    }
}

Status Binder::CheckExpr(const Expr& expr, bool allow_aggregate, bool allow_alias) const {
    if (IsConstant(expr)) {
        return EvalConstant(expr, ctx_.params).status();
    }
    if (IsArithmetic(expr)) {  // its operands as selected values (an alias is not one)
        for (const Expr& child : expr.children) {
            PHENIX_RETURN_IF_ERROR(CheckExpr(child, allow_aggregate, false));
        }
        return Status::Ok();
    }
    switch (expr.kind) {
        case ExprKind::kPath:
            if (allow_alias && expr.path.size() == 1) {
                for (const Item& item : b_.items) {
                    if (item.name == expr.path[0]) {
                        return Status::Ok();
                    }
                }
            }
            return CheckPath(expr);
        case ExprKind::kStar:
            return Status::Ok();
        case ExprKind::kBinary:
        case ExprKind::kCall: {
            PHENIX_ASSIGN_OR_RETURN(auto distance, AsDistance(expr));
            if (distance) {
                return Status::Ok();
            }
            if (auto aggregate = AggregateOf(expr)) {
                if (!allow_aggregate) {
                    return ErrorAt(expr.pos, expr.text +
                                                 "() is an aggregate: use it in the select "
                                                 "list");
                }
                if (expr.is_star) {
                    if (*aggregate != Aggregate::kCount) {
                        return ErrorAt(expr.pos, expr.text + "(*) is not defined; count(*) is");
                    }
                    return Status::Ok();
                }
                if (expr.children.size() != 1) {
                    return ErrorAt(expr.pos, expr.text + "() takes one argument");
                }
                if (ContainsAggregate(expr.children[0])) {
                    return ErrorAt(expr.children[0].pos, "aggregates cannot be nested");
                }
                return CheckExpr(expr.children[0], false, false);
            }
            if (expr.kind == ExprKind::kCall) {
                static const std::vector<std::string> kFunctions = {"count", "min", "max",
                                                                    "avg",   "sum", "distance"};
                std::string message = "unknown function " + expr.text + "()";
                if (auto suggestion = ClosestName(expr.text, kFunctions)) {
                    message += "; did you mean " + *suggestion + "()?";
                }
                return ErrorAt(expr.pos, message);
            }
            return ErrorAt(expr.pos,
                           "only fields, distances, constants and aggregates can be "
                           "selected, not " +
                               ToString(expr));
        }
        default:
            return ErrorAt(expr.pos,
                           "only fields, distances, constants and aggregates can be "
                           "selected, not " +
                               ToString(expr));
    }
}

Status Binder::BindItems() {
    for (const SelectItem& item : stmt_.items) {
        if (item.expr.kind == ExprKind::kStar) {
            if (b_.is_match) {
                std::vector<std::string> variables = {b_.match.start_var, b_.match.end_var};
                if (b_.chain) {
                    variables.clear();
                    for (const ChainNode& node : b_.chain->nodes) {
                        variables.push_back(node.var);
                    }
                }
                for (const std::string& variable : variables) {
                    Expr path;
                    path.kind = ExprKind::kPath;
                    path.pos = item.expr.pos;
                    path.path = {variable, "id"};
                    b_.items.push_back({path, variable + ".id", false});
                }
                continue;
            }
            for (const char* field : {"id", "vector", "metadata", "edges"}) {
                if (std::string_view(field) == "vector" && !b_.info.spec.dimension) {
                    continue;
                }
                Expr path;
                path.kind = ExprKind::kPath;
                path.pos = item.expr.pos;
                path.path = {field};
                b_.items.push_back({path, field, false});
            }
            continue;
        }
        PHENIX_RETURN_IF_ERROR(CheckExpr(item.expr, true, false));
        Item bound{item.expr, item.alias, ContainsAggregate(item.expr)};
        if (bound.name.empty()) {
            if (item.expr.kind == ExprKind::kCall) {
                bound.name = item.expr.text;
            } else if (item.expr.kind == ExprKind::kBinary && !IsArithmetic(item.expr)) {
                bound.name = "distance";
            } else {
                bound.name = ToString(item.expr);
            }
        }
        b_.is_aggregate = b_.is_aggregate || bound.is_aggregate;
        if (bound.is_aggregate && !AggregateOf(item.expr)) {  // sum(x) * 2
            bound.is_aggregate = false;
            bound.is_computed = true;
        }
        b_.items.push_back(std::move(bound));
    }
    b_.num_visible_items = b_.items.size();
    if (!stmt_.group_by.empty() || b_.is_aggregate || stmt_.having) {
        b_.is_aggregate = true;
        for (const Expr& key : stmt_.group_by) {
            if (key.kind != ExprKind::kPath) {
                return ErrorAt(key.pos, "GROUP BY takes fields, e.g. GROUP BY metadata.category");
            }
            PHENIX_RETURN_IF_ERROR(CheckPath(key));
        }
        for (std::size_t idx = 0; idx < b_.num_visible_items; ++idx) {
            const Item& item = b_.items[idx];
            if (item.is_aggregate) {
                continue;
            }
            if (item.is_computed || (IsArithmetic(item.expr) && !IsConstant(item.expr))) {
                // Arithmetic over aggregates, keys and constants: its operands become hidden
                // columns (as HAVING's do), and it is computed from them per group.
                b_.items[idx].is_computed = true;
                const Expr expr = item.expr;  // BindHavingValue appends to b_.items
                std::vector<const Expr*> leaves{&expr};
                while (!leaves.empty()) {
                    const Expr* leaf = leaves.back();
                    leaves.pop_back();
                    if (IsArithmetic(*leaf)) {
                        for (const Expr& child : leaf->children) {
                            leaves.push_back(&child);
                        }
                    } else if (!IsConstant(*leaf) && !AggregateOf(*leaf) &&
                               std::none_of(stmt_.group_by.begin(), stmt_.group_by.end(),
                                            [&](const Expr& key) {
                                                return ToString(key) == ToString(*leaf);
                                            })) {
                        return ErrorAt(leaf->pos, ToString(*leaf) +
                                                      " must appear in GROUP BY or be inside an "
                                                      "aggregate such as count() or max()");
                    }
                }
                for (const Expr& child : expr.children) {
                    PHENIX_RETURN_IF_ERROR(BindHavingValue(child));
                }
                continue;
            }
            const bool grouped =
                std::any_of(stmt_.group_by.begin(), stmt_.group_by.end(),
                            [&](const Expr& key) { return ToString(key) == ToString(item.expr); });
            if (!grouped && !IsConstant(item.expr)) {
                return ErrorAt(item.expr.pos, ToString(item.expr) +
                                                  " must appear in GROUP BY or be inside an "
                                                  "aggregate such as count() or max()");
            }
        }
    }
    if (stmt_.having) {
        PHENIX_RETURN_IF_ERROR(BindHaving(*stmt_.having));
    }
    return Status::Ok();
}

// HAVING's conditions: AND / OR / NOT of comparisons, IN and IS NULL whose operands are
// aggregates, GROUP BY keys, selected columns (or aliases) and constants.
Status Binder::BindHaving(const Expr& expr) {
    switch (expr.kind) {
        case ExprKind::kUnary:
            return BindHaving(expr.children[0]);
        case ExprKind::kBinary:
            if (expr.op == Op::kAnd || expr.op == Op::kOr) {
                for (const Expr& child : expr.children) {  // a chain of two or more terms
                    PHENIX_RETURN_IF_ERROR(BindHaving(child));
                }
                return Status::Ok();
            }
            if (expr.op >= Op::kEq && expr.op <= Op::kGe) {
                PHENIX_RETURN_IF_ERROR(BindHavingValue(expr.children[0]));
                return BindHavingValue(expr.children[1]);
            }
            break;
        case ExprKind::kIn:
        case ExprKind::kIsNull:
            for (const Expr& child : expr.children) {
                PHENIX_RETURN_IF_ERROR(BindHavingValue(child));
            }
            return Status::Ok();
        default:
            break;
    }
    return BindHavingValue(expr);
}

Status Binder::BindHavingValue(const Expr& expr) {
    if (IsConstant(expr)) {
        return EvalConstant(expr, ctx_.params).status();
    }
    if (OutputColumn(expr)) {
        return Status::Ok();
    }
    if (IsArithmetic(expr)) {
        for (const Expr& child : expr.children) {
            PHENIX_RETURN_IF_ERROR(BindHavingValue(child));
        }
        return Status::Ok();
    }
    if (AggregateOf(expr)) {
        PHENIX_RETURN_IF_ERROR(CheckExpr(expr, /*allow_aggregate=*/true, /*allow_alias=*/false));
        b_.items.push_back({expr, "", true});
        return Status::Ok();
    }
    const bool is_key =
        std::any_of(stmt_.group_by.begin(), stmt_.group_by.end(),
                    [&](const Expr& key) { return ToString(key) == ToString(expr); });
    if (is_key) {
        b_.items.push_back({expr, "", false});
        return Status::Ok();
    }
    return ErrorAt(expr.pos,
                   "HAVING can use aggregates such as count(*), GROUP BY keys, selected "
                   "columns and constants, not " +
                       ToString(expr));
}

Status Binder::BindOrder() {
    for (std::size_t idx = 0; idx < stmt_.order_by.size(); ++idx) {
        const OrderItem& order = stmt_.order_by[idx];
        int item_index = -1;
        for (std::size_t item_idx = 0; item_idx < b_.items.size(); ++item_idx) {
            const Item& item = b_.items[item_idx];
            const bool by_alias = order.expr.kind == ExprKind::kPath &&
                                  order.expr.path.size() == 1 && order.expr.path[0] == item.name &&
                                  !stmt_.items.empty();
            if (by_alias || ToString(order.expr) == ToString(item.expr)) {
                item_index = static_cast<int>(item_idx);
                break;
            }
        }
        const Expr& key =
            item_index >= 0 ? b_.items[static_cast<std::size_t>(item_index)].expr : order.expr;
        if (b_.is_aggregate && item_index < 0) {
            return ErrorAt(order.expr.pos,
                           "in a query with aggregates, ORDER BY names a selected "
                           "column or its alias");
        }
        if (item_index < 0) {
            PHENIX_RETURN_IF_ERROR(CheckExpr(order.expr, false, true));
        }
        if (idx == 0 && !b_.is_aggregate) {
            PHENIX_ASSIGN_OR_RETURN(auto distance, AsDistance(key));
            if (distance) {
                b_.order_distance = std::move(distance);
                b_.order_descending = order.is_descending;
            }
        }
        b_.order_keys.emplace_back(item_index, &order);
    }
    // ORDER BY id (ascending) is the order ids are stored in: a scan delivers it.
    b_.order_by_id =
        !b_.is_match && !b_.is_aggregate && b_.order_keys.size() == 1 &&
        !stmt_.order_by[0].is_descending && [&] {
            const int idx = b_.order_keys[0].first;
            const Expr& key =
                idx >= 0 ? b_.items[static_cast<std::size_t>(idx)].expr : stmt_.order_by[0].expr;
            return key.kind == ExprKind::kPath && key.path.size() == 1 && key.path[0] == "id";
        }();
    return Status::Ok();
}

Status Binder::BindOptions() {
    if (stmt_.limit) {
        PHENIX_ASSIGN_OR_RETURN(QueryValue limit, EvalConstant(*stmt_.limit, ctx_.params));
        if (limit.type != QueryValue::Type::kInt || limit.int_value < 0) {
            return ErrorAt(stmt_.limit->pos, "LIMIT takes a non-negative integer");
        }
        b_.limit = static_cast<std::size_t>(limit.int_value);
    }
    if (stmt_.offset) {
        PHENIX_ASSIGN_OR_RETURN(QueryValue offset, EvalConstant(*stmt_.offset, ctx_.params));
        if (offset.type != QueryValue::Type::kInt || offset.int_value < 0) {
            return ErrorAt(stmt_.offset->pos, "OFFSET takes a non-negative integer");
        }
        b_.offset = static_cast<std::size_t>(offset.int_value);
    }
    for (const OptionItem& option : stmt_.options) {
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(option.value, ctx_.params));
        if (option.name == "ef") {
            if (value.type != QueryValue::Type::kInt || value.int_value < 1 ||
                value.int_value > 10000) {
                return ErrorAt(option.value.pos, "ef must be an integer from 1 to 10000");
            }
            b_.ef = static_cast<std::size_t>(value.int_value);
        } else if (option.name == "strategy") {
            if (value.type != QueryValue::Type::kString) {
                return ErrorAt(option.value.pos,
                               "strategy is 'auto', 'exact_scan', 'in_graph' or 'post_filter'");
            }
            if (value.text == "auto") {
                b_.forced_strategy.reset();
            } else if (value.text == "exact_scan") {
                b_.forced_strategy = SearchStrategy::kExactScan;
            } else if (value.text == "in_graph") {
                b_.forced_strategy = SearchStrategy::kInGraph;
            } else if (value.text == "post_filter") {
                b_.forced_strategy = SearchStrategy::kPostFilter;
            } else {
                return ErrorAt(option.value.pos,
                               "strategy is 'auto', 'exact_scan', 'in_graph' or 'post_filter'");
            }
        } else if (option.name == "graph_plan") {
            if (value.type != QueryValue::Type::kString ||
                (value.text != "auto" && value.text != "expand" && value.text != "vector_first")) {
                return ErrorAt(option.value.pos,
                               "graph_plan is 'auto', 'expand' or 'vector_first'");
            }
            if (value.text == "auto") {
                b_.forced_graph_plan.reset();
            } else {
                b_.forced_graph_plan =
                    value.text == "expand" ? GraphPlan::kExpand : GraphPlan::kVectorFirst;
            }
        } else {
            std::string message = "unknown option " + option.name;
            if (auto suggestion = ClosestName(option.name, {"ef", "strategy", "graph_plan"})) {
                message += "; did you mean " + *suggestion + "?";
            } else {
                message += "; options are ef, strategy and graph_plan";
            }
            return ErrorAt(option.value.pos, message);
        }
    }
    return Status::Ok();
}
// Everything bound after the names: items, order, options, and the facts the planner reads.
Status Binder::Bind() {
    b_.stmt = &stmt_;
    b_.params = &ctx_.params;
    b_.read_txn = ctx_.txn;
    PHENIX_RETURN_IF_ERROR(BindSource());
    if (!b_.is_match) {
        PHENIX_ASSIGN_OR_RETURN(b_.where, BindWhere(stmt_.where ? &*stmt_.where : nullptr,
                                                    ctx_.params, {}, /*allow_residual=*/true));
        b_.residual = b_.where.residual;
    }
    PHENIX_RETURN_IF_ERROR(BindItems());
    PHENIX_RETURN_IF_ERROR(BindOrder());
    PHENIX_RETURN_IF_ERROR(BindOptions());
    if (b_.is_match && !b_.chain) {
        // A pattern with an edge variable has one row per path, one without has one row per
        // reached node: the pattern decides, never the columns selected. Does anything read the
        // start node (else the walk needs only its id)?
        for (BoundMatch* match : {&b_.match, b_.other_start ? &b_.other_start->match : nullptr}) {
            if (match == nullptr) {
                continue;
            }
            match->needs_paths = !match->edge_var.empty();
            VisitSelectExprs(b_, [&](const Expr& node) {
                if (node.kind == ExprKind::kPath) {
                    match->needs_start = match->needs_start || node.path[0] == match->start_var;
                }
                return true;
            });
        }
    }
    if (b_.is_aggregate && b_.order_distance) {
        return ErrorAt(b_.order_distance->pos, "ORDER BY distance cannot be used with aggregates");
    }
    if (!b_.order_distance) {
        // Rows come from a read (not a vector search), whose id-range scan decides a pure
        // prefix LIKE by itself.
        DropExactIdPrefix(b_.where.id_prefix, ctx_.params, &b_.residual);
    }
    b_.is_count_only = b_.is_aggregate && stmt_.group_by.empty() && b_.items.size() == 1 &&
                       b_.items[0].expr.is_star && b_.items[0].expr.kind == ExprKind::kCall &&
                       !b_.residual && b_.where.id_prefix.empty();
    return Status::Ok();
}

}  // namespace

Result<BoundSelect> BindSelect(ExecContext& ctx, const SelectStmt& stmt) {
    BoundSelect bound;
    Binder binder(ctx, stmt, bound);
    PHENIX_RETURN_IF_ERROR(binder.Bind());
    return bound;
}

std::string_view DistanceOpText(DistanceOp op) {
    switch (op) {
        case DistanceOp::kL2:
            return "<->";
        case DistanceOp::kCosine:
            return "<=>";
        case DistanceOp::kNegDot:
            return "<#>";
        case DistanceOp::kCollection:
            return "distance()";
    }
    return "?";
}

Metric OpMetric(DistanceOp op, Metric collection_metric) {
    switch (op) {
        case DistanceOp::kL2:
            return Metric::kL2;
        case DistanceOp::kCosine:
            return Metric::kCosine;
        case DistanceOp::kNegDot:
            return Metric::kInnerProduct;
        case DistanceOp::kCollection:
            return collection_metric;
    }
    return collection_metric;
}

// The distance as PhenixQL reports it: L2 is Euclidean (the index ranks by its square), for <->
// and for distance() on an l2 collection alike.
// Distances come from float32 vectors: they are rounded to float precision so that they print

std::optional<Aggregate> AggregateOf(const Expr& expr) {
    if (expr.kind != ExprKind::kCall) {
        return std::nullopt;
    }
    if (expr.text == "count") {
        return Aggregate::kCount;
    }
    if (expr.text == "min") {
        return Aggregate::kMin;
    }
    if (expr.text == "max") {
        return Aggregate::kMax;
    }
    if (expr.text == "avg") {
        return Aggregate::kAvg;
    }
    if (expr.text == "sum") {
        return Aggregate::kSum;
    }
    return std::nullopt;
}

bool ContainsAggregate(const Expr& expr) {
    if (AggregateOf(expr)) {
        return true;
    }
    return std::any_of(expr.children.begin(), expr.children.end(), ContainsAggregate);
}

Result<std::optional<DistanceExpr>> AsDistance(const BoundSelect& b, const Expr& expr) {
    DistanceExpr distance;
    distance.pos = expr.pos;
    const Expr* vector_side = nullptr;
    const Expr* query_side = nullptr;
    if (expr.kind == ExprKind::kBinary &&
        (expr.op == Op::kL2Distance || expr.op == Op::kCosineDistance ||
         expr.op == Op::kNegInnerProduct)) {
        distance.op = expr.op == Op::kL2Distance       ? DistanceOp::kL2
                      : expr.op == Op::kCosineDistance ? DistanceOp::kCosine
                                                       : DistanceOp::kNegDot;
        vector_side = &expr.children[0];
        query_side = &expr.children[1];
        if (vector_side->kind != ExprKind::kPath && query_side->kind == ExprKind::kPath) {
            std::swap(vector_side, query_side);
        }
    } else if (expr.kind == ExprKind::kCall && expr.text == "distance") {
        if (expr.children.size() != 2) {
            return ErrorAt(expr.pos, "distance() takes two arguments: distance(vector, [..])");
        }
        distance.op = DistanceOp::kCollection;
        vector_side = &expr.children[0];
        query_side = &expr.children[1];
    } else {
        return std::optional<DistanceExpr>();
    }
    const bool is_match_var = b.is_match && vector_side->kind == ExprKind::kPath &&
                              (b.chain ? b.chain->NodeOf(vector_side->path[0]).has_value()
                                       : vector_side->path[0] == b.match.start_var ||
                                             vector_side->path[0] == b.match.end_var);
    const bool is_vector_path =
        vector_side->kind == ExprKind::kPath &&
        ((!b.is_match && vector_side->path == std::vector<std::string>{"vector"}) ||
         (is_match_var && vector_side->path.size() == 2 && vector_side->path[1] == "vector"));
    if (!is_vector_path) {
        return ErrorAt(
            vector_side->pos,
            std::string("a distance is between the vector column and a "
                        "vector value, e.g. ") +
                (b.is_match ? (b.chain ? b.chain->nodes.back().var : b.match.end_var) + ".vector"
                            : "vector") +
                " <-> [0.1, 0.2]");
    }
    if (b.is_match) {
        distance.variable = vector_side->path[0];
    }
    PHENIX_ASSIGN_OR_RETURN(distance.query,
                            ConstantAsVector(*query_side, *b.params, "the query vector"));
    // A chain's node may be in another collection than the start's.
    const CollectionInfo& info =
        b.chain ? b.chain->nodes[*b.chain->NodeOf(distance.variable)].info : b.info;
    if (!info.spec.dimension) {
        return ErrorAt(expr.pos, "collection '" + info.spec.ref.name + "' has no vectors");
    }
    if (distance.query.size() != *info.spec.dimension) {
        return ErrorAt(query_side->pos, "the query vector has " +
                                            std::to_string(distance.query.size()) +
                                            " dimensions; collection '" + info.spec.ref.name +
                                            "' has " + std::to_string(*info.spec.dimension));
    }
    for (const float value : distance.query) {
        if (!std::isfinite(value)) {
            return ErrorAt(query_side->pos, "the query vector holds a NaN or infinite value");
        }
    }
    return std::optional<DistanceExpr>(std::move(distance));
}

std::optional<std::size_t> OutputColumn(const BoundSelect& b, const Expr& expr) {
    const std::string text = ToString(expr);
    for (std::size_t idx = 0; idx < b.items.size(); ++idx) {
        const bool by_alias = idx < b.num_visible_items && expr.kind == ExprKind::kPath &&
                              expr.path.size() == 1 && expr.path[0] == b.items[idx].name;
        if (by_alias || ToString(b.items[idx].expr) == text) {
            return idx;
        }
    }
    return std::nullopt;
}

// HAVING's conditions: AND / OR / NOT of comparisons, IN and IS NULL whose operands are

}  // namespace phenix::query
