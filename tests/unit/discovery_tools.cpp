#include <doctest/doctest.h>

#include <string>

#include <rapidjson/document.h>

#include "protocol/error.hpp"
#include "protocol/tool_catalog.hpp"

using namespace warren;

namespace {

const tool_catalog& reader() {
  static const tool_catalog catalog{catalog_options{false, "all", 1024}};
  return catalog;
}

const tool_catalog& writer() {
  static const tool_catalog catalog{catalog_options{true, "all", 1024}};
  return catalog;
}

rapidjson::Document structured(const tool_result& result) {
  rapidjson::Document doc;
  doc.Parse(result.json.c_str());
  REQUIRE(!doc.HasParseError());
  REQUIRE(doc.HasMember("structuredContent"));
  rapidjson::Document out;
  out.CopyFrom(doc["structuredContent"], out.GetAllocator());
  return out;
}

// Runs a local tool (no broker) the way the dispatcher does.
tool_result run_local(const tool_catalog& catalog, const char* tool, const char* args) {
  auto op = catalog.prepare(tool, args);
  REQUIRE_MESSAGE(op, message_of(op.error()));
  REQUIRE(op->backend == backend_kind::local);
  return catalog.shape(*op, {});
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("search-ids answers ranked operations without calling the broker") {
  auto result =
      run_local(reader(), "search-ids", R"({"query":"export all definitions"})");
  CHECK_FALSE(result.is_error);
  auto out = structured(result);
  auto& results = out["results"];
  REQUIRE(results.IsArray());
  REQUIRE(results.Size() > 0);
  CHECK(results.Size() <= 5);
  bool found = false;
  for (auto& r : results.GetArray())
    found = found || contains(r["path"].GetString(), "/api/definitions");
  CHECK(found);
}

TEST_CASE("search-ids honours limit and refuses an empty query") {
  auto out =
      structured(run_local(reader(), "search-ids", R"({"query":"queue","limit":2})"));
  CHECK(out["results"].Size() == 2);
  auto bad = reader().prepare("search-ids", R"({"query":""})");
  REQUIRE_FALSE(bad);
  CHECK(code_of(bad.error()) == ec::invalid_params);
}

TEST_CASE("get-id shows an operation's method, path and argument schema") {
  auto search =
      structured(run_local(reader(), "search-ids", R"({"query":"delete a queue"})"));
  std::string id = search["results"][0]["id"].GetString();
  auto out =
      structured(run_local(reader(), "get-id", (R"({"id":")" + id + "\"}").c_str()));
  CHECK(std::string{out["id"].GetString()} == id);
  CHECK(out["arguments_schema"].IsObject());
  CHECK(out.HasMember("method"));
}

TEST_CASE("get-id and call-id refuse an id the index does not know") {
  for (auto tool : {"get-id", "call-id"}) {
    auto op = reader().prepare(tool, R"({"id":"no.such.thing"})");
    REQUIRE_FALSE(op);
    CHECK(code_of(op.error()) == ec::invalid_params);
    CHECK(contains(message_of(op.error()), "search-ids"));
  }
}

TEST_CASE("call-id builds the management API request from the operation's arguments") {
  auto op = reader().prepare("call-id", R"({"id":"overview.get"})");
  if (!op) // the id naming is the index's; find the overview operation by search
    FAIL(message_of(op.error()));
  REQUIRE(op->requests.size() == 1);
  CHECK(op->requests[0].method == "GET");
  CHECK(op->requests[0].target == "/api/overview");
  CHECK_FALSE(op->writes);
}

TEST_CASE("call-id of an operation that changes the broker needs --allow-writes") {
  auto search = structured(run_local(reader(), "search-ids",
                                     R"({"query":"create a virtual host","limit":1})"));
  std::string id = search["results"][0]["id"].GetString();
  auto args = R"({"id":")" + id + R"(","arguments":{"vhost":"v1"}})";
  auto refused = reader().prepare("call-id", args);
  REQUIRE_FALSE(refused);
  CHECK(contains(message_of(refused.error()), "--allow-writes"));
  auto allowed = writer().prepare("call-id", args);
  REQUIRE_MESSAGE(allowed, message_of(allowed.error()));
  CHECK(allowed->writes);
  CHECK(allowed->requests[0].method == "PUT");
  CHECK(allowed->requests[0].target == "/api/vhosts/v1");
}

TEST_CASE("call-id of a destructive operation needs force, and never deletes amq.*") {
  auto search = structured(
      run_local(writer(), "search-ids", R"({"query":"delete an exchange","limit":5})"));
  std::string id;
  for (auto& r : search["results"].GetArray())
    if (std::string{r["method"].GetString()} == "DELETE" &&
        std::string{r["path"].GetString()} == "/api/exchanges/{vhost}/{name}")
      id = r["id"].GetString();
  REQUIRE(!id.empty());
  auto plain = writer().prepare(
      "call-id", R"({"id":")" + id + R"(","arguments":{"vhost":"/","name":"mine"}})");
  REQUIRE_FALSE(plain);
  CHECK(contains(message_of(plain.error()), "force"));
  auto forced = writer().prepare(
      "call-id",
      R"({"id":")" + id + R"(","arguments":{"vhost":"/","name":"mine"},"force":true})");
  REQUIRE_MESSAGE(forced, message_of(forced.error()));
  CHECK(forced->requests[0].target == "/api/exchanges/%2F/mine");
  auto builtin = writer().prepare(
      "call-id",
      R"({"id":")" + id +
          R"(","arguments":{"vhost":"/","name":"amq.fanout"},"force":true})");
  REQUIRE_FALSE(builtin);
  CHECK(contains(message_of(builtin.error()), "amq."));
}

TEST_CASE("call-id answers the status and the API's JSON, or null for an empty body") {
  auto op = reader().prepare("call-id", R"({"id":"overview.get"})");
  REQUIRE(op);
  auto out = structured(
      reader().shape(*op, {http_response{200, R"({"rabbitmq_version":"3.10.8"})"}}));
  CHECK(out["status"].GetInt() == 200);
  CHECK(std::string{out["result"]["rabbitmq_version"].GetString()} == "3.10.8");
  auto empty = structured(reader().shape(*op, {http_response{204, ""}}));
  CHECK(empty["result"].IsNull());
  auto missing =
      reader().shape(*op, {http_response{404, R"({"error":"Object Not Found"})"}});
  CHECK(missing.is_error);
  CHECK(contains(missing.json, "404"));
}
