// SPDX-License-Identifier: Apache-2.0
//
// Statistics of a metadata index, for selectivity estimates in the planner and for EXPLAIN.
//
// An index on a path stores one entry (encoded scalar key, row) for each distinct value of each
// row (value_key.h, json_path.h), so a row with tags ["a", "b"] has two entries. The engine
// builds IndexStats by walking the index once in key order and calling IndexStatsBuilder::Add
// for each distinct key with the number of rows holding it. IndexStats keep:
//   - the most common values (MCVs) with exact counts, and
//   - an equi-depth histogram over the other values: buckets of about equal entry counts,
//     each with its key bounds, entries and distinct values, never spanning two brackets.
// The builder needs memory for max_mcv keys plus a few times num_buckets bucket bounds, not for
// all distinct values: it keeps a streaming histogram whose bucket depth doubles as data grows.
//
// Estimates are row counts (doubles). Equality: an MCV's exact count; otherwise the average
// count of the histogram bucket holding the value, or of all non-MCV values if none does.
// Ranges: the MCVs inside plus, for histogram buckets cut by a bound, a linear interpolation
// for numbers and timestamps (the bucket's distinct values taken as evenly spaced between its
// bounds) and half the bucket for strings and booleans.
//
// Thread safety: IndexStats is an immutable value once built (const methods are safe from any
// thread); IndexStatsBuilder is thread-compatible. EstimateSelectivity is a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>

#include "document/filter.h"
#include "document/json_path.h"
#include "document/value_key.h"

namespace phenix::document {

struct IndexStats {
    struct Mcv {
        std::string key;  // AppendScalarKey encoding
        std::uint64_t count = 0;
    };
    struct Bucket {
        std::string lo_key;  // smallest and largest key counted in the bucket (inclusive)
        std::string hi_key;
        std::uint64_t entries = 0;
        std::uint64_t distinct = 0;
    };

    std::uint64_t rows_in_collection = 0;
    std::uint64_t entries = 0;  // sum of counts
    std::uint64_t distinct_values = 0;
    std::uint64_t rows_with_values = 0;  // rows with at least one entry; 0 when not known
    std::vector<Mcv> mcvs;               // sorted by key
    std::vector<Bucket> buckets;         // sorted by key, disjoint, one bracket each

    /// Rows having the value `v`.
    [[nodiscard]] double EstimateEq(const Scalar& v) const;
    /// Rows having any of `vs` (duplicates count once), at most EstimateExists().
    [[nodiscard]] double EstimateIn(std::span<const Scalar> vs) const;
    /// Rows having a value between the bounds (a missing bound is open), counting only values of
    /// the bounds' bracket: 0 if the two bounds are of different brackets, EstimateExists() if
    /// both are missing. At most EstimateExists().
    [[nodiscard]] double EstimateRange(const std::optional<Scalar>& lo, bool lo_inclusive,
                                       const std::optional<Scalar>& hi, bool hi_inclusive) const;
    /// Rows having at least one value: rows_with_values when known, else min(entries,
    /// rows_in_collection) (an over-estimate for multikey paths). Rows where the path holds
    /// only objects or empty arrays have no entries and are not counted.
    [[nodiscard]] double EstimateExists() const;

    /// A summary for EXPLAIN and index listings:
    /// {"rows":R,"entries":E,"distinct":D,"mcv":[{"value":V,"count":N},...],"buckets":B}
    /// with the ten most common values, most common first.
    [[nodiscard]] std::string ToJson() const;
};

class IndexStatsBuilder {
  public:
    /// At most `max_mcv` most common values and about `num_buckets` histogram buckets (at
    /// least 1 each).
    explicit IndexStatsBuilder(std::size_t max_mcv = 64, std::size_t num_buckets = 64);

    /// One distinct value (its encoded key) and the number of rows holding it. Must be called in
    /// ascending key order, once per key; a zero count is ignored. Keys out of order do not
    /// break anything but make the histogram meaningless.
    void Add(std::string_view encoded_key, std::uint64_t count);

    /// Optional: the number of rows with at least one entry, if the caller counted them.
    void SetRowsWithValues(std::uint64_t rows) { rows_with_values_ = rows; }

    [[nodiscard]] IndexStats Finish(std::uint64_t rows_in_collection) &&;

  private:
    void Compact();

    // immutable after construction
    std::size_t max_mcv_;
    std::size_t num_buckets_;
    std::size_t max_fine_buckets_;

    std::uint64_t entries_ = 0;
    std::uint64_t distinct_ = 0;
    std::uint64_t rows_with_values_ = 0;
    std::vector<IndexStats::Mcv> mcv_heap_;  // min-heap by count: the top max_mcv so far
    std::vector<IndexStats::Bucket> fine_;   // streaming histogram, all values included
    std::uint64_t bucket_depth_ = 1;         // entries at which a fine bucket is closed
};

/// Version byte of the EncodeIndexStats encoding.
inline constexpr std::uint8_t kIndexStatsEncodingVersion = 1;

/// A portable byte encoding of `stats` (docs/formats/storage-format.md, "Index statistics"): the
/// version byte, then varints rows_in_collection, entries, distinct_values, rows_with_values, the
/// MCVs (varint count, then per MCV a length-prefixed key and a varint count) and the buckets
/// (varint count, then per bucket length-prefixed lo_key and hi_key, varint entries, distinct).
std::string EncodeIndexStats(const IndexStats& stats);
/// The inverse of EncodeIndexStats; Corruption when `encoded` is truncated, has trailing bytes,
/// an unknown version or otherwise malformed.
Result<IndexStats> DecodeIndexStats(std::string_view encoded);

/// Default selectivities for predicates on paths without statistics.
inline constexpr double kDefaultEqSelectivity = 0.005;
inline constexpr double kDefaultRangeSelectivity = 1.0 / 3.0;
inline constexpr double kDefaultExistsSelectivity = 0.9;

/// The estimated fraction (0..1) of the collection's rows that `filter` matches. Leaves on paths
/// with statistics (`stats_for` returns them; nullptr for an unindexed path) use them, others
/// the defaults above ($in: the $eq default per value). $ne, $nin and $exists: false are the
/// complements. AND multiplies (independence), except that range bounds on one indexed path
/// are estimated together as one range; OR is a + b - ab; NOT is 1 - a.
/// `rows_in_collection` of 0 means: use each IndexStats' own count.
double EstimateSelectivity(const Filter& filter,
                           const std::function<const IndexStats*(const JsonPath&)>& stats_for,
                           std::uint64_t rows_in_collection);

}  // namespace phenix::document
