// SPDX-License-Identifier: Apache-2.0
//
// AVX2 + FMA kernels. Only the functions here carry the target attribute; the file is compiled
// for baseline x86-64 like the rest of the library (see distance_avx512.cc for why not -mavx2).
#include "index/distance/dispatch.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#define PHENIX_TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace phenix::index::internal {
namespace {

constexpr std::size_t kFloatLanes = 8;  // floats per __m256
constexpr std::size_t kCodeLanes = 16;  // uint8 codes widened into one __m256i of int16
constexpr std::size_t kHalfCodeLanes = 8;

// A window of 8 lanes starting at kTailMaskWords + 8 - remaining has its first `remaining`
// lanes set: the mask for _mm256_maskload_ps, which does not touch masked-off memory.
alignas(64) constexpr std::int32_t kTailMaskWords[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                         0,  0,  0,  0,  0,  0,  0,  0};

// remaining in [1, 7].
PHENIX_TARGET_AVX2 inline __m256i FloatTailMask(std::size_t remaining) {
    return _mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(kTailMaskWords + kFloatLanes - remaining));
}

PHENIX_TARGET_AVX2 inline __m256 LoadFloats(const float* p) {
    return _mm256_loadu_ps(p);
}

PHENIX_TARGET_AVX2 inline float HorizontalSum(__m256 v) {
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    return _mm_cvtss_f32(sum);
}

PHENIX_TARGET_AVX2 inline std::uint32_t HorizontalSum(__m256i v) {
    __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(1, 0, 3, 2)));
    sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(2, 3, 0, 1)));
    return static_cast<std::uint32_t>(_mm_cvtsi128_si32(sum));
}

