// SPDX-License-Identifier: Apache-2.0
//
// Flat sets and maps of graph nodes for the traversal operators' per-call state (visited sets,
// per-node search state). std::unordered_set allocates a node per element and chases a pointer
// per probe; these keep their elements in one array.
//
//   * NodeMap<V>: open addressing with linear probing over (NodeRef, V) slots, load <= 1/2.
//     Pointers returned by Find/TryEmplace stay valid until the next insertion.
//   * NodeSet: a NodeMap while small; from kDenseFrom elements on, the rows of each collection
//     move to a paged bitmap (one bit per row, 4 KiB pages allocated on first use), so a set of
//     100k nodes costs ~2 bits per row of the collection instead of 32 bytes per node and stays
//     in cache. Rows >= 2^40 (never allocated in practice) stay in the map.
//
// Thread safety: thread-compatible (one traversal uses one set).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "graph/adjacency.h"

namespace phenix::graph {

template <typename V>
class NodeMap {
  public:
    NodeMap() = default;

    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] bool empty() const { return size_ == 0; }

    // The value of `node`, or nullptr.
    [[nodiscard]] V* Find(NodeRef node) {
        if (slots_.empty()) {
            return nullptr;
        }
        for (std::size_t idx = Home(node);; idx = (idx + 1) & mask_) {
            Slot& slot = slots_[idx];
            if (!slot.used) {
                return nullptr;
            }
            if (slot.node == node) {
                return &slot.value;
            }
        }
    }
    [[nodiscard]] const V* Find(NodeRef node) const {
        return const_cast<NodeMap*>(this)->Find(node);
    }
    [[nodiscard]] bool Contains(NodeRef node) const { return Find(node) != nullptr; }

    // Inserts (node, value) unless node is present; returns its value and whether it was new.
    std::pair<V*, bool> TryEmplace(NodeRef node, V value = V()) {
        if (2 * (size_ + 1) > slots_.size()) {
            Grow();
        }
        for (std::size_t idx = Home(node);; idx = (idx + 1) & mask_) {
            Slot& slot = slots_[idx];
            if (!slot.used) {
                slot.used = true;
                slot.node = node;
                slot.value = std::move(value);
                ++size_;
                return {&slot.value, true};
            }
            if (slot.node == node) {
                return {&slot.value, false};
            }
        }
    }

    // Calls fn(node, value) for every element, in no particular order.
    template <typename Fn>
    void ForEach(Fn&& fn) const {
        for (const Slot& slot : slots_) {
            if (slot.used) {
                fn(slot.node, slot.value);
            }
        }
    }

    void Clear() {
        slots_.clear();
        mask_ = 0;
        size_ = 0;
    }

    void Reserve(std::size_t count) {
        while (2 * count > slots_.size()) {
            Grow();
        }
    }

  private:
    struct Slot {
        NodeRef node;
        V value{};
        bool used = false;
    };

    [[nodiscard]] std::size_t Home(NodeRef node) const { return NodeRefHash{}(node)&mask_; }

    void Grow() {
        std::vector<Slot> old = std::move(slots_);
        const std::size_t capacity = old.empty() ? 16 : 2 * old.size();
        slots_.assign(capacity, Slot{});
        mask_ = capacity - 1;
        size_ = 0;
        for (Slot& slot : old) {
            if (slot.used) {
                for (std::size_t idx = Home(slot.node);; idx = (idx + 1) & mask_) {
                    if (!slots_[idx].used) {
                        slots_[idx] = std::move(slot);
                        ++size_;
                        break;
                    }
                }
            }
        }
    }

    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
};

class NodeSet {
  public:
    static constexpr std::size_t kDenseFrom = 2048;

    NodeSet() = default;
    NodeSet(const NodeSet&) = delete;
    NodeSet& operator=(const NodeSet&) = delete;
    NodeSet(NodeSet&&) noexcept = default;
    NodeSet& operator=(NodeSet&&) noexcept = default;
    ~NodeSet() = default;

