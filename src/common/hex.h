// SPDX-License-Identifier: Apache-2.0
//
// Hexadecimal text of bytes: what key files, the security catalog, API keys, digests and
// diagnostics print bytes as. Encode writes lowercase; Decode reads either case.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace phenix::hex {

/// Two lowercase hex digits per byte of `bytes`.
std::string Encode(std::string_view bytes);

/// The bytes `text` spells; nullopt for an odd length or a character that is not a hex digit.
std::optional<std::string> Decode(std::string_view text);

}  // namespace phenix::hex
