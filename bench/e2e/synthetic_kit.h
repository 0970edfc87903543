// SPDX-License-Identifier: Apache-2.0
//
// The reference code the end-to-end drivers check the engine against, and the synthetic data
// kit they write with it (--make-kit N) so that they run as smoke tests without the real kit
// (../shared/bench/README.md): exact distances, the kit's Mongo-like filters evaluated on
// meta.jsonl documents, the out-neighbourhood of a node on a CSR, and WriteSyntheticKit, which
// writes base.fvecs, query.fvecs, meta.jsonl, edges.tsv, filters.json (optionally
// filtered_gt_{l2,cos}.{ivecs,dist.fvecs}) and hybrid_gt.jsonl with brute-force ground truth.
// Header-only, over nlohmann's ordered_json; unsupported filter operators throw KitError.
// Every function is thread-compatible; the kit is a pure function of its size and options.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kit_files.h"

namespace phenix::bench_kit {

using Json = nlohmann::ordered_json;

/// The row of a kit entity id ("<row>"), or nullopt if `id` is not a plain decimal number.
inline std::optional<std::uint32_t> ParseRow(std::string_view id) {
    std::uint32_t row = 0;
    const auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), row);
    if (ec != std::errc() || ptr != id.data() + id.size() || id.empty()) {
        return std::nullopt;
    }
    return row;
}

/// Exact distance in double precision: squared L2, or 1 - cosine similarity when `cosine`.
inline double TrueDistance(std::span<const float> a, std::span<const float> b, bool cosine) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    double l2 = 0;
    for (std::size_t d = 0; d < a.size(); ++d) {
        const double x = a[d];
        const double y = b[d];
        dot += x * y;
        na += x * x;
        nb += y * y;
        l2 += (x - y) * (x - y);
    }
    if (!cosine) {
        return l2;
    }
    return 1.0 - dot / (std::sqrt(na) * std::sqrt(nb));
}

// ---------------------------------------------------------------------------------------------
// Reference filter evaluation (the subset of include/phenix/query.h the kit uses: $eq $ne $gt
// $gte $lt $lte $in $nin $exists $and $or $not, implicit equality, dot paths, arrays match if
// any element does; comparisons only between values of the same type, ints and floats alike).

