#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace warren {

/// warren's error codes, carried in caf::error with the category atom "warren".
/// The error's context holds one std::string: what happened and what to do.
enum class ec : uint8_t {
  /// Not an error.
  none = 0,
  /// The client sent something that is not JSON.
  parse_error,
  /// The JSON is not a valid JSON-RPC request.
  invalid_request,
  /// The method is not one warren serves.
  method_not_found,
  /// The parameters (or tool arguments) do not fit the schema.
  invalid_params,
  /// No tool with that name.
  unknown_tool,
  /// A request arrived before initialize.
  not_initialized,
  /// A message exceeds the configured size limit.
  too_large,
  /// A backend could not be reached (connection refused, DNS, reset).
  backend_unreachable,
  /// A backend did not answer before the deadline.
  backend_timeout,
  /// A backend answered with something warren cannot use.
  backend_protocol,
  /// The broker refused the operation (AMQP channel or connection error such as
  /// NOT_FOUND or ACCESS_REFUSED); the message carries the broker's reply text.
  broker_refused,
  /// Too many requests are waiting; the caller should retry later.
  overloaded,
  /// A backend's circuit breaker is open: calls fail at once until its next probe.
  unavailable,
  /// The request was cancelled by the client.
  cancelled,
  /// A settings value is invalid; the message names the key.
  invalid_config,
  /// Anything else that went wrong inside warren.
  internal,
};

/// The category atom under which ec values travel in caf::error.
constexpr caf::atom_value error_category = caf::atom("warren");

/// A short, stable name for the code ("backend_timeout").
const char* to_string(ec code);

/// Builds an error whose context carries a human-readable message.
inline caf::error make_error(ec code, std::string message) {
  return caf::error(static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(message)));
}

/// The code of an error of warren's category, ec::internal for any other category.
ec code_of(const caf::error& err);

/// The human-readable message of an error made by make_error (or a rendering of a
/// foreign error).
std::string message_of(const caf::error& err);

} // namespace warren
