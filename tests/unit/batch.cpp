#include "protocol/batch.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>

#include <rapidjson/document.h>

#include "protocol/error.hpp"
#include "protocol/metric_families.hpp"
#include "protocol/tool_catalog.hpp"

using namespace warren;

namespace {

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text);
  REQUIRE_MESSAGE(!doc.HasParseError(), "not JSON: " << text);
  return doc;
}

const tool_catalog& writing() {
  static const tool_catalog instance{catalog_options{true, "all", 1024}};
  return instance;
}

std::shared_ptr<const batch_plan> planned(std::string_view tool, std::string_view args,
                                          const tool_catalog& in = writing()) {
  auto op = in.prepare(tool, args);
  REQUIRE_MESSAGE(op, "prepare failed: " << message_of(op.error()));
  CHECK(op->backend == backend_kind::batch);
  REQUIRE(op->batch);
  return op->batch;
}

std::string refusal(std::string_view tool, std::string_view args,
                    const tool_catalog& in = writing()) {
  auto op = in.prepare(tool, args);
  REQUIRE_FALSE(op);
  CHECK(code_of(op.error()) == ec::invalid_params);
  return message_of(op.error());
}

// `count` publish items for vhost "/" and queue "q".
std::string messages(std::size_t count) {
  std::string out = R"({"messages":[)";
  for (std::size_t i = 0; i < count; ++i)
    out += std::string{i == 0 ? "" : ","} + R"({"routing_key":"q","body":"m)" +
           std::to_string(i) + "\"}";
  return out + "]}";
}

batch_plan plan_of(std::size_t items, const char* item_tool = "create_queue") {
  batch_plan plan;
  plan.tool = "batch_x";
  plan.item_tool = item_tool;
  for (std::size_t i = 0; i < items; ++i)
    plan.items.push_back({"q" + std::to_string(i), "/", {}});
  return plan;
}

} // namespace

TEST_CASE("batch catalog: the three batch tools are offered with writes and not "
          "without") {
  CHECK(writing().contains("batch_create_queues"));
  CHECK(writing().contains("batch_delete_queues"));
  CHECK(writing().contains("batch_publish_messages"));
  CHECK(writing().runs_as_job("batch_publish_messages"));
  CHECK_FALSE(writing().runs_as_job("create_queue"));
  tool_catalog reading{catalog_options{false, "all", 1024}};
  CHECK_FALSE(reading.contains("batch_create_queues"));
  auto op = reading.prepare("batch_create_queues", R"({"queues":[{"name":"a"}]})");
  REQUIRE_FALSE(op);
  CHECK(message_of(op.error()).find("--allow-writes") != std::string::npos);
}

TEST_CASE("batch catalog: a batch tool's schema describes its items as the single "
          "tool does") {
  for (std::size_t i = 0; i < writing().size(); ++i) {
    auto tool = parse(writing().tool_json(i));
    if (std::string{tool["name"].GetString()} != "batch_create_queues")
      continue;
    auto& queues = tool["inputSchema"]["properties"]["queues"];
    CHECK(std::string{queues["type"].GetString()} == "array");
    CHECK(queues["items"]["properties"].HasMember("queue_type"));
    CHECK(tool["inputSchema"]["properties"].HasMember("mode"));
    return;
  }
  FAIL("batch_create_queues is not listed");
}

TEST_CASE("batch catalog: valid queue items become one prepared create per item") {
  auto plan = planned("batch_create_queues",
                      R"({"queues":[{"name":"a"},{"name":"b","vhost":"v1",)"
                      R"("queue_type":"quorum"}],"mode":"all_or_nothing"})");
  CHECK(plan->tool == "batch_create_queues");
  CHECK(plan->item_tool == "create_queue");
  CHECK(plan->mode == batch_mode::all_or_nothing);
  CHECK(plan->parallelism == 10);
  REQUIRE(plan->items.size() == 2);
  CHECK(plan->items[0].resource == "a");
  CHECK(plan->items[0].vhost == "/");
  CHECK(plan->items[1].vhost == "v1");
  auto& op = plan->items[1].op;
  REQUIRE(op.requests.size() == 1);
  CHECK(op.requests[0].method == "PUT");
  CHECK(op.requests[0].target.find("/api/queues/v1/b") != std::string::npos);
  CHECK(op.requests[0].body.find("x-queue-type") != std::string::npos);
  CHECK_FALSE(op.invalidates.empty());
}

TEST_CASE("batch catalog: every invalid item is named by its index and nothing is "
          "planned") {
  auto text = refusal("batch_create_queues",
                      R"({"queues":[{"name":"ok"},{"name":""},{"name":"ok2"},)"
                      R"({"name":"x","max_length":-1},7]})");
  CHECK(text.find("3 of 5 items are invalid") != std::string::npos);
  CHECK(text.find("queues[1]") != std::string::npos);
  CHECK(text.find("queues[3]") != std::string::npos);
  CHECK(text.find("queues[4]") != std::string::npos);
  CHECK(text.find("queues[0]") == std::string::npos);
  CHECK(text.find("queues[2]") == std::string::npos);
}

