// The batch tools end to end against the real broker: many queues in one call, the
// two modes, exact per-item reports, 1000 messages in 10 calls, refusals before any
// work, progress notifications and cancellation.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <doctest/doctest.h>

#include "tests/integration/launch.hpp"
#include "tests/kit/mcp_client.hpp"
#include "tests/kit/subprocess.hpp"

using namespace std::chrono_literals;
using warren::json_message;
using warren::mcp_client;
using warren::e2e::diagnostics;
using warren::e2e::launch;
using warren::e2e::unique_name;

namespace {

std::unique_ptr<mcp_client> writer(std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--allow-writes"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto c = launch(args);
  warren::e2e::initialized(*c);
  return c;
}

std::string q(const std::string& text) {
  return warren::json_quote(text);
}

bool is_error(const json_message& r) {
  auto flag = r.at("/result/isError");
  return flag != nullptr && flag->IsBool() && flag->GetBool();
}

json_message call(mcp_client& c, const std::string& tool, const std::string& args) {
  auto r = c.call_tool(tool, args);
  REQUIRE_MESSAGE(r, "no answer to " << tool << "; " << diagnostics(c));
  return *r;
}

int64_t number_at(const json_message& r, const std::string& pointer) {
  auto v = r.at(pointer.c_str());
  REQUIRE_MESSAGE((v != nullptr && v->IsInt64()), pointer << " in " << r.text());
  return v->GetInt64();
}

std::string string_at(const json_message& r, const std::string& pointer) {
  auto v = r.string_at(pointer.c_str());
  REQUIRE_MESSAGE(v, pointer << " in " << r.text());
  return *v;
}

// `count` queue names "<prefix>-<i>".
std::vector<std::string> names(const std::string& prefix, int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i)
    out.push_back(prefix + "-" + std::to_string(i));
  return out;
}

std::string queue_items(const std::vector<std::string>& queues,
                        const std::string& extra = R"("durable":false)") {
  std::string out = "[";
  for (std::size_t i = 0; i < queues.size(); ++i)
    out += std::string{i == 0 ? "" : ","} + R"({"name":)" + q(queues[i]) + "," + extra +
           "}";
  return out + "]";
}

std::string name_list(const std::vector<std::string>& queues) {
  std::string out = "[";
  for (std::size_t i = 0; i < queues.size(); ++i)
    out += std::string{i == 0 ? "" : ","} + q(queues[i]);
  return out + "]";
}

// How many queues whose names contain `prefix` warren lists (through its cache, which
// the writes invalidate).
int64_t listed(mcp_client& c, const std::string& prefix) {
  auto r = call(c, "list_queues", R"({"name":)" + q(prefix) + R"(,"page_size":500})");
  REQUIRE_MESSAGE(!is_error(r), r.text());
  auto items = r.at("/result/structuredContent/items");
  REQUIRE(items != nullptr);
  return static_cast<int64_t>(items->Size());
}

void remove_all(mcp_client& c, const std::vector<std::string>& queues) {
  call(c, "batch_delete_queues",
       R"({"names":)" + name_list(queues) + R"(,"force":true})");
}

// The management API's counts trail the queue by a few seconds.
void await_messages(mcp_client& c, const std::string& queue, int64_t expected) {
  int64_t seen = -1;
  for (int i = 0; i < 100; ++i) {
    auto r = call(c, "get_queue", R"({"name":)" + q(queue) + "}");
    auto messages = r.at("/result/structuredContent/messages");
    if (messages != nullptr && messages->IsInt64()) {
      seen = messages->GetInt64();
      if (seen == expected)
        return;
    }
    std::this_thread::sleep_for(200ms);
  }
  FAIL("the management API reported " << seen << " messages in " << queue
                                      << ", expected " << expected);
}

} // namespace

