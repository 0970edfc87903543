// SPDX-License-Identifier: Apache-2.0
//
// Command lines of the end-to-end drivers: `--key=value` (and, where a driver allows it,
// `--key value`) pairs, flags without a value, numbers, comma-separated lists. ArgReader walks
// argv; each driver keeps its own table of keys. Every error is reported through the driver's
// Console and exits with kExitBadInput. Header-only; thread-compatible.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "bench_output.h"

namespace phenix::bench_args {

using bench_output::Console;
using bench_output::kExitBadInput;

// `text` as a number of type T (the whole text, nothing else); fails "bad number for --key".
template <typename T>
T ParseNumber(const Console& console, std::string_view key, std::string_view text) {
    T value{};
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty()) {
        console.Fail(kExitBadInput,
                     "bad number for --" + std::string(key) + ": '" + std::string(text) + "'");
    }
    return value;
}

// How a key gets its value.
enum class ValueForm {
    kEqualsOnly,    // --key=value
    kEqualsOrNext,  // --key=value or --key value
};

// Walks argv[1..]: every argument must start with "--"; "--help" and "-h" print `usage` (when
// given) and exit 0. Keys in `flags` take no value (with kEqualsOnly, "--flag=x" fails); every
// other key needs one. Views stay valid as long as argv.
class ArgReader {
  public:
    ArgReader(const Console& console, int argc, char** argv, ValueForm form,
              std::vector<std::string_view> flags = {}, std::string_view usage = {})
        : console_(console),
          argc_(argc),
          argv_(argv),
          form_(form),
          flags_(std::move(flags)),
          usage_(usage) {}

    // Moves to the next key; false after the last argument.
    bool Next() {
        if (++arg_idx_ >= argc_) {
            return false;
        }
        std::string_view arg = argv_[arg_idx_];
        if (!usage_.empty() && (arg == "--help" || arg == "-h")) {
            PrintUsage();
            std::exit(0);
        }
        if (!arg.starts_with("--")) {
            Fail("unexpected argument '" + std::string(arg) + "'");
        }
        arg.remove_prefix(2);
        key_ = arg;
        value_ = {};
        has_value_ = false;
        if (IsFlagName(arg)) {
            return true;
        }
        if (const auto eq = arg.find('='); eq != std::string_view::npos) {
            key_ = arg.substr(0, eq);
            value_ = arg.substr(eq + 1);
            has_value_ = true;
            if (form_ == ValueForm::kEqualsOnly && IsFlagName(key_)) {
                Fail("--" + std::string(key_) + " takes no value");
            }
        } else if (form_ == ValueForm::kEqualsOnly) {
            Fail("--" + std::string(arg) + " needs a value (--key=value)");
        } else if (arg_idx_ + 1 < argc_) {
            value_ = argv_[++arg_idx_];
            has_value_ = true;
        } else {
            Fail("--" + std::string(arg) + " needs a value");
        }
        return true;
    }

    [[nodiscard]] std::string_view key() const { return key_; }
    [[nodiscard]] std::string_view value() const { return value_; }

    // Whether the current argument is the value-less flag `name`.
    [[nodiscard]] bool IsFlag(std::string_view name) const { return key_ == name && !has_value_; }

    template <typename T>
    [[nodiscard]] T Number() const {
        return ParseNumber<T>(console_, key_, value_);
    }

    // A comma-separated list of numbers (at least one).
    [[nodiscard]] std::vector<std::size_t> NumberList() const {
        std::vector<std::size_t> out;
        std::string_view text = value_;
        while (!text.empty()) {
            const auto comma = text.find(',');
            out.push_back(ParseNumber<std::size_t>(console_, key_, text.substr(0, comma)));
            if (comma == std::string_view::npos) {
                break;
            }
            text.remove_prefix(comma + 1);
        }
        if (out.empty()) {
            Fail("--" + std::string(key_) + " needs at least one value");
        }
        return out;
    }

    // A comma-separated subset of `known`; fails "unknown <noun> 'x' in --key".
    [[nodiscard]] std::set<std::string> Choices(const std::set<std::string>& known,
                                                std::string_view noun) const {
        std::set<std::string> out;
        std::string_view rest = value_;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            std::string item(rest.substr(0, comma));
            if (!known.contains(item)) {
                Fail("unknown " + std::string(noun) + " '" + item + "' in --" + std::string(key_));
            }
            out.insert(std::move(item));
            rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
        }
        return out;
    }

    // Fails "unknown flag --key".
    [[noreturn]] void Unknown() const { Fail("unknown flag --" + std::string(key_)); }

    // Fails with kExitBadInput.
    [[noreturn]] void Fail(const std::string& what) const { console_.Fail(kExitBadInput, what); }

    void PrintUsage() const {
        std::fprintf(stderr, "%.*s", static_cast<int>(usage_.size()), usage_.data());
    }

  private:
    [[nodiscard]] bool IsFlagName(std::string_view name) const {
        return std::find(flags_.begin(), flags_.end(), name) != flags_.end();
    }

    const Console& console_;
    int argc_;
    char** argv_;
    ValueForm form_;
    std::vector<std::string_view> flags_;
    std::string_view usage_;
    int arg_idx_ = 0;
    std::string_view key_;
    std::string_view value_;
    bool has_value_ = false;
};

// Fails unless `metric` is "l2" or "cos".
inline void RequireMetric(const Console& console, std::string_view metric) {
    if (metric != "l2" && metric != "cos") {
        console.Fail(kExitBadInput, "--metric must be l2 or cos");
    }
}

// `dir` without trailing slashes ("/" stays).
inline std::string WithoutTrailingSlash(std::string dir) {
    while (dir.size() > 1 && dir.back() == '/') {
        dir.pop_back();
    }
    return dir;
}

}  // namespace phenix::bench_args
