// SPDX-License-Identifier: Apache-2.0
#include "security/jwks.h"

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "security/jose.h"

namespace phenix::security {

void PublicKeyDeleter::operator()(evp_pkey_st* key) const {
    EVP_PKEY_free(key);
}

std::string_view JwsAlgorithmName(JwsAlgorithm algorithm) {
    switch (algorithm) {
        case JwsAlgorithm::kRs256:
            return "RS256";
        case JwsAlgorithm::kEs256:
            return "ES256";
        case JwsAlgorithm::kEdDsa:
            return "EdDSA";
        case JwsAlgorithm::kHs256:
            return "HS256";
    }
    return "?";
}

const VerificationKey* KeySet::FindKid(std::string_view kid) const {
    for (const VerificationKey& key : keys) {
        if (!key.kid.empty() && key.kid == kid) {
            return &key;
        }
    }
    return nullptr;
}

namespace {

using nlohmann::json;
using PublicKey = std::unique_ptr<evp_pkey_st, PublicKeyDeleter>;

constexpr std::size_t kMaxKeyFileBytes = 1 << 20;
constexpr std::size_t kP256CoordinateBytes = 32;
constexpr std::size_t kEd25519KeyBytes = 32;
constexpr std::size_t kSha256Bytes = 32;

struct BnDeleter {
    void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct ParamBldDeleter {
    void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamDeleter {
    void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxDeleter {
    void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct BioDeleter {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct EcdsaSigDeleter {
    void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

const unsigned char* Bytes(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

Result<std::string> ReadSmallFile(const std::string& file, std::string_view what) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return Status::InvalidArgument(std::string(what) + " " + file + ": cannot be read");
    }
    std::string data;
    char buffer[4096];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        data.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (data.size() > kMaxKeyFileBytes) {
            return Status::InvalidArgument(std::string(what) + " " + file + ": larger than " +
                                           std::to_string(kMaxKeyFileBytes) + " bytes");
        }
    }
    if (in.bad()) {
        return Status::InvalidArgument(std::string(what) + " " + file + ": read error");
    }
    return data;
}

// A required base64url member of a JWK, decoded.
Result<std::string> Member(const json& jwk, const char* name) {
    const auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string()) {
        return Status::InvalidArgument(std::string("member '") + name +
                                       "' is missing or not a string");
    }
    auto decoded = jose::Base64UrlDecode(it->get_ref<const std::string&>());
    if (!decoded.ok()) {
        return Status::InvalidArgument(std::string("member '") + name +
                                       "': " + decoded.status().message());
    }
    if (decoded->empty()) {
        return Status::InvalidArgument(std::string("member '") + name + "' is empty");
    }
    return decoded;
}

int KeyBits(const PublicKey& key) {
    return EVP_PKEY_get_bits(key.get());
}

Status CheckRsaSize(const PublicKey& key) {
    if (KeyBits(key) < kMinRsaBits) {
        return Status::InvalidArgument("RSA key of " + std::to_string(KeyBits(key)) +
                                       " bits (at least " + std::to_string(kMinRsaBits) +
                                       " required)");
    }
    return Status::Ok();
}

Result<PublicKey> RsaFromJwk(const json& jwk) {
    PHENIX_ASSIGN_OR_RETURN(const std::string n, Member(jwk, "n"));
    PHENIX_ASSIGN_OR_RETURN(const std::string e, Member(jwk, "e"));
    std::unique_ptr<BIGNUM, BnDeleter> bn_n(
        BN_bin2bn(Bytes(n), static_cast<int>(n.size()), nullptr));
    std::unique_ptr<BIGNUM, BnDeleter> bn_e(
        BN_bin2bn(Bytes(e), static_cast<int>(e.size()), nullptr));
    std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
        return Status::InvalidArgument("RSA parameters rejected by OpenSSL");
    }
    std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld.get()));
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        return Status::InvalidArgument("RSA parameters rejected by OpenSSL");
    }
    PublicKey key(raw);
    PHENIX_RETURN_IF_ERROR(CheckRsaSize(key));
    return key;
}

Result<PublicKey> EcFromJwk(const json& jwk) {
    const auto crv = jwk.find("crv");
    if (crv == jwk.end() || !crv->is_string() || crv->get_ref<const std::string&>() != "P-256") {
        return Status::InvalidArgument(
            "EC key whose crv is not \"P-256\" (only ES256 is supported)");
    }
    PHENIX_ASSIGN_OR_RETURN(const std::string x, Member(jwk, "x"));
    PHENIX_ASSIGN_OR_RETURN(const std::string y, Member(jwk, "y"));
    if (x.size() != kP256CoordinateBytes || y.size() != kP256CoordinateBytes) {
        return Status::InvalidArgument("P-256 coordinates must be 32 bytes each");
    }
    std::string point = "\x04" + x + y;
    char group[] = "prime256v1";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
        OSSL_PARAM_construct_end()};
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* raw = nullptr;
    // OSSL_PARAM arrays are read only here, but the API takes them non-const.
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) !=
            1) {
        return Status::InvalidArgument("P-256 point rejected by OpenSSL (not on the curve?)");
    }
    PublicKey key(raw);
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> check(
        EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) {
        return Status::InvalidArgument("P-256 public key fails OpenSSL's check");
    }
    return key;
}

