#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <string>

#include <caf/expected.hpp>

#include "config/settings.hpp"

namespace warren {

/// The version `warren --version` prints.
inline constexpr const char* warren_version = "0.1.0";

/// What the command line asks for. Setting flags are only collected here, as config
/// keys with their text; load_settings applies and checks them with the other sources.
struct command_line {
  enum class command { serve, config_check, console, report, batch, exit };
  command cmd = command::exit;
  int exit_code = 0; ///< for command::exit: 0 after --help/--version, 2 on usage errors
  std::optional<std::string> config_file;   ///< --config
  std::map<std::string, std::string> flags; ///< config key -> value
  /// console and report: --socket; empty when absent (main then tries the
  /// environment variable WARREN_CONSOLE_SOCKET).
  std::string console_socket;
  std::optional<std::string> console_command; ///< console: -c/--command
  bool json = false; ///< console, report and the batch commands: --json

  /// `warren queue create|delete --batch` and `warren publish --batch`.
  struct batch_options {
    std::string tool;       ///< batch_create_queues, batch_delete_queues, ...
    std::string items_key;  ///< the tool's array argument: queues, names, messages
    std::string file = "-"; ///< "-": stdin
    std::string mode = "best_effort";
    std::size_t parallelism = 0; ///< 0: the setting batch.parallelism
    std::string vhost;           ///< delete: the queues' vhost ("" for "/")
    bool force = false;          ///< delete
    bool dry_run = false;        ///< delete
  };
  batch_options batch;
};

/// Parses `warren serve|config check|console|report|queue create|queue delete|publish
/// [options]`. Help and version go to
/// `out`, usage errors to `err`; both end in command::exit.
command_line parse_command_line(int argc, const char* const* argv, std::ostream& out,
                                std::ostream& err);

/// The settings the command line asks for: the config file from --config or else
/// WARREN_CONFIG, then the environment, then the flags.
caf::expected<settings> load_settings(const command_line& cl, const env_lookup& env);

/// `warren config check`: prints "config ok" and the effective settings as TOML to
/// `out` and returns 0, or prints "config error: ..." to `err` and returns 2.
int run_config_check(const command_line& cl, const env_lookup& env, std::ostream& out,
                     std::ostream& err);

} // namespace warren
