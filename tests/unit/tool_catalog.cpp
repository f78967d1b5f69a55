#include "protocol/tool_catalog.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/schema.h>

#include "protocol/error.hpp"

using namespace warren;

namespace {

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text);
  REQUIRE_MESSAGE(!doc.HasParseError(), "not JSON: " << text);
  return doc;
}

// The catalog is built once; it is immutable afterwards.
const tool_catalog& catalog() {
  static const tool_catalog instance;
  return instance;
}

// Writes enabled; bodies of fetched messages cut at 16 bytes.
const tool_catalog& writing_catalog() {
  static const tool_catalog instance{catalog_options{true, "all", 16}};
  return instance;
}

operation prepared(std::string_view tool, std::string_view args,
                   const tool_catalog& in = catalog()) {
  auto op = in.prepare(tool, args);
  REQUIRE_MESSAGE(op, "prepare failed: " << message_of(op.error()));
  return *op;
}

// The message of a refused prepare(), checking it is refused as invalid_params.
std::string refusal(std::string_view tool, std::string_view args,
                    const tool_catalog& in = catalog()) {
  auto op = in.prepare(tool, args);
  REQUIRE_FALSE(op);
  CHECK(code_of(op.error()) == ec::invalid_params);
  return message_of(op.error());
}

// Checks the CallToolResult envelope and returns the structuredContent.
rapidjson::Document structured(const tool_result& result) {
  CHECK_FALSE(result.is_error);
  auto doc = parse(result.json);
  REQUIRE(doc.IsObject());
  CHECK(doc["isError"].IsFalse());
  REQUIRE(doc["content"].IsArray());
  REQUIRE(doc["content"].Size() == 1);
  CHECK(std::string{doc["content"][0]["type"].GetString()} == "text");
  auto text = parse(doc["content"][0]["text"].GetString());
  REQUIRE(doc.HasMember("structuredContent"));
  CHECK(doc["structuredContent"] == text);
  rapidjson::Document out;
  out.CopyFrom(doc["structuredContent"], out.GetAllocator());
  return out;
}

// Checks the error envelope and returns its message.
std::string error_text(const tool_result& result) {
  CHECK(result.is_error);
  auto doc = parse(result.json);
  CHECK(doc["isError"].IsTrue());
  CHECK_FALSE(doc.HasMember("structuredContent"));
  REQUIRE(doc["content"].Size() == 1);
  CHECK(std::string{doc["content"][0]["type"].GetString()} == "text");
  return doc["content"][0]["text"].GetString();
}

tool_result answer(std::string_view tool, std::string_view args, int status,
                   std::string body) {
  return catalog().shape(prepared(tool, args),
                         {http_response{status, std::move(body)}});
}

std::string str(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const char* queue_columns = "columns=name,vhost,type,state,durable,auto_delete,"
                            "exclusive,messages,messages_ready,messages_"
                            "unacknowledged,consumers,idle_since,arguments";

// Realistic management API bodies (RabbitMQ 3.10).
const char* queue_page_body =
    R"({"filtered_count":3,"item_count":1,"items":[{"arguments":{"x-queue-type":)"
    R"("classic"},"auto_delete":false,"consumers":0,"durable":true,"exclusive":false,)"
    R"("idle_since":"2024-05-02T07:06:39.680+00:00","messages":1,"messages_ready":1,)"
    R"("messages_unacknowledged":0,"name":"orders","state":"running","type":)"
    R"("classic","vhost":"/"}],"page":2,"page_count":3,"page_size":1,)"
    R"("total_count":5})";

const char* queue_body =
    R"({"consumer_details":[],"arguments":{"x-queue-type":"classic"},"auto_delete":)"
    R"(false,"backing_queue_status":{"avg_ack_egress_rate":0.0,"len":1,"mode":)"
    R"("default","q4":1,"version":1},"consumer_capacity":0,"consumer_utilisation":)"
    R"(0.5,"consumers":2,"deliveries":[],"durable":true,"exclusive":false,)"
    R"("exclusive_consumer_tag":null,"garbage_collection":{"minor_gcs":9},)"
    R"("head_message_timestamp":null,"idle_since":"2024-05-02T07:06:39.680+00:00",)"
    R"("memory":16952,"message_bytes":2,"message_stats":{"publish":7,)"
    R"("publish_details":{"rate":0.4},"deliver_get":5,"deliver_get_details":)"
    R"({"rate":0.2}},"messages":1,"messages_details":{"rate":0.0},"messages_ready":1,)"
    R"("messages_ready_details":{"rate":0.0},"messages_unacknowledged":0,"name":)"
    R"("orders","node":"rabbit@host","operator_policy":null,"policy":null,)"
    R"("reductions":7998,"state":"running","type":"classic","vhost":"/"})";

const char* overview_body =
    R"({"management_version":"3.10.8","rates_mode":"basic","exchange_types":[{"name":)"
    R"("direct","description":"AMQP direct exchange","enabled":true}],)"
    R"("product_version":"3.10.8","rabbitmq_version":"3.10.8","cluster_name":)"
    R"("rabbit@host","erlang_version":"25.2.3","erlang_full_version":"Erlang/OTP 25",)"
    R"("message_stats":{"confirm":1,"confirm_details":{"rate":0.2},"publish":1,)"
    R"("publish_details":{"rate":0.2}},"queue_totals":{"messages":1,)"
    R"("messages_details":{"rate":0.2},"messages_ready":1,"messages_ready_details":)"
    R"({"rate":0.2},"messages_unacknowledged":0,"messages_unacknowledged_details":)"
    R"({"rate":0.0}},"object_totals":{"channels":0,"connections":0,"consumers":0,)"
    R"("exchanges":7,"queues":1},"node":"rabbit@host","listeners":[{"node":)"
    R"("rabbit@host","protocol":"amqp","ip_address":"127.0.0.1","port":5672,)"
    R"("socket_opts":{"backlog":128}},{"node":"rabbit@host","protocol":"http",)"
    R"("ip_address":"::","port":15672,"socket_opts":[]}],"contexts":[]})";

std::string binding(int i) {
  return R"({"source":"orders-x","vhost":"/","destination":"q)" + std::to_string(i) +
         R"(","destination_type":"queue","routing_key":"rk","arguments":{},)"
         R"("properties_key":"rk"})";
}

std::string five_bindings() {
  std::string out = "[";
  for (int i = 1; i <= 5; ++i)
    out += (i > 1 ? "," : "") + binding(i);
  return out + "]";
}

} // namespace

TEST_CASE("without writes the catalog offers the reads and the get_messages peek") {
  std::set<std::string> names;
  for (std::size_t i = 0; i < catalog().size(); ++i)
    names.insert(str(parse(catalog().tool_json(i))["name"]));
  CHECK(names == std::set<std::string>{
                     "overview", "list_vhosts", "list_queues", "get_queue",
                     "find_queues", "list_exchanges", "get_exchange", "list_bindings",
                     "list_connections", "list_consumers", "list_nodes", "health_check",
                     "get_messages", "search-ids", "get-id", "call-id"});
  for (auto& name : names)
    CHECK(catalog().contains(name));
  CHECK_FALSE(catalog().contains("delete_queue"));
  CHECK_FALSE(catalog().contains("publish_message"));
}

TEST_CASE("every tool is valid JSON with schemas that compile and truthful hints") {
  const std::set<std::string> destructive{
      "delete_queue", "purge_queue", "delete_exchange",    "delete_binding",
      "get_messages", "call-id",     "batch_delete_queues"};
  const std::set<std::string> changing{"create_queue",          "delete_queue",
                                       "purge_queue",           "create_exchange",
                                       "delete_exchange",       "create_binding",
                                       "delete_binding",        "publish_message",
                                       "get_messages",          "call-id",
                                       "batch_create_queues",   "batch_delete_queues",
                                       "batch_publish_messages"};
  const std::set<std::string> repeatable_not{"publish_message", "get_messages",
                                             "call-id", "batch_publish_messages"};
  // search-ids and get-id answer from warren's own index: not the open world.
  const std::set<std::string> closed_world{"search-ids", "get-id"};
  REQUIRE(writing_catalog().size() == 27);
  for (std::size_t i = 0; i < writing_catalog().size(); ++i) {
    auto tool = parse(writing_catalog().tool_json(i));
    CAPTURE(writing_catalog().tool_json(i));
    for (auto key : {"name", "title", "description"}) {
      REQUIRE(tool.HasMember(key));
      CHECK(tool[key].GetStringLength() > 0);
    }
    auto name = str(tool["name"]);
    auto& input = tool["inputSchema"];
    REQUIRE(input.IsObject());
    CHECK(str(input["type"]) == "object");
    CHECK(input["additionalProperties"].IsFalse());
    rapidjson::SchemaDocument compiled(input);
    rapidjson::SchemaValidator validator(compiled);
    rapidjson::Document empty(rapidjson::kObjectType);
    CHECK(empty.Accept(validator) == !input.HasMember("required"));
    REQUIRE(tool["outputSchema"].IsObject());
    CHECK(str(tool["outputSchema"]["type"]) == "object");
    rapidjson::SchemaDocument output_compiled(tool["outputSchema"]);
    auto& hints = tool["annotations"];
    CHECK(str(hints["title"]) == str(tool["title"]));
    CHECK(hints["readOnlyHint"].GetBool() == !changing.count(name));
    CHECK(hints["destructiveHint"].GetBool() == destructive.count(name) > 0);
    CHECK(hints["idempotentHint"].GetBool() == !repeatable_not.count(name));
    CHECK(hints["openWorldHint"].GetBool() == !closed_world.count(name));
  }
}

