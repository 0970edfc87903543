// SPDX-License-Identifier: Apache-2.0
//
// Authenticator: a credential in, a Principal out. Implementations: JWT bearer tokens verified
// with OpenSSL (jwt.h), API keys (api_keys.h). The server calls one Authenticator per request
// (REST: `Authorization: Bearer X`; gRPC: the `authorization` metadata entry, same form).
//
// Failures are Status::Unauthenticated whose message is the precise reason ("token expired at
// ...", "unknown kid 'k2'"): it goes to the audit log only. Clients always get the same generic
// 401 / UNAUTHENTICATED, so a caller learns nothing about why a credential was refused.
//
// Thread safety: Authenticate is called concurrently from every worker; implementations are
// thread-safe (a key set reloaded on change is swapped under a lock or atomically).
#pragma once

#include <string_view>
#include <vector>

#include <phenix/result.h>

#include "security/principal.h"

namespace phenix::security {

/// A client certificate the TLS layer verified against --tls-client-ca (mutual TLS).
struct ClientCertificate {
    std::string subject;            ///< RFC 2253: "CN=ingest,O=Acme"
    std::string common_name;        ///< the subject's CN when it has exactly one, else empty
    std::vector<std::string> sans;  ///< "DNS:host", "URI:spiffe://...", "email:a@b", "IP:10.0.0.1"
};

struct Credentials {
    /// The bearer token without the "Bearer " prefix; empty when the request carried none.
    std::string_view bearer;
    /// The verified client certificate, when the connection presented one; else null.
    const ClientCertificate* client_certificate = nullptr;
};

class Authenticator {
  public:
    virtual ~Authenticator() = default;
    /// The principal the credential names, or Unauthenticated with the reason (see above).
    virtual Result<Principal> Authenticate(const Credentials& credentials) = 0;
};

}  // namespace phenix::security
