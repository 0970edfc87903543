// SPDX-License-Identifier: Apache-2.0
//
// The optimizer (optimizer.h).
#include "query/optimizer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "index/hnsw/filter_planner.h"
#include "query/operators/aggregate.h"
#include "query/operators/chain.h"
#include "query/operators/filter.h"
#include "query/operators/match.h"
#include "query/operators/project.h"
#include "query/operators/scan.h"
#include "query/operators/sort.h"
#include "query/operators/vector_search.h"

namespace phenix::query {
namespace {

using OperatorPtr = std::unique_ptr<PhysicalOperator>;

constexpr std::size_t kDefaultEf = 64;
constexpr std::size_t kMaxNearest = 10000;

/// What a query with LIMIT 0 runs: nothing.
class EmptyOperator final : public PhysicalOperator {
  public:
    explicit EmptyOperator(ExecState& state) : PhysicalOperator(state) { estimated_rows = 0; }
    [[nodiscard]] std::string Label() const override { return "Empty (LIMIT 0)"; }

  protected:
    Result<bool> NextImpl(RowBatch* /*batch*/) override { return false; }
};

// The logical chain, top down (its shape is fixed: logical_plan.h).
struct Steps {
    const LogicalNode* limit = nullptr;
    const LogicalNode* order = nullptr;
    const LogicalNode* distinct = nullptr;
    const LogicalNode* having = nullptr;
    const LogicalNode* aggregate = nullptr;
    const LogicalNode* project = nullptr;
    const LogicalNode* residual = nullptr;
    const LogicalNode* source = nullptr;
};

Steps Flatten(const LogicalNode& plan) {
    Steps steps;
    for (const LogicalNode* node = &plan; node != nullptr; node = node->child.get()) {
        switch (node->kind) {
            case LogicalKind::kLimit:
                steps.limit = node;
                break;
            case LogicalKind::kOrder:
                steps.order = node;
                break;
            case LogicalKind::kDistinct:
                steps.distinct = node;
                break;
            case LogicalKind::kFilter:
                (node->over_groups ? steps.having : steps.residual) = node;
                break;
            case LogicalKind::kAggregate:
                steps.aggregate = node;
                break;
            case LogicalKind::kProject:
                steps.project = node;
                break;
            case LogicalKind::kGet:
            case LogicalKind::kExpand:
                steps.source = node;
                break;
        }
    }
    return steps;
}

class Optimizer {
  public:
    Optimizer(ExecState& state, ExplainMode mode) : s_(state), b_(state.bound), mode_(mode) {}

    Result<OperatorPtr> Build(const LogicalNode& plan);

  private:
    // The source and what sits directly on it, up to (not including) Project / Aggregate.
    // *ordered: the rows come in ORDER BY order (no TopK / Sort needed); *exact_k: the source
    // hands up exactly the LIMIT + OFFSET rows a Limit would keep.
    Result<OperatorPtr> BuildSource(const Steps& steps, bool* ordered, bool* exact_k);
    Result<OperatorPtr> BuildVectorSearch(bool* exact_k);
    Result<OperatorPtr> BuildGraphSearch(bool* exact_k);
    // any_order: the rows may come in any order (ReadSpec::any_order).
    Result<OperatorPtr> BuildRead(std::size_t want, bool any_order);
    Result<OperatorPtr> BuildExpand(bool stop_early);
    Result<OperatorPtr> BuildChain(bool order_by_distance);
    // The filter's estimated rows (statistics) and whether indexes answer it.
    Status EstimateFilter(double* rows, bool* indexed) const;
    [[nodiscard]] NodeNeeds Needs(const std::string& variable, bool engine_orders) const;

    template <typename Op, typename... Args>
    std::unique_ptr<Op> Make(Args&&... args) {
        return std::make_unique<Op>(s_, std::forward<Args>(args)...);
    }

