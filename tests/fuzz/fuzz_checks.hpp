#pragma once

// What every fuzz target asserts about warren's output besides "no crash, no leak, no
// UB": whatever warren sends, to the client or to the broker, is well-formed. A
// broken invariant aborts, so libFuzzer keeps the input as a crash.

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <pthread.h>

#include <rapidjson/document.h>

#include "protocol/http_message.hpp"
#include "protocol/tool_catalog.hpp"

namespace warren::fuzz {

[[noreturn]] inline void fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n%.*s\n", what,
               static_cast<int>(std::min<std::size_t>(text.size(), 4096)), text.data());
  std::abort();
}

/// `text` parsed as strict UTF-8 JSON, or a failure naming `what`. Iterative, so a
/// deeply nested answer cannot overflow the checker's own stack.
inline rapidjson::Document parse_json(std::string_view text, const char* what) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(
      text.data(), text.size());
  if (doc.HasParseError())
    fail(what, text);
  return doc;
}

/// One line of the stdio transport: a JSON-RPC 2.0 object without a newline inside.
inline void check_line(std::string_view line) {
  if (line.find_first_of("\r\n") != std::string_view::npos)
    fail("an output line contains a line break", line);
  auto doc = parse_json(line, "an output line is not valid UTF-8 JSON");
  if (!doc.IsObject())
    fail("an output line is not a JSON object", line);
  auto version = doc.FindMember("jsonrpc");
  if (version == doc.MemberEnd() || !version->value.IsString() ||
      std::string_view{version->value.GetString()} != "2.0")
    fail("an output line lacks \"jsonrpc\":\"2.0\"", line);
  bool result = doc.HasMember("result");
  bool error = doc.HasMember("error");
  bool method = doc.HasMember("method");
  if (static_cast<int>(result) + static_cast<int>(error) + static_cast<int>(method) !=
      1)
    fail("an output line is not exactly one of result, error or notification", line);
  if (error) {
    auto& e = doc["error"];
    if (!e.IsObject() || !e.HasMember("code") || !e["code"].IsInt() ||
        !e.HasMember("message") || !e["message"].IsString())
      fail("an error response lacks an integer code or a string message", line);
  }
}

/// An MCP CallToolResult: an object with a content array and isError matching.
inline void check_tool_result(const tool_result& result) {
  auto doc = parse_json(result.json, "a tool result is not valid UTF-8 JSON");
  if (!doc.IsObject() || !doc.HasMember("content") || !doc["content"].IsArray())
    fail("a tool result lacks its content array", result.json);
  auto is_error = doc.FindMember("isError");
  if (is_error == doc.MemberEnd() || !is_error->value.IsBool() ||
      is_error->value.GetBool() != result.is_error)
    fail("a tool result's isError disagrees with is_error", result.json);
  auto structured = doc.FindMember("structuredContent");
  if (structured != doc.MemberEnd() && !structured->value.IsObject())
    fail("a tool result's structuredContent is not an object", result.json);
}

/// A request for the management API: a known method, a target below /api/ made only
/// of printable ASCII (names are percent-encoded, so nothing a client sends can split
/// the request line or add a header), and a JSON body when there is one.
inline void check_request(const http_request& request) {
  static const std::vector<std::string_view> methods{"GET", "PUT", "POST", "DELETE"};
  bool known = false;
  for (auto m : methods)
    known = known || request.method == m;
  if (!known)
    fail("a management request has an unknown method", request.method);
  if (request.target.rfind("/api/", 0) != 0)
    fail("a management request's target is not below /api/", request.target);
  for (unsigned char c : request.target)
    if (c <= 0x20 || c >= 0x7f)
      fail("a management request's target has a byte that needs encoding",
           request.target);
  if (!request.body.empty())
    parse_json(request.body, "a management request's body is not valid UTF-8 JSON");
}

/// Everything a prepared operation sends or records.
inline void check_operation(const operation& op) {
  auto args = parse_json(op.arguments_json, "an operation's arguments are not JSON");
  if (!args.IsObject())
    fail("an operation's arguments are not an object", op.arguments_json);
  for (auto& request : op.requests)
    check_request(request);
  if (op.precheck)
    check_request(*op.precheck);
  if (op.backend == backend_kind::management && op.requests.empty())
    fail("a management operation has no request", op.tool);
  if (op.backend == backend_kind::amqp && op.amqp.what == amqp_request::kind::publish &&
      !op.amqp.publish.headers_json.empty())
    parse_json(op.amqp.publish.headers_json, "a publish's headers are not JSON");
}

/// Stack for one input. warren reads lines of up to 10 MiB on threads with 8 MiB
/// stacks, so any recursion that grows with the input can be driven past its stack;
/// the fuzz inputs are small (8-64 KiB), so they run on a stack that is small too,
/// which turns such recursion into a stack overflow the fuzzer reports.
constexpr std::size_t small_stack_bytes = 256 * 1024;

/// Runs `fn` to completion on a thread with a stack of small_stack_bytes. The thread
/// lives as long as the process: starting one per input would cost more than most
/// inputs take.
template <class F>
void on_small_stack(F&& fn) {
  struct worker {
    std::mutex mutex;
    std::condition_variable wake;
    void (*job)(void*) = nullptr;
    void* arg = nullptr;
    bool done = false;

    static void* loop(void* self) {
      auto& w = *static_cast<worker*>(self);
      std::unique_lock<std::mutex> lock{w.mutex};
      for (;;) {
        w.wake.wait(lock, [&] { return w.job != nullptr; });
        w.job(w.arg);
        w.job = nullptr;
        w.done = true;
        w.wake.notify_all();
      }
      return nullptr;
    }
  };
  static worker* const w = [] {
    auto* created = new worker;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, small_stack_bytes);
    pthread_t thread;
    if (pthread_create(&thread, &attr, &worker::loop, created) != 0)
      fail("could not start the fuzz thread", "");
    pthread_attr_destroy(&attr);
    pthread_detach(thread);
    return created;
  }();
  using fn_type = std::remove_reference_t<F>;
  std::unique_lock<std::mutex> lock{w->mutex};
  w->arg = &fn;
  w->job = [](void* f) { (*static_cast<fn_type*>(f))(); };
  w->done = false;
  w->wake.notify_all();
  w->wake.wait(lock, [&] { return w->done; });
}

/// Splits `text` at every `separator` (no separator: one piece).
inline std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  for (;;) {
    auto at = text.find(separator);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos)
      return out;
    text.remove_prefix(at + 1);
  }
}

} // namespace warren::fuzz
