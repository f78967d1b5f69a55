#pragma once

#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/restart_policy.hpp"

namespace warren {

/// One child of a supervisor: its registry name and how to (re)start it.
struct child_spec {
  caf::atom_value name;
  std::function<caf::actor(caf::local_actor* self)> start;
};

struct supervisor_state {
  static inline const char* name = "supervisor";
  struct child {
    child_spec spec;
    caf::actor handle;
    restart_policy policy;
    std::size_t restarts = 0;
  };
  std::vector<child> children;
  caf::actor_system* system = nullptr;

  /// Takes the children's names out of the registry. (CAF destroys the state before
  /// attached functors run, so this cannot live in one.)
  ~supervisor_state();
};

/// Starts each child, links to it and registers it in the actor registry under its
/// name, so that others always find the current instance. A child that exits
/// abnormally is restarted after the policy's backoff; one that crashes too often
/// within the window takes the supervisor down with it (escalation). Children stop
/// with the supervisor. It answers get_atom with its number of children once they
/// have all started.
caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self,
                         std::vector<child_spec> children,
                         restart_policy::config policy);

} // namespace warren
