#include "protocol/batch_file.hpp"

#include <algorithm>

#include "protocol/error.hpp"
#include "protocol/text_table.hpp"
#include "protocol/tool_json.hpp"

namespace warren {

using namespace tools;

namespace {

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// An item's name for a row of a call that never ran: a queue's name, a message's id,
// or the item itself when it is a string.
std::string resource_of(const std::string& item_json) {
  rj::Document doc;
  doc.Parse<parse_flags>(item_json.data(), item_json.size());
  if (doc.HasParseError())
    return {};
  if (doc.IsString())
    return {doc.GetString(), doc.GetStringLength()};
  for (auto key : {"name", "message_id"})
    if (has_arg(doc, key))
      return string_arg(doc, key);
  return {};
}

} // namespace

caf::expected<std::vector<std::string>> parse_batch_items(std::string_view text) {
  std::vector<std::string> items;
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return make_error(ec::invalid_params, "the batch file is empty");
  if (text[first] == '[') {
    rj::Document doc;
    doc.Parse<parse_flags>(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsArray())
      return make_error(ec::invalid_params,
                        "the batch file starts like a JSON array but is not valid "
                        "JSON (at byte " +
                            std::to_string(doc.GetErrorOffset()) + ")");
    for (auto& item : doc.GetArray())
      items.push_back(to_json(item));
    return items;
  }
  std::size_t line_no = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos)
      end = text.size();
    auto line = text.substr(start, end - start);
    ++line_no;
    start = end + 1;
    if (blank(line))
      continue;
    rj::Document doc;
    doc.Parse<parse_flags>(line.data(), line.size());
    if (doc.HasParseError())
      return make_error(ec::invalid_params,
                        "line " + std::to_string(line_no) +
                            " of the batch file is not JSON; give a JSON array or "
                            "one JSON value per line (NDJSON)");
    items.push_back(to_json(doc));
  }
  return items;
}

std::string batch_call_arguments(std::string_view items_key,
                                 const std::vector<std::string>& items,
                                 std::size_t begin, std::size_t end,
                                 const std::string& extra_members) {
  std::string out = "{" + quote_json(items_key) + ":[";
  for (auto i = begin; i < end && i < items.size(); ++i) {
    if (i != begin)
      out += ',';
    out += items[i];
  }
  out += ']';
  if (!extra_members.empty())
    out += "," + extra_members;
  return out + "}";
}

void add_call_result(batch_report& report, const tool_result& result,
                     std::size_t offset) {
  rj::Document doc;
  doc.Parse<utf8_text_flags>(result.json.data(), result.json.size());
  auto items =
      doc.HasParseError() ? nullptr : member_path(doc, "structuredContent.items");
  if (!items || !items->IsArray()) {
    report.job_failed = true;
    report.failures.push_back(error_text(result));
    return;
  }
  if (result.is_error)
    report.job_failed = true;
  for (auto& item : items->GetArray()) {
    batch_row row;
    row.index = offset + static_cast<std::size_t>(int_arg(item, "index", 0));
    row.resource = string_arg(item, "resource");
    row.vhost = string_arg(item, "vhost");
    row.status = string_arg(item, "status");
    row.error = string_arg(item, "error");
    add_to(report.totals, status_named(row.status));
    report.rows.push_back(std::move(row));
  }
}

void add_refused(batch_report& report, std::size_t offset, std::size_t count_items,
                 const std::vector<std::string>& items, const std::string& why) {
  report.job_failed = true;
  report.failures.push_back(why);
  for (std::size_t i = offset; i < offset + count_items && i < items.size(); ++i) {
    report.rows.push_back({i, resource_of(items[i]), "", "skipped", "refused: " + why});
    add_to(report.totals, item_status::skipped);
  }
}

std::string render_report(const batch_report& report) {
  std::vector<std::vector<std::string>> rows;
  for (auto& r : report.rows)
    rows.push_back({std::to_string(r.index), r.resource, r.vhost, r.status,
                    r.error.empty() ? "-" : r.error});
  auto& t = report.totals;
  auto out = render_table({"index", "resource", "vhost", "status", "error"}, rows);
  out += std::to_string(report.rows.size()) + " items: " + std::to_string(t.succeeded) +
         " succeeded, " + std::to_string(t.failed) + " failed, " +
         std::to_string(t.rolled_back) + " rolled back, " + std::to_string(t.skipped) +
         " skipped\n";
  for (auto& f : report.failures)
    out += "refused: " + f + "\n";
  return out;
}

std::string report_json(const batch_report& report) {
  rj::Document out(rj::kObjectType);
  auto& alloc = out.GetAllocator();
  rj::Value items(rj::kArrayType);
  for (auto& r : report.rows) {
    rj::Value item(rj::kObjectType);
    item.AddMember("index", static_cast<uint64_t>(r.index), alloc);
    item.AddMember("resource", rj::Value(r.resource, alloc), alloc);
    item.AddMember("vhost", rj::Value(r.vhost, alloc), alloc);
    item.AddMember("status", rj::Value(r.status, alloc), alloc);
    if (!r.error.empty())
      item.AddMember("error", rj::Value(r.error, alloc), alloc);
    items.PushBack(item, alloc);
  }
  out.AddMember("items", items, alloc);
  out.AddMember("totals", totals_json(report.rows.size(), report.totals, alloc), alloc);
  rj::Value failures(rj::kArrayType);
  for (auto& f : report.failures)
    failures.PushBack(rj::Value(f, alloc), alloc);
  out.AddMember("failures", failures, alloc);
  return to_json(out);
}

std::string progress_bar(uint64_t done, uint64_t total, std::size_t width) {
  auto filled =
      total == 0
          ? width
          : static_cast<std::size_t>(std::min<uint64_t>(done, total) * width / total);
  auto digits = std::to_string(total).size();
  auto shown = std::to_string(done);
  return "[" + std::string(filled, '#') + std::string(width - filled, ' ') + "] " +
         std::string(digits > shown.size() ? digits - shown.size() : 0, ' ') + shown +
         "/" + std::to_string(total);
}

} // namespace warren
