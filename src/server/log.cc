// SPDX-License-Identifier: Apache-2.0
#include "server/log.h"

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
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

}  // namespace

Logger::Logger(std::string_view level, bool access_log) : access_log_(access_log) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    logger_ = std::make_shared<spdlog::logger>("phenixd", std::move(sink));
    // The message (%v) is the rest of the JSON object: "msg" and the fields.
    logger_->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})", spdlog::pattern_time_type::utc));
    LogLevel min_level = LogLevel::kInfo;
    if (level == "debug") {
        min_level = LogLevel::kDebug;
    } else if (level == "warn") {
        min_level = LogLevel::kWarn;
    } else if (level == "error") {
        min_level = LogLevel::kError;
    }
    logger_->set_level(ToSpdlog(min_level));
    logger_->flush_on(spdlog::level::debug);
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
        fields += ",\"trace_id\":" + JsonQuote(record.trace_id) +
                  ",\"span_id\":" + JsonQuote(record.span_id);
    }
    Log(record.status >= 500 ? LogLevel::kWarn : LogLevel::kInfo, "request", fields);
}

}  // namespace phenix::server
