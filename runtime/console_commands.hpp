#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "runtime/control.hpp"

namespace warren {

/// A console command's answer: ok false when it was refused (output says why).
struct console_reply {
  bool ok = true;
  std::string output;
};

/// One operator's console session: runs commands against the control plane and
/// remembers what `top` saw last, for its rates.
class console_session {
public:
  explicit console_session(control_plane& control) : control_(control) {}

  /// Runs one command line ("tree", "cache flush queues:", "top --sort rate --json").
  console_reply run(std::string_view line);

  /// The help text.
  static std::string help();

private:
  console_reply top(bool json, const std::string& sort);

  control_plane& control_;
  std::map<uint64_t, uint64_t> last_handled_; ///< by actor id
  std::chrono::steady_clock::time_point last_top_{};
};

/// The status tree as JSON.
std::string status_json(const actor_status& s);

} // namespace warren
