// Fuzzes what a client can send over stdio: the input is split into lines the way the
// stdio transport splits them, and each line goes through the JSON-RPC parser and the
// MCP session state machine, then on as the session actor and the dispatcher would
// take it (a tools/call is validated and prepared, a local tool shaped). Every line
// warren would write back must be one well-formed JSON-RPC message.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "protocol/jsonrpc.hpp"
#include "protocol/mcp_session.hpp"
#include "protocol/tool_catalog.hpp"
#include "tests/fuzz/fuzz_checks.hpp"

namespace {

using namespace warren;

// More lines than this add time per input, not depth.
constexpr std::size_t max_lines = 64;

const tool_catalog& catalog() {
  static const tool_catalog shared{catalog_options{true, "all", 64 * 1024}};
  return shared;
}

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

// What the dispatcher does with a call: prepare it, answer errors at once, shape a
// local tool (search-ids, get-id) without any backend.
void dispatch(const call_action& call) {
  auto id = fuzz::parse_json(call.id_json, "a call's id is not JSON");
  if (!id.IsString() && !id.IsInt64() && !id.IsUint64())
    fuzz::fail("a call's id is neither a string nor an integer", call.id_json);
  auto args = fuzz::parse_json(call.arguments_json, "a call's arguments are not JSON");
  if (!args.IsObject())
    fuzz::fail("a call's arguments are not an object", call.arguments_json);
  if (!call.progress_token_json.empty()) {
    fuzz::parse_json(call.progress_token_json, "a progress token is not JSON");
    fuzz::check_line(mcp_session::progress_notification(call.progress_token_json, 0, 1,
                                                        "calling " + call.tool));
  }
  auto op = catalog().prepare(call.tool, call.arguments_json);
  if (!op) {
    fuzz::check_line(make_error_response(call.id_json, op.error()));
    return;
  }
  fuzz::check_operation(*op);
  if (op->backend == backend_kind::local) {
    auto result = catalog().shape(*op, {});
    fuzz::check_tool_result(result);
    fuzz::check_line(make_result(call.id_json, result.json));
  }
}

void handle(mcp_session& session, std::string_view line) {
  std::visit(
      overloaded{
          [](const no_action&) {},
          [](const reply_action& reply) { fuzz::check_line(reply.line); },
          [](const cancel_action& cancel) {
            fuzz::parse_json(cancel.request_id_json,
                             "a cancelled request id is not JSON");
          },
          [](const call_action& call) { dispatch(call); },
          [](const fixture_action& call) {
            fuzz::fail("a fixture tool ran without --conformance-fixtures", call.tool);
          },
          [](const client_answer_action& reply) {
            fuzz::parse_json(reply.id_json, "an answered request id is not JSON");
            if (reply.ok)
              fuzz::parse_json(reply.result_json, "a client's result is not JSON");
          },
      },
      session.handle(line));
}

void run(mcp_session& session, std::string_view input) {
  std::size_t lines = 0;
  for (auto line : fuzz::split(input, '\n')) {
    if (++lines > max_lines)
      break;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos)
      continue; // the transport drops blank lines
    handle(session, line);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  fuzz::on_small_stack([input] {
    // The same lines before and after initialize: most methods answer differently.
    mcp_session fresh{catalog(), server_info{}};
    run(fresh, input);
    mcp_session ready{catalog(), server_info{"warren", "0.1.0", 7}};
    handle(ready, R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":)"
                  R"({"protocolVersion":"2025-11-25","capabilities":{},)"
                  R"("clientInfo":{"name":"fuzz","version":"1"}}})");
    if (!ready.initialized())
      fuzz::fail("initialize did not initialize the session", "");
    handle(ready, R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    run(ready, input);
    fuzz::check_line(mcp_session::too_large_response(input.size(), 1024));
  });
  return 0;
}
