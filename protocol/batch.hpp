#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "protocol/amqp_message.hpp"
#include "protocol/tool_catalog.hpp"

// Batch jobs (batch_create_queues, batch_delete_queues, batch_publish_messages): the
// plan the catalog builds from a call's arguments, and the pure parts of running it
// that need no actor: splitting publishes into confirm windows, reading item results,
// and the job's result and audit line.
namespace warren {

/// best_effort runs every item and reports each; all_or_nothing undoes what it did
/// when any item fails (deletes the queues it created; checks every delete before
/// deleting anything; publishes nothing unless every message can go).
enum class batch_mode : uint8_t { best_effort, all_or_nothing };

/// One item: what it names and the single call it is, validated like one.
struct batch_item {
  std::string resource; ///< the queue's name, or the message's id
  std::string vhost;
  operation op;
};

/// A validated batch call.
struct batch_plan {
  std::string tool;      ///< batch_create_queues, ...
  std::string item_tool; ///< create_queue, delete_queue or publish_message
  batch_mode mode = batch_mode::best_effort;
  std::size_t parallelism = 10; ///< items (or publish chunks) in flight at once
  uint32_t confirm_window = 100;
  std::vector<batch_item> items;
};

/// What became of one item, in the words of the result.
enum class item_status : uint8_t { succeeded, failed, rolled_back, skipped };

const char* status_name(item_status status);

struct item_outcome {
  item_status status = item_status::skipped;
  std::string error;    ///< why it failed, was skipped or rolled back; "" when none
  bool created = false; ///< create: the queue did not exist before this job
};

struct batch_totals {
  std::size_t succeeded = 0, failed = 0, rolled_back = 0, skipped = 0;
};

/// The status a result names ("succeeded", ...); any other name reads as skipped.
item_status status_named(std::string_view name);

/// Counts one item of `status` in `totals`.
void add_to(batch_totals& totals, item_status status);

batch_totals count_outcomes(const std::vector<item_outcome>& outcomes);

/// {"items":N,"succeeded":..,"failed":..,"rolled_back":..,"skipped":..}
rapidjson::Value totals_json(std::size_t items, const batch_totals& totals,
                             rapidjson::Document::AllocatorType& alloc);

/// The publish chunks of a batch: item indices per chunk, each chunk one vhost, in
/// request order. A vhost's messages are split into at most `parallelism` chunks of
/// at least a confirm window each (fewer, larger chunks when there are few messages).
std::vector<std::vector<std::size_t>> publish_chunks(const batch_plan& plan);

/// One AMQP publish_batch of the plan's messages `items` (all of one vhost), with
/// every key their publishes invalidate or refresh, once.
operation publish_chunk(const batch_plan& plan, const std::vector<std::size_t>& items);

/// What a publish confirm means for its item.
item_outcome outcome_of(const amqp_confirm& confirm);

/// The message of a failed tool result (its first text), or "" for a success.
std::string error_text(const tool_result& result);

/// True when a create's result says it created the queue (created: true).
bool reports_created(const tool_result& result);

/// How the job ended, for its result and audit line.
struct batch_summary {
  bool cancelled = false;
  std::chrono::nanoseconds duration{0};
};

/// True when the job as a whole failed: all_or_nothing with any failure, best_effort
/// with failures and no success or with items skipped (out of time), or cancelled.
bool job_failed(const batch_plan& plan, const batch_totals& totals, bool cancelled);

/// The job's MCP result: structuredContent {tool, mode, items: [{index, resource,
/// vhost, status, error?, created?}], totals, cancelled, duration_ms}; isError when
/// job_failed.
tool_result batch_result(const batch_plan& plan,
                         const std::vector<item_outcome>& outcomes,
                         const batch_summary& summary);

/// The one audit log line of a job.
std::string audit_line(const batch_plan& plan,
                       const std::vector<item_outcome>& outcomes,
                       const batch_summary& summary);

} // namespace warren
