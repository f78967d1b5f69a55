#pragma once

#include <functional>
#include <memory>

#include "actors/interfaces.hpp"
#include "protocol/tool_catalog.hpp"

namespace warren {

/// Finds the current management-API backend (it may have been restarted).
using backend_lookup = std::function<http_actor()>;

struct dispatcher_state {
  static inline const char* name = "dispatcher";
  std::shared_ptr<const tool_catalog> catalog;
  backend_lookup backend;
};

/// Validates a tool call against the catalog, turns it into a management-API request,
/// sends it to the backend and shapes the answer into a tool result.
dispatcher_actor::behavior_type
dispatcher(dispatcher_actor::stateful_pointer<dispatcher_state> self,
           std::shared_ptr<const tool_catalog> catalog, backend_lookup backend);

} // namespace warren
