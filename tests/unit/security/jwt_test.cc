// SPDX-License-Identifier: Apache-2.0
#include "security/jwt.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "security/jose.h"
#include "security/jwks.h"
#include "testing/temp_dir.h"
#include "unit/security/test_keys.h"

namespace phenix::security {
namespace {

using testing::B64;
using testing::Mint;
using testing::MintHs256;
using testing::Pkey;

constexpr std::int64_t kNow = 1'800'000'000;
constexpr char kIssuer[] = "https://issuer.test";
constexpr char kAudience[] = "phenix";
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-hs256";

// Keys are made once per process (RSA generation is the slow part), lazily, so a test that
// needs none pays nothing.
struct Keys {
    Pkey rsa = testing::GenerateRsa(2048);
    Pkey ec = testing::GenerateEc();
    Pkey ed = testing::GenerateEd25519();
};
const Keys& K() {
    static const Keys* const keys = new Keys();  // never freed: lives for the process
    return *keys;
}
EVP_PKEY* OtherRsa() {
    static EVP_PKEY* const key = testing::GenerateRsa(2048).release();
    return key;
}

std::chrono::system_clock::time_point FixedNow() {
    return std::chrono::system_clock::time_point(std::chrono::seconds(kNow));
}

void WriteFile(const std::string& path, const std::string& text) {
    // Write then rename, as a key rotation tool would: the reload sees a new inode.
    const std::string temp = path + ".tmp";
    std::ofstream(temp, std::ios::binary | std::ios::trunc) << text;
    ASSERT_EQ(std::rename(temp.c_str(), path.c_str()), 0);
}

std::string Jwks(const std::vector<std::string>& jwks) {
    std::string out = R"({"keys":[)";
    for (std::size_t idx = 0; idx < jwks.size(); ++idx) {
        out += (idx > 0 ? "," : "") + jwks[idx];
    }
    return out + "]}";
}

std::string MainJwks() {
    return Jwks({testing::PublicJwk(K().rsa.get(), "r1", R"(,"alg":"RS256","use":"sig")"),
                 testing::PublicJwk(K().ec.get(), "e1"), testing::PublicJwk(K().ed.get(), "o1")});
}

std::string N(std::int64_t value) {
    return std::to_string(value);
}

// Good claims; `extra` is appended inside the object.
std::string Claims(const std::string& extra = "") {
    return R"({"sub":"alice","tenant":"acme","roles":["reader","writer"],"iss":")" +
           std::string(kIssuer) + R"(","aud":")" + kAudience + R"(","iat":)" + N(kNow - 10) +
           R"(,"exp":)" + N(kNow + 3600) + extra + "}";
}
// Claims without the standard `exp` (and everything else given explicitly).
std::string ClaimsWith(const std::string& body) {
    return "{" + body + "}";
}
std::string Base() {
    return R"("sub":"alice","tenant":"acme","roles":[],"iss":")" + std::string(kIssuer) +
           R"(","aud":")" + kAudience + "\"";
}
std::string Exp() {
    return R"(,"exp":)" + N(kNow + 3600);
}

std::string Header(const std::string& alg, const std::string& kid) {
    return R"({"typ":"JWT","alg":")" + alg + R"(","kid":")" + kid + "\"}";
}
std::string RsaToken(const std::string& claims) {
    return Mint(K().rsa.get(), Header("RS256", "r1"), claims);
}

std::string FlipBitInSignature(const std::string& token) {
    const std::size_t dot = token.rfind('.');
    std::string sig = jose::Base64UrlDecode(token.substr(dot + 1)).value();
    sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x01);
    return token.substr(0, dot + 1) + B64(sig);
}

// The last character of a base64url segment changed so its unused low bits are non-zero.
std::string NonCanonicalTail(std::string segment) {
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const std::size_t value = kAlphabet.find(segment.back());
    segment.back() = kAlphabet[value | 1];
    return segment;
}

class JwtTest : public ::testing::Test {
  protected:
    JwtOptions Options() const {
        JwtOptions options;
        options.issuer = kIssuer;
        options.audience = kAudience;
        options.clock = FixedNow;
        options.reload_check_interval = std::chrono::milliseconds(0);
        return options;
    }
    std::string SecretFile() const {
        const std::string path = dir_.Sub("hs256.secret");
        std::ofstream(path, std::ios::binary | std::ios::trunc) << kSecret << "\n";
        return path;
    }
    std::string PemFile(EVP_PKEY* key) const {
        const std::string path = dir_.Sub("key.pem");
        std::ofstream(path, std::ios::binary | std::ios::trunc) << testing::PublicPem(key);
        return path;
    }
    // A JWKS with r1 (RS256), e1 (ES256), o1 (EdDSA) plus the HS256 secret.
    std::unique_ptr<JwtAuthenticator> OpenMain() {
        WriteFile(jwks_path_, MainJwks());
        JwtOptions options = Options();
        options.jwks_file = jwks_path_;
        options.hs256_secret_file = SecretFile();
        auto opened = JwtAuthenticator::Open(std::move(options));
        EXPECT_TRUE(opened.ok()) << opened.status().ToString();
        return opened.ok() ? std::move(opened).value() : nullptr;
    }
    // Only a PEM RSA public key, no HS256 secret.
    std::unique_ptr<JwtAuthenticator> OpenPem() {
        JwtOptions options = Options();
        options.public_key_file = PemFile(K().rsa.get());
        auto opened = JwtAuthenticator::Open(std::move(options));
        EXPECT_TRUE(opened.ok()) << opened.status().ToString();
        return opened.ok() ? std::move(opened).value() : nullptr;
    }
    // A JWKS of one RSA key (r1) and a PEM file of another RSA key: a token without a kid is
    // ambiguous.
    std::unique_ptr<JwtAuthenticator> OpenOneJwksAndPem() {
        const std::string path = dir_.Sub("one.json");
        WriteFile(path, Jwks({testing::PublicJwk(K().rsa.get(), "r1")}));
        JwtOptions options = Options();
        options.jwks_file = path;
        options.public_key_file = PemFile(OtherRsa());
        auto opened = JwtAuthenticator::Open(std::move(options));
        EXPECT_TRUE(opened.ok()) << opened.status().ToString();
        return opened.ok() ? std::move(opened).value() : nullptr;
    }
    // Only the HS256 secret.
    std::unique_ptr<JwtAuthenticator> OpenHs() {
        JwtOptions options = Options();
        options.hs256_secret_file = SecretFile();
        auto opened = JwtAuthenticator::Open(std::move(options));
        EXPECT_TRUE(opened.ok()) << opened.status().ToString();
        return opened.ok() ? std::move(opened).value() : nullptr;
    }

