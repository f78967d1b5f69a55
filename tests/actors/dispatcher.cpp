#include "actors/dispatcher.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <rapidjson/document.h>

#include "actors/cache_shard.hpp"
#include "protocol/cache_invalidation.hpp"
#include "protocol/error.hpp"
#include "tests/actors/test_system.hpp"

using namespace warren;
using namespace std::chrono_literals;

namespace {

// What the fake backend saw, and how it answers.
struct backend_script {
  enum class mode { respond, fail, hold } how = mode::respond;
  http_response response{200, "{}"};
  caf::error failure;
  std::vector<http_request> requests;
  std::vector<uint64_t> cancels; ///< call ids the backend was asked to stop
};

struct fake_backend_state {
  std::vector<caf::typed_response_promise<http_response>> held;
};

http_service::behavior_type
fake_backend(http_service::stateful_pointer<fake_backend_state> self,
             std::shared_ptr<backend_script> script) {
  return {
      [script](cancel_atom, uint64_t call) { script->cancels.push_back(call); },
      [](status_atom) { return actor_status{}; },
      [self, script](http_atom, const http_request& request,
                     caf::timespan) -> caf::result<http_response> {
        script->requests.push_back(request);
        switch (script->how) {
        case backend_script::mode::respond:
          return script->response;
        case backend_script::mode::fail:
          return script->failure;
        case backend_script::mode::hold:
          break;
        }
        auto promise = self->make_response_promise<http_response>();
        self->state.held.push_back(promise);
        return promise;
      },
  };
}

// The answer to one call, filled in when it arrives.
struct outcome {
  bool done = false;
  std::optional<tool_result> result;
  caf::error error;
};

struct fixture : test::test_system {
  std::shared_ptr<backend_script> script = std::make_shared<backend_script>();
  http_service backend;
  bool backend_available = true;
  dispatcher_actor dispatch;

  fixture() {
    backend = spawn(fake_backend, script);
    dispatch = spawn(
        dispatcher, std::make_shared<const tool_catalog>(),
        [this]() -> http_service {
          return backend_available ? backend : http_service{};
        },
        amqp_lookup{}, cache_access{}, batch_lookup{});
    run();
  }

  // Calls a tool from an actor of its own and runs; the outcome fills in when the
  // dispatcher answers.
  std::shared_ptr<outcome> call(std::string name, std::string arguments,
                                caf::timespan budget = 5s, uint64_t id = 0) {
    auto out = std::make_shared<outcome>();
    auto to = dispatch;
    spawn([out, to, name, arguments, budget, id](caf::event_based_actor* self) {
      self->request(to, caf::infinite, call_atom::value,
                    tool_call{name, arguments, id, {}}, budget)
          .then(
              [out](tool_result& result) {
                out->done = true;
                out->result = std::move(result);
              },
              [out](caf::error& err) {
                out->done = true;
                out->error = std::move(err);
              });
    });
    run();
    return out;
  }
};

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  return doc;
}

// The text of the first content block of a tool result.
std::string text_of(const tool_result& result) {
  auto doc = parse(result.json);
  if (!doc.IsObject() || !doc.HasMember("content") || !doc["content"].IsArray() ||
      doc["content"].Empty() || !doc["content"][0].HasMember("text"))
    return {};
  return doc["content"][0]["text"].GetString();
}

const char* queue_page =
    R"({"items":[{"name":"orders","vhost":"/","type":"classic","messages_ready":3,)"
    R"("consumers":0,"not_a_listed_field":true}],"page":1,"page_size":100,)"
    R"("page_count":1,"total_count":1,"filtered_count":1,"item_count":1})";

} // namespace

