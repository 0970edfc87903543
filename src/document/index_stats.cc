// SPDX-License-Identifier: Apache-2.0
#include "document/index_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "common/coding.h"

namespace phenix::document {
namespace {

// Booleans are one bracket although false and true have different type bytes.
int KeyBracket(std::string_view key) {
    if (key.empty()) {
        return -1;
    }
    const auto type = static_cast<std::uint8_t>(key[0]);
    return type == static_cast<std::uint8_t>(ValueType::kTrue) ? static_cast<int>(ValueType::kFalse)
                                                               : static_cast<int>(type);
}

bool IsInterpolable(int bracket) {
    return bracket == static_cast<int>(ValueType::kNumber) ||
           bracket == static_cast<int>(ValueType::kTimestamp);
}

// A number or a timestamp as a position on the real line.
std::optional<double> Position(std::string_view key) {
    auto decoded = DecodeScalarKey(&key);
    if (!decoded.ok()) {
        return std::nullopt;
    }
    if (decoded->type == ValueType::kNumber) {
        return decoded->number;
    }
    if (decoded->type == ValueType::kTimestamp) {
        return static_cast<double>(decoded->micros);
    }
    return std::nullopt;
}

double Position(const Scalar& v) {
    return v.type == ValueType::kTimestamp ? static_cast<double>(v.micros) : v.number;
}

// A key range [lo, hi] with inclusive or exclusive ends, within one bracket.
struct KeyBounds {
    std::string lo;
    bool lo_inclusive = true;
    std::string hi;
    bool hi_inclusive = false;

