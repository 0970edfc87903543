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
// 503 when full), deadlines, access logs. Confined: Run is called once, from main.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "server/api.h"
#include "server/config.h"
#include "server/http_server.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/rate_limiter.h"
#include "server/router.h"
#include "server/transactions.h"
#include "server/worker_pool.h"

namespace phenix::server {

class Server final : public RequestDispatcher {
  public:
    explicit Server(ServerConfig config);
    ~Server() override;

    /// Serves until a signal; returns the process exit status (0 after a clean shutdown).
    /// Prints "phenixd: http listening on HOST:PORT" on stdout once the socket is bound.
    int Run();

    void Dispatch(HttpRequest request, std::shared_ptr<RequestContext> context,
                  std::function<void(HttpResponse)> done) override;
    [[nodiscard]] bool StreamsBody(std::string_view method, std::string_view path) const override;

  private:
    // Runs a streamed response's producer on this worker, then records it like Finish.
    void Stream(const HttpRequest& request, const std::string& route,
                RequestContext::Clock::time_point start, HttpResponse head,
                const std::function<void(HttpResponse)>& done,
                const std::shared_ptr<RequestContext>& context);
    void Record(const HttpRequest& request, const std::string& route,
                RequestContext::Clock::time_point start, unsigned status, std::uint64_t bytes_out,
                std::string_view error_code);
    void Release(const std::shared_ptr<RequestContext>& context);
    void RequestShutdown(int signal_number);
    void Finish(const HttpRequest& request, const std::string& route,
                RequestContext::Clock::time_point start, HttpResponse response,
                const std::function<void(HttpResponse)>& done,
                const std::shared_ptr<RequestContext>& context);

    // Immutable after construction.
    const ServerConfig config_;
    Logger logger_;
    Metrics metrics_;
    Router router_;
    ApiState api_;
    std::unique_ptr<TransactionRegistry> transactions_;
    RateLimiter rate_limiter_;
    std::unique_ptr<WorkerPool> workers_;
    std::unique_ptr<HttpServer> http_;

    std::atomic<int> signals_received_{0};
    std::mutex mu_;
    std::condition_variable cv_;
    bool shutdown_requested_ = false;                    // guarded by mu_
    std::size_t in_flight_ = 0;                          // guarded by mu_
    std::set<std::shared_ptr<RequestContext>> running_;  // guarded by mu_
};

}  // namespace phenix::server
