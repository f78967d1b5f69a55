// Fuzzes the shaping of broker answers into tool results: what the management API
// (or a broker impersonating it) sends back must never crash warren, and every
// result must be a well-formed MCP CallToolResult.
//
// Input: byte 0 picks a prepared operation, byte 1 the HTTP statuses (low nibble: the
// first answer's, high nibble: the others'), the rest is the answer bodies separated
// by 0x1e (record separator). Guarded writes also have their precheck reviewed. For
// the AMQP tools the pieces become the broker's reply text and the messages taken.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/error.hpp"
#include "protocol/tool_catalog.hpp"
#include "tests/fuzz/fuzz_checks.hpp"

namespace {

using namespace warren;

constexpr int statuses[16] = {200, 200, 201, 204, 400, 401, 403, 404,
                              405, 409, 412, 500, 503, 301, 0,   600};

const tool_catalog& catalog() {
  // A small body limit, so that message bodies get cut (at UTF-8 boundaries).
  static const tool_catalog shared{catalog_options{true, "all", 64}};
  return shared;
}

// One call of each shape of answer warren knows: lists, pages with filters, single
// resources, guarded writes with and without force or dry_run, and discovery.
const std::vector<operation>& operations() {
  static const std::vector<operation> shared = [] {
    const std::pair<const char*, const char*> calls[] = {
        {"overview", "{}"},
        {"list_vhosts", "{}"},
        {"list_queues", R"({"vhost":"/","page":2,"page_size":10})"},
        {"list_queues", R"({"name":"^orders\\.","use_regex":true})"},
        {"get_queue", R"({"name":"orders"})"},
        {"list_exchanges", R"({"vhost":"/"})"},
        {"list_bindings", "{}"},
        {"list_bindings", R"({"queue":"orders"})"},
        {"list_bindings", R"({"exchange":"events"})"},
        {"find_queues", R"({"min_messages":1,"max_consumers":0,"idle_seconds":60})"},
        {"get_exchange", R"({"name":""})"},
        {"get_exchange", R"({"name":"events","vhost":"shop"})"},
        {"list_connections", "{}"},
        {"list_consumers", "{}"},
        {"list_nodes", "{}"},
        {"health_check", "{}"},
        {"create_queue", R"({"name":"orders","queue_type":"quorum",)"
                         R"("message_ttl_ms":1000,"arguments":{"x-max-length":5}})"},
        {"delete_queue", R"({"name":"orders"})"},
        {"delete_queue", R"({"name":"orders","force":true})"},
        {"delete_queue", R"({"name":"orders","dry_run":true})"},
        {"purge_queue", R"({"name":"orders"})"},
        {"purge_queue", R"({"name":"orders","dry_run":true})"},
        {"create_exchange", R"({"name":"events","type":"topic"})"},
        {"delete_exchange", R"({"name":"events"})"},
        {"delete_exchange", R"({"name":"events","dry_run":true})"},
        {"create_binding", R"({"source":"events","destination":"orders",)"
                           R"("routing_key":"order.*"})"},
        {"delete_binding", R"({"source":"events","destination":"orders"})"},
        {"delete_binding", R"({"source":"events","destination":"orders",)"
                           R"("properties_key":"~","dry_run":true})"},
        {"call-id", R"({"id":"overview.get"})"},
        {"call-id", R"({"id":"users.list"})"},
        {"call-id", R"({"id":"definitions.export"})"},
        {"call-id", R"({"id":"queues.delete","arguments":{"vhost":"/",)"
                    R"("name":"orders"},"force":true})"},
        {"publish_message", R"({"routing_key":"orders","body":"hello"})"},
        {"get_messages", R"({"queue":"orders","count":5})"},
        {"get_messages", R"({"queue":"orders","count":5,"ack_mode":"ack"})"},
    };
    std::vector<operation> out;
    for (auto& [tool, arguments] : calls) {
      auto op = catalog().prepare(tool, arguments);
      if (!op)
        fuzz::fail("a representative call was refused", message_of(op.error()));
      out.push_back(std::move(*op));
    }
    return out;
  }();
  return shared;
}

// A short piece of `text` from `at`: AMQP short strings come straight from the
// broker, in whatever bytes a publisher used.
std::string piece(std::string_view text, std::size_t at, std::size_t length) {
  return at < text.size() ? std::string{text.substr(at, length)} : std::string{};
}

amqp_response amqp_answer(int selector, const std::vector<std::string_view>& parts) {
  amqp_response response;
  response.result = static_cast<amqp_response::outcome>(selector & 3);
  response.reply_code = static_cast<uint16_t>(statuses[(selector >> 4) & 15]);
  response.reply_text = std::string{parts[0]};
  // Then pairs of pieces: a message body and its headers table as JSON.
  for (std::size_t i = 1; i < parts.size() && response.messages.size() < 100; i += 2) {
    amqp_delivery d;
    d.body = std::string{parts[i]};
    if (i + 1 < parts.size())
      d.headers_json = std::string{parts[i + 1]};
    auto seed = static_cast<int>(i * 31 + d.body.size());
    d.redelivered = seed & 1;
    d.exchange = piece(d.body, 0, 8);
    d.routing_key = piece(d.body, 1, 12);
    d.content_type = piece(d.body, 2, 16);
    d.content_encoding = piece(d.body, 3, 4);
    d.message_id = piece(d.body, 4, 9);
    d.correlation_id = piece(d.body, 5, 9);
    d.reply_to = piece(d.body, 6, 9);
    d.expiration = piece(d.body, 7, 5);
    d.message_count = static_cast<uint32_t>(seed);
    d.delivery_mode = seed % 3;
    d.priority = seed % 257 - 1;
    d.timestamp = seed % 5 == 0 ? -1 : static_cast<int64_t>(seed) * 1000003;
    response.messages.push_back(std::move(d));
  }
  return response;
}

void shape(const operation& op, int selector, std::string_view rest) {
  auto parts = fuzz::split(rest, '\x1e');
  if (op.backend == backend_kind::amqp) {
    fuzz::check_tool_result(catalog().shape_amqp(op, amqp_answer(selector, parts)));
    return;
  }
  std::vector<http_response> responses;
  for (std::size_t i = 0; i < op.requests.size(); ++i)
    responses.push_back({statuses[i == 0 ? selector & 15 : (selector >> 4) & 15],
                         i < parts.size() ? std::string{parts[i]} : std::string{}});
  if (op.precheck)
    if (auto verdict = catalog().review(op, responses.front()))
      fuzz::check_tool_result(*verdict);
  fuzz::check_tool_result(catalog().shape(op, responses));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  std::string_view rest{reinterpret_cast<const char*>(data + 2), size - 2};
  fuzz::on_small_stack(
      [&] { shape(operations()[data[0] % operations().size()], data[1], rest); });
  return 0;
}
