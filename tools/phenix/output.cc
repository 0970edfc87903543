// SPDX-License-Identifier: Apache-2.0
#include "output.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <ctime>

#include <nlohmann/json.hpp>

#include <phenix/json.h>

namespace phenix::shell {

namespace {

// Vectors longer than this are shown as their first kShownComponents components.
constexpr std::size_t kMaxFullVector = 6;
constexpr std::size_t kShownComponents = 3;

// Terminal columns taken by UTF-8 text (one per code point; wide characters are rare here).
std::size_t DisplayWidth(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

std::string FormatFloat(float value) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
    return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

std::string FormatDouble(double value) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
    return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

// Milliseconds since the epoch as an ISO 8601 UTC timestamp.
std::string FormatTimestamp(std::int64_t ms) {
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    if (gmtime_r(&seconds, &tm) == nullptr) {
        return std::to_string(ms);
    }
    char buf[64];
    const std::size_t len = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    char millis[8];
    std::snprintf(millis, sizeof(millis), ".%03dZ",
                  static_cast<int>(ms % 1000 < 0 ? 0 : ms % 1000));
    return std::string(buf, len) + millis;
}

// A number with up to 4 significant digits, for ratios in tables.
std::string FormatRatio(double value) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.4g", value);
    return buf;
}

// A float as a JSON number (null when not finite, which JSON cannot express).
std::string JsonFloat(float value) {
    return std::isfinite(value) ? FormatFloat(value) : std::string("null");
}

// A byte count for people: "80 bytes", or "1.5 MiB (1572864 bytes)".
std::string FormatBytes(std::uint64_t bytes) {
    static constexpr std::array<const char*, 4> kUnits = {"KiB", "MiB", "GiB", "TiB"};
    constexpr double kUnit = 1024.0;
    if (static_cast<double>(bytes) < kUnit) {
        return std::to_string(bytes) + " bytes";
    }
    double value = static_cast<double>(bytes) / kUnit;
    std::size_t unit_idx = 0;
    while (value >= kUnit && unit_idx + 1 < kUnits.size()) {
        value /= kUnit;
        ++unit_idx;
    }
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.1f %s (%llu bytes)", value, kUnits[unit_idx],
                  static_cast<unsigned long long>(bytes));
    return buf;
}

// The strategy a plan reports: "none" when the search had no filter.
std::string_view PlanStrategyName(const SearchPlan& plan) {
    return plan.strategy == SearchStrategy::kAuto ? std::string_view("none")
                                                  : SearchStrategyName(plan.strategy);
}

std::string Rows(std::size_t num_rows) {
    return "(" + std::to_string(num_rows) + (num_rows == 1 ? " row" : " rows");
}

using Json = nlohmann::ordered_json;

std::string Dump(const Json& doc) {
    return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// An optimizer's row estimate: whole rows once it is large, else up to 3 significant digits.
std::string FormatEstimate(double value) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), value >= 1000 ? "%.0f" : "%.3g", value);
    return buf;
}

// Text that should hold a JSON document, for embedding in JSON output: parsed (so the output
// stays valid whatever it holds), as a string when it does not parse, null when empty.
Json EmbeddedJson(std::string_view text) {
    if (text.empty()) {
        return nullptr;
    }
    Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    return doc.is_discarded() ? Json(std::string(text)) : doc;
}

Json PathJson(const GraphPath& path) {
    Json nodes = Json::array();
    for (const PathNode& node : path.nodes) {
        nodes.push_back({{"collection", node.collection.name}, {"id", node.id}});
    }
    Json edges = Json::array();
    for (const EdgeRecord& edge : path.edges) {
        edges.push_back(EmbeddedJson(EdgeRecordToJson(edge)));
    }
    return {
        {"nodes", std::move(nodes)}, {"edges", std::move(edges)}, {"weight", path.total_weight}};
}

std::string_view IndexStateName(IndexState state) {
    switch (state) {
        case IndexState::kBuilding:
            return "building";
        case IndexState::kReady:
            return "ready";
    }
    return "unknown";
}

}  // namespace

std::string Printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte != 0x7f) {
            out.push_back(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\x%02x", byte);
            out += buf;
        }
    }
    return out;
}

