// The operator's side against a real broker: Prometheus metrics scraped during a
// session, the introspection console, and the JSON logs.

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "tests/integration/launch.hpp"
#include "tests/kit/broker_env.hpp"
#include "tests/kit/loopback.hpp"
#include "tests/kit/subprocess.hpp"
#include "tests/kit/tcp_proxy.hpp"

namespace {

using namespace warren;
using namespace warren::e2e;

// A port nobody listens on now (the kernel's choice; released for warren to take).
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto addr = loopback(0);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string temp_socket_path() {
  char dir[] = "/tmp/warren-console-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  return std::string{dir} + "/console.sock";
}

// Runs `warren <args>` to its end; returns its exit code, stdout and stderr.
struct run_result {
  int code = -1;
  std::string out;
  std::string err;
};

run_result run_warren(std::vector<std::string> args) {
  std::vector<std::string> argv{warren_binary_path(WARREN_BINARY)};
  argv.insert(argv.end(), args.begin(), args.end());
  auto p = subprocess::spawn(argv, {});
  REQUIRE(p);
  auto& child = **p;
  run_result r;
  while (auto line = child.read_line(std::chrono::seconds{20}))
    r.out += *line + "\n";
  r.code = child.wait(std::chrono::seconds{20}).value_or(-1);
  r.err = child.stderr_text();
  return r;
}

run_result console(const std::string& socket, const std::string& command) {
  return run_warren({"console", "--socket", socket, "-c", command});
}

// GET /metrics over plain HTTP/1.0.
std::string scrape(uint16_t port) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    auto addr = loopback(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      std::string req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
      (void)!::write(fd, req.data(), req.size());
      std::string body;
      char buf[65536];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof(buf))) > 0)
        body.append(buf, static_cast<std::size_t>(n));
      ::close(fd);
      return body;
    }
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  return {};
}

// The value of the sample whose name and labels are exactly `series`; -1 if absent.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, series.size(), series) == 0 && line.size() > series.size() &&
        line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  return -1;
}

bool has_family(const std::string& text, const std::string& name) {
  return text.find("# TYPE " + name + " ") != std::string::npos;
}

} // namespace

TEST_CASE("metrics: a scrape during a session has every family, and the figures move "
          "with what the session does") {
  auto port = free_port();
  auto socket = temp_socket_path();
  auto c = launch(
      {"--metrics", "127.0.0.1:" + std::to_string(port), "--console-socket", socket});
  initialized(*c);
  REQUIRE(c->call_tool("list_queues"));
  auto before = scrape(port);
  REQUIRE_MESSAGE(!before.empty(), diagnostics(*c));
  for (const char* family : {"warren_requests_total",
                             "warren_request_duration_seconds",
                             "warren_requests_in_flight",
                             "warren_cache_hits_total",
                             "warren_cache_misses_total",
                             "warren_cache_evictions_total",
                             "warren_cache_expirations_total",
                             "warren_cache_entries",
                             "warren_cache_bytes",
                             "warren_cache_hit_ratio",
                             "warren_pool_connections",
                             "warren_pool_waiting",
                             "warren_pool_exhausted_total",
                             "warren_pool_wait_seconds_total",
                             "warren_pool_connections_opened_total",
                             "warren_pool_connections_reused_total",
                             "warren_breaker_state",
                             "warren_breaker_transitions_total",
                             "warren_breaker_rejected_total",
                             "warren_retry_attempts_total",
                             "warren_retry_budget_exhausted_total",
                             "warren_actors",
                             "warren_actor_mailbox_max",
                             "warren_actor_mailbox_sum",
                             "warren_actor_restarts_total",
                             "process_resident_memory_bytes",
                             "process_cpu_seconds_total",
                             "process_open_fds"})
    CHECK_MESSAGE(has_family(before, family), family);
  const std::string hits = R"(warren_cache_hits_total{backend="l1"})";
  const std::string calls =
      R"(warren_requests_total{method="tools/call",tool="list_queues",outcome="ok"})";
  CHECK(sample(before, calls) == 1);
  auto hits_before = sample(before, hits);
  REQUIRE(hits_before >= 0);

  // The second list comes from the cache.
  REQUIRE(c->call_tool("list_queues"));
  auto after = scrape(port);
  CHECK(sample(after, hits) == hits_before + 1);
  CHECK(sample(after, calls) == 2);
  CHECK(sample(after, R"(warren_request_duration_seconds_count{tool="list_queues"})") ==
        2);
  CHECK(sample(after, R"(warren_actors{kind="cache_shard"})") >= 4);
  CHECK(sample(after, "process_resident_memory_bytes") > 1e6);

  // A trip by the operator shows in the breaker's state gauge.
  const std::string state = R"(warren_breaker_state{backend="management API"})";
  CHECK(sample(after, state) == 0);
  auto trip = console(socket, "breaker trip management");
  CHECK_MESSAGE(trip.code == 0, trip.err);
  auto tripped = scrape(port);
  CHECK(sample(tripped, state) == 1);
  CHECK(console(socket, "breaker reset management").code == 0);
  CHECK(sample(scrape(port), state) == 0);
}

