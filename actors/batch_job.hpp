#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "protocol/batch.hpp"

namespace warren {

/// One batch call. run starts it and answers the job's result when it is over;
/// cancel stops it (rolling back in all_or_nothing); status says how far it got.
using batch_job_actor = caf::typed_actor<caf::replies_to<run_atom>::with<tool_result>,
                                         caf::reacts_to<cancel_atom>, status_api>;

/// What a job is given.
struct batch_job_config {
  std::shared_ptr<const batch_plan> plan;
  std::shared_ptr<const tool_catalog> catalog; ///< prepares checks and rollbacks
  std::function<call_runner()> runner; ///< finds the dispatcher, which runs each item
  progress_actor progress;             ///< none: no progress wanted
  uint64_t call = 0;                   ///< the tools/call's id
  caf::timespan budget = std::chrono::minutes{5}; ///< for the whole job
  batch_service parent; ///< hears the job's totals at its end (none: nobody)
};

struct batch_job_state {
  static inline const char* name = "batch_job";

  /// What the job is doing: checking (deletes in all_or_nothing, exchanges before
  /// publishing), running the items, undoing them, or done.
  enum class phase { check, run, rollback, done };

  /// One piece of work in flight or waiting: items (one, or a publish chunk) and
  /// the operation that does them.
  struct task {
    std::vector<std::size_t> items;
    op_handle op;
  };

  batch_job_config cfg;
  phase now = phase::check;
  std::vector<item_outcome> outcomes;
  std::vector<task> tasks; ///< this phase's work, in order
  std::size_t next = 0;    ///< the next task to start
  std::size_t in_flight = 0;
  std::size_t finished = 0; ///< items with their outcome
  uint64_t last_progress = 0;
  std::string stop_reason; ///< set when no further task starts
  bool cancelled = false;
  caf::actor_clock::time_point started;
  caf::actor_clock::time_point deadline;          ///< of the check and run phases
  caf::actor_clock::time_point rollback_deadline; ///< of the rollback phase
  caf::typed_response_promise<tool_result> promise;
};

/// Runs a batch: validates nothing itself (the catalog did), runs the items with
/// bounded parallelism through the runner, reports progress, undoes what it did in
/// all_or_nothing mode when an item fails or the call is cancelled, answers one
/// result with an entry per item, logs one audit line and quits.
batch_job_actor::behavior_type
batch_job(batch_job_actor::stateful_pointer<batch_job_state> self,
          batch_job_config cfg);

} // namespace warren
