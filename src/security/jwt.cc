// SPDX-License-Identifier: Apache-2.0
#include "security/jwt.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>

#include <sys/stat.h>

#include "security/jose.h"
#include "security/jwks.h"

namespace phenix::security {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxKidBytes = 256;
constexpr std::size_t kMaxQuotedBytes = 64;

// A name from the token, shortened and without control characters, for a message.
std::string Quote(std::string_view text) {
    std::string out = "'";
    for (const char ch : text.substr(0, kMaxQuotedBytes)) {
        out.push_back(static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f ? '?' : ch);
    }
    if (text.size() > kMaxQuotedBytes) {
        out += "...";
    }
    return out + "'";
}

Status Refuse(std::string reason) {
    return Status::Unauthenticated(std::move(reason));
}

std::optional<JwsAlgorithm> ParseAlgorithm(std::string_view name) {
    for (const JwsAlgorithm algorithm :
         {JwsAlgorithm::kRs256, JwsAlgorithm::kEs256, JwsAlgorithm::kEdDsa, JwsAlgorithm::kHs256}) {
        if (name == JwsAlgorithmName(algorithm)) {
            return algorithm;
        }
    }
    return std::nullopt;
}

bool IsNone(std::string_view name) {
    if (name.size() != 4) {
        return false;
    }
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](char ch) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    });
    return lower == "none";
}

// A NumericDate claim (RFC 7519 §2): a JSON number of seconds since the epoch, possibly
// fractional; clamped far outside any real date so arithmetic cannot overflow.
Result<std::int64_t> NumericDate(const json& claims, const char* name) {
    const auto it = claims.find(name);
    constexpr double kLimit = 1e15;
    if (it->is_number_unsigned()) {
        return static_cast<std::int64_t>(
            std::min<std::uint64_t>(it->get<std::uint64_t>(), static_cast<std::uint64_t>(kLimit)));
    }
    if (it->is_number_integer()) {
        return std::clamp<std::int64_t>(it->get<std::int64_t>(), -static_cast<std::int64_t>(kLimit),
                                        static_cast<std::int64_t>(kLimit));
    }
    if (it->is_number_float() && std::isfinite(it->get<double>())) {
        return static_cast<std::int64_t>(
            std::floor(std::clamp(it->get<double>(), -kLimit, kLimit)));
    }
    return Refuse(std::string("claim '") + name + "' is not a number (NumericDate)");
}

Result<std::string> NonEmptyString(const json& object, const char* name, const char* what) {
    const auto it = object.find(name);
    if (it == object.end()) {
        return Refuse(std::string(what) + " '" + name + "' is missing");
    }
    if (!it->is_string()) {
        return Refuse(std::string(what) + " '" + name + "' is not a string");
    }
    if (it->get_ref<const std::string&>().empty()) {
        return Refuse(std::string(what) + " '" + name + "' is empty");
    }
    return it->get<std::string>();
}

Result<json> DecodeJsonObject(std::string_view segment, const char* what) {
    auto bytes = jose::Base64UrlDecode(segment);
    if (!bytes.ok()) {
        return Refuse(std::string(what) + ": " + bytes.status().message());
    }
    auto value = jose::ParseStrictJson(*bytes);
    if (!value.ok()) {
        return Refuse(std::string(what) + ": " + value.status().message());
    }
    if (!value->is_object()) {
        return Refuse(std::string(what) + " is not a JSON object");
    }
    return std::move(value).value();
}

std::string SecondsText(std::int64_t seconds) {
    return std::to_string(seconds);
}

}  // namespace

JwtAuthenticator::JwtAuthenticator(JwtOptions options, std::unique_ptr<const KeySet> static_keys)
    : options_(std::move(options)), static_keys_(std::move(static_keys)) {}

JwtAuthenticator::~JwtAuthenticator() = default;

Result<std::unique_ptr<JwtAuthenticator>> JwtAuthenticator::Open(JwtOptions options) {
    if (options.jwks_file.empty() && options.public_key_file.empty() &&
        options.hs256_secret_file.empty()) {
        return Status::InvalidArgument(
            "JWT authentication needs a key: a JWKS file, a PEM public key file or an HS256 "
            "secret file");
    }
    if (options.max_token_bytes == 0) {
        return Status::InvalidArgument("JWT max_token_bytes must be positive");
    }
    if (options.leeway.count() < 0) {
        return Status::InvalidArgument("JWT leeway must not be negative");
    }
    auto static_keys = std::make_unique<KeySet>();
    if (!options.public_key_file.empty()) {
        PHENIX_ASSIGN_OR_RETURN(VerificationKey key, LoadPemPublicKey(options.public_key_file));
        static_keys->keys.push_back(std::move(key));
    }
    if (!options.hs256_secret_file.empty()) {
        PHENIX_ASSIGN_OR_RETURN(VerificationKey key, LoadHs256Secret(options.hs256_secret_file));
        static_keys->keys.push_back(std::move(key));
    }
    std::unique_ptr<JwtAuthenticator> authenticator(
        new JwtAuthenticator(std::move(options), std::move(static_keys)));
    if (!authenticator->options_.jwks_file.empty()) {
        MutexLock lock(authenticator->reload_mu_);
        PHENIX_RETURN_IF_ERROR(authenticator->CheckFileLocked(/*force=*/true));
    }
    return authenticator;
}

