// SPDX-License-Identifier: Apache-2.0
// Every validation rule of the data model: each bad input is rejected with InvalidArgument
// (or the documented code), a message naming the problem, and no change to the database.
#include <cmath>
#include <limits>

#include <phenix/limits.h>

#include "testing/db_fixture.h"

namespace phenix {
namespace {

using testing::DbTest;

class Validation : public DbTest {
  protected:
    // Asserts that `s` failed with `code` and a message containing `needle`, and that the
    // collection is unchanged (still exactly `expected_ids`).
    void ExpectRejected(const Status& s, StatusCode code, const std::string& needle,
                        const std::vector<std::string>& expected_ids = {}) {
        EXPECT_EQ(s.code(), code) << s.ToString();
        EXPECT_NE(s.message().find(needle), std::string::npos) << "message: " << s.message();
        EXPECT_EQ(Ids(), expected_ids);
        EXPECT_EQ(Count(), expected_ids.size());
    }
};

TEST_F(Validation, WrongDimension) {
    ExpectRejected(db_->Insert("docs", Doc("a", {1.0f, 2.0f})), StatusCode::kInvalidArgument,
                   "vector has dimension 2; the collection's dimension is 4");
    ExpectRejected(db_->Insert("docs", Doc("a", std::vector<float>(5, 1.0f))),
                   StatusCode::kInvalidArgument, "dimension 5");
}

TEST_F(Validation, NanAndInfinity) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    ExpectRejected(db_->Insert("docs", Doc("a", {0.1f, nan, 0.3f, 0.4f})),
                   StatusCode::kInvalidArgument, "component 1 is NaN");
    ExpectRejected(db_->Upsert("docs", Doc("a", {0.1f, 0.2f, -inf, 0.4f})),
                   StatusCode::kInvalidArgument, "component 2 is infinite");
}

TEST_F(Validation, ZeroVectorUnderCosine) {
    ExpectRejected(db_->Insert("docs", Doc("a", {0, 0, 0, 0})), StatusCode::kInvalidArgument,
                   "zero vector");
    PHENIX_ASSERT_OK(
        db_->CreateCollection({.ref = "l2docs", .dimension = 4, .metric = Metric::kL2}));
    PHENIX_EXPECT_OK(db_->Insert("l2docs", Doc("a", {0, 0, 0, 0})));
}

TEST_F(Validation, VectorInCollectionWithoutDimension) {
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = "plain"}));
    Status s = db_->Insert("plain", Doc("a"));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("no vector dimension"), std::string::npos);
    PHENIX_EXPECT_OK(db_->Insert("plain", Doc("a", {}, R"({"k":1})")));
}

TEST_F(Validation, EmptyAndOversizeIds) {
    ExpectRejected(db_->Insert("docs", Doc("")), StatusCode::kInvalidArgument,
                   "entity id is empty");
    ExpectRejected(db_->Insert("docs", Doc(std::string(limits::kMaxIdBytes + 1, 'x'))),
                   StatusCode::kInvalidArgument, "longer than the limit of 512 bytes");
    ExpectRejected(db_->Insert("docs", Doc("bad\xff")), StatusCode::kInvalidArgument, "UTF-8");
    // Exactly at the limit is fine.
    std::string max_id(limits::kMaxIdBytes, 'y');
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc(max_id)));
    EXPECT_EQ(db_->Get("docs", max_id)->id, max_id);
}

TEST_F(Validation, HugeIdsGiveShortErrorsOnEveryPath) {
    const std::string huge(3u << 20, 'z');
    for (const Status& s : {db_->Get("docs", huge).status(), db_->Delete("docs", huge),
                            db_->Insert("docs", Doc(huge)), db_->PatchMetadata("docs", huge, "{}"),
                            db_->ListEdges("docs", huge).status()}) {
        EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString().substr(0, 200);
        EXPECT_LT(s.message().size(), 400u);
    }
    Status missing = db_->Delete("docs", std::string(limits::kMaxIdBytes, 'q'));
    EXPECT_EQ(missing.code(), StatusCode::kNotFound);
    EXPECT_LT(missing.message().size(), 400u) << "long ids are abbreviated in messages";
}