    phenix::testing::TempDir dir_;
    std::string jwks_path_ = dir_.Sub("jwks.json");
};

Status OpenStatus(JwtOptions options) {
    return JwtAuthenticator::Open(std::move(options)).status();
}

// ---- Positive tests -------------------------------------------------------------------------

TEST_F(JwtTest, Rs256Es256EdDsaTokensMapToThePrincipal) {
    auto auth = OpenMain();
    ASSERT_NE(auth, nullptr);
    const std::string tokens[] = {Mint(K().rsa.get(), Header("RS256", "r1"), Claims()),
                                  Mint(K().ec.get(), Header("ES256", "e1"), Claims()),
                                  Mint(K().ed.get(), Header("EdDSA", "o1"), Claims())};
    for (const std::string& token : tokens) {
        auto principal = auth->Authenticate({token});
        ASSERT_TRUE(principal.ok()) << principal.status().ToString();
        EXPECT_EQ(principal->subject, "alice");
        EXPECT_EQ(principal->tenant, "acme");
        EXPECT_EQ(principal->roles, (std::vector<std::string>{"reader", "writer"}));
        EXPECT_EQ(principal->method, AuthMethod::kJwt);
    }
}

TEST_F(JwtTest, Hs256VerifiesOnlyWithTheConfiguredSecret) {
    auto auth = OpenHs();
    ASSERT_NE(auth, nullptr);
    auto principal = auth->Authenticate({MintHs256(kSecret, R"({"alg":"HS256"})", Claims())});
    ASSERT_TRUE(principal.ok()) << principal.status().ToString();
    EXPECT_EQ(principal->subject, "alice");
    // With a JWKS of several keys too: HS256 needs no kid (the secret is its only key).
    auto main = OpenMain();
    ASSERT_NE(main, nullptr);
    EXPECT_TRUE(main->Authenticate({MintHs256(kSecret, R"({"alg":"HS256"})", Claims())}).ok());
    EXPECT_TRUE(main->Authenticate({MintHs256(kSecret, Header("HS256", "hs"), Claims())}).ok());
    // The same token is refused by an authenticator without the secret.
    auto pem = OpenPem();
    ASSERT_NE(pem, nullptr);
    EXPECT_TRUE(
        pem->Authenticate({MintHs256(kSecret, R"({"alg":"HS256"})", Claims())}).status().code() ==
        StatusCode::kUnauthenticated);
}

TEST_F(JwtTest, PemKeyVerifiesTokensWithOrWithoutKid) {
    auto auth = OpenPem();
    ASSERT_NE(auth, nullptr);
    EXPECT_TRUE(auth->Authenticate({Mint(K().rsa.get(), R"({"alg":"RS256"})", Claims())}).ok());
    EXPECT_TRUE(auth->Authenticate({Mint(K().rsa.get(), Header("RS256", "any"), Claims())}).ok());
}

TEST_F(JwtTest, ClusterTenantAndMissingRolesAreAccepted) {
    auto auth = OpenMain();
    ASSERT_NE(auth, nullptr);
    auto principal = auth->Authenticate(
        {RsaToken(R"({"sub":"root","tenant":"*","roles":["admin"],"iss":")" + std::string(kIssuer) +
                  R"(","aud":"phenix","exp":)" + N(kNow + 60) + "}")});
    ASSERT_TRUE(principal.ok()) << principal.status().ToString();
    EXPECT_TRUE(principal->IsClusterAdmin());
    principal = auth->Authenticate(
        {RsaToken(R"({"sub":"bob","tenant":"acme","iss":")" + std::string(kIssuer) +
                  R"(","aud":"phenix","exp":)" + N(kNow + 60) + "}")});
    ASSERT_TRUE(principal.ok()) << principal.status().ToString();
    EXPECT_TRUE(principal->roles.empty());
}

