// SPDX-License-Identifier: Apache-2.0
#include "shell.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>

#include <phenix/json.h>

#include "line_input.h"

namespace phenix::shell {

namespace {

// `word` as the lexer reads it back: bare when that is unambiguous, else double-quoted.
std::string QuoteWord(std::string_view word) {
    const bool is_bare = !word.empty() && word.front() != '\'' && word.front() != '"' &&
                         word.find_first_of(" \t\r\n\v\f;\\") == std::string_view::npos;
    if (is_bare) {
        return std::string(word);
    }
    std::string out = "\"";
    for (char c : word) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
        }
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

// `name` as a PhenixQL quoted identifier: "...", with " doubled.
std::string QuoteIdentifier(std::string_view name) {
    std::string out = "\"";
    for (char c : name) {
        out.push_back(c);
        if (c == '"') {
            out.push_back('"');
        }
    }
    out.push_back('"');
    return out;
}

// `text` as a PhenixQL string literal: '...', with ' doubled.
std::string QuoteStringLiteral(std::string_view text) {
    std::string out = "'";
    for (char c : text) {
        out.push_back(c);
        if (c == '\'') {
            out.push_back('\'');
        }
    }
    out.push_back('\'');
    return out;
}

// `status` without a leading "line 1, column C: ": for a statement the shell generated, a
// position in it means nothing to the user. (An error naming a line of a loaded file has no
// column, so it is kept.)
Status WithoutStatementPosition(const Status& status) {
    constexpr std::string_view kPrefix = "line 1, column ";
    std::string_view message = status.message();
    if (!message.starts_with(kPrefix)) {
        return status;
    }
    std::size_t pos = kPrefix.size();
    while (pos < message.size() && std::isdigit(static_cast<unsigned char>(message[pos])) != 0) {
        ++pos;
    }
    if (pos == kPrefix.size() || message.substr(pos, 2) != ": ") {
        return status;
    }
    return {status.code(), std::string(message.substr(pos + 2))};
}

constexpr std::string_view kNoTransaction = "no transaction is open (start one with 'begin')";

// Progress of a long command (reindex, create index) on stderr when stderr is a terminal:
// "\r  42% (84000/200000)", ended by a newline when the command returns.
class TerminalProgress {
  public:
    TerminalProgress() : is_enabled_(::isatty(STDERR_FILENO) == 1) {}
    ~TerminalProgress() { Finish(); }
    TerminalProgress(const TerminalProgress&) = delete;
    TerminalProgress& operator=(const TerminalProgress&) = delete;

