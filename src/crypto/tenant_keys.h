// SPDX-License-Identifier: Apache-2.0
//
// TenantKeyring — one data key per tenant, for the tenant's entity payloads and vector index
// checkpoints (docs/decisions/0022-per-tenant-keys-crypto-shredding.md), and crypto-shredding.
//
// Each tenant's data key (a random AES-256 key) is wrapped by a key-encryption key of its own
// that lives in the KMS (Kms::CreateNamedKey: a file in the local key store, or a token object
// in the HSM), never in the data directory. The wrapped data key is stored in the data directory
// in DIR/keys/tenants/<tenant id>:
//
//   phenix-tenant-key 1
//   tenant <tenant id>
//   kms-key <the named key's name: t<tenant id>-<16 random hex digits>>
//   dek-id <KeyFingerprint of the data key>
//   wrapped <master key id> <hex of Kms::WrapWithNamedKey(kms-key, data key)>
//
// "wrapped" names the master key whose KMS holds the named key; during and after a master-key
// rotation there are two such lines (old and new KMS), so that whichever master key
// DIR/keys/data_key names after a crash finds its own.
//
// Shred(tenant) destroys the named key in the KMS first (durably), then the record: from then
// on no copy of the data directory, old or new, together with every key that still exists
// (the master key included) can unwrap the tenant's data key. A crash between the two leaves a
// record whose KMS key is gone; Shred again (DatabaseImpl does so for every record whose tenant
// is no longer in the catalog) removes it.
//
// The random part of the named key's name keeps two databases that share one KMS apart.
//
// Data-key rotation (docs/decisions/0031-data-key-rotation.md): Rotate makes a new data key of
// the next *generation* (1..255, wrapping; the generation byte of every sealed payload names the
// one that sealed it) under a new named key of its own, and keeps the older generation in the
// record, as long as payloads under it remain, so that they still open:
//
//   phenix-tenant-key 2            (version 1 when the record holds generation 1 only)
//   tenant <tenant id>
//   generation <current generation>
//   kms-key / dek-id / wrapped     (the current generation, as in version 1)
//   older <generation> <kms-key> <dek-id>           (per older generation still in use)
//   older-wrapped <generation> <master key id> <hex>
//
// Retire(tenant, generation) destroys an older generation's named key in the KMS, then drops it
// from the record (a crash in between leaves a record naming a key the KMS no longer has, which
// Load ignores and the next Retire removes). Shred destroys every generation's named key.
//
// Master-key rotation (MigrateTenantKeys, called by RotateMasterKey) adds to every tenant's record
// a wrapping by a named key of the same name in the new KMS (and drops those of older ones). The
// old KMS keeps its copies (backups taken before the rotation need them) until the operator
// destroys it with the old master key; until then a tenant shredded after the rotation stays
// recoverable from such a backup with the old KMS (docs/security.md says so in the runbook). A
// process that has the database open keeps the keys it loaded (all of them: Preload at open); until
// it is reopened with the new master key it refuses to make a new tenant's key or to shred one (the
// next open finishes a shred, see above).
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <phenix/result.h>

#include "common/mutex.h"
#include "crypto/cipher.h"
#include "crypto/kms.h"
#include "crypto/secret.h"

namespace phenix::crypto {

inline constexpr const char* kTenantKeysDirName = "tenants";

/// The first generation of a tenant's data key (the only one before any rotation).
inline constexpr std::uint8_t kFirstKeyGeneration = 1;
/// The generation after `generation` (1..255, wrapping past 255 to 1; 0 is never used).
constexpr std::uint8_t NextKeyGeneration(std::uint8_t generation) {
    return generation >= 255 ? kFirstKeyGeneration : static_cast<std::uint8_t>(generation + 1);
}

/// One generation of a tenant's data key as stored: its named key, its fingerprint and its
/// wrappings.
struct TenantKeyVersion {
    std::string kms_key;
    std::string dek_id;
    /// Master key id -> the data key wrapped by the named key in that master key's KMS.
    std::map<std::string, std::string> wrapped;
};

struct TenantKeyRecord {
    std::uint32_t tenant = 0;
    /// The current generation (new payloads are sealed under it); its key is below.
    std::uint8_t generation = kFirstKeyGeneration;
    std::string kms_key;
    std::string dek_id;
    /// Master key id -> the data key wrapped by the named key in that master key's KMS.
    std::map<std::string, std::string> wrapped;
    /// Older generations whose payloads may not all be re-encrypted yet (a rotation in progress).
    std::map<std::uint8_t, TenantKeyVersion> older;
};

/// DIR/keys/tenants.
std::string TenantKeysDir(const std::string& data_dir);
/// Reads DIR/keys/tenants/<tenant>. NotFound without one; Corruption when it does not parse.
Result<TenantKeyRecord> ReadTenantKeyRecord(const std::string& data_dir, std::uint32_t tenant);
/// Writes DIR/keys/tenants/<tenant> atomically (temp file, fsync, rename, directory fsync).
Status WriteTenantKeyRecord(const std::string& data_dir, const TenantKeyRecord& record);

/// Master-key rotation of the tenant keys of `data_dir`: re-wraps each tenant's data key under a
/// named key of the same name in `new_kms` and rewrites its record (records already moved are
/// skipped, so a rotation interrupted by a crash is finished by running it again). Each record
/// keeps the old wrapping beside the new one until the next rotation.
Status MigrateTenantKeys(const std::string& data_dir, Kms& old_kms, Kms& new_kms);

class TenantKeyring {
  public:
    TenantKeyring(std::string data_dir, std::shared_ptr<Kms> kms, bool read_only);

