// SPDX-License-Identifier: Apache-2.0
#include "server/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <exception>
#include <limits>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

namespace phenix::server {
namespace {

template <typename T>
Status ParseUnsigned(std::string_view text, T min_value, T& out) {
    std::uint64_t value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty() || value < min_value ||
        value > std::numeric_limits<T>::max()) {
        return Status::InvalidArgument("expected an integer from " + std::to_string(min_value) +
                                       " to " + std::to_string(std::numeric_limits<T>::max()) +
                                       ", not '" + std::string(text) + "'");
    }
    out = static_cast<T>(value);
    return Status::Ok();
}

OptionSpec Uint32(std::string_view name, std::string_view value_name, std::string_view help,
                  std::uint32_t ServerConfig::*field, std::uint32_t min_value) {
    return {name, value_name, help,
            [field, min_value](ServerConfig& c, std::string_view v) {
                return ParseUnsigned(v, min_value, c.*field);
            },
            [field](const ServerConfig& c) { return std::to_string(c.*field); }};
}

// "true"/"1" or "false"/"0"; the command line also takes a bare --flag for true.
OptionSpec Bool(std::string_view name, std::string_view help, bool ServerConfig::*field) {
    return {name, "BOOL", help,
            [field](ServerConfig& c, std::string_view v) {
                if (v == "true" || v == "1") {
                    c.*field = true;
                } else if (v == "false" || v == "0") {
                    c.*field = false;
                } else {
                    return Status::InvalidArgument("expected true or false, not '" +
                                                   std::string(v) + "'");
                }
                return Status::Ok();
            },
            [field](const ServerConfig& c) { return std::string(c.*field ? "true" : "false"); }};
}

OptionSpec String(std::string_view name, std::string_view value_name, std::string_view help,
                  std::string ServerConfig::*field,
                  std::function<Status(std::string_view)> check = nullptr) {
    return {name,
            value_name,
            help,
            [field, check](ServerConfig& c, std::string_view v) {
                if (check) {
                    PHENIX_RETURN_IF_ERROR(check(v));
                }
                c.*field = std::string(v);
                return Status::Ok();
            },
            [field](const ServerConfig& c) { return c.*field; },
            /*quoted=*/true};
}

std::string TomlQuote(std::string_view text) {
    std::string out = "\"";
    for (char ch : text) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\u00";
            out += kHex[(static_cast<unsigned char>(ch) >> 4) & 0xF];
            out += kHex[static_cast<unsigned char>(ch) & 0xF];
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

// Reads the TOML file into name -> value text, checking every key against the table.
Result<std::map<std::string, std::string>> ReadConfigFile(const std::string& path) {
    std::map<std::string, std::string> values;
    toml::table table;
    try {
        table = toml::parse_file(path);
    } catch (const toml::parse_error& error) {
        const auto& where = error.source().begin;
        return Status::InvalidArgument("config file " + path + ":" + std::to_string(where.line) +
                                       ":" + std::to_string(where.column) + ": " +
                                       std::string(error.description()));
    } catch (const std::exception& error) {
        return Status::InvalidArgument("config file " + path + ": " + error.what());
    }
    for (const auto& [key, node] : table) {
        const std::string name(key.str());
        const auto& options = OptionTable();
        const bool known = std::any_of(options.begin(), options.end(),
                                       [&](const OptionSpec& o) { return o.name == name; });
        if (!known) {
            return Status::InvalidArgument("config file " + path + ": unknown key '" + name +
                                           "' (phenixd --help lists the options)");
        }
        if (const auto* text = node.as_string()) {
            values[name] = text->get();
        } else if (const auto* integer = node.as_integer()) {
            values[name] = std::to_string(integer->get());
        } else if (const auto* boolean = node.as_boolean()) {
            values[name] = boolean->get() ? "true" : "false";
        } else if (const auto* real = node.as_floating_point()) {
            char number[32];
            std::snprintf(number, sizeof(number), "%.17g", real->get());
            values[name] = number;
        } else {
            return Status::InvalidArgument("config file " + path + ": '" + name +
                                           "' must be a string, a number or a boolean");
        }
    }
    return values;
}

Status CheckLevel(std::string_view level) {
    if (level == "debug" || level == "info" || level == "warn" || level == "error") {
        return Status::Ok();
    }
    return Status::InvalidArgument("expected debug, info, warn or error, not '" +
                                   std::string(level) + "'");
}

Status CheckAddress(std::string_view address) {
    return ParseHostPort(address).status();
}

Status CheckOptionalAddress(std::string_view address) {
    return address.empty() ? Status::Ok() : CheckAddress(address);
}

Status CheckOtlpEndpoint(std::string_view url) {
    return url.empty() ? Status::Ok() : ParseHttpUrl(url).status();
}

Status ParseRatio(std::string_view text, double& out) {
    double value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty() || !(value >= 0 && value <= 1)) {
        return Status::InvalidArgument("expected a number from 0 to 1, not '" + std::string(text) +
                                       "'");
    }
    out = value;
    return Status::Ok();
}

std::string FormatRatio(double value) {
    char text[32];
    std::snprintf(text, sizeof(text), "%g", value);
    std::string out = text;
    // TOML wants a float to look like one.
    if (out.find_first_of(".e") == std::string::npos) {
        out += ".0";
    }
    return out;
}

}  // namespace