    void Update(std::uint64_t done, std::uint64_t total) {
        if (!is_enabled_ || total == 0) {
            return;
        }
        std::fprintf(stderr, "\r  %llu%% (%llu/%llu)",
                     static_cast<unsigned long long>(done * 100 / total),
                     static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
        std::fflush(stderr);
        has_line_ = true;
    }

    // Ends the progress line, if one was printed.
    void Finish() {
        if (has_line_) {
            std::fprintf(stderr, "\n");
            std::fflush(stderr);
            has_line_ = false;
        }
    }

  private:
    const bool is_enabled_;
    bool has_line_ = false;
};

// The PhenixQL statements, for `help` (docs/query-language.md has the grammar).
constexpr std::array<CommandHelp, 20> kPhenixQlHelp = {{
    {"CREATE COLLECTION name [(DIMENSION n, METRIC l2|cosine|ip)];", "create a collection"},
    {"DROP COLLECTION name;", "drop a collection"},
    {"CREATE INDEX ON name (metadata.path);", "index a metadata path"},
    {"DROP INDEX ON name (metadata.path);", "drop a metadata index"},
    {"SHOW COLLECTIONS;", "list the collections of the current tenant"},
    {"DESCRIBE name;", "a collection's settings, size and indexes"},
    {"INSERT INTO name (id, vector, metadata, edges) VALUES (...), ... "
     "[ON CONFLICT (id) DO NOTHING|UPDATE];",
     "insert entities (or skip / update existing ids)"},
    {"UPDATE name SET metadata.path = value | metadata = metadata || {...}, ... WHERE ...;",
     "change entities (in batches outside a transaction)"},
    {"DELETE FROM name WHERE ...;", "delete entities"},
    {"SELECT cols FROM name [AS OF ts] [WHERE ...] [GROUP BY ...] [ORDER BY ...] [LIMIT n] "
     "[WITH (ef = n)];",
     "query; vector <-> v (L2), <=> (cosine), <#> (negative inner product), distance(vector, v)"},
    {"SELECT ... FROM MATCH (a:name)-[e:label*1..2 WHERE ...]->(b:name) ...;",
     "graph pattern query"},
    {"SELECT count(*), min(x), max(x), avg(x) FROM name GROUP BY metadata.path;", "aggregates"},
    {"EXPLAIN SELECT ...;", "show the plan of a query"},
    {"COPY name FROM 'file.jsonl' [(ON_ERROR skip)];", "bulk-load JSON lines"},
    {"COPY name TO 'file.jsonl';", "export a collection as JSON lines"},
    {"BEGIN;", "start a transaction (shared with the commands below)"},
    {"COMMIT;", "commit it; prints COMMIT <timestamp>"},
    {"ROLLBACK;", "discard it"},
    {"\\timing", "toggle printing each statement's elapsed time (to stderr)"},
    {"\\q", "leave the shell"},
}};

Status HelpTopicNotFound(std::string_view topic) {
    return Status::NotFound("no help for '" + Printable(topic) +
                            "' (type 'help' for the list of commands)");
}

}  // namespace

Shell::Shell(Database& db, Printer& printer) : db_(db), printer_(printer), session_(db) {
    // ^C (when the shell catches it: interactive input) stops a running COPY / load between
    // chunks; what was written stays written.
    session_.set_interrupt([] { return TakeInterrupt(); });
    // COPY and CREATE INDEX report progress about once a second: shown on one line of a
    // terminal, overwritten in place; nothing when stderr is a file or a pipe.
    if (::isatty(STDERR_FILENO) == 1) {
        session_.set_progress([this](std::string_view line) {
            std::fprintf(stderr, "\r%s\x1b[K", Printable(line).c_str());
            std::fflush(stderr);
            has_progress_line_ = true;
        });
    }
}

Shell::~Shell() = default;

template <typename Op>
auto Shell::Read(Op&& op) {
    Transaction* txn = Txn();
    return txn != nullptr ? op(*txn) : op(db_);
}

template <typename Op>
Status Shell::Write(Op&& op) {
    Transaction* txn = Txn();
    if (txn == nullptr) {
        return op(db_);
    }
    if (txn != counted_txn_) {
        counted_txn_ = txn;
        num_txn_writes_ = 0;
    }
    Status status = op(*txn);
    if (status.ok()) {
        ++num_txn_writes_;
    }
    return status;
}

void Shell::PrintTiming(double ms) const {
    // On stderr, so that JSON and CSV output stay clean (and table output too, for scripts
    // that compare it).
    std::fprintf(stderr, "Time: %.3f ms\n", ms);
    std::fflush(stderr);
}

void Shell::ClearProgress() {
    if (has_progress_line_) {
        std::fprintf(stderr, "\r\x1b[K");
        std::fflush(stderr);
        has_progress_line_ = false;
    }
}

void Shell::FinishProgress() {
    if (has_progress_line_) {
        std::fprintf(stderr, "\n");
        std::fflush(stderr);
        has_progress_line_ = false;
    }
}

Status Shell::ExecuteQuery(std::string_view statement) {
    const auto start = std::chrono::steady_clock::now();
    Result<QueryResult> result = session_.Execute(statement);
    FinishProgress();
    if (!result.ok()) {
        return result.status();
    }
    Transaction* txn = Txn();
    if (txn != counted_txn_) {
        counted_txn_ = txn;
        num_txn_writes_ = 0;
    }
    if (txn != nullptr) {
        num_txn_writes_ += static_cast<std::size_t>(result->affected);
    }
    printer_.PrintQueryResult(*result);
    if (timing_) {
        PrintTiming(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
    }
    return Status::Ok();
}

Status Shell::Execute(std::string_view statement) {
    auto cmd = ParseCommand(statement);
    if (!cmd.ok()) {
        // A word that is neither a command nor a statement keyword may be a misspelled
        // statement ("SELEC id FROM docs"): prefer PhenixQL's suggestion when it has one. Its
        // first word is no statement keyword, so the parser rejects it and nothing runs.
        if (cmd.status().message().starts_with("unknown command") &&
            cmd.status().message().find("did you mean") == std::string::npos) {
            auto phenixql = session_.Execute(statement);
            if (!phenixql.ok() &&
                phenixql.status().message().find("did you mean") != std::string::npos) {
                return phenixql.status();
            }
        }
        return cmd.status();
    }
    const auto start = std::chrono::steady_clock::now();
    Status status = Run(*cmd);
    const bool is_meta = cmd->kind == CommandKind::kTiming || cmd->kind == CommandKind::kHelp ||
                         cmd->kind == CommandKind::kQuit;
    if (status.ok() && timing_ && !is_meta) {
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        PrintTiming(ms);
    }
    return status;
}

Status Shell::Run(const Command& cmd) {
    switch (cmd.kind) {
        case CommandKind::kHelp:
            return RunHelp(cmd);
        case CommandKind::kQuit:
            quit_requested_ = true;
            return Status::Ok();
        case CommandKind::kCreateCollection: {
            PHENIX_RETURN_IF_ERROR(
                RefuseInTransaction("create collection", "DDL is not transactional"));
            PHENIX_RETURN_IF_ERROR(
                db_.CreateCollection({.ref = Ref(cmd.name),
                                      .dimension = cmd.dimension,
                                      .metric = cmd.metric,
                                      .settings = cmd.json.empty() ? "{}" : cmd.json}));
            printer_.PrintOk();
            return Status::Ok();
        }
        case CommandKind::kDropCollection:
            PHENIX_RETURN_IF_ERROR(
                RefuseInTransaction("drop collection", "DDL is not transactional"));
            PHENIX_RETURN_IF_ERROR(db_.DropCollection(Ref(cmd.name)));
            printer_.PrintOk();
            return Status::Ok();
        case CommandKind::kListCollections: {
            auto collections = db_.ListCollections(session_.tenant());
            PHENIX_RETURN_IF_ERROR(collections.status());
            printer_.PrintCollections(*collections);
            return Status::Ok();
        }
        case CommandKind::kDescribe: {
            auto info = db_.GetCollection(Ref(cmd.name));
            PHENIX_RETURN_IF_ERROR(info.status());
            printer_.PrintCollection(*info);
            return Status::Ok();
        }
        case CommandKind::kCreateTenant:
            PHENIX_RETURN_IF_ERROR(
                RefuseInTransaction("create tenant", "DDL is not transactional"));
            PHENIX_RETURN_IF_ERROR(db_.CreateTenant(cmd.name));
            printer_.PrintOk();
            return Status::Ok();
        case CommandKind::kListTenants: {
            auto tenants = db_.ListTenants();
            PHENIX_RETURN_IF_ERROR(tenants.status());
            printer_.PrintTenants(*tenants, session_.tenant());
            return Status::Ok();
        }
        case CommandKind::kUseTenant:
            return RunUseTenant(cmd);
        case CommandKind::kInsert:
        case CommandKind::kUpsert: {
            auto entity = EntityFromJson(cmd.json);
            PHENIX_RETURN_IF_ERROR(entity.status());
            const CollectionRef ref = Ref(cmd.name);
            const bool is_insert = cmd.kind == CommandKind::kInsert;
            PHENIX_RETURN_IF_ERROR(Write([&](auto& target) {
                return is_insert ? target.Insert(ref, *entity) : target.Upsert(ref, *entity);
            }));
            printer_.PrintOk();
            return Status::Ok();
        }
        case CommandKind::kGet: {
            auto entity = Read([&](auto& source) { return source.Get(Ref(cmd.name), cmd.id); });
            PHENIX_RETURN_IF_ERROR(entity.status());
            printer_.PrintEntities({&*entity, 1});
            return Status::Ok();
        }
        case CommandKind::kDelete:
            PHENIX_RETURN_IF_ERROR(
                Write([&](auto& target) { return target.Delete(Ref(cmd.name), cmd.id); }));
            printer_.PrintOk();
            return Status::Ok();
        case CommandKind::kPatch:
            PHENIX_RETURN_IF_ERROR(Write([&](auto& target) {
                return target.PatchMetadata(Ref(cmd.name), cmd.id, cmd.json);
            }));
            printer_.PrintOk();
            return Status::Ok();
        case CommandKind::kSetMetadata:
            PHENIX_RETURN_IF_ERROR(Write([&](auto& target) {
                return target.ReplaceMetadata(Ref(cmd.name), cmd.id, cmd.json);
            }));
            printer_.PrintOk();
            return Status::Ok();
        case CommandKind::kEdges: {
            auto edges = Read([&](auto& source) {
                return source.ListEdges(Ref(cmd.name), cmd.id, cmd.direction);
            });
            PHENIX_RETURN_IF_ERROR(edges.status());
            printer_.PrintEdges(*edges);
            return Status::Ok();
        }
        case CommandKind::kScan:
            return RunScan(cmd);
        case CommandKind::kLoad:
            return RunLoad(cmd);
        case CommandKind::kSearch:
            return RunSearch(cmd);
        case CommandKind::kIndexInfo: {
            auto info = db_.GetVectorIndexInfo(Ref(cmd.name));
            PHENIX_RETURN_IF_ERROR(info.status());
            printer_.PrintVectorIndexInfo(cmd.name, *info);
            return Status::Ok();
        }
        case CommandKind::kReindex:
            return RunReindex(cmd);
        case CommandKind::kCreateIndex:
            return RunCreateIndex(cmd);
        case CommandKind::kDropIndex:
            PHENIX_RETURN_IF_ERROR(RefuseInTransaction("drop index", "DDL is not transactional"));
            PHENIX_RETURN_IF_ERROR(db_.DropIndex(Ref(cmd.name), cmd.path));
            printer_.PrintOk();
            return Status::Ok();
        case CommandKind::kListIndexes: {
            auto indexes = db_.ListIndexes(Ref(cmd.name));
            PHENIX_RETURN_IF_ERROR(indexes.status());
            printer_.PrintIndexes(*indexes);
            return Status::Ok();
        }
        case CommandKind::kAnalyze:
            PHENIX_RETURN_IF_ERROR(db_.AnalyzeIndexes(Ref(cmd.name)));
            printer_.PrintOk();
            return Status::Ok();
        case CommandKind::kFind:
            return RunFind(cmd);
        case CommandKind::kTraverse:
        case CommandKind::kPaths:
        case CommandKind::kShortest:
        case CommandKind::kDegree:
            return RunGraph(cmd);
        case CommandKind::kBegin:
            return RunBegin(cmd);
        case CommandKind::kCommit:
            return RunCommit();
        case CommandKind::kRollback:
            return RunRollback();
        case CommandKind::kTimestamp: {
            const std::string ts = std::to_string(db_.CurrentTimestamp());
            printer_.PrintMessage(ts, R"({"timestamp":)" + ts + "}");
            return Status::Ok();
        }
        case CommandKind::kVerify:
            PHENIX_RETURN_IF_ERROR(db_.Verify());
            printer_.PrintOk();
            return Status::Ok();
        case CommandKind::kTiming:
            timing_ = cmd.enable.value_or(!timing_);
            printer_.PrintMessage(timing_ ? "Timing is on." : "Timing is off.",
                                  timing_ ? R"({"timing":true})" : R"({"timing":false})");
            return Status::Ok();
    }
    return Status::Internal("unhandled command");
}

Status Shell::RunHelp(const Command& cmd) {
    std::string topic = cmd.name;
    if (topic == "exit" || topic == "\\q") {
        topic = "quit";
    } else if (topic == "now") {
        topic = "timestamp";
    } else if (topic == "\\help" || topic == "\\?" || topic == "\\h" || topic == "?") {
        topic = "help";
    }
    std::vector<CommandHelp> shown;
    std::size_t num_phenixql = 0;  // the first num_phenixql of `shown` are PhenixQL statements
    for (const CommandHelp& help : kPhenixQlHelp) {
        const std::string_view usage = help.usage;
        const bool is_phenixql_topic = topic == "phenixql" || topic == "sql";
        bool matches = topic.empty() || is_phenixql_topic;
        if (!matches && usage.size() > topic.size() && usage[topic.size()] == ' ') {
            matches = std::equal(topic.begin(), topic.end(), usage.begin(), [](char a, char b) {
                return std::toupper(static_cast<unsigned char>(a)) == b;
            });
        }
        if (matches) {
            shown.push_back(help);
            ++num_phenixql;
        }
    }
    for (const CommandHelp& help : AllCommandHelp()) {
        const std::string_view usage = help.usage;
        const bool matches =
            topic.empty() || usage == topic ||
            (usage.starts_with(topic) && usage.size() > topic.size() && usage[topic.size()] == ' ');
        if (matches) {
            shown.push_back(help);
        }
    }
    if (shown.empty()) {
        return HelpTopicNotFound(topic);
    }
    if (printer_.Format() != OutputFormat::kTable) {
        std::string out;
        for (const CommandHelp& help : shown) {
            out += out.empty() ? "" : "\n";
            out += "{\"usage\":" + JsonString(help.usage) +
                   ",\"summary\":" + JsonString(help.summary) + "}";
        }
        printer_.PrintMessage({}, out);
        return Status::Ok();
    }
    // Long usages get their summary on the next line so that the list stays narrow.
    constexpr std::size_t kMaxUsageColumn = 34;
    std::size_t width = 0;
    for (const CommandHelp& help : shown) {
        if (help.usage.size() <= kMaxUsageColumn) {
            width = std::max(width, help.usage.size());
        }
    }
    std::string out;
    if (topic.empty()) {
        out +=
            "PhenixQL statements (end each with ';'; they may span lines; keywords are "
            "case-insensitive):\n";
    }
    for (std::size_t help_idx = 0; help_idx < shown.size(); ++help_idx) {
        const CommandHelp& help = shown[help_idx];
        if (topic.empty() && help_idx == num_phenixql) {
            out +=
                "\nCommands (one per line, ';' optional; keywords are case-insensitive; IDs may "
                "be quoted):\n";
        }
        out += "  " + std::string(help.usage);
        if (help.usage.size() > width) {
            out += "\n" + std::string(width + 4, ' ');
        } else {
            out += std::string(width - help.usage.size() + 2, ' ');
        }
        out += std::string(help.summary) + "\n";
    }
    if (topic.empty()) {
        out +=
            "Entity JSON: {\"id\": \"d1\", \"vector\": [0.1, 0.2], \"metadata\": {...}, "
            "\"edges\": [{\"label\": \"cites\", \"target\": \"d2\", \"weight\": 0.5}]}";
    } else {
        out.pop_back();
    }
    printer_.PrintMessage(out, {});
    return Status::Ok();
}

Status Shell::RunUseTenant(const Command& cmd) {
    auto tenants = db_.ListTenants();
    PHENIX_RETURN_IF_ERROR(tenants.status());
    if (std::find(tenants->begin(), tenants->end(), cmd.name) == tenants->end()) {
        return Status::NotFound("tenant '" + Printable(cmd.name) + "' does not exist");
    }
    session_.set_tenant(cmd.name);
    printer_.PrintOk();
    return Status::Ok();
}

Status Shell::RunScan(const Command& cmd) {
    const ScanOptions options{.start_after = cmd.after, .limit = cmd.limit, .include_edges = true};
    auto page = Read([&](auto& source) { return source.Scan(Ref(cmd.name), options); });
    PHENIX_RETURN_IF_ERROR(page.status());
    std::string next_hint;
    if (!page->next_start_after.empty()) {
        next_hint = "scan " + QuoteWord(cmd.name) + " limit " + std::to_string(cmd.limit) +
                    " after " + Printable(QuoteWord(page->next_start_after));
    }
    printer_.PrintEntities(page->entities, next_hint);
    return Status::Ok();
}

Status Shell::RunLoad(const Command& cmd) {
    PHENIX_RETURN_IF_ERROR(
        RefuseInTransaction("load", "it commits in batches of its own, outside any transaction"));
    // `load` is COPY ... FROM under its older name; COPY reports its errors (naming the file's
    // line) and its progress (through the session's progress callback).
    const std::string statement =
        "COPY " + QuoteIdentifier(cmd.name) + " FROM " + QuoteStringLiteral(cmd.path);
    const auto start = std::chrono::steady_clock::now();
    Result<QueryResult> result = session_.Execute(statement);
    // Erased rather than ended: the summary below (or the error) says what it said. COPY's
    // message is "COPY N" (N is `affected`): without ON_ERROR skip nothing is skipped.
    ClearProgress();
    if (!result.ok()) {
        return WithoutStatementPosition(result.status());
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto num_entities = static_cast<unsigned long long>(result->affected);
    const double rate = seconds > 0 ? static_cast<double>(num_entities) / seconds : 0.0;
    char text[160];
    std::snprintf(text, sizeof(text), "loaded %llu entities in %.2f s (%.0f/s)", num_entities,
                  seconds, rate);
    char json[160];
    std::snprintf(json, sizeof(json), R"({"loaded":%llu,"seconds":%.3f,"per_second":%.0f})",
                  num_entities, seconds, rate);
    printer_.PrintMessage(text, json);
    return Status::Ok();
}

Status Shell::RunSearch(const Command& cmd) {
    auto response =
        Read([&](auto& source) { return source.Search(Ref(cmd.name), cmd.query, cmd.search); });
    PHENIX_RETURN_IF_ERROR(response.status());
    printer_.PrintSearch(*response, cmd.search, cmd.explain);
    return Status::Ok();
}

Status Shell::RunReindex(const Command& cmd) {
    TerminalProgress progress;
    const auto start = std::chrono::steady_clock::now();
    Status rebuilt = db_.RebuildVectorIndex(
        Ref(cmd.name),
        [&](std::uint64_t done, std::uint64_t total) { progress.Update(done, total); });
    progress.Finish();
    PHENIX_RETURN_IF_ERROR(rebuilt);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto info = db_.GetVectorIndexInfo(Ref(cmd.name));
    PHENIX_RETURN_IF_ERROR(info.status());
    char text[200];
    std::snprintf(text, sizeof(text), "rebuilt the vector index: %llu nodes (%llu live) in %.2f s",
                  static_cast<unsigned long long>(info->nodes),
                  static_cast<unsigned long long>(info->live_nodes), seconds);
    char json[200];
    std::snprintf(json, sizeof(json),
                  R"({"reindexed":true,"nodes":%llu,"live_nodes":%llu,"seconds":%.3f})",
                  static_cast<unsigned long long>(info->nodes),
                  static_cast<unsigned long long>(info->live_nodes), seconds);
    printer_.PrintMessage(text, json);
    return Status::Ok();
}

Status Shell::RunCreateIndex(const Command& cmd) {
    PHENIX_RETURN_IF_ERROR(RefuseInTransaction("create index", "DDL is not transactional"));
    TerminalProgress progress;
    Status created = db_.CreateIndex(
        Ref(cmd.name), cmd.path,
        [&](std::uint64_t done, std::uint64_t total) { progress.Update(done, total); });
    progress.Finish();
    PHENIX_RETURN_IF_ERROR(created);
    printer_.PrintOk();
    return Status::Ok();
}

Status Shell::RunFind(const Command& cmd) {
    auto response = Read([&](auto& source) { return source.Find(Ref(cmd.name), cmd.find); });
    PHENIX_RETURN_IF_ERROR(response.status());
    printer_.PrintFind(*response, cmd.find, cmd.explain);
    return Status::Ok();
}

Status Shell::RunGraph(const Command& cmd) {
    const CollectionRef ref = Ref(cmd.name);
    switch (cmd.kind) {
        case CommandKind::kTraverse: {
            auto response = Read([&](auto& source) { return source.Traverse(ref, cmd.traversal); });
            PHENIX_RETURN_IF_ERROR(response.status());
            printer_.PrintTraversal(*response);
            return Status::Ok();
        }
        case CommandKind::kPaths: {
            auto response = Read([&](auto& source) { return source.FindPaths(ref, cmd.paths); });
            PHENIX_RETURN_IF_ERROR(response.status());
            printer_.PrintPaths(*response, cmd.name);
            return Status::Ok();
        }
        case CommandKind::kShortest: {
            auto path = Read([&](auto& source) { return source.ShortestPath(ref, cmd.shortest); });
            PHENIX_RETURN_IF_ERROR(path.status());
            printer_.PrintShortestPath(*path, cmd.name, cmd.shortest.from_id, cmd.shortest.to_id);
            return Status::Ok();
        }
        case CommandKind::kDegree: {
            auto degree = Read(
                [&](auto& source) { return source.Degree(ref, cmd.id, cmd.direction, cmd.edges); });
            PHENIX_RETURN_IF_ERROR(degree.status());
            const std::string text = std::to_string(*degree);
            printer_.PrintMessage(text, R"({"degree":)" + text + "}");
            return Status::Ok();
        }
        default:
            return Status::Internal("RunGraph called for a command that is not a graph command");
    }
}

Status Shell::RunBegin(const Command& cmd) {
    if (InTransaction()) {
        return Status::FailedPrecondition("a transaction is already open: " +
                                          DescribeTransaction() + "; commit or rollback it first");
    }
    PHENIX_RETURN_IF_ERROR(session_.Begin({.read_only = cmd.read_only, .as_of = cmd.as_of}));
    counted_txn_ = Txn();
    num_txn_writes_ = 0;
    const std::string ts = std::to_string(Txn()->read_timestamp());
    const std::string_view mode = cmd.read_only ? "read-only" : "read-write";
    printer_.PrintMessage("began " + std::string(mode) + " transaction (snapshot " + ts + ")",
                          R"({"began":true,"read_only":)" +
                              std::string(cmd.read_only ? "true" : "false") + R"(,"snapshot":)" +
                              ts + "}");
    return Status::Ok();
}

Status Shell::RunCommit() {
    if (!InTransaction()) {
        return Status::FailedPrecondition(std::string(kNoTransaction));
    }
    // Commit finishes the transaction whatever its outcome.
    counted_txn_ = nullptr;
    auto committed = session_.Commit();
    if (!committed.ok()) {
        const Status& status = committed.status();
        std::string hint = "; the transaction was rolled back";
        if (status.code() == StatusCode::kAborted) {
            hint += " and can be retried: run it again from 'begin'";
        }
        return {status.code(), status.message() + hint};
    }
    const std::string ts = std::to_string(*committed);
    printer_.PrintMessage("committed at " + ts, R"({"committed_at":)" + ts + "}");
    return Status::Ok();
}

Status Shell::RunRollback() {
    if (!InTransaction()) {
        return Status::FailedPrecondition(std::string(kNoTransaction));
    }
    counted_txn_ = nullptr;
    PHENIX_RETURN_IF_ERROR(session_.Rollback());
    printer_.PrintMessage("rolled back", R"({"rolled_back":true})");
    return Status::Ok();
}

std::string Shell::RollBackOpenTransaction() {
    if (!InTransaction()) {
        return {};
    }
    std::string what = DescribeTransaction();
    // Rollback is documented to succeed; destroying the transaction would roll it back anyway.
    session_.Rollback().IgnoreError();
    counted_txn_ = nullptr;
    return what;
}

Status Shell::RefuseInTransaction(std::string_view what, std::string_view why) const {
    if (!InTransaction()) {
        return Status::Ok();
    }
    return Status::FailedPrecondition(std::string(what) + " cannot run inside a transaction (" +
                                      std::string(why) + "); commit or rollback first");
}

std::string Shell::DescribeTransaction() const {
    const Transaction* txn = Txn();
    if (txn == nullptr) {
        return {};
    }
    const bool is_read_only = session_.transaction_read_only();
    const std::size_t num_writes = txn == counted_txn_ ? num_txn_writes_ : 0;
    std::string out = is_read_only ? "read-only" : "read-write";
    out += " transaction (snapshot " + std::to_string(txn->read_timestamp());
    if (!is_read_only) {
        out += ", " + std::to_string(num_writes) +
               (num_writes == 1 ? " uncommitted write" : " uncommitted writes");
    }
    return out + ")";
}

}  // namespace phenix::shell
