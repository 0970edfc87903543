// SPDX-License-Identifier: Apache-2.0
// CRUD paths of the embedded API: insert, upsert, get, replace/patch metadata, delete, scan,
// collections and tenants, and reading everything back after a reopen.
#include <algorithm>
#include <fstream>
#include <random>

#include <phenix/json.h>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

TEST_F(DbTest, InsertThenGetReturnsTheEntityExactly) {
    Entity doc = Doc("d1", {0.1f, 0.2f, 0.3f, 0.4f},
                     R"({"category": "tech", "year": 2021, "tags": ["a", "b"]})");
    PHENIX_ASSERT_OK(db_->Insert("docs", doc));
    auto got = db_->Get("docs", "d1");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->id, "d1");
    EXPECT_EQ(got->vector, doc.vector);
    EXPECT_EQ(got->metadata, R"({"category":"tech","year":2021,"tags":["a","b"]})");
    EXPECT_TRUE(got->edges.empty());
    EXPECT_EQ(Count(), 1u);
}

TEST_F(DbTest, InsertOfAnExistingIdFailsAndKeepsTheOriginal) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d1", {1, 1, 1, 1}, R"({"v":1})")));
    Status s = db_->Insert("docs", Doc("d1", {2, 2, 2, 2}, R"({"v":2})"));
    EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
    EXPECT_NE(s.message().find("'d1' already exists"), std::string::npos) << s.message();
    EXPECT_EQ(db_->Get("docs", "d1")->metadata, R"({"v":1})");
    EXPECT_EQ(Count(), 1u);
}

TEST_F(DbTest, UpsertInsertsThenReplaces) {
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d1", {1, 1, 1, 1}, R"({"v":1})")));
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d1", {2, 2, 2, 2}, R"({"v":2})")));
    auto got = db_->Get("docs", "d1");
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->vector, (std::vector<float>{2, 2, 2, 2}));
    EXPECT_EQ(got->metadata, R"({"v":2})");
    EXPECT_EQ(Count(), 1u);
    // Upsert without a vector removes the vector: the entity is replaced as a whole.
    PHENIX_ASSERT_OK(db_->Upsert("docs", Doc("d1", {}, R"({"v":3})")));
    EXPECT_TRUE(db_->Get("docs", "d1")->vector.empty());
}

TEST_F(DbTest, GetOfAMissingIdIsNotFound) {
    auto got = db_->Get("docs", "nope");
    EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
    EXPECT_NE(got.status().message().find("'nope' not found in collection 'docs'"),
              std::string::npos);
}

TEST_F(DbTest, ReplaceMetadataKeepsVectorAndEdges) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("t")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d1", {1, 2, 3, 4}, R"({"a":1,"b":2})", {To("t")})));
    PHENIX_ASSERT_OK(db_->ReplaceMetadata("docs", "d1", R"({"c":3})"));
    auto got = db_->Get("docs", "d1");
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->metadata, R"({"c":3})");
    EXPECT_EQ(got->vector, (std::vector<float>{1, 2, 3, 4}));
    ASSERT_EQ(got->edges.size(), 1u);
    EXPECT_EQ(db_->ReplaceMetadata("docs", "missing", "{}").code(), StatusCode::kNotFound);
    EXPECT_EQ(db_->ReplaceMetadata("docs", "d1", "[]").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->Get("docs", "d1")->metadata, R"({"c":3})");
}

TEST_F(DbTest, PatchMetadataMergesAndRemovesKeys) {
    PHENIX_ASSERT_OK(db_->Insert(
        "docs", Doc("d1", {1, 2, 3, 4}, R"({"a":1,"nested":{"x":1,"y":2},"gone":true})")));
    PHENIX_ASSERT_OK(db_->PatchMetadata(
        "docs", "d1", R"({"a":5,"nested":{"y":null,"z":3},"gone":null,"new":"n"})"));
    EXPECT_EQ(db_->Get("docs", "d1")->metadata, R"({"a":5,"nested":{"x":1,"z":3},"new":"n"})");
    EXPECT_EQ(db_->PatchMetadata("docs", "missing", "{}").code(), StatusCode::kNotFound);
    EXPECT_EQ(db_->PatchMetadata("docs", "d1", "not json").code(), StatusCode::kInvalidArgument);
}

TEST_F(DbTest, DeleteRemovesTheEntityAndFreesItsId) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d1")));
    PHENIX_ASSERT_OK(db_->Delete("docs", "d1"));
    EXPECT_EQ(db_->Get("docs", "d1").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(Count(), 0u);
    EXPECT_EQ(db_->Delete("docs", "d1").code(), StatusCode::kNotFound);
    // The id can be inserted again.
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d1", {4, 3, 2, 1})));
    EXPECT_EQ(db_->Get("docs", "d1")->vector, (std::vector<float>{4, 3, 2, 1}));
    EXPECT_EQ(Count(), 1u);
}

