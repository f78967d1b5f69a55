#include "runtime/logging.hpp"

#include <optional>

#include <spdlog/sinks/stdout_sinks.h>

#include "protocol/log_format.hpp"

namespace warren {

namespace {

// The innermost log_scope's id on this thread. A pointer, so that opening a scope
// copies no string.
thread_local const std::string* current_scope = nullptr;

std::string_view level_name(spdlog::level::level_enum lvl) {
  switch (lvl) {
  case spdlog::level::trace:
    return "trace";
  case spdlog::level::debug:
    return "debug";
  case spdlog::level::info:
    return "info";
  case spdlog::level::warn:
    return "warn";
  case spdlog::level::err:
    return "error";
  case spdlog::level::critical:
    return "critical";
  default:
    return "off";
  }
}

// Not spdlog::level::from_str: it takes an unknown name for "off", which would
// silence the server.
std::optional<spdlog::level::level_enum> parse_level(std::string_view name) {
  std::string lower{name};
  for (auto& c : lower)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  if (lower == "warning")
    return spdlog::level::warn;
  for (int i = spdlog::level::trace; i < spdlog::level::n_levels; ++i) {
    auto lvl = static_cast<spdlog::level::level_enum>(i);
    if (lower == level_name(lvl))
      return lvl;
  }
  return std::nullopt;
}

class json_formatter final : public spdlog::formatter {
public:
  explicit json_formatter(redactor r) : redactor_(std::move(r)) {}

  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    // Reused per thread: a line costs no allocation of its own once the buffer has
    // grown to the usual line length.
    thread_local std::string line;
    line.clear();
    log_record record{msg.time, level_name(msg.level),
                      std::string_view{msg.logger_name.data(), msg.logger_name.size()},
                      std::string_view{msg.payload.data(), msg.payload.size()},
                      current_correlation()};
    append_log_line(line, record, redactor_);
    dest.append(line.data(), line.data() + line.size());
    if (line.capacity() > 64 * 1024)
      std::string{}.swap(line); // one huge message must not pin its buffer
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>(redactor_);
  }

private:
  redactor redactor_;
};

} // namespace

void setup_logging(const std::string& level, std::vector<std::string> secrets) {
  // The stderr sink writes each formatted line with one fwrite and flushes it, under
  // the console mutex, so lines from different threads never interleave.
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(make_json_formatter(std::move(secrets)));
  auto logger = std::make_shared<spdlog::logger>("warren", std::move(sink));
  spdlog::set_default_logger(logger);
  if (!set_log_level(level)) {
    spdlog::set_level(spdlog::level::info);
    logger->warn("unknown log level \"{}\"; logging at info", level);
  }
}

bool set_log_level(std::string_view level) {
  auto lvl = parse_level(level);
  if (!lvl)
    return false;
  spdlog::set_level(*lvl);
  return true;
}

const char* stderr_level_of(log_level level) {
  switch (level) {
  case log_level::debug:
    return "debug";
  case log_level::info:
  case log_level::notice:
    return "info";
  case log_level::warning:
    return "warn";
  case log_level::error:
    return "error";
  default:
    return "critical";
  }
}

std::string log_level_name() {
  return std::string{level_name(spdlog::get_level())};
}

std::unique_ptr<spdlog::formatter>
make_json_formatter(std::vector<std::string> secrets) {
  return std::make_unique<json_formatter>(redactor{std::move(secrets)});
}

std::string correlation_id(std::uint64_t call) {
  return call == 0 ? std::string{} : std::to_string(call);
}

std::string_view current_correlation() {
  return current_scope != nullptr ? std::string_view{*current_scope}
                                  : std::string_view{};
}

log_scope::log_scope(std::string correlation)
    : correlation_(std::move(correlation)), outer_(current_scope) {
  current_scope = &correlation_;
}

log_scope::~log_scope() {
  current_scope = outer_;
}

} // namespace warren
