// SPDX-License-Identifier: Apache-2.0
#include "client/query_stream.h"

#include <array>
#include <utility>

#include <nlohmann/json.hpp>

namespace phenix::client {
namespace {

// Ordered: a JSON value keeps its keys in the server's order, as the embedded shell prints them.
using Json = nlohmann::ordered_json;

constexpr std::size_t kMaxShownBytes = 80;

Json ParseJson(std::string_view text) {
    return Json::parse(text, nullptr, /*allow_exceptions=*/false);
}

std::string Shown(std::string_view text) {
    std::string out(text.substr(0, kMaxShownBytes));
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20) {
            c = '?';
        }
    }
    return text.size() > kMaxShownBytes ? out + "..." : out;
}

Status BadAnswer(std::string_view what, std::string_view text) {
    return Status::Internal("the server's answer is not the /v1/query wire format (" +
                            std::string(what) + "): " + Shown(text));
}

std::string Dump(const Json& json) {
    return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool IsNumericArray(const Json& json) {
    if (!json.is_array() || json.empty()) {
        return false;
    }
    for (const Json& element : json) {
        if (!element.is_number()) {
            return false;
        }
    }
    return true;
}

QueryValue ToValue(const Json& json) {
    switch (json.type()) {
        case Json::value_t::null:
        case Json::value_t::discarded:
            return QueryValue::Null();
        case Json::value_t::boolean:
            return QueryValue::Bool(json.get<bool>());
        case Json::value_t::number_integer:
            return QueryValue::Int(json.get<std::int64_t>());
        case Json::value_t::number_unsigned: {
            const auto value = json.get<std::uint64_t>();
            if (value > static_cast<std::uint64_t>(INT64_MAX)) {
                return QueryValue::Float(static_cast<double>(value));
            }
            return QueryValue::Int(static_cast<std::int64_t>(value));
        }
        case Json::value_t::number_float:
            return QueryValue::Float(json.get<double>());
        case Json::value_t::string:
            return QueryValue::String(json.get<std::string>());
        default:
            break;
    }
    if (IsNumericArray(json)) {
        std::vector<float> vector;
        vector.reserve(json.size());
        for (const Json& element : json) {
            vector.push_back(element.get<float>());
        }
        return QueryValue::Vector(std::move(vector));
    }
    return QueryValue::Json(Dump(json));
}

Result<std::vector<QueryValue>> RowFromJson(const Json& json, std::size_t num_columns) {
    if (!json.is_array()) {
        return Status::Internal("a row is not a JSON array");
    }
    if (json.size() != num_columns) {
        return Status::Internal("a row has " + std::to_string(json.size()) + " values for " +
                                std::to_string(num_columns) + " columns");
    }
    std::vector<QueryValue> row;
    row.reserve(json.size());
    for (const Json& value : json) {
        row.push_back(ToValue(value));
    }
    return row;
}

Result<std::vector<std::string>> ColumnsFromJson(const Json& json) {
    if (!json.is_array()) {
        return Status::Internal("\"columns\" is not an array");
    }
    std::vector<std::string> columns;
    for (const Json& column : json) {
        if (!column.is_string()) {
            return Status::Internal("a column name is not a string");
        }
        columns.push_back(column.get<std::string>());
    }
    return columns;
}

// The error object ({"code","message","details"?} or, in a stream, {"code","message",
// "statement","line"?,"column"?}) as a Status. The message already starts with the position
// ("line 1, column 8: ..."), as the engine's does.
Status StatusFromErrorObject(const Json& error, unsigned http_status) {
    if (!error.is_object() || !error.contains("message") || !error["message"].is_string()) {
        return Status::Internal("the server answered HTTP " + std::to_string(http_status) +
                                " with an error this shell cannot read: " + Shown(Dump(error)));
    }
    const StatusCode code = error.contains("code") && error["code"].is_string()
                                ? CodeFromName(error["code"].get<std::string>())
                                : StatusCode::kInternal;
    return {code == StatusCode::kOk ? StatusCode::kInternal : code,
            error["message"].get<std::string>()};
}

}  // namespace

