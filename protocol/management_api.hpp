#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warren {

/// Percent-encodes `text` for one path segment or one query value of a management API
/// URL. Everything but RFC 3986 unreserved characters (and the characters in `keep`)
/// is encoded, so the default vhost "/" becomes "%2F" and cannot split the path.
std::string percent_encode(std::string_view text, std::string_view keep = {});

/// One query parameter; `keep` lists characters left unencoded in the value (",").
struct query_param {
  std::string key;
  std::string value;
  std::string_view keep = {};
};

/// "?k=v&k2=v2" with encoded values, in the given order; "" when `params` is empty.
std::string query_string(const std::vector<query_param>& params);

/// The properties_key RabbitMQ gives a binding without arguments, which names it in
/// DELETE /api/bindings/{vhost}/e/{source}/q/{destination}/{props}: "~" for an empty
/// routing key, else the routing key form-encoded (space as '+', '~' as "%7E").
/// Bindings with arguments add a hash of them that only the broker computes.
std::string binding_properties_key(std::string_view routing_key);

/// Number of pages of `page_size` items needed for `count` items (0 for none).
long long page_count_for(long long count, long long page_size);

} // namespace warren