TEST_CASE("batch_create_queues: 100 queues made in one call all exist, and one "
          "batch_delete_queues call removes them") {
  auto c = writer();
  auto prefix = unique_name("batch100");
  auto queues = names(prefix, 100);
  auto r = call(*c, "batch_create_queues", R"({"queues":)" + queue_items(queues) + "}");
  REQUIRE_MESSAGE(!is_error(r), r.text());
  CHECK(number_at(r, "/result/structuredContent/totals/succeeded") == 100);
  CHECK(string_at(r, "/result/structuredContent/items/57/resource") == queues[57]);
  CHECK(r.at("/result/structuredContent/items/57/created")->IsTrue());
  CHECK(listed(*c, prefix) == 100);

  auto d = call(*c, "batch_delete_queues", R"({"names":)" + name_list(queues) + "}");
  REQUIRE_MESSAGE(!is_error(d), d.text());
  CHECK(number_at(d, "/result/structuredContent/totals/succeeded") == 100);
  CHECK(listed(*c, prefix) == 0);
}

TEST_CASE("batch_create_queues all_or_nothing: one item the broker rejects leaves no "
          "queue of the batch behind") {
  auto c = writer();
  auto prefix = unique_name("batchaon");
  auto queues = names(prefix, 6);
  // Item 4 names a vhost that does not exist: valid arguments the broker refuses.
  auto items = queue_items(queues);
  auto bad = R"({"name":)" + q(queues[4]) + R"(,"durable":false})";
  auto at = items.find(bad);
  REQUIRE(at != std::string::npos);
  items.replace(at, bad.size(),
                R"({"name":)" + q(queues[4]) + R"(,"vhost":"warren-no-such-vhost"})");
  auto r = call(*c, "batch_create_queues",
                R"({"queues":)" + items + R"(,"mode":"all_or_nothing"})");
  CHECK_MESSAGE(is_error(r), r.text());
  CHECK(string_at(r, "/result/structuredContent/items/4/status") == "failed");
  CHECK(number_at(r, "/result/structuredContent/totals/succeeded") == 0);
  CHECK(number_at(r, "/result/structuredContent/totals/failed") == 1);
  CHECK(number_at(r, "/result/structuredContent/totals/rolled_back") +
            number_at(r, "/result/structuredContent/totals/skipped") ==
        5);
  CHECK(listed(*c, prefix) == 0);
}

TEST_CASE("batch_create_queues best_effort: exactly the failed items are reported as "
          "failed") {
  auto c = writer();
  auto prefix = unique_name("batchbe");
  auto queues = names(prefix, 5);
  std::string items = "[";
  for (int i = 0; i < 5; ++i)
    items += std::string{i == 0 ? "" : ","} + R"({"name":)" + q(queues[i]) +
             (i == 1 || i == 3 ? R"(,"vhost":"warren-no-such-vhost")"
                               : R"(,"durable":false)") +
             "}";
  items += "]";
  auto r = call(*c, "batch_create_queues", R"({"queues":)" + items + "}");
  CHECK_FALSE_MESSAGE(is_error(r), r.text());
  for (int i = 0; i < 5; ++i) {
    CAPTURE(i);
    CHECK(string_at(r, "/result/structuredContent/items/" + std::to_string(i) +
                           "/status") == (i == 1 || i == 3 ? "failed" : "succeeded"));
  }
  CHECK(string_at(r, "/result/structuredContent/items/1/error").find("vhost") !=
        std::string::npos);
  CHECK(number_at(r, "/result/structuredContent/totals/failed") == 2);
  CHECK(listed(*c, prefix) == 3);
  remove_all(*c, queues);
}

TEST_CASE("batch_publish_messages: 1000 messages in 10 calls are exactly 1000 "
          "messages in the queue") {
  auto c = writer();
  auto queue = unique_name("batchpub");
  auto made =
      call(*c, "create_queue", R"({"name":)" + q(queue) + R"(,"durable":false})");
  REQUIRE_MESSAGE(!is_error(made), made.text());
  for (int call_no = 0; call_no < 10; ++call_no) {
    std::string messages = "[";
    for (int i = 0; i < 100; ++i)
      messages += std::string{i == 0 ? "" : ","} + R"({"routing_key":)" + q(queue) +
                  R"(,"body":"message )" + std::to_string(call_no * 100 + i) + "\"}";
    messages += "]";
    auto r = call(*c, "batch_publish_messages", R"({"messages":)" + messages + "}");
    REQUIRE_MESSAGE(!is_error(r), r.text());
    REQUIRE(number_at(r, "/result/structuredContent/totals/succeeded") == 100);
  }
  await_messages(*c, queue, 1000);
  call(*c, "delete_queue", R"({"name":)" + q(queue) + R"(,"force":true})");
}

