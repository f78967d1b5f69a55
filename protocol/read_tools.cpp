#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

#include "protocol/json_text.hpp"
#include "protocol/management_api.hpp"
#include "protocol/tool_spec.hpp"

namespace warren::tools {

namespace {

// -- fields kept from API objects ----------------------------------------------------

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

// What find_queues asks for: enough to filter, sort and point at the queue.
const field_list& queue_scan_fields() {
  static const field_list fields{
      {"name", "string"},
      {"vhost", "string"},
      {"type", "string"},
      {"state", "string"},
      {"messages", "integer", "ready + unacknowledged"},
      {"messages_ready", "integer"},
      {"consumers", "integer"},
      {"idle_since", "string", "when the queue last became idle (absent: active)"},
  };
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

const field_list& connection_fields() {
  static const field_list fields{
      {"name", "string", "the connection's name in the management API"},
      {"connection_name", "string", "the name the client gave itself, if any",
       "client_properties.connection_name"},
      {"user", "string"},
      {"vhost", "string"},
      {"host", "string", "the broker's address"},
      {"peer_host", "string", "the client's address"},
      {"peer_port", "integer"},
      {"protocol", "string", "e.g. AMQP 0-9-1"},
      {"channels", "integer"},
      {"state", "string", "running, blocked, blocking, flow, closed"},
      {"connected_at", "integer", "milliseconds since the epoch"},
  };
  return fields;
}

const field_list& consumer_fields() {
  static const field_list fields{
      {"queue", "string", "the queue consumed from", "queue.name"},
      {"vhost", "string", nullptr, "queue.vhost"},
      {"consumer_tag", "string"},
      {"connection_name", "string", "the connection the consumer uses",
       "channel_details.connection_name"},
      {"channel", "string", "the channel the consumer uses", "channel_details.name"},
      {"ack_required", "boolean", "false: messages count as handled once sent"},
      {"prefetch_count", "integer", "unacknowledged messages allowed (0: no limit)"},
      {"active", "boolean", "false while a single-active-consumer waits its turn"},
      {"exclusive", "boolean"},
  };
  return fields;
}

const field_list& node_fields() {
  static const field_list fields{
      {"name", "string"},
      {"type", "string", "disc or ram"},
      {"running", "boolean"},
      {"mem_used", "integer", "bytes"},
      {"mem_limit", "integer", "bytes; publishers block above it"},
      {"mem_alarm", "boolean", "true: the memory alarm blocks publishers"},
      {"disk_free", "integer", "bytes"},
      {"disk_free_limit", "integer", "bytes; publishers block below it"},
      {"disk_free_alarm", "boolean", "true: the disk alarm blocks publishers"},
      {"fd_used", "integer", "file descriptors in use"},
      {"fd_total", "integer"},
      {"uptime", "integer", "milliseconds"},
      {"partitions", "array", "nodes this node cannot reach (network partition)"},
  };
  return fields;
}

const std::vector<const char*>& queue_rate_keys() {
  static const std::vector<const char*> keys{"publish", "deliver_get", "ack",
                                             "redeliver"};
  return keys;
}

const std::vector<const char*>& exchange_rate_keys() {
  static const std::vector<const char*> keys{"publish_in", "publish_out"};
  return keys;
}

// -- requests ------------------------------------------------------------------------

void get(operation& op, std::string target) {
  op.requests.push_back(http_request{"GET", std::move(target), {}});
}

// "/api/{resource}" or "/api/{resource}/{vhost}" when a vhost is given.
std::string collection(const char* resource, const std::string& vhost) {
  auto target = std::string{"/api/"} + resource;
  return vhost.empty() ? target : target + "/" + percent_encode(vhost);
}

void build_overview(const tool_spec&, const rj::Value&, operation& op) {
  get(op, "/api/overview");
  op.cache_key = "overview:get::";
}

void add_name_filter(const rj::Value& args, std::vector<query_param>& params) {
  auto name = string_arg(args, "name");
  if (name.empty())
    return;
  params.push_back({"name", name});
  if (bool_arg(args, "use_regex"))
    params.push_back({"use_regex", "true"});
}

// GET /api/{resource}[/{vhost}]?page=&page_size=[&name=&use_regex=]&columns=
void build_server_paged(const tool_spec& spec, const rj::Value& args, operation& op) {
  auto vhost = string_arg(args, "vhost");
  auto params = page_params(args);
  add_name_filter(args, params);
  auto fields = chosen_fields(*spec.fields, args);
  bool some = fields.size() < spec.fields->size();
  if (some) // part of the fields is a result of its own, cached under its own key
    params.push_back({"columns", columns_of(fields), ","});
  auto key_query = query_string(params);
  if (!some)
    params.push_back({"columns", columns_of(fields), ","});
  get(op, collection(spec.resource, vhost) + query_string(params));
  op.cache_key =
      std::string{spec.resource} + ":list:" + key_part(vhost) + ":" + key_query;
}

// GET /api/{resource}[/{vhost}] of an API without pagination; shape() pages it.
void build_client_paged(const tool_spec& spec, const rj::Value& args, operation& op) {
  auto vhost = string_arg(args, "vhost");
  get(op, collection(spec.resource, vhost));
  op.cache_key = std::string{spec.resource} + ":list:" + key_part(vhost) + ":" +
                 query_string(page_params(args));
}

// GET /api/{resource}/{vhost}/{name}; the default exchange answers to "amq.default".
void build_get_one(const tool_spec& spec, const rj::Value& args, operation& op) {
  auto vhost = string_arg(args, "vhost");
  auto name = string_arg(args, "name");
  auto path_name = name.empty() ? std::string{"amq.default"} : name;
  get(op, std::string{"/api/"} + spec.resource + "/" + percent_encode(vhost) + "/" +
              percent_encode(path_name));
  op.cache_key =
      std::string{spec.resource} + ":get:" + key_part(vhost) + ":" + key_part(name);
}

// The bindings API does not paginate: the whole list is fetched and shape() pages it.
// All keys of one vhost share the prefix "bindings:list:{vhost}:" for invalidation.
void build_bindings(const tool_spec&, const rj::Value& args, operation& op) {
  auto vhost = percent_encode(string_arg(args, "vhost"));
  auto queue = string_arg(args, "queue");
  auto exchange = string_arg(args, "exchange");
  std::vector<query_param> key_params;
  if (!queue.empty()) {
    get(op, "/api/queues/" + vhost + "/" + percent_encode(queue) + "/bindings");
    key_params.push_back({"queue", queue});
  } else if (!exchange.empty()) {
    get(op, "/api/exchanges/" + vhost + "/" + percent_encode(exchange) +
                "/bindings/source");
    key_params.push_back({"exchange", exchange});
  } else {
    get(op, "/api/bindings/" + vhost);
  }
  for (auto& p : page_params(args))
    key_params.push_back(std::move(p));
  op.cache_key = "bindings:list:" + key_part(string_arg(args, "vhost")) + ":" +
                 query_string(key_params);
}

void build_nodes(const tool_spec&, const rj::Value&, operation& op) {
  get(op, "/api/nodes");
  op.cache_key = "nodes:list::";
}

const char* const health_checks[] = {"alarms", "local-alarms",
                                     "node-is-quorum-critical"};

// Not cached (no cache_key): a health check must look at the broker now.
void build_health(const tool_spec&, const rj::Value&, operation& op) {
  for (auto check : health_checks)
    get(op, std::string{"/api/health/checks/"} + check);
}

// One unpaged GET with minimal columns; shape() filters and sorts. The key lives
// under "queues:find:{vhost}:", invalidated with the queue lists.
void build_find_queues(const tool_spec&, const rj::Value& args, operation& op) {
  auto vhost = string_arg(args, "vhost");
  get(op, collection("queues", vhost) +
              query_string({{"columns", columns_of(queue_scan_fields()), ","}}));
  std::vector<query_param> key_params;
  for (auto key : {"min_messages", "max_consumers", "idle_seconds", "limit"})
    if (has_arg(args, key))
      key_params.push_back({key, std::to_string(int_arg(args, key, 0))});
  op.cache_key = "queues:find:" + key_part(vhost) + ":" + query_string(key_params);
}

std::string check_bindings(const rj::Value& args) {
  if (has_arg(args, "queue") && has_arg(args, "exchange"))
    return "give either 'queue' or 'exchange', not both";
  return {};
}

// -- shaping -------------------------------------------------------------------------

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
    pick_stats(*stats, queue_rate_keys(), dst, alloc);
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

// One object's fields plus the rates of its message_stats.
bool shape_with_rates(const tool_spec& spec, const rj::Value& body,
                      const std::vector<const char*>& rates, rj::Document& out) {
  if (!body.IsObject())
    return false;
  auto& alloc = out.GetAllocator();
  pick_fields(body, *spec.fields, out, alloc);
  if (auto stats = member(body, "message_stats"); stats && stats->IsObject()) {
    rj::Value dst(rj::kObjectType);
    pick_stats(*stats, rates, dst, alloc);
    out.AddMember("message_stats", dst, alloc);
  }
  return true;
}

bool shape_queue(const tool_spec& spec, const rj::Value& body, const rj::Value&,
                 rj::Document& out) {
  return shape_with_rates(spec, body, queue_rate_keys(), out);
}

bool shape_exchange(const tool_spec& spec, const rj::Value& body, const rj::Value&,
                    rj::Document& out) {
  return shape_with_rates(spec, body, exchange_rate_keys(), out);
}

// Every item of an unpaged array (nodes: a handful).
bool shape_all_items(const tool_spec& spec, const rj::Value& body, const rj::Value&,
                     rj::Document& out) {
  if (!body.IsArray())
    return false;
  auto& alloc = out.GetAllocator();
  rj::Value items(rj::kArrayType);
  for (auto& src : body.GetArray()) {
    rj::Value item(rj::kObjectType);
    pick_fields(src, *spec.fields, item, alloc);
    items.PushBack(item, alloc);
  }
  out.AddMember("items", items, alloc);
  return true;
}

// Each check answers 200 {"status":"ok"} or 503 {"status":"failed","reason":...}.
bool shape_health(const tool_spec&, const std::vector<http_response>& answers,
                  const rj::Value&, rj::Document& out) {
  auto& alloc = out.GetAllocator();
  rj::Value checks(rj::kArrayType);
  bool healthy = true;
  for (std::size_t i = 0; i < answers.size() && i < std::size(health_checks); ++i) {
    rj::Document body;
    body.Parse<parse_flags>(answers[i].body.data(), answers[i].body.size());
    auto ok = answers[i].status >= 200 && answers[i].status < 300;
    healthy = healthy && ok;
    rj::Value check(rj::kObjectType);
    check.AddMember("name", rj::StringRef(health_checks[i]), alloc);
    check.AddMember("ok", ok, alloc);
    auto reason = body.HasParseError() ? std::string{} : string_arg(body, "reason");
    if (!ok && reason.empty())
      reason = "HTTP " + std::to_string(answers[i].status);
    if (!reason.empty())
      check.AddMember("reason", rj::Value(clip_utf8(reason, 1000), alloc), alloc);
    checks.PushBack(check, alloc);
  }
  out.AddMember("healthy", healthy, alloc);
  out.AddMember("checks", checks, alloc);
  return true;
}

// Seconds since the epoch of an idle_since stamp: "2024-05-02T07:06:39.680+00:00"
// (3.10 and later) or "2024-05-02 7:06:39" (UTC, older releases).
std::optional<long long> epoch_seconds(const std::string& stamp) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, n = 0;
  if (std::sscanf(stamp.c_str(), "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h,
                  &mi, &s, &n) < 6 ||
      mo < 1 || mo > 12 || d < 1 || d > 31)
    return std::nullopt;
  // Days from civil (proleptic Gregorian), as in Howard Hinnant's date algorithms.
  y -= mo <= 2;
  long long era = (y >= 0 ? y : y - 399) / 400;
  long long yoe = y - era * 400;
  long long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  long long seconds = (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + s;
  auto rest = std::string_view{stamp}.substr(static_cast<std::size_t>(n));
  while (!rest.empty() &&
         (rest.front() == '.' || (rest.front() >= '0' && rest.front() <= '9')))
    rest.remove_prefix(1);
  int oh = 0, om = 0;
  char sign = 0;
  if (rest.size() >= 6 &&
      std::sscanf(std::string{rest}.c_str(), "%c%2d:%2d", &sign, &oh, &om) == 3 &&
      (sign == '+' || sign == '-'))
    seconds -= (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  return seconds;
}

// Filters and sorts the scan. The idle test reads the wall clock: idle_since is an
// absolute time, and "idle for at least N seconds" is only meaningful against now.
bool shape_find_queues(const tool_spec&, const rj::Value& body, const rj::Value& args,
                       rj::Document& out) {
  if (!body.IsArray())
    return false;
  auto& alloc = out.GetAllocator();
  auto min_messages = int_arg(args, "min_messages", 0);
  auto max_consumers = int_arg(args, "max_consumers", -1);
  auto idle_seconds = int_arg(args, "idle_seconds", 0);
  auto limit = static_cast<std::size_t>(int_arg(args, "limit", 50));
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  struct hit {
    const rj::Value* queue;
    long long messages;
    std::optional<long long> idle;
  };
  std::vector<hit> hits;
  for (auto& q : body.GetArray()) {
    auto messages = int_arg(q, "messages", 0);
    if (messages < min_messages)
      continue;
    if (max_consumers >= 0 && int_arg(q, "consumers", 0) > max_consumers)
      continue;
    std::optional<long long> idle;
    if (auto since = epoch_seconds(string_arg(q, "idle_since")))
      idle = std::max(0LL, now - *since);
    if (idle_seconds > 0 && (!idle || *idle < idle_seconds))
      continue;
    hits.push_back({&q, messages, idle});
  }
  std::stable_sort(hits.begin(), hits.end(), [](const hit& a, const hit& b) {
    if (a.messages != b.messages)
      return a.messages > b.messages;
    auto av = string_arg(*a.queue, "vhost"), bv = string_arg(*b.queue, "vhost");
    return av != bv ? av < bv
                    : string_arg(*a.queue, "name") < string_arg(*b.queue, "name");
  });
  rj::Value items(rj::kArrayType);
  for (std::size_t i = 0; i < hits.size() && i < limit; ++i) {
    rj::Value item(rj::kObjectType);
    pick_fields(*hits[i].queue, queue_scan_fields(), item, alloc);
    if (hits[i].idle)
      item.AddMember("idle_seconds", rj::Value(static_cast<int64_t>(*hits[i].idle)),
                     alloc);
    items.PushBack(item, alloc);
  }
  out.AddMember("items", items, alloc);
  add_count(out, "matched", static_cast<long long>(hits.size()));
  add_count(out, "scanned", static_cast<long long>(body.Size()));
  out.AddMember("truncated", hits.size() > limit, alloc);
  return true;
}

// -- messages ------------------------------------------------------------------------

std::string list_not_found(const rj::Value& args) {
  return has_arg(args, "vhost") ? vhost_not_found(args) : api_path_not_found(args);
}

std::string bindings_not_found(const rj::Value& args) {
  if (has_arg(args, "queue"))
    return queue_not_found_named(string_arg(args, "queue"), args);
  if (has_arg(args, "exchange"))
    return exchange_not_found_named(string_arg(args, "exchange"), args);
  return vhost_not_found(args);
}

std::string health_not_found(const rj::Value& args) {
  return "the management API has no health check endpoints (RabbitMQ 3.8.10 or "
         "later serves them). " +
         api_path_not_found(args);
}

// -- schemas -------------------------------------------------------------------------

const char* const rates_property =
    R"("message_stats":{"type":"object","description":"message counts and their )"
    R"(*_rate per second, when there was traffic"})";

std::string items_output_schema(const field_list& fields) {
  return R"({"type":"object","properties":{"items":{"type":"array","items":{)"
         R"("type":"object","properties":{)" +
         properties_of(fields) + R"(}}}},"required":["items"]})";
}

} // namespace

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

