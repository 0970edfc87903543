// SPDX-License-Identifier: Apache-2.0
//
// phenixd under load (issue 14) on the benchmark data kit (../shared/bench/README.md):
// base.fvecs, query.fvecs, meta.jsonl and gt_{l2,cos}.ivecs.
//
//   1. load      every base row as entity "<row>" (vector, meta.jsonl line as metadata) through
//                Database::Write into --db, until the vector index is complete. The loaded
//                directory is cached: a later run against the same kit reuses it (--reload
//                loads again).
//   2. embedded  the baseline, in the same process, on the same data directory and the same
//                cores: Database::Get of random ids and Database::Search of the kit's queries
//                (k=10, the same ef) on --workers threads (the server's worker count) for
//                --seconds each, then one call at a time for the latency percentiles.
//   3. server    phenixd (--phenixd) on --db, port 0, --workers workers; or --url to attach to a
//                running one (no load, no baseline, no RSS then). Over --connections keep-alive
//                connections driven by one Asio thread (C++20 coroutines on Boost.Beast):
//                  get     GET /v1/collections/kit/entities/{id}, random ids; the body must name it
//                  search  POST /v1/collections/kit/search {"vector", "k": 10, "ef"}; recall@10
//                          against the kit's ground truth must be >= --recall-floor, or the run
//                          fails
//                  mix     90% search, 10% upsert (POST .../entities of one row with its own
//                          vector and metadata, so the ground truth stays valid)
//                  latency one connection: search, then get, one request at a time
//                Throughput, p50/p99/p999, errors by status, client and server CPU seconds, and
//                the server's VmRSS/VmHWM (/proc/PID/status) before and after.
//   4. summary   the ratios: REST search throughput / embedded Search throughput (target >= 0.7),
//                REST p50 - embedded p50 per request on one connection (target <= 60 us), point
//                reads per second (target >= 20,000 on 2 cores). Targets are reported, not
//                asserted (shared machines vary); recall and errors are asserted.
//
// One JSON object per line on stdout ({"lib":"phenix-server","phase":...}); progress on stderr.
//
//   phenix_server_bench --data KIT_DIR [--db DIR] [--metric l2|cos] [--phenixd PATH | --url URL]
//       [--connections 64] [--seconds 10] [--warmup 1] [--latency-requests 2000] [--workers N]
//       [--io-threads 2] [--ef 64] [--recall-floor 0.95] [--access-log true|false]
//       [--phases get,search,mix,latency] [--reload] [--make-kit N]
//       [--compare-phenixd PATH] [--compare-access-log true|false] [--rounds R]
//       [--variant 'NAME:ARGS']...
//
// --variant NAME:ARGS (repeatable) adds a run of --phenixd with ARGS appended to its arguments
// in every round, beside the plain run "a"; the order of the runs rotates from round to round.
// A token @scrape=MS in ARGS is the bench's own: GET /metrics every MS milliseconds while the
// phases run (the cost of being scraped); @bearer-file=PATH sends `Authorization: Bearer` with
// the token in PATH on every load request (the cost of auth). The "variants" lines give each
// variant's throughput over the plain run's in the same round, and the median of those ratios
// (issue 16: tracing at 10% and 100% to a local or dead OTLP endpoint, and metrics scraped every
// second):
//   --variant 'trace10:--otlp-endpoint http://127.0.0.1:9/v1/traces --trace-sample-ratio 0.1'
//   --variant 'scrape1s:@scrape=1000'
//   --variant 'jwt:--auth jwt --jwt-hs256-secret-file S @bearer-file=TOKEN'
//
// The phase "ingest" (not in the default set) sends upserts only (one row each, with its own
// vector and metadata) over --connections connections.
// --make-kit N first writes a synthetic kit of N rows to --data (synthetic_kit.h); without
// gt_<metric>.ivecs in the kit the ground truth is computed here by brute force (small kits).
//
// Exit status: 0 fine; 1 a check failed (recall below the floor, a request failed, the server
// did not start or did not stop cleanly); 2 bad arguments or a missing or malformed data file.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <phenix/db.h>
#include <phenix/phenixql.h>
#include <phenix/search.h>

#include "../e2e/bench_args.h"
#include "../e2e/bench_output.h"
#include "../e2e/kit_files.h"
#include "../e2e/process_stats.h"
#include "../e2e/synthetic_kit.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
namespace kit = phenix::bench_kit;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using phenix::bench_output::Clock;
using phenix::bench_output::Fixed;
using phenix::bench_output::kExitBadInput;
using phenix::bench_output::kExitCheckFailed;
using phenix::bench_output::Percentile;
using phenix::bench_output::Round;
using phenix::bench_output::Seconds;
using phenix::bench_process::CpuModel;
using phenix::bench_process::CpuSeconds;
using phenix::bench_process::LoadAverage;
using phenix::bench_process::UtcNow;
using Json = nlohmann::ordered_json;

constexpr phenix::bench_output::Console kConsole("server_bench");
constexpr const char* kCollection = "kit";
constexpr const char* kMarkerFile = "server-bench-kit.json";
constexpr std::size_t kK = 10;
constexpr std::size_t kLoadBatch = 5000;
constexpr std::uint64_t kRngSeed = 20261207;
constexpr double kTargetSearchRatio = 0.7;
constexpr double kTargetAddedP50Us = 60;
constexpr double kTargetGetPerSecond = 20000;
constexpr unsigned kUpsertPercent = 10;

#ifndef PHENIX_BENCH_PHENIXD
#define PHENIX_BENCH_PHENIXD "phenixd"
#endif

struct Args {
    std::string data;
    std::string db = "/tmp/phenix-server-bench-db";
    std::string metric = "l2";
    std::string phenixd = PHENIX_BENCH_PHENIXD;
    std::string url;
    std::size_t connections = 64;
    double seconds = 10;
    double warmup = 1;
    std::size_t latency_requests = 2000;
    std::size_t workers = std::max(1U, std::thread::hardware_concurrency());
    std::size_t io_threads = 2;
    std::uint32_t ef = 64;
    double recall_floor = 0.95;
    std::string access_log = "true";
    std::string compare_access_log;  // --access-log of the --compare-phenixd runs (default: same)
    std::set<std::string> phases = {"get", "search", "mix", "latency"};
    bool reload = false;
    std::size_t make_kit = 0;
    std::string compare_phenixd;  // a second binary, run after each run of --phenixd
    // More phenixd arguments (split at spaces) of the runs of --phenixd and of --compare-phenixd
    // (tracing's overhead: the same binary with and without --otlp-endpoint).
    std::vector<std::string> server_args;
    std::vector<std::string> compare_server_args;
    std::size_t rounds = 1;
    // --variant: more runs of --phenixd per round, each with its own extra arguments.
    struct Variant {
        std::string name;
        std::vector<std::string> server_args;
        unsigned scrape_ms = 0;  // @scrape=MS: GET /metrics this often during the phases
        std::string bearer;      // @bearer-file=PATH: the token the load sends (the cost of auth)
    };
    std::vector<Variant> variants;
    std::string bearer;  // --bearer-file: the token of the runs that are not a variant with one

    [[nodiscard]] bool Has(const std::string& phase) const { return phases.contains(phase); }
};

const char* const kUsage =
    "usage: phenix_server_bench --data KIT_DIR [--db DIR] [--metric l2|cos]\n"
    "  [--phenixd PATH | --url http://HOST:PORT] [--connections 64] [--seconds 10] [--warmup 1]\n"
    "  [--latency-requests 2000] [--workers N] [--io-threads 2] [--ef 64] [--recall-floor 0.95]\n"
    "  [--access-log true|false] [--phases get,search,mix,latency] [--reload] [--make-kit N]\n"
    "  [--compare-phenixd PATH] [--compare-access-log true|false] [--rounds 1]\n"
    "  [--server-args 'ARGS'] [--compare-server-args 'ARGS'] [--variant 'NAME:ARGS']...\n"
    "  [--bearer-file PATH]\n"
    "  phases also: ingest (upserts only)\n";

std::vector<std::string> SplitArgs(std::string_view text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t end = std::min(text.find(' ', pos), text.size());
        if (end > pos) {
            out.emplace_back(text.substr(pos, end - pos));
        }
        pos = end + 1;
    }
    return out;
}

// The first line of a token file, without trailing white space.
std::string ReadToken(phenix::bench_args::ArgReader& reader, const std::string& path) {
    std::ifstream in(path);
    std::string token;
    std::getline(in, token);
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())) != 0) {
        token.pop_back();
    }
    if (token.empty()) {
        reader.Fail("no token in '" + path + "' (a bearer token file: one line)");
    }
    return token;
}

