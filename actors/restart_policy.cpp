#include "actors/restart_policy.hpp"

#include <algorithm>

namespace warren {

void restart_policy::forget_before(time_point now) {
  while (!crashes_.empty() && now - crashes_.front() > cfg_.window)
    crashes_.pop_front();
}

std::optional<restart_policy::duration> restart_policy::on_crash(time_point now) {
  forget_before(now);
  crashes_.push_back(now);
  if (crashes_.size() > cfg_.max_restarts)
    return std::nullopt;
  // The n-th crash within the window waits initial * 2^(n-1), capped.
  auto delay = cfg_.initial_backoff;
  for (std::size_t i = 1; i < crashes_.size() && delay < cfg_.max_backoff; ++i)
    delay *= 2;
  return std::min(delay, cfg_.max_backoff);
}

std::size_t restart_policy::recent(time_point now) const {
  return static_cast<std::size_t>(
      std::count_if(crashes_.begin(), crashes_.end(),
                    [&](time_point t) { return now - t <= cfg_.window; }));
}

} // namespace warren
