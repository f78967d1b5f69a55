#pragma once

#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "protocol/actor_status.hpp"
#include "protocol/perf_report.hpp"
#include "protocol/request_stats.hpp"

namespace warren {

/// The process's own figures, read from /proc by the runtime.
struct process_figures {
  bool known = false;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double cpu_seconds = 0;
  double open_fds = 0;
  double start_time_seconds = 0; ///< since the Unix epoch
};

/// Turns what warren knows about itself into Prometheus metric families: the request
/// figures from the reporter, the cache, pool, breaker and retry figures from the
/// actors' statuses in `tree` (the whole supervision tree, sessions included), actor
/// counts and mailbox depths by kind, and the process figures. Pure: tests feed it
/// made-up statuses.
std::vector<prometheus::MetricFamily> metric_families(const actor_status& tree,
                                                      const request_snapshot& requests,
                                                      const process_figures& process);

/// The families in Prometheus's text exposition format (what /metrics serves).
std::string to_prometheus_text(const std::vector<prometheus::MetricFamily>& families);

/// The pool, breaker and cache figures the performance report's hints look at.
health_inputs health_from(const actor_status& tree);

/// Calls `f` on `node` and every status below it.
template <class F>
void for_each_status(const actor_status& node, F&& f) {
  f(node);
  for (const auto& child : node.children)
    for_each_status(child, f);
}

/// The value of the figure called `name`, or 0.
double figure_of(const actor_status& s, const std::string& name);

} // namespace warren