    // Adds `node`; true if it was not there.
    bool Insert(NodeRef node) {
        if (!dense_.empty() && node.row < kMaxDenseRow) {
            if (!Bits(node.collection).Set(node.row)) {
                return false;
            }
            ++size_;
            return true;
        }
        if (!sparse_.TryEmplace(node).second) {
            return false;
        }
        ++size_;
        if (dense_.empty() && size_ >= kDenseFrom) {
            GoDense();
        }
        return true;
    }

    [[nodiscard]] bool Contains(NodeRef node) const {
        if (!dense_.empty() && node.row < kMaxDenseRow) {
            for (const DenseBits& bits : dense_) {
                if (bits.collection == node.collection) {
                    return bits.Test(node.row);
                }
            }
            return false;
        }
        return sparse_.Contains(node);
    }

    [[nodiscard]] std::size_t size() const { return size_; }

  private:
    static constexpr std::uint64_t kMaxDenseRow = std::uint64_t{1} << 40;
    static constexpr unsigned kPageBits = 15;  // 32,768 rows (4 KiB) per page
    static constexpr std::uint64_t kPageRows = std::uint64_t{1} << kPageBits;

    struct Empty {};

    // One collection's rows as a paged bitmap.
    struct DenseBits {
        std::uint32_t collection = 0;
        std::vector<std::unique_ptr<std::uint64_t[]>> pages;

        // Sets the bit of `row`; false if it was set.
        bool Set(std::uint64_t row) {
            const std::size_t page_idx = static_cast<std::size_t>(row >> kPageBits);
            if (page_idx >= pages.size()) {
                pages.resize(page_idx + 1);
            }
            std::unique_ptr<std::uint64_t[]>& page = pages[page_idx];
            if (!page) {
                page = std::make_unique<std::uint64_t[]>(kPageRows / 64);  // zeroed
            }
            const std::uint64_t bit = row & (kPageRows - 1);
            std::uint64_t& word = page[bit >> 6];
            const std::uint64_t mask = std::uint64_t{1} << (bit & 63);
            if ((word & mask) != 0) {
                return false;
            }
            word |= mask;
            return true;
        }

        [[nodiscard]] bool Test(std::uint64_t row) const {
            const std::size_t page_idx = static_cast<std::size_t>(row >> kPageBits);
            if (page_idx >= pages.size() || !pages[page_idx]) {
                return false;
            }
            const std::uint64_t bit = row & (kPageRows - 1);
            return (pages[page_idx][bit >> 6] & (std::uint64_t{1} << (bit & 63))) != 0;
        }
    };

    DenseBits& Bits(std::uint32_t collection) {
        // Traversals rarely leave their collection: the last one used is checked first.
        if (dense_[last_].collection == collection) {
            return dense_[last_];
        }
        for (std::size_t idx = 0; idx < dense_.size(); ++idx) {
            if (dense_[idx].collection == collection) {
                last_ = idx;
                return dense_[idx];
            }
        }
        dense_.push_back(DenseBits{.collection = collection, .pages = {}});
        last_ = dense_.size() - 1;
        return dense_.back();
    }

    // Moves the rows below kMaxDenseRow from the map to bitmaps.
    void GoDense() {
        NodeMap<Empty> sparse = std::move(sparse_);
        sparse_.Clear();
        dense_.push_back(DenseBits{});
        dense_.back().collection = 0;
        bool first = true;
        sparse.ForEach([&](NodeRef node, const Empty&) {
            if (node.row >= kMaxDenseRow) {
                sparse_.TryEmplace(node);
                return;
            }
            if (first) {
                dense_.back().collection = node.collection;
                first = false;
            }
            Bits(node.collection).Set(node.row);
        });
    }

    NodeMap<Empty> sparse_;
    std::vector<DenseBits> dense_;
    std::size_t last_ = 0;
    std::size_t size_ = 0;
};

}  // namespace phenix::graph