TEST_CASE("console: tree lists the session, dispatcher, cache shards, pools and "
          "breakers, and config set changes the TTL the next request uses") {
  auto socket = temp_socket_path();
  auto c = launch({"--console-socket", socket});
  initialized(*c);
  auto tree = console(socket, "tree");
  REQUIRE_MESSAGE(tree.code == 0, tree.err, diagnostics(*c));
  for (const char* kind :
       {"session", "dispatcher", "cache_shard", "pool", "breaker", "supervisor"})
    CHECK_MESSAGE(tree.out.find(kind) != std::string::npos, kind, tree.out);
  auto json = console(socket, "tree --json");
  rapidjson::Document doc;
  REQUIRE_FALSE(doc.Parse(json.out.c_str()).HasParseError());
  CHECK(std::string{doc["kind"].GetString()} == "process");

  // With the TTL at 0 nothing more is kept: the next two lists both miss.
  auto stats = [&] {
    auto r = console(socket, "cache stats --json");
    rapidjson::Document d;
    REQUIRE_FALSE(d.Parse(r.out.c_str()).HasParseError());
    double hits = 0;
    for (auto& shard : d.GetArray())
      hits += shard["figures"]["hits"].GetDouble();
    return hits;
  };
  auto set = console(socket, "config set cache.ttl_lists 0");
  REQUIRE_MESSAGE(set.code == 0, set.err);
  CHECK(console(socket, "config get cache.ttl_lists").out == "0\n");
  auto hits = stats();
  REQUIRE(c->call_tool("list_queues"));
  REQUIRE(c->call_tool("list_queues"));
  CHECK(stats() == hits);
  // And back at 60 s the second list is a hit again.
  REQUIRE(console(socket, "config set cache.ttl_lists 60").code == 0);
  REQUIRE(c->call_tool("list_queues"));
  REQUIRE(c->call_tool("list_queues"));
  CHECK(stats() == hits + 1);
}

TEST_CASE("console: a bad config set is refused naming the key, and a key that only "
          "applies at start says so") {
  auto socket = temp_socket_path();
  auto c = launch({"--console-socket", socket});
  initialized(*c);
  auto bad = console(socket, "config set cache.ttl_lists soon");
  CHECK(bad.code == 1);
  CHECK_MESSAGE(bad.err.find("cache.ttl_lists") != std::string::npos, bad.err);
  auto fixed = console(socket, "config set rabbitmq.url amqp://elsewhere");
  CHECK(fixed.code == 1);
  CHECK(fixed.err.find("only at start") != std::string::npos);
  CHECK(console(socket, "config get cache.ttl_lists").out == "60\n");
  // The session goes on serving.
  CHECK(c->call_tool("list_queues"));
}

TEST_CASE("console: the socket is mode 0600 and another user cannot connect") {
  auto socket = temp_socket_path();
  auto c = launch({"--console-socket", socket});
  initialized(*c);
  auto perms = std::filesystem::status(socket).permissions();
  CHECK(perms ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  if (::geteuid() != 0) {
    MESSAGE("not root: cannot become a second user to try the socket");
    return;
  }
  // Let the other user reach the directory, so that only the socket's mode stops it.
  std::filesystem::permissions(std::filesystem::path{socket}.parent_path(),
                               std::filesystem::perms::all);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0)
      ::_exit(100);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket.c_str());
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::_exit(rc == 0 ? 0 : (errno == EACCES ? 13 : 1));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 13); // EACCES
  // The owner still can.
  CHECK(console(socket, "help").code == 0);
}

