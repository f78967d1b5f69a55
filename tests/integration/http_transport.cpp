// End-to-end: MCP over Streamable HTTP (`warren serve --http`), driven through the
// real binary with a Beast client: every status the transport answers with, the
// DNS-rebinding and token defences, sessions (creation, expiry, DELETE), rate and
// size limits, SSE answers and streams, and a thousand sessions at once.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "protocol/error.hpp"
#include "tests/integration/launch.hpp"
#include "tests/kit/broker_env.hpp"
#include "tests/kit/http_probe.hpp"
#include "tests/kit/mcp_client.hpp"
#include "tests/kit/subprocess.hpp"
#include "tests/kit/tcp_listener.hpp"

using namespace std::chrono_literals;
using warren::http_fields;
using warren::http_probe;
using warren::http_probe_response;
using warren::http_warren;
using warren::json_message;

namespace {

const std::string initialize_body =
    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":)"
    R"("2025-11-25","capabilities":{},"clientInfo":{"name":"warren-tests",)"
    R"("version":"0.0.1"}}})";

std::string request_body(int id, const std::string& method,
                         const std::string& params = "") {
  std::string body = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                     R"(,"method":")" + method + '"';
  if (!params.empty())
    body += R"(,"params":)" + params;
  return body + "}";
}

std::string list_queues_body(int id, const std::string& progress_token = "") {
  std::string params = R"({"name":"list_queues","arguments":{})";
  if (!progress_token.empty())
    params += R"(,"_meta":{"progressToken":")" + progress_token + R"("})";
  return request_body(id, "tools/call", params + "}");
}

http_warren start(warren::http_warren_options opts) {
  opts.binary = warren::warren_binary_path(WARREN_BINARY);
  auto w = warren::start_http_warren(std::move(opts));
  REQUIRE_MESSAGE(w,
                  "cannot start warren over HTTP: " << warren::message_of(w.error()));
  return std::move(*w);
}

/// `warren serve --http 127.0.0.1:0 <args>` against the test broker when there is one.
http_warren launch_http(std::vector<std::string> args = {},
                        std::vector<std::string> env = {}) {
  warren::http_warren_options opts;
  opts.args = std::move(args);
  opts.env = std::move(env);
  opts.broker = warren::load_broker_env();
  return start(std::move(opts));
}

/// The same against a management API on 127.0.0.1:`port` (and no AMQP broker).
http_warren launch_http_against(uint16_t port, std::vector<std::string> args = {}) {
  warren::http_warren_options opts;
  opts.args = std::move(args);
  opts.env = {"RABBITMQ_MANAGEMENT_URL=http://127.0.0.1:" + std::to_string(port),
              "RABBITMQ_URL=amqp://guest:guest@127.0.0.1:" +
                  std::to_string(warren::closed_port()) + "/%2f"};
  return start(std::move(opts));
}

std::string diagnostics(const http_warren& w) {
  return "warren's stderr:\n" + w.stderr_text();
}

/// What a well-behaved MCP client sends with a POST, plus `extra`.
http_fields mcp_headers(const std::string& session = "", http_fields extra = {}) {
  http_fields fields{{"Content-Type", "application/json"},
                     {"Accept", "application/json, text/event-stream"}};
  if (!session.empty())
    fields.emplace_back("Mcp-Session-Id", session);
  fields.insert(fields.end(), extra.begin(), extra.end());
  return fields;
}

http_probe_response send(http_probe& probe, const http_warren& w,
                         const std::string& method, const std::string& target,
                         const http_fields& headers, const std::string& body = {}) {
  auto r = probe.send(method, target, headers, body);
  REQUIRE_MESSAGE(r, method << " " << target
                            << " failed: " << warren::message_of(r.error()) << "\n"
                            << diagnostics(w));
  return std::move(*r);
}

http_probe_response post(http_probe& probe, const http_warren& w,
                         const std::string& body, const http_fields& headers) {
  return send(probe, w, "POST", "/mcp", headers, body);
}

json_message json_of(const std::string& text) {
  auto doc = std::make_shared<rapidjson::Document>();
  doc->Parse(text.data(), text.size());
  REQUIRE_MESSAGE((!doc->HasParseError() && doc->IsObject()),
                  "not a JSON object: '" << text << "'");
  return json_message{text, std::move(doc)};
}

