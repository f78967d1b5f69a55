#include "protocol/tool_catalog.hpp"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "protocol/error.hpp"
#include "protocol/json_text.hpp"
#include "protocol/management_api.hpp"

namespace warren {

namespace {

namespace rj = rapidjson;

// Iterative parsing: a hostile, deeply nested document cannot exhaust the stack.
constexpr unsigned parse_flags =
    rj::kParseIterativeFlag | rj::kParseValidateEncodingFlag;

// Names and vhosts are AMQP short strings.
constexpr std::size_t max_name_bytes = 255;

// Longest piece of an API answer quoted in an error message.
constexpr std::size_t max_reason_bytes = 300;

// Deepest nesting copied out of an API answer (queue arguments can be tables) or
// accepted in tool arguments; keeps every later recursive walk shallow.
constexpr int max_depth = 32;

// -- small JSON helpers -------------------------------------------------------------

std::string to_json(const rj::Value& value) {
  rj::StringBuffer buf;
  rj::Writer<rj::StringBuffer> writer(buf);
  value.Accept(writer);
  return {buf.GetString(), buf.GetSize()};
}

const rj::Value* member(const rj::Value& object, const char* key) {
  if (!object.IsObject())
    return nullptr;
  auto it = object.FindMember(key);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string string_arg(const rj::Value& args, const char* key) {
  auto value = member(args, key);
  return value && value->IsString()
             ? std::string{value->GetString(), value->GetStringLength()}
             : std::string{};
}

bool has_arg(const rj::Value& args, const char* key) {
  auto value = member(args, key);
  return value && !value->IsNull();
}

long long int_arg(const rj::Value& args, const char* key, long long fallback) {
  auto value = member(args, key);
  return value && value->IsInt64() ? value->GetInt64() : fallback;
}

bool bool_arg(const rj::Value& args, const char* key) {
  auto value = member(args, key);
  return value && value->IsBool() && value->GetBool();
}

// Deepest nesting level of `value`, walked without recursion.
int depth_of(const rj::Value& value) {
  std::vector<std::pair<const rj::Value*, int>> todo{{&value, 1}};
  int deepest = 0;
  while (!todo.empty()) {
    auto [v, depth] = todo.back();
    todo.pop_back();
    deepest = std::max(deepest, depth);
    if (depth > max_depth)
      return depth;
    if (v->IsObject()) {
      for (auto& m : v->GetObject())
        todo.emplace_back(&m.value, depth + 1);
    } else if (v->IsArray()) {
      for (auto& e : v->GetArray())
        todo.emplace_back(&e, depth + 1);
    }
  }
  return deepest;
}

// Deep copy that replaces anything nested deeper than max_depth with a marker.
rj::Value copy_bounded(const rj::Value& src, rj::Document::AllocatorType& alloc,
                       int depth = 1) {
  if (depth > max_depth)
    return rj::Value("(nested too deeply to show)", alloc);
  if (src.IsObject()) {
    rj::Value out(rj::kObjectType);
    for (auto& m : src.GetObject())
      out.AddMember(rj::Value(m.name, alloc), copy_bounded(m.value, alloc, depth + 1),
                    alloc);
    return out;
  }
  if (src.IsArray()) {
    rj::Value out(rj::kArrayType);
    for (auto& e : src.GetArray())
      out.PushBack(copy_bounded(e, alloc, depth + 1), alloc);
    return out;
  }
  return rj::Value(src, alloc);
}

// -- fields kept from API objects ----------------------------------------------------

// One field warren keeps from an API object; `type` is its JSON Schema type. The
// same table drives the `columns` query, the shaping and the output schema.
struct field {
  const char* name;
  const char* type; // "string", "boolean", "integer", "number", "object"
  const char* description = nullptr;
};

using field_list = std::vector<field>;

bool has_type(const rj::Value& v, std::string_view type) {
  if (type == "string")
    return v.IsString();
  if (type == "boolean")
    return v.IsBool();
  if (type == "integer")
    return v.IsInt64() || v.IsUint64();
  if (type == "number")
    return v.IsNumber();
  if (type == "object")
    return v.IsObject();
  return !v.IsNull();
}

// Copies the listed fields that exist with the documented type; absent, null or
// oddly typed fields are left out so that the result always fits the output schema.
void pick_fields(const rj::Value& src, const field_list& fields, rj::Value& dst,
                 rj::Document::AllocatorType& alloc) {
  for (auto& f : fields) {
    auto value = member(src, f.name);
    if (value && has_type(*value, f.type))
      dst.AddMember(rj::StringRef(f.name), copy_bounded(*value, alloc), alloc);
  }
}

// Counters such as {"publish": 7, "publish_details": {"rate": 0.2}} become
// {"publish": 7, "publish_rate": 0.2}: the rate without the sample history.
void pick_stats(const rj::Value& src, const std::vector<const char*>& keys,
                rj::Value& dst, rj::Document::AllocatorType& alloc) {
  for (auto key : keys) {
    auto count = member(src, key);
    if (count && count->IsNumber())
      dst.AddMember(rj::StringRef(key), rj::Value(*count, alloc), alloc);
    auto details = member(src, (std::string{key} + "_details").c_str());
    auto rate = details ? member(*details, "rate") : nullptr;
    if (rate && rate->IsNumber())
      dst.AddMember(rj::Value(std::string{key} + "_rate", alloc),
                    rj::Value(*rate, alloc), alloc);
  }
}

std::string columns_of(const field_list& fields) {
  std::string out;
  for (auto& f : fields) {
    if (!out.empty())
      out += ',';
    out += f.name;
  }
  return out;
}

// JSON Schema "properties" members for the fields (without braces).
std::string properties_of(const field_list& fields) {
  rj::Document doc(rj::kObjectType);
  auto& alloc = doc.GetAllocator();
  for (auto& f : fields) {
    rj::Value prop(rj::kObjectType);
    prop.AddMember("type", rj::StringRef(f.type), alloc);
    if (f.description)
      prop.AddMember("description", rj::StringRef(f.description), alloc);
    doc.AddMember(rj::StringRef(f.name), prop, alloc);
  }
  auto text = to_json(doc);
  return text.substr(1, text.size() - 2);
}

const field_list& vhost_fields() {
  static const field_list fields{
      {"name", "string"},
      {"description", "string"},
      {"tracing", "boolean"},
      {"messages", "integer", "messages in all queues of the vhost"},
      {"messages_ready", "integer"},
      {"messages_unacknowledged", "integer"},
  };
  return fields;
}

const field_list& queue_list_fields() {
  static const field_list fields{
      {"name", "string"},
      {"vhost", "string"},
      {"type", "string", "classic, quorum or stream"},
      {"state", "string", "running, idle, flow, down, ..."},
      {"durable", "boolean"},
      {"auto_delete", "boolean"},
      {"exclusive", "boolean"},
      {"messages", "integer", "ready + unacknowledged"},
      {"messages_ready", "integer", "waiting to be delivered"},
      {"messages_unacknowledged", "integer", "delivered, not yet acknowledged"},
      {"consumers", "integer"},
      {"idle_since", "string", "when the queue last became idle"},
      {"arguments", "object", "x-arguments given at declaration"},
  };
  return fields;
}

// A queue in detail: what the list shows, and where it lives and what it costs.
const field_list& queue_detail_fields() {
  static const field_list fields = [] {
    auto all = queue_list_fields();
    all.insert(
        all.end(),
        {
            {"node", "string", "the node hosting the queue (leader)"},
            {"consumer_utilisation", "number",
             "share of time the queue could deliver to consumers at once (0..1)"},
            {"memory", "integer", "bytes"},
        });
    return all;
  }();
  return fields;
}

const field_list& exchange_fields() {
  static const field_list fields{
      {"name", "string", "empty for the default exchange"},
      {"vhost", "string"},
      {"type", "string", "direct, fanout, topic, headers, ..."},
      {"durable", "boolean"},
      {"auto_delete", "boolean"},
      {"internal", "boolean", "true if clients cannot publish to it directly"},
      {"arguments", "object"},
  };
  return fields;
}

const field_list& binding_fields() {
  static const field_list fields{
      {"source", "string", "the exchange messages come from (empty: default exchange)"},
      {"vhost", "string"},
      {"destination", "string"},
      {"destination_type", "string", "queue or exchange"},
      {"routing_key", "string"},
      {"arguments", "object"},
      {"properties_key", "string", "identifies the binding when deleting it"},
  };
  return fields;
}

const std::vector<const char*>& rate_keys() {
  static const std::vector<const char*> keys{"publish", "deliver_get", "ack",
                                             "redeliver"};
  return keys;
}

// -- schemas -------------------------------------------------------------------------

const char* page_properties =
    R"("page":{"type":"integer","minimum":1,"maximum":1000000,"default":1,)"
    R"("description":"Page number, starting at 1."},)"
    R"("page_size":{"type":"integer","minimum":1,"maximum":500,"default":100,)"
    R"("description":"Items per page (1 to 500, default 100)."})";

std::string name_filter_properties(const char* what) {
  return std::string{
             R"("name":{"type":"string","maxLength":255,"description":"Only )"} +
         what +
         R"( whose name contains this text (or matches it as a regular expression )"
         R"(when use_regex is true)."},)"
         R"("use_regex":{"type":"boolean","default":false,)"
         R"("description":"Treat 'name' as a regular expression (default false)."})";
}

std::string all_vhosts_property(const char* what) {
  return std::string{R"("vhost":{"type":"string","minLength":1,"maxLength":255,)"} +
         R"("description":"Virtual host, e.g. \"/\". Omit to list )" + what +
         R"( of every vhost the user may see."})";
}

