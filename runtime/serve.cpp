#include "runtime/serve.hpp"

#include <fstream>
#include <memory>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <prometheus/exposer.h>
#include <spdlog/spdlog.h>

#include "actors/interfaces.hpp"
#include "actors/reporter.hpp"
#include "actors/session.hpp"
#include "protocol/error.hpp"
#include "runtime/console_server.hpp"
#include "runtime/control.hpp"
#include "runtime/http_server.hpp"
#include "runtime/services.hpp"
#include "runtime/signals.hpp"
#include "runtime/stdio_transport.hpp"

namespace warren {

namespace {

/// The operator's side of a running warren: the console and the metrics endpoint,
/// when the settings ask for them. Both run outside the actor tree, on their own
/// threads, and see it through the control plane.
class operator_side {
public:
  operator_side(service_tree& tree, const settings& cfg,
                std::function<std::vector<caf::actor>()> sessions)
      : cfg_(cfg) {
    control_targets targets;
    targets.root = tree.root();
    targets.sessions = std::move(sessions);
    targets.shards = tree.shard_names();
    targets.warm = [&tree] { tree.warm(); };
    control_ = std::make_shared<control_plane>(tree.system(), cfg, std::move(targets));
  }
  ~operator_side() { stop(); }

  /// False when a listener cannot start (it said why).
  bool start() {
    if (!cfg_.console_socket.empty()) {
      console_ = std::make_unique<console_server>(cfg_.console_socket, *control_);
      if (auto err = console_->start()) {
        spdlog::error("{}", message_of(err));
        return false;
      }
    }
    if (!cfg_.metrics.empty()) {
      try {
        exposer_ = std::make_unique<prometheus::Exposer>(cfg_.metrics);
        exposer_->RegisterCollectable(control_);
        spdlog::info("metrics at http://{}/metrics", cfg_.metrics);
      } catch (const std::exception& e) {
        spdlog::error("server.metrics: cannot listen on {}: {}", cfg_.metrics,
                      e.what());
        return false;
      }
    }
    return true;
  }

