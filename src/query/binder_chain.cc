// SPDX-License-Identifier: Apache-2.0
//
// The binder of MATCH chains, patterns of two or more edges (binder.h, BindChain): every node
// named and in a collection, each segment's direction, hops and edge conditions, and the WHERE
// split by pattern variable. The start and the order of the walk are the optimizer's
// (ChooseChainStart); binding leaves the first node with ids as the start.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <phenix/limits.h>

#include "query/binder.h"
#include "query/expression.h"
#include "query/parser.h"

namespace phenix::query {
namespace {

phenix::EdgeDirection EngineDirection(query::EdgeDirection direction) {
    switch (direction) {
        case query::EdgeDirection::kOut:
            return phenix::EdgeDirection::kOut;
        case query::EdgeDirection::kIn:
            return phenix::EdgeDirection::kIn;
        case query::EdgeDirection::kBoth:
            return phenix::EdgeDirection::kBoth;
    }
    return phenix::EdgeDirection::kBoth;
}

// Every node's collection: its own, else the nearest named node's to its left, else to its
// right.
Status BindChainNodes(ExecContext& ctx, const MatchPattern& match, BoundChain& chain) {
    std::vector<std::string> names;
    auto add_name = [&](const std::string& name, SourcePos pos) -> Status {
        if (std::find(names.begin(), names.end(), name) != names.end()) {
            return ErrorAt(
                pos, "pattern variables must have distinct names ('" + name + "' is used twice)");
        }
        names.push_back(name);
        return Status::Ok();
    };
    for (const NodePattern& node : match.nodes) {
        if (node.variable.empty()) {
            return ErrorAt(node.pos,
                           "name every node of the pattern, e.g. "
                           "(a:docs)-[:cites]->(b:docs)-[:cites]->(c:docs)");
        }
        PHENIX_RETURN_IF_ERROR(add_name(node.variable, node.pos));
    }
    for (const EdgePattern& edge : match.edges) {
        if (!edge.variable.empty()) {
            PHENIX_RETURN_IF_ERROR(add_name(edge.variable, edge.pos));
        }
    }
    const auto named =
        std::find_if(match.nodes.begin(), match.nodes.end(),
                     [](const NodePattern& node) { return !node.collection.empty(); });
    if (named == match.nodes.end()) {
        return ErrorAt(match.nodes[0].pos,
                       "name the collection of at least one node, e.g. (a:docs)");
    }
    std::string collection = named->collection;  // for the nodes left of the first named one
    for (const NodePattern& node : match.nodes) {
        if (!node.collection.empty()) {
            collection = node.collection;
        }
        ChainNode bound;
        bound.var = node.variable;
        bound.pos = node.pos;
        PHENIX_ASSIGN_OR_RETURN(bound.info, ResolveCollection(ctx, collection, node.pos));
        bound.ref = ctx.Ref(collection);
        chain.nodes.push_back(std::move(bound));
    }
    for (const EdgePattern& edge : match.edges) {
        ChainSegment segment;
        segment.edge_var = edge.variable;
        segment.pos = edge.pos;
        segment.direction = EngineDirection(edge.direction);
        segment.min_hops = edge.min_hops;
        segment.max_hops =
            edge.max_hops.value_or(std::min<std::uint32_t>(limits::kMaxTraversalDepth, 16));
        if (segment.max_hops > limits::kMaxTraversalDepth) {
            return ErrorAt(edge.pos, "at most " + std::to_string(limits::kMaxTraversalDepth) +
                                         " hops can be followed");
        }
        segment.single_edge = segment.min_hops == 1 && segment.max_hops == 1;
        if (!edge.label.empty()) {
            segment.edge_match.labels.push_back(edge.label);
        }
        chain.segments.push_back(std::move(segment));
    }
    return Status::Ok();
}

}  // namespace

void BoundChain::PlanSteps(std::size_t start_node, bool right_first) {
    start = start_node;
    steps.clear();
    auto right = [&] {
        for (std::size_t segment = start_node; segment < segments.size(); ++segment) {
            steps.push_back(ChainStep{segment, segment, segment + 1, false, -1});
        }
    };
    auto left = [&] {
        for (std::size_t segment = start_node; segment-- > 0;) {
            steps.push_back(ChainStep{segment, segment + 1, segment, true, -1});
        }
    };
    if (right_first) {
        right();
        left();
    } else {
        left();
        right();
    }
}

Status BindChain(ExecContext& ctx, const SelectStmt& stmt, BoundSelect& b) {
    const MatchPattern& match = *stmt.match;
    BoundChain chain;
    PHENIX_RETURN_IF_ERROR(BindChainNodes(ctx, match, chain));
    std::vector<std::string> variables;
    for (const ChainNode& node : chain.nodes) {
        variables.push_back(node.var);
    }
    for (const ChainSegment& segment : chain.segments) {
        if (!segment.edge_var.empty()) {
            variables.push_back(segment.edge_var);
        }
    }
    std::vector<std::vector<const Expr*>> node_terms(chain.nodes.size());
    std::vector<std::vector<const Expr*>> segment_terms(chain.segments.size());
    // Edge conditions inside the pattern: only the segment's own edge variable.
    for (std::size_t idx = 0; idx < match.edges.size(); ++idx) {
        const EdgePattern& edge = match.edges[idx];
        if (!edge.where) {
            continue;
        }
        for (const Expr* term : SplitConjuncts(*edge.where)) {
            if (edge.variable.empty() || ExprVariable(*term, variables) != edge.variable) {
                return ErrorAt(term->pos,
                               edge.variable.empty()
                                   ? "name the edge to filter it, e.g. -[e:rel WHERE "
                                     "e.weight > 0.5]->"
                                   : "an edge condition may only use the edge's fields (" +
                                         edge.variable + ".weight, " + edge.variable + ".label, " +
                                         edge.variable + ".properties.<path>)");
            }
            segment_terms[idx].push_back(term);
        }
    }
    if (stmt.where) {
        for (const Expr* term : SplitConjuncts(*stmt.where)) {
            const std::string variable = ExprVariable(*term, variables);
            if (variable.empty()) {
                std::string names;
                for (const std::string& name : variables) {
                    names += (names.empty() ? "" : ", ") + name;
                }
                return ErrorAt(term->pos,
                               "each condition of a MATCH query must use exactly one of the "
                               "pattern's variables (" +
                                   names + "), e.g. " + chain.nodes[0].var + ".id = '...'");
            }
            if (const std::optional<std::size_t> node = chain.NodeOf(variable)) {
                node_terms[*node].push_back(term);
            } else {
                segment_terms[*chain.SegmentOf(variable)].push_back(term);
            }
        }
    }
    for (std::size_t idx = 0; idx < chain.nodes.size(); ++idx) {
        ChainNode& node = chain.nodes[idx];
        if (!node_terms[idx].empty()) {
            const Expr conjunction = Conjunction(node_terms[idx]);
            PHENIX_ASSIGN_OR_RETURN(node.where, BindWhere(&conjunction, ctx.params, node.var));
        }
        if (node.where.ids) {
            chain.candidates.push_back(idx);
        }
    }
    for (std::size_t idx = 0; idx < chain.segments.size(); ++idx) {
        ChainSegment& segment = chain.segments[idx];
        PHENIX_RETURN_IF_ERROR(BindEdgeConditions(segment_terms[idx], ctx.params, segment.edge_var,
                                                  &segment.edge_match));
    }
    if (chain.candidates.empty()) {
        std::string others;
        for (std::size_t idx = 1; idx < chain.nodes.size(); ++idx) {
            others += (idx == 1                        ? ""
                       : idx + 1 == chain.nodes.size() ? " or "
                                                       : ", ") +
                      chain.nodes[idx].var + ".id";
        }
        return ErrorAt(stmt.where ? stmt.where->pos : match.pos,
                       "a MATCH query needs its start: add WHERE " + chain.nodes[0].var +
                           ".id = '...' (or " + others + ")");
    }
    chain.PlanSteps(chain.candidates[0], /*right_first=*/true);
    b.info = chain.nodes[chain.start].info;
    b.ref = chain.nodes[chain.start].ref;
    b.chain = std::move(chain);
    return Status::Ok();
}

}  // namespace phenix::query
