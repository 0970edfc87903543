// SPDX-License-Identifier: Apache-2.0
//
// DbTest — a GoogleTest fixture with a fresh database in a temporary directory, a 4-dimensional
// cosine collection "docs", and helpers to reopen and to build entities.
#pragma once

#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include <phenix/db.h>

#include "testing/temp_dir.h"

namespace phenix::testing {

#define PHENIX_ASSERT_OK(expr)                               \
    do {                                                     \
        const ::phenix::Status phenix_s_ = (expr);           \
        ASSERT_TRUE(phenix_s_.ok()) << phenix_s_.ToString(); \
    } while (false)
#define PHENIX_EXPECT_OK(expr)                               \
    do {                                                     \
        const ::phenix::Status phenix_s_ = (expr);           \
        EXPECT_TRUE(phenix_s_.ok()) << phenix_s_.ToString(); \
    } while (false)

// Waits until the builder has moved every committed vector of `collection` into the HNSW graph
// (a checkpoint then holds them all). Use ASSERT_NO_FATAL_FAILURE around it.
inline void WaitForVectorIndex(Database& db, const CollectionRef& collection) {
    auto info = db.GetVectorIndexInfo(collection);
    for (int attempt = 0; attempt < 10000000 && info.ok() && info->unindexed_rows > 0; ++attempt) {
        std::this_thread::yield();
        info = db.GetVectorIndexInfo(collection);
    }
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    ASSERT_EQ(info->unindexed_rows, 0u);
}

class DbTest : public ::testing::Test {
  protected:
    void SetUp() override {
        Open();
        PHENIX_ASSERT_OK(
            db_->CreateCollection({.ref = "docs", .dimension = 4, .metric = Metric::kCosine}));
    }

    void Open(const Options& options = {}) {
        auto db = Database::Open(dir_.Sub("data"), options);
        ASSERT_TRUE(db.ok()) << db.status().ToString();
        db_ = std::move(db).value();
    }

    void Reopen(const Options& options = {}) {
        PHENIX_ASSERT_OK(db_->Close());
        db_.reset();
        Open(options);
    }

    static Entity Doc(std::string id, std::vector<float> vector = {0.1f, 0.2f, 0.3f, 0.4f},
                      std::string metadata = "{}", std::vector<Edge> edges = {}) {
        return Entity{.id = std::move(id),
                      .vector = std::move(vector),
                      .metadata = std::move(metadata),
                      .edges = std::move(edges)};
    }

    static Edge To(std::string target, std::string label = "related_to", double weight = 1.0) {
        return Edge{.label = std::move(label), .target_id = std::move(target), .weight = weight};
    }

    // Ids of entities in a collection, in scan order.
    std::vector<std::string> Ids(const CollectionRef& collection = "docs") {
        std::vector<std::string> ids;
        ScanOptions options{.limit = 10000, .include_edges = false};
        auto page = db_->Scan(collection, options);
        EXPECT_TRUE(page.ok()) << page.status().ToString();
        if (page.ok()) {
            for (const Entity& e : page->entities) {
                ids.push_back(e.id);
            }
        }
        return ids;
    }

    std::uint64_t Count(const CollectionRef& collection = "docs") {
        auto info = db_->GetCollection(collection);
        EXPECT_TRUE(info.ok()) << info.status().ToString();
        return info.ok() ? info->num_entities : 0;
    }

    TempDir dir_;
    std::unique_ptr<Database> db_;
};

}  // namespace phenix::testing
