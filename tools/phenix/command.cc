// SPDX-License-Identifier: Apache-2.0
#include "command.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include <phenix/limits.h>

namespace phenix::shell {

namespace {

constexpr std::string_view kSearchUsage =
    "search NAME [x1, x2, ...] [k N] [ef N] [ids ID,...] [where {filter}] [from ID [hops N|M..N] "
    "[out|in|both] [label L,...] [weight >= X] [weight <= Y]] [strategy S] [with metadata] "
    "[with vector] [explain]";

constexpr std::array<CommandHelp, 37> kCommandHelp = {{
    {"help [COMMAND]", "list commands, or show how to use one (also \\help, \\?)"},
    {"quit", "leave the shell (also exit, \\q)"},
    {"create collection NAME [dim N] [metric l2|cosine|ip] [{settings json}]",
     "create a collection (settings: {\"hnsw\": {\"m\": 16, ...}})"},
    {"drop collection NAME", "drop a collection, its entities and edges into it"},
    {"collections", "list the collections of the current tenant"},
    {"describe NAME", "show a collection's settings and entity count"},
    {"create tenant NAME", "create a tenant"},
    {"tenants", "list tenants"},
    {"use tenant NAME", "make later commands refer to NAME's collections"},
    {"insert NAME {entity json}", "insert a new entity (fails if the id exists)"},
    {"upsert NAME {entity json}", "insert or replace an entity (keeps its in-edges)"},
    {"get NAME ID", "show one entity"},
    {"delete NAME ID", "delete an entity and every edge from or to it"},
    {"patch NAME ID {merge patch json}", "merge-patch an entity's metadata (null removes a key)"},
    {"set-metadata NAME ID {json object}", "replace an entity's metadata"},
    {"edges NAME ID [out|in|both]", "list an entity's edges (default out)"},
    {"scan NAME [limit N] [after ID]", "list entities in id order, one page (default limit 100)"},
    {"load NAME FILE", "upsert the entities of a JSON-lines file (runs COPY NAME FROM 'FILE')"},
    {kSearchUsage,
     "the k (default 10) entities nearest to a vector, and the plan; S: auto, exact_scan, "
     "in_graph, post_filter"},
    {"index NAME", "show a collection's vector index: settings, size, freshness, memory"},
    {"reindex NAME", "rebuild a collection's vector index from its entities"},
    {"create index NAME PATH", "index a metadata path (\"category\", \"author.name\", \"tags\")"},
    {"drop index NAME PATH", "drop the index on a metadata path"},
    {"indexes NAME", "list a collection's metadata indexes with their statistics"},
    {"analyze NAME", "recompute the statistics of a collection's metadata indexes"},
    {"find NAME [{filter json}] [limit N] [count] [explain]",
     "ids of the entities whose metadata matches a filter (default limit 100)"},
    {"traverse NAME ID [hops N|M..N] [out|in|both] [label L,...] [weight >= X] [weight <= Y] "
     "[limit N] [with start]",
     "the entities reachable from ID within the hops (default 1), nearest first"},
    {"paths NAME FROM [to ID] [hops N|M..N] [out|in|both] [label L,...] [weight >= X] "
     "[weight <= Y] [limit N]",
     "paths without repeated entities from FROM (default hops 1..3)"},
    {"shortest NAME FROM TO [out|in|both] [label L,...] [weight >= X] [weight <= Y]",
     "the path of least total weight from FROM to TO"},
    {"degree NAME ID [out|in|both] [label L,...] [weight >= X] [weight <= Y]",
     "the number of an entity's edges that match (default out)"},
    {"begin [read only] [as of TIMESTAMP]",
     "start a transaction for the following reads and writes (as of implies read only)"},
    {"commit", "commit the open transaction and print its commit timestamp"},
    {"rollback", "discard the open transaction and its writes"},
    {"timestamp", "print the current commit timestamp, for 'begin as of' (also now)"},
    {"verify", "check that indexes and edges agree with the stored entities"},
    {"\\timing [on|off]", "toggle printing each command's elapsed time"},
    {"# ... | -- ...", "a comment line"},
}};

// Every word that starts a command, for "did you mean" suggestions.
constexpr std::array<std::string_view, 42> kCommandWords = {
    "help",         "quit",   "exit",     "create",    "drop",     "collections", "describe",
    "tenants",      "use",    "insert",   "upsert",    "get",      "delete",      "patch",
    "set-metadata", "edges",  "scan",     "load",      "search",   "index",       "reindex",
    "begin",        "commit", "rollback", "timestamp", "now",      "verify",      "\\timing",
    "\\help",       "\\?",    "\\q",      "\\h",       "tenant",   "collection",  "indexes",
    "analyze",      "find",   "traverse", "paths",     "shortest", "degree",      "explain",
};

// The largest k and ef a search accepts (SearchOptions; the engine checks again).
constexpr std::uint64_t kMaxSearchK = 10000;
constexpr std::uint64_t kMaxSearchEf = 10000;

// User text quoted in an error message is cut to this many bytes.
constexpr std::size_t kMaxShownBytes = 40;

constexpr std::string_view kWhitespace = " \t\r\n\v\f";

bool IsSpace(char c) {
    return kWhitespace.find(c) != std::string_view::npos;
}

std::string_view Trim(std::string_view text) {
    const auto begin = text.find_first_not_of(kWhitespace);
    if (begin == std::string_view::npos) {
        return {};
    }
    const auto end = text.find_last_not_of(kWhitespace);
    return text.substr(begin, end - begin + 1);
}

std::string Lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
}

std::string Upper(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    });
    return out;
}

// User text for an error message: cut short, control characters replaced.
std::string Shown(std::string_view text) {
    std::string out(text.substr(0, kMaxShownBytes));
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            c = '?';
        }
    }
    if (text.size() > kMaxShownBytes) {
        out += "...";
    }
    return out;
}

bool IsCommentStart(std::string_view text) {
    return text.starts_with('#') || text.starts_with("--");
}

// Reads words (bare or quoted) and the raw rest of a statement.
class Lexer {
  public:
    explicit Lexer(std::string_view text) : text_(text) {}

    [[nodiscard]] bool AtEnd() {
        SkipSpace();
        return pos_ >= text_.size();
    }

    // The next word: a run of non-space characters, or a '...' / "..." string in which a
    // backslash escapes the next character. Empty optional at the end of the statement.
    Result<std::optional<std::string>> NextWord() {
        if (AtEnd()) {
            return std::optional<std::string>();
        }
        const char first = text_[pos_];
        if (first != '"' && first != '\'') {
            const std::size_t begin = pos_;
            while (pos_ < text_.size() && !IsSpace(text_[pos_])) {
                ++pos_;
            }
            return std::optional<std::string>(std::string(text_.substr(begin, pos_ - begin)));
        }
        std::string word;
        for (++pos_; pos_ < text_.size(); ++pos_) {
            const char c = text_[pos_];
            if (c == '\\' && pos_ + 1 < text_.size()) {
                word.push_back(text_[++pos_]);
            } else if (c == first) {
                ++pos_;
                if (pos_ < text_.size() && !IsSpace(text_[pos_])) {
                    return Status::InvalidArgument("unexpected text right after a closing quote");
                }
                return std::optional<std::string>(std::move(word));
            } else {
                word.push_back(c);
            }
        }
        return Status::InvalidArgument(std::string("unterminated ") + first + " quote");
    }

