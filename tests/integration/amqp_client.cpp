#include "runtime/amqp_client.hpp"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "protocol/amqp_message.hpp"
#include "protocol/error.hpp"
#include "tests/kit/broker_env.hpp"
#include "tests/kit/tcp_listener.hpp"
#include "tests/kit/tcp_proxy.hpp"

using namespace std::chrono_literals;
using warren::ack_mode;
using warren::amqp_client;
using warren::amqp_confirm;
using warren::amqp_get;
using warren::amqp_publish;
using warren::amqp_response;
using warren::ec;
using warren::tcp_listener;
using warren::tcp_proxy;

namespace {

using clock_type = std::chrono::steady_clock;
using outcome = amqp_response::outcome;
using status = amqp_confirm::status;

warren::broker_env require_broker() {
  auto env = warren::load_broker_env();
  if (!env)
    FAIL("no broker: run scripts/local-broker start DIR and set "
         "WARREN_TEST_BROKER_ENV=DIR/env (ctest's broker fixture does this)");
  if (env->amqp_port == 0)
    FAIL("the broker env names no RABBITMQ_AMQP_PORT");
  return *env;
}

warren::amqp_endpoint broker_endpoint(const warren::broker_env& env) {
  warren::amqp_endpoint ep;
  ep.host = env.host;
  ep.port = env.amqp_port;
  ep.user = env.user;
  ep.password = env.password;
  return ep;
}

warren::amqp_endpoint loopback_endpoint(uint16_t port, const std::string& password) {
  warren::amqp_endpoint ep;
  ep.host = "127.0.0.1";
  ep.port = port;
  ep.password = password;
  ep.connect_timeout = 2s;
  return ep;
}

// A fresh, empty, non-durable queue in vhost "/", deleted when the test ends.
class scratch_queue {
public:
  scratch_queue(const warren::broker_env& env, std::string name)
      : env_(env), name_(std::move(name)) {
    warren::mgmt_call(env_, "DELETE", path());
    std::string body;
    auto status = warren::mgmt_call(env_, "PUT", path(),
                                    R"({"durable":false,"auto_delete":false})", &body);
    REQUIRE_MESSAGE(status == 201,
                    "creating queue " << name_ << ": " << status << " " << body);
  }
  ~scratch_queue() { warren::mgmt_call(env_, "DELETE", path()); }
  scratch_queue(const scratch_queue&) = delete;
  scratch_queue& operator=(const scratch_queue&) = delete;

  const std::string& name() const { return name_; }
  std::string path() const { return "/api/queues/%2F/" + name_; }

private:
  const warren::broker_env& env_;
  std::string name_;
};

amqp_publish to_queue(const std::string& queue, std::string body) {
  amqp_publish msg;
  msg.routing_key = queue;
  msg.body = std::move(body);
  return msg;
}

amqp_get take(const std::string& queue, uint32_t count, ack_mode mode) {
  amqp_get req;
  req.queue = queue;
  req.count = count;
  req.mode = mode;
  return req;
}

void publish_confirmed(amqp_client& client, const amqp_publish& msg) {
  auto res = client.publish(msg, 10s);
  REQUIRE_MESSAGE(res, warren::message_of(res.error()));
  REQUIRE(res->result == outcome::confirmed);
}

// After the broker closed only the channel: the connection is still up, and the next
// publish and get on it work.
void works_after_channel_close(amqp_client& client, const std::string& queue) {
  CHECK(client.connected());
  publish_confirmed(client, to_queue(queue, "after"));
  auto got = client.get(take(queue, 5, ack_mode::ack), 10s);
  REQUIRE_MESSAGE(got, warren::message_of(got.error()));
  REQUIRE(got->messages.size() == 1);
  CHECK(got->messages[0].body == "after");
}

// A batch answer for `n` messages, every one of them confirmed.
void check_all_confirmed(const caf::expected<amqp_response>& res, size_t n) {
  REQUIRE_MESSAGE(res, warren::message_of(res.error()));
  REQUIRE(res->confirms.size() == n);
  for (auto& c : res->confirms)
    CHECK(c.what == status::confirmed);
}

// The bodies of what `queue` holds (at most `most`), in order, taken off it.
std::vector<std::string> take_bodies(amqp_client& client, const std::string& queue,
                                     uint32_t most) {
  auto got = client.get(take(queue, most, ack_mode::ack), 10s);
  REQUIRE_MESSAGE(got, warren::message_of(got.error()));
  std::vector<std::string> bodies;
  for (auto& m : got->messages)
    bodies.push_back(m.body);
  return bodies;
}

// `n` messages to `queue` with bodies "0", "1", ... and message ids "<tag>-0", ...
std::vector<amqp_publish> numbered(const std::string& queue, int n,
                                   const std::string& tag) {
  std::vector<amqp_publish> batch;
  for (int i = 0; i < n; ++i) {
    batch.push_back(to_queue(queue, std::to_string(i)));
    batch.back().message_id = tag + "-" + std::to_string(i);
  }
  return batch;
}

const char* name_of(status s) {
  switch (s) {
  case status::confirmed:
    return "confirmed";
  case status::returned:
    return "returned";
  case status::nacked:
    return "nacked";
  case status::not_sent:
    return "not_sent";
  case status::unknown:
    return "unknown";
  }
  return "?";
}

// An endpoint that reaches the broker through `proxy`.
warren::amqp_endpoint proxied(const warren::broker_env& env, const tcp_proxy& proxy) {
  auto ep = broker_endpoint(env);
  ep.host = "127.0.0.1";
  ep.port = proxy.port();
  return ep;
}

} // namespace

