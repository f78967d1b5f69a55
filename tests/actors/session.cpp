#include "actors/session.hpp"

#include <doctest/doctest.h>

#include <caf/stateful_actor.hpp>

#include "protocol/error.hpp"
#include "runtime/logging.hpp"
#include "tests/actors/test_system.hpp"

using namespace warren;
using namespace std::chrono_literals;

namespace {

// What the session wrote, and how much reading credit it gave back.
struct capture_output : session_output {
  std::vector<std::string> lines;
  /// Per line, what it was routed as: "answer <id>" or "about <id>".
  std::vector<std::string> routes;
  int released = 0;
  void respond(const std::string& id_json, std::string line) override {
    routes.push_back("answer " + id_json);
    lines.push_back(std::move(line));
  }
  void notify(const std::string& about_id_json, std::string line) override {
    routes.push_back("about " + about_id_json);
    lines.push_back(std::move(line));
  }
  void drop(const std::string& id_json) override {
    routes.push_back("dropped " + id_json);
  }
  void release() override { ++released; }
  bool saw(const std::string& needle) const {
    for (auto& l : lines)
      if (l.find(needle) != std::string::npos)
        return true;
    return false;
  }
};

// A dispatcher that holds every call until the test tells it how to answer.
using answer_atom = caf::atom_constant<caf::atom("answer")>;
using fake_dispatcher_actor =
    dispatcher_actor::extend<caf::reacts_to<answer_atom, bool, std::string>>;

struct fake_dispatcher_state {
  std::vector<caf::typed_response_promise<tool_result>> held;
  std::vector<tool_call> calls;
  std::vector<uint64_t> cancels;
};

fake_dispatcher_actor::behavior_type
fake_dispatcher(fake_dispatcher_actor::stateful_pointer<fake_dispatcher_state> self) {
  return {
      [self](call_atom, const tool_call& call,
             caf::timespan) -> caf::result<tool_result> {
        self->state.calls.push_back(call);
        auto rp = self->make_response_promise<tool_result>();
        self->state.held.push_back(rp);
        return rp;
      },
      [self](cancel_atom, uint64_t call) { self->state.cancels.push_back(call); },
      [](run_atom, op_handle, caf::timespan, uint64_t) {
        return tool_catalog::failure("the fake dispatcher runs no prepared calls");
      },
      [](amqp_atom, op_handle, caf::timespan, uint64_t) -> caf::result<amqp_response> {
        return make_error(ec::unavailable, "the fake dispatcher has no AMQP");
      },
      [](ttl_atom, caf::timespan) {},
      [](peers_atom) {},
      [](status_atom) { return actor_status{}; },
      // ok=true: answer the oldest call with `text` as result JSON (a tool error if
      // it says "isError":true); ok=false: fail it
      // with invalid_params and `text` as message.
      [self](answer_atom, bool ok, const std::string& text) {
        auto rp = self->state.held.front();
        self->state.held.erase(self->state.held.begin());
        if (ok)
          rp.deliver(
              tool_result{text.find(R"("isError":true)") != std::string::npos, text});
        else
          rp.deliver(make_error(ec::invalid_params, text));
      },
  };
}

struct fixture : test::test_system {
  std::shared_ptr<capture_output> out = std::make_shared<capture_output>();
  fake_dispatcher_actor fake;
  session_impl_actor client;

  fixture() {
    fake = spawn(fake_dispatcher);
    dispatcher_actor as_dispatcher = fake;
    session_config cfg;
    cfg.shutdown_grace = 2s;
    cfg.client_sets_stderr_level = true; // as over stdio
    client = spawn(
        session, std::make_shared<const tool_catalog>(), out,
        [as_dispatcher] { return as_dispatcher; }, cfg);
    line(
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25"}})");
    out->lines.clear();
    out->routes.clear();
    out->released = 0;
  }

  void line(const std::string& text) {
    caf::anon_send(client, line_atom::value, text);
    run();
  }

  void answer(bool ok, const std::string& text) {
    caf::anon_send(fake, answer_atom::value, ok, text);
    run();
  }