    // The next character, or '\0' at the end of the statement.
    char Peek() { return AtEnd() ? '\0' : text_[pos_]; }

    // A bracketed array, '[' to its matching ']' (brackets inside "..." strings do not count),
    // which may contain spaces. The next character must be '['.
    Result<std::string> NextArray() { return NextBracketed('[', ']'); }

    // A JSON object, '{' to its matching '}', the same way. The next character must be '{'.
    Result<std::string> NextObject() { return NextBracketed('{', '}'); }

    // Everything not yet read, without surrounding whitespace.
    std::string_view Rest() {
        SkipSpace();
        std::string_view rest = Trim(text_.substr(pos_));
        pos_ = text_.size();
        return rest;
    }

  private:
    void SkipSpace() {
        while (pos_ < text_.size() && IsSpace(text_[pos_])) {
            ++pos_;
        }
    }

    // `open` to its matching `close`, counting both kinds of JSON brackets (an array inside an
    // object and the reverse) and skipping "..." strings.
    Result<std::string> NextBracketed(char open, char close) {
        SkipSpace();
        const std::size_t begin = pos_;
        std::size_t depth = 0;
        bool in_string = false;
        bool escaped = false;
        for (; pos_ < text_.size(); ++pos_) {
            const char c = text_[pos_];
            if (in_string) {
                if (escaped) {
                    escaped = false;
                } else if (c == '\\') {
                    escaped = true;
                } else if (c == '"') {
                    in_string = false;
                }
            } else if (c == '"') {
                in_string = true;
            } else if (c == '[' || c == '{') {
                ++depth;
            } else if ((c == ']' || c == '}') && depth > 0 && --depth == 0) {
                ++pos_;
                if (c != close) {
                    return Status::InvalidArgument(std::string("'") + open + "' closed by '" + c +
                                                   "'");
                }
                if (pos_ < text_.size() && !IsSpace(text_[pos_])) {
                    return Status::InvalidArgument(std::string("unexpected text right after '") +
                                                   close + "'");
                }
                return std::string(text_.substr(begin, pos_ - begin));
            }
        }
        return Status::InvalidArgument(std::string("unterminated '") + open + "' (missing '" +
                                       close + "')");
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

// Builds the InvalidArgument a malformed statement reports.
Status Usage(std::string_view command, std::string_view problem, std::string_view usage) {
    return Status::InvalidArgument(std::string(command) + ": " + std::string(problem) +
                                   "; usage: " + std::string(usage));
}

// Parses the arguments of one command, given its usage line for error messages.
class ArgParser {
  public:
    ArgParser(Lexer& lexer, std::string_view command, std::string_view usage)
        : lexer_(lexer), command_(command), usage_(usage) {}

    // A required positional word named `what` (e.g. "collection name").
    Result<std::string> Required(std::string_view what) {
        auto word = lexer_.NextWord();
        if (!word.ok()) {
            return Fail(word.status().message());
        }
        if (!word->has_value()) {
            return Fail("missing " + std::string(what));
        }
        return std::move(**word);
    }

    Result<std::optional<std::string>> Optional() {
        auto word = lexer_.NextWord();
        if (!word.ok()) {
            return Fail(word.status().message());
        }
        return std::move(*word);
    }

    // The rest of the statement as a JSON object.
    Result<std::string> Json(std::string_view what) {
        std::string_view rest = lexer_.Rest();
        if (rest.empty()) {
            return Fail("missing " + std::string(what));
        }
        if (!rest.starts_with('{')) {
            return Fail(std::string(what) + " must be a JSON object starting with '{'");
        }
        return std::string(rest);
    }

    Result<std::uint64_t> Number(std::string_view what, std::uint64_t max) {
        PHENIX_ASSIGN_OR_RETURN(std::string word, Required(what));
        return ParseNumber(word, what, 0, max);
    }

    // `word` as an integer from `min` to `max`.
    Result<std::uint64_t> ParseNumber(std::string_view word, std::string_view what,
                                      std::uint64_t min, std::uint64_t max) const {
        std::uint64_t value = 0;
        const char* end = word.data() + word.size();
        auto [ptr, ec] = std::from_chars(word.data(), end, value);
        if (ec != std::errc() || ptr != end || value < min || value > max) {
            return Fail(std::string(what) + " must be an integer from " + std::to_string(min) +
                        " to " + std::to_string(max) + ", not '" + Shown(word) + "'");
        }
        return value;
    }

    Status ExpectEnd() {
        if (lexer_.AtEnd()) {
            return Status::Ok();
        }
        auto word = lexer_.NextWord();
        if (!word.ok()) {
            return Fail(word.status().message());
        }
        return Fail("unexpected '" + Shown(word->value_or("")) + "'");
    }

    Status Fail(std::string_view problem) const { return Usage(command_, problem, usage_); }
    // Records an option in `seen`; an error when it was already given.
    Status Once(std::vector<std::string>& seen, std::string key) const {
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
            return Fail("'" + key + "' is given twice");
        }
        seen.push_back(std::move(key));
        return Status::Ok();
    }

  private:
    Lexer& lexer_;
    std::string_view command_;
    std::string_view usage_;
};

// The usage line of a command: its entry in kCommandHelp.
std::string_view UsageOf(CommandKind kind) {
    switch (kind) {
        case CommandKind::kHelp:
            return kCommandHelp[0].usage;
        case CommandKind::kQuit:
            return kCommandHelp[1].usage;
        case CommandKind::kCreateCollection:
            return kCommandHelp[2].usage;
        case CommandKind::kDropCollection:
            return kCommandHelp[3].usage;
        case CommandKind::kListCollections:
            return kCommandHelp[4].usage;
        case CommandKind::kDescribe:
            return kCommandHelp[5].usage;
        case CommandKind::kCreateTenant:
            return kCommandHelp[6].usage;
        case CommandKind::kListTenants:
            return kCommandHelp[7].usage;
        case CommandKind::kUseTenant:
            return kCommandHelp[8].usage;
        case CommandKind::kInsert:
            return kCommandHelp[9].usage;
        case CommandKind::kUpsert:
            return kCommandHelp[10].usage;
        case CommandKind::kGet:
            return kCommandHelp[11].usage;
        case CommandKind::kDelete:
            return kCommandHelp[12].usage;
        case CommandKind::kPatch:
            return kCommandHelp[13].usage;
        case CommandKind::kSetMetadata:
            return kCommandHelp[14].usage;
        case CommandKind::kEdges:
            return kCommandHelp[15].usage;
        case CommandKind::kScan:
            return kCommandHelp[16].usage;
        case CommandKind::kLoad:
            return kCommandHelp[17].usage;
        case CommandKind::kSearch:
            return kCommandHelp[18].usage;
        case CommandKind::kIndexInfo:
            return kCommandHelp[19].usage;
        case CommandKind::kReindex:
            return kCommandHelp[20].usage;
        case CommandKind::kCreateIndex:
            return kCommandHelp[21].usage;
        case CommandKind::kDropIndex:
            return kCommandHelp[22].usage;
        case CommandKind::kListIndexes:
            return kCommandHelp[23].usage;
        case CommandKind::kAnalyze:
            return kCommandHelp[24].usage;
        case CommandKind::kFind:
            return kCommandHelp[25].usage;
        case CommandKind::kTraverse:
            return kCommandHelp[26].usage;
        case CommandKind::kPaths:
            return kCommandHelp[27].usage;
        case CommandKind::kShortest:
            return kCommandHelp[28].usage;
        case CommandKind::kDegree:
            return kCommandHelp[29].usage;
        case CommandKind::kBegin:
            return kCommandHelp[30].usage;
        case CommandKind::kCommit:
            return kCommandHelp[31].usage;
        case CommandKind::kRollback:
            return kCommandHelp[32].usage;
        case CommandKind::kTimestamp:
            return kCommandHelp[33].usage;
        case CommandKind::kVerify:
            return kCommandHelp[34].usage;
        case CommandKind::kTiming:
            return kCommandHelp[35].usage;
    }
    return {};
}

// "create collection ...", "create tenant ...", "drop collection ...", "use tenant ...": the
// object word after the verb.
Result<std::string> ObjectWord(Lexer& lexer, std::string_view verb,
                               std::span<const std::string_view> objects, std::string_view usage) {
    ArgParser args(lexer, verb, usage);
    auto word = args.Optional();
    if (!word.ok()) {
        return word.status();
    }
    std::string expected;
    for (std::string_view object : objects) {
        expected += (expected.empty() ? "'" : " or '") + std::string(object) + "'";
    }
    if (!word->has_value()) {
        return args.Fail("expected " + expected);
    }
    std::string object = Lower(**word);
    if (std::find(objects.begin(), objects.end(), object) != objects.end()) {
        return object;
    }
    std::string problem = "expected " + expected + ", not '" + Shown(**word) + "'";
    if (std::string_view close = ClosestWord(object, objects); !close.empty()) {
        problem += " (did you mean '" + std::string(close) + "'?)";
    }
    return args.Fail(problem);
}

Result<Command> ParseSimple(Lexer& lexer, std::string_view verb, CommandKind kind);

Result<Command> ParseCreate(Lexer& lexer) {
    static constexpr std::array<std::string_view, 3> kObjects = {"collection", "tenant", "index"};
    PHENIX_ASSIGN_OR_RETURN(std::string object,
                            ObjectWord(lexer, "create", kObjects,
                                       "create collection NAME [dim N] [metric l2|cosine|ip] "
                                       "[{settings json}] | create tenant NAME | "
                                       "create index NAME PATH"));
    Command cmd;
    if (object == "tenant") {
        cmd.kind = CommandKind::kCreateTenant;
        ArgParser args(lexer, "create tenant", UsageOf(cmd.kind));
        PHENIX_ASSIGN_OR_RETURN(cmd.name, args.Required("tenant name"));
        PHENIX_RETURN_IF_ERROR(args.ExpectEnd());
        return cmd;
    }
    if (object == "index") {
        return ParseSimple(lexer, "create index", CommandKind::kCreateIndex);
    }
    cmd.kind = CommandKind::kCreateCollection;
    ArgParser args(lexer, "create collection", UsageOf(cmd.kind));
    PHENIX_ASSIGN_OR_RETURN(cmd.name, args.Required("collection name"));
    while (true) {
        // The settings object, like every JSON argument, is the rest of the statement.
        if (lexer.Peek() == '{') {
            PHENIX_ASSIGN_OR_RETURN(cmd.json, args.Json("settings JSON"));
            return cmd;
        }
        PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> option, args.Optional());
        if (!option) {
            return cmd;
        }
        const std::string key = Lower(*option);
        if (key == "dim" || key == "dimension") {
            PHENIX_ASSIGN_OR_RETURN(
                std::uint64_t dim,
                args.Number("dimension", std::numeric_limits<std::uint32_t>::max()));
            cmd.dimension = static_cast<std::uint32_t>(dim);
        } else if (key == "metric") {
            PHENIX_ASSIGN_OR_RETURN(std::string name, args.Required("metric"));
            auto metric = ParseMetric(name);
            if (!metric.ok()) {
                return args.Fail("unknown metric '" + Shown(name) + "'");
            }
            cmd.metric = *metric;
        } else {
            return args.Fail("unexpected '" + Shown(*option) + "'");
        }
    }
}

