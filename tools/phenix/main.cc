// SPDX-License-Identifier: Apache-2.0
//
// phenix — the interactive shell of Phenix DB. Opens a data directory in-process, or connects to
// a phenixd server (--url), and runs PhenixQL statements (ended by ';') and `\` meta-commands
// (meta_command.h) from -c arguments, -f script files, a pipe, or a terminal with line editing.
// See docs/shell.md.
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <phenix/db.h>
#include <phenix/encryption.h>
#include <phenix/phenixql.h>

#include "audit_command.h"
#include "backend.h"
#include "client/http_client.h"
#include "line_input.h"
#include "meta_command.h"
#include "output.h"
#include "shell.h"
#include "stats_command.h"

#ifndef PHENIX_SHELL_VERSION
#define PHENIX_SHELL_VERSION "unknown"
#endif

namespace phenix::shell {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

constexpr std::string_view kUsage = R"(Usage: phenix [OPTIONS]
       phenix audit verify DIR [--last-hash HASH]   (check a phenixd audit log; --help)
       phenix stats [--collection NAME] [--data DIR | --url URL] [OPTIONS]
                          (the health summary of SHOW DATABASE STATS / SHOW STATS)

The Phenix DB shell: runs PhenixQL statements (SELECT, INSERT, CREATE COLLECTION, COPY, ...;
each ended by ';') and meta-commands (\d, \timing, \q, ...; one per line) against a data
directory opened in this process, or against a phenixd server (--url).

Options:
  --data DIR              data directory (default ./phenix-data, created if missing)
  --url URL               run everything on the phenixd server at URL instead, e.g.
                          http://127.0.0.1:8080 (`make run` starts one); --data and the
                          options that configure an open data directory do not apply
  --token TOKEN           with --url: the bearer token (a JWT or an API key) sent with
                          every request; default: the PHENIX_TOKEN environment variable
  --cacert FILE           with an https:// --url: the PEM CA certificate(s) that signed
                          the server's certificate (default: the system's CAs); the
                          server's certificate and host name are always verified
  --cert FILE, --key FILE with an https:// --url: a PEM client certificate and its key,
                          for a server that requires them (phenixd --tls-client-ca)
  -c, --command TEXT      run TEXT (statements and meta-commands), then exit
  -f, --file FILE         run the statements and meta-commands in FILE ('-' for stdin), then exit
  --format table|json|csv output format (default table)
  --progress              print the progress lines of long statements (COPY, CREATE
                          INDEX, UPDATE, DELETE; embedded or --url) on stderr even when
                          it is not a terminal, one line each (on a terminal they are
                          always shown, on one line overwritten in place)
  --relaxed               open with relaxed durability: faster writes, but the latest
                          ones can be lost on a power failure or OS crash
  --memory-limit MIB      the most memory one SELECT may hold for its rows (sorts,
                          groups, results; default 1024): beyond it the statement fails
  --read-only             open an existing data directory without writing to it (e.g. on
                          a full disk): reads, search, verify and COPY ... TO work, writes
                          fail; several read-only shells may share a directory
  --copy-directory DIR    COPY reads and writes files only under DIR: relative
                          paths are resolved under it, paths leading outside it are refused
  --encryption-kms URI    the master key of an encrypted data directory (and of a new one:
                          it is created encrypted): local:/path/to/keyfile or
                          pkcs11:module=...;token=...;key=... (docs/security.md)
  --encryption-pin-file FILE  the PKCS#11 user PIN (else env PHENIX_PKCS11_PIN)
  -h, --help              show this help and exit
  --version               show the version and exit

Key management (encryption at rest, docs/security.md):
  phenix create-master-key FILE
                          write a new local master key (32 random bytes, mode 0600)
  phenix create-master-key 'pkcs11:module=...;token=...;key=LABEL' [--pin-file FILE]
                          make a new AES-256 master key inside a PKCS#11 token (an HSM,
                          SoftHSM2); the PIN from FILE or env PHENIX_PKCS11_PIN
  phenix rotate-master-key --data DIR --encryption-kms URI --new-kms URI
                          [--encryption-pin-file FILE] [--new-pin-file FILE]
                          re-wrap DIR's data key under the new master key (atomic; safe
                          while phenixd has DIR open; later opens need the new key)

