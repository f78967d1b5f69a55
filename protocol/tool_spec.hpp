#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/management_api.hpp"
#include "protocol/tool_catalog.hpp"
#include "protocol/tool_json.hpp"

// What one tool is made of, and the pieces the tool tables share: the fields kept
// from API objects, schema fragments, cache-key parts, 404 messages and paging.
namespace warren::tools {

// -- fields kept from API objects ----------------------------------------------------

/// One field warren keeps from an API object; `type` is its JSON Schema type. The
/// same table drives the `columns` query, the shaping and the output schema.
struct field {
  const char* name;
  const char* type; ///< "string", "boolean", "integer", "number", "object", "array"
  const char* description = nullptr;
  const char* source = nullptr; ///< dotted path in the API object when not `name`
};

using field_list = std::vector<field>;

/// Copies the listed fields that exist with the documented type; absent, null or
/// oddly typed fields are left out so that the result always fits the output schema.
void pick_fields(const rj::Value& src, const field_list& fields, rj::Value& dst,
                 rj::Document::AllocatorType& alloc);

/// Counters such as {"publish": 7, "publish_details": {"rate": 0.2}} become
/// {"publish": 7, "publish_rate": 0.2}: the rate without the sample history.
void pick_stats(const rj::Value& src, const std::vector<const char*>& keys,
                rj::Value& dst, rj::Document::AllocatorType& alloc);

/// The `columns` query value: the API paths of the fields, comma-separated.
std::string columns_of(const field_list& fields);

/// JSON Schema "properties" members for the fields (without braces).
std::string properties_of(const field_list& fields);

/// The fields a list call asked for with 'columns', in the order of `fields` and
/// always with "name"; all of them when it did not ask.
field_list chosen_fields(const field_list& fields, const rj::Value& args);

/// What list_bindings and the binding write tools show of a binding.
const field_list& binding_fields();

// -- schema fragments ----------------------------------------------------------------

/// "page" and "page_size" properties (without braces).
extern const char* const page_properties;

/// "vhost" defaulting to "/".
extern const char* const vhost_property;

/// "vhost" that may be omitted to cover every vhost.
std::string all_vhosts_property(const char* what);

/// "name" substring/regex filter and "use_regex".
std::string name_filter_properties(const char* what);

/// "columns": which of the fields each listed item shows (without braces).
std::string columns_property(const field_list& fields);

/// A required-looking name property: 1..255 characters with a description.
std::string name_property(const char* key, const char* description);

/// {"type":"object","properties":{...},"required":[...],"additionalProperties":false}
std::string object_schema(const std::string& properties,
                          const std::string& required = {});

/// Output schema of a page of items with these fields.
std::string page_output_schema(const field_list& fields);

// -- one tool ------------------------------------------------------------------------

struct tool_spec;

/// Fills op.requests (or op.amqp), op.cache_key and op.invalidates.
using build_fn = void (*)(const tool_spec&, const rj::Value& args, operation& op);
/// Shapes one parsed 2xx answer; false means the answer was not what the API sends.
using shape_fn = bool (*)(const tool_spec&, const rj::Value& body,
                          const rj::Value& args, rj::Document& out);
/// Shapes all raw answers (several requests, or writes with empty bodies), called
/// once every status is 2xx or spec.also_ok; with no answers at all for a tool that
/// sends no request (backend_kind::local).
using answers_fn = bool (*)(const tool_spec&, const std::vector<http_response>& answers,
                            const rj::Value& args, rj::Document& out);
/// Judges the parsed 2xx answer to a precheck: nullopt lets the write go ahead.
using review_fn = std::optional<tool_result> (*)(const tool_spec&,
                                                 const rj::Value& body,
                                                 const rj::Value& args);
/// Shapes the broker's answer to `sent`, the AMQP request the tool built.
using amqp_shape_fn = tool_result (*)(const amqp_request& sent, const amqp_response&,
                                      const rj::Value& args,
                                      const catalog_options& options);
using message_fn = std::string (*)(const rj::Value& args);

/// Whether a tool changes the broker, and so needs writes enabled.
enum class gate : uint8_t {
  read,         ///< never: always listed
  write,        ///< always: listed and callable only with allow_writes
  by_arguments, ///< listed always; spec.writes_with says which arguments need writes
};

/// One tool. Adding a tool means adding one entry to a table and, when no existing
/// function fits, a build or shape function.
struct tool_spec {
  const char* name;
  const char* title;
  const char* description;
  std::string input_schema;
  std::string output_schema;
  build_fn build;
  shape_fn shape;
  message_fn not_found;           ///< what a 404 means for this call
  message_fn check = nullptr;     ///< rules a schema cannot say; "" when fine
  const char* resource = nullptr; ///< API collection: "queues", "vhosts", ...
  const field_list* fields = nullptr;
  bool paged = false; ///< answers a page of items (page/page_size arguments)
  tool_annotations hints = {};
  gate access = gate::read;
  /// gate::by_arguments: "" when these arguments only read, else what writes.
  message_fn writes_with = nullptr;
  answers_fn shape_answers = nullptr; ///< used instead of `shape` when set
  int also_ok = 0;                    ///< a non-2xx status that is an answer (503)
  review_fn review = nullptr;         ///< judges op.precheck's answer
  amqp_shape_fn shape_amqp = nullptr; ///< for backend_kind::amqp
  const char* done = nullptr;         ///< writes: the result's flag ("deleted")
  std::vector<const char*> echo = {}; ///< writes: arguments repeated in the result
  /// Batch tools: the tool each item is a call of and the array argument that holds
  /// the items. An item that is a string becomes {"name": item}; the arguments named
  /// in batch_shared are copied into every item.
  const char* batch_of = nullptr;
  const char* batch_items = nullptr;
  std::vector<const char*> batch_shared = {};
};

using spec_list = std::vector<tool_spec>;

/// The hints of a tool that changes the broker.
tool_annotations change_hints(const char* title, bool destructive, bool idempotent);

/// A table of tools and the family (catalog_options::families) it belongs to.
struct spec_table {
  const char* family;
  const spec_list& (*specs)();
};

/// The direct tools, one table per file: reads (read_tools.cpp), management API
/// writes (write_tools.cpp) and AMQP messages (message_tools.cpp).
const spec_list& read_tool_specs();
const spec_list& write_tool_specs();
const spec_list& message_tool_specs();

/// search-ids, get-id and call-id over the whole management API (discovery_tools.cpp).
const spec_list& discovery_tool_specs();

/// batch_create_queues, batch_delete_queues and batch_publish_messages
/// (batch_tools.cpp).
const spec_list& batch_tool_specs();

/// The spec named `name` in `specs` (which must hold it).
const tool_spec& spec_named(const spec_list& specs, std::string_view name);

// -- cache keys and messages ---------------------------------------------------------

/// Escapes ':' (and '%') so that "{vhost}:{name}" stays unambiguous; "/" stays.
std::string key_part(std::string_view text);

std::string quoted(const std::string& text);

/// Adds the cache-key prefixes a change to queue `name` of `vhost` makes stale: the
/// queue lists and searches of the vhost and of all vhosts, the queue itself ("" for
/// every queue of the vhost) and the overview's totals.
void invalidate_queues(operation& op, const std::string& vhost,
                       const std::string& name);

std::string vhost_not_found(const rj::Value& args);
std::string queue_not_found_named(const std::string& queue, const rj::Value& args);
std::string exchange_not_found_named(const std::string& exchange,
                                     const rj::Value& args);
std::string queue_not_found(const rj::Value& args);    ///< queue in 'name'
std::string exchange_not_found(const rj::Value& args); ///< exchange in 'name'
std::string api_path_not_found(const rj::Value& args);

// -- pages ---------------------------------------------------------------------------

std::vector<query_param> page_params(const rj::Value& args);

void add_count(rj::Document& out, const char* key, long long value);

void add_beyond_last_note(rj::Document& out, long long page, long long page_count);

/// Starts a page result: moves `items` in and adds page and page_size.
void start_page(rj::Document& out, rj::Value& items, long long page,
                long long page_size);

/// Pages a full array client-side, for APIs without pagination, with the same result
/// shape as the API's own pages.
bool shape_client_paged(const tool_spec& spec, const rj::Value& body,
                        const rj::Value& args, rj::Document& out);

/// The API's own page ({"items":[...],"page",...}); a plain array is paged
/// client-side instead.
bool shape_server_paged(const tool_spec& spec, const rj::Value& body,
                        const rj::Value& args, rj::Document& out);

} // namespace warren::tools
