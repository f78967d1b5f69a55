#include "protocol/jsonrpc.hpp"
#include "protocol/json_writer.hpp"
#include "protocol/tool_json.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace warren {

namespace {

// The envelope (params, arguments) on top of the deepest tool arguments, with room.
constexpr int max_message_depth = tools::max_depth + 8;

bool valid_id(const rapidjson::Value& id) {
  return id.IsString() || id.IsInt64() || id.IsUint64() || id.IsNull();
}

} // namespace

jsonrpc_message parse_jsonrpc(std::string_view line) {
  jsonrpc_message msg;
  auto& doc = msg.document;
  if (auto at = invalid_utf8_at(line); at != std::string_view::npos) {
    msg.error =
        make_error(ec::parse_error,
                   "parse error at byte " + std::to_string(at) + ": not valid UTF-8");
    return msg;
  }
  if (auto at = unpaired_surrogate_escape(line); at != std::string_view::npos) {
    msg.error = make_error(ec::parse_error,
                           "parse error at byte " + std::to_string(at) +
                               ": a \\u escape is half of a UTF-16 surrogate pair, "
                               "which is no character");
    return msg;
  }
  // Iterative, and the depth checked before anything walks the document recursively:
  // a line of a million '[' must not take the stack.
  doc.Parse<tools::utf8_text_flags>(line.data(), line.size());
  if (doc.HasParseError()) {
    msg.error = make_error(ec::parse_error,
                           std::string{"parse error at byte "} +
                               std::to_string(doc.GetErrorOffset()) + ": " +
                               rapidjson::GetParseError_En(doc.GetParseError()));
    return msg;
  }
  if (tools::depth_of(doc, max_message_depth) > max_message_depth) {
    msg.error =
        make_error(ec::invalid_request, "the message nests deeper than " +
                                            std::to_string(max_message_depth) +
                                            " levels; tool arguments may nest " +
                                            std::to_string(tools::max_depth) + " deep");
    return msg;
  }
  if (doc.IsArray()) {
    msg.error = make_error(ec::invalid_request,
                           "batch requests (JSON arrays) are not supported; send one "
                           "JSON-RPC message per line");
    return msg;
  }
  if (!doc.IsObject()) {
    msg.error =
        make_error(ec::invalid_request, "a JSON-RPC message must be a JSON object");
    return msg;
  }
  auto id = doc.FindMember("id");
  bool has_id = id != doc.MemberEnd();
  if (has_id && valid_id(id->value))
    msg.id_json = to_json(id->value);
  auto version = doc.FindMember("jsonrpc");
  if (version == doc.MemberEnd() || !version->value.IsString() ||
      std::string_view{version->value.GetString(), version->value.GetStringLength()} !=
          "2.0") {
    msg.error = make_error(ec::invalid_request, "\"jsonrpc\" must be \"2.0\"");
    return msg;
  }
  if (has_id && (!valid_id(id->value) || id->value.IsNull())) {
    msg.id_json = "null";
    msg.error =
        make_error(ec::invalid_request, "\"id\" must be a string or an integer");
    return msg;
  }
  auto method = doc.FindMember("method");
  if (method == doc.MemberEnd()) {
    if (has_id && (doc.HasMember("result") || doc.HasMember("error"))) {
      msg.kind = message_kind::response;
      return msg;
    }
    msg.error = make_error(ec::invalid_request, "\"method\" is missing");
    return msg;
  }
  if (!method->value.IsString()) {
    msg.error = make_error(ec::invalid_request, "\"method\" must be a string");
    return msg;
  }
  msg.method.assign(method->value.GetString(), method->value.GetStringLength());
  auto params = doc.FindMember("params");
  if (params != doc.MemberEnd()) {
    if (!params->value.IsObject() && !params->value.IsArray()) {
      msg.error =
          make_error(ec::invalid_request, "\"params\" must be an object or an array");
      return msg;
    }
    msg.params = &params->value;
  }
  msg.kind = has_id ? message_kind::request : message_kind::notification;
  return msg;
}

int jsonrpc_code(ec code) {
  switch (code) {
  case ec::parse_error:
    return -32700;
  case ec::invalid_request:
  case ec::not_initialized:
  case ec::too_large:
    return -32600;
  case ec::method_not_found:
    return -32601;
  case ec::invalid_params:
  case ec::unknown_tool:
    return -32602;
  default:
    return -32603;
  }
}

std::string make_result(std::string_view id_json, std::string_view result_json) {
  std::string out;
  out.reserve(32 + id_json.size() + result_json.size());
  out += R"({"jsonrpc":"2.0","id":)";
  out += id_json;
  out += R"(,"result":)";
  out += result_json;
  out += '}';
  return out;
}

std::string make_error_response(std::string_view id_json, int code,
                                std::string_view message) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  out += id_json;
  out += R"(,"error":{"code":)";
  out += std::to_string(code);
  out += R"(,"message":)";
  out += quote_json(message);
  out += "}}";
  return out;
}

std::string make_error_response(std::string_view id_json, const caf::error& err) {
  return make_error_response(id_json, jsonrpc_code(code_of(err)), message_of(err));
}

std::string make_notification(std::string_view method, std::string_view params_json) {
  std::string out = R"({"jsonrpc":"2.0","method":)";
  out += quote_json(method);
  out += R"(,"params":)";
  out += params_json;
  out += '}';
  return out;
}

std::string to_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  json_writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

std::string quote_json(std::string_view text) {
  rapidjson::StringBuffer buffer;
  json_writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return {buffer.GetString(), buffer.GetSize()};
}

} // namespace warren
