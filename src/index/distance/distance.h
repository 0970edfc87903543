// SPDX-License-Identifier: Apache-2.0
//
// Distance kernels for vector search: squared L2, inner product and cosine on float32, and
// squared L2 / dot product on 8-bit scalar-quantized codes (uint8). Each kernel exists as a
// scalar reference and in SIMD variants (AVX-512, AVX2+FMA on x86-64; NEON on AArch64), chosen
// once at startup from what the CPU supports (`Kernels()`). The environment variable
// PHENIX_SIMD=scalar|avx2|avx512|neon forces a lower level (tests and benchmarks); it is read
// once, at the first `Kernels()` call. It can only lower the level: a value that is unknown
// (names are exact and lower case), above the CPU's best level or not available on this CPU is
// ignored silently.
//
// Accuracy: the SIMD float kernels sum in a different order from the scalar reference; the
// difference is bounded by `FloatTolerance` (documented in docs/vector-search.md). The integer
// kernels are exact.
//
// Thread safety: pure functions; `Kernels()` is initialised once, thread-safely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace phenix::index {

/// Float kernels: (a, b, dim) -> value. `a` and `b` need no alignment.
using FloatKernel = float (*)(const float* a, const float* b, std::size_t dim);
/// Code kernels on uint8 codes: exact integer result (fits in uint32 for dim <= 66,000).
using CodeKernel = std::uint32_t (*)(const std::uint8_t* a, const std::uint8_t* b, std::size_t dim);

enum class SimdLevel : std::uint8_t { kScalar, kNeon, kAvx2, kAvx512 };

[[nodiscard]] std::string_view SimdLevelName(SimdLevel level);

struct KernelTable {
    SimdLevel level = SimdLevel::kScalar;
    FloatKernel l2_squared = nullptr;       ///< sum (a_i - b_i)^2
    FloatKernel dot = nullptr;              ///< sum a_i * b_i
    FloatKernel cosine_distance = nullptr;  ///< 1 - dot / (|a| |b|); 1 if either norm is 0
    CodeKernel code_l2_squared = nullptr;   ///< sum (a_i - b_i)^2 over uint8 codes
    CodeKernel code_dot = nullptr;          ///< sum a_i * b_i over uint8 codes
};

/// The best kernels this CPU supports (or the level PHENIX_SIMD asks for, if lower).
[[nodiscard]] const KernelTable& Kernels();
/// The kernels of one level; nullptr if this build or CPU lacks it.
[[nodiscard]] const KernelTable* KernelsFor(SimdLevel level);

/// Scalar references (also the fallback).
float L2SquaredReference(const float* a, const float* b, std::size_t dim);
float DotReference(const float* a, const float* b, std::size_t dim);
float CosineDistanceReference(const float* a, const float* b, std::size_t dim);
std::uint32_t CodeL2SquaredReference(const std::uint8_t* a, const std::uint8_t* b, std::size_t dim);
std::uint32_t CodeDotReference(const std::uint8_t* a, const std::uint8_t* b, std::size_t dim);

/// Largest allowed |simd - reference| for a float kernel over `dim` elements whose
/// reference sum of absolute terms is `magnitude` (relative error bound of float summation).
/// l2_squared: magnitude = the sum of (a_i - b_i)^2; dot: the sum of |a_i * b_i|;
/// cosine_distance: magnitude = 3 (its terms are normalised), valid while no a_i^2, b_i^2 or
/// a_i * b_i underflows.
[[nodiscard]] float FloatTolerance(std::size_t dim, float magnitude);

/// Scales `v` to unit L2 norm in place; returns false (and leaves v) if its norm is 0 or not
/// finite. The norm is computed in double, so tiny and huge vectors normalise too.
bool NormalizeInPlace(float* v, std::size_t dim);

}  // namespace phenix::index