std::string AbbreviateVector(std::span<const float> vector) {
    if (vector.empty()) {
        return {};
    }
    const bool is_long = vector.size() > kMaxFullVector;
    const std::size_t shown = is_long ? kShownComponents : vector.size();
    std::string out = "[";
    for (std::size_t idx = 0; idx < shown; ++idx) {
        if (idx > 0) {
            out += ", ";
        }
        out += FormatFloat(vector[idx]);
    }
    if (is_long) {
        out += ", ... (" + std::to_string(vector.size()) + " dims)";
    }
    out += "]";
    return out;
}

std::string JsonString(std::string_view text) {
    return Dump(Json(std::string(text)));
}

std::string CsvField(std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
        return std::string(text);
    }
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') {
            out.push_back('"');
        }
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

std::string RenderPath(const GraphPath& path, std::string_view home) {
    auto node_name = [&](const PathNode& node) {
        return node.collection.name == home
                   ? Printable(node.id)
                   : Printable(node.collection.name) + ":" + Printable(node.id);
    };
    if (path.nodes.empty()) {
        return {};
    }
    std::string out = node_name(path.nodes[0]);
    for (std::size_t idx = 0; idx < path.edges.size() && idx + 1 < path.nodes.size(); ++idx) {
        const EdgeRecord& edge = path.edges[idx];
        const PathNode& from = path.nodes[idx];
        const bool is_forward =
            edge.source_id == from.id && edge.source.name == from.collection.name;
        const std::string label = Printable(edge.label);
        out += is_forward ? " -[" + label + "]-> " : " <-[" + label + "]- ";
        out += node_name(path.nodes[idx + 1]);
    }
    return out;
}

std::string Table::Render(bool footer) const {
    const std::size_t num_cols = header_.size();
    std::vector<std::size_t> widths(num_cols);
    for (std::size_t col = 0; col < num_cols; ++col) {
        widths[col] = DisplayWidth(header_[col]);
        for (const auto& row : rows_) {
            if (col < row.size()) {
                widths[col] = std::max(widths[col], DisplayWidth(row[col]));
            }
        }
    }
    std::string out;
    auto append_row = [&](const std::vector<std::string>& row) {
        std::string line;
        for (std::size_t col = 0; col < num_cols; ++col) {
            const std::string& cell = col < row.size() ? row[col] : std::string();
            line += col == 0 ? " " : " | ";
            line += cell;
            if (col + 1 < num_cols) {
                line.append(widths[col] - DisplayWidth(cell), ' ');
            }
        }
        while (!line.empty() && line.back() == ' ') {
            line.pop_back();
        }
        out += line;
        out += '\n';
    };
    append_row(header_);
    for (std::size_t col = 0; col < num_cols; ++col) {
        out += col == 0 ? "" : "+";
        out.append(widths[col] + 2, '-');
    }
    out += '\n';
    for (const auto& row : rows_) {
        append_row(row);
    }
    if (footer) {
        out += Rows(rows_.size()) + ")\n";
    }
    return out;
}

void Printer::Write(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fflush(out_);
}

void Printer::PrintEntities(std::span<const Entity> entities, std::string_view next_hint) {
    if (IsJson()) {
        std::string out;
        for (const Entity& entity : entities) {
            out += EntityToJson(entity);
            out += '\n';
        }
        Write(out);
        return;
    }
    Table table({"id", "vector", "metadata", "edges"});
    for (const Entity& entity : entities) {
        table.AddRow({Printable(entity.id), AbbreviateVector(entity.vector),
                      Printable(entity.metadata.empty() ? "{}" : entity.metadata),
                      std::to_string(entity.edges.size())});
    }
    std::string out = table.Render(/*footer=*/false);
    out += Rows(entities.size());
    if (!next_hint.empty()) {
        out += "; next page: ";
        out += next_hint;
    }
    out += ")\n";
    Write(out);
}

void Printer::PrintEdges(std::span<const EdgeRecord> edges) {
    if (IsJson()) {
        std::string out;
        for (const EdgeRecord& edge : edges) {
            out += EdgeRecordToJson(edge);
            out += '\n';
        }
        Write(out);
        return;
    }
    Table table({"label", "source_collection", "source", "target_collection", "target", "weight",
                 "properties"});
    for (const EdgeRecord& edge : edges) {
        table.AddRow({Printable(edge.label), Printable(edge.source.name), Printable(edge.source_id),
                      Printable(edge.target.name), Printable(edge.target_id),
                      FormatDouble(edge.weight), Printable(edge.properties)});
    }
    Write(table.Render());
}

