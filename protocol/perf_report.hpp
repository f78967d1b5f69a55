#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/request_stats.hpp"

namespace warren {

/// A connection pool's figures, as its status reports them.
struct pool_health {
  std::string name; ///< "management API", "AMQP /"
  uint64_t max = 0; ///< its size limit now
  uint64_t requests = 0;
  uint64_t exhausted = 0;  ///< requests that found every connection busy
  uint64_t waited = 0;     ///< of those, requests that waited for one
  double wait_seconds = 0; ///< summed waiting time
};

/// A circuit breaker's figures.
struct breaker_health {
  std::string name;  ///< "management API", "AMQP broker", "Redis"
  std::string state; ///< "closed", "open", "half-open"
  uint64_t transitions = 0;
  uint64_t rejected = 0; ///< calls refused while open
};

/// The cache's figures (all shards together, L1 only).
struct cache_health {
  bool enabled = false;
  uint64_t hits = 0;
  uint64_t misses = 0;
};

struct health_inputs {
  std::vector<pool_health> pools;
  std::vector<breaker_health> breakers;
  cache_health cache;
};

/// What `warren report` and the console's `report` show.
struct perf_report {
  double window_seconds = 60;
  std::vector<tool_figures> tools;
  std::vector<slow_operation> slowest;
  std::vector<std::string> hints;
};

/// Bottleneck hints derived from the figures, each one sentence that names the
/// setting to change (or the thing to look at) and the figure that suggests it:
/// a pool exhausted often -> raise its max; a cache hit ratio under 80 % -> raise
/// cache.ttl_lists; a breaker open or flapping -> look at the broker; requests that
/// spend most of their time inside warren rather than at the broker -> queueing; a
/// tool failing often -> its errors. "No bottleneck visible" when nothing stands out.
std::vector<std::string> bottleneck_hints(const std::vector<tool_figures>& tools,
                                          const health_inputs& health);

/// The same, with the window the figures cover named in the "no bottleneck" hint. The
/// form above reads it off the figures (calls over per_second), or assumes 60 s when
/// there are none.
std::vector<std::string> bottleneck_hints(const std::vector<tool_figures>& tools,
                                          const health_inputs& health,
                                          double window_seconds);

/// The report as aligned text tables for a terminal.
std::string render_text(const perf_report& report);

/// The report as one JSON object.
std::string render_json(const perf_report& report);

} // namespace warren
