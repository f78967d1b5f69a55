#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "protocol/http_rules.hpp"
#include "runtime/http_sessions.hpp"

namespace warren {

struct http_server_config {
  std::string host = "127.0.0.1";
  uint16_t port = 8765; ///< 0: any free port (see http_server::port)
  std::string token;    ///< required bearer token; "" none
  http_allow_list allowed;
  std::size_t max_body_bytes = 10u << 20;
  std::size_t max_in_flight = 64; ///< requests per session
  std::size_t max_sessions = 10000;
  std::chrono::milliseconds session_idle{600000};
  double rate_session = 100; ///< requests per second; 0: off
  double rate_global = 10000;
  std::size_t threads = 1;
  std::string session_prefix; ///< starts every session id (for load balancers)
  /// How often an open SSE stream gets a comment line, so that proxies keep it and
  /// a vanished client is noticed.
  std::chrono::milliseconds keepalive{15000};
};

/// Why warren is not ready to take traffic ("" when it is): the readiness probe.
using readiness_check = std::function<std::string()>;

/// MCP's Streamable HTTP transport (revision 2025-11-25) on Boost.Beast: the endpoint
/// /mcp (POST messages, GET a server-to-client stream, DELETE a session), and /healthz
/// and /readyz for load balancers. Each MCP session is a session actor, exactly as
/// over stdio; the connections run on their own threads and talk to sessions by
/// messages only.
class http_server {
public:
  http_server(caf::actor_system& sys, http_server_config cfg,
              http_session_table::session_factory factory, readiness_check ready);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and starts serving; the error says why it cannot listen.
  caf::error start();
  /// The port it listens on (the chosen one when configured with 0).
  uint16_t port() const;
  /// Stops taking connections and requests, tells every session its input ended (they
  /// answer what is in flight), waits up to `grace` for the answers to be written,
  /// then closes every connection.
  void stop(std::chrono::milliseconds grace);
  /// The live sessions' actors, for the console.
  std::vector<caf::actor> sessions() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace warren
