#include "protocol/mcp_session.hpp"

#include <algorithm>
#include <array>

#include "protocol/jsonrpc.hpp"

namespace warren {

namespace {

constexpr std::array<const char*, 8> level_names = {
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};

constexpr std::string_view instructions =
    "warren operates a RabbitMQ broker. Start with `overview` or `health_check`, then "
    "`list_queues` / `find_queues` / `list_exchanges` / `list_bindings` (paged: page, "
    "page_size up to 500, name filter) and `get_queue`. Vhost arguments default to "
    "\"/\". `get_messages` peeks at messages (reject_requeue). Tools that change the "
    "broker (create/delete/purge, publish_message) are offered only when warren runs "
    "with --allow-writes; deletes refuse non-empty queues and bound exchanges unless "
    "force is true, and dry_run shows what would be affected. For anything else in the "
    "management API (users, permissions, policies, definitions, shovels, federation), "
    "use search-ids, then get-id, then call-id. A tool that fails for a broker reason "
    "returns isError with what happened and what to do.";

std::string_view view(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

const rapidjson::Value* member(const rapidjson::Value* obj, const char* name) {
  if (obj == nullptr || !obj->IsObject())
    return nullptr;
  auto it = obj->FindMember(name);
  return it == obj->MemberEnd() ? nullptr : &it->value;
}

bool is_base_method(std::string_view method) {
  return method == "initialize" || method == "ping" || method == "tools/list" ||
         method == "tools/call" || method == "logging/setLevel";
}

bool is_fixture_method(std::string_view method) {
  return method == "resources/list" || method == "resources/templates/list" ||
         method == "resources/read" || method == "resources/subscribe" ||
         method == "resources/unsubscribe" || method == "prompts/list" ||
         method == "prompts/get" || method == "completion/complete";
}

reply_action error_reply(const std::string& id_json, ec code, std::string message) {
  return {make_error_response(id_json, make_error(code, std::move(message))), {}, true};
}

reply_action result_reply(const std::string& id_json, const std::string& result) {
  return {make_result(id_json, result), {}, false};
}

// Cursors are opaque to clients; warren's are "t" + the index of the next tool.
std::optional<std::size_t> parse_cursor(std::string_view cursor, std::size_t size) {
  if (cursor.size() < 2 || cursor.size() > 12 || cursor[0] != 't')
    return std::nullopt;
  std::size_t offset = 0;
  for (char c : cursor.substr(1)) {
    if (c < '0' || c > '9')
      return std::nullopt;
    offset = offset * 10 + static_cast<std::size_t>(c - '0');
  }
  if (offset == 0 || offset >= size)
    return std::nullopt;
  return offset;
}

} // namespace

std::optional<log_level> parse_log_level(std::string_view text) {
  for (std::size_t i = 0; i < level_names.size(); ++i)
    if (text == level_names[i])
      return static_cast<log_level>(i);
  return std::nullopt;
}

const char* to_string(log_level level) {
  return level_names[static_cast<std::size_t>(level)];
}

mcp_session::mcp_session(const tool_catalog& catalog, server_info info,
                         const mcp_fixtures* fixtures)
    : catalog_(catalog), fixtures_(fixtures), info_(std::move(info)) {
  info_.tools_page_size = std::max<std::size_t>(1, info_.tools_page_size);
}

session_action mcp_session::handle(std::string_view line) {
  auto msg = parse_jsonrpc(line);
  auto action = route(msg);
  // Metrics label requests by method: a method warren does not serve is "unknown",
  // so clients cannot make up labels without end.
  if (auto* reply = std::get_if<reply_action>(&action); reply != nullptr) {
    reply->id_json = msg.id_json.empty() ? "null" : msg.id_json;
    if (msg.kind == message_kind::request)
      reply->method = is_served(msg.method) ? msg.method : "unknown";
  }
  return action;
}

session_action mcp_session::route(const jsonrpc_message& msg) {
  switch (msg.kind) {
  case message_kind::invalid:
    return reply_action{make_error_response(msg.id_json, msg.error), {}, true};
  case message_kind::response: {
    // The answer to a request warren sent the client (the fixtures' sampling and
    // elicitation); the session matches it by id and ignores any other.
    client_answer_action answer;
    answer.id_json = msg.id_json;
    if (auto result = member(&msg.document, "result"); result != nullptr) {
      answer.result_json = to_json(*result);
    } else {
      answer.ok = false;
      auto message = member(member(&msg.document, "error"), "message");
      answer.error_text = message != nullptr && message->IsString()
                              ? std::string{view(*message).substr(0, 500)}
                              : "the client answered with an error";
    }
    return answer;
  }
  case message_kind::notification:
    if (msg.method == "notifications/cancelled") {
      if (auto id = member(msg.params, "requestId"); id != nullptr)
        return cancel_action{to_json(*id)};
    }
    // notifications/initialized and unknown notifications need no answer.
    return no_action{};
  case message_kind::request:
    break;
  }
  const auto& id = msg.id_json;
  if (msg.method == "ping")
    return result_reply(id, "{}");
  if (msg.method == "initialize")
    return initialize(id, msg.params);
  if (!is_served(msg.method))
    return error_reply(id, ec::method_not_found,
                       "method '" + msg.method +
                           "' is not supported by warren; it serves initialize, ping, "
                           "tools/list, tools/call and logging/setLevel" +
                           (fixtures_ != nullptr ? ", resources/*, prompts/* and "
                                                   "completion/complete"
                                                 : ""));
  if (!initialized_)
    return error_reply(id, ec::not_initialized,
                       "the session is not initialized; send initialize first");
  if (msg.method == "tools/list")
    return list_tools(id, msg.params);
  if (msg.method == "tools/call")
    return call_tool(id, msg.params);
  if (msg.method == "logging/setLevel")
    return set_level(id, msg.params);
  return fixture_request(msg);
}

bool mcp_session::is_served(std::string_view method) const {
  return is_base_method(method) || (fixtures_ != nullptr && is_fixture_method(method));
}

bool mcp_session::client_can(std::string_view capability) const {
  return std::find(client_capabilities_.begin(), client_capabilities_.end(),
                   capability) != client_capabilities_.end();
}

// The fixture tools come first, then the catalog's.
std::size_t mcp_session::tool_count() const {
  return (fixtures_ != nullptr ? fixtures_->tool_jsons().size() : 0) + catalog_.size();
}

session_action mcp_session::fixture_request(const jsonrpc_message& msg) {
  const auto& id = msg.id_json;
  auto params = msg.params != nullptr ? to_json(*msg.params) : std::string{"{}"};
  if (msg.method == "resources/list")
    return result_reply(id, fixtures_->resources_list_result());
  if (msg.method == "resources/templates/list")
    return result_reply(id, fixtures_->resource_templates_list_result());
  if (msg.method == "prompts/list")
    return result_reply(id, fixtures_->prompts_list_result());
  fixture_answer answer;
  if (msg.method == "resources/read")
    answer = fixtures_->read_resource(params);
  else if (msg.method == "prompts/get")
    answer = fixtures_->get_prompt(params);
  else if (msg.method == "completion/complete")
    answer = fixtures_->complete(params);
  else // resources/subscribe and resources/unsubscribe
    answer = fixtures_->subscription(params);
  return reply_action{answer.response(id), {}, !answer.ok()};
}

session_action mcp_session::initialize(const std::string& id_json,
                                       const rapidjson::Value* params) {
  if (initialized_)
    return error_reply(id_json, ec::invalid_request,
                       "the session is already initialized");
  auto requested = member(params, "protocolVersion");
  if (requested == nullptr || !requested->IsString())
    return error_reply(id_json, ec::invalid_params,
                       "initialize needs params.protocolVersion (a string such as \"" +
                           std::string{supported_protocol_versions[0]} + "\")");
  // Answer with the client's version when warren speaks it, else with the latest.
  protocol_version_ = std::string{supported_protocol_versions[0]};
  for (auto version : supported_protocol_versions)
    if (view(*requested) == version)
      protocol_version_ = std::string{version};
  initialized_ = true;
  if (auto caps = member(params, "capabilities"); caps != nullptr && caps->IsObject())
    for (auto& cap : caps->GetObject())
      client_capabilities_.emplace_back(view(cap.name));
  if (auto info = member(params, "clientInfo"); info != nullptr && info->IsObject()) {
    auto name = member(info, "name");
    auto version = member(info, "version");
    if (name != nullptr && name->IsString())
      client_ = std::string{view(*name).substr(0, 100)};
    if (version != nullptr && version->IsString())
      client_ += " " + std::string{view(*version).substr(0, 40)};
  }
  std::string result = R"({"protocolVersion":)" + quote_json(protocol_version_);
  result += R"(,"capabilities":)";
  result += fixtures_ != nullptr ? fixtures_->capabilities_json()
                                 : R"({"tools":{"listChanged":false},"logging":{}})";
  result += R"(,"serverInfo":{"name":)" + quote_json(info_.name) +
            R"(,"title":"warren: RabbitMQ for agents","version":)" +
            quote_json(info_.version) + "}";
  result += R"(,"instructions":)" + quote_json(instructions) + "}";
  return result_reply(id_json, result);
}

session_action mcp_session::list_tools(const std::string& id_json,
                                       const rapidjson::Value* params) {
  std::size_t offset = 0;
  if (auto cursor = member(params, "cursor"); cursor != nullptr && !cursor->IsNull()) {
    auto parsed =
        cursor->IsString() ? parse_cursor(view(*cursor), tool_count()) : std::nullopt;
    if (!parsed)
      return error_reply(id_json, ec::invalid_params,
                         "invalid cursor; pass the nextCursor of the previous "
                         "tools/list answer, or none for the first page");
    offset = *parsed;
  }
  auto end = std::min(tool_count(), offset + info_.tools_page_size);
  auto fixture_tools = fixtures_ != nullptr ? fixtures_->tool_jsons().size() : 0;
  std::string result = R"({"tools":[)";
  for (auto i = offset; i < end; ++i) {
    if (i != offset)
      result += ',';
    result += i < fixture_tools ? fixtures_->tool_jsons()[i]
                                : catalog_.tool_json(i - fixture_tools);
  }
  result += ']';
  if (end < tool_count())
    result += R"(,"nextCursor":")" + ("t" + std::to_string(end)) + '"';
  result += '}';
  return result_reply(id_json, result);
}

session_action mcp_session::call_tool(const std::string& id_json,
                                      const rapidjson::Value* params) {
  auto name = member(params, "name");
  if (name == nullptr || !name->IsString())
    return error_reply(
        id_json, ec::invalid_params,
        "tools/call needs params.name, the tool's name (see tools/list)");
  call_action call{id_json, std::string{view(*name)}, "{}", {}};
  if (auto args = member(params, "arguments"); args != nullptr && !args->IsNull()) {
    if (!args->IsObject())
      return error_reply(id_json, ec::invalid_params,
                         "params.arguments must be a JSON object");
    call.arguments_json = to_json(*args);
  }
  if (auto token = member(member(params, "_meta"), "progressToken");
      token != nullptr && (token->IsString() || token->IsInt64() || token->IsUint64()))
    call.progress_token_json = to_json(*token);
  if (fixtures_ != nullptr) {
    if (auto flow = fixtures_->flow_of(call.tool)) {
      if (*flow == fixture_flow::simple)
        return result_reply(id_json,
                            fixtures_->simple_result(call.tool, call.arguments_json)
                                .value_or(R"({"content":[],"isError":true})"));
      return fixture_action{id_json, std::move(call.tool), *flow,
                            std::move(call.arguments_json),
                            std::move(call.progress_token_json)};
    }
  }
  return call;
}

session_action mcp_session::set_level(const std::string& id_json,
                                      const rapidjson::Value* params) {
  auto level = member(params, "level");
  auto parsed = level != nullptr && level->IsString() ? parse_log_level(view(*level))
                                                      : std::nullopt;
  if (!parsed)
    return error_reply(id_json, ec::invalid_params,
                       "params.level must be one of debug, info, notice, warning, "
                       "error, critical, alert, emergency");
  level_ = *parsed;
  return result_reply(id_json, "{}");
}

std::string mcp_session::too_large_response(std::size_t size, std::size_t limit) {
  return make_error_response(
      "null", make_error(ec::too_large,
                         "message too large: " + std::to_string(size) +
                             " bytes exceeds the limit of " + std::to_string(limit) +
                             " bytes (server.max_line_bytes); it was not processed"));
}

std::string mcp_session::log_notification(log_level level, std::string_view logger,
                                          std::string_view message) {
  std::string params = R"({"level":")" + std::string{to_string(level)} +
                       R"(","logger":)" + quote_json(logger) + R"(,"data":)" +
                       quote_json(message) + "}";
  return make_notification("notifications/message", params);
}

std::string mcp_session::progress_notification(std::string_view token_json,
                                               double progress,
                                               std::optional<double> total,
                                               std::string_view message) {
  auto format = [](double x) {
    rapidjson::Value v(x);
    return to_json(v);
  };
  std::string params = R"({"progressToken":)" + std::string{token_json} +
                       R"(,"progress":)" + format(progress);
  if (total)
    params += R"(,"total":)" + format(*total);
  if (!message.empty())
    params += R"(,"message":)" + quote_json(message);
  params += '}';
  return make_notification("notifications/progress", params);
}

} // namespace warren
