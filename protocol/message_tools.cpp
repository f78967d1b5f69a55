#include <algorithm>
#include <cstdio>
#include <random>

#include "protocol/base64.hpp"
#include "protocol/json_text.hpp"
#include "protocol/tool_spec.hpp"

// Tools that go to the broker over AMQP 0-9-1: publishing with confirms, and taking
// messages with basic.get.
namespace warren::tools {

namespace {

// Publishing and taking messages change queues' counts, never which queues exist:
// their keys are refreshed (kept only until the settle window ends, when the
// statistics show the change), not dropped.
void refresh_queues(operation& op, const std::string& vhost, const std::string& name) {
  invalidate_queues(op, vhost, name);
  op.refreshes = std::move(op.invalidates);
  op.invalidates.clear();
}

// -- publish_message -----------------------------------------------------------------

std::string check_publish(const rj::Value& args) {
  auto text = has_arg(args, "body");
  auto encoded = has_arg(args, "body_base64");
  if (text == encoded)
    return text ? "give either 'body' or 'body_base64', not both"
                : "'body' (text) or 'body_base64' (binary) is required";
  if (encoded && !base64_decode(string_arg(args, "body_base64")))
    return "'body_base64' is not valid base64 (RFC 4648, with padding)";
  return {};
}

std::string generated_message_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  char text[24];
  std::snprintf(text, sizeof(text), "warren-%016llx",
                static_cast<unsigned long long>(random()));
  return text;
}

void build_publish(const tool_spec&, const rj::Value& args, operation& op) {
  op.backend = backend_kind::amqp;
  op.amqp.what = amqp_request::kind::publish;
  auto& p = op.amqp.publish;
  p.vhost = string_arg(args, "vhost");
  p.exchange = string_arg(args, "exchange");
  // AMQP knows the default exchange only by the empty name.
  if (p.exchange == "amq.default")
    p.exchange.clear();
  p.routing_key = string_arg(args, "routing_key");
  p.body = has_arg(args, "body_base64")
               ? base64_decode(string_arg(args, "body_base64")).value_or("")
               : string_arg(args, "body");
  p.content_type = string_arg(args, "content_type");
  p.content_encoding = string_arg(args, "content_encoding");
  if (auto headers = member(args, "headers"); headers && headers->IsObject())
    p.headers_json = to_json(*headers);
  p.persistent = bool_arg(args, "persistent");
  p.mandatory = bool_arg(args, "mandatory");
  p.message_id = string_arg(args, "message_id");
  // Every message gets an id, so that a publish whose confirm never came can be
  // looked for in the queue (and told apart from a second try).
  if (p.message_id.empty())
    p.message_id = generated_message_id();
  p.correlation_id = string_arg(args, "correlation_id");
  p.reply_to = string_arg(args, "reply_to");
  if (has_arg(args, "expiration_ms"))
    p.expiration = std::to_string(int_arg(args, "expiration_ms", 0));
  p.priority = static_cast<int>(int_arg(args, "priority", -1));
  // The routed-to queues' counts change. The default exchange routes only to the
  // queue named by the routing key, so that queue's key and the lists are enough (a
  // queue it dead-letters into on overflow keeps its counts until its time to live,
  // like any change made outside warren). Any other exchange routes where its
  // bindings say, which warren does not know: every queue of the vhost, which is
  // what the empty name stands for (as with an empty routing key).
  refresh_queues(op, p.vhost, p.exchange.empty() ? p.routing_key : std::string{});
}

tool_result shape_publish(const amqp_request& sent, const amqp_response& response,
                          const rj::Value& args, const catalog_options&) {
  const auto& id = sent.publish.message_id;
  auto exchange = string_arg(args, "exchange");
  auto routing_key = string_arg(args, "routing_key");
  switch (response.result) {
  case amqp_response::outcome::confirmed: {
    rj::Document out(rj::kObjectType);
    auto& alloc = out.GetAllocator();
    out.AddMember("published", true, alloc);
    out.AddMember("confirmed", true, alloc);
    out.AddMember("exchange", rj::Value(exchange, alloc), alloc);
    out.AddMember("routing_key", rj::Value(routing_key, alloc), alloc);
    out.AddMember("message_id", rj::Value(id, alloc), alloc);
    return success(out);
  }
  case amqp_response::outcome::returned: {
    auto code = response.reply_code ? response.reply_code : 312;
    auto text = response.reply_text.empty() ? std::string{"NO_ROUTE"}
                                            : clip_utf8(response.reply_text, 200);
    return tool_catalog::failure(
        "the broker returned the message as unroutable (" + std::to_string(code) + " " +
        text + "): no queue is bound to exchange " +
        quoted(exchange.empty() ? std::string{"(default)"} : exchange) +
        " with routing key " + quoted(routing_key) + ". Message " + quoted(id) +
        " was not stored. list_bindings shows where the exchange routes.");
  }
  case amqp_response::outcome::nacked:
    return tool_catalog::failure(
        "the broker refused message " + quoted(id) +
        " (nack); it was not stored. Try again; if it keeps happening, check the "
        "broker's health (health_check).");
  default:
    return tool_catalog::failure(
        "internal error: the AMQP backend answered a publish with deliveries");
  }
}

// -- get_messages --------------------------------------------------------------------

const char* const peek_mode = "reject_requeue";

// Taking messages with ack or reject_drop removes them; reject_requeue puts them back
// (marked redelivered) and counts as a read, so an agent can peek without writes.
std::string get_writes(const rj::Value& args) {
  auto mode = string_arg(args, "ack_mode");
  if (mode.empty() || mode == peek_mode)
    return {};
  return "'ack_mode' " + quoted(mode) + " removes messages from the queue";
}

ack_mode mode_of(const std::string& mode) {
  if (mode == "ack")
    return ack_mode::ack;
  if (mode == "reject_drop")
    return ack_mode::reject_drop;
  return ack_mode::reject_requeue;
}

void build_get(const tool_spec&, const rj::Value& args, operation& op) {
  op.backend = backend_kind::amqp;
  op.amqp.what = amqp_request::kind::get;
  auto& g = op.amqp.get;
  g.vhost = string_arg(args, "vhost");
  g.queue = string_arg(args, "queue");
  g.count = static_cast<uint32_t>(int_arg(args, "count", 1));
  g.mode = mode_of(string_arg(args, "ack_mode"));
  if (g.mode != ack_mode::reject_requeue)
    refresh_queues(op, g.vhost, g.queue);
}

void add_string(rj::Value& dst, const char* key, const std::string& value,
                rj::Document::AllocatorType& alloc) {
  if (!value.empty())
    dst.AddMember(rj::StringRef(key), rj::Value(sanitize_utf8(value), alloc), alloc);
}

void add_int(rj::Value& dst, const char* key, int64_t value,
             rj::Document::AllocatorType& alloc) {
  dst.AddMember(rj::StringRef(key), rj::Value(value), alloc);
}

// The properties that were set, and only those.
rj::Value properties_of(const amqp_delivery& d, rj::Document::AllocatorType& alloc) {
  rj::Value props(rj::kObjectType);
  add_string(props, "content_type", d.content_type, alloc);
  add_string(props, "content_encoding", d.content_encoding, alloc);
  if (!d.headers_json.empty()) {
    rj::Document headers;
    headers.Parse<parse_flags>(d.headers_json.data(), d.headers_json.size());
    if (!headers.HasParseError() && headers.IsObject())
      props.AddMember("headers", copy_bounded(headers, alloc), alloc);
  }
  add_string(props, "message_id", d.message_id, alloc);
  add_string(props, "correlation_id", d.correlation_id, alloc);
  add_string(props, "reply_to", d.reply_to, alloc);
  add_string(props, "expiration", d.expiration, alloc);
  if (d.delivery_mode > 0)
    add_int(props, "delivery_mode", d.delivery_mode, alloc);
  if (d.priority >= 0)
    add_int(props, "priority", d.priority, alloc);
  if (d.timestamp >= 0)
    add_int(props, "timestamp", d.timestamp, alloc);
  return props;
}

// The body as text when it is UTF-8, else as base64; cut at max_body_bytes (on a
// character boundary for text).
rj::Value message_of(const amqp_delivery& d, std::size_t max_body_bytes,
                     rj::Document::AllocatorType& alloc) {
  rj::Value m(rj::kObjectType);
  std::string_view body = d.body;
  if (is_utf8(body)) {
    auto cut = utf8_prefix(body, max_body_bytes);
    m.AddMember("body", rj::Value(body.data(), static_cast<rj::SizeType>(cut), alloc),
                alloc);
    m.AddMember("body_encoding", "text", alloc);
    m.AddMember("truncated", cut < body.size(), alloc);
  } else {
    auto cut = std::min(body.size(), max_body_bytes);
    m.AddMember("body_base64", rj::Value(base64_encode(body.substr(0, cut)), alloc),
                alloc);
    m.AddMember("body_encoding", "base64", alloc);
    m.AddMember("truncated", cut < body.size(), alloc);
  }
  add_int(m, "body_bytes", static_cast<int64_t>(body.size()), alloc);
  m.AddMember("redelivered", d.redelivered, alloc);
  m.AddMember("exchange", rj::Value(sanitize_utf8(d.exchange), alloc), alloc);
  m.AddMember("routing_key", rj::Value(sanitize_utf8(d.routing_key), alloc), alloc);
  m.AddMember("properties", properties_of(d, alloc), alloc);
  return m;
}

tool_result shape_get(const amqp_request&, const amqp_response& response,
                      const rj::Value& args, const catalog_options& options) {
  if (response.result != amqp_response::outcome::delivered)
    return tool_catalog::failure(
        "internal error: the AMQP backend answered a get with a publish outcome");
  rj::Document out(rj::kObjectType);
  auto& alloc = out.GetAllocator();
  rj::Value messages(rj::kArrayType);
  for (auto& d : response.messages)
    messages.PushBack(message_of(d, options.max_body_bytes, alloc), alloc);
  out.AddMember("messages", messages, alloc);
  add_int(out, "count", static_cast<int64_t>(response.messages.size()), alloc);
  if (!response.messages.empty())
    add_int(out, "remaining", response.messages.back().message_count, alloc);
  out.AddMember("ack_mode", rj::Value(string_arg(args, "ack_mode"), alloc), alloc);
  return success(out);
}

// -- schemas -------------------------------------------------------------------------

const char* const short_string = R"({"type":"string","maxLength":255,"description":")";

