// SPDX-License-Identifier: Apache-2.0
#include "server/server.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <phenix/db.h>

#include "audit/audit_log.h"
#include "security/api_keys.h"
#include "security/client_cert.h"
#include "security/rbac.h"
#include "server/errors.h"
#include "server/grpc_server.h"
#include "server/streams.h"
#include "server/tracing.h"

namespace phenix::server {
namespace {

// The audit log's group commit: one fsync per 10 ms of events at most, and the events that may
// wait for it before a request recording one waits too (audit/audit_log.h).
constexpr std::chrono::milliseconds kAuditGroupCommit{10};
constexpr std::size_t kAuditMaxQueued = 8192;

// The "code" of an error body, for the access log (empty for success).
std::string_view ErrorCodeOf(const HttpResponse& response) {
    constexpr std::string_view kPrefix = "{\"error\":{\"code\":\"";
    const std::string_view body = response.body;
    if (response.status < 400 || body.substr(0, kPrefix.size()) != kPrefix) {
        return {};
    }
    const std::string_view rest = body.substr(kPrefix.size());
    return rest.substr(0, rest.find('"'));
}

// The code of an NDJSON error line ({"error":{"code":"...), for the access log.
std::string ErrorCodeOfLine(std::string_view line) {
    constexpr std::string_view kPrefix = "{\"error\":{\"code\":\"";
    if (line.substr(0, kPrefix.size()) != kPrefix) {
        return {};
    }
    const std::string_view rest = line.substr(kPrefix.size());
    return std::string(rest.substr(0, rest.find('"')));
}

// The ChunkWriter of a streamed response: the first write hands the response head to the
// connection (`start`), and the body goes through the bounded ResponseStream.
class StreamWriter final : public ChunkWriter {
  public:
    StreamWriter(std::shared_ptr<ResponseStream> stream, StopCheck stop,
                 std::function<void()> start)
        : stream_(std::move(stream)), stop_(std::move(stop)), start_(std::move(start)) {}

    Status Write(std::string_view bytes) override {
        Start();
        if (rejected_.has_value()) {
            return Status::Internal("a rejected stream was written to");
        }
        return stream_->Write(bytes, stop_);
    }

    void Finish(std::string_view bytes) override {
        Start();
        if (!rejected_.has_value()) {
            error_code_ = ErrorCodeOfLine(bytes);
            stream_->Finish(bytes);
        }
    }

    void Reject(HttpResponse response) override {
        if (!started_ && !rejected_.has_value()) {
            rejected_ = std::move(response);
        }
    }

    [[nodiscard]] bool started() const override { return started_; }
    std::optional<HttpResponse>& rejected() { return rejected_; }
    [[nodiscard]] const std::string& error_code() const { return error_code_; }

  private:
    void Start() {
        if (!started_ && !rejected_.has_value()) {
            started_ = true;
            start_();
        }
    }

