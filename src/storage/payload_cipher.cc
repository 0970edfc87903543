// SPDX-License-Identifier: Apache-2.0
#include "storage/payload_cipher.h"

#include <array>

#include "common/coding.h"
#include "storage/encrypted_fs.h"

namespace phenix::storage {

namespace {

constexpr std::size_t kSealedHeaderBytes = 2;

// The fixed part of the associated data: a domain label, the family and the header bytes.
std::array<char, 20> FixedAad(PayloadKind kind, std::uint8_t generation) {
    std::array<char, 20> aad{'p',
                             'h',
                             'e',
                             'n',
                             'i',
                             'x',
                             '-',
                             'p',
                             'a',
                             'y',
                             'l',
                             'o',
                             'a',
                             'd',
                             '-',
                             'v',
                             '1',
                             static_cast<char>(kind),
                             static_cast<char>(kSealedPayloadVersion),
                             static_cast<char>(generation)};
    return aad;
}

Result<TenantId> TenantOf(std::string_view key) {
    if (key.size() < 4) {
        return Status::Corruption("a stored key is too short to name its tenant");
    }
    return coding::DecodeFixed32BE(key.data());
}

// The keys of a tenant's checkpoint file system: new files under the current generation of its
// data key, existing ones under whichever generation the keyring still holds that their header
// names (so a checkpoint written before a data-key rotation stays readable until the old
// generation is retired).
class TenantFileKeys final : public FileKeys {
  public:
    TenantFileKeys(std::shared_ptr<crypto::TenantKeyring> keyring, TenantId tenant)
        : keyring_(std::move(keyring)), tenant_(tenant) {}

    Result<FileKey> Current() const override {
        // Not create: the tenant had a key when this was made; a missing one was shredded (the
        // tenant was dropped), and a new one must not appear for it.
        PHENIX_ASSIGN_OR_RETURN(auto tenant_key, keyring_->Get(tenant_, /*create=*/false));
        return MakeFileKey(tenant_key->key);
    }

    Result<FileKey> Find(std::string_view key_id, const std::string& fname) const override {
        PHENIX_ASSIGN_OR_RETURN(auto tenant_key, keyring_->Get(tenant_, /*create=*/false));
        if (crypto::KeyFingerprint(tenant_key->key) == key_id) {
            return MakeFileKey(tenant_key->key);
        }
        for (const auto& [generation, older] : tenant_key->older) {
            if (crypto::KeyFingerprint(older->key) == key_id) {
                return MakeFileKey(older->key);
            }
        }
        return Status::FailedPrecondition(
            "the file " + fname + " was encrypted under data key " + std::string(key_id) +
            ", which is none of the generations of tenant " + std::to_string(tenant_) +
            "'s data key still held (generation " + std::to_string(tenant_key->generation) +
            " is current; an older one is destroyed when its rotation finishes)");
    }

