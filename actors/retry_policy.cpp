#include "actors/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace warren {

retry_policy::duration retry_policy::ceiling(std::size_t retry) const {
  if (retry == 0)
    return duration::zero();
  // Computed in floating point and clamped before converting back, so a large retry
  // number saturates at the cap instead of overflowing.
  auto grown = static_cast<double>(base.count()) *
               std::pow(std::max(factor, 1.0), static_cast<double>(retry - 1));
  auto limit = static_cast<double>(cap.count());
  return duration{static_cast<duration::rep>(std::min(grown, limit))};
}

retry_policy::duration retry_policy::delay(std::size_t retry, double u) const {
  u = std::clamp(u, 0.0, 1.0);
  auto top = static_cast<double>(ceiling(retry).count());
  return duration{static_cast<duration::rep>(top * u)};
}

void retry_budget::on_call() {
  balance_ = std::min(reserve_, balance_ + ratio_);
}

bool retry_budget::try_spend() {
  // The tolerance absorbs rounding: ten calls at 0.1 each earn a whole retry.
  if (balance_ < 1.0 - 1e-9) {
    ++exhausted_;
    return false;
  }
  balance_ -= 1.0;
  return true;
}

} // namespace warren
