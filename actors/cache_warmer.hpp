#pragma once

#include <functional>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>

#include "actors/interfaces.hpp"

namespace warren {

struct cache_warmer_state {
  static inline const char* name = "cache_warmer";
  std::size_t pending = 0;
  std::size_t failed = 0;
};

/// Fills the cache at start without delaying anybody: builds the discovery index and
/// lists the queues, exchanges and bindings of each vhost in `vhosts` through the
/// dispatcher (so the keys are exactly those an agent's first calls use), logs the
/// outcome and stops.
caf::behavior cache_warmer(caf::stateful_actor<cache_warmer_state>* self,
                           dispatcher_actor dispatcher, std::vector<std::string> vhosts,
                           caf::timespan budget);

} // namespace warren