TEST_F(JwtTest, LeewayAppliesToExpNbfAndIat) {
    auto auth = OpenMain();
    ASSERT_NE(auth, nullptr);
    const std::string base = Base();
    // Within the 60 s leeway.
    EXPECT_TRUE(
        auth->Authenticate({RsaToken(ClaimsWith(base + R"(,"exp":)" + N(kNow - 59)))}).ok());
    EXPECT_TRUE(
        auth->Authenticate({RsaToken(ClaimsWith(base + Exp() + R"(,"nbf":)" + N(kNow + 59)))})
            .ok());
    EXPECT_TRUE(
        auth->Authenticate({RsaToken(ClaimsWith(base + Exp() + R"(,"iat":)" + N(kNow + 59)))})
            .ok());
    // Fractional NumericDates are fine.
    EXPECT_TRUE(
        auth->Authenticate({RsaToken(ClaimsWith(base + R"(,"exp":)" + N(kNow + 100) + ".5"))})
            .ok());
    // Beyond it.
    EXPECT_TRUE(auth->Authenticate({RsaToken(ClaimsWith(base + R"(,"exp":)" + N(kNow - 60)))})
                    .status()
                    .code() == StatusCode::kUnauthenticated);
    // Leeway 0: expired a second ago is expired.
    JwtOptions strict = Options();
    strict.jwks_file = jwks_path_;
    strict.leeway = std::chrono::seconds(0);
    auto zero = JwtAuthenticator::Open(strict);
    ASSERT_TRUE(zero.ok()) << zero.status().ToString();
    EXPECT_TRUE((*zero)
                    ->Authenticate({RsaToken(ClaimsWith(base + R"(,"exp":)" + N(kNow - 1)))})
                    .status()
                    .code() == StatusCode::kUnauthenticated);
    EXPECT_TRUE(
        (*zero)->Authenticate({RsaToken(ClaimsWith(base + R"(,"exp":)" + N(kNow + 1)))}).ok());
}

TEST_F(JwtTest, AudienceMayBeAnArrayAndIssuerAudienceAreOptional) {
    auto auth = OpenMain();
    ASSERT_NE(auth, nullptr);
    const std::string token =
        RsaToken(R"({"sub":"alice","tenant":"acme","iss":")" + std::string(kIssuer) +
                 R"(","aud":["other","phenix"],"exp":)" + N(kNow + 60) + "}");
    EXPECT_TRUE(auth->Authenticate({token}).ok());
    // Without issuer/audience configured, a token without iss/aud is fine.
    JwtOptions open = Options();
    open.issuer.clear();
    open.audience.clear();
    open.jwks_file = jwks_path_;
    auto lax = JwtAuthenticator::Open(open);
    ASSERT_TRUE(lax.ok()) << lax.status().ToString();
    EXPECT_TRUE(
        (*lax)
            ->Authenticate({RsaToken(R"({"sub":"a","tenant":"t","exp":)" + N(kNow + 60) + "}")})
            .ok());
}

TEST_F(JwtTest, KidRotationAndReloadFollowTheFile) {
    auto auth = OpenMain();
    ASSERT_NE(auth, nullptr);
    const std::string r1 = RsaToken(Claims());
    const std::string r2 = Mint(OtherRsa(), Header("RS256", "r2"), Claims());
    ASSERT_TRUE(auth->Authenticate({r1}).ok());
    auto refused = auth->Authenticate({r2});
    EXPECT_TRUE(refused.status().code() == StatusCode::kUnauthenticated);
    EXPECT_NE(refused.status().message().find("unknown kid 'r2'"), std::string::npos)
        << refused.status().message();

    // Rotation step 1: both keys published. Both verify.
    WriteFile(jwks_path_, Jwks({testing::PublicJwk(K().rsa.get(), "r1"),
                                testing::PublicJwk(OtherRsa(), "r2")}));
    EXPECT_TRUE(auth->Authenticate({r1}).ok());
    EXPECT_TRUE(auth->Authenticate({r2}).ok());
    EXPECT_EQ(auth->State().num_reloads, 1u);
    EXPECT_TRUE(auth->State().last_reload.ok());

    // Step 2: r1 removed. Its tokens stop verifying after the reload.
    WriteFile(jwks_path_, Jwks({testing::PublicJwk(OtherRsa(), "r2")}));
    EXPECT_TRUE(auth->Authenticate({r2}).ok());
    auto removed = auth->Authenticate({r1});
    EXPECT_TRUE(removed.status().code() == StatusCode::kUnauthenticated);
    EXPECT_NE(removed.status().message().find("unknown kid 'r1'"), std::string::npos);
    EXPECT_EQ(auth->State().num_keys, 2u);  // r2 and the HS256 secret
}

// The verified-token cache (security/token_cache.h) answers a repeated token without verifying
// it again, but never past its exp, never for a changed token, never after its key is gone.
TEST_F(JwtTest, CachedTokensExpireOnTimeAndFollowKeyReloads) {
    WriteFile(jwks_path_, MainJwks());
    JwtOptions options = Options();
    options.jwks_file = jwks_path_;
    auto now = std::make_shared<std::atomic<std::int64_t>>(kNow);
    options.clock = [now] {
        return std::chrono::system_clock::time_point(std::chrono::seconds(now->load()));
    };
    auto opened = JwtAuthenticator::Open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    JwtAuthenticator& auth = **opened;
    const std::string token = RsaToken(ClaimsWith(Base() + R"(,"exp":)" + N(kNow + 100)));
    ASSERT_TRUE(auth.Authenticate({token}).ok());
    EXPECT_EQ(auth.num_cache_hits(), 0u);
    auto again = auth.Authenticate({token});
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(auth.num_cache_hits(), 1u);
    EXPECT_EQ(again->subject, "alice");
    EXPECT_EQ(again->tenant, "acme");
    // A changed signature is not the cached token.
    EXPECT_TRUE(auth.Authenticate({FlipBitInSignature(token)}).status().code() ==
                StatusCode::kUnauthenticated);
    EXPECT_EQ(auth.num_cache_hits(), 1u);
    // Still inside exp + leeway (60 s): a hit.
    now->store(kNow + 159);
    EXPECT_TRUE(auth.Authenticate({token}).ok());
    EXPECT_EQ(auth.num_cache_hits(), 2u);
    // At exp + leeway: refused with the reason an uncached token gets.
    now->store(kNow + 160);
    auto expired = auth.Authenticate({token});
    EXPECT_TRUE(expired.status().code() == StatusCode::kUnauthenticated);
    EXPECT_NE(expired.status().message().find("expired"), std::string::npos)
        << expired.status().message();
    EXPECT_EQ(auth.num_cache_hits(), 2u);

    // A cached token whose key leaves the JWKS stops verifying at the reload.
    now->store(kNow);
    const std::string r1 = RsaToken(Claims());
    ASSERT_TRUE(auth.Authenticate({r1}).ok());
    ASSERT_TRUE(auth.Authenticate({r1}).ok());
    EXPECT_EQ(auth.num_cache_hits(), 3u);
    WriteFile(jwks_path_, Jwks({testing::PublicJwk(OtherRsa(), "r2")}));
    auto removed = auth.Authenticate({r1});
    EXPECT_TRUE(removed.status().code() == StatusCode::kUnauthenticated);
    EXPECT_NE(removed.status().message().find("unknown kid 'r1'"), std::string::npos)
        << removed.status().message();
    EXPECT_EQ(auth.num_cache_hits(), 3u);
}

