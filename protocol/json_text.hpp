#pragma once

#include <string>
#include <string_view>

namespace warren {

/// `text` with every byte that is not part of a well-formed UTF-8 sequence replaced
/// by '?', so that any message can be written into a JSON string.
std::string sanitize_utf8(std::string_view text);

/// The offset of the first byte of `text` that is not part of a well-formed UTF-8
/// sequence, or npos when there is none. Runs of ASCII are checked eight bytes at a
/// time.
std::size_t invalid_utf8_at(std::string_view text);

/// True if `text` is well-formed UTF-8 throughout.
bool is_utf8(std::string_view text);

/// The length of the longest prefix of `text` of at most `max_bytes` bytes that does
/// not split a UTF-8 sequence.
std::size_t utf8_prefix(std::string_view text, std::size_t max_bytes);

/// `text` cut to at most `max_bytes` bytes without splitting a UTF-8 sequence, with
/// "..." appended when something was cut. Keeps quoted API answers short.
std::string clip_utf8(std::string_view text, std::size_t max_bytes);

} // namespace warren
