// SPDX-License-Identifier: Apache-2.0
//
// Structured logs: one JSON object per line on stderr,
//   {"time":"2026-12-07T10:00:00.123Z","level":"info","msg":"...", ...fields}
// Access lines add request_id, method, route, status, latency_us, bytes_in, bytes_out, client,
// and, when the request was traced, trace_id and span_id (its root span) and trace_exported
// (whether the trace was kept for export) (docs/observability.md). The slow-query log
// (server/slow_query_log.h) writes the same format, here or to its own rotated file.
// Bodies are never logged (no vectors, no metadata). Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <phenix/result.h>

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
    std::string_view trace_id;    ///< of a traced request, else empty
    std::string_view span_id;     ///< its root span
    bool trace_exported = false;  ///< the trace was kept for export
};

/// `"trace_id":"…","span_id":"…"` for a request's log line, or empty when `trace_id` is
/// (the request was not traced).
std::string TraceFields(std::string_view trace_id, std::string_view span_id);
/// The same, appended to `out`.
void AppendTraceFields(std::string& out, std::string_view trace_id, std::string_view span_id);

class Logger {
  public:
    /// `level`: "debug", "info", "warn" or "error".
    Logger(std::string_view level, bool access_log);
    /// A logger that writes the same lines to the file `path` instead of stderr (every level),
    /// rotated when it reaches `max_file_bytes`: `path` becomes `path` with ".1" before its
    /// extension, and so on up to `max_files` old files, the oldest dropped. IOError naming the
    /// path when the file cannot be opened.
    static Result<std::unique_ptr<Logger>> OpenFile(const std::string& path,
                                                    std::size_t max_file_bytes,
                                                    std::size_t max_files);
    ~Logger();
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    /// `fields` is JSON members text ("\"key\":1,\"other\":\"x\""), or empty.
    void Log(LogLevel level, std::string_view message, std::string_view fields = {});
    void Access(const AccessRecord& record);

  private:
    Logger(std::shared_ptr<spdlog::logger> logger, LogLevel min_level, bool access_log);

    std::shared_ptr<spdlog::logger> logger_;
    bool access_log_;
};

}  // namespace phenix::server