// A token not yet valid is refused and not cached; once valid it verifies (and then hits).
TEST_F(JwtTest, NotBeforeIsNotCachedAsValid) {
    auto now = std::make_shared<std::atomic<std::int64_t>>(kNow);
    JwtOptions options = Options();
    options.hs256_secret_file = SecretFile();
    options.clock = [now] {
        return std::chrono::system_clock::time_point(std::chrono::seconds(now->load()));
    };
    auto opened = JwtAuthenticator::Open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    JwtAuthenticator& auth = **opened;
    const std::string token =
        MintHs256(kSecret, R"({"alg":"HS256"})", Claims(R"(,"nbf":)" + N(kNow + 120)));
    EXPECT_TRUE(auth.Authenticate({token}).status().code() == StatusCode::kUnauthenticated);
    now->store(kNow + 60);  // nbf - leeway
    EXPECT_TRUE(auth.Authenticate({token}).ok());
    EXPECT_TRUE(auth.Authenticate({token}).ok());
    EXPECT_EQ(auth.num_cache_hits(), 1u);
}

TEST_F(JwtTest, UnknownKidRechecksTheFileRightAwayButRateLimited) {
    WriteFile(jwks_path_, MainJwks());
    JwtOptions options = Options();
    options.jwks_file = jwks_path_;
    options.reload_check_interval = std::chrono::hours(1);  // no periodic check in this test
    auto auth = JwtAuthenticator::Open(options);
    ASSERT_TRUE(auth.ok()) << auth.status().ToString();
    const std::string r2 = Mint(OtherRsa(), Header("RS256", "r2"), Claims());
    WriteFile(jwks_path_, Jwks({testing::PublicJwk(K().rsa.get(), "r1"),
                                testing::PublicJwk(OtherRsa(), "r2")}));
    // The unknown kid triggers the check although the periodic one is an hour away.
    EXPECT_TRUE((*auth)->Authenticate({r2}).ok());
    // r2 removed: a known kid triggers no recheck, so r2 verifies until the next periodic
    // check (an hour away here) or an explicit one.
    WriteFile(jwks_path_, Jwks({testing::PublicJwk(K().rsa.get(), "r1")}));
    EXPECT_TRUE((*auth)->Authenticate({r2}).ok());
    EXPECT_TRUE((*auth)->ReloadIfChanged().ok());
    EXPECT_TRUE((*auth)->Authenticate({r2}).status().code() == StatusCode::kUnauthenticated);
}

TEST_F(JwtTest, FailedReloadKeepsTheLastGoodKeysAndSaysSo) {
    auto auth = OpenMain();
    ASSERT_NE(auth, nullptr);
    const std::string token = RsaToken(Claims());
    WriteFile(jwks_path_, R"({"keys":[{"kty":"RSA","kid":"r1"}]})");
    EXPECT_TRUE(auth->Authenticate({token}).ok());
    const auto state = auth->State();
    EXPECT_FALSE(state.last_reload.ok());
    EXPECT_NE(state.last_reload.message().find(jwks_path_), std::string::npos)
        << state.last_reload.message();
    EXPECT_NE(state.last_reload.message().find("keeping the last good keys"), std::string::npos);
    EXPECT_EQ(state.num_keys, 4u);
    // Fixed file: reloaded, the state is OK again.
    WriteFile(jwks_path_, MainJwks());
    EXPECT_TRUE(auth->Authenticate({token}).ok());
    EXPECT_TRUE(auth->State().last_reload.ok());
}

