// SPDX-License-Identifier: Apache-2.0
#include "document/value_key.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace phenix::document {
namespace {

using namespace std::string_literals;

constexpr std::int64_t kMicrosPerSecond = 1'000'000;

int Sign(int v) {
    return v < 0 ? -1 : (v > 0 ? 1 : 0);
}

int CompareBytes(const std::string& a, const std::string& b) {
    const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
    if (c != 0) {
        return Sign(c);
    }
    return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

rc::Gen<double> GenNumber() {
    const double inf = std::numeric_limits<double>::infinity();
    return rc::gen::oneOf(
        rc::gen::map(rc::gen::inRange(-1000, 1000), [](int v) { return static_cast<double>(v); }),
        rc::gen::map(rc::gen::inRange(-100000, 100000),
                     [](int v) { return static_cast<double>(v) / 64.0; }),
        rc::gen::arbitrary<double>(),
        rc::gen::element(
            0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1e308, -1e308, 9007199254740993.0, -9007199254740993.0,
            std::numeric_limits<double>::denorm_min(), -std::numeric_limits<double>::denorm_min(),
            std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(), inf, -inf));
}

rc::Gen<std::string> GenText() {
    return rc::gen::oneOf(
        rc::gen::element(""s, "a"s, "ab"s, "a\0"s, "a\0b"s, "a\0\0"s, "\0"s, "\xff"s, "\x01"s, "b"s,
                         "\xff\xff"s),
        rc::gen::container<std::string>(rc::gen::element('\0', '\x01', 'a', 'b', '\xfe', '\xff')),
        rc::gen::arbitrary<std::string>());
}

rc::Gen<Scalar> GenScalar() {
    // Timestamps within years 0000-9999, plus a few small ones that tie often.
    const std::int64_t max_micros = 253402300799LL * kMicrosPerSecond;
    const std::int64_t min_micros = -62167219200LL * kMicrosPerSecond;
    return rc::gen::oneOf(
        rc::gen::just(Scalar::Null()), rc::gen::map(rc::gen::arbitrary<bool>(), Scalar::Bool),
        rc::gen::map(GenNumber(), Scalar::Number),
        rc::gen::map(rc::gen::oneOf(rc::gen::inRange<std::int64_t>(min_micros, max_micros),
                                    rc::gen::inRange<std::int64_t>(-3, 3)),
                     Scalar::Timestamp),
        rc::gen::map(GenText(), Scalar::PlainString));
}

RC_GTEST_PROP(ValueKey, MemcmpOrderOfKeysIsScalarOrder, ()) {
    const Scalar a = *GenScalar();
    const Scalar b = *GenScalar();
    const std::string ka = EncodeScalarKey(a);
    const std::string kb = EncodeScalarKey(b);
    RC_ASSERT(CompareBytes(ka, kb) == CompareScalars(a, b));
    RC_ASSERT(CompareScalars(a, b) == -CompareScalars(b, a));
    RC_ASSERT((ka == kb) == (a == b));
}

RC_GTEST_PROP(ValueKey, KeysRoundTripAndAreSelfDelimiting, ()) {
    const Scalar a = *GenScalar();
    const Scalar b = *GenScalar();
    std::string key;
    AppendScalarKey(a, &key);
    AppendScalarKey(b, &key);
    std::string_view in = key;
    auto da = DecodeScalarKey(&in);
    RC_ASSERT(da.ok());
    auto db = DecodeScalarKey(&in);
    RC_ASSERT(db.ok());
    RC_ASSERT(in.empty());
    RC_ASSERT(*da == a);
    RC_ASSERT(*db == b);
    RC_ASSERT(da->type == a.type);
    if (a.type == ValueType::kString) {
        RC_ASSERT(da->text == a.text);
    }
}

RC_GTEST_PROP(ValueKey, GarbageNeverCrashes, (const std::string& bytes)) {
    std::string_view in = bytes;
    while (!in.empty()) {
        const std::size_t before = in.size();
        auto decoded = DecodeScalarKey(&in);
        if (!decoded.ok()) {
            RC_ASSERT(decoded.status().code() == StatusCode::kCorruption);
            RC_ASSERT(in.size() == before);  // unchanged on failure
            break;
        }
        RC_ASSERT(in.size() < before);
    }
}

TEST(ValueKey, EveryProperPrefixOfAKeyIsCorruption) {
    for (const Scalar& v : {Scalar::Number(3.5), Scalar::Timestamp(123), Scalar::PlainString("ab"),
                            Scalar::PlainString("a\0b"s)}) {
        const std::string key = EncodeScalarKey(v);
        for (std::size_t len = 0; len < key.size(); ++len) {
            std::string_view in(key.data(), len);
            auto decoded = DecodeScalarKey(&in);
            ASSERT_FALSE(decoded.ok()) << len;
            EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
        }
    }
}

TEST(ValueKey, MalformedKeysAreCorruption) {
    for (const std::string& bad :
         {"\x00"s, "\x11"s, "\x60"s, "\x50\x61\x00\x02"s, "\x50\x61"s, "\x30\x01\x02"s, "\x40"s}) {
        std::string_view in = bad;
        auto decoded = DecodeScalarKey(&in);
        ASSERT_FALSE(decoded.ok()) << bad;
        EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
    }
}

TEST(ValueKey, EncodingLayoutIsStable) {
    EXPECT_EQ(EncodeScalarKey(Scalar::Null()), "\x10"s);
    EXPECT_EQ(EncodeScalarKey(Scalar::Bool(false)), "\x20"s);
    EXPECT_EQ(EncodeScalarKey(Scalar::Bool(true)), "\x21"s);
    EXPECT_EQ(EncodeScalarKey(Scalar::Number(0)), "\x30\x80\x00\x00\x00\x00\x00\x00\x00"s);
    EXPECT_EQ(EncodeScalarKey(Scalar::Number(-0.0)), EncodeScalarKey(Scalar::Number(0)));
    EXPECT_EQ(EncodeScalarKey(Scalar::Number(1)), "\x30\xbf\xf0\x00\x00\x00\x00\x00\x00"s);
    EXPECT_EQ(EncodeScalarKey(Scalar::Number(-1)), "\x30\x40\x0f\xff\xff\xff\xff\xff\xff"s);
    EXPECT_EQ(EncodeScalarKey(Scalar::Timestamp(0)), "\x40\x80\x00\x00\x00\x00\x00\x00\x00"s);
    EXPECT_EQ(EncodeScalarKey(Scalar::PlainString("a\0b"s)),
              "\x50"
              "a\x00\xff"
              "b\x00\x01"s);
}

TEST(ValueKey, TypeOrderAndBrackets) {
    const std::vector<Scalar> ordered = {
        Scalar::Null(),         Scalar::Bool(false),     Scalar::Bool(true),
        Scalar::Number(-1e300), Scalar::Number(1e300),   Scalar::Timestamp(-5),
        Scalar::Timestamp(5),   Scalar::PlainString(""), Scalar::PlainString("a")};
    for (std::size_t idx = 0; idx + 1 < ordered.size(); ++idx) {
        EXPECT_LT(CompareScalars(ordered[idx], ordered[idx + 1]), 0) << idx;
        EXPECT_LT(EncodeScalarKey(ordered[idx]), EncodeScalarKey(ordered[idx + 1])) << idx;
    }
    EXPECT_TRUE(SameBracket(Scalar::Bool(false), Scalar::Bool(true)));
    EXPECT_TRUE(SameBracket(Scalar::Null(), Scalar::Null()));
    EXPECT_FALSE(SameBracket(Scalar::Number(1), Scalar::PlainString("1")));
    EXPECT_FALSE(SameBracket(Scalar::Number(1), Scalar::Timestamp(1)));
    EXPECT_FALSE(SameBracket(Scalar::PlainString("x"), Scalar::String("2024-01-01")));
    for (const Scalar& v : ordered) {
        const KeyRange range = BracketKeyRange(v.type);
        const std::string key = EncodeScalarKey(v);
        EXPECT_LE(range.begin, key);
        EXPECT_LT(key, range.end);
    }
    EXPECT_EQ(BracketKeyRange(ValueType::kTrue).begin, BracketKeyRange(ValueType::kFalse).begin);
}

TEST(ValueKey, FactoriesNormalise) {
    EXPECT_FALSE(std::signbit(Scalar::Number(-0.0).number));
    EXPECT_EQ(Scalar::Number(1), Scalar::Number(1.0));
    const Scalar date = Scalar::String("2024-05-01");
    EXPECT_EQ(date.type, ValueType::kTimestamp);
    EXPECT_EQ(date.text, "2024-05-01");
    EXPECT_EQ(date, Scalar::String("2024-05-01T00:00:00Z"));
    EXPECT_EQ(date, Scalar::String("2024-05-01T02:00:00+02:00"));
    EXPECT_EQ(Scalar::String("hello").type, ValueType::kString);
    EXPECT_EQ(Scalar::PlainString("2024-05-01").type, ValueType::kString);
    EXPECT_NE(Scalar::PlainString("2024-05-01"), date);
}

TEST(ValueKey, ScalarToJson) {
    EXPECT_EQ(ScalarToJson(Scalar::Null()), "null");
    EXPECT_EQ(ScalarToJson(Scalar::Bool(true)), "true");
    EXPECT_EQ(ScalarToJson(Scalar::Number(5)), "5");
    EXPECT_EQ(ScalarToJson(Scalar::Number(-0.0)), "0");
    EXPECT_EQ(ScalarToJson(Scalar::Number(0.1)), "0.1");
    EXPECT_EQ(ScalarToJson(Scalar::Number(1e300)), "1e+300");
    EXPECT_EQ(ScalarToJson(Scalar::PlainString("a\"b\\\n\x01")), R"("a\"b\\\n\u0001")");
    EXPECT_EQ(ScalarToJson(Scalar::String("2024-05-01")), R"("2024-05-01")");
    EXPECT_EQ(ScalarToJson(Scalar::Timestamp(1'500'000)), R"("1970-01-01T00:00:01.500000Z")");
}

std::int64_t Micros(std::int64_t seconds) {
    return seconds * kMicrosPerSecond;
}

TEST(ValueKeyTimestamp, AcceptsRfc3339) {
    EXPECT_EQ(ParseTimestamp("1970-01-01"), 0);
    EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(ParseTimestamp("1970-01-01t00:00:00z"), 0);
    EXPECT_EQ(ParseTimestamp("1970-01-01 00:00:01Z"), Micros(1));
    EXPECT_EQ(ParseTimestamp("2024-05-01"), Micros(1714521600));
    EXPECT_EQ(ParseTimestamp("2024-05-01T12:34:56Z"), Micros(1714566896));
    EXPECT_EQ(ParseTimestamp("2024-05-01T14:34:56+02:00"), Micros(1714566896));
    EXPECT_EQ(ParseTimestamp("2024-05-01T07:04:56-05:30"), Micros(1714566896));
    EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59Z"), Micros(-1));
    EXPECT_EQ(ParseTimestamp("1900-01-01"), Micros(-2208988800));
    EXPECT_EQ(ParseTimestamp("0000-01-01"), Micros(-62167219200));
    EXPECT_EQ(ParseTimestamp("9999-12-31T23:59:59Z"), Micros(253402300799));
}

TEST(ValueKeyTimestamp, FractionsAreTruncatedToMicroseconds) {
    EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.5Z"), 500000);
    EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.123456Z"), 123456);
    EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.123456789Z"), 123456);
    EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59.999999Z"), -1);
    EXPECT_FALSE(ParseTimestamp("1970-01-01T00:00:00.Z"));
    EXPECT_FALSE(ParseTimestamp("1970-01-01T00:00:00.1234567890Z"));
}

TEST(ValueKeyTimestamp, LeapDaysAndLeapSeconds) {
    EXPECT_TRUE(ParseTimestamp("2024-02-29"));
    EXPECT_TRUE(ParseTimestamp("2000-02-29"));
    EXPECT_FALSE(ParseTimestamp("2023-02-29"));
    EXPECT_FALSE(ParseTimestamp("1900-02-29"));
    EXPECT_EQ(ParseTimestamp("2016-12-31T23:59:60Z"), ParseTimestamp("2017-01-01T00:00:00Z"));
}

TEST(ValueKeyTimestamp, RejectsEverythingElse) {
    for (const char* text : {"",
                             "2024",
                             "2024-05",
                             "hello world",
                             "2024-13-01",
                             "2024-00-10",
                             "2024-04-31",
                             "2024-05-00",
                             "2024-05-01T24:00:00Z",
                             "2024-05-01T12:60:00Z",
                             "2024-05-01T12:00:61Z",
                             "2024-05-01T12:00:00",
                             "2024-05-01T12:00Z",
                             "2024-05-01T12:00:00+0200",
                             "2024-05-01T12:00:00+24:00",
                             "2024-05-01T12:00:00+02:60",
                             "2024-05-01X12:00:00Z",
                             " 2024-05-01",
                             "2024-05-01 ",
                             "2024-5-01",
                             "20245-01-01",
                             "2024/05/01",
                             "+024-05-01",
                             "2024-05-01T12:00:00ZZ",
                             "2024-05-01T12:00:00Z ",
                             "2024-05-01T1:00:00Z",
                             "２０２４-05-01",
                             "2024-05-01T12:00:00+02:00:00"}) {
        EXPECT_FALSE(ParseTimestamp(text)) << text;
    }
}

RC_GTEST_PROP(ValueKeyTimestamp, FormatRoundTrips, ()) {
    const std::int64_t micros = *rc::gen::inRange<std::int64_t>(-62167219200LL * kMicrosPerSecond,
                                                                253402300799LL * kMicrosPerSecond);
    const std::string text = FormatTimestamp(micros);
    RC_ASSERT(ParseTimestamp(text) == micros);
}

TEST(ValueKeyTimestamp, AgreesWithCalendarForEveryDayOfFourCenturies) {
    // Walks day by day from 1600-01-01 and checks the parser against a running day count.
    std::int64_t day = -135140;  // 1600-01-01 relative to 1970-01-01
    for (int year = 1600; year < 2000; ++year) {
        for (int month = 1; month <= 12; ++month) {
            static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
            const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            const int days = month == 2 && leap ? 29 : kDays[month - 1];
            for (int dom = 1; dom <= days + 1; ++dom) {
                char text[48];
                std::snprintf(text, sizeof(text), "%04d-%02d-%02d", year, month, dom);
                if (dom > days) {
                    ASSERT_FALSE(ParseTimestamp(text)) << text;
                    continue;
                }
                ASSERT_EQ(ParseTimestamp(text), day * 86400 * kMicrosPerSecond) << text;
                ++day;
            }
        }
    }
    EXPECT_EQ(day, 10957);  // 2000-01-01
}

}  // namespace
}  // namespace phenix::document
