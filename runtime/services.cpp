#include "runtime/services.hpp"

#include <algorithm>
#include <cstdio>
#include <random>
#include <thread>

#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/amqp_connection.hpp"
#include "actors/amqp_router.hpp"
#include "actors/batch_supervisor.hpp"
#include "actors/breaker.hpp"
#include "actors/cache_shard.hpp"
#include "actors/cache_warmer.hpp"
#include "actors/connection_pool.hpp"
#include "actors/dispatcher.hpp"
#include "actors/http_connection.hpp"
#include "actors/redis_l2.hpp"
#include "actors/reporter.hpp"
#include "actors/supervisor.hpp"
#include "protocol/error.hpp"
#include "runtime/amqp_client.hpp"
#include "runtime/backend_settings.hpp"
#include "runtime/control.hpp"
#include "runtime/invalidation_listener.hpp"
#include "runtime/shutdown_signal.hpp"

namespace warren {

namespace {

constexpr auto mgmt_name = service_name::mgmt;
constexpr auto mgmt_pool_name = service_name::mgmt_pool;
constexpr auto dispatcher_name = service_name::dispatcher;
constexpr auto amqp_name = service_name::amqp;
constexpr auto amqp_pool_name = service_name::amqp_pool;
constexpr auto l2_name = service_name::l2;
constexpr auto reporter_name = service_name::reporter;
constexpr auto batches_name = service_name::batches;

// CAF starts at least four workers by default, more than a two-core machine uses.
// Over stdio warren serves one client, and its default leaves one core to the threads
// outside the scheduler (stdin and stdout, the blocking connections to the broker and
// Redis): the actors' own work is a few microseconds a call, and on two cores one
// scheduler thread served 1.8 times the cached calls of two, with half the p99, from
// fewer wake-ups handing messages between threads. Over HTTP many sessions call at
// once, and one thread per core kept the p99 of 1000 paced sessions at about 7 ms,
// against 8-15 ms with one thread (bench/results/2026-11-22.md and -http.md).
int64_t scheduler_threads(const settings& cfg) {
  auto cores = std::max(1u, std::thread::hardware_concurrency());
  if (cfg.scheduler_threads != 0)
    return static_cast<int64_t>(cfg.scheduler_threads);
  return cfg.http_listen.empty() ? std::max(1u, cores - 1) : cores;
}

// A peer's write: drops the keys from the shared L2 first, then from every shard.
// The L2 goes first so that a shard's next miss cannot refill itself from a stale L2
// entry. And this instance's own L2 fills, sent before, land before this delete: a
// fill that raced the peer's own L2 delete (a list this instance fetched just before
// the peer's write) would otherwise outlive it. Runs on the listener's thread, which
// may wait.
void invalidate_everywhere(caf::actor_system& sys,
                           const std::vector<caf::atom_value>& names,
                           const std::vector<std::string>& prefixes) {
  if (auto l2 = sys.registry().get<l2_actor>(service_name::l2)) {
    caf::scoped_actor self{sys};
    self->request(l2, std::chrono::seconds{1}, invalidate_atom::value, prefixes)
        .receive([](uint64_t) {}, [](caf::error&) {});
  }
  for (auto name : names)
    if (auto shard = sys.registry().get<cache_actor>(name))
      caf::anon_send(shard, invalidate_atom::value, prefixes);
}

// The names under which the supervisor registers the cache shards. With
// cache.ttl_lists 0 they exist too: they keep nothing, but identical reads asked at
// once still share their fetches (see cache_shard's fresh lookups).
std::vector<caf::atom_value> shard_names_for(const settings& cfg) {
  std::vector<caf::atom_value> names;
  auto threads = static_cast<std::size_t>(scheduler_threads(cfg));
  std::size_t count = cfg.cache_shards;
  if (count == 0)
    for (count = 1; count < 4 * threads;)
      count *= 2;
  for (std::size_t i = 0; i < count; ++i)
    names.push_back(caf::atom_from_string("cache" + std::to_string(i)));
  return names;
}

// A random id that tells this instance's invalidation messages from its peers'.
std::string instance_id() {
  std::random_device random;
  char text[17];
  std::snprintf(text, sizeof(text), "%08x%08x", random(), random());
  return text;
}

// Starts the cache warmer for the configured vhosts; it runs beside the session.
void warm_cache(caf::actor_system& sys, const settings& cfg) {
  if (cfg.cache_ttl_lists == 0)
    return;
  auto vhosts = setting_list(cfg.cache_warm_vhosts);
  auto dispatch = sys.registry().get<dispatcher_actor>(dispatcher_name);
  if (dispatch)
    sys.spawn(cache_warmer, dispatch, std::move(vhosts),
              caf::timespan{cfg.request_timeout});
}

std::vector<child_spec> services(caf::actor_system& sys, const settings& cfg,
                                 std::shared_ptr<const tool_catalog> catalog,
                                 std::shared_ptr<shutdown_signal> shutdown,
                                 amqp_endpoint amqp, const std::string& origin) {
  http_connection_config conn{cfg.management, cfg.user, cfg.password,
                              cfg.http_connect_timeout, std::move(shutdown)};
  auto pool =
      pool_settings(cfg, cfg.http_pool_min, cfg.http_pool_max, "management API");
  auto start_pool = [conn, pool](caf::local_actor* self) {
    connection_factory factory = [conn](caf::local_actor* owner,
                                        std::shared_ptr<shutdown_signal> abort) {
      auto own = conn;
      own.abort = std::move(abort);
      return owner->spawn<caf::detached>(http_connection, std::move(own));
    };
    return caf::actor_cast<caf::actor>(self->spawn(http_pool, pool, factory));
  };
  // The cache: K shard actors (at least one), each registered under its own name.
  auto shard_names = shard_names_for(cfg);
  auto count = shard_names.size();
  cache_shard_config shard_cfg;
  shard_cfg.limits = {std::max<std::size_t>(1, cfg.cache_max_size / count),
                      std::max<std::size_t>(1, cfg.cache_max_bytes / count)};
  shard_cfg.settle = cfg.cache_settle;
  shard_cfg.merge_wait = cfg.cache_merge_wait;
  shard_cfg.max_flight = cfg.request_timeout + std::chrono::seconds{10};
  std::vector<child_spec> shard_children;
  for (auto name : shard_names)
    shard_children.push_back({name, [shard_cfg](caf::local_actor* self) {
                                return caf::actor_cast<caf::actor>(
                                    self->spawn(cache_shard, shard_cfg));
                              }});
  cache_access cache;
  cache.count = shard_names.size();
  cache.shard = [&sys, shard_names](std::size_t i) {
    return sys.registry().get<cache_actor>(shard_names[i]);
  };
  cache.ttl = std::chrono::seconds{cfg.cache_ttl_lists};
  bool keeps = cfg.cache_ttl_lists > 0; // else nothing is kept for peers to drop
  if (keeps)
    cache.exchange = cfg.cache_invalidation_exchange;
  cache.origin = origin;
  // The Redis L2 behind the shards, when asked for.
  std::vector<child_spec> l2_child;
  if (keeps && cfg.cache_backend == "redis") {
    if (auto redis = parse_redis_url(cfg.redis_url)) {
      redis_l2_config l2_cfg{*redis, "warren:", std::chrono::milliseconds{200},
                             shutdown, breaker_rule(cfg)};
      l2_child.push_back({l2_name, [l2_cfg](caf::local_actor* self) {
                            return caf::actor_cast<caf::actor>(
                                self->spawn<caf::detached>(redis_l2, l2_cfg));
                          }});
      cache.l2 = registry_lookup<l2_actor>(sys, l2_name);
    } else {
      spdlog::error("{}; the cache runs without its Redis L2",
                    message_of(redis.error()));
    }
  }
  auto start_dispatcher = [&sys, catalog, cache](caf::local_actor* self) {
    return caf::actor_cast<caf::actor>(
        self->spawn(dispatcher, catalog, registry_lookup<http_service>(sys, mgmt_name),
                    registry_lookup<amqp_service>(sys, amqp_name), cache,
                    registry_lookup<batch_service>(sys, batches_name)));
  };
  auto start_batches = [&sys, catalog](caf::local_actor* self) {
    batch_supervisor_config batch_cfg{
        catalog, registry_lookup<call_runner>(sys, dispatcher_name)};
    return caf::actor_cast<caf::actor>(self->spawn(batch_supervisor, batch_cfg));
  };
  auto amqp_pool = pool_settings(cfg, 0, cfg.amqp_pool_max, "AMQP");
  // Single publishes waiting for a connection go out together, a confirm window's
  // worth at a time.
  amqp_pool.merge_limit = std::max<std::size_t>(1, cfg.batch_confirm_window);
  auto start_amqp = [amqp, amqp_pool, shutdown](caf::local_actor* self) {
    amqp_connection_factory factory =
        [amqp, shutdown](caf::local_actor* owner, const std::string& vhost,
                         std::shared_ptr<shutdown_signal> abort) {
          return owner->spawn<caf::detached>(
              amqp_connection,
              amqp_connection_config{amqp, vhost, shutdown, std::move(abort)});
        };
    return caf::actor_cast<caf::actor>(self->spawn(amqp_router, amqp_pool, factory));
  };
  auto mgmt_breaker = [&sys, b = breaker_settings(cfg, "management API", true)](
                          caf::local_actor* self) {
    return caf::actor_cast<caf::actor>(self->spawn(
        http_breaker, b, registry_lookup<http_service>(sys, mgmt_pool_name)));
  };
  auto amqp_breaker_start =
      [&sys, b = breaker_settings(cfg, "AMQP broker", false)](caf::local_actor* self) {
        return caf::actor_cast<caf::actor>(self->spawn(
            amqp_breaker, b, registry_lookup<amqp_service>(sys, amqp_pool_name)));
      };
  // Each pool starts before the breaker in front of it.
  std::vector<child_spec> children{{mgmt_pool_name, start_pool},
                                   {mgmt_name, mgmt_breaker},
                                   {amqp_pool_name, start_amqp},
                                   {amqp_name, amqp_breaker_start}};
  children.insert(children.end(), shard_children.begin(), shard_children.end());
  children.insert(children.end(), l2_child.begin(), l2_child.end());
  children.push_back({dispatcher_name, start_dispatcher});
  children.push_back({batches_name, start_batches});
  children.push_back({reporter_name, [](caf::local_actor* self) {
                        return caf::actor_cast<caf::actor>(
                            self->spawn(reporter, request_stats::config{}));
                      }});
  return children;
}

caf::actor_system_config& configured(caf::actor_system_config& sys_cfg,
                                     const settings& cfg) {
  register_types(sys_cfg);
  sys_cfg.set("logger.console-verbosity", caf::atom("quiet"));
  sys_cfg.set("logger.file-verbosity", caf::atom("quiet"));
  sys_cfg.set("scheduler.policy", caf::atom_from_string(cfg.scheduler));
  sys_cfg.set("scheduler.max-threads", scheduler_threads(cfg));
  return sys_cfg;
}

} // namespace

catalog_options catalog_options_of(const settings& cfg) {
  catalog_options options{cfg.allow_writes, cfg.tool_families, cfg.max_body_bytes};
  options.batch_max_items = cfg.batch_max_items;
  options.batch_max_bytes = cfg.batch_max_bytes;
  options.batch_parallelism = cfg.batch_parallelism;
  options.batch_confirm_window = static_cast<uint32_t>(cfg.batch_confirm_window);
  return options;
}

service_tree::service_tree(const settings& cfg)
    : cfg_(cfg), sys_(configured(sys_cfg_, cfg)),
      catalog_(std::make_shared<const tool_catalog>(catalog_options_of(cfg))),
      shutdown_(std::make_shared<shutdown_signal>()),
      shard_names_(shard_names_for(cfg)) {}

service_tree::~service_tree() {
  stop();
}

caf::error service_tree::start() {
  auto amqp = parse_amqp_url(cfg_.amqp_url);
  if (!amqp)
    return std::move(amqp.error());
  amqp->connect_timeout = cfg_.http_connect_timeout;
  auto origin = instance_id();
  root_ =
      sys_.spawn(supervisor, services(sys_, cfg_, catalog_, shutdown_, *amqp, origin),
                 restart_policy::config{});
  caf::error failed;
  {
    caf::scoped_actor ask{sys_};
    ask->request(root_, std::chrono::seconds{30}, caf::get_atom::value)
        .receive([](uint64_t) {},
                 [&](caf::error& err) {
                   failed = make_error(ec::unavailable, "warren's services did not "
                                                        "start: " +
                                                            sys_.render(err));
                 });
  }
  if (failed) {
    stop();
    return failed;
  }
  // Peers' writes invalidate this instance's cache too (when the cache is shared).
  if (cfg_.cache_ttl_lists > 0 && !cfg_.cache_invalidation_exchange.empty()) {
    auto& sys = sys_;
    auto names = shard_names_;
    peers_ = std::make_unique<invalidation_listener>(
        *amqp, cfg_.cache_invalidation_exchange, origin,
        [&sys, names](std::vector<std::string> prefixes) {
          invalidate_everywhere(sys, names, prefixes);
        });
    peers_->start();
  }
  return {};
}

void service_tree::stop() {
  if (peers_) {
    peers_->stop();
    peers_.reset();
  }
  shutdown_->fire(); // blocked backend calls return now instead of at their deadline
  if (root_) {
    caf::anon_send_exit(root_, caf::exit_reason::user_shutdown);
    root_ = nullptr;
  }
}

dispatcher_actor service_tree::dispatcher() {
  return sys_.registry().get<dispatcher_actor>(dispatcher_name);
}

void service_tree::warm() {
  warm_cache(sys_, cfg_);
}

} // namespace warren