TEST_CASE("amqp url: user, password, host and port are taken from an amqp:// URL") {
  auto ep = warren::parse_amqp_url("amqp://alice:p%40ss@broker.example:5673/%2f");
  REQUIRE_MESSAGE(ep, warren::message_of(ep.error()));
  CHECK(ep->host == "broker.example");
  CHECK(ep->port == 5673);
  CHECK(ep->user == "alice");
  CHECK(ep->password == "p@ss");

  auto defaults = warren::parse_amqp_url("amqp://localhost");
  REQUIRE_MESSAGE(defaults, warren::message_of(defaults.error()));
  CHECK(defaults->port == 5672);
  CHECK(defaults->user == "guest");
}

TEST_CASE("amqp url: amqps:// is refused as not supported yet") {
  auto ep = warren::parse_amqp_url("amqps://alice:s3cret-pw@broker.example/");
  REQUIRE_FALSE(ep);
  CHECK(warren::code_of(ep.error()) == ec::invalid_config);
  auto msg = warren::message_of(ep.error());
  CHECK(msg.find("not supported") != std::string::npos);
  CHECK(msg.find("s3cret-pw") == std::string::npos);
}

TEST_CASE("amqp url: a malformed URL is invalid_config without the password") {
  for (const char* url :
       {"amqp://alice:s3cret-pw@host:notaport/", "http://alice:s3cret-pw@host/",
        "amqp://alice:s3cret-pw@host:99999/"}) {
    auto ep = warren::parse_amqp_url(url);
    REQUIRE_FALSE(ep);
    CHECK(warren::code_of(ep.error()) == ec::invalid_config);
    CHECK(warren::message_of(ep.error()).find("s3cret-pw") == std::string::npos);
  }
}

TEST_CASE("amqp client: a publish through the default exchange is confirmed and the "
          "queue then holds it") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-publish-confirmed"};
  amqp_client client{broker_endpoint(env), "/"};
  CHECK_FALSE(client.connected()); // lazy: nothing happens before the first call
  publish_confirmed(client, to_queue(q.name(), "hello"));
  CHECK(client.connected());

  auto got = client.get(take(q.name(), 1, ack_mode::ack), 10s);
  REQUIRE_MESSAGE(got, warren::message_of(got.error()));
  CHECK(got->result == outcome::delivered);
  REQUIRE(got->messages.size() == 1);
  auto& m = got->messages[0];
  CHECK(m.body == "hello");
  CHECK(m.exchange == "");
  CHECK(m.routing_key == q.name());
  CHECK(m.message_count == 0);
  CHECK(m.delivery_mode == 2);
  CHECK_FALSE(m.redelivered);
}

