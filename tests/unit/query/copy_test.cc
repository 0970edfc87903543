// SPDX-License-Identifier: Apache-2.0
// COPY ... FROM / TO through QuerySession: JSON-lines bulk load with edges to later lines,
// error reporting by line, ON_ERROR skip, and export.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <phenix/db.h>
#include <phenix/json.h>
#include <phenix/limits.h>
#include <phenix/phenixql.h>

#include "testing/temp_dir.h"

namespace phenix {
namespace {

#define COPY_ASSERT_OK(expr)                             \
    do {                                                 \
        const ::phenix::Status copy_s_ = (expr);         \
        ASSERT_TRUE(copy_s_.ok()) << copy_s_.ToString(); \
    } while (false)

class CopyTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto db = Database::Open(dir_.Sub("data"));
        ASSERT_TRUE(db.ok()) << db.status().ToString();
        db_ = std::move(db).value();
        COPY_ASSERT_OK(db_->CreateCollection({.ref = "docs", .dimension = 3}));
        session_ = std::make_unique<QuerySession>(*db_);
    }

    std::string WriteFile(const std::string& name, const std::string& content) {
        const std::string path = dir_.Sub(name);
        std::ofstream out(path, std::ios::binary);
        out << content;
        return path;
    }

    static std::string ReadFile(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

    Result<QueryResult> Run(const std::string& statement) { return session_->Execute(statement); }

    Result<QueryResult> CopyFrom(const std::string& path, const std::string& collection = "docs",
                                 const std::string& options = "") {
        return Run("COPY " + collection + " FROM '" + path + "'" + options);
    }

    std::vector<Entity> All(const CollectionRef& collection = "docs") {
        std::vector<Entity> out;
        ScanOptions options{.limit = 10000, .include_edges = true};
        for (;;) {
            auto page = db_->Scan(collection, options);
            EXPECT_TRUE(page.ok()) << page.status().ToString();
            if (!page.ok()) {
                return out;
            }
            for (Entity& e : page->entities) {
                out.push_back(std::move(e));
            }
            if (page->next_start_after.empty()) {
                return out;
            }
            options.start_after = page->next_start_after;
        }
    }

    std::uint64_t Count(const CollectionRef& collection = "docs") {
        auto info = db_->GetCollection(collection);
        EXPECT_TRUE(info.ok()) << info.status().ToString();
        return info.ok() ? info->num_entities : 0;
    }

    std::vector<std::string> OutTargets(const std::string& id) {
        auto entity = db_->Get("docs", id);
        EXPECT_TRUE(entity.ok()) << id << ": " << entity.status().ToString();
        std::vector<std::string> out;
        if (entity.ok()) {
            for (const Edge& e : entity->edges) {
                out.push_back(e.label + ":" + e.target_id);
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    static bool Contains(const std::string& text, const std::string& part) {
        return text.find(part) != std::string::npos;
    }

    testing::TempDir dir_;
    std::unique_ptr<Database> db_;
    std::unique_ptr<QuerySession> session_;
};

using CopyFromFile = CopyTest;
using CopyToFile = CopyTest;

TEST_F(CopyFromFile, LoadsEntitiesAndSkipsBlankLines) {
    const std::string path = WriteFile("in.jsonl",
                                       "{\"id\":\"a\",\"vector\":[1,2,3],\"metadata\":{\"x\":1}}\n"
                                       "\n"
                                       "   \t\r\n"
                                       "{\"id\":\"b\",\"vector\":[4,5,6]}\r\n"
                                       "{\"id\":\"c\"}");  // no final newline
    auto result = CopyFrom(path);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->message, "COPY 3");
    EXPECT_EQ(result->affected, 3u);
    EXPECT_FALSE(result->has_rows);
    EXPECT_EQ(Count(), 3u);
    auto a = db_->Get("docs", "a");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->vector, (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(a->metadata, R"({"x":1})");
    auto c = db_->Get("docs", "c");
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c->vector.empty());
}

TEST_F(CopyFromFile, ReadsEveryLineShapeLikeEntityFromJson) {
    // COPY has a fast path for the usual shape and falls back to EntityFromJson otherwise; both
    // must store the same entity.
    const std::vector<std::string> lines = {
        R"({"id":"p1","vector":[1,-2.5,3e-3],"metadata":{"a":[1,{"b":"}]"}],"c":"x\"y"}})",
        R"(  { "vector" : [ 0.1 , 0.2 , 0.30000001 ] , "id" : "p2" , "metadata" : { } }  )",
        R"({"id":"p3","vector":null,"metadata":null,"edges":null})",
        R"({"id":"p4","vector":[1E2,-0,0.000001],"edges":[{"label":"e","target":"p1","weight":2,"properties":{"k":[1]}}]})",
        R"({"id":"p\u00e9","vector":[1,2,3]})",
        R"({"id":"p6","metadata":{"z":1,"a":{"nested":true}},"vector":[3.4028234e38,1.17549435e-38,7]})",
        R"({"id":"p7","vector":[1,2,3],"edges":[{"label":"e","target":"p2","collection":"docs"}]})",
        R"({"id":"p8","vector":[]})",
        "{\"id\":\"p9\",\t\"vector\":[4,5,6]}\r",
        // Edge shapes: the fast path reads EntityToJson's shape, the rest falls back.
        R"({"id":"p10","edges":[ {"label":"w","target":"p1","weight":-0} , {"target":"p2","weight":1E2,"label":"w"},{"label":"v","target":"p3","collection":"docs","weight":0.30000001,"properties":null},{"label":"n","target":"p11","weight":-7}]})",
        R"({"id":"p11","edges":[]})",
        R"({"id":"p12","edges":[{"label":"a","target":"p1","label":"b"},{"label":"e","target":"p\u0031"}]})",
        R"({"id":"p13","edges":[{"label":"same","target":"p1","weight":1},{"label":"same","target":"p1","weight":2}]})",
    };
    std::string content;
    for (const std::string& line : lines) {
        content += line + "\n";
    }
    auto result = CopyFrom(WriteFile("shapes.jsonl", content));
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->affected, lines.size());

    COPY_ASSERT_OK(db_->CreateCollection({.ref = "expected", .dimension = 3}));
    WriteBatch batch;  // one batch: some edges point at later lines
    for (const std::string& line : lines) {
        auto entity = EntityFromJson(line);
        ASSERT_TRUE(entity.ok()) << line << ": " << entity.status().ToString();
        for (Edge& edge : entity->edges) {
            if (edge.target_collection == "docs") {
                edge.target_collection = "expected";
            }
        }
        batch.Upsert("expected", *entity);
    }
    COPY_ASSERT_OK(db_->Write(batch));
    auto got = All("docs");
    auto want = All("expected");
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t idx = 0; idx < got.size(); ++idx) {
        for (Edge& edge : want[idx].edges) {
            if (edge.target_collection == "expected") {
                edge.target_collection = "docs";
            }
        }
        EXPECT_EQ(EntityToJson(got[idx]), EntityToJson(want[idx]));
    }
}