    std::shared_ptr<ResponseStream> stream_;
    StopCheck stop_;
    std::function<void()> start_;
    bool started_ = false;
    std::optional<HttpResponse> rejected_;
    std::string error_code_;
};

}  // namespace

Server::Server(ServerConfig config, ServerSecurity security)
    : config_(std::move(config)),
      logger_(config_.log_level, config_.access_log),
      metrics_(config_.metrics_max_collections),
      rate_limiter_(config_.rate_limit_per_second, config_.rate_limit_burst) {
    api_.copy_directory = config_.copy_directory.empty()
                              ? (std::filesystem::path(config_.data_dir) / "copy").string()
                              : config_.copy_directory;
    transactions_ = std::make_unique<TransactionRegistry>(
        std::chrono::milliseconds(config_.transaction_idle_timeout_ms));
    api_.transactions = transactions_.get();
    api_.metrics = &metrics_;
    // The audit log opens first, so that everything set up below and every later record goes
    // to it; Run reports a failure (a constructor cannot) before anything listens.
    if (!config_.audit_dir.empty()) {
        auto opened = audit::AuditLog::Open({.dir = config_.audit_dir,
                                             .max_file_bytes = config_.audit_max_file_bytes,
                                             .group_commit_interval = kAuditGroupCommit,
                                             .fsync = true,
                                             .max_queued = kAuditMaxQueued});
        if (opened.ok()) {
            audit_log_ = opened->get();
            audit_ = std::move(*opened);
        } else {
            audit_open_status_ = opened.status();
        }
    }
    if (audit_ == nullptr) {
        audit_ = std::make_unique<security::NullAuditSink>();
    }
    api_.audit = audit_.get();
    api_.audit_reads = config_.audit_reads;
    security_catalog_ = std::make_unique<security::SecurityCatalog>();
    api_.security = security_catalog_.get();

    // The enforcement point: auth off unless --auth jwt (or a test's authenticator). Bearers
    // that look like API keys ("phx_") go to the catalog's keys; the others to the JWT verifier.
    std::unique_ptr<security::Authenticator> authenticator = std::move(security.authenticator);
    security_error_ = CheckSecurityConfig(config_);
    if (security_error_.ok() && authenticator == nullptr && config_.auth == "jwt") {
        auto jwt = OpenJwtAuthenticator(config_);
        // Mutual TLS as a credential (--tls-client-map): verified certificates to principals.
        // Reloaded on SIGHUP (Run).
        Result<std::unique_ptr<security::ClientCertificateMapFile>> certificates =
            std::unique_ptr<security::ClientCertificateMapFile>();
        if (!config_.tls_client_map.empty()) {
            certificates = security::ClientCertificateMapFile::Load(config_.tls_client_map);
        }
        if (!jwt.ok()) {
            security_error_ = jwt.status();
        } else if (!certificates.ok()) {
            security_error_ = certificates.status();
        } else {
            client_map_ = certificates->get();
            authenticator = std::make_unique<CompositeAuthenticator>(
                std::move(*jwt),
                std::make_unique<security::ApiKeyAuthenticator>(*security_catalog_),
                std::move(*certificates));
        }
    }
    std::unique_ptr<security::Authorizer> authorizer = std::move(security.authorizer);
    if (authorizer == nullptr) {
        authorizer = std::make_unique<security::RbacAuthorizer>(*security_catalog_);
    }
    // AccessControl records into a test's sink when one was given, else into the Server's audit
    // log when there is one (both outlive access_); with neither it audits nothing.
    given_audit_ = std::move(security.audit);
    security::AuditSink* access_audit = given_audit_ != nullptr ? given_audit_.get()
                                        : audit_log_ != nullptr ? audit_.get()
                                                                : nullptr;
    quotas_ =
        std::make_unique<QuotaEnforcer>(*security_catalog_, EngineQuotaSources(api_.db), &metrics_);
    api_.quotas = quotas_.get();
    access_ = std::make_unique<AccessControl>(std::move(authenticator), std::move(authorizer),
                                              access_audit, quotas_.get());
    api_.access = access_.get();
    RegisterRoutes(router_, api_);
    for (const Route& route : router_.routes()) {
        route_rules_.push_back(FindRouteRule(route.method, route.pattern));
    }
    if (!config_.otlp_endpoint.empty()) {
        // Tracing (docs/observability.md): the endpoint was checked by the config.
        auto url = ParseHttpUrl(config_.otlp_endpoint);
        if (url.ok()) {
            trace::TracerOptions options;
            options.sample_ratio = config_.trace_sample_ratio;
            options.slow_threshold_ns =
                config_.trace_slow_threshold_ms == 0
                    ? -1
                    : std::int64_t{config_.trace_slow_threshold_ms} * 1'000'000;
            options.max_queue_spans = config_.trace_queue_spans;
            tracer_ = std::make_unique<trace::Tracer>(
                options,
                MakeOtlpHttpExporter(std::move(*url),
                                     std::chrono::milliseconds(config_.otlp_timeout_ms), &logger_));
            metrics_.SetTraceCounters([tracer = tracer_.get()] {
                return Metrics::TraceCounters{.spans_exported = tracer->spans_exported(),
                                              .spans_dropped = tracer->spans_dropped(),
                                              .traces_kept = tracer->traces_kept()};
            });
        }
    }
    // The slow-query log (docs/observability.md): the main log, or its own file.
    if (config_.slow_query_threshold_ms >= 0) {
        auto opened = SlowQueryLog::Open({.threshold_ms = config_.slow_query_threshold_ms,
                                          .log_parameters = config_.slow_query_log_parameters,
                                          .file = config_.slow_query_log},
                                         logger_);
        if (opened.ok()) {
            slow_queries_ = std::move(*opened);
            api_.slow_queries = slow_queries_.get();
        } else {
            slow_query_log_status_ = opened.status();
        }
    }
    workers_ = std::make_unique<WorkerPool>(config_.workers, config_.queue_capacity);
    metrics_.SetQueueDepth([workers = workers_.get()] { return workers->queued(); });
    http_ = std::make_unique<HttpServer>(config_, *this, logger_, metrics_);
}

Server::~Server() {
    // Workers first: a finishing request posts its response to the I/O context, which must
    // still exist then.
    workers_->Stop();
    http_->Stop();
}

void Server::Dispatch(HttpRequest request, std::shared_ptr<RequestContext> context,
                      std::function<void(HttpResponse)> done) {
    const auto start = RequestContext::Clock::now();
    StartTrace(request);
    if (!request.repeated_auth_header.empty()) {
        // Which copy counts is exactly what a smuggling proxy would exploit: none does.
        const std::string reason =
            request.repeated_auth_header + " was sent more than once; send it once";
        access_->Audit(nullptr, {},
                       request.repeated_auth_header == "Authorization" ? "auth" : "tenant.select",
                       {}, "denied", reason, CallInfo{request.request_id, request.client});
        Finish(request, "-", start, ErrorResponse(Status::InvalidArgument(reason)), done, nullptr);
        return;
    }
    RouteMatch match = router_.Match(request.method, request.path);
    if (match.route == nullptr) {
        HttpResponse response;
        if (match.status == 405) {
            response = ErrorResponse(
                Status::InvalidArgument("method " + request.method + " is not allowed on " +
                                        request.path + " (allowed: " + match.allow + ")"),
                405);
            response.headers.emplace_back("Allow", match.allow);
        } else if (match.status == 400) {
            response = ErrorResponse(Status::InvalidArgument("malformed %-escape in the path"));
        } else {
            response = ErrorResponse(Status::NotFound("no route for " + request.method + " " +
                                                      request.path + " (see docs/server.md)"),
                                     404);
        }
        Finish(request, "-", start, std::move(response), done, nullptr);
        return;
    }
    const Route* route = match.route;
    if (!request.transaction.empty() && !route->options.accepts_transaction) {
        Finish(request, route->pattern, start,
               ErrorResponse(
                   Status::InvalidArgument("Phenix-Transaction applies to POST /v1/query and POST "
                                           "/v1/collections/{name}/search; not to " +
                                           request.method + " " + route->pattern)),
               done, nullptr);
        return;
    }
    if (!route->options.inline_handler) {  // probes are never rate limited
        const RateLimiter::Decision admitted =
            rate_limiter_.Admit(ClientAddress(request.client), RequestContext::Clock::now());
        if (!admitted.allowed) {
            metrics_.RecordRejected("rate_limited");
            HttpResponse response = ErrorResponse(
                Status::ResourceExhausted(
                    "too many requests from " + std::string(ClientAddress(request.client)) +
                    " (rate_limit_per_second " + std::to_string(config_.rate_limit_per_second) +
                    "); retry after the Retry-After seconds"),
                429, "\"retryable\":true");
            response.headers.emplace_back("Retry-After",
                                          std::to_string(admitted.retry_after_seconds));
            Finish(request, route->pattern, start, std::move(response), done, nullptr);
            return;
        }
    }
    if (std::optional<HttpResponse> refused = Admit(request, *route, match.params, *context)) {
        Finish(request, route->pattern, start, std::move(*refused), done, nullptr);
        return;
    }
    if (route->options.inline_handler) {
        HttpResponse response = route->handler(request, match.params, *context);
        Finish(request, route->pattern, start, std::move(response), done, nullptr);
        return;
    }
    bool lightly_loaded = false;
    {
        MutexLock lock(mu_);
        ++in_flight_;
        lightly_loaded = in_flight_ == 1;  // this request alone
        running_.insert(context);
    }
    metrics_.AddInFlight(1);
    auto shared_request = std::make_shared<HttpRequest>(std::move(request));
    auto params = std::make_shared<PathParams>(std::move(match.params));
    if (route->options.short_request && config_.inline_short_requests &&
        (lightly_loaded || route->options.inline_under_load) && !access_->auditing()) {
        // A point read while no other request is in flight, or a plain search: answered here, on
        // the I/O thread, unless the handler finds that it is not short after all (it then runs
        // on a worker, below). Under load the workers take point reads: the I/O threads then
        // keep to the sockets, which measured faster at 64 connections (decision 0033); a plain
        // search's two hand-offs cost more than that overlap gains (decision 0037).
        context->on_io_thread = true;
        HttpResponse response = route->handler(*shared_request, *params, *context);
        context->on_io_thread = false;
        if (!response.needs_worker) {
            metrics_.RecordInlineRequest();
            Complete(*route, *shared_request, *params, context, start, std::move(response), done);
            return;
        }
    }
    // Still queued at its deadline (every worker busy): answered then, not when a worker frees.
    auto expired = [this, route, shared_request, context, done, start] {
        Finish(*shared_request, route->pattern, start,
               ErrorResponse(Status(StatusCode::kDeadlineExceeded,
                                    "the request deadline (Phenix-Timeout-Ms) passed while it "
                                    "waited for a worker")),
               done, context);
    };
    const bool queued = workers_->TrySubmit(
        [this, route, shared_request, params, context, done, start] {
            // A traced request's commits become spans (server/tracing.h).
            const CommitObserverScope commits(shared_request->trace.get());
            HttpResponse response;
            if (context->IsCancelled()) {
                response = ErrorResponse(Status(StatusCode::kCancelled, "the client went away"));
            } else if (context->DeadlinePassed()) {
                response = ErrorResponse(Status(StatusCode::kDeadlineExceeded,
                                                "the request deadline (Phenix-Timeout-Ms) passed "
                                                "while it waited for a worker"));
            } else {
                response = route->handler(*shared_request, *params, *context);
            }
            Complete(*route, *shared_request, *params, context, start, std::move(response), done);
        },
        context->deadline, std::move(expired));
    if (!queued) {
        metrics_.RecordRejected("queue_full");
        HttpResponse response = ErrorResponse(Status::Unavailable(
            api_.state.load() == ServingState::kDraining
                ? std::string("the server is shutting down")
                : "the server is overloaded: " + std::to_string(config_.queue_capacity) +
                      " requests are already waiting (queue_capacity); retry shortly"));
        response.headers.emplace_back("Retry-After", "1");
        Finish(*shared_request, route->pattern, start, std::move(response), done, context);
    }
}

std::optional<HttpResponse> Server::Admit(HttpRequest& request, const Route& route,
                                          const PathParams& params, RequestContext& context) {
    const AccessRule* rule =
        route_rules_[static_cast<std::size_t>(&route - router_.routes().data())];
    if (!access_->enabled() && rule != nullptr) {
        // Auth off: the local administrator, Phenix-Tenant as sent. The one branch it costs.
        context.principal = access_->local();
        context.tenant = request.tenant;
        return std::nullopt;
    }
    if (rule != nullptr && rule->scope == AccessScope::kOpen) {
        return std::nullopt;  // probes and the API's description need no credential
    }
    const CallInfo info{request.request_id, request.client};
    auto principal =
        access_->Authenticate(request.authorization, info, &request.client_certificate);
    if (!principal.ok()) {
        HttpResponse response = ErrorResponse(principal.status());
        response.headers.emplace_back("WWW-Authenticate", "Bearer");
        return response;
    }
    context.principal = *principal;
    auto tenant = access_->ResolveTenant(**principal, request.tenant, info);
    if (!tenant.ok()) {
        return ErrorResponse(tenant.status());
    }
    request.tenant = *tenant;
    context.tenant = std::move(*tenant);
    // The tenant's and the principal's request rates (decision 0023): 429 with Retry-After.
    std::uint32_t retry_after_seconds = 1;
    if (Status admitted =
            access_->AdmitRate(**principal, request.tenant, info, &retry_after_seconds);
        !admitted.ok()) {
        HttpResponse response = ErrorResponse(admitted, 429, "\"retryable\":true");
        response.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
        return response;
    }
    const auto name = params.find("name");
    Status allowed =
        access_->Authorize(**principal, rule, request.method + " " + route.pattern, request.tenant,
                           name != params.end() ? name->second : std::string(), info);
    if (!allowed.ok()) {
        return ErrorResponse(allowed);
    }
    return std::nullopt;
}

void Server::AuditChange(const HttpRequest& request, const AccessRule* rule,
                         const PathParams& params, const RequestContext& context,
                         const HttpResponse& response) {
    // Reads are not audited here; POST /v1/query's statements are, one by one (GuardSession).
    if (rule == nullptr || rule->permission == security::Permission::kRead ||
        rule->scope == AccessScope::kOpen) {
        return;
    }
    // What the request acted on: collection[/id|/path], or an administration object.
    std::string target;
    if (const auto name = params.find("name"); name != params.end()) {
        target = name->second;
        if (const auto id = params.find("id"); id != params.end()) {
            target += "/" + id->second;
        } else if (const auto path = params.find("path"); path != params.end()) {
            target += "/" + path->second;
        }
    } else if (const auto role = params.find("role"); role != params.end()) {
        target = "role/" + role->second;
        if (const auto permission = params.find("permission"); permission != params.end()) {
            target += "/" + permission->second;
        }
    } else if (const auto key = params.find("key_id"); key != params.end()) {
        target = "key/" + key->second;
    } else if (const auto tenant = params.find("tenant"); tenant != params.end()) {
        target = "tenant/" + tenant->second;
    }
    if (target.empty() && response.status < 300 &&
        (rule->action == std::string_view("key.create") ||
         rule->action == std::string_view("tenant.create"))) {
        // What a create made is named in its answer: the new key's id, the tenant's name.
        const std::string_view member =
            rule->action == std::string_view("key.create") ? "id" : "name";
        const std::string made = JsonStringMember(response.body, member);
        if (!made.empty()) {
            target =
                std::string(rule->action == std::string_view("key.create") ? "key/" : "tenant/") +
                made;
        }
    }
    // A handler's own refusal (e.g. a tenant administrator asking for a key of another tenant)
    // is a denial like the enforcement point's, with the message the client got as the reason.
    std::string_view outcome = response.status < 400 ? "ok" : "error";
    std::string reason;
    if (response.status == 403) {
        outcome = "denied";
        reason = ErrorMessageOf(response.body);
    }
    // The tenant acted on: the request's; for cluster administration the tenant it created or
    // dropped (tenant/NAME), else the cluster ("*"), never the default tenant it did not touch.
    std::string_view tenant =
        context.tenant.empty() ? kDefaultTenant : std::string_view(context.tenant);
    if (rule->scope == AccessScope::kCluster) {
        constexpr std::string_view kTenantTarget = "tenant/";
        tenant = target.starts_with(kTenantTarget)
                     ? std::string_view(target).substr(kTenantTarget.size())
                     : security::kClusterTenant;
    }
    access_->Audit(context.principal.get(), tenant, rule->action, target, outcome, reason,
                   CallInfo{request.request_id, request.client});
}

bool Server::SubmitGrpcWork(std::shared_ptr<RequestContext> context, std::function<void()> task) {
    if (api_.state.load() == ServingState::kDraining) {
        return false;
    }
    {
        MutexLock lock(mu_);
        ++in_flight_;
        running_.insert(context);
    }
    metrics_.AddInFlight(1);
    // Counted out exactly as an HTTP request is (Release).
    auto finished = [this, context] { Release(context); };
    const bool queued = workers_->TrySubmit([task = std::move(task), finished] {
        task();
        finished();
    });
    if (!queued) {
        metrics_.RecordRejected("queue_full");
        finished();
    }
    return queued;
}

void Server::RecordGrpcCall(const GrpcCallRecord& record) {
    // The same access line and request metrics as HTTP: method "GRPC", the full method name as
    // the route, and the status REST would answer for the same code.
    const unsigned status = record.code == StatusCode::kOk ? 200 : HttpStatusFor(record.code);
    // Tracing: the call's trace (started when it arrived: GrpcBackend::start_trace, with its
    // stage and commit spans), or one span recorded now for a call recorded without one.
    std::string trace_id;
    std::string span_id;
    bool trace_exported = false;
    if (tracer_ != nullptr) {
        std::shared_ptr<RequestTrace> call_trace = record.trace;
        if (call_trace == nullptr) {
            const std::int64_t start_unix_ns =
                trace::NowUnixNanos() - std::int64_t{record.latency.count()} * 1000;
            call_trace = std::make_shared<RequestTrace>(
                StartTraceFor(record.traceparent, record.tracestate, "GRPC", start_unix_ns));
        }
        call_trace->SetRoute("GRPC", record.method);
        trace_id = call_trace->TraceId();
        span_id = call_trace->RootSpanId();
        trace_exported = call_trace->Finish(
            *tracer_, status,
            record.code == StatusCode::kOk ? std::string_view() : ErrorCodeName(record.code));
    }
    logger_.Access({.method = "GRPC",
                    .route = record.method,
                    .status = status,
                    .latency_us = static_cast<std::uint64_t>(record.latency.count()),
                    .client = record.peer,
                    .error_code = record.code == StatusCode::kOk ? std::string_view()
                                                                 : ErrorCodeName(record.code),
                    .trace_id = trace_id,
                    .span_id = span_id,
                    .trace_exported = trace_exported});
    const double seconds = static_cast<double>(record.latency.count()) / 1e6;
    // An exemplar names a trace the backend has: only a kept one (docs/observability.md).
    metrics_.RecordRequest("GRPC", record.method, status, seconds,
                           trace_exported ? trace_id : std::string_view());
    metrics_.RecordGrpcCall(record.method, ErrorCodeName(record.code), seconds);
}

void Server::Complete(const Route& route, const HttpRequest& request, const PathParams& params,
                      const std::shared_ptr<RequestContext>& context,
                      RequestContext::Clock::time_point start, HttpResponse response,
                      const std::function<void(HttpResponse)>& done) {
    if (access_->auditing()) {
        AuditChange(request,
                    route_rules_[static_cast<std::size_t>(&route - router_.routes().data())],
                    params, *context, response);
    }
    if (response.stream_body) {
        Stream(request, route.pattern, start, std::move(response), done, context);
        return;
    }
    Finish(request, route.pattern, start, std::move(response), done, context);
}

void Server::Finish(const HttpRequest& request, const std::string& route,
                    RequestContext::Clock::time_point start, HttpResponse response,
                    const std::function<void(HttpResponse)>& done,
                    const std::shared_ptr<RequestContext>& context) {
    if (request.trace != nullptr &&
        std::none_of(response.headers.begin(), response.headers.end(),
                     [](const auto& header) { return header.first == "traceparent"; })) {
        response.headers.emplace_back("traceparent", request.trace->Traceparent());
    }
    Record(request, route, start, response.status, response.body.size(), ErrorCodeOf(response));
    // Counted out before the response is handed over: a client's next request, sent once this
    // answer arrived, then finds it gone (a short one runs inline only when alone in flight).
    // The drain stays safe: the workers (and the expiry thread) are joined, and then the
    // connections' pending writes awaited, before phenixd stops.
    Release(context);
    done(std::move(response));
}

void Server::Stream(const HttpRequest& request, const std::string& route,
                    RequestContext::Clock::time_point start, HttpResponse head,
                    const std::function<void(HttpResponse)>& done,
                    const std::shared_ptr<RequestContext>& context) {
    std::function<void(ChunkWriter&)> produce = std::move(head.stream_body);
    head.stream_body = nullptr;
    auto stream = std::make_shared<ResponseStream>(config_.stream_buffer_bytes);
    head.stream = stream;
    if (request.trace != nullptr) {
        head.headers.emplace_back("traceparent", request.trace->Traceparent());
    }
    const StopCheck stop = RequestStopCheck(*context);
    StreamWriter writer(stream, stop, [&] { done(head); });
    produce(writer);
    if (!writer.started()) {
        HttpResponse answer;
        if (writer.rejected().has_value()) {
            answer = std::move(*writer.rejected());
        } else {
            answer = std::move(head);  // nothing was written: an empty body
            answer.stream.reset();
        }
        Finish(request, route, start, std::move(answer), done, context);
        return;
    }
    stream->Finish();
    // Until the connection sent the last chunk (or gave up): the latency and bytes are the
    // whole response's, and the worker stays busy with it (admission counts it).
    const Status sent = stream->WaitSent(stop);
    std::string error_code = writer.error_code();
    if (!sent.ok()) {
        error_code = std::string(ErrorCodeName(sent.code()));
        std::string fields = "\"request_id\":" + JsonQuote(request.request_id) +
                             ",\"route\":" + JsonQuote(route) +
                             ",\"bytes\":" + std::to_string(stream->bytes_written()) +
                             ",\"reason\":" + JsonQuote(sent.message());
        if (request.trace != nullptr) {
            fields += "," + TraceFields(request.trace->TraceId(), request.trace->RootSpanId());
        }
        logger_.Log(LogLevel::kInfo, "streamed response cut off", fields);
    }
    Record(request, route, start, head.status, stream->bytes_written(), error_code);
    Release(context);
}

void Server::Record(const HttpRequest& request, const std::string& route,
                    RequestContext::Clock::time_point start, unsigned status,
                    std::uint64_t bytes_out, std::string_view error_code) {
    const auto latency =
        std::chrono::duration_cast<std::chrono::microseconds>(RequestContext::Clock::now() - start);
    // The root span ends here; the access line names the trace (the response's traceparent
    // names it too) and says whether it was kept for export.
    // Views of the request's trace, which outlives this function.
    std::string_view trace_id;
    std::string_view span_id;
    bool trace_exported = false;
    if (request.trace != nullptr && tracer_ != nullptr) {
        request.trace->SetRoute(request.method, route);
        trace_id = request.trace->TraceId();
        span_id = request.trace->RootSpanId();
        trace_exported = request.trace->Finish(*tracer_, status, error_code);
    }
    logger_.Access({.request_id = request.request_id,
                    .method = request.method,
                    .route = route,
                    .status = status,
                    .latency_us = static_cast<std::uint64_t>(latency.count()),
                    .bytes_in = request.body_stream != nullptr
                                    ? request.body_stream->bytes_received()
                                    : request.body.size(),
                    .bytes_out = bytes_out,
                    .client = request.client,
                    .error_code = error_code,
                    .trace_id = trace_id,
                    .span_id = span_id,
                    .trace_exported = trace_exported});
    // An exemplar names a trace the backend has: only a kept one (docs/observability.md).
    metrics_.RecordRequest(request.method, route, status,
                           static_cast<double>(latency.count()) / 1e6,
                           trace_exported ? trace_id : std::string_view());
}

trace::Tracer::TraceHandle Server::StartTraceFor(std::string_view traceparent,
                                                 std::string_view tracestate, std::string_view name,
                                                 std::int64_t start_unix_ns) {
    // A malformed traceparent is ignored (W3C Trace Context: start a new trace).
    trace::SpanContext parent;
    bool has_parent = false;
    if (!traceparent.empty()) {
        auto parsed = trace::ParseTraceparent(traceparent);
        if (parsed.ok()) {
            parent = std::move(*parsed);
            parent.tracestate = trace::SanitizeTracestate(tracestate);
            has_parent = true;
        }
    }
    return tracer_->StartTrace(name, has_parent ? &parent : nullptr, start_unix_ns);
}

std::function<std::shared_ptr<RequestTrace>(std::string_view, std::string_view)>
Server::StartGrpcTrace() {
    if (tracer_ == nullptr) {
        return nullptr;
    }
    return [this](std::string_view traceparent, std::string_view tracestate) {
        return std::make_shared<RequestTrace>(StartTraceFor(traceparent, tracestate, "GRPC", 0));
    };
}

void Server::StartTrace(HttpRequest& request) {
    if (tracer_ != nullptr) {
        request.trace = std::make_shared<RequestTrace>(
            StartTraceFor(request.traceparent, request.tracestate, request.method, 0));
    }
}

void Server::Release(const std::shared_ptr<RequestContext>& context) {
    if (context != nullptr) {
        metrics_.AddInFlight(-1);
        MutexLock lock(mu_);
        running_.erase(context);
        --in_flight_;
        // Only Run's drain waits for in_flight_ (its first wait is for shutdown_requested_):
        // waking it after every request cost a context switch per request.
        if (shutdown_requested_ && in_flight_ == 0) {
            cv_.NotifyAll();
        }
    }
}

bool Server::StreamsBody(std::string_view method, std::string_view path) const {
    const RouteMatch match = router_.Match(method, path);
    return match.route != nullptr && match.route->options.streams_body;
}

void Server::ReloadClientMap() {
    if (client_map_ == nullptr) {
        return;
    }
    const Result<std::size_t> reloaded = client_map_->Reload();
    if (!reloaded.ok()) {
        logger_.Log(LogLevel::kError,
                    "client certificate map reload failed; still using the previous one",
                    "\"trigger\":\"SIGHUP\",\"error\":" + JsonQuote(reloaded.status().message()));
        return;
    }
    logger_.Log(LogLevel::kInfo, "client certificate map reloaded",
                "\"trigger\":\"SIGHUP\",\"file\":" + JsonQuote(client_map_->path()) +
                    ",\"rules\":" + std::to_string(*reloaded));
}

void Server::RequestShutdown(int signal_number) {
    if (signals_received_.fetch_add(1) > 0) {
        // The second signal: leave now. Acknowledged writes are durable (Durability::kSync).
        std::fprintf(stderr, "phenixd: second signal, exiting at once\n");
        std::_Exit(128 + signal_number);
    }
    logger_.Log(LogLevel::kInfo, "shutting down", "\"signal\":" + std::to_string(signal_number));
    MutexLock lock(mu_);
    shutdown_requested_ = true;
    cv_.NotifyAll();
}

int Server::Run() {
    if (!security_error_.ok()) {
        std::fprintf(stderr, "phenixd: %s\n", security_error_.message().c_str());
        return 1;
    }
    if (!audit_open_status_.ok()) {
        std::fprintf(stderr, "phenixd: cannot open the audit log in %s: %s\n",
                     config_.audit_dir.c_str(), audit_open_status_.ToString().c_str());
        return 1;
    }
    if (!slow_query_log_status_.ok()) {
        std::fprintf(stderr, "phenixd: slow_query_log: %s\n",
                     slow_query_log_status_.message().c_str());
        return 1;
    }
    audit_->Record({.time = std::chrono::system_clock::now(),
                    .principal = "",
                    .tenant = "",
                    .action = "server.start",
                    .target = config_.data_dir,
                    .outcome = "ok",
                    .reason = "",
                    .request_id = "",
                    .client = ""});
    // The last record: the stop, written and synced before Run returns.
    const auto audit_stop = [&](const Status& status) {
        audit_->Record({.time = std::chrono::system_clock::now(),
                        .principal = "",
                        .tenant = "",
                        .action = "server.stop",
                        .target = config_.data_dir,
                        .outcome = status.ok() ? "ok" : "error",
                        .reason = status.ok() ? "" : status.ToString(),
                        .request_id = "",
                        .client = ""});
        if (audit_log_ == nullptr) {
            return Status::Ok();
        }
        Status closed = audit_log_->Close();
        if (!closed.ok()) {
            logger_.Log(LogLevel::kError, "closing the audit log failed",
                        "\"error\":" + JsonQuote(closed.ToString()));
        }
        return closed;
    };
    auto address = http_->Listen();
    if (!address.ok()) {
        std::fprintf(stderr, "phenixd: %s\n", address.status().ToString().c_str());
        return 1;
    }
    // gRPC (grpc_server.h): bound before the database opens, like HTTP.
    std::string grpc_address;
    if (!config_.grpc_address.empty()) {
        grpc_ = std::make_unique<GrpcServer>(GrpcBackend{
            .api = &api_,
            .submit =
                [this](std::shared_ptr<RequestContext> context, std::function<void()> task) {
                    return SubmitGrpcWork(std::move(context), std::move(task));
                },
            .max_receive_message_bytes =
                static_cast<int>(std::min<std::uint64_t>(config_.max_body_bytes, 0x7FFFFFFF)),
            .default_timeout_ms = config_.default_timeout_ms,
            .on_finish = [this](const GrpcCallRecord& record) { RecordGrpcCall(record); },
            .start_trace = StartGrpcTrace()});
        std::optional<GrpcTls> grpc_tls;
        if (http_->tls_enabled()) {  // the files were checked by http_->Listen()
            grpc_tls = GrpcTls{.cert = config_.tls_cert,
                               .key = config_.tls_key,
                               .client_ca = config_.tls_client_ca,
                               .refresh_interval_s =
                                   std::max<unsigned>(1, config_.tls_reload_interval_ms > 0
                                                             ? config_.tls_reload_interval_ms / 1000
                                                             : 60)};
        }
        auto bound = grpc_->Start(config_.grpc_address, grpc_tls);
        if (!bound.ok()) {
            std::fprintf(stderr, "phenixd: %s\n", bound.status().ToString().c_str());
            grpc_.reset();
            workers_->Stop();
            http_->Stop();
            return 1;
        }
        grpc_address = *bound;
    }
    // Signals are handled on the I/O threads from now on; Asio restores the default disposition
    // when the set is destroyed.
    boost::asio::signal_set signals(http_->io_context(), SIGINT, SIGTERM);
    if (http_->tls_enabled()) {
        // SIGHUP reloads the TLS certificate and the --tls-client-map file (without TLS it
        // keeps its default action; the map needs TLS).
        boost::system::error_code ignored;
        signals.add(SIGHUP, ignored);
    }
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int signal_number) {
            if (ec) {
                return;
            }
            if (signal_number == SIGHUP) {
                (void)http_->ReloadTls();  // logs the outcome
                ReloadClientMap();
                signals.async_wait(on_signal);
                return;
            }
            RequestShutdown(signal_number);
            signals.async_wait(on_signal);
        };
    signals.async_wait(on_signal);
    // Idle interactive transactions are rolled back by a timer on the I/O threads (a rollback
    // only drops the transaction's buffered writes).
    boost::asio::steady_timer reaper(http_->io_context());
    const auto reap_interval = std::chrono::milliseconds(
        std::clamp<std::uint32_t>(config_.transaction_idle_timeout_ms / 4, 10, 1000));
    std::function<void(const boost::system::error_code&)> on_reap =
        [&](const boost::system::error_code& ec) {
            if (ec) {
                return;
            }
            const std::size_t reaped = transactions_->ReapIdle(TransactionRegistry::Clock::now());
            for (std::size_t txn_idx = 0; txn_idx < reaped; ++txn_idx) {
                metrics_.RecordTransaction("expired");
            }
            if (reaped > 0) {
                logger_.Log(LogLevel::kInfo, "rolled back idle transactions",
                            "\"count\":" + std::to_string(reaped));
            }
            reaper.expires_after(reap_interval);
            reaper.async_wait(on_reap);
        };
    reaper.expires_after(reap_interval);
    reaper.async_wait(on_reap);
    http_->Start();
    std::printf("phenixd: http listening on %s\n", address->c_str());
    if (grpc_ != nullptr) {
        std::printf("phenixd: grpc listening on %s\n", grpc_address.c_str());
    }
    std::fflush(stdout);
    logger_.Log(LogLevel::kInfo, "listening",
                "\"http\":" + JsonQuote(*address) +
                    (grpc_ != nullptr ? ",\"grpc\":" + JsonQuote(grpc_address) : ""));