bool is_session_id(const std::string& id) {
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

/// Initializes a session over `probe` and returns its id.
std::string open_session(http_probe& probe, const http_warren& w) {
  auto r = post(probe, w, initialize_body, mcp_headers());
  REQUIRE_MESSAGE(r.status == 200, r.status << " " << r.body << "\n" << diagnostics(w));
  auto id = r.header("Mcp-Session-Id");
  REQUIRE_MESSAGE(id, "no Mcp-Session-Id in the answer to initialize: " << r.body);
  return *id;
}

/// A refusal: `status`, a JSON-RPC error body with id null and `code`.
void check_refusal(const http_probe_response& r, int status, int code) {
  CHECK_MESSAGE(r.status == status, r.status << " " << r.body);
  CHECK(r.media_type() == "application/json");
  auto msg = json_of(r.body);
  CHECK_MESSAGE(msg.id_json() == "null", r.body);
  CHECK_MESSAGE(msg.error_code() == code, r.body);
  CHECK_MESSAGE(!msg.error_message().empty(), r.body);
}

/// A token nobody wrote down: made at run time.
std::string fresh_token() {
  std::random_device rd;
  std::string token = "test-";
  for (int i = 0; i < 4; ++i)
    token += std::to_string(rd());
  return token;
}

std::string port_text(const http_warren& w) {
  return std::to_string(w.port);
}

} // namespace

// --- sessions and answers ----------------------------------------------------------

TEST_CASE("HTTP: initialize without a session id starts one named in Mcp-Session-Id") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto r = post(probe, w, initialize_body, mcp_headers());
  REQUIRE_MESSAGE(r.status == 200, r.body << "\n" << diagnostics(w));
  CHECK(r.media_type() == "application/json");
  auto id = r.header("mcp-session-id"); // header names compare without case
  REQUIRE_MESSAGE(id, r.body);
  CHECK_MESSAGE(is_session_id(*id), *id);
  auto msg = json_of(r.body);
  CHECK(msg.id_json() == "1");
  CHECK(msg.string_at("/result/protocolVersion") == "2025-11-25");
  CHECK(msg.string_at("/result/serverInfo/name") == "warren");
}

TEST_CASE("HTTP: each initialize starts a session with a different id") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto first = open_session(probe, w);
  auto second = open_session(probe, w);
  CHECK(first != second);
}

TEST_CASE("HTTP: a request is answered with 200 application/json carrying its id") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  auto r = post(probe, w, request_body(42, "ping"), mcp_headers(session));
  CHECK_MESSAGE(r.status == 200, r.body);
  CHECK(r.media_type() == "application/json");
  auto msg = json_of(r.body);
  CHECK(msg.id_json() == "42");
  auto* result = msg.result();
  CHECK_MESSAGE((result != nullptr && result->IsObject()), r.body);
}

TEST_CASE("HTTP: a request to a session that only accepts SSE is answered as an event "
          "stream") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  auto r = post(probe, w, request_body(5, "ping"),
                {{"Content-Type", "application/json"},
                 {"Accept", "text/event-stream"},
                 {"Mcp-Session-Id", session}});
  CHECK_MESSAGE(r.status == 200, r.body);
  CHECK(r.is_sse());
  REQUIRE_MESSAGE(r.events.size() == 1, r.body);
  CHECK(r.events[0].name == "message");
  CHECK(json_of(r.events[0].data).id_json() == "5");
}

TEST_CASE("HTTP: initialize answered as an event stream still names the session") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto r =
      post(probe, w, initialize_body,
           {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}});
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(r.is_sse());
  REQUIRE_MESSAGE(r.events.size() == 1, r.body);
  CHECK(json_of(r.events[0].data).string_at("/result/serverInfo/name") == "warren");
  // Without the id the client can never use the session it just started.
  auto id = r.header("Mcp-Session-Id");
  CHECK_MESSAGE(id, "the SSE answer to initialize carries no Mcp-Session-Id header");
  if (id)
    CHECK(is_session_id(*id));
}

TEST_CASE("HTTP: a failed initialize leaves no session behind") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto r = post(probe, w, request_body(1, "initialize", "{}"), mcp_headers());
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto msg = json_of(r.body);
  CHECK_MESSAGE(msg.error_code() == -32602, r.body);
  // Should the answer name a session anyway, that session must not exist.
  if (auto id = r.header("Mcp-Session-Id")) {
    auto ping = post(probe, w, request_body(2, "ping"), mcp_headers(*id));
    CHECK_MESSAGE(ping.status == 404, ping.body);
  }
}

TEST_CASE("HTTP: notifications and client responses are accepted with 202 and no "
          "body") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  auto note =
      post(probe, w, R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
           mcp_headers(session));
  CHECK_MESSAGE(note.status == 202, note.body);
  CHECK(note.body.empty());
  auto answer = post(probe, w, R"({"jsonrpc":"2.0","id":"s-1","result":{}})",
                     mcp_headers(session));
  CHECK_MESSAGE(answer.status == 202, answer.body);
  CHECK(answer.body.empty());
}

TEST_CASE("HTTP: a request without Mcp-Session-Id other than initialize is refused "
          "with 400") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  open_session(probe, w);
  auto r = post(probe, w, request_body(2, "ping"), mcp_headers());
  check_refusal(r, 400, -32600);
  CHECK_MESSAGE(r.body.find("Mcp-Session-Id") != std::string::npos, r.body);
}

