#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace warren {

/// The rule of one circuit breaker, without the actor around it. Closed, it lets every
/// call through and watches the outcomes; it opens after `failures` consecutive
/// failures, or when at least `min_calls` calls within the last `window` failed at a
/// rate of `failure_rate_percent` or more. Open, it refuses every call until
/// `open_for` has passed; then it is half-open and lets `probes` calls through: if
/// they all succeed it closes, if one fails it opens again. Pure: the caller passes
/// the time.
class circuit_breaker {
public:
  using clock = std::chrono::steady_clock;
  using duration = clock::duration;
  using time_point = clock::time_point;

  enum class state { closed, open, half_open };

  struct config {
    std::size_t failures = 5;
    std::size_t failure_rate_percent = 50; ///< 0 turns the rate rule off
    std::size_t min_calls = 20;
    duration window = std::chrono::seconds{30};
    duration open_for = std::chrono::seconds{60};
    std::size_t probes = 3;
  };

  circuit_breaker() = default;
  explicit circuit_breaker(config cfg) : cfg_(cfg) {}

  /// Whether a call may go out at `now`. A call let through must be followed by
  /// exactly one of on_success, on_failure or on_neutral.
  bool allow(time_point now);

  /// The backend answered (whatever it said, it is alive).
  void on_success(time_point now);

  /// The backend could not be reached, broke the connection or missed its deadline.
  void on_failure(time_point now);

  /// The call ended without telling anything about the backend (cancelled, refused by
  /// warren's own pool before reaching it).
  void on_neutral();

  /// The state at `now` (an open breaker whose time is up reads as half-open).
  state current(time_point now) const;

  /// When an open breaker lets its first probe through.
  time_point next_probe() const { return reopen_at_; }

  /// Opens it by hand (an operator's trip), until now + open_for.
  void trip(time_point now);

  /// Closes it by hand and forgets the past.
  void reset();

  /// Replaces the thresholds; the state and its history stay.
  void reconfigure(config cfg) { cfg_ = cfg; }
  const config& settings() const { return cfg_; }

  uint64_t transitions() const { return transitions_; }
  uint64_t rejected() const { return rejected_; }
  std::size_t consecutive_failures() const { return consecutive_; }

private:
  // Outcomes per tenth of the window, so the rate rule costs O(1) per call.
  static constexpr std::size_t buckets = 10;
  struct bucket {
    int64_t slot = -1; ///< which tenth of time this bucket counts, -1 unused
    std::size_t calls = 0;
    std::size_t failed = 0;
  };

  void open(time_point now);
  void close();
  void record(time_point now, bool failed);
  bool rate_exceeded(time_point now) const;
  int64_t slot_of(time_point now) const;

  config cfg_;
  state state_ = state::closed;
  time_point reopen_at_{};
  std::size_t consecutive_ = 0;
  std::size_t probes_out_ = 0; ///< half-open: probes let through, not yet back
  std::size_t probes_ok_ = 0;  ///< half-open: probes that succeeded
  std::array<bucket, buckets> window_{};
  uint64_t transitions_ = 0;
  uint64_t rejected_ = 0;
};

/// "closed", "open" or "half_open".
const char* to_string(circuit_breaker::state s);

} // namespace warren
