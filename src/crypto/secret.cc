// SPDX-License-Identifier: Apache-2.0
#include "crypto/secret.h"

#include <cstring>
#include <optional>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/hex.h"

namespace phenix::crypto {

SecretBytes::SecretBytes(const void* data, std::size_t size) : bytes_(size) {
    if (size > 0) {
        std::memcpy(bytes_.data(), data, size);
    }
}

SecretBytes::~SecretBytes() {
    Clear();
}

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
    if (this != &other) {
        Clear();
        bytes_ = other.bytes_;
    }
    return *this;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
    other.bytes_.clear();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
        Clear();
        bytes_ = std::move(other.bytes_);
        other.bytes_.clear();
    }
    return *this;
}

void SecretBytes::Clear() {
    if (!bytes_.empty()) {
        OPENSSL_cleanse(bytes_.data(), bytes_.size());
    }
    bytes_.clear();
}

Result<SecretBytes> RandomSecret(std::size_t n) {
    SecretBytes out(n);
    PHENIX_RETURN_IF_ERROR(RandomBytes(out.data(), n));
    return out;
}

Status RandomBytes(void* out, std::size_t n) {
    if (n == 0) {
        return Status::Ok();
    }
    if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) != 1) {
        return Status::Internal("the random number generator failed (OpenSSL RAND_bytes)");
    }
    return Status::Ok();
}

std::string KeyFingerprint(const SecretBytes& key) {
    static constexpr char kLabel[] = "phenix-key-id";  // hashed with its terminating NUL
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    EVP_DigestUpdate(ctx, kLabel, sizeof(kLabel));
    EVP_DigestUpdate(ctx, key.data(), key.size());
    EVP_DigestFinal_ex(ctx, digest, &digest_len);
    EVP_MD_CTX_free(ctx);
    return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), 8));
}

std::string HexEncode(std::string_view bytes) {
    return hex::Encode(bytes);
}

Result<std::string> HexDecode(std::string_view hex) {
    std::optional<std::string> bytes = hex::Decode(hex);
    if (!bytes.has_value()) {
        return Status::InvalidArgument(hex.size() % 2 != 0
                                           ? "hex text has an odd number of digits"
                                           : "hex text holds a character that is not a hex digit");
    }
    return std::move(*bytes);
}

}  // namespace phenix::crypto
