// SPDX-License-Identifier: Apache-2.0
#include "server/http_server.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <limits>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <sys/socket.h>

#include "common/mutex.h"
#include "server/errors.h"
#include "server/router.h"
#include "server/streams.h"
#include "server/tls.h"

namespace phenix::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::uint32_t kHeaderLimitBytes = 16 * 1024;
constexpr std::size_t kMaxRequestIdLength = 128;
// A streamed request body is read in pieces of this size.
constexpr std::size_t kBodyPieceBytes = 64 * 1024;

std::string NewRequestId() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id(16, '0');
    std::uint64_t bits = rng();
    for (char& ch : id) {
        ch = kHex[bits & 0xF];
        bits >>= 4;
    }
    return id;
}

std::string_view Sv(beast::string_view text) {
    return {text.data(), text.size()};
}

bool IsPrintableToken(std::string_view text) {
    if (text.empty() || text.size() > kMaxRequestIdLength) {
        return false;
    }
    for (char ch : text) {
        if (ch <= 0x20 || ch >= 0x7F || ch == '"' || ch == '\\') {
            return false;
        }
    }
    return true;
}

// The server's view of a request's head: target split and decoded, the headers it uses, the
// request id (the client's, when printable, else a new one) and the deadline set on `context`.
// InvalidArgument for a malformed Phenix-Timeout-Ms. The body is the caller's to move in.
Result<HttpRequest> ToHttpRequest(const http::request_header<>& message, const ServerConfig& config,
                                  const std::string& client, RequestContext& context) {
    HttpRequest request;
    request.method = std::string(message.method_string());
    const std::string_view target = Sv(message.target());
    const std::size_t question = target.find('?');
    request.path = std::string(target.substr(0, question));
    if (question != std::string_view::npos) {
        request.query = ParseQueryString(target.substr(question + 1));
    }
    request.content_type = std::string(message[http::field::content_type]);
    request.accept = std::string(message[http::field::accept]);
    request.client = client;
    request.transaction = std::string(Sv(message["Phenix-Transaction"]));
    request.tenant = std::string(Sv(message["Phenix-Tenant"]));
    request.authorization = std::string(Sv(message[http::field::authorization]));
    // W3C Trace Context (server/tracing.h): checked where tracing is on.
    request.traceparent = std::string(Sv(message["traceparent"]));
    request.tracestate = std::string(Sv(message["tracestate"]));
    // A header sent empty is not an absent one: it would silently mean "no transaction".
    if (request.transaction.empty() && message.find("Phenix-Transaction") != message.end()) {
        return Status::InvalidArgument("Phenix-Transaction is empty (send a transaction id)");
    }
    if (message.count(http::field::authorization) > 1) {
        request.repeated_auth_header = "Authorization";
    } else if (message.count("Phenix-Tenant") > 1) {
        request.repeated_auth_header = "Phenix-Tenant";
    }
    if (request.tenant.empty() && message.find("Phenix-Tenant") != message.end()) {
        return Status::InvalidArgument("Phenix-Tenant is empty (send a tenant name, or no header)");
    }
    const std::string_view given_id = Sv(message["Phenix-Request-Id"]);
    request.request_id = RequestIdOf(given_id);
    std::uint32_t timeout_ms = config.default_timeout_ms;
    const std::string_view timeout_text = Sv(message["Phenix-Timeout-Ms"]);
    if (!timeout_text.empty() || message.find("Phenix-Timeout-Ms") != message.end()) {
        std::uint32_t parsed = 0;
        const char* end = timeout_text.data() + timeout_text.size();
        auto [ptr, parse_ec] = std::from_chars(timeout_text.data(), end, parsed);
        if (parse_ec != std::errc() || ptr != end || parsed == 0) {
            return Status::InvalidArgument(
                "Phenix-Timeout-Ms must be a positive integer of milliseconds, not '" +
                std::string(timeout_text) + "'");
        }
        timeout_ms = parsed;
    }
    if (timeout_ms > 0) {
        context.deadline = RequestContext::Clock::now() + std::chrono::milliseconds(timeout_ms);
    }
    return request;
}

// The path of a request target (without the query string).
std::string_view TargetPath(beast::string_view target) {
    const std::string_view text = Sv(target);
    return text.substr(0, text.find('?'));
}

