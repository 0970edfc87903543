// SPDX-License-Identifier: Apache-2.0
//
// NEON kernels (AArch64, where NEON is part of the baseline, so no target attribute is needed).
#include "index/distance/dispatch.h"

#if defined(__aarch64__)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

namespace phenix::index::internal {
namespace {

constexpr std::size_t kFloatLanes = 4;  // floats per float32x4_t
constexpr std::size_t kCodeLanes = 16;  // codes per uint8x16_t

float L2Squared(const float* a, const float* b, std::size_t dim) {
    float32x4_t acc0 = vdupq_n_f32(0.0f);
    float32x4_t acc1 = vdupq_n_f32(0.0f);
    float32x4_t acc2 = vdupq_n_f32(0.0f);
    float32x4_t acc3 = vdupq_n_f32(0.0f);
    std::size_t idx = 0;
    for (; idx + 4 * kFloatLanes <= dim; idx += 4 * kFloatLanes) {
        const float32x4_t d0 = vsubq_f32(vld1q_f32(a + idx), vld1q_f32(b + idx));
        const float32x4_t d1 = vsubq_f32(vld1q_f32(a + idx + 4), vld1q_f32(b + idx + 4));
        const float32x4_t d2 = vsubq_f32(vld1q_f32(a + idx + 8), vld1q_f32(b + idx + 8));
        const float32x4_t d3 = vsubq_f32(vld1q_f32(a + idx + 12), vld1q_f32(b + idx + 12));
        acc0 = vfmaq_f32(acc0, d0, d0);
        acc1 = vfmaq_f32(acc1, d1, d1);
        acc2 = vfmaq_f32(acc2, d2, d2);
        acc3 = vfmaq_f32(acc3, d3, d3);
    }
    for (; idx + kFloatLanes <= dim; idx += kFloatLanes) {
        const float32x4_t d = vsubq_f32(vld1q_f32(a + idx), vld1q_f32(b + idx));
        acc0 = vfmaq_f32(acc0, d, d);
    }
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; idx < dim; ++idx) {
        const float diff = a[idx] - b[idx];
        sum += diff * diff;
    }
    return sum;
}

float Dot(const float* a, const float* b, std::size_t dim) {
    float32x4_t acc0 = vdupq_n_f32(0.0f);
    float32x4_t acc1 = vdupq_n_f32(0.0f);
    float32x4_t acc2 = vdupq_n_f32(0.0f);
    float32x4_t acc3 = vdupq_n_f32(0.0f);
    std::size_t idx = 0;
    for (; idx + 4 * kFloatLanes <= dim; idx += 4 * kFloatLanes) {
        acc0 = vfmaq_f32(acc0, vld1q_f32(a + idx), vld1q_f32(b + idx));
        acc1 = vfmaq_f32(acc1, vld1q_f32(a + idx + 4), vld1q_f32(b + idx + 4));
        acc2 = vfmaq_f32(acc2, vld1q_f32(a + idx + 8), vld1q_f32(b + idx + 8));
        acc3 = vfmaq_f32(acc3, vld1q_f32(a + idx + 12), vld1q_f32(b + idx + 12));
    }
    for (; idx + kFloatLanes <= dim; idx += kFloatLanes) {
        acc0 = vfmaq_f32(acc0, vld1q_f32(a + idx), vld1q_f32(b + idx));
    }
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; idx < dim; ++idx) {
        sum += a[idx] * b[idx];
    }
    return sum;
}