Result<Command> ParseScan(Lexer& lexer) {
    Command cmd{.kind = CommandKind::kScan};
    ArgParser args(lexer, "scan", UsageOf(cmd.kind));
    PHENIX_ASSIGN_OR_RETURN(cmd.name, args.Required("collection name"));
    while (true) {
        PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> option, args.Optional());
        if (!option) {
            return cmd;
        }
        const std::string key = Lower(*option);
        if (key == "limit") {
            PHENIX_ASSIGN_OR_RETURN(
                std::uint64_t limit,
                args.Number("limit", std::numeric_limits<std::uint32_t>::max()));
            cmd.limit = static_cast<std::size_t>(limit);
        } else if (key == "after") {
            PHENIX_ASSIGN_OR_RETURN(cmd.after, args.Required("id after 'after'"));
        } else {
            return args.Fail("unexpected '" + Shown(*option) + "'");
        }
    }
}

// The components of a "[x1, x2, ...]" query vector: finite numbers in float range, as in an
// entity's "vector".
Result<std::vector<float>> ParseQueryVector(std::string_view text, const ArgParser& args) {
    const std::string_view inner = Trim(text.substr(1, text.size() - 2));
    if (inner.empty()) {
        return args.Fail("the query vector is empty");
    }
    std::vector<float> vector;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = inner.find(',', start);
        const std::string_view element = Trim(inner.substr(start, comma - start));
        const std::string where = "query vector[" + std::to_string(vector.size()) + "]";
        if (element.empty()) {
            return args.Fail(where + " is missing (two commas in a row, or a trailing comma)");
        }
        double value = 0;
        const char* end = element.data() + element.size();
        auto [ptr, ec] = std::from_chars(element.data(), end, value);
        const bool is_number = (ec == std::errc() || ec == std::errc::result_out_of_range) &&
                               ptr == end && element.find_first_of("nN") == std::string_view::npos;
        if (!is_number) {
            return args.Fail(where + " must be a number, not '" + Shown(element) + "'");
        }
        if (ec != std::errc() || !std::isfinite(value) ||
            std::abs(value) > static_cast<double>(std::numeric_limits<float>::max())) {
            return args.Fail(where + " is out of float range: '" + Shown(element) + "'");
        }
        vector.push_back(static_cast<float>(value));
        if (comma == std::string_view::npos) {
            return vector;
        }
        start = comma + 1;
    }
}