const char* vhost_property =
    R"("vhost":{"type":"string","minLength":1,"maxLength":255,"default":"/",)"
    R"("description":"Virtual host (default \"/\")."})";

std::string object_schema(const std::string& properties,
                          const std::string& required = {}) {
  std::string out = R"({"type":"object","properties":{)" + properties + "}";
  if (!required.empty())
    out += R"(,"required":[)" + required + "]";
  return out + R"(,"additionalProperties":false})";
}

std::string page_output_schema(const field_list& fields) {
  return R"({"type":"object","properties":{"items":{"type":"array","items":{)"
         R"("type":"object","properties":{)" +
         properties_of(fields) +
         R"(}}},"page":{"type":"integer"},"page_size":{"type":"integer"},)"
         R"("page_count":{"type":"integer"},"total_count":{"type":"integer"},)"
         R"("filtered_count":{"type":"integer","description":"items matching the )"
         R"(name filter"},"note":{"type":"string","description":"set when the )"
         R"(requested page is beyond the last one"}},)"
         R"("required":["items","page","page_size"]})";
}

// -- the tool table ------------------------------------------------------------------

struct tool_spec;

using build_fn = void (*)(const tool_spec&, const rj::Value& args, operation& op);
using shape_fn = bool (*)(const tool_spec&, const rj::Value& body,
                          const rj::Value& args, rj::Document& out);