StatusCode CodeFromName(std::string_view name) {
    struct Entry {
        std::string_view name;
        StatusCode code;
    };
    static constexpr std::array<Entry, 14> kCodes = {{
        {"INVALID_ARGUMENT", StatusCode::kInvalidArgument},
        {"NOT_FOUND", StatusCode::kNotFound},
        {"ALREADY_EXISTS", StatusCode::kAlreadyExists},
        {"ABORTED", StatusCode::kAborted},
        {"FAILED_PRECONDITION", StatusCode::kFailedPrecondition},
        {"RESOURCE_EXHAUSTED", StatusCode::kResourceExhausted},
        {"DEADLINE_EXCEEDED", StatusCode::kDeadlineExceeded},
        {"CANCELLED", StatusCode::kCancelled},
        {"UNAVAILABLE", StatusCode::kUnavailable},
        {"PERMISSION_DENIED", StatusCode::kPermissionDenied},
        {"UNAUTHENTICATED", StatusCode::kUnauthenticated},
        {"DATA_LOSS", StatusCode::kCorruption},
        {"UNIMPLEMENTED", StatusCode::kUnimplemented},
        {"INTERNAL", StatusCode::kInternal},
    }};
    for (const Entry& entry : kCodes) {
        if (entry.name == name) {
            return entry.code;
        }
    }
    return StatusCode::kInternal;
}

Status StatusFromErrorBody(std::string_view body, unsigned http_status) {
    Json json = ParseJson(body);
    if (json.is_object() && json.contains("error")) {
        return StatusFromErrorObject(json["error"], http_status);
    }
    // Not ours (a proxy, or a server of another kind): the HTTP status says what it can.
    const std::string what = "the server answered HTTP " + std::to_string(http_status) +
                             (body.empty() ? std::string() : ": " + Shown(body));
    switch (http_status) {
        case 401:
            return Status::Unauthenticated(what);
        case 403:
            return Status::PermissionDenied(what);
        case 404:
            return Status::NotFound(what + " (is this URL a phenixd server?)");
        case 503:
            return Status::Unavailable(what);
        case 504:
            return {StatusCode::kDeadlineExceeded, what};
        default:
            return http_status >= 500 ? Status::Internal(what) : Status::InvalidArgument(what);
    }
}

Result<QueryValue> ValueFromJson(std::string_view json_text) {
    Json json = ParseJson(json_text);
    if (json.is_discarded()) {
        return Status::InvalidArgument("not valid JSON: " + Shown(json_text));
    }
    return ToValue(json);
}

Status NdjsonDecoder::Feed(std::string_view bytes) {
    if (!failure_.ok()) {
        return failure_;
    }
    std::size_t start = 0;
    while (start < bytes.size()) {
        const std::size_t newline = bytes.find('\n', start);
        if (newline == std::string_view::npos) {
            partial_.append(bytes.substr(start));
            break;
        }
        Status status;
        if (partial_.empty()) {
            status = DecodeLine(bytes.substr(start, newline - start));
        } else {
            partial_.append(bytes.substr(start, newline - start));
            status = DecodeLine(partial_);
            partial_.clear();
        }
        start = newline + 1;
        if (!status.ok()) {
            // Rows before the error are shown (as the embedded shell shows the rows it printed
            // before a statement failed).
            Status flushed = FlushRows();
            failure_ = status;
            return flushed.ok() ? status : flushed;
        }
    }
    failure_ = FlushRows();
    return failure_;
}

Status NdjsonDecoder::FlushRows() {
    if (batch_.empty()) {
        return Status::Ok();
    }
    std::vector<std::vector<QueryValue>> rows = std::move(batch_);
    batch_.clear();
    return sink_.OnRows(std::move(rows));
}

