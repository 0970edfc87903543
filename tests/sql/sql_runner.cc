// SPDX-License-Identifier: Apache-2.0
//
// sql_runner — runs sqllogictest-like PhenixQL scripts (tests/sql/*.slt; the format is in
// tests/sql/README.md) through phenix::QuerySession on a fresh temporary data directory per
// file, and reports every record whose outcome differs from the script's expectation.
//
//   sql_runner FILE.slt...      exit 0 when every record of every file passed
//
// Confined to one thread.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <phenix/db.h>
#include <phenix/options.h>
#include <phenix/phenixql.h>

namespace phenix::sqltest {
namespace {

constexpr int kDefaultRoundDigits = 4;

std::string Trim(std::string_view text) {
    const std::size_t begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string_view::npos) {
        return {};
    }
    return std::string(text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1));
}

std::vector<std::string> SplitWords(std::string_view text) {
    std::vector<std::string> words;
    std::istringstream in{std::string(text)};
    std::string word;
    while (in >> word) {
        words.push_back(word);
    }
    return words;
}

// A float rounded to `digits` decimals, without trailing zeros: 0.12345 -> "0.1235", 2 -> "2".
std::string RoundFloat(double value, int digits) {
    if (std::isnan(value) || std::isinf(value)) {
        return value != value ? "NaN" : (value > 0 ? "Infinity" : "-Infinity");
    }
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.*f", digits, value);
    std::string out = buf;
    if (out.find('.') != std::string::npos) {
        while (out.back() == '0') {
            out.pop_back();
        }
        if (out.back() == '.') {
            out.pop_back();
        }
    }
    if (out == "-0") {
        out = "0";
    }
    return out;
}

std::string RenderValue(const QueryValue& value, int round_digits) {
    if (value.type == QueryValue::Type::kFloat) {
        return RoundFloat(value.float_value, round_digits);
    }
    return value.ToText();
}

struct Record {
    enum class Kind { kStatementOk, kStatementError, kQuery, kFile, kFileCheck, kLet };
    Kind kind = Kind::kStatementOk;
    std::size_t line = 0;  // where the record starts
    std::string sql;       // the statement (kFile, kFileCheck: the file name)
    std::string error;     // kStatementError: part of the error; kStatementOk: message prefix
    bool rowsort = false;  // kQuery, kFileCheck
    int round_digits = kDefaultRoundDigits;
    std::vector<std::string> expected;  // kQuery, kFileCheck: lines; kFile: the file's lines
    std::string name;                   // kLet: the variable
};

// Parses a script; a malformed header stops with a message naming the line.
std::optional<std::vector<Record>> ParseScript(const std::string& path, std::string* error) {
    std::ifstream in(path);
    if (!in) {
        *error = "cannot open " + path;
        return std::nullopt;
    }
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        lines.push_back(line);
    }
    std::vector<Record> records;
    std::size_t idx = 0;
    auto blank = [&](std::size_t at) { return Trim(lines[at]).empty(); };
    // Lines from `idx` up to a blank line (or `stop` when given), joined with '\n'.
    auto take_until = [&](std::string_view stop, bool* found_stop) {
        std::vector<std::string> taken;
        *found_stop = false;
        while (idx < lines.size() && !blank(idx)) {
            if (!stop.empty() && lines[idx] == stop) {
                *found_stop = true;
                ++idx;
                break;
            }
            taken.push_back(lines[idx++]);
        }
        return taken;
    };
    auto join = [](const std::vector<std::string>& parts) {
        std::string out;
        for (const std::string& part : parts) {
            out += out.empty() ? "" : "\n";
            out += part;
        }
        return out;
    };
    while (idx < lines.size()) {
        const std::string header = Trim(lines[idx]);
        if (header.empty() || header.starts_with('#')) {
            ++idx;
            continue;
        }
        Record record;
        record.line = idx + 1;
        const std::vector<std::string> words = SplitWords(header);
        ++idx;
        bool found_stop = false;
        if (words[0] == "statement" && words.size() >= 2 && words[1] == "ok") {
            record.kind = Record::Kind::kStatementOk;
            record.error = Trim(header.substr(header.find("ok") + 2));  // the message's start
            record.sql = join(take_until({}, &found_stop));
        } else if (words[0] == "statement" && words.size() >= 2 && words[1] == "error") {
            record.kind = Record::Kind::kStatementError;
            const std::size_t at = header.find("error") + 5;
            record.error = Trim(header.substr(at));
            record.sql = join(take_until({}, &found_stop));
        } else if (words[0] == "query" || words[0] == "let") {
            record.kind = words[0] == "query" ? Record::Kind::kQuery : Record::Kind::kLet;
            for (std::size_t word_idx = 1; word_idx < words.size(); ++word_idx) {
                const std::string& option = words[word_idx];
                if (record.kind == Record::Kind::kLet && word_idx == 1) {
                    record.name = option;
                } else if (option == "rowsort") {
                    record.rowsort = true;
                } else if (option.starts_with("round=")) {
                    record.round_digits = std::atoi(option.c_str() + 6);
                } else {
                    *error = path + ":" + std::to_string(record.line) + ": unknown option '" +
                             option + "'";
                    return std::nullopt;
                }
            }
            if (record.kind == Record::Kind::kLet && record.name.empty()) {
                *error = path + ":" + std::to_string(record.line) + ": let needs a name";
                return std::nullopt;
            }
            if (record.kind == Record::Kind::kLet) {
                record.sql = join(take_until({}, &found_stop));
            } else {
                record.sql = join(take_until("----", &found_stop));
                if (found_stop) {
                    record.expected = take_until({}, &found_stop);
                }
            }
        } else if ((words[0] == "file" || words[0] == "file-check") && words.size() >= 2) {
            record.kind = words[0] == "file" ? Record::Kind::kFile : Record::Kind::kFileCheck;
            record.sql = words[1];
            record.rowsort = words.size() >= 3 && words[2] == "rowsort";
            record.expected = take_until({}, &found_stop);
            for (std::string& line : record.expected) {
                if (line == "<empty>") {
                    line.clear();
                }
            }
        } else {
            *error = path + ":" + std::to_string(record.line) + ": unknown record '" + header +
                     "' (expected statement ok, statement error, query, let, file, file-check)";
            return std::nullopt;
        }
        if (record.sql.empty()) {
            *error = path + ":" + std::to_string(record.line) + ": the record has no statement";
            return std::nullopt;
        }
        records.push_back(std::move(record));
    }
    return records;
}

