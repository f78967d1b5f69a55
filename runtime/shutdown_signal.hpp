#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace warren {

/// Tells every blocking client to give up at once when the process stops, so that
/// shutdown does not wait out the deadline of a call to a broker that hangs.
class shutdown_signal {
public:
  using token = uint64_t;

  /// Calls `on_fire` when the signal fires (at once if it already has).
  token subscribe(std::function<void()> on_fire) {
    std::unique_lock<std::mutex> guard{mutex_};
    if (fired_) {
      guard.unlock();
      on_fire();
      return 0;
    }
    listeners_.emplace(++next_, std::move(on_fire));
    return next_;
  }

  void unsubscribe(token t) {
    std::lock_guard<std::mutex> guard{mutex_};
    listeners_.erase(t);
  }

  void fire() {
    std::lock_guard<std::mutex> guard{mutex_};
    fired_ = true;
    for (auto& [t, f] : listeners_)
      f();
    listeners_.clear();
  }

private:
  std::mutex mutex_;
  std::map<token, std::function<void()>> listeners_;
  token next_ = 0;
  bool fired_ = false;
};

} // namespace warren
