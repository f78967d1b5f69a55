#include "protocol/mcp_session.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "protocol/jsonrpc.hpp"

using namespace warren;

namespace {

struct fixture {
  tool_catalog catalog;
  mcp_session session{catalog, server_info{"warren", "9.9.9", 2}};

  // Handles a line that must be answered, and returns the answer parsed.
  rapidjson::Document reply(const std::string& line) {
    auto action = session.handle(line);
    auto* r = std::get_if<reply_action>(&action);
    REQUIRE(r != nullptr);
    rapidjson::Document doc;
    doc.Parse(r->line.c_str());
    REQUIRE(!doc.HasParseError());
    return doc;
  }

  void initialize(const std::string& version = "2025-11-25") {
    reply(
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":")" +
        version + R"(","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})");
  }
};

int error_code(const rapidjson::Document& doc) {
  REQUIRE(doc.HasMember("error"));
  return doc["error"]["code"].GetInt();
}

std::string error_message(const rapidjson::Document& doc) {
  return doc["error"]["message"].GetString();
}

} // namespace

TEST_CASE_FIXTURE(fixture, "initialize answers with version, capabilities, server info "
                           "and instructions") {
  auto doc = reply(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}})");
  const auto& result = doc["result"];
  CHECK(std::string{result["protocolVersion"].GetString()} == "2025-11-25");
  CHECK(result["capabilities"].HasMember("tools"));
  CHECK(result["capabilities"].HasMember("logging"));
  CHECK(std::string{result["serverInfo"]["name"].GetString()} == "warren");
  CHECK(std::string{result["serverInfo"]["version"].GetString()} == "9.9.9");
  CHECK(result["instructions"].GetStringLength() > 0);
  CHECK(session.initialized());
}

TEST_CASE_FIXTURE(fixture, "every supported protocol version is echoed back") {
  for (auto version : supported_protocol_versions) {
    mcp_session fresh{catalog, server_info{}};
    auto action = fresh.handle(
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":")" +
        std::string{version} + R"("}})");
    CHECK(std::get<reply_action>(action).line.find(std::string{version}) !=
          std::string::npos);
    CHECK(fresh.protocol_version() == version);
  }
}

TEST_CASE_FIXTURE(fixture, "an unknown protocol version is answered with the latest") {
  initialize("1999-01-01");
  CHECK(session.protocol_version() == "2025-11-25");
}

TEST_CASE_FIXTURE(fixture, "initialize without a protocol version is invalid params") {
  CHECK(error_code(
            reply(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})")) ==
        -32602);
  CHECK(!session.initialized());
}

TEST_CASE_FIXTURE(fixture, "a second initialize is refused") {
  initialize();
  auto doc = reply(
      R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-11-25"}})");
  CHECK(error_code(doc) == -32600);
}

TEST_CASE_FIXTURE(fixture, "ping works before and after initialize") {
  CHECK(reply(R"({"jsonrpc":"2.0","id":5,"method":"ping"})")["result"].IsObject());
  initialize();
  CHECK(reply(R"({"jsonrpc":"2.0","id":6,"method":"ping"})")["result"].IsObject());
}

TEST_CASE_FIXTURE(fixture, "tools requests before initialize are refused") {
  auto doc = reply(R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})");
  CHECK(error_code(doc) == -32600);
  CHECK(error_message(doc).find("initialize") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "unknown methods get -32601 with their id") {
  initialize();
  auto doc = reply(R"({"jsonrpc":"2.0","id":"d","method":"server/discover"})");
  CHECK(error_code(doc) == -32601);
  CHECK(std::string{doc["id"].GetString()} == "d");
}

TEST_CASE_FIXTURE(fixture, "tools/list pages through the whole catalog with cursors") {
  initialize();
  std::vector<std::string> names;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    std::string params = cursor.empty() ? "{}" : R"({"cursor":")" + cursor + "\"}";
    auto doc = reply(R"({"jsonrpc":"2.0","id":3,"method":"tools/list","params":)" +
                     params + "}");
    const auto& tools = doc["result"]["tools"];
    CHECK(tools.Size() <= 2);
    for (const auto& t : tools.GetArray())
      names.push_back(t["name"].GetString());
    if (!doc["result"].HasMember("nextCursor"))
      break;
    cursor = doc["result"]["nextCursor"].GetString();
  }
  CHECK(names.size() == catalog.size());
  CHECK(std::find(names.begin(), names.end(), "list_queues") != names.end());
}

TEST_CASE_FIXTURE(fixture, "a cursor warren did not issue is invalid params") {
  initialize();
  for (auto bad : {R"("x")", R"("t0")", R"("t99999")", "5", R"("t1a")"}) {
    CAPTURE(bad);
    auto doc = reply(
        std::string{
            R"({"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":)"} +
        bad + "}}");
    CHECK(error_code(doc) == -32602);
  }
}

TEST_CASE_FIXTURE(fixture, "tools/call becomes a call action with arguments and "
                           "progress token") {
  initialize();
  auto action = session.handle(
      R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"list_queues","arguments":{"page":2},"_meta":{"progressToken":17}}})");
  auto* call = std::get_if<call_action>(&action);
  REQUIRE(call != nullptr);
  CHECK(call->id_json == "9");
  CHECK(call->tool == "list_queues");
  CHECK(call->arguments_json == R"({"page":2})");
  CHECK(call->progress_token_json == "17");
}