class Runner {
  public:
    Runner(std::string path, std::filesystem::path tmp)
        : path_(std::move(path)), tmp_(std::move(tmp)) {
        vars_["TMP"] = tmp_.string();
    }

    // Returns the number of failed records, or -1 when the database could not be opened.
    int Run(const std::vector<Record>& records) {
        Options options;
        options.durability = Durability::kRelaxed;
        auto opened = Database::Open((tmp_ / "data").string(), options);
        if (!opened.ok()) {
            std::cerr << path_ << ": cannot open a database: " << opened.status().ToString()
                      << "\n";
            return -1;
        }
        db_ = std::move(opened).value();
        session_ = std::make_unique<QuerySession>(*db_);
        int num_failures = 0;
        for (const Record& record : records) {
            if (!RunRecord(record)) {
                ++num_failures;
            }
            ++num_records_;
        }
        session_.reset();
        if (Status closed = db_->Close(); !closed.ok()) {
            std::cerr << path_ << ": Close failed: " << closed.ToString() << "\n";
            ++num_failures;
        }
        return num_failures;
    }

    [[nodiscard]] int num_records() const { return num_records_; }

  private:
    std::string Substitute(std::string_view text) const {
        std::string out;
        for (std::size_t pos = 0; pos < text.size();) {
            if (text[pos] == '$') {
                std::size_t end = pos + 1;
                while (end < text.size() &&
                       (std::isalnum(static_cast<unsigned char>(text[end])) != 0 ||
                        text[end] == '_')) {
                    ++end;
                }
                const auto found = vars_.find(std::string(text.substr(pos + 1, end - pos - 1)));
                if (end > pos + 1 && found != vars_.end()) {
                    out += found->second;
                    pos = end;
                    continue;
                }
            }
            out.push_back(text[pos++]);
        }
        return out;
    }

    void Fail(const Record& record, std::string_view sql, std::string_view what,
              const std::vector<std::string>& expected, const std::vector<std::string>& actual) {
        std::cerr << path_ << ":" << record.line << ": " << what << "\n";
        std::cerr << "  statement:\n";
        std::istringstream lines{std::string(sql)};
        for (std::string line; std::getline(lines, line);) {
            std::cerr << "    " << line << "\n";
        }
        if (!expected.empty() || !actual.empty()) {
            std::cerr << "  expected:\n";
            for (const std::string& line : expected) {
                std::cerr << "    " << line << "\n";
            }
            std::cerr << "  actual:\n";
            for (const std::string& line : actual) {
                std::cerr << "    " << line << "\n";
            }
        }
    }