Args ParseArgs(int argc, char** argv) {
    Args args;
    phenix::bench_args::ArgReader reader(
        kConsole, argc, argv, phenix::bench_args::ValueForm::kEqualsOrNext, {"reload"}, kUsage);
    while (reader.Next()) {
        const std::string_view key = reader.key();
        if (reader.IsFlag("reload")) {
            args.reload = true;
        } else if (key == "data") {
            args.data = phenix::bench_args::WithoutTrailingSlash(std::string(reader.value()));
        } else if (key == "db") {
            args.db = phenix::bench_args::WithoutTrailingSlash(std::string(reader.value()));
        } else if (key == "metric") {
            args.metric = reader.value();
        } else if (key == "phenixd") {
            args.phenixd = reader.value();
        } else if (key == "url") {
            args.url = reader.value();
        } else if (key == "connections") {
            args.connections = reader.Number<std::size_t>();
        } else if (key == "seconds") {
            args.seconds = reader.Number<double>();
        } else if (key == "warmup") {
            args.warmup = reader.Number<double>();
        } else if (key == "latency-requests") {
            args.latency_requests = reader.Number<std::size_t>();
        } else if (key == "workers") {
            args.workers = reader.Number<std::size_t>();
        } else if (key == "io-threads") {
            args.io_threads = reader.Number<std::size_t>();
        } else if (key == "ef") {
            args.ef = reader.Number<std::uint32_t>();
        } else if (key == "recall-floor") {
            args.recall_floor = reader.Number<double>();
        } else if (key == "access-log") {
            args.access_log = reader.value();
        } else if (key == "compare-access-log") {
            args.compare_access_log = reader.value();
        } else if (key == "phases") {
            args.phases = reader.Choices({"get", "search", "mix", "ingest", "latency"}, "phase");
        } else if (key == "server-args") {
            args.server_args = SplitArgs(reader.value());
        } else if (key == "compare-server-args") {
            args.compare_server_args = SplitArgs(reader.value());
        } else if (key == "variant") {
            const std::string spec(reader.value());
            const std::size_t colon = spec.find(':');
            if (colon == 0 || colon == std::string::npos) {
                reader.Fail("--variant takes NAME:ARGS, not '" + spec + "'");
            }
            Args::Variant variant{.name = spec.substr(0, colon)};
            if (variant.name == "a" || variant.name == "b") {
                reader.Fail("--variant names a and b are the plain and --compare-phenixd runs");
            }
            for (std::string& token : SplitArgs(std::string_view(spec).substr(colon + 1))) {
                if (token.starts_with("@scrape=")) {
                    const std::string ms = token.substr(std::string_view("@scrape=").size());
                    char* end = nullptr;
                    const unsigned long value = std::strtoul(ms.c_str(), &end, 10);
                    if (ms.empty() || *end != '\0' || value == 0) {
                        reader.Fail("@scrape= takes milliseconds, not '" + ms + "'");
                    }
                    variant.scrape_ms = static_cast<unsigned>(value);
                } else if (token.starts_with("@bearer-file=")) {
                    variant.bearer =
                        ReadToken(reader, token.substr(std::string_view("@bearer-file=").size()));
                } else {
                    variant.server_args.push_back(std::move(token));
                }
            }
            args.variants.push_back(std::move(variant));
        } else if (key == "bearer-file") {
            args.bearer = ReadToken(reader, std::string(reader.value()));
        } else if (key == "compare-phenixd") {
            args.compare_phenixd = reader.value();
        } else if (key == "rounds") {
            args.rounds = std::max<std::size_t>(1, reader.Number<std::size_t>());
        } else if (key == "make-kit") {
            args.make_kit = reader.Number<std::size_t>();
        } else {
            reader.Unknown();
        }
    }
    if (args.data.empty()) {
        reader.Fail("--data is required");
    }
    phenix::bench_args::RequireMetric(kConsole, args.metric);
    if (args.connections == 0 || args.workers == 0 || args.io_threads == 0) {
        reader.Fail("--connections, --workers and --io-threads must be at least 1");
    }
    if (args.compare_access_log.empty()) {
        args.compare_access_log = args.access_log;
    }
    if ((args.access_log != "true" && args.access_log != "false") ||
        (args.compare_access_log != "true" && args.compare_access_log != "false")) {
        reader.Fail("--access-log takes true or false");
    }
    if (!args.url.empty() && !args.url.starts_with("http://")) {
        reader.Fail("--url must be http://HOST:PORT");
    }
    return args;
}

// ---------------------------------------------------------------------------------------------
// The server process

// VmRSS and VmHWM of a process (bytes; 0 if unknown).
struct Rss {
    std::uint64_t rss = 0;
    std::uint64_t hwm = 0;
};

Rss ReadRss(pid_t pid) {
    Rss out;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("VmRSS:")) {
            out.rss = static_cast<std::uint64_t>(std::atoll(line.c_str() + 6)) * 1024;
        } else if (line.starts_with("VmHWM:")) {
            out.hwm = static_cast<std::uint64_t>(std::atoll(line.c_str() + 6)) * 1024;
        }
    }
    return out;
}

// User + system CPU seconds of a process (/proc/PID/stat fields 14 and 15); 0 if unknown.
double ProcessCpuSeconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto paren = text.rfind(')');
    if (paren == std::string::npos) {
        return 0;
    }
    std::string_view rest = std::string_view(text).substr(paren + 2);
    // Fields after the name start at field 3 (state); utime is field 14, stime 15.
    unsigned long long values[2] = {0, 0};
    for (int field = 3; field <= 15 && !rest.empty(); ++field) {
        const auto space = rest.find(' ');
        const std::string_view token = rest.substr(0, space);
        if (field >= 14) {
            std::from_chars(token.data(), token.data() + token.size(), values[field - 14]);
        }
        rest.remove_prefix(space == std::string_view::npos ? rest.size() : space + 1);
    }
    return static_cast<double>(values[0] + values[1]) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// phenixd as a child process: started on port 0, its listening line read from its stdout,
// stopped with SIGTERM (it must exit 0).
class ServerProcess {
  public:
    ~ServerProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

    // Starts `binary` and returns "HOST:PORT" once it listens.
    std::string Start(const std::string& binary, const std::vector<std::string>& flags,
                      const std::string& log_path) {
        int out_pipe[2];
        if (::pipe(out_pipe) != 0) {
            kConsole.Fail(kExitCheckFailed, "pipe failed");
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        std::vector<std::string> storage = {binary};
        storage.insert(storage.end(), flags.begin(), flags.end());
        std::vector<char*> argv;
        for (std::string& arg : storage) {
            argv.push_back(arg.data());
        }
        argv.push_back(nullptr);
        const int spawned =
            posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out_pipe[1]);
        if (spawned != 0) {
            pid_ = 0;
            ::close(out_pipe[0]);
            kConsole.Fail(kExitCheckFailed,
                          "cannot start " + binary + ": " + std::strerror(spawned));
        }
        std::string line;
        char c = 0;
        while (::read(out_pipe[0], &c, 1) == 1 && c != '\n') {
            line += c;
        }
        ::close(out_pipe[0]);  // phenixd prints nothing else on stdout
        constexpr std::string_view kPrefix = "phenixd: http listening on ";
        if (!line.starts_with(kPrefix)) {
            kConsole.Fail(kExitCheckFailed,
                          "phenixd did not start (see " + log_path + "): '" + line + "'");
        }
        return line.substr(kPrefix.size());
    }

    [[nodiscard]] pid_t pid() const { return pid_; }

