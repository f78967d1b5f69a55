#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <unordered_map>

#include <caf/actor_clock.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/circuit_breaker.hpp"
#include "actors/connection_pool.hpp"
#include "actors/retry_policy.hpp"

namespace warren {

/// How a breaker guards its backend.
struct breaker_config {
  std::string what = "management API"; ///< names the backend in messages and logs
  circuit_breaker::config rule;
  /// Retries of idempotent requests; attempts = 1 for a backend whose requests never
  /// are (AMQP: a publish must never be repeated blindly, a get consumes).
  retry_policy retry;
  double budget_ratio = 0.1;  ///< retries earned per call
  double budget_reserve = 10; ///< and banked at most
  uint64_t seed = 0;          ///< of the jitter; 0 draws one from the system
};

/// What a breaker has done so far; the figures behind its metrics.
struct breaker_counters {
  uint64_t calls = 0;           ///< requests received
  uint64_t failures = 0;        ///< attempts that counted as the backend's failure
  uint64_t retries = 0;         ///< attempts beyond the first
  uint64_t budget_refusals = 0; ///< retries not made for want of budget
  uint64_t rejected = 0;        ///< calls refused at once while open
};

template <class Protocol>
struct breaker_state {
  static inline const char* name = "breaker";

  using promise_type = caf::typed_response_promise<typename Protocol::response>;

  /// A request waiting for its next attempt.
  struct pending {
    typename Protocol::request request;
    caf::actor_clock::time_point deadline;
    std::size_t attempts = 0; ///< made so far
    promise_type promise;
  };

  breaker_config cfg;
  circuit_breaker rule;
  retry_budget budget;
  std::mt19937_64 random;
  std::function<typename Protocol::service()> backend;
  std::unordered_map<uint64_t, pending> waiting_retry;
  uint64_t next_id = 0;
  std::string last_failure; ///< what the most recent failure was, for messages
  breaker_counters counters;

  /// Requests waiting for a retry when the breaker stops get an answer.
  ~breaker_state();
};

/// The breaker actor's interface: its pool's service; an operator's trip (open now),
/// reset (close now) and new thresholds and retry settings; its own retry timer.
template <class Protocol>
using breaker_actor = typename Protocol::service::template extend<
    caf::reacts_to<trip_atom>, caf::reacts_to<reset_atom>,
    caf::reacts_to<configure_atom, breaker_config>,
    caf::reacts_to<retry_atom, uint64_t>>;

/// One per backend, in front of its pool: while the backend answers it passes calls
/// through (and retries idempotent ones that failed in a retryable way, with backoff
/// and full jitter, within the deadline and the retry budget); when the backend keeps
/// failing it opens, and calls fail at once with ec::unavailable and the time of the
/// next probe, until probes show the backend is back. `backend` finds the current pool
/// (a supervisor may have restarted it). Instantiated for http_protocol and
/// amqp_protocol.
template <class Protocol>
typename breaker_actor<Protocol>::behavior_type breaker(
    typename breaker_actor<Protocol>::template stateful_pointer<breaker_state<Protocol>>
        self,
    breaker_config cfg, std::function<typename Protocol::service()> backend);

using http_breaker_actor = breaker_actor<http_protocol>;
inline constexpr auto http_breaker = &breaker<http_protocol>;
using amqp_breaker_actor = breaker_actor<amqp_protocol>;
inline constexpr auto amqp_breaker = &breaker<amqp_protocol>;

} // namespace warren

// Sent by the console within the process only.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(warren::breaker_config)
