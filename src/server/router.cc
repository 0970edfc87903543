// SPDX-License-Identifier: Apache-2.0
#include "server/router.h"

#include <utility>

namespace phenix::server {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
    std::vector<std::string_view> segments;
    if (!path.empty() && path.front() == '/') {
        path.remove_prefix(1);
    }
    while (true) {
        const std::size_t slash = path.find('/');
        segments.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) {
            break;
        }
        path.remove_prefix(slash + 1);
    }
    return segments;
}

int HexValue(char ch) {
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

}  // namespace

bool PercentDecode(std::string_view text, std::string& out) {
    out.clear();
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size(); ++pos) {
        if (text[pos] != '%') {
            out += text[pos];
            continue;
        }
        if (pos + 2 >= text.size()) {
            return false;
        }
        const int high = HexValue(text[pos + 1]);
        const int low = HexValue(text[pos + 2]);
        if (high < 0 || low < 0) {
            return false;
        }
        out += static_cast<char>(high * 16 + low);
        pos += 2;
    }
    return true;
}

std::map<std::string, std::string, std::less<>> ParseQueryString(std::string_view query) {
    std::map<std::string, std::string, std::less<>> out;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const std::size_t eq = pair.find('=');
        std::string_view key = pair.substr(0, eq);
        std::string_view value =
            eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        std::string decoded_key;
        std::string decoded_value;
        if (!PercentDecode(key, decoded_key)) {
            decoded_key = std::string(key);
        }
        if (!PercentDecode(value, decoded_value)) {
            decoded_value = std::string(value);
        }
        out[decoded_key] = decoded_value;
    }
    return out;
}

void Router::Add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
    Route route{.method = std::move(method),
                .pattern = std::move(pattern),
                .handler = std::move(handler),
                .options = options,
                .segments = {}};
    for (std::string_view segment : Split(route.pattern)) {
        route.segments.emplace_back(segment);
    }
    routes_.push_back(std::move(route));
}

RouteMatch Router::Match(std::string_view method, std::string_view path) const {
    RouteMatch result;
    result.status = 404;
    const std::vector<std::string_view> segments = Split(path);
    for (const Route& route : routes_) {
        if (route.segments.size() != segments.size()) {
            continue;
        }
        PathParams params;
        bool matched = true;
        bool bad_escape = false;
        for (std::size_t seg_idx = 0; seg_idx < segments.size() && matched; ++seg_idx) {
            const std::string& want = route.segments[seg_idx];
            if (want.size() >= 2 && want.front() == '{' && want.back() == '}') {
                std::string decoded;
                if (segments[seg_idx].empty()) {
                    matched = false;
                } else if (!PercentDecode(segments[seg_idx], decoded)) {
                    bad_escape = true;
                    matched = false;
                } else {
                    params[want.substr(1, want.size() - 2)] = std::move(decoded);
                }
            } else if (want != segments[seg_idx]) {
                matched = false;
            }
        }
        if (bad_escape) {
            result.status = 400;
            return result;
        }
        if (!matched) {
            continue;
        }
        if (route.method == method) {
            result.route = &route;
            result.params = std::move(params);
            result.status = 200;
            result.allow.clear();
            return result;
        }
        result.status = 405;
        result.allow += (result.allow.empty() ? "" : ", ") + route.method;
    }
    return result;
}

}  // namespace phenix::server
