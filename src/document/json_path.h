// SPDX-License-Identifier: Apache-2.0
//
// Paths into entity metadata, as indexes and filters name them: `category`, `author.name`,
// `metadata.tags`, `"file.name".ext`.
//
// Syntax: an optional leading `metadata.` (the metadata object itself is the root), then 1 to 16
// segments separated by dots. A segment is either [A-Za-z0-9_$-]+ or a double-quoted string
// (escapes \" and \\ only) for keys holding dots, spaces or other characters. Array positions
// are not addressable: arrays are fanned out (see Extracted). To address a top-level key that
// is itself named "metadata" and has children, write `metadata.metadata.x` or `"metadata".x`.
//
// Extraction (Document::Extract in filter.h) walks the segments through objects. When a step
// meets an array it fans out over the elements: objects continue the path, anything else is
// skipped. At the end of the path a scalar yields itself, and an array yields each of its scalar
// elements (one level: nested arrays and objects yield nothing). Whatever the end of the path
// reaches, including null, an object or an empty array, makes the path *exist*. When an object
// holds a key twice, the last one counts (as JSON.parse and merge patch do).
//
// Thread safety: JsonPath and Extracted are immutable values once built.
#pragma once

#include <compare>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <phenix/result.h>

#include "document/value_key.h"

namespace phenix::document {

inline constexpr std::size_t kMaxPathSegments = 16;

class JsonPath {
  public:
    /// The empty path (no segments); only useful as a placeholder, Parse never returns it.
    JsonPath() = default;

    /// Parses a path (syntax above). InvalidArgument naming the 1-based column of the problem:
    /// an empty path or segment, a character outside [A-Za-z0-9_$-] in an unquoted segment, an
    /// unterminated quote or bad escape, something other than '.' after a quoted segment, or
    /// more than kMaxPathSegments segments.
    static Result<JsonPath> Parse(std::string_view text);

    /// A path from already-split segments (any bytes). InvalidArgument if there are none or
    /// more than kMaxPathSegments.
    static Result<JsonPath> FromSegments(std::vector<std::string> segments);

    [[nodiscard]] const std::vector<std::string>& segments() const { return segments_; }
    [[nodiscard]] bool empty() const { return segments_.empty(); }

    /// The canonical text, without "metadata.", quoting only the segments that need it: empty
    /// ones, ones with characters outside [A-Za-z0-9_$-], and a first segment that starts with
    /// '$' (it would read as an operator in a filter) or is "metadata" with more segments after
    /// it. Parse(ToString()) gives back an equal path.
    [[nodiscard]] std::string ToString() const;

    friend bool operator==(const JsonPath&, const JsonPath&) = default;
    friend auto operator<=>(const JsonPath&, const JsonPath&) = default;

  private:
    explicit JsonPath(std::vector<std::string> segments) : segments_(std::move(segments)) {}

    std::vector<std::string> segments_;
};

/// What a path resolves to in one document.
struct Extracted {
    /// The path reached something (any value, including null, an object or an array).
    bool exists = false;
    /// The scalars the path yields, sorted by CompareScalars without duplicates: the distinct
    /// values an index stores for the document.
    std::vector<Scalar> values;
};

}  // namespace phenix::document
