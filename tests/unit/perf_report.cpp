#include "protocol/perf_report.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "protocol/json_text.hpp"

using namespace warren;

namespace {

tool_figures healthy_tool(const std::string& name, uint64_t calls = 120) {
  tool_figures t;
  t.tool = name;
  t.calls = calls;
  t.per_second = static_cast<double>(calls) / 60;
  t.error_rate = 0.01;
  t.p50 = 0.002;
  t.p95 = 0.010;
  t.p99 = 0.030;
  t.backend_share = 0.9;
  return t;
}

health_inputs healthy() {
  health_inputs h;
  h.pools.push_back({"management API", 50, 1000, 3, 3, 0.1});
  h.pools.push_back({"AMQP /", 10, 500, 0, 0, 0});
  h.breakers.push_back({"management API", "closed", 0, 0});
  h.breakers.push_back({"AMQP broker", "closed", 2, 0});
  h.cache = {true, 900, 100};
  return h;
}

const std::string no_bottleneck = "No bottleneck visible in the last 60 s.";

bool any_contains(const std::vector<std::string>& hints, const std::string& part) {
  for (const auto& h : hints)
    if (h.find(part) != std::string::npos)
      return true;
  return false;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

// The lines from the one after `heading` up to the next empty line.
std::vector<std::string> section(const std::string& text, const std::string& heading) {
  auto lines = lines_of(text);
  std::vector<std::string> out;
  bool in = false;
  for (const auto& line : lines) {
    if (in && line.empty())
      break;
    if (in)
      out.push_back(line);
    if (line == heading)
      in = true;
  }
  return out;
}

perf_report sample_report() {
  perf_report r;
  r.window_seconds = 60;
  auto a = healthy_tool("list_queues", 1200);
  a.error_rate = 0.025;
  a.backend_share = 0.75;
  r.tools.push_back(a);
  r.tools.push_back(healthy_tool("ping", 7));
  r.slowest.push_back({"get_messages", "corr-0001", 1.25, 1.0, 0.25, 12.5});
  r.slowest.push_back({"ping", "c2", 0.5, 0, 0.5, 3});
  r.hints = {"First hint.", "Second hint."};
  return r;
}

} // namespace

TEST_CASE("healthy figures give exactly the no-bottleneck hint with the window") {
  std::vector<tool_figures> tools{healthy_tool("list_queues"), healthy_tool("ping")};
  auto hints = bottleneck_hints(tools, healthy(), 60);
  REQUIRE(hints.size() == 1);
  CHECK(hints[0] == no_bottleneck);

  CHECK(bottleneck_hints(tools, healthy(), 30) ==
        std::vector<std::string>{"No bottleneck visible in the last 30 s."});
  // Without the window, it is read off calls over per_second, or 60 s without calls.
  auto t = healthy_tool("q", 90);
  t.per_second = 3;
  CHECK(bottleneck_hints({t}, healthy()) ==
        std::vector<std::string>{"No bottleneck visible in the last 30 s."});
  CHECK(bottleneck_hints({}, health_inputs{}) ==
        std::vector<std::string>{no_bottleneck});
}

TEST_CASE("a pool exhausted on many requests asks to raise its max") {
  auto h = healthy();
  h.pools[0].exhausted = 120;
  auto hints = bottleneck_hints({}, h, 60);
  REQUIRE(hints.size() == 1);
  CHECK(hints[0] ==
        "The management API pool was exhausted on 12% of requests (its max "
        "is 50): raise http_pool.max (or pool.wait_ms if bursts are short).");

  h = healthy();
  h.pools[1].exhausted = 100;
  hints = bottleneck_hints({}, h, 60);
  REQUIRE(hints.size() == 1);
  CHECK(hints[0].find(
            "The AMQP / pool was exhausted on 20% of requests (its max is 10)") == 0);
  CHECK(hints[0].find("raise amqp_pool.max") != std::string::npos);
}

TEST_CASE("a pool exhausted rarely, or with few requests, gives no hint") {
  auto h = healthy();
  h.pools[0].exhausted = 50; // exactly 5 %
  CHECK(bottleneck_hints({}, h, 60) == std::vector<std::string>{no_bottleneck});
  h = healthy();
  h.pools[0].requests = 19;
  h.pools[0].exhausted = 19;
  CHECK(bottleneck_hints({}, h, 60) == std::vector<std::string>{no_bottleneck});
}

TEST_CASE("a low cache hit ratio asks to raise cache.ttl_lists") {
  auto h = healthy();
  h.cache = {true, 42, 58};
  auto hints = bottleneck_hints({}, h, 60);
  REQUIRE(hints.size() == 1);
  CHECK(hints[0] == "The cache hit ratio is 42% (under 80%): raise cache.ttl_lists so "
                    "lists stay cached longer.");
}

TEST_CASE("the cache gives no hint when disabled, with few lookups, or at 80 %") {
  auto h = healthy();
  h.cache = {false, 0, 100};
  CHECK(bottleneck_hints({}, h, 60) == std::vector<std::string>{no_bottleneck});
  h.cache = {true, 0, 19};
  CHECK(bottleneck_hints({}, h, 60) == std::vector<std::string>{no_bottleneck});
  h.cache = {true, 80, 20};
  CHECK(bottleneck_hints({}, h, 60) == std::vector<std::string>{no_bottleneck});
}

TEST_CASE("an open breaker points at the broker") {
  auto h = healthy();
  h.breakers[1] = {"AMQP broker", "open", 1, 37};
  auto hints = bottleneck_hints({}, h, 60);
  REQUIRE(hints.size() == 1);
  CHECK(hints[0].find("The AMQP broker breaker is open (1 transition, 37 calls "
                      "refused): look at the broker: ") == 0);
  CHECK(hints[0].find("rabbitmq.url") != std::string::npos);
}

TEST_CASE("a flapping breaker points at the broker; a calm one gives no hint") {
  auto h = healthy();
  h.breakers[0] = {"management API", "closed", 4, 2};
  auto hints = bottleneck_hints({}, h, 60);
  REQUIRE(hints.size() == 1);
  CHECK(hints[0].find("The management API breaker is flapping (4 transitions") == 0);
  CHECK(hints[0].find("now closed") != std::string::npos);
  CHECK(hints[0].find("look at the broker") != std::string::npos);

  h.breakers[0] = {"management API", "half-open", 3, 9};
  CHECK(bottleneck_hints({}, h, 60) == std::vector<std::string>{no_bottleneck});
}

TEST_CASE("a slow tool that waits mostly inside warren is reported as queueing") {
  auto t = healthy_tool("list_queues", 20);
  t.p99 = 0.250;
  t.backend_share = 0.3;
  auto hints = bottleneck_hints({t}, healthy(), 60);
  REQUIRE(hints.size() == 1);
  CHECK(hints[0].find("list_queues") != std::string::npos);
  CHECK(hints[0].find("queueing inside warren") != std::string::npos);
  CHECK(hints[0].find("p99 250 ms") != std::string::npos);
  CHECK(hints[0].find("30%") != std::string::npos);
  CHECK(hints[0].find("server.max_in_flight") != std::string::npos);
  CHECK(hints[0].find("server.scheduler_threads") != std::string::npos);
}

TEST_CASE("no queueing hint when the broker takes the time, p99 is fast, or calls are "
          "few") {
  auto t = healthy_tool("list_queues", 20);
  t.p99 = 0.250;
  t.backend_share = 0.6; // the broker is the slow part
  CHECK(bottleneck_hints({t}, healthy(), 60) ==
        std::vector<std::string>{no_bottleneck});
  t.backend_share = 0.3;
  t.p99 = 0.1; // not over 100 ms
  CHECK(bottleneck_hints({t}, healthy(), 60) ==
        std::vector<std::string>{no_bottleneck});
  t.p99 = 0.250;
  t.calls = 19;
  CHECK(bottleneck_hints({t}, healthy(), 60) ==
        std::vector<std::string>{no_bottleneck});
}

TEST_CASE("a tool failing often is named with its error rate") {
  auto t = healthy_tool("get_messages", 40);
  t.error_rate = 0.15;
  auto hints = bottleneck_hints({healthy_tool("ping"), t}, healthy(), 60);
  REQUIRE(hints.size() == 1);
  CHECK(hints[0].find("Calls to get_messages failed 15% of the time (40 calls") == 0);
}

TEST_CASE("errors at 5 % or on few calls give no hint") {
  auto t = healthy_tool("get_messages", 40);
  t.error_rate = 0.05;
  CHECK(bottleneck_hints({t}, healthy(), 60) ==
        std::vector<std::string>{no_bottleneck});
  t.error_rate = 0.5;
  t.calls = 19;
  CHECK(bottleneck_hints({t}, healthy(), 60) ==
        std::vector<std::string>{no_bottleneck});
}

TEST_CASE("several problems give one hint each") {
  auto h = healthy();
  h.pools[0].exhausted = 500;
  h.cache = {true, 10, 90};
  auto t = healthy_tool("get_messages", 40);
  t.error_rate = 0.5;
  auto hints = bottleneck_hints({t}, h, 60);
  CHECK(hints.size() == 3);
  CHECK(any_contains(hints, "http_pool.max"));
  CHECK(any_contains(hints, "cache.ttl_lists"));
  CHECK(any_contains(hints, "get_messages failed 50%"));
  CHECK_FALSE(any_contains(hints, "No bottleneck"));
}

TEST_CASE("the text report aligns its tables and lists the hints") {
  auto text = render_text(sample_report());
  CHECK(text.find("60 s") < text.find('\n'));

  auto tools = section(text, "Tools");
  REQUIRE(tools.size() == 3);
  CHECK(tools[0].find("tool") == 0);
  for (const char* column :
       {"calls", "req/s", "errors %", "p50 ms", "p95 ms", "p99 ms", "backend %"})
    CHECK(tools[0].find(column) != std::string::npos);
  CHECK(tools[1].find("list_queues") == 0);
  CHECK(tools[2].find("ping ") == 0);
  // Numbers are right-aligned, so every line of a table is as long as the widest.
  CHECK(tools[1].size() == tools[0].size());
  CHECK(tools[2].size() == tools[0].size());
  // The calls column: "ping" is padded to the width of "list_queues".
  CHECK(tools[2].find(" 7 ") + 2 == tools[0].find("calls") + 5);
  CHECK(tools[1].find("1200") != std::string::npos);
  CHECK(tools[1].find("20.00") != std::string::npos); // req/s
  CHECK(tools[1].find("2.5") != std::string::npos);   // errors %
  CHECK(tools[1].find("75.0") != std::string::npos);  // backend %

  auto slow = section(text, "Slowest operations");
  REQUIRE(slow.size() == 3);
  for (const char* column :
       {"tool", "correlation", "total ms", "backend ms", "queue ms", "age s"})
    CHECK(slow[0].find(column) != std::string::npos);
  CHECK(slow[1].find("get_messages") == 0);
  CHECK(slow[1].find("corr-0001") == slow[0].find("correlation"));
  CHECK(slow[2].find("c2") == slow[0].find("correlation"));
  CHECK(slow[1].find("1250.00") != std::string::npos);
  CHECK(slow[1].find("250.00") != std::string::npos);
  CHECK(slow[1].find("12.5") != std::string::npos);
  CHECK(slow[1].size() == slow[0].size());
  CHECK(slow[2].size() == slow[0].size());

  CHECK(text.find("Hints:\n- First hint.\n- Second hint.\n") != std::string::npos);
}

TEST_CASE("the text report says so when its tables are empty") {
  perf_report r;
  r.hints = {no_bottleneck};
  auto text = render_text(r);
  CHECK(section(text, "Tools") ==
        std::vector<std::string>{"(no requests in the window)"});
  CHECK(section(text, "Slowest operations") ==
        std::vector<std::string>{"(no requests in the window)"});
  CHECK(text.find("- " + no_bottleneck) != std::string::npos);
}

TEST_CASE("the text report keeps a client's correlation id on one line") {
  auto r = sample_report();
  r.slowest[0].correlation = "evil\nid\x1b[2J" + std::string(200, 'x');
  auto text = render_text(r);
  auto slow = section(text, "Slowest operations");
  REQUIRE(slow.size() == 3);
  CHECK(slow[1].find("evil?id?[2J") != std::string::npos);
  CHECK(slow[1].size() < 120);
  CHECK(text.find('\x1b') == std::string::npos);
}

TEST_CASE("the JSON report parses back with every field") {
  auto r = sample_report();
  r.tools[1].tool = "bad\xff"; // not UTF-8: must still come out valid
  auto json = render_json(r);
  CHECK(is_utf8(json));
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  CHECK(doc["window_seconds"].GetDouble() == 60);

  REQUIRE(doc["tools"].IsArray());
  REQUIRE(doc["tools"].Size() == 2);
  const auto& t = doc["tools"][0];
  CHECK(std::string(t["tool"].GetString()) == "list_queues");
  CHECK(t["calls"].GetUint64() == 1200);
  CHECK(t["error_rate"].GetDouble() == doctest::Approx(0.025));
  CHECK(t["per_second"].GetDouble() == doctest::Approx(20));
  CHECK(t["p50"].GetDouble() == doctest::Approx(0.002));
  CHECK(t["p95"].GetDouble() == doctest::Approx(0.010));
  CHECK(t["p99"].GetDouble() == doctest::Approx(0.030));
  CHECK(t["backend_share"].GetDouble() == doctest::Approx(0.75));

  REQUIRE(doc["slowest"].IsArray());
  REQUIRE(doc["slowest"].Size() == 2);
  const auto& s = doc["slowest"][0];
  CHECK(std::string(s["tool"].GetString()) == "get_messages");
  CHECK(std::string(s["correlation"].GetString()) == "corr-0001");
  CHECK(s["total_seconds"].GetDouble() == doctest::Approx(1.25));
  CHECK(s["backend_seconds"].GetDouble() == doctest::Approx(1.0));
  CHECK(s["queue_seconds"].GetDouble() == doctest::Approx(0.25));
  CHECK(s["age_seconds"].GetDouble() == doctest::Approx(12.5));

  REQUIRE(doc["hints"].IsArray());
  REQUIRE(doc["hints"].Size() == 2);
  CHECK(std::string(doc["hints"][1].GetString()) == "Second hint.");
}

TEST_CASE("the JSON report of an empty window has empty arrays") {
  perf_report r;
  r.window_seconds = 30;
  auto json = render_json(r);
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(doc["window_seconds"].GetDouble() == 30);
  CHECK(doc["tools"].IsArray());
  CHECK(doc["tools"].Empty());
  CHECK(doc["slowest"].Empty());
  CHECK(doc["hints"].Empty());
}
