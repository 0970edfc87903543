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

struct TenantKeyRecord {
    std::uint32_t tenant = 0;
    std::string kms_key;
    std::string dek_id;
    /// Master key id -> the data key wrapped by the named key in that master key's KMS.
    std::map<std::string, std::string> wrapped;
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

    struct TenantKey {
        SecretBytes key;
        std::unique_ptr<AesGcm> gcm;
    };

    /// The tenant's data key. Without one: when `create` (and not read-only), makes it (named
    /// key in the KMS, then the record); else NotFound. FailedPrecondition, naming the tenant,
    /// when the KMS no longer holds its key (it was crypto-shredded) or does not unwrap it.
    Result<std::shared_ptr<const TenantKey>> Get(std::uint32_t tenant, bool create);
    /// Crypto-shreds the tenant: destroys its KMS key (a missing one is fine: a shred that
    /// crashed half-way), then its record. Ok when the tenant has no key.
    /// Sync point: "TenantKeyring::Shred:AfterDestroy".
    Status Shred(std::uint32_t tenant);
    /// The tenants that have a record.
    [[nodiscard]] Result<std::vector<std::uint32_t>> Tenants() const;
    /// Loads every tenant's key (at open, so that a master-key rotation while open does not
    /// strand this process). Keys that cannot be loaded are left to fail, with their error, when
    /// used.
    void Preload();

  private:
    Result<std::shared_ptr<const TenantKey>> Load(const TenantKeyRecord& record);
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