void Printer::PrintCollections(std::span<const CollectionInfo> collections) {
    if (IsJson()) {
        std::string out;
        for (const CollectionInfo& info : collections) {
            Json doc = {{"name", info.spec.ref.name},
                        {"tenant", info.spec.ref.tenant},
                        {"dimension", nullptr},
                        {"metric", std::string(MetricName(info.spec.metric))},
                        {"entities", info.num_entities}};
            if (info.spec.dimension) {
                doc["dimension"] = *info.spec.dimension;
            }
            out += Dump(doc);
            out += '\n';
        }
        Write(out);
        return;
    }
    Table table({"name", "dimension", "metric", "entities"});
    for (const CollectionInfo& info : collections) {
        table.AddRow({Printable(info.spec.ref.name),
                      info.spec.dimension ? std::to_string(*info.spec.dimension) : std::string(),
                      std::string(MetricName(info.spec.metric)),
                      std::to_string(info.num_entities)});
    }
    Write(table.Render());
}

void Printer::PrintCollection(const CollectionInfo& info) {
    if (IsJson()) {
        Json doc = {{"name", info.spec.ref.name},
                    {"tenant", info.spec.ref.tenant},
                    {"dimension", nullptr},
                    {"metric", std::string(MetricName(info.spec.metric))},
                    {"entities", info.num_entities},
                    {"collection_id", info.collection_id},
                    {"created_at_ms", info.created_at_ms},
                    {"created_at", FormatTimestamp(info.created_at_ms)}};
        if (info.spec.dimension) {
            doc["dimension"] = *info.spec.dimension;
        }
        // Settings are stored as a JSON object; embed it rather than quoting it.
        std::string out = Dump(doc);
        out.pop_back();
        out += ",\"settings\":" +
               (info.spec.settings.empty() ? std::string("{}") : info.spec.settings) + "}\n";
        Write(out);
        return;
    }
    Table table({"property", "value"});
    table.AddRow({"name", Printable(info.spec.ref.name)});
    table.AddRow({"tenant", Printable(info.spec.ref.tenant)});
    table.AddRow(
        {"dimension", info.spec.dimension ? std::to_string(*info.spec.dimension) : "none"});
    table.AddRow({"metric", std::string(MetricName(info.spec.metric))});
    table.AddRow({"entities", std::to_string(info.num_entities)});
    table.AddRow({"collection_id", std::to_string(info.collection_id)});
    table.AddRow({"created_at", FormatTimestamp(info.created_at_ms)});
    table.AddRow({"settings", Printable(info.spec.settings)});
    Write(table.Render(/*footer=*/false));
}

void Printer::PrintTenants(std::span<const std::string> tenants, std::string_view current) {
    if (IsJson()) {
        std::string out;
        for (const std::string& tenant : tenants) {
            out += Dump(Json{{"name", tenant}, {"current", tenant == current}});
            out += '\n';
        }
        Write(out);
        return;
    }
    Table table({"name", "current"});
    for (const std::string& tenant : tenants) {
        table.AddRow({Printable(tenant), tenant == current ? "*" : ""});
    }
    Write(table.Render());
}

