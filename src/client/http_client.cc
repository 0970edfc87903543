// SPDX-License-Identifier: Apache-2.0
#include "client/http_client.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace phenix::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// How often a waiting request polls its interrupt function.
constexpr std::chrono::milliseconds kInterruptPoll{50};
constexpr std::size_t kReadChunkBytes = 64 * 1024;

// Runs `io` until `done` is set by a completion handler, or the interrupt fires: then the socket
// is closed (which completes the pending operation with an error) and the handlers are drained.
// Returns whether the interrupt fired.
bool RunUntilDone(asio::io_context& io, tcp::socket& socket, const bool& done,
                  const std::function<bool()>& interrupt) {
    bool interrupted = false;
    while (!done) {
        io.run_for(kInterruptPoll);
        if (!done && interrupt && interrupt()) {
            interrupted = true;
            beast::error_code ignored;
            socket.shutdown(tcp::socket::shutdown_both, ignored);
            socket.close(ignored);
            io.restart();
            io.run();
            break;
        }
        if (io.stopped()) {
            io.restart();
        }
    }
    io.restart();
    return interrupted;
}

Status Cancelled() {
    return Status(StatusCode::kCancelled,
                  "cancelled: the shell closed its connection to the server, which stops the "
                  "statement");
}

}  // namespace

Result<ServerUrl> ParseServerUrl(std::string_view url) {
    ServerUrl out;
    out.text = std::string(url);
    constexpr std::string_view kHttp = "http://";
    constexpr std::string_view kHttps = "https://";
    std::string_view rest;
    if (url.starts_with(kHttps)) {
        out.is_tls = true;
        out.port = "443";
        rest = url.substr(kHttps.size());
    } else if (url.starts_with(kHttp)) {
        rest = url.substr(kHttp.size());
    } else {
        return Status::InvalidArgument(
            "--url " + out.text + ": expected http[s]://HOST[:PORT], e.g. http://127.0.0.1:8080");
    }
    const std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) {
        std::string_view path = rest.substr(slash);
        while (path.ends_with('/')) {
            path.remove_suffix(1);
        }
        out.prefix = std::string(path);
    }
    if (authority.starts_with('[')) {  // [::1]:8080
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            return Status::InvalidArgument("--url " + out.text + ": unterminated '[' in the host");
        }
        out.host = std::string(authority.substr(1, close - 1));
        authority = authority.substr(close + 1);
        if (!authority.empty() && !authority.starts_with(':')) {
            return Status::InvalidArgument("--url " + out.text + ": expected ':PORT' after ']'");
        }
        if (!authority.empty()) {
            out.port = std::string(authority.substr(1));
        }
    } else {
        const std::size_t colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            out.port = std::string(authority.substr(colon + 1));
        }
    }
    if (out.host.empty()) {
        return Status::InvalidArgument("--url " + out.text + ": the host is missing");
    }
    if (out.port.empty() || out.port.size() > 5 ||
        out.port.find_first_not_of("0123456789") != std::string::npos) {
        return Status::InvalidArgument("--url " + out.text + ": the port must be a number");
    }
    return out;
}

struct HttpClient::Impl {
    asio::io_context io;
    tcp::socket socket{io};
    std::unique_ptr<ssl::context> tls_context;       // https: built on the first connect
    std::unique_ptr<ssl::stream<tcp::socket&>> tls;  // https: the current connection's
    beast::flat_buffer buffer;
    bool is_connected = false;

    // Runs `op` with the connection's stream: the TLS one for https, else the socket.
    template <class Op>
    void WithStream(Op&& op) {
        if (tls != nullptr) {
            op(*tls);
        } else {
            op(socket);
        }
    }
};

