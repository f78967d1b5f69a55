#include "protocol/management_api.hpp"

namespace warren {

namespace {

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '.' || c == '~';
}

} // namespace

std::string percent_encode(std::string_view text, std::string_view keep) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (is_unreserved(c) || keep.find(c) != std::string_view::npos) {
      out += c;
    } else {
      auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += hex[byte >> 4];
      out += hex[byte & 0x0F];
    }
  }
  return out;
}

std::string query_string(const std::vector<query_param>& params) {
  std::string out;
  for (const auto& p : params) {
    out += out.empty() ? '?' : '&';
    out += percent_encode(p.key);
    out += '=';
    out += percent_encode(p.value, p.keep);
  }
  return out;
}

std::string binding_properties_key(std::string_view routing_key) {
  if (routing_key.empty())
    return "~";
  std::string out;
  for (char c : routing_key) {
    if (c == ' ')
      out += '+';
    else if (c == '~')
      out += "%7E";
    else
      out += percent_encode({&c, 1});
  }
  return out;
}

long long page_count_for(long long count, long long page_size) {
  if (count <= 0 || page_size <= 0)
    return 0;
  return (count + page_size - 1) / page_size;
}

} // namespace warren
