#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>
#include <prometheus/collectable.h>

#include "config/settings.hpp"
#include "protocol/actor_status.hpp"
#include "protocol/metric_families.hpp"
#include "protocol/perf_report.hpp"
#include "protocol/request_stats.hpp"

namespace warren {

/// The registry names of the services under the root supervisor. The breakers are
/// registered under the names callers use; the pools behind them under their own.
namespace service_name {
inline constexpr auto mgmt = caf::atom("mgmt");
inline constexpr auto mgmt_pool = caf::atom("mgmtpool");
inline constexpr auto amqp = caf::atom("amqp");
inline constexpr auto amqp_pool = caf::atom("amqppool");
inline constexpr auto dispatcher = caf::atom("dispatcher");
inline constexpr auto l2 = caf::atom("redisl2");
inline constexpr auto reporter = caf::atom("reporter");
inline constexpr auto batches = caf::atom("batches");
} // namespace service_name

/// Where the control plane finds what it looks at and steers.
struct control_targets {
  caf::actor root; ///< the root supervisor
  /// The client sessions alive now (they live outside the supervision tree).
  std::function<std::vector<caf::actor>()> sessions;
  std::vector<caf::atom_value> shards; ///< the cache shards' registry names
  std::function<void()> warm;          ///< starts a cache warmer
};

/// What operators do to a running warren, for the console and the metrics endpoint:
/// read the actors' statuses and the request figures, flush and warm the cache,
/// resize pools, trip and reset breakers, and change settings at run time. Runs on
/// the console's and the exporter's threads; it talks to actors by messages only.
class control_plane : public prometheus::Collectable {
public:
  control_plane(caf::actor_system& sys, settings cfg, control_targets targets);

  /// The whole tree: a root for the process, its sessions and the supervision tree.
  actor_status tree() const;
  request_snapshot requests() const;
  perf_report report();
  std::string metrics_text();
  std::vector<prometheus::MetricFamily> Collect() const override;

  /// Drops cached results whose keys start with `prefix` ("" for all) in every shard
  /// and the L2; answers how many entries the shards dropped.
  caf::expected<uint64_t> flush(const std::string& prefix);
  void warm();

  /// `name`: "management" or "amqp".
  caf::error resize(const std::string& name, std::size_t min, std::size_t max);
  caf::error trip(const std::string& name);
  caf::error reset(const std::string& name);

  /// The current settings, and one key changed at run time: validated like the
  /// config file, then applied to the actors it concerns. Keys that only take
  /// effect at start are refused with the list of those that can change.
  settings current() const;
  caf::error set(const std::string& key, const std::string& value);

  /// The keys `set` accepts.
  static const std::vector<std::string>& runtime_keys();

private:
  caf::expected<caf::actor> named(caf::atom_value name, const std::string& what) const;
  caf::expected<caf::atom_value> backend(const std::string& name, bool pool) const;
  caf::error to_breaker(const std::string& name, caf::message msg);

  caf::actor_system& sys_;
  control_targets targets_;
  mutable std::mutex mtx_; ///< guards cfg_
  settings cfg_;
};

} // namespace warren