TEST_CASE("HTTP: a malformed Mcp-Session-Id is refused with 400") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto too_long = std::string(200, 'a');
  auto r = post(probe, w, request_body(2, "ping"), mcp_headers(too_long));
  check_refusal(r, 400, -32600);
  auto spaced = post(probe, w, request_body(3, "ping"), mcp_headers("two words"));
  check_refusal(spaced, 400, -32600);
}

TEST_CASE("HTTP: an unknown Mcp-Session-Id is answered with 404") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto r = post(probe, w, request_body(2, "ping"), mcp_headers(std::string(32, '0')));
  check_refusal(r, 404, -32001);
}

TEST_CASE("HTTP: a body that is not JSON is refused with 400 and a parse error") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto r = post(probe, w, "{not json", mcp_headers());
  CHECK_MESSAGE(r.status == 400, r.body);
  CHECK(r.media_type() == "application/json");
  auto msg = json_of(r.body);
  CHECK_MESSAGE(msg.error_code() == -32700, r.body);
  CHECK(msg.id_json() == "null");
}

TEST_CASE("HTTP: a POST whose Content-Type is not application/json is refused with "
          "415") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto r = post(probe, w, initialize_body,
                {{"Content-Type", "text/plain"},
                 {"Accept", "application/json, text/event-stream"}});
  check_refusal(r, 415, -32600);
  auto none = post(probe, w, initialize_body,
                   {{"Accept", "application/json, text/event-stream"}});
  check_refusal(none, 415, -32600);
  // Parameters do not change the media type.
  auto charset = post(probe, w, initialize_body,
                      {{"Content-Type", "application/json; charset=utf-8"},
                       {"Accept", "application/json, text/event-stream"}});
  CHECK_MESSAGE(charset.status == 200, charset.body);
}

TEST_CASE("HTTP: a POST whose Accept allows neither JSON nor SSE is refused with 406") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto r = post(probe, w, initialize_body,
                {{"Content-Type", "application/json"}, {"Accept", "text/html"}});
  check_refusal(r, 406, -32600);
  auto zero = post(probe, w, initialize_body,
                   {{"Content-Type", "application/json"},
                    {"Accept", "application/json;q=0, text/event-stream;q=0"}});
  check_refusal(zero, 406, -32600);
}

TEST_CASE("HTTP: methods other than POST, GET and DELETE on /mcp are refused with 405 "
          "and Allow") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  for (std::string method : {"PUT", "PATCH", "OPTIONS"}) {
    CAPTURE(method);
    auto r = send(probe, w, method, "/mcp", mcp_headers(), "{}");
    check_refusal(r, 405, -32600);
    auto allow = r.header("Allow");
    REQUIRE_MESSAGE(allow, "no Allow header");
    for (const char* m : {"GET", "POST", "DELETE"})
      CHECK_MESSAGE(allow->find(m) != std::string::npos, *allow);
  }
}

TEST_CASE("HTTP: paths other than /mcp, /healthz and /readyz are answered with 404") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  for (std::string target : {"/", "/mcp/extra", "/sse", "/healthz/x"}) {
    CAPTURE(target);
    auto r = send(probe, w, "POST", target, mcp_headers(), initialize_body);
    check_refusal(r, 404, -32600);
  }
}

TEST_CASE("HTTP: a request id already in flight in the session is refused with 400") {
  // The management API never answers, so the first call stays in flight.
  warren::tcp_listener silent{warren::tcp_listener::fault::never_answer};
  auto w = launch_http_against(silent.port());
  http_probe first{"127.0.0.1", w.port};
  auto session = open_session(first, w);
  auto head = first.open_stream("POST", "/mcp", mcp_headers(session),
                                list_queues_body(7, "p7"));
  REQUIRE_MESSAGE(head, warren::message_of(head.error()));
  REQUIRE_MESSAGE((head->status == 200 && head->is_sse()), head->status);
  // Its first progress event says the call has started.
  auto progress = first.next_event(10s);
  REQUIRE_MESSAGE(progress, "no progress event; " << diagnostics(w));
  CHECK(json_of(progress->data).method() == "notifications/progress");
  http_probe second{"127.0.0.1", w.port};
  auto r = post(second, w, request_body(7, "ping"), mcp_headers(session));
  CHECK_MESSAGE(r.status == 400, r.body);
  auto msg = json_of(r.body);
  CHECK_MESSAGE(msg.id_json() == "7", r.body);
  CHECK_MESSAGE(msg.error_code() == -32600, r.body);
  // Another id in the same session is served meanwhile.
  auto other = post(second, w, request_body(8, "ping"), mcp_headers(session));
  CHECK_MESSAGE(other.status == 200, other.body);
}

