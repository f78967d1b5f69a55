#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "tests/kit/broker_env.hpp"

namespace warren {

/// A RabbitMQ node of one test's own, in its own temporary directory, that the test
/// may kill, freeze and restart without disturbing any other test: fault injection on
/// a real broker. Started and stopped with scripts/local-broker; the node runs in its
/// own session (setsid), whose id is the pid in DIR/broker.pid, so the whole node is
/// reachable as "the processes of that session".
///
/// Not thread-safe: one test thread drives it.
class private_broker {
public:
  /// Makes a temporary directory and starts a node there with `script`
  /// (scripts/local-broker); returns once its management API answers.
  static caf::expected<std::unique_ptr<private_broker>> start(std::string script);

  /// Kills the node (its data goes with the directory, so a graceful stop would only
  /// cost time), lets the script stop its epmd, and removes the directory.
  ~private_broker();
  private_broker(const private_broker&) = delete;
  private_broker& operator=(const private_broker&) = delete;

  /// Where the node listens (the same after restart()).
  const broker_env& env() const { return env_; }
  const std::string& dir() const { return dir_; }

  /// The live (not zombie) processes of the node's session.
  std::vector<pid_t> processes() const;
  /// True while any process of the node runs.
  bool running() const { return !processes().empty(); }

  /// SIGKILL to every process of the node (a crash, a pulled plug: no goodbye on any
  /// connection). Returns once none of them runs.
  caf::error kill();

  /// SIGSTOP to every process of the node: its sockets stay open and accept
  /// connections, but nothing answers. Returns once every thread of the node is
  /// stopped.
  caf::error freeze();
  /// SIGCONT: the frozen node goes on.
  caf::error thaw();

  /// Starts the node again in the same directory: the same ports, the same data
  /// (durable queues and persistent messages survive a kill). Kills what is left of
  /// the old node first. Fails if the ports could not be reused.
  caf::error restart();

private:
  private_broker(std::string script, std::string dir);
  caf::error run_script(const std::string& command);
  caf::error signal_all(int signo);

  std::string script_;
  std::string dir_;
  broker_env env_;
};

/// scripts/local-broker of the source tree the test executable was built from (CMake
/// compiles WARREN_SOURCE_DIR into the integration tests), else relative to the
/// working directory.
inline std::string local_broker_script() {
#ifdef WARREN_SOURCE_DIR
  return std::string{WARREN_SOURCE_DIR} + "/scripts/local-broker";
#else
  return "scripts/local-broker";
#endif
}

/// Thread count (/proc/PID/task entries) of a process, 0 if unknown.
std::size_t thread_count(pid_t pid);
/// Resident set size (VmRSS) of a process in bytes, 0 if unknown.
std::size_t rss_bytes(pid_t pid);

} // namespace warren