std::pair<std::shared_ptr<const KeySet>, std::uint64_t> JwtAuthenticator::Keys() const {
    MutexLock lock(mu_);
    return {keys_, key_generation_};
}

std::int64_t JwtAuthenticator::NowSeconds() const {
    const auto now = options_.clock ? options_.clock() : std::chrono::system_clock::now();
    return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

JwtAuthenticator::KeySetState JwtAuthenticator::State() const {
    MutexLock lock(mu_);
    return {.num_keys = static_keys_->keys.size() + (keys_ ? keys_->keys.size() : 0),
            .num_reloads = num_reloads_,
            .last_reload = last_reload_};
}

Status JwtAuthenticator::ReloadIfChanged() {
    if (options_.jwks_file.empty()) {
        return Status::Ok();
    }
    MutexLock lock(reload_mu_);
    return CheckFileLocked(/*force=*/false);
}

Status JwtAuthenticator::CheckFileLocked(bool force) {
    struct stat info {};
    if (::stat(options_.jwks_file.c_str(), &info) != 0) {
        Status failed =
            Status::InvalidArgument("JWKS file " + options_.jwks_file + ": cannot be read");
        MutexLock lock(mu_);
        if (keys_ != nullptr) {
            last_reload_ =
                Status::InvalidArgument(failed.message() + "; keeping the last good keys");
        }
        return failed;
    }
    const FileIdentity identity{
        .device = static_cast<std::uint64_t>(info.st_dev),
        .inode = static_cast<std::uint64_t>(info.st_ino),
        .size = static_cast<std::uint64_t>(info.st_size),
        .mtime_ns = static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 +
                    static_cast<std::int64_t>(info.st_mtim.tv_nsec)};
    if (!force && identity == jwks_identity_) {
        return Status::Ok();
    }
    // Remember the identity even when the parse fails: a bad file is reported once, not on
    // every check; the next change is looked at again.
    jwks_identity_ = identity;
    auto loaded = LoadJwksFile(options_.jwks_file);
    MutexLock lock(mu_);
    if (!loaded.ok()) {
        if (keys_ != nullptr) {
            last_reload_ =
                Status::InvalidArgument(loaded.status().message() + "; keeping the last good keys");
        }
        return loaded.status();
    }
    const bool is_reload = keys_ != nullptr;
    keys_ = std::make_shared<const KeySet>(std::move(loaded).value());
    ++key_generation_;  // cached verifications under the old keys no longer count
    last_reload_ = Status::Ok();
    if (is_reload) {
        ++num_reloads_;
    }
    return Status::Ok();
}

void JwtAuthenticator::MaybeReload(bool unknown_kid) {
    if (options_.jwks_file.empty()) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    const std::int64_t now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    const std::int64_t interval_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.reload_check_interval)
            .count();
    if (!unknown_kid && now_ns < next_check_ns_.load(std::memory_order_relaxed)) {
        return;
    }
    MutexLock lock(reload_mu_);
    if (unknown_kid) {
        // Rate-limited: a stream of tokens with made-up kids costs one stat per interval.
        if (now < next_unknown_kid_check_) {
            return;
        }
        next_unknown_kid_check_ = now + options_.reload_check_interval;
    } else {
        if (now_ns < next_check_ns_.load(std::memory_order_relaxed)) {
            return;  // another worker checked while this one waited
        }
        next_check_ns_.store(now_ns + interval_ns, std::memory_order_relaxed);
    }
    // A failure is kept in last_reload_ (State()); the old keys stay in use.
    CheckFileLocked(/*force=*/false).IgnoreError();
}