// 16 codes zero-extended to int16.
PHENIX_TARGET_AVX2 inline __m256i LoadCodes(const std::uint8_t* p) {
    return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// 8 codes zero-extended to int16.
PHENIX_TARGET_AVX2 inline __m128i LoadHalfCodes(const std::uint8_t* p) {
    return _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

// (a - b)^2 summed in pairs into int32 lanes: each pair is at most 2 * 255^2.
PHENIX_TARGET_AVX2 inline __m256i SquaredDiffPairs(__m256i a, __m256i b) {
    const __m256i diff = _mm256_sub_epi16(a, b);
    return _mm256_madd_epi16(diff, diff);
}

PHENIX_TARGET_AVX2 float L2Squared(const float* a, const float* b, std::size_t dim) {
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps();
    __m256 acc3 = _mm256_setzero_ps();
    std::size_t idx = 0;
    for (; idx + 4 * kFloatLanes <= dim; idx += 4 * kFloatLanes) {
        const __m256 d0 = _mm256_sub_ps(LoadFloats(a + idx), LoadFloats(b + idx));
        const __m256 d1 = _mm256_sub_ps(LoadFloats(a + idx + 8), LoadFloats(b + idx + 8));
        const __m256 d2 = _mm256_sub_ps(LoadFloats(a + idx + 16), LoadFloats(b + idx + 16));
        const __m256 d3 = _mm256_sub_ps(LoadFloats(a + idx + 24), LoadFloats(b + idx + 24));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        acc1 = _mm256_fmadd_ps(d1, d1, acc1);
        acc2 = _mm256_fmadd_ps(d2, d2, acc2);
        acc3 = _mm256_fmadd_ps(d3, d3, acc3);
    }
    for (; idx + kFloatLanes <= dim; idx += kFloatLanes) {
        const __m256 d = _mm256_sub_ps(LoadFloats(a + idx), LoadFloats(b + idx));
        acc0 = _mm256_fmadd_ps(d, d, acc0);
    }
    if (idx < dim) {
        const __m256i mask = FloatTailMask(dim - idx);
        const __m256 d =
            _mm256_sub_ps(_mm256_maskload_ps(a + idx, mask), _mm256_maskload_ps(b + idx, mask));
        acc1 = _mm256_fmadd_ps(d, d, acc1);
    }
    return HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

PHENIX_TARGET_AVX2 float Dot(const float* a, const float* b, std::size_t dim) {
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps();
    __m256 acc3 = _mm256_setzero_ps();
    std::size_t idx = 0;
    for (; idx + 4 * kFloatLanes <= dim; idx += 4 * kFloatLanes) {
        acc0 = _mm256_fmadd_ps(LoadFloats(a + idx), LoadFloats(b + idx), acc0);
        acc1 = _mm256_fmadd_ps(LoadFloats(a + idx + 8), LoadFloats(b + idx + 8), acc1);
        acc2 = _mm256_fmadd_ps(LoadFloats(a + idx + 16), LoadFloats(b + idx + 16), acc2);
        acc3 = _mm256_fmadd_ps(LoadFloats(a + idx + 24), LoadFloats(b + idx + 24), acc3);
    }
    for (; idx + kFloatLanes <= dim; idx += kFloatLanes) {
        acc0 = _mm256_fmadd_ps(LoadFloats(a + idx), LoadFloats(b + idx), acc0);
    }
    if (idx < dim) {
        const __m256i mask = FloatTailMask(dim - idx);
        acc1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + idx, mask), _mm256_maskload_ps(b + idx, mask),
                               acc1);
    }
    return HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

PHENIX_TARGET_AVX2 float CosineDistance(const float* a, const float* b, std::size_t dim) {
    __m256 dot0 = _mm256_setzero_ps();
    __m256 dot1 = _mm256_setzero_ps();
    __m256 norm_a0 = _mm256_setzero_ps();
    __m256 norm_a1 = _mm256_setzero_ps();
    __m256 norm_b0 = _mm256_setzero_ps();
    __m256 norm_b1 = _mm256_setzero_ps();
    std::size_t idx = 0;
    for (; idx + 2 * kFloatLanes <= dim; idx += 2 * kFloatLanes) {
        const __m256 a0 = LoadFloats(a + idx);
        const __m256 b0 = LoadFloats(b + idx);
        const __m256 a1 = LoadFloats(a + idx + 8);
        const __m256 b1 = LoadFloats(b + idx + 8);
        dot0 = _mm256_fmadd_ps(a0, b0, dot0);
        norm_a0 = _mm256_fmadd_ps(a0, a0, norm_a0);
        norm_b0 = _mm256_fmadd_ps(b0, b0, norm_b0);
        dot1 = _mm256_fmadd_ps(a1, b1, dot1);
        norm_a1 = _mm256_fmadd_ps(a1, a1, norm_a1);
        norm_b1 = _mm256_fmadd_ps(b1, b1, norm_b1);
    }
    if (idx + kFloatLanes <= dim) {
        const __m256 a0 = LoadFloats(a + idx);
        const __m256 b0 = LoadFloats(b + idx);
        dot0 = _mm256_fmadd_ps(a0, b0, dot0);
        norm_a0 = _mm256_fmadd_ps(a0, a0, norm_a0);
        norm_b0 = _mm256_fmadd_ps(b0, b0, norm_b0);
        idx += kFloatLanes;
    }
    if (idx < dim) {
        const __m256i mask = FloatTailMask(dim - idx);
        const __m256 a1 = _mm256_maskload_ps(a + idx, mask);
        const __m256 b1 = _mm256_maskload_ps(b + idx, mask);
        dot1 = _mm256_fmadd_ps(a1, b1, dot1);
        norm_a1 = _mm256_fmadd_ps(a1, a1, norm_a1);
        norm_b1 = _mm256_fmadd_ps(b1, b1, norm_b1);
    }
    return CosineFromSums(HorizontalSum(_mm256_add_ps(dot0, dot1)),
                          HorizontalSum(_mm256_add_ps(norm_a0, norm_a1)),
                          HorizontalSum(_mm256_add_ps(norm_b0, norm_b1)));
}

// The int32 lanes cannot overflow for dim <= 66,000 (each holds a part of a total that fits in
// uint32); the final sum wraps modulo 2^32 exactly like the uint32 reference. The last < 8
// codes are summed in scalar code: AVX2 has no byte-masked load.
PHENIX_TARGET_AVX2 std::uint32_t CodeL2Squared(const std::uint8_t* a, const std::uint8_t* b,
                                               std::size_t dim) {
    __m256i acc0 = _mm256_setzero_si256();
    __m256i acc1 = _mm256_setzero_si256();
    std::size_t idx = 0;
    for (; idx + 2 * kCodeLanes <= dim; idx += 2 * kCodeLanes) {
        acc0 = _mm256_add_epi32(acc0, SquaredDiffPairs(LoadCodes(a + idx), LoadCodes(b + idx)));
        acc1 = _mm256_add_epi32(acc1,
                                SquaredDiffPairs(LoadCodes(a + idx + 16), LoadCodes(b + idx + 16)));
    }
    if (idx + kCodeLanes <= dim) {
        acc0 = _mm256_add_epi32(acc0, SquaredDiffPairs(LoadCodes(a + idx), LoadCodes(b + idx)));
        idx += kCodeLanes;
    }
    if (idx + kHalfCodeLanes <= dim) {
        const __m128i diff = _mm_sub_epi16(LoadHalfCodes(a + idx), LoadHalfCodes(b + idx));
        acc1 = _mm256_add_epi32(acc1, _mm256_zextsi128_si256(_mm_madd_epi16(diff, diff)));
        idx += kHalfCodeLanes;
    }
    std::uint32_t sum = HorizontalSum(_mm256_add_epi32(acc0, acc1));
    for (; idx < dim; ++idx) {
        const int diff = int{a[idx]} - int{b[idx]};
        sum += static_cast<std::uint32_t>(diff * diff);
    }
    return sum;
}

PHENIX_TARGET_AVX2 std::uint32_t CodeDot(const std::uint8_t* a, const std::uint8_t* b,
                                         std::size_t dim) {
    __m256i acc0 = _mm256_setzero_si256();
    __m256i acc1 = _mm256_setzero_si256();
    std::size_t idx = 0;
    for (; idx + 2 * kCodeLanes <= dim; idx += 2 * kCodeLanes) {
        acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(LoadCodes(a + idx), LoadCodes(b + idx)));
        acc1 = _mm256_add_epi32(
            acc1, _mm256_madd_epi16(LoadCodes(a + idx + 16), LoadCodes(b + idx + 16)));
    }
    if (idx + kCodeLanes <= dim) {
        acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(LoadCodes(a + idx), LoadCodes(b + idx)));
        idx += kCodeLanes;
    }
    if (idx + kHalfCodeLanes <= dim) {
        const __m128i products = _mm_madd_epi16(LoadHalfCodes(a + idx), LoadHalfCodes(b + idx));
        acc1 = _mm256_add_epi32(acc1, _mm256_zextsi128_si256(products));
        idx += kHalfCodeLanes;
    }
    std::uint32_t sum = HorizontalSum(_mm256_add_epi32(acc0, acc1));
    for (; idx < dim; ++idx) {
        sum += std::uint32_t{a[idx]} * std::uint32_t{b[idx]};
    }
    return sum;
}

constexpr KernelTable kAvx2Table{
    .level = SimdLevel::kAvx2,
    .l2_squared = L2Squared,
    .dot = Dot,
    .cosine_distance = CosineDistance,
    .code_l2_squared = CodeL2Squared,
    .code_dot = CodeDot,
};

}  // namespace

const KernelTable* Avx2Table() {
    return &kAvx2Table;
}

}  // namespace phenix::index::internal

#else  // !defined(__x86_64__)

namespace phenix::index::internal {

const KernelTable* Avx2Table() {
    return nullptr;
}

}  // namespace phenix::index::internal

#endif
