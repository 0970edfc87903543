// SPDX-License-Identifier: Apache-2.0
//
// API keys for services (docs/security.md "Roles, grants and API keys", decision 0017).
//
// A key is `phx_<id>_<secret>`: <id> is 16 hex digits (8 random bytes) naming the key in the
// security catalog, <secret> 64 hex digits (32 bytes from RAND_bytes). The whole key is shown once,
// when it is created; the catalog keeps only a per-key random salt (16 bytes) and
// HMAC-SHA256(salt, secret). A 256-bit random secret needs no slow password hash: the salt keeps
// two catalogs' hashes unrelated and precomputation useless. Verification recomputes the MAC and
// compares it with CRYPTO_memcmp (constant time).
//
// ApiKeyAuthenticator turns a bearer starting with "phx_" into the Principal of the key: subject
// "apikey:<id>", the key's tenant and roles, AuthMethod::kApiKey. Failures are Unauthenticated
// with the precise reason (malformed, unknown key id, revoked, expired, bad secret) for the audit
// log; the server answers every one with the same generic 401.
//
// Thread safety: free functions are thread-safe; ApiKeyAuthenticator is, as the catalog is.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <phenix/result.h>

#include "security/authenticator.h"

namespace phenix::security {

class SecurityCatalog;

inline constexpr std::string_view kApiKeyPrefix = "phx_";
inline constexpr std::size_t kApiKeyIdHexLength = 16;
inline constexpr std::size_t kApiKeySecretHexLength = 64;

/// A key's parts: `phx_<id>_<secret>`.
struct ApiKeyParts {
    std::string id;
    std::string secret;
};

/// Splits a bearer into its id and secret; InvalidArgument "malformed API key" unless it is
/// exactly phx_ + 16 lowercase hex + _ + 64 lowercase hex.
Result<ApiKeyParts> ParseApiKey(std::string_view key);

/// `bytes` random bytes from OpenSSL's RAND_bytes, as lowercase hex; Internal if RAND fails.
Result<std::string> RandomHex(std::size_t bytes);

/// HMAC-SHA256(salt, secret) as lowercase hex (salt in hex, as stored).
Result<std::string> HashApiKeySecret(std::string_view salt_hex, std::string_view secret);

/// True when HMAC-SHA256(salt, secret) equals `hash_hex`; compares in constant time.
bool VerifyApiKeySecret(std::string_view salt_hex, std::string_view hash_hex,
                        std::string_view secret);

/// Authenticates bearers of the form phx_<id>_<secret> against the catalog's keys.
class ApiKeyAuthenticator final : public Authenticator {
  public:
    using Clock = std::function<std::chrono::system_clock::time_point()>;
    /// `catalog` must outlive the authenticator; `clock` defaults to the system clock.
    explicit ApiKeyAuthenticator(const SecurityCatalog& catalog, Clock clock = {});

    /// True for a bearer this authenticator handles (starts with "phx_").
    static bool Handles(std::string_view bearer) { return bearer.starts_with(kApiKeyPrefix); }

    Result<Principal> Authenticate(const Credentials& credentials) override;

  private:
    const SecurityCatalog& catalog_;
    Clock clock_;
};

}  // namespace phenix::security