TEST_CASE("amqp client: get with reject_requeue leaves the message, which comes back "
          "redelivered; ack then removes it") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-requeue"};
  amqp_client client{broker_endpoint(env), "/"};
  publish_confirmed(client, to_queue(q.name(), "peek me"));

  auto peek = client.get(take(q.name(), 1, ack_mode::reject_requeue), 10s);
  REQUIRE_MESSAGE(peek, warren::message_of(peek.error()));
  REQUIRE(peek->messages.size() == 1);
  CHECK(peek->messages[0].body == "peek me");
  CHECK_FALSE(peek->messages[0].redelivered);

  auto again = client.get(take(q.name(), 1, ack_mode::ack), 10s);
  REQUIRE_MESSAGE(again, warren::message_of(again.error()));
  REQUIRE(again->messages.size() == 1);
  CHECK(again->messages[0].body == "peek me");
  CHECK(again->messages[0].redelivered);

  auto empty = client.get(take(q.name(), 1, ack_mode::ack), 10s);
  REQUIRE_MESSAGE(empty, warren::message_of(empty.error()));
  CHECK(empty->result == outcome::delivered);
  CHECK(empty->messages.empty());
}

TEST_CASE("amqp client: get with reject_drop removes the messages") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-drop"};
  amqp_client client{broker_endpoint(env), "/"};
  publish_confirmed(client, to_queue(q.name(), "one"));
  publish_confirmed(client, to_queue(q.name(), "two"));

  auto dropped = client.get(take(q.name(), 2, ack_mode::reject_drop), 10s);
  REQUIRE_MESSAGE(dropped, warren::message_of(dropped.error()));
  REQUIRE(dropped->messages.size() == 2);
  CHECK(dropped->messages[0].body == "one");
  CHECK(dropped->messages[1].body == "two");
  CHECK(dropped->messages[0].message_count == 1);

  auto empty = client.get(take(q.name(), 5, ack_mode::reject_requeue), 10s);
  REQUIRE_MESSAGE(empty, warren::message_of(empty.error()));
  CHECK(empty->messages.empty());
}

TEST_CASE("amqp client: get asking for more than the queue holds returns what exists") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-count"};
  amqp_client client{broker_endpoint(env), "/"};
  for (auto body : {"a", "b", "c"})
    publish_confirmed(client, to_queue(q.name(), body));

  auto got = client.get(take(q.name(), 10, ack_mode::reject_requeue), 10s);
  REQUIRE_MESSAGE(got, warren::message_of(got.error()));
  REQUIRE(got->messages.size() == 3);
  CHECK(got->messages[0].body == "a");
  CHECK(got->messages[2].body == "c");
  CHECK(got->messages[2].message_count == 0);

  // All three were requeued, in order.
  auto all = client.get(take(q.name(), 10, ack_mode::ack), 10s);
  REQUIRE_MESSAGE(all, warren::message_of(all.error()));
  REQUIRE(all->messages.size() == 3);
  CHECK(all->messages[0].body == "a");
  CHECK(all->messages[0].redelivered);
}

TEST_CASE("amqp client: an unroutable mandatory publish comes back as returned with "
          "312 NO_ROUTE") {
  auto env = require_broker();
  amqp_client client{broker_endpoint(env), "/"};
  auto msg = to_queue("warren-amqp-no-such-queue", "lost");
  msg.mandatory = true;
  auto res = client.publish(msg, 10s);
  REQUIRE_MESSAGE(res, warren::message_of(res.error()));
  CHECK(res->result == outcome::returned);
  CHECK(res->reply_code == 312);
  CHECK(res->reply_text == "NO_ROUTE");

  // The returned message's content was consumed: the next publish is confirmed.
  msg.mandatory = false;
  auto next = client.publish(msg, 10s);
  REQUIRE_MESSAGE(next, warren::message_of(next.error()));
  CHECK(next->result == outcome::confirmed);
}

TEST_CASE("amqp client: a publish to a missing exchange is broker_refused with the "
          "broker's text, and the next publish on the same client works") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-after-404"};
  amqp_client client{broker_endpoint(env), "/"};
  auto msg = to_queue(q.name(), "x");
  msg.exchange = "warren-amqp-no-such-exchange";
  auto res = client.publish(msg, 10s);
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::broker_refused);
  CHECK(
      warren::message_of(res.error())
          .find(
              "NOT_FOUND - no exchange 'warren-amqp-no-such-exchange' in vhost '/'") !=
      std::string::npos);
  works_after_channel_close(client, q.name());
}

