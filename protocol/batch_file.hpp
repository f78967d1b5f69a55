#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "protocol/batch.hpp"
#include "protocol/tool_catalog.hpp"

// The pure parts of the batch commands (`warren queue create --batch`, `warren queue
// delete --batch`, `warren publish --batch`): reading the items of a file, cutting
// them into calls, and putting the calls' results back together for a table or JSON.
namespace warren {

/// The items of a batch file as compact JSON texts: a JSON array, or NDJSON (one JSON
/// value per line, blank lines skipped). The error names the line or says what the
/// file should look like.
caf::expected<std::vector<std::string>> parse_batch_items(std::string_view text);

/// The arguments of one batch call: {"<items_key>":[items begin..end), <extra>},
/// where `extra_members` is "" or JSON object members ("\"mode\":\"best_effort\"").
std::string batch_call_arguments(std::string_view items_key,
                                 const std::vector<std::string>& items,
                                 std::size_t begin, std::size_t end,
                                 const std::string& extra_members);

/// One item of the whole file, as its call's result reported it.
struct batch_row {
  std::size_t index = 0; ///< in the file
  std::string resource;
  std::string vhost;
  std::string status; ///< succeeded, failed, rolled_back, skipped
  std::string error;
};

/// The results of every call of a file, in file order.
struct batch_report {
  std::vector<batch_row> rows;
  batch_totals totals;
  std::vector<std::string> failures; ///< calls that failed as a whole, with why
  bool job_failed = false;           ///< some call's result had isError
};

/// Adds one call's result; its items' indices are offset by `offset` (where its
/// first item is in the file). A result without items (a call refused before any
/// work) is recorded in `failures` with its message.
void add_call_result(batch_report& report, const tool_result& result,
                     std::size_t offset);

/// Items of calls refused before any work: each gets a row, skipped, with `why`.
void add_refused(batch_report& report, std::size_t offset, std::size_t count,
                 const std::vector<std::string>& items, const std::string& why);

/// index, resource, vhost, status, error as an aligned table, then the totals line.
std::string render_report(const batch_report& report);

/// {"items":[...],"totals":{...},"failures":[...]}.
std::string report_json(const batch_report& report);

/// "[#########           ]  45/100" for a terminal, `width` characters of bar.
std::string progress_bar(uint64_t done, uint64_t total, std::size_t width = 30);

} // namespace warren
