// SPDX-License-Identifier: Apache-2.0
//
// SecurityCatalog: the durable home of tenants' custom roles, grants, API keys (decision 0017,
// docs/security.md "Roles, grants and API keys") and quotas (decision 0023).
//
// Storage: one text file in the data directory (DIR/SECURITY), rewritten whole on every change —
// written to DIR/SECURITY.tmp, fsynced, renamed over DIR/SECURITY, and the directory fsynced — so
// a change is acknowledged only once it is durable, and a crash (kill -9, power loss) leaves either
// the old or the new file, never a torn one. The file ends with the SHA-256 of its contents; a
// file that does not match is DataLoss at open (the server refuses to start rather than run with
// fewer grants or keys than were acknowledged). It travels with the data directory (backups copy
// the directory). The catalog is small (roles, grants and keys are administered by hand or by
// deployment scripts), so a whole-file rewrite per change is cheap.
//
// Reads: every request's authentication and authorization read Snapshot(), an immutable
// CatalogData swapped atomically (under a short lock) after each durable change; a change never
// blocks readers for longer than a pointer copy.
//
// Names: tenants as the engine accepts them (or kClusterTenant for keys of cluster
// administrators), role names `[A-Za-z_][A-Za-z0-9_-]*` (at most 64 bytes) other than the built-in
// admin, writer, reader; collections as the engine accepts them. A grant names a collection, or
// none for the whole tenant. Dropping a role drops its grants and unbinds it from the tenant's API
// keys (a role created again under that name does not apply to keys made before; JWTs name roles
// by their `roles` claim and do get it).
//
// Thread safety: thread-safe. Mutations are serialized by a mutex; the file has one writer (the
// process holding the data directory's lock).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <phenix/result.h>
#include <phenix/status.h>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "security/principal.h"

namespace phenix::security {

inline constexpr std::string_view kSecurityCatalogFileName = "SECURITY";

struct RoleRecord {
    std::string tenant;
    std::string name;
    /// Granted on the whole tenant by the role's definition (CREATE ROLE ... WITH PERMISSIONS).
    std::vector<Permission> permissions;
    std::int64_t created_ms = 0;
};

struct GrantRecord {
    std::string tenant;
    std::string role;
    Permission permission = Permission::kRead;
    std::string collection;  ///< empty: the whole tenant

    auto operator<=>(const GrantRecord&) const = default;
    bool operator==(const GrantRecord&) const = default;
};

struct ApiKeyRecord {
    std::string id;  ///< 16 hex digits
    std::string tenant;
    std::vector<std::string> roles;
    std::string salt;  ///< hex
    std::string hash;  ///< hex HMAC-SHA256(salt, secret)
    std::string created_by;
    std::int64_t created_ms = 0;
    std::int64_t expires_ms = 0;  ///< 0: never
    std::int64_t revoked_ms = 0;  ///< 0: not revoked
};

/// A tenant's quotas (docs/security.md "Quotas", decision 0023). 0 in a field: no limit.
struct TenantQuota {
    std::uint64_t max_entities = 0;         ///< live entities across the tenant's collections
    std::uint64_t max_bytes = 0;            ///< RocksDB's size estimate of the tenant's collections
    std::uint32_t requests_per_second = 0;  ///< the whole tenant's requests
    std::uint32_t principal_requests_per_second = 0;  ///< each principal's (API key, JWT sub)

    [[nodiscard]] bool empty() const {
        return max_entities == 0 && max_bytes == 0 && requests_per_second == 0 &&
               principal_requests_per_second == 0;
    }
    bool operator==(const TenantQuota&) const = default;
};

/// One immutable state of the catalog.
struct CatalogData {
    std::map<std::pair<std::string, std::string>, RoleRecord> roles;  ///< (tenant, name)
    std::set<GrantRecord> grants;
    std::map<std::string, ApiKeyRecord, std::less<>> keys;  ///< by id
    std::map<std::string, TenantQuota, std::less<>> quotas;  ///< by tenant; no empty ones