Result<PublicKey> OkpFromJwk(const json& jwk) {
    const auto crv = jwk.find("crv");
    if (crv == jwk.end() || !crv->is_string() || crv->get_ref<const std::string&>() != "Ed25519") {
        return Status::InvalidArgument("OKP key whose crv is not \"Ed25519\"");
    }
    PHENIX_ASSIGN_OR_RETURN(const std::string x, Member(jwk, "x"));
    if (x.size() != kEd25519KeyBytes) {
        return Status::InvalidArgument("Ed25519 key 'x' must be 32 bytes");
    }
    PublicKey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(x), x.size()));
    if (!key) {
        return Status::InvalidArgument("Ed25519 key rejected by OpenSSL");
    }
    return key;
}

// One JWK -> a key; the caller prefixes the file and the key's position.
Result<VerificationKey> KeyFromJwk(const json& jwk) {
    if (!jwk.is_object()) {
        return Status::InvalidArgument("not a JSON object");
    }
    const auto kid = jwk.find("kid");
    if (kid == jwk.end() || !kid->is_string() || kid->get_ref<const std::string&>().empty()) {
        return Status::InvalidArgument("no 'kid' (a non-empty string is required on every key)");
    }
    VerificationKey key;
    key.kid = kid->get<std::string>();
    key.origin = "JWKS key '" + key.kid + "'";
    for (const char* private_member : {"d", "p", "q", "dp", "dq", "qi", "k"}) {
        if (jwk.contains(private_member)) {
            if (std::string_view(private_member) == "k") {
                return Status::InvalidArgument(
                    "symmetric keys do not belong in a JWKS (configure an HS256 secret file)");
            }
            return Status::InvalidArgument(std::string("holds private key material ('") +
                                           private_member + "'): publish public keys only");
        }
    }
    const auto use = jwk.find("use");
    if (use != jwk.end() && (!use->is_string() || use->get_ref<const std::string&>() != "sig")) {
        return Status::InvalidArgument("'use' is not \"sig\"");
    }
    const auto kty = jwk.find("kty");
    if (kty == jwk.end() || !kty->is_string()) {
        return Status::InvalidArgument("no 'kty'");
    }
    const std::string& type = kty->get_ref<const std::string&>();
    if (type == "RSA") {
        key.algorithm = JwsAlgorithm::kRs256;
        PHENIX_ASSIGN_OR_RETURN(key.public_key, RsaFromJwk(jwk));
    } else if (type == "EC") {
        key.algorithm = JwsAlgorithm::kEs256;
        PHENIX_ASSIGN_OR_RETURN(key.public_key, EcFromJwk(jwk));
    } else if (type == "OKP") {
        key.algorithm = JwsAlgorithm::kEdDsa;
        PHENIX_ASSIGN_OR_RETURN(key.public_key, OkpFromJwk(jwk));
    } else if (type == "oct") {
        return Status::InvalidArgument(
            "symmetric keys do not belong in a JWKS (configure an HS256 secret file)");
    } else {
        return Status::InvalidArgument("unsupported kty \"" + type.substr(0, 32) + "\"");
    }
    const auto alg = jwk.find("alg");
    if (alg != jwk.end()) {
        if (!alg->is_string() ||
            alg->get_ref<const std::string&>() != JwsAlgorithmName(key.algorithm)) {
            return Status::InvalidArgument("'alg' does not match the key: a " + type +
                                           " key verifies " +
                                           std::string(JwsAlgorithmName(key.algorithm)) + " only");
        }
    }
    return key;
}

}  // namespace

