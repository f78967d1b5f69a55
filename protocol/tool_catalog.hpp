#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "protocol/amqp_message.hpp"
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

/// Which backend an operation goes to. `local` operations need no broker at all
/// (search-ids, get-id): the dispatcher shapes them at once, with no answers. `batch`
/// operations are jobs of many calls (protocol/batch.hpp), run by a batch job actor.
enum class backend_kind : uint8_t { management, amqp, local, batch };

struct batch_plan;

/// A prepared call: what to send to the broker, built from validated arguments, plus
/// what the cache needs to know about it.
struct operation {
  std::string tool; ///< the tool that made it
  backend_kind backend = backend_kind::management;
  std::vector<http_request> requests; ///< management: sent together; shape() gets the
                                      ///< answers in this order
  /// Guarded writes (delete/purge with force and dry_run): a read sent first, whose
  /// answer review() judges before any request goes out.
  std::optional<http_request> precheck;
  amqp_request amqp;                    ///< for backend_kind::amqp
  std::string cache_key;                ///< "{resource}:{operation}:{vhost}:{name}"
  std::vector<std::string> invalidates; ///< cache keys a write makes stale
  /// Cache keys whose counts a write changes but not their topology (a publish):
  /// kept, but only until the settle window ends.
  std::vector<std::string> refreshes;
  bool idempotent = true; ///< safe to retry
  bool writes = false;    ///< changes the broker
  /// Guarded writes: stop after the precheck's review; a write it lets through is
  /// answered {"would_proceed":true} instead of being sent (a batch's first phase).
  bool precheck_only = false;
  std::string arguments_json;              ///< the validated arguments, for shaping
  std::shared_ptr<const batch_plan> batch; ///< for backend_kind::batch
};

/// Which tools a catalog offers.
struct catalog_options {
  /// Tools that change the broker are listed and callable only when true.
  bool allow_writes = false;
  /// "direct" (one tool per task), "discovery" (search-ids/get-id/call-id over the
  /// whole management API) or "all".
  std::string families = "all";
  /// get_messages: bodies longer than this are cut (and flagged truncated).
  std::size_t max_body_bytes = 64 * 1024;
  /// Batch tools: most items and bytes of arguments per call, items run at once
  /// unless the call says otherwise, and publishes waiting for their confirm.
  std::size_t batch_max_items = 100;
  std::size_t batch_max_bytes = 10u << 20;
  std::size_t batch_parallelism = 10;
  uint32_t batch_confirm_window = 100;
};

/// The answer to tools/call: a serialized MCP CallToolResult object
/// ({"content":[...],"structuredContent":{...},"isError":false}).
struct tool_result {
  bool is_error = false;
  std::string json;
  uint64_t backend_ns = 0; ///< of the call's time, how much the broker took
};

/// The tools warren offers, their schemas, and the pure logic that turns arguments
/// into management API requests and API responses into tool results.
class tool_catalog {
public:
  explicit tool_catalog(catalog_options options = {});
  ~tool_catalog();
  tool_catalog(const tool_catalog&) = delete;
  tool_catalog& operator=(const tool_catalog&) = delete;

  /// Number of tools offered (with these options).
  std::size_t size() const;

  /// The MCP Tool object of tool `index` as compact JSON (name, title, description,
  /// inputSchema, outputSchema, annotations).
  const std::string& tool_json(std::size_t index) const;

  /// True if a tool of that name exists.
  bool contains(std::string_view name) const;

  /// True for the batch tools, whose calls run as jobs that may take longer than
  /// one call's timeout.
  bool runs_as_job(std::string_view name) const;

  /// Validates `arguments_json` (a JSON object; "" or "null" mean {}) against the
  /// tool's input schema and builds the operation. Errors: ec::unknown_tool,
  /// ec::invalid_params with a message that names the offending argument. A write tool
  /// while writes are disabled is ec::unknown_tool with a message that says how to
  /// enable writes.
  caf::expected<operation> prepare(std::string_view name,
                                   std::string_view arguments_json) const;

  /// Shapes the management API's response to `op` into a tool result. A non-2xx
  /// status becomes isError with a message that says what happened and what to do
  /// (404: the queue/vhost/exchange does not exist; 401: credentials refused, ...).
  tool_result shape(const operation& op,
                    const std::vector<http_response>& responses) const;

  /// Judges the answer to op.precheck: nullopt lets the write go ahead; a result
  /// answers the call instead (a refusal without force, or the dry-run report).
  std::optional<tool_result> review(const operation& op,
                                    const http_response& precheck) const;

  /// Shapes the AMQP backend's answer (publish outcome, or messages with bodies as
  /// text when UTF-8, else base64, cut at max_body_bytes with a truncated flag).
  tool_result shape_amqp(const operation& op, const amqp_response& response) const;

  /// A tool result with isError and the given message (backend down, timeout, ...).
  static tool_result failure(std::string_view message);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace warren
