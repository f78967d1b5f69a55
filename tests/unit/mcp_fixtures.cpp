#include "protocol/mcp_fixtures.hpp"

#include <string>
#include <string_view>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "protocol/base64.hpp"

using namespace warren;

namespace {

rapidjson::Document parse(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

std::string str(const rapidjson::Value& v) {
  REQUIRE(v.IsString());
  return {v.GetString(), v.GetStringLength()};
}

// The single content item of a CallToolResult (checks there is exactly one).
const rapidjson::Value& only_item(const rapidjson::Document& result) {
  REQUIRE(result["content"].IsArray());
  REQUIRE(result["content"].Size() == 1);
  return result["content"][0];
}

std::string only_text(std::string_view result_json) {
  auto doc = parse(result_json);
  const auto& item = only_item(doc);
  CHECK(str(item["type"]) == "text");
  return str(item["text"]);
}

bool is_error(std::string_view result_json) {
  auto doc = parse(result_json);
  return doc.HasMember("isError") && doc["isError"].IsBool() &&
         doc["isError"].GetBool();
}

const mcp_fixtures fixtures;

} // namespace

TEST_CASE("every fixture tool is listed with a name, a description and an object "
          "inputSchema") {
  REQUIRE(fixtures.tool_jsons().size() == 14);
  for (const auto& json : fixtures.tool_jsons()) {
    auto tool = parse(json);
    CAPTURE(json);
    REQUIRE(tool["name"].IsString());
    CHECK(fixtures.has_tool(str(tool["name"])));
    CHECK_FALSE(str(tool["description"]).empty());
    REQUIRE(tool["inputSchema"].IsObject());
    CHECK(str(tool["inputSchema"]["type"]) == "object");
    CHECK_FALSE(tool.HasMember("outputSchema"));
  }
  CHECK_FALSE(fixtures.has_tool("no_such_tool"));
}

TEST_CASE("the fixture tools the suite calls are all present with their flows") {
  CHECK(fixtures.flow_of("test_simple_text") == fixture_flow::simple);
  CHECK(fixtures.flow_of("test_image_content") == fixture_flow::simple);
  CHECK(fixtures.flow_of("test_audio_content") == fixture_flow::simple);
  CHECK(fixtures.flow_of("test_embedded_resource") == fixture_flow::simple);
  CHECK(fixtures.flow_of("test_multiple_content_types") == fixture_flow::simple);
  CHECK(fixtures.flow_of("test_error_handling") == fixture_flow::simple);
  CHECK(fixtures.flow_of("json_schema_2020_12_tool") == fixture_flow::simple);
  CHECK(fixtures.flow_of("test_tool_with_logging") == fixture_flow::logging);
  CHECK(fixtures.flow_of("test_tool_with_progress") == fixture_flow::progress);
  CHECK(fixtures.flow_of("test_sampling") == fixture_flow::sampling);
  CHECK(fixtures.flow_of("test_elicitation") == fixture_flow::elicitation);
  CHECK(fixtures.flow_of("test_elicitation_sep1034_defaults") ==
        fixture_flow::elicitation);
  CHECK(fixtures.flow_of("test_elicitation_sep1330_enums") ==
        fixture_flow::elicitation);
  CHECK(fixtures.flow_of("test_reconnection") == fixture_flow::reconnection);
  CHECK_FALSE(fixtures.flow_of("tools/list"));
}

TEST_CASE("the sampling and elicitation fixture tools declare their required "
          "arguments") {
  for (const auto& json : fixtures.tool_jsons()) {
    auto tool = parse(json);
    auto name = str(tool["name"]);
    const auto& schema = tool["inputSchema"];
    if (name == "test_sampling" || name == "test_elicitation") {
      auto arg = name == "test_sampling" ? "prompt" : "message";
      CHECK(str(schema["properties"][arg]["type"]) == "string");
      REQUIRE(schema["required"].IsArray());
      CHECK(str(schema["required"][0]) == arg);
    }
  }
}

TEST_CASE("the JSON Schema 2020-12 tool keeps $schema, $defs and "
          "additionalProperties") {
  bool found = false;
  for (const auto& json : fixtures.tool_jsons()) {
    auto tool = parse(json);
    if (str(tool["name"]) != "json_schema_2020_12_tool")
      continue;
    found = true;
    const auto& schema = tool["inputSchema"];
    CHECK(str(schema["$schema"]) == "https://json-schema.org/draft/2020-12/schema");
    CHECK(schema["$defs"]["address"].IsObject());
    REQUIRE(schema["additionalProperties"].IsBool());
    CHECK_FALSE(schema["additionalProperties"].GetBool());
  }
  CHECK(found);
}

TEST_CASE("test_simple_text answers the fixed text, with or without arguments") {
  for (std::string_view args : {"", "{}", "null"}) {
    auto result = fixtures.simple_result("test_simple_text", args);
    REQUIRE(result);
    CHECK(only_text(*result) == "This is a simple text response for testing.");
    CHECK_FALSE(is_error(*result));
  }
}

TEST_CASE("test_image_content answers a base64 PNG image") {
  auto result = fixtures.simple_result("test_image_content", "{}");
  REQUIRE(result);
  auto doc = parse(*result);
  const auto& item = only_item(doc);
  CHECK(str(item["type"]) == "image");
  CHECK(str(item["mimeType"]) == "image/png");
  auto bytes = base64_decode(str(item["data"]));
  REQUIRE(bytes);
  CHECK(bytes->substr(0, 8) == "\x89PNG\r\n\x1a\n");
}

TEST_CASE("test_audio_content answers base64 WAV audio typed audio/wav") {
  auto result = fixtures.simple_result("test_audio_content", "{}");
  REQUIRE(result);
  auto doc = parse(*result);
  const auto& item = only_item(doc);
  CHECK(str(item["type"]) == "audio");
  CHECK(str(item["mimeType"]) == "audio/wav");
  auto bytes = base64_decode(str(item["data"]));
  REQUIRE(bytes);
  CHECK(bytes->substr(0, 4) == "RIFF");
  CHECK(bytes->substr(8, 4) == "WAVE");
}

TEST_CASE("test_embedded_resource answers a text resource") {
  auto result = fixtures.simple_result("test_embedded_resource", "{}");
  REQUIRE(result);
  auto doc = parse(*result);
  const auto& item = only_item(doc);
  CHECK(str(item["type"]) == "resource");
  CHECK(str(item["resource"]["uri"]) == "test://embedded-resource");
  CHECK(str(item["resource"]["mimeType"]) == "text/plain");
  CHECK(str(item["resource"]["text"]) == "This is an embedded resource content.");
}

TEST_CASE("test_multiple_content_types answers text, image and resource in order") {
  auto result = fixtures.simple_result("test_multiple_content_types", "{}");
  REQUIRE(result);
  auto doc = parse(*result);
  const auto& content = doc["content"];
  REQUIRE(content.Size() == 3);
  CHECK(str(content[0]["type"]) == "text");
  CHECK(str(content[0]["text"]) == "Multiple content types test:");
  CHECK(str(content[1]["type"]) == "image");
  CHECK(str(content[1]["mimeType"]) == "image/png");
  CHECK(base64_decode(str(content[1]["data"])));
  CHECK(str(content[2]["type"]) == "resource");
  CHECK(str(content[2]["resource"]["uri"]) == "test://mixed-content-resource");
  CHECK(str(content[2]["resource"]["mimeType"]) == "application/json");
  CHECK(str(content[2]["resource"]["text"]) == R"({"test":"data","value":123})");
}

TEST_CASE("test_error_handling answers an isError result, not a protocol error") {
  auto result = fixtures.simple_result("test_error_handling", "{}");
  REQUIRE(result);
  CHECK(is_error(*result));
  CHECK(only_text(*result) == "This tool intentionally returns an error for testing");
}

TEST_CASE("the JSON Schema 2020-12 tool echoes its arguments") {
  auto result = fixtures.simple_result("json_schema_2020_12_tool", R"({"name":"x"})");
  REQUIRE(result);
  CHECK(only_text(*result) == R"(JSON Schema 2020-12 tool called with: {"name":"x"})");
}

TEST_CASE("a simple tool given arguments that are no object answers isError") {
  auto result = fixtures.simple_result("test_simple_text", "[1,2]");
  REQUIRE(result);
  CHECK(is_error(*result));
  result = fixtures.simple_result("test_image_content", "{not json");
  REQUIRE(result);
  CHECK(is_error(*result));
}

TEST_CASE("simple_result is empty for tools that need the transport and unknown "
          "tools") {
  for (std::string_view tool :
       {"test_tool_with_logging", "test_tool_with_progress", "test_sampling",
        "test_elicitation", "test_elicitation_sep1034_defaults",
        "test_elicitation_sep1330_enums", "test_reconnection", "nope"})
    CHECK_FALSE(fixtures.simple_result(tool, "{}"));
}

TEST_CASE("the logging tool sends three info messages and then its result") {
  auto params = fixtures.log_message_params();
  REQUIRE(params.size() == 3);
  const char* texts[] = {"Tool execution started", "Tool processing data",
                         "Tool execution completed"};
  for (std::size_t i = 0; i < 3; ++i) {
    auto doc = parse(params[i]);
    CHECK(str(doc["level"]) == "info");
    CHECK(str(doc["data"]) == texts[i]);
    CHECK(doc["logger"].IsString());
  }
  auto result = fixtures.closing_result("test_tool_with_logging");
  REQUIRE(result);
  CHECK(only_text(*result) == "Tool with logging executed successfully");
}

TEST_CASE("progress notifications echo a numeric token verbatim and increase to "
          "the total") {
  auto params = fixtures.progress_params("7");
  REQUIRE(params.size() == 3);
  double last = -1;
  for (const auto& p : params) {
    auto doc = parse(p);
    REQUIRE(doc["progressToken"].IsInt());
    CHECK(doc["progressToken"].GetInt() == 7);
    CHECK(doc["total"].GetDouble() == 100);
    CHECK(doc["progress"].GetDouble() > last);
    last = doc["progress"].GetDouble();
    CHECK(doc["message"].IsString());
  }
  CHECK(last == 100);
  auto result = fixtures.closing_result("test_tool_with_progress");
  REQUIRE(result);
  CHECK_FALSE(is_error(*result));
}

TEST_CASE("progress notifications echo a string token and refuse other tokens") {
  auto params = fixtures.progress_params(R"("progress-test-1")");
  REQUIRE(params.size() == 3);
  CHECK(str(parse(params[0])["progressToken"]) == "progress-test-1");
  CHECK(fixtures.progress_params("{}").empty());
  CHECK(fixtures.progress_params("").empty());
  CHECK(fixtures.progress_params("[1]").empty());
}

TEST_CASE("closing_result covers only logging, progress and reconnection tools") {
  auto result = fixtures.closing_result("test_reconnection");
  REQUIRE(result);
  CHECK(only_text(*result).find("Reconnection test completed successfully") == 0);
  CHECK_FALSE(fixtures.closing_result("test_simple_text"));
  CHECK_FALSE(fixtures.closing_result("test_sampling"));
  CHECK_FALSE(fixtures.closing_result("nope"));
}

TEST_CASE("test_sampling asks the client for a message built from its prompt") {
  auto request = fixtures.client_request_for(
      "test_sampling", R"({"prompt":"Test prompt for sampling"})");
  auto* ask = std::get_if<client_request>(&request);
  REQUIRE(ask);
  CHECK(ask->method == "sampling/createMessage");
  auto params = parse(ask->params_json);
  REQUIRE(params["messages"].Size() == 1);
  CHECK(str(params["messages"][0]["role"]) == "user");
  CHECK(str(params["messages"][0]["content"]["type"]) == "text");
  CHECK(str(params["messages"][0]["content"]["text"]) == "Test prompt for sampling");
  CHECK(params["maxTokens"].GetInt() == 100);
}

TEST_CASE("test_sampling turns the client's answer into an LLM response text") {
  auto reply = R"({"role":"assistant","content":{"type":"text",)"
               R"("text":"This is a test response from the client"},)"
               R"("model":"test-model","stopReason":"endTurn"})";
  auto result = fixtures.result_from_client("test_sampling", reply);
  CHECK_FALSE(is_error(result));
  CHECK(only_text(result) == "LLM response: This is a test response from the client");
  auto array_reply = R"({"role":"assistant","content":[{"type":"image","data":"",)"
                     R"("mimeType":"image/png"},{"type":"text","text":"hi"}]})";
  CHECK(only_text(fixtures.result_from_client("test_sampling", array_reply)) ==
        "LLM response: hi");
}

TEST_CASE("test_sampling without a prompt or with a useless answer is an isError "
          "result") {
  auto request = fixtures.client_request_for("test_sampling", "{}");
  auto* final_result = std::get_if<std::string>(&request);
  REQUIRE(final_result);
  CHECK(is_error(*final_result));
  CHECK(only_text(*final_result).find("'prompt'") != std::string::npos);
  CHECK(is_error(fixtures.result_from_client("test_sampling", R"({"role":"x"})")));
  CHECK(is_error(fixtures.result_from_client("test_sampling", "not json")));
  auto refused =
      fixtures.result_from_client_error("test_sampling", "the client has no sampling");
  CHECK(is_error(refused));
  CHECK(only_text(refused).find("sampling/createMessage") != std::string::npos);
}

TEST_CASE("test_elicitation asks for username and email with the caller's message") {
  auto request = fixtures.client_request_for(
      "test_elicitation", R"({"message":"Please provide your information"})");
  auto* ask = std::get_if<client_request>(&request);
  REQUIRE(ask);
  CHECK(ask->method == "elicitation/create");
  auto params = parse(ask->params_json);
  CHECK(str(params["mode"]) == "form");
  CHECK(str(params["message"]) == "Please provide your information");
  const auto& schema = params["requestedSchema"];
  CHECK(str(schema["type"]) == "object");
  CHECK(str(schema["properties"]["username"]["type"]) == "string");
  CHECK(str(schema["properties"]["email"]["type"]) == "string");
  CHECK(schema["required"].Size() == 2);

  auto reply =
      R"({"action":"accept","content":{"username":"testuser","email":"test@example.com"}})";
  CHECK(only_text(fixtures.result_from_client("test_elicitation", reply)) ==
        R"(User response: action=accept, content={"username":"testuser",)"
        R"("email":"test@example.com"})");
  CHECK(only_text(fixtures.result_from_client("test_elicitation",
                                              R"({"action":"decline"})")) ==
        "User response: action=decline, content={}");
  CHECK(is_error(fixtures.result_from_client("test_elicitation", R"({"action":"x"})")));
  CHECK(std::holds_alternative<std::string>(
      fixtures.client_request_for("test_elicitation", R"({"message":3})")));
}

TEST_CASE("the SEP-1034 elicitation carries a default for every primitive type") {
  auto request = fixtures.client_request_for("test_elicitation_sep1034_defaults", "{}");
  auto* ask = std::get_if<client_request>(&request);
  REQUIRE(ask);
  auto params = parse(ask->params_json);
  const auto& p = params["requestedSchema"]["properties"];
  CHECK(str(p["name"]["type"]) == "string");
  CHECK(str(p["name"]["default"]) == "John Doe");
  CHECK(str(p["age"]["type"]) == "integer");
  CHECK(p["age"]["default"].GetInt() == 30);
  CHECK(str(p["score"]["type"]) == "number");
  CHECK(p["score"]["default"].GetDouble() == 95.5);
  CHECK(str(p["status"]["type"]) == "string");
  REQUIRE(p["status"]["enum"].IsArray());
  CHECK(str(p["status"]["default"]) == "active");
  bool default_in_enum = false;
  for (const auto& v : p["status"]["enum"].GetArray())
    default_in_enum = default_in_enum || str(v) == "active";
  CHECK(default_in_enum);
  CHECK(str(p["verified"]["type"]) == "boolean");
  CHECK(p["verified"]["default"].GetBool());
  auto done =
      fixtures.result_from_client("test_elicitation_sep1034_defaults",
                                  R"({"action":"accept","content":{"age":25}})");
  CHECK(only_text(done) ==
        R"(Elicitation completed: action=accept, content={"age":25})");
}

TEST_CASE("the SEP-1330 elicitation carries all five enum shapes") {
  auto request = fixtures.client_request_for("test_elicitation_sep1330_enums", "{}");
  auto* ask = std::get_if<client_request>(&request);
  REQUIRE(ask);
  auto params = parse(ask->params_json);
  const auto& p = params["requestedSchema"]["properties"];

  const auto& untitled_single = p["untitledSingle"];
  CHECK(str(untitled_single["type"]) == "string");
  CHECK(untitled_single["enum"].IsArray());
  CHECK_FALSE(untitled_single.HasMember("oneOf"));
  CHECK_FALSE(untitled_single.HasMember("enumNames"));

  const auto& titled_single = p["titledSingle"];
  CHECK(str(titled_single["type"]) == "string");
  REQUIRE(titled_single["oneOf"].IsArray());
  for (const auto& o : titled_single["oneOf"].GetArray())
    CHECK((o["const"].IsString() && o["title"].IsString()));
  CHECK_FALSE(titled_single.HasMember("enum"));

  const auto& legacy = p["legacyEnum"];
  CHECK(str(legacy["type"]) == "string");
  REQUIRE(legacy["enum"].IsArray());
  REQUIRE(legacy["enumNames"].IsArray());
  CHECK(legacy["enum"].Size() == legacy["enumNames"].Size());

  const auto& untitled_multi = p["untitledMulti"];
  CHECK(str(untitled_multi["type"]) == "array");
  CHECK(str(untitled_multi["items"]["type"]) == "string");
  CHECK(untitled_multi["items"]["enum"].IsArray());
  CHECK_FALSE(untitled_multi["items"].HasMember("anyOf"));

  const auto& titled_multi = p["titledMulti"];
  CHECK(str(titled_multi["type"]) == "array");
  REQUIRE(titled_multi["items"]["anyOf"].IsArray());
  for (const auto& o : titled_multi["items"]["anyOf"].GetArray())
    CHECK((o["const"].IsString() && o["title"].IsString()));
  CHECK_FALSE(titled_multi["items"].HasMember("enum"));
}

TEST_CASE("client_request_for refuses tools that ask the client nothing") {
  auto request = fixtures.client_request_for("test_simple_text", "{}");
  REQUIRE(std::holds_alternative<std::string>(request));
  CHECK(is_error(std::get<std::string>(request)));
}

TEST_CASE("resources/list lists the static resources with uri, name and mime type") {
  auto doc = parse(fixtures.resources_list_result());
  const auto& list = doc["resources"];
  REQUIRE(list.IsArray());
  std::string uris;
  for (const auto& r : list.GetArray()) {
    CHECK_FALSE(str(r["name"]).empty());
    CHECK_FALSE(str(r["description"]).empty());
    CHECK_FALSE(str(r["mimeType"]).empty());
    uris += str(r["uri"]) + " ";
  }
  CHECK(uris == "test://static-text test://static-binary test://watched-resource ");
}

TEST_CASE("resources/templates/list advertises the data template") {
  auto doc = parse(fixtures.resource_templates_list_result());
  REQUIRE(doc["resourceTemplates"].Size() == 1);
  const auto& t = doc["resourceTemplates"][0];
  CHECK(str(t["uriTemplate"]) == "test://template/{id}/data");
  CHECK(str(t["mimeType"]) == "application/json");
  CHECK_FALSE(str(t["name"]).empty());
}

TEST_CASE("resources/read of test://static-text answers its text") {
  auto answer = fixtures.read_resource(R"({"uri":"test://static-text"})");
  REQUIRE(answer.ok());
  auto doc = parse(answer.result_json);
  REQUIRE(doc["contents"].Size() == 1);
  const auto& c = doc["contents"][0];
  CHECK(str(c["uri"]) == "test://static-text");
  CHECK(str(c["mimeType"]) == "text/plain");
  CHECK(str(c["text"]) == "This is the content of the static text resource.");
}

TEST_CASE("resources/read of test://static-binary answers a PNG blob") {
  auto answer = fixtures.read_resource(R"({"uri":"test://static-binary"})");
  REQUIRE(answer.ok());
  auto doc = parse(answer.result_json);
  const auto& c = doc["contents"][0];
  CHECK(str(c["uri"]) == "test://static-binary");
  CHECK(str(c["mimeType"]) == "image/png");
  CHECK_FALSE(c.HasMember("text"));
  auto bytes = base64_decode(str(c["blob"]));
  REQUIRE(bytes);
  CHECK(bytes->substr(1, 3) == "PNG");
}

TEST_CASE("resources/read substitutes the template id") {
  auto answer = fixtures.read_resource(R"({"uri":"test://template/123/data"})");
  REQUIRE(answer.ok());
  auto doc = parse(answer.result_json);
  const auto& c = doc["contents"][0];
  CHECK(str(c["uri"]) == "test://template/123/data");
  CHECK(str(c["mimeType"]) == "application/json");
  CHECK(str(c["text"]) ==
        R"({"id":"123","templateTest":true,"data":"Data for ID: 123"})");
}

TEST_CASE("resources/read of an unknown uri is -32002 Resource not found with the "
          "uri") {
  for (std::string_view uri : {"test://nothing", "test://template//data",
                               "test://template/1/2/data", "test://template/1"}) {
    std::string params = R"({"uri":")" + std::string{uri} + R"("})";
    auto answer = fixtures.read_resource(params);
    REQUIRE_FALSE(answer.ok());
    CHECK(answer.error->code == -32002);
    CHECK(answer.error->message == "Resource not found");
    CHECK(str(parse(answer.error->data_json)["uri"]) == uri);
  }
}

TEST_CASE("resources/read without a string uri is -32602") {
  for (std::string_view params : {"{}", R"({"uri":5})", "[]", "{bad"}) {
    auto answer = fixtures.read_resource(params);
    REQUIRE_FALSE(answer.ok());
    CHECK(answer.error->code == -32602);
  }
}

TEST_CASE("an error answer renders as a JSON-RPC error response with its data") {
  auto answer = fixtures.read_resource(R"({"uri":"test://nothing"})");
  auto doc = parse(answer.response("4"));
  CHECK(str(doc["jsonrpc"]) == "2.0");
  CHECK(doc["id"].GetInt() == 4);
  CHECK(doc["error"]["code"].GetInt() == -32002);
  CHECK(str(doc["error"]["message"]) == "Resource not found");
  CHECK(str(doc["error"]["data"]["uri"]) == "test://nothing");
  auto ok = parse(
      fixtures.subscription(R"({"uri":"test://watched-resource"})").response(R"("a")"));
  CHECK(str(ok["id"]) == "a");
  CHECK(ok["result"].IsObject());
  CHECK(ok["result"].ObjectEmpty());
  CHECK_FALSE(ok.HasMember("error"));
}

TEST_CASE("subscribing to a known resource answers {} and to an unknown one "
          "-32002") {
  auto answer = fixtures.subscription(R"({"uri":"test://watched-resource"})");
  REQUIRE(answer.ok());
  CHECK(answer.result_json == "{}");
  CHECK(fixtures.subscription(R"({"uri":"test://template/9/data"})").ok());
  auto unknown = fixtures.subscription(R"({"uri":"test://elsewhere"})");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error->code == -32002);
  CHECK(fixtures.subscription("{}").error->code == -32602);
}

TEST_CASE("prompts/list lists the four prompts with descriptions and arguments") {
  auto doc = parse(fixtures.prompts_list_result());
  const auto& list = doc["prompts"];
  REQUIRE(list.Size() == 4);
  std::string names;
  for (const auto& p : list.GetArray()) {
    CHECK_FALSE(str(p["description"]).empty());
    names += str(p["name"]) + " ";
  }
  CHECK(names == "test_simple_prompt test_prompt_with_arguments "
                 "test_prompt_with_embedded_resource test_prompt_with_image ");
  const auto& args = list[1]["arguments"];
  REQUIRE(args.Size() == 2);
  CHECK(str(args[0]["name"]) == "arg1");
  CHECK(args[0]["required"].GetBool());
  CHECK(str(args[1]["name"]) == "arg2");
  CHECK(str(list[2]["arguments"][0]["name"]) == "resourceUri");
  CHECK_FALSE(list[0].HasMember("arguments"));
}

TEST_CASE("prompts/get test_simple_prompt answers one user text message") {
  auto answer = fixtures.get_prompt(R"({"name":"test_simple_prompt"})");
  REQUIRE(answer.ok());
  auto doc = parse(answer.result_json);
  REQUIRE(doc["messages"].Size() == 1);
  CHECK(str(doc["messages"][0]["role"]) == "user");
  CHECK(str(doc["messages"][0]["content"]["text"]) ==
        "This is a simple prompt for testing.");
}

TEST_CASE("prompts/get substitutes both arguments") {
  auto answer = fixtures.get_prompt(
      R"({"name":"test_prompt_with_arguments","arguments":{"arg1":"testValue1","arg2":"testValue2"}})");
  REQUIRE(answer.ok());
  auto doc = parse(answer.result_json);
  CHECK(str(doc["messages"][0]["content"]["text"]) ==
        "Prompt with arguments: arg1='testValue1', arg2='testValue2'");
}

TEST_CASE("prompts/get embeds the resource named by resourceUri") {
  auto answer = fixtures.get_prompt(
      R"({"name":"test_prompt_with_embedded_resource","arguments":{"resourceUri":"test://example-resource"}})");
  REQUIRE(answer.ok());
  auto doc = parse(answer.result_json);
  const auto& m = doc["messages"];
  REQUIRE(m.Size() == 2);
  CHECK(str(m[0]["content"]["type"]) == "resource");
  CHECK(str(m[0]["content"]["resource"]["uri"]) == "test://example-resource");
  CHECK(str(m[0]["content"]["resource"]["mimeType"]) == "text/plain");
  CHECK(str(m[0]["content"]["resource"]["text"]) ==
        "Embedded resource content for testing.");
  CHECK(str(m[1]["content"]["text"]) == "Please process the embedded resource above.");
}

TEST_CASE("prompts/get test_prompt_with_image answers an image then a text") {
  auto answer = fixtures.get_prompt(R"({"name":"test_prompt_with_image"})");
  REQUIRE(answer.ok());
  auto doc = parse(answer.result_json);
  const auto& m = doc["messages"];
  REQUIRE(m.Size() == 2);
  CHECK(str(m[0]["content"]["type"]) == "image");
  CHECK(str(m[0]["content"]["mimeType"]) == "image/png");
  CHECK(base64_decode(str(m[0]["content"]["data"])));
  CHECK(str(m[1]["content"]["text"]) == "Please analyze the image above.");
}

TEST_CASE("prompts/get refuses unknown prompts, missing and non-string arguments "
          "with -32602") {
  auto unknown = fixtures.get_prompt(R"({"name":"nope"})");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error->code == -32602);
  CHECK(unknown.error->message.find("nope") != std::string::npos);

  auto missing = fixtures.get_prompt(
      R"({"name":"test_prompt_with_arguments","arguments":{"arg1":"a"}})");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error->code == -32602);
  CHECK(missing.error->message.find("'arg2'") != std::string::npos);

  auto no_args =
      fixtures.get_prompt(R"({"name":"test_prompt_with_embedded_resource"})");
  REQUIRE_FALSE(no_args.ok());
  CHECK(no_args.error->message.find("'resourceUri'") != std::string::npos);

  auto not_string = fixtures.get_prompt(
      R"({"name":"test_prompt_with_arguments","arguments":{"arg1":1,"arg2":"b"}})");
  REQUIRE_FALSE(not_string.ok());
  CHECK(not_string.error->code == -32602);

  CHECK(fixtures.get_prompt("{}").error->code == -32602);
  CHECK(fixtures.get_prompt("[]").error->code == -32602);
  CHECK(fixtures.get_prompt(R"({"name":"test_simple_prompt","arguments":[]})")
            .error->code == -32602);
}

TEST_CASE("completion/complete answers the suite's request with a values array") {
  auto answer = fixtures.complete(
      R"({"ref":{"type":"ref/prompt","name":"test_prompt_with_arguments"},)"
      R"("argument":{"name":"arg1","value":"test"}})");
  REQUIRE(answer.ok());
  auto doc = parse(answer.result_json);
  REQUIRE(doc["completion"]["values"].IsArray());
  CHECK(doc["completion"]["values"].Empty());
  CHECK(doc["completion"]["total"].GetInt() == 0);
  CHECK_FALSE(doc["completion"]["hasMore"].GetBool());
}

TEST_CASE("completion/complete filters candidates by the typed prefix") {
  auto answer = fixtures.complete(
      R"({"ref":{"type":"ref/prompt","name":"test_prompt_with_arguments"},)"
      R"("argument":{"name":"arg1","value":"par"}})");
  REQUIRE(answer.ok());
  auto doc = parse(answer.result_json);
  const auto& values = doc["completion"]["values"];
  REQUIRE(values.Size() == 3);
  CHECK(str(values[0]) == "paris");
  CHECK(str(values[2]) == "party");
  CHECK(doc["completion"]["total"].GetInt() == 3);

  auto ids = parse(fixtures
                       .complete(R"({"ref":{"type":"ref/resource",)"
                                 R"("uri":"test://template/{id}/data"},)"
                                 R"("argument":{"name":"id","value":"12"}})")
                       .result_json);
  REQUIRE(ids["completion"]["values"].Size() == 1);
  CHECK(str(ids["completion"]["values"][0]) == "123");
}

TEST_CASE("completion/complete refuses unknown references and malformed params with "
          "-32602") {
  for (
      std::string_view params :
      {R"({"ref":{"type":"ref/prompt","name":"nope"},"argument":{"name":"a","value":""}})",
       R"({"ref":{"type":"ref/resource","uri":"test://x"},"argument":{"name":"id"}})",
       R"({"ref":{"type":"ref/other"},"argument":{"name":"a","value":""}})",
       R"({"argument":{"name":"a","value":""}})",
       R"({"ref":{"type":"ref/prompt","name":"test_simple_prompt"}})",
       R"({"ref":{"type":"ref/prompt","name":"test_simple_prompt"},"argument":{"name":"a","value":3}})",
       "[]"}) {
    CAPTURE(params);
    auto answer = fixtures.complete(params);
    REQUIRE_FALSE(answer.ok());
    CHECK(answer.error->code == -32602);
  }
}

TEST_CASE("the fixture capabilities announce subscribe, logging, prompts and "
          "completions") {
  auto caps = parse(fixtures.capabilities_json());
  CHECK(caps["resources"]["subscribe"].GetBool());
  CHECK(caps["logging"].IsObject());
  CHECK(caps["prompts"].IsObject());
  CHECK(caps["completions"].IsObject());
  CHECK(caps["tools"].IsObject());
}
