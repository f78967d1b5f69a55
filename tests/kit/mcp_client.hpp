#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>
#include <rapidjson/document.h>

#include "tests/kit/broker_env.hpp"
#include "tests/kit/subprocess.hpp"

namespace warren {

/// One JSON-RPC message read from warren's stdout, parsed with RapidJSON (independently
/// of warren's own parser, so tests check the wire and not the code under test).
class json_message {
public:
  json_message(std::string line, std::shared_ptr<rapidjson::Document> doc);

  /// The line as received.
  const std::string& text() const { return text_; }
  const rapidjson::Document& doc() const { return *doc_; }

  /// The value at a JSON Pointer ("/result/serverInfo/name"), or nullptr.
  const rapidjson::Value* at(const char* pointer) const;

  /// The string at `pointer`, or nullopt when absent or not a string.
  std::optional<std::string> string_at(const char* pointer) const;

  /// True for a message with an "id" member and either "result" or "error".
  bool is_response() const;
  /// True for a message with "method" and no "id".
  bool is_notification() const;
  /// The id as compact JSON ("7", "\"a\"", "null"); "" when there is no id member.
  std::string id_json() const;
  /// "method", or "" when absent.
  std::string method() const;
  /// error.code, or nullopt when this is not an error response.
  std::optional<int> error_code() const;
  /// error.message, or "".
  std::string error_message() const;
  /// "result", or nullptr.
  const rapidjson::Value* result() const;

private:
  std::string text_;
  std::shared_ptr<rapidjson::Document> doc_;
};

/// Compact JSON of a RapidJSON value.
std::string to_compact_json(const rapidjson::Value& value);

/// A JSON string literal (with quotes) for `text`.
std::string json_quote(std::string_view text);

/// The warren binary: env WARREN_BINARY if set, else `compiled_default` (callers pass
/// their WARREN_BINARY compile definition; the kit itself is compiled without it), else
/// "warren" from PATH.
std::string warren_binary_path(const char* compiled_default = nullptr);

/// The environment that points warren at `broker` ("RABBITMQ_MANAGEMENT_URL=...",
/// "RABBITMQ_URL=...", user and password).
std::vector<std::string> broker_environment(const broker_env& broker);

/// How to start warren for a test.
struct mcp_client_options {
  std::string binary;               ///< "" = warren_binary_path()
  std::vector<std::string> args;    ///< extra flags after "serve"
  std::optional<broker_env> broker; ///< adds broker_environment(*broker)
  std::vector<std::string> env;     ///< KEY=VALUE, applied after the broker's
  std::chrono::milliseconds timeout = std::chrono::seconds(15); ///< default wait
};

/// A test client for `warren serve` over stdio: sends requests with fresh ids, waits
/// for the response with a given id, and keeps the notifications (and any response it
/// was not asked for yet) that arrived meanwhile.
class mcp_client {
public:
  /// Starts `<binary> serve <args...>`.
  static caf::expected<std::unique_ptr<mcp_client>> start(mcp_client_options opts = {});

  ~mcp_client();
  mcp_client(const mcp_client&) = delete;
  mcp_client& operator=(const mcp_client&) = delete;

  /// Sends {"jsonrpc":"2.0","id":<new id>,"method":...,"params":...} and returns the
  /// id. `params_json` "" leaves params out.
  int64_t send_request(std::string_view method, std::string_view params_json = "");

  /// Sends a notification (no id).
  bool send_notification(std::string_view method, std::string_view params_json = "");

  /// Sends one raw line as is (a newline is added).
  bool send_raw(std::string_view line);

  /// Waits for the response whose id serializes to `id_json` ("7", "null").
  /// Messages read meanwhile are kept: notifications in notifications(), other
  /// responses for later awaits.
  std::optional<json_message>
  await_id(const std::string& id_json,
           std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  std::optional<json_message>
  await_response(int64_t id,
                 std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  /// send_request + await_response.
  std::optional<json_message>
  request(std::string_view method, std::string_view params_json = "",
          std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  /// tools/call with {"name":..,"arguments":..}.
  std::optional<json_message> call_tool(std::string_view name,
                                        std::string_view arguments_json = "{}");

  /// Sends initialize with `protocol_version` and a clientInfo, waits for the result
  /// and, if `send_initialized`, follows with notifications/initialized.
  std::optional<json_message>
  initialize(std::string_view protocol_version = "2025-11-25",
             bool send_initialized = true);

  /// The next message of any kind: first the kept ones (responses nobody awaited yet,
  /// in arrival order), then new lines. nullopt on timeout or EOF.
  std::optional<json_message>
  next_message(std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  /// Reads everything until stdout EOF or `timeout`, keeping it like await_id does.
  /// Returns true if EOF was reached.
  bool drain_until_eof(std::chrono::milliseconds timeout);

  /// Notifications seen so far (in arrival order).
  const std::vector<json_message>& notifications() const { return notifications_; }
  /// Every message seen so far, in arrival order.
  const std::vector<json_message>& all_messages() const { return all_; }
  /// stdout lines that were not a JSON object (must stay empty: stdout is JSON-RPC
  /// only).
  const std::vector<std::string>& non_json_lines() const { return non_json_; }

  /// Closes warren's stdin.
  void close_stdin();

  subprocess& process() { return *process_; }

  std::chrono::milliseconds default_timeout() const { return timeout_; }

private:
  mcp_client(std::unique_ptr<subprocess> process, std::chrono::milliseconds timeout);
  // Reads one line and parses it; nullopt on timeout/EOF. Non-JSON lines are recorded
  // and skipped.
  std::optional<json_message> read_message(std::chrono::milliseconds timeout);

  std::unique_ptr<subprocess> process_;
  std::chrono::milliseconds timeout_;
  int64_t next_id_ = 1;
  std::deque<json_message> unclaimed_;
  std::vector<json_message> notifications_;
  std::vector<json_message> all_;
  std::vector<std::string> non_json_;
};

} // namespace warren
