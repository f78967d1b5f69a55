#pragma once

#include <memory>
#include <string>

#include "actors/interfaces.hpp"
#include "runtime/amqp_client.hpp"
#include "runtime/shutdown_signal.hpp"

namespace warren {

/// What a connection needs to reach the broker over AMQP, in one vhost.
struct amqp_connection_config {
  amqp_endpoint endpoint;
  std::string vhost = "/";
  /// Fired when warren stops: a call in progress returns at once.
  std::shared_ptr<shutdown_signal> shutdown;
  /// Fired when the call in progress is cancelled: it returns at once.
  std::shared_ptr<shutdown_signal> abort;
};

struct amqp_connection_state {
  static inline const char* name = "amqp_connection";
  std::shared_ptr<amqp_client> client;
};

/// One AMQP connection (one confirm-mode channel) to one vhost. Its I/O blocks, so it
/// must be spawned detached, never on a scheduler thread.
amqp_actor::behavior_type
amqp_connection(amqp_actor::stateful_pointer<amqp_connection_state> self,
                amqp_connection_config cfg);

} // namespace warren