namespace {

Result<std::unique_ptr<ssl::context>> MakeClientTlsContext(const ServerUrl& url) {
    auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
    SSL_CTX* native = context->native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    beast::error_code ec;
    context->set_verify_mode(ssl::verify_peer, ec);
    if (url.ca_file.empty()) {
        if (context->set_default_verify_paths(ec)) {
            return Status::InvalidArgument("cannot load the system's CA certificates (" +
                                           ec.message() + "); pass --cacert FILE");
        }
    } else if (context->load_verify_file(url.ca_file, ec)) {
        return Status::InvalidArgument("--cacert " + url.ca_file +
                                       ": cannot load a PEM CA certificate from it (" +
                                       ec.message() + ")");
    }
    if (!url.cert_file.empty()) {
        if (context->use_certificate_chain_file(url.cert_file, ec)) {
            return Status::InvalidArgument("--cert " + url.cert_file +
                                           ": cannot load a PEM certificate from it (" +
                                           ec.message() + ")");
        }
        if (context->use_private_key_file(url.key_file, ssl::context::pem, ec)) {
            return Status::InvalidArgument("--key " + url.key_file +
                                           ": cannot load an unencrypted PEM private key from "
                                           "it (" +
                                           ec.message() + ")");
        }
        if (SSL_CTX_check_private_key(native) != 1) {
            ERR_clear_error();
            return Status::InvalidArgument("--key " + url.key_file +
                                           " does not match the certificate in --cert " +
                                           url.cert_file);
        }
    }
    return context;
}

// Verifies the server's certificate for `host`: a DNS name (also sent as SNI) or an IP address.
void ExpectHost(SSL* ssl, const std::string& host) {
    beast::error_code ec;
    asio::ip::make_address(host, ec);
    if (ec) {
        SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(host.c_str()));
        SSL_set1_host(ssl, host.c_str());
    } else {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    }
}

}  // namespace

HttpClient::HttpClient(ServerUrl url) : url_(std::move(url)), impl_(std::make_unique<Impl>()) {}

HttpClient::~HttpClient() {
    Close();
}

void HttpClient::Close() {
    if (impl_->is_connected) {
        beast::error_code ignored;
        impl_->socket.shutdown(tcp::socket::shutdown_both, ignored);
        impl_->socket.close(ignored);
    }
    impl_->tls.reset();
    impl_->is_connected = false;
    impl_->buffer.clear();
}

Status HttpClient::Handshake() {
    Impl& impl = *impl_;
    if (impl.tls_context == nullptr) {
        auto context = MakeClientTlsContext(url_);
        if (!context.ok()) {
            beast::error_code ignored;
            impl.socket.close(ignored);
            return context.status();
        }
        impl.tls_context = std::move(*context);
    }
    impl.tls = std::make_unique<ssl::stream<tcp::socket&>>(impl.socket, *impl.tls_context);
    ExpectHost(impl.tls->native_handle(), url_.host);
    beast::error_code ec;
    bool done = false;
    impl.tls->async_handshake(ssl::stream_base::client, [&](const beast::error_code& error) {
        ec = error;
        done = true;
    });
    if (RunUntilDone(impl.io, impl.socket, done, interrupt_)) {
        impl.tls.reset();
        return Cancelled();
    }
    if (ec) {
        const long verify = SSL_get_verify_result(impl.tls->native_handle());  // NOLINT
        std::string reason = ec.message();
        if (verify != X509_V_OK) {
            reason = std::string("the server's certificate is not trusted: ") +
                     X509_verify_cert_error_string(verify) +
                     (url_.ca_file.empty() ? " (pass --cacert FILE with the CA that signed it)"
                                           : " (checked against --cacert " + url_.ca_file + ")");
        }
        ERR_clear_error();
        impl.tls.reset();
        beast::error_code ignored;
        impl.socket.close(ignored);
        return Status::Unavailable("the TLS handshake with the server at " + url_.text +
                                   " failed: " + reason);
    }
    return Status::Ok();
}