Result<Principal> JwtAuthenticator::Authenticate(const Credentials& credentials) {
    const std::string_view token = credentials.bearer;
    if (token.empty()) {
        return Refuse("no bearer token");
    }
    if (token.size() > options_.max_token_bytes) {
        return Refuse("token of " + std::to_string(token.size()) + " bytes exceeds the limit of " +
                      std::to_string(options_.max_token_bytes));
    }
    MaybeReload(/*unknown_kid=*/false);
    auto [keys, generation] = Keys();
    const std::int64_t now = NowSeconds();
    if (std::optional<Principal> cached = cache_.Find(token, generation, now)) {
        return std::move(*cached);
    }
    bool unknown_kid = false;
    VerifiedTokenCache::Validity validity;
    try {
        auto principal = Verify(token, keys.get(), &unknown_kid, &validity);
        if (!principal.ok() && unknown_kid) {
            MaybeReload(/*unknown_kid=*/true);
            unknown_kid = false;
            std::tie(keys, generation) = Keys();
            principal = Verify(token, keys.get(), &unknown_kid, &validity);
        }
        if (principal.ok()) {
            cache_.Insert(token, generation, *principal, validity);
        }
        return principal;
    } catch (const nlohmann::json::exception& e) {
        // Not expected (every access checks the type first); a refusal, never a crash.
        return Refuse(std::string("malformed token: ") + e.what());
    }
}

