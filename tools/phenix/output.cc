// SPDX-License-Identifier: Apache-2.0
#include "output.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>

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

std::string Rows(std::size_t num_rows) {
    return "(" + std::to_string(num_rows) + (num_rows == 1 ? " row" : " rows");
}

using Json = nlohmann::ordered_json;

std::string Dump(const Json& doc) {
    return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// An optimizer's row estimate: whole rows once it is large, else up to 3 significant digits.

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

std::string Table::Render(bool footer) const {
    std::vector<std::size_t> widths;
    std::string out = Table(*this).RenderChunk(&widths, /*with_header=*/true);
    if (footer) {
        out += Rows(rows_.size()) + ")\n";
    }
    return out;
}

std::string Table::RenderChunk(std::vector<std::size_t>* widths_io, bool with_header) {
    const std::size_t num_cols = header_.size();
    std::vector<std::size_t>& widths = *widths_io;
    widths.resize(num_cols, 0);
    for (std::size_t col = 0; col < num_cols; ++col) {
        widths[col] = std::max(widths[col], DisplayWidth(header_[col]));
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
    if (with_header) {
        append_row(header_);
        for (std::size_t col = 0; col < num_cols; ++col) {
            out += col == 0 ? "" : "+";
            out.append(widths[col] + 2, '-');
        }
        out += '\n';
    }
    for (const auto& row : rows_) {
        append_row(row);
    }
    rows_.clear();
    return out;
}

void Printer::Write(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fflush(out_);
}

void Printer::PrintMessage(std::string_view text, std::string_view json) {
    std::string out(IsJson() ? json : text);
    out += '\n';
    Write(out);
}

namespace {

void AppendJsonRow(const std::vector<std::string>& columns, const std::vector<QueryValue>& row,
                   bool first, std::string* out) {
    *out += first ? "{" : ",{";
    for (std::size_t col = 0; col < columns.size() && col < row.size(); ++col) {
        *out += col == 0 ? "" : ",";
        *out += JsonString(columns[col]) + ":" + row[col].ToJson();
    }
    *out += "}";
}

void AppendCsvRow(const std::vector<QueryValue>& row, std::string* out) {
    for (std::size_t col = 0; col < row.size(); ++col) {
        *out += col == 0 ? "" : ",";
        const QueryValue& value = row[col];
        if (value.type == QueryValue::Type::kString && value.text.empty()) {
            *out += "\"\"";  // an empty string, told apart from NULL
        } else if (value.type != QueryValue::Type::kNull) {
            *out += CsvField(value.ToText());
        }
    }
    *out += "\n";
}

std::vector<std::string> TableCells(const std::vector<QueryValue>& row) {
    std::vector<std::string> cells;
    cells.reserve(row.size());
    for (const QueryValue& value : row) {
        cells.push_back(value.type == QueryValue::Type::kVector ? AbbreviateVector(value.vector)
                                                                : Printable(value.ToText()));
    }
    return cells;
}

}  // namespace

void Printer::StartRows(const std::vector<std::string>& columns) {
    columns_ = columns;
    chunk_ = Table(columns);
    widths_.clear();
    chunk_rows_ = 0;
    num_rows_ = 0;
    header_written_ = false;
    if (format_ == OutputFormat::kCsv) {
        std::string out;
        for (std::size_t col = 0; col < columns.size(); ++col) {
            out += (col == 0 ? "" : ",") + CsvField(columns[col]);
        }
        Write(out + "\n");
        header_written_ = true;
    } else if (format_ == OutputFormat::kJson) {
        Write("[");
        header_written_ = true;
    }
}

void Printer::AddRows(const std::vector<std::vector<QueryValue>>& rows) {
    std::string out;
    for (const std::vector<QueryValue>& row : rows) {
        switch (format_) {
            case OutputFormat::kJson:
                AppendJsonRow(columns_, row, num_rows_ == 0, &out);
                break;
            case OutputFormat::kCsv:
                AppendCsvRow(row, &out);
                break;
            case OutputFormat::kTable:
                chunk_.AddRow(TableCells(row));
                if (++chunk_rows_ == kTableChunkRows) {
                    out += chunk_.RenderChunk(&widths_, !header_written_);
                    header_written_ = true;
                    chunk_rows_ = 0;
                }
                break;
        }
        ++num_rows_;
    }
    if (!out.empty()) {
        Write(out);
    }
}

void Printer::FinishRows(bool ok) {
    std::string out;
    if (format_ == OutputFormat::kTable) {
        if (chunk_rows_ > 0 || !header_written_) {
            out += chunk_.RenderChunk(&widths_, !header_written_);
        }
        if (ok) {
            out += Rows(num_rows_) + ")\n";
        }
    } else if (format_ == OutputFormat::kJson) {
        out += ok ? "]\n" : "\n";
    }
    chunk_rows_ = 0;
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
                AppendJsonRow(result.columns, result.rows[row_idx], row_idx == 0, &out);
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
                AppendCsvRow(row, &out);
            }
            break;
        }
        case OutputFormat::kTable: {
            Table table(result.columns);
            for (const std::vector<QueryValue>& row : result.rows) {
                table.AddRow(TableCells(row));
            }
            out = table.Render();
            break;
        }
    }
    Write(out);
}

}  // namespace phenix::shell