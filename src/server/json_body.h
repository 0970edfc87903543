// SPDX-License-Identifier: Apache-2.0
//
// Reading a REST request's JSON body, for the handlers of api.cc and admin_api.cc alike: one
// Content-Type rule (415), one JSON error (400), one "unknown field" message. Internal to the
// server module (nlohmann::json is one of its private dependencies). Pure; thread-safe.
#pragma once

#include <exception>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/errors.h"
#include "server/http_types.h"

namespace phenix::server::json_body {

using Json = nlohmann::json;

/// 415 for a content type that is not JSON (application/json or */*+json; none is read as JSON).
inline std::optional<HttpResponse> CheckJsonContentType(const HttpRequest& request) {
    if (!request.content_type.empty()) {
        std::string_view type = request.content_type;
        type = type.substr(0, type.find(';'));
        while (!type.empty() && type.back() == ' ') {
            type.remove_suffix(1);
        }
        const bool is_json = type == "application/json" ||
                             (type.size() > 5 && type.substr(type.size() - 5) == "+json");
        if (!is_json) {
            return ErrorResponse(Status::InvalidArgument("Content-Type must be application/json, "
                                                         "not '" +
                                                         request.content_type + "'"),
                                 415);
        }
    }
    return std::nullopt;
}

/// The request's body as JSON: 415 for a content type that is not JSON, 400 for bad JSON. An
/// empty body is `empty_as` when given, else 400.
inline std::optional<HttpResponse> ParseBody(const HttpRequest& request, Json& out,
                                             std::optional<Json> empty_as = std::nullopt) {
    if (auto error = CheckJsonContentType(request)) {
        return error;
    }
    if (request.body.empty() && empty_as.has_value()) {
        out = *empty_as;
        return std::nullopt;
    }
    try {
        out = Json::parse(request.body);
    } catch (const std::exception& error) {
        return ErrorResponse(
            Status::InvalidArgument(std::string("the body is not valid JSON: ") + error.what()));
    }
    return std::nullopt;
}

/// 400 "<what> must be a JSON object" unless `json` is one.
inline std::optional<HttpResponse> RequireObject(const Json& json, std::string_view what) {
    if (!json.is_object()) {
        return ErrorResponse(Status::InvalidArgument(std::string(what) + " must be a JSON object"));
    }
    return std::nullopt;
}

/// 400 naming the first member of `object` that is not in `allowed` (and what is).
inline std::optional<HttpResponse> CheckFields(const Json& object,
                                               std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, value] : object.items()) {
        bool known = false;
        for (std::string_view name : allowed) {
            known = known || key == name;
        }
        if (!known) {
            std::string names;
            for (std::string_view name : allowed) {
                names += (names.empty() ? "" : ", ") + std::string(name);
            }
            return ErrorResponse(
                Status::InvalidArgument("unknown field '" + key + "' (expected: " + names + ")"));
        }
    }
    return std::nullopt;
}

/// All three: the body is a JSON object with no member outside `allowed` (an empty body is {}
/// when `allow_empty`).
inline std::optional<HttpResponse> ParseObject(const HttpRequest& request, Json& out,
                                               std::initializer_list<std::string_view> allowed,
                                               bool allow_empty = false) {
    std::optional<HttpResponse> error;
    if ((error = ParseBody(request, out,
                           allow_empty ? std::optional<Json>(Json::object()) : std::nullopt)) ||
        (error = RequireObject(out, "the body")) || (error = CheckFields(out, allowed))) {
        return error;
    }
    return std::nullopt;
}

}  // namespace phenix::server::json_body
