#include "protocol/tool_spec.hpp"

namespace warren::tools {

namespace {

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
  if (type == "array")
    return v.IsArray();
  return !v.IsNull();
}

} // namespace

// -- fields --------------------------------------------------------------------------

void pick_fields(const rj::Value& src, const field_list& fields, rj::Value& dst,
                 rj::Document::AllocatorType& alloc) {
  for (auto& f : fields) {
    auto value = member_path(src, f.source ? f.source : f.name);
    if (value && has_type(*value, f.type))
      dst.AddMember(rj::StringRef(f.name), copy_bounded(*value, alloc), alloc);
  }
}

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
    out += f.source ? f.source : f.name;
  }
  return out;
}

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

field_list chosen_fields(const field_list& fields, const rj::Value& args) {
  auto asked = member(args, "columns");
  if (!asked || !asked->IsArray())
    return fields;
  auto wanted = [&](std::string_view name) {
    if (name == "name")
      return true;
    for (auto& c : asked->GetArray())
      if (c.IsString() && name == std::string_view{c.GetString(), c.GetStringLength()})
        return true;
    return false;
  };
  field_list out;
  for (auto& f : fields)
    if (wanted(f.name))
      out.push_back(f);
  return out;
}

// -- schema fragments ----------------------------------------------------------------

const char* const page_properties =
    R"("page":{"type":"integer","minimum":1,"maximum":1000000,"default":1,)"
    R"("description":"Page number, starting at 1."},)"
    R"("page_size":{"type":"integer","minimum":1,"maximum":500,"default":100,)"
    R"("description":"Items per page (1 to 500, default 100)."})";

const char* const vhost_property =
    R"("vhost":{"type":"string","minLength":1,"maxLength":255,"default":"/",)"
    R"("description":"Virtual host (default \"/\")."})";

std::string all_vhosts_property(const char* what) {
  return std::string{R"("vhost":{"type":"string","minLength":1,"maxLength":255,)"} +
         R"("description":"Virtual host, e.g. \"/\". Omit to list )" + what +
         R"( of every vhost the user may see."})";
}

std::string name_filter_properties(const char* what) {
  return std::string{
             R"("name":{"type":"string","maxLength":255,"description":"Only )"} +
         what +
         R"( whose name contains this text (or matches it as a regular expression )"
         R"(when use_regex is true)."},)"
         R"("use_regex":{"type":"boolean","default":false,)"
         R"("description":"Treat 'name' as a regular expression (default false)."})";
}

std::string columns_property(const field_list& fields) {
  std::string names;
  for (auto& f : fields)
    names += (names.empty() ? "\"" : ",\"") + std::string{f.name} + "\"";
  return R"("columns":{"type":"array","items":{"type":"string","enum":[)" + names +
         R"(]},"minItems":1,"uniqueItems":true,"description":"Only these fields of )"
         R"(each item, e.g. [\"name\",\"messages\"]; name is always included. )"
         R"(Default: all. Fewer fields make a smaller answer and a faster call."})";
}

std::string name_property(const char* key, const char* description) {
  return std::string{"\""} + key +
         R"(":{"type":"string","minLength":1,"maxLength":255,"description":")" +
         description + "\"}";
}

std::string object_schema(const std::string& properties, const std::string& required) {
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

tool_annotations change_hints(const char* title, bool destructive, bool idempotent) {
  tool_annotations hints;
  hints.title = title;
  hints.read_only = false;
  hints.destructive = destructive;
  hints.idempotent = idempotent;
  return hints;
}

// -- cache keys and messages ---------------------------------------------------------

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

void invalidate_queues(operation& op, const std::string& vhost,
                       const std::string& name) {
  for (auto what : {"queues:list:", "queues:find:"}) {
    op.invalidates.push_back(what + key_part(vhost) + ":");
    op.invalidates.push_back(std::string{what} + ":");
  }
  op.invalidates.push_back("queues:get:" + key_part(vhost) + ":" + key_part(name));
  op.invalidates.push_back("overview:get::");
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

std::string exchange_not_found_named(const std::string& exchange,
                                     const rj::Value& args) {
  return "exchange " + quoted(exchange) + " was not found in vhost " +
         quoted(string_arg(args, "vhost")) +
         ". Use list_exchanges to see which exchanges exist.";
}

std::string queue_not_found(const rj::Value& args) {
  return queue_not_found_named(string_arg(args, "name"), args);
}

std::string exchange_not_found(const rj::Value& args) {
  return exchange_not_found_named(string_arg(args, "name"), args);
}

std::string api_path_not_found(const rj::Value&) {
  return "the management API answered 404 for a path every RabbitMQ management plugin "
         "serves. Check that RABBITMQ_MANAGEMENT_URL points at the management plugin "
         "(e.g. http://host:15672).";
}

// -- pages ---------------------------------------------------------------------------

std::vector<query_param> page_params(const rj::Value& args) {
  return {{"page", std::to_string(int_arg(args, "page", 1))},
          {"page_size", std::to_string(int_arg(args, "page_size", 100))}};
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

void start_page(rj::Document& out, rj::Value& items, long long page,
                long long page_size) {
  out.AddMember("items", items, out.GetAllocator());
  add_count(out, "page", page);
  add_count(out, "page_size", page_size);
}

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
  auto fields = chosen_fields(*spec.fields, args);
  for (long long i = first; i < total && i < first + page_size; ++i) {
    rj::Value item(rj::kObjectType);
    pick_fields(body[static_cast<rj::SizeType>(i)], fields, item, alloc);
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

bool shape_server_paged(const tool_spec& spec, const rj::Value& body,
                        const rj::Value& args, rj::Document& out) {
  if (body.IsArray())
    return shape_client_paged(spec, body, args, out);
  auto api_items = member(body, "items");
  if (!api_items || !api_items->IsArray())
    return false;
  auto& alloc = out.GetAllocator();
  rj::Value items(rj::kArrayType);
  auto fields = chosen_fields(*spec.fields, args);
  for (auto& src : api_items->GetArray()) {
    rj::Value item(rj::kObjectType);
    pick_fields(src, fields, item, alloc);
    items.PushBack(item, alloc);
  }
  start_page(out, items, int_arg(body, "page", int_arg(args, "page", 1)),
             int_arg(body, "page_size", int_arg(args, "page_size", 100)));
  for (auto key : {"page_count", "total_count", "filtered_count"})
    if (auto v = member(body, key); v && v->IsInt64())
      add_count(out, key, v->GetInt64());
  return true;
}

} // namespace warren::tools
