#pragma once

#include "config/settings.hpp"

namespace warren {

/// Runs `warren serve` over stdio until stdin closes or a stop signal arrives: starts
/// the actor tree, serves one MCP session, then shuts down in order. Returns the
/// process exit code.
int serve_stdio(const settings& cfg);

} // namespace warren
