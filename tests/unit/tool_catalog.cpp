#include "protocol/tool_catalog.hpp"

#include <doctest/doctest.h>

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

operation prepared(std::string_view tool, std::string_view args) {
  auto op = catalog().prepare(tool, args);
  REQUIRE_MESSAGE(op, "prepare failed: " << message_of(op.error()));
  return *op;
}

// The message of a refused prepare(), checking it is refused as invalid_params.
std::string refusal(std::string_view tool, std::string_view args) {
  auto op = catalog().prepare(tool, args);
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

TEST_CASE("the catalog offers the six read-only tools") {
  std::set<std::string> names;
  for (std::size_t i = 0; i < catalog().size(); ++i)
    names.insert(str(parse(catalog().tool_json(i))["name"]));
  CHECK(names == std::set<std::string>{"overview", "list_vhosts", "list_queues",
                                       "get_queue", "list_exchanges", "list_bindings"});
  for (auto& name : names)
    CHECK(catalog().contains(name));
  CHECK_FALSE(catalog().contains("delete_queue"));
}

TEST_CASE("every tool is valid JSON with schemas that compile and truthful hints") {
  for (std::size_t i = 0; i < catalog().size(); ++i) {
    auto tool = parse(catalog().tool_json(i));
    CAPTURE(catalog().tool_json(i));
    for (auto key : {"name", "title", "description"}) {
      REQUIRE(tool.HasMember(key));
      CHECK(tool[key].GetStringLength() > 0);
    }
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
    CHECK(hints["readOnlyHint"].IsTrue());
    CHECK(hints["destructiveHint"].IsFalse());
    CHECK(hints["idempotentHint"].IsTrue());
    CHECK(hints["openWorldHint"].IsTrue());
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
  CHECK(op.cache_key == "overview:get::");
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
  CHECK(contains(refusal("get_queue", "{\"name\":\"\xFF\"}"), "not valid JSON"));
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