Status HttpClient::Send(std::string_view method, std::string_view target,
                        const std::vector<HttpHeader>& headers, std::string body,
                        const OnHead& on_head, const OnBody& on_body) {
    const http::verb verb = http::string_to_verb(beast::string_view(method.data(), method.size()));
    if (verb == http::verb::unknown) {
        return Status::InvalidArgument("unknown HTTP method " + std::string(method));
    }
    Impl& impl = *impl_;
    // Asio reports errors as exceptions only from calls without an error_code; the one left
    // (the resolver's and the io_context's allocation failures) is turned into a Status here.
    try {
        // A kept-alive connection the server closed while idle fails on first use: then the
        // request is sent once more on a new connection (nothing of it reached the server).
        for (int attempt = 0; attempt < 2; ++attempt) {
            const bool is_reused = impl.is_connected;
            if (!impl.is_connected) {
                beast::error_code ec;
                tcp::resolver resolver(impl.io);
                const auto endpoints = resolver.resolve(url_.host, url_.port, ec);
                if (ec) {
                    return Status::Unavailable("cannot reach the server at " + url_.text + ": " +
                                               ec.message());
                }
                bool done = false;
                asio::async_connect(impl.socket, endpoints,
                                    [&](const beast::error_code& error, const tcp::endpoint&) {
                                        ec = error;
                                        done = true;
                                    });
                if (RunUntilDone(impl.io, impl.socket, done, interrupt_)) {
                    return Cancelled();
                }
                if (ec) {
                    beast::error_code ignored;
                    impl.socket.close(ignored);
                    return Status::Unavailable(
                        "cannot connect to the server at " + url_.text + ": " + ec.message() +
                        " (is phenixd running there? `make run` starts one on "
                        "http://127.0.0.1:8080)");
                }
                if (url_.is_tls) {
                    if (Status status = Handshake(); !status.ok()) {
                        return status;
                    }
                }
                impl.is_connected = true;
                impl.buffer.clear();
            }

            http::request<http::string_body> request{verb, url_.prefix + std::string(target), 11};
            request.set(http::field::host, url_.host + ":" + url_.port);
            request.set(http::field::user_agent, "phenix-shell");
            for (const HttpHeader& header : headers) {
                request.set(beast::string_view(header.name), header.value);
            }
            if (!bearer_token_.empty()) {
                request.set(http::field::authorization, "Bearer " + bearer_token_);
            }
            request.keep_alive(true);
            if (!body.empty() || verb == http::verb::post || verb == http::verb::put) {
                request.body() = body;
            }
            request.prepare_payload();

            beast::error_code ec;
            bool done = false;
            impl.WithStream([&](auto& stream) {
                http::async_write(stream, request,
                                  [&](const beast::error_code& error, std::size_t) {
                                      ec = error;
                                      done = true;
                                  });
            });
            if (RunUntilDone(impl.io, impl.socket, done, interrupt_)) {
                Close();
                return Cancelled();
            }
            http::response_parser<http::buffer_body> parser;
            // Not boost::none: Boost 1.74 compares the length against the optional, and any length
            // is greater than none.
            parser.body_limit(std::numeric_limits<std::uint64_t>::max());
            if (!ec) {
                done = false;
                impl.WithStream([&](auto& stream) {
                    http::async_read_header(stream, impl.buffer, parser,
                                            [&](const beast::error_code& error, std::size_t) {
                                                ec = error;
                                                done = true;
                                            });
                });
                if (RunUntilDone(impl.io, impl.socket, done, interrupt_)) {
                    Close();
                    return Cancelled();
                }
            }
            if (ec) {
                Close();
                if (is_reused && attempt == 0 &&
                    (ec == http::error::end_of_stream || ec == asio::error::eof ||
                     ec == asio::error::connection_reset || ec == asio::error::broken_pipe)) {
                    continue;
                }
                return Status::Unavailable("the connection to the server at " + url_.text +
                                           " failed: " + ec.message());
            }
            HttpResponseHead head;
            head.status = parser.get().result_int();
            head.content_type = std::string(parser.get()[http::field::content_type]);
            if (on_head) {
                if (Status status = on_head(head); !status.ok()) {
                    Close();
                    return status;
                }
            }
            std::array<char, kReadChunkBytes> chunk{};
            while (!parser.is_done()) {
                parser.get().body().data = chunk.data();
                parser.get().body().size = chunk.size();
                done = false;
                impl.WithStream([&](auto& stream) {
                    http::async_read_some(stream, impl.buffer, parser,
                                          [&](const beast::error_code& error, std::size_t) {
                                              ec = error;
                                              done = true;
                                          });
                });
                if (RunUntilDone(impl.io, impl.socket, done, interrupt_)) {
                    Close();
                    return Cancelled();
                }
                if (ec == http::error::need_buffer) {
                    ec = {};
                }
                const std::size_t num_read = chunk.size() - parser.get().body().size;
                if (num_read > 0 && on_body) {
                    if (Status status = on_body(std::string_view(chunk.data(), num_read));
                        !status.ok()) {
                        Close();
                        return status;
                    }
                }
                if (ec) {
                    Close();
                    return Status::Unavailable(
                        "the connection to the server at " + url_.text +
                        " broke before the end of its answer: " + ec.message() +
                        "; the statement may or may not have taken effect");
                }
            }
            if (!parser.get().keep_alive()) {
                Close();
            }
            return Status::Ok();
        }
    } catch (const std::exception& error) {
        Close();
        return Status::Unavailable("cannot reach the server at " + url_.text + ": " + error.what());
    }
    return Status::Unavailable("cannot reach the server at " + url_.text);
}

}  // namespace phenix::client
