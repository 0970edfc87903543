// SPDX-License-Identifier: Apache-2.0
// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <string_view>

namespace phenix {

[[nodiscard]] bool IsValidUtf8(std::string_view s);
/// The offset of the first byte of `s` that does not begin a valid UTF-8 sequence, or
/// std::string_view::npos when `s` is valid UTF-8.
[[nodiscard]] std::size_t FindInvalidUtf8(std::string_view s);
/// True if `s` contains an ASCII control character (U+0000..U+001F or U+007F).
[[nodiscard]] bool HasControlCharacter(std::string_view s);

}  // namespace phenix
