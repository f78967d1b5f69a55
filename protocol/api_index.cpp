#include "protocol/api_index.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "protocol/error.hpp"
#include "protocol/json_text.hpp"
#include "protocol/management_api.hpp"
#include "protocol/search_ranker.hpp"
#include "protocol/tool_json.hpp"

namespace warren {

// Generated at build time from protocol/management_operations.json.
extern const char management_operations_json[];

namespace rj = rapidjson;
using tools::member;
using tools::string_arg;
using tools::to_json;

namespace {

// How the parts of an operation count when ranking: its id and tags say what it is,
// the summary and path say it in passing.
constexpr double id_weight = 3;
constexpr double tags_weight = 2;
constexpr double summary_weight = 1;
constexpr double path_weight = 1;

std::string quoted(std::string_view text) {
  return "\"" + sanitize_utf8(clip_utf8(text, 100)) + "\"";
}

// The {name} placeholders of a path, in order.
std::vector<std::string> placeholders(std::string_view path) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while ((pos = path.find('{', pos)) != std::string_view::npos) {
    auto end = path.find('}', pos);
    if (end == std::string_view::npos)
      break;
    out.emplace_back(path.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  return out;
}

// The literal segments of a path, for ranking ("/api/queues/{vhost}" -> "queues").
std::string path_words(std::string_view path) {
  std::string out;
  std::size_t pos = 0;
  while (pos < path.size()) {
    auto end = path.find('/', pos);
    if (end == std::string_view::npos)
      end = path.size();
    auto segment = path.substr(pos, end - pos);
    if (!segment.empty() && segment.front() != '{') {
      out += segment;
      out += ' ';
    }
    pos = end + 1;
  }
  return out;
}

std::string type_phrase(const rj::Value* type) {
  if (!type || !type->IsString())
    return "of another type";
  std::string t = type->GetString();
  if (t == "integer")
    return "an integer";
  if (t == "object" || t == "array")
    return "an " + t;
  return "a " + t;
}

std::string number_text(const rj::Value* v) {
  return v ? to_json(*v) : std::string{"?"};
}

// Path parameters are strings or integers; both go into the URL as text.
std::string scalar_text(const rj::Value& v) {
  if (v.IsString())
    return {v.GetString(), v.GetStringLength()};
  if (v.IsBool())
    return v.GetBool() ? "true" : "false";
  return to_json(v);
}

} // namespace

struct api_index::impl {
  struct entry {
    std::vector<std::string> path_params;
    std::vector<std::string> query_params; ///< in the order they are appended
    rj::Document schema;
    std::unique_ptr<rj::SchemaDocument> compiled;
  };

  std::vector<api_operation> operations;
  std::vector<entry> entries; ///< parallel to operations
  std::unordered_map<std::string, std::size_t> by_id;
  search_ranker ranker;

  void load(const char* text);
  void add(const rj::Value& op, const rj::Value& data);