TEST_F(CopyFromFile, MalformedShapesFailLikeEntityFromJson) {
    for (const std::string line :
         {R"({"id":"a","vector":[01,2,3]})", R"({"id":"a","vector":[1,2,3],})",
          R"({"id":"a","vector":[1,2,3]} x)", R"({"id":"a","vector":[1,2,3]}{})",
          R"({"id":"a","vector":[1,2,]})", R"({"id":"a","metadata":{"x":}})",
          R"({"id":"a","metadata":[1]})", R"({"id":"a","edges":[{"label":"x"}]})",
          R"({"id":"a","vector":[1,2,1e999]})", R"({"id":5})", R"({"vector":[1,2,3]})",
          R"({"id":"a","extra":1})",
          R"({"id":"a","edges":[{"label":"x","target":"a","weight":"1"}]})",
          R"({"id":"a","edges":[{"label":"x","target":"a","bogus":1}]})",
          R"({"id":"a","edges":[1]})", R"({"id":"a","edges":[{"label":"x","target":"a"},]})",
          R"({"id":"a","edges":{"label":"x","target":"a"}})",
          R"({"id":"a","edges":[{"label":"x","target":"a","weight":1e999}]})"}) {
        auto result = CopyFrom(WriteFile("bad.jsonl", std::string(line) + "\n"));
        ASSERT_FALSE(result.ok()) << line;
        EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << line;
        EXPECT_TRUE(result.status().message().starts_with("line 1: ")) << result.status().message();
    }
    EXPECT_EQ(Count(), 0u);
}

TEST_F(CopyFromFile, EmptyFileLoadsNothing) {
    auto result = CopyFrom(WriteFile("empty.jsonl", ""));
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->message, "COPY 0");
}

TEST_F(CopyFromFile, AcceptsEdgesToLaterLines) {
    COPY_ASSERT_OK(db_->Insert("docs", Entity{.id = "old", .vector = {1, 1, 1}}));
    COPY_ASSERT_OK(db_->CreateCollection({.ref = "people"}));
    COPY_ASSERT_OK(db_->Insert("people", Entity{.id = "ann"}));
    const std::string path = WriteFile(
        "graph.jsonl",
        R"({"id":"a","vector":[1,0,0],"edges":[{"label":"next","target":"b"},{"label":"self","target":"a"},{"label":"to_old","target":"old"}]})"
        "\n"
        R"({"id":"b","vector":[0,1,0],"edges":[{"label":"next","target":"c"},{"label":"back","target":"a"}]})"
        "\n"
        R"({"id":"c","vector":[0,0,1],"edges":[{"label":"by","target":"ann","collection":"people","weight":0.5}]})"
        "\n");
    auto result = CopyFrom(path);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->message, "COPY 3");
    EXPECT_EQ(OutTargets("a"), (std::vector<std::string>{"next:b", "self:a", "to_old:old"}));
    EXPECT_EQ(OutTargets("b"), (std::vector<std::string>{"back:a", "next:c"}));
    EXPECT_EQ(OutTargets("c"), (std::vector<std::string>{"by:ann"}));
    auto in = db_->ListEdges("people", "ann", EdgeDirection::kIn);
    ASSERT_TRUE(in.ok());
    ASSERT_EQ(in->size(), 1u);
    EXPECT_EQ((*in)[0].source_id, "c");
    EXPECT_DOUBLE_EQ((*in)[0].weight, 0.5);
    // The vectors were written once, with the entities.
    auto a = db_->Get("docs", "a");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->vector, (std::vector<float>{1, 0, 0}));
    COPY_ASSERT_OK(db_->Verify());
}

// Issue 13: a repeated id used to be merged silently (the later line won).
TEST_F(CopyFromFile, RepeatedIdFailsNamingBothLinesAndWritesNothing) {
    const std::string path =
        WriteFile("dup.jsonl", R"({"id":"a","edges":[{"label":"next","target":"b"}]})"
                               "\n"
                               R"({"id":"b"})"
                               "\n"
                               "\n"
                               R"({"id":"a","metadata":{"v":2}})"
                               "\n");
    auto result = CopyFrom(path);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    const std::string& message = result.status().message();
    EXPECT_TRUE(message.starts_with("line 4: id 'a' is also on line 1")) << message;
    EXPECT_TRUE(Contains(message, "nothing was written")) << message;
    EXPECT_EQ(Count(), 0u);
}