// The names of a list option (`ids`, `label`): a comma-separated word ("a,b,c", or quoted:
// "'my id,b'") or a JSON array of strings (["a", "b,c"]) for names that contain commas.
// `item` names one element ("id"), `option` the option ("ids").
Result<std::vector<std::string>> ParseNameList(std::string_view text, std::string_view item,
                                               std::string_view option, const ArgParser& args) {
    const std::string item_str(item);
    const std::string option_str(option);
    std::vector<std::string> names;
    if (text.starts_with('[')) {
        const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (doc.is_discarded() || !doc.is_array()) {
            return args.Fail(option_str + " must be " + Upper(item) + "," + Upper(item) +
                             ",... or a JSON array of strings, not '" + Shown(text) + "'");
        }
        for (const auto& element : doc) {
            if (!element.is_string()) {
                return args.Fail("every " + item_str + " in the " + option_str +
                                 " array must be a JSON string");
            }
            names.push_back(element.get<std::string>());
        }
        if (names.empty()) {
            return args.Fail(option_str + " needs at least one " + item_str);
        }
        return names;
    }
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = text.find(',', start);
        const std::string_view name = text.substr(start, comma - start);
        if (name.empty()) {
            return args.Fail("empty " + item_str + " in " + option_str + " '" + Shown(text) + "'");
        }
        names.emplace_back(name);
        if (comma == std::string_view::npos) {
            return names;
        }
        start = comma + 1;
    }
}

Result<SearchStrategy> ParseStrategy(std::string_view word, const ArgParser& args) {
    static constexpr std::array<SearchStrategy, 4> kStrategies = {
        SearchStrategy::kAuto, SearchStrategy::kExactScan, SearchStrategy::kInGraph,
        SearchStrategy::kPostFilter};
    static constexpr std::array<std::string_view, 4> kNames = {"auto", "exact_scan", "in_graph",
                                                               "post_filter"};
    const std::string lowered = Lower(word);
    for (std::size_t idx = 0; idx < kNames.size(); ++idx) {
        if (lowered == kNames[idx]) {
            return kStrategies[idx];
        }
    }
    std::string problem = "unknown strategy '" + Shown(word) +
                          "' (expected auto, exact_scan, in_graph or post_filter)";
    if (std::string_view close = ClosestWord(lowered, kNames); !close.empty()) {
        problem += " (did you mean '" + std::string(close) + "'?)";
    }
    return args.Fail(problem);
}

// A weight bound: a finite number.
Result<double> ParseWeight(std::string_view word, std::string_view op, const ArgParser& args) {
    double value = 0;
    const char* end = word.data() + word.size();
    auto [ptr, ec] = std::from_chars(word.data(), end, value);
    if (ec != std::errc() || ptr != end || !std::isfinite(value) ||
        word.find_first_of("nN") != std::string_view::npos) {
        return args.Fail("weight " + std::string(op) + " needs a number, not '" + Shown(word) +
                         "'");
    }
    return value;
}

// `hops N` (exactly N) or `hops MIN..MAX`, each from 0 to limits::kMaxTraversalDepth.
Result<std::pair<std::uint32_t, std::uint32_t>> ParseHops(std::string_view word,
                                                          const ArgParser& args) {
    const std::string problem = "hops must be N or MIN..MAX with integers from 0 to " +
                                std::to_string(limits::kMaxTraversalDepth) + ", not '" +
                                Shown(word) + "'";
    auto number = [&](std::string_view text) -> std::optional<std::uint32_t> {
        std::uint32_t value = 0;
        const char* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (text.empty() || ec != std::errc() || ptr != end || value > limits::kMaxTraversalDepth) {
            return std::nullopt;
        }
        return value;
    };
    const std::size_t dots = word.find("..");
    const auto min = number(word.substr(0, dots));
    const auto max = dots == std::string_view::npos ? min : number(word.substr(dots + 2));
    if (!min || !max) {
        return args.Fail(problem);
    }
    if (*min > *max) {
        return args.Fail("hops " + Shown(word) + " has MIN above MAX");
    }
    return std::pair(*min, *max);
}

// The options that select edges and hops, shared by the graph commands and `search ... from`.
struct GraphOptions {
    std::optional<std::pair<std::uint32_t, std::uint32_t>> hops;
    std::optional<EdgeDirection> direction;
    EdgeMatch edges;
    std::string first_option;  // the first graph option given, for messages
};

// Reads one graph option if `word` starts one: a direction (out, in, both), `hops N|M..N`,
// `label L,...` (or a JSON array of labels), `weight >= X`, `weight <= Y` (the operator and
// number may also be written together: `weight>=0.5`). `inline_value` is the text after '='
// when the word was `option=value`. Returns false, reading nothing, for any other word. Each
// option may be given once (`seen` holds the ones read so far).
Result<bool> ParseGraphOption(const std::string& word, std::optional<std::string> inline_value,
                              Lexer& lexer, ArgParser& args, GraphOptions& options,
                              std::vector<std::string>& seen) {
    const std::string key = Lower(word);
    std::string seen_key;
    auto once = [&](std::string name) -> Status {
        PHENIX_RETURN_IF_ERROR(args.Once(seen, std::move(name)));
        if (options.first_option.empty()) {
            options.first_option = key;
        }
        return Status::Ok();
    };
    auto value = [&](std::string_view what) -> Result<std::string> {
        if (inline_value) {
            if (inline_value->empty()) {
                return args.Fail("missing " + std::string(what) + " after '='");
            }
            return *inline_value;
        }
        if (lexer.Peek() == '[') {
            auto array = lexer.NextArray();
            if (!array.ok()) {
                return args.Fail(std::string(what) + ": " + array.status().message());
            }
            return *array;
        }
        return args.Required(what);
    };
    if (!inline_value && (key == "out" || key == "in" || key == "both")) {
        if (options.direction) {
            return args.Fail("the direction is given twice ('" + Shown(word) + "')");
        }
        PHENIX_RETURN_IF_ERROR(once("direction"));
        options.direction = key == "out"  ? EdgeDirection::kOut
                            : key == "in" ? EdgeDirection::kIn
                                          : EdgeDirection::kBoth;
        return true;
    }
    if (key == "hops") {
        PHENIX_RETURN_IF_ERROR(once("hops"));
        PHENIX_ASSIGN_OR_RETURN(std::string text, value("hops"));
        PHENIX_ASSIGN_OR_RETURN(options.hops, ParseHops(text, args));
        return true;
    }
    if (key == "label" || key == "labels") {
        PHENIX_RETURN_IF_ERROR(once("label"));
        PHENIX_ASSIGN_OR_RETURN(std::string text, value("label"));
        PHENIX_ASSIGN_OR_RETURN(options.edges.labels, ParseNameList(text, "label", key, args));
        return true;
    }
    if (key.starts_with("weight")) {
        // The word was read whole, '=' included: "weight", "weight>=", "weight>=0.5".
        std::string rest = word.substr(6) + (inline_value ? "=" + *inline_value : "");
        if (rest.empty()) {
            PHENIX_ASSIGN_OR_RETURN(rest, args.Required("'>=' or '<=' after 'weight'"));
        }
        const std::string op = rest.substr(0, 2);
        if (op != ">=" && op != "<=") {
            return args.Fail("expected '>=' or '<=' after 'weight', not '" + Shown(rest) + "'");
        }
        PHENIX_RETURN_IF_ERROR(once("weight " + op));
        std::string number = rest.substr(2);
        if (number.empty()) {
            PHENIX_ASSIGN_OR_RETURN(number, args.Required("number after 'weight " + op + "'"));
        }
        PHENIX_ASSIGN_OR_RETURN(double bound, ParseWeight(number, op, args));
        (op == ">=" ? options.edges.min_weight : options.edges.max_weight) = bound;
        return true;
    }
    return false;
}

