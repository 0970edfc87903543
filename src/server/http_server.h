// SPDX-License-Identifier: Apache-2.0
//
// HttpServer: the HTTP/1.1 listener and its connections, on Boost.Beast over one Asio
// io_context run by a small fixed set of I/O threads (ServerConfig::io_threads) — never a
// thread per connection. Each connection is a strand: it reads a request (headers under
// header_timeout_ms, the body under body_timeout_ms and max_body_bytes -> 413), hands it to the
// RequestDispatcher, and while the handler runs watches the socket so that a client that goes
// away sets the request's cancellation flag. Keep-alive until the client closes, idle_timeout_ms
// passes, or the server drains. Connections beyond max_connections are closed at once.
//
// Beast types stay in http_server.cc; the dispatcher sees only HttpRequest/HttpResponse.
// With tls_cert/tls_key (docs/security.md#tls) every connection is HTTPS: a TLS handshake under
// tls_handshake_timeout_ms first, on the same I/O threads (server/tls.h builds the context).
//
// Thread-safe: Listen/Start/StopAccepting/SetDraining/Stop/ReloadTls may be called from any
// thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <phenix/result.h>

#include "server/config.h"
#include "server/http_types.h"
#include "server/log.h"
#include "server/metrics.h"

namespace boost::asio {
class io_context;
}

namespace phenix::server {

class RequestDispatcher {
  public:
    virtual ~RequestDispatcher() = default;
    /// Called on an I/O thread with a complete request; must not block. Calls `done` exactly
    /// once, from any thread.
    virtual void Dispatch(HttpRequest request, std::shared_ptr<RequestContext> context,
                          std::function<void(HttpResponse)> done) = 0;
    /// Whether the request's body is handed over as it arrives (HttpRequest::body_stream, the
    /// request dispatched once its headers are read) rather than read whole first. Called on an
    /// I/O thread; must not block.
    [[nodiscard]] virtual bool StreamsBody(std::string_view /*method*/,
                                           std::string_view /*path*/) const {
        return false;
    }
};

/// The id of a request or gRPC call: `given` (Phenix-Request-Id, the phenix-request-id metadata)
/// when it is a printable token of at most 128 bytes without quotes or backslashes, else a new
/// random one (16 hex digits). Thread-safe.
std::string RequestIdOf(std::string_view given);

/// What a connection makes of `bytes` read as one HTTP/1.1 request under `config`'s limits:
/// the request it would dispatch (with its context), or the error it would answer. For tests and
/// the HTTP fuzz target (tests/fuzz/http_fuzz.cc).
struct ParsedRequest {
    std::optional<HttpRequest> request;
    std::shared_ptr<RequestContext> context;
    std::optional<HttpResponse> early_response;
};
ParsedRequest ParseRequest(std::string_view bytes, const ServerConfig& config);

class HttpServer {
  public:
    HttpServer(const ServerConfig& config, RequestDispatcher& dispatcher, Logger& logger,
               Metrics& metrics);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// Binds the listening socket. Returns the bound "host:port" (the real port for port 0).
    /// InvalidArgument for a bad address, Unavailable when the address cannot be bound.
    Result<std::string> Listen();
    /// Starts accepting and the I/O threads.
    void Start();
    /// Closes the listening socket; open connections go on.
    void StopAccepting();
    /// From now on every response closes its connection.
    void SetDraining();
    /// Waits (up to `timeout`) until every response handed back by the dispatcher is written.
    void WaitForWrites(std::chrono::milliseconds timeout);
    /// Stops the event loop (dropping idle connections) and joins the I/O threads.
    void Stop();
    /// HTTPS (ServerConfig::tls_cert/tls_key; Listen loads them): whether it is on.
    [[nodiscard]] bool tls_enabled() const;
    /// Reloads the TLS certificate, key and client CA from their files for new connections
    /// (SIGHUP; the files are also polled every tls_reload_interval_ms). On an error (naming the
    /// file; also logged) the previous ones stay. FailedPrecondition when TLS is off.
    Status ReloadTls();
    boost::asio::io_context& io_context();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace phenix::server
