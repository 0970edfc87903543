// SPDX-License-Identifier: Apache-2.0
#include "shell.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <phenix/json.h>

#include "line_input.h"
#include "loader.h"

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

Status HelpTopicNotFound(std::string_view topic) {
    return Status::NotFound("no help for '" + Printable(topic) +
                            "' (type 'help' for the list of commands)");
}

}  // namespace

template <typename Op>
auto Shell::Read(Op&& op) {
    return txn_ != nullptr ? op(*txn_) : op(db_);
}

template <typename Op>
Status Shell::Write(Op&& op) {
    if (txn_ == nullptr) {
        return op(db_);
    }
    Status status = op(*txn_);
    if (status.ok()) {
        ++num_txn_writes_;
    }
    return status;
}

Status Shell::Execute(std::string_view statement) {
    auto cmd = ParseCommand(statement);
    if (!cmd.ok()) {
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
        std::fprintf(stderr, "Time: %.3f ms\n", ms);
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
            auto collections = db_.ListCollections(tenant_);
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
            printer_.PrintTenants(*tenants, tenant_);
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
    if (printer_.Format() == OutputFormat::kJson) {
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
            "Commands (keywords are case-insensitive; IDs may be quoted; ';' separates "
            "commands):\n";
    }
    for (const CommandHelp& help : shown) {
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
    tenant_ = cmd.name;
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
    LoadOptions options{.show_progress = ::isatty(STDERR_FILENO) == 1};
    if (is_interactive_) {
        options.is_cancelled = [] { return TakeInterrupt(); };
    }
    auto stats = LoadJsonLines(db_, Ref(cmd.name), cmd.path, options);
    PHENIX_RETURN_IF_ERROR(stats.status());
    const double rate =
        stats->seconds > 0 ? static_cast<double>(stats->num_entities) / stats->seconds : 0.0;
    char text[160];
    std::snprintf(text, sizeof(text), "loaded %llu entities in %.2f s (%.0f/s)",
                  static_cast<unsigned long long>(stats->num_entities), stats->seconds, rate);
    char json[160];
    std::snprintf(json, sizeof(json), R"({"loaded":%llu,"seconds":%.3f,"per_second":%.0f})",
                  static_cast<unsigned long long>(stats->num_entities), stats->seconds, rate);
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
    if (txn_ != nullptr) {
        return Status::FailedPrecondition("a transaction is already open: " +
                                          DescribeTransaction() + "; commit or rollback it first");
    }
    auto txn = db_.BeginTransaction({.read_only = cmd.read_only, .as_of = cmd.as_of});
    PHENIX_RETURN_IF_ERROR(txn.status());
    txn_ = std::move(txn).value();
    txn_read_only_ = cmd.read_only;
    num_txn_writes_ = 0;
    const std::string ts = std::to_string(txn_->read_timestamp());
    const std::string_view mode = cmd.read_only ? "read-only" : "read-write";
    printer_.PrintMessage("began " + std::string(mode) + " transaction (snapshot " + ts + ")",
                          R"({"began":true,"read_only":)" +
                              std::string(cmd.read_only ? "true" : "false") + R"(,"snapshot":)" +
                              ts + "}");
    return Status::Ok();
}

Status Shell::RunCommit() {
    if (txn_ == nullptr) {
        return Status::FailedPrecondition(std::string(kNoTransaction));
    }
    // Commit finishes the transaction whatever its outcome.
    const std::unique_ptr<Transaction> txn = std::move(txn_);
    auto committed = txn->Commit();
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
    if (txn_ == nullptr) {
        return Status::FailedPrecondition(std::string(kNoTransaction));
    }
    const std::unique_ptr<Transaction> txn = std::move(txn_);
    PHENIX_RETURN_IF_ERROR(txn->Rollback());
    printer_.PrintMessage("rolled back", R"({"rolled_back":true})");
    return Status::Ok();
}

std::string Shell::RollBackOpenTransaction() {
    if (txn_ == nullptr) {
        return {};
    }
    std::string what = DescribeTransaction();
    // Rollback is documented to succeed; destroying the transaction would roll it back anyway.
    txn_->Rollback().IgnoreError();
    txn_.reset();
    return what;
}

Status Shell::RefuseInTransaction(std::string_view what, std::string_view why) const {
    if (txn_ == nullptr) {
        return Status::Ok();
    }
    return Status::FailedPrecondition(std::string(what) + " cannot run inside a transaction (" +
                                      std::string(why) + "); commit or rollback first");
}

std::string Shell::DescribeTransaction() const {
    if (txn_ == nullptr) {
        return {};
    }
    std::string out = txn_read_only_ ? "read-only" : "read-write";
    out += " transaction (snapshot " + std::to_string(txn_->read_timestamp());
    if (!txn_read_only_) {
        out += ", " + std::to_string(num_txn_writes_) +
               (num_txn_writes_ == 1 ? " uncommitted write" : " uncommitted writes");
    }
    return out + ")";
}

}  // namespace phenix::shell
