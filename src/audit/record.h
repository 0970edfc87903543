// SPDX-License-Identifier: Apache-2.0
//
// The audit log's record format (docs/security.md "Audit log", decision 0018): one JSON object
// per line, its keys always in this order,
//
//   {"seq":N,"time":"2026-12-07T16:30:00.123Z","principal":"...","tenant":"...","action":"...",
//    "target":"...","outcome":"...","reason":"...","request_id":"...","client":"...",
//    "prev":"<64 hex>","hash":"<64 hex>"}
//
// `hash` is the SHA-256 of the record's *body*: the line's bytes up to `"prev":"<64 hex>"`
// followed by `}` (the same line without its `,"hash":...` member), and `prev` is the previous
// record's `hash` (kGenesisHash for the first record of a log). A record's hash therefore covers
// its own bytes (editing it breaks that record) and, through `prev`, every record before it.
// The chain runs across the rotated files audit-000001.jsonl, audit-000002.jsonl, ...
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/json_string.h"  // AppendJsonString: the records' string encoding
#include "security/audit_sink.h"

namespace phenix::audit {

/// The `prev` of the first record of a log: 64 zeros.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// RFC 3339 UTC with milliseconds: "2026-12-07T16:30:00.123Z".
std::string FormatTime(std::chrono::system_clock::time_point time);

/// Lowercase hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

/// The full line of record `seq` (without the newline) and its hash.
struct FormattedRecord {
    std::string line;
    std::string hash;
};
FormattedRecord FormatRecord(std::uint64_t seq, const security::AuditEvent& event,
                             std::string_view prev_hash);

/// What the chain needs from one line, read without a JSON parser: `seq`, `prev`, `hash`, and
/// whether `hash` is the SHA-256 of the line's body. nullopt when the line does not end in
/// `,"prev":"<64 hex>","hash":"<64 hex>"}` or does not start with `{"seq":N,`. Callers that
/// need well-formedness check it separately (verify.cc parses every line).
struct ChainFields {
    std::uint64_t seq = 0;
    std::string prev;
    std::string hash;
    bool hash_matches = false;
};
std::optional<ChainFields> ReadChainFields(std::string_view line);

}  // namespace phenix::audit
