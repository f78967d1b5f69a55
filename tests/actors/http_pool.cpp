#include "actors/connection_pool.hpp"

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

// What every fake connection of one pool saw, in the order it happened.
struct connection_log {
  std::vector<caf::actor> connections; ///< in the order the pool opened them
  std::vector<int> requests;           ///< requests received, per connection
  std::vector<std::string> targets;    ///< targets received, over all connections
  std::size_t stopped = 0;             ///< connections that have terminated
  std::vector<std::shared_ptr<shutdown_signal>> aborts; ///< per connection
  std::size_t aborted = 0;                              ///< abort signals fired
};

// A connection that holds every request until the test releases it.
using release_atom = caf::atom_constant<caf::atom("release")>;
using fake_connection_actor = http_actor::extend<caf::reacts_to<release_atom>>;

struct fake_connection_state {
  struct held {
    http_request request;
    caf::typed_response_promise<http_response> promise;
  };
  std::deque<held> held_requests;
};

fake_connection_actor::behavior_type
fake_connection(fake_connection_actor::stateful_pointer<fake_connection_state> self,
                std::shared_ptr<connection_log> log, std::size_t index) {
  self->attach_functor([log] { ++log->stopped; });
  return {
      [self, log, index](http_atom, http_request& request,
                         caf::timespan) -> caf::result<http_response> {
        ++log->requests[index];
        log->targets.push_back(request.target);
        auto promise = self->make_response_promise<http_response>();
        self->state.held_requests.push_back({std::move(request), promise});
        return promise;
      },
      // Answers the oldest held request with 200 and its own target as body.
      [self](release_atom) {
        auto& held = self->state.held_requests;
        if (held.empty())
          return;
        auto h = std::move(held.front());
        held.pop_front();
        h.promise.deliver(http_response{200, h.request.target});
      },
  };
}

// The answer to one request, filled in when it arrives.
struct outcome {
  bool done = false;
  std::optional<http_response> response;
  caf::error error;
};

struct fixture : test::test_system {
  std::shared_ptr<connection_log> log = std::make_shared<connection_log>();
  http_pool_actor pool;

  ~fixture() {
    // Serve whatever still waits before stopping the pool: stopping it with waiters
    // trips the use-after-free reported below, which would corrupt later tests.
    for (int round = 0; pool && round < 100 && !pool_state().waiting.empty(); ++round)
      for (auto& c : log->connections) {
        caf::anon_send(c, release_atom::value);
        run();
      }
    // The pool first, so that it opens no replacement for the connections stopped next.
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    run();
    for (auto& c : log->connections)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    run();
  }

  void start(http_pool_config cfg) {
    auto log_ptr = log;
    connection_factory factory =
        [log_ptr](caf::local_actor* self,
                  std::shared_ptr<shutdown_signal> abort) -> http_actor {
      abort->subscribe([log_ptr] { ++log_ptr->aborted; });
      log_ptr->aborts.push_back(abort);
      auto index = log_ptr->connections.size();
      log_ptr->requests.push_back(0);
      auto conn = self->spawn(fake_connection, log_ptr, index);
      log_ptr->connections.push_back(caf::actor_cast<caf::actor>(conn));
      return conn;
    };
    pool = spawn(http_pool, cfg, factory);
    run();
  }

