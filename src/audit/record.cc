// SPDX-License-Identifier: Apache-2.0
#include "audit/record.h"

#include <array>
#include <charconv>
#include <ctime>

#include "security/digest.h"

namespace phenix::audit {
namespace {

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
