#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include <caf/local_actor.hpp>

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

/// Aborts `client` (any class with a thread-safe abort()) when `signal` fires, for as
/// long as `self` lives. The client is held weakly: the actor's state owns it.
template <class Client>
void abort_on_shutdown(caf::local_actor* self,
                       const std::shared_ptr<shutdown_signal>& signal,
                       const std::shared_ptr<Client>& client) {
  if (!signal)
    return;
  std::weak_ptr<Client> weak = client;
  auto token = signal->subscribe([weak] {
    if (auto c = weak.lock())
      c->abort();
  });
  self->attach_functor([signal, token] { signal->unsubscribe(token); });
}

} // namespace warren