-c and -f may be repeated and run in order; the first failing statement stops the run.
Without them, input comes from stdin: with line editing and history when it is a
terminal (type \help there), otherwise read like a script.

Exit status: 0 success, 1 a statement failed or the data directory could not be opened,
2 invalid command-line usage.
)";

struct Source {
    bool is_file = false;
    std::string text;  // commands, or the file name
};

struct Flags {
    std::string data_dir = "./phenix-data";
    bool has_data_dir = false;
    std::string url;  // empty: embedded
    std::string token;  // --token, else PHENIX_TOKEN (with --url); never printed
    bool has_token_flag = false;
    std::string ca_file;    // --cacert (https)
    std::string cert_file;  // --cert (https, mutual TLS)
    std::string key_file;   // --key
    OutputFormat format = OutputFormat::kTable;
    bool is_relaxed = false;
    bool show_progress = false;  // --progress
    bool is_read_only = false;
    std::string copy_directory;  // empty: COPY paths are used as given
    EncryptionOptions encryption;
    std::size_t memory_limit = QuerySession::kDefaultMemoryLimit;
    bool show_help = false;
    bool show_version = false;
    std::vector<Source> sources;
    // `phenix stats`: run the health summary instead of a shell (stats_command.h).
    bool is_stats_command = false;
    std::string stats_collection;  // --collection
};

// A bearer token is one header value: visible ASCII only (RFC 6750's b64token and API keys fit).
// The message never shows the token.
Status CheckToken(std::string_view token, std::string_view where) {
    if (token.empty()) {
        return Status::InvalidArgument(std::string(where) + " needs a non-empty token");
    }
    for (const char ch : token) {
        if (ch <= ' ' || ch > '~') {
            return Status::InvalidArgument(std::string(where) +
                                           " holds a character a bearer token cannot (a space, "
                                           "a control character or non-ASCII)");
        }
    }
    return Status::Ok();
}

