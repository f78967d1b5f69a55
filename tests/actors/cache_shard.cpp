#include "actors/cache_shard.hpp"

#include <algorithm>
#include <memory>
#include <optional>

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
    cfg.merge_wait = 0s; // the next fetch begins at once, unless a test sets a wait
    shard = spawn(cache_shard, cfg);
  }

  // A shard whose queued fresh lookups wait `wait` for company.
  void merge_wait(caf::timespan wait) {
    cache_shard_config cfg;
    cfg.merge_wait = wait;
    shard = spawn(cache_shard, cfg);
  }

  // Looks `key` up from an actor of its own; the answer lands in the result.
  std::shared_ptr<answers> ask(const std::string& key, bool fresh = false) {
    auto out = std::make_shared<answers>();
    spawn([out, key, fresh, to = shard](caf::event_based_actor* self) {
      self->request(to, caf::infinite, lookup_atom::value, key, fresh)
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

  // Fills from an actor of its own; answers what the shard replied (kept or not).
  bool fill_kept(const std::string& key, const std::string& json, uint64_t flight,
                 caf::timespan ttl = 60s) {
    auto kept = std::make_shared<std::optional<bool>>();
    spawn([=, to = shard](caf::event_based_actor* self) {
      self->request(to, caf::infinite, fill_atom::value, key, tool_result{false, json},
                    ttl, flight)
          .then([kept](bool b) { *kept = b; });
    });
    run();
    REQUIRE(kept->has_value());
    return **kept;
  }

  // The shard's status figure `name`.
  double figure(const std::string& name) {
    auto status = std::make_shared<actor_status>();
    spawn([status, to = shard](caf::event_based_actor* self) {
      self->request(to, caf::infinite, status_atom::value)
          .then([status](actor_status& s) { *status = std::move(s); });
    });
    run();
    for (auto& f : status->figures)
      if (f.name == name)
        return f.value;
    FAIL("no figure " << name);
    return -1;
  }

  void invalidate(std::vector<std::string> prefixes) {
    caf::anon_send(shard, invalidate_atom::value, std::move(prefixes));
    run();
  }

  void refresh(std::vector<std::string> prefixes) {
    caf::anon_send(shard, refresh_atom::value, std::move(prefixes));
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
  CHECK_FALSE(fill_kept("queues:get:/:q", "old", before->got[0].flight));
  REQUIRE(waiting->got.size() == 1);
  CHECK(waiting->got[0].result.json == "old");
  // "old" was not stored: this one joins the fetch begun after the write, which may
  // be stored (inside the settle window: until it ends).
  auto joiner = ask("queues:get:/:q");
  CHECK(joiner->got.empty());
  fill("queues:get:/:q", "new", after->got[0].flight);
  REQUIRE(joiner->got.size() == 1);
  CHECK(joiner->got[0].result.json == "new");
  auto reader = ask("queues:get:/:q");
  REQUIRE(reader->got[0].hit);
  CHECK(reader->got[0].result.json == "new");
}

TEST_CASE_FIXTURE(fixture,
                  "cache shard: a value filled inside the settle window is served "
                  "until the window ends, then expires, and is not offered onward") {
  invalidate({"queues:"});
  advance(2s);
  auto a = ask("queues:get:/:q");
  CHECK_FALSE(fill_kept("queues:get:/:q", "maybe stale counts", a->got[0].flight));
  auto hit = ask("queues:get:/:q");
  REQUIRE(hit->got[0].hit);
  CHECK(hit->got[0].result.json == "maybe stale counts");
  advance(7s); // 9 s after the write
  CHECK(ask("queues:get:/:q")->got[0].hit);
  advance(1s); // 10 s: the window is over, long before the 60 s time to live
  auto after = ask("queues:get:/:q");
  CHECK_FALSE(after->got[0].hit);
  CHECK(after->got[0].flight != 0);
  // Keys under no written prefix keep their full time to live meanwhile.
  auto b = ask("exchanges:list:/:");
  CHECK(fill_kept("exchanges:list:/:", "fine", b->got[0].flight));
  CHECK(ask("exchanges:list:/:")->got[0].hit);
}

TEST_CASE_FIXTURE(fixture,
                  "cache shard: a value filled after the settle window is kept for "
                  "its full time to live") {
  invalidate({"queues:"});
  advance(11s);
  auto a = ask("queues:get:/:q");
  CHECK(fill_kept("queues:get:/:q", "settled", a->got[0].flight, 30s));
  advance(29s);
  CHECK(ask("queues:get:/:q")->got[0].hit);
  advance(1s);
  CHECK_FALSE(ask("queues:get:/:q")->got[0].hit);
}

TEST_CASE_FIXTURE(fixture, "cache shard: a fetch begun inside the settle window that "
                           "fills after it ends is not stored") {
  invalidate({"queues:"});
  advance(5s);
  auto a = ask("queues:get:/:q");
  advance(6s); // the window ended while the fetch was running
  CHECK_FALSE(fill_kept("queues:get:/:q", "counts from 5 s in", a->got[0].flight));
  CHECK_FALSE(ask("queues:get:/:q")->got[0].hit);
}

TEST_CASE_FIXTURE(fixture,
                  "cache shard: a second write moves the end of the settle window") {
  invalidate({"queues:list:/:"});
  advance(5s);
  invalidate({"queues:"}); // its window ends 15 s after the first write
  advance(1s);
  auto a = ask("queues:list:/:");
  CHECK_FALSE(fill_kept("queues:list:/:", "v", a->got[0].flight));
  advance(8s); // 14 s
  CHECK(ask("queues:list:/:")->got[0].hit);
  advance(1s); // 15 s
  CHECK_FALSE(ask("queues:list:/:")->got[0].hit);
}

TEST_CASE_FIXTURE(fixture, "cache shard: lookups that join a fetch in flight count as "
                           "joins and misses, not hits") {
  auto leader = ask("k");
  auto first = ask("k");
  auto second = ask("k");
  CHECK(figure("joins") == 2);
  CHECK(figure("misses") == 3);
  CHECK(figure("hits") == 0);
  fill("k", "v", leader->got[0].flight);
  REQUIRE(first->got.size() == 1);
  CHECK(first->got[0].hit);
  CHECK(ask("k")->got[0].hit);
  CHECK(figure("hits") == 1);
  CHECK(figure("joins") == 2);
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

TEST_CASE_FIXTURE(fixture,
                  "cache shard: a refresh keeps what is cached until the settle window "
                  "ends, and a fetch in flight is stored only until then") {
  auto list = ask("queues:list:/:");
  CHECK(fill_kept("queues:list:/:", "before the publish", list->got[0].flight));
  auto in_flight = ask("queues:get:/:q");
  refresh({"queues:"});
  auto kept = ask("queues:list:/:");
  REQUIRE(kept->got[0].hit); // not dropped: the topology is still right
  CHECK(kept->got[0].result.json == "before the publish");
  // The fetch that was running when the counts changed is kept, but not past the
  // window, and not offered onward.
  CHECK_FALSE(
      fill_kept("queues:get:/:q", "maybe old counts", in_flight->got[0].flight));
  CHECK(ask("queues:get:/:q")->got[0].hit);
  advance(10s);
  CHECK_FALSE(ask("queues:list:/:")->got[0].hit);
  CHECK_FALSE(ask("queues:get:/:q")->got[0].hit);
  CHECK(figure("invalidations") == 0);
}

TEST_CASE_FIXTURE(fixture, "cache shard: fresh lookups that come during a fetch share "
                           "the next one, never the fetch that began before them") {
  auto leader = ask("k", true);
  REQUIRE(leader->got.size() == 1);
  CHECK_FALSE(leader->got[0].hit);
  std::vector<std::shared_ptr<answers>> queued;
  for (int i = 0; i < 7; ++i)
    queued.push_back(ask("k", true));
  for (auto& q : queued)
    CHECK(q->got.empty()); // parked, not answered with the running fetch
  CHECK_FALSE(fill_kept("k", "fetched before they asked", leader->got[0].flight, 0s));
  // The first of them now leads the next fetch; the others wait for it.
  int leaders = 0;
  uint64_t flight = 0;
  for (auto& q : queued)
    if (!q->got.empty()) {
      CHECK_FALSE(q->got[0].hit);
      ++leaders;
      flight = q->got[0].flight;
    }
  REQUIRE(leaders == 1);
  CHECK(flight != leader->got[0].flight);
  fill("k", "fetched after they asked", flight, 0s);
  for (auto& q : queued) {
    REQUIRE(q->got.size() == 1);
    if (q->got[0].hit)
      CHECK(q->got[0].result.json == "fetched after they asked");
  }
  CHECK(figure("joins") == 6);   // the 7th led the second fetch
  CHECK(figure("entries") == 0); // time to live 0: nothing kept
  auto later = ask("k", true);
  CHECK_FALSE(later->got[0].hit);
}

TEST_CASE_FIXTURE(fixture,
                  "cache shard: a fresh lookup ignores a stored value and does not "
                  "count as a hit") {
  auto a = ask("k");
  CHECK(fill_kept("k", "kept for a minute", a->got[0].flight));
  auto fresh = ask("k", true);
  REQUIRE(fresh->got.size() == 1);
  CHECK_FALSE(fresh->got[0].hit);
  CHECK(figure("hits") == 0);
  CHECK(figure("misses") == 2);
}

TEST_CASE_FIXTURE(fixture, "cache shard: fresh lookups queued behind a fetch overtaken "
                           "by a write join the fetch begun after it") {
  auto before = ask("queues:list:/:", true);
  auto queued = ask("queues:list:/:", true);
  invalidate({"queues:"});
  auto after = ask("queues:list:/:", true); // leads a fetch begun after the write
  REQUIRE(after->got.size() == 1);
  CHECK_FALSE(after->got[0].hit);
  fill("queues:list:/:", "old", before->got[0].flight, 0s);
  CHECK(queued->got.empty()); // moved to the fetch that began after it asked
  fill("queues:list:/:", "new", after->got[0].flight, 0s);
  REQUIRE(queued->got.size() == 1);
  CHECK(queued->got[0].hit);
  CHECK(queued->got[0].result.json == "new");
}

// Asks `key` fresh n times, each from an actor of its own.
std::vector<std::shared_ptr<answers>> ask_fresh(fixture& f, const std::string& key,
                                                int n) {
  std::vector<std::shared_ptr<answers>> out;
  for (int i = 0; i < n; ++i)
    out.push_back(f.ask(key, true));
  return out;
}

// How many of them have been answered.
size_t answered(const std::vector<std::shared_ptr<answers>>& askers) {
  return std::count_if(askers.begin(), askers.end(),
                       [](auto& a) { return !a->got.empty(); });
}

// With a merge wait of 5 ms, one fresh lookup leads a fetch and 3 queue behind it;
// the fetch fills, and the 3 wait for the next one.
std::vector<std::shared_ptr<answers>> three_behind_a_fetch(fixture& f) {
  f.merge_wait(5ms);
  auto leader = f.ask("k", true);
  auto queued = ask_fresh(f, "k", 3);
  f.fill("k", "first", leader->got[0].flight, 0s);
  return queued;
}

TEST_CASE_FIXTURE(fixture, "cache shard: clients answered by one fetch keep sharing "
                           "the next: it begins once as many ask again") {
  auto queued = three_behind_a_fetch(*this);
  CHECK(answered(queued) == 0); // the next fetch waits for the one just answered
  auto again = ask("k", true);  // ... which asks again: now all 4 are there
  REQUIRE(queued[0]->got.size() == 1);
  CHECK_FALSE(queued[0]->got[0].hit); // the first in the queue leads
  CHECK(answered(queued) == 1);
  CHECK(again->got.empty());
  fill("k", "second", queued[0]->got[0].flight, 0s);
  REQUIRE(again->got.size() == 1);
  CHECK(again->got[0].result.json == "second");
  CHECK(answered(queued) == 3);
  // All 4 were answered by that fetch and none queued: the next of them to ask
  // waits for the other 3, and the 4th to come begins the fetch.
  auto round = ask_fresh(*this, "k", 3);
  CHECK(answered(round) == 0);
  round.push_back(ask("k", true));
  CHECK(answered(round) == 1);
  REQUIRE(round[0]->got.size() == 1);
  CHECK_FALSE(round[0]->got[0].hit);
  CHECK(figure("joins") == 6); // 3 + 3: each fetch had one leader among 4
}

TEST_CASE_FIXTURE(fixture, "cache shard: the next fetch waits at most merge_wait for "
                           "the clients just answered") {
  auto queued = three_behind_a_fetch(*this);
  advance(4ms);
  CHECK(answered(queued) == 0);
  advance(1ms); // the leader never asked again: the 3 go ahead without it
  CHECK(answered(queued) == 1);
  REQUIRE(queued[0]->got.size() == 1);
  CHECK_FALSE(queued[0]->got[0].hit);
}

TEST_CASE_FIXTURE(fixture, "cache shard: a lone client's fresh lookups never wait") {
  merge_wait(5ms);
  for (int i = 0; i < 3; ++i) {
    auto a = ask("k", true);
    REQUIRE(a->got.size() == 1); // leads at once, though a fetch just ended
    CHECK_FALSE(a->got[0].hit);
    fill("k", "v", a->got[0].flight, 0s);
  }
  CHECK(figure("joins") == 0);
}

TEST_CASE_FIXTURE(fixture, "cache shard: a write while the next fetch waits sends its "
                           "lookups to a fetch begun after the write") {
  merge_wait(5ms);
  auto first = ask("queues:list:/:", true);
  auto queued = ask("queues:list:/:", true);
  fill("queues:list:/:", "old", first->got[0].flight, 0s);
  invalidate({"queues:"}); // the waiting fetch never began: nothing to orphan
  auto after = ask("queues:list:/:", true);
  REQUIRE(after->got.size() == 1); // leads a fetch at once
  CHECK_FALSE(after->got[0].hit);
  advance(5ms);
  CHECK(queued->got.empty()); // joined the fetch begun after the write
  fill("queues:list:/:", "new", after->got[0].flight, 0s);
  REQUIRE(queued->got.size() == 1);
  CHECK(queued->got[0].hit);
  CHECK(queued->got[0].result.json == "new");
}
