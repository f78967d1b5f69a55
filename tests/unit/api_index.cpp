#include "protocol/api_index.hpp"

#include <chrono>
#include <cstring>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/schema.h>

#include "protocol/error.hpp"
#include "protocol/search_ranker.hpp"

namespace warren {
extern const char management_operations_json[];
} // namespace warren

using namespace warren;

namespace {

const api_index& index() {
  static const api_index instance;
  return instance;
}

const api_operation& op(const char* id) {
  auto found = index().find(id);
  REQUIRE_MESSAGE(found != nullptr, id);
  return *found;
}

std::vector<std::string> path_params(const std::string& path) {
  std::vector<std::string> out;
  std::regex placeholder{"\\{([^}]*)\\}"};
  for (std::sregex_iterator it(path.begin(), path.end(), placeholder), end; it != end;
       ++it)
    out.push_back((*it)[1]);
  return out;
}

std::string error_text(const caf::expected<http_request>& r) {
  return r ? std::string{} : message_of(r.error());
}

} // namespace

// -- the data --------------------------------------------------------------------

TEST_CASE("discovery data file parses and every operation in it is loaded") {
  rapidjson::Document data;
  data.Parse(management_operations_json);
  REQUIRE_FALSE(data.HasParseError());
  REQUIRE(data.IsObject());
  REQUIRE(data.HasMember("operations"));
  REQUIRE(data["operations"].IsArray());
  CHECK(index().operations().size() == data["operations"].Size());
  CHECK(index().operations().size() >= 80);
}

TEST_CASE("discovery ids are unique, dotted and found by find") {
  std::set<std::string> seen;
  std::regex readable{"[a-z][a-z_]*(\\.[a-z][a-z_]*)*"};
  for (auto& o : index().operations()) {
    CHECK_MESSAGE(seen.insert(o.id).second, "duplicate id " << o.id);
    CHECK_MESSAGE(std::regex_match(o.id, readable), o.id);
    CHECK(index().find(o.id) == &o);
  }
  CHECK(index().find("queues.nope") == nullptr);
  CHECK(index().find("") == nullptr);
}

TEST_CASE("discovery operations have a method, an /api path and a summary") {
  std::set<std::string> methods{"GET", "PUT", "POST", "DELETE"};
  for (auto& o : index().operations()) {
    CAPTURE(o.id);
    CHECK(methods.count(o.method) == 1);
    CHECK(o.path.rfind("/api/", 0) == 0);
    CHECK(o.summary.size() > 10);
    CHECK(o.writes == (o.method != "GET"));
    if (!o.writes)
      CHECK_FALSE(o.destructive);
  }
  CHECK(op("queues.delete").destructive);
  CHECK(op("queues.purge").destructive);
  CHECK_FALSE(op("queues.put").destructive);
}

TEST_CASE("discovery schemas compile and declare every path parameter as required") {
  for (auto& o : index().operations()) {
    CAPTURE(o.id);
    rapidjson::Document schema;
    schema.Parse(o.schema_json.c_str());
    REQUIRE_FALSE(schema.HasParseError());
    REQUIRE(schema.IsObject());
    CHECK(std::string{schema["type"].GetString()} == "object");
    REQUIRE(schema.HasMember("properties"));
    auto& props = schema["properties"];
    std::set<std::string> required;
    if (schema.HasMember("required"))
      for (auto& r : schema["required"].GetArray())
        required.insert(r.GetString());
    for (auto& p : path_params(o.path)) {
      CAPTURE(p);
      REQUIRE(props.HasMember(p.c_str()));
      CHECK(props[p.c_str()].HasMember("type"));
      CHECK(required.count(p) == 1);
    }
    if (o.method == "GET" || o.method == "DELETE")
      CHECK_FALSE(props.HasMember("body"));
    rapidjson::SchemaDocument compiled(schema);
    rapidjson::SchemaValidator validator(compiled);
    rapidjson::Document empty;
    empty.SetObject();
    // An empty argument object passes exactly when nothing is required.
    CHECK(empty.Accept(validator) == required.empty());
  }
}

