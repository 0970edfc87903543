// SPDX-License-Identifier: Apache-2.0
//
// The file layer of encryption at rest: a rocksdb::FileSystem that encrypts every file created
// through it (WAL, SST, MANIFEST, OPTIONS, CURRENT, IDENTITY, and the index checkpoints that go
// through Store::file_system()) with AES-256-CTR under the database's data key, using RocksDB's
// EncryptedFileSystem with Phenix's own EncryptionProvider on OpenSSL (crypto/cipher.h).
//
// Each file starts with a 4096-byte header in the clear (RocksDB's "prefix"; page-sized so the
// data stays page-aligned): the magic "PHXENC01", the data key's public id (so a file encrypted
// under another data key is a clear FailedPrecondition-style error, not block-checksum noise),
// and the file's random 16-byte initial counter. The rest is the file's bytes XORed with the
// AES-256-CTR key stream from that counter, so reads and writes at any offset work as in a plain
// file and the sizes RocksDB sees exclude the header.
//
// Thread-safe (files are; the provider is immutable after creation).
#pragma once

#include <memory>
#include <string>

#include <rocksdb/file_system.h>

#include <phenix/result.h>

#include "crypto/cipher.h"
#include "crypto/secret.h"

namespace phenix::storage {

inline constexpr std::size_t kEncryptionHeaderBytes = 4096;
inline constexpr const char* kEncryptionMagic = "PHXENC01";

/// One data key of an encrypted file system: its public id (crypto::KeyFingerprint, the id in
/// the header of the files encrypted under it) and its cipher.
struct FileKey {
    std::string id;
    std::shared_ptr<const crypto::AesCtr> cipher;
};
/// The FileKey of `data_key` (32 bytes).
Result<FileKey> MakeFileKey(const crypto::SecretBytes& data_key);

/// The keys of a file system whose files may be encrypted under several data keys (the
/// generations of a tenant's data key during a rotation). Thread-safe.
class FileKeys {
  public:
    virtual ~FileKeys() = default;
    /// The key a new file is encrypted under (asked once per file created).
    virtual Result<FileKey> Current() const = 0;
    /// The key whose id is `key_id` (asked once per file opened); an error whose message says
    /// why when none is held.
    virtual Result<FileKey> Find(std::string_view key_id, const std::string& fname) const = 0;
};

/// `base` wrapped so that every file is encrypted under `data_key` (32 bytes).
Result<std::shared_ptr<rocksdb::FileSystem>> NewEncryptedFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, const crypto::SecretBytes& data_key);
/// `base` wrapped so that a new file is encrypted under `keys->Current()` and an existing one
/// is read under the key its header names (`keys->Find`).
Result<std::shared_ptr<rocksdb::FileSystem>> NewEncryptedFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, std::shared_ptr<const FileKeys> keys);

}  // namespace phenix::storage