  std::size_t held_count() {
    auto ptr = caf::actor_cast<caf::abstract_actor*>(fake);
    using impl =
        caf::stateful_actor<fake_dispatcher_state, fake_dispatcher_actor::base>;
    return dynamic_cast<impl*>(ptr)->state.held.size();
  }
};

const std::string call_line =
    R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_queues","arguments":{}}})";

} // namespace

TEST_CASE_FIXTURE(fixture, "a tool call is answered with the dispatcher's result and "
                           "gives its reading credit back only then") {
  line(call_line);
  CHECK(out->lines.empty());
  CHECK(out->released == 0);
  answer(true, R"({"content":[],"isError":false})");
  REQUIRE(out->lines.size() == 1);
  CHECK(out->lines[0] ==
        R"({"jsonrpc":"2.0","id":7,"result":{"content":[],"isError":false}})");
  CHECK(out->released == 1);
}

TEST_CASE_FIXTURE(fixture,
                  "a protocol request is answered at once and releases its credit") {
  line(R"({"jsonrpc":"2.0","id":"p","method":"ping"})");
  REQUIRE(out->lines.size() == 1);
  CHECK(out->lines[0] == R"({"jsonrpc":"2.0","id":"p","result":{}})");
  CHECK(out->released == 1);
}

TEST_CASE_FIXTURE(fixture, "a cancelled call is never answered, even when its result "
                           "arrives later") {
  line(call_line);
  line(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}})");
  answer(true, R"({"content":[],"isError":false})");
  CHECK(out->lines.empty());
  CHECK(out->routes == std::vector<std::string>{"dropped 7"}); // its exchange may end
  CHECK(out->released == 2); // the cancel line, then the call once its work ended
}

TEST_CASE_FIXTURE(fixture, "cancelling a call tells the dispatcher to stop that call's "
                           "work, by the id it was sent with") {
  line(call_line);
  line(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}})");
  auto& st =
      dynamic_cast<
          caf::stateful_actor<fake_dispatcher_state, fake_dispatcher_actor::base>&>(
          *caf::actor_cast<caf::abstract_actor*>(fake))
          .state;
  REQUIRE(st.calls.size() == 1);
  CHECK(st.calls[0].id != 0);
  CHECK(st.cancels == std::vector<uint64_t>{st.calls[0].id});
  answer(true, R"({"content":[],"isError":false})");
}

TEST_CASE_FIXTURE(fixture, "invalid arguments reported by the dispatcher become a "
                           "-32602 error") {
  line(call_line);
  answer(false, "invalid arguments for list_queues: 'page_size' must be at most 500");
  REQUIRE(out->lines.size() == 1);
  CHECK(out->saw(R"("code":-32602)"));
  CHECK(out->saw("page_size"));
}

TEST_CASE_FIXTURE(fixture, "a progress token brings progress notifications before the "
                           "result") {
  line(
      R"({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"overview","_meta":{"progressToken":"tok"}}})");
  REQUIRE(out->lines.size() == 1);
  CHECK(out->lines[0].find(R"("method":"notifications/progress")") !=
        std::string::npos);
  CHECK(out->lines[0].find(R"("progressToken":"tok")") != std::string::npos);
  answer(true, R"({"content":[],"isError":false})");
  REQUIRE(out->lines.size() == 3);
  CHECK(out->lines[1].find(R"("progress":1)") != std::string::npos);
  CHECK(out->lines[2].find(R"("id":8,"result")") != std::string::npos);
  CHECK(out->routes == std::vector<std::string>{"about 8", "about 8", "answer 8"});
}

TEST_CASE_FIXTURE(fixture, "a failed tool's log message comes before its answer and "
                           "names the same request") {
  line(call_line);
  answer(true, R"({"content":[{"type":"text","text":"no"}],"isError":true})");
  REQUIRE(out->lines.size() == 2);
  CHECK(out->lines[0].find(R"("method":"notifications/message")") != std::string::npos);
  CHECK(out->lines[1].find(R"("id":7,"result")") != std::string::npos);
  CHECK(out->routes == std::vector<std::string>{"about 7", "answer 7"});
}

