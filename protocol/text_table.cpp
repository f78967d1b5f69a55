#include "protocol/text_table.hpp"

#include <algorithm>

#include "protocol/json_text.hpp"

namespace warren {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Digits from text[i]; returns the index after them.
std::size_t skip_digits(const std::string& text, std::size_t i) {
  while (i < text.size() && is_digit(text[i]))
    ++i;
  return i;
}

// Cells that carry no value ("-" for a figure that is not defined, "" for a missing
// one) say nothing about how a column should be aligned.
bool is_placeholder(const std::string& cell) {
  return cell.empty() || cell == "-";
}

} // namespace

std::string table_cell(const std::string& text) {
  std::string clean = sanitize_utf8(text);
  for (auto& c : clean)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = '?';
  if (clean.size() <= max_table_cell_bytes)
    return clean;
  static constexpr std::size_t ellipsis = 3;
  std::string out =
      clean.substr(0, utf8_prefix(clean, max_table_cell_bytes - ellipsis));
  out += "...";
  return out;
}

bool looks_numeric(const std::string& text) {
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-'))
    ++i;
  auto start = i;
  i = skip_digits(text, i);
  bool digits = i > start;
  // Decimal part, or thousands groups such as "1,200".
  while (i + 1 < text.size() && (text[i] == '.' || text[i] == ',') &&
         is_digit(text[i + 1])) {
    i = skip_digits(text, i + 1);
    digits = true;
  }
  if (!digits)
    return false;
  if (i + 1 < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    auto j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-'))
      ++j;
    auto exponent_end = skip_digits(text, j);
    if (exponent_end > j)
      i = exponent_end;
  }
  // An optional unit: "%", "ms", " ms", "/s", "k", "MiB".
  bool space = i < text.size() && text[i] == ' ';
  if (space)
    ++i;
  if (i == text.size())
    return !space;
  if (text[i] == '%')
    return i + 1 == text.size();
  auto unit_start = i;
  while (i < text.size() && (is_alpha(text[i]) || text[i] == '/'))
    ++i;
  static constexpr std::size_t max_unit = 4;
  return i == text.size() && i - unit_start <= max_unit;
}

std::size_t display_width(const std::string& text) {
  // Continuation bytes (10xxxxxx) do not start a code point.
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows) {
  std::size_t columns = headers.size();
  for (const auto& row : rows)
    columns = std::max(columns, row.size());
  if (columns == 0)
    return {};

  auto cells_of = [columns](const std::vector<std::string>& row) {
    std::vector<std::string> out;
    out.reserve(columns);
    for (std::size_t i = 0; i < columns; ++i)
      out.push_back(i < row.size() ? table_cell(row[i]) : std::string{});
    return out;
  };
  std::vector<std::vector<std::string>> lines;
  lines.reserve(rows.size() + 1);
  lines.push_back(cells_of(headers));
  for (const auto& row : rows)
    lines.push_back(cells_of(row));

  std::vector<std::size_t> width(columns, 0);
  std::vector<bool> right(columns, false);
  for (std::size_t c = 0; c < columns; ++c) {
    bool any_number = false;
    bool all_numbers = true;
    for (std::size_t r = 0; r < lines.size(); ++r) {
      const auto& cell = lines[r][c];
      width[c] = std::max(width[c], display_width(cell));
      if (r == 0 || is_placeholder(cell))
        continue;
      if (looks_numeric(cell))
        any_number = true;
      else
        all_numbers = false;
    }
    right[c] = any_number && all_numbers;
  }

  std::string out;
  for (const auto& cells : lines) {
    std::string line;
    for (std::size_t c = 0; c < columns; ++c) {
      std::string pad(width[c] - display_width(cells[c]), ' ');
      if (c > 0)
        line += "  ";
      line += right[c] ? pad + cells[c] : cells[c] + pad;
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

} // namespace warren
