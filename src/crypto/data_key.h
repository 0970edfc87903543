// SPDX-License-Identifier: Apache-2.0
//
// The database's data key (DEK), envelope-encrypted: one random AES-256 key encrypts every file
// of a data directory; it is stored only wrapped by the master key (Kms), in DIR/keys/data_key:
//
//   phenix-data-key 1
//   cipher aes-256-ctr
//   kek <the master key id, e.g. local:3fa1c2...>
//   version <1 at creation, +1 per rotation>
//   dek-id <KeyFingerprint of the data key: names it, reveals nothing>
//   wrapped <hex of Kms::WrapKey(data key)>
//
// Rotating the master key re-wraps the same data key under the new one and replaces the file
// atomically (temp file, fsync, rename, directory fsync): a crash at any point leaves either the
// old or the new wrapping in place, each complete. The data files are not touched, so a rotation
// can run while the database is open (the open process already holds the data key).
//
// Thread-compatible; the functions are not synchronised with each other across processes beyond
// the atomic rename (run one rotation at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <phenix/result.h>

#include "crypto/kms.h"
#include "crypto/secret.h"

namespace phenix::crypto {

inline constexpr const char* kKeysDirName = "keys";
inline constexpr const char* kDataKeyFileName = "data_key";
inline constexpr const char* kFileCipherName = "aes-256-ctr";

struct DataKeyRecord {
    std::string kek_id;
    std::uint64_t version = 0;
    std::string dek_id;
    std::string wrapped;  // raw bytes
};

/// Writes `text` to `final_path` (inside data_dir/sub_dir, created with mode 0700 if missing)
/// through a synced temp file, an atomic rename and a directory sync. With
/// `data_key_sync_points`, the sync points of RotateMasterKey fire around the rename.
Status WriteKeyFileAtomically(const std::string& data_dir, const std::string& sub_dir,
                              const std::string& final_path, const std::string& text,
                              bool data_key_sync_points);
/// Calls `visit(name, value)` for each "name value" line of a key file (lines without a space
/// are skipped), stopping at the first error. NotFound (naming `what` and the path) when the file
/// cannot be opened.
Status ForEachKeyFileLine(
    const std::string& path, std::string_view what,
    const std::function<Status(const std::string& name, const std::string& value)>& visit);
/// fsync of a directory. IOError naming it.
Status SyncDirectory(const std::string& dir);

/// DIR/keys/data_key.
std::string DataKeyPath(const std::string& data_dir);
/// Whether DIR/keys/data_key exists.
bool HasDataKey(const std::string& data_dir);
/// Reads and parses the key file. NotFound without one; Corruption when it does not parse.
Result<DataKeyRecord> ReadDataKeyRecord(const std::string& data_dir);

/// Makes a new random data key, wraps it with `kms` and writes DIR/keys/data_key (AlreadyExists
/// if there is one). Returns the plaintext data key.
Result<SecretBytes> CreateDataKey(const std::string& data_dir, Kms& kms);
/// Unwraps DIR/keys/data_key with `kms`. FailedPrecondition, naming both key ids, when it was
/// wrapped by another master key, or when the unwrapped key does not match its recorded id.
Result<SecretBytes> LoadDataKey(const std::string& data_dir, Kms& kms);
/// Re-wraps the data key under `new_kms` (the data key itself stays the same), atomically.
/// Sync points: "DataKey::Rewrite:BeforeRename", "DataKey::Rewrite:AfterRename".
/// Returns the new record.
Result<DataKeyRecord> RotateMasterKey(const std::string& data_dir, Kms& old_kms, Kms& new_kms);

}  // namespace phenix::crypto