TEST_F(CopyFromFile, RepeatedIdIsASkippedLineWithOnErrorSkipAndTheFirstLineWins) {
    const std::string path = WriteFile(
        "dup.jsonl",
        R"({"id":"a","edges":[{"label":"next","target":"b"}]})"
        "\n"
        R"({"id":"a","metadata":{"v":2}})"
        "\n"
        R"({"id":"b","edges":[{"label":"next","target":"c"}]})"
        "\n"
        R"({"id":"c"})"
        "\n"
        R"({"id":"b","edges":[{"label":"prev","target":"a"},{"label":"next","target":"d"}]})"
        "\n"
        R"({"id":"d"})"
        "\n");
    auto result = CopyFrom(path, "docs", " (ON_ERROR skip)");
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->affected, 4u);
    EXPECT_EQ(result->message,
              "COPY 4 (2 lines skipped: line 2: id 'a' is also on line 1; line 5: id 'b' is also "
              "on line 3)");
    EXPECT_EQ(Count(), 4u);
    EXPECT_EQ(OutTargets("a"), std::vector<std::string>{"next:b"});
    EXPECT_EQ(OutTargets("b"), std::vector<std::string>{"next:c"});
    EXPECT_EQ(db_->Get("docs", "a")->metadata, "{}");
    COPY_ASSERT_OK(db_->Verify());
}

TEST_F(CopyFromFile, MissingEdgeTargetFailsNamingLineLabelAndTarget) {
    const std::string path = WriteFile(
        "missing.jsonl",
        R"({"id":"a"})"
        "\n"
        R"({"id":"b","edges":[{"label":"knows","target":"ghost"},{"label":"next","target":"c"}]})"
        "\n"
        R"({"id":"c"})"
        "\n");
    auto result = CopyFrom(path);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
    const std::string& message = result.status().message();
    EXPECT_TRUE(Contains(message, "line 2:")) << message;
    EXPECT_TRUE(Contains(message, "'knows'")) << message;
    EXPECT_TRUE(Contains(message, "'ghost'")) << message;
    // Issue 13: the file is checked before anything is written (it used to load every entity,
    // then stop before the edges to later lines).
    EXPECT_TRUE(Contains(message, "nothing was written")) << message;
    EXPECT_EQ(Count(), 0u);
}

TEST_F(CopyFromFile, MissingEdgeTargetIsSkippedWithOnErrorSkip) {
    const std::string path = WriteFile(
        "missing.jsonl",
        R"({"id":"b","edges":[{"label":"knows","target":"ghost"},{"label":"next","target":"c"}]})"
        "\n"
        R"({"id":"c"})"
        "\n");
    auto result = CopyFrom(path, "docs", " (ON_ERROR skip)");
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->affected, 2u);
    EXPECT_TRUE(Contains(result->message, "COPY 2 (1 edge skipped: line 1: edge 'knows'"))
        << result->message;
    EXPECT_EQ(OutTargets("b"), (std::vector<std::string>{"next:c"}));
    COPY_ASSERT_OK(db_->Verify());
}

TEST_F(CopyFromFile, BadLineFailsWithItsNumber) {
    const std::string path = WriteFile("bad.jsonl",
                                       "{\"id\":\"a\"}\n"
                                       "{\"id\":\"b\"}\n"
                                       "\n"
                                       "{\"id\":\"c\", oops}\n"
                                       "{\"id\":\"d\"}\n");
    auto result = CopyFrom(path);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    const std::string& message = result.status().message();
    EXPECT_TRUE(message.starts_with("line 4: ")) << message;
    EXPECT_TRUE(Contains(message, "nothing was written")) << message;
    EXPECT_EQ(Count(), 0u);
}