using message_fn = std::string (*)(const rj::Value& args);

// One tool. Adding a tool means adding one entry to tool_specs() and, when no
// existing function fits, a build or shape function.
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
};

// Cache keys are ':'-separated, so a ':' (and '%') inside a vhost or name is escaped
// to keep "{vhost}:{name}" unambiguous; "/" stays readable.
std::string key_part(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%')
      out += "%25";
    else if (c == ':')
      out += "%3A";
    else
      out += c;
  }
  return out;
}

std::string quoted(const std::string& text) {
  return "'" + text + "'";
}

std::vector<query_param> page_params(const rj::Value& args) {
  return {{"page", std::to_string(int_arg(args, "page", 1))},
          {"page_size", std::to_string(int_arg(args, "page_size", 100))}};
}

void add_name_filter(const rj::Value& args, std::vector<query_param>& params) {
  auto name = string_arg(args, "name");
  if (name.empty())
    return;
  params.push_back({"name", name});
  if (bool_arg(args, "use_regex"))
    params.push_back({"use_regex", "true"});
}

void build_overview(const tool_spec&, const rj::Value&, operation& op) {
  op.requests.front().target = "/api/overview";
  op.cache_key = "overview:get::";
}

// GET /api/{resource}[/{vhost}]?page=&page_size=[&name=&use_regex=]&columns=
void build_server_paged(const tool_spec& spec, const rj::Value& args, operation& op) {
  auto vhost = string_arg(args, "vhost");
  auto params = page_params(args);
  add_name_filter(args, params);
  auto key_query = query_string(params);
  params.push_back({"columns", columns_of(*spec.fields), ","});
  op.requests.front().target = std::string{"/api/"} + spec.resource;
  if (!vhost.empty())
    op.requests.front().target += "/" + percent_encode(vhost);
  op.requests.front().target += query_string(params);
  op.cache_key =
      std::string{spec.resource} + ":list:" + key_part(vhost) + ":" + key_query;
}

void build_get_queue(const tool_spec&, const rj::Value& args, operation& op) {
  auto vhost = string_arg(args, "vhost");
  auto name = string_arg(args, "name");
  op.requests.front().target =
      "/api/queues/" + percent_encode(vhost) + "/" + percent_encode(name);
  op.cache_key = "queues:get:" + key_part(vhost) + ":" + key_part(name);
}

