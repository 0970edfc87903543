// SPDX-License-Identifier: Apache-2.0
//
// Key management for encryption at rest (Options::encryption; docs/security.md, "Encryption at
// rest"): making a local master key file and rotating the master key of a data directory.
#pragma once

#include <cstdint>
#include <string>

#include <phenix/options.h>
#include <phenix/result.h>

namespace phenix {

/// Writes a new local master key (32 random bytes) to `path` with mode 0600; an existing file is
/// never overwritten (AlreadyExists). Returns the key's id ("local:<16 hex digits>"), which
/// names it without revealing it. Use it as EncryptionOptions::kms = "local:" + path.
Result<std::string> CreateMasterKeyFile(const std::string& path);

/// Makes a new master key inside a PKCS#11 token (an HSM, SoftHSM2): `kms.kms` is
/// pkcs11:module=...;token=...;key=LABEL, the user PIN comes from `kms.pin_file` (first line) or
/// the environment variable PHENIX_PKCS11_PIN. The key is a non-extractable AES-256 token object
/// labelled LABEL; AlreadyExists when the token has one. Returns its id ("pkcs11:TOKEN/LABEL").
/// Use `kms` as EncryptionOptions from then on.
Result<std::string> CreateTokenMasterKey(const EncryptionOptions& kms);

/// Re-wraps the data key of the encrypted database in `data_dir` from the master key `current`
/// to the master key `next`, atomically (a crash leaves one of the two wrappings, complete). The
/// data files are not rewritten; a process that has the database open keeps working, and every
/// open from now on needs `next`. Safe while the database is open; run one rotation at a time.
/// FailedPrecondition when `current` is not the master key in use; NotFound when the directory
/// holds no encrypted database. Returns the new master key id.
Result<std::string> RotateMasterKey(const std::string& data_dir, const EncryptionOptions& current,
                                    const EncryptionOptions& next);

/// The state of a tenant's data-key rotation (Database::RotateTenantKey; docs/security.md,
/// "Data-key rotation").
struct KeyRotationInfo {
    std::string tenant;
    /// "none" (never rotated), "re-encrypting" (payloads are being re-sealed under the new key),
    /// "settling" (all re-sealed; waiting for the MVCC history window to pass and for older
    /// versions to be compacted away before the old key is destroyed) or "finished" (the old key
    /// is destroyed).
    std::string state = "none";
    /// The key generation being rotated away from, and the current one (new writes use it).
    std::uint32_t from_generation = 0;
    std::uint32_t to_generation = 0;
    /// Stored payloads (entity records and edge values) of the tenant when the pass started,
    /// those checked so far, and those of them re-encrypted (the rest were already under the
    /// new key, e.g. written since the rotation).
    std::uint64_t num_total = 0;
    std::uint64_t num_checked = 0;
    std::uint64_t num_reencrypted = 0;
    /// The last failure of the rotation's background work (a re-encryption batch, a settling
    /// step or its compaction: e.g. the KMS refused, the disk is full), retried about every
    /// 100 ms; empty when its last step succeeded. Kept in memory only (a restart clears it).
    std::string last_error;
    /// When last_error happened: UTC, "YYYY-MM-DDTHH:MM:SSZ"; empty without an error.
    std::string last_error_at;
};

}  // namespace phenix
