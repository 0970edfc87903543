// SPDX-License-Identifier: Apache-2.0
//
// LabelTable — interned edge labels: a label's text gets a small dense id once, for the table's
// lifetime, so that packed adjacency lists (graph/adjacency.h) store 4 bytes per edge instead of
// the text and traversals compare labels by id. Bounded: at most 2^20 labels and max_bytes of
// text and index; Intern fails (nullopt) beyond that and the caller keeps the list unpacked.
//
// Thread safety: thread-safe. Get is lock-free: texts live in fixed chunks that never move or
// change once written, so a reader that learned an id (through a list published under some
// other lock, after the text was written) reads it without a lock. Intern takes a mutex.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"

namespace phenix::graph {

struct EdgeView;

class LabelTable {
  public:
    static constexpr std::uint32_t kChunkBits = 10;
    static constexpr std::uint32_t kChunkSize = 1u << kChunkBits;
    static constexpr std::uint32_t kMaxChunks = 1024;  // 2^20 labels

    explicit LabelTable(std::size_t max_bytes) : max_bytes_(max_bytes) {}
    LabelTable(const LabelTable&) = delete;
    LabelTable& operator=(const LabelTable&) = delete;

    // The ids of the edges' labels, one per edge; nullopt when a new label does not fit.
    std::optional<std::vector<std::uint32_t>> Intern(std::span<const EdgeView> edges);
    // The id of one label; nullopt when it is new and does not fit.
    std::optional<std::uint32_t> Intern(std::string_view label);

    // The text of an id returned by Intern (valid for the table's lifetime).
    [[nodiscard]] std::string_view Get(std::uint32_t id) const {
        // Acquire pairs with the release store of the chunk pointer in InternLocked.
        const std::string* chunk = chunks_[id >> kChunkBits].load(std::memory_order_acquire);
        return chunk[id & (kChunkSize - 1)];
    }

    [[nodiscard]] std::size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

  private:
    static std::size_t LabelBytes(std::string_view label);
    std::optional<std::uint32_t> InternLocked(std::string_view label) REQUIRES(mu_);

    const std::size_t max_bytes_;
    Mutex mu_;
    std::unordered_map<std::string_view, std::uint32_t> ids_ GUARDED_BY(mu_);  // views of slots
    std::vector<std::unique_ptr<std::string[]>> owned_ GUARDED_BY(mu_);
    std::uint32_t count_ GUARDED_BY(mu_) = 0;
    std::array<std::atomic<const std::string*>, kMaxChunks> chunks_{};
    std::atomic<std::size_t> bytes_{0};  // relaxed: a size for stats and the cap
};

}  // namespace phenix::graph