Result<Flags> ParseFlags(int argc, char** argv, bool is_stats_command = false) {
    Flags flags;
    flags.is_stats_command = is_stats_command;
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    for (std::size_t arg_idx = 0; arg_idx < args.size(); ++arg_idx) {
        std::string_view arg = args[arg_idx];
        std::string_view value;
        bool has_inline_value = false;
        if (arg.starts_with("--")) {
            if (auto eq = arg.find('='); eq != std::string_view::npos) {
                value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
                has_inline_value = true;
            }
        }
        // The option's argument: inline (--data=DIR) or the next word.
        auto take_value = [&]() -> Result<std::string> {
            if (has_inline_value) {
                return std::string(value);
            }
            if (arg_idx + 1 >= args.size()) {
                return Status::InvalidArgument("option '" + std::string(arg) +
                                               "' needs an argument");
            }
            return std::string(args[++arg_idx]);
        };
        if (arg == "--data") {
            PHENIX_ASSIGN_OR_RETURN(flags.data_dir, take_value());
            if (flags.data_dir.empty()) {
                return Status::InvalidArgument("--data needs a non-empty directory name");
            }
            flags.has_data_dir = true;
        } else if (arg == "--url") {
            PHENIX_ASSIGN_OR_RETURN(flags.url, take_value());
            if (flags.url.empty()) {
                return Status::InvalidArgument(
                    "--url needs a server address, e.g. "
                    "http://127.0.0.1:8080");
            }
        } else if (arg == "--token") {
            PHENIX_ASSIGN_OR_RETURN(flags.token, take_value());
            PHENIX_RETURN_IF_ERROR(CheckToken(flags.token, "--token"));
            flags.has_token_flag = true;
        } else if (arg == "--cacert" || arg == "--cert" || arg == "--key") {
            std::string& file = arg == "--cacert" ? flags.ca_file
                                : arg == "--cert" ? flags.cert_file
                                                  : flags.key_file;
            PHENIX_ASSIGN_OR_RETURN(file, take_value());
            if (file.empty()) {
                return Status::InvalidArgument(std::string(arg) + " needs a file name");
            }
        } else if (arg == "-c" || arg == "--command") {
            PHENIX_ASSIGN_OR_RETURN(std::string commands, take_value());
            flags.sources.push_back({.is_file = false, .text = std::move(commands)});
        } else if (arg == "-f" || arg == "--file") {
            PHENIX_ASSIGN_OR_RETURN(std::string file, take_value());
            flags.sources.push_back({.is_file = true, .text = std::move(file)});
        } else if (arg == "--collection" && is_stats_command) {
            PHENIX_ASSIGN_OR_RETURN(flags.stats_collection, take_value());
            if (flags.stats_collection.empty()) {
                return Status::InvalidArgument("--collection needs a collection name");
            }
        } else if (arg == "--format") {
            PHENIX_ASSIGN_OR_RETURN(std::string format, take_value());
            if (format == "table") {
                flags.format = OutputFormat::kTable;
            } else if (format == "json") {
                flags.format = OutputFormat::kJson;
            } else if (format == "csv") {
                flags.format = OutputFormat::kCsv;
            } else {
                return Status::InvalidArgument("--format must be table, json or csv, not '" +
                                               format + "'");
            }
        } else if (arg == "--copy-directory") {
            PHENIX_ASSIGN_OR_RETURN(flags.copy_directory, take_value());
            std::error_code error;
            if (flags.copy_directory.empty() ||
                !std::filesystem::is_directory(flags.copy_directory, error)) {
                return Status::InvalidArgument("--copy-directory '" +
                                               Printable(flags.copy_directory) +
                                               "' is not a directory");
            }
        } else if (arg == "--encryption-kms") {
            PHENIX_ASSIGN_OR_RETURN(flags.encryption.kms, take_value());
        } else if (arg == "--encryption-pin-file") {
            PHENIX_ASSIGN_OR_RETURN(flags.encryption.pin_file, take_value());
        } else if (arg == "--memory-limit") {
            PHENIX_ASSIGN_OR_RETURN(std::string mib, take_value());
            std::size_t parsed = 0;
            const auto [end, error] = std::from_chars(mib.data(), mib.data() + mib.size(), parsed);
            if (error != std::errc() || end != mib.data() + mib.size() || parsed == 0 ||
                parsed > (std::size_t{1} << 30)) {
                return Status::InvalidArgument(
                    "--memory-limit takes a number of MiB (1 or more), "
                    "not '" +
                    Printable(mib) + "'");
            }
            flags.memory_limit = parsed << 20;
        } else if (arg == "--relaxed" && !has_inline_value) {
            flags.is_relaxed = true;
        } else if (arg == "--progress" && !has_inline_value) {
            flags.show_progress = true;
        } else if (arg == "--read-only" && !has_inline_value) {
            flags.is_read_only = true;
        } else if ((arg == "-h" || arg == "--help") && !has_inline_value) {
            flags.show_help = true;
        } else if (arg == "--version" && !has_inline_value) {
            flags.show_version = true;
        } else if (arg.starts_with("-") && arg != "-") {
            return Status::InvalidArgument("unknown option '" + Printable(arg) + "'");
        } else {
            return Status::InvalidArgument("unexpected argument '" + Printable(arg) +
                                           "' (commands go after -c)");
        }
    }
    if (is_stats_command && !flags.sources.empty()) {
        return Status::InvalidArgument(
            "phenix stats runs no statements of its own: -c and -f do not apply");
    }
    if (flags.has_token_flag && flags.url.empty()) {
        return Status::InvalidArgument(
            "--token applies to a server (--url), not to a data "
            "directory opened by the shell");
    }
    if (!flags.url.empty() && !flags.has_token_flag) {
        if (const char* env = std::getenv("PHENIX_TOKEN"); env != nullptr && *env != '\0') {
            flags.token = env;
            PHENIX_RETURN_IF_ERROR(CheckToken(flags.token, "PHENIX_TOKEN"));
        }
    }
    if (!flags.ca_file.empty() || !flags.cert_file.empty() || !flags.key_file.empty()) {
        if (!flags.url.starts_with("https://")) {
            return Status::InvalidArgument(
                "--cacert, --cert and --key apply to an https:// --url only");
        }
        if (flags.cert_file.empty() != flags.key_file.empty()) {
            return Status::InvalidArgument("--cert and --key go together");
        }
    }
    if (!flags.url.empty()) {
        // These configure a data directory opened here; a server has its own (phenixd --help).
        const char* embedded_only = flags.has_data_dir              ? "--data"
                                    : flags.is_relaxed              ? "--relaxed"
                                    : flags.is_read_only            ? "--read-only"
                                    : !flags.copy_directory.empty() ? "--copy-directory"
                                    : !flags.encryption.kms.empty() ? "--encryption-kms"
                                    : flags.memory_limit != QuerySession::kDefaultMemoryLimit
                                        ? "--memory-limit"
                                        : nullptr;
        if (embedded_only != nullptr) {
            return Status::InvalidArgument(
                std::string(embedded_only) +
                " applies to a data directory opened by the shell, not to --url (the server's "
                "own settings apply there: phenixd --help)");
        }
    }
    return flags;
}

