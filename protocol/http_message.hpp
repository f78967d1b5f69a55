#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace warren {

/// One request to the management HTTP API. `target` is the path and query below the
/// configured base URL, already percent-encoded ("/api/queues/%2F?page=1").
struct http_request {
  std::string method = "GET";
  std::string target;
  std::string body; ///< JSON; empty for GET and DELETE
  /// The tool call this request serves, so that cancelling the call can stop it; 0
  /// for work no single call owns (a cache fill that other callers wait for).
  uint64_t call = 0;
};

/// The API's answer: the HTTP status and the body as received.
struct http_response {
  int status = 0;
  std::string body;
  uint64_t backend_ns = 0; ///< time on the wire and at the broker
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_request& x) {
  return f(caf::meta::type_name("http_request"), x.method, x.target, x.body, x.call);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_response& x) {
  return f(caf::meta::type_name("http_response"), x.status, x.body, x.backend_ns);
}

} // namespace warren
