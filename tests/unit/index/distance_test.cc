// SPDX-License-Identifier: Apache-2.0
//
// Every kernel at every SIMD level this CPU has against the scalar reference: float kernels
// within FloatTolerance, code kernels exactly. Dimensions cover 1..70 (every tail length and
// loop-count combination of the 4-, 8-, 16-, 32- and 64-wide loops) and random sizes up to
// 4096; operands start 0..3 elements into their buffers and end exactly at the buffer end, so
// that an over-read of a full-width load shows under ASan. Plus the dispatch (PHENIX_SIMD
// parsing) and NormalizeInPlace.
#include "index/distance/distance.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "index/distance/dispatch.h"

namespace phenix::index {
namespace {

constexpr SimdLevel kAllLevels[] = {SimdLevel::kScalar, SimdLevel::kNeon, SimdLevel::kAvx2,
                                    SimdLevel::kAvx512};
constexpr std::size_t kMaxOffset = 3;
constexpr int kMaxReportedFailures = 10;

// A fresh seed, printed; PHENIX_TEST_SEED=<n> replays one.
std::uint64_t NewSeed() {
    const char* forced = std::getenv("PHENIX_TEST_SEED");  // NOLINT(concurrency-mt-unsafe): test
    const std::uint64_t seed =
        forced != nullptr ? std::strtoull(forced, nullptr, 10) : std::random_device{}();
    std::cout << "[ seed     ] " << seed << " (PHENIX_TEST_SEED=" << seed << " replays it)\n";
    return seed;
}

std::vector<const KernelTable*> AvailableTables() {
    std::vector<const KernelTable*> tables;
    for (const SimdLevel level : kAllLevels) {
        if (const KernelTable* table = KernelsFor(level); table != nullptr) {
            tables.push_back(table);
        }
    }
    return tables;
}

// All of 1..70, sizes around the vector widths and common embedding sizes, 4096 and random
// sizes up to 4096 (odd ones included by chance and by construction).
std::vector<std::size_t> TestDims(std::mt19937_64& rng) {
    std::vector<std::size_t> dims;
    for (std::size_t dim = 1; dim <= 70; ++dim) {
        dims.push_back(dim);
    }
    for (const std::size_t dim : std::initializer_list<std::size_t>{
             95,  96,  97,  127, 128,  129,  255,  256,  257,  383,  384, 767,
             768, 769, 783, 784, 1023, 1024, 1025, 1535, 1536, 4095, 4096}) {
        dims.push_back(dim);
    }
    std::uniform_int_distribution<std::size_t> random_dim(71, 4096);
    for (int count = 0; count < 12; ++count) {
        dims.push_back(random_dim(rng) | 1u);
    }
    for (int count = 0; count < 8; ++count) {
        dims.push_back(random_dim(rng));
    }
    return dims;
}

enum class Range { kUnit, kLarge, kTiny, kMixedMagnitude, kNearlyEqual, kSubnormalProducts };

constexpr Range kAllRanges[] = {Range::kUnit,        Range::kLarge,
                                Range::kTiny,        Range::kMixedMagnitude,
                                Range::kNearlyEqual, Range::kSubnormalProducts};

const char* RangeName(Range range) {
    switch (range) {
        case Range::kUnit:
            return "unit";
        case Range::kLarge:
            return "large";
        case Range::kTiny:
            return "tiny";
        case Range::kMixedMagnitude:
            return "mixed-magnitude";
        case Range::kNearlyEqual:
            return "nearly-equal";
        case Range::kSubnormalProducts:
            return "subnormal-products";
    }
    return "?";
}

struct FloatPair {
    std::vector<float> a;
    std::vector<float> b;
};

FloatPair RandomFloats(std::size_t dim, Range range, std::mt19937_64& rng) {
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    std::uniform_real_distribution<float> exponent(-3.0f, 3.0f);
    auto draw = [&]() -> float {
        switch (range) {
            case Range::kUnit:
            case Range::kNearlyEqual:
                return unit(rng);
            case Range::kLarge:
                return 1e4f * unit(rng);
            case Range::kTiny:
                return 1e-18f * unit(rng);
            case Range::kMixedMagnitude:
                return std::copysign(std::pow(10.0f, exponent(rng)), unit(rng));
            case Range::kSubnormalProducts:
                return 1e-21f * unit(rng);
        }
        return 0.0f;
    };
    FloatPair pair{.a = std::vector<float>(dim), .b = std::vector<float>(dim)};
    for (std::size_t idx = 0; idx < dim; ++idx) {
        pair.a[idx] = draw();
        pair.b[idx] =
            range == Range::kNearlyEqual ? pair.a[idx] * (1.0f + 1e-6f * unit(rng)) : draw();
    }
    return pair;
}

// `values` copied `offset` elements into a buffer that ends right after them.
template <typename T>
std::vector<T> AtOffset(const std::vector<T>& values, std::size_t offset) {
    std::vector<T> buffer(offset + values.size());
    std::copy(values.begin(), values.end(), buffer.begin() + static_cast<std::ptrdiff_t>(offset));
    return buffer;
}

struct Magnitudes {
    float l2 = 0.0f;   // sum (a_i - b_i)^2
    float dot = 0.0f;  // sum |a_i b_i|
};

Magnitudes ComputeMagnitudes(const FloatPair& pair) {
    double l2 = 0.0;
    double dot = 0.0;
    for (std::size_t idx = 0; idx < pair.a.size(); ++idx) {
        const double a = pair.a[idx];
        const double b = pair.b[idx];
        l2 += (a - b) * (a - b);
        dot += std::fabs(a * b);
    }
    return {.l2 = static_cast<float>(l2), .dot = static_cast<float>(dot)};
}

TEST(DistanceKernels, FloatKernelsMatchReferenceAtEveryLevel) {
    std::mt19937_64 rng(NewSeed());
    const std::vector<const KernelTable*> tables = AvailableTables();
    int failures = 0;
    auto check = [&](const KernelTable& table, std::string_view kernel, float got, float want,
                     float tolerance, std::size_t dim, Range range, std::size_t offset) {
        if (std::fabs(got - want) <= tolerance) {
            return;
        }
        ADD_FAILURE() << SimdLevelName(table.level) << " " << kernel << " dim=" << dim
                      << " range=" << RangeName(range) << " offset=" << offset << ": got " << got
                      << ", reference " << want << ", tolerance " << tolerance;
        ++failures;
    };
    for (const std::size_t dim : TestDims(rng)) {
        for (const Range range : kAllRanges) {
            const FloatPair pair = RandomFloats(dim, range, rng);
            const Magnitudes magnitudes = ComputeMagnitudes(pair);
            const float l2_tolerance = FloatTolerance(dim, magnitudes.l2);
            const float dot_tolerance = FloatTolerance(dim, magnitudes.dot);
            const float cosine_tolerance = FloatTolerance(dim, 3.0f);
            // The references do not depend on where the operands lie.
            const float l2 = L2SquaredReference(pair.a.data(), pair.b.data(), dim);
            const float dot = DotReference(pair.a.data(), pair.b.data(), dim);
            const float cosine = CosineDistanceReference(pair.a.data(), pair.b.data(), dim);
            for (std::size_t offset = 0; offset <= kMaxOffset; ++offset) {
                const std::vector<float> a_buffer = AtOffset(pair.a, offset);
                const std::vector<float> b_buffer = AtOffset(pair.b, (offset + 1) % 4);
                const float* a = a_buffer.data() + offset;
                const float* b = b_buffer.data() + (offset + 1) % 4;
                for (const KernelTable* table : tables) {
                    check(*table, "l2_squared", table->l2_squared(a, b, dim), l2, l2_tolerance, dim,
                          range, offset);
                    check(*table, "dot", table->dot(a, b, dim), dot, dot_tolerance, dim, range,
                          offset);
                    // The cosine bound assumes no underflow in the squares.
                    if (range != Range::kSubnormalProducts) {
                        check(*table, "cosine_distance", table->cosine_distance(a, b, dim), cosine,
                              cosine_tolerance, dim, range, offset);
                    }
                }
                ASSERT_LT(failures, kMaxReportedFailures) << "stopping after too many failures";
            }
        }
    }
}

TEST(DistanceKernels, CodeKernelsMatchReferenceExactly) {
    std::mt19937_64 rng(NewSeed());
    std::uniform_int_distribution<int> code(0, 255);
    const std::vector<const KernelTable*> tables = AvailableTables();
    for (const std::size_t dim : TestDims(rng)) {
        std::vector<std::uint8_t> a(dim);
        std::vector<std::uint8_t> b(dim);
        for (std::size_t idx = 0; idx < dim; ++idx) {
            a[idx] = static_cast<std::uint8_t>(code(rng));
            b[idx] = static_cast<std::uint8_t>(code(rng));
        }
        for (std::size_t offset = 0; offset <= kMaxOffset; ++offset) {
            const std::vector<std::uint8_t> a_buffer = AtOffset(a, offset);
            const std::vector<std::uint8_t> b_buffer = AtOffset(b, kMaxOffset - offset);
            const std::uint8_t* a_codes = a_buffer.data() + offset;
            const std::uint8_t* b_codes = b_buffer.data() + (kMaxOffset - offset);
            const std::uint32_t l2 = CodeL2SquaredReference(a_codes, b_codes, dim);
            const std::uint32_t dot = CodeDotReference(a_codes, b_codes, dim);
            for (const KernelTable* table : tables) {
                ASSERT_EQ(table->code_l2_squared(a_codes, b_codes, dim), l2)
                    << SimdLevelName(table->level) << " dim=" << dim << " offset=" << offset;
                ASSERT_EQ(table->code_dot(a_codes, b_codes, dim), dot)
                    << SimdLevelName(table->level) << " dim=" << dim << " offset=" << offset;
            }
        }
    }
}

// The largest per-element values: int16 products and int32 lanes at their limits, up to the
// documented maximum dimension, where the total only just fits in uint32.
TEST(DistanceKernels, CodeKernelsAreExactAtExtremes) {
    for (const std::size_t dim : std::initializer_list<std::size_t>{1, 31, 32, 33, 63, 64, 65, 1000,
                                                                    4095, 4096, 33026, 66000}) {
        const std::vector<std::uint8_t> zeros(dim, 0);
        const std::vector<std::uint8_t> full(dim, 255);
        const std::uint32_t expected = static_cast<std::uint32_t>(dim) * 255u * 255u;
        for (const KernelTable* table : AvailableTables()) {
            const char* level = SimdLevelName(table->level).data();
            EXPECT_EQ(table->code_l2_squared(full.data(), zeros.data(), dim), expected)
                << level << " dim=" << dim;
            EXPECT_EQ(table->code_l2_squared(zeros.data(), full.data(), dim), expected)
                << level << " dim=" << dim;
            EXPECT_EQ(table->code_dot(full.data(), full.data(), dim), expected)
                << level << " dim=" << dim;
            EXPECT_EQ(table->code_l2_squared(full.data(), full.data(), dim), 0u)
                << level << " dim=" << dim;
            EXPECT_EQ(table->code_dot(full.data(), zeros.data(), dim), 0u)
                << level << " dim=" << dim;
        }
    }
}

TEST(DistanceKernels, CosineOfZeroVectorIsOne) {
    for (const std::size_t dim : std::initializer_list<std::size_t>{1, 7, 16, 17, 128, 777}) {
        const std::vector<float> zeros(dim, 0.0f);
        const std::vector<float> ones(dim, 1.0f);
        for (const KernelTable* table : AvailableTables()) {
            const char* level = SimdLevelName(table->level).data();
            EXPECT_EQ(table->cosine_distance(zeros.data(), zeros.data(), dim), 1.0f)
                << level << " dim=" << dim;
            EXPECT_EQ(table->cosine_distance(zeros.data(), ones.data(), dim), 1.0f)
                << level << " dim=" << dim;
            EXPECT_EQ(table->cosine_distance(ones.data(), zeros.data(), dim), 1.0f)
                << level << " dim=" << dim;
            EXPECT_NEAR(table->cosine_distance(ones.data(), ones.data(), dim), 0.0f, 1e-6f)
                << level << " dim=" << dim;
        }
    }
}

TEST(DistanceKernels, ZeroDimensionIsZero) {
    const float a = 1.0f;
    const std::uint8_t code = 7;
    for (const KernelTable* table : AvailableTables()) {
        EXPECT_EQ(table->l2_squared(&a, &a, 0), 0.0f) << SimdLevelName(table->level);
        EXPECT_EQ(table->dot(&a, &a, 0), 0.0f) << SimdLevelName(table->level);
        EXPECT_EQ(table->cosine_distance(&a, &a, 0), 1.0f) << SimdLevelName(table->level);
        EXPECT_EQ(table->code_l2_squared(&code, &code, 0), 0u) << SimdLevelName(table->level);
        EXPECT_EQ(table->code_dot(&code, &code, 0), 0u) << SimdLevelName(table->level);
    }
}

TEST(DistanceKernels, KnownValues) {
    const std::vector<float> a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
    const std::vector<float> b(a.size(), 1.0f);
    const std::vector<float> orthogonal = {1, 0};
    const std::vector<float> other = {0, 3};
    for (const KernelTable* table : AvailableTables()) {
        // sum (k - 1)^2 for k = 1..17 = sum j^2 for j = 0..16 = 1496; sum k = 153.
        EXPECT_EQ(table->l2_squared(a.data(), b.data(), a.size()), 1496.0f);
        EXPECT_EQ(table->dot(a.data(), b.data(), a.size()), 153.0f);
        EXPECT_EQ(table->cosine_distance(orthogonal.data(), other.data(), 2), 1.0f);
        EXPECT_NEAR(table->cosine_distance(orthogonal.data(), orthogonal.data(), 2), 0.0f, 1e-7f);
    }
}

TEST(DistanceKernels, EachTableReportsItsLevel) {
    ASSERT_NE(KernelsFor(SimdLevel::kScalar), nullptr);
    for (const SimdLevel level : kAllLevels) {
        const KernelTable* table = KernelsFor(level);
        if (table == nullptr) {
            continue;
        }
        EXPECT_EQ(table->level, level);
        EXPECT_NE(table->l2_squared, nullptr);
        EXPECT_NE(table->dot, nullptr);
        EXPECT_NE(table->cosine_distance, nullptr);
        EXPECT_NE(table->code_l2_squared, nullptr);
        EXPECT_NE(table->code_dot, nullptr);
    }
#if defined(__x86_64__)
    EXPECT_EQ(KernelsFor(SimdLevel::kNeon), nullptr);
#elif defined(__aarch64__)
    EXPECT_NE(KernelsFor(SimdLevel::kNeon), nullptr);
    EXPECT_EQ(KernelsFor(SimdLevel::kAvx2), nullptr);
    EXPECT_EQ(KernelsFor(SimdLevel::kAvx512), nullptr);
#endif
}

TEST(DistanceDispatch, KernelsIsTheBestLevelUnlessOverridden) {
    const char* env_value = std::getenv("PHENIX_SIMD");  // NOLINT(concurrency-mt-unsafe): test
    const SimdLevel expected = internal::ApplySimdOverride(
        internal::BestSimdLevel(), env_value == nullptr ? std::string_view() : env_value);
    EXPECT_EQ(Kernels().level, expected);
    EXPECT_EQ(&Kernels(), KernelsFor(expected));
    EXPECT_EQ(&Kernels(), &Kernels());
}

TEST(DistanceDispatch, ParsesLevelNames) {
    for (const SimdLevel level : kAllLevels) {
        EXPECT_EQ(internal::ParseSimdLevel(SimdLevelName(level)), level);
    }
    EXPECT_EQ(internal::ParseSimdLevel("scalar"), SimdLevel::kScalar);
    EXPECT_EQ(internal::ParseSimdLevel("neon"), SimdLevel::kNeon);
    EXPECT_EQ(internal::ParseSimdLevel("avx2"), SimdLevel::kAvx2);
    EXPECT_EQ(internal::ParseSimdLevel("avx512"), SimdLevel::kAvx512);
    for (const std::string_view bad : {"", "AVX2", "avx", "sse", "avx512 ", " scalar", "avx2,"}) {
        EXPECT_EQ(internal::ParseSimdLevel(bad), std::nullopt) << "'" << bad << "'";
    }
}

TEST(DistanceDispatch, OverrideOnlyLowersToAnAvailableLevel) {
    const SimdLevel best = internal::BestSimdLevel();
    EXPECT_NE(KernelsFor(best), nullptr);
    EXPECT_EQ(internal::ApplySimdOverride(best, ""), best);
    EXPECT_EQ(internal::ApplySimdOverride(best, "bogus"), best);
    EXPECT_EQ(internal::ApplySimdOverride(best, "AVX2"), best);
    EXPECT_EQ(internal::ApplySimdOverride(best, "scalar"), SimdLevel::kScalar);
    for (const SimdLevel level : kAllLevels) {
        const SimdLevel got = internal::ApplySimdOverride(best, SimdLevelName(level));
        if (KernelsFor(level) != nullptr && level <= best) {
            EXPECT_EQ(got, level) << SimdLevelName(level);
        } else {
            EXPECT_EQ(got, best) << SimdLevelName(level);
        }
        // Never raised above the best level passed in.
        EXPECT_EQ(internal::ApplySimdOverride(SimdLevel::kScalar, SimdLevelName(level)),
                  SimdLevel::kScalar);
    }
    if (KernelsFor(SimdLevel::kAvx512) != nullptr) {
        EXPECT_EQ(internal::ApplySimdOverride(SimdLevel::kAvx2, "avx512"), SimdLevel::kAvx2);
    }
}

TEST(DistanceDispatch, FloatToleranceGrowsWithDimensionAndMagnitude) {
    EXPECT_GT(FloatTolerance(1, 0.0f), 0.0f);  // the absolute (underflow) term
    EXPECT_LT(FloatTolerance(1, 0.0f), 1e-40f);
    EXPECT_LT(FloatTolerance(128, 1.0f), FloatTolerance(4096, 1.0f));
    EXPECT_LT(FloatTolerance(128, 1.0f), FloatTolerance(128, 2.0f));
    // 2 * gamma(130) ~ 1.55e-5 relative.
    EXPECT_NEAR(FloatTolerance(128, 1.0f), 1.55e-5f, 0.01e-5f);
    EXPECT_EQ(FloatTolerance(std::size_t{1} << 30, 1.0f), INFINITY);
}

double Norm(const std::vector<float>& v) {
    double sum = 0.0;
    for (const float x : v) {
        sum += static_cast<double>(x) * static_cast<double>(x);
    }
    return std::sqrt(sum);
}

TEST(DistanceNormalize, ScalesToUnitNormKeepingDirection) {
    std::mt19937_64 rng(NewSeed());
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    for (const float scale : {1e-30f, 1e-3f, 1.0f, 1e3f, 1e30f}) {
        for (const std::size_t dim : std::initializer_list<std::size_t>{1, 2, 3, 17, 128, 769}) {
            std::vector<float> v(dim);
            for (float& x : v) {
                x = scale * unit(rng);
            }
            v[0] = scale;  // never all zero
            const std::vector<float> original = v;
            ASSERT_TRUE(NormalizeInPlace(v.data(), dim)) << "scale=" << scale << " dim=" << dim;
            EXPECT_NEAR(Norm(v), 1.0, 1e-6) << "scale=" << scale << " dim=" << dim;
            const double inverse_norm = 1.0 / Norm(original);
            for (std::size_t idx = 0; idx < dim; ++idx) {
                EXPECT_NEAR(v[idx], static_cast<double>(original[idx]) * inverse_norm, 1e-7);
            }
        }
    }
}

TEST(DistanceNormalize, RejectsZeroAndNonFiniteVectors) {
    std::vector<float> zeros(33, 0.0f);
    EXPECT_FALSE(NormalizeInPlace(zeros.data(), zeros.size()));
    EXPECT_EQ(zeros, std::vector<float>(33, 0.0f));
    EXPECT_FALSE(NormalizeInPlace(zeros.data(), 0));
    std::vector<float> infinite = {1.0f, INFINITY, 2.0f};
    EXPECT_FALSE(NormalizeInPlace(infinite.data(), infinite.size()));
    EXPECT_EQ(infinite[0], 1.0f);
    EXPECT_EQ(infinite[2], 2.0f);
}

TEST(DistanceNormalize, NormalizedVectorsHaveCosineEqualToOneMinusDot) {
    std::mt19937_64 rng(NewSeed());
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    constexpr std::size_t kDim = 200;
    std::vector<float> a(kDim);
    std::vector<float> b(kDim);
    for (std::size_t idx = 0; idx < kDim; ++idx) {
        a[idx] = 5.0f * unit(rng);
        b[idx] = 0.1f * unit(rng);
    }
    const float cosine = Kernels().cosine_distance(a.data(), b.data(), kDim);
    ASSERT_TRUE(NormalizeInPlace(a.data(), kDim));
    ASSERT_TRUE(NormalizeInPlace(b.data(), kDim));
    EXPECT_NEAR(1.0f - Kernels().dot(a.data(), b.data(), kDim), cosine, 1e-5f);
    EXPECT_NEAR(Kernels().cosine_distance(a.data(), b.data(), kDim), cosine, 1e-5f);
}

}  // namespace
}  // namespace phenix::index
