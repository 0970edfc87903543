// SPDX-License-Identifier: Apache-2.0
#include "crypto/tenant_keys.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "common/sync_point.h"
#include "crypto/data_key.h"

namespace phenix::crypto {

namespace {

namespace fs = std::filesystem;

std::string RecordPath(const std::string& data_dir, std::uint32_t tenant) {
    return TenantKeysDir(data_dir) + "/" + std::to_string(tenant);
}

std::string Render(const TenantKeyRecord& record) {
    std::ostringstream out;
    out << "phenix-tenant-key 1\n"
        << "tenant " << record.tenant << "\n"
        << "kms-key " << record.kms_key << "\n"
        << "dek-id " << record.dek_id << "\n";
    for (const auto& [kek, wrapped] : record.wrapped) {
        out << "wrapped " << kek << " " << HexEncode(wrapped) << "\n";
    }
    return out.str();
}

bool ParseTenant(std::string_view text, std::uint32_t& out) {
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc() && ptr == end && !text.empty();
}

}  // namespace

std::string TenantKeysDir(const std::string& data_dir) {
    return data_dir + "/" + kKeysDirName + "/" + kTenantKeysDirName;
}

Result<TenantKeyRecord> ReadTenantKeyRecord(const std::string& data_dir, std::uint32_t tenant) {
    const std::string path = RecordPath(data_dir, tenant);
    auto malformed = [&](const std::string& why) {
        return Status::Corruption("the tenant key file " + path + " is malformed (" + why + ")");
    };
    TenantKeyRecord record;
    bool has_magic = false;
    bool has_tenant = false;
    PHENIX_RETURN_IF_ERROR(ForEachKeyFileLine(
        path, "tenant key file", [&](const std::string& name, const std::string& value) -> Status {
            if (name == "phenix-tenant-key") {
                if (value != "1") {
                    return Status::FailedPrecondition("the tenant key file " + path +
                                                      " has version " + value +
                                                      ", which this build does not read");
                }
                has_magic = true;
            } else if (name == "tenant") {
                if (!ParseTenant(value, record.tenant) || record.tenant != tenant) {
                    return malformed("its tenant line does not name tenant " +
                                     std::to_string(tenant));
                }
                has_tenant = true;
            } else if (name == "kms-key") {
                record.kms_key = value;
            } else if (name == "dek-id") {
                record.dek_id = value;
            } else if (name == "wrapped") {
                const auto gap = value.find(' ');
                if (gap == std::string::npos || gap == 0) {
                    return malformed("bad wrapped key");
                }
                auto bytes = HexDecode(value.substr(gap + 1));
                if (!bytes.ok()) {
                    return malformed("bad wrapped key");
                }
                record.wrapped[value.substr(0, gap)] = std::move(*bytes);
            }
            return Status::Ok();
        }));
    if (!has_magic || !has_tenant || record.wrapped.empty() || record.kms_key.empty() ||
        record.dek_id.empty()) {
        return malformed("a line is missing");
    }
    return record;
}

Status WriteTenantKeyRecord(const std::string& data_dir, const TenantKeyRecord& record) {
    return WriteKeyFileAtomically(data_dir, std::string(kKeysDirName) + "/" + kTenantKeysDirName,
                                  RecordPath(data_dir, record.tenant), Render(record),
                                  /*data_key_sync_points=*/false);
}

TenantKeyring::TenantKeyring(std::string data_dir, std::shared_ptr<Kms> kms, bool read_only)
    : data_dir_(std::move(data_dir)), kms_(std::move(kms)), read_only_(read_only) {}

Result<std::shared_ptr<const TenantKeyring::TenantKey>> TenantKeyring::Load(
    const TenantKeyRecord& record) {
    auto wrapped = record.wrapped.find(kms_->KeyId());
    if (wrapped == record.wrapped.end()) {
        return Status::FailedPrecondition(
            "the key of tenant " + std::to_string(record.tenant) +
            " is not wrapped for master key " + kms_->KeyId() + " but for " +
            record.wrapped.begin()->first +
            " (after a master-key rotation, reopen with the new key; if the rotation was "
            "interrupted, run it again)");
    }
    auto unwrapped = kms_->UnwrapWithNamedKey(record.kms_key, wrapped->second);
    if (!unwrapped.ok()) {
        const std::string why = unwrapped.status().IsNotFound()
                                    ? "its key '" + record.kms_key +
                                          "' is not in the KMS (the tenant was crypto-shredded, "
                                          "or this is not the KMS that holds its key)"
                                    : unwrapped.status().message();
        return Status::FailedPrecondition("the data of tenant " + std::to_string(record.tenant) +
                                          " cannot be decrypted: " + why);
    }
    if (unwrapped->size() != kKeyBytes || KeyFingerprint(*unwrapped) != record.dek_id) {
        return Status::FailedPrecondition("the KMS key '" + record.kms_key +
                                          "' unwrapped a key that is not the data key of tenant " +
                                          std::to_string(record.tenant));
    }
    auto key = std::make_shared<TenantKey>();
    PHENIX_ASSIGN_OR_RETURN(key->gcm, AesGcm::Create(*unwrapped));
    key->key = std::move(*unwrapped);
    return std::shared_ptr<const TenantKey>(std::move(key));
}

Result<std::shared_ptr<const TenantKeyring::TenantKey>> TenantKeyring::Get(std::uint32_t tenant,
                                                                           bool create) {
    {
        ReaderMutexLock lock(mu_);
        if (auto it = keys_.find(tenant); it != keys_.end()) {
            return it->second;
        }
    }
    MutexLock change(change_mu_);
    {
        ReaderMutexLock lock(mu_);
        if (auto it = keys_.find(tenant); it != keys_.end()) {
            return it->second;
        }
    }
    auto record = ReadTenantKeyRecord(data_dir_, tenant);
    if (!record.ok() && !record.status().IsNotFound()) {
        return record.status();
    }
    if (!record.ok()) {
        if (!create || read_only_) {
            return Status::NotFound("tenant " + std::to_string(tenant) + " has no data key");
        }
        // The KMS key first: a crash before the record is written leaves only an unused key in
        // the KMS, never a record that no key can open.
        PHENIX_RETURN_IF_ERROR(CheckMasterKeyCurrent("make a new tenant's key"));
        TenantKeyRecord fresh;
        fresh.tenant = tenant;
        std::uint8_t suffix[8];
        PHENIX_RETURN_IF_ERROR(RandomBytes(suffix, sizeof(suffix)));
        fresh.kms_key =
            "t" + std::to_string(tenant) + "-" +
            HexEncode(std::string_view(reinterpret_cast<const char*>(suffix), sizeof(suffix)));
        PHENIX_ASSIGN_OR_RETURN(SecretBytes data_key, RandomSecret(kKeyBytes));
        fresh.dek_id = KeyFingerprint(data_key);
        PHENIX_RETURN_IF_ERROR(kms_->CreateNamedKey(fresh.kms_key));
        PHENIX_ASSIGN_OR_RETURN(fresh.wrapped[kms_->KeyId()],
                                kms_->WrapWithNamedKey(fresh.kms_key, data_key));
        PHENIX_RETURN_IF_ERROR(WriteTenantKeyRecord(data_dir_, fresh));
        record = std::move(fresh);
    }
    PHENIX_ASSIGN_OR_RETURN(std::shared_ptr<const TenantKey> key, Load(*record));
    WriterMutexLock lock(mu_);
    keys_[tenant] = key;
    return key;
}

Status TenantKeyring::Shred(std::uint32_t tenant) {
    if (read_only_) {
        return Status::FailedPrecondition("a read-only database cannot crypto-shred a tenant");
    }
    MutexLock change(change_mu_);
    {
        WriterMutexLock lock(mu_);
        keys_.erase(tenant);
    }
    auto record = ReadTenantKeyRecord(data_dir_, tenant);
    if (record.status().IsNotFound()) {
        return Status::Ok();
    }
    PHENIX_RETURN_IF_ERROR(record.status());
    if (Status current = CheckMasterKeyCurrent("crypto-shred tenant " + std::to_string(tenant));
        !current.ok()) {
        return current.WithContext("the next open with the new master key destroys its key");
    }
    if (Status destroyed = kms_->DestroyNamedKey(record->kms_key);
        !destroyed.ok() && !destroyed.IsNotFound()) {
        return destroyed.WithContext("crypto-shredding tenant " + std::to_string(tenant));
    }
    PHENIX_SYNC_POINT("TenantKeyring::Shred:AfterDestroy");
    const std::string path = RecordPath(data_dir_, tenant);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return Status::IOError("cannot delete the tenant key file " + path + ": " +
                               std::strerror(errno));
    }
    return SyncDirectory(TenantKeysDir(data_dir_));
}

