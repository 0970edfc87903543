// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer target for whole PhenixQL statements against a live database: the input is a script
// (statements split at ';' as the shell splits them), run through phenix::QuerySession on a
// temporary database opened once, with two collections (vectors, metadata, edges including a
// self-loop, a metadata index). Every statement must return a result or an error that is not
// Internal (an Internal error means a library message leaked); never a crash, an exception or a
// sanitizer report.
//
// Each input runs inside a transaction that is rolled back afterwards, so most inputs leave no
// trace. An input that ends that transaction (COMMIT, ROLLBACK) runs the rest of its statements
// on their own; the fixture is then rebuilt (collections dropped and created again) before the
// next input. COPY statements are skipped: they read and write files named by the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include <phenix/db.h>
#include <phenix/options.h>
#include <phenix/phenixql.h>

#include "query/parser.h"

namespace {

// Statements run per input; more would only slow the fuzzer down.
constexpr std::size_t kMaxStatements = 16;
// Inputs that commit something between two rebuilds of the fixture, at most.
constexpr std::uint64_t kRebuildEvery = 64;

constexpr std::string_view kFixture[] = {
    "CREATE COLLECTION docs (DIMENSION 4, METRIC cosine)",
    "CREATE COLLECTION tags",
    "CREATE INDEX ON docs (metadata.year)",
    "INSERT INTO tags (id, metadata) VALUES ('t1', {\"name\": \"db\"}), ('t2', {\"name\": \"ai\"})",
    "INSERT INTO docs (id, vector, metadata, edges) VALUES "
    "('d1', [0.1, 0.2, 0.3, 0.4], {\"category\": \"tech\", \"year\": 2021, \"tags\": [\"a\"]}, "
    "[{\"label\": \"cites\", \"target\": \"d1\"}]), "
    "('d2', [0.5, 0.6, 0.7, 0.8], {\"category\": \"science\", \"year\": 2019}, "
    "[{\"label\": \"cites\", \"target\": \"d1\", \"weight\": 0.8}, "
    "{\"label\": \"about\", \"target\": \"t1\", \"target_collection\": \"tags\", "
    "\"properties\": {\"score\": 3}}]), "
    "('d3', [1, 0, 0, 0], {\"category\": \"tech\", \"year\": 2024, \"author\": {\"name\": "
    "\"ann\"}}, [{\"label\": \"cites\", \"target\": \"d2\"}]), "
    "('d4', NULL, {}, NULL)",
};

class Fixture {
  public:
    Fixture() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "phenix-statement-fuzz-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            std::abort();
        }
        dir_ = pattern;
        Options options;
        options.durability = Durability::kRelaxed;
        auto db = phenix::Database::Open(dir_ + "/data", options);
        if (!db.ok()) {
            std::abort();
        }
        db_ = std::move(db).value();
        session_ = std::make_unique<phenix::QuerySession>(*db_);
        Build();
    }

    ~Fixture() {
        session_.reset();
        db_.reset();
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    Fixture(const Fixture&) = delete;
    Fixture& operator=(const Fixture&) = delete;

    void RunScript(std::string_view script) {
        if (!session_->Begin().ok()) {
            std::abort();
        }
        std::size_t num_run = 0;
        for (const std::string& text : phenix::QuerySession::SplitStatements(script)) {
            if (num_run++ == kMaxStatements) {
                break;
            }
            auto parsed = phenix::query::ParseStatement(text);
            if (parsed.ok() && std::holds_alternative<phenix::query::CopyStmt>(parsed->body)) {
                continue;
            }
            auto result = session_->Execute(text);
            if (!result.ok() && result.status().code() == phenix::StatusCode::kInternal) {
                std::fprintf(stderr, "Internal error for %s\n%s\n", text.substr(0, 300).c_str(),
                             result.status().ToString().c_str());
                std::abort();
            }
            if (session_->transaction() == nullptr) {
                is_dirty_ = true;  // later statements commit on their own
            }
        }
        if (session_->transaction() != nullptr) {
            session_->Rollback().IgnoreError();
        }
        // Catalog changes sync to disk, so rebuilding is slow: do it when the collections (or
        // their entity counts) changed, and now and then for drift that counts do not show.
        if (is_dirty_ && (Fingerprint() != fingerprint_ || ++num_dirty_ % kRebuildEvery == 0)) {
            Reset();
        }
        is_dirty_ = false;
    }

  private:
    using Options = phenix::Options;
    using Durability = phenix::Durability;

    void Build() {
        for (std::string_view statement : kFixture) {
            if (!session_->Execute(statement).ok()) {
                std::abort();
            }
        }
        fingerprint_ = Fingerprint();
    }

    // The collections with their dimensions, metrics, entity counts and indexes.
    std::string Fingerprint() {
        auto collections = session_->Execute("SHOW COLLECTIONS");
        if (!collections.ok()) {
            std::abort();
        }
        std::string out;
        for (const auto& row : collections->rows) {
            for (const phenix::QueryValue& value : row) {
                out += value.ToJson() + ",";
            }
            out += ";";
        }
        return out;
    }

    // Drops every collection of the session's tenant and builds the fixture again.
    void Reset() {
        session_ = std::make_unique<phenix::QuerySession>(*db_);
        auto collections = session_->Execute("SHOW COLLECTIONS");
        if (!collections.ok()) {
            std::abort();
        }
        for (const auto& row : collections->rows) {
            std::string name = row.empty() ? std::string() : row[0].text;
            if (!session_->Execute("DROP COLLECTION \"" + name + "\"").ok()) {
                std::abort();
            }
        }
        Build();
    }

    std::string dir_;
    std::unique_ptr<phenix::Database> db_;
    std::unique_ptr<phenix::QuerySession> session_;
    std::string fingerprint_;      // of the fixture as built
    bool is_dirty_ = false;        // the current input committed something
    std::uint64_t num_dirty_ = 0;  // inputs that committed something
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Fixture fixture;
    fixture.RunScript(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
