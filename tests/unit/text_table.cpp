#include "protocol/text_table.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "protocol/json_text.hpp"

using namespace warren;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

} // namespace

TEST_CASE(
    "a table has a header line, then one line per row, each ending in a newline") {
  auto text = render_table({"name", "state"}, {{"alpha", "up"}, {"b", "down"}});
  CHECK(text == "name   state\n"
                "alpha  up\n"
                "b      down\n");
}

TEST_CASE("columns are as wide as their widest cell and two spaces apart") {
  auto lines = lines_of(render_table({"a", "b", "c"}, {{"long cell", "x", "y"}}));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find('b') == std::string("long cell").size() + 2);
  CHECK(lines[1].find('x') == lines[0].find('b'));
  CHECK(lines[1].find('y') == lines[0].find('c'));
}

TEST_CASE("a column of numbers is right-aligned, header included") {
  auto lines = lines_of(render_table({"queue", "messages", "rate"},
                                     {{"orders", "7", "1.50/s"}, {"q", "12345", "-"}}));
  REQUIRE(lines.size() == 3);
  // Every line ends at the same column: the last column is right-aligned.
  CHECK(lines[0] == "queue   messages    rate");
  CHECK(lines[1] == "orders         7  1.50/s");
  CHECK(lines[2] == "q          12345       -");
}

TEST_CASE("a column mixing words and numbers stays left-aligned") {
  auto lines = lines_of(render_table({"value", "n"}, {{"12", "1"}, {"twelve", "2"}}));
  REQUIRE(lines.size() == 3);
  CHECK(lines[1] == "12      1");
  CHECK(lines[2] == "twelve  2");
}

TEST_CASE("numeric-looking cells: signs, decimals, groups, exponents and short units") {
  for (const char* yes : {"7", "-1.5", "+3", "20.00", "1,200", "75%", "12 ms", "3.2k",
                          "10MiB", "1e-3", "0.5/s", "100 %"})
    CHECK_MESSAGE(looks_numeric(yes), yes);
  for (const char* no : {"", "-", "abc", "ms", "1 2", "12 ", "v1", "1.5 seconds",
                         "--json", "1%%", ".", "queue7"})
    CHECK_FALSE_MESSAGE(looks_numeric(no), no);
}

TEST_CASE("cells lose control characters so a name cannot move the cursor") {
  auto text = render_table({"name"}, {{"evil\nname\x1b[2J\t\x7f"}});
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\t') == std::string::npos);
  CHECK(text.find('\x7f') == std::string::npos);
  auto lines = lines_of(text);
  REQUIRE(lines.size() == 2);
  CHECK(lines[1] == "evil?name?[2J??");
}

TEST_CASE("cells with invalid UTF-8 come out as valid UTF-8") {
  auto text = render_table({"name\xff"}, {{"bad\xc3("}, {"ok"}});
  CHECK(is_utf8(text));
  auto lines = lines_of(text);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "name?");
  CHECK(lines[1] == "bad?(");
}

TEST_CASE("long cells are cut at 48 bytes without splitting a UTF-8 sequence") {
  auto long_ascii = table_cell(std::string(200, 'x'));
  CHECK(long_ascii.size() == max_table_cell_bytes);
  CHECK(long_ascii.substr(long_ascii.size() - 3) == "...");

  // "é" is two bytes: 44 of them would be split at byte 45 of 88.
  std::string accents;
  for (int i = 0; i < 44; ++i)
    accents += "\xc3\xa9";
  auto cut = table_cell(accents);
  CHECK(cut.size() <= max_table_cell_bytes);
  CHECK(is_utf8(cut));
  CHECK(cut.substr(cut.size() - 3) == "...");

  CHECK(table_cell(std::string(48, 'y')) == std::string(48, 'y'));
}

TEST_CASE("column width counts code points, not bytes") {
  CHECK(display_width("caf\xc3\xa9") == 4);
  CHECK(display_width("\xe2\x82\xac\xf0\x9f\x90\x87") == 2);
  auto lines =
      lines_of(render_table({"name", "n"}, {{"caf\xc3\xa9", "x"}, {"ab", "y"}}));
  REQUIRE(lines.size() == 3);
  // "café" is four columns wide like "name": the second column starts at 6 in both.
  CHECK(lines[0] == "name  n");
  CHECK(lines[1] == "caf\xc3\xa9  x");
  CHECK(lines[2] == "ab    y");
}

TEST_CASE("rows shorter or longer than the header are padded, not dropped") {
  auto lines = lines_of(render_table({"a", "b"}, {{"1"}, {"x", "y", "extra"}}));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "a  b");
  CHECK(lines[1] == "1");
  CHECK(lines[2] == "x  y  extra");
}

TEST_CASE("a table without columns is empty") {
  CHECK(render_table({}, {}).empty());
}

TEST_CASE("a table with only a header prints the header line") {
  CHECK(render_table({"name", "state"}, {}) == "name  state\n");
}
