#include "actors/breaker.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "protocol/error.hpp"
#include "tests/actors/test_system.hpp"

using namespace warren;
using namespace std::chrono_literals;

namespace {

// A backend whose answers the test scripts: each request takes the next scripted
// outcome (an HTTP status, or an error when the status is 0), or is held when the
// script is empty.
struct script {
  struct step {
    int status = 200;
    caf::error error;
  };
  std::deque<step> steps;
  std::vector<std::string> seen; ///< methods and targets received
  std::vector<uint64_t> cancels;
};

http_service::behavior_type scripted_backend(http_service::pointer self,
                                             std::shared_ptr<script> s) {
  return {
      [s](cancel_atom, uint64_t call) { s->cancels.push_back(call); },
      [](status_atom) { return actor_status{}; },
      [s](http_atom, http_request& request,
          caf::timespan) -> caf::result<http_response> {
        s->seen.push_back(request.method + " " + request.target);
        if (s->steps.empty())
          return http_response{200, "ok"};
        auto step = s->steps.front();
        s->steps.pop_front();
        if (step.status == 0)
          return step.error;
        return http_response{step.status, "body"};
      },
  };
}

struct outcome {
  bool done = false;
  std::optional<http_response> response;
  caf::error error;
};

caf::error unreachable() {
  return make_error(ec::backend_unreachable, "connection refused");
}

struct fixture : test::test_system {
  std::shared_ptr<script> backend_script = std::make_shared<script>();
  http_service backend;
  http_breaker_actor guard;

  void start(breaker_config cfg) {
    backend = spawn(scripted_backend, backend_script);
    auto b = backend;
    cfg.seed = 42;
    guard = spawn(http_breaker, cfg, [b] { return b; });
    run();
  }

  std::shared_ptr<outcome> ask(std::string method = "GET", caf::timespan budget = 30s,
                               uint64_t call = 0) {
    auto out = std::make_shared<outcome>();
    auto to = guard;
    spawn([out, to, method, budget, call](caf::event_based_actor* self) {
      self->request(to, caf::infinite, http_atom::value,
                    http_request{method, "/api/queues", "", call}, budget)
          .then(
              [out](http_response& response) {
                out->done = true;
                out->response = std::move(response);
              },
              [out](caf::error& err) {
                out->done = true;
                out->error = std::move(err);
              });
    });
    run();
    return out;
  }

  breaker_state<http_protocol>& state() {
    using impl =
        caf::stateful_actor<breaker_state<http_protocol>, http_breaker_actor::base>;
    return dynamic_cast<impl&>(*caf::actor_cast<caf::abstract_actor*>(guard)).state;
  }

  void fail_next(std::size_t n, caf::error err = unreachable()) {
    for (std::size_t i = 0; i < n; ++i)
      backend_script->steps.push_back({0, err});
  }
};

breaker_config no_retries() {
  breaker_config cfg;
  cfg.rule.failures = 5;
  cfg.rule.failure_rate_percent = 0;
  cfg.rule.open_for = 60s;
  cfg.rule.probes = 1;
  cfg.retry.attempts = 1;
  return cfg;
}

} // namespace

TEST_CASE_FIXTURE(fixture, "a closed breaker passes calls and answers through") {
  start(no_retries());
  auto a = ask();
  REQUIRE(a->done);
  REQUIRE(a->response);
  CHECK(a->response->status == 200);
  CHECK(backend_script->seen.size() == 1);
}

TEST_CASE_FIXTURE(fixture, "after five failures in a row the breaker fails calls at "
                           "once, naming the backend and the next probe") {
  start(no_retries());
  fail_next(5);
  for (int i = 0; i < 5; ++i) {
    auto r = ask();
    REQUIRE(r->done);
    CHECK(code_of(r->error) == ec::backend_unreachable);
  }
  auto refused = ask();
  REQUIRE(refused->done); // no time passed: answered at once
  CHECK(code_of(refused->error) == ec::unavailable);
  auto text = message_of(refused->error);
  CHECK(text.find("management API is unavailable") != std::string::npos);
  CHECK(text.find("next probe is in 60 seconds") != std::string::npos);
  CHECK(text.find("connection refused") != std::string::npos);
  CHECK(backend_script->seen.size() == 5); // the refused call never reached it
  CHECK(state().rule.rejected() == 1);
}

TEST_CASE_FIXTURE(fixture, "an open breaker probes after its open time and closes when "
                           "the probe succeeds") {
  start(no_retries());
  fail_next(5);
  for (int i = 0; i < 5; ++i)
    ask();
  advance(30s);
  auto still = ask();
  CHECK(code_of(still->error) == ec::unavailable);
  CHECK(message_of(still->error).find("in 30 seconds") != std::string::npos);
  advance(30s);
  auto probe = ask();
  REQUIRE(probe->response);
  CHECK(probe->response->status == 200);
  auto after = ask();
  CHECK(after->response);
  CHECK(state().rule.current(sys->clock().now()) == circuit_breaker::state::closed);
}