TEST_CASE("HTTP: requests over server.max_in_flight in one session are refused with "
          "429") {
  warren::tcp_listener silent{warren::tcp_listener::fault::never_answer};
  auto w = launch_http_against(silent.port(), {"--max-in-flight", "1"});
  http_probe first{"127.0.0.1", w.port};
  auto session = open_session(first, w);
  auto head = first.open_stream("POST", "/mcp", mcp_headers(session),
                                list_queues_body(2, "p2"));
  REQUIRE_MESSAGE(head, warren::message_of(head.error()));
  REQUIRE(first.next_event(10s));
  http_probe second{"127.0.0.1", w.port};
  auto r = post(second, w, request_body(3, "ping"), mcp_headers(session));
  check_refusal(r, 429, -32000);
  CHECK(r.header("Retry-After"));
  CHECK_MESSAGE(r.body.find("max_in_flight") != std::string::npos, r.body);
}

TEST_CASE("HTTP: a cancel passes even at server.max_in_flight, and the cancelled "
          "request's stream ends without an answer") {
  warren::tcp_listener silent{warren::tcp_listener::fault::never_answer};
  // Uncached, so that the cancel reaches the connection and frees the call's credit
  // (a cached read's fetch may serve other callers, and is not stopped).
  auto w = launch_http_against(silent.port(),
                               {"--max-in-flight", "1", "--cache-ttl-lists", "0"});
  http_probe first{"127.0.0.1", w.port};
  auto session = open_session(first, w);
  auto head = first.open_stream("POST", "/mcp", mcp_headers(session),
                                list_queues_body(2, "p2"));
  REQUIRE_MESSAGE(head, warren::message_of(head.error()));
  REQUIRE(first.next_event(10s));
  http_probe second{"127.0.0.1", w.port};
  auto r = post(
      second, w,
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}})",
      mcp_headers(session));
  CHECK_MESSAGE(r.status == 202, r.body);
  // The stream of request 2 ends, with no answer in it.
  for (int i = 0; i < 50 && !first.stream_ended(); ++i)
    if (auto event = first.next_event(200ms))
      CHECK_MESSAGE(event->data.find(R"("id":2)") == std::string::npos, event->data);
  CHECK(first.stream_ended());
  // The session takes new requests again once the call's backend work stopped.
  auto ping = post(second, w, request_body(3, "ping"), mcp_headers(session));
  for (int i = 0; i < 50 && ping.status == 429; ++i) {
    std::this_thread::sleep_for(100ms);
    ping = post(second, w, request_body(3, "ping"), mcp_headers(session));
  }
  CHECK_MESSAGE(ping.status == 200, ping.body);
}

TEST_CASE("HTTP: initialize beyond http.max_sessions is refused with 503") {
  auto w = launch_http({"--http-max-sessions", "1"});
  http_probe probe{"127.0.0.1", w.port};
  open_session(probe, w);
  auto r = post(probe, w, initialize_body, mcp_headers());
  check_refusal(r, 503, -32000);
  CHECK(r.header("Retry-After"));
}

// --- tools over JSON and SSE -------------------------------------------------------

namespace {

class scoped_http_queue {
public:
  scoped_http_queue(const warren::broker_env& env, std::string name)
      : env_(env), name_(std::move(name)) {
    std::string body;
    auto status = warren::mgmt_call(env_, "PUT", path(), R"({"durable":false})", &body);
    REQUIRE_MESSAGE((status == 201 || status == 204),
                    "cannot create queue " << name_ << ": " << status << " " << body);
  }
  ~scoped_http_queue() { warren::mgmt_call(env_, "DELETE", path()); }
  const std::string& name() const { return name_; }

private:
  std::string path() const { return "/api/queues/%2F/" + name_; }
  warren::broker_env env_;
  std::string name_;
};

bool lists_queue(const json_message& msg, const std::string& name) {
  auto* items = msg.at("/result/structuredContent/items");
  if (items == nullptr || !items->IsArray())
    return false;
  for (const auto& item : items->GetArray())
    if (item.IsObject() && item.HasMember("name") && item["name"].IsString() &&
        name == item["name"].GetString())
      return true;
  return false;
}

} // namespace

TEST_CASE("HTTP: tools/call list_queues is answered over JSON") {
  auto broker = warren::e2e::require_broker();
  scoped_http_queue queue{broker, warren::e2e::unique_name("http-json")};
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  auto r = post(probe, w, list_queues_body(3), mcp_headers(session));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(r.media_type() == "application/json");
  auto msg = json_of(r.body);
  CHECK(msg.id_json() == "3");
  auto* is_error = msg.at("/result/isError");
  CHECK_MESSAGE((is_error == nullptr || (is_error->IsBool() && !is_error->GetBool())),
                r.body);
  CHECK_MESSAGE(lists_queue(msg, queue.name()), queue.name() << " missing: " << r.body);
}