TEST_F(Validation, MetadataMustBeAJsonObject) {
    ExpectRejected(db_->Insert("docs", Doc("a", {0.1f, 0.2f, 0.3f, 0.4f}, "[1,2]")),
                   StatusCode::kInvalidArgument, "metadata must be a JSON object, not array");
    ExpectRejected(db_->Insert("docs", Doc("a", {0.1f, 0.2f, 0.3f, 0.4f}, "{\"a\":")),
                   StatusCode::kInvalidArgument, "metadata is not valid JSON");
    ExpectRejected(db_->Insert("docs", Doc("a", {0.1f, 0.2f, 0.3f, 0.4f}, "42")),
                   StatusCode::kInvalidArgument, "not number");
}

TEST_F(Validation, MetadataSizeLimit) {
    std::string big = R"({"blob":")" + std::string(limits::kMaxMetadataBytes, 'x') + R"("})";
    ExpectRejected(db_->Insert("docs", Doc("a", {0.1f, 0.2f, 0.3f, 0.4f}, big)),
                   StatusCode::kInvalidArgument, "the limit is 262144 bytes");
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("b")));
    ExpectRejected(db_->ReplaceMetadata("docs", "b", big), StatusCode::kInvalidArgument, "limit",
                   {"b"});
    // A patch that grows metadata past the limit is rejected too.
    std::string half =
        R"({"p1":")" + std::string(limits::kMaxMetadataBytes / 2 + 10, 'x') + R"("})";
    std::string other_half =
        R"({"p2":")" + std::string(limits::kMaxMetadataBytes / 2 + 10, 'x') + R"("})";
    PHENIX_ASSERT_OK(db_->PatchMetadata("docs", "b", half));
    ExpectRejected(db_->PatchMetadata("docs", "b", other_half), StatusCode::kInvalidArgument,
                   "limit", {"b"});
}

