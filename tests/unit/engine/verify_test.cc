// SPDX-License-Identifier: Apache-2.0
//
// Database::Verify must find every kind of damage it claims to check. Each test builds a healthy
// database, damages it through the storage layer directly (as a bug or a bad disk would), and
// expects Corruption naming the problem.
#include <gtest/gtest.h>

#include "storage/catalog_codec.h"
#include "storage/entity_codec.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "testing/db_fixture.h"
#include "txn/oracle.h"

namespace phenix::testing {
namespace {

using storage::ColumnFamily;

class VerifyTest : public DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        PHENIX_ASSERT_OK(db_->Insert("docs", Doc("a")));
        PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b", {1, 2, 3, 4}, "{}", {To("a")})));
        PHENIX_ASSERT_OK(db_->Verify());
    }

    // Closes the database, lets `damage` write one raw batch, reopens.
    void Damage(const std::function<void(storage::Store&, rocksdb::WriteBatch&)>& damage) {
        PHENIX_ASSERT_OK(db_->Close());
        db_.reset();
        {
            auto store = storage::Store::Open(dir_.Sub("data"), {});
            ASSERT_TRUE(store.ok()) << store.status().ToString();
            rocksdb::WriteBatch batch = storage::Store::NewBatch();
            damage(**store, batch);
            PHENIX_ASSERT_OK((*store)->Write(batch, txn::WallClockMicros() + 1));
            PHENIX_ASSERT_OK((*store)->Close());
        }
        Open();
    }

    void ExpectProblem(const std::string& fragment) {
        const Status s = db_->Verify();
        EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
        EXPECT_NE(s.message().find(fragment), std::string::npos) << s.ToString();
    }

    // tenant 1 (default), collection 1 ("docs"); rows 1 = a, 2 = b.
    static constexpr storage::TenantId kT = 1;
    static constexpr storage::CollectionId kC = 1;
};

TEST_F(VerifyTest, HealthyDatabasePasses) {
    PHENIX_EXPECT_OK(db_->Verify());
}

TEST_F(VerifyTest, FindsAnIdMappedToAnotherEntitysRecord) {
    Damage([](storage::Store& store, rocksdb::WriteBatch& batch) {
        std::string record;
        std::vector<float> v = {1, 1, 1, 1};
        storage::EncodeEntityRecord("ghost", v, "{}", record);
        batch.Put(store.cf(ColumnFamily::kEntities), storage::EntityKey(kT, kC, 1), record);
    });
    // Row 1 now holds "ghost" while the id index still maps "a" to it.
    ExpectProblem("whose record has another id");
}

TEST_F(VerifyTest, FindsAnIdWithoutRecord) {
    Damage([](storage::Store& store, rocksdb::WriteBatch& batch) {
        batch.Delete(store.cf(ColumnFamily::kEntities), storage::EntityKey(kT, kC, 1));
    });
    ExpectProblem("no readable entity record");
}

TEST_F(VerifyTest, FindsARecordMissingFromTheIdIndex) {
    Damage([](storage::Store& store, rocksdb::WriteBatch& batch) {
        batch.Delete(store.cf(ColumnFamily::kIds), storage::IdKey(kT, kC, "a"));
    });
    ExpectProblem("orphan record");
}

TEST_F(VerifyTest, FindsAMissingMirrorEdge) {
    Damage([](storage::Store& store, rocksdb::WriteBatch& batch) {
        const storage::EdgeKey out{kT, kC, 2, "related_to", kC, 1};
        batch.Delete(store.cf(ColumnFamily::kInEdges),
                     storage::EncodeEdgeKey(storage::MirrorEdgeKey(out)));
    });
    ExpectProblem("not mirror images");
}

TEST_F(VerifyTest, FindsADanglingEdge) {
    Damage([](storage::Store& store, rocksdb::WriteBatch& batch) {
        const storage::EdgeKey out{kT, kC, 2, "x", kC, 99};
        batch.Put(store.cf(ColumnFamily::kOutEdges), storage::EncodeEdgeKey(out),
                  storage::EncodeEdgeValue({1.0, "nobody", ""}));
    });
    ExpectProblem("dangles");
}

TEST_F(VerifyTest, FindsAMirrorThatDisagrees) {
    Damage([](storage::Store& store, rocksdb::WriteBatch& batch) {
        const storage::EdgeKey out{kT, kC, 2, "related_to", kC, 1};
        batch.Put(store.cf(ColumnFamily::kInEdges),
                  storage::EncodeEdgeKey(storage::MirrorEdgeKey(out)),
                  storage::EncodeEdgeValue({0.25, "b", ""}));
    });
    ExpectProblem("no matching mirror entry");
}

TEST_F(VerifyTest, FindsAWrongCount) {
    Damage([](storage::Store& store, rocksdb::WriteBatch& batch) {
        batch.Merge(store.cf(ColumnFamily::kCatalog), storage::EntityCountKey(kC),
                    storage::EncodeCounter(1));
    });
    ExpectProblem("counts 3 entities but holds 2");
}

TEST_F(VerifyTest, FindsARowAboveTheAllocator) {
    Damage([](storage::Store& store, rocksdb::WriteBatch& batch) {
        // Move "a" to row 1000 consistently, but leave the high-water mark behind.
        std::string record;
        std::vector<float> v = {0.1f, 0.2f, 0.3f, 0.4f};
        storage::EncodeEntityRecord("a", v, "{}", record);
        batch.Delete(store.cf(ColumnFamily::kEntities), storage::EntityKey(kT, kC, 1));
        batch.Put(store.cf(ColumnFamily::kEntities), storage::EntityKey(kT, kC, 1000), record);
        batch.Put(store.cf(ColumnFamily::kIds), storage::IdKey(kT, kC, "a"),
                  storage::EncodeCounter(1000));
        const storage::EdgeKey out{kT, kC, 2, "related_to", kC, 1};
        batch.Delete(store.cf(ColumnFamily::kOutEdges), storage::EncodeEdgeKey(out));
        batch.Delete(store.cf(ColumnFamily::kInEdges),
                     storage::EncodeEdgeKey(storage::MirrorEdgeKey(out)));
    });
    ExpectProblem("at or above the row allocator");
}

}  // namespace
}  // namespace phenix::testing

namespace phenix::testing {
namespace {

class VerifyIndexTest : public VerifyTest {};

TEST_F(VerifyIndexTest, FindsAMetadataIndexThatDisagreesWithTheRecords) {
    PHENIX_ASSERT_OK(db_->PatchMetadata("docs", "a", R"({"k":"v"})"));
    PHENIX_ASSERT_OK(db_->CreateIndex("docs", "k"));
    PHENIX_ASSERT_OK(db_->Verify());
    // Index id 1: an entry for row 2 ("b"), whose record has no "k".
    Damage([](storage::Store& store, rocksdb::WriteBatch& batch) {
        std::string key = storage::MetaIndexPrefix(kT, kC, 1);
        key += '\x50';  // a string value
        key += "v";
        key += std::string("\x00\x01", 2);
        key += std::string("\x00\x00\x00\x00\x00\x00\x00\x02", 8);
        batch.Put(store.cf(ColumnFamily::kMetaIndex), key, "");
    });
    ExpectProblem("the index on 'k' of 'docs' holds 2 entries where the records give 1");
}

}  // namespace
}  // namespace phenix::testing
