#pragma once

// The typed interfaces of warren's actors, their atoms and message types, in one
// place. Register everything here with register_types() before starting the system.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "protocol/actor_status.hpp"
#include "protocol/amqp_message.hpp"
#include "protocol/http_message.hpp"
#include "protocol/tool_catalog.hpp"

namespace warren {

// -- atoms (at most 10 characters) ---------------------------------------------------

using amqp_atom = caf::atom_constant<caf::atom("amqp")>;
using call_atom = caf::atom_constant<caf::atom("call")>;
using http_atom = caf::atom_constant<caf::atom("http")>;
using line_atom = caf::atom_constant<caf::atom("line")>;
using oversize_atom = caf::atom_constant<caf::atom("oversize")>;
using eof_atom = caf::atom_constant<caf::atom("eof")>;
using fill_atom = caf::atom_constant<caf::atom("fill")>;
using invalidate_atom = caf::atom_constant<caf::atom("invalidate")>;
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using peers_atom = caf::atom_constant<caf::atom("peers")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using resize_atom = caf::atom_constant<caf::atom("resize")>;
using trip_atom = caf::atom_constant<caf::atom("trip")>;
using reset_atom = caf::atom_constant<caf::atom("reset")>;
using ttl_atom = caf::atom_constant<caf::atom("ttl")>;
using configure_atom = caf::atom_constant<caf::atom("configure")>;
using record_atom = caf::atom_constant<caf::atom("record")>;
using report_atom = caf::atom_constant<caf::atom("report")>;
using run_atom = caf::atom_constant<caf::atom("run")>;
using progress_atom = caf::atom_constant<caf::atom("progress")>;
using refresh_atom = caf::atom_constant<caf::atom("refresh")>;

// -- message types -------------------------------------------------------------------

/// Nanoseconds since `start`: what the backend_ns fields of responses hold.
inline uint64_t nanos_since(std::chrono::steady_clock::time_point start) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now() - start)
                                   .count());
}

/// Where a long call (a batch job) reports how far it got: the call's id, items done,
/// items in all, and a few words on what it is doing.
using progress_actor = caf::typed_actor<
    caf::reacts_to<progress_atom, uint64_t, uint64_t, uint64_t, std::string>>;

/// A tools/call request as the dispatcher receives it.
struct tool_call {
  std::string name;
  std::string arguments_json;
  /// Unique in the process; names the call in a later cancel. 0: not cancellable.
  uint64_t id = 0;
  /// Where progress goes when the client asked for it (a progress token); else none.
  progress_actor progress;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_call& x) {
  return f(caf::meta::type_name("tool_call"), x.name, x.arguments_json, x.id,
           x.progress);
}

/// A prepared call, shared between the actors that run it (never sent off the node).
using op_handle = std::shared_ptr<const operation>;

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_result& x) {
  return f(caf::meta::type_name("tool_result"), x.is_error, x.json, x.backend_ns);
}

/// A cache shard's answer to a lookup: the value (cached, or filled by the call
/// already in flight for the key), or a flight id telling this caller to fetch the
/// value and fill it with that id.
struct cache_answer {
  bool hit = false;
  tool_result result;
  uint64_t flight = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cache_answer& x) {
  return f(caf::meta::type_name("cache_answer"), x.hit, x.result, x.flight);
}

/// The status request every long-lived actor answers.
using status_api = caf::replies_to<status_atom>::with<actor_status>;

// -- interfaces ----------------------------------------------------------------------

/// Anything that answers management-API requests: the HTTP pool, a connection, and
/// later the breaker and cache in front of them. The timespan is the time left for the
/// call; past it the answer is ec::backend_timeout.
using http_actor = caf::typed_actor<
    caf::replies_to<http_atom, http_request, caf::timespan>::with<http_response>>;

/// A management-API backend that can also stop the work of a cancelled call (the
/// requests whose `call` is the given id): the breaker and the pool.
using http_service =
    http_actor::extend<caf::reacts_to<cancel_atom, uint64_t>, status_api>;

/// Anything that performs AMQP work (publish with confirm, basic.get): the AMQP pool
/// and its connections. The timespan is the time left for the call.
using amqp_actor = caf::typed_actor<
    caf::replies_to<amqp_atom, amqp_request, caf::timespan>::with<amqp_response>>;