TEST_CASE("amqp client: get on a missing queue is broker_refused, and the next call "
          "works") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-get-after-404"};
  amqp_client client{broker_endpoint(env), "/"};
  auto res = client.get(take("warren-amqp-no-such-queue", 1, ack_mode::ack), 10s);
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::broker_refused);
  CHECK(warren::message_of(res.error()).find("NOT_FOUND - no queue") !=
        std::string::npos);

  publish_confirmed(client, to_queue(q.name(), "fine"));
  auto got = client.get(take(q.name(), 1, ack_mode::ack), 10s);
  REQUIRE_MESSAGE(got, warren::message_of(got.error()));
  REQUIRE(got->messages.size() == 1);
  CHECK(got->messages[0].body == "fine");
}

TEST_CASE("amqp client: headers and properties round-trip") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-headers"};
  amqp_client client{broker_endpoint(env), "/"};
  auto msg = to_queue(q.name(), "{}");
  msg.headers_json =
      R"({"s":"text","i":-42,"big":9007199254740993,"b":true,"f":false,"d":1.5,)"
      R"("n":{"inner":"x","deeper":{"k":7}},"a":[1,"two",false]})";
  msg.content_type = "application/json";
  msg.content_encoding = "identity";
  msg.message_id = "m-1";
  msg.correlation_id = "c-1";
  msg.reply_to = "replies";
  msg.expiration = "60000";
  msg.priority = 3;
  msg.persistent = false;
  publish_confirmed(client, msg);

  auto got = client.get(take(q.name(), 1, ack_mode::ack), 10s);
  REQUIRE_MESSAGE(got, warren::message_of(got.error()));
  REQUIRE(got->messages.size() == 1);
  auto& m = got->messages[0];
  CHECK(m.headers_json ==
        R"({"s":"text","i":-42,"big":9007199254740993,"b":true,"f":false,"d":1.5,)"
        R"("n":{"inner":"x","deeper":{"k":7}},"a":[1,"two",false]})");
  CHECK(m.content_type == "application/json");
  CHECK(m.content_encoding == "identity");
  CHECK(m.message_id == "m-1");
  CHECK(m.correlation_id == "c-1");
  CHECK(m.reply_to == "replies");
  CHECK(m.expiration == "60000");
  CHECK(m.priority == 3);
  CHECK(m.delivery_mode == 1);
  CHECK(m.timestamp == -1);
}

TEST_CASE("amqp client: headers that are not a JSON object are invalid_params and "
          "nothing is sent") {
  auto env = require_broker();
  amqp_client client{broker_endpoint(env), "/"};
  auto msg = to_queue("warren-amqp-unused", "x");
  msg.headers_json = "[1,2]";
  auto res = client.publish(msg, 10s);
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::invalid_params);
  CHECK_FALSE(client.connected());
}

TEST_CASE("amqp client: a binary body larger than a frame round-trips intact") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-binary"};
  amqp_client client{broker_endpoint(env), "/"};
  std::string body;
  for (int i = 0; i < 300000; ++i)
    body.push_back(static_cast<char>((i * 7 + 3) % 256)); // includes NUL and 0xff
  publish_confirmed(client, to_queue(q.name(), body));

  auto got = client.get(take(q.name(), 1, ack_mode::ack), 10s);
  REQUIRE_MESSAGE(got, warren::message_of(got.error()));
  REQUIRE(got->messages.size() == 1);
  CHECK(got->messages[0].body.size() == body.size());
  CHECK(got->messages[0].body == body);
}

TEST_CASE("amqp client: 1000 publishes are each confirmed and the queue holds exactly "
          "1000") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-thousand"};
  amqp_client client{broker_endpoint(env), "/"};
  for (int i = 0; i < 1000; ++i) {
    auto res = client.publish(to_queue(q.name(), std::to_string(i)), 10s);
    REQUIRE_MESSAGE(res, warren::message_of(res.error()));
    REQUIRE(res->result == outcome::confirmed);
  }
  auto all = client.get(take(q.name(), 2000, ack_mode::ack), 60s);
  REQUIRE_MESSAGE(all, warren::message_of(all.error()));
  REQUIRE(all->messages.size() == 1000);
  CHECK(all->messages.front().body == "0");
  CHECK(all->messages.back().body == "999");
}

