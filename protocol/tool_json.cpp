#include "protocol/tool_json.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "protocol/json_writer.hpp"

namespace warren::tools {

const rj::Value* member(const rj::Value& object, const char* key) {
  if (!object.IsObject())
    return nullptr;
  auto it = object.FindMember(key);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

const rj::Value* member_path(const rj::Value& object, std::string_view path) {
  const rj::Value* at = &object;
  while (at) {
    auto dot = path.find('.');
    auto key = std::string{path.substr(0, dot)};
    at = member(*at, key.c_str());
    if (dot == std::string_view::npos)
      return at;
    path.remove_prefix(dot + 1);
  }
  return nullptr;
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

int depth_of(const rj::Value& value, int limit) {
  std::vector<std::pair<const rj::Value*, int>> todo{{&value, 1}};
  int deepest = 0;
  while (!todo.empty()) {
    auto [v, depth] = todo.back();
    todo.pop_back();
    deepest = std::max(deepest, depth);
    if (depth > limit)
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

std::string parse_arguments(std::string_view text, rj::Document& args) {
  constexpr std::string_view blank = " \t\r\n";
  auto first = text.find_first_not_of(blank);
  text = first == std::string_view::npos
             ? std::string_view{}
             : text.substr(first, text.find_last_not_of(blank) - first + 1);
  if (text.empty() || text == "null")
    text = "{}";
  if (auto at = invalid_utf8_at(text); at != std::string_view::npos)
    return "not valid UTF-8 (at offset " + std::to_string(at) + ")";
  if (auto at = unpaired_surrogate_escape(text); at != std::string_view::npos)
    return "not valid JSON (a \\u escape at offset " + std::to_string(at) +
           " is half of a UTF-16 surrogate pair, which is no character)";
  args.Parse<utf8_text_flags>(text.data(), text.size());
  if (args.HasParseError())
    return "not valid JSON (" +
           std::string{rj::GetParseError_En(args.GetParseError())} + " at offset " +
           std::to_string(args.GetErrorOffset()) + ")";
  if (!args.IsObject())
    return "arguments must be a JSON object";
  if (depth_of(args) > max_depth)
    return "arguments are nested too deeply";
  return {};
}

rj::Value copy_bounded(const rj::Value& src, rj::Document::AllocatorType& alloc,
                       int depth) {
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

tool_result text_result(std::string_view text, bool structured, bool is_error) {
  rj::StringBuffer buf;
  json_writer<rj::StringBuffer> w(buf);
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

} // namespace warren::tools
