// The cache seen from outside: a second read is served from it, and a write through
// warren is visible to the very next read.

#include <chrono>
#include <thread>

#include <doctest/doctest.h>

#include "tests/integration/launch.hpp"
#include "tests/kit/broker_env.hpp"
#include "tests/kit/mcp_client.hpp"

using warren::json_message;
using warren::mcp_client;
using warren::e2e::unique_name;

namespace {

json_message call(mcp_client& c, const std::string& tool, const std::string& args) {
  auto r = c.call_tool(tool, args);
  REQUIRE_MESSAGE(r, "no answer to " << tool << "; " << warren::e2e::diagnostics(c));
  return *r;
}

bool lists(mcp_client& c, const std::string& queue) {
  auto r = call(c, "list_queues", R"({"vhost":"/","name":")" + queue + "\"}");
  return r.text().find("\\\"" + queue + "\\\"") != std::string::npos ||
         r.text().find("\"name\":\"" + queue + "\"") != std::string::npos;
}

// Lists, creates the queue behind warren's back, lists again: whether the second
// list saw it.
bool sees_queue_created_behind_its_back(std::vector<std::string> args) {
  auto broker = warren::e2e::require_broker();
  auto c = warren::e2e::launch(std::move(args));
  warren::e2e::initialized(*c);
  auto queue = unique_name("behind");
  CHECK_FALSE(lists(*c, queue));
  auto status = warren::mgmt_call(broker, "PUT", "/api/queues/%2F/" + queue,
                                  R"({"durable":false})");
  REQUIRE((status == 201 || status == 204));
  auto seen = lists(*c, queue);
  warren::mgmt_call(broker, "DELETE", "/api/queues/%2F/" + queue);
  return seen;
}

} // namespace

TEST_CASE("a repeated list is served from the cache, not the broker") {
  CHECK_FALSE(sees_queue_created_behind_its_back({}));
}

TEST_CASE("with the cache off every list goes to the broker") {
  CHECK(sees_queue_created_behind_its_back({"--cache-ttl-lists", "0"}));
}

TEST_CASE("a queue created through warren is listed at once, and once deleted is "
          "not found at once") {
  auto c = warren::e2e::launch({"--allow-writes"});
  warren::e2e::initialized(*c);
  auto queue = unique_name("cached");
  CHECK_FALSE(lists(*c, queue)); // now cached without it
  auto created =
      call(*c, "create_queue", R"({"name":")" + queue + R"(","durable":false})");
  CHECK(created.at("/result/isError")->IsFalse());
  CHECK(lists(*c, queue));
  auto got = call(*c, "get_queue", R"({"name":")" + queue + "\"}");
  CHECK(got.at("/result/isError")->IsFalse()); // cached now
  auto deleted =
      call(*c, "delete_queue", R"({"name":")" + queue + R"(","force":true})");
  CHECK(deleted.at("/result/isError")->IsFalse());
  auto gone = call(*c, "get_queue", R"({"name":")" + queue + "\"}");
  CHECK(gone.at("/result/isError")->IsTrue());
  CHECK_FALSE(lists(*c, queue));
}

TEST_CASE("two instances sharing a broker: a queue created through one is listed "
          "through the other's cache") {
  auto a = warren::e2e::launch({"--allow-writes"});
  auto b = warren::e2e::launch();
  warren::e2e::initialized(*a);
  warren::e2e::initialized(*b);
  // B's invalidation listener connects in the background; until it is bound, a peer's
  // write cannot reach it. Each round is a fresh name: B caches a list without the
  // queue, A creates it, and B must see it.
  bool seen = false;
  for (int round = 0; round < 20 && !seen; ++round) {
    auto queue = unique_name("peer");
    CHECK_FALSE(lists(*b, queue));
    auto created =
        call(*a, "create_queue", R"({"name":")" + queue + R"(","durable":false})");
    REQUIRE(created.at("/result/isError")->IsFalse());
    auto written = std::chrono::steady_clock::now();
    // B must list it within 200 ms of A's answer (the product's bound for peers).
    while (!seen && std::chrono::steady_clock::now() - written <
                        std::chrono::milliseconds{200}) {
      seen = lists(*b, queue);
      if (!seen)
        std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    if (seen)
      MESSAGE("B listed A's queue "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - written)
                     .count()
              << " ms after A answered the create (round " << round + 1 << ")");
    call(*a, "delete_queue", R"({"name":")" + queue + R"(","force":true})");
  }
  CHECK_MESSAGE(seen, "B's cached list never showed A's queue; B's stderr:\n"
                          << b->process().stderr_text());
}

TEST_CASE("warming at start fills the cache for the named vhosts") {
  auto broker = warren::e2e::require_broker();
  bool served_warm = false;
  for (int round = 0; round < 3 && !served_warm; ++round) {
    auto c = warren::e2e::launch({"--cache-warm-vhosts", "/"});
    warren::e2e::initialized(*c);
    // Warming runs beside the session; give it time to list the vhost once.
    for (int i = 0; i < 50; ++i) {
      if (c->process().stderr_text().find("cache warmed") != std::string::npos)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
    auto queue = unique_name("warm");
    auto status = warren::mgmt_call(broker, "PUT", "/api/queues/%2F/" + queue,
                                    R"({"durable":false})");
    REQUIRE((status == 201 || status == 204));
    // The agent's first list of "/" is answered from the warmed cache: the queue made
    // behind warren's back is not in it yet.
    auto first = call(*c, "list_queues", R"({"vhost":"/"})");
    served_warm = first.text().find(queue) == std::string::npos;
    warren::mgmt_call(broker, "DELETE", "/api/queues/%2F/" + queue);
  }
  CHECK(served_warm);
}
