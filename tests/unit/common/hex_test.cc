// SPDX-License-Identifier: Apache-2.0
#include "common/hex.h"

#include <gtest/gtest.h>

namespace phenix::hex {
namespace {

TEST(Hex, EncodesLowercaseAndDecodesEitherCase) {
    const std::string bytes("\x00\x01\xab\xff", 4);
    EXPECT_EQ(Encode(bytes), "0001abff");
    EXPECT_EQ(Encode(""), "");
    EXPECT_EQ(Decode("0001abff"), bytes);
    EXPECT_EQ(Decode("0001ABFF"), bytes);
    EXPECT_EQ(Decode(""), std::string());
}

TEST(Hex, RefusesOddLengthsAndNonDigits) {
    EXPECT_EQ(Decode("abc"), std::nullopt);
    EXPECT_EQ(Decode("zz"), std::nullopt);
    EXPECT_EQ(Decode("0g"), std::nullopt);
    EXPECT_EQ(Decode("-1"), std::nullopt);
}

}  // namespace
}  // namespace phenix::hex
