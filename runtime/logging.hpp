#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include "protocol/mcp_session.hpp"

namespace warren {

/// Makes the default spdlog logger "warren": one JSON line per record on stderr
/// (stdout carries MCP), written whole and flushed at once, with `secrets` redacted
/// from every message. `level` is one set_log_level accepts; any other logs at info
/// (and says so).
void setup_logging(const std::string& level, std::vector<std::string> secrets);

/// Changes the level of every logger at run time. False, changing nothing, for a
/// name other than trace, debug, info, warn (or warning), error, critical, off.
bool set_log_level(std::string_view level);

/// The stderr level that matches an MCP logging level (notice is info; critical,
/// alert and emergency are critical), as set_log_level takes it.
const char* stderr_level_of(log_level level);

/// The name of the default logger's level, as set_log_level takes it ("warn").
std::string log_level_name();

/// The formatter setup_logging installs, for loggers with other sinks (tests): it
/// writes protocol/log_format.hpp's lines, with the current log_scope's correlation.
/// The correlation is read on the logging thread: use it with synchronous loggers.
std::unique_ptr<spdlog::formatter>
make_json_formatter(std::vector<std::string> secrets);

/// The text form of a call's correlation id in log lines ("42"); "" for 0, which
/// names no call.
std::string correlation_id(std::uint64_t call);

/// The correlation id of the innermost log_scope alive on this thread; "" if none.
std::string_view current_correlation();

/// While it lives, every line this thread logs carries `correlation` (an actor
/// handler opens one for the request it works on). Scopes nest; the innermost wins
/// and the outer one's id is back when it ends.
class log_scope {
public:
  explicit log_scope(std::string correlation);
  ~log_scope();

  log_scope(const log_scope&) = delete;
  log_scope& operator=(const log_scope&) = delete;

private:
  std::string correlation_;
  const std::string* outer_; // the enclosing scope's id, restored on destruction
};

/// Logs one line on the default logger on behalf of the request `correlation`.
/// Costs one level check when the level filters the line out.
template <class... Ts>
void log_for(std::string_view correlation, spdlog::level::level_enum lvl,
             spdlog::format_string_t<Ts...> f, Ts&&... args) {
  auto* logger = spdlog::default_logger_raw();
  if (logger == nullptr || !logger->should_log(lvl))
    return;
  log_scope scope{std::string{correlation}};
  logger->log(lvl, f, std::forward<Ts>(args)...);
}

/// As above for the tool call with id `call`; its correlation id is only written out
/// when the line is logged, so a filtered line costs nothing on the request path.
template <class... Ts>
void log_for(std::uint64_t call, spdlog::level::level_enum lvl,
             spdlog::format_string_t<Ts...> f, Ts&&... args) {
  auto* logger = spdlog::default_logger_raw();
  if (logger == nullptr || !logger->should_log(lvl))
    return;
  log_scope scope{correlation_id(call)};
  logger->log(lvl, f, std::forward<Ts>(args)...);
}

} // namespace warren
