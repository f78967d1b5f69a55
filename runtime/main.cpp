// warren: an MCP server for RabbitMQ.

#include <iostream>

#include "config/command_line.hpp"
#include "protocol/error.hpp"
#include "runtime/batch_command.hpp"
#include "runtime/console_client.hpp"
#include "runtime/logging.hpp"
#include "runtime/serve.hpp"

namespace {

// `warren console` and `warren report`: the socket from --socket, else from the
// environment; without either there is nothing to talk to.
int run_console_command(const warren::command_line& cl) {
  auto socket = cl.console_socket;
  if (socket.empty())
    socket = warren::process_env("WARREN_CONSOLE_SOCKET").value_or("");
  bool report = cl.cmd == warren::command_line::command::report;
  if (socket.empty()) {
    std::cerr << "warren " << (report ? "report" : "console")
              << " needs --socket PATH (or WARREN_CONSOLE_SOCKET)\n";
    return 2;
  }
  if (report)
    return warren::run_report(socket, cl.json, std::cout, std::cerr);
  return warren::run_console(socket, cl.console_command, cl.json, std::cout, std::cerr);
}

} // namespace

int main(int argc, char** argv) {
  auto cl = warren::parse_command_line(argc, argv, std::cout, std::cerr);
  switch (cl.cmd) {
  case warren::command_line::command::exit:
    return cl.exit_code;
  case warren::command_line::command::config_check:
    return warren::run_config_check(cl, warren::process_env, std::cout, std::cerr);
  case warren::command_line::command::console:
  case warren::command_line::command::report:
    return run_console_command(cl);
  case warren::command_line::command::serve:
  case warren::command_line::command::batch:
    break;
  }
  auto cfg = warren::load_settings(cl, warren::process_env);
  if (!cfg) {
    std::cerr << "warren: config error: " << warren::message_of(cfg.error()) << '\n';
    return 2;
  }
  // stdout belongs to MCP: JSON log lines go to stderr, the broker password masked.
  warren::setup_logging(cfg->log_level, {cfg->password, cfg->http_token});
  if (cl.cmd == warren::command_line::command::batch)
    return warren::run_batch_command(cl, *cfg, std::cin, std::cout, std::cerr);
  return warren::serve(*cfg);
}
