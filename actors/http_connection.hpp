#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "actors/interfaces.hpp"
#include "config/settings.hpp"
#include "runtime/http_client.hpp"
#include "runtime/shutdown_signal.hpp"

namespace warren {

/// What a connection needs to reach the management API.
struct http_connection_config {
  http_endpoint endpoint;
  std::string user;
  std::string password;
  std::chrono::milliseconds connect_timeout{5000};
  /// Fired when warren stops: a call in progress returns at once.
  std::shared_ptr<shutdown_signal> shutdown;
  /// Fired when the call in progress is cancelled: it returns at once.
  std::shared_ptr<shutdown_signal> abort;
};

struct http_connection_state {
  static inline const char* name = "http_connection";
  std::shared_ptr<http_client> client;
};

/// One kept-alive HTTP connection to the management API. Its I/O blocks, so it must be
/// spawned detached (its own thread), never on a scheduler thread.
http_actor::behavior_type
http_connection(http_actor::stateful_pointer<http_connection_state> self,
                http_connection_config cfg);

} // namespace warren