    ExecState& s_;
    const BoundSelect& b_;
    ExplainMode mode_;
    double expand_estimate_ = -1;
    bool source_counts_ = false;  // the source hands up count(*) as its one row
    bool is_empty_ = false;       // LIMIT 0 of a nearest-neighbour query: nothing runs
};

NodeNeeds Optimizer::Needs(const std::string& variable, bool engine_orders) const {
    NodeNeeds needs;
    const std::optional<DistanceExpr>& order = b_.order_distance;
    // The ORDER BY distance comes with each hit when the index ranks; otherwise it is computed
    // from the vectors.
    auto from_engine = [&](const DistanceExpr& distance) {
        return engine_orders && order && distance.variable == order->variable &&
               distance.op == order->op && distance.query == order->query;
    };
    VisitSelectExprs(b_, [&](const Expr& node) {
        if (node.kind == ExprKind::kBinary || node.kind == ExprKind::kCall) {
            Result<std::optional<DistanceExpr>> distance = AsDistance(b_, node);
            if (distance.ok() && distance->has_value()) {
                if ((*distance)->variable == variable && !from_engine(**distance)) {
                    needs.vector = true;
                }
                return false;
            }
        }
        if (node.kind == ExprKind::kPath) {
            const std::size_t field_idx = b_.is_match ? 1 : 0;
            if ((b_.is_match && node.path[0] != variable) || node.path.size() <= field_idx) {
                return true;
            }
            const std::string& field = node.path[field_idx];
            needs.metadata = needs.metadata || field == "metadata";
            needs.vector = needs.vector || field == "vector";
            needs.edges = needs.edges || field == "edges";
        }
        return true;
    });
    if (b_.residual) {  // a residual condition may read any field
        needs.metadata = true;
        needs.vector = true;
    }
    return needs;
}

Status Optimizer::EstimateFilter(double* rows, bool* indexed) const {
    *rows = static_cast<double>(b_.info.num_entities);
    *indexed = true;  // ids and no filter: the estimate is exact
    if (b_.where.ids) {
        *rows = std::min(*rows, static_cast<double>(b_.where.ids->size()));
    }
    if (!b_.where.filter_json.empty()) {
        FindOptions options;
        options.filter = b_.where.filter_json;
        options.estimate_only = true;
        PHENIX_ASSIGN_OR_RETURN(FindResponse estimate, s_.reader.Find(b_.ref, options));
        *rows = std::min(*rows, estimate.plan.estimated_rows);
        *indexed = estimate.plan.uses_index;
    }
    return Status::Ok();
}

Result<OperatorPtr> Optimizer::BuildRead(std::size_t want, bool any_order) {
    ReadSpec spec;
    spec.where = b_.where;
    spec.want = want;
    spec.order_by_id = b_.order_by_id;
    spec.any_order = any_order;
    spec.needs = Needs("", /*engine_orders=*/false);
    spec.access = b_.where.ids                   ? ReadAccess::kIdList
                  : b_.where.filter_json.empty() ? ReadAccess::kScan
                                                 : ReadAccess::kFilter;
    double estimated = 0;
    PHENIX_RETURN_IF_ERROR(EstimateFilter(&estimated, &spec.filter_indexed));
    auto read = Make<ReadOperator>(std::move(spec));
    read->estimated_rows = std::min(estimated, static_cast<double>(want));
    return OperatorPtr(std::move(read));
}

Result<OperatorPtr> Optimizer::BuildVectorSearch(bool* exact_k) {
    const DistanceExpr& order = *b_.order_distance;
    const Metric metric = OpMetric(order.op, b_.info.spec.metric);
    const std::size_t k = b_.limit ? b_.Wanted() : 10;  // LIMIT + OFFSET nearest
    if (b_.limit && *b_.limit == 0) {
        *exact_k = true;
        is_empty_ = true;
        return OperatorPtr(Make<EmptyOperator>());
    }
    if (k > kMaxNearest) {
        return ErrorAt(b_.stmt->limit->pos,
                       "a nearest-neighbour query returns at most 10000 rows "
                       "(LIMIT + OFFSET)");
    }
    if (!b_.stmt->limit) {
        return ErrorAt(order.pos,
                       "ORDER BY distance needs a LIMIT (the number of nearest "
                       "neighbours, at most 10000)");
    }
    double estimated = 0;
    bool filter_indexed = true;
    PHENIX_RETURN_IF_ERROR(EstimateFilter(&estimated, &filter_indexed));
    const double total = std::max(1.0, static_cast<double>(b_.info.num_entities));
    const std::size_t ef = std::max(b_.ef.value_or(0), k);
    VectorSearchSpec spec;
    spec.query = order.query;
    SearchOptions& options = spec.options;
    options.k = k;
    options.ef = b_.ef ? static_cast<std::uint32_t>(ef) : 0;
    options.filter = b_.where.filter_json;
    if (b_.where.ids) {
        options.filter_ids = *b_.where.ids;
    }
    const NodeNeeds needs = Needs("", /*engine_orders=*/true);
    options.include_metadata = needs.metadata;
    options.include_vector = needs.vector;
    spec.wants_edges = needs.edges;
    // The strategy EXPLAIN shows: the vector index's own planner rule (index::ChooseFilterStrategy)
    // applied to the statistics' estimate. What runs is that same rule applied by the engine to
    // the filter's exact row count (the bitmap is built anyway), unless a strategy is forced.
    SearchStrategy strategy = SearchStrategy::kAuto;
    std::string why;
    std::string costs;  // the alternatives' estimated costs, when the rule weighed them
    const bool filtered = !b_.where.IsEmpty();
    const double effective_ef =
        static_cast<double>(std::max<std::size_t>(b_.ef.value_or(kDefaultEf), k));
    const index::FilterPlannerOptions planner;
    if (b_.forced_strategy) {
        strategy = *b_.forced_strategy;
        why = "forced by WITH (strategy = ...)";
    } else if (!filtered) {
        why = "no filter";
    } else if (!filter_indexed && total > static_cast<double>(planner.exact_scan_max_rows) &&
               !(b_.where.ids && estimated <= static_cast<double>(planner.exact_scan_max_rows))) {
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
    options.strategy = b_.forced_strategy.value_or(SearchStrategy::kAuto);
    spec.filtered = filtered;
    spec.is_forced = b_.forced_strategy.has_value();
    spec.expected = strategy;
    auto search = Make<VectorSearchOperator>(std::move(spec));
    search->AddDetail("order by vector " + std::string(DistanceOpText(order.op)) + " (" +
                      std::string(MetricName(metric)) + "), k=" + std::to_string(k) +
                      ", ef=" + (b_.ef ? std::to_string(ef) : "collection default"));
    search->AddDetail("why: " + why);
    if (!costs.empty()) {
        search->AddDetail(costs);
    }
    search->estimated_rows = std::min(static_cast<double>(k), estimated);
    if (filtered) {
        auto filter = Make<EngineStep>("Filter " + b_.info.spec.ref.name);
        if (!b_.where.filter_json.empty()) {
            filter->AddDetail("filter: " + b_.where.filter_json);
        }
        if (b_.where.ids) {
            filter->AddDetail("ids: " + std::to_string(b_.where.ids->size()));
        }
        filter->estimated_rows = estimated;
        search->AddChild(std::move(filter));
    }
    *exact_k = true;
    return OperatorPtr(std::move(search));
}

Result<OperatorPtr> Optimizer::BuildGraphSearch(bool* exact_k) {
    const BoundMatch& match = b_.match;
    const DistanceExpr& order = *b_.order_distance;
    if (!b_.stmt->limit) {
        return ErrorAt(order.pos, "ORDER BY distance needs a LIMIT");
    }
    const std::size_t k = b_.Wanted();
    if (*b_.limit == 0) {
        *exact_k = true;
        is_empty_ = true;
        return OperatorPtr(Make<EmptyOperator>());
    }
    if (k > kMaxNearest) {
        return ErrorAt(b_.stmt->limit->pos,
                       "a nearest-neighbour query returns at most 10000 "
                       "rows (LIMIT + OFFSET)");
    }
    VectorSearchSpec spec;
    spec.query = order.query;
    spec.is_graph = true;
    spec.needs_start = match.needs_start;
    spec.start_filter = match.start_filter;
    SearchOptions& options = spec.options;
    options.k = k;
    options.ef = b_.ef ? static_cast<std::uint32_t>(*b_.ef) : 0;
    options.filter = b_.where.filter_json;
    if (b_.where.ids) {
        options.filter_ids = *b_.where.ids;
    }
    GraphConstraint graph;
    graph.start_id = match.start_id;
    graph.min_hops = match.min_hops;
    graph.max_hops = match.max_hops;
    graph.direction = match.direction;
    graph.edges = match.edge_match;
    graph.include_start = true;  // a walk that returns to the start reaches it (self-loops)
    options.graph = std::move(graph);
    const NodeNeeds needs = Needs(match.end_var, /*engine_orders=*/true);
    options.include_metadata = needs.metadata;
    options.include_vector = needs.vector;
    spec.wants_edges = needs.edges;
    if (b_.forced_strategy) {
        options.strategy = *b_.forced_strategy;
    }
    if (b_.forced_graph_plan) {
        options.graph_plan = *b_.forced_graph_plan;
    }
    std::string plan_reason;
    if (mode_ == ExplainMode::kExplain) {
        // The label names the graph plan the engine would pick (from its neighbourhood
        // estimate); EXPLAIN ANALYZE names the one it ran.
        SearchOptions estimate = options;
        estimate.estimate_only = true;
        Result<SearchResponse> planned = s_.reader.Search(b_.ref, order.query, estimate);
        if (!planned.ok() && planned.status().code() != StatusCode::kNotFound) {
            return planned.status();
        }
        if (planned.ok()) {
            spec.expected_graph = planned->plan;
            plan_reason = planned->plan.graph_plan_reason;
        }
    }
    const double graph_estimate = spec.expected_graph.graph_estimated_rows;
    auto search = Make<VectorSearchOperator>(std::move(spec));
    search->AddDetail("order by " + match.end_var + ".vector " +
                      std::string(DistanceOpText(order.op)) + ", k=" + std::to_string(k));
    if (!b_.where.filter_json.empty()) {
        search->AddDetail("filter on " + match.end_var + ": " + b_.where.filter_json);
    }
    if (!plan_reason.empty()) {
        search->AddDetail("graph plan: " + plan_reason);
    }
    auto expand =
        Make<EngineStep>("Expand " + b_.info.spec.ref.name + " from '" + match.start_id + "'");
    expand->AddDetail(DescribeEdges(match));
    expand->estimated_rows = graph_estimate > 0 ? graph_estimate : expand_estimate_;
    search->estimated_rows = std::min(static_cast<double>(k), std::max(0.0, expand_estimate_));
    search->AddChild(std::move(expand));
    *exact_k = true;
    return OperatorPtr(std::move(search));
}

Result<OperatorPtr> Optimizer::BuildExpand(bool stop_early) {
    const BoundMatch& match = b_.match;
    ExpandSpec spec;
    spec.paths = match.needs_paths;
    spec.count_only = b_.is_count_only && !match.needs_paths && !b_.residual;
    source_counts_ = spec.count_only;
    spec.needs = Needs(match.end_var, /*engine_orders=*/false);
    if (stop_early && b_.limit) {
        spec.limit = b_.Wanted();
    }
    auto expand = Make<ExpandOperator>(std::move(spec));
    expand->AddDetail(DescribeEdges(match));
    if (!match.start_choice.empty()) {
        expand->AddDetail(match.start_choice);
    }
    expand->estimated_rows = expand_estimate_;
    return OperatorPtr(std::move(expand));
}

// A chain: the start's bindings, then one ChainExpand per segment in the walk's order (each an
// index nested-loop join of the bindings so far with the adjacency of one node), ranked exactly
// above when a distance orders it. Nothing is pushed into the walk: a LIMIT stops pulling.
Result<OperatorPtr> Optimizer::BuildChain(bool order_by_distance) {
    const BoundChain& chain = *b_.chain;
    const ChainNode& start_node = chain.nodes[chain.start];
    auto start = Make<ChainStartOperator>(Needs(start_node.var, /*engine_orders=*/false));
    if (!chain.start_choice.empty()) {
        start->AddDetail(chain.start_choice);
    }
    std::string walk = "walk: ";
    for (std::size_t idx = 0; idx < chain.steps.size(); ++idx) {
        const ChainStep& step = chain.steps[idx];
        walk += (idx == 0 ? "" : ", ") + chain.nodes[step.from].var + " -> " +
                chain.nodes[step.to].var + " (segment " + std::to_string(step.segment + 1) +
                (step.backwards ? ", backwards)" : ")");
    }
    start->AddDetail(walk);
    if (!start_node.where.filter_json.empty()) {
        start->AddDetail("filter on " + start_node.var + ": " + start_node.where.filter_json);
    }
    double rows = static_cast<double>(start_node.where.ids->size());
    start->estimated_rows = rows;
    OperatorPtr root = std::move(start);
    for (const ChainStep& step : chain.steps) {
        auto expand = Make<ChainExpandOperator>(
            step, Needs(chain.nodes[step.to].var, /*engine_orders=*/false));
        rows = rows >= 0 && step.estimate >= 0 ? rows * step.estimate : -1;
        expand->estimated_rows = rows;
        expand->AddChild(std::move(root));
        root = std::move(expand);
    }
    if (!order_by_distance) {
        return root;
    }
    const DistanceExpr& order = *b_.order_distance;
    auto rank = Make<ExactRankOperator>(chain.nodes[*chain.NodeOf(order.variable)].ref.name);
    rank->AddDetail(std::string("order by ") + order.variable + ".vector " +
                    std::string(DistanceOpText(order.op)) + (b_.order_descending ? " DESC" : "") +
                    ": ranked exactly over the chain's rows");
    rank->estimated_rows = root->estimated_rows;
    rank->AddChild(std::move(root));
    return OperatorPtr(std::move(rank));
}

Result<OperatorPtr> Optimizer::BuildSource(const Steps& steps, bool* ordered, bool* exact_k) {
    *ordered = b_.order_keys.empty();
    *exact_k = false;
    const bool order_by_distance = steps.order != nullptr && steps.order->by_distance;
    if (b_.chain) {
        return BuildChain(order_by_distance);
    }
    if (b_.is_match) {
        const BoundMatch& match = b_.match;
        // Estimate (for EXPLAIN only): the start's degree, raised to the hop count, capped by
        // the collection.
        if (mode_ != ExplainMode::kNone) {
            Result<std::uint64_t> degree =
                s_.reader.Degree(b_.ref, match.start_id, match.direction, match.edge_match);
            if (!degree.ok() && degree.status().code() == StatusCode::kNotFound) {
                expand_estimate_ = 0;
            } else if (degree.ok()) {
                expand_estimate_ =
                    *degree == 0 ? 0
                                 : std::min(static_cast<double>(b_.info.num_entities),
                                            std::pow(static_cast<double>(*degree), match.max_hops));
            }
        }
        // Graph-first, then the index: a nearest-neighbour search restricted to what the
        // pattern reaches, when the far node is in the start's collection and the metric is
        // the index's.
        const bool can_search =
            order_by_distance && !match.needs_paths && !b_.order_descending &&
            b_.order_distance->variable == match.end_var &&
            match.end_collection == b_.info.spec.ref.name &&
            OpMetric(b_.order_distance->op, b_.info.spec.metric) == b_.info.spec.metric;
        if (can_search) {
            *ordered = b_.order_keys.size() == 1;
            return BuildGraphSearch(exact_k);
        }
        const bool stop_early =
            b_.stmt->order_by.empty() && !b_.is_aggregate && !b_.stmt->distinct && !b_.residual;
        PHENIX_ASSIGN_OR_RETURN(OperatorPtr expand, BuildExpand(stop_early));
        if (!order_by_distance) {
            return expand;
        }
        auto rank = Make<ExactRankOperator>(match.end_collection);
        rank->AddDetail(std::string("order by ") + b_.order_distance->variable + ".vector " +
                        std::string(DistanceOpText(b_.order_distance->op)));
        rank->estimated_rows = expand->estimated_rows;
        rank->AddChild(std::move(expand));
        return OperatorPtr(std::move(rank));
    }
    if (order_by_distance) {
        const Metric metric = OpMetric(b_.order_distance->op, b_.info.spec.metric);
        if (metric == b_.info.spec.metric && !b_.order_descending && !b_.residual) {
            *ordered = b_.order_keys.size() == 1;
            return BuildVectorSearch(exact_k);
        }
        // ORDER BY a distance the vector index cannot answer (another metric than the
        // collection's, DESC): exact distances over the matching rows, ranked as they stream
        // (a top-k with LIMIT).
        PHENIX_ASSIGN_OR_RETURN(OperatorPtr input, BuildRead(SIZE_MAX, /*any_order=*/true));
        auto rank = Make<ExactRankOperator>(b_.info.spec.ref.name);
        rank->AddDetail(
            std::string("order by ") + std::string(DistanceOpText(b_.order_distance->op)) +
            (b_.order_descending ? " DESC" : "") +
            (b_.order_distance->op != DistanceOp::kCollection && metric != b_.info.spec.metric
                 ? ": not the collection's metric (" +
                       std::string(MetricName(b_.info.spec.metric)) +
                       "), so the index cannot rank it"
             : b_.order_descending ? ": descending order is ranked exactly"
                                   : ": WHERE has terms evaluated per row, so the index "
                                     "cannot rank the rows they keep"));
        rank->estimated_rows = std::min(input->estimated_rows, static_cast<double>(b_.Wanted()));
        rank->AddChild(std::move(input));
        return OperatorPtr(std::move(rank));
    }
    if (b_.is_count_only && !b_.where.ids && !b_.residual) {
        // count(*) alone: the filter's exact count, no rows read.
        double estimated = 0;
        bool indexed = true;
        PHENIX_RETURN_IF_ERROR(EstimateFilter(&estimated, &indexed));
        auto count = Make<CountOperator>(b_.where.filter_json);
        source_counts_ = true;
        if (!b_.where.filter_json.empty()) {
            count->AddDetail("filter: " + b_.where.filter_json);
        }
        count->estimated_rows = estimated;
        return OperatorPtr(std::move(count));
    }
    // ORDER BY id (ascending) is the scan's own order: it needs no sort, and the read stops
    // after LIMIT + OFFSET rows when nothing between drops or regroups rows.
    *ordered = *ordered || b_.order_by_id;
    const bool can_stop = *ordered && !b_.is_aggregate && !b_.stmt->distinct && !b_.residual;
    // Groups come out in key order and a sort orders its rows itself (ties keep the order the
    // rows were read in, which SQL leaves open): the read may hand rows up in any order.
    const bool any_order = b_.is_aggregate || (!b_.order_keys.empty() && !b_.order_by_id);
    return BuildRead(can_stop ? b_.Wanted() : SIZE_MAX, any_order);
}

Result<OperatorPtr> Optimizer::Build(const LogicalNode& plan) {
    const Steps steps = Flatten(plan);
    bool ordered = false;
    bool exact_k = false;
    PHENIX_ASSIGN_OR_RETURN(OperatorPtr root, BuildSource(steps, &ordered, &exact_k));
    const bool is_empty = is_empty_;
    auto over = [&](OperatorPtr parent, double estimated) {
        parent->estimated_rows = estimated;
        parent->AddChild(std::move(root));
        root = std::move(parent);
    };
    if (steps.residual != nullptr) {
        const double rows = root->estimated_rows;
        over(Make<FilterOperator>(*steps.residual->condition, FilterOperator::Over::kRows), rows);
    }
    if (steps.aggregate != nullptr) {
        over(Make<AggregateOperator>(source_counts_),
             b_.stmt->group_by.empty() ? 1 : root->estimated_rows);
        if (steps.having != nullptr) {
            const double rows = root->estimated_rows;
            over(Make<FilterOperator>(*steps.having->condition, FilterOperator::Over::kGroups),
                 rows);
        }
        ordered = b_.order_keys.empty();
        exact_k = false;
    } else {
        const double rows = root->estimated_rows;
        over(Make<ProjectOperator>(), rows);
    }
    if (steps.distinct != nullptr) {
        const double rows = root->estimated_rows;
        over(Make<DistinctOperator>(), rows);
    }
    if (steps.order != nullptr && !ordered && !is_empty) {
        const double rows = root->estimated_rows;
        if (steps.order->keep) {
            over(Make<SortOperator>(steps.order->keep),
                 std::min(rows < 0 ? 1e18 : rows, static_cast<double>(*steps.order->keep)));
            exact_k = true;
        } else {
            over(Make<SortOperator>(std::nullopt), rows);
        }
    }
    if (steps.limit != nullptr && !is_empty && !(exact_k && steps.limit->offset == 0)) {
        const double rows = root->estimated_rows;
        const double after_offset =
            rows < 0 ? rows : std::max(0.0, rows - static_cast<double>(steps.limit->offset));
        over(Make<LimitOperator>(steps.limit->limit, steps.limit->offset),
             steps.limit->limit ? std::min(after_offset < 0 ? 1e18 : after_offset,
                                           static_cast<double>(*steps.limit->limit))
                                : after_offset);
    }
    return root;
}

}  // namespace

namespace {

constexpr std::size_t kChainSample = 32;  // nodes whose degrees stand for a segment's far side

phenix::EdgeDirection WalkedDirection(const ChainSegment& segment, bool backwards) {
    if (!backwards || segment.direction == phenix::EdgeDirection::kBoth) {
        return segment.direction;
    }
    return segment.direction == phenix::EdgeDirection::kOut ? phenix::EdgeDirection::kIn
                                                            : phenix::EdgeDirection::kOut;
}

// The statistics of one walk of a chain: each step's rows per binding of its near node, from
// degrees. The first step from the start uses the start ids' own degrees (raised to the hop
// count, capped by the far collection); a later step the mean degree of a sample of the nodes the
// steps before it reach (their first hops). A step into a node with ids keeps the share of its
// collection they are.
class ChainEstimator {
  public:
    ChainEstimator(const BoundChain& chain, const Reader& reader)
        : chain_(chain), reader_(reader) {}

