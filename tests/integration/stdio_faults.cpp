// Fault injection end to end: the real warren binary against a RabbitMQ node that is
// killed, frozen or restarted, or behind a proxy that stalls or cuts the link. The
// tests assert what an MCP client sees: every request answered once, errors while the
// broker is away, no hang past a deadline, bounded memory, and recovery once the
// broker is back.
//
// Tests that break the broker itself start a private node (killing the shared one
// would break every other test); faults on the link go through a tcp_proxy in front
// of the shared test broker.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "tests/integration/launch.hpp"
#include "tests/kit/broker_control.hpp"
#include "tests/kit/broker_env.hpp"
#include "tests/kit/mcp_client.hpp"
#include "tests/kit/tcp_proxy.hpp"

using namespace std::chrono_literals;
using warren::json_message;
using warren::mcp_client;
using warren::private_broker;
using warren::tcp_proxy;
using warren::e2e::unique_name;
using clock_type = std::chrono::steady_clock;

namespace {

// -- the tuning of warren's fault handling, all in one place -------------------------

enum class scenario {
  broker_killed,
  broker_frozen,
  cut_mid_response,
  stalled_link,
  channel_closed,
  publish_under_fault,
  overload,
};

// The pool policy the overload test runs with: fail_fast, block or queue.
const std::string overload_policy = "fail_fast";

// Every flag that tunes timeouts, breakers, retries and pools in these tests.
std::vector<std::string> fault_flags(scenario s) {
  switch (s) {
  case scenario::broker_killed:
    return {"--cache-ttl-lists", "0",   "--request-timeout-ms", "3000",
            "--breaker-open-ms", "2000"};
  case scenario::broker_frozen:
    return {"--cache-ttl-lists", "0",   "--request-timeout-ms", "1500",
            "--breaker-open-ms", "2000"};
  case scenario::cut_mid_response:
    // The breaker stays closed so that every call meets the cut; retries are quick.
    return {"--cache-ttl-lists",  "0",    "--request-timeout-ms",   "5000",
            "--breaker-failures", "1000", "--breaker-failure-rate", "0",
            "--retry-base-ms",    "100"};
  case scenario::stalled_link:
    return {"--cache-ttl-lists", "0",   "--request-timeout-ms", "1500",
            "--breaker-open-ms", "2000"};
  case scenario::channel_closed:
    return {"--allow-writes", "--request-timeout-ms", "5000"};
  case scenario::publish_under_fault:
    return {"--allow-writes", "--request-timeout-ms", "3000", "--breaker-open-ms",
            "2000"};
  case scenario::overload:
    return {"--http-pool-max",      "2",     "--http-pool-min",   "1",
            "--max-in-flight",      "64",    "--cache-ttl-lists", "0",
            "--request-timeout-ms", "10000", "--pool-policy",     overload_policy};
  }
  return {};
}

// How late past its deadline an answer may come: the goal is "no hang", not timing.
constexpr auto slack = 5s;

// -- starting things ------------------------------------------------------------------

std::unique_ptr<private_broker> start_private_broker() {
  auto broker = private_broker::start(warren::local_broker_script());
  REQUIRE_MESSAGE(
      broker, "cannot start a private broker: " << warren::message_of(broker.error()));
  return std::move(*broker);
}

std::unique_ptr<mcp_client> launch_at(const warren::broker_env& broker,
                                      std::vector<std::string> args) {
  warren::mcp_client_options opts;
  opts.broker = broker;
  opts.args = std::move(args);
  auto c = warren::e2e::start(std::move(opts));
  warren::e2e::initialized(*c);
  return c;
}

// `broker` with its management API reached through `proxy`.
warren::broker_env management_through(warren::broker_env broker,
                                      const tcp_proxy& proxy) {
  broker.management_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  return broker;
}

bool still_running(mcp_client& c) {
  return !c.process().exit_code().has_value();
}

// warren's stderr and, if it ended, how (139 = 128 + SIGSEGV).
std::string diag(mcp_client& c) {
  // Its stdout closes a moment before it can be reaped.
  auto code = c.process().stdout_eof() ? c.process().wait(1s) : c.process().exit_code();
  return (code ? "warren exited with " + std::to_string(*code) + "; "
               : std::string{"warren runs; "}) +
         warren::e2e::diagnostics(c);
}

// -- what came back -------------------------------------------------------------------

struct answer {
  enum class kind { ok, tool_error, rpc_error } what = kind::ok;
  std::string text; ///< the first content text, or the JSON-RPC error message
  clock_type::time_point sent;
  clock_type::time_point at;
  json_message msg;
};

answer classify(const json_message& m, clock_type::time_point sent) {
  answer a{answer::kind::ok, {}, sent, clock_type::now(), m};
  if (m.result() == nullptr) {
    a.what = answer::kind::rpc_error;
    a.text = m.error_message();
    return a;
  }
  auto flag = m.at("/result/isError");
  if (flag != nullptr && flag->IsBool() && flag->GetBool())
    a.what = answer::kind::tool_error;
  a.text = m.string_at("/result/content/0/text").value_or(m.text());
  return a;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return text;
}

bool mentions_any(const std::string& text, std::initializer_list<const char*> words) {
  auto l = lower(text);
  return std::any_of(words.begin(), words.end(),
                     [&](const char* w) { return l.find(w) != std::string::npos; });
}

// An error an agent can act on when the broker is slow or away: it names the time
// limit or the unavailability.
bool says_deadline_or_unavailable(const std::string& text) {
  // Under load the pool may also be saturated, or an overrunning connection replaced.
  return mentions_any(text, {"within", "time", "deadline", "unavailable", "circuit",
                             "breaker", "reach", "refused", "did not answer",
                             "saturated", "busy", "connection failed"});
}

// Tool calls sent without waiting, answers collected as they come: many requests in
// flight at once, each answered exactly once.
class tracker {
public:
  explicit tracker(mcp_client& c) : c_(c) {}