// Workers authenticate while the JWKS is rotated under them: every answer is either OK or
// Unauthenticated (never a crash or a torn key set), and r1 tokens verify throughout (r1 is in
// every version of the file).
TEST_F(JwtTest, ConcurrentAuthenticationDuringReloads) {
    auto auth = OpenMain();
    ASSERT_NE(auth, nullptr);
    const std::string r1 = RsaToken(Claims());
    const std::string e1 = Mint(K().ec.get(), Header("ES256", "e1"), Claims());
    const std::string with_ec = MainJwks();
    const std::string without_ec = Jwks({testing::PublicJwk(K().rsa.get(), "r1")});
    std::atomic<bool> stop{false};
    std::atomic<int> num_failures{0};
    std::vector<std::thread> workers;
    for (int worker = 0; worker < 3; ++worker) {
        workers.emplace_back([&] {
            while (!stop.load()) {
                if (!auth->Authenticate({r1}).ok()) {
                    num_failures.fetch_add(1);
                }
                const auto ec = auth->Authenticate({e1});
                if (!ec.ok() && ec.status().code() != StatusCode::kUnauthenticated) {
                    num_failures.fetch_add(1);
                }
            }
        });
    }
    for (int round = 0; round < 20; ++round) {
        WriteFile(jwks_path_, round % 2 == 0 ? without_ec : with_ec);
        EXPECT_TRUE(auth->ReloadIfChanged().ok());
    }
    stop.store(true);
    for (std::thread& worker : workers) {
        worker.join();
    }
    EXPECT_EQ(num_failures.load(), 0);
    EXPECT_GE(auth->State().num_reloads, 20u);
}

// ---- Open refuses bad key material ------------------------------------------------------------

TEST_F(JwtTest, OpenRefusesBadKeysNamingTheFile) {
    JwtOptions none = Options();
    EXPECT_TRUE(OpenStatus(none).IsInvalidArgument());

    const Pkey small = testing::GenerateRsa(1024);
    const struct {
        const char* name;
        std::string jwks;
        const char* expected;
    } cases[] = {
        {"rsa_1024", Jwks({testing::PublicJwk(small.get(), "s1")}), "1024 bits"},
        {"oct_key", R"({"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]})", "symmetric"},
        {"private_d", Jwks({testing::PublicJwk(K().ed.get(), "o1", R"(,"d":"AAAA")")}), "private"},
        {"duplicate_kid",
         Jwks({testing::PublicJwk(K().ec.get(), "k"), testing::PublicJwk(K().ed.get(), "k")}),
         "duplicate kid"},
        {"missing_kid", R"({"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]})", "kid"},
        {"alg_mismatch", Jwks({testing::PublicJwk(K().ec.get(), "e1", R"(,"alg":"RS256")")}),
         "'alg' does not match"},
        {"off_curve",
         R"({"keys":[{"kty":"EC","crv":"P-256","kid":"e","x":")" + B64(std::string(32, '\x01')) +
             R"(","y":")" + B64(std::string(32, '\x02')) + R"("}]})",
         "P-256"},
        {"p384", R"({"keys":[{"kty":"EC","crv":"P-384","kid":"e","x":"AA","y":"AA"}]})", "P-256"},
        {"not_json", "{keys", "malformed JSON"},
        {"duplicate_keys_member", R"({"keys":[],"keys":[]})", "duplicate JSON key"},
        {"empty_keys", R"({"keys":[]})", "empty"},
        {"use_enc", Jwks({testing::PublicJwk(K().ed.get(), "o1", R"(,"use":"enc")")}), "use"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        WriteFile(jwks_path_, c.jwks);
        JwtOptions options = Options();
        options.jwks_file = jwks_path_;
        const Status status = OpenStatus(options);
        EXPECT_TRUE(status.IsInvalidArgument()) << status.ToString();
        EXPECT_NE(status.message().find(jwks_path_), std::string::npos) << status.message();
        EXPECT_NE(status.message().find(c.expected), std::string::npos) << status.message();
    }

    JwtOptions missing = Options();
    missing.jwks_file = dir_.Sub("absent.json");
    EXPECT_NE(OpenStatus(missing).message().find("absent.json"), std::string::npos);

    JwtOptions short_secret = Options();
    short_secret.hs256_secret_file = dir_.Sub("short");
    std::ofstream(short_secret.hs256_secret_file) << "too short\n";
    const Status secret = OpenStatus(short_secret);
    EXPECT_TRUE(secret.IsInvalidArgument());
    EXPECT_NE(secret.message().find("at least 32"), std::string::npos) << secret.message();

    JwtOptions small_pem = Options();
    small_pem.public_key_file = PemFile(small.get());
    EXPECT_NE(OpenStatus(small_pem).message().find("1024 bits"), std::string::npos);
    JwtOptions not_pem = Options();
    not_pem.public_key_file = dir_.Sub("hs256.secret");
    SecretFile();
    EXPECT_TRUE(OpenStatus(not_pem).IsInvalidArgument());
}

// ---- The negative suite ----------------------------------------------------------------------

enum class Target { kMain, kPem, kHs, kOneJwksAndPem };

struct BadToken {
    const char* name;
    Target target;
    std::function<std::string()> make;
};

