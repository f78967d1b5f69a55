#pragma once

#include <string>
#include <vector>

namespace warren {

/// What an instance publishes on the cache invalidation exchange after a write:
/// {"origin":<instance id>,"prefixes":[<cache key prefixes>]}.
std::string invalidation_message(const std::string& origin,
                                 const std::vector<std::string>& prefixes);

/// Reads one into `prefixes`; false when the body is not one, names no prefix, or
/// comes from `self_origin` (an instance has applied its own already).
bool parse_invalidation(const std::string& body, const std::string& self_origin,
                        std::vector<std::string>& prefixes);

} // namespace warren