    // The fan-out of every step of the walk that starts at `start` along `steps`.
    Result<std::vector<double>> FanOuts(std::size_t start, const std::vector<ChainStep>& steps) {
        std::vector<double> fan_outs;
        // The sample of bound nodes each side's next step starts from, by node index.
        std::map<std::size_t, std::vector<std::pair<CollectionRef, std::string>>> frontier;
        const ChainNode& start_node = chain_.nodes[start];
        for (const std::string& id : *start_node.where.ids) {
            if (frontier[start].size() < kChainSample) {
                frontier[start].emplace_back(start_node.ref, id);
            }
        }
        for (const ChainStep& step : steps) {
            const ChainSegment& segment = chain_.segments[step.segment];
            const phenix::EdgeDirection direction = WalkedDirection(segment, step.backwards);
            const ChainNode& to = chain_.nodes[step.to];
            std::vector<std::pair<CollectionRef, std::string>>& from = frontier[step.from];
            std::vector<std::pair<CollectionRef, std::string>>& next = frontier[step.to];
            double total = 0;
            std::size_t counted = 0;
            for (const auto& [ref, id] : from) {
                Result<std::uint64_t> degree =
                    reader_.Degree(ref, id, direction, segment.edge_match);
                if (!degree.ok() && degree.status().code() != StatusCode::kNotFound) {
                    return degree.status();
                }
                ++counted;
                const double reached =
                    !degree.ok() || *degree == 0
                        ? 0.0
                        : std::min(static_cast<double>(to.info.num_entities),
                                   std::pow(static_cast<double>(*degree), segment.max_hops));
                total += reached;
                if (next.size() < kChainSample && degree.ok() && *degree > 0) {
                    PHENIX_RETURN_IF_ERROR(Sample(ref, id, direction, segment.edge_match, &next));
                }
            }
            double fan_out = counted == 0 ? 0.0 : total / static_cast<double>(counted);
            if (to.where.ids && step.to != start) {
                fan_out *=
                    std::min(1.0, static_cast<double>(to.where.ids->size()) /
                                      std::max(1.0, static_cast<double>(to.info.num_entities)));
            }
            fan_outs.push_back(fan_out);
        }
        return fan_outs;
    }

