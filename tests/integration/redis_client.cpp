#include "runtime/redis_client.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <doctest/doctest.h>

#include "protocol/error.hpp"
#include "tests/kit/redis_env.hpp"
#include "tests/kit/tcp_listener.hpp"

using namespace std::chrono_literals;
using warren::ec;
using warren::redis_client;
using warren::redis_endpoint;

namespace {

using clock_type = std::chrono::steady_clock;

redis_endpoint require_redis() {
  auto url = warren::load_redis_url();
  if (!url)
    FAIL("no Redis: run scripts/local-redis start DIR and set "
         "WARREN_TEST_REDIS_ENV=DIR/env (ctest's redis fixture does this)");
  auto ep = warren::parse_redis_url(*url);
  REQUIRE_MESSAGE(ep, warren::message_of(ep.error()));
  return *ep;
}

// Keys of one test run, so that runs sharing a server never see each other's keys.
std::string unique_prefix(const std::string& test) {
  return "warren-test:" + std::to_string(::getpid()) + ":" +
         std::to_string(clock_type::now().time_since_epoch().count()) + ":" + test +
         ":";
}

// scripts/local-redis of this source tree.
std::string local_redis_script() {
#ifdef WARREN_SOURCE_DIR
  return std::string{WARREN_SOURCE_DIR} + "/scripts/local-redis";
#else
  std::filesystem::path here{__FILE__};
  return (here.parent_path().parent_path().parent_path() / "scripts" / "local-redis")
      .string();
#endif
}

// A redis-server of the test's own (the shared fixture must stay up), in a temporary
// directory, stopped when the test ends.
class own_redis {
public:
  own_redis() {
    auto templ =
        (std::filesystem::temp_directory_path() / "warren-redis-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    dir_ = templ;
  }
  ~own_redis() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  bool start() { return run("start") == 0; }
  bool stop() { return run("stop") == 0; }

  std::string url() const {
    std::ifstream in{dir_ + "/env"};
    std::string line;
    while (std::getline(in, line))
      if (line.compare(0, 10, "REDIS_URL=") == 0)
        return line.substr(10);
    return {};
  }

private:
  int run(const std::string& verb) {
    auto cmd = "'" + local_redis_script() + "' " + verb + " '" + dir_ + "' 2>/dev/null";
    return std::system(cmd.c_str());
  }

  std::string dir_;
};

} // namespace

TEST_CASE("redis client: a value set is got back byte for byte") {
  auto ep = require_redis();
  redis_client client{ep};
  auto key = unique_prefix("roundtrip") + "k";
  std::string value{"a\0b\r\n\xff", 6};
  auto err = client.set(key, value, 10s, 2s);
  REQUIRE_MESSAGE(!err, warren::message_of(err));
  auto got = client.get(key, 2s);
  REQUIRE_MESSAGE(got, warren::message_of(got.error()));
  REQUIRE(got->has_value());
  CHECK(got->value() == value);
  CHECK(client.connected());
  // A second set replaces the value.
  REQUIRE(!client.set(key, "second", 10s, 2s));
  got = client.get(key, 2s);
  REQUIRE(got);
  CHECK(got->value_or("") == "second");
}

TEST_CASE("redis client: a missing key is nullopt, not an error") {
  redis_client client{require_redis()};
  auto got = client.get(unique_prefix("missing") + "nothing-here", 2s);
  REQUIRE_MESSAGE(got, warren::message_of(got.error()));
  CHECK_FALSE(got->has_value());
}

TEST_CASE("redis client: a value expires after its ttl") {
  redis_client client{require_redis()};
  auto key = unique_prefix("ttl") + "k";
  REQUIRE(!client.set(key, "short-lived", 100ms, 2s));
  auto got = client.get(key, 2s);
  REQUIRE(got);
  CHECK(got->has_value());
  // The server's clock expires the key; nothing of ours to advance.
  std::this_thread::sleep_for(300ms);
  got = client.get(key, 2s);
  REQUIRE(got);
  CHECK_FALSE(got->has_value());
}

TEST_CASE("redis client: erase_prefixes removes exactly the keys under the prefixes") {
  redis_client client{require_redis()};
  auto base = unique_prefix("erase");
  std::vector<std::string> gone = {base + "a:1", base + "a:2",
                                   base + "a:", base + "x*[1", base + "x*["};
  std::vector<std::string> kept = {base + "b:1", base + "ab",  base + "xy",
                                   base + "x1",  base + "x*1", base + "A:1"};
  for (auto& k : gone)
    REQUIRE(!client.set(k, "v", 60s, 2s));
  for (auto& k : kept)
    REQUIRE(!client.set(k, "v", 60s, 2s));
  // Glob characters in a prefix match only themselves.
  auto erased = client.erase_prefixes({base + "a:", base + "x*["}, 5s);
  REQUIRE_MESSAGE(erased, warren::message_of(erased.error()));
  CHECK(*erased == gone.size());
  for (auto& k : gone) {
    auto got = client.get(k, 2s);
    REQUIRE(got);
    CHECK_MESSAGE(!got->has_value(), k);
  }
  for (auto& k : kept) {
    auto got = client.get(k, 2s);
    REQUIRE(got);
    CHECK_MESSAGE(got->has_value(), k);
  }
  REQUIRE(client.erase_prefixes({base}, 5s));
}

TEST_CASE("redis client: erase_prefixes follows the SCAN cursor through many keys") {
  redis_client client{require_redis()};
  auto base = unique_prefix("erase-many");
  constexpr int count = 1500;
  for (int i = 0; i < count; ++i)
    REQUIRE(!client.set(base + std::to_string(i), "v", 60s, 2s));
  auto erased = client.erase_prefixes({base}, 10s);
  REQUIRE_MESSAGE(erased, warren::message_of(erased.error()));
  CHECK(*erased == count);
  auto got = client.get(base + "0", 2s);
  REQUIRE(got);
  CHECK_FALSE(got->has_value());
}

TEST_CASE(
    "redis client: an empty prefix is refused rather than emptying the database") {
  redis_client client{require_redis()};
  auto erased = client.erase_prefixes({""}, 2s);
  REQUIRE_FALSE(erased);
  CHECK(warren::message_of(erased.error()).find("empty") != std::string::npos);
}

TEST_CASE("redis client: a refused port is backend_unreachable, fast") {
  redis_endpoint ep;
  ep.port = warren::closed_port();
  redis_client client{ep};
  auto start = clock_type::now();
  auto got = client.get("k", 5s);
  REQUIRE_FALSE(got);
  CHECK(warren::code_of(got.error()) == ec::backend_unreachable);
  CHECK(clock_type::now() - start < 1s);
  CHECK_FALSE(client.connected());
}

TEST_CASE(
    "redis client: a server that never answers is backend_timeout at the deadline") {
  warren::tcp_listener silent{warren::tcp_listener::fault::never_answer};
  redis_endpoint ep;
  ep.port = silent.port();
  redis_client client{ep};
  auto start = clock_type::now();
  auto got = client.get("k", 300ms);
  auto took = clock_type::now() - start;
  REQUIRE_FALSE(got);
  CHECK(warren::code_of(got.error()) == ec::backend_timeout);
  CHECK(took >= 250ms);
  CHECK(took < 2s);
  // The connection with an answer still in flight is not reused.
  CHECK_FALSE(client.connected());
}

TEST_CASE("redis client: a connect that hangs ends at the connect timeout") {
  warren::tcp_listener full{warren::tcp_listener::fault::never_accept};
  redis_endpoint ep;
  ep.port = full.port();
  ep.connect_timeout = 300ms;
  redis_client client{ep};
  auto start = clock_type::now();
  auto got = client.get("k", 5s);
  auto took = clock_type::now() - start;
  REQUIRE_FALSE(got);
  // Either the kernel completes the handshake anyway (then GET waits for the 5 s
  // deadline) or the connect itself times out: both end as a timeout, within bounds.
  CHECK(warren::code_of(got.error()) == ec::backend_timeout);
  CHECK(took < 6s);
}

TEST_CASE("redis client: abort ends a call in progress and fails every later call") {
  warren::tcp_listener silent{warren::tcp_listener::fault::never_answer};
  redis_endpoint ep;
  ep.port = silent.port();
  redis_client client{ep};
  caf::expected<std::optional<std::string>> got{std::optional<std::string>{}};
  auto start = clock_type::now();
  std::thread caller{[&] { got = client.get("k", 10s); }};
  // Wait until the call is connected and blocked on its answer.
  while (silent.accepted() == 0 && clock_type::now() - start < 5s)
    std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(50ms);
  client.abort();
  caller.join();
  CHECK(clock_type::now() - start < 5s);
  REQUIRE_FALSE(got);
  CHECK(warren::code_of(got.error()) == ec::cancelled);
  auto later = client.set("k", "v", 1s, 1s);
  CHECK(warren::code_of(later) == ec::cancelled);
  auto erase = client.erase_prefixes({"k"}, 1s);
  REQUIRE_FALSE(erase);
  CHECK(warren::code_of(erase.error()) == ec::cancelled);
}

TEST_CASE("redis client: a server that stops makes calls fail, and one that comes back "
          "is used again") {
  // A write to the dead connection must fail, not kill the test run.
  std::signal(SIGPIPE, SIG_IGN);
  own_redis server;
  REQUIRE(server.start());
  auto ep = warren::parse_redis_url(server.url());
  REQUIRE(ep);
  redis_client client{*ep};
  REQUIRE(!client.set("k", "before", 60s, 2s));
  REQUIRE(client.connected());

  REQUIRE(server.stop());
  auto got = client.get("k", 2s);
  REQUIRE_FALSE(got);
  CHECK(warren::code_of(got.error()) == ec::backend_unreachable);
  CHECK_FALSE(client.connected());
  got = client.get("k", 2s);
  REQUIRE_FALSE(got);
  CHECK(warren::code_of(got.error()) == ec::backend_unreachable);

  // The script takes the same port again, so the client's address still holds.
  REQUIRE(server.start());
  REQUIRE(warren::parse_redis_url(server.url())->port == ep->port);
  got = client.get("k", 2s);
  REQUIRE_MESSAGE(got, warren::message_of(got.error()));
  CHECK_FALSE(got->has_value()); // nothing is persisted across restarts
  REQUIRE(!client.set("k", "after", 60s, 2s));
  got = client.get("k", 2s);
  REQUIRE(got);
  CHECK(got->value_or("") == "after");
}

TEST_CASE("redis client: a password the server does not expect is refused, unnamed") {
  auto ep = require_redis();
  ep.password = "s3cret-pw";
  redis_client client{ep};
  auto got = client.get("k", 2s);
  REQUIRE_FALSE(got);
  CHECK(warren::code_of(got.error()) == ec::backend_protocol);
  CHECK(warren::message_of(got.error()).find("s3cret-pw") == std::string::npos);
}

TEST_CASE("redis client: a database number in the URL selects that database") {
  auto ep = require_redis();
  auto other = ep;
  other.db = 3;
  redis_client in_zero{ep};
  redis_client in_three{other};
  auto key = unique_prefix("db") + "k";
  REQUIRE(!in_three.set(key, "three", 60s, 2s));
  auto got = in_zero.get(key, 2s);
  REQUIRE(got);
  CHECK_FALSE(got->has_value());
  got = in_three.get(key, 2s);
  REQUIRE(got);
  CHECK(got->value_or("") == "three");
}

TEST_CASE("parse_redis_url: host, port, database and password") {
  auto ep = warren::parse_redis_url("redis://cache.example:6380/2");
  REQUIRE(ep);
  CHECK(ep->host == "cache.example");
  CHECK(ep->port == 6380);
  CHECK(ep->db == 2);
  CHECK(ep->password.empty());

  ep = warren::parse_redis_url("redis://localhost");
  REQUIRE(ep);
  CHECK(ep->host == "localhost");
  CHECK(ep->port == 6379);
  CHECK(ep->db == 0);

  ep = warren::parse_redis_url("redis://:p%40ss:w@10.0.0.1:7000/0");
  REQUIRE(ep);
  CHECK(ep->password == "p@ss:w");
  CHECK(ep->host == "10.0.0.1");
  CHECK(ep->port == 7000);

  ep = warren::parse_redis_url("redis://[::1]:6390/1");
  REQUIRE(ep);
  CHECK(ep->host == "::1");
  CHECK(ep->port == 6390);
  CHECK(ep->db == 1);
}

TEST_CASE("parse_redis_url: malformed URLs are invalid_config and never show the "
          "password") {
  const std::vector<std::string> bad = {
      "http://:hunter2@localhost:6379/0",   "rediss://:hunter2@localhost:6379/0",
      "redis://:hunter2@:6379/0",           "redis://:hunter2@localhost:0/0",
      "redis://:hunter2@localhost:70000/0", "redis://:hunter2@localhost:63a9/0",
      "redis://:hunter2@localhost:/0",      "redis://:hunter2@localhost:6379/db",
      "redis://user:hunter2@localhost/0",   "redis://:hunter2%zz@localhost/0",
      "redis://:hunter2@localhost/0?x=1",   "redis://:hunter2@[::1/0",
  };
  for (auto& url : bad) {
    auto ep = warren::parse_redis_url(url);
    REQUIRE_FALSE_MESSAGE(ep, url);
    CHECK(warren::code_of(ep.error()) == ec::invalid_config);
    CHECK_MESSAGE(warren::message_of(ep.error()).find("hunter2") == std::string::npos,
                  warren::message_of(ep.error()));
  }
}
