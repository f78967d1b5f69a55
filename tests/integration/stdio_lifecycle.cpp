// End-to-end: the MCP lifecycle of `warren serve` over stdio (initialize, version
// negotiation, ping, the initialized notification, logging, cancellation, shutdown on
// stdin EOF), driven through the real binary.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/integration/launch.hpp"
#include "tests/kit/broker_env.hpp"
#include "tests/kit/mcp_client.hpp"
#include "tests/kit/tcp_listener.hpp"

using namespace std::chrono_literals;
using warren::json_message;
using warren::mcp_client;
using warren::e2e::diagnostics;
using warren::e2e::initialized;
using warren::e2e::launch;

namespace {

bool is_empty_object(const rapidjson::Value* v) {
  return v != nullptr && v->IsObject() && v->MemberCount() == 0;
}

} // namespace

TEST_CASE("initialize answers with protocol version, capabilities, server info and "
          "instructions") {
  auto c = launch();
  auto r = initialized(*c);
  CHECK(r.string_at("/jsonrpc") == "2.0");
  CHECK(r.id_json() == "1");
  CHECK(r.string_at("/result/protocolVersion") == "2025-11-25");
  auto* tools = r.at("/result/capabilities/tools");
  CHECK_MESSAGE((tools != nullptr && tools->IsObject()), r.text());
  CHECK_MESSAGE(is_empty_object(r.at("/result/capabilities/logging")), r.text());
  CHECK(r.string_at("/result/serverInfo/name") == "warren");
  auto version = r.string_at("/result/serverInfo/version");
  REQUIRE_MESSAGE(version, r.text());
  CHECK_FALSE(version->empty());
  auto instructions = r.string_at("/result/instructions");
  REQUIRE_MESSAGE(instructions, r.text());
  CHECK_FALSE(instructions->empty());
}

TEST_CASE("initialize echoes every supported protocol version") {
  for (std::string version : {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}) {
    CAPTURE(version);
    auto c = launch();
    auto r = initialized(*c, version);
    CHECK(r.string_at("/result/protocolVersion") == version);
  }
}

TEST_CASE("initialize with an unknown protocol version is answered with the latest") {
  auto c = launch();
  auto r = initialized(*c, "1999-01-01");
  CHECK(r.string_at("/result/protocolVersion") == "2025-11-25");
}

TEST_CASE("ping answers an empty result before and after initialize") {
  auto c = launch();
  auto before = c->request("ping");
  REQUIRE_MESSAGE(before, diagnostics(*c));
  CHECK_MESSAGE(is_empty_object(before->result()), before->text());
  initialized(*c);
  auto after = c->request("ping");
  REQUIRE_MESSAGE(after, diagnostics(*c));
  CHECK_MESSAGE(is_empty_object(after->result()), after->text());
}

TEST_CASE("tools/list and tools/call before initialize are refused as invalid "
          "requests") {
  auto c = launch();
  auto list = c->request("tools/list", "{}");
  REQUIRE_MESSAGE(list, diagnostics(*c));
  CHECK_MESSAGE(list->error_code() == -32600, list->text());
  auto call = c->call_tool("list_queues", "{}");
  REQUIRE_MESSAGE(call, diagnostics(*c));
  CHECK_MESSAGE(call->error_code() == -32600, call->text());
  // The refusals leave the session usable.
  initialized(*c);
  auto later = c->request("tools/list", "{}");
  REQUIRE_MESSAGE(later, diagnostics(*c));
  CHECK_MESSAGE(later->at("/result/tools") != nullptr, later->text());
}

TEST_CASE("notifications/initialized gets no response") {
  auto c = launch();
  auto r = c->initialize("2025-11-25", false);
  REQUIRE_MESSAGE(r, diagnostics(*c));
  REQUIRE(c->send_notification("notifications/initialized"));
  auto ping = c->send_request("ping");
  // The first response after the notification must be the ping's.
  for (;;) {
    auto msg = c->next_message();
    REQUIRE_MESSAGE(msg, "no answer to ping; " << diagnostics(*c));
    if (msg->is_notification())
      continue;
    CHECK_MESSAGE(msg->id_json() == std::to_string(ping), msg->text());
    break;
  }
}

TEST_CASE("logging/setLevel accepts a valid level with an empty result") {
  auto c = launch();
  initialized(*c);
  auto r = c->request("logging/setLevel", R"({"level":"debug"})");
  REQUIRE_MESSAGE(r, diagnostics(*c));
  CHECK_MESSAGE(is_empty_object(r->result()), r->text());
}

TEST_CASE("logging/setLevel refuses an invalid level with -32602") {
  auto c = launch();
  initialized(*c);
  auto r = c->request("logging/setLevel", R"({"level":"loud"})");
  REQUIRE_MESSAGE(r, diagnostics(*c));
  CHECK_MESSAGE(r->error_code() == -32602, r->text());
}

