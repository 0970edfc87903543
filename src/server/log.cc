// SPDX-License-Identifier: Apache-2.0
#include "server/log.h"

#include <exception>
#include <utility>

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "common/json_string.h"
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

void AppendTraceFields(std::string& out, std::string_view trace_id, std::string_view span_id) {
    if (trace_id.empty()) {
        return;
    }
    out += "\"trace_id\":";
    AppendJsonString(out, trace_id);
    out += ",\"span_id\":";
    AppendJsonString(out, span_id);
}

std::string TraceFields(std::string_view trace_id, std::string_view span_id) {
    std::string out;
    AppendTraceFields(out, trace_id, span_id);
    return out;
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
    // One string, appended to in place: this runs for every request.
    std::string fields;
    fields.reserve(320);
    const auto text = [&](std::string_view name, std::string_view value) {
        fields += name;
        AppendJsonString(fields, value);
    };
    const auto number = [&](std::string_view name, std::uint64_t value) {
        fields += name;
        fields += std::to_string(value);
    };
    text("\"request_id\":", record.request_id);
    text(",\"method\":", record.method);
    text(",\"route\":", record.route);
    number(",\"status\":", record.status);
    number(",\"latency_us\":", record.latency_us);
    number(",\"bytes_in\":", record.bytes_in);
    number(",\"bytes_out\":", record.bytes_out);
    text(",\"client\":", record.client);
    if (!record.error_code.empty()) {
        text(",\"error\":", record.error_code);
    }
    if (!record.trace_id.empty()) {
        fields += ',';
        AppendTraceFields(fields, record.trace_id, record.span_id);
        fields += record.trace_exported ? ",\"trace_exported\":true" : ",\"trace_exported\":false";
    }
    Log(record.status >= 500 ? LogLevel::kWarn : LogLevel::kInfo, "request", fields);
}

}  // namespace phenix::server
