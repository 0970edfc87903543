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
    // Version 1 while the record holds generation 1 only: a database that never rotated a data
    // key stays readable by builds from before rotation.
    const bool v1 = record.generation == kFirstKeyGeneration && record.older.empty();
    out << "phenix-tenant-key " << (v1 ? 1 : 2) << "\n"
        << "tenant " << record.tenant << "\n";
    if (!v1) {
        out << "generation " << static_cast<unsigned>(record.generation) << "\n";
    }
    out << "kms-key " << record.kms_key << "\n"
        << "dek-id " << record.dek_id << "\n";
    for (const auto& [kek, wrapped] : record.wrapped) {
        out << "wrapped " << kek << " " << HexEncode(wrapped) << "\n";
    }
    for (const auto& [generation, version] : record.older) {
        out << "older " << static_cast<unsigned>(generation) << " " << version.kms_key << " "
            << version.dek_id << "\n";
        for (const auto& [kek, wrapped] : version.wrapped) {
            out << "older-wrapped " << static_cast<unsigned>(generation) << " " << kek << " "
                << HexEncode(wrapped) << "\n";
        }
    }
    return out.str();
}

// Splits "a b c..." into its first `count` space-separated words (the last takes the rest).
bool SplitWords(std::string_view text, std::size_t count, std::vector<std::string_view>& out) {
    out.clear();
    while (out.size() + 1 < count) {
        const auto gap = text.find(' ');
        if (gap == std::string_view::npos || gap == 0) {
            return false;
        }
        out.push_back(text.substr(0, gap));
        text.remove_prefix(gap + 1);
    }
    if (text.empty()) {
        return false;
    }
    out.push_back(text);
    return true;
}

