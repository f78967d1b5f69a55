#pragma once

#include <chrono>
#include <istream>
#include <optional>
#include <ostream>
#include <string>

namespace warren {

/// What `warren console` and `warren report` ask of the console client.
struct console_options {
  std::string socket_path;
  /// One command to run (-c); none for a session of several commands.
  std::optional<std::string> command;
  /// Appends " --json" to every command sent, so warren answers in JSON.
  bool json = false;
  /// How long warren may take to answer one command before the client gives up.
  std::chrono::milliseconds reply_timeout = std::chrono::seconds(10);
};

/// Talks to warren's console on its Unix socket: one command per line out, one JSON
/// line {"ok":...,"output":"..."} back. With a command, runs it, prints the output to
/// `out` (or to `err` when warren refused it) and returns 0 if it ran, 1 if it was
/// refused or the console could not be reached or answered nonsense. Without one,
/// reads commands from a readline prompt when stdin is a terminal, else line by line
/// from stdin (see the form taking `in`).
int run_console(const std::string& socket_path, std::optional<std::string> command,
                bool json, std::ostream& out, std::ostream& err);

/// The same, with commands read line by line from `in` when `options.command` is
/// absent (how scripts pipe commands in): empty lines are skipped, "quit" or "exit"
/// or the end of `in` ends the session. Returns 0 if every command ran, 1 if one was
/// refused, 1 as soon as the connection fails.
int run_console(const console_options& options, std::istream& in, std::ostream& out,
                std::ostream& err);

/// `warren report`: the console's report command.
int run_report(const std::string& socket_path, bool json, std::ostream& out,
               std::ostream& err);

} // namespace warren
