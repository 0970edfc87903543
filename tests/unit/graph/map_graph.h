// SPDX-License-Identifier: Apache-2.0
//
// MapGraph — an in-memory AdjacencySource for the graph tests: a list of edges indexed both
// ways, listed in (label, other) order (insertion order among equal keys). It records the calls
// it gets and can fail on one node with IOError.
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
            const EdgeView view{
                .other = dir == Direction::kOut ? edge.to : edge.from,
                .label = edge.label,
                .weight = edge.weight,
                .properties = need_properties ? std::string_view(edge.properties) : "",
                .has_properties = !edge.properties.empty(),
                .reversed = dir == Direction::kIn};
            if (!visit(view)) {
                break;
            }
        }
        return Status::Ok();
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
    std::optional<NodeRef> fail_on;

  private:
    std::vector<TestEdge> edges_;
    std::map<NodeRef, std::vector<std::size_t>> out_;
    std::map<NodeRef, std::vector<std::size_t>> in_;
};

}  // namespace phenix::graph::testing
