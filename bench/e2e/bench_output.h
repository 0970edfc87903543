// SPDX-License-Identifier: Apache-2.0
//
// What every end-to-end driver prints: progress and failures on stderr, prefixed with the
// driver's name (Console), one JSON object per line on stdout (JsonLine over nlohmann's
// ordered_json for drivers that build nested values, FlatLine for drivers that depend on the
// public API only, and on common/json_string.h), and the timing and statistics helpers behind
// the numbers (Seconds, Round, Fixed, Percentile, Mean). Header-only; every function is
// thread-compatible (stdout and stderr are written a line at a time and flushed).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <phenix/result.h>
#include <phenix/status.h>

#include "common/json_string.h"  // JsonQuote: the escaping the server's logs use

namespace phenix::bench_output {

// Exit status of every driver: 0 fine, 1 a check or an engine call failed, 2 bad arguments or
// a missing or malformed data file.
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitBadInput = 2;

using Clock = std::chrono::steady_clock;

// Lines on stderr as "<program>: <what>". `program` must outlive the Console (a literal).
class Console {
  public:
    explicit constexpr Console(std::string_view program) : program_(program) {}

    [[nodiscard]] constexpr std::string_view program() const { return program_; }

    void Log(const std::string& what) const {
        std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program_.size()), program_.data(),
                     what.c_str());
    }

    // Logs `what` and exits with `code`.
    [[noreturn]] void Fail(int code, const std::string& what) const {
        Log(what);
        std::exit(code);
    }

    // Fails with kExitCheckFailed ("what: <status>") unless `status` is OK.
    void Check(const phenix::Status& status, const std::string& what) const {
        if (!status.ok()) {
            Fail(kExitCheckFailed, what + ": " + status.ToString());
        }
    }

    // The value of `result`, or Fail as Check does.
    template <typename T>
    T Value(phenix::Result<T> result, const std::string& what) const {
        if (!result.ok()) {
            Fail(kExitCheckFailed, what + ": " + result.status().ToString());
        }
        return std::move(result).value();
    }

  private:
    std::string_view program_;
};

// ---------------------------------------------------------------------------------------------
// Timing and statistics

inline double Seconds(Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
}

inline double Micros(Clock::time_point since) {
    return Seconds(since) * 1e6;
}

// `value` rounded to `digits` decimals (infinities and NaN unchanged).
inline double Round(double value, int digits) {
    if (!std::isfinite(value)) {
        return value;
    }
    const double scale = std::pow(10.0, digits);
    return std::round(value * scale) / scale;
}

// Every value rounded as Round does (for arrays in JSON lines).
inline std::vector<double> RoundAll(const std::vector<double>& values, int digits) {
    std::vector<double> out;
    out.reserve(values.size());
    for (const double value : values) {
        out.push_back(Round(value, digits));
    }
    return out;
}

// `value` with `digits` decimals, for log lines.
inline std::string Fixed(double value, int digits) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", digits, value);
    return text;
}

// Nearest-rank percentile (`fraction` in [0, 1]); 0 for no values.
inline double Percentile(std::vector<double> values, double fraction) {
    if (values.empty()) {
        return 0;
    }
    std::sort(values.begin(), values.end());
    const auto rank =
        static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

inline double Mean(const std::vector<double>& values) {
    return values.empty() ? 0.0
                          : std::accumulate(values.begin(), values.end(), 0.0) /
                                static_cast<double>(values.size());
}

// ---------------------------------------------------------------------------------------------
// JSON lines

// One output line built on an nlohmann ordered_json object (`JsonT`; a template so that this
// header does not need nlohmann): keys print in the order they were set; invalid UTF-8 in a
// string is replaced, not fatal.
template <typename JsonT>
class JsonLine {
  public:
    explicit JsonLine(JsonT body) : body_(std::move(body)) {}

    template <typename T>
    JsonLine& Set(const std::string& key, T&& value) {
        body_[key] = std::forward<T>(value);
        return *this;
    }

    void Emit() const { EmitJson(body_); }

    // Prints `body` on one line of stdout and flushes.
    static void EmitJson(const JsonT& body) {
        std::printf("%s\n", body.dump(-1, ' ', false, JsonT::error_handler_t::replace).c_str());
        std::fflush(stdout);
    }

  private:
    JsonT body_;
};

// A flat JSON object of strings, numbers and booleans, printed on one line; needs nothing
// beyond the standard library. Numbers print with `precision` significant digits, non-finite
// ones as null.
class FlatLine {
  public:
    explicit FlatLine(int precision) : precision_(precision) {}

    FlatLine& Str(std::string_view key, std::string_view value) {
        return Raw(key, phenix::JsonQuote(value));
    }
    FlatLine& Num(std::string_view key, double value) {
        if (!std::isfinite(value)) {
            return Raw(key, "null");
        }
        std::ostringstream text;
        text.precision(precision_);
        text << value;
        return Raw(key, text.str());
    }
    FlatLine& Int(std::string_view key, std::uint64_t value) {
        return Raw(key, std::to_string(value));
    }
    FlatLine& Bool(std::string_view key, bool value) { return Raw(key, value ? "true" : "false"); }
    // An array of numbers, each with `decimals` digits after the point (non-finite: null).
    FlatLine& Nums(std::string_view key, const std::vector<double>& values, int decimals) {
        std::string list = "[";
        char number[64];
        for (const double value : values) {
            if (list.size() > 1) {
                list += ',';
            }
            if (!std::isfinite(value)) {
                list += "null";
                continue;
            }
            std::snprintf(number, sizeof(number), "%.*f", decimals, value);
            list += number;
        }
        list += ']';
        return Raw(key, list);
    }

    // Prints the object on one line of stdout and flushes.
    void Emit() const {
        std::printf("{%s}\n", body_.c_str());
        std::fflush(stdout);
    }

  private:
    FlatLine& Raw(std::string_view key, const std::string& value) {
        if (!body_.empty()) {
            body_ += ',';
        }
        body_ += phenix::JsonQuote(key);
        body_ += ':';
        body_ += value;
        return *this;
    }

    int precision_;
    std::string body_;
};

}  // namespace phenix::bench_output
