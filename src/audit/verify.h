// SPDX-License-Identifier: Apache-2.0
//
// Verification of an audit directory (`phenix audit verify DIR`): reads every audit file in
// number order and checks each line — well-formed JSON, exactly the record's fields in their
// canonical form, its `hash` the SHA-256 of its body, `seq` one more than the record before
// (1 for the first) and `prev` the hash of the record before (kGenesisHash for the first) — and
// stops at the first record that fails. A file missing in the middle shows as a seq gap at the
// first record after it.
//
// What it cannot see: records cut off the end of the log (the remaining log is a valid, shorter
// chain), and a log rewritten whole by someone who can write the directory (the chain has no
// key). Comparing with a hash noted elsewhere (`expected_hash`: "the log must contain the record
// with this hash") covers both up to the noted record.
//
// Thread safety: a pure function over the file system. Verifying a log that is being written
// may report its last line as incomplete.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <phenix/result.h>

namespace phenix::audit {

struct VerifyFailure {
    std::string file;  ///< "audit-000002.jsonl" (empty when the failure is about the whole log)
    std::uint64_t line = 0;            ///< 1-based, within `file`
    std::optional<std::uint64_t> seq;  ///< the record's seq when it could be read
    std::string why;
};

struct VerifyReport {
    std::uint64_t num_records = 0;  ///< records verified (before the failure, if any)
    std::size_t num_files = 0;
    std::string last_hash;  ///< of the last verified record
    std::optional<VerifyFailure> failure;

    [[nodiscard]] bool ok() const { return !failure.has_value(); }
    /// "ok: N records in M files, last hash H", or "broken: audit-000002.jsonl line 7 (seq 41):
    /// prev does not match the hash of the record before".
    [[nodiscard]] std::string ToString() const;
};

/// Verifies the audit log in `dir`. A broken log is a report with a failure, not an error;
/// errors are NotFound (no directory, or no audit files in it) and IOError.
Result<VerifyReport> VerifyAuditLog(const std::string& dir, std::string_view expected_hash = {});

}  // namespace phenix::audit