    Options options;
    options.create_if_missing = true;
    options.encryption.kms = config_.encryption_kms;
    options.encryption.pin_file = config_.encryption_pin_file;
    options.history_retention_ms = config_.history_retention_ms;
    auto opened = Database::Open(config_.data_dir, options);
    if (!opened.ok()) {
        logger_.Log(LogLevel::kError, "cannot open the data directory",
                    "\"data\":" + JsonQuote(config_.data_dir) +
                        ",\"error\":" + JsonQuote(opened.status().ToString()));
        std::fprintf(stderr, "phenixd: cannot open %s: %s\n", config_.data_dir.c_str(),
                     opened.status().ToString().c_str());
        workers_->Stop();
        grpc_.reset();
        http_->Stop();
        (void)audit_stop(opened.status());
        return 1;
    }
    std::unique_ptr<Database> db = std::move(*opened);
    if (Status loaded = security_catalog_->Load(config_.data_dir); !loaded.ok()) {
        // Serving with fewer grants or keys than were acknowledged is worse than not serving.
        logger_.Log(LogLevel::kError, "cannot load the security catalog",
                    "\"error\":" + JsonQuote(loaded.ToString()));
        std::fprintf(stderr, "phenixd: cannot load the security catalog: %s\n",
                     loaded.ToString().c_str());
        workers_->Stop();
        grpc_.reset();
        http_->Stop();
        return 1;
    }
    if (config_.copy_directory.empty()) {
        // The default COPY directory lives beside the engine's files in the data directory.
        std::error_code ec;
        std::filesystem::create_directories(api_.copy_directory, ec);
        if (ec) {
            logger_.Log(LogLevel::kWarn, "cannot create the COPY directory; COPY will fail",
                        "\"copy_directory\":" + JsonQuote(api_.copy_directory) +
                            ",\"error\":" + JsonQuote(ec.message()));
        }
    }
    bool stop_before_ready = false;
    {
        MutexLock lock(mu_);
        stop_before_ready = shutdown_requested_;
    }
    api_.db.store(db.get());
    if (!stop_before_ready) {
        api_.state.store(ServingState::kReady);
        if (grpc_ != nullptr) {
            grpc_->SetServing(true);
        }
        logger_.Log(LogLevel::kInfo, "ready", "\"data\":" + JsonQuote(config_.data_dir));
    }

