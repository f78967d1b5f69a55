#include "protocol/json_text.hpp"
#include "protocol/json_writer.hpp"

#include <cstdint>
#include <cstring>

namespace warren {

namespace {

// Length of the well-formed UTF-8 sequence at text[i], 0 if it is malformed
// (bad lead byte, missing continuation, overlong form, surrogate, > U+10FFFF).
std::size_t sequence_length(std::string_view text, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  auto lead = at(i);
  if (lead < 0x80)
    return 1;
  std::size_t len = 0;
  uint32_t cp = 0;
  if ((lead & 0xE0) == 0xC0) {
    len = 2;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    len = 3;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    len = 4;
    cp = lead & 0x07;
  } else {
    return 0;
  }
  if (i + len > text.size())
    return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((at(i + k) & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (at(i + k) & 0x3F);
  }
  static constexpr uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < smallest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

} // namespace

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto len = sequence_length(text, i);
    if (len == 0) {
      out += '?';
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::size_t invalid_utf8_at(std::string_view text) {
  constexpr uint64_t high_bits = 0x8080808080808080ull;
  std::size_t i = 0;
  while (i < text.size()) {
    if (uint64_t eight = 0; i + sizeof eight <= text.size()) {
      std::memcpy(&eight, text.data() + i, sizeof eight);
      if ((eight & high_bits) == 0) {
        i += sizeof eight;
        continue;
      }
    }
    auto len = sequence_length(text, i);
    if (len == 0)
      return i;
    i += len;
  }
  return std::string_view::npos;
}

bool is_utf8(std::string_view text) {
  return invalid_utf8_at(text) == std::string_view::npos;
}

std::size_t utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes)
    return text.size();
  auto end = max_bytes;
  // Step back over continuation bytes (10xxxxxx) to the start of a sequence.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
    --end;
  return end;
}

std::string clip_utf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes)
    return std::string{text};
  std::string out{text.substr(0, utf8_prefix(text, max_bytes))};
  out += "...";
  return out;
}

} // namespace warren

namespace warren {

namespace {

// The value of the four hex digits at text[at..at+4), or -1.
long hex4(std::string_view text, std::size_t at) {
  if (at + 4 > text.size())
    return -1;
  long v = 0;
  for (std::size_t i = at; i < at + 4; ++i) {
    char c = text[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

} // namespace

std::size_t unpaired_surrogate_escape(std::string_view json) {
  for (std::size_t i = 0; i + 1 < json.size(); ++i) {
    auto* slash = static_cast<const char*>(
        std::memchr(json.data() + i, '\\', json.size() - 1 - i));
    if (slash == nullptr)
      break;
    i = static_cast<std::size_t>(slash - json.data());
    if (json[i + 1] != 'u') {
      ++i; // an escape pair such as \\ or \": its second byte starts nothing
      continue;
    }
    auto v = hex4(json, i + 2);
    if (v >= 0xDC00 && v <= 0xDFFF)
      return i; // a low half with no high half before it
    if (v >= 0xD800 && v <= 0xDBFF) {
      auto next = i + 6;
      auto low = next + 1 < json.size() && json[next] == '\\' && json[next + 1] == 'u'
                     ? hex4(json, next + 2)
                     : -1;
      if (low < 0xDC00 || low > 0xDFFF)
        return i;
      i = next + 5; // the pair is fine; go on after it
      continue;
    }
    i += 1;
  }
  return std::string_view::npos;
}

} // namespace warren
