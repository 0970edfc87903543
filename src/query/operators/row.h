// SPDX-License-Identifier: Apache-2.0
//
// What flows between physical operators: rows, in batches. A row starts as an entity read by a
// source operator (with the search's distance, the MATCH start node, the path that reached it;
// a MATCH chain's rows carry one entity per node variable and a path per segment)
// and gains its output values (and ORDER BY keys) in Project or Aggregate; the operators above
// those read only the values.
//
// Thread-compatible: a batch belongs to the operator pulling it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <phenix/db.h>
#include <phenix/phenixql.h>

namespace phenix::query {

/// Rows per batch: a source fills a batch up to this many rows before handing it up.
inline constexpr std::size_t kBatchRows = 1024;

struct Row {
    Entity entity;                          // FROM collection: the entity; MATCH: the far node
    std::optional<double> engine_distance;  // from the search, in the collection's metric
    std::optional<Entity> start;            // MATCH: the start node (when it is read)
    const GraphPath* path = nullptr;        // MATCH with an edge variable (owned by the source)
    mutable std::optional<nlohmann::json> metadata;  // parsed on first use
    mutable std::optional<nlohmann::json> start_metadata;
    // MATCH chain: one entity per node variable, in pattern order (a node's id is empty until
    // a step binds it), and the path of each segment (set only for one with an edge variable;
    // shared by the rows that extend it).
    std::vector<Entity> nodes;
    std::vector<std::shared_ptr<const GraphPath>> segment_paths;
    mutable std::vector<std::optional<nlohmann::json>> node_metadata;

    // Set by Project / Aggregate.
    std::vector<QueryValue> values;  // the output columns (hidden HAVING items last)
    std::vector<QueryValue> keys;    // ORDER BY keys
    std::uint64_t seq = 0;           // arrival order: ties keep it (a stable order)
    std::size_t bytes = 0;           // what values and keys hold, for the memory budget

    const nlohmann::json& Metadata(bool of_start) const {
        std::optional<nlohmann::json>& cache = of_start ? start_metadata : metadata;
        if (!cache) {
            const std::string& text = of_start ? start->metadata : entity.metadata;
            nlohmann::json parsed = nlohmann::json::parse(
                text.empty() ? std::string_view("{}") : std::string_view(text), nullptr, false);
            cache = parsed.is_discarded() ? nlohmann::json::object() : std::move(parsed);
        }
        return *cache;
    }
    const nlohmann::json& NodeMetadata(std::size_t idx) const {
        if (node_metadata.size() < nodes.size()) {
            node_metadata.resize(nodes.size());
        }
        std::optional<nlohmann::json>& cache = node_metadata[idx];
        if (!cache) {
            const std::string& text = nodes[idx].metadata;
            nlohmann::json parsed = nlohmann::json::parse(
                text.empty() ? std::string_view("{}") : std::string_view(text), nullptr, false);
            cache = parsed.is_discarded() ? nlohmann::json::object() : std::move(parsed);
        }
        return *cache;
    }
};

struct RowBatch {
    std::vector<Row> rows;
};

}  // namespace phenix::query
