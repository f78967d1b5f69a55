#pragma once

#include <atomic>
#include <list>
#include <mutex>
#include <string>
#include <thread>

#include <caf/expected.hpp>

#include "runtime/control.hpp"

namespace warren {

/// Serves the operator console on a Unix socket: created with mode 0600 (only the
/// user warren runs as may connect; a peer of another uid is also refused by its
/// credentials), one thread per connected operator, one JSON line answered per
/// command line: {"ok":true,"output":"..."}.
class console_server {
public:
  console_server(std::string path, control_plane& control);
  ~console_server();

  /// Binds and starts listening; the error says what went wrong with the path.
  caf::error start();
  /// Closes every connection, joins the threads and removes the socket file.
  void stop();

private:
  void accept_loop();
  void serve(int fd);

  std::string path_;
  control_plane& control_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::thread acceptor_;
  std::mutex mtx_;
  std::list<std::thread> clients_;
  std::list<int> client_fds_;
  std::atomic<bool> stopping_{false};
};

} // namespace warren
