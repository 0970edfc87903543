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

// Version 2 carries the changes made after the statistics' snapshot; version 1 records (written
// before it) still decode, with none.
TEST(CatalogCodec, IndexStatsRecordRoundTripsAndReadsVersionOne) {
    const std::string stats("\x01\x05\x06", 3);
    auto decoded = DecodeIndexStatsRecord(
        EncodeIndexStatsRecord({.stats_ts = 77, .changes_since = 300, .stats = stats}));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->stats_ts, 77u);
    EXPECT_EQ(decoded->changes_since, 300u);
    EXPECT_EQ(decoded->stats, stats);
    std::string version_one(1, '\x01');
    version_one.append(std::string("\x4d\0\0\0\0\0\0\0", 8));  // stats_ts 77 (fixed64 LE)
    version_one.append(stats);
    auto old = DecodeIndexStatsRecord(version_one);
    ASSERT_TRUE(old.ok()) << old.status().ToString();
    EXPECT_EQ(old->stats_ts, 77u);
    EXPECT_EQ(old->changes_since, 0u);
    EXPECT_EQ(old->stats, stats);
    EXPECT_FALSE(DecodeIndexStatsRecord(std::string("\x02\x4d\0\0\0\0\0\0\0", 9)).ok());
    EXPECT_FALSE(DecodeIndexStatsRecord(std::string("\x03\x4d\0\0\0\0\0\0\0\x00", 10)).ok());
    EXPECT_EQ(IndexStatsKey(3, 4).substr(0, IndexStatsKeyPrefix(3).size()), IndexStatsKeyPrefix(3));
}

}  // namespace
}  // namespace phenix::storage
