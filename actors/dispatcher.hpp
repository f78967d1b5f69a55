#pragma once

#include <functional>
#include <memory>

#include "actors/interfaces.hpp"
#include "protocol/tool_catalog.hpp"

namespace warren {

/// Find the current backends (they may have been restarted).
using backend_lookup = std::function<http_actor()>;
using amqp_lookup = std::function<amqp_actor()>;

struct dispatcher_state {
  static inline const char* name = "dispatcher";
  std::shared_ptr<const tool_catalog> catalog;
  backend_lookup backend;
  amqp_lookup amqp;
};

/// Validates a tool call against the catalog, turns it into backend requests, sends
/// them (a guarded write's precheck first) and shapes the answers into a tool result.
dispatcher_actor::behavior_type
dispatcher(dispatcher_actor::stateful_pointer<dispatcher_state> self,
           std::shared_ptr<const tool_catalog> catalog, backend_lookup backend,
           amqp_lookup amqp);

} // namespace warren
