#include "protocol/json_writer.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>

#include "protocol/json_text.hpp"
#include "protocol/jsonrpc.hpp"

using namespace warren;

namespace {

std::string written(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  json_writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

} // namespace

TEST_CASE("the JSON writer replaces bytes that are not UTF-8 in strings and keys") {
  rapidjson::Document doc(rapidjson::kObjectType);
  std::string bad = "a\xed\xb7\x9d"
                    "b"; // a lone low surrogate, as "\udddd" parses
  doc.AddMember(rapidjson::Value(bad, doc.GetAllocator()),
                rapidjson::Value(bad, doc.GetAllocator()), doc.GetAllocator());
  auto out = written(doc);
  CHECK(is_utf8(out));
  rapidjson::Document back;
  back.Parse<rapidjson::kParseValidateEncodingFlag>(out.data(), out.size());
  CHECK_FALSE(back.HasParseError());
}

TEST_CASE("the JSON writer writes a number too large for a double as null") {
  rapidjson::Document doc;
  doc.Parse("[10e308, 1.5]");
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(written(doc) == "[null,1.5]");
  rapidjson::Value inf(std::numeric_limits<double>::infinity());
  CHECK(written(inf) == "null");
}

TEST_CASE("the first byte that is not UTF-8 is found wherever it falls, also inside "
          "and just after runs of ASCII taken eight bytes at a time") {
  auto npos = std::string_view::npos;
  CHECK(invalid_utf8_at("") == npos);
  CHECK(invalid_utf8_at("plain ascii, longer than eight bytes") == npos);
  CHECK(invalid_utf8_at("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 and more text") ==
        npos);
  // A bad byte at every offset of a 20-byte ASCII run, and right after it.
  for (std::size_t at = 0; at <= 20; ++at) {
    std::string text(20, 'a');
    text.insert(at, "\xff");
    CHECK_MESSAGE(invalid_utf8_at(text) == at, "bad byte at " << at);
  }
  struct {
    const char* bytes;
    const char* why;
  } bad[] = {
      {"\x80", "a continuation byte without a lead"},
      {"\xc3(", "a lead without its continuation"},
      {"\xe2\x82", "a sequence cut short at the end"},
      {"\xc0\xaf", "an overlong form"},
      {"\xed\xa0\x80", "a UTF-16 surrogate"},
      {"\xf4\x90\x80\x80", "past U+10FFFF"},
      {"\xf8\x88\x80\x80\x80", "a five-byte lead"},
  };
  for (auto& b : bad) {
    auto text = std::string{"12345678"} + b.bytes + "tail";
    CHECK_MESSAGE(invalid_utf8_at(text) == 8, b.why);
    CHECK_FALSE(is_utf8(text));
  }
}

TEST_CASE("a JSON-RPC line that is not UTF-8 is a parse error naming the byte") {
  std::string line = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\xc3(\"}";
  auto msg = parse_jsonrpc(line);
  REQUIRE(msg.error);
  CHECK(code_of(msg.error) == ec::parse_error);
  CHECK(message_of(msg.error) == "parse error at byte 38: not valid UTF-8");
}

TEST_CASE("unpaired surrogate escapes are found; pairs, other escapes and escaped "
          "backslashes are not") {
  auto npos = std::string_view::npos;
  CHECK(unpaired_surrogate_escape(R"({"a":"\udc07"})") == 6);
  CHECK(unpaired_surrogate_escape(R"({"a":"\ud83d"})") == 6);
  CHECK(unpaired_surrogate_escape(R"({"a":"\ud83dx"})") == 6);
  CHECK(unpaired_surrogate_escape(R"({"a":"\ud83d\u0041"})") == 6);
  CHECK(unpaired_surrogate_escape(R"({"a":"\ud83d\ude00"})") == npos);
  CHECK(unpaired_surrogate_escape(R"({"a":"\u00e9\n\"\\"})") == npos);
  CHECK(unpaired_surrogate_escape(R"({"a":"\\udc07"})") == npos); // an escaped '\'
  CHECK(unpaired_surrogate_escape(R"("\ud8)") ==
        npos); // cut short: the parser refuses it
  CHECK(unpaired_surrogate_escape("") == npos);
}

TEST_CASE("a JSON-RPC line with a lone surrogate escape is a parse error, not a name "
          "that cannot be written back") {
  auto msg = parse_jsonrpc(R"({"jsonrpc":"2.0","id":1,"method":"x\udc07"})");
  REQUIRE(msg.error);
  CHECK(message_of(msg.error).find("surrogate") != std::string::npos);
}

TEST_CASE("a JSON-RPC line nested a million levels deep is refused, not a crash") {
  std::string line(1000000, '[');
  auto msg = parse_jsonrpc(line);
  REQUIRE(msg.error); // unterminated: a parse error, found without recursion
  std::string closed = std::string(100, '[') + std::string(100, ']');
  auto deep = parse_jsonrpc(closed);
  REQUIRE(deep.error);
  CHECK(message_of(deep.error).find("nests deeper than") != std::string::npos);
}
