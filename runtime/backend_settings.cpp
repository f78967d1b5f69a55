#include "runtime/backend_settings.hpp"

namespace warren {

pool_config pool_settings(const settings& cfg, std::size_t min, std::size_t max,
                          std::string what) {
  pool_config pool;
  pool.min = min;
  pool.max = max;
  pool.queue_bound = cfg.pool_queue;
  pool.idle_timeout = cfg.http_idle_timeout;
  pool.what = std::move(what);
  pool.policy =
      parse_exhaustion_policy(cfg.pool_policy).value_or(exhaustion_policy::block);
  pool.wait = cfg.pool_wait;
  return pool;
}

circuit_breaker::config breaker_rule(const settings& cfg) {
  circuit_breaker::config rule;
  rule.failures = cfg.breaker_failures;
  rule.failure_rate_percent = cfg.breaker_failure_rate;
  rule.min_calls = cfg.breaker_min_calls;
  rule.window = cfg.breaker_window;
  rule.open_for = cfg.breaker_open;
  rule.probes = cfg.breaker_probes;
  return rule;
}

breaker_config breaker_settings(const settings& cfg, std::string what, bool retries) {
  breaker_config b;
  b.what = std::move(what);
  b.rule = breaker_rule(cfg);
  b.retry.attempts = retries ? cfg.retry_attempts : 1;
  b.retry.base = cfg.retry_base;
  b.retry.factor = static_cast<double>(cfg.retry_factor);
  b.retry.cap = cfg.retry_max;
  b.budget_ratio = static_cast<double>(cfg.retry_budget_percent) / 100.0;
  return b;
}

} // namespace warren
