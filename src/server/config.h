// SPDX-License-Identifier: Apache-2.0
//
// The configuration of phenixd: one option table from which the flags, the PHENIX_* environment
// variables, the TOML config file keys, `--help` and `--print-config` are all derived.
// Precedence: flags > environment > file > built-in default.
//
// Thread safety: pure functions over values.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/result.h>
#include <phenix/status.h>

namespace phenix::server {

struct ServerConfig {
    std::string data_dir = "./phenix-data";
    std::string http_address = "127.0.0.1:8080";  ///< HOST:PORT; port 0 picks a free port
    std::string grpc_address = "127.0.0.1:9090";  ///< HOST:PORT; port 0 picks one; empty: off
    std::uint32_t io_threads = 2;                 ///< threads running the network event loop
    std::uint32_t workers = 4;                    ///< threads running engine calls
    std::uint32_t queue_capacity = 64;            ///< requests waiting for a worker before 503
    /// Point reads and plain searches run on the I/O thread that read them (RouteOptions::
    /// short_request); false: every engine call runs on a worker.
    bool inline_short_requests = true;
    std::uint32_t max_connections = 1024;
    std::uint64_t max_body_bytes = std::uint64_t{64} << 20;
    std::uint64_t max_import_bytes = 0;  ///< POST .../import body (streamed); 0: no limit
    std::uint32_t stream_buffer_bytes = 256 * 1024;  ///< per streamed body, each way
    std::uint32_t header_timeout_ms = 10'000;
    std::uint32_t body_timeout_ms = 60'000;
    std::uint32_t idle_timeout_ms = 60'000;   ///< keep-alive connection with no request
    std::uint32_t rate_limit_per_second = 0;  ///< per client address; 0: no limit
    std::uint32_t rate_limit_burst = 100;
    std::uint32_t default_timeout_ms = 0;        ///< request deadline without Phenix-Timeout-Ms
    std::uint32_t shutdown_timeout_ms = 30'000;  ///< how long in-flight requests may finish
    std::uint32_t transaction_idle_timeout_ms = 60'000;  ///< then an open transaction rolls back
    std::string copy_directory;                          ///< COPY's directory; empty: <data>/copy
    std::string log_level = "info";
    bool access_log = true;
    // Encryption at rest (docs/security.md): the master key's KMS URI (empty: a new data directory
    // is not encrypted) and the PKCS#11 PIN file.
    std::string encryption_kms;
    std::string encryption_pin_file;
    /// MVCC history kept for AS OF reads (Options::history_retention_ms); a rotated data key is
    /// destroyed once its re-encryption is this far in the past.
    std::uint32_t history_retention_ms = 60'000;

    // The audit log (src/audit/, docs/security.md "Audit log"); audit_dir empty: no audit log.
    std::string audit_dir;
    bool audit_reads = false;  ///< also record reads (queries, gets, searches)
    std::uint64_t audit_max_file_bytes = std::uint64_t{64} << 20;  ///< then the next file
    // TLS (docs/security.md#tls): with tls_cert and tls_key, REST is HTTPS and gRPC uses TLS.
    std::string tls_cert;                 ///< PEM certificate chain; empty: plaintext
    std::string tls_key;                  ///< PEM private key of tls_cert
    std::string tls_client_ca;            ///< PEM CA bundle: clients must present a cert it signed
    /// JSON rules mapping verified client certificates to principals (security/client_cert.h);
    /// needs tls_client_ca and auth jwt. Empty: a certificate authenticates nobody.
    std::string tls_client_map;
    std::string tls_min_version = "1.2";  ///< "1.2" or "1.3"
    std::uint32_t tls_handshake_timeout_ms = 10'000;  ///< then the connection closes
    std::uint32_t tls_reload_interval_ms = 5'000;     ///< cert/key mtime poll; 0: SIGHUP only

