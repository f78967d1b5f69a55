#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <rapidjson/document.h>

#include "protocol/jsonrpc.hpp"
#include "protocol/mcp_fixtures.hpp"
#include "protocol/tool_catalog.hpp"

namespace warren {

/// MCP logging levels (RFC 5424 severities), least severe first.
enum class log_level {
  debug,
  info,
  notice,
  warning,
  error,
  critical,
  alert,
  emergency
};

std::optional<log_level> parse_log_level(std::string_view text);
const char* to_string(log_level level);

/// The protocol revisions warren speaks, newest first.
inline constexpr std::string_view supported_protocol_versions[] = {
    "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

/// How the server presents itself.
struct server_info {
  std::string name = "warren";
  std::string version = "0.1.0";
  std::size_t tools_page_size = 50;
};

/// Send this line to the client.
struct reply_action {
  std::string line;
  std::string method; ///< of the request it answers; empty for a malformed one
  bool error = false; ///< the line is a JSON-RPC error
  std::string id_json = "null"; ///< the request it answers, as JSON
};

/// Run a tool; answer `id_json` with its result.
struct call_action {
  std::string id_json;
  std::string tool;
  std::string arguments_json;
  std::string progress_token_json; ///< empty when the client asked for no progress
};

/// The client cancelled request `request_id_json`: stop it, send no response.
struct cancel_action {
  std::string request_id_json;
};

/// Run a conformance fixture tool whose result needs the session: notifications
/// before the answer, or a request to the client (see fixture_flow).
struct fixture_action {
  std::string id_json;
  std::string tool;
  fixture_flow flow = fixture_flow::simple;
  std::string arguments_json;
  std::string progress_token_json;
};

/// The client answered request `id_json` that warren sent it: with `result_json`, or
/// (ok false) with an error whose message is `error_text`.
struct client_answer_action {
  std::string id_json;
  bool ok = true;
  std::string result_json;
  std::string error_text;
};

/// Nothing to do (a notification, a response from the client).
struct no_action {};

using session_action = std::variant<no_action, reply_action, call_action, cancel_action,
                                    fixture_action, client_answer_action>;

/// One MCP session's protocol state: lifecycle, version negotiation, tools/list
/// paging, the client's logging level. Pure: it turns an input line into an action
/// for the session actor.
class mcp_session {
public:
  /// With `fixtures`, the session also serves the conformance suite's fixture tools,
  /// resources, prompts and completions (`--conformance-fixtures`).
  mcp_session(const tool_catalog& catalog, server_info info,
              const mcp_fixtures* fixtures = nullptr);

  /// Handles one line from the client.
  session_action handle(std::string_view line);

  /// The answer to a line longer than `limit` bytes (it was not parsed).
  static std::string too_large_response(std::size_t size, std::size_t limit);

  bool initialized() const { return initialized_; }
  const std::string& protocol_version() const { return protocol_version_; }
  /// The client's name and version from its initialize (clientInfo), for operators.
  const std::string& client() const { return client_; }
  /// True when the client declared `capability` ("sampling", "elicitation", ...) in
  /// its initialize.
  bool client_can(std::string_view capability) const;
  const mcp_fixtures* fixtures() const { return fixtures_; }

  /// True if the client asked for messages of this level (logging/setLevel); before it
  /// asks, warren sends warnings and worse.
  bool wants(log_level level) const { return level >= level_; }
  /// The level the client asked for (warning until it asks).
  log_level level() const { return level_; }

  /// A notifications/message line.
  static std::string log_notification(log_level level, std::string_view logger,
                                      std::string_view message);

  /// A notifications/progress line for `token_json` (the token as JSON).
  static std::string progress_notification(std::string_view token_json, double progress,
                                           std::optional<double> total,
                                           std::string_view message);

private:
  session_action route(const jsonrpc_message& msg);
  session_action initialize(const std::string& id_json, const rapidjson::Value* params);
  session_action list_tools(const std::string& id_json, const rapidjson::Value* params);
  session_action call_tool(const std::string& id_json, const rapidjson::Value* params);
  session_action set_level(const std::string& id_json, const rapidjson::Value* params);
  session_action fixture_request(const jsonrpc_message& msg);
  bool is_served(std::string_view method) const;
  std::size_t tool_count() const;

  const tool_catalog& catalog_;
  const mcp_fixtures* fixtures_;
  std::vector<std::string> client_capabilities_;
  server_info info_;
  bool initialized_ = false;
  std::string protocol_version_;
  std::string client_;
  log_level level_ = log_level::warning;
};

} // namespace warren
