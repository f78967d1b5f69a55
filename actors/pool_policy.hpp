#pragma once

#include <cstddef>

namespace warren {

/// What a pool does with a new request.
enum class pool_decision {
  use_idle, ///< hand it to an idle connection
  grow,     ///< open another connection for it
  enqueue,  ///< wait for a connection to come free
  reject,   ///< the wait queue is full: fail fast with ec::overloaded
};

/// The pool's admission rule: reuse before growing, grow up to `max`, then queue up to
/// `queue_bound` waiters, then reject.
constexpr pool_decision decide(std::size_t idle, std::size_t total, std::size_t max,
                               std::size_t waiting, std::size_t queue_bound) {
  if (idle > 0)
    return pool_decision::use_idle;
  if (total < max)
    return pool_decision::grow;
  if (waiting < queue_bound)
    return pool_decision::enqueue;
  return pool_decision::reject;
}

} // namespace warren