std::vector<BadToken> BadTokens() {
    const auto rsa = [] { return K().rsa.get(); };
    const auto good = [rsa] { return Mint(rsa(), Header("RS256", "r1"), Claims()); };
    const std::string rs = Header("RS256", "r1");
    return {
        // alg none and unknown algorithms
        {"alg_none", Target::kMain,
         [] { return B64(R"({"alg":"none"})") + "." + B64(Claims()) + "."; }},
        {"alg_none_upper", Target::kMain,
         [] { return B64(R"({"alg":"NONE","kid":"r1"})") + "." + B64(Claims()) + "."; }},
        {"alg_none_mixed_case", Target::kPem,
         [] { return B64(R"({"alg":"nOnE"})") + "." + B64(Claims()) + "."; }},
        {"alg_none_with_signature", Target::kMain,
         [rsa] { return Mint(rsa(), R"({"alg":"none","kid":"r1"})", Claims()); }},
        {"alg_missing", Target::kMain, [rsa] { return Mint(rsa(), R"({"kid":"r1"})", Claims()); }},
        {"alg_not_a_string", Target::kMain,
         [rsa] { return Mint(rsa(), R"({"alg":256,"kid":"r1"})", Claims()); }},
        {"alg_rs512_unsupported", Target::kMain,
         [rsa] { return Mint(rsa(), Header("RS512", "r1"), Claims()); }},
        {"alg_ps256_unsupported", Target::kMain,
         [rsa] { return Mint(rsa(), Header("PS256", "r1"), Claims()); }},
        // key confusion: the header's alg never picks the algorithm
        {"hs256_keyed_with_rsa_pem", Target::kPem,
         [rsa] { return MintHs256(testing::PublicPem(rsa()), R"({"alg":"HS256"})", Claims()); }},
        {"hs256_keyed_with_rsa_pem_and_kid", Target::kMain,
         [rsa] { return MintHs256(testing::PublicPem(rsa()), Header("HS256", "r1"), Claims()); }},
        {"hs256_keyed_with_rsa_pem_no_kid", Target::kMain,
         [rsa] { return MintHs256(testing::PublicPem(rsa()), R"({"alg":"HS256"})", Claims()); }},
        {"hs256_keyed_with_rsa_jwk", Target::kMain,
         [rsa] {
             return MintHs256(testing::PublicJwk(rsa(), "r1"), Header("HS256", "r1"), Claims());
         }},
        {"hs256_wrong_secret", Target::kHs,
         [] {
             return MintHs256("another-secret-of-at-least-32-bytes!!", R"({"alg":"HS256"})",
                              Claims());
         }},
        {"rs256_header_on_ec_key", Target::kMain,
         [] { return Mint(K().ec.get(), Header("RS256", "e1"), Claims()); }},
        {"es256_header_on_rsa_key", Target::kMain,
         [rsa] { return Mint(rsa(), Header("ES256", "r1"), Claims()); }},
        {"eddsa_header_on_ec_key", Target::kMain,
         [] { return Mint(K().ec.get(), Header("EdDSA", "e1"), Claims()); }},
        {"rs256_on_hs_only", Target::kHs, [good] { return good(); }},
        // kid
        {"wrong_kid", Target::kMain,
         [rsa] { return Mint(rsa(), Header("RS256", "nope"), Claims()); }},
        {"kid_not_a_string", Target::kMain,
         [rsa] { return Mint(rsa(), R"({"alg":"RS256","kid":7})", Claims()); }},
        {"missing_kid_several_keys", Target::kMain,
         [rsa] { return Mint(rsa(), R"({"alg":"RS256"})", Claims()); }},
        {"missing_kid_jwks_key_and_pem_key", Target::kOneJwksAndPem,
         [rsa] { return Mint(rsa(), R"({"alg":"RS256"})", Claims()); }},
        // signatures
        {"signature_one_bit_flipped", Target::kMain, [good] { return FlipBitInSignature(good()); }},
        {"signature_of_another_key", Target::kMain,
         [] { return Mint(OtherRsa(), Header("RS256", "r1"), Claims()); }},
        {"signature_of_another_payload", Target::kMain,
         [rsa, good] {
             const std::string other = Mint(rsa(), Header("RS256", "r1"), Claims(R"(,"extra":1)"));
             const std::string token = good();
             return token.substr(0, token.rfind('.')) + other.substr(other.rfind('.'));
         }},
        {"es256_signature_in_der", Target::kMain,
         [] { return Mint(K().ec.get(), Header("ES256", "e1"), Claims(), /*der=*/true); }},
        {"eddsa_signature_truncated", Target::kMain,
         [] {
             const std::string token = Mint(K().ed.get(), Header("EdDSA", "o1"), Claims());
             const std::size_t dot = token.rfind('.');
             std::string sig = jose::Base64UrlDecode(token.substr(dot + 1)).value();
             sig.pop_back();
             return token.substr(0, dot + 1) + B64(sig);
         }},
        {"empty_signature", Target::kMain,
         [] { return B64(Header("RS256", "r1")) + "." + B64(Claims()) + "."; }},
        // structure
        {"empty_token", Target::kMain, [] { return std::string(); }},
        {"truncated_token", Target::kMain,
         [good] {
             const std::string token = good();
             return token.substr(0, token.size() - 10);
         }},
        {"two_segments", Target::kMain,
         [good] {
             const std::string token = good();
             return token.substr(0, token.rfind('.'));
         }},
        {"four_segments", Target::kMain, [good] { return good() + ".AAAA"; }},
        {"empty_header_segment", Target::kMain,
         [good] {
             const std::string token = good();
             return token.substr(token.find('.'));
         }},
        {"empty_payload_segment", Target::kMain,
         [good] {
             const std::string token = good();
             return token.substr(0, token.find('.') + 1) + token.substr(token.rfind('.'));
         }},
        {"only_dots", Target::kMain, [] { return std::string(".."); }},
        {"padding_in_signature", Target::kMain, [good] { return good() + "="; }},
        {"padding_in_header", Target::kMain,
         [good] {
             const std::string token = good();
             return token.substr(0, token.find('.')) + "=" + token.substr(token.find('.'));
         }},
        {"standard_base64_chars", Target::kMain,
         [good] {
             std::string token = good();
             token[3] = '+';
             return token;
         }},
        {"space_inside", Target::kMain,
         [good] {
             std::string token = good();
             token.insert(token.rfind('.') + 5, " ");
             return token;
         }},
        {"non_canonical_base64_tail", Target::kMain,
         [rsa] {
             // A header whose encoding ends in a partial group ({"alg":"RS256","kid":"r1"}
             // plus two spaces: 28 bytes -> 38 characters, 4 unused bits).
             const std::string header = R"({"alg":"RS256","kid":"r1"}  )";
             const std::string input = NonCanonicalTail(B64(header)) + "." + B64(Claims());
             return input + "." + B64(testing::Sign(rsa(), input));
         }},
        {"header_not_json", Target::kMain,
         [] { return B64("not json") + "." + B64(Claims()) + ".AAAA"; }},
        {"header_an_array", Target::kMain,
         [] { return B64(R"(["RS256"])") + "." + B64(Claims()) + ".AAAA"; }},
        {"duplicate_header_alg", Target::kMain,
         [rsa] { return Mint(rsa(), R"({"alg":"HS256","alg":"RS256","kid":"r1"})", Claims()); }},
        {"duplicate_header_kid", Target::kMain,
         [rsa] { return Mint(rsa(), R"({"alg":"RS256","kid":"zz","kid":"r1"})", Claims()); }},
        {"crit_header", Target::kMain,
         [rsa] {
             return Mint(rsa(), R"({"alg":"RS256","kid":"r1","crit":["exp"],"exp":1})", Claims());
         }},
        {"payload_not_json", Target::kMain,
         [rsa] { return Mint(rsa(), Header("RS256", "r1"), "{sub"); }},
        {"payload_an_array", Target::kMain,
         [rsa] { return Mint(rsa(), Header("RS256", "r1"), "[" + Claims() + "]"); }},
        {"payload_trailing_garbage", Target::kMain,
         [rsa] { return Mint(rsa(), Header("RS256", "r1"), Claims() + " x"); }},
        {"payload_invalid_utf8", Target::kMain,
         [rsa] { return Mint(rsa(), Header("RS256", "r1"), Claims(",\"x\":\"\xff\xfe\"")); }},
        {"payload_nested_too_deep", Target::kMain,
         [rsa] {
             return Mint(rsa(), Header("RS256", "r1"),
                         Claims(",\"x\":" + std::string(40, '[') + std::string(40, ']')));
         }},
        {"huge_token", Target::kMain,
         [rsa] {
             return Mint(rsa(), Header("RS256", "r1"),
                         Claims(R"(,"pad":")" + std::string(20000, 'a') + "\""));
         }},
        // claims
        {"duplicate_tenant_claim", Target::kMain,
         [rsa] { return Mint(rsa(), Header("RS256", "r1"), Claims(R"(,"tenant":"other")")); }},
        {"duplicate_exp_claim", Target::kMain,
         [rsa] {
             return Mint(rsa(), Header("RS256", "r1"), Claims(R"(,"exp":)" + N(kNow + 7200)));
         }},
        {"expired", Target::kMain,
         [] { return RsaToken(ClaimsWith(Base() + R"(,"exp":)" + N(kNow - 3600))); }},
        {"expired_beyond_leeway", Target::kMain,
         [] { return RsaToken(ClaimsWith(Base() + R"(,"exp":)" + N(kNow - 61))); }},
        {"nbf_in_the_future", Target::kMain,
         [] { return RsaToken(ClaimsWith(Base() + Exp() + R"(,"nbf":)" + N(kNow + 3600))); }},
        {"iat_in_the_future", Target::kMain,
         [] { return RsaToken(ClaimsWith(Base() + Exp() + R"(,"iat":)" + N(kNow + 3600))); }},
        {"exp_a_string", Target::kMain,
         [] { return RsaToken(ClaimsWith(Base() + R"(,"exp":")" + N(kNow + 3600) + "\"")); }},
        {"exp_null", Target::kMain, [] { return RsaToken(ClaimsWith(Base() + R"(,"exp":null)")); }},
        {"exp_missing", Target::kMain, [] { return RsaToken(ClaimsWith(Base())); }},
        {"nbf_a_string", Target::kMain,
         [] { return RsaToken(ClaimsWith(Base() + Exp() + R"(,"nbf":"0")")); }},
        {"wrong_iss", Target::kMain,
         [] {
             return RsaToken(
                 R"({"sub":"a","tenant":"t","iss":"https://evil","aud":"phenix","exp":)" +
                 N(kNow + 60) + "}");
         }},
        {"missing_iss", Target::kMain,
         [] {
             return RsaToken(R"({"sub":"a","tenant":"t","aud":"phenix","exp":)" + N(kNow + 60) +
                             "}");
         }},
        {"wrong_aud", Target::kMain,
         [] {
             return RsaToken(R"({"sub":"a","tenant":"t","iss":")" + std::string(kIssuer) +
                             R"(","aud":"other","exp":)" + N(kNow + 60) + "}");
         }},
        {"aud_array_without_ours", Target::kMain,
         [] {
             return RsaToken(R"({"sub":"a","tenant":"t","iss":")" + std::string(kIssuer) +
                             R"(","aud":["a","b"],"exp":)" + N(kNow + 60) + "}");
         }},
        {"aud_array_with_a_number", Target::kMain,
         [] {
             return RsaToken(R"({"sub":"a","tenant":"t","iss":")" + std::string(kIssuer) +
                             R"(","aud":["phenix",1],"exp":)" + N(kNow + 60) + "}");
         }},
        {"missing_aud", Target::kMain,
         [] {
             return RsaToken(R"({"sub":"a","tenant":"t","iss":")" + std::string(kIssuer) +
                             R"(","exp":)" + N(kNow + 60) + "}");
         }},
        {"missing_sub", Target::kMain,
         [] {
             return RsaToken(R"({"tenant":"t","iss":")" + std::string(kIssuer) +
                             R"(","aud":"phenix","exp":)" + N(kNow + 60) + "}");
         }},
        {"empty_sub", Target::kMain, [] { return RsaToken(Claims().replace(8, 5, "")); }},
        {"sub_a_number", Target::kMain, [] { return RsaToken(Claims().replace(7, 7, "42")); }},
        {"missing_tenant", Target::kMain,
         [] {
             return RsaToken(R"({"sub":"a","iss":")" + std::string(kIssuer) +
                             R"(","aud":"phenix","exp":)" + N(kNow + 60) + "}");
         }},
        {"empty_tenant", Target::kMain,
         [] {
             return RsaToken(R"({"sub":"a","tenant":"","iss":")" + std::string(kIssuer) +
                             R"(","aud":"phenix","exp":)" + N(kNow + 60) + "}");
         }},
        {"roles_not_an_array", Target::kMain,
         [] {
             return RsaToken(R"({"sub":"a","tenant":"t","roles":"admin","iss":")" +
                             std::string(kIssuer) + R"(","aud":"phenix","exp":)" + N(kNow + 60) +
                             "}");
         }},
        {"roles_with_a_non_string", Target::kMain,
         [] {
             return RsaToken(
                 R"({"sub":"a","tenant":"t","roles":["reader",{"admin":true}],"iss":")" +
                 std::string(kIssuer) + R"(","aud":"phenix","exp":)" + N(kNow + 60) + "}");
         }},
    };
}