TEST_CASE("HTTP: progress notifications before the answer make it an SSE stream") {
  auto broker = warren::e2e::require_broker();
  scoped_http_queue queue{broker, warren::e2e::unique_name("http-sse")};
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  auto r = post(probe, w, list_queues_body(4, "tok-4"), mcp_headers(session));
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(r.is_sse());
  auto encoding = r.header("Transfer-Encoding");
  CHECK_MESSAGE((encoding && encoding->find("chunked") != std::string::npos),
                "not chunked");
  REQUIRE_MESSAGE(r.events.size() >= 2, r.body);
  for (std::size_t i = 0; i + 1 < r.events.size(); ++i) {
    CAPTURE(r.events[i].data);
    CHECK(r.events[i].name == "message");
    auto note = json_of(r.events[i].data);
    CHECK(note.method() == "notifications/progress");
    CHECK(note.string_at("/params/progressToken") == "tok-4");
  }
  auto answer = json_of(r.events.back().data);
  CHECK(r.events.back().name == "message");
  CHECK(answer.id_json() == "4");
  CHECK_MESSAGE(lists_queue(answer, queue.name()), queue.name() << " missing");
  // The connection stays usable after the stream's last chunk.
  auto ping = post(probe, w, request_body(5, "ping"), mcp_headers(session));
  CHECK_MESSAGE(ping.status == 200, ping.body);
}

// --- GET streams and DELETE --------------------------------------------------------

TEST_CASE("HTTP: GET with Accept text/event-stream opens the session's stream") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  http_probe stream{"127.0.0.1", w.port};
  auto head = stream.open_stream(
      "GET", "/mcp", {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", session}});
  REQUIRE_MESSAGE(head, warren::message_of(head.error()));
  CHECK_MESSAGE(head->status == 200, head->body);
  CHECK(head->is_sse());
  CHECK_FALSE(stream.stream_ended());
  // The session stays usable on other connections while its stream is open.
  auto ping = post(probe, w, request_body(2, "ping"), mcp_headers(session));
  CHECK_MESSAGE(ping.status == 200, ping.body);
}

TEST_CASE("HTTP: GET without Accept text/event-stream is refused with 406") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  auto r = send(probe, w, "GET", "/mcp",
                {{"Accept", "application/json"}, {"Mcp-Session-Id", session}});
  check_refusal(r, 406, -32600);
}

TEST_CASE("HTTP: GET without a known session is refused with 400 or 404") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto none = send(probe, w, "GET", "/mcp", {{"Accept", "text/event-stream"}});
  check_refusal(none, 400, -32600);
  auto unknown =
      send(probe, w, "GET", "/mcp",
           {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", std::string(32, 'f')}});
  check_refusal(unknown, 404, -32001);
}

TEST_CASE("HTTP: DELETE ends the session and its id then answers 404") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  auto r = send(probe, w, "DELETE", "/mcp", {{"Mcp-Session-Id", session}});
  CHECK_MESSAGE(r.status == 204, r.body);
  CHECK(r.body.empty());
  auto after = post(probe, w, request_body(2, "ping"), mcp_headers(session));
  check_refusal(after, 404, -32001);
  auto again = send(probe, w, "DELETE", "/mcp", {{"Mcp-Session-Id", session}});
  check_refusal(again, 404, -32001);
}

TEST_CASE("HTTP: DELETE ends the session's open GET stream") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  http_probe stream{"127.0.0.1", w.port};
  auto head = stream.open_stream(
      "GET", "/mcp", {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", session}});
  REQUIRE_MESSAGE(head, warren::message_of(head.error()));
  REQUIRE(head->status == 200);
  auto r = send(probe, w, "DELETE", "/mcp", {{"Mcp-Session-Id", session}});
  CHECK(r.status == 204);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!stream.stream_ended() && std::chrono::steady_clock::now() < deadline)
    stream.next_event(500ms);
  CHECK_MESSAGE(stream.stream_ended(), "the GET stream outlived its session");
}

TEST_CASE("HTTP: an idle session expires after http.session_idle_ms and then answers "
          "404") {
  auto w = launch_http({"--http-session-idle-ms", "1000"});
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  // Each look at the session is a use that restarts its idle time, so every look
  // waits out the idle time first.
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (status != 404 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1500ms);
    status = post(probe, w, request_body(2, "ping"), mcp_headers(session)).status;
  }
  CHECK_MESSAGE(status == 404, "the session did not expire; " << diagnostics(w));
  // A new one can start at once.
  auto fresh = open_session(probe, w);
  CHECK(fresh != session);
}

// --- DNS rebinding, protocol version -----------------------------------------------

TEST_CASE("HTTP: a Host that is not on the allow-list is refused with 403") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  for (std::string host :
       {std::string{"evil.example.com"}, "evil.example.com:" + port_text(w),
        std::string{"127.0.0.1:1"}}) {
    CAPTURE(host);
    auto r = post(probe, w, initialize_body, mcp_headers("", {{"Host", host}}));
    check_refusal(r, 403, -32600);
  }
}

TEST_CASE("HTTP: the loopback names on warren's port pass the Host check") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  for (std::string name : {"127.0.0.1", "localhost", "LocalHost", "[::1]"}) {
    CAPTURE(name);
    auto r = post(probe, w, initialize_body,
                  mcp_headers("", {{"Host", name + ":" + port_text(w)}}));
    CHECK_MESSAGE(r.status == 200, r.body);
  }
}

