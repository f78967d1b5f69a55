#include "actors/circuit_breaker.hpp"

#include <algorithm>

namespace warren {

bool circuit_breaker::allow(time_point now) {
  if (state_ == state::open) {
    if (now < reopen_at_) {
      ++rejected_;
      return false;
    }
    state_ = state::half_open;
    ++transitions_;
    probes_out_ = 0;
    probes_ok_ = 0;
  }
  if (state_ == state::half_open) {
    if (probes_out_ + probes_ok_ >= std::max<std::size_t>(cfg_.probes, 1)) {
      ++rejected_;
      return false;
    }
    ++probes_out_;
  }
  return true;
}

void circuit_breaker::on_success(time_point now) {
  consecutive_ = 0;
  if (state_ == state::half_open) {
    if (probes_out_ > 0)
      --probes_out_;
    if (++probes_ok_ >= std::max<std::size_t>(cfg_.probes, 1))
      close();
    return;
  }
  if (state_ == state::closed)
    record(now, false);
}

void circuit_breaker::on_failure(time_point now) {
  ++consecutive_;
  if (state_ == state::half_open) {
    open(now);
    return;
  }
  if (state_ != state::closed)
    return; // a call let through before the breaker opened
  record(now, true);
  if (consecutive_ >= std::max<std::size_t>(cfg_.failures, 1) || rate_exceeded(now))
    open(now);
}

void circuit_breaker::on_neutral() {
  if (state_ == state::half_open && probes_out_ > 0)
    --probes_out_;
}

circuit_breaker::state circuit_breaker::current(time_point now) const {
  if (state_ == state::open && now >= reopen_at_)
    return state::half_open;
  return state_;
}

void circuit_breaker::trip(time_point now) {
  if (state_ != state::open)
    open(now);
  else
    reopen_at_ = now + cfg_.open_for;
}

void circuit_breaker::reset() {
  if (state_ != state::closed)
    close();
  consecutive_ = 0;
}

void circuit_breaker::open(time_point now) {
  state_ = state::open;
  ++transitions_;
  reopen_at_ = now + cfg_.open_for;
  probes_out_ = 0;
  probes_ok_ = 0;
}

void circuit_breaker::close() {
  state_ = state::closed;
  ++transitions_;
  consecutive_ = 0;
  window_ = {};
}

int64_t circuit_breaker::slot_of(time_point now) const {
  auto width = std::max<duration>(cfg_.window / buckets, duration{1});
  return static_cast<int64_t>(now.time_since_epoch() / width);
}

void circuit_breaker::record(time_point now, bool failed) {
  auto slot = slot_of(now);
  auto& b = window_[static_cast<std::size_t>(slot) % buckets];
  if (b.slot != slot)
    b = bucket{slot, 0, 0};
  ++b.calls;
  if (failed)
    ++b.failed;
}

bool circuit_breaker::rate_exceeded(time_point now) const {
  if (cfg_.failure_rate_percent == 0)
    return false;
  auto current = slot_of(now);
  std::size_t calls = 0;
  std::size_t failed = 0;
  for (auto& b : window_)
    if (b.slot >= 0 && current - b.slot < static_cast<int64_t>(buckets)) {
      calls += b.calls;
      failed += b.failed;
    }
  return calls >= std::max<std::size_t>(cfg_.min_calls, 1) &&
         failed * 100 >= cfg_.failure_rate_percent * calls;
}

const char* to_string(circuit_breaker::state s) {
  switch (s) {
  case circuit_breaker::state::closed:
    return "closed";
  case circuit_breaker::state::open:
    return "open";
  case circuit_breaker::state::half_open:
    return "half_open";
  }
  return "unknown";
}

} // namespace warren
