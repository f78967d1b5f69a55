#pragma once

#include <atomic>
#include <thread>

namespace warren {

/// Turns SIGINT and SIGTERM into a readable pipe, so that threads that poll can stop
/// in order. Construct it in main() before any other thread starts: it blocks those
/// signals for every thread created afterwards and waits for them on its own thread.
/// SIGPIPE is ignored: a client that closes stdout makes writes fail, not the process.
class signal_watcher {
public:
  signal_watcher();
  ~signal_watcher();
  signal_watcher(const signal_watcher&) = delete;
  signal_watcher& operator=(const signal_watcher&) = delete;

  /// Becomes readable when a stop signal arrived.
  int fd() const { return pipe_[0]; }

  /// The signal that arrived, 0 if none.
  int received() const { return received_.load(); }

private:
  int pipe_[2] = {-1, -1};
  std::atomic<int> received_{0};
  std::thread thread_;
};

} // namespace warren
