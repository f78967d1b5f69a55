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

TEST_CASE(
    "fail_fast rejects at once when the pool is busy at max, whatever the queue") {
  CHECK(decide(0, 5, 5, 0, 10, exhaustion_policy::fail_fast) == pool_decision::reject);
  CHECK(decide(0, 4, 5, 0, 10, exhaustion_policy::fail_fast) == pool_decision::grow);
}

TEST_CASE("block waits like queue, within the same bound") {
  CHECK(decide(0, 5, 5, 9, 10, exhaustion_policy::block) == pool_decision::enqueue);
  CHECK(decide(0, 5, 5, 10, 10, exhaustion_policy::block) == pool_decision::reject);
}

TEST_CASE("the three exhaustion policies parse by name, and nothing else does") {
  CHECK(parse_exhaustion_policy("block") == exhaustion_policy::block);
  CHECK(parse_exhaustion_policy("queue") == exhaustion_policy::queue);
  CHECK(parse_exhaustion_policy("fail_fast") == exhaustion_policy::fail_fast);
  CHECK_FALSE(parse_exhaustion_policy("Block"));
  CHECK_FALSE(parse_exhaustion_policy(""));
}
