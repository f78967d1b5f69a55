#include "protocol/log_format.hpp"

#include <doctest/doctest.h>

#include <string>

#include <rapidjson/document.h>

#include "protocol/json_text.hpp"

using namespace warren;
using namespace std::chrono_literals;

namespace {

// 2026-11-22T10:00:00.123Z
const auto fixed_time =
    std::chrono::system_clock::time_point{} + 1'795'341'600s + 123ms;

log_record record_of(std::string_view message, std::string_view correlation = {}) {
  return {fixed_time, "info", "warren", message, correlation};
}

std::string line_of(const log_record& record, const redactor& r = redactor{}) {
  std::string out;
  append_log_line(out, record, r);
  return out;
}

// The line without its newline, parsed strictly (valid UTF-8 required).
rapidjson::Document parsed(const std::string& line) {
  rapidjson::Document doc;
  REQUIRE(!line.empty());
  REQUIRE(line.back() == '\n');
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size() - 1);
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  return doc;
}

std::string member(const rapidjson::Document& doc, const char* key) {
  auto it = doc.FindMember(key);
  REQUIRE(it != doc.MemberEnd());
  REQUIRE(it->value.IsString());
  return {it->value.GetString(), it->value.GetStringLength()};
}

} // namespace

TEST_CASE("the redactor masks a secret at the start, in the middle and every time "
          "it repeats") {
  redactor r{{"s3cret"}};
  CHECK(r.apply("s3cret is the password") == "*** is the password");
  CHECK(r.apply("login with s3cret failed") == "login with *** failed");
  CHECK(r.apply("s3cret,s3cret and s3cret") == "***,*** and ***");
  CHECK(r.apply("ends with s3cret") == "ends with ***");
  CHECK(r.apply("s3cret") == "***");
}

TEST_CASE("the redactor masks every configured secret") {
  redactor r{{"alpha", "", "beta"}};
  CHECK(r.apply("alpha and beta") == "*** and ***");
}

TEST_CASE("the redactor leaves no part of a secret that contains or overlaps "
          "another") {
  SUBCASE("one contains the other, the short one listed first") {
    redactor r{{"pass", "password1"}};
    CHECK(r.apply("pw=password1;") == "pw=***;");
    CHECK(r.apply("pw=pass;") == "pw=***;");
  }
  SUBCASE("two that overlap without containing") {
    redactor r{{"abcd", "cdef"}};
    CHECK(r.apply("xabcdefx") == "x***x");
  }
  SUBCASE("a secret that overlaps itself") {
    redactor r{{"aa"}};
    CHECK(r.apply("baaab") == "b***b");
  }
}

TEST_CASE("the redactor masks the password in a URL's userinfo") {
  redactor r;
  CHECK(r.apply("connecting to amqp://guest:hunter2@localhost:5672/%2f") ==
        "connecting to amqp://guest:***@localhost:5672/%2f");
  CHECK(r.apply("GET http://admin:pa:ss@broker:15672/api/overview") ==
        "GET http://admin:***@broker:15672/api/overview");
  CHECK(r.apply("redis://default:r3d1s@cache:6379 and amqps://u:p@h") ==
        "redis://default:***@cache:6379 and amqps://u:***@h");
  CHECK(r.apply("url=\"amqp://u:p@w@host\"") == "url=\"amqp://u:***@host\"");
}

TEST_CASE("URLs without a password in their userinfo are left alone") {
  redactor r;
  for (std::string_view text :
       {"amqp://localhost:5672/%2f", "http://guest@broker/api", "http://broker/a@b",
        "amqp://host:5672 user@example.org", "http://u:@host/", "://u:p@h"})
    CHECK(r.apply(text) == text);
}

TEST_CASE("text with nothing to redact comes back unchanged") {
  redactor r{{"s3cret"}};
  std::string text = "queue orders has 12 messages; s3cre t; :// x:y";
  CHECK(r.apply(text) == text);
  CHECK(r.apply("") == "");
  CHECK(redactor{}.apply(text) == text);
}

