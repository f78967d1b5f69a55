#include "runtime/http_client.hpp"

#include <chrono>
#include <optional>
#include <string>

#include <doctest/doctest.h>

#include "protocol/error.hpp"
#include "tests/kit/broker_env.hpp"
#include "tests/kit/tcp_listener.hpp"

using namespace std::chrono_literals;
using warren::ec;
using warren::http_client;
using warren::http_request;
using warren::tcp_listener;

namespace {

using clock_type = std::chrono::steady_clock;

warren::broker_env require_broker() {
  auto env = warren::load_broker_env();
  if (!env)
    FAIL("no broker: run scripts/local-broker start DIR and set "
         "WARREN_TEST_BROKER_ENV=DIR/env (ctest's broker fixture does this)");
  return *env;
}

http_client broker_client(const warren::broker_env& env,
                          const std::string& password = {}) {
  return http_client{env.management_endpoint(), env.user,
                     password.empty() ? env.password : password, 5s};
}

http_client loopback_client(uint16_t port, const std::string& password = "guest") {
  return http_client{warren::http_endpoint{"127.0.0.1", port, ""}, "guest", password,
                     2s};
}

http_request get(std::string target) {
  return http_request{"GET", std::move(target), ""};
}

} // namespace

TEST_CASE("http client: GET /api/overview answers 200 with the broker's JSON") {
  auto env = require_broker();
  auto client = broker_client(env);
  auto res = client.send(get("/api/overview"), 10s);
  REQUIRE_MESSAGE(res, warren::message_of(res.error()));
  CHECK(res->status == 200);
  REQUIRE_FALSE(res->body.empty());
  CHECK(res->body.front() == '{');
  CHECK(res->body.find("\"rabbitmq_version\"") != std::string::npos);
  CHECK(client.connected());
}

TEST_CASE("http client: 50 requests reuse one kept-alive connection") {
  auto env = require_broker();
  auto client = broker_client(env);
  for (int i = 0; i < 50; ++i) {
    auto res = client.send(get("/api/overview"), 10s);
    REQUIRE_MESSAGE(res, warren::message_of(res.error()));
    REQUIRE(res->status == 200);
  }
  CHECK(client.connects() == 1);
  CHECK(client.requests() == 50);
  CHECK(client.connected());
}

TEST_CASE("http client: a queue is created, read and deleted with 201, 200, 204") {
  auto env = require_broker();
  auto client = broker_client(env);
  const std::string queue = "/api/queues/%2F/warren-http-client-test";
  // A leftover from an earlier run would turn the 201 into a 204.
  auto cleanup = client.send(http_request{"DELETE", queue, ""}, 10s);
  REQUIRE_MESSAGE(cleanup, warren::message_of(cleanup.error()));

  auto put = client.send(
      http_request{"PUT", queue, R"({"durable":false,"auto_delete":false})"}, 10s);
  REQUIRE_MESSAGE(put, warren::message_of(put.error()));
  CHECK(put->status == 201);

  auto read = client.send(get(queue), 10s);
  REQUIRE_MESSAGE(read, warren::message_of(read.error()));
  CHECK(read->status == 200);
  CHECK(read->body.find("\"warren-http-client-test\"") != std::string::npos);

  auto del = client.send(http_request{"DELETE", queue, ""}, 10s);
  REQUIRE_MESSAGE(del, warren::message_of(del.error()));
  CHECK(del->status == 204);

  auto gone = client.send(get(queue), 10s);
  REQUIRE_MESSAGE(gone, warren::message_of(gone.error()));
  CHECK(gone->status == 404);
  CHECK(client.connects() == 1);
}

TEST_CASE("http client: a missing queue is a 404 status, not an error") {
  auto env = require_broker();
  auto client = broker_client(env);
  auto res = client.send(get("/api/queues/%2F/warren-no-such-queue"), 10s);
  REQUIRE_MESSAGE(res, warren::message_of(res.error()));
  CHECK(res->status == 404);
  CHECK(res->body.find("Object Not Found") != std::string::npos);
}

TEST_CASE("http client: a wrong password is a 401 status, not an error") {
  auto env = require_broker();
  auto client = broker_client(env, "not-the-password");
  auto res = client.send(get("/api/overview"), 10s);
  REQUIRE_MESSAGE(res, warren::message_of(res.error()));
  CHECK(res->status == 401);
}

TEST_CASE("http client: a refused port is backend_unreachable, quickly, without the "
          "password in the message") {
  auto port = warren::closed_port();
  auto client = loopback_client(port, "s3cret-pw");
  auto start = clock_type::now();
  auto res = client.send(get("/api/overview"), 10s);
  auto took = clock_type::now() - start;
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::backend_unreachable);
  auto msg = warren::message_of(res.error());
  CHECK(msg.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(msg.find("connection refused") != std::string::npos);
  CHECK(msg.find("s3cret-pw") == std::string::npos);
  CHECK(took < 5s);
  CHECK_FALSE(client.connected());
  CHECK(client.connects() == 0);
}