TEST_CASE("amqp client: a wrong password fails without the password in the message") {
  auto env = require_broker();
  auto ep = broker_endpoint(env);
  ep.password = "s3cret-wrong-pw";
  amqp_client client{ep, "/"};
  auto res = client.publish(to_queue("warren-amqp-unused", "x"), 10s);
  REQUIRE_FALSE(res);
  auto code = warren::code_of(res.error());
  CHECK((code == ec::broker_refused || code == ec::backend_unreachable));
  auto msg = warren::message_of(res.error());
  CHECK(msg.find("s3cret-wrong-pw") == std::string::npos);
  CHECK(msg.find("ACCESS_REFUSED") != std::string::npos);
  CHECK_FALSE(client.connected());
}

TEST_CASE("amqp client: a missing vhost is broker_refused naming it") {
  auto env = require_broker();
  amqp_client client{broker_endpoint(env), "warren-no-such-vhost"};
  auto req = take("q", 1, ack_mode::ack);
  req.vhost = "warren-no-such-vhost";
  auto res = client.get(req, 10s);
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::broker_refused);
  CHECK(warren::message_of(res.error()).find("warren-no-such-vhost") !=
        std::string::npos);
}

TEST_CASE("amqp client: a refused port is backend_unreachable, quickly") {
  auto port = warren::closed_port();
  amqp_client client{loopback_endpoint(port, "s3cret-pw"), "/"};
  auto start = clock_type::now();
  auto res = client.publish(to_queue("q", "x"), 10s);
  auto took = clock_type::now() - start;
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::backend_unreachable);
  auto msg = warren::message_of(res.error());
  CHECK(msg.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(msg.find("connection refused or reset") != std::string::npos);
  CHECK(msg.find("s3cret-pw") == std::string::npos);
  CHECK(took < 5s);
  CHECK_FALSE(client.connected());
}

TEST_CASE("amqp client: a server that never answers the handshake is backend_timeout "
          "within the deadline (fault injected by a fake server)") {
  tcp_listener server{tcp_listener::fault::never_answer};
  amqp_client client{loopback_endpoint(server.port(), "s3cret-pw"), "/"};
  auto start = clock_type::now();
  auto res = client.get(take("q", 1, ack_mode::ack), 300ms);
  auto took = clock_type::now() - start;
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::backend_timeout);
  CHECK(warren::message_of(res.error()).find("s3cret-pw") == std::string::npos);
  CHECK(took < 3s);
  CHECK_FALSE(client.connected());
}

TEST_CASE(
    "amqp client: abort() from another thread ends a waiting call with cancelled, "
    "and every later call too (fault injected by a fake server)") {
  tcp_listener server{tcp_listener::fault::never_answer};
  amqp_client client{loopback_endpoint(server.port(), "guest"), "/"};
  auto start = clock_type::now();
  auto pending = std::async(
      std::launch::async, [&] { return client.get(take("q", 1, ack_mode::ack), 30s); });
  // Abort only once the call is blocked in the handshake on the accepted connection.
  while (server.accepted() == 0 && clock_type::now() - start < 5s)
    std::this_thread::sleep_for(10ms);
  REQUIRE(server.accepted() == 1);
  std::this_thread::sleep_for(100ms);
  client.abort();
  REQUIRE(pending.wait_for(5s) == std::future_status::ready);
  auto res = pending.get();
  auto took = clock_type::now() - start;
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::cancelled);
  CHECK(warren::message_of(res.error()).find("shutting down") != std::string::npos);
  CHECK(took < 10s);

  auto later = client.publish(to_queue("q", "x"), 5s);
  REQUIRE_FALSE(later);
  CHECK(warren::code_of(later.error()) == ec::cancelled);
  CHECK(server.accepted() == 1); // no new connection was tried
}

TEST_CASE("amqp client: abort() while connected to the broker makes the next call "
          "cancelled") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-abort"};
  amqp_client client{broker_endpoint(env), "/"};
  publish_confirmed(client, to_queue(q.name(), "x"));
  client.abort();
  auto res = client.get(take(q.name(), 1, ack_mode::ack), 5s);
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::cancelled);
}