namespace detail {

inline const Json* Lookup(const Json& doc, std::string_view path) {
    if (path.starts_with("metadata.")) {
        path.remove_prefix(9);
    }
    const Json* node = &doc;
    while (true) {
        const auto dot = path.find('.');
        const std::string key(path.substr(0, dot));
        if (!node->is_object()) {
            return nullptr;
        }
        const auto it = node->find(key);
        if (it == node->end()) {
            return nullptr;
        }
        node = &*it;
        if (dot == std::string_view::npos) {
            return node;
        }
        path.remove_prefix(dot + 1);
    }
}

// -2: types differ (no comparison), else -1/0/1.
inline int Compare(const Json& a, const Json& b) {
    if (a.is_number() && b.is_number()) {
        const double x = a.get<double>();
        const double y = b.get<double>();
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (a.is_string() && b.is_string()) {
        const auto& x = a.get_ref<const std::string&>();
        const auto& y = b.get_ref<const std::string&>();
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (a.is_boolean() && b.is_boolean()) {
        return static_cast<int>(a.get<bool>()) - static_cast<int>(b.get<bool>());
    }
    if (a.is_null() && b.is_null()) {
        return 0;
    }
    return -2;
}

inline bool OperatorMatches(const Json& value, std::string_view op, const Json& arg) {
    const int cmp = Compare(value, arg);
    if (op == "$eq") {
        return cmp == 0;
    }
    if (op == "$gt") {
        return cmp == 1;
    }
    if (op == "$gte") {
        return cmp == 0 || cmp == 1;
    }
    if (op == "$lt") {
        return cmp == -1;
    }
    if (op == "$lte") {
        return cmp == 0 || cmp == -1;
    }
    if (op == "$in") {
        return std::any_of(arg.begin(), arg.end(),
                           [&](const Json& item) { return Compare(value, item) == 0; });
    }
    throw KitError("reference evaluator: unsupported operator " + std::string(op));
}

// `value` may be null (path absent); arrays match if any element does.
inline bool ValueMatches(const Json* value, std::string_view op, const Json& arg) {
    if (value == nullptr) {
        return false;
    }
    if (value->is_array()) {
        return std::any_of(value->begin(), value->end(),
                           [&](const Json& item) { return OperatorMatches(item, op, arg); });
    }
    return OperatorMatches(*value, op, arg);
}

inline bool ConditionMatches(const Json* value, const Json& cond) {
    const bool is_operator_object =
        cond.is_object() && !cond.empty() && cond.begin().key().starts_with("$");
    if (!is_operator_object) {
        return ValueMatches(value, "$eq", cond);
    }
    for (const auto& [op, arg] : cond.items()) {
        bool ok = false;
        if (op == "$ne") {
            ok = !ValueMatches(value, "$eq", arg);
        } else if (op == "$nin") {
            ok = !ValueMatches(value, "$in", arg);
        } else if (op == "$exists") {
            ok = (value != nullptr) == arg.get<bool>();
        } else if (op == "$not") {
            ok = !ConditionMatches(value, arg);
        } else {
            ok = ValueMatches(value, op, arg);
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

}  // namespace detail

/// Whether the meta.jsonl document `doc` matches the Mongo-like `filter` (null matches all).
inline bool FilterMatches(const Json& filter, const Json& doc) {
    if (filter.is_null()) {
        return true;
    }
    for (const auto& [key, cond] : filter.items()) {
        bool ok = false;
        if (key == "$and") {
            ok = std::all_of(cond.begin(), cond.end(),
                             [&](const Json& sub) { return FilterMatches(sub, doc); });
        } else if (key == "$or") {
            ok = std::any_of(cond.begin(), cond.end(),
                             [&](const Json& sub) { return FilterMatches(sub, doc); });
        } else if (key == "$not") {
            ok = !FilterMatches(cond, doc);
        } else {
            ok = detail::ConditionMatches(detail::Lookup(doc, key), cond);
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

/// Nodes reachable in 1..max_hops hops along `out` from `start` (start excluded), sorted.
inline std::vector<std::uint32_t> Reach(const Csr& out, std::uint32_t start,
                                        std::uint32_t max_hops) {
    std::unordered_set<std::uint32_t> seen = {start};
    std::vector<std::uint32_t> frontier = {start};
    std::vector<std::uint32_t> reached;
    for (std::uint32_t depth = 1; depth <= max_hops && !frontier.empty(); ++depth) {
        std::vector<std::uint32_t> next;
        for (const std::uint32_t node : frontier) {
            for (const std::uint32_t target : out.Neighbours(node)) {
                if (seen.insert(target).second) {
                    reached.push_back(target);
                    next.push_back(target);
                }
            }
        }
        frontier.swap(next);
    }
    std::sort(reached.begin(), reached.end());
    return reached;
}

// ---------------------------------------------------------------------------------------------
// The synthetic kit

/// How edges.tsv draws each source's out-edges; half of the targets (by a fair draw) come from
/// the source's own topic, the others from all rows; no self-loops, no duplicate (src, dst).
enum class EdgeModel {
    /// out-degree 2 + geometric(0.3) (at most n/4, 4 draws per edge at most), global targets
    /// Zipf-popular (s = 0.8 over a random ranking); rel 1 = the target was drawn in-topic.
    kPopularity,
    /// out-degree 2..7 uniform, global targets uniform; rel 1 = the target shares the topic.
    kUniform,
};

struct SyntheticKitOptions {
    std::uint64_t rng_seed = 0;
    std::size_t num_queries = 100;
    /// False: queries come from topics 1.. only, so that topic 0 is anti-correlated with all.
    bool has_topic_zero_queries = true;
    EdgeModel edge_model = EdgeModel::kUniform;
    /// filters.json's "queries" entry.
    std::string filters_note;
    /// Filters after the kit's six standard ones.
    std::vector<std::pair<std::string, Json>> extra_filters;
    /// Also write "k" and "n_queries" to filters.json, and filtered_gt_{l2,cos}.ivecs and
    /// .dist.fvecs: the top-k of every query among the rows matching each filter (-1 pads).
    bool has_filtered_gt = false;
    /// Neighbours per answer in hybrid_gt.jsonl and filtered_gt_*.
    std::size_t k = 10;
    std::size_t hybrid_per_metric = 30;
};

/// Writes a synthetic kit of `n` rows (n >= 100) to `dir` (created if missing): 16-dimensional
/// vectors around 8 Gaussian topic centres, meta.jsonl with the real kit's fields and
/// distributions, edges.tsv per `options.edge_model`, and the ground truth. Returns the number
/// of edges written. The same `n` and options always give the same bytes.
inline std::size_t WriteSyntheticKit(const std::string& dir, std::size_t n,
                                     const SyntheticKitOptions& options) {
    constexpr std::size_t kDim = 16;
    constexpr std::size_t kClusters = 8;
    const std::size_t num_queries = options.num_queries;
    const std::size_t k = options.k;
    std::filesystem::create_directories(dir);
    std::mt19937_64 rng(options.rng_seed);
    std::normal_distribution<float> gauss(0.0F, 1.0F);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);

    std::vector<float> centres(kClusters * kDim);
    for (auto& value : centres) {
        value = gauss(rng);
    }
    std::vector<std::uint32_t> topic(n);
    std::vector<std::vector<std::uint32_t>> members(kClusters);
    Matrix<float> base{.rows = n, .dim = kDim, .values = std::vector<float>(n * kDim)};
    for (std::size_t row = 0; row < n; ++row) {
        topic[row] = static_cast<std::uint32_t>(rng() % kClusters);
        members[topic[row]].push_back(static_cast<std::uint32_t>(row));
        for (std::size_t d = 0; d < kDim; ++d) {
            base.values[row * kDim + d] = centres[topic[row] * kDim + d] + 0.4F * gauss(rng);
        }
    }
    Matrix<float> queries{
        .rows = num_queries, .dim = kDim, .values = std::vector<float>(num_queries * kDim)};
    for (std::size_t row = 0; row < num_queries; ++row) {
        const auto cluster =
            options.has_topic_zero_queries ? rng() % kClusters : 1 + rng() % (kClusters - 1);
        for (std::size_t d = 0; d < kDim; ++d) {
            queries.values[row * kDim + d] = centres[cluster * kDim + d] + 0.4F * gauss(rng);
        }
    }
    WriteVecs(dir + "/base.fvecs", base);
    WriteVecs(dir + "/query.fvecs", queries);

    // meta.jsonl: the kit's fields and distributions (category Zipf over 0..9).
    std::vector<double> category_cdf(10);
    double total = 0;
    for (std::size_t c = 0; c < 10; ++c) {
        total += 1.0 / static_cast<double>(c + 1);
        category_cdf[c] = total;
    }
    std::vector<Json> meta(n);
    {
        std::ofstream out(dir + "/meta.jsonl", std::ios::trunc);
        std::lognormal_distribution<double> price(std::log(20.0), 0.8);
        for (std::size_t row = 0; row < n; ++row) {
            const double pick = uniform(rng) * total;
            const auto category =
                static_cast<int>(std::lower_bound(category_cdf.begin(), category_cdf.end(), pick) -
                                 category_cdf.begin());
            char tenant[8];
            std::snprintf(tenant, sizeof tenant, "t%02d", static_cast<int>(rng() % 100));
            Json doc;
            doc["id"] = row;
            doc["category"] = std::min(category, 9);
            doc["year"] = 2000 + static_cast<int>(rng() % 25);
            doc["tenant"] = tenant;
            doc["bucket"] = static_cast<int>(rng() % 1000);
            doc["price"] = std::round(price(rng) * 100.0) / 100.0;
            doc["active"] = uniform(rng) < 0.9;
            doc["topic"] = topic[row];
            out << doc.dump() << '\n';
            meta[row] = std::move(doc);
        }
    }

    // edges.tsv (see EdgeModel).
    const bool is_popularity = options.edge_model == EdgeModel::kPopularity;
    std::vector<double> popularity_cdf;
    std::vector<std::uint32_t> by_popularity;
    if (is_popularity) {
        popularity_cdf.resize(n);
        by_popularity.resize(n);
        std::iota(by_popularity.begin(), by_popularity.end(), 0U);
        std::shuffle(by_popularity.begin(), by_popularity.end(), rng);
        total = 0;
        for (std::size_t rank = 0; rank < n; ++rank) {
            total += std::pow(static_cast<double>(rank + 1), -0.8);
            popularity_cdf[rank] = total;
        }
    }
    std::geometric_distribution<int> extra_degree(0.3);
    EdgeList edges;
    {
        std::ofstream out(dir + "/edges.tsv", std::ios::trunc);
        out << "src\tdst\trel\tweight\n";
        std::unordered_set<std::uint32_t> seen;
        for (std::size_t row = 0; row < n; ++row) {
            const std::size_t degree =
                is_popularity
                    ? std::min<std::size_t>(2 + static_cast<std::size_t>(extra_degree(rng)), n / 4)
                    : 2 + rng() % 6;
            const std::size_t max_attempts =
                is_popularity ? degree * 4 : std::numeric_limits<std::size_t>::max();
            seen.clear();
            for (std::size_t attempt = 0; attempt < max_attempts && seen.size() < degree;
                 ++attempt) {
                const bool local = uniform(rng) < 0.5;
                std::uint32_t target = 0;
                if (local) {
                    const auto& group = members[topic[row]];
                    target = group[rng() % group.size()];
                } else if (is_popularity) {
                    const double pick = uniform(rng) * total;
                    const auto rank = std::min<std::size_t>(
                        static_cast<std::size_t>(
                            std::lower_bound(popularity_cdf.begin(), popularity_cdf.end(), pick) -
                            popularity_cdf.begin()),
                        n - 1);
                    target = by_popularity[rank];
                } else {
                    target = static_cast<std::uint32_t>(rng() % n);
                }
                if (target == row || !seen.insert(target).second) {
                    continue;
                }
                const double weight = std::round((0.1 + 0.9 * uniform(rng)) * 1000.0) / 1000.0;
                const bool is_in_topic = is_popularity ? local : topic[target] == topic[row];
                char line[96];
                std::snprintf(line, sizeof line, "%zu\t%u\t%d\t%.3f\n", row, target,
                              is_in_topic ? 1 : 0, weight);
                out << line;
                edges.src.push_back(static_cast<std::uint32_t>(row));
                edges.dst.push_back(target);
                edges.rel.push_back(is_in_topic ? 1 : 0);
                edges.weight.push_back(weight);
            }
        }
    }

    // filters.json (the kit's standard filters with exact counts) and filtered_gt_*.
    std::vector<std::pair<std::string, Json>> filters = {
        {"cat_eq_3", Json::parse(R"({"category": {"$eq": 3}})")},
        {"bucket_lt_100", Json::parse(R"({"bucket": {"$lt": 100}})")},
        {"bucket_lt_10", Json::parse(R"({"bucket": {"$lt": 10}})")},
        {"tenant_eq_t07", Json::parse(R"({"tenant": {"$eq": "t07"}})")},
        {"year_ge_2020_and_cat_eq_0",
         Json::parse(R"({"$and": [{"year": {"$gte": 2020}}, {"category": {"$eq": 0}}]})")},
        {"active_and_price_lt_5",
         Json::parse(R"({"$and": [{"active": {"$eq": true}}, {"price": {"$lt": 5.0}}]})")},
    };
    filters.insert(filters.end(), options.extra_filters.begin(), options.extra_filters.end());
    Json filters_doc;
    filters_doc["queries"] = options.filters_note;
    if (options.has_filtered_gt) {
        filters_doc["k"] = k;
        filters_doc["n_queries"] = num_queries;
    }
    filters_doc["filters"] = Json::array();
    const std::size_t gt_rows = filters.size() * num_queries;
    Matrix<std::int32_t> gt_ids[2];
    Matrix<float> gt_dists[2];
    for (std::size_t m_idx = 0; m_idx < 2; ++m_idx) {
        gt_ids[m_idx] = {
            .rows = gt_rows, .dim = k, .values = std::vector<std::int32_t>(gt_rows * k, -1)};
        gt_dists[m_idx] = {
            .rows = gt_rows, .dim = k, .values = std::vector<float>(gt_rows * k, 0.0F)};
    }
    for (std::size_t f_idx = 0; f_idx < filters.size(); ++f_idx) {
        std::vector<std::uint32_t> matching;
        for (std::size_t row = 0; row < n; ++row) {
            if (FilterMatches(filters[f_idx].second, meta[row])) {
                matching.push_back(static_cast<std::uint32_t>(row));
            }
        }
        Json entry;
        entry["name"] = filters[f_idx].first;
        entry["where"] = filters[f_idx].second;
        entry["n_match"] = matching.size();
        entry["selectivity"] = static_cast<double>(matching.size()) / static_cast<double>(n);
        filters_doc["filters"].push_back(entry);
        if (!options.has_filtered_gt) {
            continue;
        }
        for (std::size_t m_idx = 0; m_idx < 2; ++m_idx) {
            for (std::size_t q_idx = 0; q_idx < num_queries; ++q_idx) {
                std::vector<std::pair<double, std::uint32_t>> ranked;
                for (const std::uint32_t row : matching) {
                    ranked.emplace_back(TrueDistance(queries.Row(q_idx), base.Row(row), m_idx == 1),
                                        row);
                }
                const std::size_t keep = std::min(k, ranked.size());
                std::partial_sort(ranked.begin(),
                                  ranked.begin() + static_cast<std::ptrdiff_t>(keep), ranked.end());
                const std::size_t out_row = f_idx * num_queries + q_idx;
                for (std::size_t rank = 0; rank < keep; ++rank) {
                    gt_ids[m_idx].values[out_row * k + rank] =
                        static_cast<std::int32_t>(ranked[rank].second);
                    gt_dists[m_idx].values[out_row * k + rank] =
                        static_cast<float>(ranked[rank].first);
                }
            }
        }
    }
    {
        std::ofstream out(dir + "/filters.json", std::ios::trunc);
        out << filters_doc.dump(1) << '\n';
    }
    const char* const metrics[] = {"l2", "cos"};
    if (options.has_filtered_gt) {
        for (std::size_t m_idx = 0; m_idx < 2; ++m_idx) {
            const std::string stem = dir + "/filtered_gt_" + metrics[m_idx];
            WriteVecs(stem + ".ivecs", gt_ids[m_idx]);
            WriteVecs(stem + ".dist.fvecs", gt_dists[m_idx]);
        }
    }

    // hybrid_gt.jsonl: the 2-hop out-neighbourhood of a seed, filtered, ranked by distance.
    const Csr out_csr = BuildCsr(edges, n, false);
    const Json hybrid_filters[] = {Json(nullptr), Json::parse(R"({"category": {"$eq": 0}})"),
                                   Json::parse(R"({"bucket": {"$lt": 500}})")};
    std::ofstream out(dir + "/hybrid_gt.jsonl", std::ios::trunc);
    for (std::size_t m_idx = 0; m_idx < 2; ++m_idx) {
        for (std::size_t q_idx = 0; q_idx < options.hybrid_per_metric; ++q_idx) {
            const auto qid = q_idx % num_queries;
            const auto seed = static_cast<std::uint32_t>(rng() % n);
            const Json& where = hybrid_filters[q_idx % 3];
            std::vector<std::pair<double, std::uint32_t>> ranked;
            for (const std::uint32_t node : Reach(out_csr, seed, 2)) {
                if (FilterMatches(where, meta[node])) {
                    ranked.emplace_back(TrueDistance(queries.Row(qid), base.Row(node), m_idx == 1),
                                        node);
                }
            }
            std::sort(ranked.begin(), ranked.end());
            Json line;
            line["qid"] = qid;
            line["seed"] = seed;
            line["hops"] = 2;
            line["direction"] = "out";
            line["where"] = where;
            line["metric"] = metrics[m_idx];
            line["k"] = k;
            line["n_candidates"] = ranked.size();
            line["ids"] = Json::array();
            line["dists"] = Json::array();
            for (std::size_t rank = 0; rank < std::min(k, ranked.size()); ++rank) {
                line["ids"].push_back(ranked[rank].second);
                line["dists"].push_back(ranked[rank].first);
            }
            out << line.dump() << '\n';
        }
    }
    return edges.size();
}

}  // namespace phenix::bench_kit