void Printer::PrintSearch(const SearchResponse& response, const SearchOptions& options,
                          bool explain) {
    const SearchPlan& plan = response.plan;
    if (IsJson()) {
        // Built as text: distances and components print as the shortest float that reads back
        // the same (as EntityToJson does), and metadata is already a JSON object.
        std::string out = "{\"hits\":[";
        for (std::size_t hit_idx = 0; hit_idx < response.hits.size(); ++hit_idx) {
            const SearchHit& hit = response.hits[hit_idx];
            out += hit_idx == 0 ? "{" : ",{";
            out += "\"id\":" + JsonString(hit.id) + ",\"distance\":" + JsonFloat(hit.distance);
            if (options.include_metadata) {
                out += ",\"metadata\":" + (hit.metadata.empty() ? std::string("{}") : hit.metadata);
            }
            if (options.include_vector) {
                out += ",\"vector\":[";
                for (std::size_t idx = 0; idx < hit.vector.size(); ++idx) {
                    out += idx == 0 ? "" : ",";
                    out += JsonFloat(hit.vector[idx]);
                }
                out += "]";
            }
            out += "}";
        }
        const Json plan_doc = {{"strategy", std::string(PlanStrategyName(plan))},
                               {"selectivity", plan.selectivity},
                               {"filter_rows", plan.filter_rows},
                               {"ef", plan.ef},
                               {"distance_computations", plan.distance_computations},
                               {"unindexed_rows_scanned", plan.unindexed_rows_scanned},
                               {"fell_back_to_exact", plan.fell_back_to_exact}};
        Json full_plan = plan_doc;
        if (explain) {
            full_plan["filter_steps"] = plan.filter_steps;
        }
        out += "],\"plan\":" + Dump(full_plan) + "}\n";
        Write(out);
        return;
    }
    std::vector<std::string> header = {"rank", "id", "distance"};
    if (options.include_metadata) {
        header.emplace_back("metadata");
    }
    if (options.include_vector) {
        header.emplace_back("vector");
    }
    Table table(std::move(header));
    for (std::size_t hit_idx = 0; hit_idx < response.hits.size(); ++hit_idx) {
        const SearchHit& hit = response.hits[hit_idx];
        std::vector<std::string> row = {std::to_string(hit_idx + 1), Printable(hit.id),
                                        FormatFloat(hit.distance)};
        if (options.include_metadata) {
            row.push_back(Printable(hit.metadata.empty() ? "{}" : hit.metadata));
        }
        if (options.include_vector) {
            row.push_back(AbbreviateVector(hit.vector));
        }
        table.AddRow(std::move(row));
    }
    std::string out = table.Render();
    out += "plan: ";
    if (plan.strategy == SearchStrategy::kAuto) {
        out += "no filter";
    } else {
        out += std::string(SearchStrategyName(plan.strategy)) + ", selectivity " +
               FormatRatio(plan.selectivity) + " (" + std::to_string(plan.filter_rows) +
               (plan.filter_rows == 1 ? " matching entity)" : " matching entities)");
    }
    // ef is the beam the graph search ran with (0: no graph search, e.g. an exact scan).
    if (plan.ef > 0) {
        out += ", ef " + std::to_string(plan.ef);
    }
    out += ", " + std::to_string(plan.distance_computations) + " distance computations, " +
           std::to_string(plan.unindexed_rows_scanned) + " unindexed rows scanned";
    if (plan.fell_back_to_exact) {
        out += ", fell back to an exact scan";
    }
    out += "\n";
    if (explain) {
        for (const std::string& step : plan.filter_steps) {
            out += "  " + Printable(step) + "\n";
        }
    }
    Write(out);
}

void Printer::PrintFind(const FindResponse& response, const FindOptions& options, bool explain) {
    const FilterPlan& plan = response.plan;
    if (IsJson()) {
        Json doc;
        if (!options.count_only) {
            doc["ids"] = response.ids;
        }
        doc["count"] = response.count;
        if (explain) {
            doc["plan"] = {{"estimated_rows", plan.estimated_rows},
                           {"rows_scanned", plan.rows_scanned},
                           {"index_entries_read", plan.index_entries_read},
                           {"steps", plan.steps}};
        }
        Write(Dump(doc) + "\n");
        return;
    }
    std::string out;
    if (options.count_only) {
        out = std::to_string(response.count) + "\n";
    } else {
        Table table({"id"});
        for (const std::string& id : response.ids) {
            table.AddRow({Printable(id)});
        }
        out = table.Render(/*footer=*/false) + Rows(response.ids.size());
        if (response.count != response.ids.size()) {
            out += " of " + std::to_string(response.count) + " matching";
        }
        out += ")\n";
    }
    if (explain) {
        out += "plan: estimated " + FormatEstimate(plan.estimated_rows) +
               (plan.estimated_rows == 1 ? " row, " : " rows, ") +
               std::to_string(plan.rows_scanned) +
               (plan.rows_scanned == 1 ? " row scanned, " : " rows scanned, ") +
               std::to_string(plan.index_entries_read) +
               (plan.index_entries_read == 1 ? " index entry read\n" : " index entries read\n");
        for (const std::string& step : plan.steps) {
            out += "  " + Printable(step) + "\n";
        }
    }
    Write(out);
}