// The bindings API does not paginate: the whole list is fetched and shape() pages it.
// All keys of one vhost share the prefix "bindings:list:{vhost}:" for invalidation.
void build_bindings(const tool_spec&, const rj::Value& args, operation& op) {
  auto vhost = percent_encode(string_arg(args, "vhost"));
  auto queue = string_arg(args, "queue");
  auto exchange = string_arg(args, "exchange");
  std::vector<query_param> key_params;
  if (!queue.empty()) {
    op.requests.front().target =
        "/api/queues/" + vhost + "/" + percent_encode(queue) + "/bindings";
    key_params.push_back({"queue", queue});
  } else if (!exchange.empty()) {
    op.requests.front().target =
        "/api/exchanges/" + vhost + "/" + percent_encode(exchange) + "/bindings/source";
    key_params.push_back({"exchange", exchange});
  } else {
    op.requests.front().target = "/api/bindings/" + vhost;
  }
  for (auto& p : page_params(args))
    key_params.push_back(std::move(p));
  op.cache_key = "bindings:list:" + key_part(string_arg(args, "vhost")) + ":" +
                 query_string(key_params);
}

std::string check_bindings(const rj::Value& args) {
  if (has_arg(args, "queue") && has_arg(args, "exchange"))
    return "give either 'queue' or 'exchange', not both";
  return {};
}

bool shape_overview(const tool_spec&, const rj::Value& body, const rj::Value&,
                    rj::Document& out) {
  if (!body.IsObject())
    return false;
  auto& alloc = out.GetAllocator();
  static const field_list scalars{{"rabbitmq_version", "string"},
                                  {"management_version", "string"},
                                  {"erlang_version", "string"},
                                  {"cluster_name", "string"},
                                  {"node", "string"},
                                  {"object_totals", "object"}};
  pick_fields(body, scalars, out, alloc);
  if (auto totals = member(body, "queue_totals"); totals && totals->IsObject()) {
    rj::Value dst(rj::kObjectType);
    pick_stats(*totals, {"messages", "messages_ready", "messages_unacknowledged"}, dst,
               alloc);
    out.AddMember("queue_totals", dst, alloc);
  }
  if (auto stats = member(body, "message_stats"); stats && stats->IsObject()) {
    rj::Value dst(rj::kObjectType);
    pick_stats(*stats, rate_keys(), dst, alloc);
    out.AddMember("message_stats", dst, alloc);
  }
  if (auto listeners = member(body, "listeners"); listeners && listeners->IsArray()) {
    static const field_list listener_fields{{"protocol", "string"},
                                            {"port", "integer"}};
    rj::Value dst(rj::kArrayType);
    for (auto& l : listeners->GetArray()) {
      rj::Value item(rj::kObjectType);
      pick_fields(l, listener_fields, item, alloc);
      dst.PushBack(item, alloc);
    }
    out.AddMember("listeners", dst, alloc);
  }
  return true;
}

bool shape_queue(const tool_spec& spec, const rj::Value& body, const rj::Value&,
                 rj::Document& out) {
  if (!body.IsObject())
    return false;
  auto& alloc = out.GetAllocator();
  pick_fields(body, *spec.fields, out, alloc);
  if (auto stats = member(body, "message_stats"); stats && stats->IsObject()) {
    rj::Value dst(rj::kObjectType);
    pick_stats(*stats, rate_keys(), dst, alloc);
    out.AddMember("message_stats", dst, alloc);
  }
  return true;
}

void add_count(rj::Document& out, const char* key, long long value) {
  out.AddMember(rj::StringRef(key), rj::Value(static_cast<int64_t>(value)),
                out.GetAllocator());
}

void add_beyond_last_note(rj::Document& out, long long page, long long page_count) {
  std::string note = "page " + std::to_string(page) + " is beyond the last page; ";
  note += page_count == 0 ? std::string{"there are no items"}
                          : "pages 1 to " + std::to_string(page_count) + " exist";
  out.AddMember("note", rj::Value(note, out.GetAllocator()), out.GetAllocator());
}

// A page of `items` (already shaped) plus the counts.
void start_page(rj::Document& out, rj::Value& items, long long page,
                long long page_size) {
  out.AddMember("items", items, out.GetAllocator());
  add_count(out, "page", page);
  add_count(out, "page_size", page_size);
}

