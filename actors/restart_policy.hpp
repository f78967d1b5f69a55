#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>

namespace warren {

/// When a supervisor may restart a crashed child, and after how long: at most
/// `max_restarts` within `window` (past that it gives up and escalates), with a delay
/// that doubles from `initial_backoff` up to `max_backoff` while crashes keep coming.
/// Pure: the caller passes the time.
class restart_policy {
public:
  using clock = std::chrono::steady_clock;
  using duration = clock::duration;
  using time_point = clock::time_point;

  struct config {
    std::size_t max_restarts = 5;
    duration window = std::chrono::seconds{30};
    duration initial_backoff = std::chrono::milliseconds{100};
    duration max_backoff = std::chrono::seconds{5};
  };

  restart_policy() = default;
  explicit restart_policy(config cfg) : cfg_(cfg) {}

  /// Records a crash at `now`. Returns the delay before the restart, or nullopt when
  /// the child crashed too often within the window and must not be restarted.
  std::optional<duration> on_crash(time_point now);

  /// Restarts recorded within the window ending at `now`.
  std::size_t recent(time_point now) const;

private:
  void forget_before(time_point now);

  config cfg_;
  std::deque<time_point> crashes_;
};

} // namespace warren