  private:
    const std::shared_ptr<crypto::TenantKeyring> keyring_;
    const TenantId tenant_;
};

}  // namespace

PayloadCipher::PayloadCipher(std::shared_ptr<crypto::TenantKeyring> keyring,
                             std::shared_ptr<rocksdb::FileSystem> base_fs)
    : keyring_(std::move(keyring)), base_fs_(std::move(base_fs)) {}

Status PayloadCipher::Seal(PayloadKind kind, std::string_view key, std::string& value,
                           std::string& scratch) const {
    if (!keyring_) {
        return Status::Ok();
    }
    PHENIX_ASSIGN_OR_RETURN(TenantId tenant, TenantOf(key));
    PHENIX_ASSIGN_OR_RETURN(auto tenant_key, keyring_->Get(tenant, /*create=*/true));
    scratch.clear();
    scratch.push_back(static_cast<char>(kSealedPayloadVersion));
    scratch.push_back(static_cast<char>(tenant_key->generation));
    const auto aad = FixedAad(kind, tenant_key->generation);
    PHENIX_RETURN_IF_ERROR(
        tenant_key->gcm->Seal(value, std::string_view(aad.data(), aad.size()), key, scratch));
    value.swap(scratch);
    return Status::Ok();
}

Result<std::string_view> PayloadCipher::Open(PayloadKind kind, std::string_view key,
                                             std::string_view value, std::string& scratch) const {
    if (!IsSealedPayload(value)) {
        return value;
    }
    PHENIX_ASSIGN_OR_RETURN(TenantId tenant, TenantOf(key));
    if (!keyring_) {
        return Status::FailedPrecondition(
            "a stored value of tenant " + std::to_string(tenant) +
            " is encrypted, but the database was opened without encryption");
    }
    if (value.size() < kSealedHeaderBytes) {
        return Status::Corruption("a stored value of tenant " + std::to_string(tenant) +
                                  " is truncated");
    }
    const std::uint8_t generation = static_cast<std::uint8_t>(value[1]);
    auto tenant_key = keyring_->Get(tenant, /*create=*/false);
    if (!tenant_key.ok()) {
        if (tenant_key.status().IsNotFound()) {
            return Status::FailedPrecondition(
                "the data of tenant " + std::to_string(tenant) +
                " cannot be decrypted: it has no data key (the tenant was crypto-shredded)");
        }
        return tenant_key.status();
    }
    const crypto::TenantKeyring::TenantKeyGeneration* sealer = (*tenant_key)->Find(generation);
    if (sealer == nullptr) {
        return Status::FailedPrecondition(
            "a stored value of tenant " + std::to_string(tenant) +
            " is sealed under data key generation " + std::to_string(generation) +
            ", which is not held (retired after a rotation, or never made)");
    }
    const auto aad = FixedAad(kind, generation);
    Status opened = sealer->gcm->Open(value.substr(kSealedHeaderBytes),
                                      std::string_view(aad.data(), aad.size()), key, scratch);
    if (!opened.ok()) {
        return Status::FailedPrecondition(
            "a stored value of tenant " + std::to_string(tenant) +
            " does not decrypt under its data key: " + opened.message());
    }
    return std::string_view(scratch);
}

Result<bool> PayloadCipher::Reseal(PayloadKind kind, std::string_view key, std::string& value,
                                   std::string& scratch) const {
    if (!keyring_) {
        return false;
    }
    PHENIX_ASSIGN_OR_RETURN(TenantId tenant, TenantOf(key));
    PHENIX_ASSIGN_OR_RETURN(auto tenant_key, keyring_->Get(tenant, /*create=*/true));
    if (SealedPayloadGeneration(value) == tenant_key->generation) {
        return false;
    }
    std::string plain;
    PHENIX_ASSIGN_OR_RETURN(std::string_view opened, Open(kind, key, value, plain));
    std::string plaintext(opened);
    PHENIX_RETURN_IF_ERROR(Seal(kind, key, plaintext, scratch));
    value.swap(plaintext);
    return true;
}

Result<rocksdb::FileSystem*> PayloadCipher::CheckpointFileSystem(TenantId tenant) const {
    if (!keyring_) {
        return base_fs_.get();
    }
    MutexLock lock(fs_mu_);
    if (auto it = tenant_fs_.find(tenant); it != tenant_fs_.end()) {
        return it->second.get();
    }
    auto tenant_key = keyring_->Get(tenant, /*create=*/true);
    if (tenant_key.status().IsNotFound()) {
        // Only a read-only open gets here (it creates no keys): the tenant never wrote under a
        // key of its own, so it has no checkpoint sealed by one, and a read-only open writes
        // none.
        return base_fs_.get();
    }
    PHENIX_RETURN_IF_ERROR(tenant_key.status());
    PHENIX_ASSIGN_OR_RETURN(
        std::shared_ptr<rocksdb::FileSystem> fs,
        NewEncryptedFileSystem(base_fs_, std::make_shared<const TenantFileKeys>(keyring_, tenant)));
    rocksdb::FileSystem* raw = fs.get();
    tenant_fs_.emplace(tenant, std::move(fs));
    return raw;
}

}  // namespace phenix::storage