    // SIGTERM, then the exit status (false unless it exited 0 within `timeout`).
    bool Stop(std::chrono::seconds timeout) {
        ::kill(pid_, SIGTERM);
        const auto start = Clock::now();
        int status = 0;
        while (::waitpid(pid_, &status, WNOHANG) == 0) {
            if (Clock::now() - start > timeout) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
                pid_ = 0;
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        pid_ = 0;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }

  private:
    pid_t pid_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Requests

// The text of `value` that reads back as the same float (shortest round trip).
void AppendFloat(std::string& out, float value) {
    char text[32];
    const auto [ptr, ec] = std::to_chars(text, text + sizeof text, value);
    out.append(text, ec == std::errc() ? ptr : text);
}

std::string VectorJson(std::span<const float> vector) {
    std::string out = "[";
    for (std::size_t dim = 0; dim < vector.size(); ++dim) {
        if (dim > 0) {
            out += ',';
        }
        AppendFloat(out, vector[dim]);
    }
    return out + "]";
}

// The ids of a search answer ({"results":[{"id":"12",...},...]}), in order. Rows are decimal
// ids; anything else reads as nullopt (a failed check).
std::optional<std::vector<std::uint32_t>> ResultIds(std::string_view body) {
    constexpr std::string_view kKey = "\"id\":\"";
    std::vector<std::uint32_t> ids;
    std::size_t pos = 0;
    while ((pos = body.find(kKey, pos)) != std::string_view::npos) {
        pos += kKey.size();
        const auto end = body.find('"', pos);
        if (end == std::string_view::npos) {
            return std::nullopt;
        }
        const auto row = kit::ParseRow(body.substr(pos, end - pos));
        if (!row) {
            return std::nullopt;
        }
        ids.push_back(*row);
        pos = end;
    }
    return ids;
}

enum class Op { kGet, kSearch, kUpsert };

// What the driver knows of the kit and the ground truth.
struct Workload {
    kit::Matrix<float> base;
    kit::Matrix<float> queries;
    std::vector<std::vector<std::uint32_t>> gt;  // top-k ids per query
    std::vector<std::string> meta;               // meta.jsonl lines
    std::vector<std::string> search_bodies;      // one per query
    std::vector<std::uint32_t> get_ids;          // random rows, the same sequence for every run
    std::uint32_t ef = 64;

    [[nodiscard]] std::size_t n() const { return base.rows; }

    [[nodiscard]] std::string UpsertBody(std::uint32_t row) const {
        return "{\"entities\":[{\"id\":\"" + std::to_string(row) +
               "\",\"vector\":" + VectorJson(base.Row(row)) + ",\"metadata\":" + meta[row] + "}]}";
    }
};

// recall@k of `answers` (nullopt: not answered) against the ground truth; the mean over the
// answered queries, and how many were answered.
std::pair<double, std::size_t> Recall(
    const Workload& work, const std::vector<std::optional<std::vector<std::uint32_t>>>& answers) {
    double total = 0;
    std::size_t answered = 0;
    for (std::size_t query = 0; query < answers.size(); ++query) {
        if (!answers[query]) {
            continue;
        }
        const auto& got = *answers[query];
        const auto& truth = work.gt[query];
        std::size_t hits = 0;
        for (std::size_t idx = 0; idx < std::min(kK, got.size()); ++idx) {
            const auto end = truth.begin() + static_cast<std::ptrdiff_t>(kK);
            if (std::find(truth.begin(), end, got[idx]) != end) {
                ++hits;
            }
        }
        total += static_cast<double>(hits) / static_cast<double>(kK);
        ++answered;
    }
    return {answered == 0 ? 0.0 : total / static_cast<double>(answered), answered};
}

// Latency percentiles of one run (microseconds).
Json LatencyJson(const std::vector<double>& micros) {
    Json out;
    out["p50_us"] = Round(Percentile(micros, 0.50), 1);
    out["p99_us"] = Round(Percentile(micros, 0.99), 1);
    out["p999_us"] = Round(Percentile(micros, 0.999), 1);
    out["max_us"] =
        Round(micros.empty() ? 0.0 : *std::max_element(micros.begin(), micros.end()), 1);
    return out;
}

// ---------------------------------------------------------------------------------------------
// The HTTP load driver: `connections` keep-alive connections as coroutines on one io_context.

struct LoadStats {
    double window_seconds = 0;
    std::size_t completed = 0;      // responses inside the measurement window
    std::size_t responses = 0;      // every response (warm-up included), for CPU per request
    std::vector<double> micros[3];  // by Op, inside the window
    std::map<std::string, std::uint64_t> by_status;  // every response and transport error
    std::uint64_t errors = 0;                        // non-2xx, transport errors, bad bodies
    std::vector<std::optional<std::vector<std::uint32_t>>> answers;  // per query, first answer
    std::uint64_t bad_bodies = 0;
    std::string first_error;
};

class LoadDriver {
  public:
    // `upsert_percent` of the requests are upserts, the rest `op`. Runs until `seconds` passed
    // after `warmup` and at least `min_requests` were sent.
    LoadDriver(const Workload& work, tcp::endpoint endpoint, std::size_t connections, Op op,
               unsigned upsert_percent, double warmup, double seconds, std::size_t min_requests,
               std::string bearer)
        : work_(work),
          endpoint_(std::move(endpoint)),
          connections_(connections),
          op_(op),
          upsert_percent_(upsert_percent),
          warmup_(warmup),
          seconds_(seconds),
          min_requests_(min_requests),
          authorization_(bearer.empty() ? std::string() : "Bearer " + bearer) {
        stats_.answers.resize(work.queries.rows);
    }

    LoadStats Run() {
        start_ = Clock::now();
        measure_from_ = start_ + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(warmup_));
        for (std::size_t conn = 0; conn < connections_; ++conn) {
            asio::co_spawn(io_, Connection(), asio::detached);
        }
        io_.run();
        stats_.window_seconds = std::chrono::duration<double>(measure_end_ - measure_from_).count();
        return std::move(stats_);
    }

  private:
    struct Next {
        Op op;
        std::size_t index;  // query index, or row
    };

    // The next request, or nullopt once the run is over.
    std::optional<Next> Take() {
        const auto now = Clock::now();
        if (now >= measure_from_ + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(seconds_)) &&
            issued_ >= min_requests_) {
            if (!done_) {
                done_ = true;
                measure_end_ = now;
            }
            return std::nullopt;
        }
        const std::size_t seq = issued_++;
        if (upsert_percent_ > 0 && seq % 100 < upsert_percent_) {
            return Next{Op::kUpsert, work_.get_ids[(seq / 100) % work_.get_ids.size()]};
        }
        if (op_ == Op::kGet) {
            return Next{Op::kGet, work_.get_ids[seq % work_.get_ids.size()]};
        }
        return Next{Op::kSearch, search_seq_++ % work_.queries.rows};
    }

    void Fail(const std::string& what) {
        ++stats_.errors;
        if (stats_.first_error.empty()) {
            stats_.first_error = what;
        }
    }

    void Record(const Next& next, Clock::time_point sent, unsigned status,
                const std::string& body) {
        const auto now = Clock::now();
        ++stats_.by_status[std::to_string(status)];
        ++stats_.responses;
        if (status / 100 != 2) {
            Fail("HTTP " + std::to_string(status) + ": " + body.substr(0, 300));
        } else if (next.op == Op::kGet) {
            const std::string expect = "\"id\":\"" + std::to_string(next.index) + "\"";
            if (body.find(expect) == std::string::npos) {
                ++stats_.bad_bodies;
                Fail("GET answered another entity: " + body.substr(0, 200));
            }
        } else if (next.op == Op::kSearch) {
            auto ids = ResultIds(body);
            if (!ids || ids->size() != kK) {
                ++stats_.bad_bodies;
                Fail("search answer without " + std::to_string(kK) +
                     " decimal ids: " + body.substr(0, 200));
            } else if (!stats_.answers[next.index]) {
                stats_.answers[next.index] = std::move(*ids);
            }
        }
        if (sent >= measure_from_ && !done_) {
            ++stats_.completed;
            stats_.micros[static_cast<int>(next.op)].push_back(
                std::chrono::duration<double, std::micro>(now - sent).count());
        }
    }

    asio::awaitable<void> Connection() {
        beast::tcp_stream stream(co_await asio::this_coro::executor);
        beast::error_code ec;
        beast::flat_buffer buffer;
        bool connected = false;
        const std::string host =
            endpoint_.address().to_string() + ":" + std::to_string(endpoint_.port());
        while (auto next = Take()) {
            if (!connected) {
                co_await stream.async_connect(endpoint_,
                                              asio::redirect_error(asio::use_awaitable, ec));
                if (ec) {
                    ++stats_.by_status["connect:" + ec.message()];
                    Fail("connect: " + ec.message());
                    co_return;
                }
                stream.socket().set_option(tcp::no_delay(true), ec);
                connected = true;
            }
            http::request<http::string_body> request;
            request.version(11);
            request.set(http::field::host, host);
            request.keep_alive(true);
            if (!authorization_.empty()) {
                request.set(http::field::authorization, authorization_);
            }
            if (next->op == Op::kGet) {
                request.method(http::verb::get);
                request.target("/v1/collections/kit/entities/" + std::to_string(next->index));
            } else {
                request.method(http::verb::post);
                request.set(http::field::content_type, "application/json");
                if (next->op == Op::kSearch) {
                    request.target("/v1/collections/kit/search");
                    request.body() = work_.search_bodies[next->index];
                } else {
                    request.target("/v1/collections/kit/entities");
                    request.body() = work_.UpsertBody(static_cast<std::uint32_t>(next->index));
                }
                request.prepare_payload();
            }
            const auto sent = Clock::now();
            co_await http::async_write(stream, request,
                                       asio::redirect_error(asio::use_awaitable, ec));
            http::response<http::string_body> response;
            if (!ec) {
                co_await http::async_read(stream, buffer, response,
                                          asio::redirect_error(asio::use_awaitable, ec));
            }
            if (ec) {
                ++stats_.by_status["transport:" + ec.message()];
                Fail("transport: " + ec.message());
                stream.socket().close(ec);
                buffer.clear();
                connected = false;
                continue;
            }
            Record(*next, sent, response.result_int(), response.body());
            if (!response.keep_alive()) {
                stream.socket().close(ec);
                buffer.clear();
                connected = false;
            }
        }
    }

