// SPDX-License-Identifier: Apache-2.0
//
// The keys a JWT may be verified with, and the one function that checks a signature with one.
// Sources: a JWKS file (RFC 7517: {"keys": [...]}, a `kid` on every key), an optional PEM public
// key file, and an optional HS256 secret file. Each key fixes its algorithm: RSA keys (>= 2048
// bits) verify RS256, EC P-256 keys ES256, OKP Ed25519 keys EdDSA, and the configured secret
// HS256. A token's header `alg` must name its key's algorithm (jwt.cc); it never chooses one.
//
// Verification uses OpenSSL 3's EVP API directly. Loading fails with InvalidArgument naming the
// file and the problem (an unsupported kty/crv/alg, a short RSA key, a symmetric key in the
// JWKS, a duplicate or missing kid, bad base64url, a point off the curve).
//
// KeySet is an immutable value once built; share it (const) across threads freely.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace phenix::security {

enum class JwsAlgorithm : std::uint8_t { kRs256, kEs256, kEdDsa, kHs256 };

/// "RS256", "ES256", "EdDSA", "HS256".
std::string_view JwsAlgorithmName(JwsAlgorithm algorithm);

/// The smallest RSA modulus a key may have.
inline constexpr int kMinRsaBits = 2048;
/// The shortest HS256 secret accepted.
inline constexpr std::size_t kMinHs256SecretBytes = 32;

struct PublicKeyDeleter {
    void operator()(evp_pkey_st* key) const;
};

struct VerificationKey {
    std::string kid;  ///< empty for the PEM key file and the HS256 secret
    JwsAlgorithm algorithm = JwsAlgorithm::kRs256;
    std::unique_ptr<evp_pkey_st, PublicKeyDeleter> public_key;  ///< null for HS256
    std::string secret;                                         ///< HS256 only
    std::string origin;  ///< for messages: "JWKS key 'k1'", "public key file x.pem", ...
};

struct KeySet {
    std::vector<VerificationKey> keys;

    /// The key with this kid, or null.
    [[nodiscard]] const VerificationKey* FindKid(std::string_view kid) const;
};

/// Parses a JWKS document. `file` only names it in messages.
Result<KeySet> ParseJwks(std::string_view json, std::string_view file);
/// Reads and parses a JWKS file (InvalidArgument also for a file that cannot be read).
Result<KeySet> LoadJwksFile(const std::string& file);
/// A PEM "PUBLIC KEY" (SubjectPublicKeyInfo) file holding an RSA, P-256 or Ed25519 key.
Result<VerificationKey> LoadPemPublicKey(const std::string& file);
/// The HS256 secret: the file's bytes without trailing CR/LF, at least kMinHs256SecretBytes.
Result<VerificationKey> LoadHs256Secret(const std::string& file);

/// OK when `signature` (the decoded third JWS segment) is the key's signature of
/// `signing_input` (the first two segments and the dot). Unauthenticated with the reason
/// otherwise (a bad signature, a wrong signature length, an ES256 signature not in the JOSE
/// raw r||s form).
Status VerifySignature(const VerificationKey& key, std::string_view signing_input,
                       std::string_view signature);

}  // namespace phenix::security
