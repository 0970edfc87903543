// SPDX-License-Identifier: Apache-2.0
#include "index/distance/distance.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "index/distance/dispatch.h"

namespace phenix::index {
namespace {

constexpr KernelTable kScalarTable{
    .level = SimdLevel::kScalar,
    .l2_squared = L2SquaredReference,
    .dot = DotReference,
    .cosine_distance = CosineDistanceReference,
    .code_l2_squared = CodeL2SquaredReference,
    .code_dot = CodeDotReference,
};

struct CpuFeatures {
    bool has_avx2 = false;    // AVX2 and FMA
    bool has_avx512 = false;  // AVX-512 F, BW and VL
};

CpuFeatures DetectCpuFeatures() {
    CpuFeatures features;
#if defined(__x86_64__) || defined(__i386__)
    // libgcc's checks include the OS (XCR0) having enabled the AVX and AVX-512 register state.
    __builtin_cpu_init();
    features.has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    features.has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl");
#endif
    return features;
}

const CpuFeatures& Cpu() {
    static const CpuFeatures features = DetectCpuFeatures();
    return features;
}

const KernelTable& ChooseKernels() {
    const char* env_value = std::getenv("PHENIX_SIMD");  // NOLINT(concurrency-mt-unsafe): read once
    const SimdLevel level = internal::ApplySimdOverride(
        internal::BestSimdLevel(), env_value == nullptr ? std::string_view() : env_value);
    const KernelTable* table = KernelsFor(level);
    return table != nullptr ? *table : kScalarTable;
}

}  // namespace

std::string_view SimdLevelName(SimdLevel level) {
    switch (level) {
        case SimdLevel::kScalar:
            return "scalar";
        case SimdLevel::kNeon:
            return "neon";
        case SimdLevel::kAvx2:
            return "avx2";
        case SimdLevel::kAvx512:
            return "avx512";
    }
    return "unknown";
}

const KernelTable& Kernels() {
    static const KernelTable& table = ChooseKernels();
    return table;
}

const KernelTable* KernelsFor(SimdLevel level) {
    switch (level) {
        case SimdLevel::kScalar:
            return &kScalarTable;
        case SimdLevel::kNeon:
            return internal::NeonTable();  // NEON is part of the AArch64 baseline
        case SimdLevel::kAvx2:
            return Cpu().has_avx2 ? internal::Avx2Table() : nullptr;
        case SimdLevel::kAvx512:
            return Cpu().has_avx512 ? internal::Avx512Table() : nullptr;
    }
    return nullptr;
}

namespace internal {

std::optional<SimdLevel> ParseSimdLevel(std::string_view name) {
    for (const SimdLevel level :
         {SimdLevel::kScalar, SimdLevel::kNeon, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
        if (name == SimdLevelName(level)) {
            return level;
        }
    }
    return std::nullopt;
}

SimdLevel ApplySimdOverride(SimdLevel best, std::string_view env_value) {
    const std::optional<SimdLevel> requested = ParseSimdLevel(env_value);
    if (!requested.has_value() || *requested > best || KernelsFor(*requested) == nullptr) {
        return best;
    }
    return *requested;
}

SimdLevel BestSimdLevel() {
    for (const SimdLevel level : {SimdLevel::kAvx512, SimdLevel::kAvx2, SimdLevel::kNeon}) {
        if (KernelsFor(level) != nullptr) {
            return level;
        }
    }
    return SimdLevel::kScalar;
}

}  // namespace internal

// The references are plain left-to-right float loops: the compiler may not reorder float
// additions (no -ffast-math), so they stay scalar and define the summation order that
// `FloatTolerance` measures the SIMD kernels against.
float L2SquaredReference(const float* a, const float* b, std::size_t dim) {
    float sum = 0.0f;
    for (std::size_t idx = 0; idx < dim; ++idx) {
        const float diff = a[idx] - b[idx];
        sum += diff * diff;
    }
    return sum;
}

float DotReference(const float* a, const float* b, std::size_t dim) {
    float sum = 0.0f;
    for (std::size_t idx = 0; idx < dim; ++idx) {
        sum += a[idx] * b[idx];
    }
    return sum;
}

float CosineDistanceReference(const float* a, const float* b, std::size_t dim) {
    float dot = 0.0f;
    float norm_a = 0.0f;
    float norm_b = 0.0f;
    for (std::size_t idx = 0; idx < dim; ++idx) {
        dot += a[idx] * b[idx];
        norm_a += a[idx] * a[idx];
        norm_b += b[idx] * b[idx];
    }
    return internal::CosineFromSums(dot, norm_a, norm_b);
}

std::uint32_t CodeL2SquaredReference(const std::uint8_t* a, const std::uint8_t* b,
                                     std::size_t dim) {
    std::uint32_t sum = 0;
    for (std::size_t idx = 0; idx < dim; ++idx) {
        const int diff = int{a[idx]} - int{b[idx]};
        sum += static_cast<std::uint32_t>(diff * diff);
    }
    return sum;
}

std::uint32_t CodeDotReference(const std::uint8_t* a, const std::uint8_t* b, std::size_t dim) {
    std::uint32_t sum = 0;
    for (std::size_t idx = 0; idx < dim; ++idx) {
        sum += std::uint32_t{a[idx]} * std::uint32_t{b[idx]};
    }
    return sum;
}

// Each term of a kernel carries at most 3 roundings (a difference, a product, an addition) and
// any summation order of n terms adds gamma(n - 1) relative to the sum of absolute terms
// (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., §3.1), so both the reference
// and a SIMD kernel are within gamma(dim + 2) * sum|terms| of the exact value, and of each other
// within twice that. `magnitude` is itself a rounded sum, hence the 1 / (1 - gamma). Products
// that underflow lose up to half the smallest subnormal each, the absolute term.
float FloatTolerance(std::size_t dim, float magnitude) {
    constexpr double kUnitRoundoff = 0x1p-24;
    constexpr double kHalfSubnormal = 0x1p-150;
    const double num_roundings = static_cast<double>(dim) + 2.0;
    const double n_u = num_roundings * kUnitRoundoff;
    if (n_u >= 0.5) {
        return std::numeric_limits<float>::infinity();
    }
    const double gamma = n_u / (1.0 - n_u);
    const double bound = 2.0 * gamma * std::fabs(static_cast<double>(magnitude)) / (1.0 - gamma) +
                         2.0 * num_roundings * kHalfSubnormal;
    float rounded = static_cast<float>(bound);
    if (static_cast<double>(rounded) < bound) {
        rounded = std::nextafter(rounded, std::numeric_limits<float>::infinity());
    }
    return rounded;
}

bool NormalizeInPlace(float* v, std::size_t dim) {
    // Double: the squares of neither tiny nor huge floats under- or overflow.
    double norm_squared = 0.0;
    for (std::size_t idx = 0; idx < dim; ++idx) {
        norm_squared += static_cast<double>(v[idx]) * static_cast<double>(v[idx]);
    }
    if (norm_squared == 0.0 || !std::isfinite(norm_squared)) {
        return false;
    }
    const double inverse_norm = 1.0 / std::sqrt(norm_squared);
    for (std::size_t idx = 0; idx < dim; ++idx) {
        v[idx] = static_cast<float>(static_cast<double>(v[idx]) * inverse_norm);
    }
    return true;
}

}  // namespace phenix::index