    const Workload& work_;
    const tcp::endpoint endpoint_;
    const std::size_t connections_;
    const Op op_;
    const unsigned upsert_percent_;
    const double warmup_;
    const double seconds_;
    const std::size_t min_requests_;
    const std::string authorization_;  // empty: none
    asio::io_context io_{1};
    Clock::time_point start_;
    Clock::time_point measure_from_;
    Clock::time_point measure_end_;
    std::size_t issued_ = 0;
    std::size_t search_seq_ = 0;
    bool done_ = false;
    LoadStats stats_;
};

// One blocking request (readiness polls).
struct Reply {
    unsigned status = 0;
    std::string body;
};

std::optional<Reply> Fetch(const tcp::endpoint& endpoint, const std::string& target) {
    asio::io_context io;
    beast::tcp_stream stream(io);
    beast::error_code ec;
    stream.connect(endpoint, ec);
    if (ec) {
        return std::nullopt;
    }
    http::request<http::empty_body> request(http::verb::get, target, 11);
    request.set(http::field::host, "bench");
    http::write(stream, request, ec);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    if (!ec) {
        http::read(stream, buffer, response, ec);
    }
    if (ec) {
        return std::nullopt;
    }
    return Reply{response.result_int(), std::move(response.body())};
}

std::optional<unsigned> GetStatus(const tcp::endpoint& endpoint, const std::string& target) {
    auto reply = Fetch(endpoint, target);
    return reply ? std::optional<unsigned>(reply->status) : std::nullopt;
}

// The collection's vector_index.tail_length (committed rows the index has not absorbed), or
// nullopt if the answer has none.
std::optional<std::uint64_t> TailLength(const tcp::endpoint& endpoint) {
    auto reply = Fetch(endpoint, std::string("/v1/collections/") + kCollection);
    if (!reply || reply->status != 200) {
        return std::nullopt;
    }
    const Json body = Json::parse(reply->body, nullptr, false);
    if (!body.is_object() || !body.contains("vector_index") ||
        !body["vector_index"].contains("tail_length")) {
        return std::nullopt;
    }
    return body["vector_index"]["tail_length"].get<std::uint64_t>();
}

tcp::endpoint ParseEndpoint(const std::string& host_port) {
    const auto colon = host_port.rfind(':');
    std::string host = host_port.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[') {
        host = host.substr(1, host.size() - 2);
    }
    unsigned short port = 0;
    const std::string port_text = colon == std::string::npos ? "" : host_port.substr(colon + 1);
    const auto [ptr, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    beast::error_code address_ec;
    const auto address = asio::ip::make_address(host, address_ec);
    if (ec != std::errc() || port_text.empty() || address_ec) {
        kConsole.Fail(kExitBadInput, "bad HOST:PORT '" + host_port + "' (a numeric address)");
    }
    return {address, port};
}

// ---------------------------------------------------------------------------------------------

// The numbers of one run (REST or embedded) that the summary compares.
struct Numbers {
    double get_per_second = 0;
    double search_per_second = 0;
    double mix_per_second = 0;
    double ingest_per_second = 0;
    double mix_cpu_us = 0;  // phenixd's CPU per response in those phases
    double ingest_cpu_us = 0;
    double recall = 0;
    double search_p50_us = 0;
    double get_cpu_us = 0;  // CPU time per call: embedded, this process; REST, phenixd's
    double search_cpu_us = 0;
    double get_p50_us = 0;
    // Embedded only: the searches through QuerySession::ExecuteJson.
    double json_search_per_second = 0;
    double json_search_cpu_us = 0;
    double json_search_p50_us = 0;
};

// GET /metrics every `interval_ms` on its own thread until Stop (0: does nothing): what a
// Prometheus server scraping phenixd costs it.
class Scraper {
  public:
    struct Counts {
        std::size_t done = 0;
        std::size_t failed = 0;
        std::size_t bytes = 0;
    };
    Scraper(const tcp::endpoint& endpoint, unsigned interval_ms) {
        if (interval_ms == 0) {
            return;
        }
        thread_ = std::thread([this, endpoint, interval_ms] {
            auto next = Clock::now();
            while (!stop_.load()) {
                const std::optional<Reply> reply = Fetch(endpoint, "/metrics");
                if (reply.has_value() && reply->status == 200) {
                    ++counts_.done;
                    counts_.bytes += reply->body.size();
                } else {
                    ++counts_.failed;
                }
                next += std::chrono::milliseconds(interval_ms);
                while (!stop_.load() && Clock::now() < next) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                }
            }
        });
    }
    ~Scraper() { Stop(); }
    Scraper(const Scraper&) = delete;
    Scraper& operator=(const Scraper&) = delete;

    Counts Stop() {
        stop_.store(true);
        if (thread_.joinable()) {
            thread_.join();
        }
        return counts_;
    }

  private:
    std::atomic<bool> stop_{false};
    Counts counts_;  // written by the thread; read after the join
    std::thread thread_;
};

class Bench {
  public:
    explicit Bench(Args args) : args_(std::move(args)) {}

    int Run() {
        if (args_.make_kit != 0) {
            const std::size_t edges = kit::WriteSyntheticKit(
                args_.data, args_.make_kit,
                {.rng_seed = kRngSeed,
                 .num_queries = 100,
                 .filters_note = "synthetic smoke kit from phenix_server_bench --make-kit"});
            kConsole.Log("make-kit: wrote " + std::to_string(args_.make_kit) + " rows (" +
                         std::to_string(edges) + " edges, unused) to " + args_.data);
        }
        ReadKit();
        EmitContext();
        const bool attach = !args_.url.empty();
        if (!attach) {
            Load();
        }
        for (std::size_t round = 0; round < args_.rounds; ++round) {
            round_ = round;
            if (!attach) {
                Embedded();  // every round: the machine's load drifts
            }
            // Alternate which binary goes first: the first after the baseline ran in a
            // different state of the page cache and of the machine.
            const bool b_first = round % 2 == 1 && !args_.compare_phenixd.empty() && !attach;
            if (b_first) {
                Serve(attach, args_.compare_phenixd, "b");
            }
            // The plain run and the variants, in an order that rotates from round to round.
            std::vector<std::string> labels = {"a"};
            if (!attach) {
                for (const Args::Variant& variant : args_.variants) {
                    labels.push_back(variant.name);
                }
            }
            std::rotate(labels.begin(),
                        labels.begin() + static_cast<std::ptrdiff_t>(round % labels.size()),
                        labels.end());
            for (const std::string& label : labels) {
                Serve(attach, args_.phenixd, label);
            }
            if (!args_.compare_phenixd.empty() && !attach && !b_first) {
                Serve(attach, args_.compare_phenixd, "b");
            }
        }
        label_.clear();
        Summary();
        if (failures_ > 0) {
            kConsole.Log(std::to_string(failures_) + " check(s) failed");
            return kExitCheckFailed;
        }
        kConsole.Log("all checks passed in " + Fixed(Seconds(start_), 1) + " s");
        return 0;
    }

  private:
    using Line = phenix::bench_output::JsonLine<Json>;

    Line Head(std::string_view phase) const {
        Json body;
        body["lib"] = "phenix-server";
        body["phase"] = phase;
        body["kit"] = fs::path(args_.data).filename().string();
        if (!label_.empty()) {
            body["server"] = label_;
            body["round"] = round_;
        }
        return Line(std::move(body));
    }

    void Fault(const std::string& what) {
        ++failures_;
        kConsole.Log("CHECK FAILED: " + what);
    }

    bool Cosine() const { return args_.metric == "cos"; }

