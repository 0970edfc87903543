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
// ClientCertificateMap is immutable (thread-safe). ClientCertificateMapFile holds the map of a
// file and replaces it whole when Reload() reads the file again (phenixd: on SIGHUP); a file that
// does not load keeps the previous map. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <phenix/result.h>

#include "common/mutex.h"
#include "common/thread_annotations.h"
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

/// The --tls-client-map file: authenticates with the map it last loaded, and loads it again on
/// Reload(). The new map replaces the old one only when the whole file loads (atomically: a
/// request sees one map or the other); otherwise the old one stays and Reload returns why.
class ClientCertificateMapFile final : public Authenticator {
  public:
    /// Loads `path` (ClientCertificateMap::Load's errors).
    static Result<std::unique_ptr<ClientCertificateMapFile>> Load(std::string path);

    Result<Principal> Authenticate(const Credentials& credentials) override;

    /// Reads the file again; returns the new map's number of rules, or the error (the previous
    /// map stays in use).
    Result<std::size_t> Reload();

    [[nodiscard]] const std::string& path() const { return path_; }

  private:
    ClientCertificateMapFile(std::string path, std::unique_ptr<ClientCertificateMap> map)
        : path_(std::move(path)), map_(std::move(map)) {}
    std::shared_ptr<ClientCertificateMap> Map() const;

    const std::string path_;  // immutable after construction
    mutable Mutex mu_;
    // Shared with the Authenticate calls in flight when a reload replaces it.
    std::shared_ptr<ClientCertificateMap> map_ GUARDED_BY(mu_);
};

}  // namespace phenix::security
