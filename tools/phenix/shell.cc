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

Status HelpTopicNotFound(std::string_view topic) {
    return Status::NotFound("no help for '" + Printable(topic) +
                            "' (type 'help' for the list of commands)");
}

}  // namespace

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
            PHENIX_RETURN_IF_ERROR(db_.CreateCollection(
                {.ref = Ref(cmd.name), .dimension = cmd.dimension, .metric = cmd.metric}));
            printer_.PrintOk();
            return Status::Ok();
        }
        case CommandKind::kDropCollection:
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
            PHENIX_RETURN_IF_ERROR(cmd.kind == CommandKind::kInsert
                                       ? db_.Insert(Ref(cmd.name), *entity)
                                       : db_.Upsert(Ref(cmd.name), *entity));
            printer_.PrintOk();
            return Status::Ok();
        }
        case CommandKind::kGet: {
            auto entity = db_.Get(Ref(cmd.name), cmd.id);
            PHENIX_RETURN_IF_ERROR(entity.status());
            printer_.PrintEntities({&*entity, 1});
            return Status::Ok();
        }
        case CommandKind::kDelete:
            PHENIX_RETURN_IF_ERROR(db_.Delete(Ref(cmd.name), cmd.id));
            printer_.PrintOk();
            return Status::Ok();
        case CommandKind::kPatch:
            PHENIX_RETURN_IF_ERROR(db_.PatchMetadata(Ref(cmd.name), cmd.id, cmd.json));
            printer_.PrintOk();
            return Status::Ok();
        case CommandKind::kSetMetadata:
            PHENIX_RETURN_IF_ERROR(db_.ReplaceMetadata(Ref(cmd.name), cmd.id, cmd.json));
            printer_.PrintOk();
            return Status::Ok();
        case CommandKind::kEdges: {
            auto edges = db_.ListEdges(Ref(cmd.name), cmd.id, cmd.direction);
            PHENIX_RETURN_IF_ERROR(edges.status());
            printer_.PrintEdges(*edges);
            return Status::Ok();
        }
        case CommandKind::kScan:
            return RunScan(cmd);
        case CommandKind::kLoad:
            return RunLoad(cmd);
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
    auto page = db_.Scan(Ref(cmd.name),
                         {.start_after = cmd.after, .limit = cmd.limit, .include_edges = true});
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

}  // namespace phenix::shell
