// SPDX-License-Identifier: Apache-2.0
#include "shell.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>

#include "line_input.h"

namespace phenix::shell {

namespace {

// The PhenixQL statements, for \? (docs/query-language.md has the grammar).
constexpr std::array<MetaHelp, 34> kStatementHelp = {{
    {"CREATE COLLECTION name [(DIMENSION n, METRIC l2|cosine|ip)] [WITH (m = 16, "
     "ef_construction = 200, ef_search = 64, quantization = 'none'|'int8')];",
     "create a collection (WITH: its vector index settings)"},
    {"DROP COLLECTION name;", "drop a collection, its entities and the edges into it"},
    {"SHOW COLLECTIONS;", "list the collections of the current tenant"},
    {"DESCRIBE name;", "a collection's settings, size and indexes"},
    {"CREATE INDEX ON name (metadata.path);", "index a metadata path"},
    {"DROP INDEX ON name (metadata.path);", "drop a metadata index"},
    {"SHOW INDEXES [ON name];", "vector and metadata indexes: settings, state, statistics"},
    {"ANALYZE [name];", "recompute the statistics of the metadata indexes"},
    {"REINDEX name;", "rebuild a collection's vector index from its entities"},
    {"VERIFY;", "check that indexes and edges agree with the stored entities"},
    {"CREATE TENANT name;", "create a tenant"},
    {"SHOW TENANTS;", "list tenants (current marks the session's)"},
    {"USE TENANT name;", "make later statements refer to the tenant's collections"},
    {"INSERT INTO name (id, vector, metadata, edges) VALUES (...), ... "
     "[ON CONFLICT (id) DO NOTHING|UPDATE];",
     "insert entities (or skip / update existing ids: upsert)"},
    {"UPDATE name SET metadata.path = value | metadata = metadata || {...} | metadata = {...}, "
     "... WHERE ...;",
     "change entities (merge-patch, replace metadata)"},
    {"DELETE FROM name WHERE ...;", "delete entities and every edge from or to them"},
    {"SELECT cols FROM name [AS OF ts] [WHERE ...] [GROUP BY ...] [HAVING ...] [ORDER BY ...] "
     "[LIMIT n] [OFFSET n] [WITH (ef = n)];",
     "query; vector <-> v (L2), <=> (cosine), <#> (negative inner product), distance(vector, v)"},
    {"SELECT ... FROM MATCH (a:name)-[e:label*1..2 WHERE ...]->(b:name) ...;",
     "graph pattern query"},
    {"SELECT count(*), min(x), max(x), avg(x), sum(x) FROM name GROUP BY metadata.path;",
     "aggregates"},
    {"SELECT * FROM edges('name', 'id' [, direction = 'out'|'in'|'both']);", "an entity's edges"},
    {"SELECT * FROM traverse('name', 'id' [, hops = n | min_hops = n, max_hops = n, ...]);",
     "entities reachable from id, nearest first (also neighbors)"},
    {"SELECT * FROM paths('name', 'from' [, 'to'] [, min_hops = 1, max_hops = 3, ...]);",
     "paths without repeated entities"},
    {"SELECT * FROM shortest_path('name', 'from', 'to' [, unweighted = true, ...]);",
     "the path of least total weight, one row per step"},
    {"SELECT * FROM degree('name', 'id' [, direction = ..., label = '...']);",
     "the number of an entity's matching edges"},
    {"EXPLAIN [ANALYZE] SELECT ...;", "show the plan of a query (ANALYZE: and run it)"},
    {"COPY name FROM 'file.jsonl' [(ON_ERROR skip)];", "bulk-load (upsert) JSON lines"},
    {"COPY name TO 'file.jsonl';", "export a collection as JSON lines"},
    {"BEGIN [READ ONLY] [AS OF ts];", "start a transaction (AS OF: read the past, read-only)"},
    {"COMMIT;", "commit it; prints COMMIT <timestamp>"},
    {"ROLLBACK;", "discard it"},
    {"SHOW TIMESTAMP;", "the current commit timestamp, for BEGIN READ ONLY AS OF"},
    {"SHOW STATS [FOR name]; | SHOW DATABASE STATS;",
     "the health summary (also: phenix stats on the command line)"},
    {"-- ... | /* ... */", "comments"},
    {"edge options",
     "direction = 'out'|'in'|'both', label = 'a,b', min_weight = x, "
     "max_weight = y"},
}};

// The older command language's words, with the PhenixQL that replaces each: the hint an error
// gives when a statement starts with one and PhenixQL cannot read it (docs/shell.md, "From the
// older commands"). `phenixql_second`: the second word with which the first is PhenixQL
// (INSERT INTO, DELETE FROM, USE TENANT), whose errors are PhenixQL's own.
struct OldCommand {
    std::string_view word;
    std::string_view phenixql_second;
    std::string_view replacement;
};

constexpr std::array<OldCommand, 22> kOldCommands = {{
    {"get", "", "SELECT * FROM coll WHERE id = 'ID';"},
    {"scan", "", "SELECT * FROM coll ORDER BY id LIMIT n [OFFSET n];"},
    {"find", "", "SELECT id FROM coll WHERE metadata.x = ...;"},
    {"search", "", "SELECT id, vector <-> [...] AS distance FROM coll ORDER BY distance LIMIT k;"},
    {"upsert", "", "INSERT INTO coll (...) VALUES (...) ON CONFLICT (id) DO UPDATE;"},
    {"patch", "", "UPDATE coll SET metadata = metadata || {...} WHERE id = 'ID';"},
    {"set-metadata", "", "UPDATE coll SET metadata = {...} WHERE id = 'ID';"},
    {"load", "", "COPY coll FROM 'file.jsonl';"},
    {"edges", "", "SELECT * FROM edges('coll', 'ID');"},
    {"traverse", "", "SELECT * FROM traverse('coll', 'ID', hops = 2);"},
    {"paths", "", "SELECT * FROM paths('coll', 'FROM', 'TO');"},
    {"shortest", "", "SELECT * FROM shortest_path('coll', 'FROM', 'TO');"},
    {"degree", "", "SELECT * FROM degree('coll', 'ID');"},
    {"index", "", "SHOW INDEXES ON coll;"},
    {"indexes", "", "SHOW INDEXES ON coll;"},
    {"collections", "", "SHOW COLLECTIONS; (or \\dt)"},
    {"tenants", "", "SHOW TENANTS; (or \\dn)"},
    {"timestamp", "", "SHOW TIMESTAMP;"},
    {"now", "", "SHOW TIMESTAMP;"},
    {"insert", "into", "INSERT INTO coll (id, vector, metadata) VALUES ('ID', [...], {...});"},
    {"delete", "from", "DELETE FROM coll WHERE id = 'ID';"},
    {"use", "tenant", "USE TENANT name;"},
}};

std::string Lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    return out;
}

// The first `count` words of a statement (runs of letters, digits, '_' and '-'), lowercased.
std::vector<std::string> FirstWords(std::string_view statement, std::size_t count) {
    std::vector<std::string> words;
    std::size_t pos = 0;
    while (words.size() < count) {
        const std::size_t begin = statement.find_first_not_of(" \t\r\n", pos);
        if (begin == std::string_view::npos) {
            break;
        }
        std::size_t end = begin;
        while (end < statement.size() &&
               (std::isalnum(static_cast<unsigned char>(statement[end])) != 0 ||
                statement[end] == '_' || statement[end] == '-')) {
            ++end;
        }
        if (end == begin) {
            break;
        }
        words.push_back(Lower(statement.substr(begin, end - begin)));
        pos = end;
    }
    return words;
}

std::string FirstWord(std::string_view statement) {
    std::vector<std::string> words = FirstWords(statement, 1);
    return words.empty() ? std::string() : words.front();
}

}  // namespace