TEST_CASE("a cancelled in-flight request is never answered") {
  warren::tcp_listener silent{warren::tcp_listener::fault::never_answer};
  auto c = warren::e2e::launch_against_port(silent.port());
  initialized(*c);
  // Both lines in one write: the call is surely still waiting on the silent backend
  // when the cancellation arrives.
  REQUIRE(c->process().write_lines(
      {R"({"jsonrpc":"2.0","id":9001,"method":"tools/call",)"
       R"("params":{"name":"list_queues","arguments":{}}})",
       R"({"jsonrpc":"2.0","method":"notifications/cancelled",)"
       R"("params":{"requestId":9001,"reason":"test gives up"}})"}));
  auto ping = c->request("ping");
  REQUIRE_MESSAGE(ping,
                  "ping after the cancellation got no answer; " << diagnostics(*c));
  CHECK_MESSAGE(is_empty_object(ping->result()), ping->text());
  // Give a late answer a chance to show up, then read everything up to EOF.
  auto late = c->await_id("9001", 1s);
  CHECK_MESSAGE(!late, "the cancelled request was answered: " << late->text());
  c->close_stdin();
  CHECK_MESSAGE(c->drain_until_eof(15s),
                "stdout stayed open after stdin EOF; " << diagnostics(*c));
  auto at_exit = c->await_id("9001", 0ms);
  CHECK_MESSAGE(!at_exit,
                "the cancelled request was answered at shutdown: " << at_exit->text());
  CHECK(c->process().wait(5s) == 0);
}

TEST_CASE("stdin EOF ends the process with exit code 0") {
  auto c = launch();
  initialized(*c);
  c->close_stdin();
  auto code = c->process().wait(5s);
  REQUIRE_MESSAGE(code, "warren still runs 5 s after stdin EOF; " << diagnostics(*c));
  CHECK(*code == 0);
}

TEST_CASE("stdin EOF with a request in flight still exits 0 and leaves the request "
          "answered or cancelled") {
  warren::tcp_listener silent{warren::tcp_listener::fault::never_answer};
  auto c = warren::e2e::launch_against_port(silent.port());
  initialized(*c);
  auto id = c->send_request("tools/call", R"({"name":"list_queues","arguments":{}})");
  c->close_stdin();
  CHECK_MESSAGE(c->drain_until_eof(15s),
                "stdout stayed open after stdin EOF; " << diagnostics(*c));
  auto code = c->process().wait(5s);
  REQUIRE_MESSAGE(code, "warren still runs after stdin EOF; " << diagnostics(*c));
  CHECK(*code == 0);
  // If it was answered, the answer is a well-formed response for that id.
  if (auto r = c->await_id(std::to_string(id), 0ms))
    CHECK_MESSAGE((r->result() != nullptr || r->error_code().has_value()), r->text());
  CHECK(c->non_json_lines().empty());
}

TEST_CASE("stdin EOF right after a tool call against the broker exits 0") {
  auto broker = warren::load_broker_env();
  REQUIRE_MESSAGE(broker, "no test broker: set WARREN_TEST_BROKER_ENV");
  auto c = launch();
  initialized(*c);
  auto id = c->send_request("tools/call", R"({"name":"list_queues","arguments":{}})");
  c->close_stdin();
  CHECK(c->drain_until_eof(15s));
  auto code = c->process().wait(5s);
  REQUIRE_MESSAGE(code, "warren still runs after stdin EOF; " << diagnostics(*c));
  CHECK(*code == 0);
  if (auto r = c->await_id(std::to_string(id), 0ms))
    CHECK_MESSAGE((r->result() != nullptr || r->error_code().has_value()), r->text());
}

TEST_CASE("stdout carries only JSON-RPC messages") {
  auto c = launch();
  initialized(*c);
  c->request("logging/setLevel", R"({"level":"debug"})");
  c->request("tools/list", "{}");
  c->call_tool("list_queues", "{}");
  c->call_tool("get_queue", R"({"name":"warren-e2e-surely-missing"})");
  c->send_raw("this is not json");
  c->request("no/such/method");
  c->request("ping");
  c->close_stdin();
  CHECK(c->drain_until_eof(15s));
  CHECK_MESSAGE(c->non_json_lines().empty(),
                "first non-JSON stdout line: " << c->non_json_lines().front());
  REQUIRE_FALSE(c->all_messages().empty());
  for (const auto& msg : c->all_messages()) {
    CAPTURE(msg.text());
    CHECK(msg.string_at("/jsonrpc") == "2.0");
    CHECK((msg.is_response() || msg.is_notification()));
  }
}
