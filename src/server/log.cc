// SPDX-License-Identifier: Apache-2.0
#include "server/log.h"

#include <exception>
#include <utility>

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "server/errors.h"

namespace phenix::server {
namespace {

spdlog::level::level_enum ToSpdlog(LogLevel level) {
    switch (level) {
        case LogLevel::kDebug:
            return spdlog::level::debug;
        case LogLevel::kInfo:
            return spdlog::level::info;
        case LogLevel::kWarn:
            return spdlog::level::warn;
        case LogLevel::kError:
            return spdlog::level::err;
    }
    return spdlog::level::info;
}

LogLevel LevelNamed(std::string_view level) {
    if (level == "debug") {
        return LogLevel::kDebug;
    }
    if (level == "warn") {
        return LogLevel::kWarn;
    }
    if (level == "error") {
        return LogLevel::kError;
    }
    return LogLevel::kInfo;
}

}  // namespace

std::string TraceFields(std::string_view trace_id, std::string_view span_id) {
    if (trace_id.empty()) {
        return {};
    }
    return "\"trace_id\":" + JsonQuote(trace_id) + ",\"span_id\":" + JsonQuote(span_id);
}

Logger::Logger(std::string_view level, bool access_log)
    : Logger(std::make_shared<spdlog::logger>("phenixd",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>()),
             LevelNamed(level), access_log) {}

Logger::Logger(std::shared_ptr<spdlog::logger> logger, LogLevel min_level, bool access_log)
    : logger_(std::move(logger)), access_log_(access_log) {
    // The message (%v) is the rest of the JSON object: "msg" and the fields.
    logger_->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})", spdlog::pattern_time_type::utc));
    logger_->set_level(ToSpdlog(min_level));
    logger_->flush_on(spdlog::level::debug);
}

Result<std::unique_ptr<Logger>> Logger::OpenFile(const std::string& path,
                                                 std::size_t max_file_bytes,
                                                 std::size_t max_files) {
    std::shared_ptr<spdlog::sinks::sink> sink;
    try {  // spdlog reports a file it cannot open by throwing
        sink =
            std::make_shared<spdlog::sinks::rotating_file_sink_mt>(path, max_file_bytes, max_files);
    } catch (const std::exception& error) {
        return Status::IOError("cannot open the log file '" + path + "': " + error.what());
    }
    return std::unique_ptr<Logger>(
        new Logger(std::make_shared<spdlog::logger>("phenixd-file", std::move(sink)),
                   LogLevel::kDebug, /*access_log=*/false));
}

Logger::~Logger() = default;

void Logger::Log(LogLevel level, std::string_view message, std::string_view fields) {
    if (!logger_->should_log(ToSpdlog(level))) {
        return;
    }
    std::string line = "\"msg\":" + JsonQuote(message);
    if (!fields.empty()) {
        line += ',';
        line += fields;
    }
    logger_->log(ToSpdlog(level), "{}", line);
}

void Logger::Access(const AccessRecord& record) {
    if (!access_log_) {
        return;
    }
    std::string fields = "\"request_id\":" + JsonQuote(record.request_id) +
                         ",\"method\":" + JsonQuote(record.method) +
                         ",\"route\":" + JsonQuote(record.route) +
                         ",\"status\":" + std::to_string(record.status) +
                         ",\"latency_us\":" + std::to_string(record.latency_us) +
                         ",\"bytes_in\":" + std::to_string(record.bytes_in) +
                         ",\"bytes_out\":" + std::to_string(record.bytes_out) +
                         ",\"client\":" + JsonQuote(record.client);
    if (!record.error_code.empty()) {
        fields += ",\"error\":" + JsonQuote(record.error_code);
    }
    if (!record.trace_id.empty()) {
        fields += "," + TraceFields(record.trace_id, record.span_id) +
                  ",\"trace_exported\":" + (record.trace_exported ? "true" : "false");
    }
    Log(record.status >= 500 ? LogLevel::kWarn : LogLevel::kInfo, "request", fields);
}

}  // namespace phenix::server