TEST_CASE("HTTP: hosts listed in http.allowed_hosts pass the Host check") {
  auto w = launch_http({"--http-allowed-hosts", "mcp.example.com:8443, other.example"});
  http_probe probe{"127.0.0.1", w.port};
  for (std::string host : {"mcp.example.com:8443", "other.example"}) {
    CAPTURE(host);
    auto r = post(probe, w, initialize_body, mcp_headers("", {{"Host", host}}));
    CHECK_MESSAGE(r.status == 200, r.body);
  }
  auto unlisted = post(probe, w, initialize_body,
                       mcp_headers("", {{"Host", "mcp.example.com:9999"}}));
  check_refusal(unlisted, 403, -32600);
}

TEST_CASE("HTTP: an Origin that is not on the allow-list is refused with 403") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  for (std::string origin :
       {std::string{"http://evil.example.com"}, "https://127.0.0.1:" + port_text(w),
        std::string{"http://localhost:1"}, std::string{"null"}}) {
    CAPTURE(origin);
    auto r = post(probe, w, initialize_body, mcp_headers("", {{"Origin", origin}}));
    check_refusal(r, 403, -32600);
  }
}

TEST_CASE("HTTP: warren's own origins and those in http.allowed_origins pass") {
  auto w = launch_http({"--http-allowed-origins", "https://console.example.com"});
  http_probe probe{"127.0.0.1", w.port};
  for (std::string origin :
       {"http://127.0.0.1:" + port_text(w), "http://localhost:" + port_text(w),
        "http://[::1]:" + port_text(w), std::string{"https://console.example.com"}}) {
    CAPTURE(origin);
    auto r = post(probe, w, initialize_body, mcp_headers("", {{"Origin", origin}}));
    CHECK_MESSAGE(r.status == 200, r.body);
  }
}

TEST_CASE("HTTP: an unsupported MCP-Protocol-Version is refused with 400") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  for (std::string version : {"1999-01-01", "2025-11-26", "latest"}) {
    CAPTURE(version);
    auto r = post(probe, w, request_body(2, "ping"),
                  mcp_headers(session, {{"MCP-Protocol-Version", version}}));
    check_refusal(r, 400, -32600);
    CHECK_MESSAGE(r.body.find("MCP-Protocol-Version") != std::string::npos, r.body);
  }
}

TEST_CASE("HTTP: every supported MCP-Protocol-Version, or none, is accepted") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  int id = 10;
  for (std::string version : {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}) {
    CAPTURE(version);
    auto r = post(probe, w, request_body(++id, "ping"),
                  mcp_headers(session, {{"MCP-Protocol-Version", version}}));
    CHECK_MESSAGE(r.status == 200, r.body);
  }
  auto none = post(probe, w, request_body(++id, "ping"), mcp_headers(session));
  CHECK_MESSAGE(none.status == 200, none.body);
}

// --- tokens ------------------------------------------------------------------------

TEST_CASE("HTTP: listening off loopback without a token refuses to start with exit "
          "code 2") {
  std::vector<std::string> argv{warren::warren_binary_path(WARREN_BINARY), "serve",
                                "--http", "0.0.0.0:0"};
  auto process = warren::subprocess::spawn(
      argv, {"WARREN_HTTP_TOKEN=", "WARREN_HTTP_TOKEN_FILE="});
  REQUIRE_MESSAGE(process, warren::message_of(process.error()));
  auto code = (*process)->wait(15s);
  REQUIRE_MESSAGE(code, "warren kept running on 0.0.0.0 without a token");
  CHECK(*code == 2);
  auto err = (*process)->stderr_text();
  CHECK_MESSAGE(err.find("WARREN_HTTP_TOKEN") != std::string::npos, err);
  CHECK_MESSAGE(warren::serving_port(err) == std::nullopt, err);
}

namespace {

/// warren on 0.0.0.0 with a bearer token; clients connect to 127.0.0.1 and name the
/// listen address in Host, which is what its allow-list holds.
http_warren launch_with_token(const std::string& token) {
  warren::http_warren_options opts;
  opts.listen = "0.0.0.0:0";
  opts.env = {"WARREN_HTTP_TOKEN=" + token};
  opts.broker = warren::load_broker_env();
  return start(std::move(opts));
}

http_fields token_headers(const http_warren& w, http_fields extra = {}) {
  extra.emplace_back("Host", "0.0.0.0:" + port_text(w));
  return mcp_headers("", std::move(extra));
}

} // namespace

