#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace warren {

/// What a request does when every connection of its pool is busy and the pool is at
/// its maximum size.
enum class exhaustion_policy {
  block,     ///< wait for a connection, at most the pool's wait time
  queue,     ///< wait for a connection, at most until the request's own deadline
  fail_fast, ///< fail at once with ec::overloaded
};

/// "block", "queue" or "fail_fast"; nullopt for anything else.
constexpr std::optional<exhaustion_policy> parse_exhaustion_policy(std::string_view s) {
  if (s == "block")
    return exhaustion_policy::block;
  if (s == "queue")
    return exhaustion_policy::queue;
  if (s == "fail_fast")
    return exhaustion_policy::fail_fast;
  return std::nullopt;
}

/// What a pool does with a new request.
enum class pool_decision {
  use_idle, ///< hand it to an idle connection
  grow,     ///< open another connection for it
  enqueue,  ///< wait for a connection to come free
  reject,   ///< fail fast with ec::overloaded
};

/// The pool's admission rule: reuse before growing, grow up to `max`, then (unless the
/// policy is fail_fast) wait while fewer than `queue_bound` requests wait, else reject.
/// Both waiting policies are bounded, so memory stays bounded whatever the load.
constexpr pool_decision decide(std::size_t idle, std::size_t total, std::size_t max,
                               std::size_t waiting, std::size_t queue_bound,
                               exhaustion_policy policy = exhaustion_policy::queue) {
  if (idle > 0)
    return pool_decision::use_idle;
  if (total < max)
    return pool_decision::grow;
  if (policy != exhaustion_policy::fail_fast && waiting < queue_bound)
    return pool_decision::enqueue;
  return pool_decision::reject;
}

} // namespace warren