    /// One generation of a tenant's data key, loaded.
    struct TenantKeyGeneration {
        std::uint8_t generation = kFirstKeyGeneration;
        SecretBytes key;
        std::unique_ptr<AesGcm> gcm;
    };
    /// The current generation (key, gcm) and the older ones still loadable.
    struct TenantKey : TenantKeyGeneration {
        std::map<std::uint8_t, std::shared_ptr<const TenantKeyGeneration>> older;
        /// The generation `generation`: this one or an older one; null when it is not held (a
        /// retired generation, or one this build never made).
        [[nodiscard]] const TenantKeyGeneration* Find(std::uint8_t wanted) const {
            if (wanted == generation) {
                return this;
            }
            auto it = older.find(wanted);
            return it == older.end() ? nullptr : it->second.get();
        }
    };

    /// The tenant's data key. Without one: when `create` (and not read-only), makes it (named
    /// key in the KMS, then the record); else NotFound. FailedPrecondition, naming the tenant,
    /// when the KMS no longer holds its key (it was crypto-shredded) or does not unwrap it.
    Result<std::shared_ptr<const TenantKey>> Get(std::uint32_t tenant, bool create);
    /// Crypto-shreds the tenant: destroys its KMS key (a missing one is fine: a shred that
    /// crashed half-way), then its record. Ok when the tenant has no key.
    /// Sync point: "TenantKeyring::Shred:AfterDestroy".
    Status Shred(std::uint32_t tenant);
    /// Data-key rotation: makes a new data key of the next generation under a new named key and
    /// makes it current (new payloads are sealed under it from now on); the old one stays for
    /// reading. Returns the new generation. NotFound when the tenant has no key yet (nothing is
    /// encrypted under one); FailedPrecondition while an older generation is still held (a
    /// rotation whose re-encryption has not finished), read-only, or after a master-key rotation
    /// by another process.
    Result<std::uint8_t> Rotate(std::uint32_t tenant);
    /// Destroys the older generation `generation` of the tenant's key (its named key in the KMS,
    /// durably; then the record). Ok when it is already gone. FailedPrecondition for the current
    /// generation.
    Status Retire(std::uint32_t tenant, std::uint8_t generation);

    /// The tenants that have a record.
    [[nodiscard]] Result<std::vector<std::uint32_t>> Tenants() const;
    /// Loads every tenant's key (at open, so that a master-key rotation while open does not
    /// strand this process). Keys that cannot be loaded are left to fail, with their error, when
    /// used.
    void Preload();

  private:
    Result<std::shared_ptr<const TenantKey>> Load(const TenantKeyRecord& record);
    // Writes `record` and loads the tenant's key from it into keys_.
    Status ReplaceRecordLocked(const TenantKeyRecord& record) REQUIRES(change_mu_);
    // FailedPrecondition when DIR/keys/data_key names another master key than this process's.
    [[nodiscard]] Status CheckMasterKeyCurrent(std::string_view what) const;

    const std::string data_dir_;
    const std::shared_ptr<Kms> kms_;
    const bool read_only_;
    mutable SharedMutex mu_;
    std::map<std::uint32_t, std::shared_ptr<const TenantKey>> keys_ GUARDED_BY(mu_);
    // Serialises creation and shredding (KMS and file changes) with each other.
    Mutex change_mu_;
};

}  // namespace phenix::crypto