Status NdjsonDecoder::DecodeLine(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.remove_suffix(1);
    }
    if (line.empty()) {
        return Status::Ok();
    }
    if (is_done_) {
        return BadAnswer("a line after \"done\"", line);
    }
    Json json = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
        return BadAnswer("a line is not JSON", line);
    }
    if (json.is_array()) {
        if (!in_rows_) {
            return BadAnswer("a row outside a statement's rows", line);
        }
        auto row = RowFromJson(json, current_.columns.size());
        if (!row.ok()) {
            return BadAnswer(row.status().message(), line);
        }
        batch_.push_back(std::move(*row));
        ++num_rows_;
        return Status::Ok();
    }
    if (!json.is_object()) {
        return BadAnswer("a line is neither an object nor a row", line);
    }
    if (auto error = json.find("error"); error != json.end()) {
        return StatusFromErrorObject(*error, 200);
    }
    if (auto progress = json.find("progress"); progress != json.end()) {
        if (!progress->is_string()) {
            return BadAnswer("a progress line without text", line);
        }
        if (progress_) {
            // Rows decoded so far go out first, so that what the shell prints keeps its order.
            PHENIX_RETURN_IF_ERROR(FlushRows());
            progress_(progress->get<std::string>());
        }
        return Status::Ok();
    }
    if (auto done = json.find("done"); done != json.end()) {
        if (in_rows_) {
            return BadAnswer("\"done\" before the end of a statement's rows", line);
        }
        is_done_ = true;
        return Status::Ok();
    }
    if (auto columns = json.find("columns"); columns != json.end()) {
        if (in_rows_) {
            return BadAnswer("a statement began before the previous one ended", line);
        }
        auto names = ColumnsFromJson(*columns);
        if (!names.ok()) {
            return BadAnswer(names.status().message(), line);
        }
        PHENIX_RETURN_IF_ERROR(FlushRows());
        current_ = QueryResult{.has_rows = true, .columns = std::move(*names)};
        in_rows_ = true;
        return sink_.OnColumns(current_.columns);
    }
    if (auto rows = json.find("rows"); rows != json.end()) {
        if (!in_rows_) {
            return BadAnswer("the end of rows that did not begin", line);
        }
        in_rows_ = false;
        return Status::Ok();
    }
    if (auto message = json.find("message"); message != json.end()) {
        if (in_rows_ || !message->is_string()) {
            return BadAnswer("a misplaced statement message", line);
        }
        current_ = QueryResult{.message = message->get<std::string>()};
        if (auto affected = json.find("affected");
            affected != json.end() && affected->is_number_unsigned()) {
            current_.affected = affected->get<std::uint64_t>();
        }
        return Status::Ok();
    }
    return BadAnswer("an unknown line", line);
}

Result<QueryResult> NdjsonDecoder::Finish() {
    if (!failure_.ok()) {
        return failure_;
    }
    if (!partial_.empty()) {
        const std::string last = std::move(partial_);
        partial_.clear();
        if (Status status = Feed(last + "\n"); !status.ok()) {
            return status;
        }
    }
    if (!is_done_) {
        return Status::Unavailable(
            "the server's answer was cut off before its end (the connection closed after " +
            std::to_string(num_rows_) + " rows); the statement may or may not have taken effect");
    }
    return std::move(current_);
}

Result<QueryResult> DecodeJsonAnswer(std::string_view body, RowSink& sink) {
    Json json = ParseJson(body);
    if (!json.is_object()) {
        return BadAnswer("the body is not a JSON object", body);
    }
    std::vector<const Json*> results;
    if (auto many = json.find("results"); many != json.end() && !json.contains("columns")) {
        if (!many->is_array() || many->empty()) {
            return BadAnswer("\"results\" is not a non-empty array", body);
        }
        for (const Json& result : *many) {
            results.push_back(&result);
        }
    } else {
        results.push_back(&json);
    }
    QueryResult last;
    for (const Json* result : results) {
        if (!result->is_object()) {
            return BadAnswer("a result is not an object", body);
        }
        QueryResult decoded;
        if (auto message = result->find("message");
            message != result->end() && message->is_string()) {
            decoded.message = message->get<std::string>();
            if (auto affected = result->find("affected");
                affected != result->end() && affected->is_number_unsigned()) {
                decoded.affected = affected->get<std::uint64_t>();
            }
            last = std::move(decoded);
            continue;
        }
        auto columns = result->find("columns");
        auto rows = result->find("rows");
        if (columns == result->end() || rows == result->end() || !rows->is_array()) {
            return BadAnswer("a result has neither rows nor a message", body);
        }
        auto names = ColumnsFromJson(*columns);
        if (!names.ok()) {
            return BadAnswer(names.status().message(), body);
        }
        decoded.has_rows = true;
        decoded.columns = std::move(*names);
        PHENIX_RETURN_IF_ERROR(sink.OnColumns(decoded.columns));
        std::vector<std::vector<QueryValue>> decoded_rows;
        decoded_rows.reserve(rows->size());
        for (const Json& row : *rows) {
            auto values = RowFromJson(row, decoded.columns.size());
            if (!values.ok()) {
                return BadAnswer(values.status().message(), body);
            }
            decoded_rows.push_back(std::move(*values));
        }
        if (!decoded_rows.empty()) {
            PHENIX_RETURN_IF_ERROR(sink.OnRows(std::move(decoded_rows)));
        }
        last = std::move(decoded);
    }
    return last;
}

}  // namespace phenix::client
