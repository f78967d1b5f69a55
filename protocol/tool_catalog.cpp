#include "protocol/tool_catalog.hpp"

#include <cstdlib>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include <rapidjson/schema.h>

#include "protocol/batch.hpp"
#include "protocol/error.hpp"
#include "protocol/json_text.hpp"
#include "protocol/management_api.hpp"
#include "protocol/tool_spec.hpp"

namespace warren {

namespace {

using namespace tools;

// Names, vhosts, routing keys and AMQP properties are AMQP short strings.
constexpr std::size_t max_name_bytes = 255;

// Longest piece of an API answer quoted in an error message.
constexpr std::size_t max_reason_bytes = 300;

// Every table of tools with the family it belongs to. Another family (the discovery
// tools) joins the catalog by adding its table here.
const std::vector<spec_table>& spec_tables() {
  static const std::vector<spec_table> tables{
      {"direct", read_tool_specs},         {"direct", write_tool_specs},
      {"direct", message_tool_specs},      {"direct", batch_tool_specs},
      {"discovery", discovery_tool_specs},
  };
  return tables;
}

// Arguments that are AMQP short strings: JSON Schema counts characters, AMQP bytes.
constexpr const char* short_string_arguments[] = {"vhost",
                                                  "name",
                                                  "queue",
                                                  "exchange",
                                                  "source",
                                                  "destination",
                                                  "routing_key",
                                                  "dead_letter_exchange",
                                                  "dead_letter_routing_key",
                                                  "content_type",
                                                  "content_encoding",
                                                  "message_id",
                                                  "correlation_id",
                                                  "reply_to"};

// What the cache keeps: the topology an agent reads again and again and that warren's
// own writes invalidate. Connections, consumers, nodes and the overview change without
// warren's doing, so they are always read fresh.
bool cacheable(const std::string& key) {
  for (auto resource : {"queues:", "exchanges:", "bindings:", "vhosts:"})
    if (key.rfind(resource, 0) == 0)
      return true;
  return false;
}

const char* const writes_disabled =
    "start warren with --allow-writes (or WARREN_ALLOW_WRITES=1)";

// -- argument validation -------------------------------------------------------------

std::string type_phrase(const rj::Value* type) {
  std::string_view t = type && type->IsString() ? type->GetString() : "";
  if (t == "integer")
    return "an integer";
  if (t == "string")
    return "a string";
  if (t == "boolean")
    return "true or false";
  if (t == "number")
    return "a number";
  if (t == "array")
    return "an array";
  if (t == "object")
    return "an object";
  return "of another type";
}

std::string number_text(const rj::Value* v) {
  if (!v)
    return "?";
  if (v->IsInt64())
    return std::to_string(v->GetInt64());
  return to_json(*v);
}

std::string known_arguments(const rj::Value& schema) {
  std::string out;
  if (auto props = member(schema, "properties"); props && props->IsObject())
    for (auto& m : props->GetObject()) {
      out += out.empty() ? "" : ", ";
      out += m.name.GetString();
    }
  return out.empty() ? "this tool takes no arguments" : "the arguments are " + out;
}

// Turns RapidJSON's verdict (keyword + where in the arguments; in_item when inside an
// item of an array argument) into a sentence that names the argument, using the
// tool's own schema for the limits.
std::string describe_violation(const rj::Value& schema, const rj::Value& args,
                               std::string_view keyword, const std::string& arg,
                               bool in_item) {
  if (keyword == "required") {
    if (auto req = member(schema, "required"); req && req->IsArray())
      for (auto& r : req->GetArray())
        if (r.IsString() && !member(args, r.GetString()))
          return quoted(r.GetString()) + " is required";
    return "a required argument is missing";
  }
  if (keyword == "additionalProperties")
    return "unknown argument " + quoted(arg) + "; " + known_arguments(schema);
  if (arg.empty())
    return keyword == "type"
               ? "arguments must be a JSON object"
               : "arguments do not fit the schema ('" + std::string{keyword} + "')";
  const rj::Value* prop = nullptr;
  if (auto props = member(schema, "properties"))
    prop = member(*props, arg.c_str());
  if (in_item && prop) // an item of an array argument: the limits are the items'
    if (auto items = member(*prop, "items"); items && items->IsObject())
      prop = items;
  if (keyword == "uniqueItems")
    return quoted(arg) + " must not name the same item twice";
  if (keyword == "minItems")
    return quoted(arg) + " must not be empty";
  auto limit = [&](const char* key) { return prop ? member(*prop, key) : nullptr; };
  if (keyword == "type")
    return (in_item ? "each item of " : "") + quoted(arg) + " must be " +
           type_phrase(limit("type"));
  if (keyword == "minimum")
    return quoted(arg) + " must be at least " + number_text(limit("minimum"));
  if (keyword == "maximum")
    return quoted(arg) + " must be at most " + number_text(limit("maximum"));
  if (keyword == "minLength") {
    auto min = limit("minLength");
    if (min && min->IsInt64() && min->GetInt64() == 1)
      return quoted(arg) + " must not be empty";
    return quoted(arg) + " must be at least " + number_text(min) + " characters long";
  }
  if (keyword == "maxLength")
    return quoted(arg) + " must be at most " + number_text(limit("maxLength")) +
           " characters long";
  if (keyword == "enum" && limit("enum"))
    return (in_item ? "each item of " : "") + quoted(arg) + " must be one of " +
           to_json(*limit("enum"));
  return quoted(arg) + " does not fit the schema ('" + std::string{keyword} + "')";
}

// -- errors ----------------------------------------------------------------------

std::string unexpected_answer(int status) {
  return "unexpected answer from the management API (HTTP " + std::to_string(status) +
         "). Check that RABBITMQ_MANAGEMENT_URL points at the management plugin.";
}

// What an API error body says: {"error":"...","reason":"..."}.
struct api_error {
  bool parsed = false;
  std::string error;
  std::string reason;
};

api_error read_api_error(const std::string& body) {
  api_error out;
  rj::Document doc;
  doc.Parse<parse_flags>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject())
    return out;
  out.parsed = true;
  out.error = clip_utf8(string_arg(doc, "error"), max_reason_bytes);
  out.reason = clip_utf8(string_arg(doc, "reason"), max_reason_bytes);
  return out;
}

std::string with_reason(const api_error& err) {
  auto& text = !err.reason.empty() ? err.reason : err.error;
  return text.empty() ? std::string{} : ": " + text;
}

std::string not_permitted(const rj::Value& args, int status, const api_error& err) {
  auto vhost = string_arg(args, "vhost");
  return "the management API user is not allowed to do this" +
         (vhost.empty() ? std::string{} : " in vhost " + quoted(vhost)) + " (HTTP " +
         std::to_string(status) + with_reason(err) +
         "). It needs a management tag (monitoring, management or administrator) "
         "and permissions on the vhost; an administrator can grant them with "
         "rabbitmqctl set_user_tags and set_permissions.";
}

// The API refuses a page past the last one with 400 {"error":"page_out_of_range",
// "reason":"Page out of range, page: 3 page size: 100, len: 42"}. warren answers an
// EMPTY page instead of an error, so an agent paging forward simply sees the end; the
// item count in the reason (when present) yields page_count and filtered_count, and a
// note says which pages exist.
tool_result out_of_range_page(const rj::Value& args, const api_error& err) {
  rj::Document out(rj::kObjectType);
  rj::Value items(rj::kArrayType);
  auto page = int_arg(args, "page", 1);
  auto page_size = int_arg(args, "page_size", 100);
  start_page(out, items, page, page_size);
  auto at = err.reason.find("len: ");
  if (at != std::string::npos) {
    char* end = nullptr;
    auto len = std::strtoll(err.reason.c_str() + at + 5, &end, 10);
    if (end != err.reason.c_str() + at + 5 && len >= 0) {
      auto pages = page_count_for(len, page_size);
      add_count(out, "page_count", pages);
      add_count(out, "filtered_count", len);
      add_beyond_last_note(out, page, pages);
      return success(out);
    }
  }
  out.AddMember("note",
                rj::Value("page " + std::to_string(page) +
                              " is beyond the last page; ask for page 1 to see "
                              "page_count",
                          out.GetAllocator()),
                out.GetAllocator());
  return success(out);
}

std::string error_message(const tool_spec& spec, const rj::Value& args, int status,
                          const api_error& err) {
  auto code = std::to_string(status);
  // RabbitMQ answers 401 both for a failed login ("not_authorized") and for a user
  // that lacks a tag or vhost access ("not_authorised"); they need different fixes.
  if (status == 403 || (status == 401 && err.error == "not_authorised"))
    return not_permitted(args, status, err);
  if (status == 401)
    return "the management API refused warren's credentials (HTTP 401). Check "
           "RABBITMQ_USER and RABBITMQ_PASSWORD, and that this user exists on the "
           "broker.";
  if (status == 404)
    return spec.not_found(args);
  if (status >= 500)
    return "the broker had a problem answering (HTTP " + code + with_reason(err) +
           "). Try again in a moment; if it keeps failing, check the broker's "
           "health (rabbitmq-diagnostics status).";
  if (!err.parsed)
    return unexpected_answer(status);
  if (status == 400)
    return "the management API refused the request (HTTP 400" + with_reason(err) + ").";
  return "the management API answered HTTP " + code + with_reason(err) + ".";
}

caf::error invalid_arguments(const tool_spec& spec, const std::string& what) {
  return make_error(ec::invalid_params,
                    std::string{"invalid arguments for "} + spec.name + ": " + what);
}

// Prepares one item, already parsed, as a call of the named tool.
using item_preparer =
    std::function<caf::expected<operation>(const char* tool, rj::Document& item)>;

// A batch call's plan: each item prepared as the single call it is. Every invalid item
// is named by its index, and then nothing runs at all.
caf::expected<operation> plan_batch(const item_preparer& prepare_item,
                                    const catalog_options& options,
                                    const tool_spec& spec, const rj::Value& args) {
  auto plan = std::make_shared<batch_plan>();
  plan->tool = spec.name;
  plan->item_tool = spec.batch_of;
  plan->mode = string_arg(args, "mode") == "all_or_nothing" ? batch_mode::all_or_nothing
                                                            : batch_mode::best_effort;
  plan->parallelism = has_arg(args, "parallelism")
                          ? static_cast<std::size_t>(int_arg(args, "parallelism", 1))
                          : options.batch_parallelism;
  plan->confirm_window = options.batch_confirm_window;
  auto items = member(args, spec.batch_items)->GetArray();
  plan->items.reserve(items.Size());
  auto prefix = std::string{"invalid arguments for "} + spec.batch_of + ": ";
  std::vector<std::string> problems;
  for (rj::SizeType i = 0; i < items.Size(); ++i) {
    rj::Document item(rj::kObjectType);
    auto& alloc = item.GetAllocator();
    if (items[i].IsObject())
      item.CopyFrom(items[i], alloc);
    else
      item.AddMember("name", rj::Value(items[i], alloc), alloc);
    for (auto key : spec.batch_shared)
      if (auto v = member(args, key); v && !item.HasMember(key))
        item.AddMember(rj::StringRef(key), rj::Value(*v, alloc), alloc);
    auto op = prepare_item(spec.batch_of, item); // no second parse of the item
    if (!op) {
      auto why = message_of(op.error());
      if (why.rfind(prefix, 0) == 0)
        why.erase(0, prefix.size());
      problems.push_back(std::string{spec.batch_items} + "[" + std::to_string(i) +
                         "]: " + why);
      continue;
    }
    batch_item b;
    if (op->backend == backend_kind::amqp) {
      b.resource = op->amqp.publish.message_id;
      b.vhost = op->amqp.publish.vhost;
    } else {
      b.resource = string_arg(item, "name");
      b.vhost = has_arg(item, "vhost") ? string_arg(item, "vhost") : "/";
    }
    b.op = std::move(*op);
    plan->items.push_back(std::move(b));
  }
  if (!problems.empty()) {
    std::string text = std::string{"invalid arguments for "} + spec.name + ": " +
                       std::to_string(problems.size()) + " of " +
                       std::to_string(items.Size()) +
                       " items are invalid, so nothing was done: ";
    for (std::size_t i = 0; i < problems.size(); ++i)
      text += (i == 0 ? "" : "; ") + problems[i];
    return make_error(ec::invalid_params, text);
  }
  operation op;
  op.tool = spec.name;
  op.backend = backend_kind::batch;
  op.writes = true;
  op.idempotent = spec.hints.idempotent;
  op.batch = std::move(plan);
  return op;
}

} // namespace