TEST_F(DbTest, ScanPagesInIdOrderWithoutGapsOrRepeats) {
    std::vector<std::string> expected;
    WriteBatch batch;
    for (int idx = 0; idx < 257; ++idx) {
        std::string id = "e" + std::to_string(idx * 7919 % 1000);
        expected.push_back(id);
        batch.Insert("docs", Doc(id, {1, 1, 1, static_cast<float>(idx)}));
    }
    PHENIX_ASSERT_OK(db_->Write(batch));
    std::sort(expected.begin(), expected.end());

    std::vector<std::string> seen;
    ScanOptions options{.limit = 10};
    int pages = 0;
    while (true) {
        auto page = db_->Scan("docs", options);
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        ++pages;
        for (const Entity& e : page->entities) {
            seen.push_back(e.id);
        }
        if (page->next_start_after.empty()) {
            break;
        }
        EXPECT_EQ(page->entities.size(), 10u);
        EXPECT_EQ(page->next_start_after, page->entities.back().id);
        options.start_after = page->next_start_after;
    }
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(pages, 26);
    // Starting after an id that does not exist continues from the next one.
    auto mid = db_->Scan("docs", {.start_after = "e5", .limit = 1});
    ASSERT_TRUE(mid.ok());
    ASSERT_EQ(mid->entities.size(), 1u);
    EXPECT_GT(mid->entities[0].id, "e5");
    // An empty collection gives an empty last page.
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "empty"}));
    auto empty = db_->Scan("empty");
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->entities.empty());
    EXPECT_TRUE(empty->next_start_after.empty());
}

TEST_F(DbTest, CollectionsAreListedDescribedAndDropped) {
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "alpha",
                                            .dimension = 8,
                                            .metric = Metric::kInnerProduct,
                                            .settings = R"({"m": 16})"}));
    EXPECT_EQ(db_->CreateCollection({.ref = "alpha", .dimension = 8}).code(),
              StatusCode::kAlreadyExists);
    auto list = db_->ListCollections();
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].spec.ref.name, "alpha");
    EXPECT_EQ((*list)[0].spec.dimension, 8u);
    EXPECT_EQ((*list)[0].spec.metric, Metric::kInnerProduct);
    EXPECT_EQ((*list)[0].spec.settings, R"({"m":16})");
    EXPECT_GT((*list)[0].created_at_ms, 0);
    EXPECT_EQ((*list)[1].spec.ref.name, "docs");

    PHENIX_ASSERT_OK(
        db_->Insert("alpha", Entity{.id = "x", .vector = std::vector<float>(8, 1.0f)}));
    PHENIX_ASSERT_OK(db_->DropCollection("alpha"));
    EXPECT_EQ(db_->GetCollection("alpha").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(db_->DropCollection("alpha").code(), StatusCode::kNotFound);
    // Re-created under the same name, it starts empty.
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "alpha", .dimension = 8}));
    EXPECT_TRUE(Ids("alpha").empty());
    EXPECT_EQ(Count("alpha"), 0u);
    EXPECT_EQ(db_->Get("alpha", "x").status().code(), StatusCode::kNotFound);
}

TEST_F(DbTest, TenantsIsolateCollectionsWithTheSameName) {
    PHENIX_ASSERT_OK(db_->CreateTenant("acme"));
    EXPECT_EQ(db_->CreateTenant("acme").code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(*db_->ListTenants(), (std::vector<std::string>{"acme", "default"}));
    const CollectionRef acme_docs("acme", "docs");
    EXPECT_EQ(db_->Insert(acme_docs, Doc("a")).code(), StatusCode::kNotFound);
    PHENIX_ASSERT_OK(
        db_->CreateCollection({.ref = acme_docs, .dimension = 4, .metric = Metric::kL2}));
    PHENIX_ASSERT_OK(db_->Insert(acme_docs, Doc("shared-id", {9, 9, 9, 9})));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("shared-id", {1, 1, 1, 1})));
    EXPECT_EQ(db_->Get(acme_docs, "shared-id")->vector, (std::vector<float>{9, 9, 9, 9}));
    EXPECT_EQ(db_->Get("docs", "shared-id")->vector, (std::vector<float>{1, 1, 1, 1}));
    EXPECT_EQ(db_->ListCollections("acme")->size(), 1u);
    PHENIX_ASSERT_OK(db_->DropCollection(acme_docs));
    EXPECT_EQ(db_->Get("docs", "shared-id")->vector, (std::vector<float>{1, 1, 1, 1}));
}