  // The offending argument's dotted name ("body.count") and a sentence about it.
  std::string describe(const entry& e, const rj::Value& args,
                       const rj::SchemaValidator& validator) const;
};

void api_index::impl::load(const char* text) {
  rj::Document data;
  data.Parse(text);
  if (data.HasParseError() || !data.IsObject())
    return;
  if (auto syn = member(data, "synonyms"); syn && syn->IsObject())
    for (auto& s : syn->GetObject())
      if (s.value.IsArray())
        for (auto& e : s.value.GetArray())
          if (e.IsString())
            ranker.add_synonym(s.name.GetString(), e.GetString());
  auto ops = member(data, "operations");
  if (!ops || !ops->IsArray())
    return;
  operations.reserve(ops->Size());
  entries.reserve(ops->Size());
  for (auto& op : ops->GetArray())
    if (op.IsObject())
      add(op, data);
  ranker.finish();
}

void api_index::impl::add(const rj::Value& op, const rj::Value& data) {
  api_operation o;
  o.id = string_arg(op, "id");
  o.method = string_arg(op, "method");
  o.path = string_arg(op, "path");
  o.summary = string_arg(op, "summary");
  if (o.id.empty() || o.method.empty() || o.path.empty() || by_id.count(o.id) > 0)
    return;
  auto writes = member(op, "writes");
  o.writes = writes && writes->IsBool() ? writes->GetBool() : o.method != "GET";
  auto destructive = member(op, "destructive");
  o.destructive = destructive && destructive->IsBool() && destructive->GetBool();

  entry e;
  e.path_params = placeholders(o.path);
  auto& schema = e.schema;
  schema.SetObject();
  auto& alloc = schema.GetAllocator();
  rj::Value props(rj::kObjectType);
  rj::Value required(rj::kArrayType);
  auto overrides = member(op, "params");
  // An operation's own "params" win over the shared definitions of the data file.
  auto define = [&](const std::string& name, const char* shared) {
    const rj::Value* def = overrides ? member(*overrides, name.c_str()) : nullptr;
    if (!def)
      if (auto table = member(data, shared))
        def = member(*table, name.c_str());
    rj::Value copy(rj::kObjectType);
    if (def)
      copy.CopyFrom(*def, alloc);
    if (!props.HasMember(name.c_str()))
      props.AddMember(rj::Value(name.c_str(), alloc), copy, alloc);
  };
  for (auto& p : e.path_params) {
    define(p, "path_params");
    required.PushBack(rj::Value(p.c_str(), alloc), alloc);
  }
  if (auto query = member(op, "query"); query && query->IsArray())
    for (auto& q : query->GetArray()) {
      if (!q.IsString())
        continue;
      std::string name = q.GetString();
      std::vector<std::string> names{name};
      if (!name.empty() && name.front() == '@') {
        names.clear();
        if (auto sets = member(data, "query_sets"))
          if (auto set = member(*sets, name.c_str() + 1); set && set->IsArray())
            for (auto& s : set->GetArray())
              if (s.IsString())
                names.emplace_back(s.GetString());
      }
      for (auto& n : names)
        if (std::find(e.query_params.begin(), e.query_params.end(), n) ==
            e.query_params.end()) {
          e.query_params.push_back(n);
          define(n, "query_params");
        }
    }
  if (overrides && overrides->HasMember("body"))
    define("body", "");
  if (auto req = member(op, "required"); req && req->IsArray())
    for (auto& r : req->GetArray())
      if (r.IsString() && props.HasMember(r.GetString()))
        required.PushBack(rj::Value(r.GetString(), alloc), alloc);
  schema.AddMember("type", "object", alloc);
  schema.AddMember("properties", props, alloc);
  if (!required.Empty())
    schema.AddMember("required", required, alloc);
  schema.AddMember("additionalProperties", false, alloc);
  o.schema_json = to_json(schema);
  e.compiled = std::make_unique<rj::SchemaDocument>(schema);

  std::string method_word = o.method;
  std::transform(method_word.begin(), method_word.end(), method_word.begin(),
                 [](char c) {
                   return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
                 });
  auto tags = string_arg(op, "tags");
  auto path = path_words(o.path);
  ranker.add({{o.id, id_weight},
              {tags, tags_weight},
              {o.summary, summary_weight},
              {path, path_weight},
              {method_word, 1}});
  by_id.emplace(o.id, operations.size());
  operations.push_back(std::move(o));
  entries.push_back(std::move(e));
}

std::string api_index::impl::describe(const entry& e, const rj::Value& args,
                                      const rj::SchemaValidator& validator) const {
  auto pointer = validator.GetInvalidDocumentPointer();
  std::string keyword = validator.GetInvalidSchemaKeyword();
  // Walk the schema and the arguments along the pointer to the offending value.
  const rj::Value* schema = &e.schema;
  const rj::Value* value = &args;
  std::string name;
  for (std::size_t i = 0; i < pointer.GetTokenCount(); ++i) {
    auto& token = pointer.GetTokens()[i];
    std::string part{token.name, token.length};
    if (!name.empty())
      name += '.';
    name += part;
    const rj::Value* next_schema = nullptr;
    if (value && value->IsObject()) {
      if (auto props = member(*schema, "properties"))
        next_schema = member(*props, part.c_str());
      value = member(*value, part.c_str());
    } else if (value && value->IsArray() && token.index < value->Size()) {
      next_schema = member(*schema, "items");
      value = &(*value)[static_cast<rj::SizeType>(token.index)];
    } else {
      value = nullptr;
    }
    static const rj::Value empty(rj::kObjectType);
    schema = next_schema ? next_schema : &empty;
  }
  auto arg = name.empty() ? std::string{"arguments"} : quoted(name);
  auto limit = [&](const char* key) { return member(*schema, key); };
  if (keyword == "required") {
    if (auto req = limit("required"); req && req->IsArray() && value)
      for (auto& r : req->GetArray())
        if (r.IsString() && !member(*value, r.GetString()))
          return quoted(name.empty() ? std::string{r.GetString()}
                                     : name + "." + r.GetString()) +
                 " is required";
    return arg + " lacks a required member";
  }
  if (keyword == "additionalProperties")
    return arg + " has an unknown member";
  if (keyword == "type")
    return arg + " must be " + type_phrase(limit("type"));
  if (keyword == "minimum")
    return arg + " must be at least " + number_text(limit("minimum"));
  if (keyword == "maximum")
    return arg + " must be at most " + number_text(limit("maximum"));
  if (keyword == "minLength")
    return arg + " must be at least " + number_text(limit("minLength")) +
           " character(s) long";
  if (keyword == "maxLength")
    return arg + " must be at most " + number_text(limit("maxLength")) +
           " characters long";
  if (keyword == "minItems")
    return arg + " must have at least " + number_text(limit("minItems")) + " item(s)";
  if (keyword == "enum")
    return arg + " must be one of " + number_text(limit("enum"));
  return arg + " does not fit the schema ('" + keyword + "')";
}

api_index::api_index() : impl_(std::make_unique<impl>()) {
  impl_->load(management_operations_json);
}

api_index::~api_index() = default;

const std::vector<api_operation>& api_index::operations() const {
  return impl_->operations;
}

const api_operation* api_index::find(std::string_view id) const {
  auto it = impl_->by_id.find(std::string{id});
  return it == impl_->by_id.end() ? nullptr : &impl_->operations[it->second];
}

std::vector<search_hit> api_index::search(std::string_view query,
                                          std::size_t limit) const {
  std::vector<search_hit> out;
  if (limit == 0)
    return out;
  auto hits = impl_->ranker.rank(query);
  auto& ops = impl_->operations;
  // Ties go to the smaller id, so the same query always answers the same list.
  auto better = [&](const search_ranker::hit& x, const search_ranker::hit& y) {
    if (x.score != y.score)
      return x.score > y.score;
    return ops[x.doc].id < ops[y.doc].id;
  };
  auto n = std::min(limit, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(n),
                    hits.end(), better);
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back({&ops[hits[i].doc], hits[i].score});
  return out;
}

caf::expected<http_request> api_index::build(const api_operation& op,
                                             std::string_view arguments_json) const {
  auto it = impl_->by_id.find(op.id);
  if (it == impl_->by_id.end())
    return make_error(ec::invalid_params, "unknown operation " + quoted(op.id) +
                                              "; search-ids lists the operations");
  auto& e = impl_->entries[it->second];
  auto invalid = [&](const std::string& what) {
    return make_error(ec::invalid_params,
                      "invalid arguments for " + op.id + ": " + what);
  };
  rj::Document args;
  if (auto problem = tools::parse_arguments(arguments_json, args); !problem.empty())
    return invalid(problem);
  auto& props = e.schema["properties"];
  for (auto& m : args.GetObject())
    if (!props.HasMember(m.name)) {
      std::string known;
      for (auto& p : props.GetObject())
        known += (known.empty() ? "" : ", ") + std::string{p.name.GetString()};
      return invalid("unknown argument " +
                     quoted({m.name.GetString(), m.name.GetStringLength()}) +
                     (known.empty() ? "; this operation takes no arguments"
                                    : "; known arguments: " + known));
    }
  if (auto req = member(e.schema, "required"))
    for (auto& r : req->GetArray())
      if (!args.HasMember(r))
        return invalid(quoted(r.GetString()) + " is required");
  rj::SchemaValidator validator(*e.compiled);
  if (!args.Accept(validator))
    return invalid(impl_->describe(e, args, validator));

  http_request request;
  request.method = op.method;
  request.target.reserve(op.path.size() + 32);
  std::size_t pos = 0;
  for (auto& p : e.path_params) {
    auto open = op.path.find('{', pos);
    auto close = op.path.find('}', open);
    request.target.append(op.path, pos, open - pos);
    auto value = scalar_text(args[p.c_str()]);
    if (value.empty())
      return invalid(quoted(p) + " must not be empty");
    // The default vhost "/" must become %2F or it would split the path.
    request.target += percent_encode(value);
    pos = close + 1;
  }
  request.target.append(op.path, pos, std::string::npos);
  std::vector<query_param> query;
  for (auto& q : e.query_params)
    if (auto v = member(args, q.c_str()))
      query.push_back({q, scalar_text(*v), q == "columns" ? "," : ""});
  request.target += query_string(query);
  if (auto body = member(args, "body"))
    request.body = to_json(*body);
  else if (op.method == "PUT" || op.method == "POST")
    request.body = "{}";
  return request;
}

} // namespace warren
