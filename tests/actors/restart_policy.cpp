#include "actors/restart_policy.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <vector>

using namespace warren;
using namespace std::chrono_literals;

namespace {

restart_policy::config small_config() {
  restart_policy::config cfg;
  cfg.max_restarts = 10;
  cfg.window = 30s;
  cfg.initial_backoff = 100ms;
  cfg.max_backoff = 1s;
  return cfg;
}

// Any fixed point will do: the policy only looks at differences.
const restart_policy::time_point t0 = restart_policy::time_point{} + 1000s;

} // namespace

TEST_CASE("restart backoff starts at the initial delay, doubles with each crash and "
          "stops at the cap") {
  restart_policy policy{small_config()};
  std::vector<restart_policy::duration> delays;
  for (int i = 0; i < 7; ++i) {
    auto delay = policy.on_crash(t0 + i * 10ms);
    REQUIRE(delay.has_value());
    delays.push_back(*delay);
  }
  CHECK(delays[0] == 100ms);
  CHECK(delays[1] == 200ms);
  CHECK(delays[2] == 400ms);
  CHECK(delays[3] == 800ms);
  CHECK(delays[4] == 1s); // 1600 ms capped
  CHECK(delays[5] == 1s);
  CHECK(delays[6] == 1s);
}

TEST_CASE("a backoff whose initial delay exceeds the cap is capped from the start") {
  auto cfg = small_config();
  cfg.initial_backoff = 2s;
  restart_policy policy{cfg};
  CHECK(policy.on_crash(t0) == std::optional<restart_policy::duration>{1s});
}

TEST_CASE("the policy gives up on the crash after max_restarts within the window") {
  auto cfg = small_config();
  cfg.max_restarts = 3;
  restart_policy policy{cfg};
  CHECK(policy.on_crash(t0).has_value());
  CHECK(policy.on_crash(t0 + 1s).has_value());
  CHECK(policy.on_crash(t0 + 2s).has_value());
  CHECK_FALSE(policy.on_crash(t0 + 3s).has_value());
  CHECK(policy.recent(t0 + 3s) == 4);
}

TEST_CASE("a policy allowing no restarts gives up on the first crash") {
  auto cfg = small_config();
  cfg.max_restarts = 0;
  restart_policy policy{cfg};
  CHECK_FALSE(policy.on_crash(t0).has_value());
}

TEST_CASE("crashes older than the window are forgotten, so the backoff starts over") {
  auto cfg = small_config();
  cfg.max_restarts = 3;
  restart_policy policy{cfg};
  REQUIRE(policy.on_crash(t0).has_value());
  REQUIRE(policy.on_crash(t0 + 1s).has_value());
  REQUIRE(policy.on_crash(t0 + 2s) == std::optional<restart_policy::duration>{400ms});
  // 31 s after the third crash all three lie outside the 30 s window: a fourth crash
  // is a first crash again, not one too many.
  auto later = t0 + 33s;
  CHECK(policy.recent(later) == 0);
  CHECK(policy.on_crash(later) == std::optional<restart_policy::duration>{100ms});
  CHECK(policy.recent(later) == 1);
}

TEST_CASE("only the crashes that left the window are forgotten") {
  auto cfg = small_config();
  cfg.max_restarts = 2;
  restart_policy policy{cfg};
  REQUIRE(policy.on_crash(t0).has_value());
  REQUIRE(policy.on_crash(t0 + 20s).has_value());
  // At t0 + 40 s the first crash is out of the window, the second is not: this crash
  // is the second within the window, still allowed, with the doubled delay.
  CHECK(policy.recent(t0 + 40s) == 1);
  CHECK(policy.on_crash(t0 + 40s) == std::optional<restart_policy::duration>{200ms});
  // Two crashes remain within the window, so one more is one too many.
  CHECK_FALSE(policy.on_crash(t0 + 41s).has_value());
}
