#pragma once

#include <functional>
#include <map>
#include <string>

#include "actors/connection_pool.hpp"
#include "actors/interfaces.hpp"

namespace warren {

/// Spawns one AMQP connection actor for a vhost (detached in production).
/// `abort`: as in pool_protocol::factory.
using amqp_connection_factory =
    std::function<amqp_actor(caf::local_actor* self, const std::string& vhost,
                             std::shared_ptr<shutdown_signal> abort)>;

struct amqp_router_state {
  static inline const char* name = "amqp_router";
  pool_config cfg;
  amqp_connection_factory factory;
  std::map<std::string, amqp_protocol::actor> pools; ///< by vhost
};

/// The router's interface: the AMQP service plus a resize of every pool.
using amqp_router_actor =
    amqp_service::extend<caf::reacts_to<resize_atom, uint64_t, uint64_t>>;

/// The AMQP backend: an AMQP connection belongs to one vhost, so the router keeps one
/// connection pool per vhost (opened on first use) and hands each request to the
/// pool of its vhost; a cancel or a resize goes to every pool, and its status lists
/// them all.
amqp_router_actor::behavior_type
amqp_router(amqp_router_actor::stateful_pointer<amqp_router_state> self,
            pool_config cfg, amqp_connection_factory factory);

} // namespace warren