TEST_F(Validation, DimensionZeroOrAboveLimit) {
    Status zero = db_->CreateCollection({.ref = "z", .dimension = 0});
    EXPECT_EQ(zero.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(zero.message().find("at least 1"), std::string::npos);
    Status huge = db_->CreateCollection({.ref = "h", .dimension = limits::kMaxDimension + 1});
    EXPECT_EQ(huge.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(huge.message().find("exceeds the limit of 16384"), std::string::npos);
    PHENIX_EXPECT_OK(db_->CreateCollection({.ref = "max", .dimension = limits::kMaxDimension}));
    auto list = db_->ListCollections();
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(list->size(), 2u);  // docs and max
}

TEST_F(Validation, CollectionAndTenantNames) {
    for (const char* bad : {"", "1abc", "has space", "semi;colon", "dot.ted", "x/y"}) {
        Status s = db_->CreateCollection({.ref = bad, .dimension = 4});
        EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "'" << bad << "': " << s.ToString();
    }
    EXPECT_EQ(db_->CreateCollection({.ref = std::string(65, 'a')}).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->CreateTenant("bad name").code(), StatusCode::kInvalidArgument);
    PHENIX_EXPECT_OK(db_->CreateCollection({.ref = std::string(64, 'a')}));
    PHENIX_EXPECT_OK(db_->CreateCollection({.ref = "_under-score_9"}));
}

TEST_F(Validation, UnknownCollectionSuggestsTheClosestName) {
    Status s = db_->Insert("dcos", Doc("a"));
    EXPECT_EQ(s.code(), StatusCode::kNotFound);
    EXPECT_NE(s.message().find("did you mean 'docs'?"), std::string::npos) << s.message();
    EXPECT_EQ(db_->Get("nothing_like_it", "a").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(db_->Insert(CollectionRef("no_such_tenant", "docs"), Doc("a")).code(),
              StatusCode::kNotFound);
}

TEST_F(Validation, EdgeToAnotherTenantIsRejected) {
    PHENIX_ASSERT_OK(db_->CreateTenant("acme"));
    PHENIX_ASSERT_OK(db_->CreateCollection({.ref = {"acme", "docs"}, .dimension = 4}));
    PHENIX_ASSERT_OK(db_->Insert(CollectionRef("acme", "docs"), Doc("target")));
    Edge cross = To("target");
    cross.target_tenant = "acme";
    ExpectRejected(db_->Insert("docs", Doc("a", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", {cross})),
                   StatusCode::kInvalidArgument, "edges cannot cross tenants");
    // Naming the other tenant's collection without its tenant resolves in our own tenant only.
    Edge unknown = To("target");
    unknown.target_collection = "acme_docs";
    ExpectRejected(db_->Insert("docs", Doc("a", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", {unknown})),
                   StatusCode::kNotFound, "does not exist");
}

TEST_F(Validation, EdgeFieldRules) {
    PHENIX_ASSERT_OK(db_->Insert("docs", Doc("t")));
    auto with_edge = [](Edge e) {
        return Doc("a", {0.1f, 0.2f, 0.3f, 0.4f}, "{}", {std::move(e)});
    };
    ExpectRejected(db_->Insert("docs", with_edge(To("t", ""))), StatusCode::kInvalidArgument,
                   "label is empty", {"t"});
    ExpectRejected(db_->Insert("docs", with_edge(To("t", std::string(129, 'l')))),
                   StatusCode::kInvalidArgument, "the limit is 128", {"t"});
    ExpectRejected(db_->Insert("docs", with_edge(To("t", "new\nline"))),
                   StatusCode::kInvalidArgument, "control characters", {"t"});
    ExpectRejected(db_->Insert("docs", with_edge(To("t", "l", std::nan("")))),
                   StatusCode::kInvalidArgument, "finite", {"t"});
    ExpectRejected(db_->Insert("docs", with_edge(To(""))), StatusCode::kInvalidArgument, "target",
                   {"t"});
    ExpectRejected(db_->Insert("docs", with_edge(To("missing"))), StatusCode::kNotFound,
                   "target entity 'missing' does not exist", {"t"});
    Edge bad_props = To("t");
    bad_props.properties = "[1]";
    ExpectRejected(db_->Insert("docs", with_edge(bad_props)), StatusCode::kInvalidArgument,
                   "edge properties", {"t"});
    Entity many = Doc("a");
    many.edges.assign(limits::kMaxEdgesPerEntity + 1, To("t"));
    ExpectRejected(db_->Insert("docs", many), StatusCode::kInvalidArgument, "the limit is 10000",
                   {"t"});
}

TEST_F(Validation, BatchLimits) {
    WriteBatch batch;
    for (std::size_t idx = 0; idx <= limits::kMaxBatchOps; ++idx) {
        batch.Delete("docs", "x");
    }
    Status s = db_->Write(batch);
    EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
    EXPECT_NE(s.message().find("split it"), std::string::npos);
}

TEST_F(Validation, ScanLimitBounds) {
    EXPECT_EQ(db_->Scan("docs", {.limit = 0}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->Scan("docs", {.limit = limits::kMaxScanLimit + 1}).status().code(),
              StatusCode::kInvalidArgument);
}

TEST(Metric, ParsesNamesCaseInsensitively) {
    EXPECT_EQ(*ParseMetric("L2"), Metric::kL2);
    EXPECT_EQ(*ParseMetric("cosine"), Metric::kCosine);
    EXPECT_EQ(*ParseMetric("IP"), Metric::kInnerProduct);
    auto bad = ParseMetric("manhattan");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("l2, cosine, ip"), std::string::npos);
    EXPECT_EQ(MetricName(Metric::kInnerProduct), "ip");
}

}  // namespace
}  // namespace phenix
