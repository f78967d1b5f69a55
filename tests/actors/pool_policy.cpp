#include "actors/pool_policy.hpp"

#include <doctest/doctest.h>

using namespace warren;

// decide(idle, total, max, waiting, queue_bound)

TEST_CASE("a pool with an idle connection uses it") {
  CHECK(decide(1, 1, 5, 0, 10) == pool_decision::use_idle);
}

TEST_CASE("an idle connection is reused rather than opening another, even below max") {
  CHECK(decide(2, 3, 50, 0, 10) == pool_decision::use_idle);
}

TEST_CASE("an idle connection is used even when the pool is at max and waiters exist") {
  CHECK(decide(1, 5, 5, 10, 10) == pool_decision::use_idle);
}

TEST_CASE("a busy pool below max grows") {
  CHECK(decide(0, 0, 5, 0, 10) == pool_decision::grow);
  CHECK(decide(0, 4, 5, 0, 10) == pool_decision::grow);
}

TEST_CASE("a busy pool at max queues the request while the queue has room") {
  CHECK(decide(0, 5, 5, 0, 10) == pool_decision::enqueue);
  CHECK(decide(0, 5, 5, 9, 10) == pool_decision::enqueue);
}

TEST_CASE("a busy pool at max with a full queue rejects") {
  CHECK(decide(0, 5, 5, 10, 10) == pool_decision::reject);
}

TEST_CASE("a queue bound of zero means fail fast once the pool is at max") {
  CHECK(decide(0, 5, 5, 0, 0) == pool_decision::reject);
}
