// SPDX-License-Identifier: Apache-2.0
#include "graph/label_table.h"

#include <utility>

#include "graph/adjacency.h"

namespace phenix::graph {

std::size_t LabelTable::LabelBytes(std::string_view label) {
    // The slot, the text beyond the small-string buffer, and the id map's node.
    return sizeof(std::string) + (label.size() > 15 ? label.size() + 1 : 0) +
           sizeof(std::pair<const std::string_view, std::uint32_t>) + 3 * sizeof(void*);
}

std::optional<std::uint32_t> LabelTable::InternLocked(std::string_view label) {
    auto found = ids_.find(label);
    if (found != ids_.end()) {
        return found->second;
    }
    if (count_ == kMaxChunks * kChunkSize ||
        bytes_.load(std::memory_order_relaxed) + LabelBytes(label) > max_bytes_) {
        return std::nullopt;
    }
    const std::uint32_t id = count_++;
    if ((id & (kChunkSize - 1)) == 0) {
        owned_.push_back(std::make_unique<std::string[]>(kChunkSize));
        chunks_[id >> kChunkBits].store(owned_.back().get(), std::memory_order_release);
    }
    std::string& slot = owned_[id >> kChunkBits][id & (kChunkSize - 1)];
    slot.assign(label);
    ids_.emplace(slot, id);
    bytes_.fetch_add(LabelBytes(label), std::memory_order_relaxed);
    return id;
}

std::optional<std::vector<std::uint32_t>> LabelTable::Intern(std::span<const EdgeView> edges) {
    std::vector<std::uint32_t> ids(edges.size());
    MutexLock lock(mu_);
    for (std::size_t idx = 0; idx < edges.size(); ++idx) {
        // Lists are in label order: most labels repeat the previous one.
        if (idx > 0 && edges[idx].label == edges[idx - 1].label) {
            ids[idx] = ids[idx - 1];
            continue;
        }
        const std::optional<std::uint32_t> id = InternLocked(edges[idx].label);
        if (!id.has_value()) {
            return std::nullopt;
        }
        ids[idx] = *id;
    }
    return ids;
}

std::optional<std::uint32_t> LabelTable::Intern(std::string_view label) {
    MutexLock lock(mu_);
    return InternLocked(label);
}

}  // namespace phenix::graph
