// SPDX-License-Identifier: Apache-2.0
//
// ScanObjectKeys: a check of a request body that does not build it. Whether the text is one
// well-formed JSON object (RFC 8259) and whether any of a few keys appear at its top level,
// without converting numbers or allocating: the search handler's body is mostly a query
// vector's floats, which the JSON query form parses anyway, so parsing it a second time only to
// look at two keys cost as much as the parse. Conservative: any doubt (a byte >= 0x80, an escape
// in a top-level key, nesting deeper than kMaxScanDepth) answers nullopt, and the caller parses
// the body in full as before. Pure function; thread-safe.
#pragma once

#include <initializer_list>
#include <optional>
#include <string_view>

namespace phenix::server {

inline constexpr int kMaxScanDepth = 64;

struct ScannedObject {
    bool has_key = false;  // one of the keys is a top-level member
    bool empty = false;    // the object has no members
};

/// The result for a well-formed JSON object (surrounding whitespace allowed), or nullopt.
std::optional<ScannedObject> ScanObjectKeys(std::string_view text,
                                            std::initializer_list<std::string_view> keys);

}  // namespace phenix::server
