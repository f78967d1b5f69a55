#include "actors/circuit_breaker.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace warren;
using namespace std::chrono_literals;
using state = circuit_breaker::state;

namespace {

circuit_breaker::time_point t0{std::chrono::hours{1}};

circuit_breaker::config small() {
  circuit_breaker::config cfg;
  cfg.failures = 3;
  cfg.failure_rate_percent = 0; // consecutive failures only, unless a test says
  cfg.open_for = 10s;
  cfg.probes = 2;
  return cfg;
}

// Lets a call through at `now` and records a failure for it.
void fail(circuit_breaker& b, circuit_breaker::time_point now) {
  REQUIRE(b.allow(now));
  b.on_failure(now);
}

void succeed(circuit_breaker& b, circuit_breaker::time_point now) {
  REQUIRE(b.allow(now));
  b.on_success(now);
}

} // namespace

TEST_CASE("a closed breaker lets calls through and stays closed on success") {
  circuit_breaker b{small()};
  for (int i = 0; i < 100; ++i)
    succeed(b, t0);
  CHECK(b.current(t0) == state::closed);
  CHECK(b.transitions() == 0);
}

TEST_CASE("the breaker opens after the configured number of consecutive failures") {
  circuit_breaker b{small()};
  fail(b, t0);
  fail(b, t0);
  CHECK(b.current(t0) == state::closed);
  fail(b, t0);
  CHECK(b.current(t0) == state::open);
  CHECK(b.transitions() == 1);
  CHECK(b.next_probe() == t0 + 10s);
}

TEST_CASE("a success between failures resets the consecutive count") {
  circuit_breaker b{small()};
  fail(b, t0);
  fail(b, t0);
  succeed(b, t0);
  fail(b, t0);
  fail(b, t0);
  CHECK(b.current(t0) == state::closed);
}

TEST_CASE("an open breaker refuses every call until its time is up, and counts them") {
  circuit_breaker b{small()};
  for (int i = 0; i < 3; ++i)
    fail(b, t0);
  CHECK_FALSE(b.allow(t0 + 1s));
  CHECK_FALSE(b.allow(t0 + 9999ms));
  CHECK(b.rejected() == 2);
  CHECK(b.current(t0 + 10s) == state::half_open);
}

TEST_CASE("half-open lets only the probe calls through; they all succeed and it "
          "closes") {
  circuit_breaker b{small()};
  for (int i = 0; i < 3; ++i)
    fail(b, t0);
  auto later = t0 + 10s;
  CHECK(b.allow(later));       // probe 1
  CHECK(b.allow(later));       // probe 2
  CHECK_FALSE(b.allow(later)); // no more while the probes are out
  b.on_success(later);
  CHECK(b.current(later) == state::half_open);
  CHECK_FALSE(b.allow(later)); // one probe still out, one done: still two used
  b.on_success(later);
  CHECK(b.current(later) == state::closed);
  CHECK(b.allow(later));
  CHECK(b.transitions() == 3); // closed → open → half-open → closed
}

TEST_CASE("a failed probe opens the breaker again for a full period") {
  circuit_breaker b{small()};
  for (int i = 0; i < 3; ++i)
    fail(b, t0);
  auto later = t0 + 10s;
  REQUIRE(b.allow(later));
  b.on_failure(later);
  CHECK(b.current(later) == state::open);
  CHECK(b.next_probe() == later + 10s);
  CHECK_FALSE(b.allow(later + 5s));
}

TEST_CASE("a probe that ends without telling anything frees its slot") {
  circuit_breaker b{small()};
  for (int i = 0; i < 3; ++i)
    fail(b, t0);
  auto later = t0 + 10s;
  REQUIRE(b.allow(later));
  REQUIRE(b.allow(later));
  b.on_neutral();
  CHECK(b.allow(later));
}

TEST_CASE("the failure rate over the window opens the breaker once enough calls are "
          "in it") {
  auto cfg = small();
  cfg.failures = 1000; // only the rate rule
  cfg.failure_rate_percent = 50;
  cfg.min_calls = 10;
  cfg.window = 10s;
  circuit_breaker b{cfg};
  // Alternating outcomes: never two failures in a row, half of them failed.
  for (int i = 0; i < 4; ++i) {
    succeed(b, t0);
    fail(b, t0);
  }
  CHECK(b.current(t0) == state::closed); // 8 calls: below min_calls
  succeed(b, t0);
  fail(b, t0);
  CHECK(b.current(t0) == state::open); // 10 calls, 5 failed
}

TEST_CASE("failures older than the window no longer count toward the rate") {
  auto cfg = small();
  cfg.failures = 1000;
  cfg.failure_rate_percent = 50;
  cfg.min_calls = 4;
  cfg.window = 10s;
  circuit_breaker b{cfg};
  fail(b, t0);
  fail(b, t0);
  succeed(b, t0);
  fail(b, t0); // 3 of 4 failed within the window
  CHECK(b.current(t0) == state::open);

  circuit_breaker c{cfg};
  fail(c, t0);
  fail(c, t0);
  fail(c, t0);
  // Twenty seconds on, those failures have left the window: four successes are 0%.
  for (int i = 0; i < 4; ++i)
    succeed(c, t0 + 20s);
  fail(c, t0 + 20s);
  CHECK(c.current(t0 + 20s) == state::closed);
}

TEST_CASE("a tripped breaker is open until reset by hand") {
  circuit_breaker b{small()};
  b.trip(t0);
  CHECK(b.current(t0) == state::open);
  CHECK_FALSE(b.allow(t0));
  b.reset();
  CHECK(b.current(t0) == state::closed);
  CHECK(b.allow(t0));
}

TEST_CASE("the state names are stable") {
  CHECK(std::string{to_string(state::closed)} == "closed");
  CHECK(std::string{to_string(state::open)} == "open");
  CHECK(std::string{to_string(state::half_open)} == "half_open");
}