void PrintError(const Status& status) {
    if (status.code() == StatusCode::kUnauthenticated) {
        // The server says no more than 401 on purpose; what the user can do is here.
        std::fprintf(stderr, "phenix: authentication failed (401): check --token / PHENIX_TOKEN\n");
        std::fflush(stderr);
        return;
    }
    std::fprintf(stderr, "error: %s\n", Printable(status.ToString()).c_str());
    std::fflush(stderr);
}

// getenv and getpwuid are unsafe only against concurrent setenv / getpw* calls, which
// nothing in this process makes.
std::string HistoryPath() {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): see above
    if (const char* path = std::getenv("PHENIX_HISTORY"); path != nullptr) {
        return path;
    }
    const char* home = std::getenv("HOME");  // NOLINT(concurrency-mt-unsafe): see above
    if (home == nullptr || *home == '\0') {
        const passwd* user = getpwuid(getuid());  // NOLINT(concurrency-mt-unsafe): see above
        home = user != nullptr ? user->pw_dir : nullptr;
    }
    return home != nullptr ? std::string(home) + "/.phenix_history" : std::string();
}

enum class LineOutcome : std::uint8_t { kDone, kFailed, kQuit };

// Feeds the lines of one input source (a -c argument, a script, the terminal) through a
// StatementSplitter and runs the statements and meta-commands they complete, up to the first
// error (printed) or quit.
class SourceRunner {
  public:
    // `name`: the script's name, for error locations; empty for -c and the terminal.
    SourceRunner(Shell& shell, std::string name) : shell_(shell), name_(std::move(name)) {}

    LineOutcome AddLine(std::string_view line, std::size_t line_number) {
        return Run(splitter_.AddLine(line, line_number));
    }

    // The end of the input: runs an unfinished statement as it is.
    LineOutcome Finish() {
        std::vector<InputPiece> pieces;
        if (auto last = splitter_.Finish(); last.has_value()) {
            pieces.push_back(std::move(*last));
        }
        return Run(pieces);
    }

    [[nodiscard]] bool HasPending() const { return splitter_.HasPending(); }
    void ClearPending() { splitter_.Clear(); }
    // Where the statement that failed last starts.
    [[nodiscard]] std::size_t FailedLine() const { return failed_line_; }

  private:
    LineOutcome Run(const std::vector<InputPiece>& pieces) {
        for (const InputPiece& piece : pieces) {
            Status status =
                piece.is_meta ? shell_.ExecuteMeta(piece.text) : shell_.ExecuteQuery(piece.text);
            if (!status.ok() && !name_.empty()) {
                status = status.WithContext(name_ + ":" + std::to_string(piece.line));
            }
            // Each result is on stdout as soon as its statement has run (the printer flushes;
            // this covers anything printed around it).
            std::fflush(stdout);
            if (!status.ok()) {
                PrintError(status);
                failed_line_ = piece.line;
                return LineOutcome::kFailed;
            }
            if (shell_.QuitRequested()) {
                return LineOutcome::kQuit;
            }
        }
        return LineOutcome::kDone;
    }

    Shell& shell_;
    std::string name_;
    StatementSplitter splitter_;
    std::size_t failed_line_ = 0;
};