    // Security (docs/security.md): authentication and protected mode.
    std::string auth = "off";           ///< "off" (every request is the local admin) or "jwt"
    bool insecure_no_auth = false;      ///< allow auth off on a non-loopback listen address
    std::string jwt_jwks;               ///< JWKS file of the token signers' public keys
    std::string jwt_issuer;             ///< required `iss`; empty: not checked
    std::string jwt_audience;           ///< required `aud`; empty: not checked
    std::string jwt_hs256_secret_file;  ///< HS256 shared secret (only when configured)
    std::uint32_t jwt_leeway_s = 60;    ///< clock skew allowed on exp/nbf
    // Tracing (docs/observability.md): off unless otlp_endpoint is set.
    std::string otlp_endpoint;        ///< http://HOST:PORT/v1/traces; empty: no tracing
    double trace_sample_ratio = 0.1;  ///< head sampling, 0..1
    std::uint32_t trace_slow_threshold_ms = 1000;  ///< always keep slower requests; 0: off
    std::uint32_t otlp_timeout_ms = 2000;          ///< one export's connect + send + answer
    std::uint32_t trace_queue_spans = 8192;        ///< spans waiting for export; beyond: dropped
    // The slow-query log (docs/observability.md#slow-query-log).
    std::int64_t slow_query_threshold_ms = 1000;  ///< log statements this slow; 0: all; -1: off
    std::string slow_query_log;                   ///< a file (rotated); empty: the main log
    bool slow_query_log_parameters = false;       ///< keep literals, parameters, plan details
    // Metrics (docs/observability.md#metrics): collections with their own series; the smallest
    // beyond it are summed into tenant="_other",collection="_other".
    std::uint32_t metrics_max_collections = 200;
};

/// One configurable setting. `name` is the TOML key; the flag is `--name` with '_' as '-', the
/// environment variable PHENIX_NAME upper-cased.
struct OptionSpec {
    std::string_view name;
    std::string_view value_name;  ///< for --help: DIR, HOST:PORT, N, MS, BYTES, BOOL, LEVEL
    std::string_view help;
    std::function<Status(ServerConfig&, std::string_view)> set;
    std::function<std::string(const ServerConfig&)> get;
    bool quoted = false;  ///< a string in TOML (otherwise a number or boolean)
};

/// The option table (also the order of --help and --print-config).
const std::vector<OptionSpec>& OptionTable();
std::string FlagName(std::string_view name);  // "io_threads" -> "--io-threads"
std::string EnvName(std::string_view name);   // "io_threads" -> "PHENIX_IO_THREADS"

enum class ConfigAction { kRun, kHelp, kPrintConfig };

struct LoadedConfig {
    ServerConfig config;
    ConfigAction action = ConfigAction::kRun;
    std::string text;  ///< kHelp: the help text; kPrintConfig: the effective config as TOML
};

using GetEnvFn = std::function<std::optional<std::string>(const std::string& name)>;

/// Resolves the configuration from the command line (`args` without the program name), the
/// environment (`get_env`) and the file named by --config or PHENIX_CONFIG. InvalidArgument
/// naming the source (flag, variable or file:line) of a bad value or unknown option.
Result<LoadedConfig> LoadConfig(const std::vector<std::string>& args, const GetEnvFn& get_env);

/// The effective configuration as a TOML document that LoadConfig reads back.
std::string ConfigToToml(const ServerConfig& config);

/// The security settings' consistency (docs/security.md): --auth is off or jwt; jwt needs
/// --jwt-jwks or --jwt-hs256-secret-file; protected mode: with auth off, a non-loopback --http or
/// --grpc address is refused unless --insecure-no-auth. InvalidArgument naming the flag to use.
Status CheckSecurityConfig(const ServerConfig& config);
/// Whether `host` (of ParseHostPort) is a loopback address: localhost, 127.0.0.0/8 or ::1.
bool IsLoopbackHost(std::string_view host);

/// Parses "HOST:PORT" ("[::1]:8080" for IPv6). InvalidArgument on a malformed address.
struct HostPort {
    std::string host;
    std::uint16_t port = 0;
};
Result<HostPort> ParseHostPort(std::string_view address);

/// Parses "http://HOST[:PORT][/PATH]" (port 80 and path "/" by default). InvalidArgument
/// otherwise (https is not supported for the OTLP exporter).
struct HttpUrl {
    std::string host;
    std::uint16_t port = 80;
    std::string target = "/";
};
Result<HttpUrl> ParseHttpUrl(std::string_view url);

}  // namespace phenix::server
