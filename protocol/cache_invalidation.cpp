#include "protocol/cache_invalidation.hpp"

#include <rapidjson/document.h>

#include "protocol/jsonrpc.hpp"

namespace warren {

std::string invalidation_message(const std::string& origin,
                                 const std::vector<std::string>& prefixes) {
  std::string out = R"({"origin":)" + quote_json(origin) + R"(,"prefixes":[)";
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    if (i != 0)
      out += ',';
    out += quote_json(prefixes[i]);
  }
  out += "]}";
  return out;
}

bool parse_invalidation(const std::string& body, const std::string& self_origin,
                        std::vector<std::string>& prefixes) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("origin") ||
      !doc["origin"].IsString() || !doc.HasMember("prefixes") ||
      !doc["prefixes"].IsArray())
    return false;
  if (self_origin == doc["origin"].GetString())
    return false;
  prefixes.clear();
  for (auto& p : doc["prefixes"].GetArray())
    if (p.IsString())
      prefixes.emplace_back(p.GetString(), p.GetStringLength());
  return !prefixes.empty();
}

} // namespace warren
