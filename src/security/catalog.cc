// SPDX-License-Identifier: Apache-2.0
#include "security/catalog.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <openssl/evp.h>

#include "common/hex.h"
#include "common/sync_point.h"
#include "security/api_keys.h"
#include "security/digest.h"

namespace phenix::security {
namespace {

constexpr std::string_view kMagic = "phenix-security-catalog 1\n";
constexpr std::string_view kEndTag = "end ";

bool IsNameChar(char c, bool first) {
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    return first ? alpha : alpha || (c >= '0' && c <= '9') || c == '-';
}

bool IsName(std::string_view name) {
    if (name.empty() || name.size() > 64) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (!IsNameChar(name[i], i == 0)) {
            return false;
        }
    }
    return true;
}

Status ValidateTenantName(std::string_view tenant) {
    if (tenant == kClusterTenant || IsName(tenant)) {
        return Status::Ok();
    }
    return Status::InvalidArgument("invalid tenant name '" + std::string(tenant) + "'");
}

Status ValidateCollectionName(std::string_view collection) {
    if (collection.empty() || IsName(collection)) {
        return Status::Ok();
    }
    return Status::InvalidArgument("invalid collection name '" + std::string(collection) + "'");
}

std::string JoinPermissions(const std::vector<Permission>& permissions) {
    if (permissions.empty()) {
        return "-";
    }
    std::string out;
    for (Permission permission : permissions) {
        out += (out.empty() ? "" : ",") + std::string(PermissionName(permission));
    }
    return out;
}

std::vector<std::string> Split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find(separator, start);
        parts.emplace_back(text.substr(start, end - start));
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
    return parts;
}

std::string JoinNames(const std::vector<std::string>& names) {
    if (names.empty()) {
        return "-";
    }
    std::string out;
    for (const std::string& name : names) {
        out += (out.empty() ? "" : ",") + name;
    }
    return out;
}

std::optional<std::int64_t> ParseInt(std::string_view text) {
    if (text.empty() || text.size() > 19) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    return value;
}

Status Corrupt(std::string_view why) {
    return Status::Corruption("the security catalog is corrupt: " + std::string(why));
}

void SortUnique(std::vector<Permission>& permissions) {
    std::sort(permissions.begin(), permissions.end());
    permissions.erase(std::unique(permissions.begin(), permissions.end()), permissions.end());
}

Status ErrnoStatus(std::string_view what, const std::string& path) {
    return Status::IOError(std::string(what) + " " + path + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
    while (!data.empty()) {
        const ssize_t written = ::write(fd, data.data(), data.size());
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            return ErrnoStatus("writing", path);
        }
        data.remove_prefix(static_cast<std::size_t>(written));
    }
    return Status::Ok();
}

Status FsyncPath(const std::string& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) {
        return ErrnoStatus("opening", path);
    }
    const int rc = ::fsync(fd);
    const Status status = rc == 0 ? Status::Ok() : ErrnoStatus("syncing", path);
    ::close(fd);
    return status;
}

}  // namespace

bool IsBuiltinRole(std::string_view role) {
    return role == kRoleAdmin || role == kRoleWriter || role == kRoleReader;
}

Status ValidateRoleName(std::string_view name) {
    if (!IsName(name)) {
        return Status::InvalidArgument(
            "invalid role name '" + std::string(name) +
            "': a letter or '_', then letters, digits, '_' and '-'; at most 64 bytes");
    }
    if (IsBuiltinRole(name)) {
        return Status::InvalidArgument("role '" + std::string(name) +
                                       "' is built in and cannot be redefined or granted to");
    }
    return Status::Ok();
}

const RoleRecord* CatalogData::FindRole(std::string_view tenant, std::string_view name) const {
    auto it = roles.find({std::string(tenant), std::string(name)});
    return it == roles.end() ? nullptr : &it->second;
}

const TenantQuota* CatalogData::FindQuota(std::string_view tenant) const {
    auto it = quotas.find(tenant);
    return it == quotas.end() ? nullptr : &it->second;
}

