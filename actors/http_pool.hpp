#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"

namespace warren {

struct http_pool_config {
  std::size_t min = 5;
  std::size_t max = 50;
  std::size_t queue_bound = 1000;
  caf::timespan idle_timeout = std::chrono::seconds{60};
};

/// Spawns one connection actor (detached in production, a fake in tests).
using connection_factory = std::function<http_actor(caf::local_actor* self)>;

/// The pool's interface: the backend interface plus its housekeeping.
using http_pool_actor = http_actor::extend<caf::reacts_to<tick_atom>,
                                           caf::reacts_to<deadline_atom, uint64_t>>;

struct http_pool_state {
  static inline const char* name = "http_pool";

  struct idle_connection {
    http_actor handle;
    caf::actor_clock::time_point since;
  };

  /// A connection at work, and the caller waiting for its answer.
  struct busy_connection {
    http_actor handle;
    caf::typed_response_promise<http_response> promise;
  };

  struct waiter {
    uint64_t id;
    http_request request;
    caf::actor_clock::time_point deadline;
    caf::typed_response_promise<http_response> promise;
  };

  http_pool_config cfg;
  connection_factory factory;
  std::vector<idle_connection> idle; ///< most recently used last (warmest)
  std::unordered_map<caf::actor_addr, busy_connection> busy;
  std::deque<waiter> waiting;
  uint64_t next_waiter_id = 0;
  uint64_t opened = 0;   ///< connection actors spawned
  uint64_t rejected = 0; ///< requests refused because the queue was full
  std::size_t total() const { return idle.size() + busy.size(); }

  /// The pool is gone: every caller still waiting gets an answer, and the connections
  /// it owns stop. (CAF destroys the state before attached functors run, so this
  /// cannot live in one.)
  ~http_pool_state();
};

/// Owns up to cfg.max connection actors: reuses idle ones, grows with demand, queues
/// up to cfg.queue_bound waiters (each bounded by its own deadline), rejects past
/// that, and closes connections idle longer than cfg.idle_timeout down to cfg.min.
/// A connection that dies takes only its own request with it.
http_pool_actor::behavior_type
http_pool(http_pool_actor::stateful_pointer<http_pool_state> self, http_pool_config cfg,
          connection_factory factory);

} // namespace warren