struct Shared {
    const ServerConfig& config;
    RequestDispatcher& dispatcher;
    Logger& logger;
    Metrics& metrics;
    std::atomic<bool> draining{false};
    std::atomic<std::uint32_t> connections{0};
    /// Responses handed back by the dispatcher and not yet written (WaitForWrites).
    std::atomic<std::uint32_t> pending_writes{0};
    /// HTTPS: set by Listen. New connections take the current context; a reload replaces it
    /// (connections already open keep theirs).
    bool tls = false;
    Mutex tls_mu;
    std::shared_ptr<asio::ssl::context> tls_context GUARDED_BY(tls_mu);
};

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// A connection over `Stream`: beast::tcp_stream (plain HTTP) or TlsStream (HTTPS: the TLS
// handshake first, under tls_handshake_timeout_ms; a failed one closes the connection without
// touching a worker).
template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
  public:
    static constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

    Connection(tcp::socket socket, Shared& shared,
               std::shared_ptr<asio::ssl::context> tls_context = nullptr)
        : tls_context_(std::move(tls_context)),
          stream_(MakeStream(std::move(socket), tls_context_.get())),
          shared_(shared) {
        beast::error_code ec;
        const tcp::endpoint peer = Socket().remote_endpoint(ec);
        if (!ec) {
            const std::string address = peer.address().to_string();
            client_ = (peer.address().is_v6() ? "[" + address + "]" : address) + ":" +
                      std::to_string(peer.port());
        }
        ++shared_.connections;
    }
    ~Connection() { --shared_.connections; }

    void Start() {
        asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
            if constexpr (kIsTls) {
                self->Handshake();
            } else {
                self->ReadHeader(/*first=*/true);
            }
        });
    }

  private:
    static Stream MakeStream(tcp::socket socket, asio::ssl::context* tls_context) {
        if constexpr (kIsTls) {
            return Stream(std::move(socket), *tls_context);
        } else {
            return Stream(std::move(socket));
        }
    }

    beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
    tcp::socket& Socket() { return beast::get_lowest_layer(stream_).socket(); }

    // HTTPS: the handshake runs on the I/O thread under its own deadline; whatever fails it (a
    // plaintext request, an old protocol version, a missing or unverified client certificate,
    // a client that stalls) closes the connection. No worker is involved.
    void Handshake() {
        Lowest().expires_after(std::chrono::milliseconds(shared_.config.tls_handshake_timeout_ms));
        stream_.async_handshake(
            asio::ssl::stream_base::server,
            [self = this->shared_from_this()](beast::error_code ec) { self->OnHandshake(ec); });
    }

    void OnHandshake(beast::error_code ec) {
        if (ec) {
            shared_.metrics.RecordRejected("tls_handshake");
            shared_.logger.Log(
                LogLevel::kDebug, "TLS handshake failed",
                "\"client\":" + JsonQuote(client_) + ",\"error\":" + JsonQuote(ec.message()));
            beast::error_code ignored;
            Socket().shutdown(tcp::socket::shutdown_both, ignored);
            Socket().close(ignored);
            return;
        }
        client_certificate_ = PeerCertificateIdentity(stream_.native_handle());
        if (!client_certificate_.subject.empty()) {
            std::string sans;
            for (const std::string& san : client_certificate_.sans) {
                sans += (sans.empty() ? "" : ",") + JsonQuote(san);
            }
            shared_.logger.Log(LogLevel::kDebug, "TLS client certificate",
                               "\"client\":" + JsonQuote(client_) +
                                   ",\"subject\":" + JsonQuote(client_certificate_.subject) +
                                   ",\"sans\":[" + sans + "]");
        }
        ReadHeader(/*first=*/true);
    }

    void SetClientCertificate(HttpRequest& request) const {
        request.client_certificate = client_certificate_;
    }

    void ReadHeader(bool first) {
        parser_.emplace();
        parser_->header_limit(kHeaderLimitBytes);
        // The body limit depends on the route (max_body_bytes, or max_import_bytes for a
        // streamed body): OnHeader sets it.
        // (Not boost::none: Beast 1.74 compares a Content-Length with it as "greater than none".)
        parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
        Lowest().expires_after(std::chrono::milliseconds(first ? shared_.config.header_timeout_ms
                                                               : shared_.config.idle_timeout_ms));
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = this->shared_from_this()](
                                    beast::error_code ec, std::size_t) { self->OnHeader(ec); });
    }

    void OnHeader(beast::error_code ec) {
        if (ec) {
            FailRead(ec);
            return;
        }
        // A keep-alive request's headers may have trickled in under the idle timeout; the body
        // gets its own.
        Lowest().expires_after(std::chrono::milliseconds(shared_.config.body_timeout_ms));
        const auto& header = parser_->get();
        body_is_streamed_ =
            shared_.dispatcher.StreamsBody(Sv(header.method_string()), TargetPath(header.target()));
        const std::uint64_t limit =
            body_is_streamed_ ? shared_.config.max_import_bytes : shared_.config.max_body_bytes;
        if (limit > 0) {
            // A Content-Length over the limit is refused before the body is read (a chunked body
            // when it reaches the limit).
            if (const auto length = parser_->content_length(); length && *length > limit) {
                FailRead(http::error::body_limit);
                return;
            }
            parser_->body_limit(limit);
        }
        if (beast::iequals(header[http::field::expect], "100-continue")) {
            auto continue_response = std::make_shared<http::response<http::empty_body>>(
                http::status::continue_, header.version());
            http::async_write(stream_, *continue_response,
                              [self = this->shared_from_this(), continue_response](
                                  beast::error_code write_ec, std::size_t) {
                                  if (write_ec) {
                                      self->Close();
                                      return;
                                  }
                                  self->ReadBody();
                              });
            return;
        }
        ReadBody();
    }

    void ReadBody() {
        if (body_is_streamed_) {
            StartBodyStream();
            return;
        }
        http::async_read(stream_, buffer_, *parser_,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             self->OnRead(ec);
                         });
    }

    void FailRead(beast::error_code ec) {
        if (ec == http::error::body_limit) {
            const char* option = body_is_streamed_ ? "max_import_bytes" : "max_body_bytes";
            const std::uint64_t limit =
                body_is_streamed_ ? shared_.config.max_import_bytes : shared_.config.max_body_bytes;
            SendEarly(413, Status::ResourceExhausted("the request body is larger than " +
                                                     std::string(option) + " (" +
                                                     std::to_string(limit) + ")"));
            return;
        }
        if (ec == http::error::header_limit) {
            SendEarly(431, Status::ResourceExhausted("the request headers are too large"));
            return;
        }
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
            ec == asio::error::eof) {
            Close();
            return;
        }
        // Any other parse error: a malformed request.
        SendEarly(400, Status::InvalidArgument("malformed HTTP request: " + ec.message()));
    }

    // Answers a request that could not be read whole, then closes the connection.
    void SendEarly(unsigned status, const Status& error) {
        shared_.metrics.RecordRejected(status == 413   ? "body_too_large"
                                       : status == 431 ? "headers_too_large"
                                                       : "malformed");
        HttpResponse response = ErrorResponse(error, status);
        request_id_ = NewRequestId();
        shared_.logger.Access({.request_id = request_id_,
                               .method = "-",
                               .route = "-",
                               .status = status,
                               .latency_us = 0,
                               .bytes_in = 0,
                               .bytes_out = response.body.size(),
                               .client = client_,
                               .error_code = ErrorCodeName(error.code())});
        linger_ = true;
        Write(std::move(response), /*keep_alive=*/false, 11);
    }

    void OnRead(beast::error_code ec) {
        if (ec) {
            FailRead(ec);
            return;
        }
        Lowest().expires_never();
        http::request<http::string_body> message = parser_->release();
        parser_.reset();
        keep_alive_ = message.keep_alive();
        version_ = message.version();

        auto context = std::make_shared<RequestContext>();
        Result<HttpRequest> converted = ToHttpRequest(message, shared_.config, client_, *context);
        if (!converted.ok()) {
            request_id_ = NewRequestId();
            Write(ErrorResponse(converted.status()), keep_alive_, version_);
            return;
        }
        HttpRequest request = std::move(*converted);
        SetClientCertificate(request);
        request.body = std::move(message.body());
        request_id_ = request.request_id;
        cancelled_ = context->cancelled;
        answered_.store(false);
        shared_.dispatcher.Dispatch(std::move(request), std::move(context),
                                    [self = this->shared_from_this()](HttpResponse response) {
                                        self->answered_.store(true);
                                        ++self->shared_.pending_writes;
                                        asio::post(
                                            self->stream_.get_executor(),
                                            [self, response = std::move(response)]() mutable {
                                                self->OnResponse(std::move(response));
                                            });
                                    });
        // Answered already (a probe, a short request run on this thread, a refusal): nothing
        // to watch. Otherwise a worker runs it; if it answers meanwhile, OnResponse (queued
        // behind this handler) cancels the watch.
        if (!answered_.load()) {
            WatchForDisconnect();
        }
    }

    // While the handler runs nobody reads the socket; wait for it to become readable: end of
    // stream there means the client went away, so its request is cancelled. Bytes there are a
    // pipelined request, left for the next read. Readiness can be stale (an edge for bytes the
    // request's read already consumed), so a peek decides.
    void WatchForDisconnect() {
        watching_ = true;
        Socket().async_wait(
            tcp::socket::wait_read, [self = this->shared_from_this()](beast::error_code ec) {
                self->watching_ = false;
                if (ec == asio::error::operation_aborted || self->cancelled_ == nullptr) {
                    return;
                }
                char byte = 0;
                const ssize_t peeked =
                    ec ? 0
                       : ::recv(self->Socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
                if (peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                    self->WatchForDisconnect();  // nothing there after all
                    return;
                }
                if (peeked <= 0) {  // end of stream, or the connection failed
                    self->cancelled_->store(true);
                    self->peer_gone_ = true;
                }
            });
    }

    void OnResponse(HttpResponse response) {
        if (watching_) {
            beast::error_code ignored;
            Socket().cancel(ignored);  // completes the wait with operation_aborted
        }
        if (body_in_ != nullptr) {
            // A streamed request body: a response before its end closes the connection (the rest
            // of the body is not read).
            if (!body_in_->is_complete() && !peer_gone_) {
                keep_alive_ = false;
                body_stopped_ = true;
            }
            body_in_.reset();
        }
        if (peer_gone_) {
            cancelled_.reset();
            if (response.stream != nullptr) {
                response.stream->Abort();
            }
            --shared_.pending_writes;
            Close();
            return;
        }
        if (response.stream != nullptr) {
            // pending_writes stays counted until the last chunk is written (or the stream fails);
            // cancelled_ stays set so that a failed write cancels the handler.
            StartStream(std::move(response));
            return;
        }
        cancelled_.reset();
        Write(std::move(response), keep_alive_, version_);
        --shared_.pending_writes;
    }

    void Write(HttpResponse response, bool keep_alive, unsigned version) {
        auto message = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(response.status), version);
        message->set(http::field::server, "phenixd");
        message->set(http::field::content_type, response.content_type);
        message->set("Phenix-Request-Id", request_id_);
        for (const auto& [name, value] : response.headers) {
            message->set(name, value);
        }
        message->body() = std::move(response.body);
        message->keep_alive(keep_alive && !shared_.draining.load());
        message->prepare_payload();
        Lowest().expires_after(std::chrono::milliseconds(shared_.config.body_timeout_ms));
        ++shared_.pending_writes;
        http::async_write(
            stream_, *message,
            [self = this->shared_from_this(), message](beast::error_code ec, std::size_t) {
                --self->shared_.pending_writes;
                if (ec || !message->keep_alive()) {
                    if (!ec && self->body_stopped_) {
                        self->linger_ = true;  // the unread rest of the body
                    }
                    self->Close();
                    return;
                }
                self->ReadHeader(/*first=*/false);
            });
    }

    // ---- a request body streamed to its handler (RouteOptions::streams_body)

    // Dispatches the request now, with its body as a RequestBodyStream that ReadBodyPiece fills
    // as the client sends it (pausing while the handler has not taken what is there).
    void StartBodyStream() {
        body_stopped_ = false;
        closing_after_body_ = false;
        body_parser_.emplace(std::move(*parser_));  // keeps the limit OnHeader set
        parser_.reset();
        const auto& header = body_parser_->get();
        keep_alive_ = header.keep_alive();
        version_ = header.version();
        auto context = std::make_shared<RequestContext>();
        Result<HttpRequest> converted = ToHttpRequest(header, shared_.config, client_, *context);
        if (!converted.ok()) {
            request_id_ = NewRequestId();
            body_parser_.reset();
            linger_ = true;  // the body is not read
            Write(ErrorResponse(converted.status()), /*keep_alive=*/false, version_);
            return;
        }
        HttpRequest request = std::move(*converted);
        SetClientCertificate(request);
        request_id_ = request.request_id;
        cancelled_ = context->cancelled;
        body_in_ = std::make_shared<RequestBodyStream>(shared_.config.stream_buffer_bytes,
                                                       RequestStopCheck(*context));
        request.body_stream = body_in_;
        body_piece_.resize(kBodyPieceBytes);
        shared_.dispatcher.Dispatch(std::move(request), std::move(context),
                                    [self = this->shared_from_this()](HttpResponse response) {
                                        ++self->shared_.pending_writes;
                                        asio::post(
                                            self->stream_.get_executor(),
                                            [self, response = std::move(response)]() mutable {
                                                self->OnResponse(std::move(response));
                                            });
                                    });
        if (body_parser_->is_done()) {  // an empty body
            body_in_->Finish();
            return;
        }
        ReadBodyPiece();
    }

    void ReadBodyPiece() {
        if (!body_parser_.has_value() || body_stopped_) {
            return;
        }
        if (!body_in_->HasRoom([weak = this->weak_from_this()] {
                if (auto self = weak.lock()) {
                    asio::post(self->stream_.get_executor(), [self] { self->ReadBodyPiece(); });
                }
            })) {
            return;  // the handler is behind; resumed by the callback
        }
        if (body_in_->abandoned()) {
            StopBody();
            return;
        }
        auto& body = body_parser_->get().body();
        body.data = body_piece_.data();
        body.size = body_piece_.size();
        body.more = true;
        body_reading_ = true;
        Lowest().expires_after(std::chrono::milliseconds(shared_.config.body_timeout_ms));
        http::async_read(stream_, buffer_, *body_parser_,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             self->OnBodyPiece(ec);
                         });
    }

    void OnBodyPiece(beast::error_code ec) {
        body_reading_ = false;
        if (ec == http::error::need_buffer) {
            ec = {};
        }
        const std::size_t num_read = body_piece_.size() - body_parser_->get().body().size;
        if (num_read > 0 && !body_stopped_) {
            body_in_->Put(std::string_view(body_piece_.data(), num_read));
        }
        if (body_stopped_) {
            // The response went out (or is going) before the body was read whole.
            StopBody();
            return;
        }
        if (ec) {
            if (ec == http::error::body_limit) {
                body_in_->Fail(Status::ResourceExhausted(
                    "the request body is larger than max_import_bytes (" +
                    std::to_string(shared_.config.max_import_bytes) + ")"));
            } else {
                body_in_->Fail(Status(StatusCode::kCancelled,
                                      "the request body could not be read whole (" + ec.message() +
                                          "): the client went away or stopped sending"));
                if (cancelled_ != nullptr) {
                    cancelled_->store(true);
                }
                peer_gone_ = true;
            }
            body_stopped_ = true;
            Lowest().expires_never();
            return;
        }
        if (body_parser_->is_done()) {
            body_in_->Finish();
            body_parser_.reset();
            Lowest().expires_never();
            WatchForDisconnect();  // while the handler finishes (COPY's last batches)
            return;
        }
        ReadBodyPiece();
    }

    // No more of the body is read: the connection closes after the response (once any read
    // still in flight returns).
    void StopBody() {
        body_stopped_ = true;
        keep_alive_ = false;
        if (!body_reading_ && closing_after_body_) {
            closing_after_body_ = false;
            LingerClose();
        }
    }

    // ---- a response body streamed from its handler (HttpResponse::stream_body)

    void StartStream(HttpResponse response) {
        out_stream_ = std::move(response.stream);
        auto message = std::make_shared<http::response<http::empty_body>>(
            static_cast<http::status>(response.status), version_);
        message->set(http::field::server, "phenixd");
        message->set(http::field::content_type, response.content_type);
        message->set("Phenix-Request-Id", request_id_);
        for (const auto& [name, value] : response.headers) {
            message->set(name, value);
        }
        message->keep_alive(keep_alive_ && !shared_.draining.load());
        stream_keep_alive_ = message->keep_alive();
        message->chunked(true);
        auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*message);
        Lowest().expires_after(std::chrono::milliseconds(shared_.config.body_timeout_ms));
        http::async_write_header(stream_, *serializer,
                                 [self = this->shared_from_this(), message, serializer](
                                     beast::error_code ec, std::size_t) {
                                     if (ec) {
                                         self->FailStream();
                                         return;
                                     }
                                     self->PumpStream();
                                 });
    }

    // Sends what the handler has written, then waits for more (or the end).
    void PumpStream() {
        ResponseStream::Taken taken = out_stream_->Take([weak = this->weak_from_this()] {
            if (auto self = weak.lock()) {
                asio::post(self->stream_.get_executor(), [self] { self->PumpStream(); });
            }
        });
        if (!taken.data.empty()) {
            auto data = std::make_shared<std::string>(std::move(taken.data));
            auto chunk = std::make_shared<decltype(http::make_chunk(asio::const_buffer()))>(
                http::make_chunk(asio::const_buffer(data->data(), data->size())));
            Lowest().expires_after(std::chrono::milliseconds(shared_.config.body_timeout_ms));
            asio::async_write(
                stream_, *chunk,
                [self = this->shared_from_this(), data, chunk](beast::error_code ec, std::size_t) {
                    if (ec) {
                        self->FailStream();
                        return;
                    }
                    self->PumpStream();
                });
            return;
        }
        if (!taken.is_finished) {
            return;  // PumpStream runs again when the handler writes
        }
        auto last = std::make_shared<decltype(http::make_chunk_last())>(http::make_chunk_last());
        Lowest().expires_after(std::chrono::milliseconds(shared_.config.body_timeout_ms));
        asio::async_write(
            stream_, *last,
            [self = this->shared_from_this(), last](beast::error_code ec, std::size_t) {
                if (ec) {
                    self->FailStream();
                    return;
                }
                self->out_stream_->MarkSent();
                self->out_stream_.reset();
                --self->shared_.pending_writes;
                if (!self->stream_keep_alive_) {
                    self->Close();
                    return;
                }
                self->ReadHeader(/*first=*/false);
            });
    }

    // The client went away (or stopped reading past body_timeout_ms) mid-stream: the handler's
    // next write fails, which cancels its query.
    void FailStream() {
        if (cancelled_ != nullptr) {
            cancelled_->store(true);
        }
        out_stream_->Abort();
        out_stream_.reset();
        --shared_.pending_writes;
        Close();
    }

    void Close() {
        if (linger_) {
            LingerClose();
            return;
        }
        beast::error_code ignored;
        Socket().shutdown(tcp::socket::shutdown_send, ignored);
        Socket().close(ignored);
    }

    // After an error answered before the request was read whole (413, 400): stop sending, then
    // read and discard what the client still sends, for a short while, so that closing with
    // unread bytes does not reset the connection before the client has read the answer.
    void LingerClose() {
        linger_ = false;
        beast::error_code ignored;
        Socket().shutdown(tcp::socket::shutdown_send, ignored);
        Lowest().expires_after(std::chrono::seconds(1));
        if (body_reading_) {
            // A streamed body's read is in flight: OnBodyPiece discards from there.
            closing_after_body_ = true;
            return;
        }
        Discard();
    }

    void Discard() {
        stream_.async_read_some(asio::buffer(discard_), [self = this->shared_from_this()](
                                                            beast::error_code ec, std::size_t) {
            if (ec) {
                beast::error_code ignored;
                self->Socket().close(ignored);
                return;
            }
            self->Discard();
        });
    }

    std::shared_ptr<asio::ssl::context> tls_context_;  // HTTPS: outlives stream_
    Stream stream_;
    Shared& shared_;
    security::ClientCertificate client_certificate_;  // mutual TLS: the verified certificate
    bool linger_ = false;
    std::array<char, 4096> discard_{};
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::string client_;
    std::string request_id_;
    std::shared_ptr<std::atomic<bool>> cancelled_;
    bool keep_alive_ = true;
    unsigned version_ = 11;
    bool watching_ = false;
    // Set when the dispatcher answered the current request (from whichever thread).
    std::atomic<bool> answered_{false};
    bool peer_gone_ = false;
    // A streamed request body (RouteOptions::streams_body).
    bool body_is_streamed_ = false;
    std::optional<http::request_parser<http::buffer_body>> body_parser_;
    std::shared_ptr<RequestBodyStream> body_in_;
    std::string body_piece_;
    bool body_reading_ = false;        // an async_read of a piece is in flight
    bool body_stopped_ = false;        // no more pieces are read
    bool closing_after_body_ = false;  // LingerClose once the read in flight returns
    // A streamed response body (HttpResponse::stream_body).
    std::shared_ptr<ResponseStream> out_stream_;
    bool stream_keep_alive_ = false;
};

}  // namespace

