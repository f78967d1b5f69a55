// warren: an MCP server for RabbitMQ.

#include <iostream>

#ifdef __GLIBC__
#include <malloc.h>
#endif

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

// glibc gives freed memory at the top of the heap back to the kernel as soon as more
// than 128 KiB is free there, so every call that parses and writes a few hundred
// kilobytes (a batch of 100 messages, a page of 500 queues) faulted its pages in again:
// preparing a 100-message batch took 650 us, 380 us without the round trips. Keeping
// up to 8 MiB free costs at most that much resident memory per arena.
void keep_freed_memory() {
#ifdef __GLIBC__
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  mallopt(M_MMAP_THRESHOLD, 1 << 20); // fixed: setting the trim threshold stops
                                      // glibc from raising it by itself
#endif
}

} // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
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
