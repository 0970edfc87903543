// SPDX-License-Identifier: Apache-2.0
//
// AVX-512 (F, BW, VL) kernels. Only the functions here carry the target attribute; the file is
// compiled for baseline x86-64 like the rest of the library, so nothing AVX-512 can leak into
// code that runs before `KernelsFor()` has checked the CPU (no -mavx512f per file: inline
// functions from shared headers instantiated here could then be picked by the linker for
// everyone).
#include "index/distance/dispatch.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#define PHENIX_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

namespace phenix::index::internal {
namespace {

constexpr std::size_t kFloatLanes = 16;  // floats per __m512
constexpr std::size_t kCodeLanes = 32;   // uint8 codes widened into one __m512i of int16

// Lanes [0, remaining) set; remaining in [1, 15].
PHENIX_TARGET_AVX512 inline __mmask16 FloatTailMask(std::size_t remaining) {
    return static_cast<__mmask16>((1u << remaining) - 1u);
}

// Lanes [0, remaining) set; remaining in [1, 31].
PHENIX_TARGET_AVX512 inline __mmask32 CodeTailMask(std::size_t remaining) {
    return static_cast<__mmask32>((std::uint32_t{1} << remaining) - 1u);
}

PHENIX_TARGET_AVX512 inline __m512 LoadFloats(const float* p) {
    return _mm512_loadu_ps(p);
}

PHENIX_TARGET_AVX512 inline __m512 LoadFloatsMasked(__mmask16 mask, const float* p) {
    return _mm512_maskz_loadu_ps(mask, p);
}

// 32 codes zero-extended to int16.
PHENIX_TARGET_AVX512 inline __m512i LoadCodes(const std::uint8_t* p) {
    return _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

PHENIX_TARGET_AVX512 inline __m512i LoadCodesMasked(__mmask32 mask, const std::uint8_t* p) {
    return _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask, p));
}

// (a - b)^2 summed in pairs into int32 lanes: each pair is at most 2 * 255^2.
PHENIX_TARGET_AVX512 inline __m512i SquaredDiffPairs(__m512i a, __m512i b) {
    const __m512i diff = _mm512_sub_epi16(a, b);
    return _mm512_madd_epi16(diff, diff);
}

// The horizontal sums avoid _mm512_reduce_add_*, _mm512_extract*x4 and _mm512_cast*512_*256
// (whose _mm256_undefined_* trips GCC 12's -Wuninitialized when inlined, GCC bug 105593) by
// extracting the halves with an all-ones zero-mask. The integer one is also exact where GCC's
// reduce_add_epi32 ends in a signed int addition that overflows once the total exceeds
// INT32_MAX (it may reach 2^32 - 1).
constexpr __mmask8 kAllLanes8 = 0xff;

PHENIX_TARGET_AVX512 inline float HorizontalSum(__m512 v) {
    const __m512d as_double = _mm512_castps_pd(v);
    const __m256 sum8 =
        _mm256_add_ps(_mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(kAllLanes8, as_double, 0)),
                      _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(kAllLanes8, as_double, 1)));
    __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(sum8), _mm256_extractf128_ps(sum8, 1));
    sum4 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
    sum4 = _mm_add_ss(sum4, _mm_movehdup_ps(sum4));
    return _mm_cvtss_f32(sum4);
}

// Lane sum modulo 2^32.
PHENIX_TARGET_AVX512 inline std::uint32_t HorizontalSum(__m512i v) {
    const __m256i sum8 = _mm256_add_epi32(_mm512_maskz_extracti64x4_epi64(kAllLanes8, v, 0),
                                          _mm512_maskz_extracti64x4_epi64(kAllLanes8, v, 1));
    __m128i sum4 = _mm_add_epi32(_mm256_castsi256_si128(sum8), _mm256_extracti128_si256(sum8, 1));
    sum4 = _mm_add_epi32(sum4, _mm_shuffle_epi32(sum4, _MM_SHUFFLE(1, 0, 3, 2)));
    sum4 = _mm_add_epi32(sum4, _mm_shuffle_epi32(sum4, _MM_SHUFFLE(2, 3, 0, 1)));
    return static_cast<std::uint32_t>(_mm_cvtsi128_si32(sum4));
}

