#include "protocol/request_stats.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

using namespace warren;
using namespace std::chrono_literals;

namespace {

const request_stats::time_point t0 = request_stats::clock::time_point{};

request_sample call(const std::string& tool, std::chrono::nanoseconds total,
                    request_outcome outcome = request_outcome::ok,
                    std::chrono::nanoseconds backend = 0ns,
                    const std::string& correlation = "") {
  request_sample s;
  s.method = "tools/call";
  s.tool = tool;
  s.outcome = outcome;
  s.total = total;
  s.backend = backend;
  s.correlation = correlation;
  return s;
}

request_sample method_call(const std::string& method, std::chrono::nanoseconds total) {
  request_sample s;
  s.method = method;
  s.total = total;
  return s;
}

const tool_figures* figures_of(const std::vector<tool_figures>& all,
                               const std::string& tool) {
  for (const auto& f : all)
    if (f.tool == tool)
      return &f;
  return nullptr;
}

std::size_t bucket_of(double bound) {
  const auto& b = latency_buckets();
  auto it = std::find(b.begin(), b.end(), bound);
  REQUIRE(it != b.end());
  return static_cast<std::size_t>(it - b.begin());
}

} // namespace

TEST_CASE("outcomes are named as the metrics label them") {
  CHECK(std::string(to_string(request_outcome::ok)) == "ok");
  CHECK(std::string(to_string(request_outcome::tool_error)) == "tool_error");
  CHECK(std::string(to_string(request_outcome::error)) == "error");
  CHECK(std::string(to_string(request_outcome::cancelled)) == "cancelled");
}

TEST_CASE("requests are counted by method, tool and outcome, sorted") {
  request_stats stats;
  stats.record(call("list_queues", 1ms), t0);
  stats.record(call("list_queues", 1ms), t0 + 1s);
  stats.record(call("list_queues", 1ms, request_outcome::tool_error), t0 + 2s);
  stats.record(call("get_messages", 1ms, request_outcome::error), t0 + 3s);
  stats.record(method_call("ping", 1ms), t0 + 4s);
  stats.record(call("list_queues", 1ms, request_outcome::cancelled), t0 + 5s);

  auto counts = stats.counts();
  REQUIRE(counts.size() == 5);
  CHECK(counts[0].method == "ping");
  CHECK(counts[0].tool == "");
  CHECK(counts[0].count == 1);
  CHECK(counts[1].tool == "get_messages");
  CHECK(counts[1].outcome == request_outcome::error);
  CHECK(counts[1].count == 1);
  CHECK(counts[2].tool == "list_queues");
  CHECK(counts[2].outcome == request_outcome::ok);
  CHECK(counts[2].count == 2);
  CHECK(counts[3].outcome == request_outcome::tool_error);
  CHECK(counts[3].count == 1);
  CHECK(counts[4].outcome == request_outcome::cancelled);
  CHECK(counts[4].count == 1);
}

TEST_CASE("latency buckets run from 100 us to 30 s at 1, 1.5, 2, 3, 5 and 7 per "
          "decade") {
  const auto& b = latency_buckets();
  REQUIRE(b.size() == 34);
  CHECK(b.front() == 0.0001);
  CHECK(b[1] == 0.00015);
  CHECK(b[2] == 0.0002);
  CHECK(b[3] == 0.0003);
  CHECK(b[4] == 0.0005);
  CHECK(b[5] == 0.0007);
  CHECK(b[6] == 0.001);
  CHECK(b[25] == 1.5);
  CHECK(b[29] == 7);
  CHECK(b[30] == 10);
  CHECK(b.back() == 30);
  CHECK(std::is_sorted(b.begin(), b.end()));
  CHECK(std::adjacent_find(b.begin(), b.end()) == b.end());
}

