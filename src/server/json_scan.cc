// SPDX-License-Identifier: Apache-2.0
#include "server/json_scan.h"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <system_error>

namespace phenix::server {
namespace {

// The JSON query form's limits (query/json_query.cc): a value outside them is its error to word.
constexpr std::uint32_t kMaxK = 10000;
constexpr std::uint32_t kMaxEf = 100000;

class Scanner {
  public:
    explicit Scanner(std::string_view text) : text_(text) {}

    std::optional<ScannedSearch> TopLevel() {
        SkipSpace();
        if (!Peek('{')) {
            return std::nullopt;
        }
        ++pos_;
        ScannedSearch out;
        SimpleSearch simple;
        bool is_simple = true;  // every member so far belongs to the usual search
        SkipSpace();
        if (Peek('}')) {
            ++pos_;
            out.empty = true;
            is_simple = false;  // no "vector"
        } else {
            while (true) {
                std::string_view key;
                if (!String(&key)) {
                    return std::nullopt;
                }
                out.names_collection_or_explain =
                    out.names_collection_or_explain || key == "collection" || key == "explain";
                SkipSpace();
                if (!Peek(':')) {
                    return std::nullopt;
                }
                ++pos_;
                SkipSpace();
                if (is_simple && key == "vector" && simple.vector.empty()) {
                    // Checked and decoded in one pass: the query vector is most of the body.
                    if (!VectorValue(simple.vector)) {
                        return std::nullopt;
                    }
                    is_simple = !simple.vector.empty();
                } else {
                    const std::size_t value_start = pos_;
                    if (!Value(1)) {
                        return std::nullopt;
                    }
                    if (is_simple) {
                        is_simple =
                            Decode(key, text_.substr(value_start, pos_ - value_start), simple);
                    }
                }
                SkipSpace();
                if (Peek(',')) {
                    ++pos_;
                    SkipSpace();
                    continue;
                }
                if (!Peek('}')) {
                    return std::nullopt;
                }
                ++pos_;
                break;
            }
        }
        SkipSpace();
        if (pos_ != text_.size()) {
            return std::nullopt;
        }
        if (is_simple && !simple.vector.empty()) {
            out.simple = std::move(simple);
        }
        return out;
    }

  private:
    [[nodiscard]] bool Peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

    [[nodiscard]] bool IsDigit() const {
        return pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9';
    }

