#include "runtime/control.hpp"

#include <algorithm>

#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/breaker.hpp"
#include "actors/interfaces.hpp"
#include "actors/reporter.hpp"
#include "actors/status.hpp"
#include "protocol/error.hpp"
#include "runtime/backend_settings.hpp"
#include "runtime/logging.hpp"
#include "runtime/process_stats.hpp"

namespace warren {

namespace {

// How long an operator waits for an actor before being told it did not answer.
constexpr auto patience = std::chrono::seconds{3};

template <class Result, class... Ts>
caf::expected<Result> ask(caf::actor_system& sys, const caf::actor& whom, Ts&&... xs) {
  caf::scoped_actor self{sys};
  caf::expected<Result> answer{make_error(ec::internal, "no answer")};
  self->request(whom, patience, std::forward<Ts>(xs)...)
      .receive([&](Result& r) { answer = std::move(r); },
               [&](caf::error& err) {
                 answer =
                     make_error(ec::backend_timeout,
                                "warren's actors did not answer: " + sys.render(err));
               });
  return answer;
}

} // namespace

control_plane::control_plane(caf::actor_system& sys, settings cfg,
                             control_targets targets)
    : sys_(sys), targets_(std::move(targets)), cfg_(std::move(cfg)) {}

const std::vector<std::string>& control_plane::runtime_keys() {
  static const std::vector<std::string> keys = {
      "server.log_level",     "cache.ttl_lists",   "http_pool.min",
      "http_pool.max",        "amqp_pool.max",     "breaker.failures",
      "breaker.failure_rate", "breaker.min_calls", "breaker.window_ms",
      "breaker.open_ms",      "breaker.probes",    "retry.attempts",
      "retry.base_ms",        "retry.factor",      "retry.max_ms",
      "retry.budget_percent"};
  return keys;
}

actor_status control_plane::tree() const {
  actor_status root;
  root.kind = "process";
  root.name = "warren";
  root.state = "serving";
  auto sessions = targets_.sessions ? targets_.sessions() : std::vector<caf::actor>{};
  for (auto& s : sessions) {
    auto st = ask<actor_status>(sys_, s, status_atom::value);
    root.children.push_back(st ? std::move(*st)
                               : silent_status(s, message_of(st.error())));
  }
  auto tree = ask<actor_status>(sys_, targets_.root, status_atom::value);
  auto top =
      tree ? std::move(*tree) : silent_status(targets_.root, message_of(tree.error()));
  top.name = "root";
  root.children.push_back(std::move(top));
  return root;
}

request_snapshot control_plane::requests() const {
  auto reporter = sys_.registry().get<caf::actor>(service_name::reporter);
  if (!reporter)
    return {};
  auto snap = ask<request_snapshot>(sys_, reporter, report_atom::value);
  return snap ? std::move(*snap) : request_snapshot{};
}

perf_report control_plane::report() {
  auto snap = requests();
  auto health = health_from(tree());
  perf_report r;
  r.window_seconds = snap.window_seconds;
  r.tools = snap.tools;
  r.slowest = snap.slowest;
  r.hints = bottleneck_hints(snap.tools, health, snap.window_seconds);
  return r;
}

std::vector<prometheus::MetricFamily> control_plane::Collect() const {
  return metric_families(tree(), requests(), read_process_figures());
}

std::string control_plane::metrics_text() {
  return to_prometheus_text(Collect());
}

caf::expected<uint64_t> control_plane::flush(const std::string& prefix) {
  uint64_t dropped = 0;
  std::vector<std::string> prefixes{prefix};
  for (auto name : targets_.shards) {
    auto shard = sys_.registry().get<caf::actor>(name);
    if (!shard)
      continue;
    auto n = ask<uint64_t>(sys_, shard, invalidate_atom::value, prefixes);
    if (!n)
      return n.error();
    dropped += *n;
  }
  if (auto l2 = sys_.registry().get<caf::actor>(service_name::l2))
    caf::anon_send(caf::actor_cast<l2_actor>(l2), invalidate_atom::value, prefixes);
  spdlog::info("cache flushed by an operator: prefix \"{}\", {} entries dropped",
               prefix, dropped);
  return dropped;
}

void control_plane::warm() {
  if (targets_.warm)
    targets_.warm();
}

caf::expected<caf::actor> control_plane::named(caf::atom_value name,
                                               const std::string& what) const {
  auto handle = sys_.registry().get<caf::actor>(name);
  if (!handle)
    return make_error(ec::unavailable, "the " + what + " is restarting; try again");
  return handle;
}

caf::expected<caf::atom_value> control_plane::backend(const std::string& name,
                                                      bool pool) const {
  if (name == "management")
    return pool ? service_name::mgmt_pool : service_name::mgmt;
  if (name == "amqp")
    return pool ? service_name::amqp_pool : service_name::amqp;
  return make_error(ec::invalid_params, "unknown " +
                                            std::string{pool ? "pool" : "breaker"} +
                                            " '" + name + "': use management or amqp");
}

caf::error control_plane::resize(const std::string& name, std::size_t min,
                                 std::size_t max) {
  auto id = backend(name, true);
  if (!id)
    return id.error();
  if (max == 0 || min > max || max > 1000)
    return make_error(ec::invalid_params,
                      "pool sizes must satisfy 0 <= MIN <= MAX and 1 <= MAX <= 1000");
  auto pool = named(*id, name + " pool");
  if (!pool)
    return pool.error();
  caf::anon_send(caf::actor_cast<caf::actor>(*pool), resize_atom::value,
                 static_cast<uint64_t>(min), static_cast<uint64_t>(max));
  std::lock_guard<std::mutex> guard{mtx_};
  if (name == "management") {
    cfg_.http_pool_min = min;
    cfg_.http_pool_max = max;
  } else {
    cfg_.amqp_pool_max = max;
  }
  spdlog::info("{} pool resized by an operator: min {}, max {}", name, min, max);
  return {};
}

caf::error control_plane::trip(const std::string& name) {
  return to_breaker(name, caf::make_message(trip_atom::value));
}

caf::error control_plane::reset(const std::string& name) {
  return to_breaker(name, caf::make_message(reset_atom::value));
}

caf::error control_plane::to_breaker(const std::string& name, caf::message msg) {
  auto id = backend(name, false);
  if (!id)
    return id.error();
  auto b = named(*id, name + " breaker");
  if (!b)
    return b.error();
  caf::anon_send(*b, std::move(msg));
  return {};
}

settings control_plane::current() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return cfg_;
}

