#include "protocol/mcp_fixtures.hpp"

#include <algorithm>
#include <array>

#include <rapidjson/document.h>

#include "protocol/jsonrpc.hpp"
#include "protocol/tool_json.hpp"

namespace warren {

namespace {

namespace rj = rapidjson;
using allocator = rj::Document::AllocatorType;

// A 1x1 red RGB PNG and a 16-sample silent 8 kHz mono PCM WAV, small enough to sit
// in every answer that needs an image or a sound.
constexpr std::string_view png_base64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAA"
                                        "AADElEQVR42mP4z8AAAAMBAQD3A0FDAAAAAElF"
                                        "TkSuQmCC";
constexpr std::string_view wav_base64 =
    "UklGRjQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YRAAAAAAAAAAAAAAAAAAAAAAAAAA";

constexpr std::string_view template_prefix = "test://template/";
constexpr std::string_view template_suffix = "/data";

struct tool_def {
  std::string_view name;
  std::string_view title;
  std::string_view description;
  fixture_flow flow;
  std::string_view input_schema;
};

constexpr std::string_view no_arguments = R"({"type":"object","properties":{}})";

constexpr std::array<tool_def, 14> tool_defs{{
    {"test_simple_text", "Simple text", "Tests simple text content response",
     fixture_flow::simple, no_arguments},
    {"test_image_content", "Image content", "Tests image content response",
     fixture_flow::simple, no_arguments},
    {"test_audio_content", "Audio content", "Tests audio content response",
     fixture_flow::simple, no_arguments},
    {"test_embedded_resource", "Embedded resource",
     "Tests embedded resource content response", fixture_flow::simple, no_arguments},
    {"test_multiple_content_types", "Multiple content types",
     "Tests response with multiple content types (text, image, resource)",
     fixture_flow::simple, no_arguments},
    {"test_error_handling", "Error handling",
     "Tests error response handling: always returns an isError result",
     fixture_flow::simple, no_arguments},
    {"test_tool_with_logging", "Tool with logging",
     "Tests tool that emits log messages during execution", fixture_flow::logging,
     no_arguments},
    {"test_tool_with_progress", "Tool with progress",
     "Tests tool that reports progress notifications", fixture_flow::progress,
     no_arguments},
    {"test_sampling", "Sampling",
     "Tests server-initiated sampling (LLM completion request)", fixture_flow::sampling,
     R"({"type":"object","properties":{"prompt":{"type":"string",)"
     R"("description":"The prompt to send to the LLM"}},"required":["prompt"]})"},
    {"test_elicitation", "Elicitation",
     "Tests server-initiated elicitation (user input request)",
     fixture_flow::elicitation,
     R"({"type":"object","properties":{"message":{"type":"string",)"
     R"("description":"The message to show the user"}},"required":["message"]})"},
    {"test_elicitation_sep1034_defaults", "Elicitation defaults",
     "Tests elicitation with default values per SEP-1034", fixture_flow::elicitation,
     no_arguments},
    {"test_elicitation_sep1330_enums", "Elicitation enums",
     "Tests elicitation with enum schema improvements per SEP-1330",
     fixture_flow::elicitation, no_arguments},
    {"test_reconnection", "Reconnection",
     "Tests SSE stream disconnection and client reconnection (SEP-1699): the server "
     "may close the stream mid-call and send the result after the client reconnects",
     fixture_flow::reconnection, no_arguments},
    {"json_schema_2020_12_tool", "JSON Schema 2020-12",
     "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
     fixture_flow::simple,
     R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",)"
     R"("$defs":{"address":{"type":"object","properties":{"street":{"type":"string"},)"
     R"("city":{"type":"string"}}}},"properties":{"name":{"type":"string"},)"
     R"("address":{"$ref":"#/$defs/address"}},"additionalProperties":false})"},
}};

const tool_def* find_tool(std::string_view name) {
  auto i = std::find_if(tool_defs.begin(), tool_defs.end(),
                        [&](const tool_def& t) { return t.name == name; });
  return i == tool_defs.end() ? nullptr : &*i;
}

struct resource_def {
  std::string_view uri;
  std::string_view name;
  std::string_view title;
  std::string_view description;
  std::string_view mime_type;
  std::string_view text; ///< empty: the resource is the PNG, read as a blob
};

constexpr std::array<resource_def, 3> resource_defs{{
    {"test://static-text", "static-text", "Static Text Resource",
     "A static text resource for testing", "text/plain",
     "This is the content of the static text resource."},
    {"test://static-binary", "static-binary", "Static Binary Resource",
     "A static binary resource (image) for testing", "image/png", ""},
    {"test://watched-resource", "watched-resource", "Watched Resource",
     "A resource clients may subscribe to", "text/plain", "Watched resource content"},
}};

struct argument_def {
  std::string_view name;
  std::string_view description;
  std::array<std::string_view, 3> completions;
};

struct prompt_def {
  std::string_view name;
  std::string_view title;
  std::string_view description;
  std::array<argument_def, 2> arguments; ///< unused slots have an empty name
};

constexpr std::array<prompt_def, 4> prompt_defs{{
    {"test_simple_prompt",
     "Simple Test Prompt",
     "A simple prompt without arguments",
     {}},
    {"test_prompt_with_arguments",
     "Prompt With Arguments",
     "A prompt with required arguments",
     {{{"arg1", "First test argument", {"paris", "park", "party"}},
       {"arg2", "Second test argument", {"hello", "help", "world"}}}}},
    {"test_prompt_with_embedded_resource",
     "Prompt With Embedded Resource",
     "A prompt that includes an embedded resource",
     {{{"resourceUri",
        "URI of the resource to embed",
        {"test://static-text", "test://static-binary", "test://watched-resource"}},
       {}}}},
    {"test_prompt_with_image",
     "Prompt With Image",
     "A prompt that includes image content",
     {}},
}};

constexpr std::array<std::string_view, 4> template_id_completions{"1", "2", "3", "123"};

const prompt_def* find_prompt(std::string_view name) {
  auto i = std::find_if(prompt_defs.begin(), prompt_defs.end(),
                        [&](const prompt_def& p) { return p.name == name; });
  return i == prompt_defs.end() ? nullptr : &*i;
}

// The {id} of a template uri ("test://template/123/data" → "123"), if it is one.
std::optional<std::string_view> template_id(std::string_view uri) {
  if (uri.size() <= template_prefix.size() + template_suffix.size() ||
      uri.substr(0, template_prefix.size()) != template_prefix ||
      uri.substr(uri.size() - template_suffix.size()) != template_suffix)
    return std::nullopt;
  auto id = uri.substr(template_prefix.size(),
                       uri.size() - template_prefix.size() - template_suffix.size());
  if (id.find('/') != std::string_view::npos)
    return std::nullopt;
  return id;
}

const resource_def* find_resource(std::string_view uri) {
  auto i = std::find_if(resource_defs.begin(), resource_defs.end(),
                        [&](const resource_def& r) { return r.uri == uri; });
  return i == resource_defs.end() ? nullptr : &*i;
}

rj::Value str(std::string_view text, allocator& alloc) {
  return rj::Value(text.data(), static_cast<rj::SizeType>(text.size()), alloc);
}

rj::Value text_content(std::string_view text, allocator& alloc) {
  rj::Value v(rj::kObjectType);
  v.AddMember("type", "text", alloc);
  v.AddMember("text", str(text, alloc), alloc);
  return v;
}

rj::Value media_content(std::string_view type, std::string_view data,
                        std::string_view mime, allocator& alloc) {
  rj::Value v(rj::kObjectType);
  v.AddMember("type", str(type, alloc), alloc);
  v.AddMember("data", str(data, alloc), alloc);
  v.AddMember("mimeType", str(mime, alloc), alloc);
  return v;
}

rj::Value text_resource(std::string_view uri, std::string_view mime,
                        std::string_view text, allocator& alloc) {
  rj::Value v(rj::kObjectType);
  v.AddMember("uri", str(uri, alloc), alloc);
  v.AddMember("mimeType", str(mime, alloc), alloc);
  v.AddMember("text", str(text, alloc), alloc);
  return v;
}

rj::Value embedded_resource(rj::Value resource, allocator& alloc) {
  rj::Value v(rj::kObjectType);
  v.AddMember("type", "resource", alloc);
  v.AddMember("resource", resource, alloc);
  return v;
}

// {"content":[...items],"isError":true?}
std::string call_result(rj::Document& doc, rj::Value content, bool is_error = false) {
  doc.SetObject();
  doc.AddMember("content", content, doc.GetAllocator());
  if (is_error)
    doc.AddMember("isError", true, doc.GetAllocator());
  return to_json(doc);
}

std::string text_result(std::string_view text, bool is_error = false) {
  rj::Document doc;
  rj::Value content(rj::kArrayType);
  content.PushBack(text_content(text, doc.GetAllocator()), doc.GetAllocator());
  return call_result(doc, std::move(content), is_error);
}

fixture_answer fail(int code, std::string message, std::string data_json = {}) {
  return {{}, fixture_error{code, std::move(message), std::move(data_json)}};
}

fixture_answer invalid_params(std::string message) {
  return fail(fixture_invalid_params, std::move(message));
}

// Parses request params: absent or null params are {}; anything but an object fails.
bool parse_params(std::string_view params_json, rj::Document& params) {
  return tools::parse_arguments(params_json, params).empty();
}

// The string member `key` of `object`, or nullopt when absent or not a string.
std::optional<std::string_view> string_member(const rj::Value& object,
                                              const char* key) {
  const auto* v = tools::member(object, key);
  if (v == nullptr || !v->IsString())
    return std::nullopt;
  return std::string_view{v->GetString(), v->GetStringLength()};
}

fixture_answer not_found(std::string_view uri) {
  rj::Document data(rj::kObjectType);
  data.AddMember("uri", str(uri, data.GetAllocator()), data.GetAllocator());
  return fail(fixture_resource_not_found, "Resource not found", to_json(data));
}

// The uri of resources/read or (un)subscribe params, or the error to answer with.
std::variant<std::string, fixture_answer> uri_of(std::string_view params_json,
                                                 std::string_view method) {
  rj::Document params;
  if (!parse_params(params_json, params))
    return invalid_params(std::string{method} + " params must be a JSON object");
  auto uri = string_member(params, "uri");
  if (!uri)
    return invalid_params(std::string{method} + " needs a string parameter 'uri'");
  return std::string{*uri};
}

} // namespace

std::string fixture_answer::response(std::string_view id_json) const {
  if (!error)
    return make_result(id_json, result_json);
  std::string out = R"({"jsonrpc":"2.0","id":)";
  out += id_json;
  out += R"(,"error":{"code":)";
  out += std::to_string(error->code);
  out += R"(,"message":)";
  out += quote_json(error->message);
  if (!error->data_json.empty()) {
    out += R"(,"data":)";
    out += error->data_json;
  }
  out += "}}";
  return out;
}

mcp_fixtures::mcp_fixtures() {
  for (const auto& t : tool_defs) {
    rj::Document doc(rj::kObjectType);
    auto& alloc = doc.GetAllocator();
    rj::Document schema(&alloc);
    schema.Parse(t.input_schema.data(), t.input_schema.size());
    doc.AddMember("name", str(t.name, alloc), alloc);
    doc.AddMember("title", str(t.title, alloc), alloc);
    doc.AddMember("description", str(t.description, alloc), alloc);
    doc.AddMember("inputSchema", rj::Value(schema, alloc), alloc);
    tool_jsons_.push_back(to_json(doc));
  }
}

bool mcp_fixtures::has_tool(std::string_view name) const {
  return find_tool(name) != nullptr;
}

std::optional<fixture_flow> mcp_fixtures::flow_of(std::string_view tool) const {
  if (const auto* t = find_tool(tool))
    return t->flow;
  return std::nullopt;
}

std::optional<std::string>
mcp_fixtures::simple_result(std::string_view tool,
                            std::string_view arguments_json) const {
  const auto* def = find_tool(tool);
  if (def == nullptr || def->flow != fixture_flow::simple)
    return std::nullopt;
  rj::Document args;
  if (auto why = tools::parse_arguments(arguments_json, args); !why.empty())
    return text_result(std::string{tool} + ": " + why, true);
  rj::Document doc;
  auto& alloc = doc.GetAllocator();
  rj::Value content(rj::kArrayType);
  if (tool == "test_simple_text") {
    content.PushBack(text_content("This is a simple text response for testing.", alloc),
                     alloc);
  } else if (tool == "test_image_content") {
    content.PushBack(media_content("image", png_base64, "image/png", alloc), alloc);
  } else if (tool == "test_audio_content") {
    content.PushBack(media_content("audio", wav_base64, "audio/wav", alloc), alloc);
  } else if (tool == "test_embedded_resource") {
    content.PushBack(
        embedded_resource(text_resource("test://embedded-resource", "text/plain",
                                        "This is an embedded resource "
                                        "content.",
                                        alloc),
                          alloc),
        alloc);
  } else if (tool == "test_multiple_content_types") {
    content.PushBack(text_content("Multiple content types test:", alloc), alloc);
    content.PushBack(media_content("image", png_base64, "image/png", alloc), alloc);
    content.PushBack(
        embedded_resource(text_resource("test://mixed-content-resource",
                                        "application/json",
                                        R"({"test":"data","value":123})", alloc),
                          alloc),
        alloc);
  } else if (tool == "test_error_handling") {
    content.PushBack(
        text_content("This tool intentionally returns an error for testing", alloc),
        alloc);
    return call_result(doc, std::move(content), true);
  } else { // json_schema_2020_12_tool
    content.PushBack(
        text_content("JSON Schema 2020-12 tool called with: " + to_json(args), alloc),
        alloc);
  }
  return call_result(doc, std::move(content));
}

std::vector<std::string> mcp_fixtures::log_message_params() const {
  std::vector<std::string> out;
  for (std::string_view text :
       {"Tool execution started", "Tool processing data", "Tool execution completed"}) {
    rj::Document doc(rj::kObjectType);
    auto& alloc = doc.GetAllocator();
    doc.AddMember("level", "info", alloc);
    doc.AddMember("logger", "test_tool_with_logging", alloc);
    doc.AddMember("data", str(text, alloc), alloc);
    out.push_back(to_json(doc));
  }
  return out;
}

std::vector<std::string>
mcp_fixtures::progress_params(std::string_view progress_token_json) const {
  rj::Document token;
  token.Parse(progress_token_json.data(), progress_token_json.size());
  if (token.HasParseError() || !(token.IsString() || token.IsNumber()))
    return {};
  std::vector<std::string> out;
  for (int step : {0, 50, 100}) {
    rj::Document doc(rj::kObjectType);
    auto& alloc = doc.GetAllocator();
    doc.AddMember("progressToken", rj::Value(token, alloc), alloc);
    doc.AddMember("progress", step, alloc);
    doc.AddMember("total", 100, alloc);
    doc.AddMember("message",
                  str("Completed step " + std::to_string(step) + " of 100", alloc),
                  alloc);
    out.push_back(to_json(doc));
  }
  return out;
}

std::optional<std::string> mcp_fixtures::closing_result(std::string_view tool) const {
  const auto* def = find_tool(tool);
  if (def == nullptr)
    return std::nullopt;
  switch (def->flow) {
  case fixture_flow::logging:
    return text_result("Tool with logging executed successfully");
  case fixture_flow::progress:
    return text_result("Tool with progress executed successfully");
  case fixture_flow::reconnection:
    return text_result("Reconnection test completed successfully. If you received "
                       "this, the client properly reconnected after stream closure.");
  default:
    return std::nullopt;
  }
}

std::variant<client_request, std::string>
mcp_fixtures::client_request_for(std::string_view tool,
                                 std::string_view arguments_json) const {
  const auto* def = find_tool(tool);
  if (def == nullptr ||
      (def->flow != fixture_flow::sampling && def->flow != fixture_flow::elicitation))
    return text_result(std::string{tool} + " does not ask the client anything", true);
  rj::Document args;
  if (auto why = tools::parse_arguments(arguments_json, args); !why.empty())
    return text_result(std::string{tool} + ": " + why, true);
  rj::Document params(rj::kObjectType);
  auto& alloc = params.GetAllocator();
  if (def->flow == fixture_flow::sampling) {
    auto prompt = string_member(args, "prompt");
    if (!prompt)
      return text_result("test_sampling needs a string argument 'prompt'", true);
    rj::Value message(rj::kObjectType);
    message.AddMember("role", "user", alloc);
    message.AddMember("content", text_content(*prompt, alloc), alloc);
    rj::Value messages(rj::kArrayType);
    messages.PushBack(message, alloc);
    params.AddMember("messages", messages, alloc);
    params.AddMember("maxTokens", 100, alloc);
    return client_request{"sampling/createMessage", to_json(params)};
  }
  std::string message;
  std::string_view schema;
  if (tool == "test_elicitation") {
    auto text = string_member(args, "message");
    if (!text)
      return text_result("test_elicitation needs a string argument 'message'", true);
    message = std::string{*text};
    schema = R"({"type":"object","properties":{)"
             R"("username":{"type":"string","description":"User's response"},)"
             R"("email":{"type":"string","description":"User's email address"}},)"
             R"("required":["username","email"]})";
  } else if (tool == "test_elicitation_sep1034_defaults") {
    message = "Please review and update the form fields with defaults";
    schema =
        R"({"type":"object","properties":{)"
        R"("name":{"type":"string","description":"User name","default":"John Doe"},)"
        R"("age":{"type":"integer","description":"User age","default":30},)"
        R"("score":{"type":"number","description":"User score","default":95.5},)"
        R"("status":{"type":"string","description":"User status",)"
        R"("enum":["active","inactive","pending"],"default":"active"},)"
        R"("verified":{"type":"boolean","description":"Verification status",)"
        R"("default":true}},"required":[]})";
  } else { // test_elicitation_sep1330_enums
    message = "Please select options from the enum fields";
    schema =
        R"({"type":"object","properties":{)"
        R"("untitledSingle":{"type":"string","description":"Select one option",)"
        R"("enum":["option1","option2","option3"]},)"
        R"("titledSingle":{"type":"string","description":"Select one option with titles",)"
        R"("oneOf":[{"const":"value1","title":"First Option"},)"
        R"({"const":"value2","title":"Second Option"},)"
        R"({"const":"value3","title":"Third Option"}]},)"
        R"j("legacyEnum":{"type":"string","description":"Select one option (legacy)",)j"
        R"("enum":["opt1","opt2","opt3"],)"
        R"("enumNames":["Option One","Option Two","Option Three"]},)"
        R"("untitledMulti":{"type":"array","description":"Select multiple options",)"
        R"("minItems":1,"maxItems":3,)"
        R"("items":{"type":"string","enum":["option1","option2","option3"]}},)"
        R"("titledMulti":{"type":"array",)"
        R"("description":"Select multiple options with titles","minItems":1,)"
        R"("maxItems":3,"items":{"anyOf":[{"const":"value1","title":"First Choice"},)"
        R"({"const":"value2","title":"Second Choice"},)"
        R"({"const":"value3","title":"Third Choice"}]}}},"required":[]})";
  }
  rj::Document requested(&alloc);
  requested.Parse(schema.data(), schema.size());
  params.AddMember("mode", "form", alloc);
  params.AddMember("message", str(message, alloc), alloc);
  params.AddMember("requestedSchema", rj::Value(requested, alloc), alloc);
  return client_request{"elicitation/create", to_json(params)};
}

std::string mcp_fixtures::result_from_client(std::string_view tool,
                                             std::string_view result_json) const {
  const auto* def = find_tool(tool);
  if (def == nullptr ||
      (def->flow != fixture_flow::sampling && def->flow != fixture_flow::elicitation))
    return text_result(std::string{tool} + " does not ask the client anything", true);
  rj::Document result;
  if (!tools::parse_arguments(result_json, result).empty())
    return result_from_client_error(tool, "its answer is not a JSON object");
  if (def->flow == fixture_flow::sampling) {
    // content is one block or an array of blocks; the first text block is the answer.
    const auto* content = tools::member(result, "content");
    const rj::Value* text = nullptr;
    auto pick = [&](const rj::Value& block) {
      if (text == nullptr && block.IsObject()) {
        auto type = string_member(block, "type");
        const auto* t = tools::member(block, "text");
        if (type && *type == "text" && t != nullptr && t->IsString())
          text = t;
      }
    };
    if (content != nullptr && content->IsArray())
      for (const auto& block : content->GetArray())
        pick(block);
    else if (content != nullptr)
      pick(*content);
    if (text == nullptr)
      return result_from_client_error(tool, "its answer has no text content");
    return text_result("LLM response: " +
                       std::string{text->GetString(), text->GetStringLength()});
  }
  auto action = string_member(result, "action");
  if (!action || (*action != "accept" && *action != "decline" && *action != "cancel"))
    return result_from_client_error(
        tool, "its answer has no action of accept, decline or cancel");
  const auto* content = tools::member(result, "content");
  std::string content_json =
      content != nullptr && content->IsObject() ? to_json(*content) : "{}";
  std::string prefix =
      tool == "test_elicitation" ? "User response: " : "Elicitation completed: ";
  return text_result(prefix + "action=" + std::string{*action} +
                     ", content=" + content_json);
}

std::string mcp_fixtures::result_from_client_error(std::string_view tool,
                                                   std::string_view why) const {
  auto flow = flow_of(tool);
  std::string_view method =
      flow == fixture_flow::sampling ? "sampling/createMessage" : "elicitation/create";
  return text_result(std::string{tool} + " could not complete " + std::string{method} +
                         " with the client: " + std::string{why},
                     true);
}

std::string mcp_fixtures::resources_list_result() const {
  rj::Document doc(rj::kObjectType);
  auto& alloc = doc.GetAllocator();
  rj::Value list(rj::kArrayType);
  for (const auto& r : resource_defs) {
    rj::Value v(rj::kObjectType);
    v.AddMember("uri", str(r.uri, alloc), alloc);
    v.AddMember("name", str(r.name, alloc), alloc);
    v.AddMember("title", str(r.title, alloc), alloc);
    v.AddMember("description", str(r.description, alloc), alloc);
    v.AddMember("mimeType", str(r.mime_type, alloc), alloc);
    list.PushBack(v, alloc);
  }
  doc.AddMember("resources", list, alloc);
  return to_json(doc);
}

std::string mcp_fixtures::resource_templates_list_result() const {
  return R"({"resourceTemplates":[{"uriTemplate":"test://template/{id}/data",)"
         R"("name":"template","title":"Resource Template",)"
         R"("description":"A resource template with parameter substitution",)"
         R"("mimeType":"application/json"}]})";
}

fixture_answer mcp_fixtures::read_resource(std::string_view params_json) const {
  auto uri = uri_of(params_json, "resources/read");
  if (auto* error = std::get_if<fixture_answer>(&uri))
    return std::move(*error);
  const auto& name = std::get<std::string>(uri);
  rj::Document doc(rj::kObjectType);
  auto& alloc = doc.GetAllocator();
  rj::Value item(rj::kObjectType);
  if (const auto* r = find_resource(name)) {
    if (r->text.empty()) {
      item.AddMember("uri", str(r->uri, alloc), alloc);
      item.AddMember("mimeType", str(r->mime_type, alloc), alloc);
      item.AddMember("blob", str(png_base64, alloc), alloc);
    } else {
      item = text_resource(r->uri, r->mime_type, r->text, alloc);
    }
  } else if (auto id = template_id(name)) {
    rj::Document data(rj::kObjectType);
    auto& data_alloc = data.GetAllocator();
    data.AddMember("id", str(*id, data_alloc), data_alloc);
    data.AddMember("templateTest", true, data_alloc);
    data.AddMember("data", str("Data for ID: " + std::string{*id}, data_alloc),
                   data_alloc);
    item = text_resource(name, "application/json", to_json(data), alloc);
  } else {
    return not_found(name);
  }
  rj::Value contents(rj::kArrayType);
  contents.PushBack(item, alloc);
  doc.AddMember("contents", contents, alloc);
  return {to_json(doc), std::nullopt};
}

fixture_answer mcp_fixtures::subscription(std::string_view params_json) const {
  auto uri = uri_of(params_json, "resources/subscribe");
  if (auto* error = std::get_if<fixture_answer>(&uri))
    return std::move(*error);
  const auto& name = std::get<std::string>(uri);
  if (find_resource(name) == nullptr && !template_id(name))
    return not_found(name);
  return {"{}", std::nullopt};
}

std::string mcp_fixtures::prompts_list_result() const {
  rj::Document doc(rj::kObjectType);
  auto& alloc = doc.GetAllocator();
  rj::Value list(rj::kArrayType);
  for (const auto& p : prompt_defs) {
    rj::Value v(rj::kObjectType);
    v.AddMember("name", str(p.name, alloc), alloc);
    v.AddMember("title", str(p.title, alloc), alloc);
    v.AddMember("description", str(p.description, alloc), alloc);
    rj::Value args(rj::kArrayType);
    for (const auto& a : p.arguments) {
      if (a.name.empty())
        continue;
      rj::Value arg(rj::kObjectType);
      arg.AddMember("name", str(a.name, alloc), alloc);
      arg.AddMember("description", str(a.description, alloc), alloc);
      arg.AddMember("required", true, alloc);
      args.PushBack(arg, alloc);
    }
    if (!args.Empty())
      v.AddMember("arguments", args, alloc);
    list.PushBack(v, alloc);
  }
  doc.AddMember("prompts", list, alloc);
  return to_json(doc);
}

fixture_answer mcp_fixtures::get_prompt(std::string_view params_json) const {
  rj::Document params;
  if (!parse_params(params_json, params))
    return invalid_params("prompts/get params must be a JSON object");
  auto name = string_member(params, "name");
  if (!name)
    return invalid_params("prompts/get needs a string parameter 'name'");
  const auto* prompt = find_prompt(*name);
  if (prompt == nullptr)
    return invalid_params("Unknown prompt '" + std::string{*name} +
                          "'; prompts/list names the prompts there are");
  const auto* args = tools::member(params, "arguments");
  if (args != nullptr && !args->IsNull() && !args->IsObject())
    return invalid_params("prompts/get 'arguments' must be an object of strings");
  if (args != nullptr && args->IsObject())
    for (const auto& m : args->GetObject())
      if (!m.value.IsString())
        return invalid_params("prompt argument '" + std::string{m.name.GetString()} +
                              "' must be a string");
  // Values of the required arguments, in declaration order.
  std::array<std::string, 2> values;
  for (std::size_t i = 0; i < prompt->arguments.size(); ++i) {
    const auto& a = prompt->arguments[i];
    if (a.name.empty())
      continue;
    std::string key{a.name};
    auto value = args != nullptr && args->IsObject() ? string_member(*args, key.c_str())
                                                     : std::nullopt;
    if (!value)
      return invalid_params("Prompt '" + std::string{prompt->name} +
                            "' needs the argument '" + key + "'");
    values[i] = std::string{*value};
  }
  rj::Document doc(rj::kObjectType);
  auto& alloc = doc.GetAllocator();
  rj::Value messages(rj::kArrayType);
  auto add = [&](rj::Value content) {
    rj::Value m(rj::kObjectType);
    m.AddMember("role", "user", alloc);
    m.AddMember("content", content, alloc);
    messages.PushBack(m, alloc);
  };
  if (prompt->name == "test_simple_prompt") {
    add(text_content("This is a simple prompt for testing.", alloc));
  } else if (prompt->name == "test_prompt_with_arguments") {
    add(text_content("Prompt with arguments: arg1='" + values[0] + "', arg2='" +
                         values[1] + "'",
                     alloc));
  } else if (prompt->name == "test_prompt_with_embedded_resource") {
    add(embedded_resource(text_resource(values[0], "text/plain",
                                        "Embedded resource content for testing.",
                                        alloc),
                          alloc));
    add(text_content("Please process the embedded resource above.", alloc));
  } else { // test_prompt_with_image
    add(media_content("image", png_base64, "image/png", alloc));
    add(text_content("Please analyze the image above.", alloc));
  }
  doc.AddMember("description", str(prompt->description, alloc), alloc);
  doc.AddMember("messages", messages, alloc);
  return {to_json(doc), std::nullopt};
}

fixture_answer mcp_fixtures::complete(std::string_view params_json) const {
  rj::Document params;
  if (!parse_params(params_json, params))
    return invalid_params("completion/complete params must be a JSON object");
  const auto* ref = tools::member(params, "ref");
  const auto* argument = tools::member(params, "argument");
  if (ref == nullptr || !ref->IsObject())
    return invalid_params("completion/complete needs an object parameter 'ref'");
  if (argument == nullptr || !argument->IsObject())
    return invalid_params("completion/complete needs an object parameter 'argument'");
  auto arg_name = string_member(*argument, "name");
  if (!arg_name)
    return invalid_params("completion/complete needs a string 'argument.name'");
  std::string_view prefix;
  if (const auto* v = tools::member(*argument, "value")) {
    if (!v->IsString())
      return invalid_params("completion/complete 'argument.value' must be a string");
    prefix = {v->GetString(), v->GetStringLength()};
  }
  auto type = string_member(*ref, "type");
  std::vector<std::string_view> candidates;
  if (type && *type == "ref/prompt") {
    auto name = string_member(*ref, "name");
    const auto* prompt = name ? find_prompt(*name) : nullptr;
    if (prompt == nullptr)
      return invalid_params("Unknown prompt '" + std::string{name.value_or("")} +
                            "' in completion/complete 'ref.name'");
    for (const auto& a : prompt->arguments)
      if (!a.name.empty() && a.name == *arg_name)
        candidates.assign(a.completions.begin(), a.completions.end());
  } else if (type && *type == "ref/resource") {
    auto uri = string_member(*ref, "uri");
    if (!uri || *uri != "test://template/{id}/data")
      return invalid_params("Unknown resource template '" +
                            std::string{uri.value_or("")} +
                            "' in completion/complete 'ref.uri'");
    if (*arg_name == "id")
      candidates.assign(template_id_completions.begin(), template_id_completions.end());
  } else {
    return invalid_params(
        "completion/complete 'ref.type' must be \"ref/prompt\" or \"ref/resource\"");
  }
  rj::Document doc(rj::kObjectType);
  auto& alloc = doc.GetAllocator();
  rj::Value values(rj::kArrayType);
  for (auto c : candidates)
    if (c.substr(0, prefix.size()) == prefix)
      values.PushBack(str(c, alloc), alloc);
  rj::Value completion(rj::kObjectType);
  auto total = values.Size();
  completion.AddMember("values", values, alloc);
  completion.AddMember("total", total, alloc);
  completion.AddMember("hasMore", false, alloc);
  doc.AddMember("completion", completion, alloc);
  return {to_json(doc), std::nullopt};
}

std::string mcp_fixtures::capabilities_json() const {
  return R"({"completions":{},"logging":{},"prompts":{"listChanged":false},)"
         R"("resources":{"subscribe":true,"listChanged":false},)"
         R"("tools":{"listChanged":false}})";
}

} // namespace warren
