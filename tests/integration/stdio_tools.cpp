// End-to-end: tools/list (with pagination) and tools/call of `warren serve` against the
// test broker, with the broker's own management API as the independent witness.

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <unistd.h>

#include "tests/integration/launch.hpp"
#include "tests/kit/broker_env.hpp"
#include "tests/kit/mcp_client.hpp"

using namespace std::chrono_literals;
using warren::json_message;
using warren::mcp_client;
using warren::e2e::diagnostics;
using warren::e2e::launch;

namespace {

// A non-durable queue in vhost "/" made through the management API, deleted at the end
// of the test.
class scoped_queue {
public:
  scoped_queue(const warren::broker_env& env, std::string name)
      : env_(env), name_(std::move(name)) {
    std::string body;
    auto status = warren::mgmt_call(env_, "PUT", path(), R"({"durable":false})", &body);
    REQUIRE_MESSAGE((status == 201 || status == 204),
                    "cannot create queue " << name_ << ": " << status << " " << body);
  }
  ~scoped_queue() { warren::mgmt_call(env_, "DELETE", path()); }
  const std::string& name() const { return name_; }

private:
  std::string path() const { return "/api/queues/%2F/" + name_; }
  warren::broker_env env_;
  std::string name_;
};

// All tool names, following nextCursor; checks every page's size against `page_size`.
std::vector<std::string> list_all_tools(mcp_client& c, std::size_t page_size,
                                        std::size_t* pages = nullptr) {
  std::vector<std::string> names;
  std::string params = "{}";
  for (int page = 0; page < 1000; ++page) {
    auto r = c.request("tools/list", params);
    REQUIRE_MESSAGE(r, diagnostics(c));
    auto* tools = r->at("/result/tools");
    REQUIRE_MESSAGE((tools != nullptr && tools->IsArray()), r->text());
    CHECK(tools->Size() <= page_size);
    for (const auto& tool : tools->GetArray()) {
      REQUIRE_MESSAGE((tool.HasMember("name") && tool["name"].IsString()), r->text());
      names.emplace_back(tool["name"].GetString());
    }
    if (pages != nullptr)
      *pages = static_cast<std::size_t>(page) + 1;
    auto cursor = r->string_at("/result/nextCursor");
    if (!cursor)
      return names;
    // A page that announces more must not be empty, or a client would loop forever.
    REQUIRE_MESSAGE(tools->Size() > 0, r->text());
    params = R"({"cursor":)" + warren::json_quote(*cursor) + "}";
  }
  FAIL("tools/list kept returning nextCursor");
  return names;
}

const std::vector<std::string> first_tools = {"overview",       "list_vhosts",
                                              "list_queues",    "get_queue",
                                              "list_exchanges", "list_bindings"};

const rapidjson::Value* find_by_name(const rapidjson::Value& items,
                                     const std::string& name) {
  for (const auto& item : items.GetArray())
    if (item.IsObject() && item.HasMember("name") && item["name"].IsString() &&
        name == item["name"].GetString())
      return &item;
  return nullptr;
}

// The text of the first text content block, or "".
std::string first_text(const json_message& r) {
  auto* content = r.at("/result/content");
  if (content == nullptr || !content->IsArray())
    return {};
  for (const auto& block : content->GetArray())
    if (block.IsObject() && block.HasMember("type") && block["type"] == "text" &&
        block.HasMember("text") && block["text"].IsString())
      return block["text"].GetString();
  return {};
}

} // namespace

TEST_CASE("tools/list describes each tool with name, description, inputSchema and "
          "annotations") {
  auto c = launch();
  warren::e2e::initialized(*c);
  auto r = c->request("tools/list", "{}");
  REQUIRE_MESSAGE(r, diagnostics(*c));
  auto* tools = r->at("/result/tools");
  REQUIRE_MESSAGE((tools != nullptr && tools->IsArray()), r->text());
  REQUIRE(tools->Size() >= first_tools.size());
  for (std::size_t i = 0; i < tools->Size(); ++i) {
    const auto& tool = (*tools)[static_cast<rapidjson::SizeType>(i)];
    auto text = warren::to_compact_json(tool);
    CAPTURE(text);
    REQUIRE(tool.IsObject());
    CHECK((tool.HasMember("name") && tool["name"].IsString()));
    CHECK((tool.HasMember("description") && tool["description"].IsString() &&
           tool["description"].GetStringLength() > 0));
    REQUIRE(tool.HasMember("inputSchema"));
    CHECK(tool["inputSchema"].IsObject());
    CHECK((tool["inputSchema"].HasMember("type") &&
           tool["inputSchema"]["type"] == "object"));
    CHECK((tool.HasMember("annotations") && tool["annotations"].IsObject()));
  }
  for (std::size_t i = 0; i < first_tools.size(); ++i) {
    CAPTURE(i);
    CHECK(std::string{
              (*tools)[static_cast<rapidjson::SizeType>(i)]["name"].GetString()} ==
          first_tools[i]);
  }
}

