// SPDX-License-Identifier: Apache-2.0
#include "stats_command.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace phenix::shell {
namespace {

// Collects a statement's rows (SHOW STATS returns a few hundred at most).
class CollectingSink final : public RowSink {
  public:
    Status OnColumns(const std::vector<std::string>& columns) override {
        columns_ = columns;
        return Status::Ok();
    }
    Status OnRows(std::vector<std::vector<QueryValue>> rows) override {
        for (auto& row : rows) {
            rows_.push_back(std::move(row));
        }
        return Status::Ok();
    }
    std::vector<std::string> columns_;
    std::vector<std::vector<QueryValue>> rows_;
};

std::string Fixed(double value, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
    return buf;
}

std::string HumanBytes(double bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    std::size_t unit = 0;
    while (bytes >= 1024 && unit + 1 < std::size(kUnits)) {
        bytes /= 1024;
        ++unit;
    }
    return (unit == 0 ? Fixed(bytes, 0) : Fixed(bytes, 1)) + " " + kUnits[unit];
}

std::string HumanSeconds(double seconds) {
    if (seconds == 0) {
        return "0 s";
    }
    if (seconds < 0.001) {
        return Fixed(seconds * 1e6, 0) + " µs";
    }
    if (seconds < 1) {
        return Fixed(seconds * 1e3, seconds < 0.01 ? 2 : 1) + " ms";
    }
    if (seconds < 120) {
        return Fixed(seconds, 1) + " s";
    }
    if (seconds < 7200) {
        return Fixed(seconds / 60, 1) + " min";
    }
    return Fixed(seconds / 3600, 1) + " h";
}

// A value for a person, by what the metric's name says it measures.
std::string HumanValue(std::string_view metric, const QueryValue& value) {
    if (value.type == QueryValue::Type::kNull) {
        return "-";
    }
    const bool is_number =
        value.type == QueryValue::Type::kInt || value.type == QueryValue::Type::kFloat;
    if (!is_number) {
        return value.ToText();
    }
    const double number = value.type == QueryValue::Type::kInt
                              ? static_cast<double>(value.int_value)
                              : value.float_value;
    if (metric.ends_with("_bytes") || metric.starts_with("sst_bytes") || metric == "bytes") {
        return HumanBytes(number);
    }
    if (metric.ends_with("_seconds")) {
        return HumanSeconds(number);
    }
    if (metric.ends_with("_ratio")) {
        return Fixed(number * 100, 1) + "%";
    }
    return value.ToText();
}

void PrintForPeople(const CollectingSink& rows, std::FILE* out) {
    std::size_t width = 0;
    for (const auto& row : rows.rows_) {
        width = std::max(width, row[1].text.size());
    }
    std::string scope;
    for (const auto& row : rows.rows_) {
        if (row.size() < 5) {
            continue;
        }
        if (row[0].text != scope) {
            scope = row[0].text;
            std::fprintf(out, "%s%s\n", &row == &rows.rows_.front() ? "" : "\n", scope.c_str());
        }
        const std::string& metric = row[1].text;
        std::string line = "  " + metric + std::string(width - metric.size() + 2, ' ') +
                           HumanValue(metric, row[2]);
        // Columns: scope, metric, value, warning, note.
        const std::string& note = row[4].text;
        if (row[3].bool_value) {
            line += "  ! " + (note.empty() ? std::string("check this") : note);
        } else if (!note.empty()) {
            line += "  (" + note + ")";
        }
        std::fprintf(out, "%s\n", line.c_str());
    }
}

}  // namespace

Status RunStatsCommand(Backend& backend, Printer& printer, const StatsRequest& request,
                       std::FILE* out) {
    std::string statement = request.collection.empty()
                                ? "SHOW DATABASE STATS;"
                                : "SHOW STATS FOR " + QuoteIdentifier(request.collection) + ";";
    CollectingSink rows;
    Result<QueryResult> result = backend.Execute(statement, rows);
    if (!result.ok() && result.status().code() == StatusCode::kPermissionDenied &&
        request.is_remote && request.collection.empty()) {
        std::fprintf(stderr,
                     "phenix: the engine-wide figures (storage, WAL, transactions) are for "
                     "cluster administrators; showing your tenant's collections only\n");
        rows = CollectingSink();
        statement = "SHOW STATS;";
        result = backend.Execute(statement, rows);
    }
    if (!result.ok()) {
        return result.status();
    }
    // Rows may come in the result (embedded) as well as through the sink (streamed).
    for (auto& row : result->rows) {
        rows.rows_.push_back(std::move(row));
    }
    if (rows.columns_.empty()) {
        rows.columns_ = result->columns;
    }
    if (request.format != OutputFormat::kTable) {
        QueryResult all{.has_rows = true, .columns = rows.columns_, .rows = rows.rows_};
        printer.PrintQueryResult(all);
        return Status::Ok();
    }
    PrintForPeople(rows, out);
    return Status::Ok();
}

}  // namespace phenix::shell
