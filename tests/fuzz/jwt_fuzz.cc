// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer target for the JWT verifier (security/jwt.h): any bytes must give a Principal or
// Unauthenticated with a reason, never a crash, an exception or another status code. Fixed keys
// (RSA, P-256, Ed25519 in a JWKS, plus an HS256 secret) are made once at start-up.
//
// The first byte picks what the rest is, so the fuzzer also reaches the claim checks behind the
// signature (which random bytes never pass):
//   0: a whole token, verified by an authenticator with every key;
//   1: a payload JSON text, signed with the HS256 secret under {"alg":"HS256"};
//   2: "<header JSON>\n<payload JSON>", signed with the HS256 secret.
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "security/jwt.h"
#include "unit/security/test_keys.h"

namespace {

using phenix::security::JwtAuthenticator;
using phenix::security::JwtOptions;
namespace keys = phenix::security::testing;

constexpr char kSecret[] = "fuzz-secret-0123456789abcdef-0123456789";

struct Fixture {
    std::unique_ptr<JwtAuthenticator> all;      // JWKS (r1, e1, o1) + the secret
    std::unique_ptr<JwtAuthenticator> hs_only;  // the secret alone
};

std::unique_ptr<JwtAuthenticator> OpenOrDie(JwtOptions options) {
    auto opened = JwtAuthenticator::Open(std::move(options));
    if (!opened.ok()) {
        std::abort();
    }
    return std::move(opened).value();
}

Fixture MakeFixture() {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("phenix-jwt-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const keys::Pkey rsa = keys::GenerateRsa(2048);
    const keys::Pkey ec = keys::GenerateEc();
    const keys::Pkey ed = keys::GenerateEd25519();
    const std::string jwks_file = (dir / "jwks.json").string();
    const std::string secret_file = (dir / "secret").string();
    std::ofstream(jwks_file) << R"({"keys":[)" << keys::PublicJwk(rsa.get(), "r1") << ","
                             << keys::PublicJwk(ec.get(), "e1") << ","
                             << keys::PublicJwk(ed.get(), "o1") << "]}";
    std::ofstream(secret_file) << kSecret;
    JwtOptions options;
    options.issuer = "iss";
    options.audience = "aud";
    options.clock = [] {
        return std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
    };
    options.reload_check_interval = std::chrono::hours(24);  // the files never change here
    options.hs256_secret_file = secret_file;
    Fixture fixture;
    fixture.hs_only = OpenOrDie(options);
    options.jwks_file = jwks_file;
    fixture.all = OpenOrDie(options);
    std::filesystem::remove_all(dir);  // the keys are in memory now
    return fixture;
}

void Check(JwtAuthenticator& authenticator, std::string_view token) {
    auto result = authenticator.Authenticate({token});
    if (result.ok()) {
        if (result->subject.empty() || result->tenant.empty()) {
            std::abort();
        }
        return;
    }
    if (result.status().code() != phenix::StatusCode::kUnauthenticated ||
        result.status().message().empty()) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Fixture fixture = MakeFixture();
    if (size == 0) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
        case 0:
            Check(*fixture.all, rest);
            Check(*fixture.hs_only, rest);
            break;
        case 1:
            Check(*fixture.hs_only, keys::MintHs256(kSecret, R"({"alg":"HS256"})", rest));
            break;
        default: {
            const std::size_t newline = rest.find('\n');
            const std::string_view header = rest.substr(0, newline);
            const std::string_view payload =
                newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
            const std::string token = keys::MintHs256(kSecret, header, payload);
            Check(*fixture.hs_only, token);
            Check(*fixture.all, token);
            break;
        }
    }
    return 0;
}