// Issue 13: a bad line after the first batch used to leave the batches before it written, and
// the entities among them with edges to later lines without their edges.
TEST_F(CopyFromFile, BadLineAfterManyBatchesWritesNothing) {
    std::string content;
    for (int idx = 0; idx < 5000; ++idx) {
        content += R"({"id":"n)" + std::to_string(idx) +
                   R"(","edges":[{"label":"next","target":"n)" + std::to_string(idx + 1) +
                   "\"}]}\n";
    }
    content += R"({"id":"n5000"})"
               "\n"
               R"({"id":"bad","vector":[1,2]})"
               "\n";
    auto result = CopyFrom(WriteFile("bad.jsonl", content));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(result.status().message().starts_with("line 5002: vector has dimension 2"))
        << result.status().message();
    EXPECT_EQ(Count(), 0u);
}

TEST_F(CopyFromFile, WrongDimensionFailsWithItsLine) {
    const std::string path = WriteFile("dim.jsonl",
                                       "{\"id\":\"a\",\"vector\":[1,2,3]}\n"
                                       "{\"id\":\"b\",\"vector\":[1,2]}\n");
    auto result = CopyFrom(path);
    ASSERT_FALSE(result.ok());
    EXPECT_TRUE(result.status().message().starts_with("line 2: vector has dimension 2"))
        << result.status().message();
    EXPECT_EQ(Count(), 0u);
}

TEST_F(CopyFromFile, BadEdgeFailsWithItsLineBeforeAnythingIsWritten) {
    // An empty edge label parses; the check of the whole file (not the engine, after earlier
    // batches were written) rejects it.
    const std::string path =
        WriteFile("engine.jsonl", R"({"id":"a"})"
                                  "\n"
                                  R"({"id":"b","edges":[{"label":"","target":"a"}]})"
                                  "\n"
                                  R"({"id":"c"})"
                                  "\n");
    auto result = CopyFrom(path);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(result.status().message().starts_with("line 2: edge 0: label is empty"))
        << result.status().message();
    EXPECT_EQ(Count(), 0u);

    auto skipped = CopyFrom(path, "docs", " (ON_ERROR skip)");
    ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
    EXPECT_TRUE(skipped->message.starts_with("COPY 2 (1 line skipped: line 2: "))
        << skipped->message;
    EXPECT_EQ(Count(), 2u);
}

TEST_F(CopyFromFile, BadEdgeToALaterLineFailsWithItsLine) {
    const std::string path =
        WriteFile("late.jsonl", R"({"id":"a","edges":[{"label":"","target":"b"}]})"
                                "\n"
                                R"({"id":"c","edges":[{"label":"ok","target":"b"}]})"
                                "\n"
                                R"({"id":"b"})"
                                "\n");
    auto result = CopyFrom(path);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(result.status().message().starts_with("line 1: ")) << result.status().message();
    EXPECT_TRUE(Contains(result.status().message(), "nothing was written"))
        << result.status().message();
    EXPECT_EQ(Count(), 0u);

    auto skipped = CopyFrom(path, "docs", " (ON_ERROR skip)");
    ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
    EXPECT_TRUE(skipped->message.starts_with("COPY 2 (1 line skipped: line 1: edge 0: label"))
        << skipped->message;
    EXPECT_FALSE(db_->Get("docs", "a").ok());
    EXPECT_EQ(OutTargets("c"), (std::vector<std::string>{"ok:b"}));
    COPY_ASSERT_OK(db_->Verify());
}

TEST_F(CopyFromFile, OnErrorSkipCountsAndReportsBadLines) {
    std::string content;
    for (int line = 1; line <= 30; ++line) {
        if (line % 2 == 0) {
            content += "not json " + std::to_string(line) + "\n";
        } else {
            content += "{\"id\":\"e" + std::to_string(line) + "\",\"vector\":[1,2,3]}\n";
        }
    }
    auto result = CopyFrom(WriteFile("skip.jsonl", content), "docs", " (ON_ERROR skip)");
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->affected, 15u);
    EXPECT_TRUE(result->message.starts_with("COPY 15 (15 lines skipped: line 2: "))
        << result->message;
    EXPECT_TRUE(Contains(result->message, "line 20: ")) << result->message;
    EXPECT_FALSE(Contains(result->message, "line 22: ")) << result->message;  // first 10 only
    EXPECT_TRUE(result->message.ends_with("; ...)")) << result->message;
    EXPECT_EQ(Count(), 15u);

    EXPECT_TRUE(
        CopyFrom(WriteFile("s2.jsonl", "{\"id\":\"z\"}\n"), "docs", " (ON_ERROR stop)").ok());
    auto bad = CopyFrom(WriteFile("s3.jsonl", "{\"id\":\"y\"}\n"), "docs", " (ON_ERROR ignore)");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(Contains(bad.status().message(), "ON_ERROR must be skip or stop"))
        << bad.status().message();
    EXPECT_FALSE(db_->Get("docs", "y").ok());
}

TEST_F(CopyFromFile, MissingFileIsNotFoundAndUnreadableIsIOError) {
    // A wrong path is the user's to fix (404 over HTTP); a storage failure is IOError (500).
    auto missing = CopyFrom(dir_.Sub("nope.jsonl"));
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
    EXPECT_TRUE(Contains(missing.status().message(), "nope.jsonl")) << missing.status().message();
    EXPECT_TRUE(Contains(missing.status().message(), "No such file")) << missing.status().message();

    auto directory = CopyFrom(dir_.path());
    ASSERT_FALSE(directory.ok());
    EXPECT_EQ(directory.status().code(), StatusCode::kIOError) << directory.status().ToString();
}

TEST_F(CopyFromFile, AFileThatCannotBeReadTwiceIsLoadedInOnePass) {
    auto result = CopyFrom("/dev/null");
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->message, "COPY 0");
}

TEST_F(CopyFromFile, MissingCollectionSuggestsAName) {
    auto result = CopyFrom(WriteFile("x.jsonl", "{\"id\":\"a\"}\n"), "doc");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
    EXPECT_TRUE(Contains(result.status().message(), "did you mean 'docs'?"))
        << result.status().message();
}

TEST_F(CopyFromFile, IsRefusedInsideATransaction) {
    COPY_ASSERT_OK(session_->Begin());
    auto result = CopyFrom(WriteFile("x.jsonl", "{\"id\":\"a\"}\n"));
    EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
    COPY_ASSERT_OK(session_->Rollback());
}

