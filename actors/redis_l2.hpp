#pragma once

#include <memory>
#include <string>

#include "actors/circuit_breaker.hpp"
#include "actors/interfaces.hpp"
#include "runtime/redis_client.hpp"
#include "runtime/shutdown_signal.hpp"

namespace warren {

struct redis_l2_config {
  redis_endpoint endpoint;
  /// Keys are stored under this prefix, so one Redis can serve other users too.
  std::string namespace_prefix = "warren:";
  /// How long one Redis call may take before warren goes on without it.
  std::chrono::milliseconds timeout{200};
  std::shared_ptr<shutdown_signal> shutdown;
  /// Redis's circuit breaker: while open, calls fail at once instead of each waiting
  /// for a connect that will not come.
  circuit_breaker::config breaker;
};

struct redis_l2_state {
  static inline const char* name = "redis_l2";
  redis_l2_config cfg;
  std::shared_ptr<redis_client> client;
  circuit_breaker rule;
  bool up = true; ///< as last seen; transitions are logged once each
  struct {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t fills = 0;
    uint64_t errors = 0;  ///< calls Redis failed or did not answer in time
    uint64_t refused = 0; ///< calls not tried because the breaker was open
  } counters;
};

/// The Redis L2 cache behind the in-process shards, shared by every instance that
/// points at the same Redis. Its I/O blocks, so it runs detached. When Redis is down
/// every call fails fast (its circuit breaker opens, so not even a connect is tried
/// until the next probe) and warren serves from its shards and the broker; the state
/// change is logged once each way.
l2_actor::behavior_type redis_l2(l2_actor::stateful_pointer<redis_l2_state> self,
                                 redis_l2_config cfg);

} // namespace warren
