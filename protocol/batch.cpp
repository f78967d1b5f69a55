#include "protocol/batch.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "protocol/tool_json.hpp"

namespace warren {

using namespace tools;

const char* status_name(item_status status) {
  switch (status) {
  case item_status::succeeded:
    return "succeeded";
  case item_status::failed:
    return "failed";
  case item_status::rolled_back:
    return "rolled_back";
  case item_status::skipped:
    break;
  }
  return "skipped";
}

item_status status_named(std::string_view name) {
  for (auto s : {item_status::succeeded, item_status::failed, item_status::rolled_back})
    if (name == status_name(s))
      return s;
  return item_status::skipped;
}

void add_to(batch_totals& t, item_status status) {
  switch (status) {
  case item_status::succeeded:
    ++t.succeeded;
    break;
  case item_status::failed:
    ++t.failed;
    break;
  case item_status::rolled_back:
    ++t.rolled_back;
    break;
  case item_status::skipped:
    ++t.skipped;
    break;
  }
}

batch_totals count_outcomes(const std::vector<item_outcome>& outcomes) {
  batch_totals t;
  for (auto& o : outcomes)
    add_to(t, o.status);
  return t;
}

std::vector<std::vector<std::size_t>> publish_chunks(const batch_plan& plan) {
  // Vhosts in the order their first message appears.
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::size_t>> by_vhost;
  for (std::size_t i = 0; i < plan.items.size(); ++i) {
    auto& vhost = plan.items[i].op.amqp.publish.vhost;
    auto& list = by_vhost[vhost];
    if (list.empty())
      order.push_back(vhost);
    list.push_back(i);
  }
  std::size_t window = std::max<uint32_t>(1, plan.confirm_window);
  std::size_t most = std::max<std::size_t>(1, plan.parallelism);
  std::vector<std::vector<std::size_t>> chunks;
  for (auto& vhost : order) {
    auto& list = by_vhost[vhost];
    auto n = list.size();
    auto count = std::clamp<std::size_t>((n + window - 1) / window, 1, most);
    // Even sizes: the first n % count chunks take one more.
    std::size_t at = 0;
    for (std::size_t c = 0; c < count; ++c) {
      auto size = n / count + (c < n % count ? 1 : 0);
      chunks.emplace_back(list.begin() + static_cast<std::ptrdiff_t>(at),
                          list.begin() + static_cast<std::ptrdiff_t>(at + size));
      at += size;
    }
  }
  return chunks;
}

operation publish_chunk(const batch_plan& plan, const std::vector<std::size_t>& items) {
  operation op;
  op.tool = plan.tool;
  op.backend = backend_kind::amqp;
  op.writes = true;
  op.idempotent = false;
  op.amqp.what = amqp_request::kind::publish_batch;
  op.amqp.window = plan.confirm_window;
  std::set<std::string> invalidates, refreshes;
  for (auto i : items) {
    auto& item = plan.items[i].op;
    op.amqp.batch.push_back(item.amqp.publish);
    invalidates.insert(item.invalidates.begin(), item.invalidates.end());
    refreshes.insert(item.refreshes.begin(), item.refreshes.end());
  }
  op.invalidates.assign(invalidates.begin(), invalidates.end());
  op.refreshes.assign(refreshes.begin(), refreshes.end());
  return op;
}

item_outcome outcome_of(const amqp_confirm& confirm) {
  using s = amqp_confirm::status;
  switch (confirm.what) {
  case s::confirmed:
    return {item_status::succeeded, {}};
  case s::returned:
    return {item_status::failed,
            "no queue took the message (returned: " + confirm.reply_text +
                "); bind a queue or publish with mandatory false"};
  case s::nacked:
    return {
        item_status::failed,
        "the broker refused the message (nack)" +
            (confirm.reply_text.empty() ? std::string{} : ": " + confirm.reply_text)};
  case s::not_sent:
    return {item_status::failed, "not published: " + confirm.reply_text};
  case s::unknown:
    break;
  }
  return {item_status::failed, "the confirm never came (" + confirm.reply_text +
                                   "); it may or may not have been published: look "
                                   "for its message_id before publishing it again"};
}

namespace {

rj::Document parse_result(const tool_result& result) {
  rj::Document doc;
  doc.Parse<utf8_text_flags>(result.json.data(), result.json.size());
  return doc;
}

} // namespace

std::string error_text(const tool_result& result) {
  if (!result.is_error)
    return {};
  auto doc = parse_result(result);
  if (!doc.HasParseError())
    if (auto content = member(doc, "content");
        content && content->IsArray() && !content->Empty())
      if (auto text = member((*content)[0], "text"); text && text->IsString())
        return {text->GetString(), text->GetStringLength()};
  return "the call failed";
}

bool reports_created(const tool_result& result) {
  if (result.is_error)
    return false;
  auto doc = parse_result(result);
  if (doc.HasParseError())
    return false;
  auto created = member_path(doc, "structuredContent.created");
  return created && created->IsBool() && created->GetBool();
}

rapidjson::Value totals_json(std::size_t items, const batch_totals& t,
                             rapidjson::Document::AllocatorType& alloc) {
  rj::Value totals(rj::kObjectType);
  totals.AddMember("items", static_cast<uint64_t>(items), alloc);
  totals.AddMember("succeeded", static_cast<uint64_t>(t.succeeded), alloc);
  totals.AddMember("failed", static_cast<uint64_t>(t.failed), alloc);
  totals.AddMember("rolled_back", static_cast<uint64_t>(t.rolled_back), alloc);
  totals.AddMember("skipped", static_cast<uint64_t>(t.skipped), alloc);
  return totals;
}

bool job_failed(const batch_plan& plan, const batch_totals& totals, bool cancelled) {
  if (cancelled)
    return true;
  if (plan.mode == batch_mode::all_or_nothing)
    return totals.failed > 0 || totals.rolled_back > 0 || totals.skipped > 0;
  // Skipped items in best_effort mean the job ran out of time.
  return (totals.failed > 0 && totals.succeeded == 0) || totals.skipped > 0;
}

tool_result batch_result(const batch_plan& plan,
                         const std::vector<item_outcome>& outcomes,
                         const batch_summary& summary) {
  rj::Document out(rj::kObjectType);
  auto& alloc = out.GetAllocator();
  out.AddMember("tool", rj::Value(plan.tool, alloc), alloc);
  out.AddMember("mode",
                rj::StringRef(plan.mode == batch_mode::all_or_nothing ? "all_or_nothing"
                                                                      : "best_effort"),
                alloc);
  rj::Value items(rj::kArrayType);
  bool creating = plan.item_tool == "create_queue";
  for (std::size_t i = 0; i < plan.items.size(); ++i) {
    auto& o = i < outcomes.size() ? outcomes[i] : item_outcome{};
    rj::Value item(rj::kObjectType);
    item.AddMember("index", static_cast<uint64_t>(i), alloc);
    item.AddMember("resource", rj::Value(plan.items[i].resource, alloc), alloc);
    item.AddMember("vhost", rj::Value(plan.items[i].vhost, alloc), alloc);
    item.AddMember("status", rj::StringRef(status_name(o.status)), alloc);
    if (creating && o.status == item_status::succeeded)
      item.AddMember("created", o.created, alloc);
    if (!o.error.empty())
      item.AddMember("error", rj::Value(o.error, alloc), alloc);
    items.PushBack(item, alloc);
  }
  out.AddMember("items", items, alloc);
  auto t = count_outcomes(outcomes);
  out.AddMember("totals", totals_json(plan.items.size(), t, alloc), alloc);
  out.AddMember("cancelled", summary.cancelled, alloc);
  out.AddMember("duration_ms",
                std::chrono::duration<double, std::milli>(summary.duration).count(),
                alloc);
  auto failed = job_failed(plan, t, summary.cancelled);
  return text_result(to_json(out), true, failed);
}

std::string audit_line(const batch_plan& plan,
                       const std::vector<item_outcome>& outcomes,
                       const batch_summary& summary) {
  auto t = count_outcomes(outcomes);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(summary.duration);
  return "audit: " + plan.tool + " mode=" +
         (plan.mode == batch_mode::all_or_nothing ? "all_or_nothing" : "best_effort") +
         " items=" + std::to_string(plan.items.size()) +
         " succeeded=" + std::to_string(t.succeeded) +
         " failed=" + std::to_string(t.failed) +
         " rolled_back=" + std::to_string(t.rolled_back) +
         " skipped=" + std::to_string(t.skipped) +
         " cancelled=" + (summary.cancelled ? "true" : "false") +
         " duration_ms=" + std::to_string(ms.count());
}

} // namespace warren
