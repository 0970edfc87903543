// SPDX-License-Identifier: Apache-2.0
#include "document/vector_settings.h"

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

namespace phenix::document {
namespace {

Result<std::uint32_t> ReadBounded(const nlohmann::json& object, const char* key, std::uint32_t lo,
                                  std::uint32_t hi, std::uint32_t fallback) {
    auto it = object.find(key);
    if (it == object.end()) {
        return fallback;
    }
    // JSON has one number type: 58.0 is the integer 58 (JSON Schema reads it so too).
    const bool integral =
        it->is_number_integer() ||
        (it->is_number_float() && std::trunc(it->get<double>()) == it->get<double>());
    if (!integral || it->get<double>() < lo || it->get<double>() > hi) {
        return Status::InvalidArgument("collection settings: hnsw." + std::string(key) +
                                       " must be an integer from " + std::to_string(lo) + " to " +
                                       std::to_string(hi) + ", not " + it->dump());
    }
    return static_cast<std::uint32_t>(it->get<double>());
}

}  // namespace

Result<VectorIndexSettings> ParseVectorIndexSettings(std::string_view settings_json) {
    VectorIndexSettings settings;
    if (settings_json.empty()) {
        return settings;
    }
    nlohmann::json root = nlohmann::json::parse(settings_json, nullptr, false);
    if (root.is_discarded() || !root.is_object()) {
        return Status::InvalidArgument("collection settings must be a JSON object");
    }
    auto hnsw = root.find("hnsw");
    if (hnsw == root.end()) {
        return settings;
    }
    if (!hnsw->is_object()) {
        return Status::InvalidArgument("collection settings: \"hnsw\" must be an object");
    }
    for (const auto& [key, value] : hnsw->items()) {
        if (key != "m" && key != "ef_construction" && key != "ef_search" && key != "quantization") {
            return Status::InvalidArgument("collection settings: unknown key hnsw." + key +
                                           " (known: m, ef_construction, ef_search, quantization)");
        }
    }
    PHENIX_ASSIGN_OR_RETURN(settings.m, ReadBounded(*hnsw, "m", 2, kMaxHnswM, settings.m));
    PHENIX_ASSIGN_OR_RETURN(
        settings.ef_construction,
        ReadBounded(*hnsw, "ef_construction", 1, kMaxEf, settings.ef_construction));
    PHENIX_ASSIGN_OR_RETURN(settings.ef_search,
                            ReadBounded(*hnsw, "ef_search", 1, kMaxEf, settings.ef_search));
    auto quantization = hnsw->find("quantization");
    if (quantization != hnsw->end()) {
        if (*quantization == "int8") {
            settings.quantize_int8 = true;
        } else if (*quantization != "none") {
            return Status::InvalidArgument(
                "collection settings: hnsw.quantization must be \"none\" or \"int8\", not " +
                quantization->dump());
        }
    }
    return settings;
}

}  // namespace phenix::document
