// SPDX-License-Identifier: Apache-2.0
#include "security/token_cache.h"

#include <xxhash.h>

#include <random>

#include <openssl/crypto.h>

namespace phenix::security {
namespace {

std::uint64_t RandomSeed() {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

bool SameBytes(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

VerifiedTokenCache::VerifiedTokenCache(std::size_t max_entries, std::size_t max_token_bytes)
    : max_entries_(max_entries), max_token_bytes_(max_token_bytes), seed_(RandomSeed()) {}

std::uint64_t VerifiedTokenCache::Hash(std::string_view token) const {
    return XXH3_64bits_withSeed(token.data(), token.size(), seed_);
}

std::optional<Principal> VerifiedTokenCache::Find(std::string_view token, std::uint64_t generation,
                                                  std::int64_t now) {
    if (token.size() > max_token_bytes_ || max_entries_ == 0) {
        return std::nullopt;
    }
    const std::uint64_t hash = Hash(token);
    MutexLock lock(mu_);
    const auto it = entries_.find(hash);
    if (it == entries_.end() || !SameBytes(it->second.token, token)) {
        return std::nullopt;
    }
    const Entry& entry = it->second;
    if (entry.generation != generation || now >= entry.validity.not_after ||
        now < entry.validity.not_before) {
        entries_.erase(it);  // verified again (and refused with its reason, or cached anew)
        return std::nullopt;
    }
    ++hits_;
    return entry.principal;
}

void VerifiedTokenCache::Insert(std::string_view token, std::uint64_t generation,
                                const Principal& principal, Validity validity) {
    if (token.size() > max_token_bytes_ || max_entries_ == 0) {
        return;
    }
    const std::uint64_t hash = Hash(token);
    MutexLock lock(mu_);
    if (entries_.size() >= max_entries_ && !entries_.contains(hash)) {
        entries_.erase(entries_.begin());
    }
    entries_.insert_or_assign(hash, Entry{.token = std::string(token),
                                          .generation = generation,
                                          .principal = principal,
                                          .validity = validity});
}

std::size_t VerifiedTokenCache::size() const {
    MutexLock lock(mu_);
    return entries_.size();
}

std::uint64_t VerifiedTokenCache::hits() const {
    MutexLock lock(mu_);
    return hits_;
}

}  // namespace phenix::security
