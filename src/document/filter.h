// SPDX-License-Identifier: Apache-2.0
//
// MongoDB-style filters on entity metadata: parsing, canonical printing, simplification and
// evaluation against a parsed document. Metadata indexes (engine) must select exactly the
// entities Matches() accepts, so the semantics below are the contract for both.
//
// Syntax. A filter is a JSON object; "" and "{}" match everything.
//   {"a": 5}                          a $eq 5 (a literal is a string, number, boolean or null)
//   {"a": {"$gt": 1, "$lt": 5}}       each operator is a condition; all must hold (AND)
//   {"a": 1, "b": 2}                  several keys: AND
//   {"$and": [F, ...]}, {"$or": [F, ...]}   a non-empty array of filter objects
//   {"$not": F}                       complement of a filter object
//   {"a": {"$not": {"$gt": 5}}}       complement of an operator object on one field
// Field operators: $eq $ne $gt $gte $lt $lte (a scalar), $in $nin (a non-empty array of at
// most kMaxInValues scalars), $exists (true or false), $type (a type name or a non-empty array
// of them: "null", "boolean", "number", "timestamp", "string"), $like (a pattern string, see
// LikeMatches), $not (an operator object). Keys are paths
// (json_path.h). Rejected with InvalidArgument, naming what and where: invalid JSON, a
// non-object filter, an object or array literal, an unknown $-key, a field operator at the top
// level or a logical one inside a field, a bad path, a duplicate key in one object, a number out
// of range, and nesting of $and/$or/$not deeper than kMaxFilterDepth.
//
// Semantics. A path yields a set of scalar values and may or may not exist (see Extracted in
// json_path.h; arrays fan out, so a field holding several values is "multikey").
//   - $eq $gt $gte $lt $lte match when ANY value satisfies them, comparing only values of the
//     literal's bracket (SameBracket): {"year": {"$gt": 5}} never matches a string. Numbers
//     compare as doubles (1 == 1.0), strings by UTF-8 bytes, timestamps by instant, false <
//     true, and null == null. Strings in RFC 3339 form are timestamps on both sides, so
//     {"d": {"$gte": "2024-01-01"}} matches "2024-03-05T10:00:00Z" but no plain string, and a
//     literal such as "2024" (not a timestamp) matches no timestamp.
//   - $eq null matches an explicit null only (also as an array element); use $exists: false
//     for a missing field.
//   - $in matches when any value equals any literal.
//   - $ne v is NOT ($eq v), $nin is NOT $in, $not is the complement: all three also match
//     documents where the field is missing or holds no value of the literal's bracket.
//   - $exists: true matches when the path exists (any value, null included); false when not.
//   - $type matches when ANY value is of one of the types (a timestamp is "timestamp", not
//     "string"; objects and nested arrays yield no values and have no type).
//   - $like matches when ANY string value (timestamps included, by their text as written)
//     matches the SQL pattern: % any run of characters, _ one character (a UTF-8 code point),
//     \ escapes %, _ or \ itself; case-sensitive. Values of other types never match.
//
// Thread safety: Filter and Document are immutable values once built; every function here is
// pure, and a const Document may be read from several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>

#include "document/json_path.h"
#include "document/value_key.h"

namespace phenix::document {

inline constexpr int kMaxFilterDepth = 32;
inline constexpr std::size_t kMaxInValues = 10000;

struct Filter;

/// A parsed metadata object: parse once, then extract paths and evaluate filters many times.
/// It owns its parsed form (simdjson's tape: roughly ten bytes per byte of JSON) and borrows
/// nothing from the text it was parsed from.
class Document {
  public:
    /// The empty object.
    Document();
    Document(Document&&) noexcept;
    Document& operator=(Document&&) noexcept;
    Document(const Document&) = delete;
    Document& operator=(const Document&) = delete;
    ~Document();

    /// Parses a JSON object; "" is the empty object. InvalidArgument if `json` is not valid
    /// JSON (the message gives the position) or not an object. Integers beyond 64 bits are
    /// accepted and read as doubles.
    static Result<Document> Parse(std::string_view json);

    /// What `path` resolves to (json_path.h).
    [[nodiscard]] Extracted Extract(const JsonPath& path) const;

  private:
    struct Impl;
    friend bool Matches(const Filter& filter, const Document& doc);

    explicit Document(std::unique_ptr<Impl> impl);

