// SPDX-License-Identifier: Apache-2.0
#include "server/router.h"

#include <gtest/gtest.h>

namespace phenix::server {
namespace {

Handler Named(std::string name) {
    return [name](const HttpRequest&, const PathParams&, RequestContext&) {
        HttpResponse response;
        response.body = name;
        return response;
    };
}

std::string HandlerName(const RouteMatch& match) {
    HttpRequest request;
    RequestContext context;
    return match.route->handler(request, match.params, context).body;
}

class RouterTest : public ::testing::Test {
  protected:
    void SetUp() override {
        router_.Add("GET", "/health", Named("health"));
        router_.Add("GET", "/v1/collections", Named("list"));
        router_.Add("PUT", "/v1/collections/{name}", Named("put"));
        router_.Add("GET", "/v1/collections/{name}", Named("get"));
        router_.Add("GET", "/v1/collections/{name}/entities/{id}", Named("entity"));
    }
    Router router_;
};

TEST_F(RouterTest, LiteralAndParameterRoutes) {
    RouteMatch health = router_.Match("GET", "/health");
    ASSERT_NE(health.route, nullptr);
    EXPECT_EQ(HandlerName(health), "health");

    RouteMatch list = router_.Match("GET", "/v1/collections");
    ASSERT_NE(list.route, nullptr);
    EXPECT_EQ(HandlerName(list), "list");

    RouteMatch entity = router_.Match("GET", "/v1/collections/docs/entities/a%2Fb%20c");
    ASSERT_NE(entity.route, nullptr);
    EXPECT_EQ(HandlerName(entity), "entity");
    EXPECT_EQ(entity.params.at("name"), "docs");
    EXPECT_EQ(entity.params.at("id"), "a/b c");  // decoded after splitting on '/'
    EXPECT_EQ(entity.route->pattern, "/v1/collections/{name}/entities/{id}");
}

TEST_F(RouterTest, MethodSelectsTheHandler) {
    RouteMatch put = router_.Match("PUT", "/v1/collections/docs");
    ASSERT_NE(put.route, nullptr);
    EXPECT_EQ(HandlerName(put), "put");
    RouteMatch get = router_.Match("GET", "/v1/collections/docs");
    ASSERT_NE(get.route, nullptr);
    EXPECT_EQ(HandlerName(get), "get");
}

TEST_F(RouterTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
    EXPECT_EQ(router_.Match("GET", "/v2/collections").status, 404u);
    EXPECT_EQ(router_.Match("GET", "/v1/collections/docs/extra").status, 404u);
    EXPECT_EQ(router_.Match("GET", "/v1/collections//entities/x").status, 404u);  // empty name
    EXPECT_EQ(router_.Match("GET", "/health/").status, 404u);

    RouteMatch wrong = router_.Match("DELETE", "/v1/collections/docs");
    EXPECT_EQ(wrong.route, nullptr);
    EXPECT_EQ(wrong.status, 405u);
    EXPECT_EQ(wrong.allow, "PUT, GET");
}

TEST_F(RouterTest, MalformedEscapeIs400) {
    EXPECT_EQ(router_.Match("GET", "/v1/collections/bad%zz").status, 400u);
    EXPECT_EQ(router_.Match("GET", "/v1/collections/bad%4").status, 400u);
}

TEST(QueryStringTest, DecodesPairs) {
    auto query = ParseQueryString("include=vector&x=a%20b&flag&=empty&bad=%zz");
    EXPECT_EQ(query.at("include"), "vector");
    EXPECT_EQ(query.at("x"), "a b");
    EXPECT_EQ(query.at("flag"), "");
    EXPECT_EQ(query.at("bad"), "%zz");
}

}  // namespace
}  // namespace phenix::server
