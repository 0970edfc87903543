// SPDX-License-Identifier: Apache-2.0
//
// ScanSearchBody: the search handler's one pass over its request body, without building a JSON
// document. It checks that the text is one well-formed JSON object (RFC 8259), notes whether
// "collection" or "explain" appear at its top level, and decodes the usual search
// ({"vector", "k", "ef"}, SimpleSearch), which the handler then answers through
// Database::Search itself; any other body goes to the JSON query form, as the client wrote it
// when neither key appears (the form parses it anyway: parsing it here too cost as much again).
// Conservative: any doubt (a byte >= 0x80, an escape in a top-level key, nesting deeper than
// kMaxScanDepth) answers nullopt, and the caller parses the body in full. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace phenix::server {

inline constexpr int kMaxScanDepth = 64;

/// The usual search body, decoded: {"vector": [numbers], "k"?: N, "ef"?: N, "collection"?: "..."}
/// and nothing else — each key once, k in 1..10000 and ef in 1..100000 written as plain
/// integers, every number finite as a float, the collection a string without escapes. The
/// vector's numbers are converted as the JSON query form converts them (decimal -> double ->
/// float, an integer's -0 as 0), so Database::Search gets the same query vector.
struct SimpleSearch {
    std::vector<float> vector;
    std::optional<std::uint32_t> k;
    std::optional<std::uint32_t> ef;
    std::optional<std::string_view> collection;  ///< a view into the scanned text
};

struct ScannedSearch {
    bool names_collection_or_explain = false;  // "collection" or "explain" is a top-level member
    bool empty = false;                        // the object has no members
    std::optional<SimpleSearch> simple;        // when the body is the usual search (above)
};

/// The result for a well-formed JSON object (surrounding whitespace allowed), or nullopt.
std::optional<ScannedSearch> ScanSearchBody(std::string_view text);

}  // namespace phenix::server