// -- the catalog ---------------------------------------------------------------------

struct tool_catalog::impl {
  struct entry {
    const tool_spec* spec = nullptr;
    bool offered = false; ///< in the chosen families, and writes allowed if it writes
    rj::Document input_schema; ///< outlives `validator_schema`, which was built from it
    /// Batch tools: the input schema with the items left unchecked, since each item
    /// is validated as a call of its own so that every invalid one can be named.
    rj::Document batch_schema;
    std::unique_ptr<rj::SchemaDocument> validator_schema;
    std::string json;
  };
  catalog_options options;
  std::vector<std::unique_ptr<entry>> all;
  std::vector<const entry*> offered;
  std::map<std::string, const entry*, std::less<>> by_name;

  const entry* find(std::string_view name) const {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  }

  /// The tool's entry, or why it cannot be called.
  caf::expected<const entry*> callable(std::string_view name) const;

  /// The call of a callable tool with its arguments parsed: validated, defaults
  /// applied (to `args`), built. An item of a batch call (`batch_item`) that goes to
  /// AMQP keeps no copy of its arguments: a batch's publishes go out together in
  /// publish_batch requests made from their built messages, and the job says what
  /// became of each from its confirm, so nothing shapes an answer from them.
  caf::expected<operation> prepare_parsed(const entry& e, rj::Document& args,
                                          bool batch_item = false) const;
};

