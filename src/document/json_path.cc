// SPDX-License-Identifier: Apache-2.0
#include "document/json_path.h"

namespace phenix::document {
namespace {

constexpr std::string_view kMetadataPrefix = "metadata.";

bool IsPlainChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c == '-';
}

bool NeedsQuotes(std::string_view segment) {
    if (segment.empty()) {
        return true;
    }
    for (char c : segment) {
        if (!IsPlainChar(c)) {
            return true;
        }
    }
    return false;
}

std::string Describe(char c) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
        return std::string("'") + c + "'";
    }
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string("byte 0x") + kHex[byte >> 4] + kHex[byte & 0xf];
}

Status PathError(std::string_view text, std::string_view what, std::size_t pos) {
    std::string message = "invalid path ";
    AppendJsonString(text, &message);
    message += ": ";
    message += what;
    message += " at column " + std::to_string(pos + 1);
    return Status::InvalidArgument(std::move(message));
}

}  // namespace

Result<JsonPath> JsonPath::Parse(std::string_view text) {
    if (text.empty()) {
        return Status::InvalidArgument("invalid path \"\": the path is empty");
    }
    std::size_t pos = 0;
    if (text.starts_with(kMetadataPrefix)) {
        pos = kMetadataPrefix.size();
    }
    std::vector<std::string> segments;
    while (true) {
        if (segments.size() == kMaxPathSegments) {
            return PathError(text,
                             "too many segments (the limit is " + std::to_string(kMaxPathSegments) +
                                 "); segment " + std::to_string(kMaxPathSegments + 1) + " starts",
                             pos);
        }
        std::string segment;
        if (pos < text.size() && text[pos] == '"') {
            const std::size_t open = pos++;
            bool closed = false;
            while (pos < text.size()) {
                const char c = text[pos];
                if (c == '"') {
                    closed = true;
                    ++pos;
                    break;
                }
                if (c == '\\') {
                    if (pos + 1 >= text.size() || (text[pos + 1] != '"' && text[pos + 1] != '\\')) {
                        return PathError(text, "bad escape (only \\\" and \\\\ are allowed)", pos);
                    }
                    segment.push_back(text[pos + 1]);
                    pos += 2;
                    continue;
                }
                segment.push_back(c);
                ++pos;
            }
            if (!closed) {
                return PathError(text, "unterminated quoted segment starting", open);
            }
            if (pos < text.size() && text[pos] != '.') {
                return PathError(
                    text, "expected '.' after a quoted segment, found " + Describe(text[pos]), pos);
            }
        } else {
            const std::size_t start = pos;
            while (pos < text.size() && text[pos] != '.') {
                if (!IsPlainChar(text[pos])) {
                    return PathError(text,
                                     Describe(text[pos]) +
                                         " is not allowed in a segment (use [A-Za-z0-9_$-] or "
                                         "quote the segment)",
                                     pos);
                }
                ++pos;
            }
            if (pos == start) {
                return PathError(text, "empty segment", pos);
            }
            segment.assign(text.substr(start, pos - start));
        }
        segments.push_back(std::move(segment));
        if (pos == text.size()) {
            break;
        }
        ++pos;  // the '.'
        if (pos == text.size()) {
            return PathError(text, "empty segment", pos);
        }
    }
    return JsonPath(std::move(segments));
}

Result<JsonPath> JsonPath::FromSegments(std::vector<std::string> segments) {
    if (segments.empty() || segments.size() > kMaxPathSegments) {
        return Status::InvalidArgument("a path needs 1 to " + std::to_string(kMaxPathSegments) +
                                       " segments, not " + std::to_string(segments.size()));
    }
    return JsonPath(std::move(segments));
}

std::string JsonPath::ToString() const {
    std::string out;
    for (std::size_t idx = 0; idx < segments_.size(); ++idx) {
        const std::string& segment = segments_[idx];
        if (idx > 0) {
            out.push_back('.');
        }
        // A leading unquoted "metadata." would be read back as the optional prefix, and a
        // leading '$' would make the path read as an operator when used as a filter key.
        const bool quote =
            NeedsQuotes(segment) ||
            (idx == 0 && ((segments_.size() > 1 && segment == "metadata") || segment[0] == '$'));
        if (!quote) {
            out += segment;
            continue;
        }
        out.push_back('"');
        for (char c : segment) {
            if (c == '"' || c == '\\') {
                out.push_back('\\');
            }
            out.push_back(c);
        }
        out.push_back('"');
    }
    return out;
}

}  // namespace phenix::document
