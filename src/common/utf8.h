// SPDX-License-Identifier: Apache-2.0
// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
#pragma once

#include <string_view>

namespace phenix {

[[nodiscard]] bool IsValidUtf8(std::string_view s);
/// True if `s` contains an ASCII control character (U+0000..U+001F or U+007F).
[[nodiscard]] bool HasControlCharacter(std::string_view s);

}  // namespace phenix
