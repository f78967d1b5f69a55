#include "protocol/management_api.hpp"
#include "protocol/tool_spec.hpp"

// Tools that change the broker through the management API. Each names the cache keys
// it makes stale in op.invalidates; every entry is a key PREFIX: "queues:list:/:"
// covers every page and filter of the queue lists of vhost "/", and
// "queues:list::" the lists over all vhosts.
namespace warren::tools {

namespace {

// -- requests ------------------------------------------------------------------------

std::string vhost_of(const rj::Value& args) {
  return percent_encode(string_arg(args, "vhost"));
}

std::string queue_path(const rj::Value& args) {
  return "/api/queues/" + vhost_of(args) + "/" +
         percent_encode(string_arg(args, "name"));
}

std::string exchange_path(const rj::Value& args) {
  return "/api/exchanges/" + vhost_of(args) + "/" +
         percent_encode(string_arg(args, "name"));
}

// "/api/bindings/{vhost}/e/{source}/q|e/{destination}"
std::string binding_path(const rj::Value& args) {
  auto kind = string_arg(args, "destination_type") == "exchange" ? "/e/" : "/q/";
  return "/api/bindings/" + vhost_of(args) + "/e/" +
         percent_encode(string_arg(args, "source")) + kind +
         percent_encode(string_arg(args, "destination"));
}

void send(operation& op, const char* method, std::string target,
          std::string body = {}) {
  op.requests.push_back(http_request{method, std::move(target), std::move(body)});
}

void invalidate_queue(operation& op, const rj::Value& args) {
  invalidate_queues(op, string_arg(args, "vhost"), string_arg(args, "name"));
}

void invalidate_exchange(operation& op, const rj::Value& args) {
  auto vhost = string_arg(args, "vhost");
  op.invalidates.push_back("exchanges:list:" + key_part(vhost) + ":");
  op.invalidates.push_back("exchanges:list::");
  op.invalidates.push_back("exchanges:get:" + key_part(vhost) + ":" +
                           key_part(string_arg(args, "name")));
  op.invalidates.push_back("overview:get::");
}

// Every bindings list of the vhost, which covers the lists of both ends.
void invalidate_bindings(operation& op, const rj::Value& args) {
  op.invalidates.push_back("bindings:list:" + key_part(string_arg(args, "vhost")) +
                           ":");
}

// Queue arguments with a convenience argument of their own.
struct queue_argument {
  const char* arg;
  const char* x_name;
};

const queue_argument queue_arguments[] = {
    {"queue_type", "x-queue-type"},
    {"message_ttl_ms", "x-message-ttl"},
    {"dead_letter_exchange", "x-dead-letter-exchange"},
    {"dead_letter_routing_key", "x-dead-letter-routing-key"},
    {"max_length", "x-max-length"},
    {"max_length_bytes", "x-max-length-bytes"},
};

// {"durable":..,"auto_delete":..,[flags..],"arguments":{free-form + convenience}}
std::string declare_body(const rj::Value& args, std::vector<const char*> flags) {
  rj::Document body(rj::kObjectType);
  auto& alloc = body.GetAllocator();
  for (auto flag : flags)
    if (auto v = member(args, flag))
      body.AddMember(rj::StringRef(flag), rj::Value(*v, alloc), alloc);
  rj::Value arguments(rj::kObjectType);
  if (auto given = member(args, "arguments"); given && given->IsObject())
    arguments.CopyFrom(*given, alloc);
  for (auto& qa : queue_arguments)
    if (auto v = member(args, qa.arg))
      arguments.AddMember(rj::StringRef(qa.x_name), rj::Value(*v, alloc), alloc);
  body.AddMember("arguments", arguments, alloc);
  return to_json(body);
}

void build_create_queue(const tool_spec&, const rj::Value& args, operation& op) {
  send(op, "PUT", queue_path(args), declare_body(args, {"durable", "auto_delete"}));
  invalidate_queue(op, args);
}

// Only the counts the review needs; a queue's full answer lists every consumer.
std::string queue_precheck(const rj::Value& args) {
  return queue_path(args) +
         query_string({{"columns", "name,vhost,messages,consumers", ","}});
}

void build_delete_queue(const tool_spec&, const rj::Value& args, operation& op) {
  op.precheck = http_request{"GET", queue_precheck(args), {}};
  send(op, "DELETE", queue_path(args));
  invalidate_queue(op, args);
  invalidate_bindings(op, args);
}

void build_purge_queue(const tool_spec&, const rj::Value& args, operation& op) {
  op.precheck = http_request{"GET", queue_precheck(args), {}};
  send(op, "DELETE", queue_path(args) + "/contents");
  invalidate_queue(op, args);
}

void build_create_exchange(const tool_spec&, const rj::Value& args, operation& op) {
  send(op, "PUT", exchange_path(args),
       declare_body(args, {"type", "durable", "auto_delete", "internal"}));
  invalidate_exchange(op, args);
}

void build_delete_exchange(const tool_spec&, const rj::Value& args, operation& op) {
  op.precheck = http_request{"GET", exchange_path(args) + "/bindings/source", {}};
  send(op, "DELETE", exchange_path(args));
  invalidate_exchange(op, args);
  invalidate_bindings(op, args);
}

void build_create_binding(const tool_spec&, const rj::Value& args, operation& op) {
  rj::Document body(rj::kObjectType);
  auto& alloc = body.GetAllocator();
  body.AddMember("routing_key", rj::Value(string_arg(args, "routing_key"), alloc),
                 alloc);
  rj::Value arguments(rj::kObjectType);
  if (auto given = member(args, "arguments"); given && given->IsObject())
    arguments.CopyFrom(*given, alloc);
  body.AddMember("arguments", arguments, alloc);
  send(op, "POST", binding_path(args), to_json(body));
  invalidate_bindings(op, args);
}

// The binding's properties_key: given, or computed from the routing key (only
// possible without binding arguments; check_delete_binding makes sure).
std::string properties_key(const rj::Value& args) {
  return has_arg(args, "properties_key")
             ? string_arg(args, "properties_key")
             : binding_properties_key(string_arg(args, "routing_key"));
}

void build_delete_binding(const tool_spec&, const rj::Value& args, operation& op) {
  op.precheck = http_request{"GET", binding_path(args), {}};
  send(op, "DELETE", binding_path(args) + "/" + percent_encode(properties_key(args)));
  invalidate_bindings(op, args);
}

// -- rules a schema cannot say -------------------------------------------------------

bool starts_with(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

std::string reserved_name(const rj::Value& args, const char* what) {
  if (starts_with(string_arg(args, "name"), "amq."))
    return std::string{"'name' must not start with 'amq.': the broker reserves that "
                       "prefix for its own "} +
           what + " and refuses to declare others (ACCESS_REFUSED)";
  return {};
}

std::string check_create_queue(const rj::Value& args) {
  if (auto problem = reserved_name(args, "queues"); !problem.empty())
    return problem;
  auto given = member(args, "arguments");
  for (auto& qa : queue_arguments)
    if (has_arg(args, qa.arg) && given && member(*given, qa.x_name))
      return quoted(qa.arg) + " and arguments." + qa.x_name +
             " both set the same queue argument; give only one";
  auto type = has_arg(args, "queue_type")
                  ? string_arg(args, "queue_type")
                  : (given ? string_arg(*given, "x-queue-type") : std::string{});
  auto durable = member(args, "durable");
  if ((type == "quorum" || type == "stream") && durable && durable->IsFalse())
    return "'durable' must be true for " + type +
           " queues: the broker refuses to declare them transient";
  return {};
}

std::string check_create_exchange(const rj::Value& args) {
  return reserved_name(args, "exchanges");
}

std::string check_delete_exchange(const rj::Value& args) {
  auto name = string_arg(args, "name");
  if (name.empty() || name == "amq.default")
    return "'name': the default exchange cannot be deleted; every vhost has it";
  if (starts_with(name, "amq."))
    return "'name': exchange " + quoted(name) +
           " is one of the broker's predeclared amq.* exchanges and cannot be deleted";
  return {};
}

std::string default_source(const rj::Value& args) {
  auto source = string_arg(args, "source");
  if (source.empty() || source == "amq.default")
    return "'source' cannot be the default exchange: it already delivers to every "
           "queue by the queue's name, and the broker refuses other bindings to it";
  return {};
}

std::string check_create_binding(const rj::Value& args) {
  return default_source(args);
}

std::string check_delete_binding(const rj::Value& args) {
  if (auto problem = default_source(args); !problem.empty())
    return problem;
  auto given = member(args, "arguments");
  if (given && given->IsObject() && given->MemberCount() > 0 &&
      !has_arg(args, "properties_key"))
    return "'properties_key' is required for a binding with arguments: the broker "
           "names such a binding by a hash of them; list_bindings shows it";
  return {};
}

// -- reviews -------------------------------------------------------------------------

const char* const stats_lag =
    "as of the broker's last statistics, which lag up to ~5 s";

// {"dry_run":true,"would_<verb>":{...},"note":...}
tool_result dry_run_report(const char* verb, rj::Value& what, rj::Document& out,
                           const std::string& note) {
  auto& alloc = out.GetAllocator();
  out.AddMember("dry_run", true, alloc);
  out.AddMember(rj::Value(std::string{"would_"} + verb, alloc), what, alloc);
  out.AddMember("note", rj::Value(note, alloc), alloc);
  return success(out);
}

std::string plural(long long n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// delete_queue (spec.done "deleted") and purge_queue ("purged").
std::optional<tool_result> review_queue(const tool_spec& spec, const rj::Value& body,
                                        const rj::Value& args) {
  bool deleting = std::string_view{spec.done} == "deleted";
  auto messages = int_arg(body, "messages", 0);
  auto consumers = int_arg(body, "consumers", 0);
  auto name = string_arg(args, "name");
  auto vhost = string_arg(args, "vhost");
  if (bool_arg(args, "dry_run")) {
    rj::Document out(rj::kObjectType);
    auto& alloc = out.GetAllocator();
    rj::Value what(rj::kObjectType);
    what.AddMember("queue", rj::Value(name, alloc), alloc);
    what.AddMember("vhost", rj::Value(vhost, alloc), alloc);
    what.AddMember("messages", rj::Value(static_cast<int64_t>(messages)), alloc);
    what.AddMember("consumers", rj::Value(static_cast<int64_t>(consumers)), alloc);
    return dry_run_report(deleting ? "delete" : "purge", what, out,
                          std::string{"nothing was changed; counts are "} + stats_lag);
  }
  if (bool_arg(args, "force"))
    return std::nullopt;
  auto where = "queue " + quoted(name) + " in vhost " + quoted(vhost);
  auto what = plural(messages, "message", "messages") + " (" +
              plural(consumers, "consumer", "consumers") + ")";
  if (deleting && (messages > 0 || consumers > 0))
    return tool_catalog::failure(
        where + " still holds " + what + ", " + stats_lag +
        "; pass force: true to delete it anyway, or dry_run: true to see what would "
        "be affected");
  if (!deleting && messages > 0)
    return tool_catalog::failure(
        where + " holds " + what + ", " + stats_lag +
        "; purging drops them all; pass force: true to purge it, or dry_run: true to "
        "see what would be affected");
  return std::nullopt;
}

rj::Value shaped_bindings(const rj::Value& list, rj::Document::AllocatorType& alloc,
                          std::size_t most) {
  rj::Value items(rj::kArrayType);
  for (rj::SizeType i = 0; i < list.Size() && i < most; ++i) {
    rj::Value item(rj::kObjectType);
    pick_fields(list[i], binding_fields(), item, alloc);
    items.PushBack(item, alloc);
  }
  return items;
}

// The precheck lists the bindings whose source is the exchange.
std::optional<tool_result>
review_delete_exchange(const tool_spec&, const rj::Value& body, const rj::Value& args) {
  if (!body.IsArray())
    return tool_catalog::failure("unexpected answer from the management API to the "
                                 "bindings of the exchange (not a list)");
  auto count = static_cast<long long>(body.Size());
  auto name = string_arg(args, "name");
  auto vhost = string_arg(args, "vhost");
  if (bool_arg(args, "dry_run")) {
    rj::Document out(rj::kObjectType);
    auto& alloc = out.GetAllocator();
    rj::Value what(rj::kObjectType);
    what.AddMember("exchange", rj::Value(name, alloc), alloc);
    what.AddMember("vhost", rj::Value(vhost, alloc), alloc);
    what.AddMember("binding_count", rj::Value(static_cast<int64_t>(count)), alloc);
    what.AddMember("bindings", shaped_bindings(body, alloc, 100), alloc);
    return dry_run_report(
        "delete", what, out,
        "nothing was changed; these are the bindings whose source is the exchange "
        "(the first 100); bindings whose destination is the exchange go with it too");
  }
  if (count == 0 || bool_arg(args, "force"))
    return std::nullopt;
  return tool_catalog::failure(
      "exchange " + quoted(name) + " in vhost " + quoted(vhost) + " is the source of " +
      plural(count, "binding", "bindings") +
      " that deleting it would remove (with any bindings to it); pass force: true to "
      "delete it anyway, or dry_run: true to see them");
}

std::string binding_ends(const rj::Value& args) {
  return "exchange " + quoted(string_arg(args, "source")) + " to " +
         (string_arg(args, "destination_type") == "exchange" ? "exchange " : "queue ") +
         quoted(string_arg(args, "destination")) + " in vhost " +
         quoted(string_arg(args, "vhost"));
}

// The precheck lists the bindings between the two ends.
std::optional<tool_result>
review_delete_binding(const tool_spec&, const rj::Value& body, const rj::Value& args) {
  if (!body.IsArray())
    return tool_catalog::failure("unexpected answer from the management API to the "
                                 "bindings between the two ends (not a list)");
  auto key = properties_key(args);
  const rj::Value* found = nullptr;
  std::string existing;
  for (auto& b : body.GetArray()) {
    auto props = string_arg(b, "properties_key");
    if (props == key)
      found = &b;
    if (existing.size() < 1000)
      existing += (existing.empty() ? "" : ", ") + std::string{"routing_key "} +
                  quoted(string_arg(b, "routing_key")) + " (properties_key " +
                  quoted(props) + ")";
  }
  if (!found)
    return tool_catalog::failure(
        "no such binding from " + binding_ends(args) + " with properties_key " +
        quoted(key) + ". " +
        (existing.empty() ? std::string{"There are no bindings between them."}
                          : "The bindings between them are: " + existing + "."));
  if (!bool_arg(args, "dry_run"))
    return std::nullopt;
  rj::Document out(rj::kObjectType);
  auto& alloc = out.GetAllocator();
  rj::Value what(rj::kObjectType);
  pick_fields(*found, binding_fields(), what, alloc);
  return dry_run_report("delete", what, out, "nothing was changed");
}

// -- results -------------------------------------------------------------------------

// {"<done>":true,<echoed arguments>}; a create answered 204 changed nothing (the
// same object existed already), so "created" is false then.
bool shape_write(const tool_spec& spec, const std::vector<http_response>& answers,
                 const rj::Value& args, rj::Document& out) {
  auto& alloc = out.GetAllocator();
  bool done = !answers.empty();
  if (std::string_view{spec.done} == "created")
    done = done && answers.front().status != 204;
  out.AddMember(rj::StringRef(spec.done), done, alloc);
  for (auto key : spec.echo)
    if (auto v = member(args, key))
      out.AddMember(rj::StringRef(key), rj::Value(*v, alloc), alloc);
  return true;
}

std::string write_output_schema(const char* done, const char* meaning,
                                const std::vector<const char*>& echo) {
  std::string out = std::string{R"({"type":"object","properties":{")"} + done +
                    R"(":{"type":"boolean","description":")" + meaning + "\"}";
  for (auto key : echo)
    out += std::string{",\""} + key + R"(":{"type":"string"})";
  return out + R"(},"required":[")" + done + "\"]}";
}

std::string binding_ends_not_found(const rj::Value& args) {
  return "the source exchange " + quoted(string_arg(args, "source")) + " or the " +
         (string_arg(args, "destination_type") == "exchange" ? "exchange " : "queue ") +
         quoted(string_arg(args, "destination")) + " was not found in vhost " +
         quoted(string_arg(args, "vhost")) +
         ". Use list_exchanges and list_queues to see which exist.";
}

// -- schemas -------------------------------------------------------------------------

const char* const guard_properties =
    R"("force":{"type":"boolean","default":false,"description":"Go ahead even )"
    R"(though something would be lost (default false)."},)"
    R"("dry_run":{"type":"boolean","default":false,"description":"Only report what )"
    R"(would be affected; change nothing (default false)."})";