TEST_CASE("logs: one tool call's log lines all carry its correlation id, and no line "
          "holds the broker password") {
  auto broker = load_broker_env();
  REQUIRE(broker);
  // A user of its own with a password that appears nowhere else.
  const std::string user = "warren-log-test";
  const std::string password = "pw-Log7-unlikely-string";
  REQUIRE(mgmt_call(*broker, "PUT", "/api/users/" + user,
                    R"({"password":")" + password + R"(","tags":"administrator"})") /
              100 ==
          2);
  REQUIRE(mgmt_call(*broker, "PUT", "/api/permissions/%2F/" + user,
                    R"({"configure":".*","write":".*","read":".*"})") /
              100 ==
          2);
  auto as_user = *broker;
  as_user.user = user;
  as_user.password = password;
  auto at = as_user.amqp_url.find('@');
  as_user.amqp_url = "amqp://" + user + ":" + password + as_user.amqp_url.substr(at);
  mcp_client_options opts;
  opts.binary = warren_binary_path(WARREN_BINARY);
  opts.broker = as_user;
  opts.args = {"--log-level", "debug"};
  auto started = mcp_client::start(opts);
  REQUIRE(started);
  auto& c = **started;
  initialized(c);
  auto answer = c.call_tool("list_queues");
  REQUIRE(answer);
  auto* is_error = answer->at("/result/isError");
  CHECK((is_error == nullptr || is_error->IsFalse()));
  c.close_stdin();
  c.drain_until_eof(std::chrono::seconds{10});
  c.process().wait(std::chrono::seconds{10});
  auto log = c.process().stderr_text();
  mgmt_call(*broker, "DELETE", "/api/users/" + user);

  CHECK_MESSAGE(log.find(password) == std::string::npos, log);
  std::istringstream lines{log};
  std::string line;
  std::map<std::string, int> by_corr;
  int total = 0;
  while (std::getline(lines, line)) {
    rapidjson::Document d;
    REQUIRE_MESSAGE(!d.Parse(line.c_str()).HasParseError(), line);
    ++total;
    if (d.HasMember("corr"))
      ++by_corr[d["corr"].GetString()];
  }
  CHECK(total > 3);
  // One call, one id: the session's and the dispatcher's lines for it.
  REQUIRE(by_corr.size() == 1);
  CHECK(by_corr.begin()->second >= 4);
}

TEST_CASE("metrics: with the cache off, identical lists asked at once share fetches, "
          "and every answer was fetched after it was asked") {
  auto broker = require_broker();
  tcp_proxy proxy{broker.management_port};
  auto port = free_port();
  mcp_client_options opts;
  opts.broker = broker;
  opts.broker->management_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  opts.args = {"--cache-ttl-lists", "0", "--metrics",
               "127.0.0.1:" + std::to_string(port)};
  auto c = start(std::move(opts));
  initialized(*c);
  auto queue = unique_name("fresh");
  auto call =
      R"({"name":"list_queues","arguments":{"vhost":"/","name":")" + queue + "\"}}";
  REQUIRE(c->request("tools/call", call)); // one fetch
  const std::string joins = R"(warren_cache_joins_total{backend="l1"})";
  const std::string misses = R"(warren_cache_misses_total{backend="l1"})";
  auto joins_reach = [&](double n) {
    for (int i = 0; i < 100; ++i) {
      if (sample(scrape(port), joins) == n)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    return false;
  };

  // The management API holds the first of 8 lists: the other 7 queue behind it.
  proxy.stall();
  std::vector<int64_t> early, late;
  for (int i = 0; i < 8; ++i)
    early.push_back(c->send_request("tools/call", call));
  REQUIRE_MESSAGE(joins_reach(7), diagnostics(*c));
  // A queue made behind warren's back, then 8 more lists: they must see it.
  REQUIRE(mgmt_call(broker, "PUT", "/api/queues/%2F/" + queue, R"({"durable":false})") /
              100 ==
          2);
  for (int i = 0; i < 8; ++i)
    late.push_back(c->send_request("tools/call", call));
  REQUIRE_MESSAGE(joins_reach(15), diagnostics(*c));
  proxy.pass();

  for (auto id : early) {
    auto r = c->await_response(id);
    REQUIRE(r);
    CHECK_FALSE(r->text().find("\"isError\":true") != std::string::npos);
  }
  for (auto id : late) {
    auto r = c->await_response(id);
    REQUIRE(r);
    CHECK_MESSAGE(r->text().find(queue) != std::string::npos, r->text());
  }
  // 17 lists, 3 fetches: the first, the held one, and one for the 15 queued behind
  // it (which began after they all asked).
  auto after = scrape(port);
  CHECK(sample(after, misses) == 17);
  CHECK(sample(after, misses) - sample(after, joins) == 3);
  mgmt_call(broker, "DELETE", "/api/queues/%2F/" + queue);
}
