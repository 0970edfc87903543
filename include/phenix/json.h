// SPDX-License-Identifier: Apache-2.0
//
// The JSON shape of an entity, shared by the shell, bulk loading, REST and the SDKs:
//
//   {"id": "d2", "vector": [0.5, 0.6, 0.7, 0.8], "metadata": {"category": "science"},
//    "edges": [{"label": "related_to", "target": "d1", "weight": 0.8,
//               "collection": "other_collection", "properties": {"since": 2020}}]}
//
// Only "id" is required; "vector" may be null or absent; edge "weight" defaults to 1.0 and
// "collection" to the entity's own. Unknown fields are rejected so that typos do not pass
// silently. Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include <phenix/result.h>
#include <phenix/types.h>

namespace phenix {

/// Parses one entity. InvalidArgument naming the offending field on any error.
Result<Entity> EntityFromJson(std::string_view json);

/// Serialises an entity in the shape above (minified, one line). Vector components are printed
/// in the shortest form that reads back to the same float32.
std::string EntityToJson(const Entity& entity);

/// Serialises an edge as seen from either end:
/// {"label", "source", "source_collection", "target", "target_collection", "weight",
/// "properties"?}.
std::string EdgeRecordToJson(const EdgeRecord& edge);

}  // namespace phenix