/// An AMQP backend that can also stop the work of a cancelled call.
using amqp_service =
    amqp_actor::extend<caf::reacts_to<cancel_atom, uint64_t>, status_api>;

/// One cache shard: tool results by cache key, with single-flight misses. lookup takes
/// the key and whether the answer must be fresh: fetched after the lookup came (no
/// stored value, no fetch that began before it; the cache's time to live is 0). fill
/// takes the key, the result, its time to live and the flight id from the lookup, and
/// answers whether it kept the value; invalidate takes key prefixes and answers how
/// many entries it dropped; refresh (a write that changed only counts) keeps the
/// entries under the prefixes until the settle window ends, and answers how many it
/// cut short.
using cache_actor = caf::typed_actor<
    caf::replies_to<lookup_atom, std::string, bool>::with<cache_answer>,
    caf::replies_to<fill_atom, std::string, tool_result, caf::timespan,
                    uint64_t>::with<bool>,
    caf::replies_to<invalidate_atom, std::vector<std::string>>::with<uint64_t>,
    caf::replies_to<refresh_atom, std::vector<std::string>>::with<uint64_t>,
    caf::reacts_to<tick_atom, std::string, uint64_t>, // a waiting fetch begins
    status_api>;

/// The second-level cache shared by instances (Redis): lookup answers whether the key
/// was there and its value; fill stores a value with a time to live; invalidate drops
/// the keys under the prefixes.
using l2_actor = caf::typed_actor<
    caf::replies_to<lookup_atom, std::string>::with<bool, std::string>,
    caf::reacts_to<fill_atom, std::string, std::string, caf::timespan>,
    caf::replies_to<invalidate_atom, std::vector<std::string>>::with<uint64_t>,
    status_api>;

/// What a batch job needs of the dispatcher. run: one prepared call, run exactly as
/// a tools/call of it would be (cache, invalidations, breaker, pool), under the given
/// call id (0: not cancellable). amqp: a prepared AMQP operation (a batch of
/// publishes) whose answer is the broker's own response, with the operation's
/// invalidations done before it.
using call_runner = caf::typed_actor<
    caf::replies_to<run_atom, op_handle, caf::timespan, uint64_t>::with<tool_result>,
    caf::replies_to<amqp_atom, op_handle, caf::timespan,
                    uint64_t>::with<amqp_response>>;

/// How long a batch job may spend undoing its work (all_or_nothing) once its items
/// are over; whoever waits for a job waits this much longer than its budget.
inline constexpr caf::timespan batch_rollback_time = std::chrono::seconds{30};

/// Runs batch calls, one job actor each: the batch operation, the time the job may
/// take, the call's id and where its progress goes. cancel stops the job of a call.
/// record: a finished job's tool and its items by status (succeeded, failed,
/// rolled_back, skipped), for the metrics.
using batch_service =
    caf::typed_actor<caf::replies_to<run_atom, op_handle, caf::timespan, uint64_t,
                                     progress_actor>::with<tool_result>,
                     caf::reacts_to<cancel_atom, uint64_t>,
                     caf::reacts_to<record_atom, std::string, std::vector<uint64_t>>,
                     status_api>;

/// Turns a tools/call into a tool result. Unknown tools and invalid arguments come
/// back as errors (ec::unknown_tool, ec::invalid_params); broker failures as
/// tool results with isError.
/// cancel stops the backend work of the call with that id (its answer, if one still
/// comes, is an error the session drops). ttl sets how long read results stay cached
/// from now on.
using dispatcher_actor = call_runner::extend<
    caf::replies_to<call_atom, tool_call, caf::timespan>::with<tool_result>,
    caf::reacts_to<cancel_atom, uint64_t>, caf::reacts_to<ttl_atom, caf::timespan>,
    caf::reacts_to<peers_atom>, // the gathered invalidations go to the other instances
    status_api>;

/// One MCP client session. Lines come from the transport; an oversized line is
/// reported by its size only; eof starts an orderly end.
using session_actor = caf::typed_actor<caf::reacts_to<line_atom, std::string>,
                                       caf::reacts_to<oversize_atom, uint64_t>,
                                       caf::reacts_to<eof_atom>, status_api>;

/// Registers warren's message types and error category with an actor system config.
void register_types(caf::actor_system_config& cfg);

} // namespace warren

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(warren::op_handle)
