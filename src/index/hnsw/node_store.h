// SPDX-License-Identifier: Apache-2.0
//
// ChunkedArray — an array that grows in fixed chunks without ever moving an element, so readers
// may hold pointers and index it while writers append. The chunk directory and every chunk are
// anonymous memory mappings: the kernel commits pages on first touch, so a large directory or a
// partly used chunk costs address space, not memory.
//
// Thread safety: At() is safe against concurrent EnsureCapacity(); EnsureCapacity() serialises
// itself. Elements themselves are not synchronised.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace phenix::index::internal {

// Maps `bytes` of zero-filled memory; aborts on failure (out of address space).
void* MapZeroed(std::size_t bytes);
void Unmap(void* address, std::size_t bytes);

class ChunkedArray {
  public:
    static constexpr unsigned kChunkBits = 16;
    static constexpr std::size_t kChunkElements = std::size_t{1} << kChunkBits;
    static constexpr std::size_t kMaxChunks = std::size_t{1} << 16;  // 2^32 elements

    explicit ChunkedArray(std::size_t element_bytes);
    ~ChunkedArray();
    ChunkedArray(const ChunkedArray&) = delete;
    ChunkedArray& operator=(const ChunkedArray&) = delete;

    /// Makes elements [0, n) addressable. Returns false past 2^32 elements.
    bool EnsureCapacity(std::uint64_t n);
    [[nodiscard]] std::uint64_t capacity() const {
        return chunks_.load(std::memory_order_acquire) * kChunkElements;
    }

    [[nodiscard]] char* At(std::uint64_t idx) const {
        char* chunk = dir_[idx >> kChunkBits].load(std::memory_order_relaxed);
        return chunk + (idx & (kChunkElements - 1)) * element_bytes_;
    }
    [[nodiscard]] std::size_t element_bytes() const { return element_bytes_; }
    [[nodiscard]] std::size_t mapped_bytes() const {
        return chunks_.load(std::memory_order_relaxed) * kChunkElements * element_bytes_;
    }

  private:
    const std::size_t element_bytes_;
    std::atomic<char*>* dir_;
    std::atomic<std::uint64_t> chunks_{0};
    std::mutex grow_mu_;
};

}  // namespace phenix::index::internal
