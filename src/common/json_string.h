// SPDX-License-Identifier: Apache-2.0
//
// JSON string literals for the hand-written JSON of the audit log, error bodies, access logs,
// the OTLP exporter and the benchmarks' output: one escaping for all of them.
//
// The output is the audit log's canonical form (audit/verify.cc re-encodes every record with
// AppendJsonString and compares bytes), so it must never change: `"` and `\` escaped; \n, \r, \t
// as such; other control characters and DEL as \u00XX (lowercase hex); valid UTF-8 (RFC 3629)
// as is; every byte that does not begin a valid UTF-8 sequence as U+FFFD. No user-supplied text
// can end a line or add a member, and the result is always valid UTF-8 JSON.
//
// Thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace phenix {

/// Appends `text` to `out` as a JSON string (quotes included), escaped as above.
void AppendJsonString(std::string& out, std::string_view text);

/// `text` as a JSON string literal (quoted, escaped as above).
[[nodiscard]] std::string JsonQuote(std::string_view text);

/// The length of the valid UTF-8 sequence that starts `text` (RFC 3629: no overlong forms, no
/// surrogates, nothing above U+10FFFF), or 0 when its first byte does not begin one.
[[nodiscard]] std::size_t Utf8SequenceLength(std::string_view text);

}  // namespace phenix
