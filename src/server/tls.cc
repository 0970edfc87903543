// SPDX-License-Identifier: Apache-2.0
#include "server/tls.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>

#include <arpa/inet.h>
#include <boost/asio/ssl/context.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

namespace phenix::server {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2: forward secrecy (ECDHE) and AEAD ciphers only. TLS 1.3's suites are all AEAD and
// keep OpenSSL's defaults (AES-GCM, CHACHA20-POLY1305).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr std::string_view kSessionIdContext = "phenixd";

// OpenSSL's reason for the last failure (asio's message for an ssl error_code is that too).
std::string Reason(const boost::system::error_code& ec) {
    std::string reason = ec.message();
    ERR_clear_error();
    return reason;
}

std::string LastOpenSslError() {
    const unsigned long code = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
    ERR_clear_error();
    if (code == 0) {
        return "unknown reason";
    }
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    return text.data();
}

// InvalidArgument for a file that cannot be opened for reading (OpenSSL's own message for a
// missing file is obscure).
Status CheckReadable(std::string_view flag, const std::string& path) {
    std::ifstream file(path);
    if (!file.is_open()) {
        return Status::InvalidArgument(std::string(flag) + " " + path +
                                       ": cannot read the file: " + std::strerror(errno));
    }
    return Status::Ok();
}

std::string NameToString(const X509_NAME* name) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio == nullptr) {
        return {};
    }
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);  // NOLINT(google-runtime-int)
    std::string out = size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
    BIO_free(bio);
    return out;
}

std::string Asn1Text(const ASN1_STRING* text) {
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                       static_cast<std::size_t>(ASN1_STRING_length(text)));
}

std::vector<std::string> SubjectAltNames(X509* cert) {
    std::vector<std::string> out;
    auto* names =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (names == nullptr) {
        return out;
    }
    const auto* stack = reinterpret_cast<const OPENSSL_STACK*>(names);
    for (int name_idx = 0; name_idx < OPENSSL_sk_num(stack); ++name_idx) {
        const auto* name = static_cast<const GENERAL_NAME*>(OPENSSL_sk_value(stack, name_idx));
        switch (name->type) {
            case GEN_DNS:
                out.push_back("DNS:" + Asn1Text(name->d.dNSName));
                break;
            case GEN_URI:
                out.push_back("URI:" + Asn1Text(name->d.uniformResourceIdentifier));
                break;
            case GEN_EMAIL:
                out.push_back("email:" + Asn1Text(name->d.rfc822Name));
                break;
            case GEN_IPADD: {
                const int length = ASN1_STRING_length(name->d.iPAddress);
                if (length != 4 && length != 16) {
                    break;
                }
                std::array<char, INET6_ADDRSTRLEN> text{};
                if (inet_ntop(length == 4 ? AF_INET : AF_INET6,
                              ASN1_STRING_get0_data(name->d.iPAddress), text.data(),
                              static_cast<socklen_t>(text.size())) != nullptr) {
                    out.push_back(std::string("IP:") + text.data());
                }
                break;
            }
            default:
                break;
        }
    }
    GENERAL_NAMES_free(names);
    return out;
}

int RefusePassword(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
    return 0;  // an encrypted key is refused, never prompted for on the terminal
}

// The subject's CN when it has exactly one (two CNs match no `cn` rule: which would count?).
std::string CommonName(const X509_NAME* name) {
    const int found = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (found < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, found) >= 0) {
        return {};
    }
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, found));
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length < 0) {
        return {};
    }
    std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
    OPENSSL_free(utf8);
    return out;
}

security::ClientCertificate CertificateIdentity(X509* cert) {
    const X509_NAME* name = X509_get_subject_name(cert);
    return security::ClientCertificate{.subject = NameToString(name),
                                       .common_name = CommonName(name),
                                       .sans = SubjectAltNames(cert)};
}

}  // namespace

Result<bool> TlsEnabled(const ServerConfig& config) {
    if (config.tls_cert.empty() != config.tls_key.empty()) {
        return Status::InvalidArgument(
            "--tls-cert and --tls-key go together: set both (HTTPS and gRPC over TLS) or neither");
    }
    if (config.tls_cert.empty() && !config.tls_client_ca.empty()) {
        return Status::InvalidArgument(
            "--tls-client-ca needs --tls-cert and --tls-key (client certificates are checked "
            "only over TLS)");
    }
    return !config.tls_cert.empty();
}