Shell::Shell(Backend& backend, Printer& printer, bool progress_asked)
    : backend_(backend), printer_(printer) {
    // ^C (when the shell catches it: interactive input) stops a running COPY, UPDATE or DELETE
    // between chunks; what was written stays written. Remote: it closes the connection, and the
    // server stops the statement.
    backend_.SetInterrupt([] { return TakeInterrupt(); });
    // COPY, CREATE INDEX, REINDEX, UPDATE and DELETE report progress about once a second (and
    // COPY once at its end), embedded and remote alike: shown on one line of a terminal,
    // overwritten in place; when stderr is a file or a pipe, nothing unless --progress asked,
    // then one line each. Never on stdout, which holds the results.
    if (::isatty(STDERR_FILENO) == 1) {
        backend_.SetProgress([this](std::string_view line) {
            std::fprintf(stderr, "\r%s\x1b[K", Printable(line).c_str());
            std::fflush(stderr);
            has_progress_line_ = true;
        });
    } else if (progress_asked) {
        backend_.SetProgress([](std::string_view line) {
            std::fprintf(stderr, "%s\n", Printable(line).c_str());
            std::fflush(stderr);
        });
    }
}

Shell::~Shell() = default;

void Shell::PrintTiming(double ms) const {
    // On stderr, so that JSON and CSV output stay clean (and table output too, for scripts
    // that compare it).
    std::fprintf(stderr, "Time: %.3f ms\n", ms);
    std::fflush(stderr);
}

