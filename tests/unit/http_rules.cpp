#include "protocol/http_rules.hpp"

#include <doctest/doctest.h>

using namespace warren;
using namespace std::chrono_literals;

TEST_CASE("http rules: a loopback listener accepts every loopback name on its port, "
          "and nothing else") {
  auto allowed = default_allow_list("127.0.0.1", 8765);
  CHECK(host_allowed(allowed, "127.0.0.1:8765"));
  CHECK(host_allowed(allowed, "LocalHost:8765"));
  CHECK(host_allowed(allowed, "[::1]:8765"));
  CHECK_FALSE(host_allowed(allowed, "127.0.0.1:8766"));
  CHECK_FALSE(host_allowed(allowed, "evil.example:8765")); // DNS rebinding
  CHECK_FALSE(host_allowed(allowed, ""));
  CHECK(origin_allowed(allowed, std::nullopt)); // not a browser
  CHECK(origin_allowed(allowed, "http://localhost:8765"));
  CHECK_FALSE(origin_allowed(allowed, "http://evil.example"));
  CHECK_FALSE(origin_allowed(allowed, "null"));
}

TEST_CASE("http rules: another address allows only itself") {
  auto allowed = default_allow_list("10.1.2.3", 80);
  CHECK(host_allowed(allowed, "10.1.2.3:80"));
  CHECK_FALSE(host_allowed(allowed, "localhost:80"));
  auto v6 = default_allow_list("::1", 9000);
  CHECK(host_allowed(v6, "[::1]:9000"));
  CHECK(host_allowed(v6, "127.0.0.1:9000"));
}

TEST_CASE("http rules: loopback hosts") {
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("127.5.0.9"));
  CHECK(is_loopback_host("localhost"));
  CHECK(is_loopback_host("[::1]"));
  CHECK_FALSE(is_loopback_host("0.0.0.0"));
  CHECK_FALSE(is_loopback_host("10.0.0.1"));
  CHECK_FALSE(is_loopback_host("localhost.example"));
}

TEST_CASE("http rules: MCP-Protocol-Version is checked when present") {
  CHECK_FALSE(check_protocol_version(std::nullopt));
  CHECK_FALSE(check_protocol_version("2025-11-25"));
  CHECK_FALSE(check_protocol_version("2025-03-26"));
  auto bad = check_protocol_version("2099-01-01");
  CHECK(bad.status == 400);
  CHECK(bad.message.find("2099-01-01") != std::string::npos);
  CHECK(bad.message.find("2025-11-25") != std::string::npos);
  CHECK(check_protocol_version("not-a-version").status == 400);
}

TEST_CASE(
    "http rules: Accept admits a type listed, by family or wildcard, unless q=0") {
  CHECK(accepts("application/json, text/event-stream", "text/event-stream"));
  CHECK(accepts("application/json, text/event-stream", "application/json"));
  CHECK(accepts("application/*", "application/json"));
  CHECK(accepts("*/*", "text/event-stream"));
  CHECK(accepts(std::nullopt, "application/json"));
  CHECK_FALSE(accepts("application/json", "text/event-stream"));
  CHECK_FALSE(accepts("text/event-stream;q=0, application/json", "text/event-stream"));
  CHECK(accepts("Text/Event-Stream; q=0.5", "text/event-stream"));
}

TEST_CASE("http rules: the bearer token must match exactly") {
  CHECK(bearer_matches("Bearer s3cret", "s3cret"));
  CHECK(bearer_matches("bearer   s3cret ", "s3cret"));
  CHECK_FALSE(bearer_matches("Bearer s3cre", "s3cret"));
  CHECK_FALSE(bearer_matches("Bearer s3cret2", "s3cret"));
  CHECK_FALSE(bearer_matches("Basic s3cret", "s3cret"));
  CHECK_FALSE(bearer_matches(std::nullopt, "s3cret"));
  CHECK_FALSE(bearer_matches("Bearer ", ""));
}

TEST_CASE("http rules: session ids are visible ASCII, at most 128 characters") {
  CHECK(valid_session_id("0f3a9c"));
  CHECK_FALSE(valid_session_id(""));
  CHECK_FALSE(valid_session_id("has space"));
  CHECK_FALSE(valid_session_id(std::string(129, 'a')));
}

TEST_CASE("http rules: a token bucket allows its burst, then its rate") {
  token_bucket bucket{2.0, 3.0};
  auto t0 = token_bucket::time_point{} + 1h;
  CHECK(bucket.take(t0));
  CHECK(bucket.take(t0));
  CHECK(bucket.take(t0));
  CHECK_FALSE(bucket.take(t0));
  CHECK(bucket.seconds_until_next(t0) == 1);
  CHECK(bucket.take(t0 + 500ms)); // one token back after half a second
  CHECK_FALSE(bucket.take(t0 + 500ms));
  CHECK(bucket.take(t0 + 10s)); // refills to the burst, not beyond
  CHECK(bucket.take(t0 + 10s));
  CHECK(bucket.take(t0 + 10s));
  CHECK_FALSE(bucket.take(t0 + 10s));
}

TEST_CASE("http rules: a refusal's body is a JSON-RPC error without id") {
  http_refusal r{403, -32600, "origin \"x\" not allowed", 0};
  CHECK(
      refusal_body(r) ==
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"origin \"x\" not allowed"}})");
}