PHENIX_TARGET_AVX512 float L2Squared(const float* a, const float* b, std::size_t dim) {
    __m512 acc0 = _mm512_setzero_ps();
    __m512 acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps();
    __m512 acc3 = _mm512_setzero_ps();
    std::size_t idx = 0;
    for (; idx + 4 * kFloatLanes <= dim; idx += 4 * kFloatLanes) {
        const __m512 d0 = _mm512_sub_ps(LoadFloats(a + idx), LoadFloats(b + idx));
        const __m512 d1 = _mm512_sub_ps(LoadFloats(a + idx + 16), LoadFloats(b + idx + 16));
        const __m512 d2 = _mm512_sub_ps(LoadFloats(a + idx + 32), LoadFloats(b + idx + 32));
        const __m512 d3 = _mm512_sub_ps(LoadFloats(a + idx + 48), LoadFloats(b + idx + 48));
        acc0 = _mm512_fmadd_ps(d0, d0, acc0);
        acc1 = _mm512_fmadd_ps(d1, d1, acc1);
        acc2 = _mm512_fmadd_ps(d2, d2, acc2);
        acc3 = _mm512_fmadd_ps(d3, d3, acc3);
    }
    for (; idx + kFloatLanes <= dim; idx += kFloatLanes) {
        const __m512 d = _mm512_sub_ps(LoadFloats(a + idx), LoadFloats(b + idx));
        acc0 = _mm512_fmadd_ps(d, d, acc0);
    }
    if (idx < dim) {
        const __mmask16 mask = FloatTailMask(dim - idx);
        const __m512 d =
            _mm512_sub_ps(LoadFloatsMasked(mask, a + idx), LoadFloatsMasked(mask, b + idx));
        acc1 = _mm512_fmadd_ps(d, d, acc1);
    }
    return HorizontalSum(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

PHENIX_TARGET_AVX512 float Dot(const float* a, const float* b, std::size_t dim) {
    __m512 acc0 = _mm512_setzero_ps();
    __m512 acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps();
    __m512 acc3 = _mm512_setzero_ps();
    std::size_t idx = 0;
    for (; idx + 4 * kFloatLanes <= dim; idx += 4 * kFloatLanes) {
        acc0 = _mm512_fmadd_ps(LoadFloats(a + idx), LoadFloats(b + idx), acc0);
        acc1 = _mm512_fmadd_ps(LoadFloats(a + idx + 16), LoadFloats(b + idx + 16), acc1);
        acc2 = _mm512_fmadd_ps(LoadFloats(a + idx + 32), LoadFloats(b + idx + 32), acc2);
        acc3 = _mm512_fmadd_ps(LoadFloats(a + idx + 48), LoadFloats(b + idx + 48), acc3);
    }
    for (; idx + kFloatLanes <= dim; idx += kFloatLanes) {
        acc0 = _mm512_fmadd_ps(LoadFloats(a + idx), LoadFloats(b + idx), acc0);
    }
    if (idx < dim) {
        const __mmask16 mask = FloatTailMask(dim - idx);
        acc1 =
            _mm512_fmadd_ps(LoadFloatsMasked(mask, a + idx), LoadFloatsMasked(mask, b + idx), acc1);
    }
    return HorizontalSum(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

PHENIX_TARGET_AVX512 float CosineDistance(const float* a, const float* b, std::size_t dim) {
    __m512 dot0 = _mm512_setzero_ps();
    __m512 dot1 = _mm512_setzero_ps();
    __m512 norm_a0 = _mm512_setzero_ps();
    __m512 norm_a1 = _mm512_setzero_ps();
    __m512 norm_b0 = _mm512_setzero_ps();
    __m512 norm_b1 = _mm512_setzero_ps();
    std::size_t idx = 0;
    for (; idx + 2 * kFloatLanes <= dim; idx += 2 * kFloatLanes) {
        const __m512 a0 = LoadFloats(a + idx);
        const __m512 b0 = LoadFloats(b + idx);
        const __m512 a1 = LoadFloats(a + idx + 16);
        const __m512 b1 = LoadFloats(b + idx + 16);
        dot0 = _mm512_fmadd_ps(a0, b0, dot0);
        norm_a0 = _mm512_fmadd_ps(a0, a0, norm_a0);
        norm_b0 = _mm512_fmadd_ps(b0, b0, norm_b0);
        dot1 = _mm512_fmadd_ps(a1, b1, dot1);
        norm_a1 = _mm512_fmadd_ps(a1, a1, norm_a1);
        norm_b1 = _mm512_fmadd_ps(b1, b1, norm_b1);
    }
    if (idx + kFloatLanes <= dim) {
        const __m512 a0 = LoadFloats(a + idx);
        const __m512 b0 = LoadFloats(b + idx);
        dot0 = _mm512_fmadd_ps(a0, b0, dot0);
        norm_a0 = _mm512_fmadd_ps(a0, a0, norm_a0);
        norm_b0 = _mm512_fmadd_ps(b0, b0, norm_b0);
        idx += kFloatLanes;
    }
    if (idx < dim) {
        const __mmask16 mask = FloatTailMask(dim - idx);
        const __m512 a1 = LoadFloatsMasked(mask, a + idx);
        const __m512 b1 = LoadFloatsMasked(mask, b + idx);
        dot1 = _mm512_fmadd_ps(a1, b1, dot1);
        norm_a1 = _mm512_fmadd_ps(a1, a1, norm_a1);
        norm_b1 = _mm512_fmadd_ps(b1, b1, norm_b1);
    }
    return CosineFromSums(HorizontalSum(_mm512_add_ps(dot0, dot1)),
                          HorizontalSum(_mm512_add_ps(norm_a0, norm_a1)),
                          HorizontalSum(_mm512_add_ps(norm_b0, norm_b1)));
}

// The int32 lanes cannot overflow for dim <= 66,000 (each holds a part of a total that fits in
// uint32); the final sum wraps modulo 2^32 exactly like the uint32 reference.
PHENIX_TARGET_AVX512 std::uint32_t CodeL2Squared(const std::uint8_t* a, const std::uint8_t* b,
                                                 std::size_t dim) {
    __m512i acc0 = _mm512_setzero_si512();
    __m512i acc1 = _mm512_setzero_si512();
    std::size_t idx = 0;
    for (; idx + 2 * kCodeLanes <= dim; idx += 2 * kCodeLanes) {
        acc0 = _mm512_add_epi32(acc0, SquaredDiffPairs(LoadCodes(a + idx), LoadCodes(b + idx)));
        acc1 = _mm512_add_epi32(acc1,
                                SquaredDiffPairs(LoadCodes(a + idx + 32), LoadCodes(b + idx + 32)));
    }
    if (idx + kCodeLanes <= dim) {
        acc0 = _mm512_add_epi32(acc0, SquaredDiffPairs(LoadCodes(a + idx), LoadCodes(b + idx)));
        idx += kCodeLanes;
    }
    if (idx < dim) {
        const __mmask32 mask = CodeTailMask(dim - idx);
        acc1 = _mm512_add_epi32(
            acc1, SquaredDiffPairs(LoadCodesMasked(mask, a + idx), LoadCodesMasked(mask, b + idx)));
    }
    return HorizontalSum(_mm512_add_epi32(acc0, acc1));
}

PHENIX_TARGET_AVX512 std::uint32_t CodeDot(const std::uint8_t* a, const std::uint8_t* b,
                                           std::size_t dim) {
    __m512i acc0 = _mm512_setzero_si512();
    __m512i acc1 = _mm512_setzero_si512();
    std::size_t idx = 0;
    for (; idx + 2 * kCodeLanes <= dim; idx += 2 * kCodeLanes) {
        acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(LoadCodes(a + idx), LoadCodes(b + idx)));
        acc1 = _mm512_add_epi32(
            acc1, _mm512_madd_epi16(LoadCodes(a + idx + 32), LoadCodes(b + idx + 32)));
    }
    if (idx + kCodeLanes <= dim) {
        acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(LoadCodes(a + idx), LoadCodes(b + idx)));
        idx += kCodeLanes;
    }
    if (idx < dim) {
        const __mmask32 mask = CodeTailMask(dim - idx);
        acc1 = _mm512_add_epi32(acc1, _mm512_madd_epi16(LoadCodesMasked(mask, a + idx),
                                                        LoadCodesMasked(mask, b + idx)));
    }
    return HorizontalSum(_mm512_add_epi32(acc0, acc1));
}

constexpr KernelTable kAvx512Table{
    .level = SimdLevel::kAvx512,
    .l2_squared = L2Squared,
    .dot = Dot,
    .cosine_distance = CosineDistance,
    .code_l2_squared = CodeL2Squared,
    .code_dot = CodeDot,
};

}  // namespace

const KernelTable* Avx512Table() {
    return &kAvx512Table;
}

}  // namespace phenix::index::internal

#else  // !defined(__x86_64__)

namespace phenix::index::internal {

const KernelTable* Avx512Table() {
    return nullptr;
}

}  // namespace phenix::index::internal

#endif
