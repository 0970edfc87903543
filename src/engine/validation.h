// SPDX-License-Identifier: Apache-2.0
//
// Validation of user input against the documented limits (include/phenix/limits.h). Each check
// returns InvalidArgument with a message that names the offending value and the rule; nothing
// here touches storage.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

#include <phenix/result.h>
#include <phenix/status.h>
#include <phenix/types.h>

namespace phenix::engine {

/// Tenant and collection names: [A-Za-z_][A-Za-z0-9_-]*, 1..kMaxNameBytes bytes.
Status ValidateName(std::string_view kind, std::string_view name);
Status ValidateCollectionSpec(const CollectionSpec& spec);
/// Non-empty valid UTF-8 of at most kMaxIdBytes bytes.
Status ValidateEntityId(std::string_view id);
/// The vector against the collection's dimension and metric: right length, finite values,
/// not all zero for cosine. An empty vector is always valid (no vector).
Status ValidateVector(const std::vector<float>& vector, std::optional<std::uint32_t> dimension,
                      Metric metric);

/// The parts of an entity that validation rewrites (the vector is used as given).
struct NormalizedEntity {
    std::string metadata;     ///< minified JSON object
    std::vector<Edge> edges;  ///< properties minified ("{}" dropped), target_tenant cleared
};

/// Validates edge `idx` of an entity of `tenant` (label, target, weight, properties) and
/// normalizes it in place: properties minified ("{}" dropped), target_tenant cleared.
Status ValidateEdge(Edge& edge, std::size_t idx, std::string_view tenant);

/// Everything ValidateEntity checks except the metadata (for a caller that normalized the
/// metadata already, such as COPY's check pass): the id, the vector and every edge, the edges
/// normalized in place.
Status ValidateEntityExceptMetadata(Entity& entity, std::string_view tenant,
                                    std::optional<std::uint32_t> dimension, Metric metric);

/// Validates an entity for insert/upsert: id, vector against the collection's dimension and
/// metric, metadata, and every edge (target tenant checked against `tenant`).
Result<NormalizedEntity> ValidateEntity(const Entity& entity, std::string_view tenant,
                                        std::optional<std::uint32_t> dimension, Metric metric);

/// 's' in quotes for an error message; long values are cut to 80 bytes with their length noted,
/// so a multi-megabyte id never makes a multi-megabyte message.
std::string QuoteForMessage(std::string_view s);

}  // namespace phenix::engine