TEST_CASE("amqp client: a connection the broker closed between calls is replaced on "
          "the next call") {
  auto env = require_broker();
  // A vhost of its own gives the connection a name no other test's connection has.
  const std::string vhost = "warren-amqp-forced-close";
  const std::string vpath = "/api/vhosts/" + vhost;
  REQUIRE(warren::mgmt_call(env, "PUT", vpath, "{}") / 100 == 2);
  REQUIRE(warren::mgmt_call(env, "PUT", "/api/permissions/" + vhost + "/" + env.user,
                            R"({"configure":".*","write":".*","read":".*"})") /
              100 ==
          2);
  REQUIRE(warren::mgmt_call(env, "PUT", "/api/queues/" + vhost + "/q",
                            R"({"durable":false})") /
              100 ==
          2);
  struct vhost_cleanup {
    const warren::broker_env& env;
    std::string path;
    ~vhost_cleanup() { warren::mgmt_call(env, "DELETE", path); }
  } cleanup{env, vpath};

  amqp_client client{broker_endpoint(env), vhost};
  auto msg = to_queue("q", "before");
  msg.vhost = vhost;
  publish_confirmed(client, msg);

  // The management API lists a new connection once its first stats arrive.
  std::string name;
  auto start = clock_type::now();
  while (name.empty() && clock_type::now() - start < 15s) {
    std::string body;
    REQUIRE(warren::mgmt_call(env, "GET", "/api/vhosts/" + vhost + "/connections", {},
                              &body) == 200);
    rapidjson::Document doc;
    doc.Parse(body.c_str());
    REQUIRE(doc.IsArray());
    for (auto& c : doc.GetArray())
      if (c.HasMember("name") && c["name"].IsString())
        name = c["name"].GetString();
    if (name.empty())
      std::this_thread::sleep_for(200ms);
  }
  REQUIRE_FALSE(name.empty());
  std::string encoded;
  for (char c : name) {
    if (isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') {
      encoded.push_back(c);
    } else {
      char buf[4];
      snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      encoded += buf;
    }
  }
  REQUIRE(warren::mgmt_call(env, "DELETE", "/api/connections/" + encoded) == 204);
  // Give the broker's connection.close time to arrive before the next call.
  std::this_thread::sleep_for(300ms);

  msg.body = "after";
  publish_confirmed(client, msg);
  auto req = take("q", 5, ack_mode::ack);
  req.vhost = vhost;
  auto got = client.get(req, 10s);
  REQUIRE_MESSAGE(got, warren::message_of(got.error()));
  REQUIRE(got->messages.size() == 2);
  CHECK(got->messages[1].body == "after");
}

TEST_CASE("amqp client: a request for another vhost than the client's is refused "
          "without connecting") {
  auto env = require_broker();
  amqp_client client{broker_endpoint(env), "/"};
  auto msg = to_queue("q", "x");
  msg.vhost = "elsewhere";
  auto res = client.publish(msg, 5s);
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::internal);
  CHECK(warren::message_of(res.error()).find("'elsewhere'") != std::string::npos);
  CHECK_FALSE(client.connected());
}

TEST_CASE("amqp client: a batch of 1000 with a window of 50 is confirmed message by "
          "message and the queue holds exactly those 1000, in order") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-batch-thousand"};
  amqp_client client{broker_endpoint(env), "/"};
  auto batch = numbered(q.name(), 1000, "thousand");
  auto res = client.publish_batch(batch, 50, 60s);
  REQUIRE_MESSAGE(res, warren::message_of(res.error()));
  REQUIRE(res->confirms.size() == 1000);
  int confirmed = 0;
  for (auto& c : res->confirms)
    confirmed += c.what == status::confirmed ? 1 : 0;
  CHECK(confirmed == 1000);
  CHECK(res->reply_text.empty());

  auto all = client.get(take(q.name(), 2000, ack_mode::ack), 60s);
  REQUIRE_MESSAGE(all, warren::message_of(all.error()));
  REQUIRE(all->messages.size() == 1000);
  int in_order = 0;
  for (int i = 0; i < 1000; ++i)
    in_order += all->messages[i].body == std::to_string(i) ? 1 : 0;
  CHECK(in_order == 1000);
}

