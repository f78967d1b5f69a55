// The AMQP pool's merging of single publishes, against fake connections that hold
// every request until the test answers it.

#include "actors/connection_pool.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "tests/actors/test_system.hpp"

using namespace warren;
using namespace std::chrono_literals;

namespace {

using answer_atom = caf::atom_constant<caf::atom("answer")>;
using fake_amqp_actor =
    amqp_actor::extend<caf::reacts_to<answer_atom, std::vector<amqp_confirm>>>;

struct held_requests {
  std::vector<amqp_request> seen; ///< every request a connection got, in order
  std::deque<caf::typed_response_promise<amqp_response>> open;
};

// Answers its oldest held request: a single publish with the first confirm's
// outcome, a merged one with all of them.
fake_amqp_actor::behavior_type fake_amqp(fake_amqp_actor::pointer self,
                                         std::shared_ptr<held_requests> held) {
  return {
      [self, held](amqp_atom, amqp_request& request,
                   caf::timespan) -> caf::result<amqp_response> {
        held->seen.push_back(request);
        auto promise = self->make_response_promise<amqp_response>();
        held->open.push_back(promise);
        return promise;
      },
      [held](answer_atom, std::vector<amqp_confirm>& confirms) {
        auto promise = held->open.front();
        held->open.pop_front();
        amqp_response r;
        r.confirms = std::move(confirms);
        promise.deliver(std::move(r));
      },
  };
}

struct outcome {
  bool done = false;
  caf::expected<amqp_response> got = amqp_response{};
};

amqp_request publish(const std::string& body, uint64_t call) {
  amqp_request r;
  r.publish.body = body;
  r.call = call;
  return r;
}

struct fixture : test::test_system {
  std::shared_ptr<held_requests> held = std::make_shared<held_requests>();
  std::vector<caf::actor> connections;
  amqp_protocol::actor pool;

  explicit fixture(std::size_t max = 1, std::size_t merge_limit = 3) {
    pool_config cfg;
    cfg.min = 0;
    cfg.max = max;
    cfg.what = "AMQP";
    cfg.policy = exhaustion_policy::queue;
    cfg.merge_limit = merge_limit;
    amqp_protocol::factory factory = [this](caf::local_actor* owner,
                                            std::shared_ptr<shutdown_signal>) {
      auto conn = owner->spawn(fake_amqp, held);
      connections.push_back(caf::actor_cast<caf::actor>(conn));
      return amqp_actor{conn};
    };
    pool = spawn(connection_pool<amqp_protocol>, cfg, factory);
    run();
  }

  ~fixture() {
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    run();
    for (auto& c : connections)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    run();
  }

  std::shared_ptr<outcome> ask(amqp_request request) {
    auto out = std::make_shared<outcome>();
    spawn([out, request, to = pool](caf::event_based_actor* self) {
      self->request(to, caf::infinite, amqp_atom::value, request, caf::timespan{30s})
          .then(
              [out](amqp_response& r) {
                out->done = true;
                out->got = std::move(r);
              },
              [out](caf::error& err) {
                out->done = true;
                out->got = std::move(err);
              });
    });
    run();
    return out;
  }

  void answer(std::vector<amqp_confirm> confirms) {
    caf::anon_send(connections.at(0), answer_atom::value, std::move(confirms));
    run();
  }
};

amqp_confirm confirmed() {
  return {amqp_confirm::status::confirmed, 0, {}, ec::none};
}

} // namespace

TEST_CASE_FIXTURE(fixture, "amqp pool: single publishes waiting for the connection go "
                           "out together, up to the merge limit, each caller getting "
                           "its own outcome") {
  auto first = ask(publish("1", 1)); // takes the connection alone
  std::vector<std::shared_ptr<outcome>> queued;
  for (int i = 2; i <= 5; ++i)
    queued.push_back(ask(publish(std::to_string(i), i)));
  REQUIRE(held->seen.size() == 1);
  answer({confirmed()});
  REQUIRE(first->done);
  CHECK(first->got);
  // 2, 3 and 4 go as one (the limit is 3); 5 waits.
  REQUIRE(held->seen.size() == 2);
  auto& merged = held->seen[1];
  CHECK(merged.what == amqp_request::kind::publish_each);
  REQUIRE(merged.batch.size() == 3);
  CHECK(merged.batch[0].body == "2");
  CHECK(merged.batch[2].body == "4");
  answer({confirmed(),
          {amqp_confirm::status::unknown, 0,
           "the connection failed; it may or may "
           "not have been published",
           ec::backend_unreachable},
          {amqp_confirm::status::returned, 312, "NO_ROUTE", ec::none}});
  REQUIRE(queued[0]->done);
  CHECK(queued[0]->got);
  REQUIRE(queued[1]->done);
  REQUIRE_FALSE(queued[1]->got);
  CHECK(code_of(queued[1]->got.error()) == ec::backend_unreachable);
  REQUIRE(queued[2]->got);
  CHECK(queued[2]->got->result == amqp_response::outcome::returned);
  CHECK_FALSE(queued[3]->done);
  REQUIRE(held->seen.size() == 3);
  CHECK(held->seen[2].what == amqp_request::kind::publish); // alone: nothing to merge
  answer({confirmed()});
  CHECK(queued[3]->done);
}

TEST_CASE_FIXTURE(fixture, "amqp pool: a get is never merged, and publishes behind it "
                           "wait for their turn") {
  auto first = ask(publish("1", 1));
  amqp_request get;
  get.what = amqp_request::kind::get;
  auto taking = ask(get);
  auto after = ask(publish("2", 2));
  answer({confirmed()});
  REQUIRE(held->seen.size() == 2);
  CHECK(held->seen[1].what == amqp_request::kind::get);
  answer({});
  CHECK(taking->done);
  REQUIRE(held->seen.size() == 3);
  CHECK(held->seen[2].what == amqp_request::kind::publish);
  answer({confirmed()});
  CHECK(after->done);
}

TEST_CASE_FIXTURE(fixture, "amqp pool: cancelling one merged publish answers it at "
                           "once and lets the others' publishes finish") {
  auto first = ask(publish("1", 1));
  auto a = ask(publish("a", 7));
  auto b = ask(publish("b", 8));
  answer({confirmed()});
  REQUIRE(held->seen.size() == 2);
  caf::anon_send(pool, cancel_atom::value, uint64_t{7});
  run();
  REQUIRE(a->done);
  REQUIRE_FALSE(a->got);
  CHECK(code_of(a->got.error()) == ec::cancelled);
  CHECK_FALSE(b->done);
  answer({confirmed(), confirmed()});
  REQUIRE(b->done);
  CHECK(b->got);
  CHECK(connections.size() == 1); // not aborted, not replaced
}