TEST_CASE("tool_json is compact and an index past the end gives an empty string") {
  CHECK_FALSE(contains(catalog().tool_json(0), "\n"));
  CHECK(catalog().tool_json(catalog().size()).empty());
}

TEST_CASE("overview reads /api/overview") {
  auto op = prepared("overview", "{}");
  CHECK(op.tool == "overview");
  CHECK(op.requests.front().method == "GET");
  CHECK(op.requests.front().target == "/api/overview");
  CHECK(op.requests.front().body.empty());
  CHECK(op.cache_key.empty()); // changes without warren: always read fresh
  CHECK(op.invalidates.empty());
  CHECK(op.idempotent);
}

TEST_CASE("empty, null and blank arguments mean no arguments") {
  for (auto args : {"", "null", "  ", " {} ", "\n null \n"})
    CHECK(prepared("overview", args).requests.front().target == "/api/overview");
}

TEST_CASE("list_vhosts asks for a page with its columns") {
  auto op = prepared("list_vhosts", "{}");
  CHECK(op.requests.front().target ==
        "/api/vhosts?page=1&page_size=100&columns=name,description,tracing,"
        "messages,messages_ready,messages_unacknowledged");
  CHECK(op.cache_key == "vhosts:list::?page=1&page_size=100");
}

TEST_CASE("list_queues without vhost lists every vhost, with defaults applied") {
  auto op = prepared("list_queues", "{}");
  CHECK(op.requests.front().target ==
        std::string{"/api/queues?page=1&page_size=100&"} + queue_columns);
  CHECK(op.cache_key == "queues:list::?page=1&page_size=100");
  auto args = parse(op.arguments_json);
  CHECK(args["page"].GetInt() == 1);
  CHECK(args["page_size"].GetInt() == 100);
  CHECK(args["use_regex"].IsFalse());
  CHECK_FALSE(args.HasMember("vhost"));
}

TEST_CASE("list_queues encodes the vhost into the path and the filter into the query") {
  auto op = prepared(
      "list_queues",
      R"({"vhost":"/","page":2,"page_size":50,"name":"a b#c%","use_regex":true})");
  CHECK(op.requests.front().target ==
        std::string{"/api/queues/%2F?page=2&page_size=50&name=a%20b%23c%25&"
                    "use_regex=true&"} +
            queue_columns);
  CHECK(op.cache_key ==
        "queues:list:/:?page=2&page_size=50&name=a%20b%23c%25&use_regex=true");
}

TEST_CASE("list_queues with columns asks the API for those fields and name, and "
          "caches them apart") {
  auto op = prepared("list_queues", R"({"vhost":"/","columns":["messages","type"]})");
  CHECK(op.requests.front().target ==
        "/api/queues/%2F?page=1&page_size=100&columns=name,type,messages");
  CHECK(op.cache_key ==
        "queues:list:/:?page=1&page_size=100&columns=name,type,messages");
  // The order asked in does not matter: one result, one key.
  CHECK(prepared("list_queues", R"({"vhost":"/","columns":["type","messages"]})")
            .cache_key == op.cache_key);
  // Every field named is the same as none.
  auto all = prepared("list_queues",
                      R"({"columns":["name","vhost","type","state","durable",)"
                      R"("auto_delete","exclusive","messages","messages_ready",)"
                      R"("messages_unacknowledged","consumers","idle_since",)"
                      R"("arguments"]})");
  CHECK(all.cache_key == prepared("list_queues", "{}").cache_key);
  auto conn = prepared("list_connections", R"({"columns":["connection_name"]})");
  CHECK(contains(conn.requests.front().target,
                 "columns=name,client_properties.connection_name"));
}

TEST_CASE("columns that are unknown, repeated, empty or not strings are refused "
          "naming the fields there are") {
  auto unknown = refusal("list_queues", R"({"columns":["name","mesages"]})");
  CHECK(contains(unknown, "invalid arguments for list_queues: each item of "
                          "'columns' must be one of [\"name\",\"vhost\""));
  CHECK(contains(unknown, "\"messages_ready\""));
  CHECK(refusal("list_queues", R"({"columns":["type","type"]})") ==
        "invalid arguments for list_queues: 'columns' must not name the same item "
        "twice");
  CHECK(refusal("list_exchanges", R"({"columns":[]})") ==
        "invalid arguments for list_exchanges: 'columns' must not be empty");
  CHECK(refusal("list_vhosts", R"({"columns":[7]})") ==
        "invalid arguments for list_vhosts: each item of 'columns' must be a string");
  CHECK(refusal("list_vhosts", R"({"columns":"name"})") ==
        "invalid arguments for list_vhosts: 'columns' must be an array");
}

TEST_CASE("pages and filters give distinct cache keys") {
  std::set<std::string> keys;
  for (auto args :
       {R"({"vhost":"/"})", R"({"vhost":"/","page":2})",
        R"({"vhost":"/","page_size":10})", R"({"vhost":"/","name":"x"})",
        R"({"vhost":"/","name":"x","use_regex":true})", R"({})", R"({"vhost":"v2"})"})
    keys.insert(prepared("list_queues", args).cache_key);
  CHECK(keys.size() == 7);
}

TEST_CASE("use_regex without a name sends no filter") {
  auto op = prepared("list_queues", R"({"use_regex":true})");
  CHECK_FALSE(contains(op.requests.front().target, "use_regex"));
}

TEST_CASE("get_queue defaults the vhost to / and encodes both names") {
  auto op = prepared("get_queue", R"({"name":"orders"})");
  CHECK(op.requests.front().target == "/api/queues/%2F/orders");
  CHECK(op.cache_key == "queues:get:/:orders");
  CHECK(str(parse(op.arguments_json)["vhost"]) == "/");
  auto odd = prepared("get_queue", R"({"name":"my q#1%","vhost":"dev/eu"})");
  CHECK(odd.requests.front().target == "/api/queues/dev%2Feu/my%20q%231%25");
  CHECK(odd.cache_key == "queues:get:dev/eu:my q#1%25");
}

TEST_CASE("a ':' in a name cannot make two cache keys collide") {
  auto a = prepared("get_queue", R"({"vhost":"a:b","name":"c"})").cache_key;
  auto b = prepared("get_queue", R"({"vhost":"a","name":"b:c"})").cache_key;
  CHECK(a != b);
}

TEST_CASE("list_exchanges pages one vhost or all") {
  auto op = prepared("list_exchanges", R"({"vhost":"/"})");
  CHECK(op.requests.front().target ==
        "/api/exchanges/%2F?page=1&page_size=100&columns=name,vhost,type,"
        "durable,auto_delete,internal,arguments");
  CHECK(op.cache_key == "exchanges:list:/:?page=1&page_size=100");
  CHECK(prepared("list_exchanges", "{}")
            .requests.front()
            .target.rfind("/api/exchanges?", 0) == 0);
}

TEST_CASE("list_bindings picks the vhost, queue or exchange endpoint") {
  auto all = prepared("list_bindings", "{}");
  CHECK(all.requests.front().target == "/api/bindings/%2F");
  CHECK(all.cache_key == "bindings:list:/:?page=1&page_size=100");
  auto queue = prepared("list_bindings", R"({"vhost":"v 1","queue":"q#1"})");
  CHECK(queue.requests.front().target == "/api/queues/v%201/q%231/bindings");
  CHECK(queue.cache_key == "bindings:list:v 1:?queue=q%231&page=1&page_size=100");
  auto exchange = prepared("list_bindings", R"({"exchange":"orders-x","page":2})");
  CHECK(exchange.requests.front().target ==
        "/api/exchanges/%2F/orders-x/bindings/source");
  CHECK(exchange.cache_key ==
        "bindings:list:/:?exchange=orders-x&page=2&page_size=100");
}

TEST_CASE("list_bindings refuses queue and exchange together") {
  auto message = refusal("list_bindings", R"({"queue":"q","exchange":"x"})");
  CHECK(contains(message, "'queue'"));
  CHECK(contains(message, "'exchange'"));
}

TEST_CASE("page_size above 500 is refused naming the argument") {
  CHECK(refusal("list_queues", R"({"page_size":501})") ==
        "invalid arguments for list_queues: 'page_size' must be at most 500");
}

TEST_CASE("page below 1 is refused naming the argument") {
  CHECK(refusal("list_exchanges", R"({"page":0})") ==
        "invalid arguments for list_exchanges: 'page' must be at least 1");
}

TEST_CASE("a missing required argument is named") {
  CHECK(refusal("get_queue", R"({"vhost":"/"})") ==
        "invalid arguments for get_queue: 'name' is required");
}

TEST_CASE("an unknown argument is named with the known ones") {
  auto message = refusal("list_queues", R"({"pagesize":10})");
  CHECK(contains(message, "invalid arguments for list_queues: unknown argument "
                          "'pagesize'"));
  CHECK(contains(message, "page_size"));
  CHECK(contains(refusal("overview", R"({"x":1})"), "takes no arguments"));
}

TEST_CASE("a wrongly typed argument is named with the expected type") {
  CHECK(refusal("list_queues", R"({"page":"2"})") ==
        "invalid arguments for list_queues: 'page' must be an integer");
  CHECK(refusal("list_queues", R"({"page":1.5})") ==
        "invalid arguments for list_queues: 'page' must be an integer");
  CHECK(contains(refusal("list_queues", R"({"use_regex":"yes"})"),
                 "'use_regex' must be true or false"));
  CHECK(contains(refusal("get_queue", R"({"name":7})"), "'name' must be a string"));
}

TEST_CASE("empty and over-long names are refused") {
  CHECK(refusal("get_queue", R"({"name":""})") ==
        "invalid arguments for get_queue: 'name' must not be empty");
  CHECK(contains(refusal("get_queue", R"({"name":")" + std::string(256, 'q') + "\"}"),
                 "'name' must be at most 255"));
  // 128 two-byte characters: within 255 characters, but 256 bytes.
  std::string wide;
  for (int i = 0; i < 128; ++i)
    wide += "\xC3\xA9";
  CHECK(contains(refusal("get_queue", R"({"name":")" + wide + "\"}"),
                 "'name' must be at most 255 bytes"));
  CHECK(contains(refusal("list_bindings", R"({"vhost":")" + wide + "\"}"),
                 "'vhost' must be at most 255 bytes"));
  CHECK(prepared("get_queue", R"({"name":")" + std::string(255, 'q') + "\"}")
            .requests.front()
            .target.size() > 255);
}

