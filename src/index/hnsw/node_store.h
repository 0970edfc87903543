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
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "common/mutex.h"

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
    Mutex grow_mu_;
};

// LabelStore — an immutable string per row (the entity's external id), so a search can name
// its hits without reading their records. A row's label never changes once set (rows are never
// reused), so it is written once and then read without synchronisation beyond the acquire load
// of its pointer. Strings live in an append-only arena of blocks that never move; labels of
// rows that disappear stay until the index is rebuilt or reloaded from a checkpoint (which keeps
// only rows with nodes).
//
// Thread safety: Set serialises itself; Get is safe against concurrent Set.
class LabelStore {
  public:
    LabelStore() : slots_(sizeof(std::atomic<const char*>)) {}

    /// Sets the label of `row` unless it has one. False past 2^32 rows.
    bool Set(std::uint64_t row, std::string_view label);
    /// The label of `row`; empty if none was set. Valid as long as the store.
    [[nodiscard]] std::string_view Get(std::uint64_t row) const {
        if (row >= slots_.capacity()) {
            return {};
        }
        const char* p = Slot(row)->load(std::memory_order_acquire);
        if (p == nullptr) {
            return {};
        }
        std::uint32_t n = 0;
        __builtin_memcpy(&n, p, sizeof(n));
        return {p + sizeof(n), n};
    }
    [[nodiscard]] std::size_t bytes() const {
        return arena_bytes_.load(std::memory_order_relaxed) + slots_.mapped_bytes();
    }

  private:
    std::atomic<const char*>* Slot(std::uint64_t row) const {
        return reinterpret_cast<std::atomic<const char*>*>(slots_.At(row));
    }

    static constexpr std::size_t kBlockBytes = std::size_t{1} << 18;
    ChunkedArray slots_;
    Mutex mu_;
    std::vector<std::unique_ptr<char[]>> blocks_ GUARDED_BY(mu_);
    char* current_block_ GUARDED_BY(mu_) = nullptr;  // small labels go here
    std::size_t block_used_ GUARDED_BY(mu_) = 0;
    std::atomic<std::size_t> arena_bytes_{0};
};

}  // namespace phenix::index::internal