TEST_CASE_FIXTURE(fixture, "tools/call without a name or with non-object arguments is "
                           "invalid params") {
  initialize();
  CHECK(error_code(
            reply(R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{}})")) ==
        -32602);
  CHECK(
      error_code(reply(
          R"({"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"overview","arguments":[1]}})")) ==
      -32602);
}

TEST_CASE_FIXTURE(fixture, "notifications/cancelled names the request to stop") {
  auto action = session.handle(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r1","reason":"user"}})");
  auto* cancel = std::get_if<cancel_action>(&action);
  REQUIRE(cancel != nullptr);
  CHECK(cancel->request_id_json == R"("r1")");
}

TEST_CASE_FIXTURE(fixture, "notifications from the client get no answer") {
  CHECK(std::holds_alternative<no_action>(
      session.handle(R"({"jsonrpc":"2.0","method":"notifications/initialized"})")));
  CHECK(std::holds_alternative<no_action>(
      session.handle(R"({"jsonrpc":"2.0","method":"notifications/whatever"})")));
}

TEST_CASE_FIXTURE(fixture, "a response from the client is handed on with its id and "
                           "result or error message") {
  auto ok = session.handle(R"({"jsonrpc":"2.0","id":"warren-4","result":{"a":1}})");
  auto* answer = std::get_if<client_answer_action>(&ok);
  REQUIRE(answer != nullptr);
  CHECK(answer->id_json == R"("warren-4")");
  CHECK(answer->ok);
  CHECK(answer->result_json == R"({"a":1})");
  auto failed = session.handle(
      R"({"jsonrpc":"2.0","id":5,"error":{"code":-1,"message":"user declined"}})");
  answer = std::get_if<client_answer_action>(&failed);
  REQUIRE(answer != nullptr);
  CHECK_FALSE(answer->ok);
  CHECK(answer->error_text == "user declined");
}

TEST_CASE("without --conformance-fixtures, resources and prompts are not served") {
  tool_catalog catalog;
  mcp_session session{catalog, server_info{}};
  session.handle(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}})");
  auto action = session.handle(R"({"jsonrpc":"2.0","id":2,"method":"resources/list"})");
  auto* reply = std::get_if<reply_action>(&action);
  REQUIRE(reply != nullptr);
  CHECK(reply->line.find("-32601") != std::string::npos);
}

TEST_CASE("with the conformance fixtures, their tools come first and their methods "
          "are served") {
  tool_catalog catalog;
  mcp_fixtures fixtures;
  mcp_session session{catalog, server_info{"warren", "1", 500}, &fixtures};
  auto init = session.handle(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"sampling":{}}}})");
  auto& init_line = std::get<reply_action>(init).line;
  CHECK(init_line.find(R"("resources":{"subscribe":true)") != std::string::npos);
  CHECK(init_line.find(R"("completions":{})") != std::string::npos);
  CHECK(session.client_can("sampling"));
  CHECK_FALSE(session.client_can("elicitation"));

  auto list = session.handle(R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})");
  auto& list_line = std::get<reply_action>(list).line;
  CHECK(list_line.find(R"({"tools":[)" + fixtures.tool_jsons()[0]) !=
        std::string::npos);

  auto read = session.handle(
      R"({"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"test://static-text"}})");
  CHECK(std::get<reply_action>(read).line.find(
            "This is the content of the static text resource.") != std::string::npos);
  auto missing = session.handle(
      R"({"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"test://none"}})");
  CHECK(std::get<reply_action>(missing).error);
  CHECK(std::get<reply_action>(missing).line.find("-32002") != std::string::npos);

  auto simple = session.handle(
      R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"test_simple_text"}})");
  CHECK(std::get<reply_action>(simple).line.find(
            "This is a simple text response for testing.") != std::string::npos);

  auto progress = session.handle(
      R"({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"test_tool_with_progress","arguments":{},"_meta":{"progressToken":6}}})");
  auto* run = std::get_if<fixture_action>(&progress);
  REQUIRE(run != nullptr);
  CHECK(run->flow == fixture_flow::progress);
  CHECK(run->progress_token_json == "6");
  CHECK(run->id_json == "6");
}

TEST_CASE_FIXTURE(fixture, "logging/setLevel changes which messages the client wants") {
  initialize();
  CHECK(!session.wants(log_level::info));
  CHECK(
      reply(
          R"({"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"debug"}})")
          ["result"]
              .IsObject());
  CHECK(session.wants(log_level::debug));
  CHECK(
      error_code(reply(
          R"({"jsonrpc":"2.0","id":3,"method":"logging/setLevel","params":{"level":"loud"}})")) ==
      -32602);
  CHECK(session.wants(log_level::debug));
}

TEST_CASE("the oversized-line answer names size and limit") {
  auto line = mcp_session::too_large_response(5000, 1024);
  CHECK(line.find("-32600") != std::string::npos);
  CHECK(line.find("5000") != std::string::npos);
  CHECK(line.find("1024") != std::string::npos);
  CHECK(line.find(R"("id":null)") != std::string::npos);
}

TEST_CASE("notifications carry level, token and progress") {
  CHECK(
      mcp_session::log_notification(log_level::warning, "warren", "x \"y\"") ==
      R"({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"warning","logger":"warren","data":"x \"y\""}})");
  auto p = mcp_session::progress_notification(R"("t")", 0.5, 1.0, "half");
  CHECK(p.find(R"("progressToken":"t","progress":0.5,"total":1.0,"message":"half")") !=
        std::string::npos);
}