struct HttpServer::Impl {
    Impl(const ServerConfig& config, RequestDispatcher& dispatcher, Logger& logger,
         Metrics& metrics)
        : shared{config, dispatcher, logger, metrics}, acceptor(asio::make_strand(io)) {}

    void Accept() {
        acceptor.async_accept(
            asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
                if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
                    return;
                }
                if (ec) {
                    // Out of file descriptors or memory: retry shortly rather than spin.
                    accept_retry.expires_after(std::chrono::milliseconds(50));
                    accept_retry.async_wait([this](beast::error_code timer_ec) {
                        if (!timer_ec) {
                            Accept();
                        }
                    });
                    return;
                }
                if (shared.connections.load() >= shared.config.max_connections) {
                    shared.metrics.RecordRejected("max_connections");
                    beast::error_code ignored;
                    socket.close(ignored);
                } else if (shared.tls) {
                    std::shared_ptr<asio::ssl::context> context;
                    {
                        MutexLock lock(shared.tls_mu);
                        context = shared.tls_context;
                    }
                    std::make_shared<Connection<TlsStream>>(std::move(socket), shared,
                                                            std::move(context))
                        ->Start();
                } else {
                    std::make_shared<Connection<beast::tcp_stream>>(std::move(socket), shared)
                        ->Start();
                }
                Accept();
            });
    }

    // Builds a context from the configured files and makes it the one new connections use; on
    // failure the current one stays (and the error, naming the file, is logged and returned).
    Status ReloadTls(std::string_view trigger) {
        auto built = MakeServerTlsContext(shared.config);
        if (!built.ok()) {
            shared.logger.Log(LogLevel::kError,
                              "TLS certificate reload failed; still serving the previous one",
                              "\"trigger\":" + JsonQuote(trigger) +
                                  ",\"error\":" + JsonQuote(built.status().message()));
            return built.status();
        }
        {
            MutexLock lock(shared.tls_mu);
            shared.tls_context = std::move(*built);
        }
        shared.logger.Log(LogLevel::kInfo, "TLS certificate reloaded",
                          "\"trigger\":" + JsonQuote(trigger) + ",\"certificate\":" +
                              JsonQuote(DescribeCertificateFile(shared.config.tls_cert)));
        return Status::Ok();
    }

    std::vector<std::string> TlsFiles() const {
        return {shared.config.tls_cert, shared.config.tls_key, shared.config.tls_client_ca};
    }

    // Every tls_reload_interval_ms: a change in the files' stamps (mtime, size, inode) reloads.
    // A bad pair is not retried until the files change again.
    void PollTlsFiles() {
        tls_poll.expires_after(std::chrono::milliseconds(shared.config.tls_reload_interval_ms));
        tls_poll.async_wait([this](beast::error_code ec) {
            if (ec) {
                return;
            }
            std::string stamp = FilesStamp(TlsFiles());
            if (stamp != tls_stamp) {
                tls_stamp = std::move(stamp);
                (void)ReloadTls("file change");
            }
            PollTlsFiles();
        });
    }

    // `shared` outlives `io`: destroying the io_context destroys pending handlers, whose
    // connections count themselves out of `shared`.
    Shared shared;
    asio::io_context io;
    tcp::acceptor acceptor;
    asio::steady_timer accept_retry{acceptor.get_executor()};
    asio::steady_timer tls_poll{asio::make_strand(io)};  // its handlers run one at a time
    std::string tls_stamp;  // the TLS files as last loaded (touched by PollTlsFiles only)
    std::vector<std::thread> threads;
};

