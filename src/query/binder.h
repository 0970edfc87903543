// SPDX-License-Identifier: Apache-2.0
//
// The SELECT binder: a parsed SelectStmt in, a BoundSelect out. Binding opens the statement's
// snapshot, resolves every name against the catalog and the statement (collections, fields,
// pattern variables, aliases), splits WHERE into what the engine filters (per collection or per
// pattern variable) and what is left, recognises the distance expression, and checks select
// items, aggregates, GROUP BY / HAVING, ORDER BY, LIMIT / OFFSET and WITH options. Errors are
// InvalidArgument / NotFound "line L, column C: ..." with "did you mean" suggestions.
//
// Next: logical_plan.h (the bound statement as a tree), optimizer.h (physical operators).
//
// Thread-compatible: one BoundSelect per statement; it borrows the statement (the SelectStmt
// must outlive it) and owns the statement's snapshot transaction when it opened one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <phenix/db.h>
#include <phenix/result.h>
#include <phenix/transaction.h>

#include "query/ast.h"
#include "query/exec.h"

namespace phenix::query {

// ---- distances ------------------------------------------------------------------------------

enum class DistanceOp { kL2, kCosine, kNegDot, kCollection };

std::string_view DistanceOpText(DistanceOp op);
/// The metric a distance operator computes (distance() uses the collection's).
Metric OpMetric(DistanceOp op, Metric collection_metric);

/// A distance between a vector column and a constant query vector.
struct DistanceExpr {
    std::string variable;  // "" in FROM collection, else the node variable
    DistanceOp op = DistanceOp::kCollection;
    std::vector<float> query;
    SourcePos pos;
};

// ---- select items and aggregates ------------------------------------------------------------

struct Item {
    Expr expr;
    std::string name;
    bool is_aggregate = false;
    bool is_computed = false;  // arithmetic over aggregates / keys: computed from the others
};

enum class Aggregate { kCount, kMin, kMax, kAvg, kSum };

std::optional<Aggregate> AggregateOf(const Expr& expr);
bool ContainsAggregate(const Expr& expr);

// ---- the bound statement --------------------------------------------------------------------

/// Reads through the statement's snapshot (or the session's open transaction).
struct Reader {
    Database& db;
    Transaction* txn;

