// SPDX-License-Identifier: Apache-2.0
//
// PayloadCipher — the per-tenant encryption of entity payloads (docs/decisions/0022): with
// encryption at rest on, every entity record and edge value is sealed with AES-256-GCM under the
// data key of the tenant its key starts with (crypto/tenant_keys.h) before it enters a write
// batch, so the WAL, memtables, SST files, a transaction's overlay and the commit hooks only see
// ciphertext; readers open it where they decode it. The entity's key (tenant, collection, row;
// or the edge key) and the column family are the associated data: a sealed value moved to
// another key, family or tenant fails to open.
//
// Sealed value: u8 0xA1 | u8 key generation | nonce (12) | ciphertext | tag (16)
// The key generation names the generation of the tenant's data key that sealed the value (1
// before any data-key rotation; crypto/tenant_keys.h, docs/decisions/0031): a value opens as long
// as the keyring holds its generation, and Reseal moves it to the current one.
// The plaintext is the encoded EntityRecord / EdgeValue (storage/entity_codec.h), whose first
// byte is its format version (1): a value that does not start with 0xA1 is plaintext (an
// unencrypted database, or a value written before this change) and is returned as it is.
//
// Without encryption (no keyring) Seal does nothing and Open returns the value unchanged: an
// unencrypted database stores the same bytes as before.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/file_system.h>

#include <phenix/result.h>

#include "common/mutex.h"
#include "crypto/tenant_keys.h"
#include "storage/keys.h"

namespace phenix::storage {

inline constexpr std::uint8_t kSealedPayloadVersion = 0xA1;

/// Which column family a payload belongs to (bound into the associated data).
enum class PayloadKind : char { kEntity = 'E', kOutEdge = 'O', kInEdge = 'I' };

/// Whether a stored value is sealed.
inline bool IsSealedPayload(std::string_view value) {
    return !value.empty() && static_cast<std::uint8_t>(value.front()) == kSealedPayloadVersion;
}
/// The key generation of a sealed value; 0 for a plaintext or truncated one.
inline std::uint8_t SealedPayloadGeneration(std::string_view value) {
    return IsSealedPayload(value) && value.size() >= 2 ? static_cast<std::uint8_t>(value[1]) : 0;
}

class PayloadCipher {
  public:
    /// `keyring` null: encryption off. `base_fs`: the file system the tenants' checkpoint file
    /// systems sit on (the store's, itself encrypted under the database's data key).
    PayloadCipher(std::shared_ptr<crypto::TenantKeyring> keyring,
                  std::shared_ptr<rocksdb::FileSystem> base_fs);

    [[nodiscard]] bool enabled() const { return keyring_ != nullptr; }
    [[nodiscard]] crypto::TenantKeyring* keyring() const { return keyring_.get(); }

    /// Replaces `value` (the encoding of the payload stored at `key`) with its sealed form,
    /// creating the tenant's data key on its first write. A no-op when encryption is off.
    /// `scratch` is working space.
    Status Seal(PayloadKind kind, std::string_view key, std::string& value,
                std::string& scratch) const;
    /// The plaintext of the value stored at `key`: `value` itself when it is not sealed, else
    /// its decryption in `scratch`. FailedPrecondition naming the tenant when its data key is
    /// gone (crypto-shredded) or the value does not authenticate (other key, family or tenant;
    /// altered or truncated).
    Result<std::string_view> Open(PayloadKind kind, std::string_view key, std::string_view value,
                                  std::string& scratch) const;

    /// Data-key rotation: when `value` (stored at `key`) is not sealed under the tenant's
    /// current key generation, replaces it with its plaintext sealed under the current one and
    /// returns true; false (value untouched) when it already is. Errors as Open and Seal.
    Result<bool> Reseal(PayloadKind kind, std::string_view key, std::string& value,
                        std::string& scratch) const;
    /// The file system for a tenant's vector index checkpoints: the store's file system with a
    /// second AES-256-CTR layer under the tenant's data key (storage/encrypted_fs.h), so a
    /// checkpoint is unreadable once the tenant is crypto-shredded. A file is created under the
    /// key's current generation (also after a data-key rotation, by a user of a file system
    /// handed out before it) and read under the generation its header names while the keyring
    /// holds it. The store's own file system when encryption is off. Valid for the life of this
    /// object.
    Result<rocksdb::FileSystem*> CheckpointFileSystem(TenantId tenant) const;

  private:
    std::shared_ptr<crypto::TenantKeyring> keyring_;
    std::shared_ptr<rocksdb::FileSystem> base_fs_;
    mutable Mutex fs_mu_;
    mutable std::map<TenantId, std::shared_ptr<rocksdb::FileSystem>> tenant_fs_ GUARDED_BY(fs_mu_);
};

}  // namespace phenix::storage