void Printer::PrintIndexes(std::span<const MetadataIndexInfo> indexes) {
    // Statistics are computed in the background (and by `analyze`); until then there are none,
    // which is not the same as an empty index.
    auto has_statistics = [](const MetadataIndexInfo& info) {
        return info.statistics_timestamp != 0;
    };
    if (IsJson()) {
        std::string out;
        for (const MetadataIndexInfo& info : indexes) {
            Json doc = {{"path", info.path},
                        {"state", std::string(IndexStateName(info.state))},
                        {"ready_timestamp", info.ready_timestamp},
                        {"entries", nullptr},
                        {"distinct_values", nullptr},
                        {"statistics_timestamp", info.statistics_timestamp},
                        {"statistics", EmbeddedJson(info.statistics_json)}};
            if (has_statistics(info)) {
                doc["entries"] = info.entries;
                doc["distinct_values"] = info.distinct_values;
            }
            out += Dump(doc) + "\n";
        }
        Write(out);
        return;
    }
    Table table({"path", "state", "entries", "distinct_values"});
    for (const MetadataIndexInfo& info : indexes) {
        const bool known = has_statistics(info);
        table.AddRow({Printable(info.path), std::string(IndexStateName(info.state)),
                      known ? std::to_string(info.entries) : "n/a",
                      known ? std::to_string(info.distinct_values) : "n/a"});
    }
    Write(table.Render());
}

void Printer::PrintTraversal(const TraversalResponse& response) {
    if (IsJson()) {
        Json entities = Json::array();
        for (const ReachedEntity& entity : response.entities) {
            entities.push_back({{"collection", entity.collection.name},
                                {"id", entity.id},
                                {"depth", entity.depth}});
        }
        const Json doc = {{"entities", std::move(entities)},
                          {"truncated", response.truncated},
                          {"edges_examined", response.edges_examined}};
        Write(Dump(doc) + "\n");
        return;
    }
    Table table({"collection", "id", "depth"});
    for (const ReachedEntity& entity : response.entities) {
        table.AddRow({Printable(entity.collection.name), Printable(entity.id),
                      std::to_string(entity.depth)});
    }
    std::string out = table.Render(/*footer=*/false) + Rows(response.entities.size());
    if (response.truncated) {
        out += "; more were reached: raise the limit";
    }
    Write(out + ")\n");
}

void Printer::PrintPaths(const PathsResponse& response, std::string_view home) {
    if (IsJson()) {
        Json paths = Json::array();
        for (const GraphPath& path : response.paths) {
            paths.push_back(PathJson(path));
        }
        Write(Dump(Json{{"paths", std::move(paths)}, {"truncated", response.truncated}}) + "\n");
        return;
    }
    Table table({"path", "hops", "weight"});
    for (const GraphPath& path : response.paths) {
        table.AddRow({RenderPath(path, home), std::to_string(path.edges.size()),
                      FormatDouble(path.total_weight)});
    }
    std::string out = table.Render(/*footer=*/false) + Rows(response.paths.size());
    if (response.truncated) {
        out += "; more paths exist: raise the limit";
    }
    Write(out + ")\n");
}

void Printer::PrintShortestPath(const std::optional<GraphPath>& path, std::string_view home,
                                std::string_view from, std::string_view to) {
    if (IsJson()) {
        Write(Dump(Json{{"path", path ? PathJson(*path) : Json(nullptr)}}) + "\n");
        return;
    }
    if (!path) {
        Write("no path from " + Printable(from) + " to " + Printable(to) + "\n");
        return;
    }
    Table table({"path", "hops", "weight"});
    table.AddRow({RenderPath(*path, home), std::to_string(path->edges.size()),
                  FormatDouble(path->total_weight)});
    Write(table.Render());
}