TEST_CASE("discovery covers the parts of the management API operators use") {
  for (auto id : {"overview.get",
                  "cluster_name.get",
                  "nodes.list",
                  "nodes.get",
                  "nodes.memory",
                  "extensions.list",
                  "definitions.export",
                  "definitions.export_vhost",
                  "definitions.import",
                  "connections.list",
                  "connections.delete",
                  "connections.channels",
                  "channels.list",
                  "consumers.list",
                  "exchanges.publish",
                  "exchanges.bindings_source",
                  "queues.get_messages",
                  "queues.purge",
                  "queues.actions",
                  "bindings.exchange_queue.create",
                  "bindings.exchange_exchange.list",
                  "vhosts.start",
                  "users.bulk_delete",
                  "users.without_permissions",
                  "whoami",
                  "topic_permissions.put",
                  "parameters.put",
                  "global_parameters.list",
                  "policies.put",
                  "operator_policies.put",
                  "aliveness_test",
                  "health.alarms",
                  "health.local_alarms",
                  "health.certificate_expiration",
                  "health.port_listener",
                  "health.protocol_listener",
                  "health.virtual_hosts",
                  "health.node_is_quorum_critical",
                  "health.node_is_mirror_sync_critical",
                  "vhost_limits.put",
                  "user_limits.put",
                  "feature_flags.list",
                  "shovels.list",
                  "federation_links.list",
                  "queues.rebalance",
                  "auth.get",
                  "stream.connections.list"})
    CHECK_MESSAGE(index().find(id) != nullptr, id);
  CHECK(op("queues.get_messages").method == "POST");
  CHECK(op("queues.get_messages").path == "/api/queues/{vhost}/{name}/get");
  CHECK(op("queues.purge").path == "/api/queues/{vhost}/{name}/contents");
}

// -- build -----------------------------------------------------------------------

TEST_CASE("api build encodes the default vhost as %2F") {
  auto r = index().build(op("queues.get"), R"({"vhost": "/", "name": "orders"})");
  REQUIRE_MESSAGE(r, error_text(r));
  CHECK(r->method == "GET");
  CHECK(r->target == "/api/queues/%2F/orders");
  CHECK(r->body.empty());
}

TEST_CASE("api build percent-encodes every path parameter") {
  auto r = index().build(op("bindings.exchange_queue.get"),
                         R"({"vhost": "a/b", "exchange": "ex 1", "queue": "q#1",
                             "props": "rk~a%b"})");
  REQUIRE_MESSAGE(r, error_text(r));
  CHECK(r->target == "/api/bindings/a%2Fb/e/ex%201/q/q%231/rk~a%25b");
  auto c = index().build(op("health.certificate_expiration"),
                         R"({"within": 2, "unit": "months"})");
  REQUIRE_MESSAGE(c, error_text(c));
  CHECK(c->target == "/api/health/checks/certificate-expiration/2/months");
}

TEST_CASE("api build appends the declared query parameters, encoded") {
  auto r = index().build(op("queues.list_in_vhost"),
                         R"({"vhost": "/", "page": 2, "page_size": 50,
                             "name": "^ord&x", "use_regex": true,
                             "columns": "name,messages"})");
  REQUIRE_MESSAGE(r, error_text(r));
  CHECK(r->target == "/api/queues/%2F?page=2&page_size=50&name=%5Eord%26x"
                     "&use_regex=true&columns=name,messages");
  auto d = index().build(op("queues.delete"),
                         R"({"vhost": "v", "name": "q", "if-empty": true})");
  REQUIRE_MESSAGE(d, error_text(d));
  CHECK(d->method == "DELETE");
  CHECK(d->target == "/api/queues/v/q?if-empty=true");
}

TEST_CASE("api build serializes body as the request body") {
  auto r = index().build(op("permissions.put"),
                         R"({"vhost": "/", "user": "guest",
                             "body": {"configure": ".*", "write": ".*", "read": ""}})");
  REQUIRE_MESSAGE(r, error_text(r));
  CHECK(r->method == "PUT");
  CHECK(r->target == "/api/permissions/%2F/guest");
  CHECK(r->body == R"({"configure":".*","write":".*","read":""})");
  auto v = index().build(op("vhosts.put"), R"({"vhost": "tenant-a"})");
  REQUIRE_MESSAGE(v, error_text(v));
  CHECK(v->target == "/api/vhosts/tenant-a");
  CHECK(v->body == "{}");
}