std::string EncodeCatalog(const CatalogData& data) {
    std::ostringstream out;
    out << kMagic;
    for (const auto& [key, role] : data.roles) {
        out << "role " << role.tenant << ' ' << role.name << ' ' << role.created_ms << ' '
            << JoinPermissions(role.permissions) << '\n';
    }
    for (const GrantRecord& grant : data.grants) {
        out << "grant " << grant.tenant << ' ' << grant.role << ' '
            << PermissionName(grant.permission) << ' '
            << (grant.collection.empty() ? "*" : grant.collection) << '\n';
    }
    for (const auto& [id, key] : data.keys) {
        out << "key " << key.id << ' ' << key.tenant << ' ' << JoinNames(key.roles) << ' '
            << key.salt << ' ' << key.hash << ' ' << key.created_ms << ' ' << key.expires_ms << ' '
            << key.revoked_ms << ' ' << (key.created_by.empty() ? "-" : hex::Encode(key.created_by))
            << '\n';
    }
    for (const auto& [tenant, quota] : data.quotas) {
        out << "quota " << tenant << ' ' << quota.max_entities << ' ' << quota.max_bytes << ' '
            << quota.requests_per_second << ' ' << quota.principal_requests_per_second << '\n';
    }
    std::string text = out.str();
    text += std::string(kEndTag) + Sha256Hex(text) + "\n";
    return text;
}

Result<CatalogData> DecodeCatalog(std::string_view text) {
    if (!text.starts_with(kMagic)) {
        return Corrupt("it does not start with '" +
                       std::string(kMagic.substr(0, kMagic.size() - 1)) + "'");
    }
    const std::size_t end = text.rfind(kEndTag);
    if (end == std::string_view::npos || (end > 0 && text[end - 1] != '\n') ||
        !text.ends_with('\n')) {
        return Corrupt("its checksum line is missing (a truncated file)");
    }
    const std::string_view body = text.substr(0, end);
    const std::string_view sum =
        text.substr(end + kEndTag.size(), text.size() - end - kEndTag.size() - 1);
    if (Sha256Hex(body) != sum) {
        return Corrupt("its checksum does not match its contents");
    }
    CatalogData data;
    std::size_t line_number = 1;
    for (const std::string& line : Split(body.substr(kMagic.size()), '\n')) {
        ++line_number;
        if (line.empty()) {
            continue;
        }
        const std::vector<std::string> f = Split(line, ' ');
        auto bad = [&]() {
            return Corrupt("line " + std::to_string(line_number) + " is malformed");
        };
        if (f[0] == "role" && f.size() == 5) {
            RoleRecord role{.tenant = f[1], .name = f[2]};
            auto created = ParseInt(f[3]);
            if (!created) {
                return bad();
            }
            role.created_ms = *created;
            if (f[4] != "-") {
                for (const std::string& name : Split(f[4], ',')) {
                    auto permission = ParsePermission(name);
                    if (!permission) {
                        return bad();
                    }
                    role.permissions.push_back(*permission);
                }
            }
            data.roles[{role.tenant, role.name}] = std::move(role);
        } else if (f[0] == "grant" && f.size() == 5) {
            auto permission = ParsePermission(f[3]);
            if (!permission) {
                return bad();
            }
            data.grants.insert(GrantRecord{.tenant = f[1],
                                           .role = f[2],
                                           .permission = *permission,
                                           .collection = f[4] == "*" ? "" : f[4]});
        } else if (f[0] == "key" && f.size() == 10) {
            ApiKeyRecord key{.id = f[1], .tenant = f[2], .salt = f[4], .hash = f[5]};
            if (f[3] != "-") {
                key.roles = Split(f[3], ',');
            }
            auto created = ParseInt(f[6]);
            auto expires = ParseInt(f[7]);
            auto revoked = ParseInt(f[8]);
            std::optional<std::string> by =
                f[9] == "-" ? std::optional<std::string>("") : hex::Decode(f[9]);
            if (!created || !expires || !revoked || !by) {
                return bad();
            }
            key.created_ms = *created;
            key.expires_ms = *expires;
            key.revoked_ms = *revoked;
            key.created_by = std::move(*by);
            data.keys[key.id] = std::move(key);
        } else if (f[0] == "quota" && f.size() == 6) {
            auto entities = ParseInt(f[2]);
            auto bytes = ParseInt(f[3]);
            auto rate = ParseInt(f[4]);
            auto principal_rate = ParseInt(f[5]);
            constexpr std::int64_t kMaxRate = 0xffffffffLL;
            if (!entities || !bytes || !rate || !principal_rate || *rate > kMaxRate ||
                *principal_rate > kMaxRate) {
                return bad();
            }
            data.quotas[f[1]] = TenantQuota{
                .max_entities = static_cast<std::uint64_t>(*entities),
                .max_bytes = static_cast<std::uint64_t>(*bytes),
                .requests_per_second = static_cast<std::uint32_t>(*rate),
                .principal_requests_per_second = static_cast<std::uint32_t>(*principal_rate)};
        } else {
            return bad();
        }
    }
    return data;
}

