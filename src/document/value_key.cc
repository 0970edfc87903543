// SPDX-License-Identifier: Apache-2.0
#include "document/value_key.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "common/coding.h"

namespace phenix::document {
namespace {

constexpr std::uint64_t kSignBit = std::uint64_t{1} << 63;
constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;
constexpr std::int64_t kMicrosPerDay = kMicrosPerSecond * kSecondsPerDay;

// -0.0 and +0.0 are one value, and every NaN is the same (canonical, positive) NaN, so that the
// encoding, and therefore the order, is a function of the numeric value alone.
double NormalizeNumber(double d) {
    if (d == 0) {
        return 0.0;
    }
    if (std::isnan(d)) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    return d;
}

// The IEEE-754 bits transformed so that unsigned comparison follows numeric order.
std::uint64_t NumberToOrderedBits(double d) {
    auto bits = std::bit_cast<std::uint64_t>(NormalizeNumber(d));
    return (bits & kSignBit) != 0 ? ~bits : bits ^ kSignBit;
}

double OrderedBitsToNumber(std::uint64_t key) {
    std::uint64_t bits = (key & kSignBit) != 0 ? key ^ kSignBit : ~key;
    return NormalizeNumber(std::bit_cast<double>(bits));
}

std::uint64_t TimestampToOrderedBits(std::int64_t micros) {
    return static_cast<std::uint64_t>(micros) ^ kSignBit;
}

std::int64_t OrderedBitsToTimestamp(std::uint64_t key) {
    return static_cast<std::int64_t>(key ^ kSignBit);
}

int BracketOf(ValueType type) {
    return type == ValueType::kTrue ? static_cast<int>(ValueType::kFalse) : static_cast<int>(type);
}

template <typename T>
int ThreeWay(const T& a, const T& b) {
    return a < b ? -1 : (b < a ? 1 : 0);
}

bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}

// Reads `count` digits at text[pos...]; false if any is not a digit. The caller checked length.
bool ReadDigits(std::string_view text, std::size_t pos, std::size_t count, int* value) {
    int v = 0;
    for (std::size_t idx = pos; idx < pos + count; ++idx) {
        if (!IsDigit(text[idx])) {
            return false;
        }
        v = v * 10 + (text[idx] - '0');
    }
    *value = v;
    return true;
}

bool IsLeapYear(int year) {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int year, int month) {
    static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t DaysFromCivil(std::int64_t year, int month, int day) {
    year -= month <= 2 ? 1 : 0;
    const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
    const std::int64_t yoe = year - era * 400;
    const std::int64_t mp = month > 2 ? month - 3 : month + 9;
    const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct CivilDate {
    std::int64_t year;
    int month;
    int day;
};

CivilDate CivilFromDays(std::int64_t days) {
    days += 719468;
    const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const std::int64_t doe = days - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const auto day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    const auto month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

void AppendPadded(std::int64_t value, int width, std::string* out) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
    for (auto len = end - buf; len < width; ++len) {
        out->push_back('0');
    }
    out->append(buf, end);
}

}  // namespace

std::string_view ValueTypeName(ValueType type) {
    switch (type) {
        case ValueType::kNull:
            return "null";
        case ValueType::kFalse:
        case ValueType::kTrue:
            return "boolean";
        case ValueType::kNumber:
            return "number";
        case ValueType::kTimestamp:
            return "timestamp";
        case ValueType::kString:
            return "string";
    }
    return "unknown";
}

Scalar Scalar::Bool(bool b) {
    Scalar s;
    s.type = b ? ValueType::kTrue : ValueType::kFalse;
    return s;
}

Scalar Scalar::Number(double d) {
    Scalar s;
    s.type = ValueType::kNumber;
    s.number = NormalizeNumber(d);
    return s;
}

Scalar Scalar::String(std::string str) {
    Scalar s;
    if (auto micros = ParseTimestamp(str)) {
        s.type = ValueType::kTimestamp;
        s.micros = *micros;
    } else {
        s.type = ValueType::kString;
    }
    s.text = std::move(str);
    return s;
}

Scalar Scalar::PlainString(std::string str) {
    Scalar s;
    s.type = ValueType::kString;
    s.text = std::move(str);
    return s;
}

Scalar Scalar::Timestamp(std::int64_t micros) {
    Scalar s;
    s.type = ValueType::kTimestamp;
    s.micros = micros;
    s.text = FormatTimestamp(micros);
    return s;
}

bool operator==(const Scalar& a, const Scalar& b) {
    return CompareScalars(a, b) == 0;
}

int CompareScalars(ScalarView a, ScalarView b) {
    if (a.type != b.type) {
        return ThreeWay(static_cast<int>(a.type), static_cast<int>(b.type));
    }
    switch (a.type) {
        case ValueType::kNumber:
            return ThreeWay(NumberToOrderedBits(a.number), NumberToOrderedBits(b.number));
        case ValueType::kTimestamp:
            return ThreeWay(a.micros, b.micros);
        case ValueType::kString: {
            int c = a.text.compare(b.text);  // char_traits<char> compares as unsigned char
            return c < 0 ? -1 : (c > 0 ? 1 : 0);
        }
        case ValueType::kNull:
        case ValueType::kFalse:
        case ValueType::kTrue:
            return 0;
    }
    return 0;
}

bool SameBracket(ValueType a, ValueType b) {
    return BracketOf(a) == BracketOf(b);
}

void AppendScalarKey(ScalarView v, std::string* out) {
    out->push_back(static_cast<char>(v.type));
    switch (v.type) {
        case ValueType::kNumber:
            coding::PutFixed64BE(*out, NumberToOrderedBits(v.number));
            break;
        case ValueType::kTimestamp:
            coding::PutFixed64BE(*out, TimestampToOrderedBits(v.micros));
            break;
        case ValueType::kString: {
            // Copy runs between NULs in one append each; most strings have no NUL at all.
            std::string_view rest = v.text;
            for (auto nul = rest.find('\0'); nul != std::string_view::npos; nul = rest.find('\0')) {
                out->append(rest.data(), nul);
                out->append("\0\xff", 2);
                rest.remove_prefix(nul + 1);
            }
            out->append(rest);
            out->append("\0\x01", 2);
            break;
        }
        case ValueType::kNull:
        case ValueType::kFalse:
        case ValueType::kTrue:
            break;
    }
}

std::string EncodeScalarKey(ScalarView v) {
    std::string out;
    AppendScalarKey(v, &out);
    return out;
}

Result<Scalar> DecodeScalarKey(std::string_view* in) {
    std::string_view data = *in;
    if (data.empty()) {
        return Status::Corruption("scalar key: empty");
    }
    const auto type = static_cast<ValueType>(static_cast<std::uint8_t>(data[0]));
    data.remove_prefix(1);
    Scalar out;
    switch (type) {
        case ValueType::kNull:
        case ValueType::kFalse:
        case ValueType::kTrue:
            out.type = type;
            break;
        case ValueType::kNumber:
        case ValueType::kTimestamp: {
            if (data.size() < 8) {
                return Status::Corruption("scalar key: truncated " +
                                          std::string(ValueTypeName(type)));
            }
            std::uint64_t bits = coding::DecodeFixed64BE(data.data());
            data.remove_prefix(8);
            out = type == ValueType::kNumber ? Scalar::Number(OrderedBitsToNumber(bits))
                                             : Scalar::Timestamp(OrderedBitsToTimestamp(bits));
            break;
        }
        case ValueType::kString: {
            std::string text;
            while (true) {
                auto nul = data.find('\0');
                if (nul == std::string_view::npos || nul + 1 >= data.size()) {
                    return Status::Corruption("scalar key: unterminated string");
                }
                text.append(data.data(), nul);
                const auto marker = static_cast<std::uint8_t>(data[nul + 1]);
                data.remove_prefix(nul + 2);
                if (marker == 0x01) {
                    break;
                }
                if (marker != 0xff) {
                    return Status::Corruption("scalar key: bad escape in string");
                }
                text.push_back('\0');
            }
            out = Scalar::PlainString(std::move(text));
            break;
        }
        default: {
            const auto byte = static_cast<unsigned>(static_cast<std::uint8_t>((*in)[0]));
            static constexpr char kHex[] = "0123456789abcdef";
            return Status::Corruption(std::string("scalar key: unknown type byte 0x") +
                                      kHex[byte >> 4] + kHex[byte & 0xf]);
        }
    }
    *in = data;
    return out;
}

KeyRange BracketKeyRange(ValueType type) {
    switch (type) {
        case ValueType::kFalse:
        case ValueType::kTrue:
            return {std::string(1, static_cast<char>(ValueType::kFalse)),
                    std::string(1, static_cast<char>(static_cast<int>(ValueType::kTrue) + 1))};
        case ValueType::kNull:
        case ValueType::kNumber:
        case ValueType::kTimestamp:
        case ValueType::kString:
            break;
    }
    return {std::string(1, static_cast<char>(type)),
            std::string(1, static_cast<char>(static_cast<int>(type) + 1))};
}

std::optional<std::int64_t> ParseTimestamp(std::string_view text) {
    // Cheap rejection first: this runs on every string of every indexed document.
    if (text.size() < 10 || !IsDigit(text[0]) || text[4] != '-') {
        return std::nullopt;
    }
    int year = 0;
    int month = 0;
    int day = 0;
    if (!ReadDigits(text, 0, 4, &year) || text[7] != '-' || !ReadDigits(text, 5, 2, &month) ||
        !ReadDigits(text, 8, 2, &day)) {
        return std::nullopt;
    }
    if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) {
        return std::nullopt;
    }
    const std::int64_t days = DaysFromCivil(year, month, day);
    if (text.size() == 10) {
        return days * kMicrosPerDay;
    }
    // Time part: "THH:MM:SS" is 9 more characters, and a zone (at least "Z") must follow.
    const char sep = text[10];
    if ((sep != 'T' && sep != 't' && sep != ' ') || text.size() < 20) {
        return std::nullopt;
    }
    int hour = 0;
    int minute = 0;
    int second = 0;
    if (!ReadDigits(text, 11, 2, &hour) || text[13] != ':' || !ReadDigits(text, 14, 2, &minute) ||
        text[16] != ':' || !ReadDigits(text, 17, 2, &second)) {
        return std::nullopt;
    }
    if (hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    std::int64_t fraction_micros = 0;
    if (text[pos] == '.') {
        ++pos;
        const std::size_t start = pos;
        while (pos < text.size() && IsDigit(text[pos])) {
            if (pos - start < 6) {
                fraction_micros = fraction_micros * 10 + (text[pos] - '0');
            }
            ++pos;
        }
        const std::size_t num_digits = pos - start;
        if (num_digits == 0 || num_digits > 9) {
            return std::nullopt;
        }
        for (std::size_t idx = num_digits; idx < 6; ++idx) {
            fraction_micros *= 10;
        }
    }
    if (pos >= text.size()) {
        return std::nullopt;
    }
    std::int64_t offset_seconds = 0;
    const char zone = text[pos];
    if (zone == 'Z' || zone == 'z') {
        ++pos;
    } else if (zone == '+' || zone == '-') {
        int offset_hours = 0;
        int offset_minutes = 0;
        if (text.size() - pos != 6 || !ReadDigits(text, pos + 1, 2, &offset_hours) ||
            text[pos + 3] != ':' || !ReadDigits(text, pos + 4, 2, &offset_minutes) ||
            offset_hours > 23 || offset_minutes > 59) {
            return std::nullopt;
        }
        offset_seconds = (offset_hours * 60 + offset_minutes) * 60;
        if (zone == '-') {
            offset_seconds = -offset_seconds;
        }
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != text.size()) {
        return std::nullopt;
    }
    const std::int64_t seconds =
        days * kSecondsPerDay + hour * 3600 + minute * 60 + second - offset_seconds;
    return seconds * kMicrosPerSecond + fraction_micros;
}

std::string FormatTimestamp(std::int64_t micros) {
    std::int64_t days = micros / kMicrosPerDay;
    std::int64_t rest = micros % kMicrosPerDay;
    if (rest < 0) {
        --days;
        rest += kMicrosPerDay;
    }
    const CivilDate date = CivilFromDays(days);
    const std::int64_t seconds_of_day = rest / kMicrosPerSecond;
    const std::int64_t sub_micros = rest % kMicrosPerSecond;
    std::string out;
    out.reserve(32);
    if (date.year < 0) {
        out.push_back('-');
    }
    AppendPadded(date.year < 0 ? -date.year : date.year, 4, &out);
    out.push_back('-');
    AppendPadded(date.month, 2, &out);
    out.push_back('-');
    AppendPadded(date.day, 2, &out);
    out.push_back('T');
    AppendPadded(seconds_of_day / 3600, 2, &out);
    out.push_back(':');
    AppendPadded(seconds_of_day / 60 % 60, 2, &out);
    out.push_back(':');
    AppendPadded(seconds_of_day % 60, 2, &out);
    if (sub_micros != 0) {
        out.push_back('.');
        AppendPadded(sub_micros, 6, &out);
    }
    out.push_back('Z');
    return out;
}

void AppendJsonString(std::string_view s, std::string* out) {
    static constexpr char kHex[] = "0123456789abcdef";
    out->push_back('"');
    for (char c : s) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out->append("\\\"");
                break;
            case '\\':
                out->append("\\\\");
                break;
            case '\n':
                out->append("\\n");
                break;
            case '\r':
                out->append("\\r");
                break;
            case '\t':
                out->append("\\t");
                break;
            case '\b':
                out->append("\\b");
                break;
            case '\f':
                out->append("\\f");
                break;
            default:
                if (byte < 0x20) {
                    out->append("\\u00");
                    out->push_back(kHex[byte >> 4]);
                    out->push_back(kHex[byte & 0xf]);
                } else {
                    out->push_back(c);
                }
        }
    }
    out->push_back('"');
}

std::string ScalarToJson(ScalarView v) {
    switch (v.type) {
        case ValueType::kNull:
            return "null";
        case ValueType::kFalse:
            return "false";
        case ValueType::kTrue:
            return "true";
        case ValueType::kNumber: {
            if (std::isnan(v.number)) {
                return "null";
            }
            if (std::isinf(v.number)) {
                return v.number > 0 ? "1e999" : "-1e999";
            }
            char buf[32];
            auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), NormalizeNumber(v.number));
            return std::string(buf, end);
        }
        case ValueType::kTimestamp: {
            std::string out;
            AppendJsonString(v.text.empty() ? FormatTimestamp(v.micros) : v.text, &out);
            return out;
        }
        case ValueType::kString: {
            std::string out;
            AppendJsonString(v.text, &out);
            return out;
        }
    }
    return "null";
}

}  // namespace phenix::document