TEST_CASE("arguments that are not a JSON object are refused") {
  CHECK(contains(refusal("list_queues", "[1]"), "must be a JSON object"));
  CHECK(contains(refusal("list_queues", "42"), "must be a JSON object"));
  CHECK(contains(refusal("list_queues", "{\"page\":"), "not valid JSON"));
  CHECK(contains(refusal("list_queues", "{} {}"), "not valid JSON"));
  CHECK(contains(refusal("get_queue", "{\"name\":\"\xFF\"}"),
                 "not valid UTF-8 (at offset 9)"));
}

TEST_CASE("deeply nested arguments are refused without exhausting the stack") {
  std::string deep =
      "{\"name\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  CHECK(contains(refusal("get_queue", deep), "invalid arguments for get_queue"));
  std::string unclosed(200000, '[');
  CHECK(contains(refusal("get_queue", unclosed), "not valid JSON"));
}

TEST_CASE("an unknown tool is refused pointing at tools/list") {
  auto op = catalog().prepare("drop_everything", "{}");
  REQUIRE_FALSE(op);
  CHECK(code_of(op.error()) == ec::unknown_tool);
  CHECK(message_of(op.error()) ==
        "unknown tool 'drop_everything'; tools/list shows the available tools");
}

TEST_CASE("overview is shaped to a compact summary") {
  auto out = structured(answer("overview", "{}", 200, overview_body));
  CHECK(str(out["rabbitmq_version"]) == "3.10.8");
  CHECK(str(out["management_version"]) == "3.10.8");
  CHECK(str(out["erlang_version"]) == "25.2.3");
  CHECK(str(out["cluster_name"]) == "rabbit@host");
  CHECK(str(out["node"]) == "rabbit@host");
  CHECK(out["object_totals"]["queues"].GetInt() == 1);
  CHECK(out["queue_totals"]["messages_ready"].GetInt() == 1);
  CHECK(out["queue_totals"]["messages_rate"].GetDouble() == doctest::Approx(0.2));
  CHECK_FALSE(out["queue_totals"].HasMember("messages_details"));
  CHECK(out["message_stats"]["publish"].GetInt() == 1);
  CHECK(out["message_stats"]["publish_rate"].GetDouble() == doctest::Approx(0.2));
  CHECK_FALSE(out["message_stats"].HasMember("ack"));
  REQUIRE(out["listeners"].Size() == 2);
  CHECK(str(out["listeners"][0]["protocol"]) == "amqp");
  CHECK(out["listeners"][0]["port"].GetInt() == 5672);
  CHECK_FALSE(out["listeners"][0].HasMember("socket_opts"));
  CHECK_FALSE(out.HasMember("exchange_types"));
  CHECK_FALSE(out.HasMember("contexts"));
}

TEST_CASE("overview passes through only the fields that exist") {
  auto out = structured(answer("overview", "{}", 200, R"({"node":"n"})"));
  CHECK(out.MemberCount() == 1);
  CHECK(str(out["node"]) == "n");
}

TEST_CASE("a page of queues keeps the API's counts and the listed fields") {
  auto out = structured(
      answer("list_queues", R"({"page":2,"page_size":1})", 200, queue_page_body));
  REQUIRE(out["items"].Size() == 1);
  auto& q = out["items"][0];
  CHECK(str(q["name"]) == "orders");
  CHECK(str(q["vhost"]) == "/");
  CHECK(q["messages_ready"].GetInt() == 1);
  CHECK(str(q["arguments"]["x-queue-type"]) == "classic");
  CHECK(out["page"].GetInt() == 2);
  CHECK(out["page_size"].GetInt() == 1);
  CHECK(out["page_count"].GetInt() == 3);
  CHECK(out["total_count"].GetInt() == 5);
  CHECK(out["filtered_count"].GetInt() == 3);
  CHECK_FALSE(out.HasMember("item_count"));
}

TEST_CASE("list items drop fields that were not asked for") {
  auto out = structured(answer(
      "list_exchanges", "{}", 200,
      R"({"items":[{"name":"amq.direct","type":"direct","vhost":"/","durable":true,)"
      R"("auto_delete":false,"internal":false,"arguments":{},"user_who_performed_)"
      R"(action":"rmq-internal","policy":null}],"page":1,"page_count":1,)"
      R"("page_size":100,"total_count":1,"filtered_count":1})"));
  auto& x = out["items"][0];
  CHECK(str(x["name"]) == "amq.direct");
  CHECK(x.HasMember("internal"));
  CHECK_FALSE(x.HasMember("user_who_performed_action"));
  CHECK_FALSE(x.HasMember("policy"));
}

TEST_CASE("list items keep only the columns asked for, and name") {
  auto out = structured(
      answer("list_queues", R"({"columns":["messages_ready"]})", 200, queue_page_body));
  auto& q = out["items"][0];
  CHECK(str(q["name"]) == "orders");
  CHECK(q["messages_ready"].GetInt() == 1);
  CHECK(q.MemberCount() == 2);
}

TEST_CASE("a page beyond the last is an empty page that says which pages exist") {
  auto out = structured(
      answer("list_queues", R"({"page":3})", 400,
             R"({"error":"page_out_of_range","reason":"Page out of range, page: 3 )"
             R"(page size: 100, len: 142"})"));
  CHECK(out["items"].IsArray());
  CHECK(out["items"].Empty());
  CHECK(out["page"].GetInt() == 3);
  CHECK(out["page_size"].GetInt() == 100);
  CHECK(out["page_count"].GetInt() == 2);
  CHECK(out["filtered_count"].GetInt() == 142);
  CHECK(contains(str(out["note"]), "pages 1 to 2 exist"));
  // Without a count in the reason the page is still empty, with a hint.
  auto bare = structured(
      answer("list_vhosts", R"({"page":9})", 400, R"({"error":"page_out_of_range"})"));
  CHECK(bare["items"].Empty());
  CHECK(contains(str(bare["note"]), "beyond the last page"));
}

TEST_CASE("get_queue is shaped to the useful fields and rates") {
  auto out = structured(answer("get_queue", R"({"name":"orders"})", 200, queue_body));
  CHECK(str(out["name"]) == "orders");
  CHECK(str(out["node"]) == "rabbit@host");
  CHECK(out["consumers"].GetInt() == 2);
  CHECK(out["consumer_utilisation"].GetDouble() == doctest::Approx(0.5));
  CHECK(out["memory"].GetInt() == 16952);
  CHECK(out["durable"].IsTrue());
  CHECK(out["message_stats"]["publish"].GetInt() == 7);
  CHECK(out["message_stats"]["publish_rate"].GetDouble() == doctest::Approx(0.4));
  CHECK(out["message_stats"]["deliver_get_rate"].GetDouble() == doctest::Approx(0.2));
  for (auto dropped : {"backing_queue_status", "garbage_collection", "policy",
                       "reductions", "consumer_details", "exclusive_consumer_tag"})
    CHECK_FALSE(out.HasMember(dropped));
}

TEST_CASE("a null where a number is documented is left out") {
  auto out = structured(answer("get_queue", R"({"name":"q"})", 200,
                               R"({"name":"q","consumer_utilisation":null})"));
  CHECK_FALSE(out.HasMember("consumer_utilisation"));
}

TEST_CASE("a missing queue says which queue, which vhost and which tool lists them") {
  CHECK(error_text(answer("get_queue", R"({"name":"x"})", 404,
                          R"({"error":"Object Not Found","reason":"Not Found"})")) ==
        "queue 'x' was not found in vhost '/'. Use list_queues to see which queues "
        "exist.");
}

