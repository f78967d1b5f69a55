#pragma once

#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "protocol/jsonrpc.hpp"
#include "protocol/tool_catalog.hpp"

// RapidJSON helpers shared by the tool tables and the catalog: reading arguments,
// copying bounded parts of API answers, and writing MCP tool results.
namespace warren::tools {

namespace rj = rapidjson;

// Iterative parsing: a hostile, deeply nested document cannot exhaust the stack.
// RapidJSON checks the UTF-8 of each string as it reads it, a character at a time.
constexpr unsigned parse_flags =
    rj::kParseIterativeFlag | rj::kParseValidateEncodingFlag;

// The same parse for text known to be UTF-8: checked whole by invalid_utf8_at (which
// takes ASCII eight bytes at a time, several times faster), or written by warren's
// json_writer. Saves a second check of every request line and tool call.
constexpr unsigned utf8_text_flags = rj::kParseIterativeFlag;

// Deepest nesting copied out of an API answer (queue arguments can be tables) or
// accepted in tool arguments; keeps every later recursive walk shallow.
constexpr int max_depth = 32;

using warren::to_json; // one compact serializer for the whole protocol layer

/// The member `key` of `object`, or nullptr (also when `object` is not an object).
const rj::Value* member(const rj::Value& object, const char* key);

/// The value at a dotted path ("queue.name"), or nullptr.
const rj::Value* member_path(const rj::Value& object, std::string_view path);

std::string string_arg(const rj::Value& args, const char* key);
bool has_arg(const rj::Value& args, const char* key);
long long int_arg(const rj::Value& args, const char* key, long long fallback);
bool bool_arg(const rj::Value& args, const char* key);

/// Deepest nesting level of `value`, walked without recursion (stops past `limit`).
int depth_of(const rj::Value& value, int limit = max_depth);

/// Parses tool arguments: "", "null" and blank text mean {}; anything else must be
/// a JSON object nested at most max_depth deep. Returns "" on success, else what is
/// wrong ("not valid JSON (...)", "arguments must be a JSON object", ...).
std::string parse_arguments(std::string_view text, rj::Document& args);

/// Deep copy that replaces anything nested deeper than max_depth with a marker.
rj::Value copy_bounded(const rj::Value& src, rj::Document::AllocatorType& alloc,
                       int depth = 1);

/// {"content":[{"type":"text","text":<text>}],"structuredContent":<text>,"isError":..}
/// where structuredContent is present only for a structured result (then `text` is
/// its JSON).
tool_result text_result(std::string_view text, bool structured, bool is_error);

/// A structured, successful result.
tool_result success(const rj::Value& structured);

} // namespace warren::tools