HttpServer::HttpServer(const ServerConfig& config, RequestDispatcher& dispatcher, Logger& logger,
                       Metrics& metrics)
    : impl_(std::make_unique<Impl>(config, dispatcher, logger, metrics)) {}

HttpServer::~HttpServer() {
    Stop();
}

Result<std::string> HttpServer::Listen() {
    const ServerConfig& config = impl_->shared.config;
    PHENIX_ASSIGN_OR_RETURN(const bool use_tls, TlsEnabled(config));
    if (use_tls) {
        PHENIX_ASSIGN_OR_RETURN(auto context, MakeServerTlsContext(config));
        impl_->tls_stamp = FilesStamp(impl_->TlsFiles());
        MutexLock lock(impl_->shared.tls_mu);
        impl_->shared.tls_context = std::move(context);
        impl_->shared.tls = true;
    }
    auto host_port = ParseHostPort(impl_->shared.config.http_address);
    if (!host_port.ok()) {
        return host_port.status();
    }
    beast::error_code ec;
    tcp::resolver resolver(impl_->io);
    auto endpoints = resolver.resolve(host_port->host, std::to_string(host_port->port),
                                      tcp::resolver::passive, ec);
    if (ec || endpoints.empty()) {
        return Status::InvalidArgument("cannot resolve http host '" + host_port->host +
                                       "': " + ec.message());
    }
    const tcp::endpoint endpoint = endpoints.begin()->endpoint();
    tcp::acceptor& acceptor = impl_->acceptor;
    const auto fail = [&](std::string_view what) {
        return Status::Unavailable("cannot " + std::string(what) + " " +
                                   impl_->shared.config.http_address + ": " + ec.message());
    };
    if (acceptor.open(endpoint.protocol(), ec)) {
        return fail("open");
    }
    if (acceptor.set_option(asio::socket_base::reuse_address(true), ec)) {
        return fail("configure");
    }
    if (acceptor.bind(endpoint, ec)) {
        return fail("bind");
    }
    if (acceptor.listen(asio::socket_base::max_listen_connections, ec)) {
        return fail("listen on");
    }
    const tcp::endpoint bound = acceptor.local_endpoint(ec);
    if (ec) {
        return fail("read the address of");
    }
    const std::string address = bound.address().to_string();
    return (bound.address().is_v6() ? "[" + address + "]" : address) + ":" +
           std::to_string(bound.port());
}