TEST_CASE("api build refuses a missing required argument naming it") {
  auto r = index().build(op("queues.delete"), R"({"vhost": "/"})");
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == ec::invalid_params);
  CHECK(error_text(r).find("\"name\" is required") != std::string::npos);
  auto b = index().build(op("permissions.put"), R"({"vhost": "/", "user": "u"})");
  REQUIRE_FALSE(b);
  CHECK(error_text(b).find("\"body\" is required") != std::string::npos);
  auto m = index().build(op("permissions.put"),
                         R"({"vhost": "/", "user": "u",
                             "body": {"configure": ".*", "write": ".*"}})");
  REQUIRE_FALSE(m);
  CHECK(code_of(m.error()) == ec::invalid_params);
  CHECK(error_text(m).find("\"body.read\"") != std::string::npos);
}

TEST_CASE("api build refuses an unknown argument naming it") {
  auto r = index().build(op("queues.get"),
                         R"({"vhost": "/", "name": "q", "colour": "red"})");
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == ec::invalid_params);
  CHECK(error_text(r).find("\"colour\"") != std::string::npos);
  // A query parameter of another operation is unknown here too.
  auto p = index().build(op("queues.get"), R"({"vhost": "/", "name": "q", "page": 1})");
  REQUIRE_FALSE(p);
  CHECK(error_text(p).find("\"page\"") != std::string::npos);
}

TEST_CASE("api build refuses values that break the schema naming the argument") {
  auto t = index().build(op("queues.list"), R"({"page": "two"})");
  REQUIRE_FALSE(t);
  CHECK(code_of(t.error()) == ec::invalid_params);
  CHECK(error_text(t).find("\"page\" must be an integer") != std::string::npos);
  auto s = index().build(op("queues.list"), R"({"page_size": 100000})");
  REQUIRE_FALSE(s);
  CHECK(error_text(s).find("\"page_size\" must be at most 500") != std::string::npos);
  auto e = index().build(op("queues.get"), R"({"vhost": "", "name": "q"})");
  REQUIRE_FALSE(e);
  CHECK(error_text(e).find("\"vhost\"") != std::string::npos);
  auto n = index().build(op("queues.get_messages"),
                         R"({"vhost": "/", "name": "q",
                             "body": {"count": 1, "ackmode": "keep", "encoding": "auto"}})");
  REQUIRE_FALSE(n);
  CHECK(error_text(n).find("\"body.ackmode\" must be one of") != std::string::npos);
}

TEST_CASE("api build survives malformed arguments") {
  for (auto bad : {"[1,2]", "\"text\"", "{", "{\"vhost\": }", "42"}) {
    CAPTURE(bad);
    auto r = index().build(op("queues.list"), bad);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == ec::invalid_params);
  }
  std::string deep =
      "{\"body\":" + std::string(10000, '[') + std::string(10000, ']') + "}";
  auto d = index().build(op("definitions.import"), deep);
  REQUIRE_FALSE(d);
  CHECK(code_of(d.error()) == ec::invalid_params);
  for (auto empty : {"", "  ", "null", "{}"}) {
    auto r = index().build(op("overview.get"), empty);
    REQUIRE_MESSAGE(r, error_text(r));
    CHECK(r->target == "/api/overview");
  }
}

// -- search ----------------------------------------------------------------------

TEST_CASE("search ranker stems plurals and verb endings to one form") {
  CHECK(search_ranker::stem("queues") == search_ranker::stem("queue"));
  CHECK(search_ranker::stem("Connections") == search_ranker::stem("connected"));
  CHECK(search_ranker::stem("policies") == search_ranker::stem("policy"));
  CHECK(search_ranker::stem("bindings") == search_ranker::stem("bind"));
  CHECK(search_ranker::stem("running") == "run");
  CHECK(search_ranker::stem("status") == "status");
  CHECK(search_ranker::stem("access") == "access");
  CHECK(search_ranker::terms("Which of the queues") ==
        std::vector<std::string>{search_ranker::stem("queue")});
}