TEST_CASE("batch catalog: more items than batch.max_items are refused before any "
          "item is looked at") {
  auto text = refusal("batch_publish_messages", messages(101));
  CHECK(text.find("101 items") != std::string::npos);
  CHECK(text.find("batch.max_items") != std::string::npos);
  CHECK_NOTHROW(planned("batch_publish_messages", messages(100)));
}

TEST_CASE("batch catalog: arguments over batch.max_bytes are refused by their size") {
  catalog_options small{true, "all", 1024};
  small.batch_max_bytes = 200;
  tool_catalog catalog{small};
  auto text = refusal("batch_publish_messages", messages(10), catalog);
  CHECK(text.find("batch.max_bytes") != std::string::npos);
  CHECK(text.find("at most 200") != std::string::npos);
}

TEST_CASE("batch catalog: an empty batch and an unknown mode are refused") {
  CHECK(refusal("batch_create_queues", R"({"queues":[]})").find("queues") !=
        std::string::npos);
  CHECK(refusal("batch_create_queues", R"({"queues":[{"name":"a"}],"mode":"maybe"})")
            .find("mode") != std::string::npos);
}

TEST_CASE("batch catalog: a delete batch gives every name the shared vhost, force and "
          "dry_run") {
  auto plan =
      planned("batch_delete_queues",
              R"({"names":["a","b"],"vhost":"v2","force":true,"parallelism":3})");
  CHECK(plan->parallelism == 3);
  REQUIRE(plan->items.size() == 2);
  CHECK(plan->items[1].resource == "b");
  CHECK(plan->items[1].vhost == "v2");
  auto& op = plan->items[1].op;
  REQUIRE(op.precheck);
  CHECK(op.precheck->target.find("/api/queues/v2/b") != std::string::npos);
  CHECK(op.arguments_json.find(R"("force":true)") != std::string::npos);
  CHECK(refusal("batch_delete_queues", R"({"names":["a",""]})").find("names[1]") !=
        std::string::npos);
}

TEST_CASE("batch catalog: published messages each get their own message id") {
  auto plan = planned("batch_publish_messages", messages(20));
  std::set<std::string> ids;
  for (auto& item : plan->items) {
    CHECK(item.op.backend == backend_kind::amqp);
    ids.insert(item.resource);
    CHECK(item.resource == item.op.amqp.publish.message_id);
  }
  CHECK(ids.size() == 20);
  CHECK(plan->confirm_window == 100);
}

TEST_CASE("publish chunks: a confirm window per chunk, at most parallelism chunks, "
          "one vhost each") {
  auto plan = plan_of(1000, "publish_message");
  plan.confirm_window = 100;
  plan.parallelism = 10;
  auto chunks = publish_chunks(plan);
  REQUIRE(chunks.size() == 10);
  CHECK(chunks.front().size() == 100);
  CHECK(chunks.front().front() == 0);
  CHECK(chunks.back().back() == 999);

  plan.parallelism = 3;
  chunks = publish_chunks(plan);
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0].size() == 334);
  CHECK(chunks[2].size() == 333);

  auto few = plan_of(40, "publish_message");
  few.confirm_window = 100;
  CHECK(publish_chunks(few).size() == 1);

  auto mixed = plan_of(4, "publish_message");
  mixed.items[1].op.amqp.publish.vhost = "v";
  mixed.items[3].op.amqp.publish.vhost = "v";
  chunks = publish_chunks(mixed);
  REQUIRE(chunks.size() == 2);
  CHECK(chunks[0] == std::vector<std::size_t>{0, 2});
  CHECK(chunks[1] == std::vector<std::size_t>{1, 3});
}

TEST_CASE("publish confirms: only a confirm is a success, and an unknown outcome "
          "says to look before publishing again") {
  using s = amqp_confirm::status;
  CHECK(outcome_of({s::confirmed, 0, ""}).status == item_status::succeeded);
  CHECK(outcome_of({s::returned, 312, "NO_ROUTE"}).error.find("NO_ROUTE") !=
        std::string::npos);
  CHECK(outcome_of({s::nacked, 0, ""}).status == item_status::failed);
  CHECK(outcome_of({s::not_sent, 0, "channel closed"}).error.find("not published") !=
        std::string::npos);
  auto unknown = outcome_of({s::unknown, 0, "connection lost"});
  CHECK(unknown.status == item_status::failed);
  CHECK(unknown.error.find("may or may not") != std::string::npos);
}