    void ReadKit() {
        const std::string dir = args_.data + "/";
        work_.base = kit::ReadVecs<float>(dir + "base.fvecs");
        work_.queries = kit::ReadVecs<float>(dir + "query.fvecs");
        work_.meta = kit::ReadLines(dir + "meta.jsonl");
        if (work_.meta.size() != work_.base.rows || work_.queries.dim != work_.base.dim) {
            throw kit::KitError(args_.data + ": meta.jsonl, base.fvecs and query.fvecs disagree");
        }
        const std::string gt_path = dir + "gt_" + args_.metric + ".ivecs";
        if (fs::exists(gt_path)) {
            const auto gt = kit::ReadVecs<std::int32_t>(gt_path);
            if (gt.rows != work_.queries.rows || gt.dim < kK) {
                throw kit::KitError(gt_path + ": not " + std::to_string(kK) + "+ ids per query");
            }
            for (std::size_t query = 0; query < gt.rows; ++query) {
                const auto row = gt.Row(query);
                work_.gt.emplace_back(row.begin(), row.begin() + kK);
            }
        } else {
            BruteForceTruth();
        }
        work_.ef = args_.ef;
        for (std::size_t query = 0; query < work_.queries.rows; ++query) {
            work_.search_bodies.push_back("{\"vector\":" + VectorJson(work_.queries.Row(query)) +
                                          ",\"k\":" + std::to_string(kK) +
                                          ",\"ef\":" + std::to_string(args_.ef) + "}");
        }
        std::mt19937_64 rng(kRngSeed);
        std::uniform_int_distribution<std::uint32_t> pick(
            0, static_cast<std::uint32_t>(work_.n() - 1));
        work_.get_ids.resize(std::max<std::size_t>(work_.n(), 100000));
        for (auto& id : work_.get_ids) {
            id = pick(rng);
        }
    }