  int64_t call(const std::string& tool, const std::string& args) {
    auto id = c_.send_request("tools/call", R"({"name":)" + warren::json_quote(tool) +
                                                R"(,"arguments":)" + args + "}");
    sent_[id] = clock_type::now();
    return id;
  }

  // Reads one message for at most `wait`; false when none came.
  bool pump(std::chrono::milliseconds wait) {
    auto msg = c_.next_message(wait);
    if (!msg)
      return false;
    if (!msg->is_response())
      return true;
    auto id_text = msg->id_json();
    if (id_text.empty() ||
        id_text.find_first_not_of("0123456789") != std::string::npos) {
      unknown_.push_back(msg->text());
      return true;
    }
    auto id = std::stoll(id_text);
    auto pending = sent_.find(id);
    if (pending == sent_.end()) {
      if (answers_.count(id) != 0)
        ++duplicates_;
      else
        unknown_.push_back(msg->text());
      return true;
    }
    answers_.emplace(id, classify(*msg, pending->second));
    arrival_.push_back(id);
    sent_.erase(pending);
    return true;
  }

  // Pumps until nothing is pending, the oldest request is `limit` old, or warren
  // closed its stdout.
  void drain(std::chrono::milliseconds limit) {
    while (!sent_.empty() && oldest_pending_age() < limit && !ended())
      pump(50ms);
  }

  // warren's stdout ended (it exited or crashed): no answer will come any more.
  bool ended() const { return c_.process().stdout_eof(); }

  std::size_t pending() const { return sent_.size(); }
  clock_type::duration oldest_pending_age() const {
    auto oldest = clock_type::now();
    for (auto& [id, at] : sent_)
      oldest = std::min(oldest, at);
    return clock_type::now() - oldest;
  }
  const std::map<int64_t, answer>& answers() const { return answers_; }
  const answer& of(int64_t id) const { return answers_.at(id); }
  bool answered(int64_t id) const { return answers_.count(id) != 0; }
  int duplicates() const { return duplicates_; }
  const std::vector<std::string>& unknown() const { return unknown_; }

  // The slowest answer so far.
  clock_type::duration max_latency() const {
    clock_type::duration worst{0};
    for (auto& [id, a] : answers_)
      worst = std::max(worst, a.at - a.sent);
    return worst;
  }

  std::size_t count(answer::kind k) const {
    return static_cast<std::size_t>(
        std::count_if(answers_.begin(), answers_.end(),
                      [&](auto& kv) { return kv.second.what == k; }));
  }

