#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace warren {

/// When to try a failed call again and after how long: up to `attempts` tries in all,
/// the n-th retry after a delay drawn uniformly from [0, min(cap, base * factor^(n-1))]
/// ("full jitter", so that many clients failing together do not retry together).
/// Pure: the caller passes the random draw.
struct retry_policy {
  using duration = std::chrono::steady_clock::duration;

  std::size_t attempts = 3;
  duration base = std::chrono::milliseconds{1000};
  double factor = 2.0;
  duration cap = std::chrono::milliseconds{10000};

  /// The longest delay before retry number `retry` (1 for the first retry).
  duration ceiling(std::size_t retry) const;

  /// The delay before retry number `retry`, for a uniform draw `u` in [0, 1).
  duration delay(std::size_t retry, double u) const;

  /// Whether a call that has made `made` attempts may make another.
  bool may_retry(std::size_t made) const { return made < attempts; }
};

/// Keeps retries to a fraction of traffic, so that a failing backend is not hit with
/// three times the load: every call earns `ratio` of a retry, every retry spends one,
/// and the balance never exceeds `reserve` (which is also where it starts, so a quiet
/// instance can still retry its first failures). Over any stretch of time, retries are
/// at most ratio × calls + reserve.
class retry_budget {
public:
  retry_budget() = default;
  retry_budget(double ratio, double reserve)
      : ratio_(ratio), reserve_(reserve), balance_(reserve) {}

  /// A call went out (first attempts only).
  void on_call();

  /// Takes one retry from the budget; false when it is spent.
  bool try_spend();

  double balance() const { return balance_; }
  uint64_t exhausted() const { return exhausted_; }

private:
  double ratio_ = 0.1;
  double reserve_ = 10;
  double balance_ = 10;
  uint64_t exhausted_ = 0; ///< retries refused for want of budget
};

} // namespace warren
