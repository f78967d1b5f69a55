#pragma once

#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <rapidjson/document.h>

#include "protocol/error.hpp"

namespace warren {

/// What a JSON-RPC 2.0 line turned out to be.
enum class message_kind { request, notification, response, invalid };

/// One parsed JSON-RPC message. The document owns the parsed JSON; `params` points
/// into it (null when absent).
struct jsonrpc_message {
  message_kind kind = message_kind::invalid;
  std::string id_json = "null"; ///< the id exactly as JSON ("7", "\"a\""), or "null"
  std::string method;
  rapidjson::Document document;
  const rapidjson::Value* params = nullptr;
  caf::error error; ///< set when kind == invalid: parse_error or invalid_request
};

/// Parses one line. Never throws: malformed JSON gives kind invalid with
/// ec::parse_error, JSON that is not a JSON-RPC 2.0 message (a batch array, a missing
/// or wrong "jsonrpc", a method that is not a string, an id that is neither string nor
/// number) gives ec::invalid_request, with id_json set whenever the id was readable.
jsonrpc_message parse_jsonrpc(std::string_view line);

/// The JSON-RPC error code for a warren error code.
int jsonrpc_code(ec code);

/// {"jsonrpc":"2.0","id":<id>,"result":<result_json>}
std::string make_result(std::string_view id_json, std::string_view result_json);

/// {"jsonrpc":"2.0","id":<id>,"error":{"code":..,"message":..}}
std::string make_error_response(std::string_view id_json, int code,
                                std::string_view message);

/// The error response for a warren error (code mapped by jsonrpc_code).
std::string make_error_response(std::string_view id_json, const caf::error& err);

/// {"jsonrpc":"2.0","method":<method>,"params":<params_json>}
std::string make_notification(std::string_view method, std::string_view params_json);

/// Serializes a JSON value compactly.
std::string to_json(const rapidjson::Value& value);

/// A JSON string literal for `text`, quotes included.
std::string quote_json(std::string_view text);

} // namespace warren