TEST_CASE("batch result: one entry per item in order, totals, and isError only when "
          "the job failed") {
  auto plan = plan_of(3);
  std::vector<item_outcome> outcomes{{item_status::succeeded, "", true},
                                     {item_status::failed, "vhost missing"},
                                     {item_status::succeeded, "", false}};
  auto result = batch_result(plan, outcomes, {false, std::chrono::milliseconds{12}});
  CHECK_FALSE(result.is_error);
  auto doc = parse(result.json);
  auto& out = doc["structuredContent"];
  REQUIRE(out["items"].Size() == 3);
  CHECK(out["items"][1]["index"].GetInt() == 1);
  CHECK(std::string{out["items"][1]["status"].GetString()} == "failed");
  CHECK(std::string{out["items"][1]["error"].GetString()} == "vhost missing");
  CHECK(out["items"][0]["created"].GetBool());
  CHECK_FALSE(out["items"][2]["created"].GetBool());
  CHECK(out["totals"]["succeeded"].GetInt() == 2);
  CHECK(out["totals"]["failed"].GetInt() == 1);
  CHECK(out["duration_ms"].GetDouble() == doctest::Approx(12));

  plan.mode = batch_mode::all_or_nothing;
  CHECK(batch_result(plan, outcomes, {}).is_error);
  plan.mode = batch_mode::best_effort;
  std::vector<item_outcome> all_failed(3, {item_status::failed, "no"});
  CHECK(batch_result(plan, all_failed, {}).is_error);
  std::vector<item_outcome> fine(3, {item_status::succeeded, ""});
  CHECK_FALSE(batch_result(plan, fine, {}).is_error);
  CHECK(batch_result(plan, fine, {true, {}}).is_error);
  std::vector<item_outcome> out_of_time{{item_status::succeeded, ""},
                                        {item_status::skipped, "not run: out of time"},
                                        {item_status::succeeded, ""}};
  CHECK(batch_result(plan, out_of_time, {}).is_error);
}

TEST_CASE("batch result: the audit line counts every status") {
  auto plan = plan_of(4);
  std::vector<item_outcome> outcomes{{item_status::succeeded, ""},
                                     {item_status::failed, "x"},
                                     {item_status::rolled_back, ""},
                                     {item_status::skipped, ""}};
  auto line = audit_line(plan, outcomes, {false, std::chrono::milliseconds{1500}});
  CHECK(line.find("items=4") != std::string::npos);
  CHECK(line.find("succeeded=1 failed=1 rolled_back=1 skipped=1") != std::string::npos);
  CHECK(line.find("duration_ms=1500") != std::string::npos);
}

TEST_CASE("item results: created and the error text are read from a tool result") {
  auto created = R"({"content":[{"type":"text","text":"{}"}],)"
                 R"("structuredContent":{"created":true},"isError":false})";
  CHECK(reports_created({false, created}));
  auto existed =
      R"({"content":[],"structuredContent":{"created":false},"isError":false})";
  CHECK_FALSE(reports_created({false, existed}));
  auto failed = tool_catalog::failure("the vhost does not exist");
  CHECK_FALSE(reports_created(failed));
  CHECK(error_text(failed) == "the vhost does not exist");
  CHECK(error_text({false, created}).empty());
}

TEST_CASE("batch metrics: the batch supervisor's figures become jobs and items by tool "
          "and status") {
  actor_status root;
  root.kind = "supervisor";
  actor_status batches;
  batches.kind = "batch_supervisor";
  batches.figures = {{"jobs", 1},
                     {"started", 4},
                     {"items/batch_create_queues/succeeded", 97},
                     {"items/batch_create_queues/failed", 3}};
  root.children.push_back(batches);
  auto text = to_prometheus_text(metric_families(root, request_snapshot{}, {}));
  CHECK(text.find("warren_batch_jobs_running 1") != std::string::npos);
  CHECK(text.find("warren_batch_jobs_total 4") != std::string::npos);
  CHECK(
      text.find(
          R"(warren_batch_items_total{tool="batch_create_queues",status="failed"} 3)") !=
      std::string::npos);
  CHECK(
      text.find(
          R"(warren_batch_items_total{tool="batch_create_queues",status="succeeded"} 97)") !=
      std::string::npos);
}

TEST_CASE("publish chunk: one AMQP batch of the chosen messages with their keys once") {
  auto plan = planned("batch_publish_messages", messages(5));
  auto op = publish_chunk(*plan, {1, 3});
  CHECK(op.backend == backend_kind::amqp);
  CHECK(op.amqp.what == amqp_request::kind::publish_batch);
  CHECK(op.amqp.window == plan->confirm_window);
  REQUIRE(op.amqp.batch.size() == 2);
  CHECK(op.amqp.batch[0].message_id == plan->items[1].resource);
  CHECK(op.amqp.batch[1].body == "m3");
  // Both messages go to queue q: its keys appear once, refreshed, not dropped.
  auto& keys = plan->items[1].op.refreshes;
  CHECK(op.refreshes.size() == keys.size());
  for (auto& key : keys)
    CHECK(std::count(op.refreshes.begin(), op.refreshes.end(), key) == 1);
  CHECK(op.invalidates.empty());
}

TEST_CASE("batch totals: status names read back, anything else as skipped") {
  CHECK(status_named("succeeded") == item_status::succeeded);
  CHECK(status_named("rolled_back") == item_status::rolled_back);
  CHECK(status_named("failed") == item_status::failed);
  CHECK(status_named("skipped") == item_status::skipped);
  CHECK(status_named("weird") == item_status::skipped);
  batch_totals t;
  add_to(t, item_status::failed);
  add_to(t, item_status::failed);
  add_to(t, item_status::rolled_back);
  CHECK(t.failed == 2);
  CHECK(t.rolled_back == 1);
  CHECK(t.succeeded == 0);
}