Result<Principal> JwtAuthenticator::Verify(std::string_view token, const KeySet* jwks,
                                           bool* unknown_kid,
                                           VerifiedTokenCache::Validity* validity) const {
    // Structure: exactly three non-empty segments.
    const std::size_t first_dot = token.find('.');
    const std::size_t second_dot =
        first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos) {
        return Refuse("not a compact JWS: fewer than three segments");
    }
    if (token.find('.', second_dot + 1) != std::string_view::npos) {
        return Refuse("not a compact JWS: more than three segments");
    }
    const std::string_view header_segment = token.substr(0, first_dot);
    const std::string_view payload_segment =
        token.substr(first_dot + 1, second_dot - first_dot - 1);
    const std::string_view signature_segment = token.substr(second_dot + 1);
    if (header_segment.empty() || payload_segment.empty()) {
        return Refuse("empty header or payload segment");
    }

    // Header: alg decides nothing; it must match the key.
    PHENIX_ASSIGN_OR_RETURN(const json header, DecodeJsonObject(header_segment, "header"));
    if (header.contains("crit")) {
        return Refuse("header 'crit' is not supported");
    }
    const auto alg_member = header.find("alg");
    if (alg_member == header.end() || !alg_member->is_string()) {
        return Refuse("header 'alg' is missing or not a string");
    }
    const std::string& alg_name = alg_member->get_ref<const std::string&>();
    if (IsNone(alg_name)) {
        return Refuse("header alg " + Quote(alg_name) + ": unsigned tokens are refused");
    }
    const std::optional<JwsAlgorithm> alg = ParseAlgorithm(alg_name);
    if (!alg) {
        return Refuse("header alg " + Quote(alg_name) +
                      " is not supported (RS256, ES256, EdDSA, HS256)");
    }

    // Key choice (see jwt.h).
    const std::size_t num_jwks_keys = jwks != nullptr ? jwks->keys.size() : 0;
    const VerificationKey* secret = nullptr;  // the HS256 secret, when configured
    for (const VerificationKey& candidate : static_keys_->keys) {
        if (candidate.algorithm == JwsAlgorithm::kHs256) {
            secret = &candidate;
        }
    }
    const VerificationKey* key = nullptr;
    const auto kid_member = header.find("kid");
    if (kid_member != header.end() && num_jwks_keys > 0) {
        if (!kid_member->is_string() || kid_member->get_ref<const std::string&>().empty() ||
            kid_member->get_ref<const std::string&>().size() > kMaxKidBytes) {
            return Refuse("header 'kid' is not a non-empty string of at most " +
                          std::to_string(kMaxKidBytes) + " bytes");
        }
        const std::string& kid = kid_member->get_ref<const std::string&>();
        key = jwks->FindKid(kid);
        if (key == nullptr && *alg == JwsAlgorithm::kHs256 && secret != nullptr) {
            key = secret;  // the JWKS holds no HS256 keys: the secret is the only candidate
        }
        if (key == nullptr) {
            *unknown_kid = true;
            return Refuse("unknown kid " + Quote(kid));
        }
    } else if (*alg == JwsAlgorithm::kHs256 && secret != nullptr) {
        key = secret;
    } else {
        if (num_jwks_keys > 1) {
            return Refuse("token has no kid and the JWKS holds " + std::to_string(num_jwks_keys) +
                          " keys");
        }
        std::vector<const VerificationKey*> pool;
        if (num_jwks_keys == 1) {
            pool.push_back(&jwks->keys.front());
        }
        for (const VerificationKey& candidate : static_keys_->keys) {
            pool.push_back(&candidate);
        }
        if (pool.size() == 1) {
            key = pool.front();
        } else {
            std::size_t num_matches = 0;
            for (const VerificationKey* candidate : pool) {
                if (candidate->algorithm == *alg) {
                    key = candidate;
                    ++num_matches;
                }
            }
            if (num_matches > 1) {
                return Refuse("token has no kid and " + std::to_string(num_matches) +
                              " keys verify " + std::string(JwsAlgorithmName(*alg)));
            }
        }
        if (key == nullptr) {
            return Refuse("no key verifies header alg " + Quote(alg_name));
        }
    }
    if (key->algorithm != *alg) {
        return Refuse("header alg " + Quote(alg_name) + " does not match " + key->origin +
                      ", which verifies " + std::string(JwsAlgorithmName(key->algorithm)) +
                      " only");
    }

    // Signature over the first two segments, before the payload is parsed.
    if (signature_segment.empty()) {
        return Refuse("empty signature segment");
    }
    auto signature = jose::Base64UrlDecode(signature_segment);
    if (!signature.ok()) {
        return Refuse("signature: " + signature.status().message());
    }
    PHENIX_RETURN_IF_ERROR(VerifySignature(*key, token.substr(0, second_dot), *signature));

    // Claims.
    PHENIX_ASSIGN_OR_RETURN(const json claims, DecodeJsonObject(payload_segment, "payload"));
    const std::int64_t now = NowSeconds();
    const std::int64_t leeway = options_.leeway.count();
    if (!claims.contains("exp")) {
        return Refuse("claim 'exp' is missing");
    }
    PHENIX_ASSIGN_OR_RETURN(const std::int64_t exp, NumericDate(claims, "exp"));
    *validity = VerifiedTokenCache::Validity{.not_after = exp + leeway};
    if (now >= exp + leeway) {
        return Refuse("token expired at " + SecondsText(exp) + " (now " + SecondsText(now) +
                      ", leeway " + std::to_string(leeway) + " s)");
    }
    if (claims.contains("nbf")) {
        PHENIX_ASSIGN_OR_RETURN(const std::int64_t nbf, NumericDate(claims, "nbf"));
        validity->not_before = nbf - leeway;
        if (now + leeway < nbf) {
            return Refuse("token not valid before " + SecondsText(nbf) + " (now " +
                          SecondsText(now) + ", leeway " + std::to_string(leeway) + " s)");
        }
    }
    if (claims.contains("iat")) {
        PHENIX_ASSIGN_OR_RETURN(const std::int64_t iat, NumericDate(claims, "iat"));
        if (iat > now + leeway) {
            return Refuse("token issued in the future, at " + SecondsText(iat) + " (now " +
                          SecondsText(now) + ")");
        }
    }
    if (!options_.issuer.empty()) {
        const auto iss = claims.find("iss");
        if (iss == claims.end() || !iss->is_string()) {
            return Refuse("claim 'iss' is missing or not a string");
        }
        if (iss->get_ref<const std::string&>() != options_.issuer) {
            return Refuse("issuer " + Quote(iss->get_ref<const std::string&>()) +
                          " is not the configured one");
        }
    }
    if (!options_.audience.empty()) {
        const auto aud = claims.find("aud");
        if (aud == claims.end()) {
            return Refuse("claim 'aud' is missing");
        }
        bool found = false;
        if (aud->is_string()) {
            found = aud->get_ref<const std::string&>() == options_.audience;
        } else if (aud->is_array()) {
            for (const json& entry : *aud) {
                if (!entry.is_string()) {
                    return Refuse("claim 'aud' holds a non-string");
                }
                found = found || entry.get_ref<const std::string&>() == options_.audience;
            }
        } else {
            return Refuse("claim 'aud' is neither a string nor an array of strings");
        }
        if (!found) {
            return Refuse("audience does not include the configured one");
        }
    }
    Principal principal;
    principal.method = AuthMethod::kJwt;
    PHENIX_ASSIGN_OR_RETURN(principal.subject, NonEmptyString(claims, "sub", "claim"));
    PHENIX_ASSIGN_OR_RETURN(principal.tenant, NonEmptyString(claims, "tenant", "claim"));
    const auto roles = claims.find("roles");
    if (roles != claims.end()) {
        if (!roles->is_array()) {
            return Refuse("claim 'roles' is not an array");
        }
        for (const json& role : *roles) {
            if (!role.is_string() || role.get_ref<const std::string&>().empty()) {
                return Refuse("claim 'roles' holds something other than a non-empty string");
            }
            principal.roles.push_back(role.get<std::string>());
        }
    }
    return principal;
}

}  // namespace phenix::security
