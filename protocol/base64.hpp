#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace warren {

/// Standard base64 (RFC 4648, with '=' padding) of raw bytes.
std::string base64_encode(std::string_view bytes);

/// The bytes of standard base64 text; nullopt if it is not valid base64 (wrong
/// alphabet, length or padding). Whitespace is not allowed.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace warren