// Pages a full array client-side, for APIs without pagination (bindings), with the
// same result shape as the API's own pages.
bool shape_client_paged(const tool_spec& spec, const rj::Value& body,
                        const rj::Value& args, rj::Document& out) {
  if (!body.IsArray())
    return false;
  auto& alloc = out.GetAllocator();
  auto page = int_arg(args, "page", 1);
  auto page_size = int_arg(args, "page_size", 100);
  auto total = static_cast<long long>(body.Size());
  auto pages = page_count_for(total, page_size);
  rj::Value items(rj::kArrayType);
  auto first = (page - 1) * page_size; // page ≤ 10^6, page_size ≤ 500: no overflow
  for (long long i = first; i < total && i < first + page_size; ++i) {
    rj::Value item(rj::kObjectType);
    pick_fields(body[static_cast<rj::SizeType>(i)], *spec.fields, item, alloc);
    items.PushBack(item, alloc);
  }
  start_page(out, items, page, page_size);
  add_count(out, "page_count", pages);
  add_count(out, "total_count", total);
  add_count(out, "filtered_count", total);
  if (page > 1 && page > pages)
    add_beyond_last_note(out, page, pages);
  return true;
}

// The API's own page: {"items":[...],"page","page_size","page_count","total_count",
// "filtered_count","item_count"}. A plain array (an API that ignored the paging
// parameters) is paged client-side instead.
bool shape_server_paged(const tool_spec& spec, const rj::Value& body,
                        const rj::Value& args, rj::Document& out) {
  if (body.IsArray())
    return shape_client_paged(spec, body, args, out);
  auto api_items = member(body, "items");
  if (!api_items || !api_items->IsArray())
    return false;
  auto& alloc = out.GetAllocator();
  rj::Value items(rj::kArrayType);
  for (auto& src : api_items->GetArray()) {
    rj::Value item(rj::kObjectType);
    pick_fields(src, *spec.fields, item, alloc);
    items.PushBack(item, alloc);
  }
  start_page(out, items, int_arg(body, "page", int_arg(args, "page", 1)),
             int_arg(body, "page_size", int_arg(args, "page_size", 100)));
  for (auto key : {"page_count", "total_count", "filtered_count"})
    if (auto v = member(body, key); v && v->IsInt64())
      add_count(out, key, v->GetInt64());
  return true;
}

std::string vhost_not_found(const rj::Value& args) {
  return "vhost " + quoted(string_arg(args, "vhost")) +
         " was not found. Use list_vhosts to see which vhosts exist.";
}

std::string queue_not_found_named(const std::string& queue, const rj::Value& args) {
  return "queue " + quoted(queue) + " was not found in vhost " +
         quoted(string_arg(args, "vhost")) +
         ". Use list_queues to see which queues exist.";
}

std::string api_path_not_found(const rj::Value&) {
  return "the management API answered 404 for a path every RabbitMQ management plugin "
         "serves. Check that RABBITMQ_MANAGEMENT_URL points at the management plugin "
         "(e.g. http://host:15672).";
}

std::string list_not_found(const rj::Value& args) {
  return has_arg(args, "vhost") ? vhost_not_found(args) : api_path_not_found(args);
}

std::string queue_not_found(const rj::Value& args) {
  return queue_not_found_named(string_arg(args, "name"), args);
}

std::string bindings_not_found(const rj::Value& args) {
  if (has_arg(args, "queue"))
    return queue_not_found_named(string_arg(args, "queue"), args);
  if (has_arg(args, "exchange"))
    return "exchange " + quoted(string_arg(args, "exchange")) +
           " was not found in vhost " + quoted(string_arg(args, "vhost")) +
           ". Use list_exchanges to see which exchanges exist.";
  return vhost_not_found(args);
}