  // The most recent answers, for failure messages.
  std::string recent(std::size_t n = 3) const {
    std::vector<const answer*> all;
    for (auto& [id, a] : answers_)
      all.push_back(&a);
    std::sort(all.begin(), all.end(), [](auto* x, auto* y) { return x->at > y->at; });
    std::string text;
    for (std::size_t i = 0; i < all.size() && i < n; ++i)
      text += all[i]->msg.text() + "\n";
    return text;
  }

  // How many of the latest answers in a row succeeded.
  std::size_t trailing_ok() const {
    std::size_t n = 0;
    for (auto i = arrival_.rbegin(); i != arrival_.rend(); ++i, ++n)
      if (answers_.at(*i).what != answer::kind::ok)
        break;
    return n;
  }

  // Each distinct failure text (clipped) with how often it came.
  std::string error_summary() const {
    std::map<std::string, int> seen;
    for (auto& [id, a] : answers_)
      if (a.what != answer::kind::ok)
        ++seen[a.text.substr(0, 160)];
    std::string text;
    for (auto& [what, n] : seen)
      text += std::to_string(n) + "x " + what + "\n";
    return text;
  }

  std::string pending_ids() const {
    std::string ids;
    for (auto& [id, at] : sent_)
      ids += std::to_string(id) + " ";
    return ids;
  }

private:
  mcp_client& c_;
  std::map<int64_t, clock_type::time_point> sent_;
  std::map<int64_t, answer> answers_;
  std::vector<int64_t> arrival_; ///< answered ids in the order the answers came
  int duplicates_ = 0;
  std::vector<std::string> unknown_;
};

long long ms(clock_type::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Every request answered once, none past its deadline plus slack, no stray answer.
void check_all_answered_once(const tracker& t, std::chrono::milliseconds deadline) {
  CHECK_MESSAGE(t.pending() == 0, "unanswered request ids: " << t.pending_ids());
  CHECK(t.duplicates() == 0);
  CHECK_MESSAGE(
      t.unknown().empty(),
      "answers to no request: " << (t.unknown().empty() ? "" : t.unknown()[0]));
  CHECK_MESSAGE(t.max_latency() <= deadline + slack,
                "the slowest answer took " << ms(t.max_latency()) << " ms");
}

// Calls `tool` until it succeeds or `limit` passes; the successful answer, if any.
std::optional<answer> until_ok(mcp_client& c, const std::string& tool,
                               const std::string& args, clock_type::duration limit,
                               int* attempts = nullptr) {
  auto end = clock_type::now() + limit;
  tracker t{c};
  int n = 0;
  while (clock_type::now() < end) {
    auto id = t.call(tool, args);
    ++n;
    while (!t.answered(id) && t.oldest_pending_age() < 30s && !t.ended())
      t.pump(100ms);
    if (!t.answered(id))
      break;
    if (t.of(id).what == answer::kind::ok) {
      if (attempts)
        *attempts = n;
      return t.of(id);
    }
    std::this_thread::sleep_for(200ms);
  }
  if (attempts)
    *attempts = n;
  return std::nullopt;
}

// The queue names in a list_queues answer.
std::set<std::string> queue_names(const json_message& m) {
  std::set<std::string> names;
  auto items = m.at("/result/structuredContent/items");
  if (items == nullptr || !items->IsArray())
    return names;
  for (auto& item : items->GetArray())
    if (item.IsObject() && item.HasMember("name") && item["name"].IsString())
      names.insert(item["name"].GetString());
  return names;
}

std::string list_args(const std::string& name_filter = {}) {
  if (name_filter.empty())
    return R"({"vhost":"/"})";
  return R"({"vhost":"/","name":)" + warren::json_quote(name_filter) +
         R"(,"page_size":500})";
}

std::string publish_args(const std::string& exchange, const std::string& routing_key,
                         const std::string& body) {
  return R"({"exchange":)" + warren::json_quote(exchange) + R"(,"routing_key":)" +
         warren::json_quote(routing_key) + R"(,"body":)" + warren::json_quote(body) +
         R"(,"persistent":true})";
}

// Takes every message out of `queue` through the management API; their bodies.
std::vector<std::string> drain_queue(const warren::broker_env& broker,
                                     const std::string& queue) {
  std::vector<std::string> bodies;
  for (int round = 0; round < 20; ++round) {
    std::string out;
    auto status = warren::mgmt_call(
        broker, "POST", "/api/queues/%2F/" + queue + "/get",
        R"({"count":1000,"ackmode":"ack_requeue_false","encoding":"auto","truncate":100000})",
        &out);
    REQUIRE_MESSAGE(status == 200,
                    "get from " << queue << ": " << status << " " << out);
    rapidjson::Document doc;
    doc.Parse(out.c_str());
    REQUIRE_MESSAGE((!doc.HasParseError() && doc.IsArray()), out);
    if (doc.GetArray().Empty())
      break;
    for (auto& m : doc.GetArray())
      if (m.IsObject() && m.HasMember("payload") && m["payload"].IsString())
        bodies.emplace_back(m["payload"].GetString());
  }
  return bodies;
}

void make_queue(const warren::broker_env& broker, const std::string& queue,
                const std::string& definition) {
  auto status =
      warren::mgmt_call(broker, "PUT", "/api/queues/%2F/" + queue, definition);
  REQUIRE_MESSAGE((status == 201 || status == 204),
                  "cannot declare " << queue << ": HTTP " << status);
}

// Polls the management API until it answers; the moment it did.
std::optional<clock_type::time_point> await_management(const warren::broker_env& broker,
                                                       const std::atomic<bool>& stop,
                                                       clock_type::duration limit) {
  auto end = clock_type::now() + limit;
  while (!stop && clock_type::now() < end) {
    if (warren::mgmt_call(broker, "GET", "/api/overview") == 200)
      return clock_type::now();
    std::this_thread::sleep_for(100ms);
  }
  return std::nullopt;
}

} // namespace

TEST_CASE("broker killed mid-load: every request is answered, with errors while it is "
          "down, and warren recovers within 10 s of the broker's return") {
  constexpr std::size_t in_flight = 8;
  constexpr auto deadline = 3000ms;
  auto broker = start_private_broker();
  auto c = launch_at(broker->env(), fault_flags(scenario::broker_killed));
  tracker t{*c};
  auto last_send = clock_type::now() - 1s;
  // Keeps `in_flight` calls going, at most one new one per 10 ms, until `done`.
  auto keep_busy = [&](clock_type::duration at_most, auto done) {
    auto end = clock_type::now() + at_most;
    while (clock_type::now() < end && !done() && !t.ended()) {
      while (t.pending() < in_flight && clock_type::now() - last_send >= 10ms) {
        t.call("list_queues", list_args());
        last_send = clock_type::now();
      }
      t.pump(10ms);
    }
  };
  auto first_ok_after = [&](clock_type::time_point from) {
    std::optional<clock_type::time_point> first;
    for (auto& [id, a] : t.answers())
      if (a.what == answer::kind::ok && a.at >= from && (!first || a.at < *first))
        first = a.at;
    return first;
  };

  auto started = clock_type::now();
  keep_busy(15s, [&] {
    return clock_type::now() - started > 1s && first_ok_after(started).has_value();
  });
  REQUIRE_MESSAGE(first_ok_after(started),
                  "no list_queues succeeded before the kill; " << diag(*c));

  REQUIRE_MESSAGE(!broker->kill(), "cannot kill the broker");
  auto killed = clock_type::now();
  keep_busy(3s, [] { return false; });

  std::atomic<bool> stop_polling{false};
  // A copy: restart() rewrites the broker's env (same values) while this polls.
  auto env = broker->env();
  auto restart_began = clock_type::now();
  auto restarted = std::async(std::launch::async, [&] { return broker->restart(); });
  auto back = std::async(std::launch::async, [&] {
                return await_management(env, stop_polling, 90s);
              }).share();
  keep_busy(90s, [&] {
    return back.wait_for(0s) == std::future_status::ready &&
           (!back.get().has_value() || first_ok_after(*back.get()).has_value());
  });
  stop_polling = true;
  auto restart_error = restarted.get();
  REQUIRE_MESSAGE(!restart_error,
                  "restart failed: " << warren::message_of(restart_error));
  auto back_at = back.get();
  REQUIRE_MESSAGE(back_at, "the management API did not answer within 90 s");
  auto recovered_at = first_ok_after(restart_began);
  t.drain(deadline + slack);

  CHECK_MESSAGE(recovered_at.has_value(),
                "no list_queues succeeded after the broker came back; " << diag(*c));
  if (recovered_at) {
    auto recovery = std::max(clock_type::duration{0}, *recovered_at - *back_at);
    MESSAGE("the broker answered again " << ms(*back_at - restart_began)
                                         << " ms after its restart began; warren's "
                                            "first success came "
                                         << ms(recovery) << " ms later");
    CHECK(recovery < 10s);
  }

  CHECK(still_running(*c));
  check_all_answered_once(t, deadline);
  std::size_t errors_while_down = 0;
  for (auto& [id, a] : t.answers())
    if (a.what != answer::kind::ok && a.at > killed && a.at < restart_began)
      ++errors_while_down;
  CHECK_MESSAGE(errors_while_down > 0, "no call failed while the broker was down");
  CHECK_MESSAGE(t.count(answer::kind::rpc_error) == 0,
                "failures should be tool results (isError), not JSON-RPC errors");
  MESSAGE(t.answers().size() << " calls: " << t.count(answer::kind::ok) << " ok, "
                             << t.count(answer::kind::tool_error) << " tool errors, "
                             << t.count(answer::kind::rpc_error)
                             << " JSON-RPC errors; slowest " << ms(t.max_latency())
                             << " ms");
}

TEST_CASE("broker frozen (SIGSTOP): calls fail at their deadline and warren keeps "
          "serving") {
  constexpr auto deadline = 1500ms;
  constexpr int rounds = 3;
  constexpr int calls_per_round = 30;
  auto broker = start_private_broker();
  auto c = launch_at(broker->env(), fault_flags(scenario::broker_frozen));
  auto pid = c->process().pid();
  REQUIRE_MESSAGE(until_ok(*c, "list_queues", list_args(), 15s),
                  "list_queues never succeeded; " << diag(*c));

  REQUIRE_MESSAGE(!broker->freeze(), "cannot freeze the broker");
  tracker t{*c};
  std::size_t max_threads = 0;
  std::size_t max_rss = 0;
  for (int round = 0; round < rounds; ++round) {
    std::vector<int64_t> ids;
    for (int i = 0; i < calls_per_round; ++i)
      ids.push_back(t.call("list_queues", list_args()));
    t.drain(deadline + slack);
    for (auto id : ids) {
      if (!t.answered(id))
        continue; // reported by check_all_answered_once
      auto& a = t.of(id);
      CHECK_MESSAGE(a.what == answer::kind::tool_error,
                    "a call to a frozen broker did not fail: " << a.msg.text());
      CHECK_MESSAGE(says_deadline_or_unavailable(a.text), a.text);
    }
    auto threads = warren::thread_count(pid);
    auto rss = warren::rss_bytes(pid);
    max_threads = std::max(max_threads, threads);
    max_rss = std::max(max_rss, rss);
    MESSAGE("round " << round + 1 << ": " << threads << " threads, " << rss / 1024
                     << " KiB resident");
  }
  check_all_answered_once(t, deadline);
  CHECK(max_threads > 0);
  CHECK(max_threads < 200);
  CHECK(max_rss < std::size_t{256} * 1024 * 1024);
  CHECK(still_running(*c));

  REQUIRE_MESSAGE(!broker->thaw(), "cannot thaw the broker");
  int attempts = 0;
  auto thawed = clock_type::now();
  auto ok = until_ok(*c, "list_queues", list_args(), 30s, &attempts);
  CHECK_MESSAGE(ok.has_value(),
                "list_queues did not succeed within 30 s of the thaw; " << diag(*c));
  MESSAGE("first success " << ms(clock_type::now() - thawed) << " ms after the thaw, "
                           << attempts << " attempts");
}

TEST_CASE("connections cut mid-response through a proxy: the client gets an error or "
          "a correct answer, never a corrupt one, and the next call succeeds") {
  auto broker = warren::e2e::require_broker();
  auto prefix = unique_name("cut");
  std::set<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    auto queue = prefix + "-" + std::to_string(i);
    make_queue(broker, queue, R"({"durable":false,"arguments":{"x-max-length":1000}})");
    expected.insert(queue);
  }
  struct cleanup {
    const warren::broker_env& b;
    const std::set<std::string>& queues;
    ~cleanup() {
      for (auto& q : queues)
        warren::mgmt_call(b, "DELETE", "/api/queues/%2F/" + q);
    }
  } remove_queues{broker, expected};