TEST_F(CopyFromFile, LargeFileWithEdgesBothWays) {
    constexpr int kLines = 20000;
    std::string content;
    for (int idx = 0; idx < kLines; ++idx) {
        Entity e{.id = "n" + std::to_string(idx),
                 .vector = {static_cast<float>(idx), 1.0F, static_cast<float>(idx % 7)},
                 .metadata = "{\"i\":" + std::to_string(idx) + "}"};
        if (idx + 1 < kLines) {
            e.edges.push_back({.label = "next", .target_id = "n" + std::to_string(idx + 1)});
        }
        if (idx > 0) {
            e.edges.push_back({.label = "prev", .target_id = "n" + std::to_string(idx - 1)});
        }
        content += EntityToJson(e);
        content += '\n';
    }
    std::vector<std::string> progress;
    session_->set_progress([&](std::string_view line) { progress.emplace_back(line); });
    auto result = CopyFrom(WriteFile("large.jsonl", content));
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->message, "COPY 20000");
    EXPECT_EQ(Count(), 20000u);
    ASSERT_FALSE(progress.empty());
    EXPECT_TRUE(progress.back().starts_with("COPY docs: 20000 lines, 20000 entities in "))
        << progress.back();
    for (int idx : {0, 1, 777, 12345, kLines - 1}) {
        auto got = db_->Get("docs", "n" + std::to_string(idx));
        ASSERT_TRUE(got.ok()) << idx;
        EXPECT_EQ(got->vector[0], static_cast<float>(idx));
        EXPECT_EQ(got->metadata, "{\"i\":" + std::to_string(idx) + "}");
        EXPECT_EQ(got->edges.size(), idx == 0 || idx == kLines - 1 ? 1u : 2u) << idx;
    }
    auto in = db_->ListEdges("docs", "n500", EdgeDirection::kIn);
    ASSERT_TRUE(in.ok());
    EXPECT_EQ(in->size(), 2u);
    COPY_ASSERT_OK(db_->Verify());
}

TEST_F(CopyToFile, RoundTripsThroughAnotherCollection) {
    COPY_ASSERT_OK(db_->CreateCollection({.ref = "copy2", .dimension = 3}));
    COPY_ASSERT_OK(db_->CreateCollection({.ref = "copy3", .dimension = 3}));
    std::string content;
    for (int idx = 0; idx < 2500; ++idx) {
        Entity e{.id = "k" + std::to_string(idx),
                 .vector = {0.1F * static_cast<float>(idx), -1.5F, 1e-7F},
                 .metadata = R"({"tags":["x","y"],"n":)" + std::to_string(idx) + "}"};
        if (idx % 3 == 0) {
            e.vector.clear();
        }
        e.edges.push_back({.label = "l",
                           .target_id = "k" + std::to_string((idx * 7 + 3) % 2500),
                           .weight = 0.25,
                           .properties = R"({"p":1})"});
        content += EntityToJson(e) + "\n";
    }
    auto loaded = CopyFrom(WriteFile("src.jsonl", content));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();

    const std::string out = dir_.Sub("out.jsonl");
    auto exported = Run("COPY docs TO '" + out + "'");
    ASSERT_TRUE(exported.ok()) << exported.status().ToString();
    EXPECT_EQ(exported->message, "COPY 2500");
    EXPECT_EQ(exported->affected, 2500u);
    EXPECT_FALSE(std::ifstream(out + ".tmp").good());

    auto reloaded = CopyFrom(out, "copy2");
    ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
    EXPECT_EQ(reloaded->message, "COPY 2500");
    EXPECT_EQ(All("docs"), All("copy2"));

    // Exporting the copy gives the same file.
    const std::string out2 = dir_.Sub("out2.jsonl");
    ASSERT_TRUE(Run("COPY copy2 TO '" + out2 + "'").ok());
    EXPECT_EQ(ReadFile(out), ReadFile(out2));
    ASSERT_TRUE(CopyFrom(out2, "copy3").ok());
    EXPECT_EQ(All("docs"), All("copy3"));
    COPY_ASSERT_OK(db_->Verify());
}

TEST_F(CopyToFile, EmptyCollectionWritesAnEmptyFile) {
    const std::string out = dir_.Sub("empty.jsonl");
    auto exported = Run("COPY docs TO '" + out + "'");
    ASSERT_TRUE(exported.ok()) << exported.status().ToString();
    EXPECT_EQ(exported->message, "COPY 0");
    EXPECT_EQ(ReadFile(out), "");
}

TEST_F(CopyToFile, UnwritablePathIsIOError) {
    const std::string out = dir_.Sub("no/such/dir/out.jsonl");
    auto exported = Run("COPY docs TO '" + out + "'");
    ASSERT_FALSE(exported.ok());
    EXPECT_EQ(exported.status().code(), StatusCode::kIOError);
    EXPECT_TRUE(Contains(exported.status().message(), out)) << exported.status().message();
    auto missing = Run("COPY nope TO '" + dir_.Sub("x.jsonl") + "'");
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

// ~1.5 MiB: two chunks of about 1 MiB, so that an interrupt lands before the end. Line 1 has
// an edge to the last line.
std::string ChunkedFile(const std::string& first_line_metadata) {
    std::string content = R"({"id":"first","metadata":)" + first_line_metadata +
                          R"(,"edges":[{"label":"to","target":"e5999"}]})"
                          "\n";
    const std::string padding(200, 'x');
    for (int row = 0; row < 6000; ++row) {
        content += R"({"id":"e)" + std::to_string(row) + R"(","vector":[1,2,3],"metadata":{"p":")" +
                   padding + "\"}}\n";
    }
    return content;
}

TEST_F(CopyFromFile, InterruptWhileCheckingTheFileWritesNothing) {
    const std::string path = WriteFile("big.jsonl", ChunkedFile("{}"));
    int polls = 0;
    session_->set_interrupt([&] { return ++polls >= 1; });
    auto result = CopyFrom(path);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kCancelled) << result.status().ToString();
    EXPECT_TRUE(Contains(result.status().message(), "nothing was written"))
        << result.status().ToString();
    EXPECT_EQ(Count(), 0u);
}

