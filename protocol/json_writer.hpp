#pragma once

#include <cmath>
#include <string>

#include <rapidjson/writer.h>

#include "protocol/json_text.hpp"

namespace warren {

/// A RapidJSON writer whose output is always valid JSON in valid UTF-8, whatever the
/// document holds: a string with bytes that are not UTF-8 (a lone surrogate from a
/// "\udc00" escape, say) is written with those bytes replaced, and a number too large
/// for a double (RapidJSON parses 1e309 as infinity) is written as null. Plain
/// rapidjson::Writer would write the bad bytes, or stop in the middle of the document.
template <class Buffer>
class json_writer : public rapidjson::Writer<Buffer> {
public:
  using base = rapidjson::Writer<Buffer>;
  using base::base;

  bool Double(double d) { return std::isfinite(d) ? base::Double(d) : base::Null(); }

  bool String(const char* s, rapidjson::SizeType n, bool copy = false) {
    std::string_view text{s, n};
    if (is_utf8(text))
      return base::String(s, n, copy);
    auto clean = sanitize_utf8(text);
    return base::String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()),
                        true);
  }
  bool String(const char* s) {
    return String(s,
                  static_cast<rapidjson::SizeType>(std::char_traits<char>::length(s)));
  }
  bool String(const std::string& s) {
    return String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  }

  bool Key(const char* s, rapidjson::SizeType n, bool copy = false) {
    return String(s, n, copy);
  }
  bool Key(const char* s) { return String(s); }
  bool Key(const std::string& s) { return String(s); }
};

/// Where `json` (raw JSON text) has a \u escape of a UTF-16 surrogate that is not
/// part of a high-low pair, its byte offset; npos when there is none. Such an escape
/// names no character (RapidJSON accepts it and produces bytes that are not UTF-8).
std::size_t unpaired_surrogate_escape(std::string_view json);

} // namespace warren
