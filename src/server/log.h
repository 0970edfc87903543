// SPDX-License-Identifier: Apache-2.0
//
// Structured logs: one JSON object per line on stderr,
//   {"time":"2026-12-07T10:00:00.123Z","level":"info","msg":"...", ...fields}
// Access lines add request_id, method, route, status, latency_us, bytes_in, bytes_out, client,
// and trace_id and span_id when the request's trace is kept for export (docs/observability.md).
// Bodies are never logged (no vectors, no metadata). Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace phenix::server {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct AccessRecord {
    std::string_view request_id;
    std::string_view method;
    std::string_view route;  ///< the route pattern, or "-" when none matched
    unsigned status = 0;
    std::uint64_t latency_us = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::string_view client;
    std::string_view error_code;  ///< the error body's code, empty on success
    std::string_view trace_id;    ///< of a traced request (kept for export), else empty
    std::string_view span_id;     ///< its root span
};

class Logger {
  public:
    /// `level`: "debug", "info", "warn" or "error".
    Logger(std::string_view level, bool access_log);
    ~Logger();
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    /// `fields` is JSON members text ("\"key\":1,\"other\":\"x\""), or empty.
    void Log(LogLevel level, std::string_view message, std::string_view fields = {});
    void Access(const AccessRecord& record);

  private:
    std::shared_ptr<spdlog::logger> logger_;
    bool access_log_;
};

}  // namespace phenix::server
