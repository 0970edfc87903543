// SPDX-License-Identifier: Apache-2.0
//
// MapGraph — an in-memory AdjacencySource for the graph tests: a list of edges indexed both
// ways, listed in (label, other) order (insertion order among equal keys). It records the calls
// it gets and can fail on one node with IOError. With set_packed(true) it also serves packed
// lists (ReadList), so that the operators take their fast path; every edge carries the other
// end's id ("c<collection>r<row>", IdOf) either way.
//
// Thread safety: thread-compatible.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "graph/adjacency.h"

namespace phenix::graph::testing {

inline NodeRef N(std::uint64_t row, std::uint32_t collection = 1) {
    return {collection, row};
}

struct TestEdge {
    NodeRef from;
    NodeRef to;
    std::string label = "e";
    double weight = 1.0;
    std::string properties;  // JSON object text or empty
};

class MapGraph : public AdjacencySource {
  public:
    explicit MapGraph(std::vector<TestEdge> edges) : edges_(std::move(edges)) {
        for (std::size_t idx = 0; idx < edges_.size(); ++idx) {
            out_[edges_[idx].from].push_back(idx);
            in_[edges_[idx].to].push_back(idx);
        }
        for (auto& [node, list] : out_) {
            std::stable_sort(list.begin(), list.end(), [&](std::size_t a, std::size_t b) {
                return std::tie(edges_[a].label, edges_[a].to) <
                       std::tie(edges_[b].label, edges_[b].to);
            });
        }
        for (auto& [node, list] : in_) {
            std::stable_sort(list.begin(), list.end(), [&](std::size_t a, std::size_t b) {
                return std::tie(edges_[a].label, edges_[a].from) <
                       std::tie(edges_[b].label, edges_[b].from);
            });
        }
    }

    Status ForEachEdge(NodeRef node, Direction dir, bool need_properties,
                       FunctionRef<bool(const EdgeView&)> visit) override {
        ++calls;
        if (need_properties) {
            ++calls_with_properties;
        }
        if (dir == Direction::kBoth) {
            ADD_FAILURE() << "ForEachEdge called with kBoth";
            return Status::Internal("kBoth");
        }
        if (fail_on.has_value() && *fail_on == node) {
            return Status::IOError("injected failure");
        }
        for (std::size_t idx : List(node, dir)) {
            const TestEdge& edge = edges_[idx];
            const NodeRef other = dir == Direction::kOut ? edge.to : edge.from;
            const EdgeView view{
                .other = other,
                .label = edge.label,
                .weight = edge.weight,
                .properties = need_properties ? std::string_view(edge.properties) : "",
                .has_properties = !edge.properties.empty(),
                .reversed = dir == Direction::kIn,
                .other_id = IdOf(other)};
            if (!visit(view)) {
                break;
            }
        }
        return Status::Ok();
    }

    Result<PackedListPtr> ReadList(NodeRef node, Direction dir) override {
        if (!packed_) {
            return PackedListPtr();
        }
        ++list_reads;
        if (dir == Direction::kBoth) {
            ADD_FAILURE() << "ReadList called with kBoth";
            return Status::Internal("kBoth");
        }
        if (fail_on.has_value() && *fail_on == node) {
            return Status::IOError("injected failure");
        }
        auto& lists = dir == Direction::kOut ? packed_out_ : packed_in_;
        if (auto it = lists.find(node); it != lists.end()) {
            return it->second;
        }
        std::vector<EdgeView> views;
        for (std::size_t idx : List(node, dir)) {
            const TestEdge& edge = edges_[idx];
            const NodeRef other = dir == Direction::kOut ? edge.to : edge.from;
            views.push_back(EdgeView{.other = other,
                                     .label = edge.label,
                                     .weight = edge.weight,
                                     .has_properties = !edge.properties.empty(),
                                     .other_id = IdOf(other)});
        }
        PackedListPtr list = PackList(labels_, views);
        lists.emplace(node, list);
        return list;
    }

    void set_packed(bool packed) { packed_ = packed; }

    // The id every edge gives for `node` (stable for the graph's lifetime).
    std::string_view IdOf(NodeRef node) {
        auto it = ids_.find(node);
        if (it == ids_.end()) {
            it = ids_.emplace(node, "c" + std::to_string(node.collection) + "r" +
                                        std::to_string(node.row))
                     .first;
        }
        return it->second;
    }

    // The indexes (into edges()) of the edges of `node` in `dir` (kOut or kIn), in listing order.
    [[nodiscard]] const std::vector<std::size_t>& List(NodeRef node, Direction dir) const {
        static const std::vector<std::size_t> kNone;
        const auto& index = dir == Direction::kOut ? out_ : in_;
        auto it = index.find(node);
        return it == index.end() ? kNone : it->second;
    }
    [[nodiscard]] const std::vector<TestEdge>& edges() const { return edges_; }

    int calls = 0;
    int calls_with_properties = 0;
    int list_reads = 0;
    std::optional<NodeRef> fail_on;

  private:
    std::vector<TestEdge> edges_;
    std::map<NodeRef, std::vector<std::size_t>> out_;
    std::map<NodeRef, std::vector<std::size_t>> in_;
    bool packed_ = false;
    LabelTable labels_{1 << 20};
    std::map<NodeRef, PackedListPtr> packed_out_;
    std::map<NodeRef, PackedListPtr> packed_in_;
    std::map<NodeRef, std::string> ids_;
};

}  // namespace phenix::graph::testing