// Runs a script from a file descriptor, stopping at the first error. `name` is used in the
// location of an error. Returns the exit code.
int RunScript(Shell& shell, int fd, const std::string& name) {
    LineReader reader(fd);
    SourceRunner runner(shell, name);
    while (true) {
        auto line = reader.Next();
        if (!line.ok()) {
            PrintError(line.status().WithContext(name));
            return kExitError;
        }
        if (!line->has_value()) {
            if (runner.Finish() == LineOutcome::kFailed) {
                return kExitError;  // the error names the file and line
            }
            return kExitOk;
        }
        if ((**line).too_long) {
            PrintError(Status::InvalidArgument("the line is longer than " +
                                               std::to_string(kMaxLineBytes) + " bytes"));
            std::fprintf(stderr, "  at %s line %zu\n", name.c_str(), reader.LineNumber());
            return kExitError;
        }
        const LineOutcome outcome = runner.AddLine((**line).text, reader.LineNumber());
        if (outcome == LineOutcome::kFailed) {
            return kExitError;  // the error names the file and line
        }
        if (outcome == LineOutcome::kQuit) {
            return kExitOk;
        }
    }
}

// Runs the text of a -c option. Returns the exit code.
int RunCommands(Shell& shell, std::string_view text) {
    const bool is_multiline = text.find('\n') != std::string_view::npos;
    SourceRunner runner(shell, {});
    std::size_t line_number = 0;
    LineOutcome outcome = LineOutcome::kDone;
    while (!text.empty() || line_number == 0) {
        ++line_number;
        const std::size_t newline = text.find('\n');
        const std::string_view line = text.substr(0, newline);
        text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
        outcome = runner.AddLine(line, line_number);
        if (outcome != LineOutcome::kDone) {
            break;
        }
    }
    if (outcome == LineOutcome::kDone) {
        outcome = runner.Finish();
    }
    if (outcome == LineOutcome::kFailed && is_multiline) {
        std::fprintf(stderr, "  at -c line %zu\n", runner.FailedLine());
    }
    return outcome == LineOutcome::kFailed ? kExitError : kExitOk;
}

// "phenix> ", with "[TENANT]" after USE TENANT and "(txn)" / "(ro txn)" while a transaction is
// open: "phenix[acme](txn)> "; "phenix-> " while a statement waits for the rest of its lines (its
// ';').
std::string Prompt(const Shell& shell, bool is_continuation) {
    std::string prompt = "phenix";
    if (shell.CurrentTenant() != kDefaultTenant) {
        prompt += "[" + shell.CurrentTenant() + "]";
    }
    if (shell.InTransaction()) {
        prompt += shell.InReadOnlyTransaction() ? "(ro txn)" : "(txn)";
    }
    return prompt + (is_continuation ? "-> " : "> ");
}

// The interactive loop: errors are printed and the session goes on.
// `where`: "data: DIR[, read-only]" or "server: URL", for the banner.
int RunInteractive(Shell& shell, const std::string& where) {
    std::printf(
        "phenix %s (%s). Type PhenixQL statements ending with ';' (SELECT ... FROM "
        "...;).\n\\? lists statements and meta-commands, \\timing times statements, \\q "
        "leaves.\n",
        PHENIX_SHELL_VERSION, Printable(where).c_str());
    std::fflush(stdout);
    InstallInterruptHandler();
    std::unique_ptr<Terminal> terminal = Terminal::Open(HistoryPath());
    if (terminal == nullptr) {
        std::fprintf(stderr, "phenix: line editing is unavailable; reading plain lines\n");
    }
    LineReader plain(STDIN_FILENO);
    SourceRunner runner(shell, {});
    std::size_t line_number = 0;
    // The lines of the statement being typed: one history entry once it is complete, so that
    // recalling it brings back the whole statement, as in psql.
    std::string history_entry;
    while (!shell.QuitRequested()) {
        std::string line;
        const std::string prompt = Prompt(shell, runner.HasPending());
        if (terminal != nullptr) {
            Terminal::Input input = terminal->ReadLine(prompt);
            if (input.event == Terminal::Event::kEndOfInput) {
                std::printf("\n");
                break;
            }
            if (input.event == Terminal::Event::kInterrupted) {
                // ^C abandons the line and an unfinished statement, as in psql.
                runner.ClearPending();
                history_entry.clear();
                std::printf("\n");
                continue;
            }
            line = std::move(input.line);
            if (line.find_first_not_of(" \t") != std::string::npos) {
                history_entry += (history_entry.empty() ? "" : "\n") + line;
            }
        } else {
            std::printf("%s", prompt.c_str());
            std::fflush(stdout);
            auto next = plain.Next();
            if (!next.ok() || !next->has_value()) {
                std::printf("\n");
                break;
            }
            line = std::move((**next).text);
        }
        // An error skips the rest of the line; the session goes on.
        if (runner.AddLine(line, ++line_number) == LineOutcome::kFailed) {
            runner.ClearPending();
        }
        if (terminal != nullptr && !runner.HasPending() && !history_entry.empty()) {
            terminal->AddHistory(history_entry);
            history_entry.clear();
        }
        TakeInterrupt();
    }
    std::fflush(stdout);
    return kExitOk;
}

