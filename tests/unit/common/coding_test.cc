// SPDX-License-Identifier: Apache-2.0
#include "common/coding.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "common/utf8.h"

namespace phenix::coding {
namespace {

TEST(Coding, BigEndianFixedPreservesOrder) {
    std::string a;
    std::string b;
    PutFixed64BE(a, 255);
    PutFixed64BE(b, 256);
    EXPECT_LT(a, b);
    EXPECT_EQ(DecodeFixed64BE(a.data()), 255u);
    std::string c;
    PutFixed32BE(c, 0x01020304u);
    EXPECT_EQ(c, std::string("\x01\x02\x03\x04", 4));
    EXPECT_EQ(DecodeFixed32BE(c.data()), 0x01020304u);
}

RC_GTEST_PROP(Coding, VarintRoundTrips, (std::uint64_t v)) {
    std::string buf;
    PutVarint64(buf, v);
    ByteReader reader(buf);
    auto decoded = reader.ReadVarint64();
    RC_ASSERT(decoded.has_value());
    RC_ASSERT(*decoded == v);
    RC_ASSERT(reader.empty());
}

RC_GTEST_PROP(Coding, BigEndianOrderMatchesNumericOrder, (std::uint64_t a, std::uint64_t b)) {
    std::string ea;
    std::string eb;
    PutFixed64BE(ea, a);
    PutFixed64BE(eb, b);
    RC_ASSERT((ea < eb) == (a < b));
}

TEST(ByteReader, RejectsTruncatedVarint) {
    std::string buf = "\x80\x80";
    ByteReader reader(buf);
    EXPECT_FALSE(reader.ReadVarint64().has_value());
}

TEST(ByteReader, RejectsOverlongVarint) {
    std::string buf(10, '\xff');
    buf.push_back('\x01');
    ByteReader reader(buf);
    EXPECT_FALSE(reader.ReadVarint64().has_value());
}

TEST(ByteReader, LengthPrefixLongerThanInputFails) {
    std::string buf;
    PutVarint64(buf, 100);
    buf += "short";
    ByteReader reader(buf);
    EXPECT_FALSE(reader.ReadLengthPrefixed().has_value());
}

TEST(ByteReader, FloatsRoundTrip) {
    const float values[] = {0.0f, -1.5f, 3.25e10f, 1e-30f};
    std::string buf;
    PutFloatsLE(buf, values, 4);
    ASSERT_EQ(buf.size(), 16u);
    float out[4];
    ByteReader reader(buf);
    ASSERT_TRUE(reader.ReadFloatsLE(out, 4));
    for (int idx = 0; idx < 4; ++idx) {
        EXPECT_EQ(out[idx], values[idx]);
    }
    ByteReader short_reader(std::string_view(buf).substr(0, 15));
    EXPECT_FALSE(short_reader.ReadFloatsLE(out, 4));
}

TEST(Utf8, AcceptsValidAndRejectsInvalid) {
    EXPECT_TRUE(IsValidUtf8("plain ascii"));
    EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
    EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
    EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
    EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(Utf8, DetectsControlCharacters) {
    EXPECT_FALSE(HasControlCharacter("related_to"));
    EXPECT_TRUE(HasControlCharacter("a\nb"));
    EXPECT_TRUE(HasControlCharacter(std::string("a\0b", 3)));
}

}  // namespace
}  // namespace phenix::coding