TEST_CASE("a missing vhost or exchange points at the tool that lists them") {
  auto vhost =
      error_text(answer("list_queues", R"({"vhost":"nope"})", 404,
                        R"({"error":"Object Not Found","reason":"Not Found"})"));
  CHECK(contains(vhost, "vhost 'nope' was not found"));
  CHECK(contains(vhost, "list_vhosts"));
  auto exchange = error_text(answer("list_bindings", R"({"exchange":"ex"})", 404,
                                    R"({"error":"Object Not Found"})"));
  CHECK(contains(exchange, "exchange 'ex' was not found in vhost '/'"));
  CHECK(contains(exchange, "list_exchanges"));
}

TEST_CASE("refused credentials name the settings and never the password") {
  auto message = error_text(answer("list_queues", "{}", 401,
                                   R"({"error":"not_authorized","reason":"Login )"
                                   R"(failed for guest:guest"})"));
  CHECK(contains(message, "RABBITMQ_USER"));
  CHECK(contains(message, "RABBITMQ_PASSWORD"));
  CHECK(contains(message, "401"));
  CHECK_FALSE(contains(message, "guest"));
  CHECK_FALSE(contains(message, "Authorization"));
  CHECK_FALSE(contains(message, "Basic "));
}

TEST_CASE("a user without access to the vhost is told what to grant") {
  // RabbitMQ answers 401 "not_authorised" for a user lacking a tag or vhost access.
  auto message = error_text(
      answer("list_queues", R"({"vhost":"v2"})", 401,
             R"({"error":"not_authorised","reason":"User not authorised to access )"
             R"(virtual host"})"));
  CHECK(contains(message, "not allowed"));
  CHECK(contains(message, "vhost 'v2'"));
  CHECK(contains(message, "User not authorised to access virtual host"));
  CHECK(contains(message, "set_permissions"));
  auto forbidden = error_text(
      answer("get_queue", R"({"name":"q"})", 403, R"({"error":"not_authorised"})"));
  CHECK(contains(forbidden, "HTTP 403"));
  CHECK(contains(forbidden, "vhost '/'"));
}

TEST_CASE("a server error says to retry and check the broker's health") {
  auto message = error_text(
      answer("overview", "{}", 500, R"({"error":"internal_error","reason":"boom"})"));
  CHECK(contains(message, "HTTP 500"));
  CHECK(contains(message, "boom"));
  CHECK(contains(message, "Try again"));
  CHECK(contains(message, "health"));
  CHECK(contains(error_text(answer("overview", "{}", 503, "<html>busy</html>")),
                 "HTTP 503"));
}

TEST_CASE("a bad request quotes the API's reason") {
  auto message =
      error_text(answer("list_queues", R"({"name":"(","use_regex":true})", 400,
                        R"({"error":"bad_request","reason":"invalid )"
                        R"(regex"})"));
  CHECK(contains(message, "HTTP 400"));
  CHECK(contains(message, "invalid regex"));
}

TEST_CASE("a body that is not JSON is an unexpected answer") {
  CHECK(contains(error_text(answer("overview", "{}", 200, "<html>login</html>")),
                 "unexpected answer from the management API (HTTP 200)"));
  CHECK(contains(error_text(answer("list_queues", "{}", 200, R"({"items":7})")),
                 "unexpected answer from the management API (HTTP 200)"));
  CHECK(contains(error_text(answer("get_queue", R"({"name":"q"})", 200, "[]")),
                 "unexpected answer from the management API (HTTP 200)"));
  CHECK(contains(error_text(answer("list_queues", "{}", 400, "not json")),
                 "unexpected answer from the management API (HTTP 400)"));
}

TEST_CASE("bindings are paged client-side with the list_queues shape") {
  auto first =
      structured(answer("list_bindings", R"({"page_size":2})", 200, five_bindings()));
  REQUIRE(first["items"].Size() == 2);
  CHECK(str(first["items"][0]["destination"]) == "q1");
  CHECK(str(first["items"][1]["destination"]) == "q2");
  CHECK(str(first["items"][0]["source"]) == "orders-x");
  CHECK(first["page"].GetInt() == 1);
  CHECK(first["page_size"].GetInt() == 2);
  CHECK(first["page_count"].GetInt() == 3);
  CHECK(first["total_count"].GetInt() == 5);
  CHECK(first["filtered_count"].GetInt() == 5);
  CHECK_FALSE(first.HasMember("note"));
  auto last = structured(
      answer("list_bindings", R"({"page":3,"page_size":2})", 200, five_bindings()));
  REQUIRE(last["items"].Size() == 1);
  CHECK(str(last["items"][0]["destination"]) == "q5");
  auto beyond = structured(
      answer("list_bindings", R"({"page":4,"page_size":2})", 200, five_bindings()));
  CHECK(beyond["items"].Empty());
  CHECK(beyond["page_count"].GetInt() == 3);
  CHECK(contains(str(beyond["note"]), "pages 1 to 3 exist"));
}

TEST_CASE("no bindings is an empty first page, not an error") {
  auto out = structured(answer("list_bindings", R"({"exchange":"x"})", 200, "[]"));
  CHECK(out["items"].Empty());
  CHECK(out["page_count"].GetInt() == 0);
  CHECK(out["total_count"].GetInt() == 0);
  CHECK_FALSE(out.HasMember("note"));
}

TEST_CASE("deeply nested queue arguments are cut, not recursed into") {
  std::string nested = "1";
  for (int i = 0; i < 200; ++i)
    nested = "{\"a\":" + nested + "}";
  auto result = answer("get_queue", R"({"name":"q"})", 200,
                       R"({"name":"q","arguments":)" + nested + "}");
  auto out = structured(result);
  CHECK(out["arguments"].IsObject());
  CHECK(contains(result.json, "nested too deeply"));
}

TEST_CASE("shape refuses an operation of an unknown tool") {
  operation op;
  op.tool = "nope";
  CHECK(error_text(catalog().shape(op, {http_response{200, "{}"}})).find("nope") !=
        std::string::npos);
}

TEST_CASE("failure builds an isError result that is valid JSON for any message") {
  auto result = tool_catalog::failure("broker \"down\"\n\xFF\xC3");
  CHECK(result.is_error);
  auto message = error_text(result);
  CHECK(contains(message, "broker \"down\"\n"));
}

// -- the full tool set ---------------------------------------------------------------