// Database::Close can take a while after a large load: it stops the vector indexer after its
// current batch, writes the vector index checkpoint and flushes the write buffers. When it takes
// more than a second the shell says so on stderr (and how long it took), instead of stalling
// silently.
Status CloseSayingWhatItWaitsFor(Database& db) {
    std::mutex mu;
    std::condition_variable cv;
    bool closed = false;
    bool announced = false;
    const auto start = std::chrono::steady_clock::now();
    std::thread notice([&] {
        std::unique_lock lock(mu);
        if (!cv.wait_for(lock, std::chrono::seconds(1), [&] { return closed; })) {
            std::fprintf(stderr,
                         "phenix: closing the database: stopping the vector indexer, writing its "
                         "checkpoint and flushing buffered writes...\n");
            std::fflush(stderr);
            announced = true;
        }
    });
    Status status = db.Close();
    {
        std::lock_guard lock(mu);
        closed = true;
    }
    cv.notify_all();
    notice.join();
    if (announced) {
        std::fprintf(
            stderr, "phenix: closed in %.1f s\n",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return status;
}

// The open error, with what to do when the data directory is in use: most often by a phenixd
// (`make run`), which the shell reaches with --url instead.
Status ExplainOpenError(const Status& status) {
    const std::string_view message = status.message();
    if (status.code() != StatusCode::kUnavailable ||
        message.find("in use by another process") == std::string_view::npos) {
        return status;
    }
    std::string holder;
    constexpr std::string_view kPid = "(pid ";
    if (const std::size_t at = message.find(kPid); at != std::string_view::npos) {
        const std::string_view rest = message.substr(at + kPid.size());
        const std::string pid(rest.substr(0, rest.find(')')));
        if (std::FILE* comm = std::fopen(("/proc/" + pid + "/comm").c_str(), "r")) {
            char name[64] = {};
            if (std::fgets(name, sizeof name, comm) != nullptr &&
                std::string_view(name).starts_with("phenixd")) {
                holder = pid;
            }
            std::fclose(comm);
        }
    }
    const std::string who = holder.empty() ? "If that process is phenixd (e.g. `make run`)"
                                           : "It is phenixd (pid " + holder + ")";
    return {status.code(),
            std::string(message) + ". The shell and a running server cannot open the same data " +
                "directory at once. " + who +
                ": connect to it instead, with phenix --url http://HOST:PORT (`make run` serves "
                "http://127.0.0.1:8080), or stop it first"};
}

// `phenix create-master-key FILE` and `phenix rotate-master-key --data DIR --encryption-kms URI
// --new-kms URI [--encryption-pin-file F] [--new-pin-file F]`.
int RunKeyCommand(std::string_view command, const std::vector<std::string_view>& args) {
    auto usage = [](const std::string& why) {
        std::fprintf(stderr, "phenix: %s\nTry 'phenix --help' for more information.\n",
                     why.c_str());
        return kExitUsage;
    };
    if (command == "create-master-key" && !args.empty() && args[0].starts_with("pkcs11:")) {
        // In a token: pkcs11:...;key=LABEL [--pin-file FILE] (else PHENIX_PKCS11_PIN).
        EncryptionOptions token{.kms = std::string(args[0])};
        if (args.size() == 3 && args[1] == "--pin-file" && !args[2].empty()) {
            token.pin_file = std::string(args[2]);
        } else if (args.size() != 1) {
            return usage("create-master-key pkcs11:URI takes only --pin-file FILE after it");
        }
        auto key_id = CreateTokenMasterKey(token);
        if (!key_id.ok()) {
            PrintError(key_id.status());
            return kExitError;
        }
        std::printf("created master key %s in the token (use --encryption-kms '%s'%s)\n",
                    key_id->c_str(), token.kms.c_str(),
                    token.pin_file.empty() ? " with PHENIX_PKCS11_PIN"
                                           : (" --encryption-pin-file " + token.pin_file).c_str());
        return kExitOk;
    }
    if (command == "create-master-key") {
        if (args.size() != 1 || args[0].empty() || args[0].starts_with("-")) {
            return usage("create-master-key takes one argument: the key file to create");
        }
        auto key_id = CreateMasterKeyFile(std::string(args[0]));
        if (!key_id.ok()) {
            PrintError(key_id.status());
            return kExitError;
        }
        std::printf("created master key %s in %s (use --encryption-kms local:%s)\n",
                    key_id->c_str(), std::string(args[0]).c_str(), std::string(args[0]).c_str());
        return kExitOk;
    }
    std::string data_dir;
    EncryptionOptions current;
    EncryptionOptions next;
    for (std::size_t arg_idx = 0; arg_idx < args.size(); ++arg_idx) {
        std::string_view arg = args[arg_idx];
        std::string value;
        if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            value = std::string(arg.substr(eq + 1));
            arg = arg.substr(0, eq);
        } else if (arg_idx + 1 < args.size()) {
            value = std::string(args[++arg_idx]);
        } else {
            return usage("option '" + std::string(arg) + "' needs an argument");
        }
        if (arg == "--data") {
            data_dir = value;
        } else if (arg == "--encryption-kms") {
            current.kms = value;
        } else if (arg == "--encryption-pin-file") {
            current.pin_file = value;
        } else if (arg == "--new-kms") {
            next.kms = value;
        } else if (arg == "--new-pin-file") {
            next.pin_file = value;
        } else {
            return usage("unknown option '" + Printable(arg) + "' for rotate-master-key");
        }
    }
    if (data_dir.empty() || current.kms.empty() || next.kms.empty()) {
        return usage("rotate-master-key needs --data DIR --encryption-kms URI --new-kms URI");
    }
    auto rotated = RotateMasterKey(data_dir, current, next);
    if (!rotated.ok()) {
        PrintError(rotated.status());
        return kExitError;
    }
    std::printf("the data key of %s is now wrapped by master key %s\n", data_dir.c_str(),
                rotated->c_str());
    return kExitOk;
}

int Main(int argc, char** argv) {
    if (argc >= 2) {
        const std::string_view command = argv[1];
        if (command == "create-master-key" || command == "rotate-master-key") {
            return RunKeyCommand(command, std::vector<std::string_view>(argv + 2, argv + argc));
        }
        if (command == "audit") {
            return RunAuditCommand(std::vector<std::string_view>(argv + 2, argv + argc));
        }
    }
    const bool is_stats_command = argc >= 2 && std::string_view(argv[1]) == "stats";
    auto flags = is_stats_command ? ParseFlags(argc - 1, argv + 1, /*is_stats_command=*/true)
                                  : ParseFlags(argc, argv);
    if (!flags.ok()) {
        std::fprintf(stderr, "phenix: %s\nTry 'phenix --help' for more information.\n",
                     flags.status().message().c_str());
        return kExitUsage;
    }
    if (flags->show_help) {
        std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
        return kExitOk;
    }
    if (flags->show_version) {
        std::printf("phenix %s\n", PHENIX_SHELL_VERSION);
        return kExitOk;
    }

    // Open every script before the database, so that a mistyped file name creates nothing.
    std::vector<int> script_fds;
    for (const Source& source : flags->sources) {
        if (!source.is_file) {
            script_fds.push_back(-1);
        } else if (source.text == "-") {
            script_fds.push_back(STDIN_FILENO);
        } else {
            const int fd = ::open(source.text.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                PrintError(Status::IOError("cannot open " + source.text + ": " +
                                           std::generic_category().message(errno)));
                return kExitError;
            }
            script_fds.push_back(fd);
        }
    }

    const bool is_interactive = flags->sources.empty() && ::isatty(STDIN_FILENO) == 1;
    Printer printer(flags->format, stdout);
    std::unique_ptr<Database> db;
    std::unique_ptr<Backend> backend;
    std::string where;
    if (!flags->url.empty()) {
        auto url = client::ParseServerUrl(flags->url);
        if (!url.ok()) {
            std::fprintf(stderr, "phenix: %s\nTry 'phenix --help' for more information.\n",
                         url.status().message().c_str());
            return kExitUsage;
        }
        url->ca_file = flags->ca_file;
        url->cert_file = flags->cert_file;
        url->key_file = flags->key_file;
        auto remote = std::make_unique<RemoteBackend>(*url);
        remote->SetBearerToken(flags->token);
        if (Status reachable = remote->Ping(); !reachable.ok()) {
            PrintError(reachable);
            return kExitError;
        }
        where = "server: " + url->text;
        backend = std::move(remote);
    } else {
        Options options;
        options.durability = flags->is_relaxed ? Durability::kRelaxed : Durability::kSync;
        options.read_only = flags->is_read_only;
        // `phenix stats` reports on an existing directory; it never creates one.
        options.create_if_missing = !flags->is_stats_command;
        options.encryption = flags->encryption;
        // A person at the prompt may take minutes between `begin` and `commit`; the idle timeout
        // guards servers against abandoned clients, and here the only client is this shell,
        // whose open transaction is rolled back when it exits.
        options.transaction_idle_timeout_ms = 0;
        auto opened = Database::Open(flags->data_dir, options);
        if (!opened.ok()) {
            PrintError(ExplainOpenError(opened.status()));
            return kExitError;
        }
        db = std::move(opened).value();
        auto embedded = std::make_unique<EmbeddedBackend>(*db);
        embedded->SetCopyDirectory(flags->copy_directory);
        embedded->SetMemoryLimit(flags->memory_limit);
        where = "data: " + flags->data_dir + (flags->is_read_only ? ", read-only" : "");
        backend = std::move(embedded);
    }
    Shell shell(*backend, printer, flags->show_progress);

    int exit_code = kExitOk;
    if (flags->is_stats_command) {
        const Status shown = RunStatsCommand(*backend, printer,
                                             StatsRequest{.collection = flags->stats_collection,
                                                          .is_remote = !flags->url.empty(),
                                                          .format = flags->format},
                                             stdout);
        if (!shown.ok()) {
            PrintError(shown);
            exit_code = kExitError;
        }
    } else if (is_interactive) {
        exit_code = RunInteractive(shell, where);
    } else if (flags->sources.empty()) {
        exit_code = RunScript(shell, STDIN_FILENO, "stdin");
    } else {
        for (std::size_t source_idx = 0; source_idx < flags->sources.size(); ++source_idx) {
            const Source& source = flags->sources[source_idx];
            exit_code = source.is_file ? RunScript(shell, script_fds[source_idx], source.text)
                                       : RunCommands(shell, source.text);
            if (exit_code != kExitOk || shell.QuitRequested()) {
                break;
            }
        }
    }
    for (int fd : script_fds) {
        if (fd > STDIN_FILENO) {
            ::close(fd);
        }
    }

    // quit, the end of the input, or an error that stopped a script: nothing commits implicitly.
    if (std::string rolled_back = shell.RollBackOpenTransaction(); !rolled_back.empty()) {
        std::fprintf(stderr, "phenix: rolled back the open %s\n", Printable(rolled_back).c_str());
    }

    if (db == nullptr) {
        return exit_code;
    }
    backend.reset();  // its session before the database it uses
    if (Status closed = CloseSayingWhatItWaitsFor(*db); !closed.ok()) {
        PrintError(closed);
        return kExitError;
    }
    return exit_code;
}

}  // namespace
}  // namespace phenix::shell

int main(int argc, char** argv) {
    // Nothing in the shell throws on purpose; this turns a stray exception from a library into
    // an error report instead of std::terminate's abort.
    try {
        return phenix::shell::Main(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: Internal: %s\n", e.what());
        return 1;
    }
}