// Splits `option=value` (for the options that take a value). `weight>=X` is not split.
std::pair<std::string, std::optional<std::string>> SplitInlineValue(const std::string& option) {
    if (Lower(option).starts_with("weight")) {
        return {option, std::nullopt};
    }
    const auto eq = option.find('=');
    if (eq == std::string::npos) {
        return {option, std::nullopt};
    }
    return {option.substr(0, eq), option.substr(eq + 1)};
}

// The JSON filter object that follows `what` (`where` or the filter of `find`).
Result<std::string> FilterObject(Lexer& lexer, ArgParser& args, std::string_view what) {
    if (lexer.Peek() != '{') {
        PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> word, args.Optional());
        if (!word) {
            return args.Fail("missing " + std::string(what));
        }
        return args.Fail(std::string(what) + " must be a JSON object starting with '{', not '" +
                         Shown(*word) + "'");
    }
    auto object = lexer.NextObject();
    if (!object.ok()) {
        return args.Fail(std::string(what) + ": " + object.status().message());
    }
    return std::move(object).value();
}

// search NAME [x1, ...] then options in any order, each at most once. An option's value is the
// next word (`k 5`) or follows '=' in the same word (`k=5`). `where {...}` takes a JSON filter;
// `from ID` and the graph options (hops, direction, label, weight) restrict the search to the
// entities reached from ID.
Result<Command> ParseSearch(Lexer& lexer) {
    Command cmd{.kind = CommandKind::kSearch};
    ArgParser args(lexer, "search", UsageOf(cmd.kind));
    PHENIX_ASSIGN_OR_RETURN(cmd.name, args.Required("collection name"));
    if (lexer.AtEnd()) {
        return args.Fail("missing query vector, e.g. [0.1, 0.2]");
    }
    if (lexer.Peek() != '[') {
        PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> word, args.Optional());
        return args.Fail("the query vector must be a list of numbers in [...], not '" +
                         Shown(word.value_or("")) + "'");
    }
    auto literal = lexer.NextArray();
    if (!literal.ok()) {
        return args.Fail("query vector: " + literal.status().message());
    }
    PHENIX_ASSIGN_OR_RETURN(cmd.query, ParseQueryVector(*literal, args));

    std::vector<std::string> seen;
    GraphOptions graph;
    std::optional<std::string> from;
    while (true) {
        PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> option, args.Optional());
        if (!option) {
            break;
        }
        auto [word, inline_value] = SplitInlineValue(*option);
        PHENIX_ASSIGN_OR_RETURN(bool is_graph_option,
                                ParseGraphOption(word, inline_value, lexer, args, graph, seen));
        if (is_graph_option) {
            continue;
        }
        std::string key = Lower(word);
        const bool is_known =
            key == "k" || key == "ef" || key == "ids" || key == "strategy" || key == "from" ||
            ((key == "with" || key == "where" || key == "explain") && !inline_value);
        if (!is_known) {
            return args.Fail("unexpected '" + Shown(*option) + "'");
        }
        // The option's value: after '=', else the next word (or [...] array for ids).
        auto value = [&](std::string_view what) -> Result<std::string> {
            if (inline_value) {
                if (inline_value->empty()) {
                    return args.Fail("missing " + std::string(what) + " after '='");
                }
                return *inline_value;
            }
            if (key == "ids" && lexer.Peek() == '[') {
                auto array = lexer.NextArray();
                if (!array.ok()) {
                    return args.Fail("ids: " + array.status().message());
                }
                return *array;
            }
            return args.Required(what);
        };
        if (key == "with") {
            PHENIX_ASSIGN_OR_RETURN(std::string what,
                                    args.Required("'metadata' or 'vector' after 'with'"));
            key = "with " + Lower(what);
            if (key != "with metadata" && key != "with vector") {
                return args.Fail("expected 'metadata' or 'vector' after 'with', not '" +
                                 Shown(what) + "'");
            }
        }
        PHENIX_RETURN_IF_ERROR(args.Once(seen, key));
        if (key == "k") {
            PHENIX_ASSIGN_OR_RETURN(std::string text, value("k"));
            PHENIX_ASSIGN_OR_RETURN(std::uint64_t k, args.ParseNumber(text, "k", 1, kMaxSearchK));
            cmd.search.k = static_cast<std::size_t>(k);
        } else if (key == "ef") {
            PHENIX_ASSIGN_OR_RETURN(std::string text, value("ef"));
            PHENIX_ASSIGN_OR_RETURN(std::uint64_t ef,
                                    args.ParseNumber(text, "ef", 1, kMaxSearchEf));
            cmd.search.ef = static_cast<std::uint32_t>(ef);
        } else if (key == "ids") {
            PHENIX_ASSIGN_OR_RETURN(std::string text, value("ids"));
            PHENIX_ASSIGN_OR_RETURN(cmd.search.filter_ids, ParseNameList(text, "id", "ids", args));
        } else if (key == "strategy") {
            PHENIX_ASSIGN_OR_RETURN(std::string text, value("strategy"));
            PHENIX_ASSIGN_OR_RETURN(cmd.search.strategy, ParseStrategy(text, args));
        } else if (key == "where") {
            PHENIX_ASSIGN_OR_RETURN(cmd.search.filter,
                                    FilterObject(lexer, args, "the filter after 'where'"));
        } else if (key == "from") {
            PHENIX_ASSIGN_OR_RETURN(from, value("entity id after 'from'"));
        } else if (key == "explain") {
            cmd.explain = true;
        } else if (key == "with metadata") {
            cmd.search.include_metadata = true;
        } else {
            cmd.search.include_vector = true;
        }
    }
    if (!from) {
        if (!graph.first_option.empty()) {
            return args.Fail("'" + Shown(graph.first_option) +
                             "' restricts the graph constraint: it needs 'from ID'");
        }
        return cmd;
    }
    GraphConstraint& constraint = cmd.search.graph.emplace();
    constraint.start_id = std::move(*from);
    if (graph.hops) {
        std::tie(constraint.min_hops, constraint.max_hops) = *graph.hops;
    }
    constraint.direction = graph.direction.value_or(EdgeDirection::kOut);
    constraint.edges = std::move(graph.edges);
    return cmd;
}