  tcp_proxy proxy{broker.management_port};
  auto c = launch_at(management_through(broker, proxy),
                     fault_flags(scenario::cut_mid_response));
  auto before = proxy.bytes_down();
  auto baseline = until_ok(*c, "list_queues", list_args(prefix), 15s);
  REQUIRE_MESSAGE(baseline, "list_queues failed without faults; " << diag(*c));
  REQUIRE(queue_names(baseline->msg) == expected);
  auto response_bytes = static_cast<std::size_t>(proxy.bytes_down() - before);
  REQUIRE(response_bytes > 200);
  MESSAGE("one list answer is " << response_bytes << " bytes on the wire");

  std::size_t errors = 0;
  for (auto cut : {std::size_t{0}, std::size_t{20}, std::size_t{100},
                   response_bytes / 3, response_bytes / 2, response_bytes - 1}) {
    proxy.cut_after(cut);
    auto r = c->call_tool("list_queues", list_args(prefix));
    REQUIRE_MESSAGE(r, "no answer with the link cut after " << cut << " bytes; "
                                                            << diag(*c));
    auto a = classify(*r, clock_type::now());
    CHECK_MESSAGE(a.what != answer::kind::rpc_error, r->text());
    MESSAGE("cut after " << cut << " bytes: "
                         << (a.what == answer::kind::ok ? std::string{"ok"} : a.text));
    if (a.what == answer::kind::ok) {
      CHECK_MESSAGE(queue_names(a.msg) == expected,
                    "a wrong answer after a cut at " << cut << " bytes: " << r->text());
    } else {
      ++errors;
      CHECK_FALSE(a.text.empty());
    }
  }
  CHECK(proxy.cut_connections() > 0);
  CHECK_MESSAGE(errors > 0, "no call failed although every answer was cut");
  CHECK(still_running(*c));