namespace {

operation writing(std::string_view tool, std::string_view args) {
  return prepared(tool, args, writing_catalog());
}

std::string writing_refusal(std::string_view tool, std::string_view args) {
  return refusal(tool, args, writing_catalog());
}

bool has(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// review() of a write prepared with writes enabled, given the precheck's answer.
std::optional<tool_result> reviewed(std::string_view tool, std::string_view args,
                                    int status, std::string body) {
  return writing_catalog().review(writing(tool, args),
                                  http_response{status, std::move(body)});
}

tool_result written(std::string_view tool, std::string_view args, int status,
                    std::string body = {}) {
  return writing_catalog().shape(writing(tool, args),
                                 {http_response{status, std::move(body)}});
}

const char* busy_queue = R"({"name":"orders","vhost":"/","messages":12,"consumers":3})";
const char* idle_queue = R"({"name":"orders","vhost":"/","messages":0,"consumers":0})";

} // namespace

TEST_CASE("write tools are refused while writes are disabled, saying how to enable") {
  for (auto tool :
       {"create_queue", "delete_queue", "purge_queue", "create_exchange",
        "delete_exchange", "create_binding", "delete_binding", "publish_message"}) {
    CAPTURE(tool);
    auto op = catalog().prepare(tool, "{}");
    REQUIRE_FALSE(op);
    CHECK(code_of(op.error()) == ec::unknown_tool);
    CHECK(message_of(op.error()) ==
          "tool '" + std::string{tool} +
              "' changes the broker and writes are disabled; start warren with "
              "--allow-writes (or WARREN_ALLOW_WRITES=1)");
    CHECK(writing_catalog().contains(tool));
  }
}

TEST_CASE("families choose the direct tools, none of them, or all") {
  tool_catalog direct{catalog_options{true, "direct", 1024}};
  CHECK(direct.size() == writing_catalog().size() - 3);
  CHECK_FALSE(direct.contains("search-ids"));
  tool_catalog discovery{catalog_options{true, "discovery", 1024}};
  CHECK(discovery.size() == 3);
  CHECK(discovery.contains("call-id"));
  CHECK_FALSE(discovery.contains("list_queues"));
  CHECK_FALSE(discovery.contains("delete_queue"));
  auto op = discovery.prepare("list_queues", "{}");
  REQUIRE_FALSE(op);
  CHECK(code_of(op.error()) == ec::unknown_tool);
  CHECK(contains(message_of(op.error()), "unknown tool 'list_queues'"));
}

TEST_CASE("reads carry no invalidations and writes are never cached") {
  CHECK_FALSE(prepared("list_nodes", "{}").writes);
  auto op = writing("delete_queue", R"({"name":"q"})");
  CHECK(op.writes);
  CHECK(op.cache_key.empty());
  CHECK_FALSE(op.invalidates.empty());
}

// -- new reads -----------------------------------------------------------------------

TEST_CASE("get_exchange reads one exchange; the empty name is the default exchange") {
  auto op = prepared("get_exchange", R"({"name":"orders x"})");
  CHECK(op.requests.size() == 1);
  CHECK(op.requests.front().target == "/api/exchanges/%2F/orders%20x");
  CHECK(op.cache_key == "exchanges:get:/:orders x");
  auto def = prepared("get_exchange", R"({"name":"","vhost":"dev"})");
  CHECK(def.requests.front().target == "/api/exchanges/dev/amq.default");
  auto out = structured(answer(
      "get_exchange", R"({"name":"orders"})", 200,
      R"({"name":"orders","vhost":"/","type":"topic","durable":true,"auto_delete":)"
      R"(false,"internal":false,"arguments":{},"message_stats":{"publish_in":4,)"
      R"("publish_in_details":{"rate":1.5},"publish_out":2}})"));
  CHECK(str(out["type"]) == "topic");
  CHECK(out["message_stats"]["publish_in_rate"].GetDouble() == doctest::Approx(1.5));
  CHECK(out["message_stats"]["publish_out"].GetInt() == 2);
  CHECK(contains(error_text(answer("get_exchange", R"({"name":"x"})", 404, "{}")),
                 "exchange 'x' was not found in vhost '/'"));
}

TEST_CASE("list_connections asks for a page with the client's own name") {
  auto op = prepared("list_connections", R"({"page_size":10})");
  CHECK(op.requests.front().target ==
        "/api/connections?page=1&page_size=10&columns=name,client_properties."
        "connection_name,user,vhost,host,peer_host,peer_port,protocol,channels,state,"
        "connected_at");
  CHECK(op.cache_key.empty()); // changes without warren: always read fresh
  auto out = structured(answer(
      "list_connections", "{}", 200,
      R"({"items":[{"name":"127.0.0.1:5 -> 127.0.0.1:5672","user":"guest","vhost":)"
      R"("/","peer_port":5,"channels":1,"state":"blocked","client_properties":{)"
      R"("connection_name":"billing"}}],"page":1,"page_size":100,"page_count":1})"));
  auto& c = out["items"][0];
  CHECK(str(c["connection_name"]) == "billing");
  CHECK(str(c["state"]) == "blocked");
  CHECK_FALSE(c.HasMember("client_properties"));
}

TEST_CASE("list_consumers pages the unpaged API itself and flattens the queue") {
  CHECK(prepared("list_consumers", "{}").requests.front().target == "/api/consumers");
  auto op = prepared("list_consumers", R"({"vhost":"/","page_size":1,"page":2})");
  CHECK(op.requests.front().target == "/api/consumers/%2F");
  CHECK(op.cache_key.empty()); // changes without warren: always read fresh
  auto consumer = [](const char* tag) {
    return std::string{R"({"consumer_tag":")"} + tag +
           R"(","ack_required":true,"prefetch_count":10,"active":true,"exclusive":)"
           R"(false,"queue":{"name":"orders","vhost":"/"},"channel_details":{)"
           R"("connection_name":"c1","name":"c1 #1",
           "peer_host" : "127.0.0.1"
  }
})";
  };
  auto out = structured(answer("list_consumers", R"({"page_size":1,"page":2})", 200,
                               "[" + consumer("a") + "," + consumer("b") + "]"));
  REQUIRE(out["items"].Size() == 1);
  auto& c = out["items"][0];
  CHECK(str(c["consumer_tag"]) == "b");
  CHECK(str(c["queue"]) == "orders");
  CHECK(str(c["vhost"]) == "/");
  CHECK(str(c["connection_name"]) == "c1");
  CHECK(c["prefetch_count"].GetInt() == 10);
  CHECK_FALSE(c.HasMember("channel_details"));
  CHECK(out["total_count"].GetInt() == 2);
}

TEST_CASE("list_nodes shows resource use and alarms of every node") {
  auto op = prepared("list_nodes", "{}");
  CHECK(op.requests.front().target == "/api/nodes");
  auto out = structured(
      answer("list_nodes", "{}", 200,
             R"([{"name":"rabbit@a","type":"disc","running":true,"mem_used":100,)"
             R"("mem_limit":1000,"mem_alarm":true,"disk_free_alarm":false,"fd_used":3,)"
             R"("partitions":[],"applications":[{"name":"rabbit"}]}])"));
  auto& n = out["items"][0];
  CHECK(n["mem_alarm"].IsTrue());
  CHECK(n["partitions"].IsArray());
  CHECK_FALSE(n.HasMember("applications"));
}

TEST_CASE("health_check asks three checks at once and is not cached") {
  auto op = prepared("health_check", "{}");
  REQUIRE(op.requests.size() == 3);
  CHECK(op.requests[0].target == "/api/health/checks/alarms");
  CHECK(op.requests[1].target == "/api/health/checks/local-alarms");
  CHECK(op.requests[2].target == "/api/health/checks/node-is-quorum-critical");
  CHECK(op.cache_key.empty());
}

TEST_CASE("an unhealthy broker is a result naming the failed check, not an error") {
  auto op = prepared("health_check", "{}");
  auto out = structured(catalog().shape(
      op, {http_response{200, R"({"status":"ok"})"},
           http_response{503, R"({"status":"failed","reason":"memory alarm on )"
                              R"(rabbit@a"})"},
           http_response{200, R"({"status":"ok"})"}}));
  CHECK(out["healthy"].IsFalse());
  REQUIRE(out["checks"].Size() == 3);
  CHECK(str(out["checks"][0]["name"]) == "alarms");
  CHECK(out["checks"][0]["ok"].IsTrue());
  CHECK_FALSE(out["checks"][0].HasMember("reason"));
  CHECK(out["checks"][1]["ok"].IsFalse());
  CHECK(str(out["checks"][1]["reason"]) == "memory alarm on rabbit@a");
  auto healthy = structured(
      catalog().shape(op, {http_response{200, "{}"}, http_response{200, "{}"},
                           http_response{200, R"({"status":"ok"})"}}));
  CHECK(healthy["healthy"].IsTrue());
}

TEST_CASE("health_check fails when a check cannot be asked at all") {
  auto op = prepared("health_check", "{}");
  auto text = error_text(
      catalog().shape(op, {http_response{200, "{}"},
                           http_response{401, R"({"error":"not_authorized"})"},
                           http_response{200, "{}"}}));
  CHECK(contains(text, "refused warren's credentials"));
}

TEST_CASE("find_queues scans with minimal columns and a key per filter") {
  auto op = prepared("find_queues", R"({"min_messages":5,"max_consumers":0})");
  CHECK(op.requests.front().target ==
        "/api/queues?columns=name,vhost,type,state,messages,messages_ready,consumers,"
        "idle_since");
  CHECK(op.cache_key == "queues:find::?min_messages=5&max_consumers=0&limit=50");
  CHECK(prepared("find_queues", R"({"vhost":"dev"})")
            .requests.front()
            .target.rfind("/api/queues/dev?", 0) == 0);
  CHECK(contains(refusal("find_queues", R"({"limit":501})"),
                 "'limit' must be at most 500"));
}

TEST_CASE("find_queues filters by backlog, consumers and idle time, biggest first") {
  const std::string body =
      R"([{"name":"small","vhost":"/","messages":3,"consumers":0,)"
      R"("idle_since":"2020-01-01T00:00:00.000+00:00"},)"
      R"({"name":"busy","vhost":"/","messages":500,"consumers":2},)"
      R"({"name":"stuck","vhost":"b","messages":90,"consumers":0,)"
      R"("idle_since":"2020-01-01 0:00:00"},)"
      R"({"name":"stuck","vhost":"a","messages":90,"consumers":0,)"
      R"("idle_since":"2020-01-01T00:00:00+02:00"},)"
      R"({"name":"fresh","vhost":"/","messages":80,"consumers":0,)"
      R"("idle_since":"2999-01-01T00:00:00.000+00:00"}])";
  auto all = structured(answer("find_queues", "{}", 200, body));
  REQUIRE(all["items"].Size() == 5);
  CHECK(str(all["items"][0]["name"]) == "busy");
  CHECK(str(all["items"][1]["vhost"]) == "a"); // ties: by vhost, then name
  CHECK(str(all["items"][2]["vhost"]) == "b");
  CHECK(all["scanned"].GetInt() == 5);
  CHECK(all["truncated"].IsFalse());
  CHECK_FALSE(all["items"][0].HasMember("idle_seconds"));
  CHECK(all["items"][1]["idle_seconds"].GetInt64() > 100000000);
  auto stuck = structured(answer(
      "find_queues", R"({"min_messages":10,"max_consumers":0,"idle_seconds":3600})",
      200, body));
  REQUIRE(stuck["items"].Size() == 2);
  CHECK(str(stuck["items"][0]["name"]) == "stuck");
  CHECK(str(stuck["items"][1]["name"]) == "stuck");
  CHECK(stuck["matched"].GetInt() == 2);
  auto limited = structured(answer("find_queues", R"({"limit":1})", 200, body));
  CHECK(limited["items"].Size() == 1);
  CHECK(limited["matched"].GetInt() == 5);
  CHECK(limited["truncated"].IsTrue());
}

// -- writes: requests ----------------------------------------------------------------