Result<KeySet> ParseJwks(std::string_view text, std::string_view file) {
    const std::string where = "JWKS file " + std::string(file);
    auto document = jose::ParseStrictJson(text);
    if (!document.ok()) {
        return Status::InvalidArgument(where + ": " + document.status().message());
    }
    const auto keys = document->is_object() ? document->find("keys") : document->end();
    if (!document->is_object() || keys == document->end() || !keys->is_array()) {
        return Status::InvalidArgument(where + ": not a JSON object with a \"keys\" array");
    }
    if (keys->empty()) {
        return Status::InvalidArgument(where + ": \"keys\" is empty");
    }
    KeySet set;
    std::set<std::string> kids;
    std::size_t position = 0;
    for (const json& jwk : *keys) {
        auto key = KeyFromJwk(jwk);
        if (!key.ok()) {
            return Status::InvalidArgument(where + ": key " + std::to_string(position) + ": " +
                                           key.status().message());
        }
        if (!kids.insert(key->kid).second) {
            return Status::InvalidArgument(where + ": key " + std::to_string(position) +
                                           ": duplicate kid '" + key->kid + "'");
        }
        set.keys.push_back(std::move(key).value());
        ++position;
    }
    return set;
}

Result<KeySet> LoadJwksFile(const std::string& file) {
    PHENIX_ASSIGN_OR_RETURN(const std::string text, ReadSmallFile(file, "JWKS file"));
    return ParseJwks(text, file);
}

Result<VerificationKey> LoadPemPublicKey(const std::string& file) {
    PHENIX_ASSIGN_OR_RETURN(const std::string text, ReadSmallFile(file, "public key file"));
    const std::string where = "public key file " + file;
    std::unique_ptr<BIO, BioDeleter> bio(
        BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    VerificationKey key;
    key.origin = where;
    key.public_key.reset(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key.public_key) {
        return Status::InvalidArgument(where +
                                       ": not a PEM public key (-----BEGIN PUBLIC KEY-----)");
    }
    if (EVP_PKEY_is_a(key.public_key.get(), "RSA") == 1) {
        key.algorithm = JwsAlgorithm::kRs256;
        const Status size = CheckRsaSize(key.public_key);
        if (!size.ok()) {
            return Status::InvalidArgument(where + ": " + size.message());
        }
    } else if (EVP_PKEY_is_a(key.public_key.get(), "EC") == 1) {
        char group[64] = {};
        std::size_t length = 0;
        if (EVP_PKEY_get_utf8_string_param(key.public_key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group,
                                           sizeof group, &length) != 1 ||
            (std::string_view(group) != "prime256v1" && std::string_view(group) != "P-256")) {
            return Status::InvalidArgument(where +
                                           ": EC key not on P-256 (only ES256 is supported)");
        }
        key.algorithm = JwsAlgorithm::kEs256;
    } else if (EVP_PKEY_is_a(key.public_key.get(), "ED25519") == 1) {
        key.algorithm = JwsAlgorithm::kEdDsa;
    } else {
        return Status::InvalidArgument(where + ": unsupported key type (RSA, P-256 or Ed25519)");
    }
    return key;
}

Result<VerificationKey> LoadHs256Secret(const std::string& file) {
    PHENIX_ASSIGN_OR_RETURN(std::string secret, ReadSmallFile(file, "HS256 secret file"));
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
        secret.pop_back();
    }
    if (secret.size() < kMinHs256SecretBytes) {
        return Status::InvalidArgument("HS256 secret file " + file + ": " +
                                       std::to_string(secret.size()) + " bytes (at least " +
                                       std::to_string(kMinHs256SecretBytes) + " required)");
    }
    VerificationKey key;
    key.algorithm = JwsAlgorithm::kHs256;
    key.secret = std::move(secret);
    key.origin = "HS256 secret file " + file;
    return key;
}