  proxy.pass();
  auto next = c->call_tool("list_queues", list_args(prefix));
  REQUIRE_MESSAGE(next, diag(*c));
  auto a = classify(*next, clock_type::now());
  CHECK_MESSAGE(a.what == answer::kind::ok,
                "the first call after the cuts failed: " << a.text);
  if (a.what == answer::kind::ok)
    CHECK(queue_names(a.msg) == expected);
}

TEST_CASE("a stalled link: calls end at their deadline") {
  constexpr auto deadline = 1500ms;
  auto broker = warren::e2e::require_broker();
  tcp_proxy proxy{broker.management_port};
  auto c =
      launch_at(management_through(broker, proxy), fault_flags(scenario::stalled_link));
  REQUIRE_MESSAGE(until_ok(*c, "list_queues", list_args(), 15s), diag(*c));

  proxy.stall();
  tracker t{*c};
  std::vector<int64_t> ids;
  for (int i = 0; i < 10; ++i)
    ids.push_back(t.call("list_queues", list_args()));
  t.drain(deadline + slack);
  check_all_answered_once(t, deadline);
  for (auto id : ids) {
    if (!t.answered(id))
      continue;
    auto& a = t.of(id);
    CHECK_MESSAGE(a.what == answer::kind::tool_error,
                  "a call over a stalled link did not fail: " << a.msg.text());
    CHECK_MESSAGE(says_deadline_or_unavailable(a.text), a.text);
  }
  CHECK(still_running(*c));

  proxy.pass();
  int attempts = 0;
  CHECK_MESSAGE(until_ok(*c, "list_queues", list_args(), 20s, &attempts),
                "no success within 20 s of the link's return; " << diag(*c));
  MESSAGE("success after the stall at attempt " << attempts);
}