TEST_CASE(
    "tools/list pages by --tools-page-size and the cursor returns the next page") {
  auto all_client = launch();
  warren::e2e::initialized(*all_client);
  auto all = list_all_tools(*all_client, 1000);
  REQUIRE(all.size() > 2);

  auto c = launch({"--tools-page-size", "2"});
  warren::e2e::initialized(*c);
  auto first = c->request("tools/list", "{}");
  REQUIRE_MESSAGE(first, diagnostics(*c));
  auto* tools = first->at("/result/tools");
  REQUIRE_MESSAGE((tools != nullptr && tools->IsArray()), first->text());
  CHECK(tools->Size() == 2);
  auto cursor = first->string_at("/result/nextCursor");
  REQUIRE_MESSAGE(cursor, "a first page of 2 out of "
                              << all.size()
                              << " tools has no nextCursor: " << first->text());
  auto second =
      c->request("tools/list", R"({"cursor":)" + warren::json_quote(*cursor) + "}");
  REQUIRE_MESSAGE(second, diagnostics(*c));
  auto* more = second->at("/result/tools");
  REQUIRE_MESSAGE((more != nullptr && more->IsArray() && more->Size() > 0),
                  second->text());
  CHECK(std::string{(*more)[0]["name"].GetString()} == all[2]);

  std::size_t pages = 0;
  auto paged = list_all_tools(*c, 2, &pages);
  CHECK(paged == all);
  CHECK(pages == (all.size() + 1) / 2);
  CHECK(std::set<std::string>(paged.begin(), paged.end()).size() == paged.size());
}

TEST_CASE("WARREN_TOOLS_PAGE_SIZE pages tools/list like the flag") {
  auto c = launch({}, {"WARREN_TOOLS_PAGE_SIZE=2"});
  warren::e2e::initialized(*c);
  auto r = c->request("tools/list", "{}");
  REQUIRE_MESSAGE(r, diagnostics(*c));
  auto* tools = r->at("/result/tools");
  REQUIRE_MESSAGE((tools != nullptr && tools->IsArray()), r->text());
  CHECK(tools->Size() == 2);
  CHECK_MESSAGE(r->string_at("/result/nextCursor"), r->text());
  auto names = list_all_tools(*c, 2);
  REQUIRE(names.size() >= first_tools.size());
  CHECK(std::vector<std::string>(names.begin(), names.begin() + 6) == first_tools);
}

TEST_CASE("tools/list with a bogus cursor is refused with -32602") {
  auto c = launch({"--tools-page-size", "2"});
  warren::e2e::initialized(*c);
  auto r = c->request("tools/list", R"({"cursor":"not-a-cursor-warren-made"})");
  REQUIRE_MESSAGE(r, diagnostics(*c));
  CHECK_MESSAGE(r->error_code() == -32602, r->text());
}

TEST_CASE("list_queues shows a queue created through the management API") {
  auto broker = warren::e2e::require_broker();
  scoped_queue queue{broker, warren::e2e::unique_name("listed")};
  auto c = launch();
  warren::e2e::initialized(*c);
  auto r = c->call_tool("list_queues", "{}");
  REQUIRE_MESSAGE(r, diagnostics(*c));
  REQUIRE_MESSAGE(r->result() != nullptr, r->text());
  auto* is_error = r->at("/result/isError");
  CHECK_MESSAGE((is_error == nullptr || (is_error->IsBool() && !is_error->GetBool())),
                r->text());
  auto* items = r->at("/result/structuredContent/items");
  REQUIRE_MESSAGE((items != nullptr && items->IsArray()), r->text());
  CHECK_MESSAGE(find_by_name(*items, queue.name()) != nullptr,
                queue.name() << " missing from " << r->text());
  // The text content is the same JSON as structuredContent.
  auto text = first_text(*r);
  REQUIRE_MESSAGE(!text.empty(), r->text());
  rapidjson::Document parsed;
  parsed.Parse(text.data(), text.size());
  REQUIRE_MESSAGE(!parsed.HasParseError(), "text content is not JSON: " << text);
  auto* structured = r->at("/result/structuredContent");
  CHECK_MESSAGE(parsed == *structured, "text: " << text);
}