const spec_list& read_tool_specs() {
  static const spec_list specs = [] {
    spec_list s;
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
                      name_filter_properties("vhosts") + "," +
                      columns_property(vhost_fields())),
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
        "use_regex). For one queue in detail use get_queue; to find queues by backlog, "
        "consumers or idle time use find_queues.",
        object_schema(all_vhosts_property("queues") + "," + page_properties + "," +
                      name_filter_properties("queues") + "," +
                      columns_property(queue_list_fields())),
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
        object_schema(name_property("name", "The queue's name.") + "," + vhost_property,
                      R"("name")"),
        R"({"type":"object","properties":{)" + properties_of(queue_detail_fields()) +
            "," + rates_property + "}}",
        build_get_one,
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
                      name_filter_properties("exchanges") + "," +
                      columns_property(exchange_fields())),
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
    s.push_back(tool_spec{
        "find_queues",
        "Find queues by backlog, consumers or idle time",
        "Find the queues that need attention: those holding at least 'min_messages' "
        "messages, with at most 'max_consumers' consumers (0: none), idle for at least "
        "'idle_seconds', in one vhost or all; the biggest backlog first, up to "
        "'limit'. It scans every queue of the vhost (or of the broker) in one request, "
        "so prefer a vhost on brokers with very many queues. Counts are the broker's "
        "statistics, which lag a few seconds.",
        object_schema(
            all_vhosts_property("queues") +
            R"(,"min_messages":{"type":"integer","minimum":0,"default":0,)"
            R"("description":"Only queues with at least this many messages (ready + )"
            R"(unacknowledged)."},)"
            R"("max_consumers":{"type":"integer","minimum":0,"description":"Only )"
            R"(queues with at most this many consumers; 0 finds queues nobody )"
            R"(consumes from."},)"
            R"("idle_seconds":{"type":"integer","minimum":0,"description":"Only )"
            R"(queues idle (no deliveries, publishes or consumers' activity) for at )"
            R"(least this long."},)"
            R"("limit":{"type":"integer","minimum":1,"maximum":500,"default":50,)"
            R"("description":"Most queues returned (1 to 500, default 50)."})"),
        R"({"type":"object","properties":{"items":{"type":"array","items":{)"
        R"("type":"object","properties":{)" +
            properties_of(queue_scan_fields()) +
            R"(,"idle_seconds":{"type":"integer","description":"seconds since the )"
            R"(queue became idle"}}}},"matched":{"type":"integer","description":)"
            R"("queues matching the filters"},"scanned":{"type":"integer"},)"
            R"("truncated":{"type":"boolean","description":"more matched than )"
            R"('limit'"}},"required":["items","matched","scanned","truncated"]})",
        build_find_queues,
        shape_find_queues,
        list_not_found,
        nullptr,
        "queues",
        &queue_scan_fields(),
    });
    s.push_back(tool_spec{
        "get_exchange",
        "Get one exchange",
        "Show one exchange: type, durability, internal flag, arguments and its "
        "publish rates in and out. Use it to check how an exchange routes before "
        "publishing to it or binding to it; list_bindings with 'exchange' shows where "
        "it routes to. An empty name means the default exchange.",
        object_schema(R"("name":{"type":"string","maxLength":255,"description":)"
                      R"("The exchange's name (\"\" for the default exchange)."},)" +
                          std::string{vhost_property},
                      R"("name")"),
        R"({"type":"object","properties":{)" + properties_of(exchange_fields()) + "," +
            rates_property + "}}",
        build_get_one,
        shape_exchange,
        exchange_not_found,
        nullptr,
        "exchanges",
        &exchange_fields(),
    });
    s.push_back(tool_spec{
        "list_connections",
        "List client connections",
        "List the client connections (user, vhost, client address, protocol, channels, "
        "state, when connected, the name the client gave itself), one page at a time. "
        "Use it to see who is connected, find a blocked publisher (state 'blocked') "
        "or trace a consumer back to its application. Narrow with 'name'.",
        object_schema(std::string{page_properties} + "," +
                      name_filter_properties("connections") + "," +
                      columns_property(connection_fields())),
        page_output_schema(connection_fields()),
        build_server_paged,
        shape_server_paged,
        api_path_not_found,
        nullptr,
        "connections",
        &connection_fields(),
        true,
    });
    s.push_back(tool_spec{
        "list_consumers",
        "List consumers",
        "List the consumers (queue, consumer tag, connection, acknowledgement mode, "
        "prefetch, active flag) of one vhost or all, one page at a time. Use it to see "
        "who consumes from which queue and with what prefetch, e.g. when a queue "
        "grows although it has consumers.",
        object_schema(all_vhosts_property("consumers") + "," + page_properties),
        page_output_schema(consumer_fields()),
        build_client_paged,
        shape_client_paged,
        list_not_found,
        nullptr,
        "consumers",
        &consumer_fields(),
        true,
    });
    s.push_back(tool_spec{
        "list_nodes",
        "List cluster nodes",
        "List the cluster's nodes with their resource use: whether each runs, memory "
        "and disk against their alarm limits (an alarm blocks every publisher), file "
        "descriptors, uptime and network partitions. Use it when publishers block or "
        "a node seems down.",
        object_schema(""),
        items_output_schema(node_fields()),
        build_nodes,
        shape_all_items,
        api_path_not_found,
        nullptr,
        "nodes",
        &node_fields(),
    });
    s.push_back(tool_spec{
        "health_check",
        "Check broker health",
        "Run the broker's health checks at once: resource alarms anywhere in the "
        "cluster (memory or disk: publishers are blocked), alarms on the node warren "
        "talks to, and whether stopping that node would cost a quorum queue its "
        "majority. Answers healthy true/false with each check's reason; an unhealthy "
        "broker is a result, not an error. Use it first when something seems wrong, "
        "or before restarting a node.",
        object_schema(""),
        R"({"type":"object","properties":{"healthy":{"type":"boolean"},"checks":{)"
        R"("type":"array","items":{"type":"object","properties":{)"
        R"("name":{"type":"string"},"ok":{"type":"boolean"},)"
        R"("reason":{"type":"string","description":"why the check failed"}},)"
        R"("required":["name","ok"]}}},"required":["healthy","checks"]})",
        build_health,
        nullptr,
        health_not_found,
    });
    s.back().shape_answers = shape_health;
    s.back().also_ok = 503;
    return s;
  }();
  return specs;
}

} // namespace warren::tools
