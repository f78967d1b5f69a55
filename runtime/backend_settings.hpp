#pragma once

#include <cstddef>
#include <string>

#include "actors/breaker.hpp"
#include "actors/circuit_breaker.hpp"
#include "actors/connection_pool.hpp"
#include "config/settings.hpp"

namespace warren {

/// A pool's configuration from the settings: `what` names it in messages.
pool_config pool_settings(const settings& cfg, std::size_t min, std::size_t max,
                          std::string what);

/// The circuit breakers' thresholds from the settings.
circuit_breaker::config breaker_rule(const settings& cfg);

/// A backend's breaker; `retries`: whether its idempotent requests may be repeated.
breaker_config breaker_settings(const settings& cfg, std::string what, bool retries);

} // namespace warren
