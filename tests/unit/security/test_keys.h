// SPDX-License-Identifier: Apache-2.0
//
// Test-only JOSE helpers: keys generated with OpenSSL, their JWKs, and signing, so the JWT tests
// (jwt_test.cc) and the fuzz target (tests/fuzz/jwt_fuzz.cc) can mint any token, good or bad.
// Header-only; aborts on an OpenSSL failure (tests only).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "security/jose.h"

namespace phenix::security::testing {

inline void Require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "test_keys.h: %s failed\n", what);
        std::abort();
    }
}

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

enum class KeyKind { kRsa, kEc, kEd25519 };

inline Pkey GenerateRsa(unsigned int bits) {
    Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
    Require(key != nullptr, "RSA keygen");
    return key;
}
inline Pkey GenerateEc() {
    Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    Require(key != nullptr, "EC keygen");
    return key;
}
inline Pkey GenerateEd25519() {
    Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    Require(key != nullptr, "Ed25519 keygen");
    return key;
}

inline std::string B64(std::string_view bytes) {
    return jose::Base64UrlEncode(bytes);
}

inline std::string BnBytes(EVP_PKEY* key, const char* name, int pad_to) {
    BIGNUM* bn = nullptr;
    Require(EVP_PKEY_get_bn_param(key, name, &bn) == 1, name);
    const int size = pad_to > 0 ? pad_to : BN_num_bytes(bn);
    std::string out(static_cast<std::size_t>(size), '\0');
    Require(BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), size) == size, "pad");
    BN_free(bn);
    return out;
}

/// The public JWK of `key` (a JSON object text) with this kid; `extra` is appended inside the
/// object verbatim (e.g. R"(,"alg":"RS256")").
inline std::string PublicJwk(EVP_PKEY* key, std::string_view kid, std::string_view extra = "") {
    std::string body;
    if (EVP_PKEY_is_a(key, "RSA") == 1) {
        body = R"("kty":"RSA","n":")" + B64(BnBytes(key, OSSL_PKEY_PARAM_RSA_N, 0)) + R"(","e":")" +
               B64(BnBytes(key, OSSL_PKEY_PARAM_RSA_E, 0)) + "\"";
    } else if (EVP_PKEY_is_a(key, "EC") == 1) {
        body = R"("kty":"EC","crv":"P-256","x":")" +
               B64(BnBytes(key, OSSL_PKEY_PARAM_EC_PUB_X, 32)) + R"(","y":")" +
               B64(BnBytes(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32)) + "\"";
    } else {
        unsigned char raw[32];
        std::size_t length = sizeof raw;
        Require(EVP_PKEY_get_raw_public_key(key, raw, &length) == 1, "raw Ed25519");
        body = R"("kty":"OKP","crv":"Ed25519","x":")" +
               B64(std::string_view(reinterpret_cast<const char*>(raw), length)) + "\"";
    }
    return "{" + body + R"(,"kid":")" + std::string(kid) + "\"" + std::string(extra) + "}";
}

/// The PEM SubjectPublicKeyInfo of `key`.
inline std::string PublicPem(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    Require(bio != nullptr && PEM_write_bio_PUBKEY(bio, key) == 1, "PEM");
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(length));
    BIO_free(bio);
    return out;
}

/// A signature over `input` with `key`: RS256 for RSA, ES256 (JOSE raw r||s unless `der`) for
/// P-256, EdDSA for Ed25519.
inline std::string Sign(EVP_PKEY* key, std::string_view input, bool der = false) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool is_ed = EVP_PKEY_is_a(key, "ED25519") == 1;
    Require(EVP_DigestSignInit(ctx, nullptr, is_ed ? nullptr : EVP_sha256(), nullptr, key) == 1,
            "sign init");
    std::size_t length = 0;
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    Require(EVP_DigestSign(ctx, nullptr, &length, data, input.size()) == 1, "sign size");
    std::string sig(length, '\0');
    Require(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &length, data,
                           input.size()) == 1,
            "sign");
    sig.resize(length);
    EVP_MD_CTX_free(ctx);
    if (EVP_PKEY_is_a(key, "EC") != 1 || der) {
        return sig;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    Require(parsed != nullptr, "DER signature");
    std::string raw(64, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    Require(BN_bn2binpad(ECDSA_SIG_get0_r(parsed), out, 32) == 32 &&
                BN_bn2binpad(ECDSA_SIG_get0_s(parsed), out + 32, 32) == 32,
            "r||s");
    ECDSA_SIG_free(parsed);
    return raw;
}

inline std::string HmacSha256(std::string_view secret, std::string_view input) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    Require(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                 reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                 &length) != nullptr,
            "HMAC");
    return std::string(reinterpret_cast<const char*>(mac), length);
}

/// header.payload (both raw JSON texts, encoded here) without the signature.
inline std::string SigningInput(std::string_view header_json, std::string_view payload_json) {
    return B64(header_json) + "." + B64(payload_json);
}

/// A compact JWS signed with `key`.
inline std::string Mint(EVP_PKEY* key, std::string_view header_json, std::string_view payload_json,
                        bool der = false) {
    const std::string input = SigningInput(header_json, payload_json);
    return input + "." + B64(Sign(key, input, der));
}

/// A compact JWS with an HMAC-SHA256 signature keyed by `secret`.
inline std::string MintHs256(std::string_view secret, std::string_view header_json,
                             std::string_view payload_json) {
    const std::string input = SigningInput(header_json, payload_json);
    return input + "." + B64(HmacSha256(secret, input));
}

}  // namespace phenix::security::testing
