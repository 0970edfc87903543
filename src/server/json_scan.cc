// SPDX-License-Identifier: Apache-2.0
#include "server/json_scan.h"

#include <cstddef>

namespace phenix::server {
namespace {

class Scanner {
  public:
    explicit Scanner(std::string_view text) : text_(text) {}

    std::optional<ScannedObject> TopLevel(std::initializer_list<std::string_view> keys) {
        SkipSpace();
        if (!Peek('{')) {
            return std::nullopt;
        }
        ++pos_;
        ScannedObject out;
        SkipSpace();
        if (Peek('}')) {
            ++pos_;
            out.empty = true;
        } else {
            while (true) {
                std::string_view key;
                if (!String(&key)) {
                    return std::nullopt;
                }
                for (std::string_view wanted : keys) {
                    out.has_key = out.has_key || key == wanted;
                }
                SkipSpace();
                if (!Peek(':')) {
                    return std::nullopt;
                }
                ++pos_;
                SkipSpace();
                if (!Value(1)) {
                    return std::nullopt;
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

    bool Number() {
        if (Peek('-')) {
            ++pos_;
        }
        if (Peek('0')) {
            ++pos_;
        } else if (!Digits()) {
            return false;
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

    // A container's members: `close` ends it; objects have "key": before each value.
    bool Members(char close, bool keyed, int depth) {
        ++pos_;  // the opening bracket
        SkipSpace();
        if (Peek(close)) {
            ++pos_;
            return true;
        }
        while (true) {
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
            if (!Value(depth + 1)) {
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

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

std::optional<ScannedObject> ScanObjectKeys(std::string_view text,
                                            std::initializer_list<std::string_view> keys) {
    return Scanner(text).TopLevel(keys);
}

}  // namespace phenix::server