TEST_CASE("a channel closed by the broker is replaced: publishes after a 404 on a "
          "missing exchange succeed") {
  auto broker = warren::e2e::require_broker();
  auto queue = unique_name("channel");
  make_queue(
      broker, queue,
      R"({"durable":true,"arguments":{"x-max-length":1000,"x-message-ttl":600000}})");
  struct cleanup {
    const warren::broker_env& b;
    std::string q;
    ~cleanup() { warren::mgmt_call(b, "DELETE", "/api/queues/%2F/" + q); }
  } remove_queue{broker, queue};
  auto c = launch_at(broker, fault_flags(scenario::channel_closed));
  auto missing = unique_name("no-such-exchange");

  std::vector<std::string> published;
  for (int round = 0; round < 3; ++round) {
    // Several in a row: a pool of channels must not hand out one the broker closed.
    for (int i = 0; i < 3; ++i) {
      auto bad = c->call_tool("publish_message", publish_args(missing, queue, "lost"));
      REQUIRE_MESSAGE(bad, diag(*c));
      auto a = classify(*bad, clock_type::now());
      CHECK_MESSAGE(a.what == answer::kind::tool_error, bad->text());
      CHECK_MESSAGE(mentions_any(a.text, {"not_found", "404", "no exchange"}), a.text);
    }
    for (int i = 0; i < 12; ++i) {
      auto body = "after-close-" + std::to_string(round) + "-" + std::to_string(i);
      auto good = c->call_tool("publish_message", publish_args("", queue, body));
      REQUIRE_MESSAGE(good, diag(*c));
      auto a = classify(*good, clock_type::now());
      CHECK_MESSAGE(a.what == answer::kind::ok,
                    "publish " << i
                               << " after the channel was closed failed: " << a.text);
      if (a.what == answer::kind::ok)
        published.push_back(body);
    }
  }
  auto bodies = drain_queue(broker, queue);
  std::multiset<std::string> stored(bodies.begin(), bodies.end());
  for (auto& body : published)
    CHECK_MESSAGE(stored.count(body) == 1, body << " is not in the queue once");
  CHECK(stored.count("lost") == 0);
  CHECK(bodies.size() == published.size());
}

