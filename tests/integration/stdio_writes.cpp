// The tools that change the broker, end to end against the real broker: the write
// switch, a queue's whole life (create, list, publish, peek, get, purge, delete), and
// every refusal that keeps an agent from destroying what it did not mean to.

#include <thread>

#include <doctest/doctest.h>

#include "tests/integration/launch.hpp"
#include "tests/kit/mcp_client.hpp"

using namespace std::chrono_literals;
using warren::json_message;
using warren::mcp_client;
using warren::e2e::diagnostics;
using warren::e2e::launch;
using warren::e2e::unique_name;

namespace {

std::unique_ptr<mcp_client> writer() {
  auto c = launch({"--allow-writes"});
  warren::e2e::initialized(*c);
  return c;
}

bool is_error(const json_message& r) {
  auto flag = r.at("/result/isError");
  return flag != nullptr && flag->IsBool() && flag->GetBool();
}

std::string text_of(const json_message& r) {
  auto text = r.string_at("/result/content/0/text");
  return text ? *text : r.text();
}

// Calls a tool and requires a successful (not isError) result.
json_message ok(mcp_client& c, const std::string& tool, const std::string& args) {
  auto r = c.call_tool(tool, args);
  REQUIRE_MESSAGE(r, "no answer to " << tool << "; " << diagnostics(c));
  REQUIRE_MESSAGE(r->result() != nullptr, tool << ": " << r->text());
  REQUIRE_MESSAGE(!is_error(*r), tool << " failed: " << text_of(*r));
  return *r;
}

// Calls a tool and requires a tool error (isError) result.
std::string refused(mcp_client& c, const std::string& tool, const std::string& args) {
  auto r = c.call_tool(tool, args);
  REQUIRE_MESSAGE(r, "no answer to " << tool << "; " << diagnostics(c));
  REQUIRE_MESSAGE(r->result() != nullptr, tool << ": " << r->text());
  REQUIRE_MESSAGE(is_error(*r), tool << " should have been refused: " << r->text());
  return text_of(*r);
}

std::string q(const std::string& name) {
  return warren::json_quote(name);
}

// The management API's message counts trail the queue by up to ~5 s; refusals are
// judged on them, so wait until they show what the test did.
void await_messages(mcp_client& c, const std::string& queue, int64_t expected) {
  for (int i = 0; i < 100; ++i) {
    auto r = ok(c, "get_queue", R"({"name":)" + q(queue) + "}");
    auto messages = r.at("/result/structuredContent/messages");
    if (messages != nullptr && messages->IsInt64() && messages->GetInt64() == expected)
      return;
    std::this_thread::sleep_for(200ms);
  }
  FAIL("the management API never reported " << expected << " messages in " << queue);
}

} // namespace

TEST_CASE("without --allow-writes the write tools are neither listed nor callable") {
  auto c = launch();
  warren::e2e::initialized(*c);
  auto list = c->request("tools/list", R"({})");
  REQUIRE(list);
  CHECK(list->text().find(R"("name":"create_queue")") == std::string::npos);
  CHECK(list->text().find(R"("name":"delete_queue")") == std::string::npos);
  auto r = c->call_tool("create_queue", R"({"name":"never-created"})");
  REQUIRE(r);
  CHECK(r->error_code() == -32602);
  CHECK(r->error_message().find("--allow-writes") != std::string::npos);
}