const std::vector<OptionSpec>& OptionTable() {
    static const std::vector<OptionSpec> options = [] {
        std::vector<OptionSpec> table;
        table.push_back(
            String("data", "DIR", "data directory (created if missing)", &ServerConfig::data_dir));
        table.push_back(String("http", "HOST:PORT", "HTTP listen address; port 0 picks a free port",
                               &ServerConfig::http_address, CheckAddress));
        table.push_back(String("grpc", "HOST:PORT",
                               "gRPC listen address (docs/grpc.md); port 0 picks a free port; "
                               "empty: no gRPC listener",
                               &ServerConfig::grpc_address, CheckOptionalAddress));
        table.push_back(
            Uint32("io_threads", "N", "threads running network I/O", &ServerConfig::io_threads, 1));
        table.push_back(Uint32("workers", "N", "threads running engine calls (queries, writes)",
                               &ServerConfig::workers, 1));
        table.push_back(Uint32("queue_capacity", "N",
                               "requests that may wait for a worker; beyond it: 503",
                               &ServerConfig::queue_capacity, 1));
        table.push_back(Bool("inline_short_requests",
                             "point reads (GET /v1/collections/{name}/entities/{id}) and plain "
                             "searches (vector, k <= 100, ef <= 512, no filter, no transaction) "
                             "run on the I/O thread that read them (point reads when no other "
                             "request is in flight, plain searches always), sparing two thread "
                             "hand-offs; "
                             "off while auditing; false: every engine call runs on a worker",
                             &ServerConfig::inline_short_requests));
        table.push_back(Uint32("max_connections", "N",
                               "open connections; beyond it new ones are closed at once",
                               &ServerConfig::max_connections, 1));
        table.push_back({"max_body_bytes", "BYTES", "largest request body; beyond it: 413",
                         [](ServerConfig& c, std::string_view v) {
                             return ParseUnsigned<std::uint64_t>(v, 1, c.max_body_bytes);
                         },
                         [](const ServerConfig& c) { return std::to_string(c.max_body_bytes); }});
        table.push_back(
            {"max_import_bytes", "BYTES",
             "largest body of POST /v1/collections/{name}/import, which is streamed into the "
             "loader (max_body_bytes does not apply to it); beyond it: 413; 0: no limit",
             [](ServerConfig& c, std::string_view v) {
                 return ParseUnsigned<std::uint64_t>(v, 0, c.max_import_bytes);
             },
             [](const ServerConfig& c) { return std::to_string(c.max_import_bytes); }});
        table.push_back(Uint32("stream_buffer_bytes", "BYTES",
                               "bytes buffered per streamed body (NDJSON query results, imports) "
                               "between the connection and the worker; beyond it the producer "
                               "waits",
                               &ServerConfig::stream_buffer_bytes, 1024));
        table.push_back(Uint32("rate_limit_per_second", "N",
                               "requests per second per client address (token bucket); beyond "
                               "it: 429; 0: no limit",
                               &ServerConfig::rate_limit_per_second, 0));
        table.push_back(Uint32("rate_limit_burst", "N",
                               "requests a client may send at once before the rate applies",
                               &ServerConfig::rate_limit_burst, 1));
        table.push_back(Uint32("header_timeout_ms", "MS",
                               "time to receive a request's headers before the connection closes",
                               &ServerConfig::header_timeout_ms, 1));
        table.push_back(Uint32("body_timeout_ms", "MS",
                               "time to receive a request's body before the connection closes",
                               &ServerConfig::body_timeout_ms, 1));
        table.push_back(Uint32("idle_timeout_ms", "MS",
                               "how long an idle keep-alive connection stays open",
                               &ServerConfig::idle_timeout_ms, 1));
        table.push_back(Uint32("default_timeout_ms", "MS",
                               "request deadline when Phenix-Timeout-Ms is absent; 0: none",
                               &ServerConfig::default_timeout_ms, 0));
        table.push_back(Uint32("shutdown_timeout_ms", "MS",
                               "on SIGTERM/SIGINT, how long in-flight requests may finish",
                               &ServerConfig::shutdown_timeout_ms, 0));
        table.push_back(Uint32("transaction_idle_timeout_ms", "MS",
                               "an interactive transaction idle this long is rolled back",
                               &ServerConfig::transaction_idle_timeout_ms, 1));
        table.push_back(String("copy_directory", "DIR",
                               "where COPY reads and writes files; empty: DATA/copy",
                               &ServerConfig::copy_directory));
        table.push_back(String("log_level", "LEVEL", "debug, info, warn or error",
                               &ServerConfig::log_level, CheckLevel));
        table.push_back(
            Bool("access_log", "one JSON log line per request", &ServerConfig::access_log));
        table.push_back(String("encryption_kms", "URI",
                               "encryption at rest: the master key, local:/path/keyfile or "
                               "pkcs11:module=...;token=...;key=... (a new data directory is "
                               "created encrypted; an encrypted one needs it); empty: none",
                               &ServerConfig::encryption_kms));
        table.push_back(String("encryption_pin_file", "FILE",
                               "the PKCS#11 user PIN, read from this file (else env "
                               "PHENIX_PKCS11_PIN)",
                               &ServerConfig::encryption_pin_file));
        table.push_back(Uint32("history_retention_ms", "MS",
                               "MVCC history kept for AS OF reads; a rotated data key is "
                               "destroyed once its re-encryption is this old",
                               &ServerConfig::history_retention_ms, 0));
        // The audit log (docs/security.md "Audit log").
        table.push_back(String("audit_dir", "DIR",
                               "write the hash-chained audit log (auth failures, denials, "
                               "schema, admin and write actions) into DIR; empty: no audit log",
                               &ServerConfig::audit_dir));
        table.push_back(Bool("audit_reads", "also audit reads (queries, gets, searches)",
                             &ServerConfig::audit_reads));
        table.push_back(
            {"audit_max_file_bytes", "BYTES",
             "an audit file grows to this size, then the next one starts (the hash "
             "chain continues across files)",
             [](ServerConfig& c, std::string_view v) {
                 return ParseUnsigned<std::uint64_t>(v, 1, c.audit_max_file_bytes);
             },
             [](const ServerConfig& c) { return std::to_string(c.audit_max_file_bytes); }});
        // TLS (docs/security.md#tls).
        table.push_back(String("tls_cert", "FILE",
                               "PEM certificate chain: with tls_key, REST is HTTPS and gRPC uses "
                               "TLS; reloaded on SIGHUP and when the file changes",
                               &ServerConfig::tls_cert));
        table.push_back(
            String("tls_key", "FILE", "PEM private key of tls_cert", &ServerConfig::tls_key));
        table.push_back(String("tls_client_ca", "FILE",
                               "PEM CA bundle: clients must present a certificate it signed "
                               "(mutual TLS); empty: no client certificates",
                               &ServerConfig::tls_client_ca));
        table.push_back(String("tls_client_map", "FILE",
                               "JSON rules mapping a verified client certificate (cn, dn or san) "
                               "to a principal, tenant and roles: mutual TLS as a credential; "
                               "needs tls_client_ca and auth jwt; reloaded on SIGHUP",
                               &ServerConfig::tls_client_map));
        table.push_back(
            String("tls_min_version", "VERSION", "oldest TLS version accepted on REST: 1.2 or 1.3",
                   &ServerConfig::tls_min_version, [](std::string_view v) {
                       return v == "1.2" || v == "1.3"
                                  ? Status::Ok()
                                  : Status::InvalidArgument("expected 1.2 or 1.3, not '" +
                                                            std::string(v) + "'");
                   }));
        table.push_back(Uint32("tls_handshake_timeout_ms", "MS",
                               "time a client has to complete the TLS handshake",
                               &ServerConfig::tls_handshake_timeout_ms, 1));
        table.push_back(Uint32("tls_reload_interval_ms", "MS",
                               "how often the certificate and key files are checked for changes; "
                               "0: reload on SIGHUP only",
                               &ServerConfig::tls_reload_interval_ms, 0));
        // Security (docs/security.md): checked together by CheckSecurityConfig.
        table.push_back(String("auth", "MODE",
                               "authentication: off (every request is the local administrator; "
                               "loopback only unless --insecure-no-auth) or jwt (bearer tokens)",
                               &ServerConfig::auth, [](std::string_view v) {
                                   return v == "off" || v == "jwt"
                                              ? Status::Ok()
                                              : Status::InvalidArgument(
                                                    "expected off or jwt, not '" + std::string(v) +
                                                    "'");
                               }));
        table.push_back(Bool("insecure_no_auth",
                             "allow --auth off on a non-loopback --http/--grpc address (anyone "
                             "who can connect is an administrator)",
                             &ServerConfig::insecure_no_auth));
        table.push_back(String("jwt_jwks", "FILE",
                               "JWKS file with the public keys tokens are signed with (reloaded "
                               "on change)",
                               &ServerConfig::jwt_jwks));
        table.push_back(String("jwt_issuer", "ISS", "required token issuer (iss); empty: any",
                               &ServerConfig::jwt_issuer));
        table.push_back(String("jwt_audience", "AUD", "required token audience (aud); empty: any",
                               &ServerConfig::jwt_audience));
        table.push_back(String("jwt_hs256_secret_file", "FILE",
                               "file holding an HS256 shared secret (HS256 is accepted only "
                               "with it)",
                               &ServerConfig::jwt_hs256_secret_file));
        table.push_back(Uint32("jwt_leeway_s", "S", "clock skew allowed on exp and nbf",
                               &ServerConfig::jwt_leeway_s, 0));
        // Tracing (docs/observability.md).
        table.push_back(String("otlp_endpoint", "URL",
                               "OTLP/HTTP (JSON) traces endpoint, http://HOST:PORT/v1/traces; "
                               "empty: tracing off",
                               &ServerConfig::otlp_endpoint, CheckOtlpEndpoint));
        table.push_back({"trace_sample_ratio", "RATIO",
                         "share of requests traced (head sampling by trace id, 0 to 1); a client's "
                         "traceparent sampled flag decides for its requests",
                         [](ServerConfig& c, std::string_view v) {
                             return ParseRatio(v, c.trace_sample_ratio);
                         },
                         [](const ServerConfig& c) { return FormatRatio(c.trace_sample_ratio); }});
        table.push_back(Uint32("trace_slow_threshold_ms", "MS",
                               "requests at least this slow are traced whatever the sampling; "
                               "0: off",
                               &ServerConfig::trace_slow_threshold_ms, 0));
        table.push_back(Uint32("otlp_timeout_ms", "MS",
                               "how long one export to the OTLP endpoint may take",
                               &ServerConfig::otlp_timeout_ms, 1));
        table.push_back(Uint32("trace_queue_spans", "N",
                               "spans waiting for export; beyond it kept spans are dropped "
                               "(phenix_trace_spans_dropped_total)",
                               &ServerConfig::trace_queue_spans, 1));
        // The slow-query log (docs/observability.md#slow-query-log).
        table.push_back(
            {"slow_query_threshold_ms", "MS",
             "log statements of /v1/query and gRPC Query at least this slow; 0: every "
             "statement; -1: off",
             [](ServerConfig& c, std::string_view v) {
                 if (v == "-1") {
                     c.slow_query_threshold_ms = -1;
                     return Status::Ok();
                 }
                 std::uint32_t millis = 0;
                 if (!ParseUnsigned(v, std::uint32_t{0}, millis).ok()) {
                     return Status::InvalidArgument(
                         "expected milliseconds (0: every statement) or -1 (off), "
                         "not '" +
                         std::string(v) + "'");
                 }
                 c.slow_query_threshold_ms = millis;
                 return Status::Ok();
             },
             [](const ServerConfig& c) { return std::to_string(c.slow_query_threshold_ms); }});
        table.push_back(String("slow_query_log", "FILE",
                               "where slow queries go: a file (rotated at 64 MiB, 3 old files "
                               "kept); empty: the main log",
                               &ServerConfig::slow_query_log));
        table.push_back(Bool("slow_query_log_parameters",
                             "slow-query records keep the statement's literals, its parameters "
                             "and the plan's details (off: redacted)",
                             &ServerConfig::slow_query_log_parameters));
        table.push_back(Uint32("metrics_max_collections", "N",
                               "collections with their own series on /metrics; the smallest "
                               "beyond it are summed into collection=\"_other\"",
                               &ServerConfig::metrics_max_collections, 1));
        return table;
    }();
    return options;
}

