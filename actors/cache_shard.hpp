#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "actors/lru_ttl_map.hpp"

namespace warren {

struct cache_shard_config {
  lru_ttl_map::limits limits;
  /// After a write, keys under its prefixes are not stored for this long: the
  /// management API's statistics trail the broker by a few seconds, and a read taken
  /// in that window would keep showing the state before the write.
  caf::timespan settle = std::chrono::seconds{10};
  /// A flight older than this is given up; the next lookup fetches anew.
  caf::timespan max_flight = std::chrono::seconds{40};
};

struct cache_shard_state {
  static inline const char* name = "cache_shard";

  struct flight {
    uint64_t id = 0;
    caf::actor_clock::time_point started;
    std::vector<caf::typed_response_promise<cache_answer>> waiters;
  };

  struct cooling {
    std::string prefix;
    caf::actor_clock::time_point until;
  };

  cache_shard_config cfg;
  lru_ttl_map map{lru_ttl_map::limits{}};
  std::unordered_map<std::string, flight> flights; ///< joinable, by key
  std::unordered_map<uint64_t, flight> orphans;    ///< overtaken by an invalidation
  std::vector<cooling> cooling_prefixes;
  uint64_t next_flight = 1;

  /// Answers every waiter still parked (the shard is going away).
  ~cache_shard_state();
};

/// One shard of the cache: an LRU/TTL map of tool results owned by one actor, so no
/// lock is needed. N concurrent misses for a key make one fetch: the first caller
/// gets a flight id and fetches, the others wait for its fill. An invalidation drops
/// matching entries and orphans matching flights, so that no read that starts after a
/// write can be answered with what was fetched before it.
cache_actor::behavior_type
cache_shard(cache_actor::stateful_pointer<cache_shard_state> self,
            cache_shard_config cfg);

} // namespace warren