TEST_F(CopyFromFile, InterruptWhileWritingStopsAndRunningItAgainFinishes) {
    const std::string path = WriteFile("big.jsonl", ChunkedFile("{}"));
    // Stops once the first batch is written.
    session_->set_interrupt([&] { return Count() > 0; });
    auto result = CopyFrom(path);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kCancelled) << result.status().ToString();
    EXPECT_TRUE(Contains(result.status().message(), "COPY cancelled after line"))
        << result.status().ToString();
    EXPECT_TRUE(Contains(result.status().message(), "run the same COPY again"))
        << result.status().ToString();
    const std::uint64_t loaded = Count();
    EXPECT_GT(loaded, 0u);
    EXPECT_LT(loaded, 6001u);
    // Running it again without the interrupt finishes the load, edges included.
    session_->set_interrupt(nullptr);
    auto again = CopyFrom(path);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(Count(), 6001u);
    EXPECT_EQ(OutTargets("first"), std::vector<std::string>{"to:e5999"});
    COPY_ASSERT_OK(db_->Verify());
}

// Issue 13: an entity that existed before the COPY, whose line has an edge to a later line, was
// written without edges first; a COPY stopped before its end left it with no edges at all.
TEST_F(CopyFromFile, StoppedReloadKeepsTheEdgesOfEntitiesThatExisted) {
    const std::string path = WriteFile("big.jsonl", ChunkedFile("{}"));
    ASSERT_TRUE(CopyFrom(path).ok());
    ASSERT_EQ(OutTargets("first"), std::vector<std::string>{"to:e5999"});
    // The same file with new metadata on line 1, stopped once line 1's batch is written.
    const std::string changed = WriteFile("big2.jsonl", ChunkedFile(R"({"v":2})"));
    session_->set_interrupt([&] { return db_->Get("docs", "first")->metadata == R"({"v":2})"; });
    auto result = CopyFrom(changed);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kCancelled) << result.status().ToString();
    ASSERT_EQ(db_->Get("docs", "first")->metadata, R"({"v":2})");
    EXPECT_EQ(OutTargets("first"), std::vector<std::string>{"to:e5999"});
    COPY_ASSERT_OK(db_->Verify());
}

// Issue 12 made the late-edge pass and the write path faster (sorted batches, larger edge
// batches, a flat id set); these pin down what COPY must still do exactly.

TEST_F(CopyFromFile, IdsThatExistedBeforeGetExactlyTheFileEdges) {
    // "old" has out-edges and an in-edge before the COPY; its line has an edge to a later line,
    // so it is written without edges first and its edges come in the late pass.
    COPY_ASSERT_OK(db_->Insert("docs", Entity{.id = "x"}));
    COPY_ASSERT_OK(db_->Insert("docs", Entity{.id = "z"}));
    COPY_ASSERT_OK(db_->Insert("docs", Entity{.id = "old",
                                              .vector = {1, 1, 1},
                                              .edges = {{.label = "was", .target_id = "x"},
                                                        {.label = "was", .target_id = "z"}}}));
    COPY_ASSERT_OK(
        db_->Insert("docs", Entity{.id = "y", .edges = {{.label = "in", .target_id = "old"}}}));
    const std::string path = WriteFile(
        "exist.jsonl",
        R"({"id":"old","vector":[2,2,2],"edges":[{"label":"now","target":"late"},{"label":"now","target":"x","weight":3}]})"
        "\n"
        R"({"id":"x","edges":[{"label":"back","target":"old"}]})"
        "\n"
        R"({"id":"late"})"
        "\n");
    auto result = CopyFrom(path);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(OutTargets("old"), (std::vector<std::string>{"now:late", "now:x"}));
    EXPECT_EQ(OutTargets("x"), (std::vector<std::string>{"back:old"}));
    EXPECT_EQ(OutTargets("y"), (std::vector<std::string>{"in:old"}));  // not in the file: kept
    auto in_old = db_->ListEdges("docs", "old", EdgeDirection::kIn);
    ASSERT_TRUE(in_old.ok());
    ASSERT_EQ(in_old->size(), 2u);  // from x (new) and y (kept)
    auto in_z = db_->ListEdges("docs", "z", EdgeDirection::kIn);
    ASSERT_TRUE(in_z.ok());
    EXPECT_TRUE(in_z->empty());  // old's replaced edge is gone from both ends
    auto in_x = db_->ListEdges("docs", "x", EdgeDirection::kIn);
    ASSERT_TRUE(in_x.ok());
    ASSERT_EQ(in_x->size(), 1u);
    EXPECT_DOUBLE_EQ((*in_x)[0].weight, 3.0);
    EXPECT_EQ(db_->Get("docs", "old")->vector, (std::vector<float>{2, 2, 2}));
    COPY_ASSERT_OK(db_->Verify());
}

