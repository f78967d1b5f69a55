#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "config/settings.hpp"
#include "protocol/error.hpp"
#include "protocol/http_message.hpp"
#include "runtime/http_client.hpp"

namespace warren {

/// The private RabbitMQ node the test fixture started (scripts/local-broker writes
/// its address as KEY=VALUE lines).
struct broker_env {
  std::string management_url; ///< RABBITMQ_MANAGEMENT_URL, "http://127.0.0.1:PORT"
  std::string amqp_url;       ///< RABBITMQ_URL
  std::string host;           ///< of the management URL
  uint16_t management_port = 0;
  std::string base_path;      ///< of the management URL, "" or "/prefix"
  uint16_t amqp_port = 0;     ///< RABBITMQ_AMQP_PORT
  long broker_pid = 0;        ///< RABBITMQ_BROKER_PID, 0 when absent
  std::string user = "guest"; ///< from RABBITMQ_URL
  std::string password = "guest";

  http_endpoint management_endpoint() const {
    return http_endpoint{host, management_port, base_path};
  }
};

/// Parses an env file's text; nullopt when it names no usable management URL.
std::optional<broker_env> parse_broker_env(const std::string& text);

/// Reads the file named by the environment variable WARREN_TEST_BROKER_ENV, else
/// `fallback_path` (if not empty). nullopt when neither exists or parses.
std::optional<broker_env> load_broker_env(const std::string& fallback_path);

/// As above with the path CMake compiles into the test executable, if any.
inline std::optional<broker_env> load_broker_env() {
#ifdef WARREN_TEST_BROKER_ENV
  return load_broker_env(std::string{WARREN_TEST_BROKER_ENV});
#else
  return load_broker_env(std::string{});
#endif
}

/// Calls the broker's management API for test setup: returns the HTTP status and
/// stores the body in `*out` (or the error message when the call failed, returning
/// -1). Inline so that kit users that never call it need not link warren_net.
inline int mgmt_call(const broker_env& env, const std::string& method,
                     const std::string& path, const std::string& body = {},
                     std::string* out = nullptr) {
  http_client client{env.management_endpoint(), env.user, env.password,
                     std::chrono::seconds(5)};
  auto res = client.send(http_request{method, path, body}, std::chrono::seconds(30));
  if (!res) {
    if (out)
      *out = message_of(res.error());
    return -1;
  }
  if (out)
    *out = std::move(res->body);
  return res->status;
}

} // namespace warren
