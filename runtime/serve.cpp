#include "runtime/serve.hpp"

#include <memory>
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
#include "runtime/services.hpp"
#include "runtime/signals.hpp"
#include "runtime/stdio_transport.hpp"

namespace warren {

int serve_stdio(const settings& cfg) {
  signal_watcher signals; // before any other thread exists
  service_tree tree{cfg};
  if (auto err = tree.start()) {
    spdlog::error("{}", message_of(err));
    return code_of(err) == ec::invalid_config ? 2 : 1;
  }
  auto& sys = tree.system();
  auto catalog = tree.catalog();
  auto root = tree.root();
  auto shard_names = tree.shard_names();

  credit_gate gate{cfg.max_in_flight};
  line_writer writer{STDOUT_FILENO};
  session_config session_cfg;
  session_cfg.info.tools_page_size = cfg.tools_page_size;
  session_cfg.request_timeout = cfg.request_timeout;
  session_cfg.batch_timeout = cfg.batch_timeout;
  session_cfg.client_sets_stderr_level = true; // this process serves one client
  session_cfg.shutdown_grace = cfg.shutdown_grace;
  session_cfg.max_line_bytes = cfg.max_line_bytes;
  session_cfg.reporter = registry_lookup<reporter_actor>(sys, service_name::reporter);
  auto client = sys.spawn(
      session, catalog, std::make_shared<stdio_output>(writer, gate),
      registry_lookup<dispatcher_actor>(sys, service_name::dispatcher), session_cfg);
  line_reader reader{STDIN_FILENO, signals.fd(), cfg.max_line_bytes, gate, client};
  // The operator's side: the console and the metrics endpoint, when asked for.
  control_targets targets;
  targets.root = root;
  targets.sessions = [client] {
    return std::vector<caf::actor>{caf::actor_cast<caf::actor>(client)};
  };
  targets.shards = shard_names;
  targets.warm = [&tree] { tree.warm(); };
  auto control = std::make_shared<control_plane>(sys, cfg, std::move(targets));
  std::unique_ptr<console_server> console;
  std::unique_ptr<prometheus::Exposer> exposer;
  auto stop_operator_side = [&] {
    if (console)
      console->stop();
    exposer.reset();
  };
  if (!cfg.console_socket.empty()) {
    console = std::make_unique<console_server>(cfg.console_socket, *control);
    if (auto err = console->start()) {
      spdlog::error("{}", message_of(err));
      tree.stop();
      return 2;
    }
  }
  if (!cfg.metrics.empty()) {
    try {
      exposer = std::make_unique<prometheus::Exposer>(cfg.metrics);
      exposer->RegisterCollectable(control);
      spdlog::info("metrics at http://{}/metrics", cfg.metrics);
    } catch (const std::exception& e) {
      spdlog::error("server.metrics: cannot listen on {}: {}", cfg.metrics, e.what());
      stop_operator_side();
      tree.stop();
      return 2;
    }
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
  stop_operator_side();
  tree.stop();
  return exit_code;
}

} // namespace warren