namespace {

std::string tool_json_of(const tool_spec& spec, const rj::Value& input_schema) {
  rj::Document tool(rj::kObjectType);
  auto& alloc = tool.GetAllocator();
  rj::Document output;
  output.Parse(spec.output_schema);
  tool.AddMember("name", rj::StringRef(spec.name), alloc);
  tool.AddMember("title", rj::StringRef(spec.title), alloc);
  tool.AddMember("description", rj::StringRef(spec.description), alloc);
  tool.AddMember("inputSchema", rj::Value(input_schema, alloc), alloc);
  tool.AddMember("outputSchema", rj::Value(output, alloc), alloc);
  rj::Value hints(rj::kObjectType);
  hints.AddMember("title", rj::StringRef(spec.title), alloc);
  hints.AddMember("readOnlyHint", spec.hints.read_only, alloc);
  hints.AddMember("destructiveHint", spec.hints.destructive, alloc);
  hints.AddMember("idempotentHint", spec.hints.idempotent, alloc);
  hints.AddMember("openWorldHint", spec.hints.open_world, alloc);
  tool.AddMember("annotations", hints, alloc);
  return to_json(tool);
}

rj::Document parsed_arguments(const operation& op) {
  rj::Document args;
  args.Parse<utf8_text_flags>(op.arguments_json.data(), op.arguments_json.size());
  if (args.HasParseError() || !args.IsObject())
    args.SetObject();
  return args;
}

// An API answer's body; an empty body (204 No Content) reads as null.
bool parse_body(const http_response& response, rj::Document& body) {
  if (response.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    body.SetNull();
    return true;
  }
  body.Parse<parse_flags>(response.body.data(), response.body.size());
  return !body.HasParseError();
}

bool is_success(int status) {
  return status >= 200 && status < 300;
}

// A non-2xx answer as the failure it means for this tool.
tool_result failed_answer(const tool_spec& spec, const rj::Value& args,
                          const http_response& response) {
  auto err = read_api_error(response.body);
  if (spec.paged && response.status == 400 && err.error == "page_out_of_range")
    return out_of_range_page(args, err);
  if (response.status == 404 && !spec.not_found)
    return tool_catalog::failure(api_path_not_found(args));
  return tool_catalog::failure(error_message(spec, args, response.status, err));
}

} // namespace

