// SPDX-License-Identifier: Apache-2.0
#include "graph/adjacency.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <new>
#include <optional>

namespace phenix::graph {

PackedListPtr PackList(LabelTable& labels, std::span<const EdgeView> edges) {
    PackedListBuilder builder(labels);
    for (const EdgeView& edge : edges) {
        if (!builder.Add(edge)) {
            return nullptr;
        }
    }
    return builder.Finish();
}

PackedListPtr::PackedListPtr(const PackedListPtr& other) noexcept : list_(other.list_) {
    if (list_ != nullptr) {
        // Relaxed: a new reference is made from an existing one (as std::shared_ptr does).
        list_->refs_.fetch_add(1, std::memory_order_relaxed);
    }
}

PackedListPtr& PackedListPtr::operator=(const PackedListPtr& other) noexcept {
    if (this != &other) {
        PackedListPtr copy(other);
        *this = std::move(copy);
    }
    return *this;
}

PackedListPtr& PackedListPtr::operator=(PackedListPtr&& other) noexcept {
    if (this != &other) {
        reset();
        list_ = other.list_;
        other.list_ = nullptr;
    }
    return *this;
}

void PackedListPtr::reset() noexcept {
    if (list_ == nullptr) {
        return;
    }
    // acq_rel: the last owner's destruction happens after every other owner's last read.
    if (list_->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        list_->~PackedList();
        ::operator delete(static_cast<void*>(list_));
    }
    list_ = nullptr;
}

bool PackedListBuilder::Add(const EdgeView& edge) {
    if (failed_) {
        return false;
    }
    // Lists are in label order: most labels repeat the previous one (no table lock then).
    if (!has_last_label_ || edge.label != last_label_) {
        const std::optional<std::uint32_t> id = labels_.Intern(edge.label);
        if (!id.has_value()) {
            failed_ = true;
            return false;
        }
        last_label_.assign(edge.label);
        last_label_id_ = *id;
        has_last_label_ = true;
    }
    const std::size_t idx = edges_.size();
    edges_.push_back(PackedEdge{
        .row = edge.other.row,
        .weight = edge.weight,
        .collection = edge.other.collection,
        .label_bits = last_label_id_ | (edge.has_properties ? PackedEdge::kHasPropertiesBit : 0u)});
    if (!edge.other_id.empty() && !any_id_) {
        // The first id: the edges before it had none.
        any_id_ = true;
        offsets_.assign(idx + 1, 0);
    }
    if (any_id_) {
        ids_.append(edge.other_id);
        offsets_.push_back(static_cast<std::uint32_t>(ids_.size()));
    }
    if (ids_.size() > std::numeric_limits<std::uint32_t>::max()) {
        failed_ = true;
        return false;
    }
    return true;
}

PackedListPtr PackedListBuilder::Finish() {
    PackedListPtr out;
    if (!failed_) {
        const std::size_t bytes = PackedList::AllocationBytes(edges_.size(), any_id_, ids_.size());
        void* memory = ::operator new(bytes);
        auto* list = new (memory) PackedList();
        list->num_edges_ = static_cast<std::uint32_t>(edges_.size());
        list->id_bytes_ = static_cast<std::uint32_t>(ids_.size());
        list->has_ids_ = any_id_;
        list->labels_ = &labels_;
        auto* edges = reinterpret_cast<PackedEdge*>(list + 1);
        std::uninitialized_copy(edges_.begin(), edges_.end(), edges);
        if (any_id_) {
            auto* offsets = reinterpret_cast<std::uint32_t*>(edges + edges_.size());
            std::copy(offsets_.begin(), offsets_.end(), offsets);
            std::copy(ids_.begin(), ids_.end(), reinterpret_cast<char*>(offsets + offsets_.size()));
        }
        out = PackedListPtr(list);
    }
    edges_.clear();
    offsets_.clear();
    ids_.clear();
    has_last_label_ = false;
    any_id_ = false;
    failed_ = false;
    return out;
}

}  // namespace phenix::graph
