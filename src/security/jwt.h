// SPDX-License-Identifier: Apache-2.0
//
// JwtAuthenticator: a bearer JWT (RFC 7519, JWS compact serialization) in, a Principal out.
// docs/security.md "Authentication: JWT" is the user-facing description.
//
// Keys (jwks.h): a JWKS file (reloaded when it changes), an optional PEM public key file and an
// optional HS256 secret file; at least one. The KEY decides the algorithm (RSA -> RS256, P-256
// -> ES256, Ed25519 -> EdDSA, the secret -> HS256); the token's header `alg` must name exactly
// that algorithm, so `alg: none`, unknown algorithms and HS/RS key confusion are refused.
// Key choice: the header's `kid` names a JWKS key. An HS256 token whose kid is absent or not in
// the JWKS uses the secret (the JWKS never holds symmetric keys). Any other token without a kid
// is refused when the JWKS holds several keys; otherwise exactly one key (the one JWKS key or
// the PEM key) may match its alg. The header alg must always match the chosen key.
//
// Parsing is strict: at most max_token_bytes (checked before anything else), exactly three
// non-empty base64url segments without padding, header and payload JSON objects without
// duplicate keys, no `crit` header. Claims: `exp` (required), `nbf` and `iat` (optional),
// NumericDate numbers, compared with `leeway`; `iss` and `aud` (a string or an array of
// strings) when configured; `sub` and `tenant` non-empty strings (tenant "*" = the cluster
// tenant); `roles` an array of strings (absent = none).
//
// Every refusal is Status::Unauthenticated with the precise reason, for the audit log only.
//
// JWKS reload: the file's identity (inode, size, mtime) is checked at most once per
// reload_check_interval from Authenticate, and once more right away (rate-limited to the same
// interval) when a token names an unknown kid. A changed file is parsed; a good one replaces the
// key set atomically, so tokens of a key removed from the file stop verifying, a new kid starts
// verifying. A bad one keeps the last good set, and State() says why (for the server to log).
//
// Thread-safe: Authenticate is called from every worker. The key set is an immutable
// shared_ptr swapped under mu_; the file check runs under reload_mu_, never under mu_.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <phenix/result.h>

#include "common/mutex.h"
#include "security/authenticator.h"
#include "security/token_cache.h"

namespace phenix::security {

struct KeySet;

struct JwtOptions {
    std::string jwks_file;          ///< JWKS ({"keys":[...]}, a kid per key); reloaded on change
    std::string public_key_file;    ///< optional PEM public key (RSA >= 2048, P-256, Ed25519)
    std::string hs256_secret_file;  ///< optional; HS256 is refused unless this is set
    std::string issuer;             ///< when non-empty, `iss` must equal it
    std::string audience;           ///< when non-empty, `aud` must be it or contain it
    std::chrono::seconds leeway{60};
    std::size_t max_token_bytes = 16384;
    /// How often Authenticate looks at the JWKS file (and the unknown-kid recheck's rate limit).
    std::chrono::milliseconds reload_check_interval{1000};
    /// The time exp/nbf/iat are compared with; empty = std::chrono::system_clock::now (tests
    /// inject a fixed clock).
    std::function<std::chrono::system_clock::time_point()> clock;
};

class JwtAuthenticator final : public Authenticator {
  public:
    /// Loads every configured key. InvalidArgument naming the file and the problem for a bad
    /// JWKS, key or secret file, or when no key source is configured.
    static Result<std::unique_ptr<JwtAuthenticator>> Open(JwtOptions options);

    ~JwtAuthenticator() override;
    JwtAuthenticator(const JwtAuthenticator&) = delete;
    JwtAuthenticator& operator=(const JwtAuthenticator&) = delete;

    Result<Principal> Authenticate(const Credentials& credentials) override;

    struct KeySetState {
        std::size_t num_keys = 0;       ///< keys in use now (all sources)
        std::uint64_t num_reloads = 0;  ///< successful JWKS reloads since Open
        Status last_reload;             ///< OK, or why the last reload failed (old keys kept)
    };
    /// For the server's log: the key set in use and how the last JWKS reload went.
    [[nodiscard]] KeySetState State() const;

    /// Authentications answered from the verified-token cache since Open (token_cache.h).
    [[nodiscard]] std::uint64_t num_cache_hits() const { return cache_.hits(); }

    /// Checks the JWKS file now, ignoring the interval; reloads it when it changed. Returns the
    /// reload's failure (the previous keys stay in use) or OK (also when nothing changed).
    Status ReloadIfChanged();

  private:
    struct FileIdentity {
        std::uint64_t device = 0, inode = 0, size = 0;
        std::int64_t mtime_ns = 0;
        bool operator==(const FileIdentity&) const = default;
    };

    JwtAuthenticator(JwtOptions options, std::unique_ptr<const KeySet> static_keys);

    // The JWKS keys and their generation (bumped whenever they are replaced), read together.
    std::pair<std::shared_ptr<const KeySet>, std::uint64_t> Keys() const;
    // Unix seconds of options_.clock (or the system clock).
    [[nodiscard]] std::int64_t NowSeconds() const;
    // The periodic check (unknown_kid = false) or the unknown-kid one.
    void MaybeReload(bool unknown_kid);
    Status CheckFileLocked(bool force) REQUIRES(reload_mu_);
    // Verifies against the JWKS keys (may be null) and static_keys_; sets *unknown_kid when the
    // token names a kid the JWKS lacks. On success, *validity receives the token's time window.
    Result<Principal> Verify(std::string_view token, const KeySet* jwks, bool* unknown_kid,
                             VerifiedTokenCache::Validity* validity) const;

    // Immutable after construction.
    const JwtOptions options_;
    const std::unique_ptr<const KeySet> static_keys_;  // the PEM key and the secret; never reloaded

    mutable Mutex mu_;
    // The JWKS keys (null without a JWKS file); shared with in-flight Verify calls.
    std::shared_ptr<const KeySet> keys_ GUARDED_BY(mu_);
    std::uint64_t key_generation_ GUARDED_BY(mu_) = 0;
    std::uint64_t num_reloads_ GUARDED_BY(mu_) = 0;
    Status last_reload_ GUARDED_BY(mu_);

    Mutex reload_mu_;  // taken before mu_, never the other way
    FileIdentity jwks_identity_ GUARDED_BY(reload_mu_);
    // steady_clock nanoseconds of the next periodic check: a hint read without reload_mu_
    // (relaxed: a stale value only moves one check by one call), rewritten under it.
    std::atomic<std::int64_t> next_check_ns_{0};
    std::chrono::steady_clock::time_point next_unknown_kid_check_ GUARDED_BY(reload_mu_);

    VerifiedTokenCache cache_;
};

}  // namespace phenix::security