tool_catalog::tool_catalog(catalog_options options) : impl_(std::make_unique<impl>()) {
  impl_->options = std::move(options);
  auto& families = impl_->options.families;
  for (auto& table : spec_tables()) {
    bool family = families == "all" || families == table.family;
    for (auto& spec : table.specs()) {
      auto e = std::make_unique<impl::entry>();
      e->spec = &spec;
      e->offered =
          family && (spec.access != gate::write || impl_->options.allow_writes);
      e->input_schema.Parse(spec.input_schema);
      if (spec.batch_items) {
        e->batch_schema.CopyFrom(e->input_schema, e->batch_schema.GetAllocator());
        auto& props = e->batch_schema["properties"];
        if (auto items = props.FindMember(spec.batch_items); items != props.MemberEnd())
          items->value["items"].SetObject();
      }
      e->validator_schema = std::make_unique<rj::SchemaDocument>(
          spec.batch_items ? e->batch_schema : e->input_schema);
      e->json = tool_json_of(spec, e->input_schema);
      impl_->by_name.emplace(spec.name, e.get());
      if (e->offered)
        impl_->offered.push_back(e.get());
      impl_->all.push_back(std::move(e));
    }
  }
}

tool_catalog::~tool_catalog() = default;

std::size_t tool_catalog::size() const {
  return impl_->offered.size();
}

