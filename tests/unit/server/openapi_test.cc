// SPDX-License-Identifier: Apache-2.0
#include "server/openapi.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/api.h"

namespace phenix::server {
namespace {

using Json = nlohmann::json;

// Fails when a route exists that the document does not describe (or the reverse).
TEST(OpenApiTest, DescribesExactlyTheRoutes) {
    Router router;
    ApiState state;
    RegisterRoutes(router, state);
    auto document = OpenApiDocument(router);
    ASSERT_TRUE(document.ok()) << document.status().ToString();
    const Json json = Json::parse(*document);
    EXPECT_EQ(json["openapi"], "3.1.0");
    std::size_t num_operations = 0;
    for (const auto& [path, item] : json["paths"].items()) {
        num_operations += item.size();
    }
    EXPECT_EQ(num_operations, router.routes().size());
    for (const Route& route : router.routes()) {
        std::string method = route.method;
        for (char& ch : method) {
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        ASSERT_TRUE(json["paths"].contains(route.pattern)) << route.pattern;
        const Json& operation = json["paths"][route.pattern];
        ASSERT_TRUE(operation.contains(method)) << route.method << " " << route.pattern;
        EXPECT_TRUE(operation[method].contains("responses")) << route.pattern;
    }
}

TEST(OpenApiTest, AnUndescribedRouteIsAnError) {
    Router router;
    router.Add(
        "GET", "/v1/undocumented",
        [](const HttpRequest&, const PathParams&, RequestContext&) { return HttpResponse{}; });
    auto document = OpenApiDocument(router);
    ASSERT_FALSE(document.ok());
    EXPECT_NE(document.status().message().find("GET /v1/undocumented"), std::string::npos);
}

TEST(OpenApiTest, ReferencesResolve) {
    Router router;
    ApiState state;
    RegisterRoutes(router, state);
    auto document = OpenApiDocument(router);
    ASSERT_TRUE(document.ok());
    const Json json = Json::parse(*document);
    // Every "$ref" points at an existing component.
    std::vector<const Json*> stack = {&json};
    std::size_t num_refs = 0;
    while (!stack.empty()) {
        const Json* node = stack.back();
        stack.pop_back();
        if (node->is_object()) {
            if (auto ref = node->find("$ref"); ref != node->end()) {
                const std::string target = *ref;
                ASSERT_EQ(target.rfind("#/", 0), 0u) << target;
                EXPECT_NO_THROW((void)json.at(Json::json_pointer(target.substr(1)))) << target;
                ++num_refs;
            }
            for (const auto& [key, child] : node->items()) {
                stack.push_back(&child);
            }
        } else if (node->is_array()) {
            for (const Json& child : *node) {
                stack.push_back(&child);
            }
        }
    }
    EXPECT_GT(num_refs, 10u);
}

}  // namespace
}  // namespace phenix::server
