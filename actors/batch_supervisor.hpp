#pragma once

#include <functional>
#include <map>
#include <memory>

#include "actors/batch_job.hpp"
#include "actors/interfaces.hpp"

namespace warren {

/// What the batch supervisor gives its jobs.
struct batch_supervisor_config {
  std::shared_ptr<const tool_catalog> catalog;
  /// Finds the current dispatcher, which runs the jobs' items.
  std::function<call_runner()> runner;
};

struct batch_supervisor_state {
  static inline const char* name = "batch_supervisor";
  batch_supervisor_config cfg;
  /// A job running now, and the promise of its caller's answer.
  struct running {
    batch_job_actor job;
    caf::typed_response_promise<tool_result> promise;
    bool answered = false;
  };
  std::map<uint64_t, running> jobs; ///< by call id, while they run
  /// Items of finished jobs by tool, then by status in item_status order.
  std::map<std::string, std::vector<uint64_t>> items;
  uint64_t started = 0;
  uint64_t crashed = 0;
};

/// Spawns one batch job actor per batch call, linked to itself so that the jobs end
/// with it, and hands it the call; a job that crashes costs only its own call (the
/// supervisor answers its caller with the reason). cancel reaches the job of that call;
/// status lists the jobs running now as children.
batch_service::behavior_type
batch_supervisor(batch_service::stateful_pointer<batch_supervisor_state> self,
                 batch_supervisor_config cfg);

} // namespace warren
