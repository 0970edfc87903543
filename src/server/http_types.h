// SPDX-License-Identifier: Apache-2.0
//
// The server's own request/response values: what the router and the handlers see. They hold no
// network types, so handlers are testable without sockets and the transport (Beast today, gRPC
// later) is replaceable. Thread-compatible values; RequestContext's cancellation flag is the one
// thing shared between the connection (which sets it) and the worker (which polls it).
//
// Streaming, both ways, without network types: a route with RouteOptions::streams_body gets its
// body as a BodyReader (HttpRequest::body_stream) while the connection is still reading it; a
// handler that sets HttpResponse::stream_body writes its body to a ChunkWriter as it produces it
// (chunked transfer encoding). Both are bounded buffers (server/streams.h): a reader blocks until
// bytes arrive, a writer blocks while the connection has not sent what it wrote (backpressure).
#pragma once

#include <any>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <phenix/result.h>
#include <phenix/status.h>

#include "security/authenticator.h"
#include "security/principal.h"

namespace phenix::server {

/// A request body read as it arrives. Read blocks until bytes are there; 0 at the end of the
/// body; a non-OK status when it cannot be read whole: ResourceExhausted (max_import_bytes),
/// Cancelled (the client went away, or the request was cancelled), DeadlineExceeded.
/// Confined to the worker running the request.
class BodyReader {
  public:
    virtual ~BodyReader() = default;
    virtual Result<std::size_t> Read(char* buffer, std::size_t size) = 0;
    /// Bytes read from the client so far.
    [[nodiscard]] virtual std::uint64_t bytes_received() const = 0;
};

struct HttpResponse;
class ResponseStream;
class RequestTrace;  // server/tracing.h

/// Where a streamed response's body goes (HttpResponse::stream_body). Confined to the worker.
class ChunkWriter {
  public:
    virtual ~ChunkWriter() = default;
    /// Appends `bytes` to the body; the response's status line and headers go out before the
    /// first byte. Blocks while the connection is behind. Cancelled when the client went away
    /// (or the request was cancelled), DeadlineExceeded when the deadline passed while it waited;
    /// then the body cannot go on (but Finish may still write one last line).
    virtual Status Write(std::string_view bytes) = 0;
    /// Writes `bytes` without waiting for room: the last line of a body that ended early (an
    /// error line). Ignored once the connection failed.
    virtual void Finish(std::string_view bytes) = 0;
    /// Answers `response` instead of the stream. Only before the first Write (an error found
    /// before any of the body was produced); later calls are ignored.
    virtual void Reject(HttpResponse response) = 0;
    /// Whether the first Write happened (the status line is committed).
    [[nodiscard]] virtual bool started() const = 0;
};

struct HttpRequest {
    std::string method;  ///< "GET", "POST", ...
    std::string path;    ///< the target without its query string, not yet percent-decoded
    std::map<std::string, std::string, std::less<>> query;  ///< decoded query parameters
    std::string content_type;                               ///< empty when absent
    std::string accept;
    std::string body;  ///< empty when body_stream is set
    /// Set for routes that read their body as it arrives (RouteOptions::streams_body).
    std::shared_ptr<BodyReader> body_stream;
    std::string request_id;
    std::string transaction;  ///< Phenix-Transaction, empty when absent
    /// Phenix-Tenant, empty when absent (the default tenant). Before a handler runs the server
    /// replaces it with the tenant the request acts in (RequestContext::tenant).
    std::string tenant;
    std::string client;         ///< "ip:port" of the peer
    std::string authorization;  ///< the Authorization header, empty when absent
    /// "Authorization" or "Phenix-Tenant" when the request sent that header more than once: an
    /// ambiguity in who or where (a proxy and the server could each read another copy), which
    /// the server refuses with 400 and audits before anything else. Empty otherwise.
    std::string repeated_auth_header;
    /// Mutual TLS (--tls-client-ca): the verified client certificate's subject, RFC 2253
    /// ("CN=alice,O=Acme"), its CN and its subjectAltNames ("DNS:host", "URI:spiffe://...",
    /// "email:a@b", "IP:10.0.0.1"). Empty without a client certificate. Identity only: mapping it
    /// to a principal is the authenticator's business (--tls-client-map).
    security::ClientCertificate client_certificate;
    std::string traceparent;  ///< W3C Trace Context headers, empty when absent
    std::string tracestate;
    /// Set by the server when tracing is on (server/tracing.h): the request's trace, whose
    /// root span ends when the response is recorded.
    std::shared_ptr<RequestTrace> trace;
};

struct HttpResponse {
    unsigned status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    /// Set: the body is produced after the handler returns, on the same worker: the server calls
    /// it with a writer, and the status, content type and headers above go out (chunked) with
    /// the first bytes it writes. It may Reject() instead, before writing anything.
    std::function<void(ChunkWriter&)> stream_body;
    /// For the transport: the buffer a streamed body comes out of (set by the server).
    std::shared_ptr<ResponseStream> stream;
    /// Only from a handler running on the I/O thread (RequestContext::on_io_thread): the request
    /// is not a short one after all; the server runs the handler again on a worker.
    bool needs_worker = false;
};

/// Per-request state shared by the connection and the worker that runs the request.
struct RequestContext {
    using Clock = std::chrono::steady_clock;
    Clock::time_point deadline = Clock::time_point::max();
    /// Set by the connection when the client goes away, or by a forced shutdown.
    std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
    /// Who sent the request, set by the server's enforcement point (server/access.h) before any
    /// handler runs: the shared Principal::Local() with auth off. Never null in a handler.
    std::shared_ptr<const security::Principal> principal;
    /// The tenant the request acts in (empty: the default tenant): the principal's own, or for a
    /// cluster administrator the one Phenix-Tenant names.
    std::string tenant;
    /// gRPC calls: the call's request id (the phenix-request-id metadata when it is a printable
    /// token, else a new one) for audit records. REST keeps it in HttpRequest::request_id.
    std::string request_id;
    /// Set while a short request (RouteOptions::short_request) runs on the I/O thread that read
    /// it: the handler must answer at once or return HttpResponse::needs_worker.
    bool on_io_thread = false;
    /// What a handler that returned HttpResponse::needs_worker from the I/O thread left for its
    /// run on the worker (HandleSearch: its scan of the body), so that work is not done twice.
    std::any prepared;
    /// gRPC calls, when tracing is on: the call's trace, started when the call arrived (with
    /// its traceparent metadata) and finished when it is recorded. REST keeps it in
    /// HttpRequest::trace.
    std::shared_ptr<RequestTrace> trace;

    [[nodiscard]] bool DeadlinePassed() const { return Clock::now() >= deadline; }
    [[nodiscard]] bool IsCancelled() const { return cancelled->load(); }
    /// For QuerySession::set_interrupt: true once the deadline passed or the request was
    /// cancelled.
    [[nodiscard]] std::function<bool()> Interrupt() const {
        return [flag = cancelled, deadline = deadline] {
            return flag->load() || Clock::now() >= deadline;
        };
    }
};

}  // namespace phenix::server