  void stop() {
    if (console_)
      console_->stop();
    exposer_.reset();
  }

private:
  const settings& cfg_;
  std::shared_ptr<control_plane> control_;
  std::unique_ptr<console_server> console_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

session_config session_config_of(const settings& cfg, caf::actor_system& sys) {
  session_config session_cfg;
  session_cfg.info.tools_page_size = cfg.tools_page_size;
  session_cfg.request_timeout = cfg.request_timeout;
  session_cfg.batch_timeout = cfg.batch_timeout;
  session_cfg.shutdown_grace = cfg.shutdown_grace;
  session_cfg.max_line_bytes = cfg.max_line_bytes;
  session_cfg.reporter = registry_lookup<reporter_actor>(sys, service_name::reporter);
  if (cfg.conformance_fixtures)
    session_cfg.fixtures = std::make_shared<const mcp_fixtures>();
  return session_cfg;
}

// Readiness: both backends' breakers answer and are not open. A Redis L2 that is
// down is no reason: warren serves from its own cache and the broker then.
std::string readiness(caf::actor_system& sys) {
  caf::scoped_actor self{sys};
  std::pair<caf::atom_value, const char*> breakers[] = {
      {service_name::mgmt, "management API"}, {service_name::amqp, "AMQP"}};
  for (auto [name, what] : breakers) {
    auto breaker = caf::actor_cast<caf::actor>(sys.registry().get(name));
    if (!breaker)
      return std::string{what} + " backend is restarting";
    std::string reason;
    self->request(breaker, std::chrono::milliseconds{500}, status_atom::value)
        .receive(
            [&](actor_status& s) {
              if (s.state.rfind("open", 0) == 0)
                reason = std::string{what} + " circuit breaker is " + s.state;
            },
            [&](caf::error&) {
              reason = std::string{what} + " circuit breaker did not answer";
            });
    if (!reason.empty())
      return reason;
  }
  return {};
}

// Each HTTP session holds a socket: lift the soft limit on open files to the hard one.
void raise_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Hosts and origins are compared without case; the allow-list holds them lower case.
std::vector<std::string> lower_list(const std::string& text) {
  auto items = setting_list(text);
  for (auto& item : items)
    for (auto& c : item)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return items;
}

// The bearer token: http.token, else the first line of http.token_file.
caf::expected<std::string> http_token_of(const settings& cfg) {
  if (!cfg.http_token.empty() || cfg.http_token_file.empty())
    return cfg.http_token;
  std::ifstream in{cfg.http_token_file};
  std::string token;
  if (!in || !std::getline(in, token))
    return make_error(ec::invalid_config,
                      "http.token_file: cannot read " + cfg.http_token_file);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  if (token.empty())
    return make_error(ec::invalid_config, "http.token_file: the first line of " +
                                              cfg.http_token_file +
                                              " is empty; it must hold the token");
  return token;
}

caf::expected<http_server_config> http_config_of(const settings& cfg) {
  http_server_config hc;
  auto colon = cfg.http_listen.rfind(':');
  hc.host = cfg.http_listen.substr(0, colon);
  hc.port = static_cast<uint16_t>(std::stoul(cfg.http_listen.substr(colon + 1)));
  auto token = http_token_of(cfg);
  if (!token)
    return token.error();
  hc.token = std::move(*token);
  hc.allowed = default_allow_list(hc.host, hc.port);
  for (auto& host : lower_list(cfg.http_allowed_hosts))
    hc.allowed.hosts.push_back(host);
  for (auto& origin : lower_list(cfg.http_allowed_origins))
    hc.allowed.origins.push_back(origin);
  hc.max_body_bytes = cfg.max_line_bytes;
  hc.max_in_flight = cfg.max_in_flight;
  hc.max_sessions = cfg.http_max_sessions;
  hc.session_idle = cfg.http_session_idle;
  hc.rate_session = static_cast<double>(cfg.http_rate_session);
  hc.rate_global = static_cast<double>(cfg.http_rate_global);
  hc.threads = cfg.http_threads;
  hc.session_prefix = cfg.http_session_prefix;
  return hc;
}

int exit_code_of(const caf::error& err) {
  spdlog::error("{}", message_of(err));
  return code_of(err) == ec::invalid_config ? 2 : 1;
}

} // namespace

int serve(const settings& cfg) {
  return cfg.http_listen.empty() ? serve_stdio(cfg) : serve_http(cfg);
}

int serve_stdio(const settings& cfg) {
  signal_watcher signals; // before any other thread exists
  service_tree tree{cfg};
  if (auto err = tree.start())
    return exit_code_of(err);
  auto& sys = tree.system();

  credit_gate gate{cfg.max_in_flight};
  line_writer writer{STDOUT_FILENO};
  auto session_cfg = session_config_of(cfg, sys);
  session_cfg.client_sets_stderr_level = true; // this process serves one client
  auto client = sys.spawn(
      session, tree.catalog(), std::make_shared<stdio_output>(writer, gate),
      registry_lookup<dispatcher_actor>(sys, service_name::dispatcher), session_cfg);
  line_reader reader{STDIN_FILENO, signals.fd(), cfg.max_line_bytes, gate, client};
  operator_side ops{tree, cfg, [client] {
                      return std::vector<caf::actor>{
                          caf::actor_cast<caf::actor>(client)};
                    }};
  if (!ops.start()) {
    ops.stop();
    tree.stop();
    return 2;
  }
  tree.warm();
  spdlog::info("warren serving MCP on stdio (management API at {}:{})",
               cfg.management.host, cfg.management.port);
  reader.start();

  int exit_code = 0;
  {
    caf::scoped_actor waiter{sys};
    waiter->monitor(client);
    waiter->receive([&](caf::down_msg& msg) {
      if (msg.reason && msg.reason != caf::exit_reason::normal) {
        spdlog::error("the session ended abnormally: {}", sys.render(msg.reason));
        exit_code = 1;
      }
    });
  }
  gate.close(); // a reader blocked on credit must not wait for a session that is gone
  reader.join();
  writer.close();
  if (signals.received() != 0)
    spdlog::info("stopped by signal {}", signals.received());
  ops.stop();
  tree.stop();
  return exit_code;
}

int serve_http(const settings& cfg) {
  signal_watcher signals; // before any other thread exists
  auto http_cfg = http_config_of(cfg);
  if (!http_cfg)
    return exit_code_of(http_cfg.error());
  raise_file_limit();
  service_tree tree{cfg};
  if (auto err = tree.start())
    return exit_code_of(err);
  auto& sys = tree.system();
  auto session_cfg = session_config_of(cfg, sys);
  session_cfg.transport = "http";
  auto catalog = tree.catalog();
  auto dispatcher = registry_lookup<dispatcher_actor>(sys, service_name::dispatcher);
  http_server server{sys, *http_cfg,
                     [&sys, catalog, dispatcher,
                      session_cfg](std::shared_ptr<http_session_output> out) {
                       return session_actor{sys.spawn(session, catalog, std::move(out),
                                                      dispatcher, session_cfg)};
                     },
                     [&sys] { return readiness(sys); }};
  operator_side ops{tree, cfg, [&server] { return server.sessions(); }};
  if (auto err = server.start()) {
    tree.stop();
    return exit_code_of(err);
  }
  if (!ops.start()) {
    server.stop(std::chrono::milliseconds{0});
    ops.stop();
    tree.stop();
    return 2;
  }
  tree.warm();
  spdlog::info("warren serving MCP at http://{}:{}/mcp{} (management API at {}:{})",
               http_cfg->host, server.port(),
               http_cfg->token.empty() ? "" : ", bearer token required",
               cfg.management.host, cfg.management.port);
  // Serve until a stop signal.
  pollfd wake{signals.fd(), POLLIN, 0};
  while (poll(&wake, 1, -1) < 0 && errno == EINTR) {
  }
  spdlog::info("stopped by signal {}; answering the calls in flight",
               signals.received());
  server.stop(cfg.shutdown_grace + std::chrono::seconds{1});
  ops.stop();
  tree.stop();
  return 0;
}

} // namespace warren