TEST_F(CopyFromFile, LoadingTheSameFileAgainChangesNothing) {
    std::string content;
    for (int idx = 0; idx < 300; ++idx) {
        Entity e{.id = "n" + std::to_string(idx), .vector = {static_cast<float>(idx), 1, 2}};
        e.edges.push_back({.label = "self", .target_id = e.id});
        e.edges.push_back({.label = "next", .target_id = "n" + std::to_string((idx + 1) % 300)});
        e.edges.push_back(
            {.label = "prev", .target_id = "n" + std::to_string((idx + 299) % 300), .weight = 0.5});
        content += EntityToJson(e) + "\n";
    }
    const std::string path = WriteFile("again.jsonl", content);
    auto first = CopyFrom(path);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    const std::vector<Entity> after_first = All();
    auto second = CopyFrom(path);
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    EXPECT_EQ(second->message, "COPY 300");
    const std::vector<Entity> after_second = All();
    ASSERT_EQ(after_first.size(), 300u);
    ASSERT_EQ(after_second.size(), 300u);
    for (std::size_t idx = 0; idx < after_first.size(); ++idx) {
        EXPECT_EQ(EntityToJson(after_second[idx]), EntityToJson(after_first[idx]));
    }
    EXPECT_EQ(OutTargets("n0"), (std::vector<std::string>{"next:n1", "prev:n299", "self:n0"}));
    auto degree = db_->Degree("docs", "n7", EdgeDirection::kBoth);
    ASSERT_TRUE(degree.ok());
    EXPECT_EQ(*degree, 6u);  // self counted out and in, next and prev both ways
    COPY_ASSERT_OK(db_->Verify());
}

TEST_F(CopyFromFile, HubWithTwentyThousandInEdgesFromEarlierLinesAndAFullOutList) {
    // Every line points at the hub, the last line: 20,000 late edge lists (more than one late
    // batch), all to one target. The hub itself has limits::kMaxEdgesPerEntity out-edges back.
    constexpr int kLeaves = 20000;
    std::string content;
    for (int idx = 0; idx < kLeaves; ++idx) {
        content += R"({"id":"l)" + std::to_string(idx) +
                   R"(","edges":[{"label":"to","target":"hub"}]})" + "\n";
    }
    Entity hub{.id = "hub"};
    for (std::size_t idx = 0; idx < limits::kMaxEdgesPerEntity; ++idx) {
        hub.edges.push_back({.label = "back", .target_id = "l" + std::to_string(idx * 2)});
    }
    content += EntityToJson(hub) + "\n";
    std::vector<std::string> progress;
    session_->set_progress([&](std::string_view line) { progress.emplace_back(line); });
    auto result = CopyFrom(WriteFile("hub.jsonl", content));
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->affected, static_cast<std::uint64_t>(kLeaves + 1));
    auto in = db_->Degree("docs", "hub", EdgeDirection::kIn);
    ASSERT_TRUE(in.ok());
    EXPECT_EQ(*in, static_cast<std::uint64_t>(kLeaves));
    auto out = db_->Degree("docs", "hub", EdgeDirection::kOut);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, limits::kMaxEdgesPerEntity);
    EXPECT_EQ(OutTargets("l4"), (std::vector<std::string>{"to:hub"}));
    auto in_l4 = db_->ListEdges("docs", "l4", EdgeDirection::kIn);
    ASSERT_TRUE(in_l4.ok());
    ASSERT_EQ(in_l4->size(), 1u);
    EXPECT_EQ((*in_l4)[0].source_id, "hub");
    ASSERT_FALSE(progress.empty());
    EXPECT_TRUE(Contains(progress.back(),
                         "; " + std::to_string(kLeaves + limits::kMaxEdgesPerEntity) + " edges (" +
                             std::to_string(kLeaves) + " to later lines, written at the end in "))
        << progress.back();
    COPY_ASSERT_OK(db_->Verify());
}

// QuerySession::set_copy_directory (docs/configuration.md, copy_directory).
class CopyDirectoryTest : public CopyTest {
  protected:
    void SetUp() override {
        CopyTest::SetUp();
        std::filesystem::create_directories(dir_.Sub("io/sub"));
        std::filesystem::create_directories(dir_.Sub("outside"));
        session_->set_copy_directory(dir_.Sub("io"));
    }
};

TEST_F(CopyDirectoryTest, RelativePathsResolveUnderIt) {
    WriteFile("io/sub/in.jsonl", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
    auto loaded = Run("COPY docs FROM 'sub/in.jsonl'");
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(Count(), 2u);
    auto exported = Run("COPY docs TO 'sub/../out.jsonl'");
    ASSERT_TRUE(exported.ok()) << exported.status().ToString();
    const std::string text = ReadFile(dir_.Sub("io/out.jsonl"));
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
    // An absolute path inside it works too.
    auto absolute = Run("COPY docs FROM '" + dir_.Sub("io/out.jsonl") + "'");
    ASSERT_TRUE(absolute.ok()) << absolute.status().ToString();
}

TEST_F(CopyDirectoryTest, PathsLeadingOutsideArePermissionDenied) {
    const std::string outside = WriteFile("outside/x.jsonl", "{\"id\":\"a\"}\n");
    std::filesystem::create_symlink(outside, dir_.Sub("io/link.jsonl"));
    std::filesystem::create_directory_symlink(dir_.Sub("outside"), dir_.Sub("io/out-dir"));
    for (const std::string& statement : std::vector<std::string>{
             "COPY docs FROM '../outside/x.jsonl'", "COPY docs FROM 'sub/../../outside/x.jsonl'",
             "COPY docs FROM '" + outside + "'", "COPY docs FROM 'link.jsonl'",
             "COPY docs FROM 'out-dir/x.jsonl'", "COPY docs FROM '../outside/missing.jsonl'",
             "COPY docs FROM '.'", "COPY docs TO '../outside/y.jsonl'",
             "COPY docs TO 'out-dir/y.jsonl'", "COPY docs TO '/tmp/y.jsonl'"}) {
        auto result = Run(statement);
        ASSERT_FALSE(result.ok()) << statement;
        EXPECT_EQ(result.status().code(), StatusCode::kPermissionDenied)
            << statement << ": " << result.status().ToString();
        EXPECT_TRUE(Contains(result.status().message(), "copy_directory"))
            << result.status().message();
    }
    EXPECT_EQ(Count(), 0u);
    EXPECT_FALSE(std::filesystem::exists(dir_.Sub("outside/y.jsonl")));
    EXPECT_FALSE(std::filesystem::exists(dir_.Sub("outside/y.jsonl.tmp")));
}

TEST_F(CopyDirectoryTest, ALinkPlantedAtTheTemporaryFileIsNotFollowed) {
    COPY_ASSERT_OK(db_->Insert("docs", Entity{.id = "a"}));
    const std::string target = WriteFile("outside/victim", "keep");
    std::filesystem::create_symlink(target, dir_.Sub("io/e.jsonl.tmp"));
    auto result = Run("COPY docs TO 'e.jsonl'");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kIOError) << result.status().ToString();
    EXPECT_EQ(ReadFile(target), "keep");
}