// find NAME [{filter}] [limit N] [count] [explain]: the options in any order, each once.
Result<Command> ParseFind(Lexer& lexer) {
    Command cmd{.kind = CommandKind::kFind};
    ArgParser args(lexer, "find", UsageOf(cmd.kind));
    PHENIX_ASSIGN_OR_RETURN(cmd.name, args.Required("collection name"));
    if (lexer.Peek() == '{') {
        PHENIX_ASSIGN_OR_RETURN(cmd.find.filter, FilterObject(lexer, args, "the filter"));
    }
    std::vector<std::string> seen;
    while (true) {
        PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> option, args.Optional());
        if (!option) {
            return cmd;
        }
        const std::string key = Lower(*option);
        if (key != "limit" && key != "count" && key != "explain") {
            if (option->starts_with('[') || option->starts_with('"')) {
                return args.Fail("the filter must be a JSON object starting with '{', not '" +
                                 Shown(*option) + "'");
            }
            return args.Fail("unexpected '" + Shown(*option) + "'");
        }
        PHENIX_RETURN_IF_ERROR(args.Once(seen, key));
        if (key == "limit") {
            PHENIX_ASSIGN_OR_RETURN(std::string word, args.Required("limit"));
            PHENIX_ASSIGN_OR_RETURN(std::uint64_t limit,
                                    args.ParseNumber(word, "limit", 1, limits::kMaxFindLimit));
            cmd.find.limit = static_cast<std::size_t>(limit);
        } else if (key == "count") {
            cmd.find.count_only = true;
        } else {
            cmd.explain = true;
        }
    }
}

// traverse, paths, shortest and degree: NAME, one or two ids, then options in any order, each
// once: the graph options (ParseGraphOption) and, for some, `limit N`, `to ID`, `with start`.
Result<Command> ParseGraphCommand(Lexer& lexer, std::string_view verb, CommandKind kind) {
    Command cmd{.kind = kind};
    ArgParser args(lexer, verb, UsageOf(kind));
    const bool takes_hops = kind == CommandKind::kTraverse || kind == CommandKind::kPaths;
    const bool takes_limit = takes_hops;
    const bool takes_to = kind == CommandKind::kPaths;
    const bool takes_with_start = kind == CommandKind::kTraverse;
    PHENIX_ASSIGN_OR_RETURN(cmd.name, args.Required("collection name"));
    PHENIX_ASSIGN_OR_RETURN(
        cmd.id, args.Required(kind == CommandKind::kTraverse || kind == CommandKind::kDegree
                                  ? "entity id"
                                  : "start entity id"));
    std::string to;
    if (kind == CommandKind::kShortest) {
        PHENIX_ASSIGN_OR_RETURN(to, args.Required("target entity id"));
    }
    std::vector<std::string> seen;
    GraphOptions graph;
    std::optional<std::size_t> limit;
    bool with_start = false;
    while (true) {
        PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> option, args.Optional());
        if (!option) {
            break;
        }
        const std::string key = Lower(*option);
        if (key == "hops" && !takes_hops) {
            return args.Fail("unexpected 'hops'");
        }
        PHENIX_ASSIGN_OR_RETURN(bool is_graph_option,
                                ParseGraphOption(*option, std::nullopt, lexer, args, graph, seen));
        if (is_graph_option) {
            continue;
        }
        const bool is_known = (key == "limit" && takes_limit) || (key == "to" && takes_to) ||
                              (key == "with" && takes_with_start);
        if (!is_known) {
            return args.Fail("unexpected '" + Shown(*option) + "'");
        }
        PHENIX_RETURN_IF_ERROR(args.Once(seen, key));
        if (key == "limit") {
            PHENIX_ASSIGN_OR_RETURN(std::string word, args.Required("limit"));
            PHENIX_ASSIGN_OR_RETURN(
                std::uint64_t value,
                args.ParseNumber(word, "limit", 1, std::numeric_limits<std::uint32_t>::max()));
            limit = static_cast<std::size_t>(value);
        } else if (key == "to") {
            PHENIX_ASSIGN_OR_RETURN(to, args.Required("entity id after 'to'"));
        } else {
            PHENIX_ASSIGN_OR_RETURN(std::string what, args.Required("'start' after 'with'"));
            if (Lower(what) != "start") {
                return args.Fail("expected 'start' after 'with', not '" + Shown(what) + "'");
            }
            with_start = true;
        }
    }
    // The shell's default page, like scan's: a traversal of a large graph is not all printed.
    constexpr std::size_t kDefaultGraphLimit = 100;
    const EdgeDirection direction = graph.direction.value_or(EdgeDirection::kOut);
    switch (kind) {
        case CommandKind::kTraverse: {
            TraversalSpec& spec = cmd.traversal;
            spec.start_id = cmd.id;
            if (graph.hops) {
                std::tie(spec.min_hops, spec.max_hops) = *graph.hops;
            }
            spec.direction = direction;
            spec.edges = std::move(graph.edges);
            // Asking for 0 hops asks for the start itself.
            spec.include_start = with_start || spec.min_hops == 0;
            spec.limit = limit.value_or(kDefaultGraphLimit);
            break;
        }
        case CommandKind::kPaths: {
            PathSpec& spec = cmd.paths;
            spec.start_id = cmd.id;
            spec.end_id = std::move(to);
            if (graph.hops) {
                std::tie(spec.min_hops, spec.max_hops) = *graph.hops;
            }
            spec.direction = direction;
            spec.edges = std::move(graph.edges);
            spec.limit = limit.value_or(kDefaultGraphLimit);
            break;
        }
        case CommandKind::kShortest:
            cmd.shortest.from_id = cmd.id;
            cmd.shortest.to_id = std::move(to);
            cmd.shortest.direction = direction;
            cmd.shortest.edges = std::move(graph.edges);
            break;
        default:
            cmd.direction = direction;
            cmd.edges = std::move(graph.edges);
            break;
    }
    return cmd;
}

Result<Command> ParseEdges(Lexer& lexer) {
    Command cmd{.kind = CommandKind::kEdges};
    ArgParser args(lexer, "edges", UsageOf(cmd.kind));
    PHENIX_ASSIGN_OR_RETURN(cmd.name, args.Required("collection name"));
    PHENIX_ASSIGN_OR_RETURN(cmd.id, args.Required("entity id"));
    PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> direction, args.Optional());
    if (direction) {
        const std::string dir = Lower(*direction);
        if (dir == "out") {
            cmd.direction = EdgeDirection::kOut;
        } else if (dir == "in") {
            cmd.direction = EdgeDirection::kIn;
        } else if (dir == "both") {
            cmd.direction = EdgeDirection::kBoth;
        } else {
            return args.Fail("direction must be out, in or both, not '" + Shown(*direction) + "'");
        }
    }
    PHENIX_RETURN_IF_ERROR(args.ExpectEnd());
    return cmd;
}