    [[nodiscard]] bool AboveLo(std::string_view key) const {
        const int c = key.compare(lo);
        return c > 0 || (c == 0 && lo_inclusive);
    }
    [[nodiscard]] bool BelowHi(std::string_view key) const {
        const int c = key.compare(hi);
        return c < 0 || (c == 0 && hi_inclusive);
    }
};

// The part of a histogram bucket's entries that lies within [lo, hi] (by position), taking the
// bucket's distinct values as evenly spaced from its lower to its upper bound. nullopt when the
// bounds are not usable numbers.
std::optional<double> InterpolateBucket(const IndexStats::Bucket& bucket,
                                        const std::optional<Scalar>& lo, bool lo_inclusive,
                                        const std::optional<Scalar>& hi, bool hi_inclusive) {
    const std::optional<double> first = Position(bucket.lo_key);
    const std::optional<double> last = Position(bucket.hi_key);
    if (!first || !last || bucket.distinct < 2) {
        return std::nullopt;
    }
    const auto max_idx = static_cast<double>(bucket.distinct - 1);
    const double step = (*last - *first) / max_idx;
    if (!std::isfinite(step) || step <= 0) {
        return std::nullopt;
    }
    // Tolerance for bounds that fall on a value up to rounding.
    constexpr double kEpsilon = 1e-9;
    double min_idx = 0;
    if (lo) {
        const double t = (Position(*lo) - *first) / step;
        min_idx = lo_inclusive ? std::ceil(t - kEpsilon) : std::floor(t + kEpsilon) + 1;
    }
    double top_idx = max_idx;
    if (hi) {
        const double t = (Position(*hi) - *first) / step;
        top_idx = hi_inclusive ? std::floor(t + kEpsilon) : std::ceil(t - kEpsilon) - 1;
    }
    min_idx = std::max(min_idx, 0.0);
    top_idx = std::min(top_idx, max_idx);
    if (!std::isfinite(min_idx) || !std::isfinite(top_idx) || top_idx < min_idx) {
        return 0.0;
    }
    const double values_inside = top_idx - min_idx + 1;
    return static_cast<double>(bucket.entries) * values_inside /
           static_cast<double>(bucket.distinct);
}

std::uint64_t McvTotal(const std::vector<IndexStats::Mcv>& mcvs) {
    std::uint64_t total = 0;
    for (const auto& mcv : mcvs) {
        total += mcv.count;
    }
    return total;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// IndexStats

double IndexStats::EstimateEq(const Scalar& v) const {
    const std::string key = EncodeScalarKey(v);
    auto mcv = std::lower_bound(mcvs.begin(), mcvs.end(), key,
                                [](const Mcv& m, const std::string& k) { return m.key < k; });
    if (mcv != mcvs.end() && mcv->key == key) {
        return static_cast<double>(mcv->count);
    }
    // The last bucket starting at or before the key.
    auto bucket =
        std::upper_bound(buckets.begin(), buckets.end(), key,
                         [](const std::string& k, const Bucket& b) { return k < b.lo_key; });
    if (bucket != buckets.begin()) {
        --bucket;
        if (key <= bucket->hi_key && bucket->distinct > 0) {
            return static_cast<double>(bucket->entries) / static_cast<double>(bucket->distinct);
        }
    }
    const std::uint64_t rest_distinct =
        distinct_values > mcvs.size() ? distinct_values - mcvs.size() : 0;
    if (rest_distinct == 0) {
        return 0;
    }
    const std::uint64_t mcv_total = McvTotal(mcvs);
    const std::uint64_t rest_entries = entries > mcv_total ? entries - mcv_total : 0;
    return static_cast<double>(rest_entries) / static_cast<double>(rest_distinct);
}

double IndexStats::EstimateIn(std::span<const Scalar> vs) const {
    std::vector<std::string> keys;
    keys.reserve(vs.size());
    for (const Scalar& v : vs) {
        keys.push_back(EncodeScalarKey(v));
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    double total = 0;
    for (const std::string& key : keys) {
        std::string_view in = key;
        auto decoded = DecodeScalarKey(&in);
        if (decoded.ok()) {
            total += EstimateEq(*decoded);
        }
    }
    return std::min(total, EstimateExists());
}

double IndexStats::EstimateRange(const std::optional<Scalar>& lo, bool lo_inclusive,
                                 const std::optional<Scalar>& hi, bool hi_inclusive) const {
    if (!lo && !hi) {
        return EstimateExists();
    }
    if (lo && hi && !SameBracket(*lo, *hi)) {
        return 0;
    }
    const ValueType type = lo ? lo->type : hi->type;
    const int bracket = KeyBracket(std::string(1, static_cast<char>(type)));
    const KeyRange whole = BracketKeyRange(type);
    KeyBounds bounds;
    bounds.lo = lo ? EncodeScalarKey(*lo) : whole.begin;
    bounds.lo_inclusive = lo ? lo_inclusive : true;
    bounds.hi = hi ? EncodeScalarKey(*hi) : whole.end;
    bounds.hi_inclusive = hi ? hi_inclusive : false;

    double total = 0;
    for (const Mcv& mcv : mcvs) {
        if (bounds.AboveLo(mcv.key) && bounds.BelowHi(mcv.key)) {
            total += static_cast<double>(mcv.count);
        }
    }
    for (const Bucket& bucket : buckets) {
        if (KeyBracket(bucket.lo_key) != bracket || !bounds.BelowHi(bucket.lo_key) ||
            !bounds.AboveLo(bucket.hi_key)) {
            continue;  // another bracket, or entirely outside
        }
        if (bounds.AboveLo(bucket.lo_key) && bounds.BelowHi(bucket.hi_key)) {
            total += static_cast<double>(bucket.entries);
            continue;
        }
        std::optional<double> part;
        if (IsInterpolable(bracket)) {
            part = InterpolateBucket(bucket, lo, lo_inclusive, hi, hi_inclusive);
        }
        total += part ? *part : static_cast<double>(bucket.entries) / 2;
    }
    return std::min(total, EstimateExists());
}

double IndexStats::EstimateExists() const {
    if (rows_with_values > 0) {
        return static_cast<double>(rows_with_values);
    }
    if (rows_in_collection > 0) {
        return static_cast<double>(std::min(entries, rows_in_collection));
    }
    return static_cast<double>(entries);
}

std::string IndexStats::ToJson() const {
    constexpr std::size_t kShownMcvs = 10;
    std::vector<const Mcv*> top;
    top.reserve(mcvs.size());
    for (const Mcv& mcv : mcvs) {
        top.push_back(&mcv);
    }
    std::sort(top.begin(), top.end(), [](const Mcv* a, const Mcv* b) {
        return a->count != b->count ? a->count > b->count : a->key < b->key;
    });
    std::string out = "{\"rows\":" + std::to_string(rows_in_collection) +
                      ",\"entries\":" + std::to_string(entries) +
                      ",\"distinct\":" + std::to_string(distinct_values) + ",\"mcv\":[";
    bool first = true;
    for (std::size_t idx = 0; idx < top.size() && idx < kShownMcvs; ++idx) {
        std::string_view key = top[idx]->key;
        auto value = DecodeScalarKey(&key);
        if (!value.ok()) {
            continue;
        }
        if (!first) {
            out.push_back(',');
        }
        first = false;
        out += "{\"value\":" + ScalarToJson(*value) +
               ",\"count\":" + std::to_string(top[idx]->count) + "}";
    }
    out += "],\"buckets\":" + std::to_string(buckets.size()) + "}";
    return out;
}

// ---------------------------------------------------------------------------------------------
// IndexStatsBuilder

IndexStatsBuilder::IndexStatsBuilder(std::size_t max_mcv, std::size_t num_buckets)
    : max_mcv_(std::max<std::size_t>(max_mcv, 1)),
      num_buckets_(std::max<std::size_t>(num_buckets, 1)),
      max_fine_buckets_(std::max<std::size_t>(4 * num_buckets_, 16)) {}

namespace {

// Orders the MCV heap so that its front is the least common value (ties: the larger key goes
// first, so earlier keys win ties deterministically).
bool MoreCommon(const IndexStats::Mcv& a, const IndexStats::Mcv& b) {
    return a.count != b.count ? a.count > b.count : a.key < b.key;
}

}  // namespace

void IndexStatsBuilder::Add(std::string_view encoded_key, std::uint64_t count) {
    if (count == 0 || encoded_key.empty()) {
        return;
    }
    entries_ += count;
    ++distinct_;

    if (mcv_heap_.size() < max_mcv_) {
        mcv_heap_.push_back({std::string(encoded_key), count});
        std::push_heap(mcv_heap_.begin(), mcv_heap_.end(), MoreCommon);
    } else if (count > mcv_heap_.front().count) {
        std::pop_heap(mcv_heap_.begin(), mcv_heap_.end(), MoreCommon);
        mcv_heap_.back() = {std::string(encoded_key), count};
        std::push_heap(mcv_heap_.begin(), mcv_heap_.end(), MoreCommon);
    }

    if (!fine_.empty() && fine_.back().entries < bucket_depth_ &&
        KeyBracket(fine_.back().lo_key) == KeyBracket(encoded_key)) {
        IndexStats::Bucket& open = fine_.back();
        open.hi_key.assign(encoded_key);
        open.entries += count;
        ++open.distinct;
        return;
    }
    fine_.push_back({std::string(encoded_key), std::string(encoded_key), count, 1});
    if (fine_.size() > max_fine_buckets_) {
        Compact();
    }
}

// Halves the number of fine buckets by merging neighbours (never across brackets) and doubles
// the depth at which new ones close, so memory stays bounded whatever the number of values.
void IndexStatsBuilder::Compact() {
    bucket_depth_ *= 2;
    std::vector<IndexStats::Bucket> merged;
    merged.reserve(fine_.size() / 2 + 4);
    for (std::size_t idx = 0; idx < fine_.size(); ++idx) {
        IndexStats::Bucket& bucket = fine_[idx];
        if (idx + 1 < fine_.size() &&
            KeyBracket(bucket.lo_key) == KeyBracket(fine_[idx + 1].lo_key)) {
            IndexStats::Bucket& next = fine_[idx + 1];
            bucket.hi_key = std::move(next.hi_key);
            bucket.entries += next.entries;
            bucket.distinct += next.distinct;
            ++idx;
        }
        merged.push_back(std::move(bucket));
    }
    fine_ = std::move(merged);
}

IndexStats IndexStatsBuilder::Finish(std::uint64_t rows_in_collection) && {
    IndexStats stats;
    stats.rows_in_collection = rows_in_collection;
    stats.entries = entries_;
    stats.distinct_values = distinct_;
    stats.rows_with_values = rows_with_values_;
    stats.mcvs = std::move(mcv_heap_);
    std::sort(stats.mcvs.begin(), stats.mcvs.end(),
              [](const IndexStats::Mcv& a, const IndexStats::Mcv& b) { return a.key < b.key; });

    // The histogram describes the values that are not MCVs: take the MCVs out of their buckets.
    std::size_t bucket_idx = 0;
    for (const IndexStats::Mcv& mcv : stats.mcvs) {
        while (bucket_idx < fine_.size() && fine_[bucket_idx].hi_key < mcv.key) {
            ++bucket_idx;
        }
        if (bucket_idx < fine_.size() && fine_[bucket_idx].lo_key <= mcv.key) {
            IndexStats::Bucket& bucket = fine_[bucket_idx];
            bucket.entries -= std::min(bucket.entries, mcv.count);
            bucket.distinct -= std::min<std::uint64_t>(bucket.distinct, 1);
        }
    }
    std::erase_if(fine_, [](const IndexStats::Bucket& b) { return b.distinct == 0; });

    // Merge the fine buckets into about num_buckets_ of equal depth.
    std::uint64_t rest_entries = 0;
    for (const auto& bucket : fine_) {
        rest_entries += bucket.entries;
    }
    const double depth =
        std::max(1.0, static_cast<double>(rest_entries) / static_cast<double>(num_buckets_));
    double cumulative = 0;
    double next_boundary = depth;
    for (IndexStats::Bucket& bucket : fine_) {
        const bool start_new = stats.buckets.empty() || cumulative >= next_boundary ||
                               KeyBracket(stats.buckets.back().lo_key) != KeyBracket(bucket.lo_key);
        while (cumulative >= next_boundary) {
            next_boundary += depth;
        }
        cumulative += static_cast<double>(bucket.entries);
        if (start_new) {
            stats.buckets.push_back(std::move(bucket));
            continue;
        }
        IndexStats::Bucket& last = stats.buckets.back();
        last.hi_key = std::move(bucket.hi_key);
        last.entries += bucket.entries;
        last.distinct += bucket.distinct;
    }
    return stats;
}

// ---------------------------------------------------------------------------------------------
// Selectivity

namespace {

bool IsRange(const Filter& f) {
    return f.kind == Filter::Kind::kCompare &&
           (f.op == Filter::Op::kLt || f.op == Filter::Op::kLte || f.op == Filter::Op::kGt ||
            f.op == Filter::Op::kGte);
}

class Estimator {
  public:
    Estimator(const std::function<const IndexStats*(const JsonPath&)>& stats_for,
              std::uint64_t rows_in_collection)
        : stats_for_(stats_for), rows_in_collection_(rows_in_collection) {}

    double Selectivity(const Filter& f) const {
        switch (f.kind) {
            case Filter::Kind::kAll:
                return 1;
            case Filter::Kind::kNone:
                return 0;
            case Filter::Kind::kAnd:
                return AndSelectivity(f);
            case Filter::Kind::kOr: {
                double p = 0;
                for (const Filter& child : f.children) {
                    const double s = Selectivity(child);
                    p = p + s - p * s;
                }
                return p;
            }
            case Filter::Kind::kNot:
                return f.children.empty() ? 0 : 1 - Selectivity(f.children.front());
            case Filter::Kind::kCompare:
                return CompareSelectivity(f);
            case Filter::Kind::kIn: {
                const IndexStats* stats = Stats(f.path);
                const double default_in =
                    std::min(1.0, kDefaultEqSelectivity * static_cast<double>(f.values.size()));
                const double p = stats != nullptr
                                     ? Fraction(*stats, stats->EstimateIn(f.values), default_in)
                                     : default_in;
                return f.negated_in ? 1 - p : p;
            }
            case Filter::Kind::kExists: {
                const IndexStats* stats = Stats(f.path);
                const double p = stats != nullptr ? Fraction(*stats, stats->EstimateExists(),
                                                             kDefaultExistsSelectivity)
                                                  : kDefaultExistsSelectivity;
                return f.exists ? p : 1 - p;
            }
            case Filter::Kind::kType:
                return kDefaultExistsSelectivity;
            case Filter::Kind::kLike:
                return kDefaultRangeSelectivity;
        }
        return 1;
    }

  private:
    const IndexStats* Stats(const JsonPath& path) const {
        return stats_for_ ? stats_for_(path) : nullptr;
    }

    double Fraction(const IndexStats& stats, double rows, double fallback) const {
        const std::uint64_t total =
            rows_in_collection_ > 0 ? rows_in_collection_ : stats.rows_in_collection;
        if (total == 0) {
            return fallback;
        }
        return std::clamp(rows / static_cast<double>(total), 0.0, 1.0);
    }

    double CompareSelectivity(const Filter& f) const {
        const IndexStats* stats = Stats(f.path);
        switch (f.op) {
            case Filter::Op::kEq:
            case Filter::Op::kNe: {
                const double p = stats != nullptr ? Fraction(*stats, stats->EstimateEq(f.value),
                                                             kDefaultEqSelectivity)
                                                  : kDefaultEqSelectivity;
                return f.op == Filter::Op::kEq ? p : 1 - p;
            }
            case Filter::Op::kLt:
            case Filter::Op::kLte:
                return RangeSelectivity(stats, std::nullopt, false, f.value,
                                        f.op == Filter::Op::kLte);
            case Filter::Op::kGt:
            case Filter::Op::kGte:
                return RangeSelectivity(stats, f.value, f.op == Filter::Op::kGte, std::nullopt,
                                        false);
        }
        return 1;
    }

    double RangeSelectivity(const IndexStats* stats, const std::optional<Scalar>& lo,
                            bool lo_inclusive, const std::optional<Scalar>& hi,
                            bool hi_inclusive) const {
        if (stats == nullptr) {
            return kDefaultRangeSelectivity;
        }
        return Fraction(*stats, stats->EstimateRange(lo, lo_inclusive, hi, hi_inclusive),
                        kDefaultRangeSelectivity);
    }

    // Independence, except that the range bounds on one indexed path (same bracket) are
    // estimated as one range: {"a": {"$gt": 40, "$lt": 60}} is not P(a > 40) * P(a < 60).
    double AndSelectivity(const Filter& f) const {
        double p = 1;
        std::vector<bool> used(f.children.size(), false);
        for (std::size_t idx = 0; idx < f.children.size(); ++idx) {
            if (used[idx]) {
                continue;
            }
            const Filter& child = f.children[idx];
            const IndexStats* stats = IsRange(child) ? Stats(child.path) : nullptr;
            if (stats == nullptr) {
                p *= Selectivity(child);
                continue;
            }
            std::optional<Scalar> lo;
            bool lo_inclusive = false;
            std::optional<Scalar> hi;
            bool hi_inclusive = false;
            for (std::size_t other = idx; other < f.children.size(); ++other) {
                const Filter& bound = f.children[other];
                if (used[other] || !IsRange(bound) || bound.path != child.path ||
                    !SameBracket(bound.value, child.value)) {
                    continue;
                }
                used[other] = true;
                const bool inclusive = bound.op == Filter::Op::kGte || bound.op == Filter::Op::kLte;
                if (bound.op == Filter::Op::kGt || bound.op == Filter::Op::kGte) {
                    const int c = lo ? CompareScalars(bound.value, *lo) : 1;
                    if (c > 0 || (c == 0 && !inclusive)) {
                        lo = bound.value;
                        lo_inclusive = inclusive;
                    }
                } else {
                    const int c = hi ? CompareScalars(bound.value, *hi) : -1;
                    if (c < 0 || (c == 0 && !inclusive)) {
                        hi = bound.value;
                        hi_inclusive = inclusive;
                    }
                }
            }
            p *= RangeSelectivity(stats, lo, lo_inclusive, hi, hi_inclusive);
        }
        return p;
    }

    const std::function<const IndexStats*(const JsonPath&)>& stats_for_;
    std::uint64_t rows_in_collection_;
};

}  // namespace

double EstimateSelectivity(const Filter& filter,
                           const std::function<const IndexStats*(const JsonPath&)>& stats_for,
                           std::uint64_t rows_in_collection) {
    const Estimator estimator(stats_for, rows_in_collection);
    return std::clamp(estimator.Selectivity(filter), 0.0, 1.0);
}

// ---------------------------------------------------------------- encoding

std::string EncodeIndexStats(const IndexStats& stats) {
    std::string out;
    out.push_back(static_cast<char>(kIndexStatsEncodingVersion));
    coding::PutVarint64(out, stats.rows_in_collection);
    coding::PutVarint64(out, stats.entries);
    coding::PutVarint64(out, stats.distinct_values);
    coding::PutVarint64(out, stats.rows_with_values);
    coding::PutVarint64(out, stats.mcvs.size());
    for (const IndexStats::Mcv& mcv : stats.mcvs) {
        coding::PutLengthPrefixed(out, mcv.key);
        coding::PutVarint64(out, mcv.count);
    }
    coding::PutVarint64(out, stats.buckets.size());
    for (const IndexStats::Bucket& bucket : stats.buckets) {
        coding::PutLengthPrefixed(out, bucket.lo_key);
        coding::PutLengthPrefixed(out, bucket.hi_key);
        coding::PutVarint64(out, bucket.entries);
        coding::PutVarint64(out, bucket.distinct);
    }
    return out;
}

namespace {

Status MalformedStats() {
    return Status::Corruption("index statistics record is truncated or malformed");
}

}  // namespace

Result<IndexStats> DecodeIndexStats(std::string_view encoded) {
    coding::ByteReader reader(encoded);
    auto version = reader.ReadByte();
    if (!version || *version != kIndexStatsEncodingVersion) {
        return MalformedStats();
    }
    IndexStats stats;
    auto rows = reader.ReadVarint64();
    auto entries = reader.ReadVarint64();
    auto distinct = reader.ReadVarint64();
    auto rows_with_values = reader.ReadVarint64();
    auto num_mcvs = reader.ReadVarint64();
    // Each MCV takes at least 2 bytes: a bound on the count before reserving for it.
    if (!rows || !entries || !distinct || !rows_with_values || !num_mcvs ||
        *num_mcvs > encoded.size() / 2) {
        return MalformedStats();
    }
    stats.rows_in_collection = *rows;
    stats.entries = *entries;
    stats.distinct_values = *distinct;
    stats.rows_with_values = *rows_with_values;
    stats.mcvs.reserve(static_cast<std::size_t>(*num_mcvs));
    for (std::uint64_t mcv_idx = 0; mcv_idx < *num_mcvs; ++mcv_idx) {
        auto key = reader.ReadLengthPrefixed();
        auto count = reader.ReadVarint64();
        if (!key || !count) {
            return MalformedStats();
        }
        stats.mcvs.push_back({.key = std::string(*key), .count = *count});
    }
    auto num_buckets = reader.ReadVarint64();
    // Each bucket takes at least 4 bytes.
    if (!num_buckets || *num_buckets > encoded.size() / 4) {
        return MalformedStats();
    }
    stats.buckets.reserve(static_cast<std::size_t>(*num_buckets));
    for (std::uint64_t bucket_idx = 0; bucket_idx < *num_buckets; ++bucket_idx) {
        auto lo = reader.ReadLengthPrefixed();
        auto hi = reader.ReadLengthPrefixed();
        auto bucket_entries = reader.ReadVarint64();
        auto bucket_distinct = reader.ReadVarint64();
        if (!lo || !hi || !bucket_entries || !bucket_distinct) {
            return MalformedStats();
        }
        stats.buckets.push_back({.lo_key = std::string(*lo),
                                 .hi_key = std::string(*hi),
                                 .entries = *bucket_entries,
                                 .distinct = *bucket_distinct});
    }
    if (!reader.empty()) {
        return MalformedStats();
    }
    return stats;
}

}  // namespace phenix::document