TEST_CASE("HTTP: off loopback a missing or wrong bearer token is refused with 401") {
  auto token = fresh_token();
  auto w = launch_with_token(token);
  http_probe probe{"127.0.0.1", w.port};
  for (auto extra : std::vector<http_fields>{
           {},
           {{"Authorization", "Bearer wrong-" + token}},
           {{"Authorization", "Bearer " + token.substr(0, token.size() - 1)}},
           {{"Authorization", "Basic " + token}},
           {{"Authorization", token}}}) {
    CAPTURE((extra.empty() ? std::string{"none"} : extra[0].second));
    auto r = post(probe, w, initialize_body, token_headers(w, extra));
    check_refusal(r, 401, -32600);
    auto challenge = r.header("WWW-Authenticate");
    REQUIRE_MESSAGE(challenge, "no WWW-Authenticate header");
    CHECK_MESSAGE(challenge->rfind("Bearer", 0) == 0, *challenge);
  }
  // The token never shows in warren's logs.
  CHECK(w.stderr_text().find(token) == std::string::npos);
}

TEST_CASE("HTTP: off loopback the right bearer token is let in") {
  auto token = fresh_token();
  auto w = launch_with_token(token);
  http_probe probe{"127.0.0.1", w.port};
  auto r = post(probe, w, initialize_body,
                token_headers(w, {{"Authorization", "Bearer " + token}}));
  REQUIRE_MESSAGE(r.status == 200, r.body << "\n" << diagnostics(w));
  auto session = r.header("Mcp-Session-Id");
  REQUIRE(session);
  auto ping = post(probe, w, request_body(2, "ping"),
                   token_headers(w, {{"Authorization", "Bearer " + token},
                                     {"Mcp-Session-Id", *session}}));
  CHECK_MESSAGE(ping.status == 200, ping.body);
  // The Host check still applies to clients with the token.
  auto wrong_host = post(probe, w, initialize_body,
                         mcp_headers("", {{"Authorization", "Bearer " + token},
                                          {"Host", "evil.example.com"}}));
  check_refusal(wrong_host, 403, -32600);
}

// --- limits ------------------------------------------------------------------------

namespace {

// Sends up to 20 requests at once (`body(i)`) until one is refused for its rate;
// every other must pass. The refusal must name `setting` and say when to retry.
void check_rate_refusal(http_probe& probe, const http_warren& w,
                        const std::function<std::string(int)>& body,
                        const warren::http_fields& headers,
                        const std::string& setting) {
  std::optional<http_probe_response> refused;
  for (int i = 0; i < 20 && !refused; ++i) {
    auto r = post(probe, w, body(i), headers);
    if (r.status == 429)
      refused = std::move(r);
    else
      CHECK_MESSAGE(r.status == 200, r.body);
  }
  REQUIRE_MESSAGE(refused, "20 requests at once never met the limit " << setting);
  check_refusal(*refused, 429, -32000);
  CHECK_MESSAGE(refused->body.find(setting) != std::string::npos, refused->body);
  auto retry = refused->header("Retry-After");
  REQUIRE_MESSAGE(retry, "no Retry-After header");
  CHECK(std::stoi(*retry) >= 1);
}

} // namespace

TEST_CASE("HTTP: a session over http.rate_session is refused with 429 and "
          "Retry-After") {
  auto w = launch_http({"--http-rate-session", "1"});
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  check_rate_refusal(
      probe, w, [](int i) { return request_body(100 + i, "ping"); },
      mcp_headers(session), "http.rate_session");
  // Other sessions have their own budget.
  http_probe other{"127.0.0.1", w.port};
  auto second = open_session(other, w);
  auto r = post(other, w, request_body(1, "ping"), mcp_headers(second));
  CHECK_MESSAGE(r.status == 200, r.body);
}

TEST_CASE("HTTP: requests over http.rate_global are refused with 429 and Retry-After") {
  auto w = launch_http({"--http-rate-global", "1"});
  http_probe probe{"127.0.0.1", w.port};
  check_rate_refusal(
      probe, w, [](int) { return std::string{initialize_body}; }, mcp_headers(),
      "http.rate_global");
  // The health probes are not rate-limited.
  auto health = send(probe, w, "GET", "/healthz", {});
  CHECK(health.status == 200);
}

TEST_CASE("HTTP: a body over server.max_line_bytes is refused with 413") {
  auto w = launch_http({"--max-line-bytes", "1024"});
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  auto big = request_body(2, "ping", R"({"pad":")" + std::string(2000, 'x') + R"("})");
  auto r = post(probe, w, big, mcp_headers(session));
  check_refusal(r, 413, -32600);
  // Just under the limit is served (on a new connection: the refused one closes).
  auto fits = request_body(3, "ping", R"({"pad":")" + std::string(900, 'x') + R"("})");
  REQUIRE(fits.size() < 1024);
  auto ok = post(probe, w, fits, mcp_headers(session));
  CHECK_MESSAGE(ok.status == 200, ok.body);
}

// --- health ------------------------------------------------------------------------

TEST_CASE("HTTP: /healthz answers 200 with status ok") {
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto r = send(probe, w, "GET", "/healthz", {});
  CHECK(r.status == 200);
  CHECK(json_of(r.body).string_at("/status") == "ok");
}