// begin [read only] [as of TIMESTAMP], the two options in either order.
Result<Command> ParseBegin(Lexer& lexer) {
    Command cmd{.kind = CommandKind::kBegin};
    ArgParser args(lexer, "begin", UsageOf(cmd.kind));
    bool has_read_only = false;
    while (true) {
        PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> option, args.Optional());
        if (!option) {
            break;
        }
        const std::string key = Lower(*option);
        if (key == "read" && !has_read_only) {
            PHENIX_ASSIGN_OR_RETURN(std::string only, args.Required("'only' after 'read'"));
            if (Lower(only) != "only") {
                return args.Fail("expected 'only' after 'read', not '" + Shown(only) + "'");
            }
            has_read_only = true;
        } else if (key == "as" && !cmd.as_of) {
            PHENIX_ASSIGN_OR_RETURN(std::string of, args.Required("'of' after 'as'"));
            if (Lower(of) != "of") {
                return args.Fail("expected 'of' after 'as', not '" + Shown(of) + "'");
            }
            PHENIX_ASSIGN_OR_RETURN(
                cmd.as_of, args.Number("timestamp", std::numeric_limits<std::uint64_t>::max()));
        } else {
            return args.Fail("unexpected '" + Shown(*option) + "'");
        }
    }
    // Reading the past is read-only by nature (the engine requires it), so `as of` implies it.
    cmd.read_only = has_read_only || cmd.as_of.has_value();
    return cmd;
}

Result<Command> ParseTiming(Lexer& lexer) {
    Command cmd{.kind = CommandKind::kTiming};
    ArgParser args(lexer, "\\timing", UsageOf(cmd.kind));
    PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> value, args.Optional());
    if (value) {
        const std::string lowered = Lower(*value);
        if (lowered == "on") {
            cmd.enable = true;
        } else if (lowered == "off") {
            cmd.enable = false;
        } else {
            return args.Fail("expected on or off, not '" + Shown(*value) + "'");
        }
    }
    PHENIX_RETURN_IF_ERROR(args.ExpectEnd());
    return cmd;
}

// Commands of the form VERB NAME [ID] [JSON] with nothing else.
Result<Command> ParseSimple(Lexer& lexer, std::string_view verb, CommandKind kind) {
    Command cmd{.kind = kind};
    ArgParser args(lexer, verb, UsageOf(kind));
    // What the command takes, in order: a name, an id, then JSON or a file name.
    std::string_view name_what;
    bool has_id = false;
    std::string_view json_what;
    std::string_view path_what;
    switch (kind) {
        case CommandKind::kQuit:
        case CommandKind::kListCollections:
        case CommandKind::kListTenants:
        case CommandKind::kCommit:
        case CommandKind::kRollback:
        case CommandKind::kTimestamp:
        case CommandKind::kVerify:
            break;
        case CommandKind::kHelp: {
            PHENIX_ASSIGN_OR_RETURN(std::optional<std::string> topic, args.Optional());
            cmd.name = Lower(topic.value_or(""));
            break;
        }
        case CommandKind::kDescribe:
        case CommandKind::kDropCollection:
        case CommandKind::kIndexInfo:
        case CommandKind::kReindex:
        case CommandKind::kListIndexes:
        case CommandKind::kAnalyze:
            name_what = "collection name";
            break;
        case CommandKind::kCreateIndex:
        case CommandKind::kDropIndex:
            name_what = "collection name";
            path_what = "metadata path";
            break;
        case CommandKind::kUseTenant:
            name_what = "tenant name";
            break;
        case CommandKind::kInsert:
        case CommandKind::kUpsert:
            name_what = "collection name";
            json_what = "entity JSON";
            break;
        case CommandKind::kGet:
        case CommandKind::kDelete:
            name_what = "collection name";
            has_id = true;
            break;
        case CommandKind::kPatch:
            name_what = "collection name";
            has_id = true;
            json_what = "merge patch JSON";
            break;
        case CommandKind::kSetMetadata:
            name_what = "collection name";
            has_id = true;
            json_what = "metadata JSON object";
            break;
        case CommandKind::kLoad:
            name_what = "collection name";
            path_what = "file name";
            break;
        case CommandKind::kCreateCollection:
        case CommandKind::kCreateTenant:
        case CommandKind::kEdges:
        case CommandKind::kScan:
        case CommandKind::kSearch:
        case CommandKind::kFind:
        case CommandKind::kTraverse:
        case CommandKind::kPaths:
        case CommandKind::kShortest:
        case CommandKind::kDegree:
        case CommandKind::kBegin:
        case CommandKind::kTiming:
            return Status::Internal("ParseSimple called for a command with options");
    }
    if (!name_what.empty()) {
        PHENIX_ASSIGN_OR_RETURN(cmd.name, args.Required(name_what));
    }
    if (has_id) {
        PHENIX_ASSIGN_OR_RETURN(cmd.id, args.Required("entity id"));
    }
    if (!json_what.empty()) {
        PHENIX_ASSIGN_OR_RETURN(cmd.json, args.Json(json_what));
    }
    if (!path_what.empty()) {
        PHENIX_ASSIGN_OR_RETURN(cmd.path, args.Required(path_what));
    }
    PHENIX_RETURN_IF_ERROR(args.ExpectEnd());
    return cmd;
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
std::size_t EditDistance(std::string_view a, std::string_view b) {
    const std::size_t cols = b.size() + 1;
    std::vector<std::size_t> dist((a.size() + 1) * cols);
    auto at = [&](std::size_t row, std::size_t col) -> std::size_t& {
        return dist[row * cols + col];
    };
    for (std::size_t row = 0; row <= a.size(); ++row) {
        at(row, 0) = row;
    }
    for (std::size_t col = 0; col <= b.size(); ++col) {
        at(0, col) = col;
    }
    for (std::size_t row = 1; row <= a.size(); ++row) {
        for (std::size_t col = 1; col <= b.size(); ++col) {
            const std::size_t cost = a[row - 1] == b[col - 1] ? 0 : 1;
            std::size_t best =
                std::min({at(row - 1, col) + 1, at(row, col - 1) + 1, at(row - 1, col - 1) + cost});
            if (row > 1 && col > 1 && a[row - 1] == b[col - 2] && a[row - 2] == b[col - 1]) {
                best = std::min(best, at(row - 2, col - 2) + 1);
            }
            at(row, col) = best;
        }
    }
    return at(a.size(), b.size());
}

}  // namespace

std::span<const CommandHelp> AllCommandHelp() {
    return kCommandHelp;
}

