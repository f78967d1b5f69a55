#include "tests/kit/mcp_client.hpp"

#include <cstdlib>

#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "protocol/error.hpp"

namespace warren {

namespace {

using namespace std::chrono_literals;

} // namespace

// -- json_message -------------------------------------------------------------------

json_message::json_message(std::string line, std::shared_ptr<rapidjson::Document> doc)
    : text_(std::move(line)), doc_(std::move(doc)) {
  // nop
}

const rapidjson::Value* json_message::at(const char* pointer) const {
  rapidjson::Pointer p{pointer};
  if (!p.IsValid())
    return nullptr;
  return p.Get(*doc_);
}

std::optional<std::string> json_message::string_at(const char* pointer) const {
  auto* v = at(pointer);
  if (v == nullptr || !v->IsString())
    return std::nullopt;
  return std::string{v->GetString(), v->GetStringLength()};
}

bool json_message::is_response() const {
  return doc_->IsObject() && doc_->HasMember("id") &&
         (doc_->HasMember("result") || doc_->HasMember("error"));
}

bool json_message::is_notification() const {
  return doc_->IsObject() && doc_->HasMember("method") && !doc_->HasMember("id");
}

std::string json_message::id_json() const {
  if (!doc_->IsObject())
    return "";
  auto it = doc_->FindMember("id");
  if (it == doc_->MemberEnd())
    return "";
  return to_compact_json(it->value);
}

std::string json_message::method() const {
  auto m = string_at("/method");
  return m ? *m : std::string{};
}

std::optional<int> json_message::error_code() const {
  auto* v = at("/error/code");
  if (v == nullptr || !v->IsInt())
    return std::nullopt;
  return v->GetInt();
}

std::string json_message::error_message() const {
  auto m = string_at("/error/message");
  return m ? *m : std::string{};
}

const rapidjson::Value* json_message::result() const {
  return at("/result");
}

std::string to_compact_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer{buf};
  value.Accept(writer);
  return {buf.GetString(), buf.GetSize()};
}

std::string json_quote(std::string_view text) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer{buf};
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return {buf.GetString(), buf.GetSize()};
}

// -- configuration ------------------------------------------------------------------

std::string warren_binary_path(const char* compiled_default) {
  if (const char* env = std::getenv("WARREN_BINARY"); env != nullptr && *env != '\0')
    return env;
  if (compiled_default != nullptr && *compiled_default != '\0')
    return compiled_default;
  return "warren";
}

std::vector<std::string> broker_environment(const broker_env& broker) {
  return {"RABBITMQ_MANAGEMENT_URL=" + broker.management_url,
          "RABBITMQ_URL=" + broker.amqp_url, "RABBITMQ_USER=" + broker.user,
          "RABBITMQ_PASSWORD=" + broker.password};
}

// -- mcp_client ---------------------------------------------------------------------

mcp_client::mcp_client(std::unique_ptr<subprocess> process,
                       std::chrono::milliseconds timeout)
    : process_(std::move(process)), timeout_(timeout) {
  // nop
}

mcp_client::~mcp_client() = default;

caf::expected<std::unique_ptr<mcp_client>> mcp_client::start(mcp_client_options opts) {
  std::vector<std::string> argv;
  argv.push_back(opts.binary.empty() ? warren_binary_path() : opts.binary);
  argv.emplace_back("serve");
  argv.insert(argv.end(), opts.args.begin(), opts.args.end());
  std::vector<std::string> env;
  if (opts.broker)
    env = broker_environment(*opts.broker);
  env.insert(env.end(), opts.env.begin(), opts.env.end());
  auto process = subprocess::spawn(argv, env);
  if (!process)
    return std::move(process.error());
  return std::unique_ptr<mcp_client>(new mcp_client(std::move(*process), opts.timeout));
}

int64_t mcp_client::send_request(std::string_view method,
                                 std::string_view params_json) {
  auto id = next_id_++;
  std::string line = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                     R"(,"method":)" + json_quote(method);
  if (!params_json.empty()) {
    line += R"(,"params":)";
    line += params_json;
  }
  line += '}';
  process_->write_line(line);
  return id;
}

bool mcp_client::send_notification(std::string_view method,
                                   std::string_view params_json) {
  std::string line = R"({"jsonrpc":"2.0","method":)" + json_quote(method);
  if (!params_json.empty()) {
    line += R"(,"params":)";
    line += params_json;
  }
  line += '}';
  return process_->write_line(line);
}

bool mcp_client::send_raw(std::string_view line) {
  return process_->write_line(line);
}

std::optional<json_message>
mcp_client::read_message(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0)
      left = 0ms;
    auto line = process_->read_line(left);
    if (!line)
      return std::nullopt;
    auto doc = std::make_shared<rapidjson::Document>();
    doc->Parse(line->data(), line->size());
    if (doc->HasParseError() || !doc->IsObject()) {
      non_json_.push_back(std::move(*line));
      continue;
    }
    json_message msg{std::move(*line), std::move(doc)};
    all_.push_back(msg);
    if (msg.is_notification())
      notifications_.push_back(msg);
    return msg;
  }
}

std::optional<json_message>
mcp_client::await_id(const std::string& id_json,
                     std::optional<std::chrono::milliseconds> timeout) {
  for (auto i = unclaimed_.begin(); i != unclaimed_.end(); ++i) {
    if (i->id_json() == id_json) {
      auto msg = *i;
      unclaimed_.erase(i);
      return msg;
    }
  }
  auto deadline = std::chrono::steady_clock::now() + timeout.value_or(timeout_);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0)
      left = 0ms;
    auto msg = read_message(left);
    if (!msg)
      return std::nullopt;
    if (msg->is_notification())
      continue;
    if (msg->id_json() == id_json)
      return msg;
    unclaimed_.push_back(std::move(*msg));
  }
}

std::optional<json_message>
mcp_client::await_response(int64_t id,
                           std::optional<std::chrono::milliseconds> timeout) {
  return await_id(std::to_string(id), timeout);
}

std::optional<json_message>
mcp_client::request(std::string_view method, std::string_view params_json,
                    std::optional<std::chrono::milliseconds> timeout) {
  auto id = send_request(method, params_json);
  return await_response(id, timeout);
}

std::optional<json_message> mcp_client::call_tool(std::string_view name,
                                                  std::string_view arguments_json) {
  std::string params = R"({"name":)" + json_quote(name) + R"(,"arguments":)";
  params += arguments_json;
  params += '}';
  return request("tools/call", params);
}

std::optional<json_message> mcp_client::initialize(std::string_view protocol_version,
                                                   bool send_initialized) {
  std::string params = R"({"protocolVersion":)" + json_quote(protocol_version) +
                       R"(,"capabilities":{},"clientInfo":{"name":"warren-tests",)"
                       R"("version":"0.0.1"}})";
  auto response = request("initialize", params);
  if (response && send_initialized)
    send_notification("notifications/initialized");
  return response;
}

std::optional<json_message>
mcp_client::next_message(std::optional<std::chrono::milliseconds> timeout) {
  if (!unclaimed_.empty()) {
    auto msg = std::move(unclaimed_.front());
    unclaimed_.pop_front();
    return msg;
  }
  return read_message(timeout.value_or(timeout_));
}

bool mcp_client::drain_until_eof(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return process_->stdout_eof();
    auto msg = read_message(left);
    if (!msg)
      return process_->stdout_eof();
    if (!msg->is_notification())
      unclaimed_.push_back(std::move(*msg));
  }
}

void mcp_client::close_stdin() {
  process_->close_stdin();
}

} // namespace warren