TEST_CASE("http client: a server that never answers is backend_timeout and the "
          "connection is closed (fault injected by a fake server)") {
  tcp_listener server{tcp_listener::fault::never_answer};
  auto client = loopback_client(server.port(), "s3cret-pw");
  auto start = clock_type::now();
  auto res = client.send(get("/api/overview"), 300ms);
  auto took = clock_type::now() - start;
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::backend_timeout);
  auto msg = warren::message_of(res.error());
  CHECK(msg.find("did not answer within 300 ms") != std::string::npos);
  CHECK(msg.find("s3cret-pw") == std::string::npos);
  CHECK(took < 10s); // it returned, bounded by the deadline
  CHECK_FALSE(client.connected());
}

TEST_CASE("http client: a server that never accepts is backend_timeout after the "
          "connect timeout (fault injected by a fake server)") {
  tcp_listener server{tcp_listener::fault::never_accept};
  http_client client{warren::http_endpoint{"127.0.0.1", server.port(), ""}, "guest",
                     "guest", 300ms};
  auto start = clock_type::now();
  auto res = client.send(get("/api/overview"), 10s);
  auto took = clock_type::now() - start;
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::backend_timeout);
  CHECK(warren::message_of(res.error()).find("did not accept a connection within") !=
        std::string::npos);
  CHECK(took < 5s); // the connect timeout, not the request's 10 s, bounded it
  CHECK(client.connects() == 0);
  CHECK_FALSE(client.connected());
}

TEST_CASE("http client: a server that closed the idle connection is reconnected "
          "transparently (fault injected by a fake server)") {
  tcp_listener server{tcp_listener::fault::answer_then_close};
  auto client = loopback_client(server.port());
  auto first = client.send(get("/api/overview"), 5s);
  REQUIRE_MESSAGE(first, warren::message_of(first.error()));
  CHECK(first->status == 200);
  REQUIRE(client.connected()); // the answer said keep-alive
  auto second = client.send(get("/api/overview"), 5s);
  REQUIRE_MESSAGE(second, warren::message_of(second.error()));
  CHECK(second->status == 200);
  CHECK(second->body == "{}");
  CHECK(client.connects() == 2);
  CHECK(server.accepted() == 2);
}

TEST_CASE("http client: a fresh connection closed without an answer is not resent "
          "(fault injected by a fake server)") {
  tcp_listener server{tcp_listener::fault::close_without_answer};
  auto client = loopback_client(server.port());
  auto res = client.send(get("/api/overview"), 5s);
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::backend_unreachable);
  CHECK(client.connects() == 1);
  CHECK(client.requests() == 1);
}

TEST_CASE("http client: an answer cut off midway is not resent (fault injected by a "
          "fake server)") {
  tcp_listener server{tcp_listener::fault::truncate_second_answer};
  auto client = loopback_client(server.port());
  auto first = client.send(get("/api/overview"), 5s);
  REQUIRE_MESSAGE(first, warren::message_of(first.error()));
  auto second = client.send(get("/api/overview"), 5s);
  REQUIRE_FALSE(second);
  CHECK(warren::code_of(second.error()) == ec::backend_unreachable);
  CHECK(warren::message_of(second.error()).find("middle of its answer") !=
        std::string::npos);
  CHECK(client.connects() == 1);
  CHECK(client.requests() == 2);
  CHECK_FALSE(client.connected());
}

TEST_CASE("http client: a garbage answer is backend_protocol (fault injected by a fake "
          "server)") {
  tcp_listener server{tcp_listener::fault::answer_garbage};
  auto client = loopback_client(server.port(), "s3cret-pw");
  auto res = client.send(get("/api/overview"), 5s);
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::backend_protocol);
  CHECK(warren::message_of(res.error()).find("s3cret-pw") == std::string::npos);
  CHECK_FALSE(client.connected());
}

TEST_CASE("http client: an answer above 64 MiB is backend_protocol (fault injected by "
          "a fake server)") {
  tcp_listener server{tcp_listener::fault::answer_oversized};
  auto client = loopback_client(server.port());
  auto res = client.send(get("/api/queues"), 5s);
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::backend_protocol);
  CHECK(warren::message_of(res.error()).find("exceeds 64 MiB") != std::string::npos);
  CHECK_FALSE(client.connected());
}

TEST_CASE("http client: an answer with Connection: close closes the connection (fault "
          "injected by a fake server)") {
  tcp_listener server{tcp_listener::fault::answer_connection_close};
  auto client = loopback_client(server.port());
  auto res = client.send(get("/api/overview"), 5s);
  REQUIRE_MESSAGE(res, warren::message_of(res.error()));
  CHECK(res->status == 200);
  CHECK_FALSE(client.connected());
  auto again = client.send(get("/api/overview"), 5s);
  REQUIRE_MESSAGE(again, warren::message_of(again.error()));
  CHECK(client.connects() == 2);
}

TEST_CASE("http client: the test kit's mgmt_call reaches the broker") {
  auto env = require_broker();
  std::string body;
  CHECK(warren::mgmt_call(env, "GET", "/api/vhosts", {}, &body) == 200);
  CHECK(body.find("\"name\":\"/\"") != std::string::npos);
}