TEST_CASE("publish under fault: every message warren reported as published is in the "
          "queue after a broker kill and restart") {
  constexpr std::size_t total = 300;
  constexpr std::size_t in_flight = 8;
  constexpr auto deadline = 3000ms;
  auto broker = start_private_broker();
  auto queue = unique_name("durable");
  make_queue(broker->env(), queue, R"({"durable":true})");
  auto c = launch_at(broker->env(), fault_flags(scenario::publish_under_fault));
  tracker t{*c};
  std::map<int64_t, std::string> body_of;
  std::size_t next = 0;
  auto publish_next = [&] {
    auto body = "fault-msg-" + std::to_string(next++);
    body_of[t.call("publish_message", publish_args("", queue, body))] = body;
  };
  auto ok_count = [&] { return t.count(answer::kind::ok); };

  // Before the fault: a third of the messages, 8 at a time.
  while (next < total / 3 && !t.ended()) {
    while (t.pending() < in_flight && next < total / 3)
      publish_next();
    t.pump(20ms);
  }
  REQUIRE_MESSAGE(!broker->kill(), "cannot kill the broker");
  auto killed = clock_type::now();
  // While it is down and coming back: one message every 50 ms.
  auto restarted = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(2s);
    return broker->restart();
  });
  auto last_send = clock_type::now() - 1s;
  while (next < 2 * total / 3 || restarted.wait_for(0s) != std::future_status::ready) {
    if (next < 2 * total / 3 && t.pending() < in_flight &&
        clock_type::now() - last_send >= 50ms) {
      publish_next();
      last_send = clock_type::now();
    }
    t.pump(10ms);
    if (clock_type::now() - killed > 90s || t.ended())
      break;
  }
  auto restart_error = restarted.get();
  REQUIRE_MESSAGE(!restart_error,
                  "restart failed: " << warren::message_of(restart_error));
  // After the restart: one at a time, every 100 ms, until three in a row succeed (the
  // breaker has closed again), then the rest at full speed.
  auto ok_before = ok_count();
  auto back = clock_type::now();
  while (next < total && t.trailing_ok() < 3 && clock_type::now() - back < 20s &&
         !t.ended()) {
    if (t.pending() < 1 && clock_type::now() - last_send >= 100ms) {
      publish_next();
      last_send = clock_type::now();
    }
    t.pump(10ms);
  }
  MESSAGE("publishing went on " << ms(clock_type::now() - back)
                                << " ms after the broker was back");
  while (next < total && !t.ended()) {
    while (t.pending() < in_flight && next < total)
      publish_next();
    t.pump(20ms);
  }
  t.drain(deadline + slack);
  check_all_answered_once(t, deadline);
  CHECK(still_running(*c));

  std::set<std::string> confirmed;
  for (auto& [id, a] : t.answers())
    if (a.what == answer::kind::ok)
      confirmed.insert(body_of.at(id));
  auto bodies = drain_queue(broker->env(), queue);
  std::multiset<std::string> stored(bodies.begin(), bodies.end());
  std::size_t lost = 0;
  for (auto& body : confirmed)
    if (stored.count(body) == 0) {
      ++lost;
      if (lost <= 5)
        MESSAGE("reported published but not in the queue: " << body);
    }
  CHECK_MESSAGE(lost == 0, lost << " of " << confirmed.size()
                                << " confirmed messages are missing");
  CHECK_MESSAGE(confirmed.size() > total / 3,
                "too few publishes succeeded to judge: " << confirmed.size());
  CHECK_MESSAGE(ok_count() > ok_before, "no publish succeeded after the restart");
  std::size_t failed = t.answers().size() - confirmed.size();
  CHECK_MESSAGE(failed > 0, "no publish failed while the broker was down");
  std::set<std::string> distinct(bodies.begin(), bodies.end());
  std::size_t unreported = 0;
  for (auto& body : distinct)
    if (confirmed.count(body) == 0)
      ++unreported;
  MESSAGE(confirmed.size() << " confirmed, " << failed << " failed, " << bodies.size()
                           << " in the queue (" << bodies.size() - distinct.size()
                           << " duplicates, " << unreported
                           << " stored though not reported published); failures:\n"
                           << t.error_summary());
}

