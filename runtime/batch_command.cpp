#include "runtime/batch_command.hpp"

#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "protocol/batch_file.hpp"
#include "protocol/error.hpp"
#include "protocol/jsonrpc.hpp"
#include "protocol/metric_families.hpp"
#include "runtime/services.hpp"

namespace warren {

namespace {

caf::expected<std::string> read_items(const std::string& file, std::istream& in) {
  if (file == "-")
    return std::string{std::istreambuf_iterator<char>{in}, {}};
  std::ifstream f{file, std::ios::binary};
  if (!f)
    return make_error(ec::invalid_params, "cannot read the batch file " + file);
  return std::string{std::istreambuf_iterator<char>{f}, {}};
}

// The members every call of the command adds to its items.
std::string call_options(const command_line::batch_options& b) {
  std::string out = R"("mode":)" + quote_json(b.mode);
  if (b.parallelism != 0)
    out += R"(,"parallelism":)" + std::to_string(b.parallelism);
  if (!b.vhost.empty())
    out += R"(,"vhost":)" + quote_json(b.vhost);
  if (b.force)
    out += R"(,"force":true)";
  if (b.dry_run)
    out += R"(,"dry_run":true)";
  return out;
}

// Draws the progress of the whole file on a terminal's stderr. A call's id is one
// more than the index of its first item, so that its progress lands at its place.
progress_actor::behavior_type progress_printer(uint64_t total) {
  return {
      [total](progress_atom, uint64_t call, uint64_t done, uint64_t,
              const std::string&) {
        auto line = "\r" + progress_bar(call - 1 + done, total);
        (void)!::write(STDERR_FILENO, line.data(), line.size());
      },
  };
}

// A write answers before its invalidation reaches the other instances (a publish on
// the AMQP pool); let such work finish, for up to 50 looks at the pools, before the
// backends stop.
void let_backends_finish(service_tree& tree, caf::scoped_actor& self) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    double busy = 0;
    self->request(tree.root(), std::chrono::seconds{1}, status_atom::value)
        .receive(
            [&](actor_status& status) {
              for_each_status(status, [&](const actor_status& s) {
                if (s.kind == "pool")
                  busy += figure_of(s, "active") + figure_of(s, "waiting");
              });
            },
            [](caf::error&) {});
    if (busy == 0)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

} // namespace

int run_batch_command(const command_line& cl, settings cfg, std::istream& in,
                      std::ostream& out, std::ostream& err) {
  auto& b = cl.batch;
  auto text = read_items(b.file, in);
  auto items = text ? parse_batch_items(*text)
                    : caf::expected<std::vector<std::string>>{std::move(text.error())};
  if (!items) {
    err << "warren: " << message_of(items.error()) << "\n";
    return 2;
  }
  cfg.allow_writes = true;
  service_tree tree{cfg};
  if (auto problem = tree.start()) {
    err << "warren: " << message_of(problem) << "\n";
    return code_of(problem) == ec::invalid_config ? 2 : 1;
  }
  auto& sys = tree.system();
  auto total = static_cast<uint64_t>(items->size());
  bool terminal = ::isatty(STDERR_FILENO) == 1;
  auto printer = terminal ? sys.spawn(progress_printer, total) : progress_actor{};
  auto extra = call_options(b);
  auto step = std::max<std::size_t>(1, cfg.batch_max_items);
  batch_report report;
  caf::scoped_actor self{sys};
  for (std::size_t begin = 0; begin < items->size(); begin += step) {
    auto end = std::min(items->size(), begin + step);
    auto dispatcher = tree.dispatcher();
    tool_call call{b.tool, batch_call_arguments(b.items_key, *items, begin, end, extra),
                   begin + 1, printer};
    self->request(dispatcher,
                  cfg.batch_timeout + batch_rollback_time + std::chrono::seconds{2},
                  call_atom::value, std::move(call), caf::timespan{cfg.batch_timeout})
        .receive([&](tool_result& result) { add_call_result(report, result, begin); },
                 [&](caf::error& refused) {
                   add_refused(report, begin, end - begin, *items, message_of(refused));
                 });
  }
  if (printer)
    self->send_exit(printer, caf::exit_reason::user_shutdown);
  let_backends_finish(tree, self);
  if (terminal)
    err << "\n";
  out << (cl.json ? report_json(report) + "\n" : render_report(report));
  tree.stop();
  auto& t = report.totals;
  bool all_done = !report.job_failed && t.failed == 0 && t.rolled_back == 0 &&
                  t.skipped == 0 && report.rows.size() == items->size();
  return all_done ? 0 : 1;
}

} // namespace warren