void Shell::FinishProgress() {
    if (has_progress_line_) {
        std::fprintf(stderr, "\n");
        std::fflush(stderr);
        has_progress_line_ = false;
    }
}

namespace {

// Prints a statement's rows as they arrive (a long SELECT shows its first rows at once, and its
// result never sits whole in the shell's memory).
class PrintingSink final : public RowSink {
  public:
    PrintingSink(Printer& printer, std::function<void()> before_first)
        : printer_(printer), before_first_(std::move(before_first)) {}

    Status OnColumns(const std::vector<std::string>& columns) override {
        before_first_();
        printer_.StartRows(columns);
        started_ = true;
        return Status::Ok();
    }
    Status OnRows(std::vector<std::vector<QueryValue>> rows) override {
        printer_.AddRows(rows);
        return Status::Ok();
    }
    [[nodiscard]] bool started() const { return started_; }

  private:
    Printer& printer_;
    std::function<void()> before_first_;
    bool started_ = false;
};

}  // namespace

Status Shell::ExecuteQuery(std::string_view statement) {
    const auto start = std::chrono::steady_clock::now();
    const bool was_in_transaction = InTransaction();
    PrintingSink sink(printer_, [this] { FinishProgress(); });
    Result<QueryResult> result = backend_.Execute(statement, sink);
    FinishProgress();
    if (sink.started()) {
        printer_.FinishRows(result.ok());
    }
    if (!was_in_transaction || !InTransaction()) {
        num_txn_writes_ = 0;  // a transaction began (or none is open): nothing written in it yet
    }
    if (!result.ok()) {
        return Explain(statement, result.status(), was_in_transaction);
    }
    if (InTransaction()) {
        num_txn_writes_ += static_cast<std::size_t>(result->affected);
    }
    if (!sink.started()) {
        printer_.PrintQueryResult(*result);  // a message ("INSERT 2"), or no rows
    }
    if (timing_) {
        PrintTiming(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
    }
    return Status::Ok();
}

Status Shell::Explain(std::string_view statement, const Status& status,
                      bool was_in_transaction) const {
    const std::string_view message = status.message();
    if (status.code() == StatusCode::kFailedPrecondition &&
        message.starts_with("a transaction is already open") && InTransaction()) {
        return Status::FailedPrecondition("a transaction is already open: " +
                                          DescribeTransaction() + "; COMMIT or ROLLBACK it first");
    }
    if (was_in_transaction && !InTransaction() && FirstWord(statement) == "commit") {
        // COMMIT finishes the transaction whatever its outcome.
        std::string hint = "; the transaction was rolled back";
        if (status.code() == StatusCode::kAborted) {
            hint += " and can be retried: run it again from BEGIN";
        }
        return {status.code(), std::string(message) + hint};
    }
    // A syntax error in a statement that starts like one of the older commands: say what to
    // write instead.
    if (status.code() == StatusCode::kInvalidArgument &&
        (message.find(": expected ") != std::string_view::npos ||
         message.find(": unexpected ") != std::string_view::npos)) {
        const std::vector<std::string> words = FirstWords(statement, 2);
        for (const OldCommand& old : kOldCommands) {
            if (words.empty() || words[0] != old.word ||
                (!old.phenixql_second.empty() && words.size() > 1 &&
                 words[1] == old.phenixql_second)) {
                continue;
            }
            return Status::InvalidArgument(std::string(message) + " (the shell's older '" +
                                           words[0] + "' command is PhenixQL now: " +
                                           std::string(old.replacement) + " \\? lists it all)");
        }
    }
    return status;
}

Status Shell::ExecuteMeta(std::string_view line) {
    PHENIX_ASSIGN_OR_RETURN(MetaCommand command, ParseMetaCommand(line));
    if (std::optional<std::string> statement = MetaStatement(command); statement.has_value()) {
        return ExecuteQuery(*statement);
    }
    switch (command.kind) {
        case MetaKind::kQuit:
            quit_requested_ = true;
            return Status::Ok();
        case MetaKind::kHelp:
            return RunHelp(command.argument);
        case MetaKind::kTiming:
            timing_ = command.enable.value_or(!timing_);
            printer_.PrintMessage(timing_ ? "Timing is on." : "Timing is off.",
                                  timing_ ? R"({"timing":true})" : R"({"timing":false})");
            return Status::Ok();
        case MetaKind::kDescribe:
        case MetaKind::kListCollections:
        case MetaKind::kListIndexes:
        case MetaKind::kListTenants:
            break;
    }
    return Status::Internal("unhandled meta-command");
}

Status Shell::RunHelp(const std::string& topic) {
    // A topic selects the statements whose usage starts with it ("select", "create", "show")
    // and the meta-commands whose name it is ("\d", "timing").
    auto matches = [&topic](std::string_view usage) {
        if (topic.empty()) {
            return true;
        }
        const std::string lowered = Lower(usage);
        const std::string bare = topic.starts_with('\\') ? topic.substr(1) : topic;
        if (lowered.starts_with(topic) || lowered.starts_with("\\" + bare)) {
            const std::size_t end = lowered.starts_with(topic) ? topic.size() : bare.size() + 1;
            return end == lowered.size() || lowered[end] == ' ' || lowered[end] == ';' ||
                   lowered[end] == '(';
        }
        return false;
    };
    std::vector<MetaHelp> statements;
    for (const MetaHelp& help : kStatementHelp) {
        if (matches(help.usage)) {
            statements.push_back(help);
        }
    }
    std::vector<MetaHelp> metas;
    for (const MetaHelp& help : AllMetaHelp()) {
        if (matches(help.usage)) {
            metas.push_back(help);
        }
    }
    if (statements.empty() && metas.empty()) {
        return Status::NotFound("no help for '" + Printable(topic) +
                                "' (\\? lists the statements and meta-commands)");
    }
    if (printer_.Format() != OutputFormat::kTable) {
        std::string out;
        for (const auto* list : {&statements, &metas}) {
            for (const MetaHelp& help : *list) {
                out += out.empty() ? "" : "\n";
                out += "{\"usage\":" + JsonString(help.usage) +
                       ",\"summary\":" + JsonString(help.summary) + "}";
            }
        }
        printer_.PrintMessage({}, out);
        return Status::Ok();
    }
    // Long usages get their summary on the next line so that the list stays narrow.
    constexpr std::size_t kMaxUsageColumn = 34;
    auto render = [&](const std::vector<MetaHelp>& list, std::string& out) {
        std::size_t width = 0;
        for (const MetaHelp& help : list) {
            if (help.usage.size() <= kMaxUsageColumn) {
                width = std::max(width, help.usage.size());
            }
        }
        for (const MetaHelp& help : list) {
            out += "  " + std::string(help.usage);
            if (help.usage.size() > width) {
                out += "\n" + std::string(width + 4, ' ');
            } else {
                out += std::string(width - help.usage.size() + 2, ' ');
            }
            out += std::string(help.summary) + "\n";
        }
    };
    std::string out;
    if (!statements.empty()) {
        if (topic.empty()) {
            out +=
                "PhenixQL statements (end each with ';'; they may span lines; keywords are "
                "case-insensitive):\n";
        }
        render(statements, out);
    }
    if (!metas.empty()) {
        if (topic.empty()) {
            out += "\nMeta-commands (one per line, no ';' needed):\n";
        }
        render(metas, out);
    }
    out.pop_back();
    printer_.PrintMessage(out, {});
    return Status::Ok();
}

std::string Shell::RollBackOpenTransaction() {
    if (!InTransaction()) {
        return {};
    }
    std::string what = DescribeTransaction();
    // Embedded, rollback is documented to succeed (destroying the transaction would roll it
    // back anyway); remote, the server rolls back what it cannot reach once idle too long.
    if (Status rolled_back = backend_.Rollback(); !rolled_back.ok()) {
        return what + " (the server did not confirm: " + rolled_back.ToString() + ")";
    }
    num_txn_writes_ = 0;
    return what;
}

std::string Shell::DescribeTransaction() const {
    if (!InTransaction()) {
        return {};
    }
    const bool is_read_only = InReadOnlyTransaction();
    const std::size_t num_writes = num_txn_writes_;
    std::string out = is_read_only ? "read-only" : "read-write";
    std::string details;
    if (std::optional<std::uint64_t> snapshot = backend_.TransactionSnapshot()) {
        details = "snapshot " + std::to_string(*snapshot);
    }
    if (!is_read_only) {
        details += (details.empty() ? "" : ", ") + std::to_string(num_writes) +
                   (num_writes == 1 ? " uncommitted write" : " uncommitted writes");
    }
    return out + " transaction" + (details.empty() ? std::string() : " (" + details + ")");
}

}  // namespace phenix::shell