    std::unique_ptr<Impl> impl_;  // null for the empty object
};

/// A filter tree. Build it with ParseFilter (or by hand: the fields are plain data).
struct Filter {
    enum class Kind : std::uint8_t {
        kAll,
        kNone,
        kAnd,
        kOr,
        kNot,
        kCompare,
        kIn,
        kExists,
        kType,  // $type
        kLike,  // $like
    };
    enum class Op : std::uint8_t { kEq, kNe, kLt, kLte, kGt, kGte };

    Kind kind = Kind::kAll;
    JsonPath path;                 // kCompare, kIn, kExists, kType, kLike
    Op op = Op::kEq;               // kCompare
    Scalar value;                  // kCompare; kLike: the pattern (a plain string)
    std::vector<Scalar> values;    // kIn: sorted by CompareScalars, no duplicates, not empty
    bool negated_in = false;       // kIn: $nin
    bool exists = true;            // kExists
    std::vector<ValueType> types;  // kType: sorted, no duplicates, not empty; kFalse: boolean
    std::vector<Filter> children;  // kAnd, kOr (one or more), kNot (exactly one)

    /// The canonical JSON form: {} (kAll), {"$not":{}} (kNone), {"$and":[...]}, {"$or":[...]},
    /// {"$not":F}, {"p":v} ($eq), {"p":{"$gt":v}}, {"p":{"$in":[...]}}, {"p":{"$exists":b}},
    /// {"p":{"$type":"number"}} (an array for several types), {"p":{"$like":"a%"}}.
    /// ParseFilter(ToString()) equals *this for every filter that ParseFilter or Simplify
    /// returns (a hand-built kAnd/kOr without children or kNot of kAll has no exact form).
    [[nodiscard]] std::string ToString() const;

    /// Structural equality (scalars compare by value, see Scalar::operator==).
    friend bool operator==(const Filter& a, const Filter& b);
};

/// "$eq", "$ne", "$lt", "$lte", "$gt" or "$gte".
std::string_view OpName(Filter::Op op);

/// Whether `text` matches the $like `pattern` (semantics above). A malformed pattern (see
/// CheckLikePattern) matches nothing.
bool LikeMatches(std::string_view text, std::string_view pattern);
/// OK, or InvalidArgument when `pattern` ends in a lone \ or escapes a character other than
/// %, _ or \.
Status CheckLikePattern(std::string_view pattern);

/// Parses a filter (syntax above); "", whitespace and "{}" give kAll, and {"$not":{}} gives
/// kNone. Several keys or operators give a kAnd in the order written; the result is not
/// simplified. InvalidArgument with a message naming the problem and its place, e.g.
/// `filter: $or[1]: "$gte" on "year" needs a scalar value, got an array`.
Result<Filter> ParseFilter(std::string_view json);

/// Whether `doc` satisfies `filter` (semantics above). Stops at the first deciding value.
bool Matches(const Filter& filter, const Document& doc);
/// Parses `metadata_json` ("" is the empty object) and evaluates `filter` on it, without
/// keeping the parsed document. InvalidArgument as Document::Parse.
Result<bool> Matches(const Filter& filter, std::string_view metadata_json);

/// One value of a metadata object, read straight from its JSON text without keeping a parsed
/// document (a scan that needs one or two fields of every record).
struct JsonScalar {
    enum class Kind : std::uint8_t {
        kMissing,  // the path does not exist (a step is absent or not an object)
        kNull,
        kBool,
        kInt,        // int_value
        kUint,       // uint_value: above INT64_MAX
        kDouble,     // double_value
        kString,     // text
        kComposite,  // an object or an array
    };
    Kind kind = Kind::kMissing;
    bool boolean = false;
    std::int64_t int_value = 0;
    std::uint64_t uint_value = 0;
    double double_value = 0;
    std::string text;
};
/// The value at `path` (object keys, no array steps: the last of a duplicated key counts) of
/// the JSON object `object_json` ("" is the empty object). nullopt when the text is not an
/// object simdjson parses (integers beyond 64 bits among others) or the value is -0.0: the
/// caller then reads it another way.
std::optional<JsonScalar> ScalarAt(std::string_view object_json, std::span<const std::string> path);

/// An equivalent, smaller filter: nested kAnd/kOr flattened, kAll dropped from kAnd and kNone
/// from kOr (and the opposite constants absorbing), single-child kAnd/kOr unwrapped, double
/// negation removed, NOT pushed into $eq/$ne, $in/$nin and $exists, and a one-value $in/$nin
/// turned into $eq/$ne. The result is kAll, kNone, or a tree without either.
Filter Simplify(Filter filter);

}  // namespace phenix::document