TEST_CASE("a request lands in the first bucket whose bound it does not exceed, and "
          "above 30 s in the overflow bucket") {
  request_stats stats;
  stats.record(call("q", 0ns), t0);       // below the first bound
  stats.record(call("q", 100us), t0);     // exactly the first bound
  stats.record(call("q", 100001ns), t0);  // just above it
  stats.record(call("q", 150us), t0);     // exactly 0.00015
  stats.record(call("q", 1ms), t0);       // exactly 0.001
  stats.record(call("q", 1000001ns), t0); // just above: the 1.5 ms bucket
  stats.record(call("q", 30s), t0);       // the last bound
  stats.record(call("q", 30s + 1ns), t0); // overflow
  stats.record(call("q", 3600s), t0);     // overflow

  auto hists = stats.histograms();
  REQUIRE(hists.size() == 1);
  const auto& h = hists[0];
  CHECK(h.tool == "q");
  REQUIRE(h.counts.size() == latency_buckets().size() + 1);
  CHECK(h.counts[0] == 2);
  CHECK(h.counts[1] == 2);
  CHECK(h.counts[bucket_of(0.001)] == 1);
  CHECK(h.counts[bucket_of(0.0015)] == 1);
  CHECK(h.counts[bucket_of(30)] == 1);
  CHECK(h.counts.back() == 2);
  uint64_t sum = 0;
  for (auto c : h.counts)
    sum += c;
  CHECK(sum == 9);
  CHECK(h.count == 9);
  CHECK(h.sum_seconds == doctest::Approx(0.0001 + 0.000100001 + 0.00015 + 0.001 +
                                         0.001000001 + 30 + 30.000000001 + 3600));
}

TEST_CASE("histograms are labelled by tool, or by method outside tools/call") {
  request_stats stats;
  stats.record(call("list_queues", 2ms), t0);
  stats.record(method_call("initialize", 5ms), t0);
  stats.record(method_call("ping", 1ms), t0);
  auto hists = stats.histograms();
  REQUIRE(hists.size() == 3);
  CHECK(hists[0].tool == "initialize");
  CHECK(hists[1].tool == "list_queues");
  CHECK(hists[2].tool == "ping");
  CHECK(hists[1].counts[bucket_of(0.002)] == 1);
  CHECK(hists[0].counts[bucket_of(0.005)] == 1);
}

TEST_CASE("samples older than the window drop out of the rolling figures") {
  request_stats::config cfg;
  cfg.window = 60s;
  request_stats stats(cfg);
  stats.record(call("q", 1ms), t0);
  stats.record(call("q", 2ms), t0 + 30s);
  stats.record(call("other", 2ms), t0 + 5s);

  auto at_59 = stats.rolling(t0 + 59s);
  REQUIRE(figures_of(at_59, "q") != nullptr);
  CHECK(figures_of(at_59, "q")->calls == 2);

  // At t0 + 60 s the first sample is exactly one window old: out.
  auto at_60 = stats.rolling(t0 + 60s);
  REQUIRE(figures_of(at_60, "q") != nullptr);
  CHECK(figures_of(at_60, "q")->calls == 1);
  CHECK(figures_of(at_60, "q")->p50 == doctest::Approx(0.002));
  CHECK(figures_of(at_60, "other") != nullptr);

  // "other" is never recorded again, yet its sample still leaves the window.
  auto at_70 = stats.rolling(t0 + 70s);
  CHECK(figures_of(at_70, "other") == nullptr);
  CHECK(stats.rolling(t0 + 91s).empty());

  // Recording expires the label's old samples too: later calls see only the new.
  stats.record(call("q", 9ms), t0 + 200s);
  auto later = stats.rolling(t0 + 200s);
  REQUIRE(figures_of(later, "q") != nullptr);
  CHECK(figures_of(later, "q")->calls == 1);
  CHECK(figures_of(later, "q")->p99 == doctest::Approx(0.009));
}