TEST_CASE("amqp client: in a batch exactly the mandatory unroutable messages come "
          "back returned, in their positions") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-batch-mixed"};
  amqp_client client{broker_endpoint(env), "/"};
  const std::string nowhere = "warren-amqp-batch-nowhere";
  // With message ids the returns are matched by id; without, by exchange and key.
  for (bool with_ids : {true, false}) {
    CAPTURE(with_ids);
    auto batch = numbered(q.name(), 20, "mixed");
    std::vector<bool> unroutable(batch.size());
    int routable = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!with_ids)
        batch[i].message_id.clear();
      if (i % 3 == 1) {
        unroutable[i] = true;
        batch[i].routing_key = nowhere;
      } else if (i % 5 == 0) {
        // Unroutable too, but not mandatory: the broker drops it silently and
        // confirms it; it must not take the place of a returned one.
        batch[i].routing_key = nowhere;
        batch[i].mandatory = false;
      } else {
        ++routable;
      }
    }
    auto res = client.publish_batch(batch, 4, 10s);
    REQUIRE_MESSAGE(res, warren::message_of(res.error()));
    REQUIRE(res->confirms.size() == batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      CAPTURE(i);
      auto& c = res->confirms[i];
      CAPTURE(name_of(c.what));
      if (unroutable[i]) {
        CHECK(c.what == status::returned);
        CHECK(c.reply_code == 312);
        CHECK(c.reply_text == "NO_ROUTE");
      } else {
        CHECK(c.what == status::confirmed);
      }
    }
    auto got = client.get(take(q.name(), 100, ack_mode::ack), 10s);
    REQUIRE_MESSAGE(got, warren::message_of(got.error()));
    CHECK(got->messages.size() == static_cast<size_t>(routable));
  }
}

TEST_CASE("amqp client: a batch with a window of 1 (or 0, taken as 1) publishes every "
          "message, in order") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-batch-window-one"};
  amqp_client client{broker_endpoint(env), "/"};
  for (uint32_t window : {1u, 0u}) {
    CAPTURE(window);
    check_all_confirmed(client.publish_batch(numbered(q.name(), 5, "one"), window, 10s),
                        5);
    CHECK(take_bodies(client, q.name(), 10) ==
          std::vector<std::string>{"0", "1", "2", "3", "4"});
  }
}

TEST_CASE("amqp client: publish_each leaves out the messages that do not validate, "
          "each named invalid_params, and publishes the others in order") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-each-mixed"};
  amqp_client client{broker_endpoint(env), "/"};
  auto msgs = numbered(q.name(), 6, "each");
  msgs[1].headers_json = "[1,2]"; // not an object
  msgs[4].priority = 300;
  auto res = client.publish_each(msgs, 6, 10s);
  REQUIRE_MESSAGE(res, warren::message_of(res.error()));
  REQUIRE(res->confirms.size() == 6);
  for (size_t i = 0; i < msgs.size(); ++i) {
    CAPTURE(i);
    auto& c = res->confirms[i];
    if (i == 1 || i == 4) {
      CHECK(c.what == status::not_sent);
      CHECK(c.error == ec::invalid_params);
      CHECK(c.reply_text.find("it was not published") != std::string::npos);
    } else {
      CHECK(c.what == status::confirmed);
    }
  }
  CHECK(take_bodies(client, q.name(), 10) ==
        std::vector<std::string>{"0", "2", "3", "5"});
  // All valid: the same run as a batch.
  check_all_confirmed(client.publish_each(numbered(q.name(), 3, "each-all"), 3, 10s),
                      3);
}

TEST_CASE("amqp client: an empty batch is an empty answer without connecting") {
  auto env = require_broker();
  amqp_client client{broker_endpoint(env), "/"};
  auto res = client.publish_batch({}, 10, 5s);
  REQUIRE_MESSAGE(res, warren::message_of(res.error()));
  CHECK(res->confirms.empty());
  CHECK_FALSE(client.connected());
}

TEST_CASE("amqp client: a batch to a missing exchange confirms nothing, says why for "
          "each message, and the next publish on the same client works") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-batch-after-404"};
  amqp_client client{broker_endpoint(env), "/"};
  auto batch = numbered(q.name(), 30, "gone");
  for (auto& m : batch)
    m.exchange = "warren-amqp-no-such-exchange";
  auto res = client.publish_batch(batch, 10, 10s);
  REQUIRE_MESSAGE(res, warren::message_of(res.error()));
  REQUIRE(res->confirms.size() == 30);
  CHECK(res->reply_code == 404);
  for (size_t i = 0; i < 30; ++i) {
    CAPTURE(i);
    auto& c = res->confirms[i];
    CAPTURE(name_of(c.what));
    CAPTURE(c.reply_text);
    CHECK((c.what == status::unknown || c.what == status::not_sent));
    CHECK(c.reply_text.find("NOT_FOUND - no exchange 'warren-amqp-no-such-exchange'") !=
          std::string::npos);
  }
  // The first was surely sent; with a window of 10 the last never was.
  CHECK(res->confirms.front().what == status::unknown);
  CHECK(res->confirms.front().reply_text.find("may or may not") != std::string::npos);
  CHECK(res->confirms.back().what == status::not_sent);
  works_after_channel_close(client, q.name());
}