const std::vector<tool_spec>& tool_specs() {
  static const std::vector<tool_spec> specs = [] {
    std::vector<tool_spec> s;
    s.push_back(tool_spec{
        "overview",
        "Cluster overview",
        "Summarise the RabbitMQ cluster: versions, cluster and node name, object "
        "counts (queues, exchanges, connections, channels, consumers), total messages "
        "ready and unacknowledged, message rates and listeners. Use it first to check "
        "that the broker is reachable and healthy, or for the big picture before "
        "looking at single queues.",
        object_schema(""),
        R"({"type":"object","properties":{)"
        R"("rabbitmq_version":{"type":"string"},"management_version":{"type":"string"},)"
        R"("erlang_version":{"type":"string"},"cluster_name":{"type":"string"},)"
        R"("node":{"type":"string"},)"
        R"("object_totals":{"type":"object","description":"counts of queues, )"
        R"(exchanges, connections, channels, consumers"},)"
        R"("queue_totals":{"type":"object","description":"messages, messages_ready, )"
        R"(messages_unacknowledged and their *_rate per second"},)"
        R"("message_stats":{"type":"object","description":"publish, deliver_get, ack, )"
        R"(redeliver counts and their *_rate per second, when there was traffic"},)"
        R"("listeners":{"type":"array","items":{"type":"object","properties":{)"
        R"("protocol":{"type":"string"},"port":{"type":"integer"}}}}}})",
        build_overview,
        shape_overview,
        api_path_not_found,
    });
    s.push_back(tool_spec{
        "list_vhosts",
        "List virtual hosts",
        "List the virtual hosts with their message counts, one page at a time. Use it "
        "to learn which vhost names exist before passing 'vhost' to other tools.",
        object_schema(std::string{page_properties} + "," +
                      name_filter_properties("vhosts")),
        page_output_schema(vhost_fields()),
        build_server_paged,
        shape_server_paged,
        api_path_not_found,
        nullptr,
        "vhosts",
        &vhost_fields(),
        true,
    });
    s.push_back(tool_spec{
        "list_queues",
        "List queues",
        "List queues (name, vhost, type, state, durability, message counts, consumers, "
        "idle time), one page at a time. Use it to find queues, spot backlogs "
        "(messages_ready) or queues without consumers. Omit 'vhost' to search every "
        "vhost; narrow with 'name' (substring, or a regular expression with "
        "use_regex). For one queue in detail use get_queue.",
        object_schema(all_vhosts_property("queues") + "," + page_properties + "," +
                      name_filter_properties("queues")),
        page_output_schema(queue_list_fields()),
        build_server_paged,
        shape_server_paged,
        list_not_found,
        nullptr,
        "queues",
        &queue_list_fields(),
        true,
    });
    s.push_back(tool_spec{
        "get_queue",
        "Get one queue",
        "Show one queue in detail: type, state, node, arguments, message counts "
        "(ready, unacknowledged), consumers and their utilisation, memory, idle time "
        "and message rates. Use it when you know the queue's name (list_queues finds "
        "it) and need to diagnose it.",
        object_schema(R"("name":{"type":"string","minLength":1,"maxLength":255,)"
                      R"("description":"The queue's name."},)" +
                          std::string{vhost_property},
                      R"("name")"),
        R"({"type":"object","properties":{)" + properties_of(queue_detail_fields()) +
            R"(,"message_stats":{"type":"object","description":"publish, )"
            R"(deliver_get, ack, redeliver counts and their *_rate per second, when )"
            R"(there was traffic"}}})",
        build_get_queue,
        shape_queue,
        queue_not_found,
        nullptr,
        "queues",
        &queue_detail_fields(),
    });
    s.push_back(tool_spec{
        "list_exchanges",
        "List exchanges",
        "List exchanges (name, vhost, type, durability, internal flag, arguments), one "
        "page at a time. Use it to see where messages can be published and how they "
        "can be routed. The default exchange has an empty name. Omit 'vhost' to list "
        "every vhost; narrow with 'name'.",
        object_schema(all_vhosts_property("exchanges") + "," + page_properties + "," +
                      name_filter_properties("exchanges")),
        page_output_schema(exchange_fields()),
        build_server_paged,
        shape_server_paged,
        list_not_found,
        nullptr,
        "exchanges",
        &exchange_fields(),
        true,
    });
    s.push_back(tool_spec{
        "list_bindings",
        "List bindings",
        "List bindings (source exchange, destination queue or exchange, routing key, "
        "arguments) of a vhost, one page at a time. Give 'queue' for the bindings of "
        "one queue, or 'exchange' for those whose source is one exchange (not both). "
        "Use it to understand why messages do or do not reach a queue.",
        object_schema(
            std::string{vhost_property} +
            R"(,"queue":{"type":"string","minLength":1,"maxLength":255,)"
            R"("description":"Only bindings to this queue."},)"
            R"("exchange":{"type":"string","minLength":1,"maxLength":255,)"
            R"("description":"Only bindings whose source is this exchange."},)" +
            page_properties),
        page_output_schema(binding_fields()),
        build_bindings,
        shape_client_paged,
        bindings_not_found,
        check_bindings,
        "bindings",
        &binding_fields(),
        true,
    });
    return s;
  }();
  return specs;
}

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

