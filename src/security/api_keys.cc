// SPDX-License-Identifier: Apache-2.0
#include "security/api_keys.h"

#include <optional>
#include <string>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/hex.h"
#include "security/catalog.h"

namespace phenix::security {
namespace {

bool IsLowerHex(std::string_view text) {
    for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

std::string ToHex(const unsigned char* bytes, std::size_t size) {
    return hex::Encode(std::string_view(reinterpret_cast<const char*>(bytes), size));
}

// Lowercase hex only (what this file writes) to bytes.
std::optional<std::vector<unsigned char>> FromHex(std::string_view text) {
    if (!IsLowerHex(text)) {
        return std::nullopt;
    }
    std::optional<std::string> bytes = hex::Decode(text);
    if (!bytes.has_value()) {
        return std::nullopt;
    }
    return std::vector<unsigned char>(bytes->begin(), bytes->end());
}

// HMAC-SHA256(salt, secret) raw; empty when the salt is not hex or HMAC fails.
std::vector<unsigned char> Mac(std::string_view salt_hex, std::string_view secret) {
    auto salt = FromHex(salt_hex);
    if (!salt || salt->empty()) {
        return {};
    }
    std::vector<unsigned char> mac(EVP_MAX_MD_SIZE);
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), salt->data(), static_cast<int>(salt->size()),
             reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), mac.data(),
             &size) == nullptr) {
        return {};
    }
    mac.resize(size);
    return mac;
}

}  // namespace

Result<ApiKeyParts> ParseApiKey(std::string_view key) {
    const Status malformed = Status::Unauthenticated("malformed API key");
    if (!key.starts_with(kApiKeyPrefix)) {
        return malformed;
    }
    key.remove_prefix(kApiKeyPrefix.size());
    if (key.size() != kApiKeyIdHexLength + 1 + kApiKeySecretHexLength ||
        key[kApiKeyIdHexLength] != '_') {
        return malformed;
    }
    ApiKeyParts parts{.id = std::string(key.substr(0, kApiKeyIdHexLength)),
                      .secret = std::string(key.substr(kApiKeyIdHexLength + 1))};
    if (!IsLowerHex(parts.id) || !IsLowerHex(parts.secret)) {
        return malformed;
    }
    return parts;
}

Result<std::string> RandomHex(std::size_t bytes) {
    std::vector<unsigned char> buffer(bytes);
    if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
        return Status::Internal("the random generator failed");
    }
    return ToHex(buffer.data(), buffer.size());
}

Result<std::string> HashApiKeySecret(std::string_view salt_hex, std::string_view secret) {
    const std::vector<unsigned char> mac = Mac(salt_hex, secret);
    if (mac.empty()) {
        return Status::Internal("hashing an API key failed");
    }
    return ToHex(mac.data(), mac.size());
}

bool VerifyApiKeySecret(std::string_view salt_hex, std::string_view hash_hex,
                        std::string_view secret) {
    const std::vector<unsigned char> mac = Mac(salt_hex, secret);
    const auto stored = FromHex(hash_hex);
    if (mac.empty() || !stored || stored->size() != mac.size()) {
        return false;
    }
    return CRYPTO_memcmp(mac.data(), stored->data(), mac.size()) == 0;
}

ApiKeyAuthenticator::ApiKeyAuthenticator(const SecurityCatalog& catalog, Clock clock)
    : catalog_(catalog), clock_(std::move(clock)) {
    if (!clock_) {
        clock_ = [] { return std::chrono::system_clock::now(); };
    }
}

Result<Principal> ApiKeyAuthenticator::Authenticate(const Credentials& credentials) {
    PHENIX_ASSIGN_OR_RETURN(ApiKeyParts parts, ParseApiKey(credentials.bearer));
    const std::shared_ptr<const CatalogData> snapshot = catalog_.Snapshot();
    auto it = snapshot->keys.find(parts.id);
    if (it == snapshot->keys.end()) {
        return Status::Unauthenticated("unknown API key id '" + parts.id + "'");
    }
    const ApiKeyRecord& key = it->second;
    // The secret first, so a caller without it learns nothing from revoked/expired (they reach
    // the same generic 401 anyway; the audit log gets the reason).
    if (!VerifyApiKeySecret(key.salt, key.hash, parts.secret)) {
        return Status::Unauthenticated("bad secret for API key '" + key.id + "'");
    }
    if (key.revoked_ms != 0) {
        return Status::Unauthenticated("API key '" + key.id + "' was revoked");
    }
    const std::int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count();
    if (key.expires_ms != 0 && now_ms >= key.expires_ms) {
        return Status::Unauthenticated("API key '" + key.id + "' expired");
    }
    return Principal{.subject = "apikey:" + key.id,
                     .tenant = key.tenant,
                     .roles = key.roles,
                     .method = AuthMethod::kApiKey};
}

}  // namespace phenix::security
