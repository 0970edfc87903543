// SPDX-License-Identifier: Apache-2.0
#include "server/errors.h"

#include <charconv>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "server/quota.h"

namespace phenix::server {

bool ParseLineColumn(std::string_view message, std::uint64_t& line, std::uint64_t& column) {
    constexpr std::string_view kLine = "line ";
    constexpr std::string_view kColumn = ", column ";
    if (message.substr(0, kLine.size()) != kLine) {
        return false;
    }
    const char* pos = message.data() + kLine.size();
    const char* end = message.data() + message.size();
    auto parsed = std::from_chars(pos, end, line);
    if (parsed.ec != std::errc()) {
        return false;
    }
    std::string_view rest(parsed.ptr, static_cast<std::size_t>(end - parsed.ptr));
    if (rest.substr(0, kColumn.size()) != kColumn) {
        return false;
    }
    pos = rest.data() + kColumn.size();
    parsed = std::from_chars(pos, end, column);
    return parsed.ec == std::errc();
}

std::string_view ErrorCodeName(StatusCode code) {
    switch (code) {
        case StatusCode::kOk:
            return "OK";
        case StatusCode::kInvalidArgument:
            return "INVALID_ARGUMENT";
        case StatusCode::kNotFound:
            return "NOT_FOUND";
        case StatusCode::kAlreadyExists:
            return "ALREADY_EXISTS";
        case StatusCode::kAborted:
            return "ABORTED";
        case StatusCode::kFailedPrecondition:
            return "FAILED_PRECONDITION";
        case StatusCode::kResourceExhausted:
            return "RESOURCE_EXHAUSTED";
        case StatusCode::kDeadlineExceeded:
            return "DEADLINE_EXCEEDED";
        case StatusCode::kCancelled:
            return "CANCELLED";
        case StatusCode::kUnavailable:
            return "UNAVAILABLE";
        case StatusCode::kPermissionDenied:
            return "PERMISSION_DENIED";
        case StatusCode::kUnauthenticated:
            return "UNAUTHENTICATED";
        case StatusCode::kCorruption:
            return "DATA_LOSS";
        case StatusCode::kIOError:
            return "INTERNAL";
        case StatusCode::kUnimplemented:
            return "UNIMPLEMENTED";
        case StatusCode::kInternal:
            return "INTERNAL";
    }
    return "UNKNOWN";
}

unsigned HttpStatusFor(StatusCode code) {
    switch (code) {
        case StatusCode::kOk:
            return 200;
        case StatusCode::kInvalidArgument:
            return 400;
        case StatusCode::kFailedPrecondition:
            return 400;
        case StatusCode::kNotFound:
            return 404;
        case StatusCode::kAlreadyExists:
            return 409;
        case StatusCode::kAborted:
            return 409;
        case StatusCode::kResourceExhausted:
            return 429;
        case StatusCode::kDeadlineExceeded:
            return 504;
        case StatusCode::kCancelled:
            return 499;  // client closed request
        case StatusCode::kUnavailable:
            return 503;
        case StatusCode::kPermissionDenied:
            return 403;
        case StatusCode::kUnauthenticated:
            return 401;
        case StatusCode::kUnimplemented:
            return 501;
        case StatusCode::kCorruption:
        case StatusCode::kIOError:
        case StatusCode::kInternal:
            return 500;
    }
    return 500;
}

std::string ErrorJson(const Status& status, std::string_view extra_details) {
    std::string details;
    std::uint64_t line = 0;
    std::uint64_t column = 0;
    if (ParseLineColumn(status.message(), line, column)) {
        details += "\"line\":" + std::to_string(line) + ",\"column\":" + std::to_string(column);
    }
    if (status.code() == StatusCode::kAborted || status.code() == StatusCode::kUnavailable) {
        details += std::string(details.empty() ? "" : ",") + "\"retryable\":true";
    }
    if (const std::string_view quota = QuotaNamed(status.message()); !quota.empty()) {
        // A tenant quota's refusal (server/quota.h): which quota.
        details += std::string(details.empty() ? "" : ",") + "\"quota\":" + JsonQuote(quota);
    }
    if (!extra_details.empty()) {
        details += std::string(details.empty() ? "" : ",") + std::string(extra_details);
    }
    std::string out = "{\"error\":{\"code\":\"" + std::string(ErrorCodeName(status.code())) +
                      "\",\"message\":" + JsonQuote(status.message());
    if (!details.empty()) {
        out += ",\"details\":{" + details + "}";
    }
    return out + "}}";
}

std::string ErrorMessageOf(std::string_view body) {
    const nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_object() || !parsed.contains("error") || !parsed["error"].is_object()) {
        return {};
    }
    const nlohmann::json& error = parsed["error"];
    if (!error.contains("message") || !error["message"].is_string()) {
        return {};
    }
    return error["message"].get<std::string>();
}

std::string JsonStringMember(std::string_view body, std::string_view name) {
    const nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_object()) {
        return {};
    }
    const auto member = parsed.find(name);
    return member != parsed.end() && member->is_string() ? member->get<std::string>()
                                                         : std::string();
}

HttpResponse ErrorResponse(const Status& status, unsigned http_status,
                           std::string_view extra_details) {
    HttpResponse response;
    response.status = http_status != 0 ? http_status : HttpStatusFor(status.code());
    response.body = ErrorJson(status, extra_details);
    return response;
}

}  // namespace phenix::server
