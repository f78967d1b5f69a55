// Fuzzes tool-argument validation: the first byte picks a tool (and whether writes are
// allowed), the rest is the arguments JSON handed to tool_catalog::prepare, as the
// dispatcher hands over a tools/call. A refused call must say why as a JSON-RPC
// error; an accepted one must build well-formed requests, and shaping a plain answer
// for it must give a well-formed tool result.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error.hpp"
#include "protocol/jsonrpc.hpp"
#include "protocol/tool_catalog.hpp"
#include "tests/fuzz/fuzz_checks.hpp"

namespace {

using namespace warren;

const tool_catalog& writable() {
  static const tool_catalog shared{catalog_options{true, "all", 64 * 1024}};
  return shared;
}

const tool_catalog& read_only() {
  static const tool_catalog shared{catalog_options{false, "all", 64 * 1024}};
  return shared;
}

// Every tool's name as tools/list shows it, plus names no tool has.
const std::vector<std::string>& names() {
  static const std::vector<std::string> shared = [] {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < writable().size(); ++i) {
      auto tool = fuzz::parse_json(writable().tool_json(i), "a tool is not JSON");
      out.emplace_back(tool["name"].GetString(), tool["name"].GetStringLength());
    }
    out.emplace_back("");
    out.emplace_back("no_such_tool");
    out.emplace_back("LIST_QUEUES");
    return out;
  }();
  return shared;
}

// The answers shape() expects for `op`, all with one status and body.
std::vector<http_response> answers(const operation& op, int status, std::string body) {
  return std::vector<http_response>(op.requests.size(), http_response{status, body});
}

void exercise(const tool_catalog& catalog, const operation& op) {
  fuzz::check_operation(op);
  switch (op.backend) {
  case backend_kind::local:
    fuzz::check_tool_result(catalog.shape(op, {}));
    break;
  case backend_kind::management:
    // The arguments steer shaping too (paging, filters, names in messages).
    fuzz::check_tool_result(catalog.shape(op, answers(op, 200, "[]")));
    fuzz::check_tool_result(catalog.shape(op, answers(op, 200, "{}")));
    fuzz::check_tool_result(catalog.shape(op, answers(op, 404, "")));
    fuzz::check_tool_result(catalog.shape(
        op, answers(op, 400, R"({"error":"page_out_of_range","reason":"len: 3"})")));
    if (op.precheck) {
      if (auto verdict = catalog.review(op, {200, "{}"}))
        fuzz::check_tool_result(*verdict);
      if (auto verdict = catalog.review(op, {200, R"({"messages":3,"consumers":1})"}))
        fuzz::check_tool_result(*verdict);
    }
    break;
  case backend_kind::amqp: {
    amqp_response response;
    response.result = op.amqp.what == amqp_request::kind::get
                          ? amqp_response::outcome::delivered
                          : amqp_response::outcome::confirmed;
    if (op.amqp.what == amqp_request::kind::get)
      response.messages.resize(1);
    fuzz::check_tool_result(catalog.shape_amqp(op, response));
    break;
  }
  }
}

void call(uint8_t selector, std::string_view arguments) {
  auto& catalog = selector & 0x80 ? read_only() : writable();
  auto& name = names()[(selector & 0x7f) % names().size()];
  auto op = catalog.prepare(name, arguments);
  if (!op) {
    auto code = code_of(op.error());
    if (code != ec::invalid_params && code != ec::unknown_tool)
      fuzz::fail("prepare failed with an unexpected error code",
                 message_of(op.error()));
    fuzz::check_line(make_error_response("1", op.error()));
    return;
  }
  if (op->tool != name)
    fuzz::fail("prepare built an operation for another tool", op->tool);
  exercise(catalog, *op);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  std::string_view arguments{reinterpret_cast<const char*>(data + 1), size - 1};
  fuzz::on_small_stack([&] { call(data[0], arguments); });
  return 0;
}