TEST_CASE_FIXTURE(fixture,
                  "list_queues sends one GET for the vhost's queues and shapes "
                  "the page into structuredContent") {
  script->response = http_response{200, queue_page};
  auto out = call("list_queues", R"({"vhost":"/"})");
  REQUIRE(script->requests.size() == 1);
  CHECK(script->requests[0].method == "GET");
  auto& target = script->requests[0].target;
  CHECK(target.rfind("/api/queues/%2F?page=1&page_size=100&columns=", 0) == 0);
  CHECK(target.find("messages_ready") != std::string::npos);
  CHECK(script->requests[0].body.empty());
  REQUIRE(out->done);
  REQUIRE(out->result);
  CHECK_FALSE(out->result->is_error);
  auto doc = parse(out->result->json);
  REQUIRE(doc.IsObject());
  CHECK(doc["isError"].IsFalse());
  REQUIRE(doc.HasMember("structuredContent"));
  auto& sc = doc["structuredContent"];
  REQUIRE(sc["items"].IsArray());
  REQUIRE(sc["items"].Size() == 1);
  CHECK(std::string{sc["items"][0]["name"].GetString()} == "orders");
  CHECK(sc["items"][0]["messages_ready"].GetInt() == 3);
  CHECK_FALSE(sc["items"][0].HasMember("not_a_listed_field"));
  CHECK(sc["page"].GetInt() == 1);
  CHECK(sc["total_count"].GetInt() == 1);
}

TEST_CASE_FIXTURE(fixture, "invalid arguments are refused with invalid_params without "
                           "touching the backend") {
  auto out = call("list_queues", R"({"page_size":501})");
  REQUIRE(out->done);
  CHECK_FALSE(out->result);
  CHECK(code_of(out->error) == ec::invalid_params);
  CHECK(message_of(out->error).find("page_size") != std::string::npos);
  CHECK(script->requests.empty());
}

TEST_CASE_FIXTURE(fixture, "an unknown tool is refused with unknown_tool without "
                           "touching the backend") {
  auto out = call("drop_all_queues", "{}");
  REQUIRE(out->done);
  CHECK_FALSE(out->result);
  CHECK(code_of(out->error) == ec::unknown_tool);
  CHECK(script->requests.empty());
}

TEST_CASE_FIXTURE(fixture, "a backend failure becomes an isError result carrying the "
                           "backend's message") {
  script->how = backend_script::mode::fail;
  script->failure = make_error(ec::backend_unreachable,
                               "connection refused by the management API; is the "
                               "management plugin enabled?");
  auto out = call("list_queues", "{}");
  CHECK(script->requests.size() == 1);
  REQUIRE(out->done);
  REQUIRE(out->result);
  CHECK(out->result->is_error);
  CHECK(parse(out->result->json)["isError"].IsTrue());
  CHECK(text_of(*out->result) ==
        "connection refused by the management API; is the management plugin "
        "enabled?");
}

TEST_CASE_FIXTURE(fixture, "a backend that is restarting gives an isError result "
                           "saying so") {
  backend_available = false;
  auto out = call("list_queues", "{}");
  REQUIRE(out->done);
  REQUIRE(out->result);
  CHECK(out->result->is_error);
  CHECK(text_of(*out->result).find("restarting") != std::string::npos);
  CHECK(script->requests.empty());
}

