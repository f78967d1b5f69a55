// End-to-end: how `warren serve` answers lines that are not valid requests, and that
// such lines never disturb the rest of the session.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/integration/launch.hpp"
#include "tests/kit/broker_env.hpp"
#include "tests/kit/mcp_client.hpp"

using namespace std::chrono_literals;
using warren::json_message;
using warren::mcp_client;
using warren::e2e::diagnostics;
using warren::e2e::launch;

namespace {

// The next response (notifications skipped).
json_message next_response(mcp_client& c) {
  for (;;) {
    auto msg = c.next_message();
    REQUIRE_MESSAGE(msg, "no response; " << diagnostics(c));
    if (!msg->is_notification())
      return *msg;
  }
}

void check_ping_answered(mcp_client& c) {
  auto ping = c.request("ping");
  REQUIRE_MESSAGE(ping, "the session stopped serving; " << diagnostics(c));
  auto* result = ping->result();
  CHECK_MESSAGE((result != nullptr && result->IsObject()), ping->text());
}

} // namespace

TEST_CASE("a line that is not JSON gets -32700 with a null id") {
  auto c = launch();
  warren::e2e::initialized(*c);
  REQUIRE(c->send_raw(R"({"jsonrpc":"2.0","id":5,"method":"ping")"));
  auto r = c->await_id("null");
  REQUIRE_MESSAGE(r, "no error response with id null; " << diagnostics(*c));
  CHECK_MESSAGE(r->error_code() == -32700, r->text());
  CHECK_FALSE(r->error_message().empty());
  check_ping_answered(*c);
}

TEST_CASE("a batch array is refused with -32600") {
  auto c = launch();
  warren::e2e::initialized(*c);
  REQUIRE(c->send_raw(R"([{"jsonrpc":"2.0","id":41,"method":"ping"},)"
                      R"({"jsonrpc":"2.0","id":42,"method":"ping"}])"));
  auto r = next_response(*c);
  CHECK_MESSAGE(r.error_code() == -32600, r.text());
  CHECK_MESSAGE(r.id_json() == "null", r.text());
  // None of the batched pings is executed.
  check_ping_answered(*c);
  CHECK_FALSE(c->await_id("41", 0ms));
  CHECK_FALSE(c->await_id("42", 0ms));
}

TEST_CASE("a request without a method is refused with -32600") {
  auto c = launch();
  warren::e2e::initialized(*c);
  REQUIRE(c->send_raw(R"({"jsonrpc":"2.0","id":1})"));
  auto r = next_response(*c);
  CHECK_MESSAGE(r.error_code() == -32600, r.text());
  // The id could be read, so it may be echoed; anything else must be null.
  CHECK_MESSAGE((r.id_json() == "1" || r.id_json() == "null"), r.text());
  check_ping_answered(*c);
}

TEST_CASE("a request with a jsonrpc version other than 2.0 is refused with -32600") {
  auto c = launch();
  warren::e2e::initialized(*c);
  REQUIRE(c->send_raw(R"({"jsonrpc":"1.0","id":8,"method":"ping"})"));
  auto r = next_response(*c);
  CHECK_MESSAGE(r.error_code() == -32600, r.text());
  check_ping_answered(*c);
}

TEST_CASE("an unknown method gets -32601 with the request's id") {
  auto c = launch();
  warren::e2e::initialized(*c);
  auto r = c->request("server/discover", "{}");
  REQUIRE_MESSAGE(r, diagnostics(*c));
  CHECK_MESSAGE(r->error_code() == -32601, r->text());
  CHECK_MESSAGE(r->error_message().find("server/discover") != std::string::npos,
                r->text());
  // String ids are echoed as strings.
  REQUIRE(c->send_raw(R"({"jsonrpc":"2.0","id":"abc","method":"no/such"})"));
  auto s = c->await_id(R"("abc")");
  REQUIRE_MESSAGE(s, diagnostics(*c));
  CHECK_MESSAGE(s->error_code() == -32601, s->text());
}

TEST_CASE("a line above --max-line-bytes is refused with -32600 and the session keeps "
          "serving") {
  auto c = launch({"--max-line-bytes", "1024"});
  warren::e2e::initialized(*c);
  std::string prefix = R"({"jsonrpc":"2.0","id":77,"method":"ping","params":{"pad":")";
  std::string suffix = R"("}})";
  std::string line =
      prefix + std::string(5000 - prefix.size() - suffix.size(), 'x') + suffix;
  REQUIRE(line.size() == 5000);
  REQUIRE(c->send_raw(line));
  auto r = c->await_id("null");
  REQUIRE_MESSAGE(r, "no error response with id null; " << diagnostics(*c));
  CHECK_MESSAGE(r->error_code() == -32600, r->text());
  check_ping_answered(*c);
  // The oversized request itself was not executed.
  CHECK_FALSE(c->await_id("77", 0ms));
}

TEST_CASE("a malformed line between two requests does not disturb either") {
  auto c = launch();
  warren::e2e::initialized(*c);
  REQUIRE(c->process().write_lines(
      {R"({"jsonrpc":"2.0","id":101,"method":"ping"})",
       R"({"jsonrpc": "2.0", "id": 102, "meth)",
       R"({"jsonrpc":"2.0","id":103,"method":"tools/list"})"}));
  auto first = c->await_id("101");
  REQUIRE_MESSAGE(first, diagnostics(*c));
  auto* ping_result = first->result();
  CHECK_MESSAGE((ping_result != nullptr && ping_result->IsObject() &&
                 ping_result->MemberCount() == 0),
                first->text());
  auto garbage = c->await_id("null");
  REQUIRE_MESSAGE(garbage, diagnostics(*c));
  CHECK_MESSAGE(garbage->error_code() == -32700, garbage->text());
  auto second = c->await_id("103");
  REQUIRE_MESSAGE(second, diagnostics(*c));
  auto* tools = second->at("/result/tools");
  CHECK_MESSAGE((tools != nullptr && tools->IsArray() && !tools->Empty()),
                second->text());
}

TEST_CASE("tools/call with params that are not an object is refused with -32602") {
  auto c = launch();
  warren::e2e::initialized(*c);
  auto r = c->request("tools/call", R"(["list_queues"])");
  REQUIRE_MESSAGE(r, diagnostics(*c));
  // JSON-RPC allows array params in general, but tools/call defines an object.
  CHECK_MESSAGE((r->error_code() == -32602 || r->error_code() == -32600), r->text());
  check_ping_answered(*c);
}

TEST_CASE("an empty line and whitespace are ignored or refused, never fatal") {
  auto c = launch();
  warren::e2e::initialized(*c);
  REQUIRE(c->send_raw(""));
  REQUIRE(c->send_raw("   "));
  check_ping_answered(*c);
  CHECK(c->non_json_lines().empty());
}
