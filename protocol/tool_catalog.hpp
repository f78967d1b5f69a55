#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "protocol/http_message.hpp"

namespace warren {

/// Hints a client may show or act on; they must tell the truth about the tool.
struct tool_annotations {
  std::string title;
  bool read_only = true;
  bool destructive = false;
  bool idempotent = true;
  bool open_world = true; ///< talks to the broker, which other parties change too
};

/// A prepared call: what to send to the management API, built from validated
/// arguments, plus what the cache needs to know about it.
struct operation {
  std::string tool;                     ///< the tool that made it
  http_request request;                 ///< what to send
  std::string cache_key;                ///< "{resource}:{operation}:{vhost}:{name}"
  std::vector<std::string> invalidates; ///< cache keys a write makes stale
  bool idempotent = true;               ///< safe to retry
  std::string arguments_json;           ///< the validated arguments, for shaping
};

/// The answer to tools/call: a serialized MCP CallToolResult object
/// ({"content":[...],"structuredContent":{...},"isError":false}).
struct tool_result {
  bool is_error = false;
  std::string json;
};

/// The tools warren offers, their schemas, and the pure logic that turns arguments
/// into management API requests and API responses into tool results.
class tool_catalog {
public:
  tool_catalog();
  ~tool_catalog();
  tool_catalog(const tool_catalog&) = delete;
  tool_catalog& operator=(const tool_catalog&) = delete;

  /// Number of tools.
  std::size_t size() const;

  /// The MCP Tool object of tool `index` as compact JSON (name, title, description,
  /// inputSchema, outputSchema, annotations).
  const std::string& tool_json(std::size_t index) const;

  /// True if a tool of that name exists.
  bool contains(std::string_view name) const;

  /// Validates `arguments_json` (a JSON object; "" or "null" mean {}) against the
  /// tool's input schema and builds the operation. Errors: ec::unknown_tool,
  /// ec::invalid_params with a message that names the offending argument.
  caf::expected<operation> prepare(std::string_view name,
                                   std::string_view arguments_json) const;

  /// Shapes the management API's response to `op` into a tool result. A non-2xx
  /// status becomes isError with a message that says what happened and what to do
  /// (404: the queue/vhost/exchange does not exist; 401: credentials refused, ...).
  tool_result shape(const operation& op, const http_response& response) const;

  /// A tool result with isError and the given message (backend down, timeout, ...).
  static tool_result failure(std::string_view message);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace warren