TEST_CASE("batch_publish_messages: a message to a missing exchange fails by name and "
          "all_or_nothing then publishes nothing") {
  auto c = writer();
  auto queue = unique_name("batchpubx");
  call(*c, "create_queue", R"({"name":)" + q(queue) + R"(,"durable":false})");
  auto messages = R"([{"routing_key":)" + q(queue) +
                  R"(,"body":"a"},{"exchange":"warren-no-such-exchange","body":"b"},)"
                  R"({"routing_key":)" +
                  q(queue) + R"(,"body":"c"}])";
  auto r = call(*c, "batch_publish_messages",
                R"({"messages":)" + messages + R"(,"mode":"all_or_nothing"})");
  CHECK_MESSAGE(is_error(r), r.text());
  CHECK(string_at(r, "/result/structuredContent/items/1/status") == "failed");
  CHECK(string_at(r, "/result/structuredContent/items/0/status") == "skipped");
  CHECK(string_at(r, "/result/structuredContent/items/1/error")
            .find("warren-no-such-exchange") != std::string::npos);

  auto best = call(*c, "batch_publish_messages", R"({"messages":)" + messages + "}");
  CHECK_FALSE_MESSAGE(is_error(best), best.text());
  CHECK(number_at(best, "/result/structuredContent/totals/succeeded") == 2);
  CHECK(string_at(best, "/result/structuredContent/items/1/status") == "failed");
  await_messages(*c, queue, 2);
  call(*c, "delete_queue", R"({"name":)" + q(queue) + R"(,"force":true})");
}

TEST_CASE("oversize and invalid batches are refused before any work") {
  auto c = writer({"--batch-max-bytes", "20000"});
  auto prefix = unique_name("batchbad");

  auto too_many = c->request("tools/call",
                             R"({"name":"batch_create_queues","arguments":{"queues":)" +
                                 queue_items(names(prefix, 101)) + "}}");
  REQUIRE(too_many);
  REQUIRE_MESSAGE(too_many->at("/error/code") != nullptr, too_many->text());
  CHECK(too_many->at("/error/code")->GetInt() == -32602);
  CHECK_MESSAGE(too_many->text().find("batch.max_items") != std::string::npos,
                too_many->text());

  std::string big_body(25000, 'x');
  auto too_big = c->request(
      "tools/call",
      R"({"name":"batch_publish_messages","arguments":{"messages":[{"routing_key":)" +
          q(prefix) + R"(,"body":")" + big_body + R"("}]}})");
  REQUIRE(too_big);
  CHECK(string_at(*too_big, "/error/message").find("batch.max_bytes") !=
        std::string::npos);

  auto queues = names(prefix, 3);
  auto invalid = c->request(
      "tools/call", R"({"name":"batch_create_queues","arguments":{"queues":[{"name":)" +
                        q(queues[0]) + R"(},{"name":""},{"name":)" + q(queues[2]) +
                        R"(,"max_length":-5}]}})");
  REQUIRE(invalid);
  auto message = string_at(*invalid, "/error/message");
  CHECK(message.find("queues[1]") != std::string::npos);
  CHECK(message.find("queues[2]") != std::string::npos);
  CHECK(message.find("queues[0]") == std::string::npos);
  CHECK(listed(*c, prefix) == 0);
}

TEST_CASE("a batch with a progress token reports rising progress, and a cancel stops "
          "the job before its end") {
  auto c = writer();
  auto prefix = unique_name("batchcancel");
  auto queues = names(prefix, 100);
  auto id = c->send_request(
      "tools/call", R"({"name":"batch_create_queues","_meta":{"progressToken":"b1"},)"
                    R"("arguments":{"parallelism":1,"queues":)" +
                        queue_items(queues) + "}}");
  // Wait for the job's first own progress (past the session's "calling" at 0).
  bool moving = false;
  double last = -1;
  for (int i = 0; i < 200 && !moving; ++i) {
    auto m = c->next_message(5s);
    REQUIRE_MESSAGE(m, "no progress; " << diagnostics(*c));
    auto method = m->string_at("/method");
    if (!method || *method != "notifications/progress")
      continue;
    CHECK(string_at(*m, "/params/progressToken") == "b1");
    auto progress = m->at("/params/progress")->GetDouble();
    CHECK(progress > last);
    last = progress;
    moving = progress > 0;
  }
  REQUIRE(moving);
  c->send_notification("notifications/cancelled",
                       R"({"requestId":)" + std::to_string(id) + "}");
  // The cancelled call is never answered; the session keeps serving.
  std::this_thread::sleep_for(500ms);
  auto made = listed(*c, prefix);
  CHECK(made > 0);
  CHECK(made < 100);
  std::this_thread::sleep_for(500ms);
  CHECK(listed(*c, prefix) == made); // it stopped; nothing more is created
  remove_all(*c, queues);
  CHECK(listed(*c, prefix) == 0);
}