const std::string& tool_catalog::tool_json(std::size_t index) const {
  static const std::string none;
  return index < impl_->offered.size() ? impl_->offered[index]->json : none;
}

bool tool_catalog::contains(std::string_view name) const {
  auto e = impl_->find(name);
  return e && e->offered;
}

bool tool_catalog::runs_as_job(std::string_view name) const {
  auto e = impl_->find(name);
  return e && e->spec->batch_of != nullptr;
}

caf::expected<const tool_catalog::impl::entry*>
tool_catalog::impl::callable(std::string_view name) const {
  auto e = find(name);
  bool writes_off = e && e->spec->access == gate::write && !options.allow_writes;
  if (!e || (!e->offered && !writes_off))
    return make_error(ec::unknown_tool,
                      "unknown tool " + quoted(sanitize_utf8(clip_utf8(name, 100))) +
                          "; tools/list shows the available tools");
  if (!e->offered)
    return make_error(ec::unknown_tool, "tool " + quoted(e->spec->name) +
                                            " changes the broker and writes are "
                                            "disabled; " +
                                            writes_disabled);
  return e;
}

caf::expected<operation> tool_catalog::prepare(std::string_view name,
                                               std::string_view arguments_json) const {
  auto e = impl_->callable(name);
  if (!e)
    return e.error();
  auto& spec = *(*e)->spec;
  auto& options = impl_->options;
  if (spec.batch_of && arguments_json.size() > options.batch_max_bytes)
    return invalid_arguments(
        spec, "the batch is " + std::to_string(arguments_json.size()) +
                  " bytes of arguments; at most " +
                  std::to_string(options.batch_max_bytes) +
                  " are accepted per call (batch.max_bytes). Split it into smaller "
                  "batches; nothing was done");
  rj::Document args;
  if (auto problem = parse_arguments(arguments_json, args); !problem.empty())
    return invalid_arguments(spec, problem);
  return impl_->prepare_parsed(**e, args);
}