TEST_CASE("a log line is one JSON object with time, level, logger, message and "
          "correlation") {
  auto line = line_of({fixed_time, "warn", "warren", "queue \"q\" is gone", "42"});
  CHECK(line.find('\n') == line.size() - 1);
  auto doc = parsed(line);
  CHECK(doc.MemberCount() == 5);
  CHECK(member(doc, "ts") == "2026-11-22T10:00:00.123Z");
  CHECK(member(doc, "level") == "warn");
  CHECK(member(doc, "logger") == "warren");
  CHECK(member(doc, "msg") == "queue \"q\" is gone");
  CHECK(member(doc, "corr") == "42");
  CHECK(line.rfind("{\"ts\":", 0) == 0);
}

TEST_CASE("a log line without a correlation has no corr member") {
  auto doc = parsed(line_of(record_of("started")));
  CHECK(doc.MemberCount() == 4);
  CHECK_FALSE(doc.HasMember("corr"));
  CHECK(member(doc, "msg") == "started");
}

TEST_CASE("a log line passes its message through the redactor") {
  redactor r{{"s3cret"}};
  auto line = line_of(record_of("login with s3cret to amqp://u:pw@h/"), r);
  CHECK(line.find("s3cret") == std::string::npos);
  CHECK(line.find(":pw@") == std::string::npos);
  CHECK(member(parsed(line), "msg") == "login with *** to amqp://u:***@h/");
}

TEST_CASE("a log line appends to what the buffer already holds") {
  std::string out = "x";
  append_log_line(out, record_of("one"), redactor{});
  auto first = out.size();
  append_log_line(out, record_of("two"), redactor{});
  CHECK(out[0] == 'x');
  CHECK(member(parsed(out.substr(1, first - 1)), "msg") == "one");
  CHECK(member(parsed(out.substr(first)), "msg") == "two");
}

TEST_CASE("log line timestamps are UTC with milliseconds, whatever the time") {
  using std::chrono::system_clock;
  auto ts = [](system_clock::time_point t) {
    return member(parsed(line_of({t, "info", "warren", "m", {}})), "ts");
  };
  CHECK(ts(system_clock::time_point{}) == "1970-01-01T00:00:00.000Z");
  CHECK(ts(fixed_time) == "2026-11-22T10:00:00.123Z");
  // 2024-02-29T23:59:59.999Z, a leap day; sub-millisecond parts are dropped.
  CHECK(ts(system_clock::time_point{} + 1'709'251'199'999ms + 999us) ==
        "2024-02-29T23:59:59.999Z");
  CHECK(ts(system_clock::time_point{} + 1'709'251'200s) == "2024-03-01T00:00:00.000Z");
  CHECK(ts(system_clock::time_point{} + 951'782'400s + 7ms) ==
        "2000-02-29T00:00:00.007Z");
  CHECK(ts(system_clock::time_point{} - 1ms) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("control characters in a message still give valid JSON and come back "
          "intact") {
  std::string message = "a\nb\tc\"d\\e";
  for (char c = 1; c < 0x20; ++c)
    message.push_back(c);
  message.push_back('\0');
  message += "\x7f end";
  auto line = line_of(record_of(message));
  CHECK(line.find('\n') == line.size() - 1);
  for (char c : line.substr(0, line.size() - 1))
    CHECK(static_cast<unsigned char>(c) >= 0x20);
  CHECK(member(parsed(line), "msg") == message);
}

TEST_CASE("invalid UTF-8 in a message still gives a valid UTF-8 JSON line") {
  std::string message = "bad \xff\xfe bytes, cut \xe2\x82 and a lone surrogate "
                        "\xed\xa0\x80; fine: \xe2\x82\xac";
  auto line = line_of(record_of(message, "7"));
  CHECK(is_utf8(line));
  auto doc = parsed(line);
  auto msg = member(doc, "msg");
  CHECK(msg.rfind("bad ", 0) == 0);
  CHECK(msg.find("fine: \xe2\x82\xac") != std::string::npos);
  CHECK(member(doc, "corr") == "7");
}

TEST_CASE("the correlation is escaped like any other string") {
  auto doc = parsed(line_of(record_of("m", "a\"b\n")));
  CHECK(member(doc, "corr") == "a\"b\n");
}