    Result<Entity> Get(const CollectionRef& ref, std::string_view id) const {
        return txn != nullptr ? txn->Get(ref, id) : db.Get(ref, id);
    }
    Result<SearchResponse> Search(const CollectionRef& ref, std::span<const float> query,
                                  const SearchOptions& options) const {
        return txn != nullptr ? txn->Search(ref, query, options) : db.Search(ref, query, options);
    }
    Result<FindResponse> Find(const CollectionRef& ref, const FindOptions& options) const {
        return txn != nullptr ? txn->Find(ref, options) : db.Find(ref, options);
    }
    Result<ScanPage> Scan(const CollectionRef& ref, const ScanOptions& options) const {
        return txn != nullptr ? txn->Scan(ref, options) : db.Scan(ref, options);
    }
    Result<TraversalResponse> Traverse(const CollectionRef& ref, const TraversalSpec& spec) const {
        return txn != nullptr ? txn->Traverse(ref, spec) : db.Traverse(ref, spec);
    }
    Result<PathsResponse> FindPaths(const CollectionRef& ref, const PathSpec& spec) const {
        return txn != nullptr ? txn->FindPaths(ref, spec) : db.FindPaths(ref, spec);
    }
    Result<std::vector<EdgeRecord>> ListEdges(const CollectionRef& ref, std::string_view id,
                                              phenix::EdgeDirection direction) const {
        return txn != nullptr ? txn->ListEdges(ref, id, direction)
                              : db.ListEdges(ref, id, direction);
    }
    Result<std::uint64_t> Degree(const CollectionRef& ref, std::string_view id,
                                 phenix::EdgeDirection direction, const EdgeMatch& edges) const {
        return txn != nullptr ? txn->Degree(ref, id, direction, edges)
                              : db.Degree(ref, id, direction, edges);
    }
};

/// A MATCH pattern, bound: the walk starts at `start_var` (the node with the `id = '...'`
/// condition; `reversed` when that is the pattern's second node).
struct BoundMatch {
    std::string start_var, end_var, edge_var;
    std::string end_collection;
    std::string start_id;
    std::string start_filter;  // conditions on the start node (a metadata filter)
    phenix::EdgeDirection direction = phenix::EdgeDirection::kOut;
    std::uint32_t min_hops = 1, max_hops = 1;
    bool single_edge = true;
    bool reversed = false;
    bool needs_start = false;  // a selected or ordering expression reads the start node
    bool needs_paths = false;  // an edge variable: one row per path
    EdgeMatch edge_match;
    std::string start_choice;  // why this start, when both nodes could be (EXPLAIN)
};

/// A node of a MATCH chain (a pattern of two or more edges), in pattern order.
struct ChainNode {
    std::string var;
    SourcePos pos;
    CollectionInfo info;  // its collection (a node without one is in its nearest named neighbour's)
    CollectionRef ref;
    // Its conditions: `var.id = / IN` as ids, the rest as a metadata filter (a chain's
    // conditions have no residual). The start node checks them on its entities; every other
    // node is filtered by them where a segment reaches it.
    BoundWhere where;
};

/// An edge pattern of a chain, between nodes[idx] and nodes[idx + 1], as written.
struct ChainSegment {
    std::string edge_var;  // empty: one row per distinct binding of the far node
    phenix::EdgeDirection direction = phenix::EdgeDirection::kOut;  // left to right
    std::uint32_t min_hops = 1, max_hops = 1;
    bool single_edge = true;
    EdgeMatch edge_match;
    SourcePos pos;
};

/// One step of a chain's walk: expand segment `segment` from the bound node `from` to `to`
/// (`backwards`: right to left, the segment's direction reversed).
struct ChainStep {
    std::size_t segment = 0;
    std::size_t from = 0, to = 0;
    bool backwards = false;
    double estimate = -1;  // reached rows per binding of `from` (EXPLAIN), < 0: unknown
};

/// A MATCH chain, bound: the walk starts from `start` (a node with ids) and takes `steps` in
/// order (ChooseChainStart, optimizer.h, picks the start among `candidates` and the order).
struct BoundChain {
    std::vector<ChainNode> nodes;
    std::vector<ChainSegment> segments;
    std::vector<std::size_t> candidates;  // nodes with ids, in pattern order
    std::size_t start = 0;
    std::vector<ChainStep> steps;
    std::string start_choice;  // the candidates' estimates (EXPLAIN)

    /// The node / segment a pattern variable names, if any.
    [[nodiscard]] std::optional<std::size_t> NodeOf(std::string_view var) const {
        for (std::size_t idx = 0; idx < nodes.size(); ++idx) {
            if (nodes[idx].var == var) {
                return idx;
            }
        }
        return std::nullopt;
    }
    [[nodiscard]] std::optional<std::size_t> SegmentOf(std::string_view var) const {
        for (std::size_t idx = 0; idx < segments.size(); ++idx) {
            if (!segments[idx].edge_var.empty() && segments[idx].edge_var == var) {
                return idx;
            }
        }
        return std::nullopt;
    }
    /// Sets `start` and the steps that walk outward from it, one side at a time, each in order
    /// away from the start (the right side first when `right_first`).
    void PlanSteps(std::size_t start_node, bool right_first);
};

struct BoundSelect {
    const SelectStmt* stmt = nullptr;
    const QueryParams* params = nullptr;
    // The statement's snapshot outside a transaction (AS OF's, or now's): every read of the
    // statement goes through it, so all see the same data.
    std::unique_ptr<Transaction> snapshot_txn;
    Transaction* read_txn = nullptr;  // snapshot_txn, or the session's transaction

    CollectionInfo info;  // FROM collection, or the MATCH start's collection
    CollectionRef ref;
    bool is_match = false;
    BoundMatch match;
    // A MATCH of two or more edges (is_match is set too; `match` is unused, and info / ref are
    // the start node's collection).
    std::optional<BoundChain> chain;