  private:
    // Up to kChainSample first-hop neighbours of `id` into `sample` (a traversal that stops
    // there: a hub's whole list is not read).
    Status Sample(const CollectionRef& ref, const std::string& id, phenix::EdgeDirection direction,
                  const EdgeMatch& edges,
                  std::vector<std::pair<CollectionRef, std::string>>* sample) {
        TraversalSpec spec;
        spec.start_id = id;
        spec.direction = direction;
        spec.edges = edges;
        spec.include_start = true;  // a self-loop reaches the node itself
        spec.limit = kChainSample - sample->size();
        Result<TraversalResponse> reached = reader_.Traverse(ref, spec);
        if (!reached.ok()) {
            return reached.status().code() == StatusCode::kNotFound ? Status::Ok()
                                                                    : reached.status();
        }
        for (const ReachedEntity& entity : reached->entities) {
            sample->emplace_back(entity.collection, entity.id);
        }
        return Status::Ok();
    }

    const BoundChain& chain_;
    const Reader& reader_;
};

}  // namespace

Status ChooseChainStart(BoundSelect& bound, Database& db) {
    BoundChain& chain = *bound.chain;
    const Reader reader = bound.reader(db);
    ChainEstimator estimator(chain, reader);
    // Each candidate start, each side first when it has two: the rows the walk hands from step
    // to step (the work of the joins; the final rows are the same from every start).
    struct Walk {
        std::size_t start = 0;
        bool right_first = true;
        std::vector<ChainStep> steps;
        double cost = 0;
    };
    std::optional<Walk> best;
    std::string choice = "start: ";
    for (std::size_t idx = 0; idx < chain.candidates.size(); ++idx) {
        const std::size_t start = chain.candidates[idx];
        std::optional<Walk> best_here;
        const bool is_middle = start > 0 && start + 1 < chain.nodes.size();
        for (const bool right_first :
             is_middle ? std::vector<bool>{true, false} : std::vector<bool>{true}) {
            chain.PlanSteps(start, right_first);
            PHENIX_ASSIGN_OR_RETURN(std::vector<double> fan_outs,
                                    estimator.FanOuts(start, chain.steps));
            Walk walk{start, right_first, chain.steps, 0};
            double rows = static_cast<double>(chain.nodes[start].where.ids->size());
            for (std::size_t step_idx = 0; step_idx < walk.steps.size(); ++step_idx) {
                walk.steps[step_idx].estimate = fan_outs[step_idx];
                rows *= fan_outs[step_idx];
                walk.cost += rows;
            }
            if (!best_here || walk.cost < best_here->cost) {
                best_here = std::move(walk);
            }
        }
        choice += (idx == 0 ? "" : " or ") + chain.nodes[start].var + ".id (est. " +
                  FormatRows(best_here->cost) + " rows walked)";
        if (!best || best_here->cost < best->cost) {
            best = std::move(best_here);
        }
    }
    chain.start = best->start;
    chain.steps = std::move(best->steps);
    chain.start_choice = choice + (chain.candidates.size() > 1 ? ": " + chain.nodes[best->start].var
                                                               : std::string());
    bound.info = chain.nodes[best->start].info;
    bound.ref = chain.nodes[best->start].ref;
    return Status::Ok();
}

Status ChooseMatchStart(BoundSelect& bound, Database& db) {
    if (bound.chain) {
        return ChooseChainStart(bound, db);
    }
    if (!bound.other_start) {
        return Status::Ok();
    }
    if (bound.order_distance) {
        bound.other_start.reset();
        return Status::Ok();
    }
    const Reader reader = bound.reader(db);
    auto reached = [&](const BoundMatch& match, const CollectionRef& ref,
                       const CollectionInfo& info) -> Result<double> {
        Result<std::uint64_t> degree =
            reader.Degree(ref, match.start_id, match.direction, match.edge_match);
        if (!degree.ok()) {
            if (degree.status().code() == StatusCode::kNotFound) {
                return 0.0;  // no such start: the pattern has no rows
            }
            return degree.status();
        }
        return *degree == 0 ? 0.0
                            : std::min(static_cast<double>(info.num_entities),
                                       std::pow(static_cast<double>(*degree), match.max_hops));
    };
    BoundSelect::MatchStart& other = *bound.other_start;
    PHENIX_ASSIGN_OR_RETURN(const double first, reached(bound.match, bound.ref, bound.info));
    PHENIX_ASSIGN_OR_RETURN(const double second, reached(other.match, other.ref, other.info));
    std::string choice = "start: " + bound.match.start_var + ".id (est. " + FormatRows(first) +
                         " reached) or " + other.match.start_var + ".id (est. " +
                         FormatRows(second) + " reached): ";
    if (second < first) {
        bound.match = std::move(other.match);
        bound.where = std::move(other.where);
        bound.info = std::move(other.info);
        bound.ref = std::move(other.ref);
    }
    bound.match.start_choice = choice + bound.match.start_var;
    bound.other_start.reset();
    return Status::Ok();
}

Result<std::unique_ptr<PhysicalOperator>> Optimize(const LogicalNode& plan, ExecState& state,
                                                   ExplainMode mode) {
    Optimizer optimizer(state, mode);
    return optimizer.Build(plan);
}

}  // namespace phenix::query
