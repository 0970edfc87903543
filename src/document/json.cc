// SPDX-License-Identifier: Apache-2.0
#include "document/json.h"

#include <simdjson.h>

#include <nlohmann/json.hpp>

#include <phenix/limits.h>

namespace phenix::document {

namespace {

using json = nlohmann::ordered_json;

// Follows JSON text one character at a time and tells whether each character belongs to a
// string literal (its quotes included), honouring backslash escapes.
class StringTracker {
  public:
    bool InString(char c) {
        if (in_string_) {
            if (escaped_) {
                escaped_ = false;
            } else if (c == '\\') {
                escaped_ = true;
            } else if (c == '"') {
                in_string_ = false;
            }
            return true;
        }
        in_string_ = c == '"';
        return in_string_;
    }

  private:
    bool in_string_ = false;
    bool escaped_ = false;
};

// Parses without letting an exception escape; the message carries nlohmann's byte position.
Result<json> ParseJson(std::string_view text, std::string_view what) {
    if (int depth = JsonNestingDepth(text); depth > limits::kMaxJsonDepth) {
        return Status::InvalidArgument(std::string(what) + " is nested " + std::to_string(depth) +
                                       " levels deep; the limit is " +
                                       std::to_string(limits::kMaxJsonDepth));
    }
    try {
        return json::parse(text);
    } catch (const json::parse_error& e) {
        // e.what() reads "[json.exception.parse_error.101] parse error at line 1, column 5: ...".
        std::string detail = e.what();
        if (auto pos = detail.find("] "); pos != std::string::npos) {
            detail = detail.substr(pos + 2);
        }
        return Status::InvalidArgument(std::string(what) + " is not valid JSON: " + detail);
    } catch (const std::exception& e) {
        return Status::InvalidArgument(std::string(what) + " is not valid JSON: " + e.what());
    }
}

Result<std::string> Dump(const json& value, std::size_t max_bytes, std::string_view what) {
    std::string out;
    try {
        // Invalid UTF-8 inside strings is an input error, not something to store.
        out = value.dump(-1, ' ', false, json::error_handler_t::strict);
    } catch (const json::type_error& e) {
        return Status::InvalidArgument(std::string(what) + " contains invalid UTF-8");
    }
    if (out.size() > max_bytes) {
        return Status::InvalidArgument(std::string(what) + " is " + std::to_string(out.size()) +
                                       " bytes (minified); the limit is " +
                                       std::to_string(max_bytes) + " bytes");
    }
    return out;
}

const char* TypeName(const json& value) {
    return value.type_name();
}

}  // namespace

int JsonNestingDepth(std::string_view text) {
    int depth = 0;
    int max_depth = 0;
    StringTracker strings;
    for (char c : text) {
        if (strings.InString(c)) {
            continue;
        }
        if (c == '{' || c == '[') {
            max_depth = std::max(max_depth, ++depth);
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return max_depth;
}

namespace {

// The slow, thorough path: nlohmann parses (with line/column in errors) and re-serialises.
Result<std::string> NormalizeWithNlohmann(std::string_view text, std::size_t max_bytes,
                                          std::string_view what) {
    PHENIX_ASSIGN_OR_RETURN(json value, ParseJson(text, what));
    if (!value.is_object()) {
        return Status::InvalidArgument(std::string(what) + " must be a JSON object, not " +
                                       TypeName(value));
    }
    return Dump(value, max_bytes, what);
}

// One simdjson parser per thread, reused across calls: the parser keeps its buffers, so a
// small document costs no allocation. (A thread_local rather than a worker context because
// this runs on every caller's thread of the public API.)
simdjson::dom::parser& ThreadParser() {
    thread_local simdjson::dom::parser parser = [] {
        simdjson::dom::parser p;
        // Depth as JsonNestingDepth counts it: the root object is level 1.
        // If this fails, NormalizeJsonObject retries the allocation (and falls back if needed).
        [[maybe_unused]] auto error =
            p.allocate(4096, static_cast<std::size_t>(limits::kMaxJsonDepth));
        return p;
    }();
    return parser;
}

// Removes insignificant whitespace from JSON that is already known to be valid: one pass that
// copies everything inside strings and drops space, tab, CR and LF outside them. (Faster than
// simdjson::minify on the small documents metadata usually is.)
std::string MinifyValidJson(std::string_view text) {
    std::string out;
    out.resize(text.size());
    char* dst = out.data();
    StringTracker strings;
    for (char c : text) {
        if (!strings.InString(c) && (c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
            continue;
        }
        *dst++ = c;
    }
    out.resize(static_cast<std::size_t>(dst - out.data()));
    return out;
}

}  // namespace

Result<std::string> NormalizeJsonObject(std::string_view text, std::size_t max_bytes,
                                        std::string_view what) {
    if (text.empty()) {
        return std::string("{}");
    }
    // Fast path (the write path's hot spot): simdjson validates the whole document (syntax,
    // UTF-8, depth) at GB/s, then MinifyValidJson strips whitespace without re-encoding anything,
    // so key order, duplicate keys and number spellings are stored exactly as sent.
    simdjson::dom::parser& parser = ThreadParser();
    constexpr auto kDepth = static_cast<std::size_t>(limits::kMaxJsonDepth);
    bool ready = text.size() <= parser.capacity() && parser.max_depth() == kDepth;
    if (!ready) {
        // Grow explicitly so the depth limit survives (parse() would grow with the default depth).
        ready = parser.allocate(text.size(), kDepth) == simdjson::SUCCESS;
    }
    simdjson::dom::element root;
    if (ready && parser.parse(text.data(), text.size()).get(root) == simdjson::SUCCESS) {
        if (root.type() != simdjson::dom::element_type::OBJECT) {
            return NormalizeWithNlohmann(text, max_bytes, what);  // names the type in the error
        }
        std::string out = MinifyValidJson(text);
        if (out.size() > max_bytes) {
            return Status::InvalidArgument(std::string(what) + " is " + std::to_string(out.size()) +
                                           " bytes (minified); the limit is " +
                                           std::to_string(max_bytes) + " bytes");
        }
        return out;
    }
    // Invalid input (or something simdjson declines, such as integers beyond 64 bits): the
    // thorough path accepts what any JSON parser would and explains what is wrong, with position.
    return NormalizeWithNlohmann(text, max_bytes, what);
}

Result<std::string> ApplyMergePatch(std::string_view object_json, std::string_view patch_json,
                                    std::size_t max_bytes) {
    PHENIX_ASSIGN_OR_RETURN(json target,
                            ParseJson(object_json.empty() ? "{}" : object_json, "stored metadata"));
    PHENIX_ASSIGN_OR_RETURN(json patch, ParseJson(patch_json, "metadata patch"));
    if (!patch.is_object()) {
        return Status::InvalidArgument(std::string("metadata patch must be a JSON object, not ") +
                                       TypeName(patch));
    }
    target.merge_patch(patch);
    if (!target.is_object()) {
        return Status::Internal("merge patch produced a non-object");
    }
    return Dump(target, max_bytes, "patched metadata");
}

}  // namespace phenix::document
