// SPDX-License-Identifier: Apache-2.0
//
// SELECT: binder, planner and executor, and EXPLAIN [ANALYZE] (docs/query-language.md).
//
// Binding checks every name against the catalog and the statement (collections, fields, pattern
// variables, aliases) and fails with the position and a suggestion. The planner then picks one
// access path:
//
//   * vector-first   HNSW search with the filter applied inside the graph walk (in-graph) or
//                    after an over-fetch (post-filter);
//   * filter-first   the filter's bitmap (metadata indexes), then an exact scan of its rows;
//   * graph-first    expand the MATCH pattern from its start, then an exact or filtered search
//                    over what was reached;
//   * id lookup, filtered scan, or full scan for queries without vector ordering.
//
// The choice uses the metadata index statistics (FindOptions::estimate_only) with the same
// thresholds the vector index's own planner uses, so EXPLAIN shows what will run. Everything a
// plan does is done by the public Database / Transaction calls; this file adds projection,
// ordering, grouping and the plan tree.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <phenix/json.h>
#include <phenix/limits.h>

#include "common/sync_point.h"
#include "document/filter.h"
#include "index/hnsw/filter_planner.h"
#include "query/exec.h"
#include "query/expression.h"
#include "query/json_value.h"
#include "query/parser.h"

namespace phenix::query {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
// Integer sums: 128 bits hold any sum of 2^64 int64 values exactly (a GCC/Clang extension).
__extension__ typedef __int128 WideInt;

constexpr std::size_t kDefaultEf = 64;

double MillisSince(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// ---- reads through the open transaction or the database ------------------------------------

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
    Result<std::uint64_t> Degree(const CollectionRef& ref, std::string_view id,
                                 phenix::EdgeDirection direction, const EdgeMatch& edges) const {
        return txn != nullptr ? txn->Degree(ref, id, direction, edges)
                              : db.Degree(ref, id, direction, edges);
    }
};

// ---- the plan tree --------------------------------------------------------------------------

struct PlanNode {
    std::string label;
    std::vector<std::string> details;
    double estimated_rows = -1;  // < 0: unknown
    std::optional<std::uint64_t> actual_rows;
    double millis = 0;
    std::vector<PlanNode> children;
};

std::string FormatRows(double rows) {
    if (rows < 0) {
        return "?";
    }
    return std::to_string(static_cast<std::uint64_t>(std::llround(rows)));
}

std::string FormatMillis(double millis) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3f", millis);
    return buffer;
}

void RenderPlan(const PlanNode& node, const std::string& prefix, bool is_root, bool is_last,
                bool analyze, std::vector<std::string>* lines) {
    std::string line = prefix;
    if (!is_root) {
        line += is_last ? "└─ " : "├─ ";
    }
    line += node.label + "  (est. rows=" + FormatRows(node.estimated_rows);
    if (analyze) {
        line += ", actual rows=" +
                (node.actual_rows ? std::to_string(*node.actual_rows) : std::string("?")) +
                ", time=" + FormatMillis(node.millis) + " ms";
    }
    line += ")";
    lines->push_back(std::move(line));
    const std::string child_prefix = is_root ? prefix : prefix + (is_last ? "   " : "│  ");
    for (const std::string& detail : node.details) {
        lines->push_back(child_prefix + (node.children.empty() ? "   " : "│  ") + detail);
    }
    for (std::size_t idx = 0; idx < node.children.size(); ++idx) {
        RenderPlan(node.children[idx], child_prefix, false, idx + 1 == node.children.size(),
                   analyze, lines);
    }
}

// What a query with LIMIT 0 runs: nothing.
PlanNode EmptyPlan() {
    PlanNode empty;
    empty.label = "Empty (LIMIT 0)";
    empty.estimated_rows = 0;
    empty.actual_rows = 0;
    return empty;
}

// ---- values ---------------------------------------------------------------------------------

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

// ---- distances ------------------------------------------------------------------------------

enum class DistanceOp { kL2, kCosine, kNegDot, kCollection };

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

struct DistanceExpr {
    std::string variable;  // "" in FROM collection, else the node variable
    DistanceOp op = DistanceOp::kCollection;
    std::vector<float> query;
    SourcePos pos;
};

// ---- rows -----------------------------------------------------------------------------------

struct Row {
    Entity entity;                        // FROM collection: the entity; MATCH: the far node
    std::optional<double> engine_distance;  // from the search, in the collection's metric
    std::optional<Entity> start;          // MATCH: the start node
    const GraphPath* path = nullptr;      // MATCH with an edge variable
    mutable std::optional<json> metadata;  // parsed on first use
    mutable std::optional<json> start_metadata;

    const json& Metadata(bool of_start) const {
        std::optional<json>& cache = of_start ? start_metadata : metadata;
        if (!cache) {
            const std::string& text = of_start ? start->metadata : entity.metadata;
            json parsed = json::parse(text.empty() ? std::string_view("{}") : std::string_view(text),
                                      nullptr, false);
            cache = parsed.is_discarded() ? json::object() : std::move(parsed);
        }
        return *cache;
    }
};

// ---- the bound query ------------------------------------------------------------------------

struct Item {
    Expr expr;
    std::string name;
    bool is_aggregate = false;
    bool is_computed = false;  // arithmetic over aggregates / keys: computed from the others
};

enum class Aggregate { kCount, kMin, kMax, kAvg, kSum };

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

// Search hits as rows, nearest first, with the engine's distance (and the MATCH start node).
void AppendHits(std::vector<SearchHit> hits, const std::optional<Entity>& start,
                std::vector<Row>* rows) {
    rows->reserve(rows->size() + hits.size());
    for (SearchHit& hit : hits) {
        Row row;
        row.entity.id = std::move(hit.id);
        row.entity.metadata = std::move(hit.metadata);
        row.entity.vector = std::move(hit.vector);
        row.engine_distance = hit.distance;
        row.start = start;
        rows->push_back(std::move(row));
    }
}

// `terms` joined by AND as one flat chain (terms is not empty).
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

class SelectRunner {
  public:
    SelectRunner(ExecContext& ctx, const SelectStmt& stmt, ExplainMode mode)
        : ctx_(ctx), stmt_(stmt), mode_(mode), reader_{ctx.db, ctx.txn} {}

    Result<QueryResult> Run();

  private:
    // Binding.
    Status BindSource();
    Status BindItems();
    Status CheckExpr(const Expr& expr, bool allow_aggregate, bool allow_alias) const;
    Status CheckPath(const Expr& expr) const;
    Result<std::optional<DistanceExpr>> AsDistance(const Expr& expr) const;
    Status BindOrder();
    Status BindOptions();
    Status BindHaving(const Expr& expr);
    Status BindHavingValue(const Expr& expr);
    [[nodiscard]] std::optional<std::size_t> OutputColumn(const Expr& expr) const;
    // A HAVING expression over one grouped row (every item's value, hidden ones included).
    Result<QueryValue> EvalOutput(const Expr& expr, const std::vector<QueryValue>& row) const;
    Status BindMatchWhere();

    // Planning and execution. The FROM-collection plans (RunRows, RunExactRanking) hand each
    // row to Accept as they read it; the vector and MATCH plans return their (bounded) rows,
    // which Run then hands to Accept.
    Result<PlanNode> PlanAndRun(std::vector<Row>* rows);
    Result<PlanNode> RunVector(std::vector<Row>* rows);
    Result<PlanNode> RunExactRanking();
    Result<PlanNode> RunRows(std::size_t want);
    Result<PlanNode> RunMatch(std::vector<Row>* rows);
    Result<PlanNode> FilterPlanNode(double* estimated, bool* indexed = nullptr) const;
    Status FetchMatching(const BoundWhere& where, std::size_t want, PlanNode* node);
    Status CheckInterrupted() const;

    // Evaluation.
    Result<QueryValue> Eval(const Expr& expr, const Row& row) const;
    Result<QueryValue> EvalPath(const Expr& expr, const Row& row) const;
    Result<QueryValue> EvalDistance(const DistanceExpr& distance, const Row& row) const;

    // Output: each row is projected as it arrives and kept in arrival order (the input is
    // already in ORDER BY order, or there is none), in a top-k heap (ORDER BY ... LIMIT), or in
    // full for a sort; aggregates fold rows into their groups. Everything kept is charged to
    // the session's memory limit.
    struct Projected {
        std::vector<QueryValue> values;
        std::vector<QueryValue> keys;  // ORDER BY keys
        std::uint64_t seq = 0;         // arrival order: ties keep it (a stable sort)
        std::size_t bytes = 0;
    };
    struct Accumulator {
        std::uint64_t count = 0;
        double sum = 0;
        bool all_int = true;
        WideInt int_sum = 0;
        std::optional<QueryValue> best;
    };
    struct Group {
        std::vector<QueryValue> keys;
        std::vector<Accumulator> accumulators;
    };
    // Takes one row; *done: no more rows are needed (LIMIT reached on ordered input).
    Status Accept(Row row, bool* done);
    Status Accumulate(const Row& row);
    [[nodiscard]] bool Better(const Projected& a, const Projected& b) const;
    Status Charge(std::size_t bytes);
    // The ordering step above the plan's root (TopK or Sort), when the rows need one.
    [[nodiscard]] std::optional<PlanNode> OrderNode() const;
    Result<QueryResult> Finish(PlanNode* root);
    Result<QueryResult> FinishAggregates();
    // LIMIT + OFFSET (saturating): how many rows the plan must produce in order.
    [[nodiscard]] std::size_t Wanted() const {
        if (!limit_) {
            return SIZE_MAX;
        }
        const std::size_t offset = offset_.value_or(0);
        return *limit_ > SIZE_MAX - offset ? SIZE_MAX : *limit_ + offset;
    }

    // Visits every node of the select list, ORDER BY and GROUP BY, depth first; `visit`
    // returns false to skip a node's children.
    template <typename Visit>
    void VisitExprs(Visit&& visit) const;
    // What the rows must carry of the node `variable` ("" in FROM collection): its metadata,
    // its vector (selected, or a distance other than the ORDER BY one).
    struct NodeNeeds {
        bool metadata = false;
        bool vector = false;
        bool edges = false;
    };
    [[nodiscard]] NodeNeeds Needs(const std::string& variable, bool engine_orders) const;

    ExecContext& ctx_;
    const SelectStmt& stmt_;
    ExplainMode mode_;
    Reader reader_;
    // The statement's snapshot outside a transaction (AS OF's, or now's): every read of the
    // statement goes through it, so all see the same data.
    std::unique_ptr<Transaction> snapshot_txn_;

    CollectionInfo info_;  // FROM collection, or the MATCH start's collection
    CollectionRef ref_;
    bool is_match_ = false;
    // MATCH.
    std::string start_var_, end_var_, edge_var_;
    std::string end_collection_;
    std::string start_id_;
    std::string start_filter_;  // conditions on the start node
    phenix::EdgeDirection direction_ = phenix::EdgeDirection::kOut;
    std::uint32_t min_hops_ = 1, max_hops_ = 1;
    bool single_edge_ = true;
    bool reversed_ = false;  // the start id is on the pattern's second node
    bool needs_start_ = false;  // a selected or ordering expression reads the start node
    EdgeMatch edge_match_;
    bool needs_paths_ = false;