TEST_F(JwtTest, EveryBadTokenIsRefusedWithAReason) {
    const std::vector<BadToken> cases = BadTokens();
    std::set<std::string> names;
    for (const BadToken& c : cases) {
        names.insert(c.name);
    }
    ASSERT_EQ(names.size(), cases.size()) << "duplicate case names";
    ASSERT_GE(names.size(), 30u);

    auto main = OpenMain();
    auto pem = OpenPem();
    auto hs = OpenHs();
    auto one_and_pem = OpenOneJwksAndPem();
    ASSERT_NE(one_and_pem, nullptr);
    ASSERT_TRUE(one_and_pem->Authenticate({RsaToken(Claims())}).ok());
    ASSERT_NE(main, nullptr);
    ASSERT_NE(pem, nullptr);
    ASSERT_NE(hs, nullptr);
    // The suite means something only if the good tokens pass.
    ASSERT_TRUE(main->Authenticate({RsaToken(Claims())}).ok());
    ASSERT_TRUE(pem->Authenticate({Mint(K().rsa.get(), R"({"alg":"RS256"})", Claims())}).ok());
    ASSERT_TRUE(hs->Authenticate({MintHs256(kSecret, R"({"alg":"HS256"})", Claims())}).ok());

    std::size_t num_refused = 0;
    for (const BadToken& c : cases) {
        SCOPED_TRACE(c.name);
        JwtAuthenticator* auth = c.target == Target::kMain  ? main.get()
                                 : c.target == Target::kPem ? pem.get()
                                 : c.target == Target::kHs  ? hs.get()
                                                            : one_and_pem.get();
        const std::string token = c.make();
        auto result = auth->Authenticate({token});
        EXPECT_TRUE(result.status().code() == StatusCode::kUnauthenticated)
            << result.status().ToString();
        EXPECT_FALSE(result.status().message().empty());
        if (std::getenv("PHENIX_JWT_TEST_REASONS") != nullptr) {  // the reasons, for review
            std::printf("%-36s %s\n", c.name, result.status().message().c_str());
        }
        if (result.status().code() == StatusCode::kUnauthenticated &&
            !result.status().message().empty()) {
            ++num_refused;
        }
    }
    EXPECT_EQ(num_refused, cases.size());
}