TEST_CASE("create_queue PUTs a durable queue with the convenience arguments") {
  auto op = writing("create_queue",
                    R"({"name":"orders","queue_type":"quorum","message_ttl_ms":60000,)"
                    R"("dead_letter_exchange":"dlx","max_length":10,)"
                    R"("arguments":{"x-max-priority":5}})");
  REQUIRE(op.requests.size() == 1);
  CHECK(op.requests[0].method == "PUT");
  CHECK(op.requests[0].target == "/api/queues/%2F/orders");
  auto body = parse(op.requests[0].body);
  CHECK(body["durable"].IsTrue());
  CHECK(body["auto_delete"].IsFalse());
  CHECK(str(body["arguments"]["x-queue-type"]) == "quorum");
  CHECK(body["arguments"]["x-message-ttl"].GetInt() == 60000);
  CHECK(str(body["arguments"]["x-dead-letter-exchange"]) == "dlx");
  CHECK(body["arguments"]["x-max-length"].GetInt() == 10);
  CHECK(body["arguments"]["x-max-priority"].GetInt() == 5);
  CHECK_FALSE(op.precheck);
  CHECK(op.writes);
  CHECK(op.idempotent);
  for (auto key :
       {"queues:list:/:", "queues:list::", "queues:find:/:", "queues:get:/:orders"})
    CHECK(has(op.invalidates, key));
}

TEST_CASE("create_queue refuses reserved names, doubled arguments and transient "
          "quorum queues") {
  CHECK(contains(writing_refusal("create_queue", R"({"name":"amq.q"})"),
                 "'name' must not start with 'amq.'"));
  CHECK(contains(writing_refusal("create_queue", R"({"name":"q","max_length":1,)"
                                                 R"("arguments":{"x-max-length":2}})"),
                 "'max_length' and arguments.x-max-length"));
  CHECK(
      contains(writing_refusal("create_queue",
                               R"({"name":"q","queue_type":"quorum","durable":false})"),
               "'durable' must be true for quorum queues"));
  CHECK(contains(writing_refusal("create_queue", R"({"name":"q","exclusive":true})"),
                 "unknown argument 'exclusive'"));
  CHECK(contains(writing_refusal("create_queue", R"({"name":"q","queue_type":"lazy"})"),
                 "'queue_type' must be one of"));
  CHECK(contains(writing_refusal("create_queue", R"({"name":"q","message_ttl_ms":-1})"),
                 "'message_ttl_ms' must be at least 0"));
}

TEST_CASE("delete_queue and purge_queue check the queue first") {
  auto del = writing("delete_queue", R"({"name":"a b","vhost":"v"})");
  REQUIRE(del.precheck);
  CHECK(del.precheck->method == "GET");
  CHECK(del.precheck->target == "/api/queues/v/a%20b?columns=name,vhost,messages,"
                                "consumers");
  CHECK(del.requests.at(0).method == "DELETE");
  CHECK(del.requests.at(0).target == "/api/queues/v/a%20b");
  CHECK(has(del.invalidates, "bindings:list:v:"));
  CHECK(has(del.invalidates, "queues:get:v:a b"));
  auto purge = writing("purge_queue", R"({"name":"q"})");
  CHECK(purge.requests.at(0).target == "/api/queues/%2F/q/contents");
  CHECK(purge.requests.at(0).method == "DELETE");
  CHECK(parse(purge.arguments_json)["force"].IsFalse());
  CHECK(parse(purge.arguments_json)["dry_run"].IsFalse());
}

TEST_CASE("create_exchange PUTs type and flags; delete_exchange checks its bindings") {
  auto op = writing("create_exchange", R"({"name":"events","type":"topic"})");
  CHECK(op.requests.at(0).method == "PUT");
  CHECK(op.requests.at(0).target == "/api/exchanges/%2F/events");
  auto body = parse(op.requests.at(0).body);
  CHECK(str(body["type"]) == "topic");
  CHECK(body["durable"].IsTrue());
  CHECK(body["internal"].IsFalse());
  CHECK(body["arguments"].IsObject());
  CHECK(has(op.invalidates, "exchanges:list:/:"));
  CHECK(has(op.invalidates, "exchanges:get:/:events"));
  CHECK(contains(writing_refusal("create_exchange", R"({"name":"events"})"),
                 "'type' is required"));
  CHECK(
      contains(writing_refusal("create_exchange", R"({"name":"amq.x","type":"topic"})"),
               "'name' must not start with 'amq.'"));
  auto del = writing("delete_exchange", R"({"name":"events"})");
  CHECK(del.precheck->target == "/api/exchanges/%2F/events/bindings/source");
  CHECK(del.requests.at(0).method == "DELETE");
  CHECK(del.requests.at(0).target == "/api/exchanges/%2F/events");
  CHECK(has(del.invalidates, "bindings:list:/:"));
}

TEST_CASE("the default exchange and amq.* exchanges cannot be deleted") {
  CHECK(contains(writing_refusal("delete_exchange", R"({"name":"amq.default"})"),
                 "the default exchange cannot be deleted"));
  CHECK(contains(writing_refusal("delete_exchange", R"({"name":"amq.topic"})"),
                 "exchange 'amq.topic' is one of the broker's predeclared"));
  CHECK(contains(writing_refusal("delete_exchange", R"({"name":""})"), "'name'"));
}

TEST_CASE("create_binding POSTs to the queue or exchange destination") {
  auto op = writing("create_binding", R"({"source":"events","destination":"q 1",)"
                                      R"("routing_key":"order.*"})");
  CHECK(op.requests.at(0).method == "POST");
  CHECK(op.requests.at(0).target == "/api/bindings/%2F/e/events/q/q%201");
  auto body = parse(op.requests.at(0).body);
  CHECK(str(body["routing_key"]) == "order.*");
  CHECK(body["arguments"].IsObject());
  CHECK(has(op.invalidates, "bindings:list:/:"));
  auto to_exchange = writing("create_binding", R"({"source":"a","destination":"b",)"
                                               R"("destination_type":"exchange"})");
  CHECK(to_exchange.requests.at(0).target == "/api/bindings/%2F/e/a/e/b");
  CHECK(str(parse(to_exchange.requests.at(0).body)["routing_key"]) == "");
  CHECK(
      contains(writing_refusal("create_binding", R"({"source":"","destination":"q"})"),
               "'source' cannot be the default exchange"));
  CHECK(contains(writing_refusal("create_binding", R"({"source":"x","destination":"q",)"
                                                   R"("destination_type":"topic"})"),
                 "'destination_type' must be one of"));
  std::string wide;
  for (int i = 0; i < 128; ++i)
    wide += "\xC3\xA9";
  CHECK(contains(writing_refusal("create_binding", R"({"source":"x","destination":"q",)"
                                                   R"("routing_key":")" +
                                                       wide + "\"}"),
                 "'routing_key' must be at most 255 bytes"));
}

TEST_CASE("delete_binding names the binding by its properties_key") {
  auto empty = writing("delete_binding", R"({"source":"x","destination":"q"})");
  CHECK(empty.precheck->target == "/api/bindings/%2F/e/x/q/q");
  CHECK(empty.requests.at(0).method == "DELETE");
  CHECK(empty.requests.at(0).target == "/api/bindings/%2F/e/x/q/q/~");
  auto keyed = writing("delete_binding", R"({"source":"x","destination":"q",)"
                                         R"("routing_key":"a b~c"})");
  CHECK(keyed.requests.at(0).target == "/api/bindings/%2F/e/x/q/q/a%2Bb%257Ec");
  auto given = writing("delete_binding",
                       R"({"source":"x","destination":"e","destination_type":)"
                       R"("exchange","properties_key":"rk~abc","arguments":{"a":1}})");
  CHECK(given.requests.at(0).target == "/api/bindings/%2F/e/x/e/e/rk~abc");
  CHECK(contains(writing_refusal("delete_binding", R"({"source":"x","destination":)"
                                                   R"("q","arguments":{"a":1}})"),
                 "'properties_key' is required for a binding with arguments"));
}

// -- writes: reviews -----------------------------------------------------------------

TEST_CASE("delete_queue refuses a queue with messages or consumers without force") {
  auto verdict = reviewed("delete_queue", R"({"name":"orders"})", 200, busy_queue);
  REQUIRE(verdict);
  CHECK(error_text(*verdict) ==
        "queue 'orders' in vhost '/' still holds 12 messages (3 consumers), as of the "
        "broker's last statistics, which lag up to ~5 s; pass force: true to delete it "
        "anyway, or dry_run: true to see what would be affected");
  auto consumers_only = reviewed("delete_queue", R"({"name":"orders"})", 200,
                                 R"({"messages":0,"consumers":1})");
  REQUIRE(consumers_only);
  CHECK(contains(error_text(*consumers_only), "0 messages (1 consumer)"));
}

TEST_CASE("delete_queue goes ahead with force, or for an empty unused queue") {
  CHECK_FALSE(
      reviewed("delete_queue", R"({"name":"orders","force":true})", 200, busy_queue));
  CHECK_FALSE(reviewed("delete_queue", R"({"name":"orders"})", 200, idle_queue));
  // A new queue without statistics yet counts as empty.
  CHECK_FALSE(reviewed("delete_queue", R"({"name":"orders"})", 200, R"({})"));
}

