#include "actors/cache_shard.hpp"

#include <doctest/doctest.h>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "tests/actors/test_system.hpp"

using namespace warren;
using namespace std::chrono_literals;

namespace {

// What an asker actor got back from the shard.
struct answers {
  std::vector<cache_answer> got;
  int errors = 0;
};

struct fixture : test::test_system {
  cache_actor shard;

  fixture() {
    cache_shard_config cfg;
    cfg.limits = {100, 1 << 20};
    cfg.settle = 10s;
    cfg.max_flight = 30s;
    shard = spawn(cache_shard, cfg);
  }

  // Looks `key` up from an actor of its own; the answer lands in the result.
  std::shared_ptr<answers> ask(const std::string& key) {
    auto out = std::make_shared<answers>();
    spawn([out, key, to = shard](caf::event_based_actor* self) {
      self->request(to, caf::infinite, lookup_atom::value, key)
          .then([out](cache_answer& a) { out->got.push_back(a); },
                [out](caf::error&) { ++out->errors; });
    });
    run();
    return out;
  }

  void fill(const std::string& key, const std::string& json, uint64_t flight,
            caf::timespan ttl = 60s, bool is_error = false) {
    caf::anon_send(shard, fill_atom::value, key, tool_result{is_error, json}, ttl,
                   flight);
    run();
  }

  void invalidate(std::vector<std::string> prefixes) {
    caf::anon_send(shard, invalidate_atom::value, std::move(prefixes));
    run();
  }
};

} // namespace

TEST_CASE_FIXTURE(fixture, "cache shard: 100 concurrent misses make one fetch and all "
                           "get its answer") {
  std::vector<std::shared_ptr<answers>> askers;
  for (int i = 0; i < 100; ++i)
    askers.push_back(ask("queues:list:/:"));
  int leaders = 0;
  uint64_t flight = 0;
  for (auto& a : askers)
    if (!a->got.empty() && !a->got[0].hit) {
      ++leaders;
      flight = a->got[0].flight;
    }
  CHECK(leaders == 1);
  fill("queues:list:/:", "[1]", flight);
  for (auto& a : askers) {
    REQUIRE(a->got.size() == 1);
    if (a->got[0].hit)
      CHECK(a->got[0].result.json == "[1]");
  }
  auto later = ask("queues:list:/:");
  REQUIRE(later->got.size() == 1);
  CHECK(later->got[0].hit);
}

TEST_CASE_FIXTURE(fixture,
                  "cache shard: an error reaches every waiter and is not kept") {
  auto leader = ask("k");
  auto waiter = ask("k");
  fill("k", "boom", leader->got[0].flight, 60s, true);
  REQUIRE(waiter->got.size() == 1);
  CHECK(waiter->got[0].result.is_error);
  auto again = ask("k");
  CHECK_FALSE(again->got[0].hit);
}

TEST_CASE_FIXTURE(fixture, "cache shard: a value expires with its time to live") {
  auto first = ask("k");
  fill("k", "v", first->got[0].flight, 5s);
  CHECK(ask("k")->got[0].hit);
  advance(6s);
  CHECK_FALSE(ask("k")->got[0].hit);
}

TEST_CASE_FIXTURE(fixture,
                  "cache shard: invalidation drops the entries under a prefix") {
  auto a = ask("queues:list:/:");
  fill("queues:list:/:", "v", a->got[0].flight);
  auto b = ask("queues:list:other:");
  fill("queues:list:other:", "w", b->got[0].flight);
  invalidate({"queues:list:/:"});
  CHECK_FALSE(ask("queues:list:/:")->got[0].hit);
  CHECK(ask("queues:list:other:")->got[0].hit);
}

TEST_CASE_FIXTURE(fixture, "cache shard: a fetch overtaken by a write is answered but "
                           "never stored, and later readers fetch anew") {
  auto before = ask("queues:get:/:q");
  auto waiting = ask("queues:get:/:q");
  invalidate({"queues:get:/:q"});
  auto after = ask("queues:get:/:q"); // must not join the pre-write fetch
  REQUIRE(after->got.size() == 1);
  CHECK_FALSE(after->got[0].hit);
  CHECK(after->got[0].flight != before->got[0].flight);
  fill("queues:get:/:q", "old", before->got[0].flight);
  REQUIRE(waiting->got.size() == 1);
  CHECK(waiting->got[0].result.json == "old");
  advance(11s); // past the settle window
  fill("queues:get:/:q", "new", after->got[0].flight);
  auto reader = ask("queues:get:/:q");
  REQUIRE(reader->got[0].hit);
  CHECK(reader->got[0].result.json == "new");
}

TEST_CASE_FIXTURE(fixture,
                  "cache shard: within the settle window after a write nothing "
                  "under its prefix is stored") {
  invalidate({"queues:"});
  auto a = ask("queues:get:/:q");
  fill("queues:get:/:q", "maybe stale", a->got[0].flight);
  CHECK_FALSE(ask("queues:get:/:q")->got[0].hit);
  auto b = ask("exchanges:list:/:");
  fill("exchanges:list:/:", "fine", b->got[0].flight);
  CHECK(ask("exchanges:list:/:")->got[0].hit);
}

TEST_CASE_FIXTURE(fixture, "cache shard: a fetch that never fills is given up after "
                           "max_flight") {
  auto lost = ask("k");
  advance(31s);
  auto next = ask("k");
  REQUIRE(next->got.size() == 1);
  CHECK_FALSE(next->got[0].hit);
  CHECK(next->got[0].flight != lost->got[0].flight);
}
