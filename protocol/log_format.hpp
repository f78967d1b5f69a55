#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace warren {

/// Removes secrets from text before it is logged: every occurrence of a configured
/// secret (the broker password, say), and the password part of any URL's userinfo
/// ("amqp://user:pw@host" -> "amqp://user:***@host"), become "***".
class redactor {
public:
  redactor() = default;
  /// Empty secrets are ignored.
  explicit redactor(std::vector<std::string> secrets);

  std::string apply(std::string_view text) const;

private:
  std::vector<std::string> secrets_;
};

/// One log line's parts.
struct log_record {
  std::chrono::system_clock::time_point time;
  std::string_view level;  ///< "debug", "info", "warn", "error", ...
  std::string_view logger; ///< "warren"
  std::string_view message;
  std::string_view correlation; ///< empty: the line belongs to no request
};

/// Appends the record as one JSON object and a newline:
/// {"ts":"2026-11-22T10:00:00.123Z","level":"info","logger":"warren","msg":"...",
///  "corr":"42"} ("corr" only when there is one). The message passes through the
/// redactor; the output is valid UTF-8 JSON whatever the message holds.
void append_log_line(std::string& out, const log_record& record, const redactor& r);

} // namespace warren
