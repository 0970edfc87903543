// SPDX-License-Identifier: Apache-2.0
#include "engine/validation.h"

#include <bit>
#include <cmath>

#include <phenix/limits.h>

#include "common/utf8.h"
#include "document/json.h"
#include "document/vector_settings.h"

namespace phenix::engine {

namespace {

bool IsNameStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsNameChar(char c) {
    return IsNameStart(c) || (c >= '0' && c <= '9') || c == '-';
}

}  // namespace

std::string QuoteForMessage(std::string_view s) {
    constexpr std::size_t kShown = 80;
    if (s.size() <= kShown) {
        return "'" + std::string(s) + "'";
    }
    std::size_t cut = kShown;
    // Do not cut a UTF-8 sequence in half: back off over continuation bytes.
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) {
        --cut;
    }
    return "'" + std::string(s.substr(0, cut)) + "...' (" + std::to_string(s.size()) + " bytes)";
}

Status ValidateName(std::string_view kind, std::string_view name) {
    if (name.empty()) {
        return Status::InvalidArgument(std::string(kind) + " name is empty");
    }
    if (name.size() > limits::kMaxNameBytes) {
        return Status::InvalidArgument(std::string(kind) + " name " + QuoteForMessage(name) +
                                       " is " + std::to_string(name.size()) +
                                       " bytes; the limit is " +
                                       std::to_string(limits::kMaxNameBytes));
    }
    if (!IsNameStart(name[0])) {
        return Status::InvalidArgument(std::string(kind) + " name " + QuoteForMessage(name) +
                                       " must start with a letter or '_'");
    }
    for (char c : name) {
        if (!IsNameChar(c)) {
            return Status::InvalidArgument(std::string(kind) + " name " + QuoteForMessage(name) +
                                           " may contain only letters, digits, '_' and '-'");
        }
    }
    return Status::Ok();
}

Status ValidateCollectionSpec(const CollectionSpec& spec) {
    PHENIX_RETURN_IF_ERROR(ValidateName("tenant", spec.ref.tenant));
    PHENIX_RETURN_IF_ERROR(ValidateName("collection", spec.ref.name));
    if (spec.dimension) {
        if (*spec.dimension == 0) {
            return Status::InvalidArgument(
                "collection " + QuoteForMessage(spec.ref.name) +
                ": dimension must be at least 1 (omit it for a collection without vectors)");
        }
        if (*spec.dimension > limits::kMaxDimension) {
            return Status::InvalidArgument("collection " + QuoteForMessage(spec.ref.name) +
                                           ": dimension " + std::to_string(*spec.dimension) +
                                           " exceeds the limit of " +
                                           std::to_string(limits::kMaxDimension));
        }
    }
    if (spec.metric != Metric::kL2 && spec.metric != Metric::kCosine &&
        spec.metric != Metric::kInnerProduct) {
        return Status::InvalidArgument("collection " + QuoteForMessage(spec.ref.name) +
                                       ": unknown metric");
    }
    auto settings =
        document::NormalizeJsonObject(spec.settings, 64u * 1024u, "collection settings");
    PHENIX_RETURN_IF_ERROR(settings.status());
    return document::ParseVectorIndexSettings(*settings).status();
}

Status ValidateEntityId(std::string_view id) {
    if (id.empty()) {
        return Status::InvalidArgument("entity id is empty");
    }
    if (id.size() > limits::kMaxIdBytes) {
        return Status::InvalidArgument("entity id " + QuoteForMessage(id) +
                                       " is longer than the limit of " +
                                       std::to_string(limits::kMaxIdBytes) + " bytes");
    }
    if (!IsValidUtf8(id)) {
        return Status::InvalidArgument("entity id is not valid UTF-8");
    }
    return Status::Ok();
}

Status ValidateVector(const std::vector<float>& vector, std::optional<std::uint32_t> dimension,
                      Metric metric) {
    if (vector.empty()) {
        return Status::Ok();
    }
    if (!dimension) {
        return Status::InvalidArgument(
            "the collection has no vector dimension, so its entities cannot have vectors");
    }
    if (vector.size() != *dimension) {
        return Status::InvalidArgument("vector has dimension " + std::to_string(vector.size()) +
                                       "; the collection's dimension is " +
                                       std::to_string(*dimension));
    }
    // Branch-free scan on the bit patterns (vectorises): any component with an all-ones exponent
    // is NaN or infinite; any non-zero magnitude bit means "not the zero vector". The loop below
    // finds the offending index only when this says there is one.
    std::uint32_t non_finite = 0;
    std::uint32_t magnitude_bits = 0;
    for (float component : vector) {
        const auto bits = std::bit_cast<std::uint32_t>(component);
        non_finite |= static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
        magnitude_bits |= bits & 0x7fffffffu;
    }
    const bool all_zero = magnitude_bits == 0;
    for (std::size_t idx = 0; non_finite != 0 && idx < vector.size(); ++idx) {
        if (!std::isfinite(vector[idx])) {
            return Status::InvalidArgument("vector component " + std::to_string(idx) + " is " +
                                           (std::isnan(vector[idx]) ? "NaN" : "infinite") +
                                           "; every component must be a finite number");
        }
    }
    if (all_zero && metric == Metric::kCosine) {
        return Status::InvalidArgument(
            "a zero vector has no direction, so it cannot be used with the cosine metric");
    }
    return Status::Ok();
}

