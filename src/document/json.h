// SPDX-License-Identifier: Apache-2.0
//
// JSON helpers for the document side of an entity: validation and normalisation of metadata and
// edge properties, and JSON merge patch (RFC 7386). Wraps nlohmann::json so that no exception
// leaves this module: every failure is a Status naming what was wrong and where.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <phenix/result.h>

namespace phenix::document {

/// Parses `text` as a JSON object and returns it minified. Empty text means "{}".
/// `what` names the value in messages ("metadata", "edge properties").
/// InvalidArgument if the text is not valid JSON, not an object, nested deeper than
/// limits::kMaxJsonDepth, or longer than `max_bytes` once minified.
Result<std::string> NormalizeJsonObject(std::string_view text, std::size_t max_bytes,
                                        std::string_view what);

/// Applies an RFC 7386 merge patch (an object; null removes a key) to a JSON object and returns
/// the minified result. InvalidArgument if the patch is invalid or the result exceeds `max_bytes`.
Result<std::string> ApplyMergePatch(std::string_view object_json, std::string_view patch_json,
                                    std::size_t max_bytes);

/// The maximum nesting depth of objects and arrays in `text` (strings are skipped).
int JsonNestingDepth(std::string_view text);

}  // namespace phenix::document
