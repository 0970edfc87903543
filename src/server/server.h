// SPDX-License-Identifier: Apache-2.0
//
// Server: phenixd's lifecycle around one Database — listen, open the database (GET /ready turns
// 200 when Database::Open, which runs recovery and reloads the indexes, returned), serve, and
// shut down gracefully on SIGTERM/SIGINT: /ready turns 503, the listener closes, in-flight
// requests finish (up to shutdown_timeout_ms, then they are cancelled through their interrupt),
// the workers stop, the database closes, and Run returns 0. A second signal exits at once
// (exit status 128 + signal); with Durability::kSync every acknowledged write is already durable.
//
// It is the RequestDispatcher of its HttpServer: routing, admission (the bounded WorkerPool:
// 503 when full), deadlines, access logs. It also runs the gRPC listener (--grpc, GrpcServer),
// whose calls share the WorkerPool, the drain and the transactions. Confined: Run is called
// once, from main.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "security/audit_sink.h"
#include "security/catalog.h"
#include "security/client_cert.h"
#include "server/access.h"
#include "server/api.h"
#include "server/config.h"
#include "server/http_server.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/quota.h"
#include "server/rate_limiter.h"
#include "server/router.h"
#include "server/slow_query_log.h"
#include "server/transactions.h"
#include "server/worker_pool.h"
#include "trace/trace.h"

namespace phenix::audit {
class AuditLog;  // audit/audit_log.h
}  // namespace phenix::audit

namespace phenix::server {

class GrpcServer;  // grpc_server.h: kept out of this header, so phenixd needs no gRPC headers
struct GrpcCallRecord;

/// The security pieces a Server is built with. Empty (phenixd): built from the config — auth off,
/// or --auth jwt's verifier (OpenJwtAuthenticator); BuiltinRoles; no audit. Tests and the other
/// modules plug in their own (an API-key authenticator, an RBAC authorizer, the audit log).
struct ServerSecurity {
    std::unique_ptr<security::Authenticator> authenticator;  ///< null: from the config
    std::unique_ptr<security::Authorizer> authorizer;        ///< null: BuiltinRoles
    std::unique_ptr<security::AuditSink> audit;              ///< null: NullAuditSink
};

/// --auth jwt's Authenticator from the config's jwt_* settings (server/auth_config.cc).
Result<std::unique_ptr<security::Authenticator>> OpenJwtAuthenticator(const ServerConfig& config);

class Server final : public RequestDispatcher {
  public:
    explicit Server(ServerConfig config, ServerSecurity security = {});
    ~Server() override;

    /// Serves until a signal; returns the process exit status (0 after a clean shutdown).
    /// Prints "phenixd: http listening on HOST:PORT" on stdout once the socket is bound.
    int Run();

    void Dispatch(HttpRequest request, std::shared_ptr<RequestContext> context,
                  std::function<void(HttpResponse)> done) override;
    [[nodiscard]] bool StreamsBody(std::string_view method, std::string_view path) const override;