Status ValidateEdge(Edge& edge, std::size_t idx, std::string_view tenant) {
    auto where = [idx] { return "edge " + std::to_string(idx) + ": "; };
    if (edge.label.empty()) {
        return Status::InvalidArgument(where() + "label is empty");
    }
    if (edge.label.size() > limits::kMaxEdgeLabelBytes) {
        return Status::InvalidArgument(where() + "label " + QuoteForMessage(edge.label) + " is " +
                                       std::to_string(edge.label.size()) + " bytes; the limit is " +
                                       std::to_string(limits::kMaxEdgeLabelBytes));
    }
    if (!IsValidUtf8(edge.label) || HasControlCharacter(edge.label)) {
        return Status::InvalidArgument(where() +
                                       "label must be UTF-8 text without control characters");
    }
    Status target = ValidateEntityId(edge.target_id);
    if (!target.ok()) {
        return target.WithContext(where() + "target");
    }
    if (!edge.target_tenant.empty() && edge.target_tenant != tenant) {
        return Status::InvalidArgument(
            where() + "target is in tenant " + QuoteForMessage(edge.target_tenant) +
            "; edges cannot cross tenants (source tenant " + QuoteForMessage(tenant) + ")");
    }
    edge.target_tenant.clear();
    if (!edge.target_collection.empty()) {
        PHENIX_RETURN_IF_ERROR(ValidateName("edge target collection", edge.target_collection));
    }
    if (!std::isfinite(edge.weight)) {
        return Status::InvalidArgument(where() + "weight must be a finite number");
    }
    if (!edge.properties.empty()) {
        PHENIX_ASSIGN_OR_RETURN(
            edge.properties,
            document::NormalizeJsonObject(edge.properties, limits::kMaxEdgePropertiesBytes,
                                          "edge properties"));
        if (edge.properties == "{}") {
            edge.properties.clear();
        }
    }
    return Status::Ok();
}

namespace {

Status ValidateEdgeCount(const Entity& entity) {
    if (entity.edges.size() > limits::kMaxEdgesPerEntity) {
        return Status::InvalidArgument("entity has " + std::to_string(entity.edges.size()) +
                                       " edges; the limit is " +
                                       std::to_string(limits::kMaxEdgesPerEntity));
    }
    return Status::Ok();
}

}  // namespace

Status ValidateEntityExceptMetadata(Entity& entity, std::string_view tenant,
                                    std::optional<std::uint32_t> dimension, Metric metric) {
    PHENIX_RETURN_IF_ERROR(ValidateEntityId(entity.id));
    PHENIX_RETURN_IF_ERROR(ValidateVector(entity.vector, dimension, metric));
    PHENIX_RETURN_IF_ERROR(ValidateEdgeCount(entity));
    for (std::size_t idx = 0; idx < entity.edges.size(); ++idx) {
        PHENIX_RETURN_IF_ERROR(ValidateEdge(entity.edges[idx], idx, tenant));
    }
    return Status::Ok();
}

Result<NormalizedEntity> ValidateEntity(const Entity& entity, std::string_view tenant,
                                        std::optional<std::uint32_t> dimension, Metric metric) {
    PHENIX_RETURN_IF_ERROR(ValidateEntityId(entity.id));
    PHENIX_RETURN_IF_ERROR(ValidateVector(entity.vector, dimension, metric));
    NormalizedEntity out;
    PHENIX_ASSIGN_OR_RETURN(
        out.metadata,
        document::NormalizeJsonObject(entity.metadata, limits::kMaxMetadataBytes, "metadata"));
    PHENIX_RETURN_IF_ERROR(ValidateEdgeCount(entity));
    out.edges.reserve(entity.edges.size());
    for (std::size_t idx = 0; idx < entity.edges.size(); ++idx) {
        Edge edge = entity.edges[idx];
        PHENIX_RETURN_IF_ERROR(ValidateEdge(edge, idx, tenant));
        out.edges.push_back(std::move(edge));
    }
    return out;
}

}  // namespace phenix::engine