TEST_CASE("get_queue of an existing queue returns it") {
  auto broker = warren::e2e::require_broker();
  scoped_queue queue{broker, warren::e2e::unique_name("got")};
  auto c = launch();
  warren::e2e::initialized(*c);
  auto r = c->call_tool("get_queue", R"({"vhost":"/","name":)" +
                                         warren::json_quote(queue.name()) + "}");
  REQUIRE_MESSAGE(r, diagnostics(*c));
  REQUIRE_MESSAGE(r->result() != nullptr, r->text());
  auto* is_error = r->at("/result/isError");
  CHECK_MESSAGE((is_error == nullptr || (is_error->IsBool() && !is_error->GetBool())),
                r->text());
  CHECK_MESSAGE(r->string_at("/result/structuredContent/name") == queue.name(),
                r->text());
}

TEST_CASE("get_queue of a missing queue is a tool error naming the queue") {
  warren::e2e::require_broker();
  auto name = warren::e2e::unique_name("missing");
  auto c = launch();
  warren::e2e::initialized(*c);
  auto r = c->call_tool("get_queue", R"({"name":)" + warren::json_quote(name) + "}");
  REQUIRE_MESSAGE(r, diagnostics(*c));
  REQUIRE_MESSAGE(r->result() != nullptr, "expected a tool result, got " << r->text());
  auto* is_error = r->at("/result/isError");
  CHECK_MESSAGE((is_error != nullptr && is_error->IsBool() && is_error->GetBool()),
                r->text());
  CHECK_MESSAGE(first_text(*r).find(name) != std::string::npos, r->text());
}

TEST_CASE("list_queues refuses page_size 501 with -32602 naming page_size") {
  auto c = launch();
  warren::e2e::initialized(*c);
  auto r = c->call_tool("list_queues", R"({"page_size":501})");
  REQUIRE_MESSAGE(r, diagnostics(*c));
  CHECK_MESSAGE(r->error_code() == -32602, r->text());
  CHECK_MESSAGE(r->error_message().find("page_size") != std::string::npos, r->text());
}

TEST_CASE("tools/call of an unknown tool is refused with -32602") {
  auto c = launch();
  warren::e2e::initialized(*c);
  auto r = c->call_tool("no_such_tool", "{}");
  REQUIRE_MESSAGE(r, diagnostics(*c));
  CHECK_MESSAGE(r->error_code() == -32602, r->text());
  CHECK_MESSAGE(r->error_message().find("no_such_tool") != std::string::npos,
                r->text());
}

TEST_CASE("a progressToken on tools/call brings progress notifications before the "
          "response") {
  warren::e2e::require_broker();
  auto c = launch();
  warren::e2e::initialized(*c);
  for (std::string token : {R"("tok-e2e-1")", "4242"}) {
    CAPTURE(token);
    auto id = c->send_request("tools/call", R"({"name":"list_queues","arguments":{},)"
                                            R"("_meta":{"progressToken":)" +
                                                token + "}}");
    auto r = c->await_response(id);
    REQUIRE_MESSAGE(r, diagnostics(*c));
    CHECK_MESSAGE(r->result() != nullptr, r->text());
    // Count progress notifications with this token that arrived before the response.
    int progress = 0;
    for (const auto& msg : c->all_messages()) {
      if (msg.text() == r->text())
        break;
      auto* t = msg.at("/params/progressToken");
      if (msg.method() == "notifications/progress" && t != nullptr &&
          warren::to_compact_json(*t) == token) {
        ++progress;
        auto* p = msg.at("/params/progress");
        CHECK_MESSAGE((p != nullptr && p->IsNumber()), msg.text());
      }
    }
    CHECK(progress >= 1);
  }
}