TEST_F(CopyDirectoryTest, AMissingDirectoryIsFailedPrecondition) {
    session_->set_copy_directory(dir_.Sub("nope"));
    auto result = Run("COPY docs TO 'e.jsonl'");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition)
        << result.status().ToString();
    EXPECT_TRUE(Contains(result.status().message(), "copy_directory")) << result.status().message();
    // Unset again: paths are used as given.
    session_->set_copy_directory("");
    WriteFile("outside/x.jsonl", "{\"id\":\"a\"}\n");
    auto loaded = Run("COPY docs FROM '" + dir_.Sub("outside/x.jsonl") + "'");
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
}

}  // namespace
}  // namespace phenix

// ---- QuerySession::CopyFrom: COPY's loader over a ByteSource (phenixd's streamed import)

namespace phenix {
namespace {

// Hands out `text` a few bytes at a time (lines split across reads), then fails with `end` if
// set.
class CopyFromSource : public CopyTest {};

class PieceSource final : public ByteSource {
  public:
    PieceSource(std::string text, std::size_t piece, Status end = Status::Ok())
        : text_(std::move(text)), piece_(piece), end_(std::move(end)) {}
    Result<std::size_t> Read(char* buffer, std::size_t size) override {
        if (offset_ == text_.size() && !end_.ok()) {
            return end_;
        }
        const std::size_t count = std::min({size, piece_, text_.size() - offset_});
        std::copy_n(text_.data() + offset_, count, buffer);
        offset_ += count;
        return count;
    }

  private:
    std::string text_;
    std::size_t piece_;
    Status end_;
    std::size_t offset_ = 0;
};

TEST_F(CopyFromSource, SkipsBadLinesAndReportsThem) {
    PieceSource source(
        "{\"id\":\"a\",\"vector\":[1,2,3]}\n{\"id\":\"b\",\"vector\":[1]}\nnot json\n\n"
        "{\"id\":\"c\",\"vector\":[1,2,3],\"edges\":[{\"label\":\"l\",\"target\":\"a\"}]}",
        5);
    const CopyReport report = session_->CopyFrom("docs", source, /*skip_errors=*/true, "body");
    ASSERT_TRUE(report.status.ok()) << report.status.ToString();
    EXPECT_EQ(report.entities, 2u);
    EXPECT_EQ(report.skipped_lines, 2u);
    ASSERT_EQ(report.errors.size(), 2u);
    EXPECT_EQ(report.errors[0].line, 2u);
    EXPECT_NE(report.errors[0].message.find("dimension"), std::string::npos);
    EXPECT_EQ(report.errors[1].line, 3u);
    EXPECT_EQ(Count(), 2u);
}

TEST_F(CopyFromSource, StopsAtTheFirstBadLineInOnePass) {
    PieceSource source("{\"id\":\"a\",\"vector\":[1,2,3]}\n{\"id\":\"b\"\n{\"id\":\"c\"}\n", 7);
    const CopyReport report = session_->CopyFrom("docs", source, /*skip_errors=*/false, "body");
    EXPECT_EQ(report.status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(report.message.find("line 2"), std::string::npos) << report.message;
    EXPECT_NE(report.message.find("(body;"), std::string::npos) << report.message;
    ASSERT_EQ(report.errors.size(), 1u);
    EXPECT_EQ(report.errors[0].line, 2u);
    EXPECT_EQ(report.entities, 1u);  // a source is read once: the lines before it are loaded
    EXPECT_EQ(Count(), 1u);
}

TEST_F(CopyFromSource, EndsWithTheSourcesError) {
    PieceSource source("{\"id\":\"a\",\"vector\":[1,2,3]}\n{\"id\":\"b\",\"vec", 64,
                       Status(StatusCode::kCancelled, "the client went away"));
    const CopyReport report = session_->CopyFrom("docs", source, /*skip_errors=*/true, "body");
    EXPECT_EQ(report.status.code(), StatusCode::kCancelled);
    EXPECT_NE(report.message.find("the client went away"), std::string::npos) << report.message;
    EXPECT_EQ(Count(), 1u);  // the whole lines before the error
}

TEST_F(CopyFromSource, IsRefusedInATransactionAndForAMissingCollection) {
    PieceSource source("{\"id\":\"a\"}\n", 64);
    EXPECT_EQ(session_->CopyFrom("nope", source, false, "body").status.code(),
              StatusCode::kNotFound);
    COPY_ASSERT_OK(Run("BEGIN").status());
    EXPECT_EQ(session_->CopyFrom("docs", source, false, "body").status.code(),
              StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace phenix
