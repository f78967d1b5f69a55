#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>

#include "actors/interfaces.hpp"
#include "config/settings.hpp"
#include "protocol/tool_catalog.hpp"

namespace warren {

class invalidation_listener;
struct shutdown_signal;

/// warren's actor system and its supervised services (pools, breakers, cache, the
/// dispatcher, the batch supervisor, the reporter), and the listener for the cache
/// invalidations of other instances: what `warren serve` and the batch commands
/// share. Construct it only once the process's signal handling is set up (it starts
/// threads).
class service_tree {
public:
  explicit service_tree(const settings& cfg);
  ~service_tree();
  service_tree(const service_tree&) = delete;
  service_tree& operator=(const service_tree&) = delete;

  /// Starts the services and waits until every one is up and registered. The error
  /// says what did not start (an invalid AMQP URL, a service that failed).
  caf::error start();

  /// Stops in order: no more peer invalidations, blocked backend calls return at
  /// once, then the supervision tree ends. Called by the destructor too.
  void stop();

  caf::actor_system& system() { return sys_; }
  std::shared_ptr<const tool_catalog> catalog() const { return catalog_; }
  caf::actor root() const { return root_; }
  /// The dispatcher now (it may have been restarted); invalid while it restarts.
  dispatcher_actor dispatcher();
  /// The registry names of the cache shards (none when the cache is off).
  const std::vector<caf::atom_value>& shard_names() const { return shard_names_; }
  /// Fetches the configured vhosts' lists into the cache, beside other work.
  void warm();

private:
  settings cfg_;
  caf::actor_system_config sys_cfg_;
  caf::actor_system sys_;
  std::shared_ptr<const tool_catalog> catalog_;
  std::shared_ptr<shutdown_signal> shutdown_;
  std::vector<caf::atom_value> shard_names_;
  std::unique_ptr<invalidation_listener> peers_;
  caf::actor root_;
};

/// Finds the actor registered under `name` now (services are restarted, so look up
/// each time).
template <class Handle>
std::function<Handle()> registry_lookup(caf::actor_system& sys, caf::atom_value name) {
  return [&sys, name] { return sys.registry().get<Handle>(name); };
}

/// The catalog options the settings ask for.
catalog_options catalog_options_of(const settings& cfg);

} // namespace warren
