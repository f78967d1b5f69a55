// The Redis L2 cache through the binary: a second instance is served from it, and
// Redis stopping mid-run changes nothing for the client.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>

#include "tests/integration/launch.hpp"
#include "tests/kit/broker_env.hpp"
#include "tests/kit/mcp_client.hpp"
#include "tests/kit/redis_env.hpp"
#include "tests/kit/subprocess.hpp"

using namespace std::chrono_literals;
using warren::mcp_client;
using warren::e2e::unique_name;

namespace {

std::unique_ptr<mcp_client> with_redis(const std::string& url,
                                       std::vector<std::string> args = {}) {
  args.insert(args.end(), {"--cache-backend", "redis", "--redis-url", url});
  auto c = warren::e2e::launch(std::move(args));
  warren::e2e::initialized(*c);
  return c;
}

bool lists(mcp_client& c, const std::string& queue) {
  auto r = c.call_tool("list_queues", R"({"vhost":"/","name":")" + queue + "\"}");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->at("/result/isError")->IsFalse(), r->text());
  return r->text().find("\"name\":\"" + queue + "\"") != std::string::npos;
}

// Runs a script of the project (local-redis) and waits for it.
int run_script(const std::vector<std::string>& argv) {
  auto p = warren::subprocess::spawn(argv);
  REQUIRE(p);
  auto code = (*p)->wait(60s);
  REQUIRE(code);
  return *code;
}

std::string script(const char* name) {
  return std::string{WARREN_SOURCE_DIR} + "/scripts/" + name;
}

} // namespace

TEST_CASE("a second instance is served from the Redis L2 the first one filled") {
  auto url = warren::load_redis_url();
  REQUIRE_MESSAGE(url, "no test redis: set WARREN_TEST_REDIS_ENV");
  auto broker = warren::e2e::require_broker();
  auto a = with_redis(*url);
  bool served_from_l2 = false;
  for (int round = 0; round < 5 && !served_from_l2; ++round) {
    auto queue = unique_name("l2");
    CHECK_FALSE(lists(*a, queue));      // A fetches and fills L1 and L2
    std::this_thread::sleep_for(200ms); // the L2 fill is sent after the answer
    auto status = warren::mgmt_call(broker, "PUT", "/api/queues/%2F/" + queue,
                                    R"({"durable":false})");
    REQUIRE((status == 201 || status == 204));
    auto b = with_redis(*url); // a fresh L1: only the L2 can hold the old list
    served_from_l2 = !lists(*b, queue);
    warren::mgmt_call(broker, "DELETE", "/api/queues/%2F/" + queue);
  }
  CHECK(served_from_l2);
}

TEST_CASE("Redis stopping mid-run changes nothing for the client") {
  auto dir = (std::filesystem::temp_directory_path() /
              ("warren-redis-test-" + std::to_string(::getpid())))
                 .string();
  REQUIRE(run_script({script("local-redis"), "start", dir}) == 0);
  std::string url;
  {
    std::ifstream env{dir + "/env"};
    std::string line;
    while (std::getline(env, line))
      if (line.rfind("REDIS_URL=", 0) == 0)
        url = line.substr(10);
  }
  REQUIRE(!url.empty());
  auto c = with_redis(url, {"--allow-writes"});
  auto queue = unique_name("noredis");
  CHECK_FALSE(lists(*c, queue));
  REQUIRE(run_script({script("local-redis"), "stop", dir}) == 0);
  // Reads still answer (from the broker now), writes still work and are seen at once.
  CHECK_FALSE(lists(*c, queue + "-other"));
  auto created =
      c->call_tool("create_queue", R"({"name":")" + queue + R"(","durable":false})");
  REQUIRE(created);
  CHECK(created->at("/result/isError")->IsFalse());
  CHECK(lists(*c, queue));
  auto deleted =
      c->call_tool("delete_queue", R"({"name":")" + queue + R"(","force":true})");
  REQUIRE(deleted);
  CHECK(deleted->at("/result/isError")->IsFalse());
  CHECK(c->process().stderr_text().find("Redis L2 cache is unavailable") !=
        std::string::npos);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}