Result<std::shared_ptr<ssl::context>> MakeServerTlsContext(const ServerConfig& config) {
    PHENIX_RETURN_IF_ERROR(CheckReadable("--tls-cert", config.tls_cert));
    PHENIX_RETURN_IF_ERROR(CheckReadable("--tls-key", config.tls_key));
    if (!config.tls_client_ca.empty()) {
        PHENIX_RETURN_IF_ERROR(CheckReadable("--tls-client-ca", config.tls_client_ca));
    }
    ERR_clear_error();
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = context->native_handle();
    const int min_version = config.tls_min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (SSL_CTX_set_min_proto_version(native, min_version) != 1) {
        return Status::Internal("cannot set the minimum TLS version: " + LastOpenSslError());
    }
    // (OpenSSL 3 refuses a client-initiated renegotiation by default; NO_RENEGOTIATION refuses
    // every one, TLS 1.2's only: 1.3 has none.)
    SSL_CTX_set_options(
        native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
        return Status::Internal("cannot set the TLS 1.2 ciphers: " + LastOpenSslError());
    }
    SSL_CTX_set_session_id_context(native,
                                   reinterpret_cast<const unsigned char*>(kSessionIdContext.data()),
                                   static_cast<unsigned int>(kSessionIdContext.size()));
    SSL_CTX_set_default_passwd_cb(native, &RefusePassword);

    boost::system::error_code ec;
    if (context->use_certificate_chain_file(config.tls_cert, ec)) {
        return Status::InvalidArgument("--tls-cert " + config.tls_cert +
                                       ": not a PEM certificate chain (" + Reason(ec) + ")");
    }
    // The key is parsed first, so that "not a key" and "not this certificate's key" read apart.
    BIO* key_bio = BIO_new_file(config.tls_key.c_str(), "r");
    EVP_PKEY* key = key_bio != nullptr
                        ? PEM_read_bio_PrivateKey(key_bio, nullptr, &RefusePassword, nullptr)
                        : nullptr;
    BIO_free(key_bio);
    if (key == nullptr) {
        return Status::InvalidArgument("--tls-key " + config.tls_key +
                                       ": not an unencrypted PEM private key (" +
                                       LastOpenSslError() + ")");
    }
    const int key_used = SSL_CTX_use_PrivateKey(native, key);
    EVP_PKEY_free(key);
    if (key_used != 1 || SSL_CTX_check_private_key(native) != 1) {
        ERR_clear_error();
        return Status::InvalidArgument("--tls-key " + config.tls_key +
                                       ": the key does not match the certificate in " +
                                       config.tls_cert);
    }
    if (!config.tls_client_ca.empty()) {
        if (context->load_verify_file(config.tls_client_ca, ec)) {
            return Status::InvalidArgument("--tls-client-ca " + config.tls_client_ca +
                                           ": not a PEM CA bundle (" + Reason(ec) + ")");
        }
        STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.tls_client_ca.c_str());
        if (names == nullptr) {
            return Status::InvalidArgument("--tls-client-ca " + config.tls_client_ca +
                                           ": no CA certificate in it (" + LastOpenSslError() +
                                           ")");
        }
        SSL_CTX_set_client_CA_list(native, names);  // takes ownership
        SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    return context;
}

std::string DescribeCertificateFile(const std::string& path) {
    BIO* bio = BIO_new_file(path.c_str(), "r");
    if (bio == nullptr) {
        ERR_clear_error();
        return "unreadable";
    }
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (cert == nullptr) {
        ERR_clear_error();
        return "unparsable";
    }
    std::string serial = "?";
    if (BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
        if (char* hex = BN_bn2hex(number)) {
            serial = hex;
            OPENSSL_free(hex);
        }
        BN_free(number);
    }
    std::string out = "serial=" + serial + " subject=" + NameToString(X509_get_subject_name(cert));
    X509_free(cert);
    return out;
}

security::ClientCertificate PeerCertificateIdentity(ssl_st* ssl) {
    security::ClientCertificate out;
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (cert == nullptr) {
        return out;
    }
    if (SSL_get_verify_result(ssl) == X509_V_OK) {
        out = CertificateIdentity(cert);
    }
    X509_free(cert);
    return out;
}

security::ClientCertificate PemCertificateIdentity(std::string_view pem) {
    security::ClientCertificate out;
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (bio == nullptr) {
        return out;
    }
    X509* cert = PEM_read_bio_X509(bio, nullptr, RefusePassword, nullptr);
    BIO_free(bio);
    if (cert != nullptr) {
        out = CertificateIdentity(cert);
        X509_free(cert);
    }
    return out;
}

std::string FilesStamp(const std::vector<std::string>& paths) {
    std::string out;
    for (const std::string& path : paths) {
        if (path.empty()) {
            continue;
        }
        struct stat info {};
        if (::stat(path.c_str(), &info) != 0) {
            out += "-;";
            continue;
        }
        out += std::to_string(info.st_mtim.tv_sec) + "." + std::to_string(info.st_mtim.tv_nsec) +
               "/" + std::to_string(info.st_size) + "/" + std::to_string(info.st_ino) + ";";
    }
    return out;
}

}  // namespace phenix::server