TEST_CASE("a queue's life: create, list, publish, peek, get, purge, delete") {
  auto c = writer();
  auto queue = unique_name("life");
  ok(*c, "create_queue", R"({"name":)" + q(queue) + R"(,"durable":false})");
  auto listed = ok(*c, "list_queues", R"({"name":)" + q(queue) + "}");
  CHECK(listed.text().find(queue) != std::string::npos);

  for (auto body : {"first", "second", "third"}) {
    auto published =
        ok(*c, "publish_message",
           R"({"routing_key":)" + q(queue) + R"(,"body":")" + body + "\"}");
    CHECK(text_of(published).find("true") != std::string::npos);
  }

  // A peek leaves the message where it was.
  auto peek =
      ok(*c, "get_messages",
         R"({"queue":)" + q(queue) + R"(,"count":1,"ack_mode":"reject_requeue"})");
  CHECK(peek.string_at("/result/structuredContent/messages/0/body") == "first");
  auto again =
      ok(*c, "get_messages",
         R"({"queue":)" + q(queue) + R"(,"count":1,"ack_mode":"reject_requeue"})");
  CHECK(again.string_at("/result/structuredContent/messages/0/body") == "first");
  auto redelivered = again.at("/result/structuredContent/messages/0/redelivered");
  REQUIRE(redelivered != nullptr);
  CHECK(redelivered->GetBool());

  // ack removes it.
  auto taken = ok(*c, "get_messages",
                  R"({"queue":)" + q(queue) + R"(,"count":1,"ack_mode":"ack"})");
  CHECK(taken.string_at("/result/structuredContent/messages/0/body") == "first");
  auto rest =
      ok(*c, "get_messages",
         R"({"queue":)" + q(queue) + R"(,"count":10,"ack_mode":"reject_requeue"})");
  auto messages = rest.at("/result/structuredContent/messages");
  REQUIRE(messages != nullptr);
  CHECK(messages->Size() == 2);

  // A non-empty queue is purged only with force; dry_run tells what would go.
  await_messages(*c, queue, 2);
  auto why = refused(*c, "purge_queue", R"({"name":)" + q(queue) + "}");
  CHECK(why.find("force") != std::string::npos);
  auto dry = ok(*c, "purge_queue", R"({"name":)" + q(queue) + R"(,"dry_run":true})");
  CHECK(dry.text().find("dry_run") != std::string::npos);
  auto still =
      ok(*c, "get_messages",
         R"({"queue":)" + q(queue) + R"(,"count":10,"ack_mode":"reject_requeue"})");
  CHECK(still.at("/result/structuredContent/messages")->Size() == 2);
  ok(*c, "purge_queue", R"({"name":)" + q(queue) + R"(,"force":true})");
  auto empty = ok(*c, "get_messages", R"({"queue":)" + q(queue) + R"(,"count":5})");
  CHECK(empty.at("/result/structuredContent/messages")->Size() == 0);

  await_messages(*c, queue, 0);
  ok(*c, "delete_queue", R"({"name":)" + q(queue) + "}");
  auto gone = c->call_tool("get_queue", R"({"name":)" + q(queue) + "}");
  REQUIRE(gone);
  CHECK(is_error(*gone));
}

TEST_CASE(
    "delete_queue refuses a queue that holds messages, and dry_run only reports") {
  auto c = writer();
  auto queue = unique_name("full");
  ok(*c, "create_queue", R"({"name":)" + q(queue) + R"(,"durable":false})");
  ok(*c, "publish_message", R"({"routing_key":)" + q(queue) + R"(,"body":"keep me"})");
  await_messages(*c, queue, 1);
  auto why = refused(*c, "delete_queue", R"({"name":)" + q(queue) + "}");
  CHECK(why.find("force") != std::string::npos);
  CHECK(why.find('1') != std::string::npos);
  auto dry = ok(*c, "delete_queue", R"({"name":)" + q(queue) + R"(,"dry_run":true})");
  CHECK(dry.text().find("dry_run") != std::string::npos);
  ok(*c, "get_queue", R"({"name":)" + q(queue) + "}"); // still there
  ok(*c, "delete_queue", R"({"name":)" + q(queue) + R"(,"force":true})");
  auto gone = c->call_tool("get_queue", R"({"name":)" + q(queue) + "}");
  REQUIRE(gone);
  CHECK(is_error(*gone));
}

TEST_CASE("the default exchange and amq.* exchanges cannot be deleted") {
  auto c = writer();
  for (auto name : {"amq.direct", "amq.topic", ""}) {
    CAPTURE(name);
    auto r = c->call_tool("delete_exchange",
                          std::string{R"({"name":")"} + name + R"(","force":true})");
    REQUIRE(r);
    CHECK(r->error_code() == -32602);
  }
}

TEST_CASE("delete_exchange refuses an exchange that still has bindings") {
  auto c = writer();
  auto exchange = unique_name("ex");
  auto queue = unique_name("bound");
  ok(*c, "create_exchange", R"({"name":)" + q(exchange) + R"(,"type":"direct"})");
  ok(*c, "create_queue", R"({"name":)" + q(queue) + R"(,"durable":false})");
  ok(*c, "create_binding",
     R"({"source":)" + q(exchange) + R"(,"destination":)" + q(queue) +
         R"(,"destination_type":"queue","routing_key":"rk"})");
  auto bindings = ok(*c, "list_bindings", R"({"exchange":)" + q(exchange) + "}");
  CHECK(bindings.text().find(queue) != std::string::npos);
  auto why = refused(*c, "delete_exchange", R"({"name":)" + q(exchange) + "}");
  CHECK(why.find("binding") != std::string::npos);
  ok(*c, "delete_exchange", R"({"name":)" + q(exchange) + R"(,"force":true})");
  ok(*c, "delete_queue", R"({"name":)" + q(queue) + R"(,"force":true})");
}

TEST_CASE("an unroutable message is reported as not published") {
  auto c = writer();
  auto why = refused(*c, "publish_message",
                     R"({"exchange":"amq.direct","routing_key":")" +
                         unique_name("nowhere") + R"(","body":"lost?"})");
  CHECK((why.find("unroutable") != std::string::npos ||
         why.find("NO_ROUTE") != std::string::npos));
}