TEST_F(DbTest, EverythingReadsBackAfterReopen) {
    PHENIX_ASSERT_OK(db_->CreateTenant("acme"));
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = {"acme", "items"}}));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d1", {1, 2, 3, 4}, R"({"k":"v"})")));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d2", {4, 3, 2, 1}, "{}", {To("d1", "cites", 0.5)})));
    PHENIX_ASSERT_OK(db_->Insert(CollectionRef("acme", "items"), Doc("i1", {}, R"({"n":1})")));
    PHENIX_ASSERT_OK(db_->Delete("docs", "d1"));
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d3", {1, 1, 1, 1}, "{}", {To("d2")})));
    Entity d2_before = *db_->Get("docs", "d2");
    Entity d3_before = *db_->Get("docs", "d3");

    Reopen();
    EXPECT_EQ(*db_->ListTenants(), (std::vector<std::string>{"acme", "default"}));
    auto info = db_->GetCollection("docs");
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->spec.dimension, 4u);
    EXPECT_EQ(info->spec.metric, Metric::kCosine);
    EXPECT_EQ(info->num_entities, 2u);
    EXPECT_EQ(*db_->Get("docs", "d2"), d2_before);
    EXPECT_EQ(*db_->Get("docs", "d3"), d3_before);
    EXPECT_TRUE(db_->Get("docs", "d2")->edges.empty());  // its edge to the deleted d1 is gone
    EXPECT_EQ(db_->Get("docs", "d1").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(db_->Get(CollectionRef("acme", "items"), "i1")->metadata, R"({"n":1})");
    // Row ids keep increasing across reopen: a new entity never takes a deleted entity's row.
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("d1", {1, 2, 3, 4})));
    auto in_edges = db_->ListEdges("docs", "d1", EdgeDirection::kIn);
    ASSERT_TRUE(in_edges.ok());
    EXPECT_TRUE(in_edges->empty())
        << "a re-inserted id must not inherit edges of its deleted predecessor";
}

TEST_F(DbTest, FailedOpensReturnErrorsInsteadOfCrashing) {
    // Regression: a failed Open destroyed a half-built DatabaseImpl whose Close() dereferenced a
    // null store.
    auto second = Database::Open(dir_.Sub("data"));
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(second.status().message().find("in use"), std::string::npos)
        << second.status().ToString();
    { std::ofstream file(dir_.Sub("plain-file")); }
    EXPECT_EQ(Database::Open(dir_.Sub("plain-file")).status().code(),
              StatusCode::kFailedPrecondition);
    Options no_create;
    no_create.create_if_missing = false;
    EXPECT_EQ(Database::Open(dir_.Sub("absent"), no_create).status().code(), StatusCode::kNotFound);
}

TEST_F(DbTest, ClosedDatabaseRefusesCalls) {
    PHENIX_ASSERT_OK(db_->Close());
    EXPECT_EQ(db_->Get("docs", "x").status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(db_->Insert("docs", Doc("x")).code(), StatusCode::kFailedPrecondition);
    PHENIX_EXPECT_OK(db_->Close());  // idempotent
}

TEST_F(DbTest, RelaxedDurabilityStillPersistsAcrossACleanClose) {
    Options relaxed;
    relaxed.durability = Durability::kRelaxed;
    Reopen(relaxed);
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("r1")));
    Reopen();
    EXPECT_TRUE(db_->Get("docs", "r1").ok());
}

// Property-style: a random sequence of operations leaves the database equal to a simple model.
TEST_F(DbTest, RandomOperationsMatchAnInMemoryModel) {
    const unsigned seed = std::random_device{}();
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    std::map<std::string, Entity> model;
    auto random_id = [&] { return "k" + std::to_string(rng() % 40); };
    auto random_vector = [&] {
        std::vector<float> v(4);
        for (float& x : v) {
            x = static_cast<float>(rng() % 1000) / 100.0f + 0.01f;
        }
        return v;
    };
    for (int step = 0; step < 400; ++step) {
        const std::string id = random_id();
        const bool exists = model.contains(id);
        switch (rng() % 5) {
            case 0: {
                Entity e = Doc(id, random_vector(), R"({"step":)" + std::to_string(step) + "}");
                Status s = db_->Insert("docs", e);
                ASSERT_EQ(s.ok(), !exists) << s.ToString();
                if (!exists) {
                    model[id] = e;
                    model[id].metadata = R"({"step":)" + std::to_string(step) + "}";
                }
                break;
            }
            case 1: {
                Entity e = Doc(id, random_vector(), R"({"up":)" + std::to_string(step) + "}");
                PHENIX_ASSERT_OK(db_->Upsert("docs", e));
                model[id] = e;
                break;
            }
            case 2: {
                Status s = db_->Delete("docs", id);
                ASSERT_EQ(s.ok(), exists) << s.ToString();
                model.erase(id);
                break;
            }
            case 3: {
                Status s =
                    db_->ReplaceMetadata("docs", id, R"({"r":)" + std::to_string(step) + "}");
                ASSERT_EQ(s.ok(), exists) << s.ToString();
                if (exists) {
                    model[id].metadata = R"({"r":)" + std::to_string(step) + "}";
                }
                break;
            }
            default: {
                auto got = db_->Get("docs", id);
                ASSERT_EQ(got.ok(), exists);
                if (exists) {
                    EXPECT_EQ(*got, model[id]);
                }
            }
        }
        if (step % 100 == 99) {
            Reopen();
        }
    }
    std::vector<std::string> model_ids;
    for (const auto& [id, e] : model) {
        model_ids.push_back(id);
        EXPECT_EQ(*db_->Get("docs", id), e);
    }
    EXPECT_EQ(Ids(), model_ids);
    EXPECT_EQ(Count(), model.size());
}

}  // namespace
}  // namespace phenix
