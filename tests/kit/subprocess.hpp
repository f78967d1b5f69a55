#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include <caf/expected.hpp>

namespace warren {

/// A child process with pipes to its stdin, stdout and stderr, for driving a program
/// line by line from tests and the load generator.
///
/// Threading: write_line/write_lines/close_stdin may run on one thread while
/// read_line runs on another (they touch disjoint state); every other member is safe
/// from any thread. stderr is drained by a background thread so the child never
/// blocks on a full pipe, whatever the caller is doing.
class subprocess {
public:
  /// Starts `argv[0]` (searched in PATH if it has no '/') with `argv`, the parent's
  /// environment plus `env` ("KEY=VALUE" entries, overriding parent variables of the
  /// same name). Fails with a message naming the program if it cannot be started.
  static caf::expected<std::unique_ptr<subprocess>>
  spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

  /// Kills the child (SIGKILL) if it still runs, and reaps it.
  ~subprocess();
  subprocess(const subprocess&) = delete;
  subprocess& operator=(const subprocess&) = delete;

  pid_t pid() const;

  /// Writes `line` plus '\n'. A line that already ends in '\n' gets none added.
  /// Returns false when the child closed its stdin, stdin was closed here, or the
  /// write did not complete within `timeout` (the child stopped reading).
  bool write_line(std::string_view line,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// Writes all lines with a single write where the pipe allows, so the child sees
  /// them arrive together.
  bool write_lines(const std::vector<std::string>& lines,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// Writes raw bytes as they are (no newline added).
  bool write_raw(std::string_view bytes,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// The next stdout line without its '\n', or nullopt when none completed within
  /// `timeout` or stdout reached EOF (see stdout_eof()). A last line without '\n' is
  /// returned at EOF.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);

  /// True once stdout reached EOF and every buffered line has been read.
  bool stdout_eof() const;

  /// Closes the child's stdin (the child sees EOF). Idempotent.
  void close_stdin();

  /// Waits up to `timeout` for the child to exit. Returns its exit code, or 128 + the
  /// signal number if a signal ended it; nullopt if it still runs.
  std::optional<int> wait(std::chrono::milliseconds timeout);

  /// The exit code if the child has exited (without waiting).
  std::optional<int> exit_code();

  /// Sends `signo` to the child. False if it already exited.
  bool signal(int signo);

  /// Everything the child wrote to stderr so far.
  std::string stderr_text() const;

  /// The child's peak resident set size in bytes (VmHWM while it runs; after it
  /// exited, the larger of the last sample and the kernel's rusage figure), or 0 if
  /// unknown.
  std::size_t peak_rss_bytes();

private:
  struct impl;
  explicit subprocess(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Reads VmHWM of process `pid` from /proc in bytes, or 0 if it cannot be read (the
/// process is gone or a zombie).
std::size_t read_vm_hwm_bytes(pid_t pid);

} // namespace warren
