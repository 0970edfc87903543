// SPDX-License-Identifier: Apache-2.0
#include "storage/keys.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "storage/catalog_codec.h"

namespace phenix::storage {
namespace {

TEST(Keys, EntityKeysOfACollectionShareItsPrefixAndSortByRow) {
    std::string prefix = CollectionPrefix(7, 3);
    std::string k1 = EntityKey(7, 3, 1);
    std::string k2 = EntityKey(7, 3, 256);
    EXPECT_TRUE(k1.starts_with(prefix));
    EXPECT_LT(k1, k2);
    EXPECT_EQ(RowFromEntityKey(k2), 256u);
    EXPECT_LT(k2, PrefixSuccessor(prefix));
    EXPECT_LT(EntityKey(7, 3, UINT64_MAX), PrefixSuccessor(prefix));
    EXPECT_GE(EntityKey(7, 4, 0), PrefixSuccessor(prefix));
}

TEST(Keys, TenantIsTheLeadingComponent) {
    // All data of tenant 1 sorts before any data of tenant 2, whatever the collection.
    EXPECT_LT(EntityKey(1, 0xffffffffu, UINT64_MAX), EntityKey(2, 0, 0));
    EXPECT_LT(IdKey(1, 9, "zzz"), IdKey(2, 1, "a"));
}

TEST(Keys, PrefixSuccessorHandlesTrailingFf) {
    EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
    EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
}

TEST(Keys, IdKeysRoundTripTheExternalId) {
    std::string key = IdKey(1, 2, "doc/42");
    EXPECT_EQ(ExternalIdFromIdKey(key), "doc/42");
}

RC_GTEST_PROP(Keys, EdgeKeysRoundTripAndMirror,
              (std::uint32_t tenant, std::uint32_t c1, std::uint64_t r1, std::uint32_t c2,
               std::uint64_t r2)) {
    const std::string label = *rc::gen::resize(128, rc::gen::arbitrary<std::string>());
    RC_PRE(label.size() <= 128 && label.find('\0') == std::string::npos);
    EdgeKey key{tenant, c1, r1, label, c2, r2};
    EdgeKey decoded;
    RC_ASSERT(DecodeEdgeKey(EncodeEdgeKey(key), decoded));
    RC_ASSERT(decoded.tenant == tenant && decoded.collection == c1 && decoded.row == r1);
    RC_ASSERT(decoded.label == label && decoded.other_collection == c2 && decoded.other_row == r2);
    EdgeKey mirror = MirrorEdgeKey(key);
    RC_ASSERT(mirror.collection == c2 && mirror.row == r2 && mirror.other_collection == c1 &&
              mirror.other_row == r1);
    RC_ASSERT(EncodeEdgeKey(key).starts_with(EdgeRowPrefix(tenant, c1, r1)));
}

TEST(Keys, MalformedEdgeKeysAreRejected) {
    EdgeKey out;
    EXPECT_FALSE(DecodeEdgeKey("", out));
    std::string good = EncodeEdgeKey({1, 2, 3, "knows", 4, 5});
    EXPECT_FALSE(DecodeEdgeKey(std::string_view(good).substr(0, good.size() - 1), out));
    EXPECT_FALSE(DecodeEdgeKey(good + "x", out));
}

TEST(Keys, EdgesOfOneEntitySortByLabelThenTarget) {
    EXPECT_LT(EncodeEdgeKey({1, 2, 3, "b", 9, 9}), EncodeEdgeKey({1, 2, 3, "ba", 1, 1}));
    EXPECT_LT(EncodeEdgeKey({1, 2, 3, "ab", 9, 9}), EncodeEdgeKey({1, 2, 3, "b", 1, 1}));
    EXPECT_LT(EncodeEdgeKey({1, 2, 3, "b", 1, 5}), EncodeEdgeKey({1, 2, 3, "b", 1, 6}));
}

TEST(CatalogCodec, CollectionRecordRoundTrips) {
    CollectionRecord record{.collection_id = 42,
                            .dimension = 128,
                            .metric = Metric::kCosine,
                            .settings = R"({"m":16})",
                            .created_at_ms = 1700000000000};
    auto decoded = DecodeCollectionRecord(EncodeCollectionRecord(record));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->collection_id, 42u);
    EXPECT_EQ(decoded->dimension, 128u);
    EXPECT_EQ(decoded->metric, Metric::kCosine);
    EXPECT_EQ(decoded->settings, R"({"m":16})");
    EXPECT_EQ(decoded->created_at_ms, 1700000000000);

    CollectionRecord no_vectors{.collection_id = 1};
    auto decoded2 = DecodeCollectionRecord(EncodeCollectionRecord(no_vectors));
    ASSERT_TRUE(decoded2.ok());
    EXPECT_FALSE(decoded2->dimension.has_value());
}

TEST(CatalogCodec, RejectsCorruptRecords) {
    std::string encoded = EncodeCollectionRecord({.collection_id = 1, .dimension = 4});
    for (std::size_t len = 0; len < encoded.size(); ++len) {
        EXPECT_EQ(DecodeCollectionRecord(std::string_view(encoded).substr(0, len)).status().code(),
                  StatusCode::kCorruption);
    }
    std::string bad_metric = encoded;
    // version, id varint, flags, dim varint, metric
    bad_metric[4] = 9;
    EXPECT_FALSE(DecodeCollectionRecord(bad_metric).ok());
    EXPECT_FALSE(DecodeTenantRecord("x").ok());
    EXPECT_FALSE(DecodeCounter("1234567").ok());
}

TEST(CatalogCodec, TenantRecordRoundTrips) {
    auto decoded = DecodeTenantRecord(EncodeTenantRecord({.tenant_id = 9, .created_at_ms = 5}));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->tenant_id, 9u);
    EXPECT_EQ(decoded->created_at_ms, 5);
}

}  // namespace
}  // namespace phenix::storage