TEST_CASE_FIXTURE(fixture, "protocol answers and errors are routed to their request") {
  line(R"({"jsonrpc":"2.0","id":"p","method":"ping"})");
  line(R"({"jsonrpc":"2.0","id":9,"method":"no/such"})");
  line("not json");
  CHECK(out->routes ==
        std::vector<std::string>{R"(answer "p")", "answer 9", "answer null"});
}

TEST_CASE_FIXTURE(fixture, "a second call with an id still in flight is refused") {
  line(call_line);
  line(call_line);
  REQUIRE(out->lines.size() == 1);
  CHECK(out->saw(R"("code":-32600)"));
  CHECK(out->saw("already in use"));
  CHECK(held_count() == 1);
}

TEST_CASE_FIXTURE(fixture, "an oversized line gets an error naming the limit and "
                           "releases its credit") {
  caf::anon_send(client, oversize_atom::value, uint64_t{20000000});
  run();
  REQUIRE(out->lines.size() == 1);
  CHECK(out->saw("20000000 bytes"));
  CHECK(out->saw("max_line_bytes"));
  CHECK(out->released == 1);
}

TEST_CASE_FIXTURE(fixture, "eof with nothing in flight ends the session at once") {
  caf::scoped_actor observer{*sys};
  observer->monitor(client);
  caf::anon_send(client, eof_atom::value);
  run();
  bool down = false;
  observer->receive([&](caf::down_msg&) { down = true; },
                    caf::after(std::chrono::seconds(0)) >> [] {});
  CHECK(down);
}

TEST_CASE_FIXTURE(fixture, "eof waits for a call in flight and answers it when it "
                           "completes") {
  line(call_line);
  caf::anon_send(client, eof_atom::value);
  run();
  CHECK(out->lines.empty());
  answer(true, R"({"content":[],"isError":false})");
  REQUIRE(out->lines.size() == 1);
  CHECK(out->saw(R"("id":7,"result")"));
}

TEST_CASE_FIXTURE(fixture, "eof with a call that never completes answers it with an "
                           "error after the grace period") {
  line(call_line);
  caf::anon_send(client, eof_atom::value);
  run();
  advance(1s);
  CHECK(out->lines.empty());
  advance(1s);
  REQUIRE(out->lines.size() == 1);
  CHECK(out->saw(R"("id":7,"result")"));
  CHECK(out->saw(R"("isError":true)"));
  CHECK(out->saw("shut down"));
}

TEST_CASE_FIXTURE(fixture, "logging/setLevel over stdio also sets the stderr level") {
  auto before = log_level_name();
  line(
      R"({"jsonrpc":"2.0","id":41,"method":"logging/setLevel","params":{"level":"error"}})");
  CHECK(out->saw(R"("id":41,"result":{})"));
  CHECK(log_level_name() == "error");
  line(
      R"({"jsonrpc":"2.0","id":42,"method":"logging/setLevel","params":{"level":"notice"}})");
  CHECK(log_level_name() == "info");
  line(
      R"({"jsonrpc":"2.0","id":43,"method":"logging/setLevel","params":{"level":"loud"}})");
  CHECK(log_level_name() == "info"); // refused: unchanged
  set_log_level(before);
}

namespace {

// A session that also serves the conformance fixtures.
struct fixtures_fixture : test::test_system {
  std::shared_ptr<capture_output> out = std::make_shared<capture_output>();
  session_impl_actor client;

  explicit fixtures_fixture(const std::string& capabilities = R"({"sampling":{}})") {
    session_config cfg;
    cfg.fixtures = std::make_shared<const mcp_fixtures>();
    cfg.request_timeout = 5s;
    client = spawn(
        session, std::make_shared<const tool_catalog>(), out,
        [] { return dispatcher_actor{}; }, cfg);
    line(
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":)" +
        capabilities + "}}");
    line(
        R"({"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"debug"}})");
    out->lines.clear();
    out->routes.clear();
    out->released = 0;
  }

  void line(const std::string& text) {
    caf::anon_send(client, line_atom::value, text);
    run();
  }
};

} // namespace

