// SPDX-License-Identifier: Apache-2.0
#include "common/utf8.h"

#include <cstdint>

namespace phenix {

bool IsValidUtf8(std::string_view s) {
    return FindInvalidUtf8(s) == std::string_view::npos;
}

std::size_t FindInvalidUtf8(std::string_view s) {
    std::size_t pos = 0;
    const std::size_t n = s.size();
    while (pos < n) {
        auto c = static_cast<std::uint8_t>(s[pos]);
        if (c < 0x80) {
            ++pos;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        std::uint32_t min_cp = 0;
        if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1fu;
            min_cp = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0fu;
            min_cp = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07u;
            min_cp = 0x10000;
        } else {
            return pos;
        }
        if (n - pos < len) {
            return pos;
        }
        for (std::size_t k = 1; k < len; ++k) {
            auto cc = static_cast<std::uint8_t>(s[pos + k]);
            if ((cc & 0xc0) != 0x80) {
                return pos;
            }
            cp = (cp << 6) | (cc & 0x3fu);
        }
        if (cp < min_cp || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return pos;
        }
        pos += len;
    }
    return std::string_view::npos;
}

bool HasControlCharacter(std::string_view s) {
    for (char ch : s) {
        auto c = static_cast<std::uint8_t>(ch);
        if (c < 0x20 || c == 0x7f) {
            return true;
        }
    }
    return false;
}

}  // namespace phenix
