// SPDX-License-Identifier: Apache-2.0
#include "document/index_stats.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace phenix::document {
namespace {

constexpr std::uint64_t kSeed = 20240501;

// A collection of rows, each with the values one indexed path yields for it (a set: an index has
// one entry per distinct value of a row), and the brute-force truth for estimates.
class Column {
  public:
    void AddRow(std::vector<Scalar> values) {
        std::map<std::string, Scalar> distinct;
        for (Scalar& v : values) {
            std::string key = EncodeScalarKey(v);
            distinct.emplace(std::move(key), std::move(v));
        }
        multikey_ = multikey_ || distinct.size() > 1;
        std::vector<Scalar> row;
        for (auto& [key, v] : distinct) {
            ++counts_[key];
            row.push_back(std::move(v));
        }
        rows_.push_back(std::move(row));
    }
    void AddRow(Scalar v) {
        ++counts_[EncodeScalarKey(v)];
        rows_.push_back({std::move(v)});
    }

    IndexStats Stats(std::size_t max_mcv = 64, std::size_t num_buckets = 64) const {
        IndexStatsBuilder builder(max_mcv, num_buckets);
        for (const auto& [key, count] : counts_) {
            builder.Add(key, count);
        }
        return std::move(builder).Finish(rows_.size());
    }

    // Rows with at least one value v such that pred(v).
    template <typename Pred>
    double Count(Pred pred) const {
        double n = 0;
        for (const auto& row : rows_) {
            for (const Scalar& v : row) {
                if (pred(v)) {
                    ++n;
                    break;
                }
            }
        }
        return n;
    }
    double CountEq(const Scalar& x) const {
        auto it = counts_.find(EncodeScalarKey(x));
        return it == counts_.end() ? 0 : static_cast<double>(it->second);
    }
    double CountRange(const std::optional<Scalar>& lo, bool lo_inclusive,
                      const std::optional<Scalar>& hi, bool hi_inclusive) const {
        const Scalar& any = lo ? *lo : *hi;
        if (!multikey_) {
            // One value per row: sum the per-value counts, walking them in value order.
            double n = 0;
            const auto first = lo ? counts_.lower_bound(EncodeScalarKey(*lo))
                                  : counts_.lower_bound(BracketKeyRange(any.type).begin);
            for (auto it = first; it != counts_.end(); ++it) {
                std::string_view key = it->first;
                const Scalar v = *DecodeScalarKey(&key);
                if (!SameBracket(v, any) || (hi && CompareScalars(v, *hi) > 0) ||
                    (hi && !hi_inclusive && CompareScalars(v, *hi) == 0)) {
                    break;
                }
                if (lo && !lo_inclusive && CompareScalars(v, *lo) == 0) {
                    continue;
                }
                n += static_cast<double>(it->second);
            }
            return n;
        }
        return Count([&](const Scalar& v) {
            if (!SameBracket(v, any)) {
                return false;
            }
            if (lo) {
                const int c = CompareScalars(v, *lo);
                if (c < 0 || (c == 0 && !lo_inclusive)) {
                    return false;
                }
            }
            if (hi) {
                const int c = CompareScalars(v, *hi);
                if (c > 0 || (c == 0 && !hi_inclusive)) {
                    return false;
                }
            }
            return true;
        });
    }
    [[nodiscard]] std::size_t num_rows() const { return rows_.size(); }