SecurityCatalog::SecurityCatalog() : snapshot_(std::make_shared<const CatalogData>()) {}

Result<std::unique_ptr<SecurityCatalog>> SecurityCatalog::Open(std::string directory) {
    auto catalog = std::make_unique<SecurityCatalog>();
    PHENIX_RETURN_IF_ERROR(catalog->Load(std::move(directory)));
    return catalog;
}

Status SecurityCatalog::Load(std::string directory) {
    MutexLock lock(write_mu_);
    CatalogData data;
    std::string path;
    if (!directory.empty()) {
        path = directory + "/" + std::string(kSecurityCatalogFileName);
        ::unlink((path + ".tmp").c_str());  // a change that crashed before its rename
        errno = 0;
        std::ifstream in(path, std::ios::binary);
        if (in) {
            std::stringstream text;
            text << in.rdbuf();
            if (in.bad()) {
                return Status::IOError("reading " + path);
            }
            auto decoded = DecodeCatalog(text.str());
            if (!decoded.ok()) {
                return decoded.status().WithContext(path);
            }
            data = std::move(*decoded);
        } else if (errno != ENOENT) {
            return ErrnoStatus("opening", path);
        }
    }
    directory_ = std::move(directory);
    path_ = std::move(path);
    auto next = std::make_shared<const CatalogData>(std::move(data));
    MutexLock snapshot_lock(snapshot_mu_);
    snapshot_ = std::move(next);
    return Status::Ok();
}

std::string SecurityCatalog::path() const {
    MutexLock lock(write_mu_);
    return path_;
}

std::shared_ptr<const CatalogData> SecurityCatalog::Snapshot() const {
    MutexLock lock(snapshot_mu_);
    return snapshot_;
}

Status SecurityCatalog::Persist(const CatalogData& data) {
    if (path_.empty()) {
        return Status::Ok();
    }
    const std::string text = EncodeCatalog(data);
    const std::string tmp = path_ + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return ErrnoStatus("creating", tmp);
    }
    Status status = WriteAll(fd, text, tmp);
    if (status.ok() && ::fsync(fd) != 0) {
        status = ErrnoStatus("syncing", tmp);
    }
    ::close(fd);
    if (!status.ok()) {
        ::unlink(tmp.c_str());
        return status;
    }
    PHENIX_SYNC_POINT("SecurityCatalog::Persist:BeforeRename");
    if (::rename(tmp.c_str(), path_.c_str()) != 0) {
        status = ErrnoStatus("renaming", tmp);
        ::unlink(tmp.c_str());
        return status;
    }
    return FsyncPath(directory_, O_RDONLY | O_DIRECTORY);
}

