#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace warren {

/// Longest cell of a table, in bytes: a client-chosen name (a queue, a correlation id)
/// must not stretch a table across the terminal.
inline constexpr std::size_t max_table_cell_bytes = 48;

/// `text` made safe for one cell of a terminal table: invalid UTF-8 and control
/// characters (escape sequences, line breaks) become '?', and text longer than
/// max_table_cell_bytes is cut, without splitting a UTF-8 sequence, and ends in "...".
std::string table_cell(const std::string& text);

/// True for cells that read as a number, possibly with a unit: "7", "-1.5", "20.00",
/// "75%", "12 ms", "3.2k", "1e-3".
bool looks_numeric(const std::string& text);

/// The width of `text` on a terminal, counted in code points.
std::size_t display_width(const std::string& text);

/// An aligned text table: a header line, then one line per row, every cell cleaned
/// with table_cell, every column as wide as its widest cell and two spaces apart, no
/// trailing spaces, each line ending in '\n'. A column whose cells all look numeric
/// (ignoring empty cells and "-") is right-aligned, its header too, so digits line up
/// under the header's end. Rows shorter than the header are padded with empty cells.
std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows);

} // namespace warren