    BoundWhere where_;  // the FROM collection's, or the MATCH end node's
    std::vector<Item> items_;
    // Items after the first num_visible_items_ are hidden: aggregates and keys that only HAVING
    // uses, computed with the groups and dropped from the result.
    std::size_t num_visible_items_ = 0;
    bool is_aggregate_ = false;
    std::optional<DistanceExpr> order_distance_;  // ORDER BY distance (first key)
    bool order_descending_ = false;
    std::vector<std::pair<int, const OrderItem*>> order_keys_;  // item index or -1 (expr)
    std::optional<std::size_t> limit_;
    std::optional<std::size_t> offset_;
    bool order_by_id_ = false;    // FROM collection ORDER BY id (ascending), the scan's order
    bool input_ordered_ = false;  // rows reach Accept in ORDER BY order
    bool rank_exact_ = false;     // ExactRank: rows without a vector do not rank
    bool engine_ranked_ = false;  // the vector index returns the rows nearest first
    std::optional<std::size_t> ef_;
    std::optional<SearchStrategy> forced_strategy_;
    std::optional<GraphPlan> forced_graph_plan_;
    std::vector<GraphPath> paths_;          // MATCH with an edge variable: rows point here
    std::optional<std::uint64_t> count_;    // count(*) answered by the filter alone

    // Output state.
    std::vector<Projected> out_;  // in arrival order, or a heap (worst on top) for top-k
    bool out_is_heap_ = false;
    std::unordered_set<std::string> distinct_seen_;
    std::map<std::string, Group> groups_;  // by the keys' normalised JSON text
    std::uint64_t next_seq_ = 0;
    std::uint64_t rows_in_ = 0;
    std::size_t bytes_ = 0;
    double accept_millis_ = 0;  // EXPLAIN ANALYZE: time spent in Accept
};

// ---- binding --------------------------------------------------------------------------------

Status SelectRunner::BindSource() {
    if (stmt_.as_of) {
        if (ctx_.txn != nullptr) {
            return ErrorAt(stmt_.as_of->pos,
                           "AS OF cannot be used inside a transaction (it reads its own snapshot)");
        }
        PHENIX_ASSIGN_OR_RETURN(QueryValue ts, EvalConstant(*stmt_.as_of, ctx_.params));
        if (ts.type != QueryValue::Type::kInt || ts.int_value < 0) {
            return ErrorAt(stmt_.as_of->pos, "AS OF needs a commit timestamp (a non-negative "
                                             "integer, e.g. what COMMIT printed)");
        }
        TransactionOptions options;
        options.read_only = true;
        options.as_of = static_cast<Timestamp>(ts.int_value);
        Result<std::unique_ptr<Transaction>> txn = ctx_.db.BeginTransaction(options);
        if (!txn.ok()) {
            return AtPos(stmt_.as_of->pos, txn.status());
        }
        snapshot_txn_ = std::move(*txn);
        reader_.txn = snapshot_txn_.get();
    } else if (reader_.txn == nullptr) {
        TransactionOptions options;
        options.read_only = true;
        PHENIX_ASSIGN_OR_RETURN(snapshot_txn_, ctx_.db.BeginTransaction(options));
        reader_.txn = snapshot_txn_.get();
    }
    if (!stmt_.match) {
        PHENIX_ASSIGN_OR_RETURN(info_, ResolveCollection(ctx_, stmt_.collection, stmt_.name_pos));
        ref_ = ctx_.Ref(stmt_.collection);
        return Status::Ok();
    }
    is_match_ = true;
    const MatchPattern& match = *stmt_.match;
    if (match.nodes.size() != 2) {
        return ErrorAt(match.pos, "MATCH takes one edge pattern, (a)-[...]->(b); longer chains "
                                  "are not supported yet");
    }
    const NodePattern& first = match.nodes[0];
    const NodePattern& second = match.nodes[1];
    const EdgePattern& edge = match.edges[0];
    start_var_ = first.variable;
    end_var_ = second.variable;
    edge_var_ = edge.variable;
    if (start_var_.empty() || end_var_.empty()) {
        return ErrorAt(start_var_.empty() ? first.pos : second.pos,
                       "name both nodes of the pattern, e.g. (a:docs)-[:rel]->(b:docs)");
    }
    if (start_var_ == end_var_ || (!edge_var_.empty() && (edge_var_ == start_var_ ||
                                                          edge_var_ == end_var_))) {
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
    direction_ = edge.direction == query::EdgeDirection::kOut  ? phenix::EdgeDirection::kOut
                 : edge.direction == query::EdgeDirection::kIn ? phenix::EdgeDirection::kIn
                                                               : phenix::EdgeDirection::kBoth;
    min_hops_ = edge.min_hops;
    max_hops_ = edge.max_hops.value_or(std::min<std::uint32_t>(limits::kMaxTraversalDepth, 16));
    if (max_hops_ > limits::kMaxTraversalDepth) {
        return ErrorAt(edge.pos, "at most " + std::to_string(limits::kMaxTraversalDepth) +
                                     " hops can be followed");
    }
    single_edge_ = min_hops_ == 1 && max_hops_ == 1;
    if (!edge.label.empty()) {
        edge_match_.labels.push_back(edge.label);
    }
    PHENIX_RETURN_IF_ERROR(BindMatchWhere());
    // The walk starts at the node with the start id (the second one when walked backwards); a
    // node without a collection is in the other node's.
    const NodePattern& start_node = reversed_ ? second : first;
    const NodePattern& end_node = reversed_ ? first : second;
    const std::string start_collection =
        start_node.collection.empty() ? end_node.collection : start_node.collection;
    end_collection_ = end_node.collection.empty() ? start_collection : end_node.collection;
    PHENIX_ASSIGN_OR_RETURN(info_, ResolveCollection(ctx_, start_collection, start_node.pos));
    ref_ = ctx_.Ref(start_collection);
    return Status::Ok();
}

// Splits the WHERE of a MATCH (and the edge's own WHERE) by pattern variable.
Status SelectRunner::BindMatchWhere() {
    const EdgePattern& edge = stmt_.match->edges[0];
    const std::vector<std::string> variables = {start_var_, end_var_, edge_var_};
    std::vector<const Expr*> start_terms;
    std::vector<const Expr*> end_terms;
    std::vector<const Expr*> edge_terms;
    if (edge.where) {
        for (const Expr* term : SplitConjuncts(*edge.where)) {
            if (edge_var_.empty() || ExprVariable(*term, variables) != edge_var_) {
                return ErrorAt(term->pos, edge_var_.empty()
                                              ? "name the edge to filter it, e.g. -[e:rel WHERE "
                                                "e.weight > 0.5]->"
                                              : "an edge condition may only use the edge's fields (" +
                                                    edge_var_ + ".weight, " + edge_var_ +
                                                    ".label, " + edge_var_ + ".properties.<path>)");
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
                                   start_var_ + ", " + end_var_ +
                                   (edge_var_.empty() ? "" : ", " + edge_var_) + "), e.g. " +
                                   start_var_ + ".id = '...'");
            }
            if (variable == start_var_) {
                start_terms.push_back(term);
            } else if (variable == end_var_) {
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
                start_id_ = id.text;
                terms.erase(it);
                return true;
            }
        }
        return false;
    };
    PHENIX_ASSIGN_OR_RETURN(bool found, find_start(start_terms, start_var_));
    if (!found) {
        PHENIX_ASSIGN_OR_RETURN(found, find_start(end_terms, end_var_));
        if (!found) {
            return ErrorAt(stmt_.where ? stmt_.where->pos : stmt_.match->pos,
                           "a MATCH query needs its start: add WHERE " + start_var_ +
                               ".id = '...' (or " + end_var_ + ".id = '...')");
        }
        // Walk from the second node back to the first: swap the roles.
        std::swap(start_var_, end_var_);
        std::swap(start_terms, end_terms);
        direction_ = direction_ == phenix::EdgeDirection::kOut  ? phenix::EdgeDirection::kIn
                     : direction_ == phenix::EdgeDirection::kIn ? phenix::EdgeDirection::kOut
                                                                : direction_;
        reversed_ = true;
    }
    // Conditions on the start node are checked on it; those on the far node filter what the
    // pattern reaches.
    if (!start_terms.empty()) {
        const Expr conjunction = Conjunction(start_terms);
        PHENIX_ASSIGN_OR_RETURN(start_filter_,
                                BindFilter(conjunction, ctx_.params, start_var_, "metadata"));
    }
    if (!end_terms.empty()) {
        const Expr conjunction = Conjunction(end_terms);
        PHENIX_ASSIGN_OR_RETURN(where_, BindWhere(&conjunction, ctx_.params, end_var_));
    }
    // Edge conditions: weight ranges, labels, properties.
    json property_filters = json::array();
    for (const Expr* term : edge_terms) {
        if (term->kind == ExprKind::kBinary && term->children.size() == 2 &&
            term->children[0].kind == ExprKind::kPath && term->children[0].path.size() == 2 &&
            IsConstant(term->children[1])) {
            const std::string& field = term->children[0].path[1];
            PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(term->children[1], ctx_.params));
            if (field == "weight") {
                if (value.type != QueryValue::Type::kInt && value.type != QueryValue::Type::kFloat) {
                    return ErrorAt(term->children[1].pos, "edge weights are numbers");
                }
                const double w = AsDouble(value);
                const double inf = std::numeric_limits<double>::infinity();
                auto raise_min = [&](double v) {
                    edge_match_.min_weight = std::max(edge_match_.min_weight.value_or(-inf), v);
                };
                auto lower_max = [&](double v) {
                    edge_match_.max_weight = std::min(edge_match_.max_weight.value_or(inf), v);
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
                if (!edge_match_.labels.empty() &&
                    std::find(edge_match_.labels.begin(), edge_match_.labels.end(), value.text) ==
                        edge_match_.labels.end()) {
                    edge_match_.labels = {"\x01no label matches"};
                } else {
                    edge_match_.labels = {value.text};
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
                                        EvalConstant(term->children[idx], ctx_.params));
                if (value.type != QueryValue::Type::kString) {
                    return ErrorAt(term->children[idx].pos, "edge labels are strings");
                }
                if (edge_match_.labels.empty() ||
                    std::find(edge_match_.labels.begin(), edge_match_.labels.end(), value.text) !=
                        edge_match_.labels.end()) {
                    labels.push_back(value.text);
                }
            }
            edge_match_.labels = labels.empty() ? std::vector<std::string>{"\x01no label matches"}
                                                : labels;
            continue;
        }
        PHENIX_ASSIGN_OR_RETURN(std::string filter,
                                BindFilter(*term, ctx_.params, edge_var_, "properties"));
        property_filters.push_back(json::parse(filter));
    }
    if (property_filters.size() == 1) {
        edge_match_.properties_filter = property_filters[0].dump();
    } else if (property_filters.size() > 1) {
        edge_match_.properties_filter = json{{"$and", std::move(property_filters)}}.dump();
    }
    return Status::Ok();
}

