// SPDX-License-Identifier: Apache-2.0
//
// The strict JOSE building blocks the JWT verifier (jwt.h) and the JWKS loader (jwks.h) share:
// base64url without padding (RFC 7515 §2) and a JSON parser that refuses what nlohmann's default
// parser silently accepts: duplicate object keys (the default keeps the last one, so a token
// could carry two `tenant` claims and two verifiers could disagree on which one counts) and
// absurd nesting.
//
// Internal to the security module (nlohmann/json appears in this header only for its .cc users).
// Stateless functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <phenix/result.h>

namespace phenix::security::jose {

/// Decodes unpadded base64url: only [A-Za-z0-9_-], no '=', a length that is not 1 mod 4, and
/// zero unused trailing bits (so every value has exactly one encoding). InvalidArgument names
/// the first offending character or the bad length.
Result<std::string> Base64UrlDecode(std::string_view text);
/// Unpadded base64url.
std::string Base64UrlEncode(std::string_view bytes);

/// The deepest nesting ParseStrictJson accepts (objects and arrays together).
inline constexpr int kMaxJsonDepth = 16;

/// Parses one JSON text. InvalidArgument for malformed JSON, invalid UTF-8, a duplicate key in
/// any object (the message names it), or nesting deeper than kMaxJsonDepth. Never throws.
Result<nlohmann::json> ParseStrictJson(std::string_view text);

}  // namespace phenix::security::jose
