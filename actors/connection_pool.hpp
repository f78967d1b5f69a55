#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "actors/pool_policy.hpp"
#include "protocol/publish_merge.hpp"
#include "runtime/shutdown_signal.hpp"

namespace warren {

/// What a pool's connections speak: one atom, one request type, one response type.
template <class Atom, class Request, class Response>
struct pool_protocol {
  using atom = Atom;
  using request = Request;
  using response = Response;
  /// A connection.
  using backend = caf::typed_actor<
      typename caf::replies_to<Atom, Request, caf::timespan>::template with<Response>>;
  /// The face a pool (or a breaker) shows its callers: a backend that can also stop a
  /// cancelled call's work.
  using service =
      typename backend::template extend<caf::reacts_to<cancel_atom, uint64_t>,
                                        status_api>;
  /// The pool itself: the service, a resize to new bounds (min, max), and its
  /// housekeeping.
  using actor =
      typename service::template extend<caf::reacts_to<resize_atom, uint64_t, uint64_t>,
                                        caf::reacts_to<tick_atom>,
                                        caf::reacts_to<deadline_atom, uint64_t>>;
  /// Makes a connection. `abort` fired from any thread must make the connection's
  /// blocking call in progress return at once; the pool fires it to cancel a call, and
  /// never reuses that connection afterwards.
  using factory = std::function<backend(caf::local_actor* owner,
                                        std::shared_ptr<shutdown_signal> abort)>;
};

using http_protocol = pool_protocol<http_atom, http_request, http_response>;
using amqp_protocol = pool_protocol<amqp_atom, amqp_request, amqp_response>;

/// How a pool sends requests that wait for a connection together, as one (see
/// pool_config::merge_limit): only the AMQP pool does, for single publishes.
template <class Protocol>
struct request_merging {
  static constexpr bool enabled = false;
};

template <>
struct request_merging<amqp_protocol> {
  static constexpr bool enabled = true;
  static bool mergeable(const amqp_request& r) { return warren::mergeable(r); }
  static amqp_request merge(std::vector<amqp_request> parts) {
    return merge_publishes(std::move(parts));
  }
  static std::vector<caf::expected<amqp_response>>
  split(const caf::expected<amqp_response>& outcome, std::size_t parts) {
    return split_publishes(outcome, parts);
  }
};

struct pool_config {
  std::size_t min = 5;
  std::size_t max = 50;
  std::size_t queue_bound = 1000;
  caf::timespan idle_timeout = std::chrono::seconds{60};
  std::string what = "management API"; ///< names the backend in error messages
  exhaustion_policy policy = exhaustion_policy::block;
  caf::timespan wait = std::chrono::seconds{10}; ///< block: longest wait
  /// At most this many waiting requests go out as one when a connection frees up
  /// (request_merging); 1: each alone.
  std::size_t merge_limit = 1;
};

/// What a pool has done so far; the figures behind its metrics.
struct pool_counters {
  uint64_t requests = 0;  ///< requests received
  uint64_t opened = 0;    ///< connection actors spawned
  uint64_t reused = 0;    ///< requests served by a connection already open (keep-alive)
  uint64_t exhausted = 0; ///< requests that found every connection busy at max
  uint64_t rejected = 0;  ///< requests refused (fail_fast, or the wait queue full)
  uint64_t timed_out = 0; ///< waiting requests whose wait ran out
  uint64_t waited = 0;    ///< waiting requests that got a connection
  caf::timespan wait_time{0}; ///< total time those waited
  uint64_t broken = 0;        ///< connections that died or overran and were replaced
  uint64_t cancelled = 0;     ///< calls cancelled while waiting or running
};

template <class Protocol>
struct pool_state {
  static inline const char* name = "pool";

  using backend = typename Protocol::backend;
  using promise_type = caf::typed_response_promise<typename Protocol::response>;

  /// A connection and the signal that aborts its call in progress.
  struct member {
    backend handle;
    std::shared_ptr<shutdown_signal> abort;
  };

  struct idle_connection {
    member conn;
    caf::actor_clock::time_point since;
  };

  /// One request's caller, waiting for its answer.
  struct caller {
    uint64_t call = 0; ///< the tool call it serves (0: none)
    promise_type promise;
    bool answered = false; ///< (cancelled while its merged request runs)
  };

  /// A connection at work and the callers of the request it serves: one, or more
  /// when waiting requests were merged.
  struct busy_connection {
    member conn;
    std::vector<caller> callers;
  };

  struct waiter {
    uint64_t id;
    typename Protocol::request request;
    caf::actor_clock::time_point since;
    caf::actor_clock::time_point wait_until;    ///< when it stops waiting
    caf::actor_clock::time_point call_deadline; ///< the end of the caller's budget
    promise_type promise;
  };

  pool_config cfg;
  typename Protocol::factory factory;
  std::vector<idle_connection> idle; ///< most recently used last (warmest)
  std::unordered_map<caf::actor_addr, busy_connection> busy;
  std::deque<waiter> waiting;
  uint64_t next_waiter_id = 0;
  pool_counters counters;
  std::size_t total() const { return idle.size() + busy.size(); }

  /// The pool is gone: every caller still waiting gets an answer, and the connections
  /// it owns stop. (CAF destroys the state before attached functors run, so this
  /// cannot live in one.)
  ~pool_state();
};

/// Owns up to cfg.max connection actors: reuses idle ones, grows with demand, and when
/// all are busy at max follows cfg.policy (wait up to cfg.wait, wait up to the call's
/// deadline, or fail fast; waiting is bounded by cfg.queue_bound), and closes
/// connections idle longer than cfg.idle_timeout down to cfg.min.
/// A connection that dies takes only its own request with it; one that overruns its
/// deadline is dropped, never reused. When a connection frees up, up to
/// cfg.merge_limit mergeable requests waiting back to back go out as one; a cancel
/// then answers its own caller at once and lets the others' request run.
/// Instantiated for http_protocol and amqp_protocol.
template <class Protocol>
typename Protocol::actor::behavior_type connection_pool(
    typename Protocol::actor::template stateful_pointer<pool_state<Protocol>> self,
    pool_config cfg, typename Protocol::factory factory);

// -- the management API pool
// -----------------------------------------------------------

using http_pool_config = pool_config;
using connection_factory = http_protocol::factory;
using http_pool_actor = http_protocol::actor;
using http_pool_state = pool_state<http_protocol>;
inline constexpr auto http_pool = &connection_pool<http_protocol>;

} // namespace warren
