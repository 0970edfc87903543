// SPDX-License-Identifier: Apache-2.0
#include "output.h"

#include <algorithm>
#include <charconv>
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

std::string Rows(std::size_t num_rows) {
    return "(" + std::to_string(num_rows) + (num_rows == 1 ? " row" : " rows");
}

using Json = nlohmann::ordered_json;

std::string Dump(const Json& doc) {
    return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
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
    if (format_ == OutputFormat::kJson) {
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
    if (format_ == OutputFormat::kJson) {
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
    if (format_ == OutputFormat::kJson) {
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
    if (format_ == OutputFormat::kJson) {
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
    if (format_ == OutputFormat::kJson) {
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

void Printer::PrintOk() {
    Write(format_ == OutputFormat::kJson ? "{\"ok\":true}\n" : "OK\n");
}

void Printer::PrintMessage(std::string_view text, std::string_view json) {
    std::string out(format_ == OutputFormat::kJson ? json : text);
    out += '\n';
    Write(out);
}

}  // namespace phenix::shell
