// SPDX-License-Identifier: Apache-2.0
//
// Router: (method, path pattern) -> handler. Patterns are '/'-separated segments, each a literal
// or a parameter "{name}" that matches one non-empty segment (percent-decoded before the
// handler sees it). A path that matches no pattern is 404; one that matches a pattern under
// another method is 405 with the allowed methods. Routes are added before serving starts;
// after that the router is immutable and Match is thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_types.h"

namespace phenix::server {

using PathParams = std::map<std::string, std::string, std::less<>>;
using Handler = std::function<HttpResponse(const HttpRequest&, const PathParams&, RequestContext&)>;

struct RouteOptions {
    /// Runs on the I/O thread (cheap, never blocks: /health, /ready); otherwise on a worker.
    bool inline_handler = false;
    /// May run inside an interactive transaction (Phenix-Transaction); other routes refuse it.
    bool accepts_transaction = false;
    /// Reads its body as it arrives (HttpRequest::body_stream), under max_import_bytes instead
    /// of max_body_bytes: the handler runs as soon as the headers are read.
    bool streams_body = false;
    /// Short requests (a point read, a plain search): with inline_short_requests on, the handler
    /// first runs on the I/O thread that read the request, after admission like any other, and
    /// sparing the two thread hand-offs of a worker (most of a point read's latency); it returns
    /// HttpResponse::needs_worker when this request is not short after all (a filter, a large
    /// ef), and then runs on a worker.
    bool short_request = false;
    /// With short_request: runs on the I/O thread however many requests are in flight, not only
    /// when alone (a plain search, whose engine call outweighs the hand-offs; decision 0037).
    bool inline_under_load = false;
};

struct Route {
    std::string method;
    std::string pattern;  ///< also the route's name in logs and metrics
    Handler handler;
    RouteOptions options;
    std::vector<std::string> segments;
};

struct RouteMatch {
    const Route* route = nullptr;  ///< null: no route (see status)
    PathParams params;
    unsigned status = 200;  ///< 404 (no such path), 405 (other methods) or 400 (bad escape)
    std::string allow;      ///< for 405: "GET, PUT"
};

class Router {
  public:
    void Add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
    [[nodiscard]] RouteMatch Match(std::string_view method, std::string_view path) const;
    [[nodiscard]] const std::vector<Route>& routes() const { return routes_; }

  private:
    std::vector<Route> routes_;
};

/// Percent-decodes `text` ('+' stays '+'); false on a malformed escape.
bool PercentDecode(std::string_view text, std::string& out);

/// Parses "a=1&b=x%20y" into decoded pairs; malformed escapes are kept verbatim.
std::map<std::string, std::string, std::less<>> ParseQueryString(std::string_view query);

}  // namespace phenix::server
