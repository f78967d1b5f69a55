// Scale-out: three warren instances behind nginx (the configuration
// scripts/nginx-config prints), sharing one broker and one Redis L2. Each session
// sticks to its instance by the prefix of its id; a queue created through one instance
// is listed through another at once; when an instance dies, its agents get 404,
// initialize again and go on with a live instance.

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>
#include <sys/socket.h>

#include "protocol/error.hpp"
#include "tests/integration/launch.hpp"
#include "tests/kit/broker_env.hpp"
#include "tests/kit/http_probe.hpp"
#include "tests/kit/loopback.hpp"
#include "tests/kit/redis_env.hpp"
#include "tests/kit/subprocess.hpp"

using namespace std::chrono_literals;
using warren::e2e::unique_name;

namespace {

// A free loopback port (bound once, then closed: nginx takes it right after).
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  auto addr = warren::loopback(0);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string nginx_binary() {
  return std::filesystem::exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
}

// An MCP agent talking to the balancer: it keeps its session id and starts a new
// session when the balancer answers 404.
struct agent {
  warren::http_probe probe;
  std::string session;
  int next_id = 1;

  explicit agent(uint16_t port) : probe("127.0.0.1", port) {}

  warren::http_fields headers() const {
    warren::http_fields h{{"Content-Type", "application/json"},
                          {"Accept", "application/json, text/event-stream"},
                          {"MCP-Protocol-Version", "2025-11-25"}};
    if (!session.empty())
      h.emplace_back("Mcp-Session-Id", session);
    return h;
  }

  warren::http_probe_response post(const std::string& body) {
    auto r = probe.send("POST", "/mcp", headers(), body);
    REQUIRE_MESSAGE(r, warren::message_of(r.error()));
    return *r;
  }

  void initialize() {
    session.clear();
    auto r = post(
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"scale-out","version":"1"}}})");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto id = r.header("Mcp-Session-Id");
    REQUIRE(id);
    session = *id;
    CHECK(post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})").status ==
          202);
  }

  /// The instance holding the session: the "wN-" prefix of its id.
  std::string instance() const { return session.substr(0, session.find('-') + 1); }

  warren::http_probe_response call(const std::string& tool, const std::string& args) {
    return post(R"({"jsonrpc":"2.0","id":)" + std::to_string(next_id++) +
                R"(,"method":"tools/call","params":{"name":")" + tool +
                R"(","arguments":)" + args + "}}");
  }

  bool lists(const std::string& queue) {
    auto r = call("list_queues", R"({"vhost":"/","name":")" + queue + "\"}");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    REQUIRE_MESSAGE(r.body.find(R"("isError":false)") != std::string::npos, r.body);
    return r.body.find("\\\"name\\\":\\\"" + queue + "\\\"") != std::string::npos;
  }
};

struct cluster {
  std::vector<warren::http_warren> instances;
  std::unique_ptr<warren::subprocess> nginx;
  std::string dir;
  uint16_t port = 0;