bool IsLoopbackHost(std::string_view host) {
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    return host == "localhost" || host == "::1" || host.substr(0, 4) == "127.";
}

Status CheckSecurityConfig(const ServerConfig& config) {
    if (!config.tls_client_map.empty() && (config.auth != "jwt" || config.tls_client_ca.empty())) {
        return Status::InvalidArgument(
            "--tls-client-map maps verified client certificates to principals: it needs "
            "--tls-client-ca (which certificates are verified) and --auth jwt");
    }
    if (config.auth == "jwt") {
        if (config.jwt_jwks.empty() && config.jwt_hs256_secret_file.empty()) {
            return Status::InvalidArgument(
                "--auth jwt needs the keys tokens are verified with: --jwt-jwks FILE (or "
                "--jwt-hs256-secret-file FILE)");
        }
        return Status::Ok();
    }
    if (config.auth != "off") {
        return Status::InvalidArgument("--auth: expected off or jwt, not '" + config.auth + "'");
    }
    if (config.insecure_no_auth) {
        return Status::Ok();
    }
    const std::pair<std::string_view, const std::string*> listeners[] = {
        {"--http", &config.http_address}, {"--grpc", &config.grpc_address}};
    for (const auto& [flag, address] : listeners) {
        if (address->empty()) {
            continue;
        }
        auto parsed = ParseHostPort(*address);
        if (parsed.ok() && !IsLoopbackHost(parsed->host)) {
            return Status::InvalidArgument(
                "refusing to serve without authentication on " + std::string(flag) + " " +
                *address +
                " (not a loopback address): anyone who can connect would be an administrator. "
                "Use --auth jwt (docs/security.md), listen on 127.0.0.1, or pass "
                "--insecure-no-auth to accept the risk");
        }
    }
    return Status::Ok();
}

