// SPDX-License-Identifier: Apache-2.0
//
// Distance kernels (index/distance) at every SIMD level this CPU has, one call per iteration
// through the kernel table's function pointer, as HNSW search calls them:
//   BM_Distance_<Kernel>/<level>/<dim>   Kernel: L2Squared, Dot, CosineDistance (float32),
//                                        CodeL2Squared, CodeDot (uint8); dim: 96, 128, 768, 784
// Time per iteration is ns per call; items are vector elements. The two operands are built once
// from a fixed seed, start on a cache line and stay in L1, so this measures the kernels, not
// memory.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <benchmark/benchmark.h>

#include "index/distance/distance.h"

namespace phenix::index {
namespace {

constexpr std::uint64_t kSeed = 42;
constexpr std::int64_t kDims[] = {96, 128, 768, 784};

template <typename T>
std::vector<T> RandomVector(std::size_t dim, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<T> out(dim);
    if constexpr (std::is_floating_point_v<T>) {
        std::uniform_real_distribution<T> dist(-1, 1);
        for (T& x : out) {
            x = dist(rng);
        }
    } else {
        std::uniform_int_distribution<int> dist(0, 255);
        for (T& x : out) {
            x = static_cast<T>(dist(rng));
        }
    }
    return out;
}

// Vectors start on a cache line, as in the index's vector storage.
constexpr std::size_t kCacheLineBytes = 64;

template <typename T>
const T* CacheAligned(const std::vector<T>& values, std::vector<T>& buffer) {
    buffer.assign(values.size() + kCacheLineBytes / sizeof(T), T{});
    void* start = buffer.data();
    std::size_t space = buffer.size() * sizeof(T);
    T* aligned =
        static_cast<T*>(std::align(kCacheLineBytes, values.size() * sizeof(T), start, space));
    std::copy(values.begin(), values.end(), aligned);
    return aligned;
}

template <typename Kernel, typename T>
void RunKernel(benchmark::State& state, Kernel kernel) {
    const auto dim = static_cast<std::size_t>(state.range(0));
    std::vector<T> a_buffer;
    std::vector<T> b_buffer;
    const T* a_data = CacheAligned(RandomVector<T>(dim, kSeed), a_buffer);
    const T* b_data = CacheAligned(RandomVector<T>(dim, kSeed + 1), b_buffer);
    for (auto _ : state) {
        benchmark::DoNotOptimize(a_data);
        benchmark::DoNotOptimize(b_data);
        benchmark::DoNotOptimize(kernel(a_data, b_data, dim));
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
    state.SetBytesProcessed(state.iterations() * state.range(0) *
                            static_cast<std::int64_t>(2 * sizeof(T)));
}

void Register(const std::string& name, SimdLevel level,
              void (*run)(benchmark::State&, const KernelTable&)) {
    const KernelTable* table = KernelsFor(level);
    if (table == nullptr) {
        return;
    }
    auto* bench = benchmark::RegisterBenchmark(
        ("BM_Distance_" + name + "/" + std::string(SimdLevelName(level))).c_str(),
        [run, table](benchmark::State& state) { run(state, *table); });
    for (const std::int64_t dim : kDims) {
        bench->Arg(dim);
    }
}

void RegisterAll() {
    for (const SimdLevel level :
         {SimdLevel::kScalar, SimdLevel::kNeon, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
        Register("L2Squared", level, [](benchmark::State& state, const KernelTable& table) {
            RunKernel<FloatKernel, float>(state, table.l2_squared);
        });
        Register("Dot", level, [](benchmark::State& state, const KernelTable& table) {
            RunKernel<FloatKernel, float>(state, table.dot);
        });
        Register("CosineDistance", level, [](benchmark::State& state, const KernelTable& table) {
            RunKernel<FloatKernel, float>(state, table.cosine_distance);
        });
        Register("CodeL2Squared", level, [](benchmark::State& state, const KernelTable& table) {
            RunKernel<CodeKernel, std::uint8_t>(state, table.code_l2_squared);
        });
        Register("CodeDot", level, [](benchmark::State& state, const KernelTable& table) {
            RunKernel<CodeKernel, std::uint8_t>(state, table.code_dot);
        });
    }
}

}  // namespace
}  // namespace phenix::index

int main(int argc, char** argv) {
    phenix::index::RegisterAll();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::AddCustomContext(
        "simd_default", std::string(phenix::index::SimdLevelName(phenix::index::Kernels().level)));
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