    void SkipSpace() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                       text_[pos_] == '\n' || text_[pos_] == '\r')) {
            ++pos_;
        }
    }

    // A string at pos_; `raw` (when given) gets its text between the quotes, and a string with
    // an escape then fails (a key is compared as written).
    bool String(std::string_view* raw) {
        if (!Peek('"')) {
            return false;
        }
        const std::size_t start = ++pos_;
        while (pos_ < text_.size()) {
            const auto c = static_cast<unsigned char>(text_[pos_]);
            if (c == '"') {
                if (raw != nullptr) {
                    *raw = text_.substr(start, pos_ - start);
                }
                ++pos_;
                return true;
            }
            if (c < 0x20 || c >= 0x80) {
                return false;  // control character (invalid), or UTF-8 left to the full parser
            }
            if (c == '\\') {
                if (raw != nullptr || ++pos_ >= text_.size()) {
                    return false;
                }
                const char escape = text_[pos_];
                if (escape == 'u') {
                    for (int digit = 0; digit < 4; ++digit) {
                        if (++pos_ >= text_.size() || !IsHex(text_[pos_])) {
                            return false;
                        }
                    }
                } else if (std::string_view("\"\\/bfnrt").find(escape) == std::string_view::npos) {
                    return false;
                }
            }
            ++pos_;
        }
        return false;
    }

    static bool IsHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    bool Digits() {
        if (!IsDigit()) {
            return false;
        }
        while (IsDigit()) {
            ++pos_;
        }
        return true;
    }

    // A number at pos_; `integral` (when given) is cleared when it has a fraction or exponent.
    bool Number(bool* integral = nullptr) {
        if (Peek('-')) {
            ++pos_;
        }
        if (Peek('0')) {
            ++pos_;
        } else if (!Digits()) {
            return false;
        }
        if (integral != nullptr && (Peek('.') || Peek('e') || Peek('E'))) {
            *integral = false;
        }
        if (Peek('.')) {
            ++pos_;
            if (!Digits()) {
                return false;
            }
        }
        if (Peek('e') || Peek('E')) {
            ++pos_;
            if (Peek('+') || Peek('-')) {
                ++pos_;
            }
            if (!Digits()) {
                return false;
            }
        }
        return true;
    }

    bool Literal(std::string_view word) {
        if (text_.substr(pos_, word.size()) != word) {
            return false;
        }
        pos_ += word.size();
        return true;
    }

    // The rest of a container after its opening bracket: `element()` reads one element (false
    // when it is malformed); elements are separated by commas, and `close` ends the container.
    template <typename Element>
    bool Elements(char close, Element element) {
        SkipSpace();
        if (Peek(close)) {
            ++pos_;
            return true;
        }
        while (true) {
            if (!element()) {
                return false;
            }
            SkipSpace();
            if (Peek(',')) {
                ++pos_;
                SkipSpace();
                continue;
            }
            if (!Peek(close)) {
                return false;
            }
            ++pos_;
            return true;
        }
    }

    // A container's members: `close` ends it; objects have "key": before each value.
    bool Members(char close, bool keyed, int depth) {
        ++pos_;  // the opening bracket
        return Elements(close, [&] {
            if (keyed) {
                if (!String(nullptr)) {
                    return false;
                }
                SkipSpace();
                if (!Peek(':')) {
                    return false;
                }
                ++pos_;
                SkipSpace();
            }
            return Value(depth + 1);
        });
    }

    bool Value(int depth) {
        if (depth > kMaxScanDepth || pos_ >= text_.size()) {
            return false;
        }
        switch (text_[pos_]) {
            case '{':
                return Members('}', /*keyed=*/true, depth);
            case '[':
                return Members(']', /*keyed=*/false, depth);
            case '"':
                return String(nullptr);
            case 't':
                return Literal("true");
            case 'f':
                return Literal("false");
            case 'n':
                return Literal("null");
            default:
                return Number();
        }
    }

    // The value of the top-level "vector" at pos_, checked as Value(1) checks it (false when it
    // is malformed) and decoded into `out` when it is a non-empty array of numbers, each
    // converted as the JSON form does: to double (correctly rounded, as nlohmann's parser does),
    // then to float; an integer's -0 is 0 (nlohmann reads integers as integers). `out` is left
    // empty when the value is anything else (another array, a number out of float's range).
    bool VectorValue(std::vector<float>& out) {
        if (!Peek('[')) {
            return Value(1);
        }
        ++pos_;
        out.reserve(text_.size() / 8);
        bool decoded = true;  // every element so far is a number in float's range
        const bool well_formed = Elements(']', [&] {
            if (!decoded || pos_ >= text_.size() || (text_[pos_] != '-' && !IsDigit())) {
                decoded = false;  // an element that is not a number (or one was out of range)
                return Value(2);
            }
            const std::size_t start = pos_;
            bool integral = true;
            if (!Number(&integral)) {
                return false;
            }
            double number = 0;
            const auto [end, ec] =
                std::from_chars(text_.data() + start, text_.data() + pos_, number);
            const auto element = static_cast<float>(number);
            if (ec != std::errc() || end != text_.data() + pos_ || !std::isfinite(element)) {
                decoded = false;
            } else {
                out.push_back(integral && element == 0 ? 0.0F : element);
            }
            return true;
        });
        if (!decoded) {
            out.clear();
        }
        return well_formed;
    }

    // Decodes the (well-formed) value of a top-level member other than a first "vector" into
    // `simple`; false when the member is not one of the usual search's, is repeated, or its
    // value is not what it takes.
    static bool Decode(std::string_view key, std::string_view value, SimpleSearch& simple) {
        if (key == "vector") {
            return false;  // a second "vector" (the first went to VectorValue)
        }
        if (key == "k") {
            return !simple.k.has_value() && DecodeCount(value, kMaxK, simple.k);
        }
        if (key == "ef") {
            return !simple.ef.has_value() && DecodeCount(value, kMaxEf, simple.ef);
        }
        if (key == "collection") {
            // A string without escapes (an escaped one is compared after the full parse).
            if (simple.collection.has_value() || value.size() < 2 || value.front() != '"' ||
                value.find('\\') != std::string_view::npos) {
                return false;
            }
            simple.collection = value.substr(1, value.size() - 2);
            return true;
        }
        return false;
    }

    // A plain integer (no sign, fraction or exponent) in 1..max.
    static bool DecodeCount(std::string_view value, std::uint32_t max,
                            std::optional<std::uint32_t>& out) {
        std::uint32_t number = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
        if (ec != std::errc() || end != value.data() + value.size() || number < 1 || number > max) {
            return false;
        }
        out = number;
        return true;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

std::optional<ScannedSearch> ScanSearchBody(std::string_view text) {
    return Scanner(text).TopLevel();
}

}  // namespace phenix::server