    void BruteForceTruth() {
        if (work_.n() > 50000) {
            throw kit::KitError(args_.data + ": no gt_" + args_.metric +
                                ".ivecs, and too many rows to compute it here");
        }
        kConsole.Log("no gt_" + args_.metric + ".ivecs: brute-force ground truth");
        for (std::size_t query = 0; query < work_.queries.rows; ++query) {
            std::vector<std::pair<double, std::uint32_t>> scored;
            scored.reserve(work_.n());
            for (std::size_t row = 0; row < work_.n(); ++row) {
                scored.emplace_back(
                    kit::TrueDistance(work_.queries.Row(query), work_.base.Row(row), Cosine()),
                    static_cast<std::uint32_t>(row));
            }
            std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(kK),
                              scored.end());
            std::vector<std::uint32_t> ids;
            for (std::size_t idx = 0; idx < kK; ++idx) {
                ids.push_back(scored[idx].second);
            }
            work_.gt.push_back(std::move(ids));
        }
    }

    void EmitContext() const {
        Head("context")
            .Set("date", UtcNow())
            .Set("cpu", CpuModel())
            .Set("hardware_threads", std::thread::hardware_concurrency())
            .Set("load_average_1m", LoadAverage())
            .Set("n", work_.n())
            .Set("dim", work_.base.dim)
            .Set("queries", work_.queries.rows)
            .Set("metric", args_.metric)
            .Set("k", kK)
            .Set("ef", args_.ef)
            .Set("connections", args_.connections)
            .Set("workers", args_.workers)
            .Set("io_threads", args_.io_threads)
            .Set("access_log", args_.access_log == "true")
            .Set("seconds", args_.seconds)
            .Set("warmup_seconds", args_.warmup)
            .Set("client_threads", 1)
            .Emit();
    }

    // ---- load (cached)

    [[nodiscard]] Json Marker() const {
        std::error_code ec;
        Json marker;
        marker["kit"] = fs::absolute(args_.data).string();
        marker["n"] = work_.n();
        marker["dim"] = work_.base.dim;
        marker["metric"] = args_.metric;
        marker["base_bytes"] = fs::file_size(args_.data + "/base.fvecs", ec);
        marker["meta_bytes"] = fs::file_size(args_.data + "/meta.jsonl", ec);
        return marker;
    }

    void Load() {
        const std::string marker_path = args_.db + "/" + kMarkerFile;
        const Json marker = Marker();
        if (!args_.reload && fs::exists(marker_path)) {
            const Json existing = Json::parse(kit::ReadText(marker_path), nullptr, false);
            if (existing == marker) {
                kConsole.Log("reusing the loaded database in " + args_.db);
                Head("load").Set("cached", true).Set("db", args_.db).Emit();
                return;
            }
        }
        std::error_code ec;
        fs::remove_all(args_.db, ec);
        if (ec) {
            kConsole.Fail(kExitBadInput, "cannot delete " + args_.db + ": " + ec.message());
        }
        auto db = OpenDb(true);
        kConsole.Check(db->CreateCollection(
                           {.ref = kCollection,
                            .dimension = static_cast<std::uint32_t>(work_.base.dim),
                            .metric = Cosine() ? phenix::Metric::kCosine : phenix::Metric::kL2}),
                       "CreateCollection");
        const auto start = Clock::now();
        phenix::WriteBatch batch;
        for (std::size_t first = 0; first < work_.n(); first += kLoadBatch) {
            const std::size_t last = std::min(work_.n(), first + kLoadBatch);
            batch.Clear();
            for (std::size_t row = first; row < last; ++row) {
                const auto vector = work_.base.Row(row);
                batch.Upsert(kCollection, phenix::Entity{.id = std::to_string(row),
                                                         .vector = {vector.begin(), vector.end()},
                                                         .metadata = work_.meta[row]});
            }
            kConsole.Check(db->Write(batch), "Write (rows " + std::to_string(first) + "..)");
        }
        const double write_seconds = Seconds(start);
        auto last_log = Clock::now();
        while (true) {
            const auto info =
                kConsole.Value(db->GetVectorIndexInfo(kCollection), "GetVectorIndexInfo");
            if (info.unindexed_rows == 0) {
                break;
            }
            if (Seconds(last_log) >= 10) {
                last_log = Clock::now();
                kConsole.Log("load: " + std::to_string(info.unindexed_rows) + " rows to index");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        const double index_seconds = Seconds(start);
        kConsole.Check(db->Close(), "Close");
        std::ofstream(marker_path) << marker.dump() << "\n";
        Head("load")
            .Set("cached", false)
            .Set("db", args_.db)
            .Set("write_seconds", Round(write_seconds, 2))
            .Set("indexed_seconds", Round(index_seconds, 2))
            .Emit();
        kConsole.Log("loaded " + std::to_string(work_.n()) + " rows in " + Fixed(index_seconds, 1) +
                     " s (indexed)");
    }

    std::unique_ptr<phenix::Database> OpenDb(bool create) const {
        phenix::Options options;  // phenixd's options (server.cc): the defaults
        options.create_if_missing = create;
        auto opened = phenix::Database::Open(args_.db, options);
        if (!opened.ok()) {
            kConsole.Fail(kExitCheckFailed,
                          "Open(" + args_.db + "): " + opened.status().ToString());
        }
        return std::move(opened).value();
    }

    // ---- embedded baseline

    // `threads` threads calling `call(thread, seq)` for args_.seconds (after the warm-up) and at
    // least `min_calls` times in all; calls per second inside the window.
    struct Rate {
        double per_second = 0;
        double cpu_us_per_call = 0;  // this process's CPU time over every call
    };
    template <typename Call>
    Rate Throughput(std::size_t threads, std::size_t min_calls, Call call) {
        const double cpu_before = CpuSeconds();
        std::atomic<std::size_t> issued{0};
        std::atomic<std::size_t> counted{0};
        std::atomic<bool> stop{false};
        const auto start = Clock::now();
        const auto measure_from = start + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(args_.warmup));
        const auto measure_to = measure_from + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(args_.seconds));
        Clock::time_point end_time;
        std::vector<std::thread> pool;
        std::mutex end_mu;
        for (std::size_t thread_idx = 0; thread_idx < threads; ++thread_idx) {
            pool.emplace_back([&] {
                while (!stop.load()) {
                    const std::size_t seq = issued.fetch_add(1);
                    const auto sent = Clock::now();
                    call(seq);
                    const auto now = Clock::now();
                    if (sent >= measure_from) {
                        counted.fetch_add(1);
                    }
                    if (now >= measure_to && issued.load() >= min_calls && !stop.exchange(true)) {
                        std::lock_guard lock(end_mu);
                        end_time = now;
                    }
                }
            });
        }
        for (auto& thread : pool) {
            thread.join();
        }
        const double window = std::chrono::duration<double>(end_time - measure_from).count();
        return {static_cast<double>(counted.load()) / window,
                (CpuSeconds() - cpu_before) * 1e6 / static_cast<double>(issued.load())};
    }

    void Embedded() {
        auto db = OpenDb(false);
        phenix::SearchOptions options;
        options.k = kK;
        options.ef = args_.ef;
        std::vector<std::optional<std::vector<std::uint32_t>>> answers(work_.queries.rows);
        std::mutex answers_mu;
        std::atomic<std::uint64_t> errors{0};
        const std::size_t nq = work_.queries.rows;

        auto search = [&](std::size_t seq) {
            const std::size_t query = seq % nq;
            auto response = db->Search(kCollection, work_.queries.Row(query), options);
            if (!response.ok()) {
                errors.fetch_add(1);
                return;
            }
            if (seq < nq) {
                std::vector<std::uint32_t> ids;
                for (const auto& hit : response->hits) {
                    ids.push_back(kit::ParseRow(hit.id).value_or(0));
                }
                std::lock_guard lock(answers_mu);
                answers[query] = std::move(ids);
            }
        };
        auto get = [&](std::size_t seq) {
            const std::uint32_t row = work_.get_ids[seq % work_.get_ids.size()];
            auto entity = db->Get(kCollection, std::to_string(row));
            if (!entity.ok()) {
                errors.fetch_add(1);
            }
        };
        // The same searches through the JSON query form (QuerySession::ExecuteJson, a session
        // per call, as the REST handler runs them): REST against this is the HTTP path alone.
        std::vector<std::string> json_queries;
        for (std::size_t query = 0; query < nq; ++query) {
            json_queries.push_back(std::string("{\"collection\":\"") + kCollection + "\"," +
                                   work_.search_bodies[query].substr(1));
        }
        auto json_search = [&](std::size_t seq) {
            phenix::QuerySession session(*db);
            auto result = session.ExecuteJson(json_queries[seq % nq]);
            if (!result.ok() || result->rows.size() != kK) {
                errors.fetch_add(1);
            }
        };
        const Rate get_rate = Throughput(args_.workers, 0, get);
        const Rate search_rate = Throughput(args_.workers, nq, search);
        const Rate json_rate = Throughput(args_.workers, nq, json_search);
        Numbers numbers;
        numbers.get_per_second = get_rate.per_second;
        numbers.get_cpu_us = get_rate.cpu_us_per_call;
        numbers.search_per_second = search_rate.per_second;
        numbers.search_cpu_us = search_rate.cpu_us_per_call;
        const auto [recall, answered] = Recall(work_, answers);
        numbers.recall = recall;

        // One call at a time: the same queries and ids as the single-connection REST run.
        std::vector<double> search_us;
        std::vector<double> get_us;
        for (std::size_t seq = 0; seq < args_.latency_requests; ++seq) {
            auto start = Clock::now();
            search(seq);
            search_us.push_back(
                std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        }
        for (std::size_t seq = 0; seq < args_.latency_requests; ++seq) {
            auto start = Clock::now();
            get(seq);
            get_us.push_back(
                std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        }
        std::vector<double> json_us;
        for (std::size_t seq = 0; seq < args_.latency_requests; ++seq) {
            auto start = Clock::now();
            json_search(seq);
            json_us.push_back(
                std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        }
        numbers.json_search_per_second = json_rate.per_second;
        numbers.json_search_cpu_us = json_rate.cpu_us_per_call;
        numbers.json_search_p50_us = Percentile(json_us, 0.5);
        numbers.search_p50_us = Percentile(search_us, 0.5);
        numbers.get_p50_us = Percentile(get_us, 0.5);
        kConsole.Check(db->Close(), "Close");
        Merge(embedded_, numbers, round_ == 0);
        Head("embedded")
            .Set("round", round_)
            .Set("threads", args_.workers)
            .Set("get_per_second", Round(numbers.get_per_second, 1))
            .Set("get_cpu_us_per_call", Round(get_rate.cpu_us_per_call, 1))
            .Set("search_per_second", Round(numbers.search_per_second, 1))
            .Set("search_cpu_us_per_call", Round(search_rate.cpu_us_per_call, 1))
            .Set("json_search_per_second", Round(json_rate.per_second, 1))
            .Set("json_search_cpu_us_per_call", Round(json_rate.cpu_us_per_call, 1))
            .Set("latency_json_search", LatencyJson(json_us))
            .Set("recall_at_10", Round(recall, 4))
            .Set("recall_queries", answered)
            .Set("errors", errors.load())
            .Set("latency_search", LatencyJson(search_us))
            .Set("latency_get", LatencyJson(get_us))
            .Set("load_average_1m", LoadAverage())
            .Emit();
        kConsole.Log("embedded: get " + Fixed(numbers.get_per_second, 0) + "/s, search " +
                     Fixed(numbers.search_per_second, 0) + "/s (recall " + Fixed(recall, 4) +
                     "), one at a time: search p50 " + Fixed(numbers.search_p50_us, 1) +
                     " us, get p50 " + Fixed(numbers.get_p50_us, 1) + " us");
        if (errors.load() > 0) {
            Fault("embedded calls failed: " + std::to_string(errors.load()));
        }
    }

    // ---- the server

    // Runs the server phases against `binary`; the best numbers of each label over the rounds
    // (highest throughput, lowest p50, lowest recall) go to best_[label].
    void Serve(bool attach, const std::string& binary, const std::string& label) {
        label_ = label;
        rest_ = Numbers{};
        ServeOnce(attach, binary);
        by_round_[label].push_back(rest_);
        auto [it, fresh] = best_.try_emplace(label, rest_);
        Merge(it->second, rest_, fresh);
    }

    // The best of two runs: highest throughput, lowest p50 and CPU time, lowest recall.
    static void Merge(Numbers& best, const Numbers& run, bool first) {
        if (first) {
            best = run;
            return;
        }
        best.get_per_second = std::max(best.get_per_second, run.get_per_second);
        best.search_per_second = std::max(best.search_per_second, run.search_per_second);
        best.mix_per_second = std::max(best.mix_per_second, run.mix_per_second);
        best.ingest_per_second = std::max(best.ingest_per_second, run.ingest_per_second);
        best.recall = std::min(best.recall, run.recall);
        best.search_p50_us = std::min(best.search_p50_us, run.search_p50_us);
        best.get_p50_us = std::min(best.get_p50_us, run.get_p50_us);
        best.get_cpu_us = std::min(best.get_cpu_us, run.get_cpu_us);
        best.search_cpu_us = std::min(best.search_cpu_us, run.search_cpu_us);
        best.json_search_per_second =
            std::max(best.json_search_per_second, run.json_search_per_second);
        best.json_search_cpu_us = std::min(best.json_search_cpu_us, run.json_search_cpu_us);
        best.json_search_p50_us = std::min(best.json_search_p50_us, run.json_search_p50_us);
    }

    void ServeOnce(bool attach, const std::string& binary) {
        std::string address;
        ServerProcess server;
        if (attach) {
            address = args_.url.substr(std::string_view("http://").size());
            while (!address.empty() && address.back() == '/') {
                address.pop_back();
            }
        } else {
            std::vector<std::string> server_args = {
                "--data",       args_.db,
                "--http",       "127.0.0.1:0",
                "--grpc",       "",
                "--workers",    std::to_string(args_.workers),
                "--io-threads", std::to_string(args_.io_threads),
                "--access-log", label_ == "b" ? args_.compare_access_log : args_.access_log};
            const auto& extra = label_ == "b" ? args_.compare_server_args : args_.server_args;
            server_args.insert(server_args.end(), extra.begin(), extra.end());
            if (const Args::Variant* variant = FindVariant(label_); variant != nullptr) {
                server_args.insert(server_args.end(), variant->server_args.begin(),
                                   variant->server_args.end());
            }
            address = server.Start(binary, server_args, args_.db + ".phenixd.log");
        }
        const tcp::endpoint endpoint = ParseEndpoint(address);
        const auto ready_start = Clock::now();
        while (GetStatus(endpoint, "/ready") != 200u) {
            if (Seconds(ready_start) > 600) {
                kConsole.Fail(kExitCheckFailed, "phenixd at " + address + " not ready in 600 s");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        // Upserts of an earlier run's mix may still be in the index's tail after the reopen:
        // the index builder would compete with the first phase.
        while (TailLength(endpoint).value_or(0) > 0 && Seconds(ready_start) < 600) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        const pid_t pid = server.pid();
        const Rss before = pid > 0 ? ReadRss(pid) : Rss{};
        Head("server")
            .Set("address", address)
            .Set("attached", attach)
            .Set("binary", attach ? args_.url : binary)
            .Set("ready_seconds", Round(Seconds(ready_start), 2))
            .Set("rss_bytes", before.rss)
            .Set("hwm_bytes", before.hwm)
            .Emit();
        kConsole.Log("phenixd ready at " + address + " in " + Fixed(Seconds(ready_start), 1) +
                     " s, RSS " + Fixed(static_cast<double>(before.rss) / 1048576.0, 1) + " MiB");

        const std::size_t nq = work_.queries.rows;
        const Args::Variant* variant = FindVariant(label_);
        Scraper scraper(endpoint, variant != nullptr ? variant->scrape_ms : 0);
        if (args_.Has("get")) {
            rest_.get_per_second =
                LoadPhase("get", endpoint, pid, args_.connections, Op::kGet, 0, 0, nullptr);
            rest_.get_cpu_us = last_cpu_us_;
        }
        if (args_.Has("search")) {
            rest_.search_per_second = LoadPhase("search", endpoint, pid, args_.connections,
                                                Op::kSearch, 0, nq, &rest_.recall);
            rest_.search_cpu_us = last_cpu_us_;
        }
        if (args_.Has("mix")) {
            double mix_recall = 0;
            rest_.mix_per_second = LoadPhase("mix", endpoint, pid, args_.connections, Op::kSearch,
                                             kUpsertPercent, nq, &mix_recall);
            rest_.mix_cpu_us = last_cpu_us_;
        }
        if (args_.Has("ingest")) {
            rest_.ingest_per_second =
                LoadPhase("ingest", endpoint, pid, args_.connections, Op::kSearch, 100, 0, nullptr);
            rest_.ingest_cpu_us = last_cpu_us_;
        }
        if (args_.Has("latency")) {
            Latency(endpoint, pid);
        }
        const Scraper::Counts scraped = scraper.Stop();
        if (scraped.failed > 0) {
            Fault(std::to_string(scraped.failed) + " GET /metrics scrape(s) failed");
        }
        const Rss after = pid > 0 ? ReadRss(pid) : Rss{};
        bool stopped = true;
        if (!attach) {
            stopped = server.Stop(std::chrono::seconds(60));
            if (!stopped) {
                Fault("phenixd did not exit 0 after SIGTERM (see " + args_.db + ".phenixd.log)");
            }
        }
        Head("server_after")
            .Set("rss_before_bytes", before.rss)
            .Set("rss_after_bytes", after.rss)
            .Set("hwm_after_bytes", after.hwm)
            .Set("clean_exit", stopped)
            .Set("metrics_scrapes", scraped.done)
            .Set("metrics_bytes", scraped.bytes)
            .Emit();
        if (label_ == "a") {
            rss_before_ = before;
            rss_after_ = after;
        }
    }

    // One load phase; returns requests per second (all kinds) in the measurement window.
    double LoadPhase(std::string_view name, const tcp::endpoint& endpoint, pid_t pid,
                     std::size_t connections, Op op, unsigned upsert_percent,
                     std::size_t min_requests, double* recall_out) {
        const double server_cpu_before = pid > 0 ? ProcessCpuSeconds(pid) : 0;
        const double client_cpu_before = CpuSeconds();
        const double load_before = LoadAverage();
        LoadDriver driver(work_, endpoint, connections, op, upsert_percent, args_.warmup,
                          args_.seconds, min_requests, Bearer());
        LoadStats stats = driver.Run();
        const double server_cpu = pid > 0 ? ProcessCpuSeconds(pid) - server_cpu_before : 0;
        const double client_cpu = CpuSeconds() - client_cpu_before;
        const double per_second =
            static_cast<double>(stats.completed) / std::max(stats.window_seconds, 1e-9);
        const Rss rss = pid > 0 ? ReadRss(pid) : Rss{};
        Line line = Head(name);
        line.Set("connections", connections)
            .Set("requests_per_second", Round(per_second, 1))
            .Set("completed", stats.completed)
            .Set("window_seconds", Round(stats.window_seconds, 3));
        const char* const kOpNames[] = {"get", "search", "upsert"};
        for (int kind = 0; kind < 3; ++kind) {
            if (!stats.micros[kind].empty()) {
                Json latency = LatencyJson(stats.micros[kind]);
                latency["count"] = stats.micros[kind].size();
                line.Set(std::string("latency_") + kOpNames[kind], latency);
            }
        }
        Json statuses = Json::object();
        for (const auto& [status, count] : stats.by_status) {
            statuses[status] = count;
        }
        line.Set("status_counts", statuses).Set("errors", stats.errors);
        if (op == Op::kSearch && upsert_percent < 100) {  // "ingest" searches nothing
            const auto [recall, answered] = Recall(work_, stats.answers);
            line.Set("recall_at_10", Round(recall, 4)).Set("recall_queries", answered);
            if (recall_out != nullptr) {
                *recall_out = recall;
            }
            if (answered < work_.queries.rows) {
                Fault(std::string(name) + ": only " + std::to_string(answered) + " of " +
                      std::to_string(work_.queries.rows) + " queries answered");
            }
            if (recall < args_.recall_floor) {
                Fault(std::string(name) + ": recall@10 " + Fixed(recall, 4) + " < " +
                      Fixed(args_.recall_floor, 2));
            }
        }
        last_cpu_us_ =
            server_cpu * 1e6 / static_cast<double>(std::max<std::size_t>(1, stats.responses));
        line.Set("server_cpu_seconds", Round(server_cpu, 2))
            .Set("server_cpu_us_per_request",
                 Round(server_cpu * 1e6 /
                           static_cast<double>(std::max<std::size_t>(1, stats.responses)),
                       1))
            .Set("client_cpu_seconds", Round(client_cpu, 2))
            .Set("server_rss_bytes", rss.rss)
            .Set("load_average_1m_before", load_before)
            .Set("load_average_1m", LoadAverage())
            .Emit();
        kConsole.Log(std::string(name) + ": " + Fixed(per_second, 0) + " req/s over " +
                     std::to_string(connections) + " connections, " + std::to_string(stats.errors) +
                     " errors");
        if (stats.errors > 0) {
            Fault(std::string(name) + ": " + std::to_string(stats.errors) +
                  " failed requests; first: " + stats.first_error);
        }
        return per_second;
    }

    void Latency(const tcp::endpoint& endpoint, pid_t pid) {
        // One connection, one request at a time, exactly latency_requests of each kind (no
        // time window: every request counts).
        for (const Op op : {Op::kSearch, Op::kGet}) {
            const double server_cpu_before = pid > 0 ? ProcessCpuSeconds(pid) : 0;
            LoadDriver driver(work_, endpoint, 1, op, 0, 0, 0, args_.latency_requests, Bearer());
            LoadStats stats = driver.Run();
            const double server_cpu = pid > 0 ? ProcessCpuSeconds(pid) - server_cpu_before : 0;
            const auto& micros = stats.micros[static_cast<int>(op)];
            const bool is_search = op == Op::kSearch;
            const double p50 = Percentile(micros, 0.5);
            const double embedded_p50 = is_search ? embedded_.search_p50_us : embedded_.get_p50_us;
            (is_search ? rest_.search_p50_us : rest_.get_p50_us) = p50;
            Json statuses = Json::object();
            for (const auto& [status, count] : stats.by_status) {
                statuses[status] = count;
            }
            Line line = Head(is_search ? "latency_search" : "latency_get");
            line.Set("connections", 1)
                .Set("requests", micros.size())
                .Set("latency", LatencyJson(micros))
                .Set("embedded_p50_us", Round(embedded_p50, 1))
                .Set("added_p50_us", Round(p50 - embedded_p50, 1))
                .Set("status_counts", statuses)
                .Set("errors", stats.errors)
                .Set("server_cpu_us_per_request",
                     Round(server_cpu * 1e6 /
                               static_cast<double>(std::max<std::size_t>(1, micros.size())),
                           1));
            if (is_search) {
                const auto [recall, answered] = Recall(work_, stats.answers);
                line.Set("recall_at_10", Round(recall, 4)).Set("recall_queries", answered);
                if (answered > 0 && recall < args_.recall_floor) {
                    Fault("latency_search: recall@10 " + Fixed(recall, 4) + " < floor");
                }
            }
            line.Set("load_average_1m", LoadAverage()).Emit();
            kConsole.Log(std::string(is_search ? "search" : "get") + " on one connection: p50 " +
                         Fixed(p50, 1) + " us (embedded " + Fixed(embedded_p50, 1) + " us)");
            if (stats.errors > 0) {
                Fault("latency run: " + std::to_string(stats.errors) +
                      " failed requests; first: " + stats.first_error);
            }
        }
    }

    void Summary() {
        rest_ = best_["a"];
        auto ratio = [](double num, double den) {
            return den > 0 && num > 0 ? Round(num / den, 3) : -1.0;
        };
        const double search_ratio = ratio(rest_.search_per_second, embedded_.search_per_second);
        const double added_search = rest_.search_p50_us - embedded_.search_p50_us;
        const double added_get = rest_.get_p50_us - embedded_.get_p50_us;
        Json targets;
        targets["search_ratio_min"] = kTargetSearchRatio;
        targets["added_p50_us_max"] = kTargetAddedP50Us;
        targets["get_per_second_min"] = kTargetGetPerSecond;
        Json met;
        // Only what ran (and had its baseline) is judged.
        const bool baseline = args_.url.empty();
        if (baseline && args_.Has("search")) {
            met["search_ratio"] = search_ratio >= kTargetSearchRatio;
        }
        if (baseline && args_.Has("latency")) {
            met["added_p50_search"] = added_search <= kTargetAddedP50Us;
            met["added_p50_get"] = added_get <= kTargetAddedP50Us;
        }
        if (args_.Has("get")) {
            met["get_per_second"] = rest_.get_per_second >= kTargetGetPerSecond;
        }
        Head("summary")
            .Set("rest_get_per_second", Round(rest_.get_per_second, 1))
            .Set("embedded_get_per_second", Round(embedded_.get_per_second, 1))
            .Set("get_ratio", ratio(rest_.get_per_second, embedded_.get_per_second))
            .Set("rest_search_per_second", Round(rest_.search_per_second, 1))
            .Set("embedded_search_per_second", Round(embedded_.search_per_second, 1))
            .Set("search_ratio", search_ratio)
            .Set("rest_recall_at_10", Round(rest_.recall, 4))
            .Set("embedded_recall_at_10", Round(embedded_.recall, 4))
            .Set("rest_mix_per_second", Round(rest_.mix_per_second, 1))
            .Set("embedded_get_cpu_us", Round(embedded_.get_cpu_us, 1))
            .Set("rest_get_cpu_us", Round(rest_.get_cpu_us, 1))
            .Set("embedded_search_cpu_us", Round(embedded_.search_cpu_us, 1))
            .Set("rest_search_cpu_us", Round(rest_.search_cpu_us, 1))
            .Set("search_cpu_ratio", ratio(embedded_.search_cpu_us, rest_.search_cpu_us))
            .Set("get_cpu_ratio", ratio(embedded_.get_cpu_us, rest_.get_cpu_us))
            .Set("embedded_json_search_per_second", Round(embedded_.json_search_per_second, 1))
            .Set("embedded_json_search_cpu_us", Round(embedded_.json_search_cpu_us, 1))
            .Set("search_ratio_to_json_form",
                 ratio(rest_.search_per_second, embedded_.json_search_per_second))
            .Set("added_p50_us_search_over_json_form",
                 Round(rest_.search_p50_us - embedded_.json_search_p50_us, 1))
            .Set("added_p50_us_search", Round(added_search, 1))
            .Set("added_p50_us_get", Round(added_get, 1))
            .Set("server_rss_before_bytes", rss_before_.rss)
            .Set("server_rss_after_bytes", rss_after_.rss)
            .Set("server_hwm_after_bytes", rss_after_.hwm)
            .Set("targets", targets)
            .Set("targets_met", met)
            .Set("failures", failures_)
            .Set("total_seconds", Round(Seconds(start_), 1))
            .Set("load_average_1m", LoadAverage())
            .Emit();
        VariantSummaries();
        if (best_.contains("b")) {
            const Numbers& other = best_["b"];
            Head("compare")
                .Set("a", args_.phenixd)
                .Set("b", args_.compare_phenixd)
                .Set("access_log",
                     Json::array({args_.access_log == "true", args_.compare_access_log == "true"}))
                .Set("rounds", args_.rounds)
                .Set("get_per_second",
                     Json::array({Round(rest_.get_per_second, 1), Round(other.get_per_second, 1)}))
                .Set("search_per_second", Json::array({Round(rest_.search_per_second, 1),
                                                       Round(other.search_per_second, 1)}))
                .Set("mix_per_second",
                     Json::array({Round(rest_.mix_per_second, 1), Round(other.mix_per_second, 1)}))
                .Set("search_p50_us",
                     Json::array({Round(rest_.search_p50_us, 1), Round(other.search_p50_us, 1)}))
                .Set("get_p50_us",
                     Json::array({Round(rest_.get_p50_us, 1), Round(other.get_p50_us, 1)}))
                .Set("get_cpu_us",
                     Json::array({Round(rest_.get_cpu_us, 1), Round(other.get_cpu_us, 1)}))
                .Set("search_cpu_us",
                     Json::array({Round(rest_.search_cpu_us, 1), Round(other.search_cpu_us, 1)}))
                .Set("get_ratio_a_over_b", ratio(rest_.get_per_second, other.get_per_second))
                .Set("search_ratio_a_over_b",
                     ratio(rest_.search_per_second, other.search_per_second))
                .Set("mix_ratio_a_over_b", ratio(rest_.mix_per_second, other.mix_per_second))
                .Emit();
        }
    }

    // The bearer token of the current run's variant (empty: none).
    [[nodiscard]] std::string Bearer() const {
        const Args::Variant* variant = FindVariant(label_);
        return variant != nullptr && !variant->bearer.empty() ? variant->bearer : args_.bearer;
    }

    [[nodiscard]] const Args::Variant* FindVariant(const std::string& label) const {
        for (const Args::Variant& variant : args_.variants) {
            if (variant.name == label) {
                return &variant;
            }
        }
        return nullptr;
    }

    // Each variant against the plain run of the same round: throughput ratios per round and
    // their median (the machine's load drifts between rounds; within one it is closer).
    void VariantSummaries() {
        const std::vector<Numbers>& plain = by_round_["a"];
        for (const Args::Variant& variant : args_.variants) {
            const std::vector<Numbers>& runs = by_round_[variant.name];
            Line line = Head("variants");
            line.Set("variant", variant.name)
                .Set("server_args", variant.server_args)
                .Set("scrape_ms", variant.scrape_ms)
                .Set("rounds", runs.size());
            // Throughput, and phenixd's CPU time per response (steadier on a loaded machine).
            struct Kind {
                const char* phase;
                const char* name;
                double Numbers::*field;
            };
            const Kind kinds[] = {{"get", "get_per_second", &Numbers::get_per_second},
                                  {"search", "search_per_second", &Numbers::search_per_second},
                                  {"mix", "mix_per_second", &Numbers::mix_per_second},
                                  {"ingest", "ingest_per_second", &Numbers::ingest_per_second},
                                  {"get", "get_cpu_us", &Numbers::get_cpu_us},
                                  {"search", "search_cpu_us", &Numbers::search_cpu_us},
                                  {"mix", "mix_cpu_us", &Numbers::mix_cpu_us},
                                  {"ingest", "ingest_cpu_us", &Numbers::ingest_cpu_us}};
            for (const auto& [phase, kind, field] : kinds) {
                if (!args_.Has(phase)) {
                    continue;
                }
                Json per_round = Json::array();
                std::vector<double> ratios;
                for (std::size_t round = 0; round < std::min(plain.size(), runs.size()); ++round) {
                    const double base = plain[round].*field;
                    const double with = runs[round].*field;
                    const double value = base > 0 ? with / base : 0;
                    ratios.push_back(value);
                    per_round.push_back(Json::array({Round(base, 1), Round(with, 1)}));
                }
                std::sort(ratios.begin(), ratios.end());
                const double median =
                    ratios.empty()
                        ? 0
                        : (ratios.size() % 2 == 1
                               ? ratios[ratios.size() / 2]
                               : (ratios[ratios.size() / 2 - 1] + ratios[ratios.size() / 2]) / 2);
                line.Set(std::string(kind) + "_plain_and_variant", per_round)
                    .Set(std::string(kind) + "_ratio_median", Round(median, 3));
            }
            line.Set("load_average_1m", LoadAverage()).Emit();
        }
    }

    Args args_;
    Workload work_;
    Numbers embedded_;
    Numbers rest_;
    std::map<std::string, Numbers> best_;
    std::map<std::string, std::vector<Numbers>> by_round_;  // every run of each label, in order
    std::string label_;
    std::size_t round_ = 0;
    double last_cpu_us_ = 0;  // phenixd's CPU time per response in the last LoadPhase
    Rss rss_before_;
    Rss rss_after_;
    std::size_t failures_ = 0;
    const Clock::time_point start_ = Clock::now();
};

}  // namespace

int main(int argc, char** argv) {
    // A server that goes away mid-write must not kill the driver.
    ::signal(SIGPIPE, SIG_IGN);
    Args args = ParseArgs(argc, argv);
    try {
        return Bench(std::move(args)).Run();
    } catch (const kit::KitError& error) {
        kConsole.Fail(kExitBadInput, error.what());
    }
}