    /// The tenant's quota; null when it has none.
    [[nodiscard]] const TenantQuota* FindQuota(std::string_view tenant) const;

    [[nodiscard]] const RoleRecord* FindRole(std::string_view tenant, std::string_view name) const;
};

/// What CreateApiKey answers: the key, shown once, and its record (without the secret).
struct CreatedApiKey {
    std::string key;  ///< phx_<id>_<secret>
    ApiKeyRecord record;
};

/// True for admin, writer, reader.
bool IsBuiltinRole(std::string_view role);

/// InvalidArgument unless `name` is a valid custom role name (see above).
Status ValidateRoleName(std::string_view name);

/// Serializes / parses the catalog file's text (exposed for tests).
std::string EncodeCatalog(const CatalogData& data);
Result<CatalogData> DecodeCatalog(std::string_view text);

class SecurityCatalog {
  public:
    /// Loads DIR/SECURITY from `directory` (an empty catalog when absent); every change is written
    /// back there. An empty `directory` keeps the catalog in memory only (tests, embedded use).
    static Result<std::unique_ptr<SecurityCatalog>> Open(std::string directory);

    /// An empty catalog in memory; Load attaches it to a data directory.
    SecurityCatalog();

    /// Loads DIR/SECURITY from `directory` (nothing when absent) in place of the current state, and
    /// writes every later change there. The server constructs its catalog before the data
    /// directory is open (authenticators hold a reference) and loads it once it is.
    Status Load(std::string directory);

    /// The current state: immutable, cheap to take.
    [[nodiscard]] std::shared_ptr<const CatalogData> Snapshot() const;

    /// AlreadyExists, InvalidArgument (bad or built-in name).
    Status CreateRole(std::string_view tenant, std::string_view name,
                      const std::vector<Permission>& permissions, std::int64_t now_ms);
    /// NotFound; drops the role's grants too, and removes it from the roles of the tenant's keys.
    Status DropRole(std::string_view tenant, std::string_view name);
    /// Grants `permission` on `collection` (empty: the whole tenant) to a custom role of the
    /// tenant. NotFound for an unknown role, InvalidArgument for a built-in one; granting twice is
    /// OK (idempotent).
    Status Grant(std::string_view tenant, std::string_view role, Permission permission,
                 std::string_view collection);
    /// NotFound when no such grant exists.
    Status Revoke(std::string_view tenant, std::string_view role, Permission permission,
                  std::string_view collection);
    /// A new key of `tenant` bound to `roles` (built-in or custom roles of the tenant; at least
    /// one). expires_ms 0: never; else it must be after now_ms.
    Result<CreatedApiKey> CreateApiKey(std::string_view tenant,
                                       const std::vector<std::string>& roles,
                                       std::int64_t expires_ms, std::string_view created_by,
                                       std::int64_t now_ms);
    /// Revokes key `id` of `tenant` (empty tenant: any tenant's, for cluster administrators).
    /// NotFound (also for another tenant's key), OK when already revoked.
    Status RevokeApiKey(std::string_view tenant, std::string_view id, std::int64_t now_ms);
    /// Sets `tenant`'s quotas (replacing the previous ones; an empty quota removes them).
    /// InvalidArgument for a bad tenant name or the cluster pseudo-tenant.
    Status SetQuota(std::string_view tenant, const TenantQuota& quota);
    /// Removes every role, grant, key and quota of `tenant` (when the tenant is deleted).
    Status DropTenant(std::string_view tenant);

    /// The file the catalog lives in; empty when in memory.
    [[nodiscard]] std::string path() const;

  private:
    template <typename Change>
    Status Mutate(Change&& change);
    Status Persist(const CatalogData& data) REQUIRES(write_mu_);

    mutable Mutex write_mu_;  // serializes mutations (read, change, persist, publish) and Load
    std::string directory_ GUARDED_BY(write_mu_);
    std::string path_ GUARDED_BY(write_mu_);
    mutable Mutex snapshot_mu_;
    std::shared_ptr<const CatalogData> snapshot_ GUARDED_BY(snapshot_mu_);
};

}  // namespace phenix::security