Status SelectRunner::CheckPath(const Expr& expr) const {
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
    if (is_match_) {
        std::vector<std::string> variables = {start_var_, end_var_};
        if (!edge_var_.empty()) {
            variables.push_back(edge_var_);
        }
        if (std::find(variables.begin(), variables.end(), path[0]) == variables.end()) {
            return unknown(variables, "qualify fields with a pattern variable, e.g. " + end_var_ +
                                          ".id");
        }
        if (path[0] == edge_var_) {
            if (path.size() == 1) {
                return Status::Ok();
            }
            static const std::vector<std::string> kEdgeFields = {"label", "weight", "source",
                                                                 "target", "properties"};
            if (!single_edge_) {
                return ErrorAt(expr.pos, "'" + edge_var_ +
                                             "' stands for several edges here (a variable-length "
                                             "pattern): select " +
                                             edge_var_ + " itself to get them as a list");
            }
            if (std::find(kEdgeFields.begin(), kEdgeFields.end(), path[1]) == kEdgeFields.end()) {
                std::string message = "unknown edge field " + ToString(expr);
                if (auto suggestion = ClosestName(path[1], kEdgeFields)) {
                    message += "; did you mean " + edge_var_ + "." + *suggestion + "?";
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

Result<std::optional<DistanceExpr>> SelectRunner::AsDistance(const Expr& expr) const {
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
    const bool is_vector_path =
        vector_side->kind == ExprKind::kPath &&
        ((!is_match_ && vector_side->path == std::vector<std::string>{"vector"}) ||
         (is_match_ && vector_side->path.size() == 2 && vector_side->path[1] == "vector" &&
          (vector_side->path[0] == start_var_ || vector_side->path[0] == end_var_)));
    if (!is_vector_path) {
        return ErrorAt(vector_side->pos, std::string("a distance is between the vector column and a "
                                                     "vector value, e.g. ") +
                                             (is_match_ ? end_var_ + ".vector" : "vector") +
                                             " <-> [0.1, 0.2]");
    }
    if (is_match_) {
        distance.variable = vector_side->path[0];
    }
    PHENIX_ASSIGN_OR_RETURN(distance.query,
                            ConstantAsVector(*query_side, ctx_.params, "the query vector"));
    if (!info_.spec.dimension) {
        return ErrorAt(expr.pos, "collection '" + info_.spec.ref.name + "' has no vectors");
    }
    if (distance.query.size() != *info_.spec.dimension) {
        return ErrorAt(query_side->pos, "the query vector has " +
                                            std::to_string(distance.query.size()) +
                                            " dimensions; collection '" + info_.spec.ref.name +
                                            "' has " + std::to_string(*info_.spec.dimension));
    }
    for (const float value : distance.query) {
        if (!std::isfinite(value)) {
            return ErrorAt(query_side->pos, "the query vector holds a NaN or infinite value");
        }
    }
    return std::optional<DistanceExpr>(std::move(distance));
}

Status SelectRunner::CheckExpr(const Expr& expr, bool allow_aggregate, bool allow_alias) const {
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
                for (const Item& item : items_) {
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
                    return ErrorAt(expr.pos, expr.text + "() is an aggregate: use it in the select "
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
                static const std::vector<std::string> kFunctions = {"count", "min", "max", "avg",
                                                                    "sum", "distance"};
                std::string message = "unknown function " + expr.text + "()";
                if (auto suggestion = ClosestName(expr.text, kFunctions)) {
                    message += "; did you mean " + *suggestion + "()?";
                }
                return ErrorAt(expr.pos, message);
            }
            return ErrorAt(expr.pos, "only fields, distances, constants and aggregates can be "
                                     "selected, not " +
                                         ToString(expr));
        }
        default:
            return ErrorAt(expr.pos, "only fields, distances, constants and aggregates can be "
                                     "selected, not " +
                                         ToString(expr));
    }
}

Status SelectRunner::BindItems() {
    for (const SelectItem& item : stmt_.items) {
        if (item.expr.kind == ExprKind::kStar) {
            if (is_match_) {
                for (const std::string& variable : {start_var_, end_var_}) {
                    Expr path;
                    path.kind = ExprKind::kPath;
                    path.pos = item.expr.pos;
                    path.path = {variable, "id"};
                    items_.push_back({path, variable + ".id", false});
                }
                continue;
            }
            for (const char* field : {"id", "vector", "metadata", "edges"}) {
                if (std::string_view(field) == "vector" && !info_.spec.dimension) {
                    continue;
                }
                Expr path;
                path.kind = ExprKind::kPath;
                path.pos = item.expr.pos;
                path.path = {field};
                items_.push_back({path, field, false});
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
        is_aggregate_ = is_aggregate_ || bound.is_aggregate;
        if (bound.is_aggregate && !AggregateOf(item.expr)) {  // sum(x) * 2
            bound.is_aggregate = false;
            bound.is_computed = true;
        }
        items_.push_back(std::move(bound));
    }
    num_visible_items_ = items_.size();
    if (!stmt_.group_by.empty() || is_aggregate_ || stmt_.having) {
        is_aggregate_ = true;
        for (const Expr& key : stmt_.group_by) {
            if (key.kind != ExprKind::kPath) {
                return ErrorAt(key.pos, "GROUP BY takes fields, e.g. GROUP BY metadata.category");
            }
            PHENIX_RETURN_IF_ERROR(CheckPath(key));
        }
        for (std::size_t idx = 0; idx < num_visible_items_; ++idx) {
            const Item& item = items_[idx];
            if (item.is_aggregate) {
                continue;
            }
            if (item.is_computed || (IsArithmetic(item.expr) && !IsConstant(item.expr))) {
                // Arithmetic over aggregates, keys and constants: its operands become hidden
                // columns (as HAVING's do), and it is computed from them per group.
                items_[idx].is_computed = true;
                const Expr expr = item.expr;  // BindHavingValue appends to items_
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
            const bool grouped = std::any_of(
                stmt_.group_by.begin(), stmt_.group_by.end(),
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

std::optional<std::size_t> SelectRunner::OutputColumn(const Expr& expr) const {
    const std::string text = ToString(expr);
    for (std::size_t idx = 0; idx < items_.size(); ++idx) {
        const bool by_alias = idx < num_visible_items_ && expr.kind == ExprKind::kPath &&
                              expr.path.size() == 1 && expr.path[0] == items_[idx].name;
        if (by_alias || ToString(items_[idx].expr) == text) {
            return idx;
        }
    }
    return std::nullopt;
}

// HAVING's conditions: AND / OR / NOT of comparisons, IN and IS NULL whose operands are
// aggregates, GROUP BY keys, selected columns (or aliases) and constants.
Status SelectRunner::BindHaving(const Expr& expr) {
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

Status SelectRunner::BindHavingValue(const Expr& expr) {
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
        items_.push_back({expr, "", true});
        return Status::Ok();
    }
    const bool is_key =
        std::any_of(stmt_.group_by.begin(), stmt_.group_by.end(),
                    [&](const Expr& key) { return ToString(key) == ToString(expr); });
    if (is_key) {
        items_.push_back({expr, "", false});
        return Status::Ok();
    }
    return ErrorAt(expr.pos,
                   "HAVING can use aggregates such as count(*), GROUP BY keys, selected "
                   "columns and constants, not " +
                       ToString(expr));
}

Result<QueryValue> SelectRunner::EvalOutput(const Expr& expr,
                                            const std::vector<QueryValue>& row) const {
    if (IsConstant(expr)) {
        return EvalConstant(expr, ctx_.params);
    }
    if (std::optional<std::size_t> column = OutputColumn(expr)) {
        return row[*column];
    }
    if (IsArithmetic(expr)) {
        return EvalValue(expr, [&](const Expr& leaf) { return EvalOutput(leaf, row); });
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
            PHENIX_ASSIGN_OR_RETURN(QueryValue operand, EvalOutput(expr.children[0], row));
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
                    PHENIX_ASSIGN_OR_RETURN(QueryValue term, EvalOutput(child, row));
                    const std::optional<bool> value = truth(term);
                    is_decided = is_decided || (value && *value != is_and);
                    is_unknown = is_unknown || !value;
                }
                if (is_decided) {
                    return QueryValue::Bool(!is_and);
                }
                return is_unknown ? QueryValue::Null() : QueryValue::Bool(is_and);
            }
            PHENIX_ASSIGN_OR_RETURN(QueryValue left, EvalOutput(expr.children[0], row));
            PHENIX_ASSIGN_OR_RETURN(QueryValue right, EvalOutput(expr.children[1], row));
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
            PHENIX_ASSIGN_OR_RETURN(QueryValue left, EvalOutput(expr.children[0], row));
            std::optional<bool> found = false;
            for (std::size_t idx = 1; idx < expr.children.size() && found != true; ++idx) {
                PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalOutput(expr.children[idx], row));
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
            PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalOutput(expr.children[0], row));
            return QueryValue::Bool((value.type == QueryValue::Type::kNull) != expr.is_negated);
        }
        default:
            break;
    }
    return ErrorAt(expr.pos, "cannot evaluate " + ToString(expr) + " in HAVING");
}

Status SelectRunner::BindOrder() {
    for (std::size_t idx = 0; idx < stmt_.order_by.size(); ++idx) {
        const OrderItem& order = stmt_.order_by[idx];
        int item_index = -1;
        for (std::size_t item_idx = 0; item_idx < items_.size(); ++item_idx) {
            const Item& item = items_[item_idx];
            const bool by_alias = order.expr.kind == ExprKind::kPath && order.expr.path.size() == 1 &&
                                  order.expr.path[0] == item.name && !stmt_.items.empty();
            if (by_alias || ToString(order.expr) == ToString(item.expr)) {
                item_index = static_cast<int>(item_idx);
                break;
            }
        }
        const Expr& key = item_index >= 0 ? items_[static_cast<std::size_t>(item_index)].expr
                                          : order.expr;
        if (is_aggregate_ && item_index < 0) {
            return ErrorAt(order.expr.pos, "in a query with aggregates, ORDER BY names a selected "
                                           "column or its alias");
        }
        if (item_index < 0) {
            PHENIX_RETURN_IF_ERROR(CheckExpr(order.expr, false, true));
        }
        if (idx == 0 && !is_aggregate_) {
            PHENIX_ASSIGN_OR_RETURN(auto distance, AsDistance(key));
            if (distance) {
                order_distance_ = std::move(distance);
                order_descending_ = order.is_descending;
            }
        }
        order_keys_.emplace_back(item_index, &order);
    }
    // ORDER BY id (ascending) is the order ids are stored in: a scan delivers it.
    order_by_id_ =
        !is_match_ && !is_aggregate_ && order_keys_.size() == 1 &&
        !stmt_.order_by[0].is_descending && [&] {
            const int idx = order_keys_[0].first;
            const Expr& key =
                idx >= 0 ? items_[static_cast<std::size_t>(idx)].expr : stmt_.order_by[0].expr;
            return key.kind == ExprKind::kPath && key.path.size() == 1 && key.path[0] == "id";
        }();
    return Status::Ok();
}

Status SelectRunner::BindOptions() {
    if (stmt_.limit) {
        PHENIX_ASSIGN_OR_RETURN(QueryValue limit, EvalConstant(*stmt_.limit, ctx_.params));
        if (limit.type != QueryValue::Type::kInt || limit.int_value < 0) {
            return ErrorAt(stmt_.limit->pos, "LIMIT takes a non-negative integer");
        }
        limit_ = static_cast<std::size_t>(limit.int_value);
    }
    if (stmt_.offset) {
        PHENIX_ASSIGN_OR_RETURN(QueryValue offset, EvalConstant(*stmt_.offset, ctx_.params));
        if (offset.type != QueryValue::Type::kInt || offset.int_value < 0) {
            return ErrorAt(stmt_.offset->pos, "OFFSET takes a non-negative integer");
        }
        offset_ = static_cast<std::size_t>(offset.int_value);
    }
    for (const OptionItem& option : stmt_.options) {
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(option.value, ctx_.params));
        if (option.name == "ef") {
            if (value.type != QueryValue::Type::kInt || value.int_value < 1 ||
                value.int_value > 10000) {
                return ErrorAt(option.value.pos, "ef must be an integer from 1 to 10000");
            }
            ef_ = static_cast<std::size_t>(value.int_value);
        } else if (option.name == "strategy") {
            if (value.type != QueryValue::Type::kString) {
                return ErrorAt(option.value.pos,
                               "strategy is 'auto', 'exact_scan', 'in_graph' or 'post_filter'");
            }
            if (value.text == "auto") {
                forced_strategy_.reset();
            } else if (value.text == "exact_scan") {
                forced_strategy_ = SearchStrategy::kExactScan;
            } else if (value.text == "in_graph") {
                forced_strategy_ = SearchStrategy::kInGraph;
            } else if (value.text == "post_filter") {
                forced_strategy_ = SearchStrategy::kPostFilter;
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
                forced_graph_plan_.reset();
            } else {
                forced_graph_plan_ =
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

// ---- evaluation -----------------------------------------------------------------------------

Result<QueryValue> SelectRunner::EvalDistance(const DistanceExpr& distance, const Row& row) const {
    const Entity* entity = &row.entity;
    if (is_match_ && distance.variable == start_var_) {
        entity = &*row.start;
    }
    const Metric metric = OpMetric(distance.op, info_.spec.metric);
    if (entity->vector.empty() && entity == &row.entity && row.engine_distance && order_distance_ &&
        metric == info_.spec.metric && order_distance_->query == distance.query &&
        order_distance_->variable == distance.variable) {
        return QueryValue::Float(ReportedDistance(metric, distance.op, *row.engine_distance));
    }
    const std::optional<double> exact = ExactDistance(metric, entity->vector, distance.query);
    if (!exact) {
        return QueryValue::Null();
    }
    return QueryValue::Float(ReportedDistance(metric, distance.op, *exact));
}

Result<QueryValue> SelectRunner::EvalPath(const Expr& expr, const Row& row) const {
    const std::vector<std::string>& path = expr.path;
    std::size_t start = 0;
    const Entity* entity = &row.entity;
    bool of_start = false;
    if (is_match_) {
        if (path[0] == edge_var_) {
            if (row.path == nullptr || row.path->edges.empty()) {
                return QueryValue::Null();
            }
            if (!single_edge_) {
                std::string edges = "[";
                for (const EdgeRecord& edge : row.path->edges) {
                    edges += (edges.size() > 1 ? "," : "") + EdgeRecordToJson(edge);
                }
                return QueryValue::Json(edges + "]");
            }
            const EdgeRecord& edge = row.path->edges[0];
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
            json properties = json::parse(edge.properties.empty() ? "{}" : edge.properties,
                                          nullptr, false);
            if (properties.is_discarded()) {
                return QueryValue::Null();
            }
            return Extract(properties, path, 2);
        }
        if (path[0] == start_var_) {
            entity = &*row.start;
            of_start = true;
        }
        start = 1;
    }
    const std::string& field = path[start];
    if (field == "id") {
        return QueryValue::String(entity->id);
    }
    if (field == "vector") {
        if (entity->vector.empty()) {
            return QueryValue::Null();
        }
        return QueryValue::Vector(entity->vector);
    }
    if (field == "edges") {
        return QueryValue::Json(EntityEdgesJson(*entity).dump());
    }
    // metadata
    if (path.size() == start + 1) {
        return QueryValue::Json(entity->metadata.empty() ? "{}" : entity->metadata);
    }
    return Extract(row.Metadata(of_start), path, start + 1);
}

Result<QueryValue> SelectRunner::Eval(const Expr& expr, const Row& row) const {
    if (IsConstant(expr)) {
        return EvalConstant(expr, ctx_.params);
    }
    if (expr.kind == ExprKind::kPath) {
        return EvalPath(expr, row);
    }
    if (IsArithmetic(expr)) {
        return EvalValue(expr, [&](const Expr& leaf) { return Eval(leaf, row); });
    }
    PHENIX_ASSIGN_OR_RETURN(auto distance, AsDistance(expr));
    if (distance) {
        return EvalDistance(*distance, row);
    }
    return ErrorAt(expr.pos, "cannot evaluate " + ToString(expr) + " per row");
}

// ---- planning and execution -----------------------------------------------------------------

template <typename Visit>
void SelectRunner::VisitExprs(Visit&& visit) const {
    std::vector<const Expr*> stack;
    for (const Item& item : items_) {
        stack.push_back(&item.expr);
    }
    for (const OrderItem& order : stmt_.order_by) {
        stack.push_back(&order.expr);
    }
    for (const Expr& key : stmt_.group_by) {
        stack.push_back(&key);
    }
    if (where_.residual) {
        stack.push_back(&*where_.residual);
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

SelectRunner::NodeNeeds SelectRunner::Needs(const std::string& variable,
                                            bool engine_orders) const {
    NodeNeeds needs;
    // The ORDER BY distance comes with each hit when the index ranks; otherwise it is computed
    // from the vectors.
    auto from_engine = [&](const DistanceExpr& distance) {
        return engine_orders && order_distance_ && distance.variable == order_distance_->variable &&
               distance.op == order_distance_->op && distance.query == order_distance_->query;
    };
    VisitExprs([&](const Expr& node) {
        if (node.kind == ExprKind::kBinary || node.kind == ExprKind::kCall) {
            Result<std::optional<DistanceExpr>> distance = AsDistance(node);
            if (distance.ok() && distance->has_value()) {
                if ((*distance)->variable == variable && !from_engine(**distance)) {
                    needs.vector = true;
                }
                return false;
            }
        }
        if (node.kind == ExprKind::kPath) {
            const std::size_t field_idx = is_match_ ? 1 : 0;
            if ((is_match_ && node.path[0] != variable) || node.path.size() <= field_idx) {
                return true;
            }
            const std::string& field = node.path[field_idx];
            needs.metadata = needs.metadata || field == "metadata";
            needs.vector = needs.vector || field == "vector";
            needs.edges = needs.edges || field == "edges";
        }
        return true;
    });
    return needs;
}

Result<PlanNode> SelectRunner::FilterPlanNode(double* estimated, bool* indexed) const {
    PlanNode node;
    node.label = "Filter " + info_.spec.ref.name;
    if (!where_.filter_json.empty()) {
        node.details.push_back("filter: " + where_.filter_json);
    }
    double rows = static_cast<double>(info_.num_entities);
    bool from_index = true;  // ids and no filter: the estimate is exact
    if (where_.ids) {
        node.details.push_back("ids: " + std::to_string(where_.ids->size()));
        rows = std::min(rows, static_cast<double>(where_.ids->size()));
    }
    if (where_.residual) {
        node.details.push_back("per row: " + ToString(*where_.residual));
    }
    if (!where_.id_prefix.empty()) {
        node.details.push_back("ids starting with " +
                               QueryValue::String(where_.id_prefix).ToJson());
    }
    if (!where_.filter_json.empty()) {
        FindOptions options;
        options.filter = where_.filter_json;
        options.estimate_only = true;
        PHENIX_ASSIGN_OR_RETURN(FindResponse estimate, reader_.Find(ref_, options));
        rows = std::min(rows, estimate.plan.estimated_rows);
        from_index = estimate.plan.uses_index;
    }
    node.estimated_rows = rows;
    *estimated = rows;
    if (indexed != nullptr) {
        *indexed = from_index;
    }
    return node;
}

Status SelectRunner::CheckInterrupted() const {
    if (ctx_.Interrupted()) {
        return Status(StatusCode::kCancelled, "statement cancelled");
    }
    return Status::Ok();
}

// Hands the entities matching `where` to Accept, with the data the query reads, until it has
// enough (`want` is a hint for the engine: at most that many are needed). With ORDER BY id
// they come in id order.
Status SelectRunner::FetchMatching(const BoundWhere& where, std::size_t want, PlanNode* node) {
    const NodeNeeds needs = Needs("", /*engine_orders=*/false);
    const bool need_data = needs.metadata || needs.vector || needs.edges;
    std::optional<document::Filter> filter;
    if (!where.filter_json.empty()) {
        PHENIX_ASSIGN_OR_RETURN(filter, document::ParseFilter(where.filter_json));
    }
    bool done = want == 0;
    std::uint64_t seen = 0;
    auto keep = [&](Entity entity) -> Status {
        if ((++seen & 1023) == 0) {
            PHENIX_RETURN_IF_ERROR(CheckInterrupted());
        }
        if (filter) {
            PHENIX_ASSIGN_OR_RETURN(bool matches, document::Matches(*filter, entity.metadata));
            if (!matches) {
                return Status::Ok();
            }
        }
        Row row;
        row.entity = std::move(entity);
        return Accept(std::move(row), &done);
    };
    if (where.ids) {
        node->label = "IdLookup " + info_.spec.ref.name;
        std::vector<std::string> ids = *where.ids;
        if (order_by_id_) {
            std::sort(ids.begin(), ids.end());
        }
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        for (const std::string& id : ids) {
            if (done) {
                break;
            }
            Result<Entity> entity = reader_.Get(ref_, id);
            if (!entity.ok()) {
                if (entity.status().code() == StatusCode::kNotFound) {
                    continue;
                }
                return entity.status();
            }
            PHENIX_RETURN_IF_ERROR(keep(std::move(*entity)));
        }
        return Status::Ok();
    }
    if (filter && where.id_prefix.empty()) {
        // The filter's rows from the indexes (or a scan), then the entities.
        // Rows that need no more than id and metadata come with the filter's own reads.
        const bool metadata_only = !needs.vector && !needs.edges;
        FindOptions options;
        options.filter = where.filter_json;
        // ORDER BY id takes the smallest ids, so it needs all of them (or the id-ordered scan).
        // So does a per-row WHERE term: the filter cannot know how many of its rows it keeps.
        options.limit = order_by_id_ || where.residual ? limits::kMaxFindLimit
                                                       : std::min(want, limits::kMaxFindLimit);
        options.include_metadata = need_data && metadata_only;
        if (options.limit == 0) {
            options.count_only = true;
        }
        PHENIX_ASSIGN_OR_RETURN(FindResponse found, reader_.Find(ref_, options));
        for (const std::string& step : found.plan.steps) {
            node->details.push_back(step);
        }
        if (found.count <= options.limit || (!where.residual && found.ids.size() >= want)) {
            node->label =
                (found.plan.uses_index ? "IndexFilter " : "FilteredScan ") + info_.spec.ref.name;
            std::vector<std::size_t> order(found.ids.size());
            for (std::size_t idx = 0; idx < order.size(); ++idx) {
                order[idx] = idx;
            }
            if (order_by_id_) {
                std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
                    return found.ids[a] < found.ids[b];
                });
            }
            PHENIX_SYNC_POINT("SelectRunner::FetchMatching:AfterFind");
            for (std::size_t idx : order) {
                if (done) {
                    break;
                }
                if ((++seen & 1023) == 0) {
                    PHENIX_RETURN_IF_ERROR(CheckInterrupted());
                }
                const std::string& id = found.ids[idx];
                Row row;
                if (!need_data || options.include_metadata) {
                    row.entity.id = id;
                    if (options.include_metadata) {
                        row.entity.metadata = std::move(found.metadata[idx]);
                    }
                } else {
                    // Same snapshot as the filter's: the entity exists and still matches.
                    PHENIX_ASSIGN_OR_RETURN(row.entity, reader_.Get(ref_, id));
                }
                PHENIX_RETURN_IF_ERROR(Accept(std::move(row), &done));
            }
            return Status::Ok();
        }
        node->details.push_back("more than " + std::to_string(limits::kMaxFindLimit) +
                                " rows match: scanning with the filter");
    }
    node->label = filter ? "FilteredScan " + info_.spec.ref.name : "Scan " + info_.spec.ref.name;
    ScanOptions options;
    // Small pages while few rows are wanted (ORDER BY id LIMIT 10 reads ~10 records).
    options.limit = std::clamp<std::size_t>(want, 64, limits::kMaxScanLimit);
    options.include_edges = needs.edges;
    const std::string& prefix = where.id_prefix;
    if (!prefix.empty()) {
        // id LIKE 'abc%': the ids from "abc" up to the last one that starts with it. Start
        // after a string that sorts just below the prefix: its last byte one less, then 0xff.
        node->label = "IdRangeScan " + info_.spec.ref.name;
        const auto last = static_cast<unsigned char>(prefix.back());
        options.start_after = prefix.substr(0, prefix.size() - 1);
        if (last > 0) {
            options.start_after += static_cast<char>(last - 1);
            options.start_after += '\xff';
        }
    }
    std::uint64_t scanned = 0;
    while (!done) {
        PHENIX_RETURN_IF_ERROR(CheckInterrupted());
        PHENIX_ASSIGN_OR_RETURN(ScanPage page, reader_.Scan(ref_, options));
        scanned += page.entities.size();
        for (Entity& entity : page.entities) {
            if (!prefix.empty() && !entity.id.starts_with(prefix) && entity.id > prefix) {
                done = true;  // past the range: every later id is larger
            }
            if (done) {
                break;
            }
            PHENIX_RETURN_IF_ERROR(keep(std::move(entity)));
        }
        if (page.next_start_after.empty()) {
            break;
        }
        options.start_after = std::move(page.next_start_after);
        options.limit = limits::kMaxScanLimit;
    }
    if (!prefix.empty()) {
        node->details.push_back("entities scanned: " + std::to_string(scanned));
    }
    return Status::Ok();
}

Result<PlanNode> SelectRunner::RunRows(std::size_t want) {
    double estimated = 0;
    bool indexed = true;
    PHENIX_ASSIGN_OR_RETURN(PlanNode node, FilterPlanNode(&estimated, &indexed));
    node.estimated_rows = std::min(estimated, static_cast<double>(want));
    if (mode_ == ExplainMode::kExplain) {
        node.label = where_.ids                   ? "IdLookup " + info_.spec.ref.name
                     : !where_.id_prefix.empty()  ? "IdRangeScan " + info_.spec.ref.name
                     : where_.filter_json.empty() ? "Scan " + info_.spec.ref.name
                     : indexed                    ? "IndexFilter " + info_.spec.ref.name
                                                  : "FilteredScan " + info_.spec.ref.name;
        return node;
    }
    const auto start = Clock::now();
    const std::uint64_t rows_before = rows_in_;
    PHENIX_RETURN_IF_ERROR(FetchMatching(where_, want, &node));
    node.actual_rows = static_cast<double>(rows_in_ - rows_before);
    node.millis = std::max(0.0, MillisSince(start) - accept_millis_);
    return node;
}

// ORDER BY a distance the vector index cannot answer (another metric than the collection's,
// DESC): exact distances over the matching rows, ranked as they stream (a top-k with LIMIT).
Result<PlanNode> SelectRunner::RunExactRanking() {
    PlanNode node;
    node.label = "ExactRank " + info_.spec.ref.name;
    node.details.push_back(
        std::string("order by ") + std::string(DistanceOpText(order_distance_->op)) +
        (order_descending_ ? " DESC" : "") +
        (order_distance_->op != DistanceOp::kCollection &&
                 OpMetric(order_distance_->op, info_.spec.metric) != info_.spec.metric
             ? ": not the collection's metric (" + std::string(MetricName(info_.spec.metric)) +
                   "), so the index cannot rank it"
         : order_descending_ ? ": descending order is ranked exactly"
                             : ": WHERE has terms evaluated per row, so the index cannot rank "
                               "the rows they keep"));
    rank_exact_ = true;
    PHENIX_ASSIGN_OR_RETURN(PlanNode input, RunRows(SIZE_MAX));
    node.estimated_rows = std::min(input.estimated_rows, static_cast<double>(Wanted()));
    node.actual_rows = input.actual_rows;
    node.millis = input.millis;  // the distances are computed as the rows reach the TopK above
    node.children.push_back(std::move(input));
    return node;
}

Result<PlanNode> SelectRunner::RunVector(std::vector<Row>* rows) {
    const Metric metric = OpMetric(order_distance_->op, info_.spec.metric);
    if (metric != info_.spec.metric || order_descending_ || where_.residual) {
        return RunExactRanking();
    }
    engine_ranked_ = true;
    const std::size_t k = limit_ ? Wanted() : 10;  // LIMIT + OFFSET nearest
    if (limit_ && *limit_ == 0) {
        return EmptyPlan();
    }
    if (k > 10000) {
        return ErrorAt(stmt_.limit->pos, "a nearest-neighbour query returns at most 10000 rows "
                                         "(LIMIT + OFFSET)");
    }
    if (!stmt_.limit) {
        return ErrorAt(order_distance_->pos, "ORDER BY distance needs a LIMIT (the number of "
                                             "nearest neighbours, at most 10000)");
    }
    double estimated = 0;
    bool filter_indexed = true;
    PHENIX_ASSIGN_OR_RETURN(PlanNode filter_node, FilterPlanNode(&estimated, &filter_indexed));
    const double total = std::max(1.0, static_cast<double>(info_.num_entities));
    const std::size_t ef = std::max(ef_.value_or(0), k);
    SearchOptions options;
    options.k = k;
    options.ef = ef_ ? static_cast<std::uint32_t>(ef) : 0;
    options.filter = where_.filter_json;
    if (where_.ids) {
        options.filter_ids = *where_.ids;
    }
    const NodeNeeds needs = Needs("", /*engine_orders=*/true);
    options.include_metadata = needs.metadata;
    options.include_vector = needs.vector;
    // The strategy EXPLAIN shows: the vector index's own planner rule (index::ChooseFilterStrategy)
    // applied to the statistics' estimate. What runs is that same rule applied by the engine to
    // the filter's exact row count (the bitmap is built anyway), unless a strategy is forced.
    SearchStrategy strategy = SearchStrategy::kAuto;
    std::string why;
    std::string costs;  // the alternatives' estimated costs, when the rule weighed them
    const bool filtered = !where_.IsEmpty();
    const double effective_ef = static_cast<double>(std::max<std::size_t>(ef_.value_or(kDefaultEf), k));
    const index::FilterPlannerOptions planner;
    if (forced_strategy_) {
        strategy = *forced_strategy_;
        why = "forced by WITH (strategy = ...)";
    } else if (!filtered) {
        why = "no filter";
    } else if (!filter_indexed && total > static_cast<double>(planner.exact_scan_max_rows) &&
               !(where_.ids && estimated <= static_cast<double>(planner.exact_scan_max_rows))) {
        // The estimate is a default selectivity, not a count: the engine decides (it checks
        // the filter on the candidates its graph search finds, or builds the filter's rows when
        // scanning them all is estimated cheaper). A small collection is scanned: every subset
        // of it is.
        why =
            "no metadata index on the filter: its rows are unknown, so the engine checks it on "
            "the search's candidates";
    } else {
        const double selectivity = estimated / total;
        switch (index::ChooseFilterStrategy(planner, estimated, total, effective_ef)) {
            case index::FilterStrategy::kExactScan:
                strategy = SearchStrategy::kExactScan;
                why = estimated <= static_cast<double>(planner.exact_scan_max_rows) ||
                              estimated <= effective_ef
                          ? "about " + FormatRows(estimated) +
                                " rows match: scanning them is cheaper than walking the graph"
                          : "about " + FormatRows(estimated) +
                                " rows match: scanning them costs less than the ~" +
                                FormatRows(planner.graph_distances_per_ef * effective_ef /
                                           selectivity) +
                                " distances a graph search would compute (each ~" +
                                FormatRows(planner.graph_distance_cost) + " scan distances)";
                break;
            case index::FilterStrategy::kPostFilter: {
                strategy = SearchStrategy::kPostFilter;
                char buffer[96];
                std::snprintf(buffer, sizeof buffer,
                              "selectivity %.3f: over-fetch ef/selectivity = %.0f", selectivity,
                              effective_ef / std::max(1e-9, selectivity));
                why = buffer;
                break;
            }
            default: {
                strategy = SearchStrategy::kInGraph;
                char buffer[96];
                std::snprintf(buffer, sizeof buffer,
                              "selectivity %.4f: walk the graph, return matching nodes only",
                              selectivity);
                why = buffer;
                break;
            }
        }
        why += " (estimated; the engine applies the same rule to the exact count)";
        // The alternatives the rule weighed, in distances of an exact scan.
        char buffer[160];
        std::snprintf(
            buffer, sizeof buffer,
            "est. cost in scan distances: exact_scan %s, graph search %s (~%s "
            "distances x %.0f)",
            FormatRows(estimated).c_str(),
            FormatRows(planner.graph_distance_cost * planner.graph_distances_per_ef * effective_ef /
                       std::max(1e-9, selectivity))
                .c_str(),
            FormatRows(planner.graph_distances_per_ef * effective_ef / std::max(1e-9, selectivity))
                .c_str(),
            planner.graph_distance_cost);
        if (estimated > static_cast<double>(planner.exact_scan_max_rows) &&
            estimated > effective_ef) {
            costs = buffer;  // below those the rule scans without weighing
        }
    }
    options.strategy = forced_strategy_.value_or(SearchStrategy::kAuto);
    PlanNode node;
    auto label = [&](SearchStrategy shown) {
        const bool filter_first = shown == SearchStrategy::kExactScan;
        node.label = std::string(filter_first ? "FilterFirst" : "VectorFirst") + " " +
                     info_.spec.ref.name + " [" +
                     std::string(filtered || forced_strategy_ ? SearchStrategyName(shown)
                                                              : std::string_view("hnsw")) +
                     "]";
    };
    label(strategy);
    node.details.push_back("order by vector " + std::string(DistanceOpText(order_distance_->op)) +
                           " (" + std::string(MetricName(metric)) + "), k=" + std::to_string(k) +
                           ", ef=" + (ef_ ? std::to_string(ef) : "collection default"));
    node.details.push_back("why: " + why);
    if (!costs.empty()) {
        node.details.push_back(costs);
    }
    node.estimated_rows = std::min(static_cast<double>(k), estimated);
    if (filtered) {
        node.children.push_back(std::move(filter_node));
    }
    if (mode_ == ExplainMode::kExplain) {
        return node;
    }
    const auto start = Clock::now();
    PHENIX_ASSIGN_OR_RETURN(SearchResponse response,
                            reader_.Search(ref_, order_distance_->query, options));
    node.millis = MillisSince(start);
    node.actual_rows = response.hits.size();
    if (filtered) {
        label(response.plan.strategy);  // the label says what ran
    }
    node.details.push_back("ran: " + std::string(SearchStrategyName(response.plan.strategy)) +
                           (response.plan.ef > 0 ? ", ef=" + std::to_string(response.plan.ef)
                                                 : std::string(", no graph search")) +
                           ", " +
                           std::to_string(response.plan.distance_computations) + " distances" +
                           (response.plan.fell_back_to_exact ? ", fell back to exact" : ""));
    if (filtered && !node.children.empty()) {
        node.children[0].actual_rows = response.plan.filter_rows;
        node.children[0].millis = response.plan.filter_millis;
        for (const std::string& step : response.plan.filter_steps) {
            node.children[0].details.push_back(step);
        }
    }
    AppendHits(std::move(response.hits), std::nullopt, rows);
    // Edges are not part of a search hit: read them when selected.
    bool wants_edges = false;
    for (const Item& item : items_) {
        if (item.expr.kind == ExprKind::kPath && item.expr.path.back() == "edges") {
            wants_edges = true;
        }
    }
    if (wants_edges) {
        for (Row& row : *rows) {
            PHENIX_ASSIGN_OR_RETURN(Entity entity, reader_.Get(ref_, row.entity.id));
            row.entity.edges = std::move(entity.edges);
        }
    }
    return node;
}

Result<PlanNode> SelectRunner::RunMatch(std::vector<Row>* rows) {
    const CollectionRef end_ref = ctx_.Ref(end_collection_);
    PlanNode expand;
    expand.label = "Expand " + info_.spec.ref.name + " from '" + start_id_ + "'";
    std::string edge_text = std::to_string(min_hops_) + ".." + std::to_string(max_hops_) +
                            " hops " +
                            (direction_ == phenix::EdgeDirection::kOut  ? "out"
                             : direction_ == phenix::EdgeDirection::kIn ? "in"
                                                                        : "both ways");
    if (!edge_match_.labels.empty()) {
        edge_text += ", label " + edge_match_.labels[0];
    }
    if (edge_match_.min_weight || edge_match_.max_weight) {
        edge_text += ", weight in [" +
                     (edge_match_.min_weight ? std::to_string(*edge_match_.min_weight) : "-inf") +
                     ", " +
                     (edge_match_.max_weight ? std::to_string(*edge_match_.max_weight) : "inf") + "]";
    }
    if (!edge_match_.properties_filter.empty()) {
        edge_text += ", properties " + edge_match_.properties_filter;
    }
    expand.details.push_back(edge_text);
    // Estimate (for EXPLAIN only): the start's degree, raised to the hop count, capped by the
    // collection.
    if (mode_ != ExplainMode::kNone) {
        Result<std::uint64_t> degree = reader_.Degree(ref_, start_id_, direction_, edge_match_);
        if (!degree.ok() && degree.status().code() == StatusCode::kNotFound) {
            expand.estimated_rows = 0;
        } else if (degree.ok()) {
            expand.estimated_rows =
                *degree == 0 ? 0
                             : std::min(static_cast<double>(info_.num_entities),
                                        std::pow(static_cast<double>(*degree), max_hops_));
        }
    }
    // The start node and its own conditions.
    std::optional<Entity> start_entity;
    if (mode_ != ExplainMode::kExplain && (needs_start_ || !start_filter_.empty())) {
        Result<Entity> start = reader_.Get(ref_, start_id_);
        if (!start.ok()) {
            if (start.status().code() == StatusCode::kNotFound) {
                expand.actual_rows = 0;
                return expand;
            }
            return start.status();
        }
        if (!start_filter_.empty()) {
            PHENIX_ASSIGN_OR_RETURN(document::Filter filter, document::ParseFilter(start_filter_));
            PHENIX_ASSIGN_OR_RETURN(bool matches, document::Matches(filter, start->metadata));
            if (!matches) {
                expand.actual_rows = 0;
                return expand;
            }
        }
        start_entity = std::move(*start);
    }
    // Graph-first, then the index: a nearest-neighbour search restricted to what the pattern
    // reaches, when the far node is in the start's collection and the metric is the index's.
    const bool can_search =
        order_distance_ && !needs_paths_ && !order_descending_ &&
        order_distance_->variable == end_var_ && end_collection_ == info_.spec.ref.name &&
        OpMetric(order_distance_->op, info_.spec.metric) == info_.spec.metric;
    if (can_search) {
        engine_ranked_ = true;
        if (!stmt_.limit) {
            return ErrorAt(order_distance_->pos, "ORDER BY distance needs a LIMIT");
        }
        const std::size_t k = Wanted();
        if (*limit_ == 0) {
            return EmptyPlan();
        }
        if (k > 10000) {
            return ErrorAt(stmt_.limit->pos,
                           "a nearest-neighbour query returns at most 10000 "
                           "rows (LIMIT + OFFSET)");
        }
        PlanNode node;
        node.details.push_back("order by " + end_var_ + ".vector " +
                               std::string(DistanceOpText(order_distance_->op)) +
                               ", k=" + std::to_string(k));
        if (!where_.filter_json.empty()) {
            node.details.push_back("filter on " + end_var_ + ": " + where_.filter_json);
        }
        node.estimated_rows = std::min(static_cast<double>(k), std::max(0.0, expand.estimated_rows));
        SearchOptions options;
        options.k = k;
        options.ef = ef_ ? static_cast<std::uint32_t>(*ef_) : 0;
        options.filter = where_.filter_json;
        if (where_.ids) {
            options.filter_ids = *where_.ids;
        }
        GraphConstraint graph;
        graph.start_id = start_id_;
        graph.min_hops = min_hops_;
        graph.max_hops = max_hops_;
        graph.direction = direction_;
        graph.edges = edge_match_;
        graph.include_start = true;  // a walk that returns to the start reaches it (self-loops)
        options.graph = std::move(graph);
        const NodeNeeds needs = Needs(end_var_, /*engine_orders=*/true);
        options.include_metadata = needs.metadata;
        options.include_vector = needs.vector;
        if (forced_strategy_) {
            options.strategy = *forced_strategy_;
        }
        if (forced_graph_plan_) {
            options.graph_plan = *forced_graph_plan_;
        }
        // The label names the graph plan the engine picks (from its neighbourhood estimate).
        auto label_plan = [&](const SearchPlan& plan) {
            if (plan.graph_estimated_rows > 0) {
                (node.children.empty() ? expand : node.children[0]).estimated_rows =
                    plan.graph_estimated_rows;
            }
            node.label =
                plan.graph_plan == GraphPlan::kVectorFirst
                    ? "VectorFirst " + info_.spec.ref.name +
                          " [search, candidates checked against the pattern]"
                    : "GraphFirst " + info_.spec.ref.name + " [search over the reached set]";
            if (!plan.graph_plan_reason.empty()) {
                node.details.push_back("graph plan: " + plan.graph_plan_reason);
            }
        };
        if (mode_ == ExplainMode::kExplain) {
            SearchOptions estimate = options;
            estimate.estimate_only = true;
            Result<SearchResponse> planned = reader_.Search(ref_, order_distance_->query, estimate);
            if (!planned.ok() && planned.status().code() != StatusCode::kNotFound) {
                return planned.status();
            }
            label_plan(planned.ok() ? planned->plan : SearchPlan{});
            node.children.push_back(std::move(expand));
            return node;
        }
        node.children.push_back(std::move(expand));
        const auto start = Clock::now();
        Result<SearchResponse> searched = reader_.Search(ref_, order_distance_->query, options);
        if (!searched.ok() && searched.status().code() == StatusCode::kNotFound &&
            !start_entity) {
            label_plan(SearchPlan{});
            node.actual_rows = 0;  // the start does not exist: no rows
            return node;
        }
        PHENIX_ASSIGN_OR_RETURN(SearchResponse response, std::move(searched));
        label_plan(response.plan);
        node.millis = MillisSince(start);
        node.actual_rows = response.hits.size();
        node.children[0].actual_rows = response.plan.filter_rows;
        node.children[0].millis = response.plan.filter_millis;
        node.details.push_back("ran: " + std::string(SearchStrategyName(response.plan.strategy)) +
                               ", " + std::to_string(response.plan.distance_computations) +
                               " distances");
        for (const std::string& step : response.plan.filter_steps) {
            node.children[0].details.push_back(step);
        }
        AppendHits(std::move(response.hits), start_entity, rows);
        return node;
    }
    if (mode_ == ExplainMode::kExplain) {
        expand.label += needs_paths_ ? " (paths)" : "";
        return expand;
    }
    // Expand, then read and check the far nodes.
    const auto start = Clock::now();
    const bool stop_early = stmt_.order_by.empty() && !is_aggregate_ && !stmt_.distinct;
    if (needs_paths_) {
        std::optional<document::Filter> filter;
        if (!where_.filter_json.empty()) {
            PHENIX_ASSIGN_OR_RETURN(filter, document::ParseFilter(where_.filter_json));
        }
        std::optional<std::set<std::string>> ids;
        if (where_.ids) {
            ids.emplace(where_.ids->begin(), where_.ids->end());
        }
        auto accept = [&](const CollectionRef& collection, const std::string& id,
                          Row* row) -> Result<bool> {
            if (collection.name != end_collection_ || (ids && !ids->contains(id))) {
                return false;
            }
            Result<Entity> entity = reader_.Get(end_ref, id);
            if (!entity.ok()) {
                return entity.status();
            }
            if (filter) {
                PHENIX_ASSIGN_OR_RETURN(bool matches, document::Matches(*filter, entity->metadata));
                if (!matches) {
                    return false;
                }
            }
            row->entity = std::move(*entity);
            row->start = start_entity;
            return true;
        };
        PathSpec spec;
        spec.start_id = start_id_;
        spec.min_hops = min_hops_;
        spec.max_hops = max_hops_;
        spec.direction = direction_;
        spec.edges = edge_match_;
        spec.include_cycles = true;  // a path back to the start (a self-loop) is a row too
        if (stop_early && limit_) {
            spec.limit = Wanted();
        }
        Result<PathsResponse> found = reader_.FindPaths(ref_, spec);
        if (!found.ok() && found.status().code() == StatusCode::kNotFound && !start_entity) {
            expand.actual_rows = 0;  // the start does not exist: no rows
            return expand;
        }
        PHENIX_ASSIGN_OR_RETURN(PathsResponse paths, std::move(found));
        expand.label += " (paths)";
        paths_ = std::move(paths.paths);
        for (const GraphPath& path : paths_) {
            if (stop_early && rows->size() >= Wanted()) {
                break;
            }
            Row row;
            const PathNode& last = path.nodes.back();
            PHENIX_ASSIGN_OR_RETURN(bool keep, accept(last.collection, last.id, &row));
            if (keep) {
                row.path = &path;
                rows->push_back(std::move(row));
            }
        }
        if (paths.truncated && !(stop_early && rows->size() >= Wanted())) {
            // The rows would be those of an arbitrary subset of the paths: refuse rather than
            // return a silently wrong answer.
            return Status::ResourceExhausted(
                "the pattern has more paths than Options::max_traversal_paths (" +
                std::to_string(paths_.size()) +
                "); narrow it (a label, a WHERE on the edge, fewer hops), drop the edge variable "
                "(one row per reached node instead of per path), or raise the option");
        }
    } else {
        // The traversal does the filtering, the page and count(*) itself, and reads only the
        // returned page's records (in one batch, at its snapshot), and only the fields the
        // query uses: a query of b.id reads no record at all (ids come with the edges).
        const bool count_only = is_aggregate_ && stmt_.group_by.empty() && items_.size() == 1 &&
                                items_[0].expr.is_star && items_[0].expr.kind == ExprKind::kCall;
        const NodeNeeds needs = Needs(end_var_, /*engine_orders=*/false);
        TraversalSpec spec;
        spec.start_id = start_id_;
        spec.min_hops = min_hops_;
        spec.max_hops = max_hops_;
        spec.direction = direction_;
        spec.edges = edge_match_;
        // The start is a row when a walk in the hop range returns to it (a self-loop, a cycle),
        // or min_hops is 0: it is reached like any other entity.
        spec.include_start = true;
        spec.end_collection = end_collection_;
        spec.filter = where_.filter_json;
        spec.filter_ids = where_.ids;
        spec.count_only = count_only;
        spec.include_metadata = needs.metadata;
        spec.include_vector = needs.vector;
        if (stop_early && limit_) {
            spec.limit = Wanted();
        }
        if (stop_early && limit_ && *limit_ == 0) {
            expand.actual_rows = 0;
            return expand;
        }
        Result<TraversalResponse> traversed = reader_.Traverse(ref_, spec);
        if (!traversed.ok() && traversed.status().code() == StatusCode::kNotFound &&
            !start_entity) {
            expand.actual_rows = 0;  // the start does not exist: no rows
            return expand;
        }
        PHENIX_ASSIGN_OR_RETURN(TraversalResponse reached, std::move(traversed));
        expand.details.push_back(
            (count_only ? std::to_string(reached.count) + " counted, "
                        : std::to_string(reached.entities.size()) + " returned" +
                              (reached.truncated ? " (more exist), " : ", ")) +
            std::to_string(reached.edges_examined) + " edges examined; records read: " +
            (needs.metadata || needs.vector ? "the page" : "none"));
        if (count_only) {
            count_ = reached.count;
            expand.actual_rows = reached.count;
            expand.millis = MillisSince(start);
            return expand;
        }
        rows->reserve(reached.entities.size());
        for (std::size_t idx = 0; idx < reached.entities.size(); ++idx) {
            Row row;
            row.entity.id = std::move(reached.entities[idx].id);
            if (needs.metadata) {
                row.entity.metadata = std::move(reached.metadata[idx]);
            }
            if (needs.vector) {
                row.entity.vector = std::move(reached.vectors[idx]);
            }
            row.start = start_entity;
            rows->push_back(std::move(row));
        }
        if (needs.edges) {
            for (Row& row : *rows) {
                PHENIX_ASSIGN_OR_RETURN(Entity entity, reader_.Get(end_ref, row.entity.id));
                row.entity.edges = std::move(entity.edges);
            }
        }
    }
    expand.actual_rows = rows->size();
    expand.millis = MillisSince(start);
    if (!order_distance_) {
        return expand;
    }
    PlanNode rank;
    rank.label = "ExactRank " + end_collection_;
    rank.details.push_back(std::string("order by ") + order_distance_->variable + ".vector " +
                           std::string(DistanceOpText(order_distance_->op)));
    rank.estimated_rows = expand.estimated_rows;
    const Metric metric = OpMetric(order_distance_->op, info_.spec.metric);
    std::erase_if(*rows, [&](const Row& row) {
        const Entity& entity = order_distance_->variable == start_var_ ? *row.start : row.entity;
        return !ExactDistance(metric, entity.vector, order_distance_->query).has_value();
    });
    rank.actual_rows = rows->size();
    rank.children.push_back(std::move(expand));
    return rank;
}

Result<PlanNode> SelectRunner::PlanAndRun(std::vector<Row>* rows) {
    if (is_match_) {
        return RunMatch(rows);
    }
    if (order_distance_) {
        return RunVector(rows);
    }
    // count(*) alone: the filter's exact count, no rows read.
    const bool count_only = is_aggregate_ && stmt_.group_by.empty() && items_.size() == 1 &&
                            items_[0].expr.is_star && items_[0].expr.kind == ExprKind::kCall &&
                            !where_.ids && !where_.residual;
    if (count_only) {
        PlanNode node;
        double estimated = 0;
        PHENIX_ASSIGN_OR_RETURN(node, FilterPlanNode(&estimated));
        node.label = "Count " + info_.spec.ref.name;
        if (mode_ == ExplainMode::kExplain) {
            return node;
        }
        const auto start = Clock::now();
        FindOptions options;
        options.filter = where_.filter_json;
        options.count_only = true;
        PHENIX_ASSIGN_OR_RETURN(FindResponse found, reader_.Find(ref_, options));
        for (const std::string& step : found.plan.steps) {
            node.details.push_back(step);
        }
        node.actual_rows = found.count;
        node.millis = MillisSince(start);
        count_ = found.count;
        return node;
    }
    input_ordered_ = order_keys_.empty() || order_by_id_;
    const bool can_stop = input_ordered_ && !is_aggregate_ && !stmt_.distinct;
    return RunRows(can_stop ? Wanted() : SIZE_MAX);
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

Status SelectRunner::Charge(std::size_t bytes) {
    bytes_ += bytes;
    if (bytes_ > ctx_.memory_limit) {
        return Status::ResourceExhausted(
            "the query needs more than " + std::to_string(ctx_.memory_limit >> 20) +
            " MiB for its rows (the session's memory limit: QuerySession::set_memory_limit, the "
            "shell's --memory-limit); add a LIMIT, select fewer or smaller columns, or raise the "
            "limit");
    }
    return Status::Ok();
}

bool SelectRunner::Better(const Projected& a, const Projected& b) const {
    for (std::size_t idx = 0; idx < order_keys_.size(); ++idx) {
        const int cmp = CompareValues(a.keys[idx], b.keys[idx]);
        if (cmp != 0) {
            return order_keys_[idx].second->is_descending ? cmp > 0 : cmp < 0;
        }
    }
    return a.seq < b.seq;
}

Status SelectRunner::Accept(Row row, bool* done) {
    const auto start = mode_ == ExplainMode::kExplainAnalyze ? Clock::now() : Clock::time_point{};
    struct Timer {
        SelectRunner* self;
        Clock::time_point start;
        ~Timer() {
            if (self->mode_ == ExplainMode::kExplainAnalyze) {
                self->accept_millis_ += MillisSince(start);
            }
        }
    } timer{this, start};
    if (where_.residual) {  // the WHERE terms the filter could not take: TRUE rows only
        PHENIX_ASSIGN_OR_RETURN(Truth keep, EvalCondition(*where_.residual, [&](const Expr& leaf) {
                                    return EntityConditionLeaf(leaf, row.entity.id,
                                                               row.Metadata(false), ctx_.params);
                                }));
        if (!keep.IsTrue()) {
            return Status::Ok();
        }
    }
    ++rows_in_;
    if (rank_exact_ && !ExactDistance(OpMetric(order_distance_->op, info_.spec.metric),
                                      row.entity.vector, order_distance_->query)) {
        return Status::Ok();  // rows without a vector never rank
    }
    if (is_aggregate_) {
        return Accumulate(row);
    }
    const std::size_t wanted = Wanted();
    if (wanted == 0) {
        *done = true;
        return Status::Ok();
    }
    Projected out;
    out.values.reserve(items_.size());
    for (const Item& item : items_) {
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, Eval(item.expr, row));
        out.bytes += ValueBytes(value);
        out.values.push_back(std::move(value));
    }
    for (const auto& [item_index, order] : order_keys_) {
        if (item_index >= 0) {
            out.keys.push_back(out.values[static_cast<std::size_t>(item_index)]);
        } else {
            PHENIX_ASSIGN_OR_RETURN(QueryValue value, Eval(order->expr, row));
            out.keys.push_back(std::move(value));
        }
        out.bytes += ValueBytes(out.keys.back());
    }
    out.bytes += sizeof(Projected);
    if (stmt_.distinct) {
        std::string key;
        for (const QueryValue& value : out.values) {
            AppendKey(value, &key);
        }
        const std::size_t key_bytes = key.size() + 64;
        if (!distinct_seen_.insert(std::move(key)).second) {
            return Status::Ok();
        }
        PHENIX_RETURN_IF_ERROR(Charge(key_bytes));
    }
    out.seq = next_seq_++;
    if (input_ordered_ || order_keys_.empty()) {
        PHENIX_RETURN_IF_ERROR(Charge(out.bytes));
        out_.push_back(std::move(out));
        *done = out_.size() >= wanted;
        return Status::Ok();
    }
    if (wanted == SIZE_MAX) {  // a full sort at the end
        PHENIX_RETURN_IF_ERROR(Charge(out.bytes));
        out_.push_back(std::move(out));
        return Status::Ok();
    }
    // Top-k: a heap of the best `wanted` rows so far, the worst of them on top.
    out_is_heap_ = true;
    auto worse_on_top = [this](const Projected& a, const Projected& b) { return Better(a, b); };
    if (out_.size() < wanted) {
        PHENIX_RETURN_IF_ERROR(Charge(out.bytes));
        out_.push_back(std::move(out));
        std::push_heap(out_.begin(), out_.end(), worse_on_top);
    } else if (Better(out, out_.front())) {
        std::pop_heap(out_.begin(), out_.end(), worse_on_top);
        bytes_ -= out_.back().bytes;
        PHENIX_RETURN_IF_ERROR(Charge(out.bytes));
        out_.back() = std::move(out);
        std::push_heap(out_.begin(), out_.end(), worse_on_top);
    }
    return Status::Ok();
}

Status SelectRunner::Accumulate(const Row& row) {
    std::vector<QueryValue> keys;
    std::string key_text;
    for (const Expr& key : stmt_.group_by) {
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, Eval(key, row));
        AppendKey(value, &key_text);
        keys.push_back(std::move(value));
    }
    auto [it, inserted] = groups_.try_emplace(key_text);
    Group& group = it->second;
    if (inserted) {
        std::size_t bytes = key_text.size() + 96 + items_.size() * sizeof(Accumulator);
        for (const QueryValue& key : keys) {
            bytes += ValueBytes(key);
        }
        PHENIX_RETURN_IF_ERROR(Charge(bytes));
        group.keys = std::move(keys);
        group.accumulators.resize(items_.size());
    }
    for (std::size_t idx = 0; idx < items_.size(); ++idx) {
        const Item& item = items_[idx];
        if (!item.is_aggregate) {
            continue;
        }
        const Aggregate aggregate = *AggregateOf(item.expr);
        Accumulator& acc = group.accumulators[idx];
        if (item.expr.is_star) {
            ++acc.count;
            continue;
        }
        PHENIX_ASSIGN_OR_RETURN(QueryValue value, Eval(item.expr.children[0], row));
        if (value.type == QueryValue::Type::kNull) {
            continue;
        }
        switch (aggregate) {
            case Aggregate::kCount:
                ++acc.count;
                break;
            case Aggregate::kMin:
            case Aggregate::kMax: {
                ++acc.count;
                if (!acc.best) {
                    acc.best = value;
                } else {
                    const int cmp = CompareValues(value, *acc.best);
                    if ((aggregate == Aggregate::kMin && cmp < 0) ||
                        (aggregate == Aggregate::kMax && cmp > 0)) {
                        acc.best = value;
                    }
                }
                break;
            }
            case Aggregate::kAvg:
            case Aggregate::kSum:
                if (value.type != QueryValue::Type::kInt &&
                    value.type != QueryValue::Type::kFloat) {
                    break;  // non-numbers are skipped, like NULL
                }
                ++acc.count;
                acc.sum += AsDouble(value);
                if (value.type == QueryValue::Type::kInt) {
                    acc.int_sum += value.int_value;  // 128 bits: 2^64 int64 values cannot overflow
                } else {
                    acc.all_int = false;
                }
                break;
        }
    }
    return Status::Ok();
}

Result<QueryResult> SelectRunner::FinishAggregates() {
    QueryResult result;
    result.has_rows = true;
    for (std::size_t idx = 0; idx < num_visible_items_; ++idx) {
        result.columns.push_back(items_[idx].name);
    }
    if (count_) {
        result.rows.push_back({QueryValue::Int(static_cast<std::int64_t>(*count_))});
    } else if (groups_.empty() && stmt_.group_by.empty()) {
        groups_[""].accumulators.resize(items_.size());  // aggregates over no rows: one row
    }
    for (auto& [key_text, group] : groups_) {
        std::vector<QueryValue> out;
        for (std::size_t idx = 0; idx < items_.size(); ++idx) {
            const Item& item = items_[idx];
            if (item.is_computed) {
                out.emplace_back();  // computed below, from the other columns
                continue;
            }
            if (!item.is_aggregate) {
                if (IsConstant(item.expr)) {
                    PHENIX_ASSIGN_OR_RETURN(QueryValue value, EvalConstant(item.expr, ctx_.params));
                    out.push_back(std::move(value));
                    continue;
                }
                std::size_t key_idx = 0;
                for (; key_idx < stmt_.group_by.size(); ++key_idx) {
                    if (ToString(stmt_.group_by[key_idx]) == ToString(item.expr)) {
                        break;
                    }
                }
                out.push_back(key_idx < group.keys.size() ? group.keys[key_idx] : QueryValue::Null());
                continue;
            }
            const Accumulator& acc = group.accumulators[idx];
            switch (*AggregateOf(item.expr)) {
                case Aggregate::kCount:
                    out.push_back(QueryValue::Int(static_cast<std::int64_t>(acc.count)));
                    break;
                case Aggregate::kMin:
                case Aggregate::kMax:
                    out.push_back(acc.best.value_or(QueryValue::Null()));
                    break;
                case Aggregate::kAvg:
                    out.push_back(acc.count == 0 ? QueryValue::Null()
                                                 : QueryValue::Float(acc.sum / static_cast<double>(acc.count)));
                    break;
                case Aggregate::kSum: {
                    // Integers sum exactly; a sum beyond 64 bits is returned as a float.
                    const bool fits = acc.int_sum >= std::numeric_limits<std::int64_t>::min() &&
                                      acc.int_sum <= std::numeric_limits<std::int64_t>::max();
                    out.push_back(acc.count == 0 ? QueryValue::Null()
                                  : !acc.all_int ? QueryValue::Float(acc.sum)
                                  : fits ? QueryValue::Int(static_cast<std::int64_t>(acc.int_sum))
                                         : QueryValue::Float(static_cast<double>(acc.int_sum)));
                    break;
                }
            }
        }
        for (std::size_t idx = 0; idx < items_.size(); ++idx) {
            if (items_[idx].is_computed) {
                PHENIX_ASSIGN_OR_RETURN(
                    out[idx], EvalValue(items_[idx].expr,
                                        [&](const Expr& leaf) { return EvalOutput(leaf, out); }));
            }
        }
        result.rows.push_back(std::move(out));
    }
    if (stmt_.having) {
        std::vector<std::vector<QueryValue>> kept;
        for (std::vector<QueryValue>& row : result.rows) {
            PHENIX_ASSIGN_OR_RETURN(QueryValue keep, EvalOutput(*stmt_.having, row));
            if (keep.type == QueryValue::Type::kBool && keep.bool_value) {
                kept.push_back(std::move(row));
            }
        }
        result.rows = std::move(kept);
    }
    if (stmt_.distinct) {
        std::unordered_set<std::string> seen;
        std::erase_if(result.rows, [&](const std::vector<QueryValue>& row) {
            std::string key;
            for (std::size_t idx = 0; idx < num_visible_items_; ++idx) {
                AppendKey(row[idx], &key);
            }
            return !seen.insert(std::move(key)).second;
        });
    }
    // ORDER BY over the aggregated rows (keys name selected columns), then OFFSET and LIMIT.
    if (!order_keys_.empty()) {
        std::stable_sort(result.rows.begin(), result.rows.end(),
                         [&](const std::vector<QueryValue>& a, const std::vector<QueryValue>& b) {
                             for (const auto& [item_index, order] : order_keys_) {
                                 const auto col = static_cast<std::size_t>(item_index);
                                 const int cmp = CompareValues(a[col], b[col]);
                                 if (cmp != 0) {
                                     return order->is_descending ? cmp > 0 : cmp < 0;
                                 }
                             }
                             return false;
                         });
    }
    const std::size_t offset = std::min(offset_.value_or(0), result.rows.size());
    result.rows.erase(result.rows.begin(),
                      result.rows.begin() + static_cast<std::ptrdiff_t>(offset));
    if (limit_ && result.rows.size() > *limit_) {
        result.rows.resize(*limit_);
    }
    for (std::vector<QueryValue>& row : result.rows) {
        row.resize(num_visible_items_);  // HAVING's hidden columns
    }
    return result;
}

std::optional<PlanNode> SelectRunner::OrderNode() const {
    if (is_aggregate_ || order_keys_.empty() || input_ordered_) {
        return std::nullopt;
    }
    PlanNode node;
    std::string keys;
    for (const auto& [item_index, order] : order_keys_) {
        std::string key = ToString(order->expr);
        if (const std::size_t bracket = key.find('[');
            key.size() > 60 && bracket != std::string::npos) {
            key = key.substr(0, bracket) + "[..]";  // a distance to a long vector literal
        }
        keys += (keys.empty() ? "" : ", ") + key + (order->is_descending ? " DESC" : "");
    }
    if (limit_) {
        node.label = "TopK " + std::to_string(Wanted());
        node.details.push_back("order by " + keys + ": a heap of the best " +
                               std::to_string(Wanted()) + " rows");
    } else {
        node.label = "Sort";
        node.details.push_back("order by " + keys);
    }
    return node;
}

Result<QueryResult> SelectRunner::Finish(PlanNode* root) {
    if (is_aggregate_) {
        return FinishAggregates();
    }
    const auto start = Clock::now();
    const bool sorted = !input_ordered_ && !order_keys_.empty();
    if (sorted) {
        auto better = [this](const Projected& a, const Projected& b) { return Better(a, b); };
        if (out_is_heap_) {
            std::sort_heap(out_.begin(), out_.end(), better);
        } else {
            std::sort(out_.begin(), out_.end(), better);  // seq breaks ties: stable
        }
    }
    if (std::optional<PlanNode> order = OrderNode(); order && root != nullptr) {
        order->estimated_rows = std::min(root->estimated_rows, static_cast<double>(Wanted()));
        order->actual_rows = static_cast<double>(std::min(out_.size(), Wanted()));
        // Its own work (projecting, ordering) plus its input's, as every parent's time includes
        // its children's.
        order->millis = accept_millis_ + MillisSince(start) + std::max(0.0, root->millis);
        order->children.push_back(std::move(*root));
        *root = std::move(*order);
    }
    QueryResult result;
    result.has_rows = true;
    for (const Item& item : items_) {
        result.columns.push_back(item.name);
    }
    const std::size_t offset = std::min(offset_.value_or(0), out_.size());
    const std::size_t end = limit_ ? std::min(out_.size(), offset + *limit_) : out_.size();
    result.rows.reserve(end - offset);
    for (std::size_t idx = offset; idx < end; ++idx) {
        result.rows.push_back(std::move(out_[idx].values));
    }
    out_.clear();
    return result;
}

Result<QueryResult> SelectRunner::Run() {
    PHENIX_RETURN_IF_ERROR(BindSource());
    if (!is_match_) {
        PHENIX_ASSIGN_OR_RETURN(where_, BindWhere(stmt_.where ? &*stmt_.where : nullptr,
                                                  ctx_.params, {}, /*allow_residual=*/true));
    }
    PHENIX_RETURN_IF_ERROR(BindItems());
    PHENIX_RETURN_IF_ERROR(BindOrder());
    PHENIX_RETURN_IF_ERROR(BindOptions());
    if (is_match_) {
        // A pattern with an edge variable has one row per path, one without has one row per
        // reached node: the pattern decides, never the columns selected. Does anything read the
        // start node (else the walk needs only its id)?
        needs_paths_ = !edge_var_.empty();
        VisitExprs([&](const Expr& node) {
            if (node.kind == ExprKind::kPath) {
                needs_start_ = needs_start_ || node.path[0] == start_var_;
            }
            return true;
        });
    }
    if (is_aggregate_ && order_distance_) {
        return ErrorAt(order_distance_->pos, "ORDER BY distance cannot be used with aggregates");
    }
    const auto start = Clock::now();
    std::vector<Row> rows;
    PHENIX_ASSIGN_OR_RETURN(PlanNode plan, PlanAndRun(&rows));
    // The vector and MATCH plans return their rows: ranked by the engine when it ordered them.
    if (is_match_ || (order_distance_ && !rank_exact_)) {
        input_ordered_ = order_keys_.empty() || (engine_ranked_ && order_keys_.size() == 1);
    }
    if (!rows.empty()) {
        bool done = false;
        for (Row& row : rows) {
            PHENIX_RETURN_IF_ERROR(Accept(std::move(row), &done));
            if (done) {
                break;
            }
        }
    }
    PlanNode root;
    if (mode_ == ExplainMode::kExplain) {
        root = std::move(plan);
        if (std::optional<PlanNode> order = OrderNode()) {
            order->estimated_rows = std::min(root.estimated_rows < 0 ? 1e18 : root.estimated_rows,
                                             static_cast<double>(Wanted()));
            order->children.push_back(std::move(root));
            root = std::move(*order);
        }
    } else {
        PHENIX_ASSIGN_OR_RETURN(QueryResult result, Finish(&plan));
        if (mode_ == ExplainMode::kNone) {
            return result;
        }
        root = std::move(plan);
        PlanNode project;
        project.label = is_aggregate_ ? "Aggregate" : "Project";
        std::string columns;
        for (const std::string& column : result.columns) {
            columns += (columns.empty() ? "" : ", ") + column;
        }
        project.details.push_back(columns);
        if (offset_) {
            project.details.push_back("offset " + std::to_string(*offset_));
        }
        project.estimated_rows =
            is_aggregate_ && stmt_.group_by.empty() ? 1 : root.estimated_rows;
        project.actual_rows = result.rows.size();
        project.millis = MillisSince(start);
        project.children.push_back(std::move(root));
        root = std::move(project);
    }
    if (mode_ == ExplainMode::kExplain) {
        PlanNode project;
        project.label = is_aggregate_ ? "Aggregate" : "Project";
        std::string columns;
        for (std::size_t idx = 0; idx < num_visible_items_; ++idx) {
            columns += (columns.empty() ? "" : ", ") + items_[idx].name;
        }
        project.details.push_back(columns);
        if (offset_) {
            project.details.push_back("offset " + std::to_string(*offset_));
        }
        project.estimated_rows =
            is_aggregate_ && stmt_.group_by.empty()
                ? 1
                : std::min(root.estimated_rows < 0 ? 1e18 : root.estimated_rows,
                           static_cast<double>(limit_.value_or(SIZE_MAX)));
        project.children.push_back(std::move(root));
        root = std::move(project);
    }
    std::vector<std::string> lines;
    RenderPlan(root, "", true, true, mode_ == ExplainMode::kExplainAnalyze, &lines);
    if (mode_ == ExplainMode::kExplainAnalyze) {
        lines.push_back("Execution time: " + FormatMillis(MillisSince(start)) + " ms");
    }
    QueryResult result;
    result.has_rows = true;
    result.columns = {"plan"};
    for (std::string& line : lines) {
        result.rows.push_back({QueryValue::String(std::move(line))});
    }
    return result;
}

}  // namespace

Result<QueryResult> ExecuteSelect(ExecContext& ctx, const SelectStmt& stmt, ExplainMode mode) {
    SelectRunner runner(ctx, stmt, mode);
    return runner.Run();
}

}  // namespace phenix::query
