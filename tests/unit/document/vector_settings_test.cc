// SPDX-License-Identifier: Apache-2.0
#include "document/vector_settings.h"

#include <string>

#include <gtest/gtest.h>

namespace phenix::document {
namespace {

TEST(VectorSettings, ReadsBoundedIntegers) {
    auto settings = ParseVectorIndexSettings(
        R"({"hnsw": {"m": 24, "ef_construction": 80, "ef_search": 40, "quantization": "int8"}})");
    ASSERT_TRUE(settings.ok()) << settings.status().ToString();
    EXPECT_EQ(settings->m, 24u);
    EXPECT_EQ(settings->ef_construction, 80u);
    EXPECT_EQ(settings->ef_search, 40u);
    EXPECT_TRUE(settings->quantize_int8);
}

// JSON has one number type: 58.0 is the integer 58 (as JSON Schema, and so the OpenAPI
// document, reads it); 58.5 and out-of-range values are refused with the field's name.
TEST(VectorSettings, AnIntegralFloatIsAnInteger) {
    auto settings = ParseVectorIndexSettings(R"({"hnsw": {"m": 58.0, "ef_construction": 2562.0}})");
    ASSERT_TRUE(settings.ok()) << settings.status().ToString();
    EXPECT_EQ(settings->m, 58u);
    EXPECT_EQ(settings->ef_construction, 2562u);
    for (const std::string bad : {"58.5", "1.0", "129.0", "1e300", "-2.0", "\"16\""}) {
        auto refused = ParseVectorIndexSettings(R"({"hnsw": {"m": )" + bad + "}}");
        ASSERT_FALSE(refused.ok()) << bad;
        EXPECT_NE(refused.status().message().find("hnsw.m must be an integer from 2 to 128"),
                  std::string::npos)
            << refused.status().ToString();
    }
}

}  // namespace
}  // namespace phenix::document
