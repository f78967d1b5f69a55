#include "protocol/perf_report.hpp"

#include <cmath>
#include <cstdio>

#include <rapidjson/stringbuffer.h>

#include "protocol/json_text.hpp"
#include "protocol/json_writer.hpp"
#include "protocol/text_table.hpp"

namespace warren {

namespace {

// A pool found exhausted by more than this share of its requests is too small for
// the load: beyond a few percent, requests wait for a connection routinely.
constexpr double pool_exhausted_share = 0.05;
// Fewer requests than this through a pool say nothing about its size.
constexpr uint64_t pool_min_requests = 20;

// A cache that serves fewer than this share of lookups from memory sends most reads
// to the broker; with lists cached for cache.ttl_lists, 80 % is easily reached.
constexpr double cache_min_hit_ratio = 0.8;
// Fewer lookups than this are too few for a meaningful ratio (e.g. just after start).
constexpr uint64_t cache_min_lookups = 20;

// A breaker that changed state this often since the start opens and closes
// repeatedly: the backend fails on and off rather than being down.
constexpr uint64_t breaker_flapping_transitions = 4;

// A tool whose slowest 1 % take longer than this...
constexpr double queueing_min_p99_seconds = 0.1;
// ...while under this share of their time is spent at the broker waits inside
// warren: in mailboxes, for a pool connection, for a scheduler thread.
constexpr double queueing_max_backend_share = 0.5;

// A tool failing on more than this share of its calls is worth a look.
constexpr double tool_max_error_rate = 0.05;

// Per-tool hints need this many calls in the window; fewer are noise.
constexpr uint64_t tool_min_calls = 20;

// Assumed when the figures do not tell the window (no requests in it).
constexpr double default_window_seconds = 60;

std::string fixed(double value, int decimals) {
  if (!std::isfinite(value))
    return "-";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

// A ratio as a percentage for a sentence: "12", "4.5", "0.3".
std::string percent(double ratio) {
  double p = ratio * 100;
  if (p >= 10 || p == std::round(p))
    return fixed(p, 0);
  return fixed(p, 1);
}

// A number of seconds without needless decimals: "60", "2.5".
std::string seconds_text(double s) {
  if (s == std::round(s))
    return fixed(s, 0);
  return fixed(s, 1);
}

// "1 transition", "4 transitions".
std::string count_of(uint64_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

bool contains(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

std::string pool_setting(const std::string& name) {
  if (name.rfind("management", 0) == 0)
    return "http_pool.max";
  if (name.rfind("AMQP", 0) == 0)
    return "amqp_pool.max";
  return "its size";
}

// What to look at when the breaker of the backend `name` is open or flapping.
std::string breaker_advice(const std::string& name) {
  if (contains(name, "Redis"))
    return "look at Redis: is it running and reachable at cache.redis_url (reads skip "
           "the shared cache meanwhile)?";
  if (contains(name, "management"))
    return "look at the broker: is the management plugin up and reachable at "
           "rabbitmq.management_url, or is the node overloaded or in a memory or disk "
           "alarm?";
  return "look at the broker: is its AMQP listener up and reachable at rabbitmq.url, "
         "or is the node in a memory or disk alarm?";
}

void pool_hints(const health_inputs& health, std::vector<std::string>& out) {
  for (const auto& pool : health.pools) {
    if (pool.requests < pool_min_requests)
      continue;
    double share =
        static_cast<double>(pool.exhausted) / static_cast<double>(pool.requests);
    if (share <= pool_exhausted_share)
      continue;
    out.push_back("The " + pool.name + " pool was exhausted on " + percent(share) +
                  "% of requests (its max is " + std::to_string(pool.max) +
                  "): raise " + pool_setting(pool.name) +
                  " (or pool.wait_ms if bursts are short).");
  }
}

void cache_hints(const health_inputs& health, std::vector<std::string>& out) {
  const auto& cache = health.cache;
  uint64_t lookups = cache.hits + cache.misses;
  if (!cache.enabled || lookups < cache_min_lookups)
    return;
  double ratio = static_cast<double>(cache.hits) / static_cast<double>(lookups);
  if (ratio >= cache_min_hit_ratio)
    return;
  out.push_back("The cache hit ratio is " + percent(ratio) + "% (under " +
                percent(cache_min_hit_ratio) +
                "%): raise cache.ttl_lists so lists stay cached longer.");
}

void breaker_hints(const health_inputs& health, std::vector<std::string>& out) {
  for (const auto& breaker : health.breakers) {
    std::string counts = count_of(breaker.transitions, "transition") + ", " +
                         count_of(breaker.rejected, "call") + " refused";
    if (breaker.state == "open")
      out.push_back("The " + breaker.name + " breaker is open (" + counts +
                    "): " + breaker_advice(breaker.name));
    else if (breaker.transitions >= breaker_flapping_transitions)
      out.push_back("The " + breaker.name + " breaker is flapping (" + counts +
                    ", now " + breaker.state + "): " + breaker_advice(breaker.name));
  }
}

void tool_hints(const std::vector<tool_figures>& tools, std::vector<std::string>& out) {
  for (const auto& t : tools) {
    if (t.calls < tool_min_calls)
      continue;
    if (t.p99 > queueing_min_p99_seconds &&
        t.backend_share < queueing_max_backend_share)
      out.push_back("Calls to " + t.tool +
                    " spend most of their time queueing inside warren (p99 " +
                    fixed(t.p99 * 1000, 0) + " ms, only " + percent(t.backend_share) +
                    "% of it at the broker): check server.max_in_flight, "
                    "server.scheduler_threads and the pool sizes (http_pool.max, "
                    "amqp_pool.max).");
  }
  for (const auto& t : tools) {
    if (t.calls < tool_min_calls || t.error_rate <= tool_max_error_rate)
      continue;
    out.push_back("Calls to " + t.tool + " failed " + percent(t.error_rate) +
                  "% of the time (" + std::to_string(t.calls) +
                  " calls in the window): their error results say why (refused "
                  "arguments, a missing vhost or queue, the broker unreachable).");
  }
}

std::string milliseconds(double seconds) {
  return fixed(seconds * 1000, 2);
}

} // namespace

std::vector<std::string> bottleneck_hints(const std::vector<tool_figures>& tools,
                                          const health_inputs& health,
                                          double window_seconds) {
  std::vector<std::string> out;
  pool_hints(health, out);
  cache_hints(health, out);
  breaker_hints(health, out);
  tool_hints(tools, out);
  if (out.empty())
    out.push_back("No bottleneck visible in the last " + seconds_text(window_seconds) +
                  " s.");
  return out;
}

std::vector<std::string> bottleneck_hints(const std::vector<tool_figures>& tools,
                                          const health_inputs& health) {
  // per_second is calls over the window's length, so the window is their quotient.
  double window = default_window_seconds;
  for (const auto& t : tools)
    if (t.per_second > 0 && t.calls > 0) {
      window = std::round(static_cast<double>(t.calls) / t.per_second);
      break;
    }
  return bottleneck_hints(tools, health, window);
}

std::string render_text(const perf_report& report) {
  std::string out =
      "Requests over the last " + seconds_text(report.window_seconds) + " s\n\nTools\n";
  if (report.tools.empty()) {
    out += "(no requests in the window)\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : report.tools)
      rows.push_back({t.tool, std::to_string(t.calls), fixed(t.per_second, 2),
                      fixed(t.error_rate * 100, 1), milliseconds(t.p50),
                      milliseconds(t.p95), milliseconds(t.p99),
                      fixed(t.backend_share * 100, 1)});
    out += render_table({"tool", "calls", "req/s", "errors %", "p50 ms", "p95 ms",
                         "p99 ms", "backend %"},
                        rows);
  }

  out += "\nSlowest operations\n";
  if (report.slowest.empty()) {
    out += "(no requests in the window)\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : report.slowest)
      rows.push_back({s.tool, s.correlation, milliseconds(s.total_seconds),
                      milliseconds(s.backend_seconds), milliseconds(s.queue_seconds),
                      fixed(s.age_seconds, 1)});
    out += render_table(
        {"tool", "correlation", "total ms", "backend ms", "queue ms", "age s"}, rows);
  }

  out += "\nHints:\n";
  for (const auto& hint : report.hints)
    out += "- " + sanitize_utf8(hint) + "\n";
  return out;
}

std::string render_json(const perf_report& report) {
  rapidjson::StringBuffer buf;
  json_writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("window_seconds");
  w.Double(report.window_seconds);
  w.Key("tools");
  w.StartArray();
  for (const auto& t : report.tools) {
    w.StartObject();
    w.Key("tool");
    w.String(t.tool);
    w.Key("calls");
    w.Uint64(t.calls);
    w.Key("error_rate");
    w.Double(t.error_rate);
    w.Key("per_second");
    w.Double(t.per_second);
    w.Key("p50");
    w.Double(t.p50);
    w.Key("p95");
    w.Double(t.p95);
    w.Key("p99");
    w.Double(t.p99);
    w.Key("backend_share");
    w.Double(t.backend_share);
    w.EndObject();
  }
  w.EndArray();
  w.Key("slowest");
  w.StartArray();
  for (const auto& s : report.slowest) {
    w.StartObject();
    w.Key("tool");
    w.String(s.tool);
    w.Key("correlation");
    w.String(s.correlation);
    w.Key("total_seconds");
    w.Double(s.total_seconds);
    w.Key("backend_seconds");
    w.Double(s.backend_seconds);
    w.Key("queue_seconds");
    w.Double(s.queue_seconds);
    w.Key("age_seconds");
    w.Double(s.age_seconds);
    w.EndObject();
  }
  w.EndArray();
  w.Key("hints");
  w.StartArray();
  for (const auto& hint : report.hints)
    w.String(hint);
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

} // namespace warren
