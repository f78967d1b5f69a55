#pragma once

// Starting warren for the end-to-end tests, shared by every test file: against the
// test broker, or against a fault-injecting server on a port of the test's choosing.
// A failure stops the test with warren's stderr attached.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>

#include "protocol/error.hpp"
#include "tests/kit/mcp_client.hpp"

#ifndef WARREN_BINARY
#define WARREN_BINARY ""
#endif

namespace warren::e2e {

inline std::unique_ptr<mcp_client> start(mcp_client_options opts) {
  opts.binary = warren_binary_path(WARREN_BINARY);
  auto client = mcp_client::start(opts);
  REQUIRE_MESSAGE(client,
                  "cannot start " << opts.binary << ": " << message_of(client.error()));
  return std::move(*client);
}

/// `warren serve <args>` pointed at the test broker (when one is configured).
inline std::unique_ptr<mcp_client> launch(std::vector<std::string> args = {},
                                          std::vector<std::string> env = {}) {
  mcp_client_options opts;
  opts.broker = load_broker_env();
  opts.args = std::move(args);
  opts.env = std::move(env);
  return start(std::move(opts));
}

/// `warren serve <args>` pointed at a management API on 127.0.0.1:`port`, typically a
/// fault-injecting tcp_listener or a closed port.
inline std::unique_ptr<mcp_client>
launch_against_port(uint16_t port, std::vector<std::string> args = {}) {
  mcp_client_options opts;
  opts.args = std::move(args);
  opts.env = {"RABBITMQ_MANAGEMENT_URL=http://127.0.0.1:" + std::to_string(port),
              "WARREN_LOG_LEVEL=warn"};
  return start(std::move(opts));
}

inline std::string diagnostics(mcp_client& c) {
  return "warren's stderr:\n" + c.process().stderr_text();
}

/// Initializes the session and returns the answer; the test stops if there is none.
inline json_message initialized(mcp_client& c,
                                const std::string& version = "2025-11-25") {
  auto r = c.initialize(version);
  REQUIRE_MESSAGE(r, "no answer to initialize; " << diagnostics(c));
  REQUIRE_MESSAGE(r->result() != nullptr, r->text());
  return *r;
}

/// The test broker; the test stops when none is configured.
inline broker_env require_broker() {
  auto env = load_broker_env();
  REQUIRE_MESSAGE(env, "no test broker: set WARREN_TEST_BROKER_ENV to the env file "
                       "scripts/local-broker writes");
  return *env;
}

/// A name no other test (or earlier run) uses: "warren-e2e-<what>-<pid>-<n>".
inline std::string unique_name(const char* what) {
  static std::atomic<int> counter{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return std::string{"warren-e2e-"} + what + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(now % 1000000007) + "-" + std::to_string(++counter);
}

} // namespace warren::e2e
