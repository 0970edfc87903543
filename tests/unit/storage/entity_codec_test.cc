// SPDX-License-Identifier: Apache-2.0
#include "storage/entity_codec.h"

#include <cmath>
#include <cstring>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace phenix::storage {
namespace {

TEST(EntityCodec, RoundTripsAllFields) {
    EntityRecord record{"doc-1", {0.5f, -1.25f, 3.0f}, R"({"category":"tech","year":2021})"};
    std::string encoded = EncodeEntityRecord(record);
    EXPECT_EQ(static_cast<std::uint8_t>(encoded[0]), kEntityRecordVersion);
    auto decoded = DecodeEntityRecord(encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, record);
    auto id = DecodeEntityRecordId(encoded);
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(*id, "doc-1");
}

TEST(EntityCodec, RoundTripsEntityWithoutVector) {
    EntityRecord record{"x", {}, "{}"};
    auto decoded = DecodeEntityRecord(EncodeEntityRecord(record));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, record);
    EXPECT_TRUE(decoded->vector.empty());
}

TEST(EntityCodec, IsCompactFor128DimensionsWithSmallMetadata) {
    // 128 float32 = 512 bytes; the record adds only a few bytes of framing around payloads.
    EntityRecord record;
    record.external_id = "e000123";
    record.vector.assign(128, 0.25f);
    record.metadata =
        R"({"category":3,"year":2008,"tenant":"t64","bucket":983,"price":19.83,"active":true,"topic":4})";
    std::string encoded = EncodeEntityRecord(record);
    const std::size_t payload =
        record.external_id.size() + 128 * sizeof(float) + record.metadata.size();
    EXPECT_LE(encoded.size(), payload + 8)
        << "framing overhead grew: " << encoded.size() - payload << " bytes";
}

TEST(EntityCodec, RejectsUnknownVersion) {
    std::string encoded = EncodeEntityRecord({"a", {}, "{}"});
    encoded[0] = static_cast<char>(kEntityRecordVersion + 1);
    auto decoded = DecodeEntityRecord(encoded);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
    EXPECT_NE(decoded.status().message().find("unknown format version"), std::string::npos);
}

TEST(EntityCodec, RejectsUnknownFlags) {
    std::string encoded = EncodeEntityRecord({"a", {}, "{}"});
    encoded[1] = '\x80';
    EXPECT_EQ(DecodeEntityRecord(encoded).status().code(), StatusCode::kCorruption);
}

TEST(EntityCodec, EveryTruncationIsCorruptionNotACrash) {
    std::string encoded = EncodeEntityRecord({"abc", {1.0f, 2.0f, 3.0f, 4.0f}, R"({"k":1})"});
    for (std::size_t len = 0; len < encoded.size(); ++len) {
        auto decoded = DecodeEntityRecord(std::string_view(encoded).substr(0, len));
        EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption) << "prefix length " << len;
    }
    EXPECT_EQ(DecodeEntityRecord(encoded + "x").status().code(), StatusCode::kCorruption);
}

RC_GTEST_PROP(EntityCodec, RandomRecordsRoundTrip, ()) {
    EntityRecord record;
    record.external_id = *rc::gen::arbitrary<std::string>();
    const auto dim = *rc::gen::inRange<std::size_t>(0, 300);
    record.vector = *rc::gen::container<std::vector<float>>(dim, rc::gen::arbitrary<float>());
    record.metadata = *rc::gen::arbitrary<std::string>();
    auto decoded = DecodeEntityRecord(EncodeEntityRecord(record));
    RC_ASSERT(decoded.ok());
    RC_ASSERT(decoded->external_id == record.external_id);
    RC_ASSERT(decoded->metadata == record.metadata);
    RC_ASSERT(decoded->vector.size() == record.vector.size());
    // Compare bit patterns so NaN payloads and -0.0 count as preserved.
    const bool same_bits =
        record.vector.empty() || std::memcmp(decoded->vector.data(), record.vector.data(),
                                             record.vector.size() * sizeof(float)) == 0;
    RC_ASSERT(same_bits);
}

RC_GTEST_PROP(EntityCodec, ArbitraryBytesNeverCrashTheDecoder, (const std::string& bytes)) {
    auto decoded = DecodeEntityRecord(bytes);
    RC_ASSERT(decoded.ok() || decoded.status().code() == StatusCode::kCorruption);
}

TEST(EdgeValueCodec, RoundTrips) {
    EdgeValue value{0.8, "d1", R"({"since":2020})"};
    auto decoded = DecodeEdgeValue(EncodeEdgeValue(value));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, value);
}

RC_GTEST_PROP(EdgeValueCodec, RandomValuesRoundTrip,
              (double weight, const std::string& other, const std::string& props)) {
    RC_PRE(!std::isnan(weight));
    EdgeValue value{weight, other, props};
    auto decoded = DecodeEdgeValue(EncodeEdgeValue(value));
    RC_ASSERT(decoded.ok());
    RC_ASSERT(*decoded == value);
}

TEST(EdgeValueCodec, RejectsTruncationAndUnknownVersion) {
    std::string encoded = EncodeEdgeValue({1.0, "abc", ""});
    for (std::size_t len = 0; len < encoded.size(); ++len) {
        EXPECT_FALSE(DecodeEdgeValue(std::string_view(encoded).substr(0, len)).ok()) << len;
    }
    encoded[0] = 9;
    EXPECT_EQ(DecodeEdgeValue(encoded).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace phenix::storage
