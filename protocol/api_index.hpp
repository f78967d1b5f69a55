#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "protocol/http_message.hpp"

namespace warren {

/// One operation of the RabbitMQ management HTTP API, as the discovery tools
/// (search-ids, get-id, call-id) describe it. The catalog of them is the data file
/// protocol/management_operations.json, embedded in the binary at build time.
struct api_operation {
  std::string id;           ///< stable and readable: "queues.list_in_vhost"
  std::string method;       ///< GET, PUT, POST, DELETE
  std::string path;         ///< "/api/queues/{vhost}/{name}"
  std::string summary;      ///< one line: what it does
  std::string schema_json;  ///< JSON Schema (object) of its arguments: path parameters,
                            ///< query parameters and, for PUT/POST, "body"
  bool writes = false;      ///< changes the broker
  bool destructive = false; ///< deletes or drops something
};

/// A search result: the operation and how well it matched.
struct search_hit {
  const api_operation* operation = nullptr;
  double score = 0;
};

/// The embedded management API catalog, searchable with a lexical ranker (BM25 over
/// id, path and summary, with a small synonym table) and able to turn arguments into
/// the HTTP request. Pure, immutable after construction, safe to share.
class api_index {
public:
  api_index();
  ~api_index();
  api_index(const api_index&) = delete;
  api_index& operator=(const api_index&) = delete;

  const std::vector<api_operation>& operations() const;

  /// The operation with this id, or nullptr.
  const api_operation* find(std::string_view id) const;

  /// The best `limit` operations for a natural-language query, best first.
  std::vector<search_hit> search(std::string_view query, std::size_t limit) const;

  /// Validates `arguments_json` against the operation's schema (errors name the
  /// argument, ec::invalid_params) and builds the request: path parameters substituted
  /// and percent-encoded, query parameters appended, "body" serialized as the body.
  caf::expected<http_request> build(const api_operation& op,
                                    std::string_view arguments_json) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace warren
