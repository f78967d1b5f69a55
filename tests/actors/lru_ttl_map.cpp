#include "actors/lru_ttl_map.hpp"

#include <doctest/doctest.h>

using namespace warren;
using namespace std::chrono_literals;

namespace {

const auto t0 = lru_ttl_map::time_point{} + 1h;

} // namespace

TEST_CASE("lru_ttl_map: a value lives until its time to live ends") {
  lru_ttl_map map{{10, 1000}};
  map.put("a", "1", t0 + 60s);
  CHECK(map.get("a", t0 + 59s) == "1");
  CHECK_FALSE(map.get("a", t0 + 60s));
  CHECK(map.stats().expirations == 1);
  CHECK(map.size() == 0);
  CHECK(map.bytes() == 0);
}

TEST_CASE("lru_ttl_map: past the entry bound the least recently used goes first") {
  lru_ttl_map map{{2, 1000}};
  map.put("a", "1", t0 + 60s);
  map.put("b", "2", t0 + 60s);
  CHECK(map.get("a", t0)); // a is now more recent than b
  map.put("c", "3", t0 + 60s);
  CHECK(map.get("a", t0));
  CHECK_FALSE(map.get("b", t0));
  CHECK(map.get("c", t0));
  CHECK(map.stats().evictions == 1);
}

TEST_CASE("lru_ttl_map: the byte bound counts keys and values") {
  lru_ttl_map map{{100, 10}};
  map.put("k1", "aaa", t0 + 60s); // 5 bytes
  map.put("k2", "bbb", t0 + 60s); // 10 bytes in all
  CHECK(map.bytes() == 10);
  map.put("k3", "c", t0 + 60s); // 3 more: k1 must go
  CHECK_FALSE(map.get("k1", t0));
  CHECK(map.bytes() == 8);
  map.put("huge", std::string(50, 'x'), t0 + 60s); // larger than the bound: not kept
  CHECK_FALSE(map.get("huge", t0));
  CHECK(map.get("k2", t0));
}

TEST_CASE("lru_ttl_map: replacing a key keeps one entry with the new value") {
  lru_ttl_map map{{10, 1000}};
  map.put("a", "old", t0 + 60s);
  map.put("a", "new!", t0 + 60s);
  CHECK(map.size() == 1);
  CHECK(map.bytes() == 5);
  CHECK(map.get("a", t0) == "new!");
}

TEST_CASE("lru_ttl_map: erase_prefix removes exactly the keys under the prefix") {
  lru_ttl_map map{{10, 1000}};
  map.put("queues:list:/:?page=1", "x", t0 + 60s);
  map.put("queues:list:/:?page=2", "x", t0 + 60s);
  map.put("queues:list:other:?page=1", "x", t0 + 60s);
  map.put("queues:get:/:orders", "x", t0 + 60s);
  CHECK(map.erase_prefix("queues:list:/:") == 2);
  CHECK(map.get("queues:list:other:?page=1", t0));
  CHECK(map.get("queues:get:/:orders", t0));
  CHECK(map.stats().invalidations == 2);
}

TEST_CASE("lru_ttl_map: counters count hits and misses") {
  lru_ttl_map map{{10, 1000}};
  CHECK_FALSE(map.get("a", t0));
  map.put("a", "1", t0 + 60s);
  CHECK(map.get("a", t0));
  CHECK(map.get("a", t0));
  CHECK(map.stats().hits == 2);
  CHECK(map.stats().misses == 1);
}

TEST_CASE("lru_ttl_map: expire_prefix_by cuts only later expiries under the prefix") {
  lru_ttl_map map{{10, 1000}};
  map.put("queues:list:/:", "x", t0 + 60s);
  map.put("queues:get:/:q", "x", t0 + 5s);
  map.put("exchanges:list:/:", "x", t0 + 60s);
  CHECK(map.expire_prefix_by("queues:", t0 + 10s) == 1); // q already ends sooner
  CHECK(map.get("queues:list:/:", t0 + 9s));
  CHECK_FALSE(map.get("queues:list:/:", t0 + 10s));
  CHECK_FALSE(map.get("queues:get:/:q", t0 + 5s));
  CHECK(map.get("exchanges:list:/:", t0 + 59s));
  CHECK(map.stats().invalidations == 0);
}
