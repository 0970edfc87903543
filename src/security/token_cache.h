// SPDX-License-Identifier: Apache-2.0
//
// VerifiedTokenCache: bearer tokens that verified recently, and the principal each maps to, so
// that a client sending the same token on every request pays for its signature check and its
// JSON once (docs/security.md "Authentication: JWT"; measured in docs/benchmarks.md).
//
// A hit needs the byte-identical token (compared in constant time after a keyed-hash lookup:
// the seed is random per cache, so a client cannot aim tokens at one bucket), the same key-set
// generation it verified under (a JWKS reload that drops a key drops every hit on it), and a
// time still inside the token's validity (exp and nbf, with the leeway) — so a cached token
// expires exactly when an uncached one would. Refusals are never cached.
//
// Bounded: at most max_entries tokens of at most max_token_bytes each; when full, an arbitrary
// entry makes room. Thread-safe (one mutex; the critical section is a hash lookup and a copy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "security/principal.h"

namespace phenix::security {

class VerifiedTokenCache {
  public:
    struct Validity {
        std::int64_t not_after = 0;  ///< a hit needs now < not_after (exp + leeway), seconds
        /// and now >= not_before (nbf - leeway; the lowest value when the token has no nbf)
        std::int64_t not_before = std::numeric_limits<std::int64_t>::min();
    };

    explicit VerifiedTokenCache(std::size_t max_entries = 4096, std::size_t max_token_bytes = 4096);

    /// The principal `token` verified as under key-set `generation`, if it is cached and valid
    /// at `now` (Unix seconds). An entry found expired is dropped.
    std::optional<Principal> Find(std::string_view token, std::uint64_t generation,
                                  std::int64_t now);
    /// Remembers a token that just verified (longer tokens than max_token_bytes are not kept).
    void Insert(std::string_view token, std::uint64_t generation, const Principal& principal,
                Validity validity);

    [[nodiscard]] std::size_t size() const;
    [[nodiscard]] std::uint64_t hits() const;

  private:
    struct Entry {
        std::string token;
        std::uint64_t generation = 0;
        Principal principal;
        Validity validity;
    };
    [[nodiscard]] std::uint64_t Hash(std::string_view token) const;

    const std::size_t max_entries_;
    const std::size_t max_token_bytes_;
    const std::uint64_t seed_;
    mutable Mutex mu_;
    // Keyed by the seeded hash; a collision only costs a miss (the token is compared in full).
    std::unordered_map<std::uint64_t, Entry> entries_ GUARDED_BY(mu_);
    std::uint64_t hits_ GUARDED_BY(mu_) = 0;
};

}  // namespace phenix::security
