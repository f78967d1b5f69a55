#pragma once

#include "config/settings.hpp"

namespace warren {

/// Runs `warren serve` over stdio until stdin closes or a stop signal arrives: starts
/// the actor tree, serves one MCP session, then shuts down in order. Returns the
/// process exit code.
int serve_stdio(const settings& cfg);

/// Runs `warren serve --http HOST:PORT` until a stop signal arrives: the same actor
/// tree, with one session actor per MCP session over Streamable HTTP. Returns the
/// process exit code (2 when it cannot listen or the token file is unreadable).
int serve_http(const settings& cfg);

/// serve_http when http.listen is set, else serve_stdio.
int serve(const settings& cfg);

} // namespace warren