Status TenantKeyring::CheckMasterKeyCurrent(std::string_view what) const {
    auto current = ReadDataKeyRecord(data_dir_);
    PHENIX_RETURN_IF_ERROR(current.status());
    if (current->kek_id != kms_->KeyId()) {
        return Status::FailedPrecondition("cannot " + std::string(what) +
                                          ": the master key was rotated to " + current->kek_id +
                                          " since the database was opened with " + kms_->KeyId() +
                                          "; reopen it with the new master key");
    }
    return Status::Ok();
}

void TenantKeyring::Preload() {
    auto tenants = Tenants();
    if (!tenants.ok()) {
        return;
    }
    for (std::uint32_t tenant : *tenants) {
        (void)Get(tenant, /*create=*/false);
    }
}

Status MigrateTenantKeys(const std::string& data_dir, Kms& old_kms, Kms& new_kms) {
    PHENIX_ASSIGN_OR_RETURN(std::vector<std::uint32_t> tenants,
                            TenantKeyring(data_dir, nullptr, true).Tenants());
    for (std::uint32_t tenant : tenants) {
        PHENIX_ASSIGN_OR_RETURN(TenantKeyRecord record, ReadTenantKeyRecord(data_dir, tenant));
        if (record.wrapped.contains(new_kms.KeyId())) {
            continue;  // moved by an earlier, interrupted run
        }
        auto old_wrapped = record.wrapped.find(old_kms.KeyId());
        if (old_wrapped == record.wrapped.end()) {
            return Status::FailedPrecondition("the key of tenant " + std::to_string(tenant) +
                                              " is not wrapped for the current master key " +
                                              old_kms.KeyId());
        }
        auto data_key = old_kms.UnwrapWithNamedKey(record.kms_key, old_wrapped->second);
        if (data_key.status().IsNotFound()) {
            continue;  // a shred that crashed half-way: nothing to move, the next open ends it
        }
        PHENIX_RETURN_IF_ERROR(data_key.status());
        if (Status created = new_kms.CreateNamedKey(record.kms_key);
            !created.ok() && created.code() != StatusCode::kAlreadyExists) {
            return created;
        }
        PHENIX_ASSIGN_OR_RETURN(std::string wrapped,
                                new_kms.WrapWithNamedKey(record.kms_key, *data_key));
        PHENIX_ASSIGN_OR_RETURN(SecretBytes check,
                                new_kms.UnwrapWithNamedKey(record.kms_key, wrapped));
        if (KeyFingerprint(check) != record.dek_id) {
            return Status::Internal("the new KMS did not round-trip the key of tenant " +
                                    std::to_string(tenant));
        }
        // Old and new wrapping side by side: a crash before DIR/keys/data_key names the new
        // master key leaves the old one working. Older wrappings go.
        std::string old_bytes = std::move(old_wrapped->second);
        record.wrapped.clear();
        record.wrapped[old_kms.KeyId()] = std::move(old_bytes);
        record.wrapped[new_kms.KeyId()] = std::move(wrapped);
        PHENIX_RETURN_IF_ERROR(WriteTenantKeyRecord(data_dir, record));
    }
    return Status::Ok();
}

Result<std::vector<std::uint32_t>> TenantKeyring::Tenants() const {
    std::vector<std::uint32_t> out;
    std::error_code ec;
    const std::string dir = TenantKeysDir(data_dir_);
    if (!fs::exists(dir, ec)) {
        return out;
    }
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        std::uint32_t tenant = 0;
        if (ParseTenant(entry.path().filename().string(), tenant)) {
            out.push_back(tenant);
        }
    }
    if (ec) {
        return Status::IOError("cannot list " + dir + ": " + ec.message());
    }
    return out;
}

}  // namespace phenix::crypto