float CosineDistance(const float* a, const float* b, std::size_t dim) {
    float32x4_t dot0 = vdupq_n_f32(0.0f);
    float32x4_t dot1 = vdupq_n_f32(0.0f);
    float32x4_t norm_a0 = vdupq_n_f32(0.0f);
    float32x4_t norm_a1 = vdupq_n_f32(0.0f);
    float32x4_t norm_b0 = vdupq_n_f32(0.0f);
    float32x4_t norm_b1 = vdupq_n_f32(0.0f);
    std::size_t idx = 0;
    for (; idx + 2 * kFloatLanes <= dim; idx += 2 * kFloatLanes) {
        const float32x4_t a0 = vld1q_f32(a + idx);
        const float32x4_t b0 = vld1q_f32(b + idx);
        const float32x4_t a1 = vld1q_f32(a + idx + 4);
        const float32x4_t b1 = vld1q_f32(b + idx + 4);
        dot0 = vfmaq_f32(dot0, a0, b0);
        norm_a0 = vfmaq_f32(norm_a0, a0, a0);
        norm_b0 = vfmaq_f32(norm_b0, b0, b0);
        dot1 = vfmaq_f32(dot1, a1, b1);
        norm_a1 = vfmaq_f32(norm_a1, a1, a1);
        norm_b1 = vfmaq_f32(norm_b1, b1, b1);
    }
    if (idx + kFloatLanes <= dim) {
        const float32x4_t a0 = vld1q_f32(a + idx);
        const float32x4_t b0 = vld1q_f32(b + idx);
        dot0 = vfmaq_f32(dot0, a0, b0);
        norm_a0 = vfmaq_f32(norm_a0, a0, a0);
        norm_b0 = vfmaq_f32(norm_b0, b0, b0);
        idx += kFloatLanes;
    }
    float dot = vaddvq_f32(vaddq_f32(dot0, dot1));
    float norm_a = vaddvq_f32(vaddq_f32(norm_a0, norm_a1));
    float norm_b = vaddvq_f32(vaddq_f32(norm_b0, norm_b1));
    for (; idx < dim; ++idx) {
        dot += a[idx] * b[idx];
        norm_a += a[idx] * a[idx];
        norm_b += b[idx] * b[idx];
    }
    return CosineFromSums(dot, norm_a, norm_b);
}

// |a - b| fits in uint8 and its square (at most 255^2) in uint16; pairs of squares are
// accumulated into uint32 lanes, which cannot overflow while the total fits in uint32.
std::uint32_t CodeL2Squared(const std::uint8_t* a, const std::uint8_t* b, std::size_t dim) {
    uint32x4_t acc0 = vdupq_n_u32(0);
    uint32x4_t acc1 = vdupq_n_u32(0);
    std::size_t idx = 0;
    for (; idx + kCodeLanes <= dim; idx += kCodeLanes) {
        const uint8x16_t diff = vabdq_u8(vld1q_u8(a + idx), vld1q_u8(b + idx));
        acc0 = vpadalq_u16(acc0, vmull_u8(vget_low_u8(diff), vget_low_u8(diff)));
        acc1 = vpadalq_u16(acc1, vmull_high_u8(diff, diff));
    }
    std::uint32_t sum = vaddvq_u32(vaddq_u32(acc0, acc1));
    for (; idx < dim; ++idx) {
        const int diff = int{a[idx]} - int{b[idx]};
        sum += static_cast<std::uint32_t>(diff * diff);
    }
    return sum;
}

std::uint32_t CodeDot(const std::uint8_t* a, const std::uint8_t* b, std::size_t dim) {
    uint32x4_t acc0 = vdupq_n_u32(0);
    uint32x4_t acc1 = vdupq_n_u32(0);
    std::size_t idx = 0;
    for (; idx + kCodeLanes <= dim; idx += kCodeLanes) {
        const uint8x16_t va = vld1q_u8(a + idx);
        const uint8x16_t vb = vld1q_u8(b + idx);
        acc0 = vpadalq_u16(acc0, vmull_u8(vget_low_u8(va), vget_low_u8(vb)));
        acc1 = vpadalq_u16(acc1, vmull_high_u8(va, vb));
    }
    std::uint32_t sum = vaddvq_u32(vaddq_u32(acc0, acc1));
    for (; idx < dim; ++idx) {
        sum += std::uint32_t{a[idx]} * std::uint32_t{b[idx]};
    }
    return sum;
}

constexpr KernelTable kNeonTable{
    .level = SimdLevel::kNeon,
    .l2_squared = L2Squared,
    .dot = Dot,
    .cosine_distance = CosineDistance,
    .code_l2_squared = CodeL2Squared,
    .code_dot = CodeDot,
};

}  // namespace

const KernelTable* NeonTable() {
    return &kNeonTable;
}

}  // namespace phenix::index::internal

#else  // !defined(__aarch64__)

namespace phenix::index::internal {

const KernelTable* NeonTable() {
    return nullptr;
}

}  // namespace phenix::index::internal

#endif
