// SPDX-License-Identifier: Apache-2.0
#include "server/ndjson.h"

#include <utility>

#include "server/errors.h"

namespace phenix::server {
namespace {

// A batch of rows is written in pieces of about this size, so that one huge batch does not sit
// in memory twice (as values and as text).
constexpr std::size_t kWriteBytes = std::size_t{64} << 10;

std::string Lower(std::string_view text) {
    std::string out(text);
    for (char& ch : out) {
        if (ch >= 'A' && ch <= 'Z') {
            ch = static_cast<char>(ch - 'A' + 'a');
        }
    }
    return out;
}

}  // namespace

bool AcceptsNdjson(std::string_view accept) {
    const std::string lower = Lower(accept);
    std::string_view rest = lower;
    while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        item = item.substr(0, item.find(';'));
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        while (!item.empty() && item.back() == ' ') {
            item.remove_suffix(1);
        }
        if (item == kNdjsonContentType) {
            return true;
        }
    }
    return false;
}

std::string NdjsonColumnsLine(std::size_t statement, const std::vector<std::string>& columns) {
    std::string out = "{\"statement\":" + std::to_string(statement) + ",\"columns\":[";
    for (std::size_t col = 0; col < columns.size(); ++col) {
        out += (col == 0 ? "" : ",") + JsonQuote(columns[col]);
    }
    return out + "]}\n";
}

void AppendNdjsonRow(std::string& out, const std::vector<QueryValue>& row) {
    out += '[';
    for (std::size_t col = 0; col < row.size(); ++col) {
        if (col > 0) {
            out += ',';
        }
        out += row[col].ToJson();
    }
    out += "]\n";
}

std::string NdjsonRowsEndLine(std::size_t statement, std::uint64_t num_rows) {
    return "{\"statement\":" + std::to_string(statement) + ",\"rows\":" + std::to_string(num_rows) +
           "}\n";
}

std::string NdjsonMessageLine(std::size_t statement, const QueryResult& result) {
    return "{\"statement\":" + std::to_string(statement) +
           ",\"message\":" + JsonQuote(result.message) +
           ",\"affected\":" + std::to_string(result.affected) + "}\n";
}

std::string NdjsonDoneLine(std::size_t num_statements) {
    return "{\"done\":{\"statements\":" + std::to_string(num_statements) + "}}\n";
}

std::string NdjsonProgressLine(std::size_t statement, std::string_view progress) {
    return "{\"statement\":" + std::to_string(statement) + ",\"progress\":" + JsonQuote(progress) +
           "}\n";
}

std::string NdjsonErrorLine(const Status& status, std::size_t statement) {
    std::string out = "{\"error\":{\"code\":\"" + std::string(ErrorCodeName(status.code())) +
                      "\",\"message\":" + JsonQuote(status.message()) +
                      ",\"statement\":" + std::to_string(statement);
    std::uint64_t line = 0;
    std::uint64_t column = 0;
    if (ParseLineColumn(status.message(), line, column)) {
        out += ",\"line\":" + std::to_string(line) + ",\"column\":" + std::to_string(column);
    }
    return out + "}}\n";
}

Status NdjsonRowSink::OnColumns(const std::vector<std::string>& columns) {
    has_columns_ = true;
    return writer_.Write(NdjsonColumnsLine(statement_, columns));
}

Status NdjsonRowSink::OnRows(std::vector<std::vector<QueryValue>> rows) {
    scratch_.clear();
    for (const std::vector<QueryValue>& row : rows) {
        AppendNdjsonRow(scratch_, row);
        ++num_rows_;
        if (scratch_.size() >= kWriteBytes) {
            if (Status written = writer_.Write(scratch_); !written.ok()) {
                return written;
            }
            scratch_.clear();
        }
    }
    if (!scratch_.empty()) {
        return writer_.Write(scratch_);
    }
    return Status::Ok();
}

}  // namespace phenix::server