TEST_CASE("percentiles are exact nearest-rank values over the window") {
  request_stats stats;
  // 1..100 ms in a scrambled order: 37 is coprime to 100.
  for (int i = 0; i < 100; ++i) {
    int ms = (i * 37) % 100 + 1;
    stats.record(call("q", std::chrono::milliseconds(ms)), t0 + 1s);
  }
  auto figures = stats.rolling(t0 + 2s);
  REQUIRE(figures.size() == 1);
  CHECK(figures[0].calls == 100);
  CHECK(figures[0].p50 == doctest::Approx(0.050));
  CHECK(figures[0].p95 == doctest::Approx(0.095));
  CHECK(figures[0].p99 == doctest::Approx(0.099));

  request_stats one;
  one.record(call("q", 7ms), t0);
  auto single = one.rolling(t0);
  REQUIRE(single.size() == 1);
  CHECK(single[0].p50 == doctest::Approx(0.007));
  CHECK(single[0].p99 == doctest::Approx(0.007));
}

TEST_CASE("the error rate counts tool errors and JSON-RPC errors, not cancellations") {
  request_stats stats;
  for (int i = 0; i < 6; ++i)
    stats.record(call("q", 1ms), t0);
  stats.record(call("q", 1ms, request_outcome::tool_error), t0);
  stats.record(call("q", 1ms, request_outcome::tool_error), t0);
  stats.record(call("q", 1ms, request_outcome::error), t0);
  stats.record(call("q", 1ms, request_outcome::cancelled), t0);
  auto figures = stats.rolling(t0 + 1s);
  REQUIRE(figures.size() == 1);
  CHECK(figures[0].calls == 10);
  CHECK(figures[0].error_rate == doctest::Approx(0.3));
}

TEST_CASE("requests per second are calls over the window; the backend share is summed "
          "backend over summed total time") {
  request_stats::config cfg;
  cfg.window = 10s;
  request_stats stats(cfg);
  for (int i = 0; i < 20; ++i)
    stats.record(call("q", 10ms, request_outcome::ok, i % 2 == 0 ? 2ms : 8ms), t0);
  stats.record(call("zero", 0ns), t0);
  auto figures = stats.rolling(t0 + 1s);
  const auto* q = figures_of(figures, "q");
  REQUIRE(q != nullptr);
  CHECK(q->per_second == doctest::Approx(2.0));
  CHECK(q->backend_share == doctest::Approx(0.5));
  const auto* zero = figures_of(figures, "zero");
  REQUIRE(zero != nullptr);
  CHECK(zero->backend_share == 0);
  CHECK(zero->per_second == doctest::Approx(0.1));
}

TEST_CASE("rolling figures list the busiest first, equally busy ones by name") {
  request_stats stats;
  stats.record(call("b", 1ms), t0);
  stats.record(call("c", 1ms), t0);
  stats.record(call("c", 1ms), t0);
  stats.record(call("a", 1ms), t0);
  auto figures = stats.rolling(t0 + 1s);
  REQUIRE(figures.size() == 3);
  CHECK(figures[0].tool == "c");
  CHECK(figures[1].tool == "a");
  CHECK(figures[2].tool == "b");
}

TEST_CASE("each label keeps at most samples_per_tool samples, the newest") {
  request_stats::config cfg;
  cfg.samples_per_tool = 5;
  request_stats stats(cfg);
  for (int ms = 1; ms <= 8; ++ms)
    stats.record(call("q", std::chrono::milliseconds(ms)), t0 + 1s);
  for (int i = 0; i < 3; ++i)
    stats.record(call("other", 1ms), t0 + 1s);
  auto figures = stats.rolling(t0 + 2s);
  const auto* q = figures_of(figures, "q");
  REQUIRE(q != nullptr);
  CHECK(q->calls == 5);
  // 4..8 ms are kept: the nearest-rank p50 of five is the third.
  CHECK(q->p50 == doctest::Approx(0.006));
  REQUIRE(figures_of(figures, "other") != nullptr);
  CHECK(figures_of(figures, "other")->calls == 3);
  // The counters and histograms still see every request.
  CHECK(stats.histograms()[1].count == 8);
}

