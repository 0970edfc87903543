// SPDX-License-Identifier: Apache-2.0
#include "audit/verify.h"

#include <array>
#include <fstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/audit_files.h"
#include "audit/record.h"

namespace phenix::audit {
namespace {

constexpr std::array<std::string_view, 12> kFields = {"seq",        "time",   "principal", "tenant",
                                                      "action",     "target", "outcome",   "reason",
                                                      "request_id", "client", "prev",      "hash"};

// The line `record` would be written as, or why it is not a record.
Result<std::string> CanonicalLine(const nlohmann::json& record) {
    if (!record.is_object()) {
        return Status::InvalidArgument("not a JSON object");
    }
    for (const auto& [key, value] : record.items()) {
        bool known = false;
        for (std::string_view field : kFields) {
            known = known || key == field;
        }
        if (!known) {
            return Status::InvalidArgument("unexpected field '" + key + "'");
        }
    }
    std::string line = "{";
    for (std::string_view field : kFields) {
        const auto it = record.find(field);
        if (it == record.end()) {
            return Status::InvalidArgument("missing field '" + std::string(field) + "'");
        }
        if (field != "seq") {
            line += ",";
        }
        line += "\"";
        line += field;
        line += "\":";
        if (field == "seq") {
            if (!it->is_number_unsigned()) {
                return Status::InvalidArgument("'seq' is not a positive integer");
            }
            line += std::to_string(it->get<std::uint64_t>());
        } else {
            if (!it->is_string()) {
                return Status::InvalidArgument("'" + std::string(field) + "' is not a string");
            }
            AppendJsonString(line, it->get_ref<const std::string&>());
        }
    }
    return line + "}";
}

}  // namespace

std::string VerifyReport::ToString() const {
    if (!failure.has_value()) {
        return "ok: " + std::to_string(num_records) + " records in " + std::to_string(num_files) +
               " files, last hash " + last_hash;
    }
    std::string out = "broken: ";
    if (!failure->file.empty()) {
        out += failure->file + " line " + std::to_string(failure->line);
        if (failure->seq.has_value()) {
            out += " (seq " + std::to_string(*failure->seq) + ")";
        }
        out += ": ";
    }
    return out + failure->why;
}

Result<VerifyReport> VerifyAuditLog(const std::string& dir, std::string_view expected_hash) {
    PHENIX_ASSIGN_OR_RETURN(std::vector<AuditFile> files, ListAuditFiles(dir));
    if (files.empty()) {
        return Status::NotFound("no audit files (audit-NNNNNN.jsonl) in " + dir);
    }
    VerifyReport report;
    report.last_hash = std::string(kGenesisHash);
    std::uint64_t last_seq = 0;
    bool found_expected = expected_hash.empty();
    std::uint64_t previous_number = 0;
    for (const AuditFile& file : files) {
        ++report.num_files;
        std::string missing;
        for (std::uint64_t number = previous_number + 1; number < file.number; ++number) {
            missing += (missing.empty() ? "" : ", ") + AuditFileName(number);
        }
        previous_number = file.number;
        std::ifstream in(file.path, std::ios::binary);
        if (!in) {
            return Status::IOError("cannot open " + file.path);
        }
        std::string line;
        std::uint64_t line_number = 0;
        bool first_in_file = true;
        while (std::getline(in, line)) {
            ++line_number;
            const auto fail = [&](std::optional<std::uint64_t> seq, std::string why) {
                report.failure = VerifyFailure{
                    .file = file.name, .line = line_number, .seq = seq, .why = std::move(why)};
                return report;
            };
            if (in.eof()) {
                return fail(std::nullopt,
                            "incomplete last line (no newline: a torn write, or the log is being "
                            "written)");
            }
            const nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
            if (record.is_discarded()) {
                return fail(std::nullopt, "not JSON");
            }
            std::optional<std::uint64_t> seq;
            if (record.is_object() && record.contains("seq") &&
                record["seq"].is_number_unsigned()) {
                seq = record["seq"].get<std::uint64_t>();
            }
            auto canonical = CanonicalLine(record);
            if (!canonical.ok()) {
                return fail(seq, "not an audit record: " + canonical.status().message());
            }
            if (*canonical != line) {
                return fail(seq, "not in the form the audit log writes (the line was rewritten)");
            }
            const std::optional<ChainFields> chain = ReadChainFields(line);
            if (!chain.has_value()) {
                return fail(seq, "not in the form the audit log writes (prev/hash)");
            }
            if (!chain->hash_matches) {
                return fail(seq,
                            "hash does not match the record's contents (the record was modified)");
            }
            if (chain->seq != last_seq + 1) {
                std::string why = "seq gap: expected " + std::to_string(last_seq + 1) + ", found " +
                                  std::to_string(chain->seq);
                if (first_in_file && !missing.empty()) {
                    why += " (missing file " + missing + ")";
                }
                return fail(seq, std::move(why));
            }
            if (chain->prev != report.last_hash) {
                return fail(seq, "prev does not match the hash of the record before");
            }
            first_in_file = false;
            last_seq = chain->seq;
            report.last_hash = chain->hash;
            ++report.num_records;
            found_expected = found_expected || chain->hash == expected_hash;
        }
        if (in.bad()) {
            return Status::IOError("cannot read " + file.path);
        }
    }
    if (!found_expected) {
        report.failure = VerifyFailure{
            .file = "",
            .line = 0,
            .seq = std::nullopt,
            .why = "no record has hash " + std::string(expected_hash) +
                   ": records were removed from the end of the log, or it was rewritten"};
    }
    return report;
}

}  // namespace phenix::audit