void HttpServer::Start() {
    impl_->Accept();
    if (impl_->shared.tls && impl_->shared.config.tls_reload_interval_ms > 0) {
        impl_->PollTlsFiles();
    }
    for (std::uint32_t thread_idx = 0; thread_idx < impl_->shared.config.io_threads; ++thread_idx) {
        impl_->threads.emplace_back([this] { impl_->io.run(); });
    }
}

void HttpServer::StopAccepting() {
    asio::post(impl_->acceptor.get_executor(), [this] {
        beast::error_code ignored;
        impl_->acceptor.close(ignored);
        impl_->accept_retry.cancel();
    });
    asio::post(impl_->tls_poll.get_executor(), [this] { impl_->tls_poll.cancel(); });
}

void HttpServer::SetDraining() {
    impl_->shared.draining.store(true);
}

void HttpServer::WaitForWrites(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (impl_->shared.pending_writes.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

void HttpServer::Stop() {
    impl_->io.stop();
    for (std::thread& thread : impl_->threads) {
        if (thread.joinable()) {
            thread.join();
        }
    }
    impl_->threads.clear();
}

bool HttpServer::tls_enabled() const {
    return impl_->shared.tls;
}

Status HttpServer::ReloadTls() {
    if (!impl_->shared.tls) {
        return Status::FailedPrecondition("TLS is off (no --tls-cert / --tls-key)");
    }
    return impl_->ReloadTls("SIGHUP");
}

boost::asio::io_context& HttpServer::io_context() {
    return impl_->io;
}

ParsedRequest ParseRequest(std::string_view bytes, const ServerConfig& config) {
    ParsedRequest out;
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimitBytes);
    parser.body_limit(config.max_body_bytes);
    parser.eager(true);
    beast::error_code ec;
    std::size_t used = 0;
    while (!ec && used < bytes.size() && !parser.is_done()) {
        const std::size_t consumed =
            parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
        if (consumed == 0 && !ec) {
            break;
        }
        used += consumed;
    }
    if (!ec && !parser.is_done()) {
        parser.put_eof(ec);
    }
    if (ec == http::error::body_limit) {
        out.early_response = ErrorResponse(Status::ResourceExhausted("body too large"), 413);
        return out;
    }
    if (ec || !parser.is_done()) {
        out.early_response =
            ErrorResponse(Status::InvalidArgument("malformed HTTP request: " +
                                                  (ec ? ec.message() : std::string("incomplete"))),
                          ec == http::error::header_limit ? 431 : 400);
        return out;
    }
    http::request<http::string_body> message = parser.release();
    out.context = std::make_shared<RequestContext>();
    Result<HttpRequest> converted = ToHttpRequest(message, config, "fuzz:0", *out.context);
    if (!converted.ok()) {
        out.early_response = ErrorResponse(converted.status());
        return out;
    }
    out.request = std::move(*converted);
    out.request->body = std::move(message.body());
    return out;
}

std::string RequestIdOf(std::string_view given) {
    return IsPrintableToken(given) ? std::string(given) : NewRequestId();
}

}  // namespace phenix::server