TEST_CASE("amqp client: a batch with an invalid message is invalid_params naming its "
          "index, and nothing of it is published") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-batch-invalid"};
  amqp_client client{broker_endpoint(env), "/"};
  auto batch = numbered(q.name(), 5, "bad");
  batch[3].priority = 300;
  auto res = client.publish_batch(batch, 2, 10s);
  REQUIRE_FALSE(res);
  CHECK(warren::code_of(res.error()) == ec::invalid_params);
  auto msg = warren::message_of(res.error());
  CHECK(msg.find("message 3 ") != std::string::npos);
  CHECK(msg.find("priority must be between 0 and 255") != std::string::npos);
  CHECK_FALSE(client.connected()); // refused before connecting

  publish_confirmed(client, to_queue(q.name(), "only"));
  auto got = client.get(take(q.name(), 10, ack_mode::ack), 10s);
  REQUIRE_MESSAGE(got, warren::message_of(got.error()));
  REQUIRE(got->messages.size() == 1);
  CHECK(got->messages[0].body == "only");
}

TEST_CASE(
    "amqp client: a batch whose confirms never come ends at the deadline with the "
    "sent messages unknown and the rest not_sent (fault injected by a proxy)") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-batch-deadline"};
  tcp_proxy proxy{env.amqp_port};
  amqp_client client{proxied(env, proxy), "/"};
  publish_confirmed(client, to_queue(q.name(), "warm"));
  proxy.stall();
  auto start = clock_type::now();
  auto res = client.publish_batch(numbered(q.name(), 10, "late"), 4, 500ms);
  auto took = clock_type::now() - start;
  REQUIRE_MESSAGE(res, warren::message_of(res.error()));
  CHECK(took < 5s);
  REQUIRE(res->confirms.size() == 10);
  for (size_t i = 0; i < 10; ++i) {
    CAPTURE(i);
    auto& c = res->confirms[i];
    CAPTURE(c.reply_text);
    CHECK(c.what == (i < 4 ? status::unknown : status::not_sent));
    CHECK(c.reply_text.find("within 500 ms") != std::string::npos);
  }
  CHECK_FALSE(client.connected());

  proxy.pass();
  publish_confirmed(client, to_queue(q.name(), "after"));
}

TEST_CASE("amqp client: abort() during a batch returns it at once with the sent "
          "messages unknown and the rest not_sent (fault injected by a proxy)") {
  auto env = require_broker();
  scratch_queue q{env, "warren-amqp-batch-abort"};
  tcp_proxy proxy{env.amqp_port};
  amqp_client client{proxied(env, proxy), "/"};
  publish_confirmed(client, to_queue(q.name(), "warm"));
  proxy.stall();
  auto pending = std::async(std::launch::async, [&] {
    return client.publish_batch(numbered(q.name(), 10, "abandoned"), 4, 30s);
  });
  // The four it may send go into the socket at once; then it waits for confirms.
  std::this_thread::sleep_for(300ms);
  client.abort();
  REQUIRE(pending.wait_for(5s) == std::future_status::ready);
  auto res = pending.get();
  REQUIRE_MESSAGE(res, warren::message_of(res.error()));
  REQUIRE(res->confirms.size() == 10);
  for (size_t i = 0; i < 10; ++i) {
    CAPTURE(i);
    auto& c = res->confirms[i];
    CAPTURE(c.reply_text);
    CHECK(c.what == (i < 4 ? status::unknown : status::not_sent));
    CHECK(c.reply_text.find("shutting down") != std::string::npos);
  }

  auto later = client.publish_batch(numbered(q.name(), 1, "later"), 4, 5s);
  REQUIRE_FALSE(later);
  CHECK(warren::code_of(later.error()) == ec::cancelled);
}
