#include "protocol/log_format.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "protocol/json_text.hpp"

namespace warren {

namespace {

constexpr std::string_view mask = "***";

using span = std::pair<std::size_t, std::size_t>; // [begin, end) of text to mask

bool is_scheme_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '+' || c == '.' || c == '-';
}

bool ends_authority(char c) {
  return c == '/' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v' || c == '"' || c == '\'';
}

// The password of every "scheme://user:password@" in the text. The last '@' before
// the authority ends is the one that ends the userinfo (a host has none), so a
// password holding an unescaped '@' is masked whole.
void find_url_passwords(std::string_view text, std::vector<span>& found) {
  constexpr std::string_view sep = "://";
  for (auto at = text.find(sep); at != std::string_view::npos;
       at = text.find(sep, at + sep.size())) {
    if (at == 0 || !is_scheme_char(text[at - 1]))
      continue;
    auto begin = at + sep.size();
    auto userinfo_end = std::string_view::npos;
    // Stops at the next "://" at the latest (its '/'), so the scans stay linear.
    for (auto i = begin; i < text.size() && !ends_authority(text[i]); ++i)
      if (text[i] == '@')
        userinfo_end = i;
    if (userinfo_end == std::string_view::npos)
      continue;
    auto colon = text.find(':', begin);
    if (colon < userinfo_end && colon + 1 < userinfo_end)
      found.emplace_back(colon + 1, userinfo_end);
  }
}

void find_secrets(std::string_view text, const std::vector<std::string>& secrets,
                  std::vector<span>& found) {
  for (const auto& secret : secrets)
    for (auto at = text.find(secret); at != std::string_view::npos;
         at = text.find(secret, at + 1))
      found.emplace_back(at, at + secret.size());
}

void append_two_digits(std::string& out, unsigned v) {
  out.push_back(static_cast<char>('0' + v / 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
// civil_from_days). Done by hand because gmtime_r takes glibc's time zone lock.
void append_utc_time(std::string& out, std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  constexpr std::int64_t ms_per_day = 86'400'000;
  auto days = ms / ms_per_day;
  auto ms_of_day = ms % ms_per_day;
  if (ms_of_day < 0) {
    ms_of_day += ms_per_day;
    --days;
  }
  auto z = days + 719468;
  auto era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = static_cast<unsigned>(z - era * 146097);
  auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  auto mp = (5 * doy + 2) / 153;
  auto day = doy - (153 * mp + 2) / 5 + 1;
  auto month = mp < 10 ? mp + 3 : mp - 9;
  auto year = static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
  if (year >= 0 && year <= 9999) {
    append_two_digits(out, static_cast<unsigned>(year / 100));
    append_two_digits(out, static_cast<unsigned>(year % 100));
  } else {
    out += std::to_string(year);
  }
  out.push_back('-');
  append_two_digits(out, month);
  out.push_back('-');
  append_two_digits(out, day);
  out.push_back('T');
  auto secs = static_cast<unsigned>(ms_of_day / 1000);
  append_two_digits(out, secs / 3600);
  out.push_back(':');
  append_two_digits(out, secs / 60 % 60);
  out.push_back(':');
  append_two_digits(out, secs % 60);
  out.push_back('.');
  auto millis = static_cast<unsigned>(ms_of_day % 1000);
  out.push_back(static_cast<char>('0' + millis / 100));
  append_two_digits(out, millis % 100);
  out.push_back('Z');
}

// A JSON string of well-formed UTF-8 text: quotes, backslashes and control
// characters escaped, everything else copied in runs.
void append_escaped(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      out += "\\u00";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xf]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void append_json_string(std::string& out, std::string_view s) {
  if (is_utf8(s))
    append_escaped(out, s);
  else
    append_escaped(out, sanitize_utf8(s));
}

void append_member(std::string& out, std::string_view key, std::string_view value) {
  out.push_back(',');
  append_json_string(out, key);
  out.push_back(':');
  append_json_string(out, value);
}

} // namespace

redactor::redactor(std::vector<std::string> secrets) : secrets_(std::move(secrets)) {
  secrets_.erase(std::remove(secrets_.begin(), secrets_.end(), std::string{}),
                 secrets_.end());
  std::sort(secrets_.begin(), secrets_.end(), [](const auto& a, const auto& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  secrets_.erase(std::unique(secrets_.begin(), secrets_.end()), secrets_.end());
}

// Every byte any secret or URL password covers is masked, and each run of
// overlapping matches becomes one "***": a secret that contains another, or two
// that overlap, leave no part of either behind.
std::string redactor::apply(std::string_view text) const {
  std::vector<span> found; // allocates only once something is found
  find_secrets(text, secrets_, found);
  find_url_passwords(text, found);
  if (found.empty())
    return std::string{text};
  std::sort(found.begin(), found.end());
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  for (std::size_t i = 0; i < found.size();) {
    auto [begin, end] = found[i];
    for (++i; i < found.size() && found[i].first < end; ++i)
      end = std::max(end, found[i].second);
    out.append(text.data() + copied, begin - copied);
    out += mask;
    copied = end;
  }
  out.append(text.data() + copied, text.size() - copied);
  return out;
}

void append_log_line(std::string& out, const log_record& record, const redactor& r) {
  auto msg = r.apply(record.message);
  out.reserve(out.size() + msg.size() + record.logger.size() +
              record.correlation.size() + 80);
  out += "{\"ts\":\"";
  append_utc_time(out, record.time);
  out.push_back('"');
  append_member(out, "level", record.level);
  append_member(out, "logger", record.logger);
  append_member(out, "msg", msg);
  if (!record.correlation.empty())
    append_member(out, "corr", record.correlation);
  out += "}\n";
}

} // namespace warren
