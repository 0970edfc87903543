// SPDX-License-Identifier: Apache-2.0
//
// Typed scalar values as metadata indexes and filters see them, and their order-preserving key
// encoding.
//
// A `Scalar` is one JSON scalar: null, false, true, a number (every JSON number, integer or not,
// as a double; -0.0 is normalised to +0.0), a timestamp, or a string. A JSON string in RFC 3339
// form (see ParseTimestamp) is a timestamp, both in documents and in filter literals, so that
// equality and ranges on dates work without a schema; any other string stays a string.
//
// Order (CompareScalars): first by type byte (null < false < true < numbers < timestamps <
// strings), then by value: numbers numerically, timestamps by instant, strings by UTF-8 byte
// order. Filters only compare values of the same *bracket* (SameBracket): both null, both
// booleans, both numbers, both timestamps or both strings.
//
// Key encoding (AppendScalarKey), persisted in index keys, so it must never change:
//   1 type byte (the ValueType value), then
//   number:    8 bytes big-endian of the IEEE-754 bits, transformed to sort as unsigned
//              integers (negative: all bits flipped; non-negative: sign bit flipped)
//   timestamp: 8 bytes big-endian of the microseconds XOR the sign bit
//   string:    the bytes with 0x00 escaped as 0x00 0xFF, terminated by 0x00 0x01 (a prefix
//              sorts first and the key is self-delimiting, so more key parts may follow)
//   null, false, true: nothing more.
// memcmp order of encodings equals CompareScalars order. The layout is part of the on-disk format
// of metadata indexes: changing it needs a format version bump (STYLE.md §7).
//
// Thread safety: pure functions and value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <phenix/result.h>

namespace phenix::document {

enum class ValueType : std::uint8_t {
    kNull = 0x10,
    kFalse = 0x20,
    kTrue = 0x21,
    kNumber = 0x30,
    kTimestamp = 0x40,
    kString = 0x50,
};

/// "null", "boolean", "number", "timestamp" or "string".
std::string_view ValueTypeName(ValueType type);

/// One JSON scalar. Build it with the factories, which normalise (-0.0, timestamp detection);
/// the fields are public for cheap reads.
struct Scalar {
    ValueType type = ValueType::kNull;
    double number = 0;        // kNumber
    std::int64_t micros = 0;  // kTimestamp: microseconds since the Unix epoch, UTC
    std::string text;         // kString (UTF-8), and the original text of a kTimestamp

    static Scalar Null() { return {}; }
    static Scalar Bool(bool b);
    /// -0.0 becomes +0.0; any NaN (JSON cannot hold one) becomes one NaN that sorts after +inf.
    static Scalar Number(double d);
    /// A kTimestamp when `s` is an RFC 3339 timestamp (ParseTimestamp), otherwise a kString.
    static Scalar String(std::string s);
    /// A kString even if `s` looks like a timestamp (for decoded keys and tests).
    static Scalar PlainString(std::string s);
    /// A kTimestamp whose text is the canonical form (FormatTimestamp).
    static Scalar Timestamp(std::int64_t micros);

    /// Same type and same value (CompareScalars == 0): the text of a timestamp does not count,
    /// so "2024-05-01" equals "2024-05-01T00:00:00Z".
    friend bool operator==(const Scalar& a, const Scalar& b);
};

/// A non-owning view of a scalar with the same fields; `text` borrows from the caller and is
/// valid as long as the viewed string. Used on hot paths to avoid copying strings.
struct ScalarView {
    ValueType type = ValueType::kNull;
    double number = 0;
    std::int64_t micros = 0;
    std::string_view text;

    ScalarView() = default;
    ScalarView(const Scalar& s)  // NOLINT(google-explicit-constructor): a view of a Scalar
        : type(s.type), number(s.number), micros(s.micros), text(s.text) {}
};

/// Total order: by type byte, then value (see the file comment). <0, 0 or >0.
int CompareScalars(ScalarView a, ScalarView b);
/// Whether a and b are comparable for ranges: both null, both booleans, both numbers, both
/// timestamps or both strings.
bool SameBracket(ValueType a, ValueType b);
inline bool SameBracket(ScalarView a, ScalarView b) {
    return SameBracket(a.type, b.type);
}

/// Appends the order-preserving encoding of `v` to `*out`.
void AppendScalarKey(ScalarView v, std::string* out);
/// The encoding of `v` as a new string.
std::string EncodeScalarKey(ScalarView v);
/// Consumes one encoded scalar from the front of `*in` (advancing it). Corruption on an empty
/// or truncated input, an unknown type byte or a malformed string escape; `*in` is unchanged
/// then. A decoded timestamp's text is its canonical form; a decoded string is always kString.
Result<Scalar> DecodeScalarKey(std::string_view* in);

/// Key ranges: every encoded scalar of `type`'s bracket lies in [begin, end).
struct KeyRange {
    std::string begin;
    std::string end;
};
KeyRange BracketKeyRange(ValueType type);

/// Parses an RFC 3339 timestamp into microseconds since the Unix epoch (UTC). Accepted:
///   YYYY-MM-DD                                               (midnight UTC)
///   YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|+HH:MM|-HH:MM)
/// The fraction has 1-9 digits and is truncated to microseconds. Month 1-12, day within the
/// month (leap years included), hour < 24, minute < 60, second <= 60 (a leap second counts as
/// the first second of the next minute), offset hours < 24 and minutes < 60. Anything else,
/// including surrounding whitespace, is not a timestamp (nullopt). Cheap on non-timestamps.
std::optional<std::int64_t> ParseTimestamp(std::string_view text);

/// The canonical RFC 3339 form: "YYYY-MM-DDTHH:MM:SSZ", with ".ffffff" when the microseconds
/// are not zero. Years outside 0000-9999 are written with more digits or a minus sign.
std::string FormatTimestamp(std::int64_t micros);

/// Appends `s` as a JSON string literal (quotes, escapes for '"', '\\' and control characters;
/// other bytes are copied as they are).
void AppendJsonString(std::string_view s, std::string* out);
/// The scalar as JSON: null, true, false, the shortest number that reads back as the same
/// double, or a string (a timestamp's text). Non-finite numbers, which JSON cannot hold, are
/// written as 1e999, -1e999 and null (NaN).
std::string ScalarToJson(ScalarView v);

}  // namespace phenix::document