    // MATCH whose two nodes both have an `id = '...'` (and no edge variable): the binding that
    // starts from the second node. The optimizer keeps the cheaper start (ChooseMatchStart).
    struct MatchStart {
        BoundMatch match;
        BoundWhere where;
        CollectionInfo info;
        CollectionRef ref;
    };
    std::optional<MatchStart> other_start;

    BoundWhere where;  // what the engine filters: the FROM collection's, or the far node's
    // WHERE conjuncts the engine cannot evaluate (arithmetic over fields, two fields compared,
    // id conditions beyond `id =` / `id IN`; where.residual), checked per row by a Filter
    // operator with SQL three-valued logic.
    std::optional<Expr> residual;

    std::vector<Item> items;
    // Items after the first num_visible_items are hidden: aggregates and keys that only HAVING
    // uses, computed with the groups and dropped from the result.
    std::size_t num_visible_items = 0;
    bool is_aggregate = false;
    // count(*) alone, no GROUP BY: the engine counts (the filter's bitmap, the traversal).
    bool is_count_only = false;

    std::optional<DistanceExpr> order_distance;  // ORDER BY distance (first key)
    bool order_descending = false;
    std::vector<std::pair<int, const OrderItem*>> order_keys;  // item index or -1 (expr)
    bool order_by_id = false;  // FROM collection ORDER BY id (ascending), the scan's order

    std::optional<std::size_t> limit;
    std::optional<std::size_t> offset;
    std::optional<std::size_t> ef;
    std::optional<SearchStrategy> forced_strategy;
    std::optional<GraphPlan> forced_graph_plan;

    /// LIMIT + OFFSET (saturating): how many rows the plan must produce in order.
    [[nodiscard]] std::size_t Wanted() const {
        if (!limit) {
            return SIZE_MAX;
        }
        const std::size_t skip = offset.value_or(0);
        return *limit > SIZE_MAX - skip ? SIZE_MAX : *limit + skip;
    }
    [[nodiscard]] Reader reader(Database& db) const { return Reader{db, read_txn}; }
};

/// Edge conditions (`e.weight` comparisons, `e.label = / IN`, `e.properties.<path>`) of the
/// edge variable `edge_var`, narrowed into `edges`.
Status BindEdgeConditions(const std::vector<const Expr*>& terms, const QueryParams& params,
                          const std::string& edge_var, EdgeMatch* edges);

/// Binds a MATCH chain (binder_chain.cc): the pattern's nodes and segments and the WHERE split
/// by variable, into `bound.chain` (and bound.info / ref: the first candidate's collection).
Status BindChain(ExecContext& ctx, const SelectStmt& stmt, BoundSelect& bound);

/// Binds `stmt` (see the file comment). `ctx` and `stmt` must outlive the result.
Result<BoundSelect> BindSelect(ExecContext& ctx, const SelectStmt& stmt);

/// `expr` as a distance when it is one (`vector <-> [..]`, `distance(vector, [..])`), nullopt
/// when it is something else; InvalidArgument when it is a malformed distance.
Result<std::optional<DistanceExpr>> AsDistance(const BoundSelect& bound, const Expr& expr);

/// `terms` joined by AND as one flat chain (`terms` is not empty; one term is itself).
Expr Conjunction(const std::vector<const Expr*>& terms);

/// The index of the output column (a visible item by alias or text, or a hidden HAVING item)
/// that `expr` names, if any.
std::optional<std::size_t> OutputColumn(const BoundSelect& bound, const Expr& expr);

/// Visits every node of the select list (hidden HAVING items included), ORDER BY and GROUP BY,
/// depth first; `visit` returns false to skip a node's children.
template <typename Visit>
void VisitSelectExprs(const BoundSelect& bound, Visit&& visit) {
    std::vector<const Expr*> stack;
    for (const Item& item : bound.items) {
        stack.push_back(&item.expr);
    }
    for (const OrderItem& order : bound.stmt->order_by) {
        stack.push_back(&order.expr);
    }
    for (const Expr& key : bound.stmt->group_by) {
        stack.push_back(&key);
    }
    while (!stack.empty()) {
        const Expr* node = stack.back();
        stack.pop_back();
        if (!visit(*node)) {
            continue;
        }
        for (const Expr& child : node->children) {
            stack.push_back(&child);
        }
    }
}

}  // namespace phenix::query
