// SPDX-License-Identifier: Apache-2.0
//
// The server's own request/response values: what the router and the handlers see. They hold no
// network types, so handlers are testable without sockets and the transport (Beast today, gRPC
// later) is replaceable. Thread-compatible values; RequestContext's cancellation flag is the one
// thing shared between the connection (which sets it) and the worker (which polls it).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace phenix::server {

struct HttpRequest {
    std::string method;  ///< "GET", "POST", ...
    std::string path;    ///< the target without its query string, not yet percent-decoded
    std::map<std::string, std::string, std::less<>> query;  ///< decoded query parameters
    std::string content_type;                               ///< empty when absent
    std::string accept;
    std::string body;
    std::string request_id;
    std::string transaction;  ///< Phenix-Transaction, empty when absent
    std::string tenant;       ///< Phenix-Tenant, empty when absent (the default tenant)
    std::string client;       ///< "ip:port" of the peer
};

struct HttpResponse {
    unsigned status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
};

/// Per-request state shared by the connection and the worker that runs the request.
struct RequestContext {
    using Clock = std::chrono::steady_clock;
    Clock::time_point deadline = Clock::time_point::max();
    /// Set by the connection when the client goes away, or by a forced shutdown.
    std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);

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
