// SPDX-License-Identifier: Apache-2.0
//
// ClientCertificateMap: mutual TLS as authentication. A verified client certificate (the TLS
// layer checked it against --tls-client-ca) becomes a Principal when a rule of the map file
// (--tls-client-map, docs/security.md "Mutual TLS") matches it:
//
//   {"clients": [
//     {"cn": "ingest", "principal": "svc-ingest", "tenant": "acme", "roles": ["writer"]},
//     {"san": "URI:spiffe://acme/search", "tenant": "acme", "roles": ["reader"]},
//     {"dn": "CN=ops,O=Acme", "tenant": "*", "roles": ["admin"]}
//   ]}
//
// Each rule matches on exactly one of: `cn` (the subject's only CN), `dn` (the whole subject,
// RFC 2253, as phenixd logs it) or `san` (one subjectAltName: "DNS:x", "URI:x", "email:x",
// "IP:x"), compared exactly. The first matching rule in file order wins. `principal` (default
// "cert:" + the matched value) names it in audit records; `tenant` and `roles` are what a JWT's
// claims would say. Unknown keys, a rule without a matcher or with two, and an empty tenant or
// role list are errors at load (a typo must not grant or silently drop access).
//
// The map is loaded once at start (a change needs a restart). Thread-safe: immutable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>

#include "security/authenticator.h"

namespace phenix::security {

class ClientCertificateMap final : public Authenticator {
  public:
    /// Parses the map's JSON text; InvalidArgument naming the rule and what is wrong.
    static Result<std::unique_ptr<ClientCertificateMap>> Parse(std::string_view json);
    /// Reads and parses `path`; errors name the file.
    static Result<std::unique_ptr<ClientCertificateMap>> Load(const std::string& path);

    /// The principal of the first rule matching credentials.client_certificate; Unauthenticated
    /// (the reason names the certificate's subject) when there is none or no rule matches.
    Result<Principal> Authenticate(const Credentials& credentials) override;

    [[nodiscard]] std::size_t size() const { return rules_.size(); }

  private:
    enum class Field : std::uint8_t { kCommonName, kSubject, kSubjectAltName };
    struct Rule {
        Field field = Field::kCommonName;
        std::string value;
        Principal principal;
    };
    [[nodiscard]] static bool Matches(const Rule& rule, const ClientCertificate& certificate);

    std::vector<Rule> rules_;
};

}  // namespace phenix::security
