#include "protocol/jsonrpc.hpp"

#include <doctest/doctest.h>

using namespace warren;

TEST_CASE("a request with an integer id is parsed with its method and params") {
  auto msg = parse_jsonrpc(
      R"({"jsonrpc":"2.0","id":42,"method":"tools/list","params":{"cursor":"x"}})");
  REQUIRE(msg.kind == message_kind::request);
  CHECK(msg.id_json == "42");
  CHECK(msg.method == "tools/list");
  REQUIRE(msg.params != nullptr);
  CHECK(msg.params->IsObject());
}

TEST_CASE("a string id is kept as a JSON string") {
  auto msg = parse_jsonrpc(R"({"jsonrpc":"2.0","id":"a\"b","method":"ping"})");
  CHECK(msg.kind == message_kind::request);
  CHECK(msg.id_json == R"("a\"b")");
}

TEST_CASE("a message without id is a notification") {
  auto msg = parse_jsonrpc(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  CHECK(msg.kind == message_kind::notification);
  CHECK(msg.id_json == "null");
}

TEST_CASE("a result or error without method is a response") {
  CHECK(parse_jsonrpc(R"({"jsonrpc":"2.0","id":1,"result":{}})").kind ==
        message_kind::response);
  CHECK(parse_jsonrpc(R"({"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"x"}})")
            .kind == message_kind::response);
}

TEST_CASE("malformed JSON is a parse error with a null id") {
  for (auto text :
       {"{", "garbage", R"({"jsonrpc":"2.0","id":1,"method":"ping"} x)", ""}) {
    auto msg = parse_jsonrpc(text);
    CHECK(msg.kind == message_kind::invalid);
    CHECK(code_of(msg.error) == ec::parse_error);
    CHECK(msg.id_json == "null");
  }
}

TEST_CASE("invalid UTF-8 is a parse error") {
  std::string text = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\xfe\"}";
  CHECK(code_of(parse_jsonrpc(text).error) == ec::parse_error);
}

TEST_CASE("a batch array is an invalid request") {
  auto msg = parse_jsonrpc(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])");
  CHECK(code_of(msg.error) == ec::invalid_request);
  CHECK(message_of(msg.error).find("batch") != std::string::npos);
}

TEST_CASE("structurally wrong messages are invalid requests that keep a readable id") {
  struct {
    const char* text;
    const char* id;
  } cases[] = {
      {R"({"id":3,"method":"ping"})", "3"},                 // no jsonrpc
      {R"({"jsonrpc":"1.0","id":3,"method":"ping"})", "3"}, // wrong version
      {R"({"jsonrpc":"2.0","id":3})", "3"},                 // no method
      {R"({"jsonrpc":"2.0","id":3,"method":7})", "3"},      // method not a string
      {R"({"jsonrpc":"2.0","id":3,"method":"x","params":5})", "3"}, // bad params
      {R"({"jsonrpc":"2.0","id":{},"method":"ping"})", "null"},     // id an object
      {R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", "null"},    // id fractional
      {R"(17)", "null"},                                            // not an object
  };
  for (auto& c : cases) {
    CAPTURE(c.text);
    auto msg = parse_jsonrpc(c.text);
    CHECK(msg.kind == message_kind::invalid);
    CHECK(code_of(msg.error) == ec::invalid_request);
    CHECK(msg.id_json == c.id);
  }
}

TEST_CASE("error codes map to the JSON-RPC codes") {
  CHECK(jsonrpc_code(ec::parse_error) == -32700);
  CHECK(jsonrpc_code(ec::invalid_request) == -32600);
  CHECK(jsonrpc_code(ec::too_large) == -32600);
  CHECK(jsonrpc_code(ec::method_not_found) == -32601);
  CHECK(jsonrpc_code(ec::invalid_params) == -32602);
  CHECK(jsonrpc_code(ec::unknown_tool) == -32602);
  CHECK(jsonrpc_code(ec::internal) == -32603);
}

TEST_CASE("responses and notifications are compact and escape text") {
  CHECK(make_result("1", "{}") == R"({"jsonrpc":"2.0","id":1,"result":{}})");
  CHECK(
      make_error_response("null", -32700, "bad \"x\"\n") ==
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad \"x\"\n"}})");
  CHECK(
      make_notification("notifications/progress", R"({"progress":1})") ==
      R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}})");
  auto err =
      make_error_response("\"q\"", make_error(ec::unknown_tool, "unknown tool 'x'"));
  CHECK(
      err ==
      R"({"jsonrpc":"2.0","id":"q","error":{"code":-32602,"message":"unknown tool 'x'"}})");
}
