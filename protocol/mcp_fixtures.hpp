#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace warren {

/// JSON-RPC error codes the fixtures answer with. -32002 is MCP's "resource not
/// found", which warren's `ec` has no code for.
inline constexpr int fixture_invalid_params = -32602;
inline constexpr int fixture_resource_not_found = -32002;

/// A JSON-RPC error of the fixtures, carried as a plain value because its code may lie
/// outside `ec` (resource not found).
struct fixture_error {
  int code = 0;
  std::string message;
  std::string data_json; ///< the error's `data` member as JSON; empty when none
};

/// The outcome of a fixture request: the `result` member's JSON, or an error.
struct fixture_answer {
  std::string result_json;
  std::optional<fixture_error> error;

  bool ok() const { return !error.has_value(); }

  /// The whole JSON-RPC response for the request whose id is `id_json`.
  std::string response(std::string_view id_json) const;
};

/// What a fixture tool needs from the session besides the catalog itself.
enum class fixture_flow {
  /// The result comes straight from simple_result().
  simple,
  /// Send each of log_message_params() as notifications/message (level "info", so
  /// filter by the session's level), about 50 ms apart, on the tools/call response
  /// stream before the response; then answer with closing_result().
  logging,
  /// If the request had _meta.progressToken: send each of progress_params(token) as
  /// notifications/progress, about 50 ms apart, on the tools/call SSE stream BEFORE
  /// the response (the client drops progress that arrives after it); then answer
  /// with closing_result().
  progress,
  /// Send client_request_for() to the client (needs the client's "sampling"
  /// capability; without it answer result_from_client_error()), wait for its answer,
  /// then answer with result_from_client() / result_from_client_error().
  sampling,
  /// As sampling, with elicitation/create and the client's "elicitation" capability.
  elicitation,
  /// Optionally close the tools/call SSE stream after its priming event, then deliver
  /// closing_result() on the stream the client resumes with Last-Event-ID.
  reconnection,
};

/// A request the session sends to the client on behalf of a fixture tool.
struct client_request {
  std::string method; ///< "sampling/createMessage" or "elicitation/create"
  std::string params_json;
};

/// The fixtures the MCP conformance suite expects of a server under test: tools with
/// known results, static resources, a resource template, prompts and completion
/// values. Pure: it builds JSON text and never touches a transport; the session drives
/// the tools whose flow is not `simple` (see fixture_flow).
class mcp_fixtures {
public:
  mcp_fixtures();

  /// tools/list entries (JSON objects) of every fixture tool.
  const std::vector<std::string>& tool_jsons() const { return tool_jsons_; }

  bool has_tool(std::string_view name) const;

  /// How `tool` runs; nullopt for a name that is no fixture tool.
  std::optional<fixture_flow> flow_of(std::string_view tool) const;

  /// The CallToolResult of a `simple` tool; nullopt for any other tool. Arguments that
  /// are not a JSON object give an isError result.
  std::optional<std::string> simple_result(std::string_view tool,
                                           std::string_view arguments_json) const;

  /// The params of the notifications/message the logging tool sends, in order.
  std::vector<std::string> log_message_params() const;

  /// The params of the notifications/progress the progress tool sends, in order,
  /// carrying `progress_token_json` (a JSON string or number, echoed verbatim);
  /// empty when the token is neither.
  std::vector<std::string> progress_params(std::string_view progress_token_json) const;

  /// The CallToolResult a logging, progress or reconnection tool ends with.
  std::optional<std::string> closing_result(std::string_view tool) const;

  /// For a sampling or elicitation tool: the request to send to the client, or, when
  /// the arguments are unusable (or `tool` is not such a tool), the final
  /// CallToolResult (isError) as JSON text.
  std::variant<client_request, std::string>
  client_request_for(std::string_view tool, std::string_view arguments_json) const;

  /// The CallToolResult once the client answered the request with `result_json`.
  std::string result_from_client(std::string_view tool,
                                 std::string_view result_json) const;

  /// The CallToolResult (isError) when the client answered with an error, lacks the
  /// capability, or never answered; `why` says which.
  std::string result_from_client_error(std::string_view tool,
                                       std::string_view why) const;

  std::string resources_list_result() const;
  std::string resource_templates_list_result() const;

  /// resources/read; unknown uri → -32002 "Resource not found" with {"uri":..} data.
  fixture_answer read_resource(std::string_view params_json) const;

  /// resources/subscribe and resources/unsubscribe: `{}` for a uri read_resource
  /// knows, else the same error. The session keeps the set of subscribed uris.
  fixture_answer subscription(std::string_view params_json) const;

  std::string prompts_list_result() const;

  /// prompts/get; unknown prompt, missing required or non-string argument → -32602.
  fixture_answer get_prompt(std::string_view params_json) const;

  /// completion/complete for the fixture prompts' arguments and the template's {id}.
  fixture_answer complete(std::string_view params_json) const;

  /// The initialize capabilities the fixtures need, as one JSON object.
  std::string capabilities_json() const;

private:
  std::vector<std::string> tool_jsons_;
};

} // namespace warren
