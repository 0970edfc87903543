// SPDX-License-Identifier: Apache-2.0
#include "audit/record.h"

#include <array>
#include <charconv>
#include <ctime>

#include "security/digest.h"

namespace phenix::audit {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// The length of the valid UTF-8 sequence that starts `text` (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when its first byte does not begin one.
std::size_t Utf8SequenceLength(std::string_view text) {
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

bool IsHex64(std::string_view text) {
    if (text.size() != 64) {
        return false;
    }
    for (char ch : text) {
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
            return false;
        }
    }
    return true;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
    out += '"';
    std::size_t pos = 0;
    while (pos < text.size()) {
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

std::string FormatTime(std::chrono::system_clock::time_point time) {
    const auto since_epoch =
        std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
    auto seconds = since_epoch / 1000;
    auto millis = since_epoch % 1000;
    if (millis < 0) {
        millis += 1000;
        seconds -= 1;
    }
    const auto seconds_t = static_cast<std::time_t>(seconds);
    std::tm utc{};
    gmtime_r(&seconds_t, &utc);
    std::array<char, 40> buffer{};
    const std::size_t written =
        std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%S", &utc);
    std::string out(buffer.data(), written);
    out += '.';
    out += static_cast<char>('0' + millis / 100);
    out += static_cast<char>('0' + (millis / 10) % 10);
    out += static_cast<char>('0' + millis % 10);
    out += 'Z';
    return out;
}

std::string Sha256Hex(std::string_view bytes) {
    return security::Sha256Hex(bytes);
}

FormattedRecord FormatRecord(std::uint64_t seq, const security::AuditEvent& event,
                             std::string_view prev_hash) {
    std::string line = "{\"seq\":" + std::to_string(seq) + ",\"time\":";
    AppendJsonString(line, FormatTime(event.time));
    const std::pair<std::string_view, const std::string*> fields[] = {
        {"principal", &event.principal},   {"tenant", &event.tenant},   {"action", &event.action},
        {"target", &event.target},         {"outcome", &event.outcome}, {"reason", &event.reason},
        {"request_id", &event.request_id}, {"client", &event.client},
    };
    for (const auto& [name, value] : fields) {
        line += ",\"";
        line += name;
        line += "\":";
        AppendJsonString(line, *value);
    }
    line += ",\"prev\":\"";
    line += prev_hash;
    line += "\"}";
    FormattedRecord record{.line = std::move(line), .hash = ""};
    record.hash = Sha256Hex(record.line);
    record.line.pop_back();  // the body's '}' becomes the hash member and the closing '}'
    record.line += ",\"hash\":\"" + record.hash + "\"}";
    return record;
}

std::optional<ChainFields> ReadChainFields(std::string_view line) {
    constexpr std::string_view kSeqPrefix = "{\"seq\":";
    constexpr std::string_view kPrevKey = ",\"prev\":\"";
    constexpr std::string_view kHashKey = "\",\"hash\":\"";
    constexpr std::string_view kEnd = "\"}";
    // ,"prev":"<64>","hash":"<64>"}
    constexpr std::size_t kTail = kPrevKey.size() + 64 + kHashKey.size() + 64 + kEnd.size();
    if (!line.starts_with(kSeqPrefix) || line.size() < kSeqPrefix.size() + kTail) {
        return std::nullopt;
    }
    const std::string_view tail = line.substr(line.size() - kTail);
    if (!tail.starts_with(kPrevKey) || !tail.ends_with(kEnd) ||
        tail.substr(kPrevKey.size() + 64, kHashKey.size()) != kHashKey) {
        return std::nullopt;
    }
    ChainFields fields;
    fields.prev = std::string(tail.substr(kPrevKey.size(), 64));
    fields.hash = std::string(tail.substr(kPrevKey.size() + 64 + kHashKey.size(), 64));
    if (!IsHex64(fields.prev) || !IsHex64(fields.hash)) {
        return std::nullopt;
    }
    const char* seq_begin = line.data() + kSeqPrefix.size();
    const char* line_end = line.data() + line.size();
    const auto [seq_end, error] = std::from_chars(seq_begin, line_end, fields.seq);
    if (error != std::errc() || seq_end == seq_begin || seq_end == line_end || *seq_end != ',' ||
        (*seq_begin == '0' && seq_end - seq_begin > 1)) {
        return std::nullopt;
    }
    // The body: the line up to the end of "prev":"<64>" plus '}'.
    std::string body(line.substr(0, line.size() - kHashKey.size() - 64 - kEnd.size() + 1));
    body += '}';
    fields.hash_matches = Sha256Hex(body) == fields.hash;
    return fields;
}

}  // namespace phenix::audit