  cluster(const warren::broker_env& broker, const std::string& redis_url) {
    port = free_port();
    auto balancer = "127.0.0.1:" + std::to_string(port);
    std::vector<std::string> config_cmd{
        std::string{WARREN_SOURCE_DIR} + "/scripts/nginx-config", "--listen", balancer};
    dir = (std::filesystem::temp_directory_path() /
           ("warren-scale-out-" + std::to_string(::getpid())))
              .string();
    std::filesystem::create_directories(dir);
    config_cmd.insert(config_cmd.end(), {"--dir", dir});
    if (::geteuid() == 0)
      config_cmd.insert(config_cmd.end(), {"--user", "root"});
    for (int n = 1; n <= 3; ++n) {
      warren::http_warren_options opts;
      opts.binary = warren::warren_binary_path(WARREN_BINARY);
      opts.broker = broker;
      opts.args = {"--allow-writes",
                   "--http-session-prefix",
                   "w" + std::to_string(n) + "-",
                   "--http-allowed-hosts",
                   balancer,
                   "--cache-backend",
                   "redis",
                   "--redis-url",
                   redis_url};
      auto w = warren::start_http_warren(opts);
      REQUIRE_MESSAGE(w, warren::message_of(w.error()));
      config_cmd.push_back("127.0.0.1:" + std::to_string(w->port));
      instances.push_back(std::move(*w));
    }
    auto gen = warren::subprocess::spawn(config_cmd);
    REQUIRE(gen);
    std::string config;
    while (auto line = (*gen)->read_line(5s))
      config += *line + "\n";
    REQUIRE((*gen)->wait(10s) == 0);
    auto path = dir + "/nginx.conf";
    std::ofstream{path} << config;
    auto started =
        // One process, in the foreground: nothing outlives the test.
        warren::subprocess::spawn(
            {nginx_binary(), "-c", path, "-g", "daemon off; master_process off;"});
    REQUIRE_MESSAGE(started, warren::message_of(started.error()));
    nginx = std::move(*started);
    // nginx listens once it has read its configuration.
    warren::http_probe health{"127.0.0.1", port};
    bool up = false;
    for (int i = 0; i < 100 && !up; ++i) {
      up = !health.connect(100ms); // no error: connected
      if (!up)
        std::this_thread::sleep_for(50ms);
    }
    REQUIRE_MESSAGE(up, "nginx did not listen: " << nginx->stderr_text());
  }

  ~cluster() {
    if (nginx) {
      ::kill(nginx->pid(), SIGTERM);
      nginx->wait(std::chrono::seconds{10});
    }
    nginx.reset();
    instances.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  warren::http_warren& holding(const agent& a) {
    auto n = std::stoi(a.instance().substr(1));
    return instances.at(static_cast<std::size_t>(n - 1));
  }
};

} // namespace

TEST_CASE("HTTP scale-out: behind nginx, a queue created through one instance is "
          "listed through another, and agents of a killed instance start over on a "
          "live one") {
  auto broker = warren::e2e::require_broker();
  auto redis_url = warren::load_redis_url();
  REQUIRE_MESSAGE(redis_url, "no test redis: set WARREN_TEST_REDIS_ENV");
  cluster c{broker, *redis_url};

  // Initializes are spread over the instances: three agents, three instances.
  agent a{c.port}, b{c.port}, d{c.port};
  a.initialize();
  b.initialize();
  d.initialize();
  CHECK(a.instance() != b.instance());
  CHECK(b.instance() != d.instance());
  CHECK(a.instance() != d.instance());

  // B has the list cached; A creates a queue; B sees it at once.
  auto queue = unique_name("scale");
  CHECK_FALSE(b.lists(queue));
  auto created = a.call("create_queue", R"({"vhost":"/","name":")" + queue + "\"}");
  REQUIRE_MESSAGE(created.status == 200, created.body);
  REQUIRE_MESSAGE(created.body.find(R"("isError":false)") != std::string::npos,
                  created.body);
  auto answered = std::chrono::steady_clock::now();
  bool seen = false;
  auto waited = 0ms;
  while (!seen && waited < 5s) {
    seen = b.lists(queue);
    if (!seen)
      std::this_thread::sleep_for(10ms); // under the session's rate limit
    waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - answered);
  }
  REQUIRE(seen);
  MESSAGE("listed through another instance " << waited.count()
                                             << " ms after the create was answered");
  CHECK(waited <= 200ms);

  // A's instance dies: its next request is a 404, a new session goes to a live one.
  auto& victim = c.holding(a);
  auto dead = a.instance();
  ::kill(victim.process->pid(), SIGKILL);
  victim.process->wait(10s);
  auto gone = a.call("list_queues", R"({"vhost":"/"})");
  CHECK(gone.status == 404);
  a.initialize();
  CHECK(a.instance() != dead);
  CHECK(a.lists(queue));
  // The agents of the other instances never noticed.
  CHECK(b.lists(queue));
  CHECK(d.lists(queue));

  auto deleted = b.call("delete_queue", R"({"vhost":"/","name":")" + queue + "\"}");
  CHECK(deleted.status == 200);
}