const char* const arguments_property =
    R"("arguments":{"type":"object","description":"Optional arguments )"
    R"((x-arguments) as a JSON object."})";

const char* const binding_end_properties =
    R"("source":{"type":"string","maxLength":255,"description":"The exchange )"
    R"(messages come from."},)"
    R"("destination":{"type":"string","minLength":1,"maxLength":255,)"
    R"("description":"The queue (or exchange) they go to."},)"
    R"("destination_type":{"type":"string","enum":["queue","exchange"],)"
    R"("default":"queue","description":"What 'destination' names (default queue)."},)"
    R"("routing_key":{"type":"string","maxLength":255,"default":"",)"
    R"("description":"The binding's routing key or pattern (default empty)."})";

// The parts every write entry shares.
tool_spec& add_write(spec_list& s, tool_spec spec, const char* done,
                     const char* meaning, std::vector<const char*> echo,
                     bool destructive) {
  spec.hints = change_hints(spec.title, destructive, true);
  spec.access = gate::write;
  spec.shape_answers = shape_write;
  spec.done = done;
  spec.output_schema = write_output_schema(done, meaning, echo);
  spec.echo = std::move(echo);
  return s.emplace_back(std::move(spec));
}

} // namespace

const spec_list& write_tool_specs() {
  static const spec_list specs = [] {
    spec_list s;
    const auto guarded_queue_schema =
        object_schema(name_property("name", "The queue's name.") + "," +
                          vhost_property + "," + guard_properties,
                      R"("name")");
    add_write(
        s,
        tool_spec{
            "create_queue",
            "Create a queue",
            "Declare a queue (durable by default) with optional type (classic, quorum, "
            "stream), message TTL, dead-lettering and length limits, plus free-form "
            "x-arguments. Declaring a queue that exists with the same settings changes "
            "nothing (created: false); with different settings the broker refuses. "
            "Exclusive queues belong to one AMQP connection and cannot be declared "
            "over HTTP. Needs writes enabled.",
            object_schema(
                name_property("name", "The queue's name (not starting with amq.).") +
                    "," + vhost_property +
                    R"(,"durable":{"type":"boolean","default":true,"description":)"
                    R"("Survive a broker restart (default true)."},)"
                    R"("auto_delete":{"type":"boolean","default":false,)"
                    R"("description":"Delete the queue when its last consumer )"
                    R"(unsubscribes (default false)."},)"
                    R"("queue_type":{"type":"string","enum":["classic","quorum",)"
                    R"("stream"],"description":"x-queue-type; quorum for )"
                    R"(replicated, safe queues."},)"
                    R"("message_ttl_ms":{"type":"integer","minimum":0,"maximum":)"
                    R"(4294967295,"description":"x-message-ttl: messages older )"
                    R"(than this are dropped or dead-lettered."},)"
                    R"("dead_letter_exchange":{"type":"string","maxLength":255,)"
                    R"("description":"x-dead-letter-exchange for rejected and )"
                    R"(expired messages."},)"
                    R"("dead_letter_routing_key":{"type":"string","maxLength":255,)"
                    R"("description":"x-dead-letter-routing-key."},)"
                    R"("max_length":{"type":"integer","minimum":0,"description":)"
                    R"("x-max-length: most messages kept."},)"
                    R"("max_length_bytes":{"type":"integer","minimum":0,)"
                    R"("description":"x-max-length-bytes: most body bytes kept."},)" +
                    arguments_property,
                R"("name")"),
            {},
            build_create_queue,
            nullptr,
            vhost_not_found,
            check_create_queue,
        },
        "created", "false when an identical queue existed already", {"vhost", "name"},
        false);
    add_write(
        s,
        tool_spec{
            "delete_queue",
            "Delete a queue",
            "Delete a queue with its messages and bindings. Refuses when the queue "
            "still holds messages or has consumers unless force is true; dry_run "
            "reports what would be lost without deleting. The counts are the broker's "
            "statistics, which lag a few seconds. Needs writes enabled.",
            guarded_queue_schema,
            {},
            build_delete_queue,
            nullptr,
            queue_not_found,
        },
        "deleted", "true once the queue is gone", {"vhost", "name"}, true)
        .review = review_queue;
    add_write(
        s,
        tool_spec{
            "purge_queue",
            "Purge a queue",
            "Drop every ready message of a queue, keeping the queue, its bindings and "
            "consumers (unacknowledged messages stay). Refuses when the queue holds "
            "messages unless force is true; dry_run reports how many would be dropped "
            "without purging. The counts are the broker's statistics, which lag a few "
            "seconds. Needs writes enabled.",
            guarded_queue_schema,
            {},
            build_purge_queue,
            nullptr,
            queue_not_found,
        },
        "purged", "true once the ready messages are dropped", {"vhost", "name"}, true)
        .review = review_queue;
    add_write(
        s,
        tool_spec{
            "create_exchange",
            "Create an exchange",
            "Declare an exchange of type direct, fanout, topic or headers (durable by "
            "default). Declaring one that exists with the same settings changes "
            "nothing (created: false); with different settings the broker refuses. "
            "Needs writes enabled.",
            object_schema(
                name_property("name", "The exchange's name (not starting with amq.).") +
                    "," + vhost_property +
                    R"(,"type":{"type":"string","enum":["direct","fanout","topic",)"
                    R"("headers"],"description":"How it routes."},)"
                    R"("durable":{"type":"boolean","default":true,"description":)"
                    R"("Survive a broker restart (default true)."},)"
                    R"("auto_delete":{"type":"boolean","default":false,)"
                    R"("description":"Delete it when its last binding goes )"
                    R"((default false)."},)"
                    R"("internal":{"type":"boolean","default":false,"description":)"
                    R"("Only other exchanges may route to it; clients cannot )"
                    R"(publish to it (default false)."},)" +
                    arguments_property,
                R"("name","type")"),
            {},
            build_create_exchange,
            nullptr,
            vhost_not_found,
            check_create_exchange,
        },
        "created", "false when an identical exchange existed already",
        {"vhost", "name", "type"}, false);
    add_write(
        s,
        tool_spec{
            "delete_exchange",
            "Delete an exchange",
            "Delete an exchange together with its bindings (those where it is the "
            "source and those where it is the destination). Refuses when it is the "
            "source of bindings unless force is true; dry_run lists them without "
            "deleting. The default exchange and the amq.* exchanges cannot be "
            "deleted. Needs writes enabled.",
            object_schema(name_property("name", "The exchange's name.") + "," +
                              vhost_property + "," + guard_properties,
                          R"("name")"),
            {},
            build_delete_exchange,
            nullptr,
            exchange_not_found,
            check_delete_exchange,
        },
        "deleted", "true once the exchange is gone", {"vhost", "name"}, true)
        .review = review_delete_exchange;
    add_write(
        s,
        tool_spec{
            "create_binding",
            "Bind a queue or exchange to an exchange",
            "Route messages from an exchange to a queue (or to another exchange) "
            "whose routing key matches. Binding the same way twice changes nothing. "
            "Needs writes enabled.",
            object_schema(std::string{vhost_property} + "," + binding_end_properties +
                              "," + arguments_property,
                          R"("source","destination")"),
            {},
            build_create_binding,
            nullptr,
            binding_ends_not_found,
            check_create_binding,
        },
        "created", "true once the binding exists",
        {"vhost", "source", "destination", "destination_type", "routing_key"}, false);
    add_write(
        s,
        tool_spec{
            "delete_binding",
            "Delete a binding",
            "Remove one binding between an exchange and a queue (or exchange). It is "
            "found by its properties_key (list_bindings shows it); without one, the "
            "key is computed from the routing key, which works for bindings without "
            "arguments only. Checks first that the binding exists; dry_run shows it "
            "without deleting. force is accepted for symmetry with the other delete "
            "tools: a binding holds no messages. Needs writes enabled.",
            object_schema(std::string{vhost_property} + "," + binding_end_properties +
                              R"(,"properties_key":{"type":"string","minLength":1,)"
                              R"("maxLength":1024,"description":"The binding's )"
                              R"(properties_key from list_bindings."},)" +
                              arguments_property + "," + guard_properties,
                          R"("source","destination")"),
            {},
            build_delete_binding,
            nullptr,
            binding_ends_not_found,
            check_delete_binding,
        },
        "deleted", "true once the binding is gone",
        {"vhost", "source", "destination", "destination_type", "routing_key",
         "properties_key"},
        true)
        .review = review_delete_binding;
    return s;
  }();
  return specs;
}

} // namespace warren::tools
