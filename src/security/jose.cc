// SPDX-License-Identifier: Apache-2.0
#include "security/jose.h"

#include <array>
#include <cstdint>
#include <exception>
#include <set>
#include <vector>

namespace phenix::security::jose {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> MakeDecodeTable() {
    std::array<std::int8_t, 256> table{};
    for (auto& entry : table) {
        entry = -1;
    }
    for (std::size_t idx = 0; idx < kAlphabet.size(); ++idx) {
        table[static_cast<unsigned char>(kAlphabet[idx])] = static_cast<std::int8_t>(idx);
    }
    return table;
}
constexpr std::array<std::int8_t, 256> kDecodeTable = MakeDecodeTable();

}  // namespace

Result<std::string> Base64UrlDecode(std::string_view text) {
    if (text.size() % 4 == 1) {
        return Status::InvalidArgument("base64url text of impossible length " +
                                       std::to_string(text.size()));
    }
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t bits = 0;
    int num_bits = 0;
    for (std::size_t idx = 0; idx < text.size(); ++idx) {
        const auto c = static_cast<unsigned char>(text[idx]);
        const std::int8_t value = kDecodeTable[c];
        if (value < 0) {
            if (c == '=') {
                return Status::InvalidArgument("base64url padding '=' at offset " +
                                               std::to_string(idx) + " (JWS forbids padding)");
            }
            return Status::InvalidArgument("invalid base64url character at offset " +
                                           std::to_string(idx));
        }
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        num_bits += 6;
        if (num_bits >= 8) {
            num_bits -= 8;
            out.push_back(static_cast<char>((bits >> num_bits) & 0xFFu));
        }
    }
    if ((bits & ((1u << num_bits) - 1u)) != 0) {
        return Status::InvalidArgument("base64url text with non-zero trailing bits");
    }
    return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::uint32_t bits = 0;
    int num_bits = 0;
    for (const char ch : bytes) {
        bits = (bits << 8) | static_cast<unsigned char>(ch);
        num_bits += 8;
        while (num_bits >= 6) {
            num_bits -= 6;
            out.push_back(kAlphabet[(bits >> num_bits) & 0x3Fu]);
        }
    }
    if (num_bits > 0) {
        out.push_back(kAlphabet[(bits << (6 - num_bits)) & 0x3Fu]);
    }
    return out;
}

Result<nlohmann::json> ParseStrictJson(std::string_view text) {
    using nlohmann::json;
    // One set of keys per open object; a parse callback sees every key before its value.
    std::vector<std::set<std::string>> open_objects;
    std::string problem;
    const json::parser_callback_t callback = [&](int depth, json::parse_event_t event,
                                                 json& parsed) {
        switch (event) {
            case json::parse_event_t::object_start:
                open_objects.emplace_back();
                [[fallthrough]];
            case json::parse_event_t::array_start:
                if (depth >= kMaxJsonDepth && problem.empty()) {
                    problem = "JSON nested deeper than " + std::to_string(kMaxJsonDepth);
                }
                break;
            case json::parse_event_t::object_end:
                if (!open_objects.empty()) {
                    open_objects.pop_back();
                }
                break;
            case json::parse_event_t::key:
                if (!open_objects.empty() && parsed.is_string() &&
                    !open_objects.back().insert(parsed.get_ref<const std::string&>()).second &&
                    problem.empty()) {
                    problem = "duplicate JSON key \"" + parsed.get_ref<const std::string&>() + "\"";
                }
                break;
            default:
                break;
        }
        return true;
    };
    try {
        json value = json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
        if (value.is_discarded()) {
            return Status::InvalidArgument("malformed JSON");
        }
        if (!problem.empty()) {
            return Status::InvalidArgument(problem);
        }
        return value;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        return Status::InvalidArgument(std::string("malformed JSON: ") + e.what());
    }
}

}  // namespace phenix::security::jose
