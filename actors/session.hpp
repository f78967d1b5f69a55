#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <caf/actor_clock.hpp>

#include "actors/interfaces.hpp"
#include "actors/reporter.hpp"
#include "protocol/mcp_session.hpp"

namespace warren {

/// Where a session's output goes, and how it hands reading credit back to its
/// transport (the transport reads a new line only while it holds credit). Each line
/// names the client request it belongs to, so that a transport that answers each
/// request on its own stream (Streamable HTTP) can route it; stdio writes them all.
class session_output {
public:
  virtual ~session_output() = default;
  /// Sends the answer (result or error, without a newline) to request `id_json`: the
  /// last line about that request.
  virtual void respond(const std::string& id_json, std::string line) = 0;
  /// Sends a notification about request `about_id_json` (its progress, a log message
  /// while it runs); "" when it concerns no request.
  virtual void notify(const std::string& about_id_json, std::string line) = 0;
  /// Request `id_json` was cancelled and gets no answer (a transport that holds an
  /// exchange open for it can end it).
  virtual void drop(const std::string&) {}
  /// One input line has been handled completely; the transport may read another.
  virtual void release() = 0;
};

/// A timed step of a conformance fixture tool: (call number, request id, line, last).
using step_atom = caf::atom_constant<caf::atom("step")>;
/// The session's once-a-second look for calls past their deadline.
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;

/// Finds the current dispatcher (it may have been restarted).
using dispatcher_lookup = std::function<dispatcher_actor()>;

struct session_config {
  server_info info;
  caf::timespan request_timeout = std::chrono::seconds{30};
  caf::timespan batch_timeout = std::chrono::minutes{5}; ///< of a batch tool's job
  caf::timespan shutdown_grace = std::chrono::seconds{5};
  std::size_t max_line_bytes = 10u << 20; ///< for the message to an oversized line
  std::string transport = "stdio";        ///< how the client is connected
  /// logging/setLevel also sets the process's stderr level: right for stdio, where
  /// the process serves this one client; wrong for a shared HTTP server.
  bool client_sets_stderr_level = false;
  /// Finds the reporter that keeps the request figures (none: nothing is recorded).
  std::function<reporter_actor()> reporter;
  /// The conformance suite's fixtures (`--conformance-fixtures`); none: not served.
  std::shared_ptr<const mcp_fixtures> fixtures;
};

/// Beyond what its transport sends: its own shutdown deadline, and the progress of
/// long calls (batch jobs report it here; the session forwards it to the client).
using session_impl_actor = session_actor::extend<
    caf::reacts_to<deadline_atom>,
    caf::reacts_to<progress_atom, uint64_t, uint64_t, uint64_t, std::string>,
    caf::reacts_to<step_atom, uint64_t, std::string, std::string, bool>,
    caf::reacts_to<sweep_atom>>;

struct session_state {
  static inline const char* name = "session";

  struct pending_call {
    std::string tool;
    std::string progress_token_json;
    caf::actor_clock::time_point started;
    uint64_t call = 0; ///< the id the dispatcher knows it by
    /// The last progress sent and its total: each notification must go higher.
    uint64_t progress = 0;
    uint64_t total = 1;
    /// When the session stops waiting for the dispatcher (none: it does not).
    std::optional<caf::actor_clock::time_point> deadline;
  };

  std::shared_ptr<const tool_catalog> catalog;
  std::unique_ptr<mcp_session> mcp;
  std::shared_ptr<session_output> out;
  dispatcher_lookup dispatcher;
  session_config cfg;
  /// Calls in flight that still owe the client an answer, by request id (as JSON).
  std::unordered_map<std::string, pending_call> pending;
  /// Requests warren sent the client for a fixture tool: their id (as JSON) → the
  /// tools/call request they serve.
  std::unordered_map<std::string, std::string> asked;
  uint64_t next_ask = 0;
  /// Calls answered by the sweep because the dispatcher never did: should its answer
  /// still come, it is dropped and its line's credit is not given back twice.
  std::unordered_set<uint64_t> abandoned;
  bool sweeping = false; ///< a sweep is scheduled
  /// Lines whose work is still running; each holds one unit of reading credit.
  std::size_t running = 0;
  bool closing = false;
  uint64_t requests = 0; ///< requests answered so far
};

/// One MCP client session: parses lines, answers protocol requests itself, sends tool
/// calls to the dispatcher, writes answers and notifications, honours cancellation,
/// and on eof answers what is in flight (or gives up after the grace period) and quits.
session_impl_actor::behavior_type
session(session_impl_actor::stateful_pointer<session_state> self,
        std::shared_ptr<const tool_catalog> catalog,
        std::shared_ptr<session_output> out, dispatcher_lookup dispatcher,
        session_config cfg);

} // namespace warren