namespace {

// Runs `warren <args>` against the test broker to its end: exit code and stdout.
std::pair<int, std::string> run_cli(std::vector<std::string> args) {
  std::vector<std::string> argv{warren::warren_binary_path(WARREN_BINARY)};
  argv.insert(argv.end(), args.begin(), args.end());
  auto env = warren::broker_environment(warren::e2e::require_broker());
  env.push_back("WARREN_LOG_LEVEL=warn");
  auto p = warren::subprocess::spawn(argv, env);
  REQUIRE(p);
  std::string out;
  while (auto line = (*p)->read_line(60s))
    out += *line + "\n";
  auto code = (*p)->wait(60s).value_or(-1);
  INFO("stderr: " << (*p)->stderr_text());
  return {code, out};
}

std::string write_file(const std::string& name, const std::string& text) {
  auto path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream{path} << text;
  return path;
}

} // namespace

TEST_CASE("warren queue create --batch runs a file bigger than one batch as several "
          "jobs, and queue delete --batch removes them") {
  auto prefix = unique_name("cli");
  auto queues = names(prefix, 150);
  auto create_file = write_file(prefix + "-queues.json", queue_items(queues));
  auto [code, out] =
      run_cli({"queue", "create", "--batch", "--file", create_file, "--json"});
  CHECK(code == 0);
  auto doc = std::make_shared<rapidjson::Document>();
  doc->Parse(out.c_str());
  REQUIRE_MESSAGE(!doc->HasParseError(), out);
  json_message report{out, doc};
  CHECK_MESSAGE(number_at(report, "/totals/succeeded") == 150, out);
  CHECK(string_at(report, "/items/149/resource") == queues[149]);
  auto c = writer();
  CHECK(listed(*c, prefix) == 150);

  std::string ndjson;
  for (auto& name : queues)
    ndjson += q(name) + "\n";
  auto names_file = write_file(prefix + "-names.ndjson", ndjson);
  auto [deleted, table] = run_cli({"queue", "delete", "--batch", "--file", names_file});
  CHECK(deleted == 0);
  CHECK_MESSAGE(table.find("150 items: 150 succeeded") != std::string::npos, table);
  CHECK(listed(*c, prefix) == 0);
  std::remove(create_file.c_str());
  std::remove(names_file.c_str());
}

TEST_CASE("warren publish --batch: a failed item makes the exit code 1 and the table "
          "names it; an unreadable file is exit code 2") {
  auto c = writer();
  auto queue = unique_name("clipub");
  call(*c, "create_queue", R"({"name":)" + q(queue) + R"(,"durable":false})");
  auto file =
      write_file(queue + ".ndjson",
                 R"({"routing_key":)" + q(queue) +
                     R"(,"body":"one"})"
                     "\n" +
                     R"({"exchange":"warren-no-such-exchange","body":"two"})" + "\n");
  auto [code, out] = run_cli({"publish", "--batch", "--file", file});
  CHECK(code == 1);
  CHECK_MESSAGE(out.find("2 items: 1 succeeded, 1 failed") != std::string::npos, out);
  CHECK(out.find("warren-no-such-exchange") != std::string::npos);
  await_messages(*c, queue, 1);
  auto [missing, nothing] =
      run_cli({"publish", "--batch", "--file", "/nonexistent/warren-batch.json"});
  CHECK(missing == 2);
  CHECK(nothing.empty());
  call(*c, "delete_queue", R"({"name":)" + q(queue) + R"(,"force":true})");
  std::remove(file.c_str());
}