TEST_CASE("HTTP: /readyz answers 200 ready while the broker is reachable") {
  warren::e2e::require_broker();
  auto w = launch_http();
  http_probe probe{"127.0.0.1", w.port};
  auto r = send(probe, w, "GET", "/readyz", {});
  CHECK_MESSAGE(r.status == 200, r.body << "\n" << diagnostics(w));
  CHECK(json_of(r.body).string_at("/status") == "ready");
}

TEST_CASE("HTTP: /readyz answers 503 with a reason once a breaker is open") {
  auto w = launch_http_against(
      warren::closed_port(), {"--breaker-failures", "1", "--breaker-open-ms", "60000"});
  http_probe probe{"127.0.0.1", w.port};
  auto session = open_session(probe, w);
  int status = 0;
  std::string body;
  auto deadline = std::chrono::steady_clock::now() + 15s;
  for (int id = 2; status != 503 && std::chrono::steady_clock::now() < deadline; ++id) {
    // Calls to the unreachable management API open its breaker.
    post(probe, w, list_queues_body(id), mcp_headers(session));
    auto r = send(probe, w, "GET", "/readyz", {});
    status = r.status;
    body = r.body;
  }
  REQUIRE_MESSAGE(status == 503, body << "\n" << diagnostics(w));
  auto msg = json_of(body);
  CHECK(msg.string_at("/status") == "not ready");
  auto reason = msg.string_at("/reason");
  REQUIRE_MESSAGE(reason, body);
  CHECK_MESSAGE(reason->find("breaker") != std::string::npos, *reason);
}

// --- scale -------------------------------------------------------------------------

TEST_CASE("HTTP: 1000 concurrent sessions on one instance all get their answers") {
  warren::e2e::require_broker();
  constexpr int sessions = 1000;
  rlimit files{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &files) == 0);
  files.rlim_cur = files.rlim_max;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &files) == 0);
  REQUIRE_MESSAGE(files.rlim_cur >= sessions + 100,
                  "the open-file limit " << files.rlim_cur << " is too low");
  auto w = launch_http();
  std::vector<std::unique_ptr<http_probe>> probes;
  std::vector<std::string> ids;
  int failures = 0;
  std::string first_failure;
  auto fail = [&](int i, const std::string& what) {
    if (failures++ == 0)
      first_failure = "connection " + std::to_string(i) + ": " + what;
  };
  // Every connection asks for its session before any answer is read.
  for (int i = 0; i < sessions; ++i) {
    probes.push_back(std::make_unique<http_probe>("127.0.0.1", w.port));
    if (auto err = probes.back()->write_request("POST", "/mcp", mcp_headers(),
                                                initialize_body))
      fail(i, warren::message_of(err));
  }
  REQUIRE_MESSAGE(failures == 0, first_failure << "\n" << diagnostics(w));
  for (int i = 0; i < sessions; ++i) {
    auto r = probes[i]->read_response(30s);
    if (!r) {
      fail(i, warren::message_of(r.error()));
      ids.emplace_back();
      continue;
    }
    auto id = r->header("Mcp-Session-Id");
    if (r->status != 200 || !id)
      fail(i, std::to_string(r->status) + " " + r->body);
    ids.push_back(id.value_or(""));
  }
  REQUIRE_MESSAGE(failures == 0, first_failure << "\n" << diagnostics(w));
  auto distinct = ids;
  std::sort(distinct.begin(), distinct.end());
  CHECK(std::unique(distinct.begin(), distinct.end()) == distinct.end());
  // Then one tool call on every connection, all written before any answer is read:
  // a thousand requests in flight at once.
  for (int i = 0; i < sessions; ++i)
    if (auto err = probes[i]->write_request("POST", "/mcp", mcp_headers(ids[i]),
                                            list_queues_body(2)))
      fail(i, warren::message_of(err));
  REQUIRE_MESSAGE(failures == 0, first_failure << "\n" << diagnostics(w));
  int answered = 0;
  for (int i = 0; i < sessions; ++i) {
    auto r = probes[i]->read_response(60s);
    if (!r) {
      fail(i, warren::message_of(r.error()));
      continue;
    }
    if (r->status != 200 || r->media_type() != "application/json") {
      fail(i, std::to_string(r->status) + " " + r->body);
      continue;
    }
    auto msg = json_of(r->body);
    auto* is_error = msg.at("/result/isError");
    auto* items = msg.at("/result/structuredContent/items");
    if (msg.id_json() != "2" || items == nullptr || !items->IsArray() ||
        (is_error != nullptr && !(is_error->IsBool() && !is_error->GetBool()))) {
      fail(i, r->body);
      continue;
    }
    ++answered;
  }
  CHECK_MESSAGE(answered == sessions, first_failure << "\n" << diagnostics(w));
  CHECK_MESSAGE(!w.process->exit_code(), diagnostics(w));
}
