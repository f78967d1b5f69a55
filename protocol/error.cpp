#include "protocol/error.hpp"

#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace warren {

const char* to_string(ec code) {
  switch (code) {
  case ec::none:
    return "none";
  case ec::parse_error:
    return "parse_error";
  case ec::invalid_request:
    return "invalid_request";
  case ec::method_not_found:
    return "method_not_found";
  case ec::invalid_params:
    return "invalid_params";
  case ec::unknown_tool:
    return "unknown_tool";
  case ec::not_initialized:
    return "not_initialized";
  case ec::too_large:
    return "too_large";
  case ec::backend_unreachable:
    return "backend_unreachable";
  case ec::backend_timeout:
    return "backend_timeout";
  case ec::backend_protocol:
    return "backend_protocol";
  case ec::broker_refused:
    return "broker_refused";
  case ec::overloaded:
    return "overloaded";
  case ec::unavailable:
    return "unavailable";
  case ec::cancelled:
    return "cancelled";
  case ec::invalid_config:
    return "invalid_config";
  case ec::internal:
    return "internal";
  }
  return "unknown";
}

ec code_of(const caf::error& err) {
  if (!err)
    return ec::none;
  if (err.category() != error_category)
    return ec::internal;
  return static_cast<ec>(err.code());
}

std::string message_of(const caf::error& err) {
  if (!err)
    return {};
  const auto& ctx = err.context();
  if (err.category() == error_category && ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  if (err.category() == caf::atom("system"))
    return "internal actor error (" +
           caf::to_string(static_cast<caf::sec>(err.code())) + ")";
  return "internal error (code " + std::to_string(err.code()) + ")";
}

} // namespace warren
