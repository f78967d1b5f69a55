// warren: an MCP server for RabbitMQ.

#include <iostream>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "config/command_line.hpp"
#include "protocol/error.hpp"
#include "runtime/serve.hpp"

namespace {

// stdout belongs to MCP; every log line goes to stderr.
void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("warren");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

} // namespace

int main(int argc, char** argv) {
  auto cl = warren::parse_command_line(argc, argv, std::cout, std::cerr);
  switch (cl.cmd) {
  case warren::command_line::command::exit:
    return cl.exit_code;
  case warren::command_line::command::config_check:
    return warren::run_config_check(cl, warren::process_env, std::cout, std::cerr);
  case warren::command_line::command::serve:
    break;
  }
  auto cfg = warren::load_settings(cl, warren::process_env);
  if (!cfg) {
    std::cerr << "warren: config error: " << warren::message_of(cfg.error()) << '\n';
    return 2;
  }
  setup_logging(cfg->log_level);
  return warren::serve_stdio(*cfg);
}