bool ParseGeneration(std::string_view text, std::uint8_t& out) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty() || value == 0 || value > 255) {
        return false;
    }
    out = static_cast<std::uint8_t>(value);
    return true;
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
            std::vector<std::string_view> words;
            if (name == "phenix-tenant-key") {
                if (value != "1" && value != "2") {
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
            } else if (name == "generation") {
                if (!ParseGeneration(value, record.generation)) {
                    return malformed("bad generation");
                }
            } else if (name == "older") {
                std::uint8_t generation = 0;
                if (!SplitWords(value, 3, words) || !ParseGeneration(words[0], generation)) {
                    return malformed("bad older key");
                }
                record.older[generation].kms_key = std::string(words[1]);
                record.older[generation].dek_id = std::string(words[2]);
            } else if (name == "older-wrapped") {
                std::uint8_t generation = 0;
                if (!SplitWords(value, 3, words) || !ParseGeneration(words[0], generation)) {
                    return malformed("bad older wrapped key");
                }
                auto bytes = HexDecode(words[2]);
                if (!bytes.ok()) {
                    return malformed("bad older wrapped key");
                }
                record.older[generation].wrapped[std::string(words[1])] = std::move(*bytes);
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
    for (const auto& [generation, version] : record.older) {
        if (generation == record.generation || version.kms_key.empty() || version.dek_id.empty() ||
            version.wrapped.empty()) {
            return malformed("older generation " + std::to_string(generation) +
                             " is incomplete or is the current one");
        }
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

namespace {

// Unwraps one generation of a tenant's key with `kms`. The NotFound of the KMS (the named key is
// gone) is passed through for the caller to tell a retired generation from a shredded tenant.
Status UnwrapGeneration(Kms& kms, std::uint32_t tenant, std::uint8_t generation,
                        const std::string& kms_key, const std::string& dek_id,
                        const std::map<std::string, std::string>& wrappings,
                        TenantKeyring::TenantKeyGeneration& out) {
    auto wrapped = wrappings.find(kms.KeyId());
    if (wrapped == wrappings.end()) {
        return Status::FailedPrecondition(
            "the key of tenant " + std::to_string(tenant) + " is not wrapped for master key " +
            kms.KeyId() + " but for " + wrappings.begin()->first +
            " (after a master-key rotation, reopen with the new key; if the rotation was "
            "interrupted, run it again)");
    }
    auto unwrapped = kms.UnwrapWithNamedKey(kms_key, wrapped->second);
    if (!unwrapped.ok()) {
        return unwrapped.status();
    }
    if (unwrapped->size() != kKeyBytes || KeyFingerprint(*unwrapped) != dek_id) {
        return Status::FailedPrecondition("the KMS key '" + kms_key +
                                          "' unwrapped a key that is not the data key of tenant " +
                                          std::to_string(tenant));
    }
    out.generation = generation;
    PHENIX_ASSIGN_OR_RETURN(out.gcm, AesGcm::Create(*unwrapped));
    out.key = std::move(*unwrapped);
    return Status::Ok();
}

// A new random data key under a new named key in the KMS. The KMS key comes first: a crash
// before the caller writes the record leaves only an unused key in the KMS, never a record that
// no key can open.
Result<TenantKeyVersion> NewKeyVersion(Kms& kms, std::uint32_t tenant) {
    TenantKeyVersion version;
    std::uint8_t suffix[8];
    PHENIX_RETURN_IF_ERROR(RandomBytes(suffix, sizeof(suffix)));
    version.kms_key =
        "t" + std::to_string(tenant) + "-" +
        HexEncode(std::string_view(reinterpret_cast<const char*>(suffix), sizeof(suffix)));
    PHENIX_ASSIGN_OR_RETURN(SecretBytes data_key, RandomSecret(kKeyBytes));
    version.dek_id = KeyFingerprint(data_key);
    PHENIX_RETURN_IF_ERROR(kms.CreateNamedKey(version.kms_key));
    PHENIX_ASSIGN_OR_RETURN(version.wrapped[kms.KeyId()],
                            kms.WrapWithNamedKey(version.kms_key, data_key));
    return version;
}

}  // namespace

Result<std::shared_ptr<const TenantKeyring::TenantKey>> TenantKeyring::Load(
    const TenantKeyRecord& record) {
    auto key = std::make_shared<TenantKey>();
    Status current = UnwrapGeneration(*kms_, record.tenant, record.generation, record.kms_key,
                                      record.dek_id, record.wrapped, *key);
    if (!current.ok()) {
        const std::string why = current.IsNotFound()
                                    ? "its key '" + record.kms_key +
                                          "' is not in the KMS (the tenant was crypto-shredded, "
                                          "or this is not the KMS that holds its key)"
                                    : current.message();
        return Status::FailedPrecondition("the data of tenant " + std::to_string(record.tenant) +
                                          " cannot be decrypted: " + why);
    }
    for (const auto& [generation, version] : record.older) {
        auto older = std::make_shared<TenantKeyGeneration>();
        Status loaded = UnwrapGeneration(*kms_, record.tenant, generation, version.kms_key,
                                         version.dek_id, version.wrapped, *older);
        if (loaded.IsNotFound()) {
            continue;  // a Retire that crashed after destroying it: nothing under it is read
        }
        PHENIX_RETURN_IF_ERROR(loaded.WithContext("the older data key generation " +
                                                  std::to_string(generation) + " of tenant " +
                                                  std::to_string(record.tenant)));
        key->older.emplace(generation, std::move(older));
    }
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
        PHENIX_RETURN_IF_ERROR(CheckMasterKeyCurrent("make a new tenant's key"));
        PHENIX_ASSIGN_OR_RETURN(TenantKeyVersion version, NewKeyVersion(*kms_, tenant));
        TenantKeyRecord fresh;
        fresh.tenant = tenant;
        fresh.kms_key = std::move(version.kms_key);
        fresh.dek_id = std::move(version.dek_id);
        fresh.wrapped = std::move(version.wrapped);
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
    std::vector<std::string> named_keys{record->kms_key};
    for (const auto& [generation, version] : record->older) {
        named_keys.push_back(version.kms_key);
    }
    for (const std::string& named_key : named_keys) {
        if (Status destroyed = kms_->DestroyNamedKey(named_key);
            !destroyed.ok() && !destroyed.IsNotFound()) {
            return destroyed.WithContext("crypto-shredding tenant " + std::to_string(tenant));
        }
    }
    PHENIX_SYNC_POINT("TenantKeyring::Shred:AfterDestroy");
    const std::string path = RecordPath(data_dir_, tenant);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return Status::IOError("cannot delete the tenant key file " + path + ": " +
                               std::strerror(errno));
    }
    return SyncDirectory(TenantKeysDir(data_dir_));
}

Result<std::uint8_t> TenantKeyring::Rotate(std::uint32_t tenant) {
    const std::string name = "tenant " + std::to_string(tenant);
    if (read_only_) {
        return Status::FailedPrecondition("a read-only database cannot rotate the data key of " +
                                          name);
    }
    MutexLock change(change_mu_);
    auto record = ReadTenantKeyRecord(data_dir_, tenant);
    if (record.status().IsNotFound()) {
        return Status::NotFound(name + " has no data key yet (nothing of it is encrypted)");
    }
    PHENIX_RETURN_IF_ERROR(record.status());
    if (!record->older.empty()) {
        return Status::FailedPrecondition(
            "the data key of " + name + " is already being rotated (generation " +
            std::to_string(record->older.begin()->first) +
            " still holds payloads); wait until the re-encryption finishes");
    }
    PHENIX_RETURN_IF_ERROR(CheckMasterKeyCurrent("rotate the data key of " + name));
    PHENIX_ASSIGN_OR_RETURN(TenantKeyVersion fresh, NewKeyVersion(*kms_, tenant));
    TenantKeyVersion& previous = record->older[record->generation];
    previous.kms_key = std::move(record->kms_key);
    previous.dek_id = std::move(record->dek_id);
    previous.wrapped = std::move(record->wrapped);
    record->generation = NextKeyGeneration(record->generation);
    record->kms_key = std::move(fresh.kms_key);
    record->dek_id = std::move(fresh.dek_id);
    record->wrapped = std::move(fresh.wrapped);
    PHENIX_RETURN_IF_ERROR(ReplaceRecordLocked(*record));
    return record->generation;
}

Status TenantKeyring::Retire(std::uint32_t tenant, std::uint8_t generation) {
    const std::string name = "tenant " + std::to_string(tenant);
    if (read_only_) {
        return Status::FailedPrecondition("a read-only database cannot retire a data key of " +
                                          name);
    }
    MutexLock change(change_mu_);
    auto record = ReadTenantKeyRecord(data_dir_, tenant);
    if (record.status().IsNotFound()) {
        return Status::Ok();
    }
    PHENIX_RETURN_IF_ERROR(record.status());
    if (generation == record->generation) {
        return Status::FailedPrecondition("generation " + std::to_string(generation) +
                                          " is the current data key of " + name);
    }
    auto older = record->older.find(generation);
    if (older == record->older.end()) {
        return Status::Ok();
    }
    PHENIX_RETURN_IF_ERROR(
        CheckMasterKeyCurrent("retire data key generation " + std::to_string(generation)));
    // The KMS key first: once it is gone no copy of the record opens the generation; a crash
    // before the record is rewritten leaves an entry that Load skips and the next Retire drops.
    if (Status destroyed = kms_->DestroyNamedKey(older->second.kms_key);
        !destroyed.ok() && !destroyed.IsNotFound()) {
        return destroyed.WithContext("destroying data key generation " +
                                     std::to_string(generation) + " of " + name);
    }
    PHENIX_SYNC_POINT("TenantKeyring::Retire:AfterDestroy");
    record->older.erase(older);
    return ReplaceRecordLocked(*record);
}

Status TenantKeyring::ReplaceRecordLocked(const TenantKeyRecord& record) {
    PHENIX_RETURN_IF_ERROR(WriteTenantKeyRecord(data_dir_, record));
    PHENIX_ASSIGN_OR_RETURN(std::shared_ptr<const TenantKey> key, Load(record));
    WriterMutexLock lock(mu_);
    keys_[record.tenant] = std::move(key);
    return Status::Ok();
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

namespace {

// Master-key rotation of one generation of a tenant's key: adds its wrapping for `new_kms` and
// keeps only the old one beside it. Ok without change when it is already moved, or when the old
// KMS no longer holds its named key (a shred or a retire that crashed half-way: nothing to move).
Status MigrateKeyVersion(Kms& old_kms, Kms& new_kms, std::uint32_t tenant,
                         TenantKeyVersion& version, bool& changed) {
    if (version.wrapped.contains(new_kms.KeyId())) {
        return Status::Ok();  // moved by an earlier, interrupted run
    }
    auto old_wrapped = version.wrapped.find(old_kms.KeyId());
    if (old_wrapped == version.wrapped.end()) {
        return Status::FailedPrecondition("the key of tenant " + std::to_string(tenant) +
                                          " is not wrapped for the current master key " +
                                          old_kms.KeyId());
    }
    auto data_key = old_kms.UnwrapWithNamedKey(version.kms_key, old_wrapped->second);
    if (data_key.status().IsNotFound()) {
        return Status::Ok();
    }
    PHENIX_RETURN_IF_ERROR(data_key.status());
    if (Status created = new_kms.CreateNamedKey(version.kms_key);
        !created.ok() && created.code() != StatusCode::kAlreadyExists) {
        return created;
    }
    PHENIX_ASSIGN_OR_RETURN(std::string wrapped,
                            new_kms.WrapWithNamedKey(version.kms_key, *data_key));
    PHENIX_ASSIGN_OR_RETURN(SecretBytes check,
                            new_kms.UnwrapWithNamedKey(version.kms_key, wrapped));
    if (KeyFingerprint(check) != version.dek_id) {
        return Status::Internal("the new KMS did not round-trip the key of tenant " +
                                std::to_string(tenant));
    }
    // Old and new wrapping side by side: a crash before DIR/keys/data_key names the new master
    // key leaves the old one working. Older wrappings go.
    std::string old_bytes = std::move(old_wrapped->second);
    version.wrapped.clear();
    version.wrapped[old_kms.KeyId()] = std::move(old_bytes);
    version.wrapped[new_kms.KeyId()] = std::move(wrapped);
    changed = true;
    return Status::Ok();
}

}  // namespace

Status MigrateTenantKeys(const std::string& data_dir, Kms& old_kms, Kms& new_kms) {
    PHENIX_ASSIGN_OR_RETURN(std::vector<std::uint32_t> tenants,
                            TenantKeyring(data_dir, nullptr, true).Tenants());
    for (std::uint32_t tenant : tenants) {
        PHENIX_ASSIGN_OR_RETURN(TenantKeyRecord record, ReadTenantKeyRecord(data_dir, tenant));
        bool changed = false;
        TenantKeyVersion current{.kms_key = record.kms_key,
                                 .dek_id = record.dek_id,
                                 .wrapped = std::move(record.wrapped)};
        PHENIX_RETURN_IF_ERROR(MigrateKeyVersion(old_kms, new_kms, tenant, current, changed));
        record.wrapped = std::move(current.wrapped);
        for (auto& [generation, version] : record.older) {
            PHENIX_RETURN_IF_ERROR(MigrateKeyVersion(old_kms, new_kms, tenant, version, changed));
        }
        if (changed) {
            PHENIX_RETURN_IF_ERROR(WriteTenantKeyRecord(data_dir, record));
        }
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
