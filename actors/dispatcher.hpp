#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "actors/interfaces.hpp"
#include "protocol/tool_catalog.hpp"

namespace warren {

/// Find the current backends (they may have been restarted).
using backend_lookup = std::function<http_service()>;
using amqp_lookup = std::function<amqp_service()>;
using batch_lookup = std::function<batch_service()>;

/// How the dispatcher reaches the cache.
struct cache_access {
  /// How many shards there are; 0 when the cache is off. A key's shard is its hash
  /// modulo this count.
  std::size_t count = 0;
  /// The current instance of shard i (invalid while it restarts).
  std::function<cache_actor(std::size_t)> shard;
  /// How long a read result stays cached.
  caf::timespan ttl = std::chrono::seconds{60};
  /// The shared second level (Redis), when there is one.
  std::function<l2_actor()> l2;
  /// Where writes' invalidations go for the other instances ("" for nowhere), and this
  /// instance's id in them.
  std::string exchange;
  std::string origin;
  /// How long the invalidations of writes gather before one notice carries them all
  /// to the other instances (0: one notice per write). Each notice is a publish the
  /// broker routes and confirms beside the writes themselves; one per write took 8-10%
  /// of the publish rate. The other instances learn of a write this much later.
  caf::timespan peer_gather = std::chrono::milliseconds{50};
};

struct dispatcher_state {
  static inline const char* name = "dispatcher";
  std::shared_ptr<const tool_catalog> catalog;
  backend_lookup backend;
  amqp_lookup amqp;
  cache_access cache;
  batch_lookup batches;
  std::unordered_set<uint64_t> batch_calls; ///< calls running as batch jobs now
  /// Invalidations for the next peer notice; while there are some, a peers_atom is
  /// on its way to send them.
  std::set<std::string> peer_prefixes;
  caf::timespan peer_budget{}; ///< of the write that began the gathering
  uint64_t calls = 0;          ///< calls that reached a backend or the cache
  uint64_t in_flight = 0;      ///< of those, calls not answered yet
};

/// Validates a tool call against the catalog and turns it into backend requests. A
/// read with a cache key is answered from its cache shard when it can be (and one
/// fetch serves every concurrent miss); a write sends its requests (a guarded write's
/// precheck first), then invalidates what it names in every shard before it answers,
/// so that no read after the answer sees the state before the write. A cancel for a
/// call id goes to both backends, which stop that call's requests; a read served to
/// the cache is not the caller's alone (others may wait for it), so it is never
/// cancelled. A batch call goes to the batch supervisor, which runs it as a job whose
/// items come back here as prepared calls (run, amqp).
dispatcher_actor::behavior_type
dispatcher(dispatcher_actor::stateful_pointer<dispatcher_state> self,
           std::shared_ptr<const tool_catalog> catalog, backend_lookup backend,
           amqp_lookup amqp, cache_access cache, batch_lookup batches);

} // namespace warren
