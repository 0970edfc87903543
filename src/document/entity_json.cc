// SPDX-License-Identifier: Apache-2.0
#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include <phenix/json.h>
#include <phenix/limits.h>

#include "document/json.h"

namespace phenix {

namespace {

using json = nlohmann::ordered_json;

Status Bad(std::string_view field, std::string_view problem) {
    return Status::InvalidArgument("entity JSON: \"" + std::string(field) + "\" " +
                                   std::string(problem));
}

Result<std::string> RequireString(const json& obj, const char* field) {
    auto it = obj.find(field);
    if (it == obj.end()) {
        return Bad(field, "is required");
    }
    if (!it->is_string()) {
        return Bad(field, std::string("must be a string, not ") + it->type_name());
    }
    return it->get<std::string>();
}

Result<Edge> ParseEdge(const json& value, std::size_t edge_idx) {
    const std::string where = "edges[" + std::to_string(edge_idx) + "]";
    if (!value.is_object()) {
        return Bad(where, "must be an object with \"label\" and \"target\"");
    }
    Edge edge;
    for (const auto& [key, field] : value.items()) {
        if (key == "label" || key == "target" || key == "collection") {
            if (!field.is_string()) {
                return Bad(where + "." + key,
                           std::string("must be a string, not ") + field.type_name());
            }
        }
        if (key == "label") {
            edge.label = field.get<std::string>();
        } else if (key == "target") {
            edge.target_id = field.get<std::string>();
        } else if (key == "collection") {
            edge.target_collection = field.get<std::string>();
        } else if (key == "weight") {
            if (!field.is_number()) {
                return Bad(where + ".weight",
                           std::string("must be a number, not ") + field.type_name());
            }
            edge.weight = field.get<double>();
        } else if (key == "properties") {
            if (!field.is_object() && !field.is_null()) {
                return Bad(where + ".properties",
                           std::string("must be an object, not ") + field.type_name());
            }
            if (field.is_object()) {
                edge.properties = field.dump();
            }
        } else {
            return Bad(where + "." + key,
                       "is not a known edge field (expected label, target, collection, weight, "
                       "properties)");
        }
    }
    if (!value.contains("label")) {
        return Bad(where + ".label", "is required");
    }
    if (!value.contains("target")) {
        return Bad(where + ".target", "is required");
    }
    return edge;
}

void AppendFloat(std::string& out, float v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, end);
}

}  // namespace

Result<Entity> EntityFromJson(std::string_view text) {
    if (int depth = document::JsonNestingDepth(text); depth > limits::kMaxJsonDepth + 2) {
        return Status::InvalidArgument("entity JSON is nested " + std::to_string(depth) +
                                       " levels deep");
    }
    json doc;
    try {
        doc = json::parse(text);
    } catch (const std::exception& e) {
        std::string detail = e.what();
        if (auto pos = detail.find("] "); pos != std::string::npos) {
            detail = detail.substr(pos + 2);
        }
        return Status::InvalidArgument("entity JSON is not valid JSON: " + detail);
    }
    if (!doc.is_object()) {
        return Status::InvalidArgument(std::string("entity JSON must be an object, not ") +
                                       doc.type_name());
    }
    Entity entity;
    PHENIX_ASSIGN_OR_RETURN(entity.id, RequireString(doc, "id"));
    for (const auto& [key, field] : doc.items()) {
        if (key == "id") {
            continue;
        }
        if (key == "vector") {
            if (field.is_null()) {
                continue;
            }
            if (!field.is_array()) {
                return Bad("vector",
                           std::string("must be an array of numbers, not ") + field.type_name());
            }
            entity.vector.reserve(field.size());
            for (std::size_t idx = 0; idx < field.size(); ++idx) {
                const json& component = field[idx];
                if (!component.is_number()) {
                    return Bad("vector[" + std::to_string(idx) + "]",
                               std::string("must be a number, not ") + component.type_name());
                }
                const double d = component.get<double>();
                // Out-of-range doubles become Inf here and are then rejected by the engine's
                // finite-value check with the component's index.
                entity.vector.push_back(static_cast<float>(d));
            }
        } else if (key == "metadata") {
            if (field.is_null()) {
                continue;
            }
            if (!field.is_object()) {
                return Bad("metadata", std::string("must be an object, not ") + field.type_name());
            }
            try {
                entity.metadata = field.dump(-1, ' ', false, json::error_handler_t::strict);
            } catch (const std::exception&) {
                return Bad("metadata", "contains invalid UTF-8");
            }
        } else if (key == "edges") {
            if (field.is_null()) {
                continue;
            }
            if (!field.is_array()) {
                return Bad("edges", std::string("must be an array, not ") + field.type_name());
            }
            for (std::size_t idx = 0; idx < field.size(); ++idx) {
                PHENIX_ASSIGN_OR_RETURN(Edge edge, ParseEdge(field[idx], idx));
                entity.edges.push_back(std::move(edge));
            }
        } else {
            return Bad(key, "is not a known entity field (expected id, vector, metadata, edges)");
        }
    }
    return entity;
}

std::string EntityToJson(const Entity& entity) {
    std::string out = "{\"id\":";
    out += json(entity.id).dump();
    if (!entity.vector.empty()) {
        out += ",\"vector\":[";
        for (std::size_t idx = 0; idx < entity.vector.size(); ++idx) {
            if (idx > 0) {
                out.push_back(',');
            }
            AppendFloat(out, entity.vector[idx]);
        }
        out.push_back(']');
    }
    out += ",\"metadata\":";
    out += entity.metadata.empty() ? "{}" : entity.metadata;
    if (!entity.edges.empty()) {
        out += ",\"edges\":[";
        for (std::size_t idx = 0; idx < entity.edges.size(); ++idx) {
            const Edge& edge = entity.edges[idx];
            if (idx > 0) {
                out.push_back(',');
            }
            json e = {{"label", edge.label}, {"target", edge.target_id}, {"weight", edge.weight}};
            if (!edge.target_collection.empty()) {
                e["collection"] = edge.target_collection;
            }
            std::string text = e.dump();
            if (!edge.properties.empty()) {
                text.pop_back();
                text += ",\"properties\":" + edge.properties + "}";
            }
            out += text;
        }
        out.push_back(']');
    }
    out.push_back('}');
    return out;
}

std::string EdgeRecordToJson(const EdgeRecord& edge) {
    json e = {{"label", edge.label},
              {"source", edge.source_id},
              {"source_collection", edge.source.name},
              {"target", edge.target_id},
              {"target_collection", edge.target.name},
              {"weight", edge.weight}};
    std::string text = e.dump();
    if (!edge.properties.empty()) {
        text.pop_back();
        text += ",\"properties\":" + edge.properties + "}";
    }
    return text;
}

}  // namespace phenix