TEST_CASE_FIXTURE(fixture, "a backend that does not answer within the budget gives an "
                           "isError result naming the budget") {
  script->how = backend_script::mode::hold;
  auto out = call("list_queues", "{}", 3s);
  CHECK(script->requests.size() == 1);
  advance(2s);
  CHECK_FALSE(out->done);
  advance(1s);
  REQUIRE(out->done);
  REQUIRE(out->result);
  CHECK(out->result->is_error);
  CHECK(text_of(*out->result).find("3000 ms") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "a non-2xx answer becomes an isError result, not a protocol "
                           "error") {
  script->response =
      http_response{404, R"({"error":"Object Not Found","reason":"Not Found"})"};
  auto out = call("list_queues", R"({"vhost":"nope"})");
  REQUIRE(out->done);
  REQUIRE(out->result);
  CHECK(out->result->is_error);
  CHECK(text_of(*out->result).find("nope") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "a call's requests carry its id, and a cancel for it "
                           "reaches the backend") {
  script->how = backend_script::mode::hold;
  auto out = call("list_queues", "{}", 5s, 7);
  REQUIRE(script->requests.size() == 1);
  CHECK(script->requests[0].call == 7);
  caf::anon_send(dispatch, cancel_atom::value, uint64_t{7});
  run();
  CHECK(script->cancels == std::vector<uint64_t>{7});
}

namespace {

// An AMQP backend that confirms every publish and keeps what it was asked.
amqp_service::behavior_type
confirming_amqp(amqp_service::pointer,
                std::shared_ptr<std::vector<amqp_request>> requests) {
  return {
      [requests](amqp_atom, const amqp_request& request, caf::timespan) {
        requests->push_back(request);
        return amqp_response{};
      },
      [](cancel_atom, uint64_t) {},
      [](status_atom) { return actor_status{}; },
  };
}

// A dispatcher with one real cache shard and an AMQP backend, whose writes tell the
// other instances on "peers".
struct peer_fixture : test::test_system {
  std::shared_ptr<std::vector<amqp_request>> sent =
      std::make_shared<std::vector<amqp_request>>();
  dispatcher_actor dispatch;

  explicit peer_fixture(caf::timespan gather = 50ms) {
    amqp_service amqp = spawn(confirming_amqp, sent);
    cache_actor shard = spawn(cache_shard, cache_shard_config{});
    cache_access cache;
    cache.count = 1;
    cache.shard = [shard](std::size_t) { return shard; };
    cache.exchange = "peers";
    cache.origin = "this-instance";
    cache.peer_gather = gather;
    dispatch = spawn(
        dispatcher, std::make_shared<const tool_catalog>(),
        [] { return http_service{}; }, [amqp] { return amqp; }, cache, batch_lookup{});
    run();
  }

  // A publish to `queue` through the default exchange, which makes that queue's
  // counts stale; true once it is answered.
  std::shared_ptr<bool> publish(const std::string& queue) {
    auto op = std::make_shared<operation>();
    op->tool = "publish_message";
    op->backend = backend_kind::amqp;
    op->writes = true;
    op->amqp.what = amqp_request::kind::publish;
    op->amqp.publish.routing_key = queue;
    op->refreshes = {"queues:/:" + queue};
    auto answered = std::make_shared<bool>(false);
    spawn([answered, to = dispatch,
           handle = op_handle{op}](caf::event_based_actor* self) {
      self->request(to, caf::infinite, amqp_atom::value, handle, caf::timespan{5s},
                    uint64_t{0})
          .then([answered](amqp_response&) { *answered = true; });
    });
    run();
    return answered;
  }

  // The prefixes of each notice sent to the other instances so far.
  std::vector<std::vector<std::string>> notices() const {
    std::vector<std::vector<std::string>> out;
    for (auto& r : *sent) {
      std::vector<std::string> prefixes;
      if (r.publish.exchange == "peers" &&
          parse_invalidation(r.publish.body, "another-instance", prefixes))
        out.push_back(prefixes);
    }
    return out;
  }
};

struct no_gathering : peer_fixture {
  no_gathering() : peer_fixture(caf::timespan{0}) {}
};

} // namespace

TEST_CASE_FIXTURE(peer_fixture,
                  "the invalidations of writes close together reach the other "
                  "instances in one notice, after the gathering time") {
  CHECK(*publish("a"));
  CHECK(*publish("b"));
  CHECK(sent->size() == 2); // the writes only: the notice waits
  CHECK(notices().empty());
  advance(49ms);
  CHECK(notices().empty());
  advance(1ms);
  REQUIRE(notices().size() == 1);
  CHECK(notices()[0] == std::vector<std::string>{"queues:/:a", "queues:/:b"});
  // A later write starts a new gathering.
  CHECK(*publish("c"));
  advance(50ms);
  REQUIRE(notices().size() == 2);
  CHECK(notices()[1] == std::vector<std::string>{"queues:/:c"});
  CHECK(sent->size() == 5);
}

TEST_CASE_FIXTURE(no_gathering,
                  "with no gathering time every write sends its own notice at once") {
  CHECK(*publish("a"));
  CHECK(*publish("b"));
  REQUIRE(notices().size() == 2);
  CHECK(notices()[0] == std::vector<std::string>{"queues:/:a"});
  CHECK(notices()[1] == std::vector<std::string>{"queues:/:b"});
}