caf::error control_plane::set(const std::string& key, const std::string& value) {
  const auto& keys = runtime_keys();
  if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
    if (!setting_value(current(), key))
      return make_error(ec::invalid_config,
                        "unknown setting '" + key + "' (`config get` lists them all)");
    std::string list;
    for (const auto& k : keys)
      list += (list.empty() ? "" : ", ") + k;
    return make_error(ec::invalid_config,
                      key +
                          " takes effect only at start (config file, environment or "
                          "flag); at run time these can change: " +
                          list);
  }
  settings next;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    next = cfg_;
  }
  if (auto err = set_setting(next, key, value))
    return err;
  if (key == "server.log_level") {
    set_log_level(next.log_level);
  } else if (key == "cache.ttl_lists") {
    auto d = named(service_name::dispatcher, "dispatcher");
    if (!d)
      return d.error();
    caf::anon_send(*d, ttl_atom::value,
                   caf::timespan{std::chrono::seconds{next.cache_ttl_lists}});
  } else if (key == "http_pool.min" || key == "http_pool.max") {
    if (auto err = resize("management", next.http_pool_min, next.http_pool_max))
      return err;
  } else if (key == "amqp_pool.max") {
    if (auto err = resize("amqp", 0, next.amqp_pool_max))
      return err;
  } else { // breaker.* and retry.*
    for (auto [id, what, retries] :
         {std::tuple{service_name::mgmt, "management API", true},
          std::tuple{service_name::amqp, "AMQP broker", false}})
      if (auto b = sys_.registry().get<caf::actor>(id))
        caf::anon_send(b, configure_atom::value, breaker_settings(next, what, retries));
  }
  std::lock_guard<std::mutex> guard{mtx_};
  cfg_ = std::move(next);
  spdlog::info("setting {} changed by an operator to {}", key,
               setting_value(cfg_, key).value_or("?"));
  return {};
}

} // namespace warren
