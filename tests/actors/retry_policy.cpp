#include "actors/retry_policy.hpp"

#include <doctest/doctest.h>

using namespace warren;
using namespace std::chrono_literals;

TEST_CASE("the backoff ceiling doubles from the base up to the cap") {
  retry_policy p; // 1000 ms, x2, cap 10 000 ms
  CHECK(p.ceiling(1) == 1000ms);
  CHECK(p.ceiling(2) == 2000ms);
  CHECK(p.ceiling(3) == 4000ms);
  CHECK(p.ceiling(4) == 8000ms);
  CHECK(p.ceiling(5) == 10000ms);
  CHECK(p.ceiling(60) == 10000ms); // no overflow however far it goes
  CHECK(p.ceiling(100000) == 10000ms);
}

TEST_CASE("full jitter: the delay lies between zero and the ceiling") {
  retry_policy p;
  CHECK(p.delay(1, 0.0) == 0ms);
  CHECK(p.delay(1, 0.5) == 500ms);
  CHECK(p.delay(3, 0.25) == 1000ms);
  CHECK(p.delay(3, 0.999999) <= p.ceiling(3));
  CHECK(p.delay(3, 0.999999) > 3990ms);
  // A draw out of range is clamped, never a negative or larger delay.
  CHECK(p.delay(2, -1.0) == 0ms);
  CHECK(p.delay(2, 7.0) == p.ceiling(2));
}

TEST_CASE("a call may be tried as often as the attempts allow, the first included") {
  retry_policy p;
  p.attempts = 3;
  CHECK(p.may_retry(1));
  CHECK(p.may_retry(2));
  CHECK_FALSE(p.may_retry(3));
  p.attempts = 1;
  CHECK_FALSE(p.may_retry(1));
}

TEST_CASE("the retry budget starts with its reserve and is spent one retry at a time") {
  retry_budget budget{0.1, 3};
  CHECK(budget.try_spend());
  CHECK(budget.try_spend());
  CHECK(budget.try_spend());
  CHECK_FALSE(budget.try_spend());
  CHECK(budget.exhausted() == 1);
}

TEST_CASE("the retry budget earns a fraction of a retry per call") {
  retry_budget budget{0.1, 3};
  for (int i = 0; i < 3; ++i)
    REQUIRE(budget.try_spend());
  for (int i = 0; i < 9; ++i)
    budget.on_call();
  CHECK_FALSE(budget.try_spend()); // 0.9 earned
  budget.on_call();
  CHECK(budget.try_spend()); // the tenth call earned a whole retry
}

TEST_CASE("retries never exceed the ratio of calls plus the reserve") {
  retry_budget budget{0.2, 5};
  int retries = 0;
  for (int call = 0; call < 1000; ++call) {
    budget.on_call();
    // Every call fails and asks for up to two retries.
    for (int i = 0; i < 2; ++i)
      retries += budget.try_spend() ? 1 : 0;
  }
  CHECK(retries <= 0.2 * 1000 + 5 + 1e-9);
  CHECK(retries >= 200); // and the budget is really used
}

TEST_CASE("a long healthy stretch banks no more than the reserve") {
  retry_budget budget{0.5, 2};
  for (int i = 0; i < 10000; ++i)
    budget.on_call();
  CHECK(budget.balance() == doctest::Approx(2.0));
}
