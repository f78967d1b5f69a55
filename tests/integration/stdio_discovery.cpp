// search-ids → get-id → call-id through the real binary against the real broker.

#include <doctest/doctest.h>

#include "tests/integration/launch.hpp"
#include "tests/kit/mcp_client.hpp"

using warren::e2e::launch;

namespace {

std::string text_of(const warren::json_message& r) {
  auto text = r.string_at("/result/content/0/text");
  return text ? *text : r.text();
}

} // namespace

TEST_CASE("an agent finds an operation by words, reads its schema and calls it") {
  auto c = launch();
  warren::e2e::initialized(*c);
  auto found = c->call_tool("search-ids", R"({"query":"who am i","limit":3})");
  REQUIRE(found);
  auto id = found->string_at("/result/structuredContent/results/0/id");
  REQUIRE_MESSAGE(id, found->text());
  auto described = c->call_tool("get-id", R"({"id":")" + *id + "\"}");
  REQUIRE(described);
  CHECK(described->at("/result/structuredContent/arguments_schema") != nullptr);
  auto called = c->call_tool("call-id", R"({"id":")" + *id + "\"}");
  REQUIRE(called);
  CHECK_MESSAGE(called->at("/result/isError")->IsFalse(), text_of(*called));
  CHECK(called->string_at("/result/structuredContent/result/name") == "guest");
}

TEST_CASE(
    "call-id refuses a write while writes are disabled, and runs it when allowed") {
  auto vhost = warren::e2e::unique_name("vh");
  auto args = R"({"id":"vhosts.put","arguments":{"vhost":")" + vhost + R"("}})";
  {
    auto c = launch();
    warren::e2e::initialized(*c);
    auto r = c->call_tool("call-id", args);
    REQUIRE(r);
    CHECK(r->error_code() == -32602);
    CHECK(r->error_message().find("--allow-writes") != std::string::npos);
  }
  auto c = launch({"--allow-writes"});
  warren::e2e::initialized(*c);
  auto created = c->call_tool("call-id", args);
  REQUIRE(created);
  CHECK_MESSAGE(created->at("/result/isError")->IsFalse(), text_of(*created));
  auto listed = c->call_tool("list_vhosts", R"({"name":")" + vhost + "\"}");
  REQUIRE(listed);
  CHECK(listed->text().find(vhost) != std::string::npos);
  auto deleted =
      c->call_tool("call-id", R"({"id":"vhosts.delete","arguments":{"vhost":")" +
                                  vhost + R"("},"force":true})");
  REQUIRE(deleted);
  CHECK_MESSAGE(deleted->at("/result/isError")->IsFalse(), text_of(*deleted));
}