TEST_CASE("a dry run reports what would be deleted or purged and changes nothing") {
  for (auto [tool, key] : {std::pair{"delete_queue", "would_delete"},
                           std::pair{"purge_queue", "would_purge"}}) {
    CAPTURE(tool);
    auto verdict = reviewed(tool, R"({"name":"orders","dry_run":true,"force":true})",
                            200, busy_queue);
    REQUIRE(verdict);
    auto out = structured(*verdict);
    CHECK(out["dry_run"].IsTrue());
    CHECK(str(out[key]["queue"]) == "orders");
    CHECK(str(out[key]["vhost"]) == "/");
    CHECK(out[key]["messages"].GetInt() == 12);
    CHECK(out[key]["consumers"].GetInt() == 3);
    CHECK(contains(str(out["note"]), "last statistics"));
  }
}

TEST_CASE("purge_queue refuses a queue with messages, not one with only consumers") {
  auto verdict = reviewed("purge_queue", R"({"name":"orders"})", 200, busy_queue);
  REQUIRE(verdict);
  CHECK(contains(error_text(*verdict), "holds 12 messages (3 consumers)"));
  CHECK(contains(error_text(*verdict), "pass force: true to purge it"));
  CHECK_FALSE(reviewed("purge_queue", R"({"name":"orders"})", 200,
                       R"({"messages":0,"consumers":3})"));
  CHECK_FALSE(
      reviewed("purge_queue", R"({"name":"orders","force":true})", 200, busy_queue));
}

TEST_CASE("a guarded write of a missing queue or exchange is an error naming it") {
  auto queue = reviewed("delete_queue", R"({"name":"gone"})", 404,
                        R"({"error":"Object Not Found","reason":"Not Found"})");
  REQUIRE(queue);
  CHECK(contains(error_text(*queue), "queue 'gone' was not found in vhost '/'"));
  auto exchange = reviewed("delete_exchange", R"({"name":"gone"})", 404, "{}");
  REQUIRE(exchange);
  CHECK(contains(error_text(*exchange), "exchange 'gone' was not found"));
  auto denied =
      reviewed("purge_queue", R"({"name":"q"})", 401, R"({"error":"not_authorized"})");
  REQUIRE(denied);
  CHECK(contains(error_text(*denied), "credentials"));
}

TEST_CASE("delete_exchange refuses an exchange that routes somewhere without force") {
  const std::string bindings = "[" + binding(1) + "," + binding(2) + "]";
  auto verdict = reviewed("delete_exchange", R"({"name":"orders-x"})", 200, bindings);
  REQUIRE(verdict);
  CHECK(contains(error_text(*verdict),
                 "exchange 'orders-x' in vhost '/' is the source of 2 bindings"));
  CHECK_FALSE(reviewed("delete_exchange", R"({"name":"orders-x","force":true})", 200,
                       bindings));
  CHECK_FALSE(reviewed("delete_exchange", R"({"name":"orders-x"})", 200, "[]"));
  auto dry = reviewed("delete_exchange", R"({"name":"orders-x","dry_run":true})", 200,
                      bindings);
  REQUIRE(dry);
  auto out = structured(*dry);
  CHECK(out["would_delete"]["binding_count"].GetInt() == 2);
  CHECK(str(out["would_delete"]["bindings"][1]["destination"]) == "q2");
  CHECK(contains(str(out["note"]), "destination"));
}

TEST_CASE("delete_binding checks that the binding exists") {
  const std::string between =
      R"([{"source":"x","vhost":"/","destination":"q","destination_type":"queue",)"
      R"("routing_key":"a","arguments":{},"properties_key":"a"}])";
  auto missing = reviewed("delete_binding",
                          R"({"source":"x","destination":"q",)"
                          R"("routing_key":"b"})",
                          200, between);
  REQUIRE(missing);
  CHECK(
      contains(error_text(*missing), "no such binding from exchange 'x' to queue 'q'"));
  CHECK(contains(error_text(*missing), "routing_key 'a' (properties_key 'a')"));
  auto none =
      reviewed("delete_binding", R"({"source":"x","destination":"q"})", 200, "[]");
  REQUIRE(none);
  CHECK(contains(error_text(*none), "There are no bindings between them"));
  CHECK_FALSE(reviewed("delete_binding",
                       R"({"source":"x","destination":"q","routing_key":"a"})", 200,
                       between));
  auto dry = reviewed("delete_binding",
                      R"({"source":"x","destination":"q",)"
                      R"("routing_key":"a","dry_run":true})",
                      200, between);
  REQUIRE(dry);
  CHECK(str(structured(*dry)["would_delete"]["properties_key"]) == "a");
  auto ends =
      reviewed("delete_binding", R"({"source":"x","destination":"q"})", 404, "");
  REQUIRE(ends);
  CHECK(contains(error_text(*ends), "the source exchange 'x' or the queue 'q' was not "
                                    "found"));
}

TEST_CASE("review lets reads and unguarded writes through") {
  CHECK_FALSE(
      catalog().review(prepared("list_queues", "{}"), http_response{200, "[]"}));
  CHECK_FALSE(writing_catalog().review(writing("create_queue", R"({"name":"q"})"),
                                       http_response{404, ""}));
}

// -- writes: results -----------------------------------------------------------------

TEST_CASE("a write's result says what happened and to what") {
  auto created = structured(written("create_queue", R"({"name":"q"})", 201));
  CHECK(created["created"].IsTrue());
  CHECK(str(created["name"]) == "q");
  CHECK(str(created["vhost"]) == "/");
  CHECK(
      structured(written("create_queue", R"({"name":"q"})", 204))["created"].IsFalse());
  CHECK(
      structured(written("delete_queue", R"({"name":"q"})", 204))["deleted"].IsTrue());
  CHECK(structured(written("purge_queue", R"({"name":"q"})", 204))["purged"].IsTrue());
  auto bound = structured(written("create_binding",
                                  R"({"source":"x","destination":)"
                                  R"("q","routing_key":"k"})",
                                  201));
  CHECK(bound["created"].IsTrue());
  CHECK(str(bound["routing_key"]) == "k");
  CHECK(str(bound["destination_type"]) == "queue");
}

TEST_CASE("a refused declaration quotes the broker's reason") {
  auto text = error_text(written(
      "create_queue", R"({"name":"q"})", 400,
      R"({"error":"bad_request","reason":"inequivalent arg 'durable' for queue 'q'"})"));
  CHECK(contains(text, "inequivalent arg 'durable'"));
  CHECK(contains(
      error_text(written("create_queue", R"({"name":"q","vhost":"nope"})", 404, "{}")),
      "vhost 'nope' was not found"));
}

// -- AMQP tools ----------------------------------------------------------------------

TEST_CASE("publish_message builds an AMQP publish with defaults") {
  auto op = writing("publish_message",
                    R"({"routing_key":"orders","body":"hi","headers":{"k":1},)"
                    R"("expiration_ms":5000,"priority":3,"message_id":"m1"})");
  CHECK(op.backend == backend_kind::amqp);
  CHECK(op.requests.empty());
  CHECK(op.amqp.what == amqp_request::kind::publish);
  auto& p = op.amqp.publish;
  CHECK(p.vhost == "/");
  CHECK(p.exchange == "");
  CHECK(p.routing_key == "orders");
  CHECK(p.body == "hi");
  CHECK(p.headers_json == R"({"k":1})");
  CHECK(p.persistent);
  CHECK(p.mandatory);
  CHECK(p.expiration == "5000");
  CHECK(p.priority == 3);
  CHECK(p.message_id == "m1");
  CHECK(op.writes);
  CHECK_FALSE(op.idempotent);
  CHECK(op.cache_key.empty());
  auto binary =
      writing("publish_message", R"({"exchange":"amq.default",)"
                                 R"("body_base64":"AP8=","persistent":false})");
  CHECK(binary.amqp.publish.body == std::string("\x00\xFF", 2));
  CHECK(binary.amqp.publish.exchange == "");
  CHECK_FALSE(binary.amqp.publish.persistent);
  CHECK(binary.amqp.publish.priority == -1);
  CHECK(binary.amqp.publish.expiration.empty());
}

TEST_CASE("a publish to the default exchange refreshes only its queue and the "
          "queue lists, and drops nothing") {
  for (auto exchange : {"", "amq.default"}) {
    auto op =
        writing("publish_message", std::string{R"({"exchange":")"} + exchange +
                                       R"(","routing_key":"orders","body":"hi"})");
    for (auto key : {"queues:list:/:", "queues:list::", "queues:find:/:",
                     "queues:find::", "queues:get:/:orders", "overview:get::"})
      CHECK(has(op.refreshes, key));
    CHECK_FALSE(has(op.refreshes, "queues:get:/:"));
    CHECK(op.invalidates.empty()); // counts change, never which queues exist
  }
  auto escaped =
      writing("publish_message", R"({"vhost":"v:1","routing_key":"a:b","body":"hi"})");
  CHECK(has(escaped.refreshes, "queues:get:v%3A1:a%3Ab"));
  CHECK_FALSE(has(escaped.refreshes, "queues:get:v%3A1:"));
}