// Turns RapidJSON's verdict (keyword + where in the arguments) into a sentence that
// names the argument, using the tool's own schema for the limits.
std::string describe_violation(const rj::Value& schema, const rj::Value& args,
                               std::string_view keyword, const std::string& arg) {
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
  auto limit = [&](const char* key) { return prop ? member(*prop, key) : nullptr; };
  if (keyword == "type")
    return quoted(arg) + " must be " + type_phrase(limit("type"));
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
  if (keyword == "enum")
    return quoted(arg) + " must be one of " + to_json(*limit("enum"));
  return quoted(arg) + " does not fit the schema ('" + std::string{keyword} + "')";
}

// -- results -------------------------------------------------------------------------

// {"content":[{"type":"text","text":<text>}],"structuredContent":<text>,"isError":..}
// where structuredContent is present only for a structured result (then `text` is
// its JSON).
tool_result text_result(std::string_view text, bool structured, bool is_error) {
  rj::StringBuffer buf;
  rj::Writer<rj::StringBuffer> w(buf);
  w.StartObject();
  w.Key("content");
  w.StartArray();
  w.StartObject();
  w.Key("type");
  w.String("text");
  w.Key("text");
  w.String(text.data(), static_cast<rj::SizeType>(text.size()));
  w.EndObject();
  w.EndArray();
  if (structured) {
    w.Key("structuredContent");
    w.RawValue(text.data(), text.size(), rj::kObjectType);
  }
  w.Key("isError");
  w.Bool(is_error);
  w.EndObject();
  return {is_error, std::string{buf.GetString(), buf.GetSize()}};
}

tool_result success(const rj::Value& structured) {
  return text_result(to_json(structured), true, false);
}

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

} // namespace

// -- the catalog ---------------------------------------------------------------------

struct tool_catalog::impl {
  struct entry {
    const tool_spec* spec = nullptr;
    rj::Document input_schema; ///< outlives `validator_schema`, which was built from it
    std::unique_ptr<rj::SchemaDocument> validator_schema;
    std::string json;
  };
  catalog_options options;
  std::vector<std::unique_ptr<entry>> tools;
  std::map<std::string, std::size_t, std::less<>> by_name;

  const entry* find(std::string_view name) const {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : tools[it->second].get();
  }
};

tool_catalog::tool_catalog(catalog_options options) : impl_(std::make_unique<impl>()) {
  impl_->options = std::move(options);
  for (auto& spec : tool_specs()) {
    auto e = std::make_unique<impl::entry>();
    e->spec = &spec;
    e->input_schema.Parse(spec.input_schema);
    e->validator_schema = std::make_unique<rj::SchemaDocument>(e->input_schema);
    rj::Document tool(rj::kObjectType);
    auto& alloc = tool.GetAllocator();
    rj::Document output;
    output.Parse(spec.output_schema);
    tool.AddMember("name", rj::StringRef(spec.name), alloc);
    tool.AddMember("title", rj::StringRef(spec.title), alloc);
    tool.AddMember("description", rj::StringRef(spec.description), alloc);
    tool.AddMember("inputSchema", rj::Value(e->input_schema, alloc), alloc);
    tool.AddMember("outputSchema", rj::Value(output, alloc), alloc);
    rj::Value hints(rj::kObjectType);
    hints.AddMember("title", rj::StringRef(spec.title), alloc);
    hints.AddMember("readOnlyHint", spec.hints.read_only, alloc);
    hints.AddMember("destructiveHint", spec.hints.destructive, alloc);
    hints.AddMember("idempotentHint", spec.hints.idempotent, alloc);
    hints.AddMember("openWorldHint", spec.hints.open_world, alloc);
    tool.AddMember("annotations", hints, alloc);
    e->json = to_json(tool);
    impl_->by_name.emplace(spec.name, impl_->tools.size());
    impl_->tools.push_back(std::move(e));
  }
}

tool_catalog::~tool_catalog() = default;

std::size_t tool_catalog::size() const {
  return impl_->tools.size();
}

const std::string& tool_catalog::tool_json(std::size_t index) const {
  static const std::string none;
  return index < impl_->tools.size() ? impl_->tools[index]->json : none;
}

bool tool_catalog::contains(std::string_view name) const {
  return impl_->find(name) != nullptr;
}

