// SPDX-License-Identifier: Apache-2.0
//
// TLS for phenixd's REST listener (docs/security.md#tls, docs/decisions/0019-tls.md): the
// server's OpenSSL context built from ServerConfig's tls_* files with modern defaults (TLS 1.2
// minimum, 1.3 preferred; TLS 1.2 only with ECDHE + AES-GCM / CHACHA20-POLY1305; no compression,
// no renegotiation), the identity of a verified client certificate, and a stamp of the files
// that tells when they changed (the reload poll).
//
// Thread safety: pure functions; a built context is immutable once handed out.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>

#include "security/authenticator.h"
#include "server/config.h"

namespace boost::asio::ssl {
class context;
}
struct ssl_st;

namespace phenix::server {

/// Whether `config` asks for TLS (tls_cert and tls_key set). InvalidArgument for a half
/// configuration (one of them alone, tls_client_ca without them).
Result<bool> TlsEnabled(const ServerConfig& config);

/// A server context from tls_cert / tls_key / tls_client_ca / tls_min_version. InvalidArgument
/// naming the file (and OpenSSL's reason) when one cannot be read or parsed, or the key does not
/// match the certificate.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const ServerConfig& config);

/// The certificate's serial (hex) and its subject, for logs: "serial=0A1B... subject=CN=x".
std::string DescribeCertificateFile(const std::string& path);

/// A verified peer certificate's subject (RFC 2253), CN and subjectAltNames ("DNS:x",
/// "IP:1.2.3.4", "URI:...", "email:..."); all empty when the peer sent none.
security::ClientCertificate PeerCertificateIdentity(ssl_st* ssl);
/// The same of a PEM certificate gRPC verified (its auth context's x509_pem_cert); empty when it
/// does not parse.
security::ClientCertificate PemCertificateIdentity(std::string_view pem);

/// Modification time, size and inode of each of `paths` (empty ones skipped) as one string:
/// a change in any file changes it. A missing file stamps as "-".
std::string FilesStamp(const std::vector<std::string>& paths);

}  // namespace phenix::server