TEST_CASE("overload: 10x more concurrent requests than the pool allows: memory stays "
          "bounded, answers follow the pool policy, nothing hangs") {
  constexpr int requests = 200;
  constexpr auto deadline = 10000ms;
  auto broker = warren::e2e::require_broker();
  tcp_proxy proxy{broker.management_port};
  auto c =
      launch_at(management_through(broker, proxy), fault_flags(scenario::overload));
  auto pid = c->process().pid();
  REQUIRE_MESSAGE(until_ok(*c, "list_queues", list_args(), 15s), diag(*c));

  // Both pool connections stall while the requests pile up, then the link comes back.
  proxy.stall();
  tracker t{*c};
  // Each asks for another name: identical reads in flight would share one fetch.
  for (int i = 0; i < requests; ++i)
    t.call("list_queues", list_args("overload-" + std::to_string(i)));
  auto stalled_until = clock_type::now() + 1s;
  while (clock_type::now() < stalled_until)
    t.pump(20ms);
  auto threads = warren::thread_count(pid);
  auto rss = warren::rss_bytes(pid);
  proxy.pass();
  t.drain(deadline + slack);

  check_all_answered_once(t, deadline);
  CHECK(still_running(*c));
  CHECK(threads < 200);
  CHECK(rss < std::size_t{256} * 1024 * 1024);
  std::size_t overloaded = 0;
  for (auto& [id, a] : t.answers()) {
    if (a.what == answer::kind::ok)
      continue;
    CHECK_MESSAGE(a.what == answer::kind::tool_error, a.msg.text());
    if (a.what == answer::kind::tool_error &&
        mentions_any(a.text, {"saturated", "busy", "overload", "too many"}))
      ++overloaded;
    else
      CHECK_MESSAGE(says_deadline_or_unavailable(a.text), a.text);
  }
  if (overload_policy == "fail_fast")
    CHECK_MESSAGE(overloaded > 0, "fail_fast refused nothing with 200 requests on 2 "
                                  "stalled connections");
  else
    CHECK(t.count(answer::kind::ok) > 0);
  MESSAGE("policy " << overload_policy << ": " << t.count(answer::kind::ok) << " ok, "
                    << overloaded << " refused as overloaded, "
                    << t.count(answer::kind::tool_error) - overloaded
                    << " other errors; " << threads << " threads, " << rss / 1024
                    << " KiB resident while stalled; peak "
                    << c->process().peak_rss_bytes() / 1024 << " KiB");
}