  // Sends one request from an actor of its own and runs; the outcome fills in when
  // the pool answers, so a test can see that an answer has NOT come yet.
  std::shared_ptr<outcome> ask(std::string target, caf::timespan budget = 30s,
                               uint64_t call = 0) {
    auto out = std::make_shared<outcome>();
    auto to = pool;
    spawn([out, to, target, budget, call](caf::event_based_actor* self) {
      self->request(to, caf::infinite, http_atom::value,
                    http_request{"GET", target, "", call}, budget)
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

  http_pool_state& pool_state() {
    using impl = caf::stateful_actor<http_pool_state, http_pool_actor::base>;
    return dynamic_cast<impl&>(*caf::actor_cast<caf::abstract_actor*>(pool)).state;
  }

  void release(std::size_t connection) {
    caf::anon_send(log->connections.at(connection), release_atom::value);
    run();
  }

  void kill(std::size_t connection) {
    caf::anon_send_exit(log->connections.at(connection), caf::exit_reason::kill);
    run();
  }
};

http_pool_config config(std::size_t min, std::size_t max, std::size_t queue_bound = 10,
                        exhaustion_policy policy = exhaustion_policy::queue) {
  http_pool_config cfg;
  cfg.min = min;
  cfg.max = max;
  cfg.queue_bound = queue_bound;
  cfg.policy = policy;
  cfg.idle_timeout = 10s;
  return cfg;
}

bool answered_with(const std::shared_ptr<outcome>& out, const std::string& body) {
  return out->done && out->response && out->response->status == 200 &&
         out->response->body == body;
}

} // namespace

TEST_CASE_FIXTURE(fixture, "the pool opens min connections when it starts") {
  start(config(3, 10));
  CHECK(log->connections.size() == 3);
  CHECK(log->targets.empty());
}

TEST_CASE_FIXTURE(fixture, "an idle connection is reused instead of opening another") {
  start(config(1, 10));
  auto a = ask("/a");
  release(0);
  REQUIRE(answered_with(a, "/a"));
  auto b = ask("/b");
  release(0);
  CHECK(answered_with(b, "/b"));
  CHECK(log->connections.size() == 1);
  CHECK(log->requests[0] == 2);
}

TEST_CASE_FIXTURE(fixture, "the pool grows with concurrent demand up to max and no "
                           "further") {
  start(config(1, 3));
  auto a = ask("/a");
  CHECK(log->connections.size() == 1); // the min connection took it
  auto b = ask("/b");
  auto c = ask("/c");
  CHECK(log->connections.size() == 3);
  auto d = ask("/d");
  CHECK(log->connections.size() == 3);
  CHECK(log->targets == std::vector<std::string>{"/a", "/b", "/c"});
  CHECK_FALSE(d->done);
  release(1); // the fourth takes the first connection that comes free
  CHECK(answered_with(b, "/b"));
  CHECK(log->requests[1] == 2);
  CHECK(log->connections.size() == 3);
}

TEST_CASE_FIXTURE(fixture,
                  "requests beyond max wait and are served in arrival order as "
                  "connections come free") {
  start(config(1, 2));
  auto a = ask("/a"); // connection 0
  auto b = ask("/b"); // connection 1
  auto c = ask("/c");
  auto d = ask("/d");
  auto e = ask("/e");
  CHECK(log->targets == std::vector<std::string>{"/a", "/b"});
  CHECK_FALSE(c->done);
  release(0);
  CHECK(answered_with(a, "/a"));
  CHECK(log->targets == std::vector<std::string>{"/a", "/b", "/c"});
  release(1);
  CHECK(answered_with(b, "/b"));
  release(0);
  CHECK(answered_with(c, "/c"));
  CHECK(log->targets == std::vector<std::string>{"/a", "/b", "/c", "/d", "/e"});
  release(1);
  release(0);
  CHECK(answered_with(d, "/d"));
  CHECK(answered_with(e, "/e"));
  CHECK(log->connections.size() == 2);
}

// Bug: the reject branch of http_pool.cpp returns the error after the handler already
// made a response promise, which marked the request as answered: CAF drops the error
// and the caller waits until its own timeout.
TEST_CASE_FIXTURE(fixture,
                  "a request arriving at a full wait queue is rejected at once "
                  "with overloaded") {
  start(config(1, 1, 2));
  auto a = ask("/a");
  auto b = ask("/b");
  auto c = ask("/c");
  CHECK_FALSE(b->done);
  CHECK_FALSE(c->done);
  auto d = ask("/d"); // no time passes: the answer must come without waiting
  CHECK(d->done);
  CHECK_FALSE(d->response);
  CHECK(code_of(d->error) == ec::overloaded);
  CHECK(message_of(d->error).find("retry") != std::string::npos);
  CHECK(log->targets == std::vector<std::string>{"/a"});
  // The waiters are unaffected.
  release(0);
  CHECK(answered_with(a, "/a"));
  release(0);
  CHECK(answered_with(b, "/b"));
}

TEST_CASE_FIXTURE(fixture,
                  "queue policy: a waiting request fails with overloaded at its own "
                  "deadline and never reaches a connection") {
  start(config(1, 1));
  auto a = ask("/a", 60s);
  auto b = ask("/b", 5s);
  advance(4s);
  CHECK_FALSE(b->done);
  advance(1s);
  REQUIRE(b->done);
  CHECK_FALSE(b->response);
  CHECK(code_of(b->error) == ec::overloaded);
  CHECK(message_of(b->error).find("deadline") != std::string::npos);
  CHECK_FALSE(a->done);
  release(0);
  CHECK(answered_with(a, "/a"));
  CHECK(log->targets == std::vector<std::string>{"/a"});
}

TEST_CASE_FIXTURE(fixture, "a connection that dies fails only its own request and the "
                           "pool opens a replacement on demand") {
  start(config(1, 2));
  auto a = ask("/a", 2s);  // connection 0
  auto b = ask("/b", 60s); // connection 1
  kill(0);
  CHECK_FALSE(b->done);
  // The dead connection's request ends with an error no later than its deadline
  // (plus the pool's grace second); the other one keeps waiting for its connection.
  advance(3s);
  REQUIRE(a->done);
  CHECK_FALSE(a->response);
  CHECK(a->error);
  CHECK_FALSE(b->done);
  // The pool is below max again and serves a new request on a new connection.
  auto c = ask("/c");
  REQUIRE(log->connections.size() == 3);
  CHECK(log->requests[2] == 1);
  release(2);
  CHECK(answered_with(c, "/c"));
  release(1);
  CHECK(answered_with(b, "/b"));
}

TEST_CASE_FIXTURE(fixture, "a request queued when the pool is full is served by a "
                           "replacement when a busy connection dies") {
  start(config(1, 1));
  auto a = ask("/a", 60s);
  auto b = ask("/b", 60s);
  CHECK(log->connections.size() == 1);
  kill(0);
  REQUIRE(log->connections.size() == 2);
  CHECK(log->requests[1] == 1);
  release(1);
  CHECK(answered_with(b, "/b"));
}

TEST_CASE_FIXTURE(fixture, "idle connections beyond min close after the idle timeout, "
                           "never below min") {
  start(config(1, 3)); // idle timeout 10 s, swept every 5 s
  auto a = ask("/a");
  auto b = ask("/b");
  auto c = ask("/c");
  REQUIRE(log->connections.size() == 3);
  release(0);
  release(1);
  release(2);
  REQUIRE((a->done && b->done && c->done));
  advance(5s);
  CHECK(log->stopped == 0);
  advance(5s);
  CHECK(log->stopped == 2);
  advance(60s);
  CHECK(log->stopped == 2);
  // The one left still serves without opening another.
  auto d = ask("/d");
  CHECK(log->connections.size() == 3);
  CHECK(log->targets.size() == 4);
}

TEST_CASE_FIXTURE(fixture, "a connection that keeps working is not closed as idle") {
  start(config(0, 2));
  auto a = ask("/a");
  release(0);
  advance(5s);
  auto b = ask("/b");
  release(0);
  advance(5s); // 10 s after the first use, 5 s after the last
  CHECK(log->stopped == 0);
  advance(5s);
  CHECK(log->stopped == 1);
}

// Bug: the pool spawns its connections without linking them, so they outlive it (a
// restarted pool leaks its old connections; each is a detached thread with a socket).
TEST_CASE_FIXTURE(fixture, "stopping the pool stops its connections") {
  start(config(2, 4));
  auto a = ask("/a");
  auto b = ask("/b");
  auto c = ask("/c");
  REQUIRE(log->connections.size() == 3);
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  run();
  CHECK(log->stopped == 3);
}

// Bug: http_pool.cpp answers the waiters from an attach_functor, which CAF 0.17 runs
// after stateful_actor::on_exit() has destroyed the state: the functor walks a freed
// deque and delivers through destroyed promises (heap corruption). Skipped, not just
// allowed to fail, because it corrupts the heap for the tests after it.
TEST_CASE_FIXTURE(fixture, "stopping the pool answers its waiting requests with "
                           "cancelled") {
  start(config(1, 1));
  auto a = ask("/a");
  auto b = ask("/b");
  auto c = ask("/c");
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  run();
  REQUIRE(b->done);
  CHECK(code_of(b->error) == ec::cancelled);
  REQUIRE(c->done);
  CHECK(code_of(c->error) == ec::cancelled);
}

TEST_CASE_FIXTURE(fixture, "block policy: a waiting request gives up after the pool's "
                           "wait time, long before its own deadline") {
  auto cfg = config(1, 1, 10, exhaustion_policy::block);
  cfg.wait = 2s;
  start(cfg);
  auto a = ask("/a", 60s);
  auto b = ask("/b", 60s);
  advance(1999ms);
  CHECK_FALSE(b->done);
  advance(1ms);
  REQUIRE(b->done);
  CHECK(code_of(b->error) == ec::overloaded);
  CHECK(message_of(b->error).find("2000 ms") != std::string::npos);
  CHECK(pool_state().counters.timed_out == 1);
  release(0);
  CHECK(answered_with(a, "/a"));
  CHECK(log->targets == std::vector<std::string>{"/a"});
}

TEST_CASE_FIXTURE(fixture, "block policy: a request whose own deadline is sooner than "
                           "the wait time gives up at its deadline") {
  auto cfg = config(1, 1, 10, exhaustion_policy::block);
  cfg.wait = 10s;
  start(cfg);
  auto a = ask("/a", 60s);
  auto b = ask("/b", 3s);
  advance(3s);
  REQUIRE(b->done);
  CHECK(code_of(b->error) == ec::overloaded);
  release(0);
}

TEST_CASE_FIXTURE(fixture,
                  "queue policy: a request waits past the pool's wait time, up "
                  "to its own deadline, and is served when a connection frees") {
  auto cfg = config(1, 1, 10, exhaustion_policy::queue);
  cfg.wait = 1s;
  start(cfg);
  auto a = ask("/a", 60s);
  auto b = ask("/b", 60s);
  advance(30s);
  CHECK_FALSE(b->done);
  release(0);
  CHECK(answered_with(a, "/a"));
  release(0);
  CHECK(answered_with(b, "/b"));
  CHECK(pool_state().counters.waited == 1);
  CHECK(pool_state().counters.wait_time == caf::timespan{30s});
}

TEST_CASE_FIXTURE(fixture, "fail_fast policy: a request finding every connection busy "
                           "at max is refused at once, and none waits") {
  start(config(1, 2, 10, exhaustion_policy::fail_fast));
  auto a = ask("/a");
  auto b = ask("/b");
  auto c = ask("/c"); // no time passes
  REQUIRE(c->done);
  CHECK(code_of(c->error) == ec::overloaded);
  CHECK(message_of(c->error).find("fail_fast") != std::string::npos);
  CHECK(pool_state().waiting.empty());
  CHECK(pool_state().counters.exhausted == 1);
  CHECK(pool_state().counters.rejected == 1);
  release(0);
  CHECK(answered_with(a, "/a"));
  auto d = ask("/d"); // a connection is free again
  release(0);
  CHECK(answered_with(d, "/d"));
  release(1);
  CHECK(answered_with(b, "/b"));
}

TEST_CASE_FIXTURE(fixture, "the pool counts connections opened and reused, and "
                           "requests that found it exhausted") {
  start(config(1, 1));
  auto a = ask("/a");
  auto b = ask("/b");
  release(0);
  release(0);
  REQUIRE(answered_with(b, "/b"));
  auto c = ask("/c");
  release(0);
  REQUIRE(answered_with(c, "/c"));
  auto& counters = pool_state().counters;
  CHECK(counters.opened == 1);
  CHECK(counters.reused == 3); // a, b (after waiting) and c on the one connection
  CHECK(counters.exhausted == 1);
  CHECK(counters.waited == 1);
}

TEST_CASE_FIXTURE(fixture, "a cancelled call waiting for a connection leaves the queue "
                           "and never reaches one") {
  start(config(1, 1));
  auto a = ask("/a", 60s, 1);
  auto b = ask("/b", 60s, 2);
  caf::anon_send(pool, cancel_atom::value, uint64_t{2});
  run();
  REQUIRE(b->done);
  CHECK(code_of(b->error) == ec::cancelled);
  CHECK(pool_state().waiting.empty());
  release(0);
  CHECK(answered_with(a, "/a"));
  CHECK(log->targets == std::vector<std::string>{"/a"});
  CHECK(log->aborted == 0);
}

TEST_CASE_FIXTURE(fixture, "a cancelled call at work has its connection aborted and "
                           "replaced, and the next caller gets a fresh one") {
  start(config(1, 1));
  auto a = ask("/a", 60s, 5);
  auto b = ask("/b", 60s, 6); // waits for the only connection
  caf::anon_send(pool, cancel_atom::value, uint64_t{5});
  run();
  REQUIRE(a->done);
  CHECK(code_of(a->error) == ec::cancelled);
  CHECK(log->aborted == 1);
  CHECK(log->stopped >= 1); // the aborted connection is not reused
  // The waiter got a new connection.
  REQUIRE(log->connections.size() == 2);
  CHECK(log->requests[1] == 1);
  release(1);
  CHECK(answered_with(b, "/b"));
  CHECK(pool_state().counters.cancelled == 1);
}
