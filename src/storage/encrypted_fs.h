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

#include "crypto/secret.h"

namespace phenix::storage {

inline constexpr std::size_t kEncryptionHeaderBytes = 4096;
inline constexpr const char* kEncryptionMagic = "PHXENC01";

/// `base` wrapped so that every file is encrypted under `data_key` (32 bytes).
Result<std::shared_ptr<rocksdb::FileSystem>> NewEncryptedFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, const crypto::SecretBytes& data_key);

}  // namespace phenix::storage
