// SPDX-License-Identifier: Apache-2.0
#include "index/hnsw/node_store.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <sys/mman.h>

namespace phenix::index::internal {

void* MapZeroed(std::size_t bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        std::fprintf(stderr, "phenix: cannot map %zu bytes for the vector index\n", bytes);
        std::abort();
    }
#ifdef MADV_HUGEPAGE
    // Graph search touches nodes at random: 2 MiB pages save most TLB misses. Advice only.
    if (bytes >= (std::size_t{4} << 20)) {
        madvise(p, bytes, MADV_HUGEPAGE);
    }
#endif
    return p;
}

void Unmap(void* address, std::size_t bytes) {
    if (address != nullptr) {
        munmap(address, bytes);
    }
}

ChunkedArray::ChunkedArray(std::size_t element_bytes)
    : element_bytes_(element_bytes),
      dir_(static_cast<std::atomic<char*>*>(MapZeroed(kMaxChunks * sizeof(std::atomic<char*>)))) {}

ChunkedArray::~ChunkedArray() {
    const std::uint64_t chunks = chunks_.load();
    for (std::uint64_t c = 0; c < chunks; ++c) {
        Unmap(dir_[c].load(), kChunkElements * element_bytes_);
    }
    Unmap(dir_, kMaxChunks * sizeof(std::atomic<char*>));
}

bool ChunkedArray::EnsureCapacity(std::uint64_t n) {
    if (n <= capacity()) {
        return true;
    }
    MutexLock lock(grow_mu_);
    const std::uint64_t needed = (n + kChunkElements - 1) / kChunkElements;
    if (needed > kMaxChunks) {
        return false;
    }
    std::uint64_t chunks = chunks_.load(std::memory_order_relaxed);
    for (; chunks < needed; ++chunks) {
        dir_[chunks].store(static_cast<char*>(MapZeroed(kChunkElements * element_bytes_)),
                           std::memory_order_relaxed);
        chunks_.store(chunks + 1, std::memory_order_release);
    }
    return true;
}

bool LabelStore::Set(std::uint64_t row, std::string_view label) {
    if (label.empty()) {
        return true;
    }
    MutexLock lock(mu_);
    if (!slots_.EnsureCapacity(row + 1)) {
        return false;
    }
    if (Slot(row)->load(std::memory_order_relaxed) != nullptr) {
        return true;  // set once: a row's label never changes
    }
    const std::size_t need = sizeof(std::uint32_t) + label.size();
    char* dest = nullptr;
    if (need > kBlockBytes / 4) {
        blocks_.push_back(std::make_unique<char[]>(need));  // a large label gets its own block
        arena_bytes_.fetch_add(need, std::memory_order_relaxed);
        dest = blocks_.back().get();
    } else {
        if (current_block_ == nullptr || block_used_ + need > kBlockBytes) {
            blocks_.push_back(std::make_unique<char[]>(kBlockBytes));
            current_block_ = blocks_.back().get();
            block_used_ = 0;
            arena_bytes_.fetch_add(kBlockBytes, std::memory_order_relaxed);
        }
        dest = current_block_ + block_used_;
        block_used_ += need;
    }
    const auto n = static_cast<std::uint32_t>(label.size());
    std::memcpy(dest, &n, sizeof(n));
    std::memcpy(dest + sizeof(n), label.data(), label.size());
    Slot(row)->store(dest, std::memory_order_release);
    return true;
}

}  // namespace phenix::index::internal