TEST_CASE("a publish to another exchange, or with no routing key, refreshes every "
          "queue of the vhost") {
  auto routed = writing("publish_message", R"({"exchange":"events","routing_key":)"
                                           R"("orders","body":"hi"})");
  CHECK(has(routed.refreshes, "queues:get:/:"));
  CHECK(has(routed.refreshes, "queues:list:/:"));
  CHECK_FALSE(has(routed.refreshes, "queues:get:/:orders"));
  auto nameless = writing("publish_message", R"({"body":"hi"})");
  CHECK(has(nameless.refreshes, "queues:get:/:"));
}

TEST_CASE("publish_message wants exactly one valid body and a priority up to 255") {
  CHECK(contains(writing_refusal("publish_message", "{}"),
                 "'body' (text) or 'body_base64' (binary) is required"));
  CHECK(contains(
      writing_refusal("publish_message", R"({"body":"a","body_base64":"YQ=="})"),
      "either 'body' or 'body_base64', not both"));
  CHECK(contains(writing_refusal("publish_message", R"({"body_base64":"!!"})"),
                 "'body_base64' is not valid base64"));
  CHECK(contains(writing_refusal("publish_message", R"({"body":"a","priority":256})"),
                 "'priority' must be at most 255"));
}

TEST_CASE("get_messages peeks without writes; ack and drop need them") {
  auto op = prepared("get_messages", R"({"queue":"orders"})");
  CHECK(op.backend == backend_kind::amqp);
  CHECK(op.amqp.what == amqp_request::kind::get);
  CHECK(op.amqp.get.queue == "orders");
  CHECK(op.amqp.get.vhost == "/");
  CHECK(op.amqp.get.count == 1);
  CHECK(op.amqp.get.mode == ack_mode::reject_requeue);
  CHECK_FALSE(op.writes);
  CHECK(op.invalidates.empty());
  auto message = refusal("get_messages", R"({"queue":"orders","ack_mode":"ack"})");
  CHECK(contains(message, "'ack_mode' 'ack' removes messages"));
  CHECK(contains(message, "--allow-writes"));
  auto ack = writing("get_messages", R"({"queue":"q","ack_mode":"reject_drop",)"
                                     R"("count":100})");
  CHECK(ack.amqp.get.mode == ack_mode::reject_drop);
  CHECK(ack.amqp.get.count == 100);
  CHECK(ack.writes);
  CHECK(has(ack.refreshes, "queues:get:/:q"));
  CHECK(ack.invalidates.empty());
  CHECK(contains(refusal("get_messages", R"({"queue":"q","count":101})"),
                 "'count' must be at most 100"));
}

TEST_CASE("a confirmed publish is a structured result") {
  auto op = writing("publish_message", R"({"exchange":"x","routing_key":"k",)"
                                       R"("body":"b","message_id":"m1"})");
  amqp_response confirmed;
  confirmed.result = amqp_response::outcome::confirmed;
  auto out = structured(writing_catalog().shape_amqp(op, confirmed));
  CHECK(out["published"].IsTrue());
  CHECK(out["confirmed"].IsTrue());
  CHECK(str(out["exchange"]) == "x");
  CHECK(str(out["routing_key"]) == "k");
  CHECK(str(out["message_id"]) == "m1");
}

TEST_CASE("a returned or nacked publish is an error that says nothing was stored") {
  auto op = writing("publish_message", R"({"exchange":"x","routing_key":"k",)"
                                       R"("body":"b"})");
  amqp_response returned;
  returned.result = amqp_response::outcome::returned;
  returned.reply_code = 312;
  returned.reply_text = "NO_ROUTE";
  CHECK(error_text(writing_catalog().shape_amqp(op, returned))
            .rfind("the broker returned the message as unroutable (312 NO_ROUTE): no "
                   "queue is bound to exchange 'x' with routing key 'k'. Message "
                   "'" +
                       op.amqp.publish.message_id + "' was not stored.",
                   0) == 0);
  amqp_response nacked;
  nacked.result = amqp_response::outcome::nacked;
  CHECK(contains(error_text(writing_catalog().shape_amqp(op, nacked)),
                 "the broker refused message '" + op.amqp.publish.message_id +
                     "' (nack); it was not stored"));
}

TEST_CASE("a publish without a message_id gets a fresh one, named in its result") {
  auto a =
      writing("publish_message", R"({"exchange":"x","routing_key":"k","body":"b"})");
  auto b =
      writing("publish_message", R"({"exchange":"x","routing_key":"k","body":"b"})");
  CHECK(a.amqp.publish.message_id.rfind("warren-", 0) == 0);
  CHECK(a.amqp.publish.message_id.size() == 23);
  CHECK(a.amqp.publish.message_id != b.amqp.publish.message_id);
  amqp_response confirmed;
  confirmed.result = amqp_response::outcome::confirmed;
  auto out = structured(writing_catalog().shape_amqp(a, confirmed));
  CHECK(str(out["message_id"]) == a.amqp.publish.message_id);
}

TEST_CASE("fetched messages show text bodies, base64 for binary, and cut long ones") {
  auto op = prepared("get_messages", R"({"queue":"q","count":3})");
  amqp_response got;
  got.result = amqp_response::outcome::delivered;
  amqp_delivery text;
  text.body = R"({"id":1})";
  text.redelivered = true;
  text.exchange = "x";
  text.routing_key = "k";
  text.content_type = "application/json";
  text.headers_json = R"({"trace":"t1"})";
  text.delivery_mode = 2;
  text.timestamp = 1700000000;
  text.message_count = 9;
  amqp_delivery binary;
  binary.body = std::string("\x00\xFF\x01", 3);
  binary.message_count = 8;
  amqp_delivery long_text;
  // 15 ASCII bytes then a two-byte character: 16 bytes would split it.
  long_text.body = std::string(15, 'a') + "\xC3\xA9" + "tail";
  long_text.message_count = 7;
  got.messages = {text, binary, long_text};
  auto out = structured(writing_catalog().shape_amqp(op, got));
  CHECK(out["count"].GetInt() == 3);
  CHECK(out["remaining"].GetInt() == 7);
  CHECK(str(out["ack_mode"]) == "reject_requeue");
  auto& m0 = out["messages"][0];
  CHECK(str(m0["body"]) == R"({"id":1})");
  CHECK(str(m0["body_encoding"]) == "text");
  CHECK(m0["truncated"].IsFalse());
  CHECK(m0["body_bytes"].GetInt() == 8);
  CHECK(m0["redelivered"].IsTrue());
  CHECK(str(m0["properties"]["content_type"]) == "application/json");
  CHECK(str(m0["properties"]["headers"]["trace"]) == "t1");
  CHECK(m0["properties"]["delivery_mode"].GetInt() == 2);
  CHECK(m0["properties"]["timestamp"].GetInt64() == 1700000000);
  CHECK_FALSE(m0["properties"].HasMember("priority"));
  CHECK_FALSE(m0["properties"].HasMember("message_id"));
  auto& m1 = out["messages"][1];
  CHECK_FALSE(m1.HasMember("body"));
  CHECK(str(m1["body_base64"]) == "AP8B");
  CHECK(str(m1["body_encoding"]) == "base64");
  CHECK(m1["properties"].ObjectEmpty());
  auto& m2 = out["messages"][2];
  CHECK(str(m2["body"]) == std::string(15, 'a'));
  CHECK(m2["truncated"].IsTrue());
  CHECK(m2["body_bytes"].GetInt() == 21);
}

TEST_CASE("a long binary body is cut before encoding") {
  auto op = prepared("get_messages", R"({"queue":"q"})");
  amqp_response got;
  got.result = amqp_response::outcome::delivered;
  amqp_delivery d;
  d.body = std::string(20, '\xFF');
  got.messages = {d};
  auto out = structured(writing_catalog().shape_amqp(op, got));
  auto& m = out["messages"][0];
  CHECK(str(m["body_base64"]) == "/////////////////////w==");
  CHECK(m["truncated"].IsTrue());
  CHECK(m["body_bytes"].GetInt() == 20);
}

TEST_CASE("an empty queue gives no messages, not an error") {
  auto op = prepared("get_messages", R"({"queue":"q"})");
  amqp_response got;
  got.result = amqp_response::outcome::delivered;
  auto out = structured(catalog().shape_amqp(op, got));
  CHECK(out["messages"].Empty());
  CHECK(out["count"].GetInt() == 0);
  CHECK_FALSE(out.HasMember("remaining"));
}

TEST_CASE("shape_amqp refuses a management tool") {
  CHECK(contains(error_text(catalog().shape_amqp(prepared("overview", "{}"), {})),
                 "does not use AMQP"));
}

TEST_CASE("only topology reads are cached: queues, exchanges, bindings, vhosts") {
  CHECK_FALSE(prepared("list_queues", "{}").cache_key.empty());
  CHECK_FALSE(prepared("get_queue", R"({"name":"q"})").cache_key.empty());
  CHECK_FALSE(prepared("list_exchanges", "{}").cache_key.empty());
  CHECK_FALSE(prepared("list_bindings", "{}").cache_key.empty());
  CHECK_FALSE(prepared("list_vhosts", "{}").cache_key.empty());
  CHECK_FALSE(prepared("find_queues", "{}").cache_key.empty());
  for (auto fresh :
       {"overview", "list_connections", "list_consumers", "list_nodes", "health_check"})
    CHECK_MESSAGE(prepared(fresh, "{}").cache_key.empty(), fresh);
}