caf::expected<operation> tool_catalog::impl::prepare_parsed(const entry& e,
                                                            rj::Document& args,
                                                            bool batch_item) const {
  auto& spec = *e.spec;
  auto invalid = [&](const std::string& what) { return invalid_arguments(spec, what); };
  if (spec.batch_items)
    if (auto items = member(args, spec.batch_items);
        items && items->IsArray() && items->Size() > options.batch_max_items)
      return invalid(quoted(spec.batch_items) + " has " +
                     std::to_string(items->Size()) + " items; at most " +
                     std::to_string(options.batch_max_items) +
                     " are accepted per call (batch.max_items). Split it into "
                     "smaller batches; nothing was done");
  rj::SchemaValidator validator(*e.validator_schema);
  if (!args.Accept(validator)) {
    auto pointer = validator.GetInvalidDocumentPointer();
    std::string arg;
    if (pointer.GetTokenCount() > 0) {
      auto& token = pointer.GetTokens()[0];
      arg = sanitize_utf8(clip_utf8({token.name, token.length}, 100));
    }
    return invalid(describe_violation(e.input_schema, args,
                                      validator.GetInvalidSchemaKeyword(), arg,
                                      pointer.GetTokenCount() > 1));
  }
  for (auto key : short_string_arguments)
    if (auto v = member(args, key);
        v && v->IsString() && v->GetStringLength() > max_name_bytes)
      return invalid(quoted(key) + " must be at most 255 bytes long");
  if (spec.check)
    if (auto problem = spec.check(args); !problem.empty())
      return invalid(problem);
  // The validator does not fill in defaults; the schema's are applied here so that
  // building, caching and shaping all see the same complete arguments.
  auto& alloc = args.GetAllocator();
  if (auto props = member(e.input_schema, "properties"))
    for (auto& p : props->GetObject())
      if (auto def = member(p.value, "default"); def && !args.HasMember(p.name))
        args.AddMember(rj::Value(p.name, alloc), rj::Value(*def, alloc), alloc);
  if (spec.batch_of)
    return plan_batch(
        [this](const char* tool, rj::Document& item) -> caf::expected<operation> {
          auto item_entry = callable(tool);
          if (!item_entry)
            return item_entry.error();
          return prepare_parsed(**item_entry, item, true);
        },
        options, spec, args);
  operation op;
  op.tool = spec.name;
  op.idempotent = spec.hints.idempotent;
  op.writes = spec.access == gate::write;
  if (spec.access == gate::by_arguments) {
    auto writes = spec.writes_with(args);
    if (!writes.empty() && !options.allow_writes)
      return invalid(writes + ", and writes are disabled; " + writes_disabled);
    op.writes = !writes.empty();
  }
  spec.build(spec, args, op);
  if (!cacheable(op.cache_key))
    op.cache_key.clear();
  if (!batch_item || op.backend != backend_kind::amqp)
    op.arguments_json = to_json(args);
  return op;
}

std::optional<tool_result> tool_catalog::review(const operation& op,
                                                const http_response& precheck) const {
  auto e = impl_->find(op.tool);
  if (!e || !e->spec->review)
    return std::nullopt;
  auto& spec = *e->spec;
  auto args = parsed_arguments(op);
  if (!is_success(precheck.status))
    return failed_answer(spec, args, precheck);
  rj::Document body;
  if (!parse_body(precheck, body))
    return failure(unexpected_answer(precheck.status));
  return spec.review(spec, body, args);
}

tool_result tool_catalog::shape_amqp(const operation& op,
                                     const amqp_response& response) const {
  auto e = impl_->find(op.tool);
  if (!e || !e->spec->shape_amqp)
    return failure("internal error: " + quoted(op.tool) + " does not use AMQP");
  auto args = parsed_arguments(op);
  return e->spec->shape_amqp(op.amqp, response, args, impl_->options);
}

tool_result tool_catalog::shape(const operation& op,
                                const std::vector<http_response>& responses) const {
  auto e = impl_->find(op.tool);
  if (!e)
    return failure("internal error: no tool named " + quoted(op.tool));
  auto& spec = *e->spec;
  // Local tools (backend_kind::local) have no answers; shape_answers makes their
  // result from the arguments alone.
  if (responses.empty() && !spec.shape_answers)
    return failure("internal error: no answer for " + quoted(op.tool));
  auto args = parsed_arguments(op);
  for (auto& response : responses)
    if (!is_success(response.status) &&
        !(spec.also_ok != 0 && response.status == spec.also_ok))
      return failed_answer(spec, args, response);
  rj::Document out(rj::kObjectType);
  if (spec.shape_answers) {
    if (!spec.shape_answers(spec, responses, args, out))
      return failure(unexpected_answer(responses.front().status));
    return success(out);
  }
  rj::Document body;
  if (!spec.shape || !parse_body(responses.front(), body) ||
      !spec.shape(spec, body, args, out))
    return failure(unexpected_answer(responses.front().status));
  return success(out);
}

tool_result tool_catalog::failure(std::string_view message) {
  return text_result(sanitize_utf8(message), false, true);
}

} // namespace warren