  private:
    // The enforcement point (server/access.h) for a matched route: authenticates, resolves the
    // tenant (rewriting request.tenant) and authorizes; the refusal to answer, if any.
    std::optional<HttpResponse> Admit(HttpRequest& request, const Route& route,
                                      const PathParams& params, RequestContext& context);
    // One audit event for a request that changed something (a non-read rule), after it ran.
    void AuditChange(const HttpRequest& request, const AccessRule* rule, const PathParams& params,
                     const RequestContext& context, const HttpResponse& response);
    // gRPC's admission (GrpcBackend::submit): runs `task` on a worker, counted in flight like an
    // HTTP request; false when draining or the queue is full.
    bool SubmitGrpcWork(std::shared_ptr<RequestContext> context, std::function<void()> task);
    void RecordGrpcCall(const GrpcCallRecord& record);
    // Runs a streamed response's producer on this worker, then records it like Finish.
    void Stream(const HttpRequest& request, const std::string& route,
                RequestContext::Clock::time_point start, HttpResponse head,
                const std::function<void(HttpResponse)>& done,
                const std::shared_ptr<RequestContext>& context);
    // The end of an admitted request (in flight) whose handler answered `response`: audits a
    // change, then streams the body (a worker only) or finishes.
    void Complete(const Route& route, const HttpRequest& request, const PathParams& params,
                  const std::shared_ptr<RequestContext>& context,
                  RequestContext::Clock::time_point start, HttpResponse response,
                  const std::function<void(HttpResponse)>& done);
    void Record(const HttpRequest& request, const std::string& route,
                RequestContext::Clock::time_point start, unsigned status, std::uint64_t bytes_out,
                std::string_view error_code);
    void Release(const std::shared_ptr<RequestContext>& context);
    // Tracing (server/tracing.h): starts the request's trace when tracing is on.
    void StartTrace(HttpRequest& request);
    trace::Tracer::TraceHandle StartTraceFor(std::string_view traceparent,
                                             std::string_view tracestate, std::string_view name,
                                             std::int64_t start_unix_ns);
    // GrpcBackend::start_trace: null when tracing is off.
    std::function<std::shared_ptr<RequestTrace>(std::string_view, std::string_view)>
    StartGrpcTrace();
    void RequestShutdown(int signal_number);
    // SIGHUP: reads the --tls-client-map file again (a file that does not load keeps the
    // previous map); logs the outcome. Nothing without a map.
    void ReloadClientMap();
    void Finish(const HttpRequest& request, const std::string& route,
                RequestContext::Clock::time_point start, HttpResponse response,
                const std::function<void(HttpResponse)>& done,
                const std::shared_ptr<RequestContext>& context);

    // Immutable after construction.
    const ServerConfig config_;
    Logger logger_;
    Metrics metrics_;
    Router router_;
    // Security events (api_.audit points here): an audit::AuditLog with --audit-dir (opened
    // first in the constructor), otherwise a NullAuditSink; never null. Declared before
    // everything that records into it, so it is destroyed (flushed) after them.
    std::unique_ptr<security::AuditSink> audit_;
    audit::AuditLog* audit_log_ = nullptr;  // audit_ when it is the audit log (Run closes it)
    Status audit_open_status_;              // why --audit-dir could not be opened (Run fails)
    // ServerSecurity::audit (a test's sink): what access_ records into in place of audit_.
    std::unique_ptr<security::AuditSink> given_audit_;
    // Roles, grants and API keys: constructed empty, loaded from the data directory once the
    // database is open (authenticators and authorizers hold references to it).
    std::unique_ptr<security::SecurityCatalog> security_catalog_;
    ApiState api_;
    // Tenants' quotas (api_.quotas, access_ hold it): reads the catalog and api_.db.
    std::unique_ptr<QuotaEnforcer> quotas_;
    // The enforcement point; its authenticator is null with auth off. security_error_: why the
    // configured authenticator could not be built (Run refuses to start).
    std::unique_ptr<AccessControl> access_;
    Status security_error_;
    // The --tls-client-map file (owned by access_'s authenticator), reloaded on SIGHUP; null
    // without one.
    security::ClientCertificateMapFile* client_map_ = nullptr;
    // Each route's rule (router_.routes() order); null for a route access.cc does not map.
    std::vector<const AccessRule*> route_rules_;
    std::unique_ptr<TransactionRegistry> transactions_;
    RateLimiter rate_limiter_;
    // Null when tracing is off (no otlp_endpoint). Declared before the workers and listeners:
    // it outlives every request that records into it.
    std::unique_ptr<trace::Tracer> tracer_;
    // The slow-query log (api_.slow_queries; null when off or its file could not be opened:
    // slow_query_log_status_ says why and Run refuses to start). Outlives every request.
    std::unique_ptr<SlowQueryLog> slow_queries_;
    Status slow_query_log_status_;
    std::unique_ptr<WorkerPool> workers_;
    std::unique_ptr<HttpServer> http_;
    std::unique_ptr<GrpcServer> grpc_;  // null when --grpc is empty

    std::atomic<int> signals_received_{0};
    Mutex mu_;
    CondVar cv_;  // signalled when shutdown is requested or a request finishes
    bool shutdown_requested_ GUARDED_BY(mu_) = false;
    std::size_t in_flight_ GUARDED_BY(mu_) = 0;
    std::set<std::shared_ptr<RequestContext>> running_ GUARDED_BY(mu_);
};

}  // namespace phenix::server