std::string FlagName(std::string_view name) {
    std::string flag = "--" + std::string(name);
    std::replace(flag.begin(), flag.end(), '_', '-');
    return flag;
}

std::string EnvName(std::string_view name) {
    std::string env = "PHENIX_" + std::string(name);
    std::transform(env.begin(), env.end(), env.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    return env;
}

std::string ConfigToToml(const ServerConfig& config) {
    std::string out = "# phenixd effective configuration\n";
    for (const OptionSpec& option : OptionTable()) {
        const std::string value = option.get(config);
        out += std::string(option.name) + " = " + (option.quoted ? TomlQuote(value) : value) + "\n";
    }
    return out;
}

Result<LoadedConfig> LoadConfig(const std::vector<std::string>& args, const GetEnvFn& get_env) {
    const std::vector<OptionSpec>& options = OptionTable();
    CLI::App app{"phenixd: the Phenix DB server (REST/JSON over HTTP)", "phenixd"};
    app.get_formatter()->column_width(34);
    std::map<std::string, std::string> flag_values;  // option name -> value given as a flag
    std::vector<std::string> flag_storage(options.size());
    std::vector<CLI::Option*> flag_options(options.size());
    for (std::size_t option_idx = 0; option_idx < options.size(); ++option_idx) {
        const OptionSpec& option = options[option_idx];
        ServerConfig defaults;
        std::string help = std::string(option.help) + " [env " + EnvName(option.name) +
                           ", default " + option.get(defaults) + "]";
        flag_options[option_idx] =
            app.add_option(FlagName(option.name), flag_storage[option_idx], help)
                ->type_name(std::string(option.value_name));
        if (option.value_name == "BOOL") {
            // A bare `--audit-reads` means true (below); `--audit-reads false` still works.
            flag_options[option_idx]->expected(0, 1);
        }
    }
    std::string config_path;
    CLI::Option* config_flag =
        app.add_option("--config", config_path, "TOML config file [env PHENIX_CONFIG]")
            ->type_name("FILE");
    bool print_config = false;
    app.add_flag("--print-config", print_config, "print the effective configuration and exit");

    LoadedConfig loaded;
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        loaded.action = ConfigAction::kHelp;
        loaded.text = app.help();
        return loaded;
    } catch (const CLI::ParseError& error) {
        return Status::InvalidArgument(std::string(error.what()) + " (phenixd --help)");
    } catch (const std::exception& error) {
        return Status::InvalidArgument(error.what());
    }

    // File, then environment, then flags: each later source overrides the earlier.
    if (config_flag->count() == 0) {
        if (auto env_path = get_env("PHENIX_CONFIG")) {
            config_path = *env_path;
        }
    }
    if (!config_path.empty()) {
        auto file_values = ReadConfigFile(config_path);
        if (!file_values.ok()) {
            return file_values.status();
        }
        for (const OptionSpec& option : options) {
            auto it = file_values->find(std::string(option.name));
            if (it != file_values->end()) {
                Status s = option.set(loaded.config, it->second);
                if (!s.ok()) {
                    return Status::InvalidArgument("config file " + config_path + ": " +
                                                   std::string(option.name) + ": " + s.message());
                }
            }
        }
    }
    for (const OptionSpec& option : options) {
        const std::string env = EnvName(option.name);
        if (auto value = get_env(env)) {
            Status s = option.set(loaded.config, *value);
            if (!s.ok()) {
                return Status::InvalidArgument(env + ": " + s.message());
            }
        }
    }
    for (std::size_t option_idx = 0; option_idx < options.size(); ++option_idx) {
        if (flag_options[option_idx]->count() > 0) {
            if (options[option_idx].value_name == "BOOL" && flag_storage[option_idx].empty()) {
                flag_storage[option_idx] = "true";  // a bare boolean flag
            }
            Status s = options[option_idx].set(loaded.config, flag_storage[option_idx]);
            if (!s.ok()) {
                return Status::InvalidArgument(FlagName(options[option_idx].name) + ": " +
                                               s.message());
            }
        }
    }
    if (print_config) {
        loaded.action = ConfigAction::kPrintConfig;
        loaded.text = ConfigToToml(loaded.config);
    }
    return loaded;
}

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
    constexpr std::string_view kScheme = "http://";
    if (url.substr(0, kScheme.size()) != kScheme) {
        return Status::InvalidArgument("'" + std::string(url) +
                                       "' is not an http:// URL (http://HOST:PORT/PATH)");
    }
    const std::string_view rest = url.substr(kScheme.size());
    const std::size_t slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    HttpUrl out;
    out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (authority.find(':') == std::string_view::npos) {
        out.host = std::string(authority);
        out.port = 80;
    } else {
        PHENIX_ASSIGN_OR_RETURN(HostPort host_port, ParseHostPort(authority));
        out.host = std::move(host_port.host);
        out.port = host_port.port;
    }
    if (out.host.empty()) {
        return Status::InvalidArgument("'" + std::string(url) + "' names no host");
    }
    return out;
}

Result<HostPort> ParseHostPort(std::string_view address) {
    const auto bad = [&](std::string_view why) {
        return Status::InvalidArgument("address '" + std::string(address) + "' is not HOST:PORT (" +
                                       std::string(why) + ")");
    };
    HostPort out;
    std::string_view port_text;
    if (!address.empty() && address.front() == '[') {
        const std::size_t close = address.find(']');
        if (close == std::string_view::npos || close + 1 >= address.size() ||
            address[close + 1] != ':') {
            return bad("an IPv6 host is written [::1]:PORT");
        }
        out.host = std::string(address.substr(1, close - 1));
        port_text = address.substr(close + 2);
    } else {
        const std::size_t colon = address.rfind(':');
        if (colon == std::string_view::npos) {
            return bad("no port");
        }
        out.host = std::string(address.substr(0, colon));
        port_text = address.substr(colon + 1);
    }
    if (out.host.empty()) {
        return bad("no host");
    }
    std::uint16_t port = 0;
    Status s = ParseUnsigned<std::uint16_t>(port_text, 0, port);
    if (!s.ok()) {
        return bad("port: " + s.message());
    }
    out.port = port;
    return out;
}

}  // namespace phenix::server
