#pragma once

#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>

#include "actors/interfaces.hpp"
#include "protocol/request_stats.hpp"

namespace warren {

/// Sessions send it one sample per answered request (record); the metrics exporter,
/// the console and `warren report` ask it for a snapshot (report).
using reporter_actor =
    caf::typed_actor<caf::reacts_to<record_atom, request_sample>,
                     caf::replies_to<report_atom>::with<request_snapshot>, status_api>;

struct reporter_state {
  static inline const char* name = "reporter";
  request_stats stats;
  request_stats::config cfg;
  uint64_t recorded = 0;
};

/// Keeps warren's request figures: counters and latency histograms since the start,
/// and a rolling window of recent requests for percentiles, error rates and the
/// slowest operations. One actor for the process, so no figure needs a lock.
reporter_actor::behavior_type
reporter(reporter_actor::stateful_pointer<reporter_state> self,
         request_stats::config cfg);

} // namespace warren

// Both only ever travel between actors of one process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(warren::request_sample)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(warren::request_snapshot)
