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
  /// After a write, a value fetched for a key under its prefixes by a fetch that
  /// began within this long of the write is kept only until the end of that window,
  /// not for its full time to live: the management API's statistics trail the broker
  /// by a few seconds, so such a value may still show the message counts from before
  /// the write. Once the window is over the key is fetched anew. So counts read
  /// through the cache show a write made through warren at most `settle` after it
  /// (if the API's lag is shorter), against the API's own lag without the cache;
  /// other changes, as always, at most the time to live (plus that lag) late.
  caf::timespan settle = std::chrono::seconds{10};
  /// A flight older than this is given up: the next lookup fetches anew, and its
  /// late fill answers its waiters but is not stored.
  caf::timespan max_flight = std::chrono::seconds{40};
  /// After a fetch that several fresh lookups shared, the key's next fetch waits up
  /// to this long for as many to ask again (it begins as soon as they have): clients
  /// answered by one fetch then share the next, instead of one of them leading it
  /// alone while the others, a moment later, queue for the one after. 0 begins the
  /// next fetch at once.
  caf::timespan merge_wait = std::chrono::milliseconds{5};
};

struct cache_shard_state {
  static inline const char* name = "cache_shard";

  struct flight {
    uint64_t id = 0;
    /// When the fetch began, or, while `waiting`, when it will.
    caf::actor_clock::time_point started;
    /// Not begun yet: every lookup of the key joins `waiters`, fresh ones too, since
    /// the fetch will begin after they came. The first waiter leads it.
    bool waiting = false;
    /// While waiting: it begins as soon as this many wait (or at `started`).
    std::size_t expect = 0;
    std::vector<caf::typed_response_promise<cache_answer>> waiters;
    /// Fresh lookups that came while this fetch ran: they share the next one.
    std::vector<caf::typed_response_promise<cache_answer>> next;
  };

  /// A key that several fresh lookups just shared a fetch of: until `until`, a fresh
  /// lookup of it waits for the others (`expect` in all) to ask again.
  struct gather {
    caf::actor_clock::time_point until;
    std::size_t expect = 0;
  };

  /// The settle window of the latest write under a prefix.
  struct cooling {
    std::string prefix;
    caf::actor_clock::time_point until;
  };

  cache_shard_config cfg;
  lru_ttl_map map{lru_ttl_map::limits{}};
  std::unordered_map<std::string, flight> flights; ///< joinable, by key
  std::unordered_map<uint64_t, flight> orphans;    ///< overtaken by an invalidation
  std::vector<cooling> cooling_prefixes;
  std::unordered_map<std::string, gather> gathering; ///< for merge_wait after a fill
  uint64_t next_flight = 1;
  /// Lookups that waited for a fetch in flight: no backend call of their own, but
  /// counted among the map's misses.
  uint64_t joins = 0;

  /// Answers every waiter still parked (the shard is going away).
  ~cache_shard_state();
};

/// One shard of the cache: an LRU/TTL map of tool results owned by one actor, so no
/// lock is needed. N concurrent misses for a key make one fetch: the first caller
/// gets a flight id and fetches, the others wait for its fill (they are counted as
/// misses, and as joins). An invalidation drops matching entries and orphans matching
/// flights, so that no read that starts after a write can be answered with what was
/// fetched before it; an orphan's fill answers its waiters and is not stored. A value
/// whose fetch began inside a settle window is kept only until the window ends, and
/// its fill answers false: true means kept for the full time to live asked for, so
/// that the caller may share it with a second-level cache.
///
/// A fresh lookup (time to live 0) never takes a stored value and never joins a fetch
/// that began before it: while one runs, fresh lookups of its key queue for the next,
/// which starts when it fills (the first of them leads it, the others wait for it). So
/// N clients asking at once cost one fetch at a time, not N, and each answer was
/// fetched after its question came. A key read by several at once waits up to
/// `merge_wait` after each fill for as many to ask again before its next fetch
/// begins, so that they keep sharing one fetch.
cache_actor::behavior_type
cache_shard(cache_actor::stateful_pointer<cache_shard_state> self,
            cache_shard_config cfg);

} // namespace warren