std::string_view ClosestWord(std::string_view word, std::span<const std::string_view> candidates) {
    // Typos are short edits; comparing long junk against every candidate is pointless.
    constexpr std::size_t kMaxComparedBytes = 64;
    if (word.empty() || word.size() > kMaxComparedBytes) {
        return {};
    }
    const std::string lowered = Lower(word);
    const std::size_t max_distance = lowered.size() <= 3 ? 1 : 2;
    std::string_view best;
    std::size_t best_distance = max_distance + 1;
    for (std::string_view candidate : candidates) {
        const std::size_t distance = EditDistance(lowered, candidate);
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

std::vector<std::string> SplitStatements(std::string_view line) {
    std::vector<std::string> statements;
    std::size_t start = 0;
    std::size_t depth = 0;  // JSON braces/brackets open
    char quote = 0;         // the open quote character, if inside a string
    bool escaped = false;
    bool at_word_start = true;
    bool at_statement_start = true;  // nothing but whitespace since `start`
    auto flush = [&](std::size_t end) {
        std::string_view statement = Trim(line.substr(start, end - start));
        if (!statement.empty()) {
            statements.emplace_back(statement);
        }
        start = end + 1;
        at_statement_start = true;
    };
    for (std::size_t pos = 0; pos < line.size(); ++pos) {
        const char c = line[pos];
        if (quote != 0) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == quote) {
                quote = 0;
            }
            continue;
        }
        if (at_statement_start && IsCommentStart(line.substr(pos))) {
            // A comment runs to the end of the line, ';' included.
            start = line.size();
            break;
        }
        at_statement_start = at_statement_start && IsSpace(c);
        if (depth > 0) {
            if (c == '"') {
                quote = c;
            } else if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                --depth;
            }
        } else if (at_word_start && (c == '"' || c == '\'')) {
            quote = c;
        } else if (at_word_start && (c == '{' || c == '[')) {
            depth = 1;
        } else if (c == ';') {
            flush(pos);
            at_word_start = true;
            continue;
        }
        at_word_start = IsSpace(c);
    }
    if (start < line.size()) {
        flush(line.size());
    }
    return statements;
}

Result<Command> ParseCommand(std::string_view statement) {
    Lexer lexer(Trim(statement));
    auto first = lexer.NextWord();
    if (!first.ok()) {
        return first.status();
    }
    if (!first->has_value()) {
        return Status::InvalidArgument("empty command");
    }
    const std::string verb = Lower(**first);
    if (verb == "help" || verb == "\\help" || verb == "\\?" || verb == "?" || verb == "\\h") {
        return ParseSimple(lexer, verb, CommandKind::kHelp);
    }
    if (verb == "quit" || verb == "exit" || verb == "\\q") {
        return ParseSimple(lexer, verb, CommandKind::kQuit);
    }
    if (verb == "create") {
        return ParseCreate(lexer);
    }
    if (verb == "drop") {
        static constexpr std::array<std::string_view, 2> kObjects = {"collection", "index"};
        PHENIX_ASSIGN_OR_RETURN(
            std::string object,
            ObjectWord(lexer, verb, kObjects, "drop collection NAME | drop index NAME PATH"));
        if (object == "index") {
            return ParseSimple(lexer, "drop index", CommandKind::kDropIndex);
        }
        return ParseSimple(lexer, "drop collection", CommandKind::kDropCollection);
    }
    if (verb == "explain") {
        // `explain find ...` / `explain search ...`: the same as the trailing `explain` option.
        const std::string_view rest = lexer.Rest();
        constexpr std::string_view kExplainUsage = "explain find ... | explain search ...";
        if (rest.empty()) {
            return Usage(verb, "missing the command to explain", kExplainUsage);
        }
        PHENIX_ASSIGN_OR_RETURN(Command cmd, ParseCommand(rest));
        if (cmd.kind != CommandKind::kFind && cmd.kind != CommandKind::kSearch) {
            return Usage(verb, "only find and search can be explained", kExplainUsage);
        }
        cmd.explain = true;
        return cmd;
    }
    if (verb == "use") {
        static constexpr std::array<std::string_view, 1> kObjects = {"tenant"};
        if (auto object = ObjectWord(lexer, verb, kObjects, UsageOf(CommandKind::kUseTenant));
            !object.ok()) {
            return object.status();
        }
        return ParseSimple(lexer, "use tenant", CommandKind::kUseTenant);
    }
    // Commands whose arguments ParseSimple reads the same way.
    static constexpr std::pair<std::string_view, CommandKind> kSimpleCommands[] = {
        {"collections", CommandKind::kListCollections},
        {"tenants", CommandKind::kListTenants},
        {"describe", CommandKind::kDescribe},
        {"insert", CommandKind::kInsert},
        {"upsert", CommandKind::kUpsert},
        {"get", CommandKind::kGet},
        {"delete", CommandKind::kDelete},
        {"patch", CommandKind::kPatch},
        {"set-metadata", CommandKind::kSetMetadata},
        {"load", CommandKind::kLoad},
        {"index", CommandKind::kIndexInfo},
        {"reindex", CommandKind::kReindex},
        {"indexes", CommandKind::kListIndexes},
        {"analyze", CommandKind::kAnalyze},
        {"commit", CommandKind::kCommit},
        {"rollback", CommandKind::kRollback},
        {"timestamp", CommandKind::kTimestamp},
        {"now", CommandKind::kTimestamp},
        {"verify", CommandKind::kVerify},
    };
    for (const auto& [name, kind] : kSimpleCommands) {
        if (verb == name) {
            return ParseSimple(lexer, verb, kind);
        }
    }
    if (verb == "edges") {
        return ParseEdges(lexer);
    }
    if (verb == "scan") {
        return ParseScan(lexer);
    }
    if (verb == "search") {
        return ParseSearch(lexer);
    }
    if (verb == "find") {
        return ParseFind(lexer);
    }
    static constexpr std::pair<std::string_view, CommandKind> kGraphCommands[] = {
        {"traverse", CommandKind::kTraverse},
        {"paths", CommandKind::kPaths},
        {"shortest", CommandKind::kShortest},
        {"degree", CommandKind::kDegree},
    };
    for (const auto& [name, kind] : kGraphCommands) {
        if (verb == name) {
            return ParseGraphCommand(lexer, verb, kind);
        }
    }
    if (verb == "begin") {
        return ParseBegin(lexer);
    }
    if (verb == "\\timing") {
        return ParseTiming(lexer);
    }

    const std::string shown = Shown(**first);
    std::string message = "unknown command '" + shown + "'";
    std::string_view close = ClosestWord(verb, kCommandWords);
    if (close == "tenant" || close == "collection") {
        close = close == "tenant" ? "tenants" : "collections";
    }
    if (!close.empty()) {
        message += "; did you mean '" + std::string(close) + "'?";
    }
    message += " (type 'help' for the list of commands)";
    return Status::InvalidArgument(std::move(message));
}

}  // namespace phenix::shell