TEST_CASE("a publish to a missing exchange fails clearly and the next publish works") {
  auto c = writer();
  auto why = refused(*c, "publish_message",
                     R"({"exchange":")" + unique_name("missing") +
                         R"(","routing_key":"x","body":"b"})");
  CHECK(why.find("NOT_FOUND") != std::string::npos);
  auto queue = unique_name("after");
  ok(*c, "create_queue", R"({"name":)" + q(queue) + R"(,"durable":false})");
  ok(*c, "publish_message", R"({"routing_key":)" + q(queue) + R"(,"body":"fine"})");
  auto got =
      ok(*c, "get_messages", R"({"queue":)" + q(queue) + R"(,"ack_mode":"ack"})");
  CHECK(got.string_at("/result/structuredContent/messages/0/body") == "fine");
  ok(*c, "delete_queue", R"({"name":)" + q(queue) + R"(,"force":true})");
}

TEST_CASE("write arguments are validated before any call, naming the field") {
  auto c = writer();
  auto long_name = std::string(300, 'n');
  auto r = c->call_tool("create_queue", R"({"name":")" + long_name + "\"}");
  REQUIRE(r);
  CHECK(r->error_code() == -32602);
  CHECK(r->error_message().find("name") != std::string::npos);
  auto t = c->call_tool("create_exchange", R"({"name":"x","type":"weird"})");
  REQUIRE(t);
  CHECK(t->error_code() == -32602);
  CHECK(t->error_message().find("type") != std::string::npos);
}

TEST_CASE("create_queue declares a quorum queue with its arguments") {
  auto c = writer();
  auto queue = unique_name("quorum");
  ok(*c, "create_queue",
     R"({"name":)" + q(queue) + R"(,"queue_type":"quorum","message_ttl_ms":60000})");
  auto r = ok(*c, "get_queue", R"({"name":)" + q(queue) + "}");
  CHECK(r.string_at("/result/structuredContent/type") == "quorum");
  auto ttl = r.at("/result/structuredContent/arguments/x-message-ttl");
  REQUIRE(ttl != nullptr);
  CHECK(ttl->GetInt() == 60000);
  ok(*c, "delete_queue", R"({"name":)" + q(queue) + R"(,"force":true})");
}

TEST_CASE("get_messages with reject_drop removes what it took, and needs writes") {
  auto queue = unique_name("drop");
  {
    auto reader = launch();
    warren::e2e::initialized(*reader);
    auto r = reader->call_tool("get_messages", R"({"queue":)" + q(queue) +
                                                   R"(,"ack_mode":"reject_drop"})");
    REQUIRE(r);
    CHECK(r->error_code() == -32602);
    CHECK(r->error_message().find("ack_mode") != std::string::npos);
  }
  auto c = writer();
  ok(*c, "create_queue", R"({"name":)" + q(queue) + R"(,"durable":false})");
  ok(*c, "publish_message", R"({"routing_key":)" + q(queue) + R"(,"body":"gone"})");
  auto dropped = ok(*c, "get_messages",
                    R"({"queue":)" + q(queue) + R"(,"ack_mode":"reject_drop"})");
  CHECK(dropped.string_at("/result/structuredContent/messages/0/body") == "gone");
  auto after = ok(*c, "get_messages", R"({"queue":)" + q(queue) + "}");
  CHECK(after.at("/result/structuredContent/messages")->Size() == 0);
  ok(*c, "delete_queue", R"({"name":)" + q(queue) + R"(,"force":true})");
}
