// SPDX-License-Identifier: Apache-2.0
//
// The vector index part of a collection's settings JSON:
//   {"hnsw": {"m": 16, "ef_construction": 200, "ef_search": 64, "quantization": "none"|"int8"}}
// Every field is optional (defaults below); unknown keys inside "hnsw" are rejected so that a
// typo does not silently fall back to a default. Documented in docs/vector-search.md.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include <phenix/result.h>

namespace phenix::document {

struct VectorIndexSettings {
    std::uint32_t m = 16;
    std::uint32_t ef_construction = 200;
    std::uint32_t ef_search = 64;
    bool quantize_int8 = false;

    friend bool operator==(const VectorIndexSettings&, const VectorIndexSettings&) = default;
};

inline constexpr std::uint32_t kMaxHnswM = 128;
inline constexpr std::uint32_t kMaxEf = 10000;

/// InvalidArgument naming the field for a bad value (m 2..128, ef_construction and ef_search
/// 1..10000, quantization "none" or "int8").
Result<VectorIndexSettings> ParseVectorIndexSettings(std::string_view settings_json);

}  // namespace phenix::document
