// SPDX-License-Identifier: Apache-2.0
//
// Internal to index/distance: the per-ISA kernel tables (each defined in its own translation
// unit, distance_<isa>.cc), the PHENIX_SIMD parsing used by `Kernels()`, and the cosine
// epilogue every level shares so that they differ from the reference only in summation order.
// Tests include this header; nothing outside index/distance should.
//
// Thread safety: pure functions over immutable tables.
#pragma once

#include <cmath>
#include <optional>
#include <string_view>

#include "index/distance/distance.h"

namespace phenix::index::internal {

// The table of one ISA, or nullptr when this build has no kernels for it (wrong architecture).
// They do not check the CPU: `KernelsFor()` does.
const KernelTable* Avx2Table();
const KernelTable* Avx512Table();
const KernelTable* NeonTable();

// "scalar", "neon", "avx2" or "avx512" (exact, lower case); nullopt for anything else.
[[nodiscard]] std::optional<SimdLevel> ParseSimdLevel(std::string_view name);

// The level `Kernels()` uses: `best`, unless `env_value` (PHENIX_SIMD) names a level that is
// not above `best` and that `KernelsFor()` has on this CPU. Anything else is ignored silently.
[[nodiscard]] SimdLevel ApplySimdOverride(SimdLevel best, std::string_view env_value);

// The best level this CPU and build support.
[[nodiscard]] SimdLevel BestSimdLevel();

// 1 - dot / (|a| |b|) from the three sums; 1 if either norm is 0. Square roots are taken
// separately so that norm_a * norm_b cannot underflow or overflow.
inline float CosineFromSums(float dot, float norm_a_squared, float norm_b_squared) {
    if (norm_a_squared == 0.0f || norm_b_squared == 0.0f) {
        return 1.0f;
    }
    return 1.0f - dot / (std::sqrt(norm_a_squared) * std::sqrt(norm_b_squared));
}

}  // namespace phenix::index::internal
