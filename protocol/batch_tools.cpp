#include <stdexcept>

#include "protocol/tool_spec.hpp"

// The batch tools. Their items are calls of single tools (create_queue, delete_queue,
// publish_message), so their schemas are built from those tools' schemas and each
// item is validated by the catalog exactly like one call (tool_catalog::prepare).
// A batch runs as a job (actors/batch_job.cpp), which shapes the result itself.
namespace warren::tools {

namespace {

const char* const mode_property =
    R"("mode":{"type":"string","enum":["best_effort","all_or_nothing"],)"
    R"("default":"best_effort","description":"best_effort (default) runs every item )"
    R"(and reports each; all_or_nothing undoes the job when any item fails."})";

const char* const parallelism_property =
    R"("parallelism":{"type":"integer","minimum":1,"maximum":64,"description":)"
    R"("Items run at once (default: the server's batch.parallelism, 10)."})";

const char* const batch_output_schema =
    R"({"type":"object","properties":{"tool":{"type":"string"},)"
    R"("mode":{"type":"string"},"items":{"type":"array","description":"one entry )"
    R"(per item, in request order","items":{"type":"object","properties":{)"
    R"("index":{"type":"integer"},"resource":{"type":"string","description":"the )"
    R"(queue's name or the message's id"},"vhost":{"type":"string"},)"
    R"("status":{"type":"string","enum":["succeeded","failed","rolled_back",)"
    R"("skipped"]},"created":{"type":"boolean","description":"creates: false when )"
    R"(an identical queue existed already"},"error":{"type":"string"}},)"
    R"("required":["index","resource","status"]}},"totals":{"type":"object",)"
    R"("properties":{"items":{"type":"integer"},"succeeded":{"type":"integer"},)"
    R"("failed":{"type":"integer"},"rolled_back":{"type":"integer"},)"
    R"("skipped":{"type":"integer"}}},"cancelled":{"type":"boolean"},)"
    R"("duration_ms":{"type":"number"}},"required":["items","totals"]})";

// A batch tool's input schema: `items_key` an array of `item` (at least one), the
// item tool's `shared` properties, mode and parallelism.
std::string batch_schema(const char* items_key, const char* description,
                         const std::string& item, const std::string& shared) {
  return object_schema(std::string{"\""} + items_key +
                           R"(":{"type":"array","minItems":1,"description":")" +
                           description + R"(","items":)" + item + "}," + shared +
                           (shared.empty() ? "" : ",") + mode_property + "," +
                           parallelism_property,
                       std::string{"\""} + items_key + "\"");
}

// The properties of a tool's input schema, without `except`, as schema text.
std::string properties_except(const tool_spec& spec, const char* except) {
  rj::Document schema;
  schema.Parse(spec.input_schema);
  auto props = member(schema, "properties");
  if (!props)
    return {};
  rj::Document out(rj::kObjectType);
  for (auto& p : props->GetObject())
    if (std::string_view{p.name.GetString()} != except)
      out.AddMember(rj::Value(p.name, out.GetAllocator()),
                    rj::Value(p.value, out.GetAllocator()), out.GetAllocator());
  auto text = to_json(out);
  return text.substr(1, text.size() - 2); // the members, without braces
}

tool_spec batch_spec(const char* name, const char* title, const char* description,
                     std::string input_schema, const char* item_tool,
                     const char* items_key, bool destructive, bool idempotent) {
  tool_spec spec{
      name,    title,   description, std::move(input_schema), batch_output_schema,
      nullptr, nullptr, nullptr};
  spec.hints = change_hints(title, destructive, idempotent);
  spec.access = gate::write;
  spec.batch_of = item_tool;
  spec.batch_items = items_key;
  return spec;
}

} // namespace

const tool_spec& spec_named(const spec_list& specs, std::string_view name) {
  for (auto& spec : specs)
    if (name == spec.name)
      return spec;
  throw std::logic_error("no tool spec named " + std::string{name});
}

const spec_list& batch_tool_specs() {
  static const spec_list specs = [] {
    auto& create = spec_named(write_tool_specs(), "create_queue");
    auto& remove = spec_named(write_tool_specs(), "delete_queue");
    auto& publish = spec_named(message_tool_specs(), "publish_message");
    spec_list s;
    s.push_back(batch_spec(
        "batch_create_queues", "Create many queues",
        "Create up to 100 queues in one call (batch.max_items), each item as "
        "create_queue takes it. Every item is checked before any is created; invalid "
        "items are listed by index and nothing is done. best_effort (default) creates "
        "what it can and reports each queue; all_or_nothing deletes the queues this "
        "call created when any item fails. Progress notifications while it runs when "
        "the request has a progressToken; a cancel stops it (and rolls back in "
        "all_or_nothing). Needs writes enabled.",
        batch_schema("queues", "The queues, as create_queue takes one.",
                     create.input_schema, ""),
        "create_queue", "queues", false, true));
    s.push_back(batch_spec(
        "batch_delete_queues", "Delete many queues",
        "Delete up to 100 queues of one vhost by name, with delete_queue's rules: a "
        "queue that holds messages or has consumers is refused unless force is true; "
        "dry_run reports what would be lost. best_effort (default) deletes what it "
        "can and reports each; all_or_nothing first checks every queue and deletes "
        "none unless all may go. Needs writes enabled.",
        batch_schema("names", "The queues' names, all in 'vhost'.",
                     R"({"type":"string","minLength":1,"maxLength":255})",
                     properties_except(remove, "name")),
        "delete_queue", "names", true, true));
    s.back().batch_shared = {"vhost", "force", "dry_run"};
    s.push_back(batch_spec(
        "batch_publish_messages", "Publish many messages",
        "Publish up to 100 messages in one call (batch.max_items, 10 MB in all), each "
        "as publish_message takes it, with publisher confirms over a window of "
        "messages in flight across the AMQP channel pool. Every message is checked "
        "(and every exchange looked up) before any is sent; invalid items are listed "
        "by index. The result says per message whether its confirm arrived; "
        "all_or_nothing publishes nothing unless every message can go. Needs writes "
        "enabled.",
        batch_schema("messages", "The messages, as publish_message takes one.",
                     publish.input_schema, ""),
        "publish_message", "messages", false, false));
    return s;
  }();
  return specs;
}

} // namespace warren::tools