TEST_CASE_FIXTURE(fixtures_fixture,
                  "the progress fixture sends its own rising progress "
                  "on the call's stream, then its answer") {
  line(
      R"({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"test_tool_with_progress","arguments":{},"_meta":{"progressToken":6}}})");
  for (int i = 0; i < 10; ++i)
    advance(50ms);
  REQUIRE(out->lines.size() == 4);
  for (int i = 0; i < 3; ++i) {
    CHECK(out->lines[i].find(R"("method":"notifications/progress")") !=
          std::string::npos);
    CHECK(out->lines[i].find(R"("progressToken":6)") != std::string::npos);
  }
  CHECK(out->lines[3].find(R"("id":6,"result")") != std::string::npos);
  CHECK(out->routes ==
        std::vector<std::string>{"about 6", "about 6", "about 6", "answer 6"});
  CHECK(out->released == 1);
}

TEST_CASE_FIXTURE(fixtures_fixture, "the logging fixture's messages come before its "
                                    "answer") {
  line(
      R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"test_tool_with_logging","arguments":{}}})");
  for (int i = 0; i < 10; ++i)
    advance(50ms);
  REQUIRE(out->lines.size() == 4);
  CHECK(out->lines[0].find(R"("method":"notifications/message")") != std::string::npos);
  CHECK(out->lines[3].find(R"("id":7,"result")") != std::string::npos);
}

TEST_CASE_FIXTURE(fixtures_fixture,
                  "the sampling fixture asks the client on the call's "
                  "stream and answers with what the client said") {
  line(
      R"({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"test_sampling","arguments":{"prompt":"hi"}}})");
  REQUIRE(out->lines.size() == 1);
  CHECK(out->lines[0].find(R"("method":"sampling/createMessage")") !=
        std::string::npos);
  CHECK(out->routes == std::vector<std::string>{"about 8"});
  CHECK(out->lines[0].find(R"("id":"warren-1")") != std::string::npos);
  line(
      R"({"jsonrpc":"2.0","id":"warren-1","result":{"role":"assistant","content":{"type":"text","text":"from the model"},"model":"m","stopReason":"endTurn"}})");
  REQUIRE(out->lines.size() == 2);
  CHECK(out->lines[1].find(R"("id":8,"result")") != std::string::npos);
  CHECK(out->lines[1].find("from the model") != std::string::npos);
  CHECK(out->released == 2); // the call and the client's answer
  // The timeout that was set for the question finds the call answered.
  advance(6s);
  CHECK(out->lines.size() == 2);
}

TEST_CASE("the elicitation fixture answers with an error result when the client did "
          "not declare elicitation") {
  fixtures_fixture f{"{}"};
  f.line(
      R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"test_elicitation","arguments":{"message":"who?"}}})");
  REQUIRE(f.out->lines.size() == 1);
  CHECK(f.out->lines[0].find(R"("isError":true)") != std::string::npos);
  CHECK(f.out->lines[0].find("elicitation") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "a call the dispatcher never answers is answered once its "
                           "deadline passed, and a late answer is dropped") {
  line(call_line); // request_timeout is 30 s by default: the deadline is 31 s away
  advance(std::chrono::seconds{20});
  CHECK(out->lines.empty());
  for (int i = 0; i < 15; ++i)
    advance(std::chrono::seconds{1});
  REQUIRE(out->lines.size() == 1);
  CHECK(out->lines[0].find(R"("id":7)") != std::string::npos);
  CHECK(out->lines[0].find(R"("isError":true)") != std::string::npos);
  CHECK(out->lines[0].find("time limit") != std::string::npos);
  CHECK(out->released == 1);
  // The dispatcher was told to stop the call's work.
  auto& st =
      dynamic_cast<
          caf::stateful_actor<fake_dispatcher_state, fake_dispatcher_actor::base>&>(
          *caf::actor_cast<caf::abstract_actor*>(fake))
          .state;
  CHECK(st.cancels.size() == 1);
  // Its answer, should it still come, changes nothing.
  answer(true, R"({"content":[],"isError":false})");
  CHECK(out->lines.size() == 1);
  CHECK(out->released == 1);
}