template <typename Change>
Status SecurityCatalog::Mutate(Change&& change) {
    MutexLock lock(write_mu_);
    CatalogData data = *Snapshot();
    Status changed = change(data);
    if (!changed.ok()) {
        return changed;
    }
    PHENIX_RETURN_IF_ERROR(Persist(data).WithContext("saving the security catalog"));
    auto next = std::make_shared<const CatalogData>(std::move(data));
    MutexLock snapshot_lock(snapshot_mu_);
    snapshot_ = std::move(next);
    return Status::Ok();
}

Status SecurityCatalog::CreateRole(std::string_view tenant, std::string_view name,
                                   const std::vector<Permission>& permissions,
                                   std::int64_t now_ms) {
    PHENIX_RETURN_IF_ERROR(ValidateTenantName(tenant));
    PHENIX_RETURN_IF_ERROR(ValidateRoleName(name));
    return Mutate([&](CatalogData& data) {
        if (data.FindRole(tenant, name) != nullptr) {
            return Status::AlreadyExists("role '" + std::string(name) + "' already exists");
        }
        RoleRecord role{.tenant = std::string(tenant),
                        .name = std::string(name),
                        .permissions = permissions,
                        .created_ms = now_ms};
        SortUnique(role.permissions);
        data.roles[{role.tenant, role.name}] = std::move(role);
        return Status::Ok();
    });
}

Status SecurityCatalog::DropRole(std::string_view tenant, std::string_view name) {
    if (IsBuiltinRole(name)) {
        return ValidateRoleName(name);
    }
    return Mutate([&](CatalogData& data) {
        if (data.roles.erase({std::string(tenant), std::string(name)}) == 0) {
            return Status::NotFound("role '" + std::string(name) + "' does not exist");
        }
        std::erase_if(data.grants, [&](const GrantRecord& grant) {
            return grant.tenant == tenant && grant.role == name;
        });
        // Keys bind the role itself, not its name: dropping it unbinds it from the tenant's keys,
        // so a role created again under the name does not widen a key made before (decision
        // 0017).
        for (auto& [id, key] : data.keys) {
            if (key.tenant == tenant) {
                std::erase(key.roles, name);
            }
        }
        return Status::Ok();
    });
}

Status SecurityCatalog::Grant(std::string_view tenant, std::string_view role, Permission permission,
                              std::string_view collection) {
    PHENIX_RETURN_IF_ERROR(ValidateRoleName(role));
    PHENIX_RETURN_IF_ERROR(ValidateCollectionName(collection));
    return Mutate([&](CatalogData& data) {
        if (data.FindRole(tenant, role) == nullptr) {
            return Status::NotFound("role '" + std::string(role) + "' does not exist");
        }
        data.grants.insert(GrantRecord{.tenant = std::string(tenant),
                                       .role = std::string(role),
                                       .permission = permission,
                                       .collection = std::string(collection)});
        return Status::Ok();
    });
}

Status SecurityCatalog::Revoke(std::string_view tenant, std::string_view role,
                               Permission permission, std::string_view collection) {
    PHENIX_RETURN_IF_ERROR(ValidateRoleName(role));
    return Mutate([&](CatalogData& data) {
        const GrantRecord grant{.tenant = std::string(tenant),
                                .role = std::string(role),
                                .permission = permission,
                                .collection = std::string(collection)};
        if (data.grants.erase(grant) == 0) {
            return Status::NotFound("role '" + std::string(role) + "' holds no grant of '" +
                                    std::string(PermissionName(permission)) + "' on " +
                                    (collection.empty() ? std::string("the tenant")
                                                        : "'" + std::string(collection) + "'"));
        }
        return Status::Ok();
    });
}

