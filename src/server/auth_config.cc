// SPDX-License-Identifier: Apache-2.0
//
// --auth jwt's verifier from the config (the jwt_* settings): security/jwt.h's JwtAuthenticator.
#include <chrono>
#include <utility>

#include "security/jwt.h"
#include "server/server.h"

namespace phenix::server {

Result<std::unique_ptr<security::Authenticator>> OpenJwtAuthenticator(const ServerConfig& config) {
    security::JwtOptions options;
    options.jwks_file = config.jwt_jwks;
    options.hs256_secret_file = config.jwt_hs256_secret_file;
    options.issuer = config.jwt_issuer;
    options.audience = config.jwt_audience;
    options.leeway = std::chrono::seconds(config.jwt_leeway_s);
    auto opened = security::JwtAuthenticator::Open(std::move(options));
    if (!opened.ok()) {
        return opened.status().WithContext("--auth jwt");
    }
    return std::unique_ptr<security::Authenticator>(std::move(*opened));
}

}  // namespace phenix::server
