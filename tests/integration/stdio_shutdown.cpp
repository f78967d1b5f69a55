// Ordered shutdown on signals, backpressure, a broker that is down, and the command
// line, seen from outside the real binary.

#include <csignal>

#include <doctest/doctest.h>

#include "tests/integration/launch.hpp"
#include "tests/kit/mcp_client.hpp"
#include "tests/kit/subprocess.hpp"
#include "tests/kit/tcp_listener.hpp"

using namespace std::chrono_literals;
using warren::mcp_client;
using warren::mcp_client_options;
using warren::e2e::launch_against_port;

namespace {

std::string result_text(const warren::json_message& msg) {
  auto text = msg.string_at("/result/content/0/text");
  return text ? *text : "";
}

bool is_error_result(const warren::json_message& msg) {
  auto flag = msg.at("/result/isError");
  return flag != nullptr && flag->IsBool() && flag->GetBool();
}

} // namespace

TEST_CASE("SIGTERM on an idle session ends warren with exit code 0") {
  warren::tcp_listener silent{warren::tcp_listener::fault::never_answer};
  auto c = launch_against_port(silent.port());
  warren::e2e::initialized(*c);
  REQUIRE(c->request("ping"));
  REQUIRE(c->process().signal(SIGTERM));
  CHECK(c->process().wait(10s) == 0);
}

TEST_CASE("SIGTERM with a call stuck on the broker answers it with an error, then "
          "exits 0") {
  warren::tcp_listener silent{warren::tcp_listener::fault::never_answer};
  auto c = launch_against_port(silent.port(), {"--shutdown-grace-ms", "300"});
  warren::e2e::initialized(*c);
  auto id = c->send_request("tools/call", R"({"name":"list_queues","arguments":{}})");
  CHECK(!c->await_response(id, 300ms)); // it really is stuck
  REQUIRE(c->process().signal(SIGTERM));
  auto answer = c->await_response(id, 10s);
  REQUIRE_MESSAGE(answer, "the stuck call was dropped silently");
  CHECK(is_error_result(*answer));
  CHECK(result_text(*answer).find("shut down") != std::string::npos);
  CHECK(c->process().wait(10s) == 0);
}

TEST_CASE("with --max-in-flight 1 a ping waits behind a slow call instead of piling "
          "up") {
  warren::tcp_listener silent{warren::tcp_listener::fault::never_answer};
  auto c = launch_against_port(
      silent.port(), {"--max-in-flight", "1", "--request-timeout-ms", "1500"});
  warren::e2e::initialized(*c);
  auto call = c->send_request("tools/call", R"({"name":"overview","arguments":{}})");
  auto ping = c->send_request("ping");
  // warren does not even read the ping while the call holds the only credit.
  CHECK(!c->await_response(ping, 500ms));
  auto call_answer = c->await_response(call, 10s);
  REQUIRE(call_answer);
  CHECK(is_error_result(*call_answer));
  CHECK(result_text(*call_answer).find("did not answer") != std::string::npos);
  CHECK(c->await_response(ping, 10s));
}

TEST_CASE("a broker that is down gives a tool error that says so, and warren keeps "
          "serving") {
  auto c = launch_against_port(warren::closed_port());
  warren::e2e::initialized(*c);
  auto answer = c->call_tool("list_queues");
  REQUIRE(answer);
  CHECK(is_error_result(*answer));
  CHECK(result_text(*answer).find("cannot reach") != std::string::npos);
  CHECK(result_text(*answer).find("guest") == std::string::npos);
  CHECK(c->request("ping"));
}

TEST_CASE("warren config check names the offending key and exits 2") {
  auto p = warren::subprocess::spawn({warren::warren_binary_path(WARREN_BINARY),
                                      "config", "check", "--http-pool-min", "60"});
  REQUIRE(p);
  auto code = (*p)->wait(10s);
  CHECK(code == 2);
  CHECK((*p)->stderr_text().find("http_pool.min") != std::string::npos);
}

TEST_CASE("warren config check accepts good settings and hides the password") {
  auto p = warren::subprocess::spawn(
      {warren::warren_binary_path(WARREN_BINARY), "config", "check"},
      {"RABBITMQ_PASSWORD=s3cret-pass"});
  REQUIRE(p);
  std::string out;
  while (auto line = (*p)->read_line(5s))
    out += *line + "\n";
  CHECK((*p)->wait(10s) == 0);
  CHECK(out.find("config ok") != std::string::npos);
  CHECK(out.find("s3cret-pass") == std::string::npos);
}

TEST_CASE("warren serve --help describes the options and exits 0") {
  auto p = warren::subprocess::spawn(
      {warren::warren_binary_path(WARREN_BINARY), "serve", "--help"});
  REQUIRE(p);
  std::string out;
  while (auto line = (*p)->read_line(5s))
    out += *line + "\n";
  CHECK((*p)->wait(10s) == 0);
  for (auto flag : {"--management-url", "--max-line-bytes", "--max-in-flight",
                    "--http-pool-max", "--request-timeout-ms"})
    CHECK(out.find(flag) != std::string::npos);
}