    bool RunRecord(const Record& record) {
        const std::string sql = Substitute(record.sql);
        switch (record.kind) {
            case Record::Kind::kFile: {
                std::ofstream out(tmp_ / sql, std::ios::binary);
                for (const std::string& line : record.expected) {
                    out << Substitute(line) << "\n";
                }
                if (!out) {
                    Fail(record, sql, "cannot write the file", {}, {});
                    return false;
                }
                return true;
            }
            case Record::Kind::kFileCheck: {
                std::ifstream in(tmp_ / sql, std::ios::binary);
                if (!in) {
                    Fail(record, sql, "the file does not exist", {}, {});
                    return false;
                }
                std::vector<std::string> actual;
                for (std::string line; std::getline(in, line);) {
                    actual.push_back(line);
                }
                return Compare(record, sql, record.expected, std::move(actual));
            }
            default:
                break;
        }
        Result<QueryResult> result = session_->Execute(sql);
        if (record.kind == Record::Kind::kStatementError) {
            if (result.ok()) {
                Fail(record, sql,
                     "the statement succeeded; expected an error containing '" + record.error + "'",
                     {}, {});
                return false;
            }
            const std::string message = result.status().ToString();
            if (message.find(Substitute(record.error)) == std::string::npos) {
                Fail(record, sql, "the error differs", {"error containing: " + record.error},
                     {message});
                return false;
            }
            return true;
        }
        if (!result.ok()) {
            Fail(record, sql, "the statement failed: " + result.status().ToString(), {}, {});
            return false;
        }
        std::vector<std::string> actual;
        if (result->has_rows) {
            for (const std::vector<QueryValue>& row : result->rows) {
                std::string line;
                for (std::size_t col = 0; col < row.size(); ++col) {
                    line += col == 0 ? "" : "\t";
                    line += RenderValue(row[col], record.round_digits);
                }
                actual.push_back(std::move(line));
            }
        } else if (!result->message.empty()) {
            actual.push_back(result->message);
        }
        if (record.kind == Record::Kind::kLet) {
            // The first cell, or the last word of the message ("COMMIT 1712345").
            std::string value;
            if (result->has_rows && !result->rows.empty() && !result->rows[0].empty()) {
                value = RenderValue(result->rows[0][0], 17);
            } else {
                const std::vector<std::string> words = SplitWords(result->message);
                value = words.empty() ? "" : words.back();
            }
            vars_[record.name] = value;
            return true;
        }
        if (record.kind == Record::Kind::kStatementOk) {
            if (!record.error.empty() && result->message.find(Substitute(record.error)) != 0) {
                Fail(record, sql, "the message differs", {"message starting: " + record.error},
                     {result->message});
                return false;
            }
            return true;
        }
        std::vector<std::string> expected;
        for (const std::string& line : record.expected) {
            expected.push_back(Substitute(line));
        }
        return Compare(record, sql, expected, std::move(actual));
    }

    bool Compare(const Record& record, std::string_view sql, std::vector<std::string> expected,
                 std::vector<std::string> actual) {
        // Trailing spaces and tabs are not significant (editors strip them).
        auto strip = [](std::vector<std::string>& lines) {
            for (std::string& line : lines) {
                while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
                    line.pop_back();
                }
            }
        };
        strip(expected);
        strip(actual);
        if (record.rowsort) {
            std::sort(expected.begin(), expected.end());
            std::sort(actual.begin(), actual.end());
        }
        if (expected != actual) {
            Fail(record, sql, "the result differs", expected, actual);
            return false;
        }
        return true;
    }

    std::string path_;
    std::filesystem::path tmp_;
    std::map<std::string, std::string> vars_;
    std::unique_ptr<Database> db_;
    std::unique_ptr<QuerySession> session_;
    int num_records_ = 0;
};

int RunFile(const std::string& path) {
    std::string error;
    auto records = ParseScript(path, &error);
    if (!records) {
        std::cerr << error << "\n";
        return 1;
    }
    const char* tmpdir = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): one thread
    std::string pattern =
        std::string(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp") + "/phenix-sql.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        std::cerr << path << ": cannot create a temporary directory\n";
        return 1;
    }
    const std::filesystem::path tmp = pattern;
    Runner runner(path, tmp);
    const int num_failures = runner.Run(*records);
    std::error_code ignored;
    if (std::getenv("PHENIX_SQL_KEEP") == nullptr) {  // NOLINT(concurrency-mt-unsafe)
        std::filesystem::remove_all(tmp, ignored);
    } else {
        std::cerr << path << ": kept " << tmp.string() << "\n";
    }
    if (num_failures != 0) {
        std::cerr << path << ": " << (num_failures < 0 ? 1 : num_failures) << " of "
                  << records->size() << " records failed\n";
        return 1;
    }
    std::cout << path << ": all " << records->size() << " records passed\n";
    return 0;
}

}  // namespace
}  // namespace phenix::sqltest

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: sql_runner FILE.slt...\n";
        return 2;
    }
    int exit_code = 0;
    for (int arg_idx = 1; arg_idx < argc; ++arg_idx) {
        if (phenix::sqltest::RunFile(argv[arg_idx]) != 0) {
            exit_code = 1;
        }
    }
    return exit_code;
}
