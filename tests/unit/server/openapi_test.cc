// SPDX-License-Identifier: Apache-2.0
#include "server/openapi.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/access.h"
#include "server/api.h"
#include "server/errors.h"

namespace phenix::server {
namespace {

using Json = nlohmann::json;

// The document of phenixd's routes (auth off); null when it cannot be made.
Json RoutesDocument() {
    Router router;
    ApiState state;
    RegisterRoutes(router, state);
    auto document = OpenApiDocument(router);
    EXPECT_TRUE(document.ok()) << document.status().ToString();
    return document.ok() ? Json::parse(*document) : Json();
}

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

// A described path under a method it is not described for is an error too.
TEST(OpenApiTest, AnUndescribedMethodIsAnError) {
    Router router;
    router.Add("DELETE", "/health", [](const HttpRequest&, const PathParams&, RequestContext&) {
        return HttpResponse{};
    });
    auto document = OpenApiDocument(router);
    ASSERT_FALSE(document.ok());
    EXPECT_NE(document.status().message().find("DELETE /health"), std::string::npos);
}

// The response object `response` stands for, following a "$ref" into the components.
const Json& Resolve(const Json& document, const Json& response) {
    if (auto ref = response.find("$ref"); ref != response.end()) {
        return document.at(Json::json_pointer(ref->get<std::string>().substr(1)));
    }
    return response;
}

// The Operation object of `route` in `document` (paths are keyed by lower-case methods).
const Json& OperationOf(const Json& document, const Route& route) {
    std::string method = route.method;
    for (char& ch : method) {
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    return document.at("paths").at(route.pattern).at(method);
}

// Every route documents the statuses it can answer besides success: no catch-all "default";
// what the transport and admission answer on every route; 404 where a path names something;
// 415 where a JSON body is read. Each response carries Phenix-Request-Id, 429 Retry-After, and
// each error answers the Error schema.
TEST(OpenApiTest, EveryRouteDocumentsItsErrorsAndHeaders) {
    Router router;
    ApiState state;
    RegisterRoutes(router, state);
    auto document = OpenApiDocument(router);
    ASSERT_TRUE(document.ok()) << document.status().ToString();
    const Json json = Json::parse(*document);
    ASSERT_FALSE(router.routes().empty());
    for (const Route& route : router.routes()) {
        const std::string name = route.method + " " + route.pattern;
        const Json& operation = OperationOf(json, route);
        const Json& responses = operation["responses"];
        EXPECT_FALSE(responses.contains("default")) << name;
        std::vector<std::string> required = {"400", "413", "431"};
        if (!route.options.inline_handler) {
            required.insert(required.end(), {"429", "503", "504"});
        }
        if (route.pattern.starts_with("/v1/")) {
            required.emplace_back("500");
        }
        // A path parameter names something that must exist (404 if not), except the one a PUT
        // creates.
        const auto num_params =
            static_cast<std::size_t>(std::count(route.pattern.begin(), route.pattern.end(), '{'));
        if (num_params > (route.method == "PUT" ? 1u : 0u)) {
            required.emplace_back("404");
        }
        if (operation.contains("requestBody")) {
            required.emplace_back("415");
        }
        for (const std::string& status : required) {
            EXPECT_TRUE(responses.contains(status)) << name << " does not document " << status;
        }
        bool has_success = false;
        for (const auto& [status, given] : responses.items()) {
            const Json& response = Resolve(json, given);
            EXPECT_TRUE(response.contains("headers") &&
                        response["headers"].contains("Phenix-Request-Id"))
                << name << " " << status;
            has_success = has_success || status.starts_with("2");
            if (status.starts_with("4") || status.starts_with("5")) {
                EXPECT_EQ(response["content"]["application/json"]["schema"]["$ref"],
                          "#/components/schemas/Error")
                    << name << " " << status;
            }
            if (status == "429") {
                EXPECT_TRUE(response["headers"].contains("Retry-After")) << name;
            }
        }
        EXPECT_TRUE(has_success) << name;
    }
}

// Every documented status is one the server answers: an ErrorResponse status for some code,
// or one the handlers and the transport set themselves.
TEST(OpenApiTest, DocumentedStatusesAreAnsweredStatuses) {
    Router router;
    ApiState state;
    RegisterRoutes(router, state);
    auto document = OpenApiDocument(router);
    ASSERT_TRUE(document.ok());
    const Json json = Json::parse(*document);
    std::set<std::string> answered = {"200", "201", "405", "413", "415", "422", "431"};
    for (int code = 0; code <= static_cast<int>(StatusCode::kInternal); ++code) {
        answered.insert(std::to_string(HttpStatusFor(static_cast<StatusCode>(code))));
    }
    std::size_t num_statuses = 0;
    for (const auto& [path, item] : json["paths"].items()) {
        for (const auto& [method, operation] : item.items()) {
            for (const auto& [status, response] : operation["responses"].items()) {
                EXPECT_TRUE(answered.contains(status)) << method << " " << path << " " << status;
                ++num_statuses;
            }
        }
    }
    EXPECT_GT(num_statuses, router.routes().size() * 5);
}

// The credentials are described (components.securitySchemes) and, with auth on, each operation
// asks for one of them except the access table's open routes; with auth off none does.
TEST(OpenApiTest, SecurityFollowsTheAccessTable) {
    Router router;
    ApiState state;
    RegisterRoutes(router, state);
    auto with_auth = OpenApiDocument(router, /*auth_required=*/true);
    ASSERT_TRUE(with_auth.ok()) << with_auth.status().ToString();
    const Json json = Json::parse(*with_auth);
    const Json& schemes = json["components"]["securitySchemes"];
    EXPECT_EQ(schemes["bearerJwt"]["type"], "http");
    EXPECT_EQ(schemes["bearerJwt"]["scheme"], "bearer");
    EXPECT_EQ(schemes["bearerJwt"]["bearerFormat"], "JWT");
    EXPECT_EQ(schemes["apiKey"]["scheme"], "bearer");
    std::size_t num_open = 0;
    std::size_t num_protected = 0;
    for (const Route& route : router.routes()) {
        const std::string name = route.method + " " + route.pattern;
        const Json& operation = OperationOf(json, route);
        ASSERT_TRUE(operation.contains("security")) << name;
        const AccessRule* rule = FindRouteRule(route.method, route.pattern);
        ASSERT_NE(rule, nullptr) << name;
        if (rule->scope == AccessScope::kOpen) {
            EXPECT_EQ(operation["security"], Json::array()) << name;
            ++num_open;
            continue;
        }
        ++num_protected;
        EXPECT_EQ(operation["security"], Json::parse(R"([{"bearerJwt": []}, {"apiKey": []}])"))
            << name;
        for (const auto& requirement : operation["security"]) {
            for (const auto& [scheme, scopes] : requirement.items()) {
                EXPECT_TRUE(schemes.contains(scheme)) << name << " " << scheme;
            }
        }
        EXPECT_TRUE(operation["responses"].contains("401")) << name;
        EXPECT_TRUE(operation["responses"].contains("403")) << name;
    }
    EXPECT_EQ(num_open, 3u);  // /health, /ready, /openapi.json
    EXPECT_GT(num_protected, 20u);
    // Auth off: the schemes are described, but no operation requires one.
    auto without = OpenApiDocument(router);
    ASSERT_TRUE(without.ok());
    const Json off = Json::parse(*without);
    EXPECT_TRUE(off["components"].contains("securitySchemes"));
    for (const auto& [path, item] : off["paths"].items()) {
        for (const auto& [method, operation] : item.items()) {
            EXPECT_FALSE(operation.contains("security")) << method << " " << path;
        }
    }
}

TEST(OpenApiTest, ReferencesResolve) {
    const Json json = RoutesDocument();
    ASSERT_FALSE(json.is_null());
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

// Every OpenAPI link (the stateful schemathesis phase follows them) names an operation that
// exists and parameters that operation has; a tenant created leads to its quota.
TEST(OpenApiTest, LinksNameExistingOperationsAndTheirParameters) {
    const Json json = RoutesDocument();
    ASSERT_FALSE(json.is_null());
    std::map<std::string, const Json*> operations;  // operationId -> operation
    for (const auto& [path, item] : json["paths"].items()) {
        for (const auto& [method, operation] : item.items()) {
            operations[operation["operationId"].get<std::string>()] = &operation;
        }
    }
    // The name of a parameter, inline or a $ref to #/components/parameters/.
    const auto parameter_name = [&json](const Json& parameter) -> std::string {
        if (auto ref = parameter.find("$ref"); ref != parameter.end()) {
            return json.at(Json::json_pointer(ref->get<std::string>().substr(1)))["name"];
        }
        return parameter["name"];
    };
    std::set<std::string> links;  // "from -> to"
    for (const auto& [id, operation] : operations) {
        for (const auto& [status, response] : (*operation)["responses"].items()) {
            if (!response.contains("links")) {
                continue;
            }
            for (const auto& [name, link] : response["links"].items()) {
                const std::string target = link["operationId"];
                ASSERT_TRUE(operations.contains(target)) << id << " links to " << target;
                links.insert(id + " -> " + target);
                std::set<std::string> names;
                for (const Json& parameter :
                     operations[target]->value("parameters", Json::array())) {
                    names.insert(parameter_name(parameter));
                }
                for (const auto& [key, value] : link["parameters"].items()) {
                    const std::size_t dot = key.find('.');
                    const std::string bare = dot == std::string::npos ? key : key.substr(dot + 1);
                    EXPECT_TRUE(names.contains(bare)) << id << " -> " << target << ": " << key;
                }
            }
        }
    }
    EXPECT_TRUE(links.contains("createTenant -> setTenantQuota"));
    EXPECT_TRUE(links.contains("createTenant -> getTenantQuota"));
    EXPECT_TRUE(links.contains("beginTransaction -> commitTransaction"));
}

}  // namespace
}  // namespace phenix::server