  private:
    std::vector<std::vector<Scalar>> rows_;
    std::map<std::string, std::uint64_t> counts_;  // key order, as an index walk sees it
    bool multikey_ = false;
};

double RelativeError(double estimate, double truth) {
    return std::abs(estimate - truth) / std::max(truth, 1.0);
}

Scalar N(double v) {
    return Scalar::Number(v);
}

TEST(IndexStats, EmptyIndex) {
    for (std::uint64_t rows : {0u, 100u}) {
        IndexStats stats = IndexStatsBuilder().Finish(rows);
        EXPECT_EQ(stats.entries, 0u);
        EXPECT_EQ(stats.distinct_values, 0u);
        EXPECT_EQ(stats.EstimateEq(N(1)), 0);
        EXPECT_EQ(stats.EstimateRange(N(0), true, std::nullopt, false), 0);
        EXPECT_EQ(stats.EstimateExists(), 0);
        EXPECT_EQ(stats.EstimateIn(std::vector<Scalar>{N(1), N(2)}), 0);
        EXPECT_EQ(stats.ToJson(), "{\"rows\":" + std::to_string(rows) +
                                      ",\"entries\":0,\"distinct\":0,\"mcv\":[],\"buckets\":0}");
    }
}

TEST(IndexStats, SingleValue) {
    Column column;
    for (int idx = 0; idx < 1000; ++idx) {
        column.AddRow(Scalar::String("x"));
    }
    IndexStats stats = column.Stats();
    EXPECT_EQ(stats.entries, 1000u);
    EXPECT_EQ(stats.distinct_values, 1u);
    EXPECT_TRUE(stats.buckets.empty());
    EXPECT_EQ(stats.EstimateEq(Scalar::String("x")), 1000);
    EXPECT_EQ(stats.EstimateEq(Scalar::String("y")), 0);
    EXPECT_EQ(stats.EstimateRange(Scalar::String("a"), true, std::nullopt, false), 1000);
    EXPECT_EQ(stats.EstimateRange(Scalar::String("x"), false, std::nullopt, false), 0);
    EXPECT_EQ(stats.EstimateRange(N(0), true, std::nullopt, false), 0);
    EXPECT_EQ(stats.EstimateExists(), 1000);
    EXPECT_EQ(stats.ToJson(), R"({"rows":1000,"entries":1000,"distinct":1,)"
                              R"("mcv":[{"value":"x","count":1000}],"buckets":0})");
}

TEST(IndexStats, AllNull) {
    Column column;
    for (int idx = 0; idx < 500; ++idx) {
        column.AddRow(Scalar::Null());
    }
    IndexStats stats = column.Stats();
    EXPECT_EQ(stats.EstimateEq(Scalar::Null()), 500);
    EXPECT_EQ(stats.EstimateRange(Scalar::Null(), true, Scalar::Null(), true), 500);
    EXPECT_EQ(stats.EstimateRange(N(-1e300), true, N(1e300), true), 0);
    EXPECT_EQ(stats.EstimateEq(N(0)), 0);
    EXPECT_EQ(stats.EstimateExists(), 500);
}

TEST(IndexStats, UniformIntegersGiveAccurateRanges) {
    std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
    std::mt19937_64 rng(kSeed);
    std::uniform_int_distribution<int> value(0, 9999);
    Column column;
    for (int idx = 0; idx < 20000; ++idx) {
        column.AddRow(N(value(rng)));
    }
    IndexStats stats = column.Stats();
    EXPECT_EQ(stats.entries, 20000u);
    EXPECT_LE(stats.buckets.size(), 64u + 1);
    EXPECT_GE(stats.buckets.size(), 32u);
    // Selective ranges (1% to 20% of the rows), with every kind of bound.
    std::uniform_int_distribution<int> start(0, 7000);
    std::uniform_int_distribution<int> width(100, 2000);
    for (int trial = 0; trial < 200; ++trial) {
        const double lo = start(rng);
        const double hi = lo + width(rng);
        const bool lo_inclusive = (trial & 1) != 0;
        const bool hi_inclusive = (trial & 2) != 0;
        const double truth = column.CountRange(N(lo), lo_inclusive, N(hi), hi_inclusive);
        const double estimate = stats.EstimateRange(N(lo), lo_inclusive, N(hi), hi_inclusive);
        EXPECT_LT(RelativeError(estimate, truth), 0.2)
            << "[" << lo << ", " << hi << "] truth " << truth << " estimate " << estimate;
    }
    // One-sided ranges.
    EXPECT_LT(RelativeError(stats.EstimateRange(std::nullopt, false, N(2500), false),
                            column.CountRange(std::nullopt, false, N(2500), false)),
              0.05);
    EXPECT_LT(RelativeError(stats.EstimateRange(N(9000), true, std::nullopt, false),
                            column.CountRange(N(9000), true, std::nullopt, false)),
              0.1);
    EXPECT_EQ(stats.EstimateRange(N(20000), true, std::nullopt, false), 0);
    EXPECT_EQ(stats.EstimateRange(N(-5), true, N(-1), true), 0);
    // Equality on values that occur: right on average (an estimate is the average count of the
    // values around it, so it cannot know that a particular value happens to be absent).
    double truth_sum = 0;
    double estimate_sum = 0;
    for (int trial = 0; trial < 500; ++trial) {
        const Scalar v = N(value(rng));
        if (column.CountEq(v) == 0) {
            EXPECT_LT(stats.EstimateEq(v), 4);
            continue;
        }
        truth_sum += column.CountEq(v);
        estimate_sum += stats.EstimateEq(v);
    }
    EXPECT_LT(RelativeError(estimate_sum, truth_sum), 0.1);
    // MCVs are exact.
    for (const auto& mcv : stats.mcvs) {
        std::string_view key = mcv.key;
        const Scalar v = *DecodeScalarKey(&key);
        EXPECT_EQ(stats.EstimateEq(v), column.CountEq(v));
    }
    EXPECT_EQ(stats.EstimateExists(), 20000);
}

TEST(IndexStats, UniformDoublesAndTimestampsInterpolate) {
    std::mt19937_64 rng(kSeed + 1);
    std::uniform_real_distribution<double> unit(0, 1);
    Column numbers;
    Column times;
    const std::int64_t day_micros = 86'400'000'000;
    const std::int64_t base = *ParseTimestamp("2024-01-01");
    for (int idx = 0; idx < 10000; ++idx) {
        numbers.AddRow(N(unit(rng)));
        times.AddRow(Scalar::Timestamp(
            base + static_cast<std::int64_t>(unit(rng) * 366 * static_cast<double>(day_micros))));
    }
    IndexStats number_stats = numbers.Stats();
    IndexStats time_stats = times.Stats();
    for (double lo = 0; lo < 0.9; lo += 0.07) {
        const double hi = lo + 0.05;
        EXPECT_LT(RelativeError(number_stats.EstimateRange(N(lo), true, N(hi), false),
                                numbers.CountRange(N(lo), true, N(hi), false)),
                  0.2)
            << lo;
    }
    const Scalar march = Scalar::String("2024-03-01");
    const Scalar april = Scalar::String("2024-04-01T00:00:00Z");
    ASSERT_EQ(march.type, ValueType::kTimestamp);
    EXPECT_LT(RelativeError(time_stats.EstimateRange(march, true, april, false),
                            times.CountRange(march, true, april, false)),
              0.2);
    // A number bound never counts timestamps.
    EXPECT_EQ(time_stats.EstimateRange(N(0), true, std::nullopt, false), 0);
}

TEST(IndexStats, ZipfDataHasExactMcvsAndGoodRanges) {
    std::mt19937_64 rng(kSeed + 2);
    std::vector<double> weights;
    for (int rank = 1; rank <= 2000; ++rank) {
        weights.push_back(1.0 / rank);
    }
    std::discrete_distribution<int> zipf(weights.begin(), weights.end());
    Column column;
    for (int idx = 0; idx < 50000; ++idx) {
        // Spread the ranks over the number line so that popular values sit among rare ones.
        const int rank = zipf(rng);
        column.AddRow(N((rank * 7919) % 2000));
    }
    IndexStats stats = column.Stats();
    ASSERT_EQ(stats.mcvs.size(), 64u);
    for (const auto& mcv : stats.mcvs) {
        std::string_view key = mcv.key;
        const Scalar v = *DecodeScalarKey(&key);
        EXPECT_EQ(stats.EstimateEq(v), column.CountEq(v)) << ScalarToJson(v);
    }
    // The most common value (rank 0, stored as 0) is an MCV with its exact count.
    EXPECT_EQ(stats.EstimateEq(N(0)), column.CountEq(N(0)));
    EXPECT_GT(column.CountEq(N(0)), 5000);
    // Ranges: MCVs inside are exact, the rest interpolated.
    for (double lo = 0; lo < 2000; lo += 150) {
        const double hi = lo + 200;
        const double truth = column.CountRange(N(lo), true, N(hi), false);
        EXPECT_LT(RelativeError(stats.EstimateRange(N(lo), true, N(hi), false), truth), 0.2)
            << lo << " truth " << truth;
    }
    // Equality on the tail: right on average (individual values vary by nature).
    double truth_sum = 0;
    double estimate_sum = 0;
    for (int v = 0; v < 2000; ++v) {
        truth_sum += column.CountEq(N(v));
        estimate_sum += stats.EstimateEq(N(v));
    }
    EXPECT_LT(RelativeError(estimate_sum, truth_sum), 0.2);
}

TEST(IndexStats, StringsUseHalfBuckets) {
    Column column;
    char name[16];
    for (int idx = 0; idx < 10000; ++idx) {
        std::snprintf(name, sizeof(name), "k%05d", idx);
        column.AddRow(Scalar::String(name));
    }
    IndexStats stats = column.Stats();
    const Scalar lo = Scalar::String("k02000");
    const Scalar hi = Scalar::String("k04500");
    EXPECT_LT(RelativeError(stats.EstimateRange(lo, true, hi, false),
                            column.CountRange(lo, true, hi, false)),
              0.1);
    EXPECT_NEAR(stats.EstimateEq(Scalar::String("k01234")), 1.0, 0.01);
    EXPECT_EQ(stats.EstimateRange(Scalar::String("l"), true, std::nullopt, false), 0);
}

TEST(IndexStats, MultikeyAndMixedTypes) {
    Column column;
    const std::vector<std::string> tags = {"a", "b", "c", "d", "e"};
    for (int idx = 0; idx < 1000; ++idx) {
        std::vector<Scalar> values;
        for (int tag = 0; tag <= idx % 3; ++tag) {
            values.push_back(Scalar::String(tags[static_cast<std::size_t>((idx + tag) % 5)]));
        }
        if (idx % 10 == 0) {
            values.push_back(N(idx));
        }
        if (idx % 100 == 0) {
            values.push_back(Scalar::Bool(idx % 200 == 0));
        }
        column.AddRow(std::move(values));
    }
    IndexStats stats = column.Stats();
    for (const std::string& tag : tags) {
        EXPECT_EQ(stats.EstimateEq(Scalar::String(tag)), column.CountEq(Scalar::String(tag)));
    }
    // Each row appears once per value, so $in may overlap: capped at the rows with values.
    const std::vector<Scalar> all_tags = {Scalar::String("a"), Scalar::String("b"),
                                          Scalar::String("c"), Scalar::String("d"),
                                          Scalar::String("e"), Scalar::String("a")};
    EXPECT_LE(stats.EstimateIn(all_tags), 1000);
    EXPECT_EQ(stats.EstimateIn(std::vector<Scalar>{Scalar::String("a"), Scalar::String("a")}),
              column.CountEq(Scalar::String("a")));
    // Ranges count only their bracket.
    EXPECT_LT(RelativeError(stats.EstimateRange(N(0), true, N(500), false),
                            column.CountRange(N(0), true, N(500), false)),
              0.2);
    EXPECT_EQ(stats.EstimateRange(N(0), true, Scalar::String("z"), false), 0);
    EXPECT_EQ(stats.EstimateRange(Scalar::Bool(false), false, std::nullopt, false),
              column.CountEq(Scalar::Bool(true)));
    EXPECT_EQ(stats.EstimateExists(), 1000);  // entries exceed rows: capped
    IndexStatsBuilder builder;
    builder.Add(EncodeScalarKey(N(1)), 10);
    builder.SetRowsWithValues(7);
    EXPECT_EQ(std::move(builder).Finish(100).EstimateExists(), 7);
}

TEST(IndexStats, MemoryStaysBoundedForManyDistinctValues) {
    IndexStatsBuilder builder(16, 32);
    for (int idx = 0; idx < 300000; ++idx) {
        builder.Add(EncodeScalarKey(N(idx)), 1 + static_cast<std::uint64_t>(idx % 7 == 0));
    }
    IndexStats stats = std::move(builder).Finish(300000);
    EXPECT_EQ(stats.distinct_values, 300000u);
    EXPECT_LE(stats.buckets.size(), 33u);
    EXPECT_EQ(stats.mcvs.size(), 16u);
    // Buckets are roughly equi-depth.
    for (const auto& bucket : stats.buckets) {
        EXPECT_LT(static_cast<double>(bucket.entries),
                  3.0 * static_cast<double>(stats.entries) / 32.0);
    }
    EXPECT_LT(RelativeError(stats.EstimateRange(N(100000), true, N(130000), false),
                            30000.0 * (8.0 / 7.0)),
              0.05);
}

TEST(IndexStats, ToJsonListsTheTopTenMcvs) {
    IndexStatsBuilder builder;
    for (int idx = 0; idx < 12; ++idx) {
        builder.Add(EncodeScalarKey(N(idx)), static_cast<std::uint64_t>(100 + idx));
    }
    builder.Add(EncodeScalarKey(Scalar::String("2024-05-01")), 1);
    const std::string json = std::move(builder).Finish(2000).ToJson();
    EXPECT_NE(json.find(R"("mcv":[{"value":11,"count":111},{"value":10,"count":110},)"),
              std::string::npos)
        << json;
    EXPECT_EQ(json.find(R"({"value":1,)"), std::string::npos) << json;  // 11th, 12th not shown
    EXPECT_NE(json.find(R"("distinct":13)"), std::string::npos) << json;
}

// Encoding -------------------------------------------------------------------------------------

void ExpectSameStats(const IndexStats& a, const IndexStats& b) {
    EXPECT_EQ(a.rows_in_collection, b.rows_in_collection);
    EXPECT_EQ(a.entries, b.entries);
    EXPECT_EQ(a.distinct_values, b.distinct_values);
    EXPECT_EQ(a.rows_with_values, b.rows_with_values);
    ASSERT_EQ(a.mcvs.size(), b.mcvs.size());
    for (std::size_t idx = 0; idx < a.mcvs.size(); ++idx) {
        EXPECT_EQ(a.mcvs[idx].key, b.mcvs[idx].key);
        EXPECT_EQ(a.mcvs[idx].count, b.mcvs[idx].count);
    }
    ASSERT_EQ(a.buckets.size(), b.buckets.size());
    for (std::size_t idx = 0; idx < a.buckets.size(); ++idx) {
        EXPECT_EQ(a.buckets[idx].lo_key, b.buckets[idx].lo_key);
        EXPECT_EQ(a.buckets[idx].hi_key, b.buckets[idx].hi_key);
        EXPECT_EQ(a.buckets[idx].entries, b.buckets[idx].entries);
        EXPECT_EQ(a.buckets[idx].distinct, b.buckets[idx].distinct);
    }
}

TEST(IndexStatsEncoding, RoundTripsEmptyAndLargeStatistics) {
    const IndexStats empty = IndexStatsBuilder().Finish(0);
    auto decoded_empty = DecodeIndexStats(EncodeIndexStats(empty));
    ASSERT_TRUE(decoded_empty.ok()) << decoded_empty.status().ToString();
    ExpectSameStats(empty, *decoded_empty);

    IndexStatsBuilder builder;  // 64 MCVs, ~64 buckets, mixed brackets
    std::mt19937_64 rng(kSeed);
    for (int idx = 0; idx < 20000; ++idx) {
        builder.Add(EncodeScalarKey(N(idx)), 1 + rng() % 50);
    }
    for (int idx = 0; idx < 500; ++idx) {
        builder.Add(EncodeScalarKey(Scalar::String("s" + std::to_string(1000 + idx))), 3);
    }
    builder.SetRowsWithValues(123456);
    const IndexStats large = std::move(builder).Finish(1u << 20);
    ASSERT_EQ(large.mcvs.size(), 64u);
    ASSERT_GT(large.buckets.size(), 32u);
    const std::string encoded = EncodeIndexStats(large);
    EXPECT_EQ(static_cast<std::uint8_t>(encoded[0]), kIndexStatsEncodingVersion);
    auto decoded = DecodeIndexStats(encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ExpectSameStats(large, *decoded);
    EXPECT_EQ(decoded->ToJson(), large.ToJson());
    EXPECT_EQ(decoded->EstimateRange(N(100), true, N(5000), false),
              large.EstimateRange(N(100), true, N(5000), false));
    EXPECT_EQ(EncodeIndexStats(*decoded), encoded);
}

TEST(IndexStatsEncoding, RejectsTruncatedOrMalformedInput) {
    IndexStatsBuilder builder(8, 8);
    for (int idx = 0; idx < 1000; ++idx) {
        builder.Add(EncodeScalarKey(N(idx)), 1 + static_cast<std::uint64_t>(idx % 13));
    }
    const std::string encoded = EncodeIndexStats(std::move(builder).Finish(5000));
    for (std::size_t size = 0; size < encoded.size(); ++size) {
        auto decoded = DecodeIndexStats(std::string_view(encoded).substr(0, size));
        ASSERT_FALSE(decoded.ok()) << "accepted a prefix of " << size << " bytes";
        EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
    }
    EXPECT_EQ(DecodeIndexStats(encoded + "x").status().code(), StatusCode::kCorruption);
    std::string bad_version = encoded;
    bad_version[0] = static_cast<char>(kIndexStatsEncodingVersion + 1);
    EXPECT_EQ(DecodeIndexStats(bad_version).status().code(), StatusCode::kCorruption);
    // A huge MCV count must not allocate: it is rejected against the input size.
    std::string huge;
    huge.push_back(static_cast<char>(kIndexStatsEncodingVersion));
    huge.append(4, '\0');
    huge.append("\xff\xff\xff\xff\xff\xff\xff\xff\x7f");
    EXPECT_EQ(DecodeIndexStats(huge).status().code(), StatusCode::kCorruption);
}

// Whole-filter selectivity ---------------------------------------------------------------------

TEST(IndexStatsSelectivity, UsesStatisticsOrDefaults) {
    Column year;
    for (int idx = 0; idx < 10000; ++idx) {
        year.AddRow(N(2000 + idx % 25));
    }
    const IndexStats year_stats = year.Stats();
    auto stats_for = [&](const JsonPath& path) -> const IndexStats* {
        return path == *JsonPath::Parse("year") ? &year_stats : nullptr;
    };
    auto estimate = [&](std::string_view filter) {
        return EstimateSelectivity(*ParseFilter(filter), stats_for, 10000);
    };
    EXPECT_DOUBLE_EQ(estimate("{}"), 1);
    EXPECT_DOUBLE_EQ(estimate(R"({"$not": {}})"), 0);
    EXPECT_DOUBLE_EQ(estimate(R"({"year": 2001})"), 0.04);
    EXPECT_DOUBLE_EQ(estimate(R"({"year": 1999})"), 0);
    EXPECT_DOUBLE_EQ(estimate(R"({"year": {"$ne": 2001}})"), 0.96);
    EXPECT_DOUBLE_EQ(estimate(R"({"year": {"$in": [2001, 2002, 1]}})"), 0.08);
    EXPECT_DOUBLE_EQ(estimate(R"({"year": {"$nin": [2001, 2002]}})"), 0.92);
    EXPECT_DOUBLE_EQ(estimate(R"({"year": {"$gte": 2020}})"), 0.2);
    EXPECT_DOUBLE_EQ(estimate(R"({"year": {"$exists": true}})"), 1);
    EXPECT_DOUBLE_EQ(estimate(R"({"year": {"$exists": false}})"), 0);
    // Two bounds on one indexed path are one range, not independent predicates.
    EXPECT_DOUBLE_EQ(estimate(R"({"year": {"$gte": 2010, "$lt": 2015}})"), 0.2);
    EXPECT_DOUBLE_EQ(estimate(R"({"$and": [{"year": {"$gt": 2010}}, {"year": {"$lte": 2014}}]})"),
                     0.16);
    // Defaults for unindexed paths.
    EXPECT_DOUBLE_EQ(estimate(R"({"x": 1})"), kDefaultEqSelectivity);
    EXPECT_DOUBLE_EQ(estimate(R"({"x": {"$in": [1, 2]}})"), 2 * kDefaultEqSelectivity);
    EXPECT_DOUBLE_EQ(estimate(R"({"x": {"$lt": 1}})"), kDefaultRangeSelectivity);
    EXPECT_DOUBLE_EQ(estimate(R"({"x": {"$gt": 1, "$lt": 5}})"),
                     kDefaultRangeSelectivity * kDefaultRangeSelectivity);
    EXPECT_DOUBLE_EQ(estimate(R"({"x": {"$exists": true}})"), kDefaultExistsSelectivity);
    EXPECT_DOUBLE_EQ(estimate(R"({"x": {"$exists": false}})"), 1 - kDefaultExistsSelectivity);
    // Combinators.
    EXPECT_DOUBLE_EQ(estimate(R"({"year": 2001, "x": 1})"), 0.04 * kDefaultEqSelectivity);
    EXPECT_DOUBLE_EQ(estimate(R"({"$or": [{"year": 2001}, {"year": 2002}]})"),
                     0.04 + 0.04 - 0.04 * 0.04);
    EXPECT_DOUBLE_EQ(estimate(R"({"$not": {"year": {"$gte": 2020}}})"), 0.8);
    // No statistics at all, and an empty collection.
    EXPECT_DOUBLE_EQ(EstimateSelectivity(*ParseFilter(R"({"year": 2001})"), nullptr, 10000),
                     kDefaultEqSelectivity);
    const IndexStats empty = IndexStatsBuilder().Finish(0);
    EXPECT_DOUBLE_EQ(
        EstimateSelectivity(
            *ParseFilter(R"({"year": 2001})"), [&](const JsonPath&) { return &empty; }, 0),
        kDefaultEqSelectivity);
}

}  // namespace
}  // namespace phenix::document