    mu_.Lock();
    while (!shutdown_requested_) {
        cv_.Wait(mu_);
    }
    mu_.Unlock();

    // Drain: not ready, no new connections, every response closes its connection.
    api_.state.store(ServingState::kDraining);
    if (grpc_ != nullptr) {
        grpc_->SetServing(false);
    }
    http_->StopAccepting();
    http_->SetDraining();
    mu_.Lock();
    const auto drain_deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.shutdown_timeout_ms);
    while (in_flight_ != 0 && cv_.WaitUntil(mu_, drain_deadline)) {
    }
    const bool drained = in_flight_ == 0;
    if (!drained) {
        logger_.Log(LogLevel::kWarn, "shutdown deadline passed; cancelling in-flight requests",
                    "\"in_flight\":" + std::to_string(in_flight_));
        for (const auto& context : running_) {
            context->cancelled->store(true);
        }
    }
    mu_.Unlock();
    workers_->Stop();  // runs what is queued (cancelled requests answer at once) and joins
    if (grpc_ != nullptr) {
        // gRPC calls' engine work was in the drain above; what is left is idle (a client stream
        // between messages): cancelled after a short grace.
        grpc_->Shutdown(std::chrono::milliseconds(100));
    }
    http_->WaitForWrites(std::chrono::milliseconds(1000));
    http_->Stop();
    // From here a second signal takes the default action (the process ends at once).
    boost::system::error_code ignored;
    signals.clear(ignored);
    api_.db.store(nullptr);
    const std::size_t open_transactions = transactions_->size();
    transactions_->RollbackAll();  // before the database closes
    if (open_transactions > 0) {
        logger_.Log(LogLevel::kInfo, "rolled back open transactions",
                    "\"count\":" + std::to_string(open_transactions));
    }
    Status closed = db->Close();
    const bool audit_closed = audit_stop(closed).ok();
    if (!closed.ok()) {
        logger_.Log(LogLevel::kError, "closing the database failed",
                    "\"error\":" + JsonQuote(closed.ToString()));
        return 1;
    }
    logger_.Log(LogLevel::kInfo, "stopped");
    return audit_closed ? 0 : 1;
}

}  // namespace phenix::server