void Printer::PrintVectorIndexInfo(std::string_view name, const VectorIndexInfo& info) {
    const std::uint64_t total_bytes = info.vectors_bytes + info.graph_bytes + info.metadata_bytes;
    const bool has_live = info.live_nodes > 0;
    const std::uint64_t bytes_per_live =
        has_live ? (total_bytes + info.live_nodes / 2) / info.live_nodes : 0;
    const std::string_view quantization = info.quantize_int8 ? "int8" : "none";
    if (IsJson()) {
        Json doc = {{"collection", std::string(name)},
                    {"m", info.m},
                    {"ef_construction", info.ef_construction},
                    {"ef_search", info.ef_search},
                    {"quantization", std::string(quantization)},
                    {"nodes", info.nodes},
                    {"live_nodes", info.live_nodes},
                    {"unindexed_rows", info.unindexed_rows},
                    {"indexed_timestamp", info.indexed_timestamp},
                    {"checkpoint_timestamp", info.checkpoint_timestamp},
                    {"memory_bytes",
                     {{"vectors", info.vectors_bytes},
                      {"graph", info.graph_bytes},
                      {"metadata", info.metadata_bytes},
                      {"total", total_bytes}}},
                    {"bytes_per_live_vector", nullptr}};
        if (has_live) {
            doc["bytes_per_live_vector"] = bytes_per_live;
        }
        Write(Dump(doc) + "\n");
        return;
    }
    auto timestamp = [](std::uint64_t ts) { return ts == 0 ? "none" : std::to_string(ts); };
    Table table({"property", "value"});
    table.AddRow({"collection", Printable(name)});
    table.AddRow({"m", std::to_string(info.m)});
    table.AddRow({"ef_construction", std::to_string(info.ef_construction)});
    table.AddRow({"ef_search", std::to_string(info.ef_search)});
    table.AddRow({"quantization", std::string(quantization)});
    table.AddRow({"nodes", std::to_string(info.nodes)});
    table.AddRow({"live_nodes", std::to_string(info.live_nodes)});
    table.AddRow({"unindexed_rows", std::to_string(info.unindexed_rows)});
    table.AddRow({"indexed_timestamp", timestamp(info.indexed_timestamp)});
    table.AddRow({"checkpoint_timestamp", timestamp(info.checkpoint_timestamp)});
    table.AddRow({"memory_vectors", FormatBytes(info.vectors_bytes)});
    table.AddRow({"memory_graph", FormatBytes(info.graph_bytes)});
    table.AddRow({"memory_metadata", FormatBytes(info.metadata_bytes)});
    table.AddRow({"memory_total", FormatBytes(total_bytes)});
    table.AddRow({"bytes_per_live_vector", has_live ? std::to_string(bytes_per_live) : "n/a"});
    Write(table.Render(/*footer=*/false));
}

void Printer::PrintOk() {
    Write(IsJson() ? "{\"ok\":true}\n" : "OK\n");
}

void Printer::PrintMessage(std::string_view text, std::string_view json) {
    std::string out(IsJson() ? json : text);
    out += '\n';
    Write(out);
}

void Printer::PrintQueryResult(const QueryResult& result) {
    if (!result.has_rows) {
        if (format_ == OutputFormat::kTable && !result.message.empty()) {
            Write(Printable(result.message) + "\n");
        }
        return;
    }
    std::string out;
    switch (format_) {
        case OutputFormat::kJson: {
            out = "[";
            for (std::size_t row_idx = 0; row_idx < result.rows.size(); ++row_idx) {
                const std::vector<QueryValue>& row = result.rows[row_idx];
                out += row_idx == 0 ? "{" : ",{";
                for (std::size_t col = 0; col < result.columns.size() && col < row.size(); ++col) {
                    out += col == 0 ? "" : ",";
                    out += JsonString(result.columns[col]) + ":" + row[col].ToJson();
                }
                out += "}";
            }
            out += "]\n";
            break;
        }
        case OutputFormat::kCsv: {
            for (std::size_t col = 0; col < result.columns.size(); ++col) {
                out += (col == 0 ? "" : ",") + CsvField(result.columns[col]);
            }
            out += "\n";
            for (const std::vector<QueryValue>& row : result.rows) {
                for (std::size_t col = 0; col < row.size(); ++col) {
                    out += col == 0 ? "" : ",";
                    const QueryValue& value = row[col];
                    if (value.type == QueryValue::Type::kString && value.text.empty()) {
                        out += "\"\"";  // an empty string, told apart from NULL
                    } else if (value.type != QueryValue::Type::kNull) {
                        out += CsvField(value.ToText());
                    }
                }
                out += "\n";
            }
            break;
        }
        case OutputFormat::kTable: {
            Table table(result.columns);
            for (const std::vector<QueryValue>& row : result.rows) {
                std::vector<std::string> cells;
                cells.reserve(row.size());
                for (const QueryValue& value : row) {
                    cells.push_back(value.type == QueryValue::Type::kVector
                                        ? AbbreviateVector(value.vector)
                                        : Printable(value.ToText()));
                }
                table.AddRow(std::move(cells));
            }
            out = table.Render();
            break;
        }
    }
    Write(out);
}

}  // namespace phenix::shell
