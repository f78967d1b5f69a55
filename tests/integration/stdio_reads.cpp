// The read tools (and delete_binding) against the real broker, through the binary.

#include <thread>

#include <doctest/doctest.h>

#include "tests/integration/launch.hpp"
#include "tests/kit/mcp_client.hpp"

using namespace std::chrono_literals;
using warren::json_message;
using warren::mcp_client;
using warren::e2e::unique_name;

namespace {

std::string text_of(const json_message& r) {
  auto text = r.string_at("/result/content/0/text");
  return text ? *text : r.text();
}

json_message ok(mcp_client& c, const std::string& tool,
                const std::string& args = "{}") {
  auto r = c.call_tool(tool, args);
  REQUIRE_MESSAGE(r, "no answer to " << tool << "; " << warren::e2e::diagnostics(c));
  REQUIRE_MESSAGE(r->result() != nullptr, tool << ": " << r->text());
  auto flag = r->at("/result/isError");
  REQUIRE_MESSAGE((flag != nullptr && flag->IsFalse()), tool << ": " << text_of(*r));
  return *r;
}

// Calls `tool` until its text contains `needle` (the management API's statistics and
// listings trail the broker by a few seconds).
json_message eventually(mcp_client& c, const std::string& tool, const std::string& args,
                        const std::string& needle) {
  for (int i = 0; i < 60; ++i) {
    auto r = ok(c, tool, args);
    if (r.text().find(needle) != std::string::npos)
      return r;
    std::this_thread::sleep_for(250ms);
  }
  FAIL(tool << " never showed " << needle);
  return ok(c, tool, args);
}

std::unique_ptr<mcp_client> client(std::vector<std::string> args = {}) {
  auto c = warren::e2e::launch(std::move(args));
  warren::e2e::initialized(*c);
  return c;
}

} // namespace

TEST_CASE("get_exchange describes a built-in exchange") {
  auto c = client();
  auto r = ok(*c, "get_exchange", R"({"name":"amq.topic"})");
  CHECK(r.string_at("/result/structuredContent/type") == "topic");
  auto missing = c->call_tool("get_exchange", R"({"name":"no-such-exchange-here"})");
  REQUIRE(missing);
  CHECK(missing->at("/result/isError")->IsTrue());
}

TEST_CASE("list_nodes shows the running node and health_check says it is healthy") {
  auto c = client();
  auto nodes = ok(*c, "list_nodes");
  auto items = nodes.at("/result/structuredContent/items");
  REQUIRE(items != nullptr);
  REQUIRE(items->Size() >= 1);
  CHECK((*items)[0]["running"].IsTrue());
  auto health = ok(*c, "health_check");
  CHECK(health.at("/result/structuredContent/healthy")->IsTrue());
  CHECK(health.at("/result/structuredContent/checks")->Size() == 3);
}

TEST_CASE("list_connections shows warren's own AMQP connection after a publish") {
  auto c = client({"--allow-writes"});
  auto queue = unique_name("conn");
  ok(*c, "create_queue", R"({"name":")" + queue + R"(","durable":false})");
  ok(*c, "publish_message", R"({"routing_key":")" + queue + R"(","body":"x"})");
  eventually(*c, "list_connections", "{}", "guest");
  ok(*c, "list_consumers"); // nobody consumes here; the call must still work
  ok(*c, "delete_queue", R"({"name":")" + queue + R"(","force":true})");
}

TEST_CASE("find_queues finds a queue by depth, and not when the bar is higher") {
  auto c = client({"--allow-writes"});
  auto queue = unique_name("deep");
  ok(*c, "create_queue", R"({"name":")" + queue + R"(","durable":false})");
  for (int i = 0; i < 3; ++i)
    ok(*c, "publish_message", R"({"routing_key":")" + queue + R"(","body":"m"})");
  eventually(*c, "find_queues", R"({"min_messages":3,"max_consumers":0})", queue);
  auto higher = ok(*c, "find_queues", R"({"min_messages":4})");
  CHECK(higher.text().find(queue) == std::string::npos);
  ok(*c, "delete_queue", R"({"name":")" + queue + R"(","force":true})");
}

TEST_CASE(
    "list_queues with columns shows only those fields, with the broker's values") {
  auto c = client({"--allow-writes"});
  auto queue = unique_name("cols");
  ok(*c, "create_queue", R"({"name":")" + queue + R"(","durable":false})");
  for (int i = 0; i < 2; ++i)
    ok(*c, "publish_message", R"({"routing_key":")" + queue + R"(","body":"m"})");
  auto args = R"({"vhost":"/","name":")" + queue +
              R"(","columns":["messages_ready","durable"]})";
  // The counts trail the broker: ask until they show (each answer is cached apart,
  // and a publish cuts the queue keys' time to live to the settle window).
  json_message r = ok(*c, "list_queues", args);
  for (int i = 0; i < 60; ++i) {
    auto ready = r.at("/result/structuredContent/items/0/messages_ready");
    if (ready && ready->IsInt() && ready->GetInt() == 2)
      break;
    std::this_thread::sleep_for(250ms);
    r = ok(*c, "list_queues", args);
  }
  auto item = r.at("/result/structuredContent/items/0");
  REQUIRE(item != nullptr);
  CHECK((*item)["name"].GetString() == queue);
  CHECK((*item)["messages_ready"].GetInt() == 2);
  CHECK((*item)["durable"].IsFalse());
  CHECK(item->MemberCount() == 3); // no vhost, type, consumers, ...
  // The whole item still comes without columns.
  auto all = ok(*c, "list_queues", R"({"vhost":"/","name":")" + queue + R"("})");
  CHECK(all.at("/result/structuredContent/items/0")->HasMember("consumers"));
  auto bad = c->call_tool("list_queues", R"({"columns":["bogus"]})");
  REQUIRE(bad);
  CHECK(bad->text().find("each item of 'columns' must be one of") != std::string::npos);
  ok(*c, "delete_queue", R"({"name":")" + queue + R"(","force":true})");
}

TEST_CASE("delete_binding removes exactly the binding it names") {
  auto c = client({"--allow-writes"});
  auto queue = unique_name("unbind");
  ok(*c, "create_queue", R"({"name":")" + queue + R"(","durable":false})");
  for (auto key : {"keep", "drop"})
    ok(*c, "create_binding",
       R"({"source":"amq.direct","destination":")" + queue +
           R"(","destination_type":"queue","routing_key":")" + key + "\"}");
  auto dry =
      ok(*c, "delete_binding",
         R"({"source":"amq.direct","destination":")" + queue +
             R"(","destination_type":"queue","routing_key":"drop","dry_run":true})");
  CHECK(dry.text().find("dry_run") != std::string::npos);
  ok(*c, "delete_binding",
     R"({"source":"amq.direct","destination":")" + queue +
         R"(","destination_type":"queue","routing_key":"drop"})");
  auto left = ok(*c, "list_bindings", R"({"queue":")" + queue + "\"}");
  CHECK(left.text().find("keep") != std::string::npos);
  CHECK(left.text().find("\\\"drop\\\"") == std::string::npos);
  CHECK(left.text().find(R"("routing_key":"drop")") == std::string::npos);
  ok(*c, "delete_queue", R"({"name":")" + queue + R"(","force":true})");
}