std::string text_property(const char* key, const char* description) {
  return std::string{"\""} + key + "\":" + short_string + description + "\"}";
}

// Both tools change the broker, and neither is safe to repeat: a second publish is a
// second message, a second get takes the next ones.
tool_spec& add_amqp(spec_list& s, tool_spec spec, bool destructive, gate access,
                    amqp_shape_fn shape) {
  spec.hints = change_hints(spec.title, destructive, false);
  spec.access = access;
  spec.shape_amqp = shape;
  return s.emplace_back(std::move(spec));
}

} // namespace

const spec_list& message_tool_specs() {
  static const spec_list specs = [] {
    spec_list s;
    add_amqp(
        s,
        tool_spec{
            "publish_message",
            "Publish a message",
            "Publish one message to an exchange over AMQP and wait for the broker's "
            "confirm. Give the body as text ('body') or as base64 ('body_base64') for "
            "binary data. With mandatory (the default) a message no queue is bound to "
            "receive comes back as an error instead of being dropped silently. The "
            "empty "
            "exchange name is the default exchange, which routes to the queue named by "
            "the routing key. Needs writes enabled.",
            object_schema(
                std::string{vhost_property} + "," +
                    text_property("exchange", "The exchange (default \\\"\\\": the "
                                              "default exchange).") +
                    "," +
                    text_property("routing_key", "The routing key (for the default "
                                                 "exchange: the queue's name).") +
                    R"(,"body":{"type":"string","description":"The body as text (UTF-8)."},)"
                    R"("body_base64":{"type":"string","description":"The body as base64, )"
                    R"(for binary data."},)" +
                    text_property("content_type", "e.g. application/json") + "," +
                    text_property("content_encoding", "e.g. gzip") +
                    R"(,"headers":{"type":"object","description":"Header table, e.g. )"
                    R"({\"x-trace\": \"abc\"}."},)"
                    R"("persistent":{"type":"boolean","default":true,"description":)"
                    R"("Store it on disk in durable queues (default true)."},)"
                    R"("mandatory":{"type":"boolean","default":true,"description":)"
                    R"("Return it as an error when no queue receives it (default )"
                    R"(true)."},)" +
                    text_property("message_id",
                                  "Application message id; warren assigns one "
                                  "(warren-<hex>) when none is given, and "
                                  "names it in the result.") +
                    "," +
                    text_property("correlation_id",
                                  "Correlates a reply with a request.") +
                    "," + text_property("reply_to", "Queue for replies.") +
                    R"(,"expiration_ms":{"type":"integer","minimum":0,"maximum":)"
                    R"(4294967295,"description":"Per-message TTL in milliseconds."},)"
                    R"("priority":{"type":"integer","minimum":0,"maximum":255,)"
                    R"("description":"Message priority (queues with x-max-priority)."})",
                ""),
            R"({"type":"object","properties":{"published":{"type":"boolean"},)"
            R"("confirmed":{"type":"boolean","description":"the broker confirmed it"},)"
            R"("exchange":{"type":"string"},"routing_key":{"type":"string"},)"
            R"("message_id":{"type":"string"}},"required":["published","confirmed","message_id"]})",
            build_publish,
            nullptr,
            nullptr,
            check_publish,
        },
        false, gate::write, shape_publish);
    // Destructive: ack and reject_drop remove messages.
    add_amqp(
        s,
        tool_spec{
            "get_messages",
            "Get messages from a queue",
            "Take up to 'count' messages from a queue over AMQP (basic.get) to look at "
            "their bodies, headers and properties. The default ack_mode reject_requeue "
            "is "
            "a peek: the messages go back to the queue (marked redelivered, possibly "
            "in "
            "another order) and this works with writes disabled. ack_mode ack removes "
            "them, reject_drop drops them (dead-lettered if the queue has a "
            "dead-letter "
            "exchange); both need writes enabled. Bodies are text when valid UTF-8, "
            "else "
            "base64, and long ones are cut (truncated: true, body_bytes gives the full "
            "size). An empty queue gives no messages, not an error.",
            object_schema(
                std::string{vhost_property} + "," +
                    name_property("queue", "The queue to take messages from.") +
                    R"(,"count":{"type":"integer","minimum":1,"maximum":100,"default":1,)"
                    R"("description":"Most messages to take (1 to 100, default 1)."},)"
                    R"("ack_mode":{"type":"string","enum":["reject_requeue","ack",)"
                    R"("reject_drop"],"default":"reject_requeue","description":)"
                    R"("reject_requeue (default): peek and put back; ack: remove; )"
                    R"(reject_drop: drop or dead-letter."})",
                R"("queue")"),
            R"({"type":"object","properties":{"messages":{"type":"array","items":{)"
            R"("type":"object","properties":{"body":{"type":"string"},)"
            R"("body_base64":{"type":"string"},"body_encoding":{"type":"string",)"
            R"("enum":["text","base64"]},"truncated":{"type":"boolean"},)"
            R"("body_bytes":{"type":"integer","description":"the full body's size"},)"
            R"("redelivered":{"type":"boolean"},"exchange":{"type":"string"},)"
            R"("routing_key":{"type":"string"},"properties":{"type":"object",)"
            R"("description":"the AMQP properties that were set"}}}},)"
            R"("count":{"type":"integer"},"remaining":{"type":"integer","description":)"
            R"("messages left in the queue after the last one taken"},)"
            R"("ack_mode":{"type":"string"}},"required":["messages","count"]})",
            build_get,
            nullptr,
            nullptr,
        },
        true, gate::by_arguments, shape_get)
        .writes_with = get_writes;
    return s;
  }();
  return specs;
}

} // namespace warren::tools