namespace {

Status DigestVerify(const VerificationKey& key, const EVP_MD* md, std::string_view signing_input,
                    std::string_view signature) {
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.public_key.get()) != 1) {
        return Status::Unauthenticated("OpenSSL could not set up verification with " + key.origin);
    }
    if (EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(signing_input),
                         signing_input.size()) != 1) {
        return Status::Unauthenticated("signature does not verify with " + key.origin);
    }
    return Status::Ok();
}

// JOSE's ES256 signature is r||s, 32 bytes each (RFC 7518 §3.4); OpenSSL wants DER.
Result<std::string> EcdsaRawToDer(std::string_view raw) {
    if (raw.size() != 2 * kP256CoordinateBytes) {
        return Status::Unauthenticated("ES256 signature of " + std::to_string(raw.size()) +
                                       " bytes (64, r||s, required)");
    }
    std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(Bytes(raw), static_cast<int>(kP256CoordinateBytes), nullptr);
    BIGNUM* s = BN_bin2bn(Bytes(raw.substr(kP256CoordinateBytes)),
                          static_cast<int>(kP256CoordinateBytes), nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return Status::Unauthenticated("ES256 signature rejected by OpenSSL");
    }
    unsigned char* der = nullptr;
    const int length = i2d_ECDSA_SIG(sig.get(), &der);
    if (length <= 0) {
        return Status::Unauthenticated("ES256 signature rejected by OpenSSL");
    }
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
    OPENSSL_free(der);
    return out;
}

}  // namespace

Status VerifySignature(const VerificationKey& key, std::string_view signing_input,
                       std::string_view signature) {
    switch (key.algorithm) {
        case JwsAlgorithm::kRs256: {
            const int expected = EVP_PKEY_get_size(key.public_key.get());
            if (expected <= 0 || signature.size() != static_cast<std::size_t>(expected)) {
                return Status::Unauthenticated(
                    "RS256 signature of " + std::to_string(signature.size()) + " bytes (" +
                    std::to_string(expected) + " expected for " + key.origin + ")");
            }
            return DigestVerify(key, EVP_sha256(), signing_input, signature);
        }
        case JwsAlgorithm::kEs256: {
            PHENIX_ASSIGN_OR_RETURN(const std::string der, EcdsaRawToDer(signature));
            return DigestVerify(key, EVP_sha256(), signing_input, der);
        }
        case JwsAlgorithm::kEdDsa:
            if (signature.size() != 64) {
                return Status::Unauthenticated("EdDSA signature of " +
                                               std::to_string(signature.size()) +
                                               " bytes (64 required)");
            }
            return DigestVerify(key, nullptr, signing_input, signature);
        case JwsAlgorithm::kHs256: {
            if (signature.size() != kSha256Bytes) {
                return Status::Unauthenticated("HS256 signature of " +
                                               std::to_string(signature.size()) +
                                               " bytes (32 required)");
            }
            unsigned char mac[EVP_MAX_MD_SIZE];
            unsigned int mac_length = 0;
            if (HMAC(EVP_sha256(), key.secret.data(), static_cast<int>(key.secret.size()),
                     Bytes(signing_input), signing_input.size(), mac, &mac_length) == nullptr ||
                mac_length != kSha256Bytes) {
                return Status::Unauthenticated("HMAC-SHA256 failed in OpenSSL");
            }
            if (CRYPTO_memcmp(mac, signature.data(), kSha256Bytes) != 0) {
                return Status::Unauthenticated("signature does not verify with " + key.origin);
            }
            return Status::Ok();
        }
    }
    return Status::Unauthenticated("unsupported algorithm");
}

}  // namespace phenix::security
