// SPDX-License-Identifier: Apache-2.0
#include "common/json_string.h"

namespace phenix {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

}  // namespace

std::size_t Utf8SequenceLength(std::string_view text) {
    if (text.empty()) {
        return 0;
    }
    const auto byte = [&](std::size_t idx) { return static_cast<unsigned char>(text[idx]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    unsigned char min_second = 0x80;
    unsigned char max_second = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) {
            min_second = 0xA0;  // overlong
        } else if (lead == 0xED) {
            max_second = 0x9F;  // surrogates
        }
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) {
            min_second = 0x90;  // overlong
        } else if (lead == 0xF4) {
            max_second = 0x8F;  // above U+10FFFF
        }
    } else {
        return 0;
    }
    if (text.size() < length || byte(1) < min_second || byte(1) > max_second) {
        return 0;
    }
    for (std::size_t idx = 2; idx < length; ++idx) {
        if (byte(idx) < 0x80 || byte(idx) > 0xBF) {
            return 0;
        }
    }
    return length;
}

void AppendJsonString(std::string& out, std::string_view text) {
    out.reserve(out.size() + text.size() + 2);
    out += '"';
    std::size_t pos = 0;
    while (pos < text.size()) {
        // The longest run that is copied as it is (printable ASCII but '"' and '\\'), in one
        // append: ids, names and hex make up most of what servers and logs quote.
        std::size_t end = pos;
        while (end < text.size()) {
            const auto c = static_cast<unsigned char>(text[end]);
            if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
                break;
            }
            ++end;
        }
        if (end > pos) {
            out.append(text.data() + pos, end - pos);
            pos = end;
            continue;
        }
        const auto ch = static_cast<unsigned char>(text[pos]);
        if (ch < 0x80) {
            if (ch == '"' || ch == '\\') {
                out += '\\';
                out += static_cast<char>(ch);
            } else if (ch == '\n') {
                out += "\\n";
            } else if (ch == '\r') {
                out += "\\r";
            } else if (ch == '\t') {
                out += "\\t";
            } else if (ch < 0x20 || ch == 0x7F) {
                out += "\\u00";
                out += kHexDigits[ch >> 4];
                out += kHexDigits[ch & 0xF];
            } else {
                out += static_cast<char>(ch);
            }
            ++pos;
            continue;
        }
        const std::size_t length = Utf8SequenceLength(text.substr(pos));
        if (length == 0) {
            out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER, one per bad byte
            ++pos;
        } else {
            out.append(text.substr(pos, length));
            pos += length;
        }
    }
    out += '"';
}

std::string JsonQuote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    AppendJsonString(out, text);
    return out;
}

}  // namespace phenix
