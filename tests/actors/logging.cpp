#include "runtime/logging.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <spdlog/sinks/ostream_sink.h>

using namespace warren;

namespace {

// A logger that writes JSON lines into a string, made the default logger while the
// fixture lives (log_for and set_log_level work on the default logger); the
// previous default logger and level come back afterwards.
struct captured_log {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> logger;
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  spdlog::level::level_enum previous_level = spdlog::get_level();

  explicit captured_log(std::vector<std::string> secrets = {}) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    sink->set_formatter(make_json_formatter(std::move(secrets)));
    logger = std::make_shared<spdlog::logger>("warren", std::move(sink));
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::trace);
  }

  ~captured_log() {
    spdlog::set_default_logger(previous);
    spdlog::set_level(previous_level);
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in{out.str()};
    for (std::string line; std::getline(in, line);)
      result.push_back(line);
    return result;
  }
};

rapidjson::Document parsed(const std::string& line) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  return doc;
}

std::string member(const rapidjson::Document& doc, const char* key) {
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || !it->value.IsString())
    return "<absent>";
  return {it->value.GetString(), it->value.GetStringLength()};
}

} // namespace

TEST_CASE("logging: each record becomes one JSON line with ts, level, logger and msg") {
  captured_log log;
  spdlog::info("queue {} has {} messages", "orders", 12);
  spdlog::warn("second");
  spdlog::error("third");
  auto lines = log.lines();
  REQUIRE(lines.size() == 3);
  CHECK(log.out.str().back() == '\n');
  auto doc = parsed(lines[0]);
  CHECK(doc.MemberCount() == 4);
  CHECK(member(doc, "level") == "info");
  CHECK(member(doc, "logger") == "warren");
  CHECK(member(doc, "msg") == "queue orders has 12 messages");
  auto ts = member(doc, "ts");
  CHECK(ts.size() == 24);
  CHECK(ts.back() == 'Z');
  CHECK(member(doc, "corr") == "<absent>");
  CHECK(member(parsed(lines[1]), "level") == "warn");
  CHECK(member(parsed(lines[2]), "level") == "error");
}

TEST_CASE("logging: lines logged inside a log_scope carry its correlation id") {
  captured_log log;
  {
    log_scope scope{correlation_id(42)};
    CHECK(current_correlation() == "42");
    spdlog::info("inside");
  }
  spdlog::info("outside");
  auto lines = log.lines();
  REQUIRE(lines.size() == 2);
  CHECK(member(parsed(lines[0]), "corr") == "42");
  CHECK(member(parsed(lines[1]), "corr") == "<absent>");
  CHECK(current_correlation().empty());
}

TEST_CASE("logging: a nested log_scope wins and the outer id comes back after it") {
  captured_log log;
  {
    log_scope outer{"7"};
    {
      log_scope inner{"8"};
      spdlog::info("inner");
    }
    spdlog::info("outer again");
  }
  auto lines = log.lines();
  REQUIRE(lines.size() == 2);
  CHECK(member(parsed(lines[0]), "corr") == "8");
  CHECK(member(parsed(lines[1]), "corr") == "7");
  CHECK(current_correlation().empty());
}

TEST_CASE("logging: log_for tags one line and leaves the enclosing scope in place") {
  captured_log log;
  log_scope outer{"1"};
  log_for("99", spdlog::level::warn, "call {} failed: {}", 99, "timeout");
  spdlog::info("after");
  auto lines = log.lines();
  REQUIRE(lines.size() == 2);
  auto doc = parsed(lines[0]);
  CHECK(member(doc, "corr") == "99");
  CHECK(member(doc, "level") == "warn");
  CHECK(member(doc, "msg") == "call 99 failed: timeout");
  CHECK(member(parsed(lines[1]), "corr") == "1");
}

TEST_CASE("logging: log_for writes nothing below the level") {
  captured_log log;
  spdlog::set_level(spdlog::level::info);
  log_for("5", spdlog::level::debug, "hidden {}", 1);
  log_for("5", spdlog::level::info, "shown {}", 2);
  auto lines = log.lines();
  REQUIRE(lines.size() == 1);
  CHECK(member(parsed(lines[0]), "msg") == "shown 2");
}

TEST_CASE("logging: correlation ids are decimal call numbers, empty for call 0") {
  CHECK(correlation_id(42) == "42");
  CHECK(correlation_id(18446744073709551615ull) == "18446744073709551615");
  CHECK(correlation_id(0).empty());
}

TEST_CASE("logging: configured secrets and URL passwords never reach the log") {
  captured_log log{{"hunter2"}};
  spdlog::info("login hunter2 via amqp://guest:guest@localhost:5672/");
  auto text = log.out.str();
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(text.find("guest:guest") == std::string::npos);
  REQUIRE(log.lines().size() == 1);
  CHECK(member(parsed(log.lines()[0]), "msg") ==
        "login *** via amqp://guest:***@localhost:5672/");
}

TEST_CASE("logging: a formatter clone redacts the same secrets") {
  auto formatter = make_json_formatter({"hunter2"});
  auto copy = formatter->clone();
  spdlog::details::log_msg msg{"warren", spdlog::level::err, "pw hunter2"};
  spdlog::memory_buf_t out;
  copy->format(msg, out);
  auto line = std::string{out.data(), out.size()};
  CHECK(line.find("hunter2") == std::string::npos);
  CHECK(line.back() == '\n');
  CHECK(member(parsed(line.substr(0, line.size() - 1)), "level") == "error");
}

TEST_CASE("logging: set_log_level changes the level and refuses unknown names") {
  captured_log log;
  REQUIRE(set_log_level("error"));
  CHECK(log_level_name() == "error");
  spdlog::warn("dropped");
  spdlog::error("kept");
  CHECK(set_log_level("warning"));
  CHECK(log_level_name() == "warn");
  spdlog::warn("kept too");
  CHECK_FALSE(set_log_level("verbose"));
  CHECK_FALSE(set_log_level(""));
  CHECK(log_level_name() == "warn");
  for (const char* name : {"trace", "debug", "info", "warn", "error", "off"}) {
    CHECK(set_log_level(name));
    CHECK(log_level_name() == name);
  }
  CHECK(set_log_level("DEBUG"));
  CHECK(log_level_name() == "debug");
  auto lines = log.lines();
  REQUIRE(lines.size() == 2);
  CHECK(member(parsed(lines[0]), "msg") == "kept");
  CHECK(member(parsed(lines[1]), "msg") == "kept too");
}

TEST_CASE("logging: setup_logging makes the warren logger the default at its level") {
  auto previous = spdlog::default_logger();
  auto previous_level = spdlog::get_level();
  setup_logging("debug", {"hunter2"});
  CHECK(spdlog::default_logger()->name() == "warren");
  CHECK(spdlog::default_logger() != previous);
  CHECK(log_level_name() == "debug");
  setup_logging("error", {});
  CHECK(log_level_name() == "error");
  spdlog::set_default_logger(previous);
  spdlog::set_level(previous_level);
}