caf::expected<operation> tool_catalog::prepare(std::string_view name,
                                               std::string_view arguments_json) const {
  auto e = impl_->find(name);
  if (!e)
    return make_error(ec::unknown_tool,
                      "unknown tool " + quoted(sanitize_utf8(clip_utf8(name, 100))) +
                          "; tools/list shows the available tools");
  auto& spec = *e->spec;
  auto invalid = [&](const std::string& what) {
    return make_error(ec::invalid_params,
                      std::string{"invalid arguments for "} + spec.name + ": " + what);
  };
  auto first = arguments_json.find_first_not_of(" \t\r\n");
  auto text = first == std::string_view::npos ? std::string_view{}
                                              : arguments_json.substr(first);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' ||
                           text.back() == '\r' || text.back() == '\n'))
    text.remove_suffix(1);
  if (text.empty() || text == "null")
    text = "{}";
  rj::Document args;
  args.Parse<parse_flags>(text.data(), text.size());
  if (args.HasParseError())
    return invalid("not valid JSON (" +
                   std::string{rj::GetParseError_En(args.GetParseError())} +
                   " at offset " + std::to_string(args.GetErrorOffset()) + ")");
  if (!args.IsObject())
    return invalid("arguments must be a JSON object");
  if (depth_of(args) > max_depth)
    return invalid("arguments are nested too deeply");
  rj::SchemaValidator validator(*e->validator_schema);
  if (!args.Accept(validator)) {
    auto pointer = validator.GetInvalidDocumentPointer();
    std::string arg;
    if (pointer.GetTokenCount() > 0) {
      auto& token = pointer.GetTokens()[0];
      arg = sanitize_utf8(clip_utf8({token.name, token.length}, 100));
    }
    return invalid(describe_violation(e->input_schema, args,
                                      validator.GetInvalidSchemaKeyword(), arg));
  }
  // JSON Schema counts characters; AMQP short strings are limited in bytes.
  for (auto key : {"vhost", "name", "queue", "exchange"})
    if (auto v = member(args, key);
        v && v->IsString() && v->GetStringLength() > max_name_bytes)
      return invalid(quoted(key) + " must be at most 255 bytes long");
  if (spec.check)
    if (auto problem = spec.check(args); !problem.empty())
      return invalid(problem);
  // The validator does not fill in defaults; the schema's are applied here so that
  // building, caching and shaping all see the same complete arguments.
  auto& alloc = args.GetAllocator();
  if (auto props = member(e->input_schema, "properties"))
    for (auto& p : props->GetObject())
      if (auto def = member(p.value, "default"); def && !args.HasMember(p.name))
        args.AddMember(rj::Value(p.name, alloc), rj::Value(*def, alloc), alloc);
  operation op;
  op.tool = spec.name;
  op.idempotent = spec.hints.idempotent;
  op.writes = !spec.hints.read_only;
  op.requests.emplace_back();
  spec.build(spec, args, op);
  op.arguments_json = to_json(args);
  return op;
}

std::optional<tool_result> tool_catalog::review(const operation&,
                                                const http_response&) const {
  return std::nullopt;
}

tool_result tool_catalog::shape_amqp(const operation& op, const amqp_response&) const {
  return failure("internal error: " + quoted(op.tool) + " does not use AMQP");
}

tool_result tool_catalog::shape(const operation& op,
                                const std::vector<http_response>& responses) const {
  if (responses.empty())
    return failure("internal error: no answer for " + quoted(op.tool));
  const auto& response = responses.front();
  auto e = impl_->find(op.tool);
  if (!e)
    return failure("internal error: no tool named " + quoted(op.tool));
  auto& spec = *e->spec;
  rj::Document args;
  args.Parse<parse_flags>(op.arguments_json.data(), op.arguments_json.size());
  if (args.HasParseError() || !args.IsObject())
    args.SetObject();
  auto status = response.status;
  if (status >= 200 && status < 300) {
    rj::Document body;
    body.Parse<parse_flags>(response.body.data(), response.body.size());
    rj::Document out(rj::kObjectType);
    if (body.HasParseError() || !spec.shape(spec, body, args, out))
      return failure(unexpected_answer(status));
    return success(out);
  }
  auto err = read_api_error(response.body);
  if (spec.paged && status == 400 && err.error == "page_out_of_range")
    return out_of_range_page(args, err);
  return failure(error_message(spec, args, status, err));
}

tool_result tool_catalog::failure(std::string_view message) {
  return text_result(sanitize_utf8(message), false, true);
}

} // namespace warren