TEST_CASE_FIXTURE(fixture, "a failed probe opens the breaker for another full period") {
  start(no_retries());
  fail_next(6);
  for (int i = 0; i < 5; ++i)
    ask();
  advance(60s);
  auto probe = ask();
  CHECK(code_of(probe->error) == ec::backend_unreachable);
  auto refused = ask();
  CHECK(code_of(refused->error) == ec::unavailable);
  CHECK(message_of(refused->error).find("in 60 seconds") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "answers that are not failures keep the breaker closed: "
                           "404, a refusal, warren's own overload") {
  start(no_retries());
  for (int i = 0; i < 5; ++i)
    backend_script->steps.push_back({404, {}});
  fail_next(5, make_error(ec::overloaded, "pool full"));
  fail_next(5, make_error(ec::broker_refused, "NOT_FOUND"));
  for (int i = 0; i < 15; ++i)
    ask();
  auto r = ask();
  REQUIRE(r->response);
  CHECK(r->response->status == 200);
}

TEST_CASE_FIXTURE(fixture, "a 503 counts as a failure") {
  start(no_retries());
  for (int i = 0; i < 5; ++i)
    backend_script->steps.push_back({503, {}});
  for (int i = 0; i < 5; ++i)
    ask();
  auto r = ask();
  CHECK(code_of(r->error) == ec::unavailable);
  CHECK(message_of(r->error).find("HTTP 503") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "a failed read is retried after a jittered backoff and the "
                           "caller sees only the success") {
  auto cfg = no_retries();
  cfg.retry.attempts = 3;
  start(cfg);
  fail_next(2);
  auto r = ask("GET");
  CHECK_FALSE(r->done); // waiting for its first retry
  advance(1s);          // first retry: within [0, 1 s]
  CHECK_FALSE(r->done);
  advance(2s); // second retry: within [0, 2 s]
  REQUIRE(r->done);
  REQUIRE(r->response);
  CHECK(r->response->status == 200);
  CHECK(backend_script->seen.size() == 3);
  CHECK(state().counters.retries == 2);
}

TEST_CASE_FIXTURE(fixture, "a read is tried at most the configured number of times") {
  auto cfg = no_retries();
  cfg.retry.attempts = 3;
  start(cfg);
  fail_next(10);
  auto r = ask("GET");
  advance(1s); // the first retry's longest delay
  advance(2s); // the second's
  REQUIRE(r->done);
  CHECK(code_of(r->error) == ec::backend_unreachable);
  CHECK(backend_script->seen.size() == 3);
}

TEST_CASE_FIXTURE(fixture, "a write is never retried") {
  auto cfg = no_retries();
  cfg.retry.attempts = 3;
  start(cfg);
  fail_next(3);
  for (auto method : {"PUT", "POST", "DELETE"}) {
    auto r = ask(method);
    REQUIRE(r->done); // no retry pending
    CHECK(code_of(r->error) == ec::backend_unreachable);
  }
  CHECK(backend_script->seen.size() == 3);
}

TEST_CASE_FIXTURE(fixture, "a timeout is not retried: the deadline is spent") {
  auto cfg = no_retries();
  cfg.retry.attempts = 3;
  start(cfg);
  fail_next(1, make_error(ec::backend_timeout, "no answer within 30 s"));
  auto r = ask("GET");
  REQUIRE(r->done);
  CHECK(code_of(r->error) == ec::backend_timeout);
  CHECK(backend_script->seen.size() == 1);
}

TEST_CASE_FIXTURE(fixture, "no retry is made when its delay would pass the deadline") {
  auto cfg = no_retries();
  cfg.retry.attempts = 3;
  cfg.retry.base = 10s; // any draw above 0.1 lands past the 1 s deadline
  start(cfg);
  fail_next(1);
  auto r = ask("GET", 1ms);
  REQUIRE(r->done);
  CHECK(code_of(r->error) == ec::backend_unreachable);
  CHECK(backend_script->seen.size() == 1);
}

TEST_CASE_FIXTURE(fixture, "the retry budget caps retries when everything fails") {
  auto cfg = no_retries();
  cfg.rule.failures = 100000; // keep the breaker out of this test
  cfg.retry.attempts = 2;
  cfg.budget_ratio = 0.1;
  cfg.budget_reserve = 2;
  start(cfg);
  fail_next(1000);
  std::vector<std::shared_ptr<outcome>> calls;
  for (int i = 0; i < 50; ++i)
    calls.push_back(ask("GET"));
  advance(1s); // every retry's delay is within [0, 1 s]
  for (auto& c : calls)
    CHECK(c->done);
  // 50 first attempts, and retries within 10% of them plus the reserve of 2.
  CHECK(state().counters.retries <= 7);
  CHECK(state().counters.retries >= 2);
  CHECK(state().counters.budget_refusals > 0);
  CHECK(backend_script->seen.size() == 50 + state().counters.retries);
}

TEST_CASE_FIXTURE(fixture, "a cancel ends a call waiting for its retry, and is passed "
                           "to the pool") {
  auto cfg = no_retries();
  cfg.retry.attempts = 3;
  start(cfg);
  fail_next(1);
  auto r = ask("GET", 30s, 9);
  REQUIRE_FALSE(r->done); // its retry is pending
  caf::anon_send(guard, cancel_atom::value, uint64_t{9});
  run();
  REQUIRE(r->done);
  CHECK(code_of(r->error) == ec::cancelled);
  CHECK(backend_script->cancels == std::vector<uint64_t>{9});
  advance(2s); // the retry timer fires and finds nothing to do
  CHECK(backend_script->seen.size() == 1);
}