Result<CreatedApiKey> SecurityCatalog::CreateApiKey(std::string_view tenant,
                                                    const std::vector<std::string>& roles,
                                                    std::int64_t expires_ms,
                                                    std::string_view created_by,
                                                    std::int64_t now_ms) {
    PHENIX_RETURN_IF_ERROR(ValidateTenantName(tenant));
    if (roles.empty()) {
        return Status::InvalidArgument("an API key needs at least one role");
    }
    if (expires_ms != 0 && expires_ms <= now_ms) {
        return Status::InvalidArgument("an API key's expiry must be in the future");
    }
    PHENIX_ASSIGN_OR_RETURN(std::string id, RandomHex(kApiKeyIdHexLength / 2));
    PHENIX_ASSIGN_OR_RETURN(std::string secret, RandomHex(kApiKeySecretHexLength / 2));
    PHENIX_ASSIGN_OR_RETURN(std::string salt, RandomHex(16));
    PHENIX_ASSIGN_OR_RETURN(std::string hash, HashApiKeySecret(salt, secret));
    CreatedApiKey created;
    created.key = std::string(kApiKeyPrefix) + id + "_" + secret;
    created.record = ApiKeyRecord{.id = id,
                                  .tenant = std::string(tenant),
                                  .roles = roles,
                                  .salt = std::move(salt),
                                  .hash = std::move(hash),
                                  .created_by = std::string(created_by),
                                  .created_ms = now_ms,
                                  .expires_ms = expires_ms};
    std::sort(created.record.roles.begin(), created.record.roles.end());
    created.record.roles.erase(
        std::unique(created.record.roles.begin(), created.record.roles.end()),
        created.record.roles.end());
    Status stored = Mutate([&](CatalogData& data) {
        for (const std::string& role : created.record.roles) {
            if (!IsBuiltinRole(role) && data.FindRole(tenant, role) == nullptr) {
                return Status::NotFound("role '" + role + "' does not exist");
            }
        }
        if (data.keys.contains(id)) {  // 2^-64 per pair: retry rather than reuse
            return Status::Aborted("API key id collision; try again");
        }
        data.keys[id] = created.record;
        return Status::Ok();
    });
    if (!stored.ok()) {
        return stored;
    }
    return created;
}

Status SecurityCatalog::RevokeApiKey(std::string_view tenant, std::string_view id,
                                     std::int64_t now_ms) {
    return Mutate([&](CatalogData& data) {
        auto it = data.keys.find(id);
        if (it == data.keys.end() || (!tenant.empty() && it->second.tenant != tenant)) {
            return Status::NotFound("API key '" + std::string(id) + "' does not exist");
        }
        if (it->second.revoked_ms == 0) {
            it->second.revoked_ms = now_ms;
        }
        return Status::Ok();
    });
}

Status SecurityCatalog::SetQuota(std::string_view tenant, const TenantQuota& quota) {
    if (tenant == kClusterTenant) {
        return Status::InvalidArgument("quotas apply to tenants, not to the cluster ('*')");
    }
    PHENIX_RETURN_IF_ERROR(ValidateTenantName(tenant));
    constexpr std::uint64_t kMaxQuota = 0x7fffffffffffffffULL;  // the file's integers are int64
    if (quota.max_entities > kMaxQuota || quota.max_bytes > kMaxQuota) {
        return Status::InvalidArgument("a quota must be at most " + std::to_string(kMaxQuota));
    }
    return Mutate([&](CatalogData& data) {
        if (quota.empty()) {
            data.quotas.erase(std::string(tenant));
        } else {
            data.quotas[std::string(tenant)] = quota;
        }
        return Status::Ok();
    });
}

Status SecurityCatalog::DropTenant(std::string_view tenant) {
    return Mutate([&](CatalogData& data) {
        data.quotas.erase(std::string(tenant));
        std::erase_if(data.roles, [&](const auto& entry) { return entry.first.first == tenant; });
        std::erase_if(data.grants,
                      [&](const GrantRecord& grant) { return grant.tenant == tenant; });
        std::erase_if(data.keys, [&](const auto& entry) { return entry.second.tenant == tenant; });
        return Status::Ok();
    });
}

}  // namespace phenix::security