TEST_CASE("slowest lists the slowest first, at most slow_kept, with queue time and "
          "age") {
  request_stats::config cfg;
  cfg.slow_kept = 3;
  request_stats stats(cfg);
  stats.record(call("a", 40ms, request_outcome::ok, 10ms, "c1"), t0 + 1s);
  stats.record(call("b", 900ms, request_outcome::ok, 850ms, "c2"), t0 + 2s);
  stats.record(call("a", 5ms, request_outcome::ok, 1ms, "c3"), t0 + 3s);
  stats.record(call("c", 300ms, request_outcome::tool_error, 0ms, "c4"), t0 + 4s);
  stats.record(method_call("ping", 1ms), t0 + 5s);

  auto slow = stats.slowest(t0 + 10s);
  REQUIRE(slow.size() == 3);
  CHECK(slow[0].correlation == "c2");
  CHECK(slow[0].tool == "b");
  CHECK(slow[0].total_seconds == doctest::Approx(0.9));
  CHECK(slow[0].backend_seconds == doctest::Approx(0.85));
  CHECK(slow[0].queue_seconds == doctest::Approx(0.05));
  CHECK(slow[0].age_seconds == doctest::Approx(8));
  CHECK(slow[1].correlation == "c4");
  CHECK(slow[1].queue_seconds == doctest::Approx(0.3));
  CHECK(slow[1].age_seconds == doctest::Approx(6));
  CHECK(slow[2].correlation == "c1");
  CHECK(slow[2].queue_seconds == doctest::Approx(0.03));
}

TEST_CASE("queue time is never negative, even when backend exceeds total") {
  request_stats stats;
  stats.record(call("a", 10ms, request_outcome::ok, 25ms, "c1"), t0);
  auto slow = stats.slowest(t0 + 1s);
  REQUIRE(slow.size() == 1);
  CHECK(slow[0].queue_seconds == 0);
  CHECK(slow[0].backend_seconds <= slow[0].total_seconds);
}

TEST_CASE("slowest forgets requests older than slow_window") {
  request_stats::config cfg;
  cfg.slow_kept = 2;
  cfg.slow_window = 100s;
  request_stats stats(cfg);
  stats.record(call("a", 5s, request_outcome::ok, 0ns, "old"), t0);
  stats.record(call("a", 20ms, request_outcome::ok, 0ns, "mid"), t0 + 50s);
  stats.record(call("a", 10ms, request_outcome::ok, 0ns, "new"), t0 + 90s);

  auto before = stats.slowest(t0 + 99s);
  REQUIRE(before.size() == 2);
  CHECK(before[0].correlation == "old");

  auto after = stats.slowest(t0 + 100s);
  REQUIRE(after.size() == 2);
  CHECK(after[0].correlation == "mid");
  CHECK(after[1].correlation == "new");
  CHECK(stats.slowest(t0 + 200s).empty());
}

TEST_CASE("slowest stays exact over many records while they are within slow_window") {
  request_stats::config cfg;
  cfg.slow_kept = 5;
  cfg.slow_window = 3600s;
  request_stats stats(cfg);
  std::vector<std::pair<int64_t, int>> all;
  uint32_t seed = 12345;
  for (int i = 0; i < 2000; ++i) {
    seed = seed * 1664525u + 1013904223u; // a fixed pseudo-random sequence
    int64_t us = (seed >> 8) % 5'000'000;
    auto id = "r" + std::to_string(i);
    all.emplace_back(us, i);
    stats.record(call("q", std::chrono::microseconds(us), request_outcome::ok, 0ns, id),
                 t0 + std::chrono::milliseconds(i));
  }
  // Slowest first; of equally slow ones, the most recent (as slowest() orders them).
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second > b.second;
  });
  auto slow = stats.slowest(t0 + 2000ms);
  REQUIRE(slow.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(slow[i].total_seconds == doctest::Approx(all[i].first / 1e6));
    CHECK(slow[i].correlation == "r" + std::to_string(all[i].second));
  }
}