TEST_CASE("search ranker prefers the document matching more and rarer terms") {
  search_ranker r;
  r.add({{"queue list", 1}});
  r.add({{"queue delete", 1}});
  r.add({{"exchange delete", 1}});
  r.add_synonym("remove", "delete");
  r.finish();
  auto hits = r.rank("remove a queue");
  REQUIRE(hits.size() == 3);
  std::sort(hits.begin(), hits.end(),
            [](auto& a, auto& b) { return a.score > b.score; });
  CHECK(hits[0].doc == 1);
  CHECK(r.rank("nothing here").empty());
}

TEST_CASE("search returns at most limit hits, best first, ties by id") {
  auto hits = index().search("list queues", 5);
  REQUIRE(hits.size() == 5);
  for (std::size_t i = 1; i < hits.size(); ++i) {
    CHECK(hits[i - 1].score >= hits[i].score);
    if (hits[i - 1].score == hits[i].score)
      CHECK(hits[i - 1].operation->id < hits[i].operation->id);
  }
  CHECK(index().search("list queues", 0).empty());
  CHECK(index().search("", 10).empty());
  CHECK(index().search("zzzz qqqq", 10).empty());
  auto again = index().search("list queues", 5);
  for (std::size_t i = 0; i < hits.size(); ++i)
    CHECK(again[i].operation == hits[i].operation);
}

TEST_CASE("search finds the intended operation for operator questions") {
  // Written before tuning; each names the operation an operator would want.
  struct expectation {
    const char* query;
    const char* id;
  };
  const expectation cases[] = {
      {"which queues have no consumers", "queues.list"},
      {"export all definitions", "definitions.export"},
      {"who is connected", "connections.list"},
      {"delete a queue", "queues.delete"},
      {"show me the cluster nodes", "nodes.list"},
      {"is the broker healthy", "health.alarms"},
      {"list users", "users.list"},
      {"give a user access to a vhost", "permissions.put"},
      {"how many messages are waiting in orders", "queues.get"},
      {"set a message ttl policy", "policies.put"},
      {"close a client connection", "connections.delete"},
      {"create a virtual host", "vhosts.put"},
      {"what shovels are running", "shovels.list"},
      {"federation status", "federation_links.list"},
      {"import definitions from a backup", "definitions.import"},
      {"purge a queue", "queues.purge"},
      {"bind a queue to an exchange", "bindings.exchange_queue.create"},
      {"check for memory or disk alarms", "health.alarms"},
      {"list exchanges in a vhost", "exchanges.list_in_vhost"},
      {"who am i", "whoami"},
  };
  int found = 0;
  for (auto& c : cases) {
    auto hits = index().search(c.query, 3);
    bool hit = false;
    std::string top;
    for (auto& h : hits) {
      hit = hit || h.operation->id == c.id;
      top += (top.empty() ? "" : ", ") + h.operation->id;
    }
    if (hit)
      ++found;
    else
      MESSAGE("miss: \"" << std::string{c.query} << "\" wanted " << std::string{c.id}
                         << ", got [" << top << "]");
  }
  MESSAGE("search quality: " << found << "/" << std::size(cases) << " in the top 3");
  CHECK(found >= 18);
}

TEST_CASE("search time per query is reported") {
  const char* queries[] = {"which queues have no consumers", "export all definitions",
                           "who is connected", "give a user access to a vhost",
                           "check for memory or disk alarms"};
  constexpr int rounds = 200;
  std::size_t total_hits = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i)
    for (auto q : queries)
      total_hits += index().search(q, 10).size();
  auto elapsed = std::chrono::steady_clock::now() - start;
  auto per_query =
      std::chrono::duration<double, std::micro>(elapsed).count() / (rounds * 5);
  MESSAGE("search: " << per_query << " us per query over "
                     << index().operations().size() << " operations");
  CHECK(total_hits > 0);
}