// The reasons are precise: spot-check a few that matter to operators.
TEST_F(JwtTest, ReasonsNameTheProblem) {
    auto main = OpenMain();
    ASSERT_NE(main, nullptr);
    const auto reason = [&](const std::string& token) {
        return main->Authenticate({token}).status().message();
    };
    EXPECT_NE(reason(RsaToken(ClaimsWith(Base() + R"(,"exp":)" + N(kNow - 3600)))).find("expired"),
              std::string::npos);
    EXPECT_NE(reason(Mint(K().ec.get(), Header("RS256", "e1"), Claims())).find("does not match"),
              std::string::npos);
    EXPECT_NE(reason(B64(R"({"alg":"none"})") + "." + B64(Claims()) + ".").find("unsigned"),
              std::string::npos);
    EXPECT_NE(reason(Mint(K().rsa.get(), Header("RS256", "r1"), Claims(R"(,"tenant":"x")")))
                  .find("duplicate JSON key \"tenant\""),
              std::string::npos);
}

TEST(Jose, Base64UrlIsStrictAndRoundTrips) {
    for (const std::string text : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        EXPECT_EQ(jose::Base64UrlDecode(jose::Base64UrlEncode(text)).value(), text);
    }
    EXPECT_EQ(jose::Base64UrlEncode("\xfb\xff"), "-_8");
    EXPECT_FALSE(jose::Base64UrlDecode("Zg==").ok());
    EXPECT_FALSE(jose::Base64UrlDecode("Z").ok());
    EXPECT_FALSE(jose::Base64UrlDecode("Zh").ok());  // non-zero unused bits
    EXPECT_FALSE(jose::Base64UrlDecode("Zm+v").ok());
}

}  // namespace
}  // namespace phenix::security
