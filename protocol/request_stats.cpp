#include "protocol/request_stats.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <queue>

namespace warren {

namespace {

// The slowest list keeps up to this many times slow_kept entries between prunes and
// prunes down to half of it, so a prune (sorting a few dozen entries) runs once every
// slow_kept or more records: constant cost per record, amortised.
constexpr std::size_t slow_list_factor = 4;

// The bucket bounds in nanoseconds. Placement compares integers, so a request of
// exactly 1.5 ms lands in the 1.5 ms bucket whatever the double rounding of 0.0015.
const std::vector<int64_t>& bucket_bounds_ns() {
  static const std::vector<int64_t> bounds = [] {
    std::vector<int64_t> out;
    const int64_t limit = 30'000'000'000; // 30 s, the last bound
    // 1, 1.5, 2, 3, 5 and 7 times each power of ten, in tenths.
    const int64_t tenths[] = {10, 15, 20, 30, 50, 70};
    for (int64_t decade = 100'000; decade <= limit; decade *= 10)
      for (int64_t t : tenths) {
        int64_t bound = decade * t / 10;
        if (bound <= limit)
          out.push_back(bound);
      }
    return out;
  }();
  return bounds;
}

double seconds_of(std::chrono::nanoseconds d) {
  return static_cast<double>(d.count()) / 1e9;
}

bool is_failure(request_outcome outcome) {
  return outcome == request_outcome::tool_error || outcome == request_outcome::error;
}

// The nearest-rank percentile of ascending `sorted` (not empty): the smallest value
// with at least `percent` % of the values at or below it. Integer arithmetic, so p99
// of 100 values is exactly the 99th.
double nearest_rank(const std::vector<double>& sorted, std::size_t percent) {
  std::size_t n = sorted.size();
  std::size_t rank = (percent * n + 99) / 100;
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

} // namespace

const char* to_string(request_outcome outcome) {
  switch (outcome) {
  case request_outcome::ok:
    return "ok";
  case request_outcome::tool_error:
    return "tool_error";
  case request_outcome::error:
    return "error";
  case request_outcome::cancelled:
    return "cancelled";
  }
  return "unknown";
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> bounds = [] {
    std::vector<double> out;
    for (auto ns : bucket_bounds_ns())
      out.push_back(static_cast<double>(ns) / 1e9);
    return out;
  }();
  return bounds;
}

void request_stats::record(const request_sample& sample, time_point now) {
  auto total = std::max(sample.total, std::chrono::nanoseconds{0});
  auto backend = std::clamp(sample.backend, std::chrono::nanoseconds{0}, total);
  double total_s = seconds_of(total);
  double backend_s = seconds_of(backend);
  bool failed = is_failure(sample.outcome);
  const std::string& label = sample.tool.empty() ? sample.method : sample.tool;

  ++counts_[std::make_tuple(sample.method, sample.tool, sample.outcome)];

  auto hist = histograms_.find(label);
  if (hist == histograms_.end()) {
    latency_histogram fresh;
    fresh.tool = label;
    fresh.counts.assign(bucket_bounds_ns().size() + 1, 0);
    hist = histograms_.emplace(label, std::move(fresh)).first;
  }
  const auto& bounds = bucket_bounds_ns();
  auto bucket = std::lower_bound(bounds.begin(), bounds.end(), total.count());
  ++hist->second.counts[static_cast<std::size_t>(bucket - bounds.begin())];
  hist->second.sum_seconds += total_s;
  ++hist->second.count;

  auto& samples = recent_[label];
  samples.push_back(recent{now, total_s, backend_s, failed});
  auto cutoff = now - cfg_.window;
  while (!samples.empty() && samples.front().at <= cutoff)
    samples.pop_front();
  while (samples.size() > cfg_.samples_per_tool)
    samples.pop_front();

  if (cfg_.slow_kept == 0)
    return;
  slow_.push_back(slow_entry{now, label, sample.correlation, total_s, backend_s});
  if (slow_.size() > slow_list_factor * cfg_.slow_kept)
    prune_slow(now);
}

void request_stats::prune_slow(time_point now) {
  auto cutoff = now - cfg_.slow_window;
  slow_.erase(std::remove_if(slow_.begin(), slow_.end(),
                             [&](const slow_entry& e) { return e.at <= cutoff; }),
              slow_.end());
  // An entry with slow_kept entries both newer and at least as slow can never be
  // reported again: every later window that holds it holds them too.
  std::stable_sort(
      slow_.begin(), slow_.end(),
      [](const slow_entry& a, const slow_entry& b) { return a.at > b.at; });
  std::priority_queue<double, std::vector<double>, std::greater<double>> newer_slowest;
  std::vector<slow_entry> kept;
  for (auto& e : slow_) {
    if (newer_slowest.size() == cfg_.slow_kept && newer_slowest.top() >= e.total)
      continue;
    newer_slowest.push(e.total);
    if (newer_slowest.size() > cfg_.slow_kept)
      newer_slowest.pop();
    kept.push_back(std::move(e));
  }
  // Still too many (latencies that fall over time): keep the slowest, which the
  // report shows now, and lose some that might have been shown once they expire.
  std::size_t keep = slow_list_factor / 2 * cfg_.slow_kept;
  if (kept.size() > keep) {
    std::nth_element(
        kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(keep), kept.end(),
        [](const slow_entry& a, const slow_entry& b) { return a.total > b.total; });
    kept.resize(keep);
  }
  slow_ = std::move(kept);
}

std::vector<request_count> request_stats::counts() const {
  std::vector<request_count> out;
  out.reserve(counts_.size());
  for (const auto& [key, count] : counts_)
    out.push_back(
        request_count{std::get<0>(key), std::get<1>(key), std::get<2>(key), count});
  return out;
}

std::vector<latency_histogram> request_stats::histograms() const {
  std::vector<latency_histogram> out;
  out.reserve(histograms_.size());
  for (const auto& [label, hist] : histograms_)
    out.push_back(hist);
  return out;
}

std::vector<tool_figures> request_stats::rolling(time_point now) const {
  std::vector<tool_figures> out;
  auto cutoff = now - cfg_.window;
  double window_s = static_cast<double>(cfg_.window.count());
  std::vector<double> totals;
  for (const auto& [label, samples] : recent_) {
    totals.clear();
    uint64_t failed = 0;
    double total_sum = 0;
    double backend_sum = 0;
    for (const auto& s : samples) {
      if (s.at <= cutoff)
        continue;
      totals.push_back(s.total);
      failed += s.failed ? 1 : 0;
      total_sum += s.total;
      backend_sum += s.backend;
    }
    if (totals.empty())
      continue;
    std::sort(totals.begin(), totals.end());
    tool_figures f;
    f.tool = label;
    f.calls = totals.size();
    f.error_rate = static_cast<double>(failed) / static_cast<double>(f.calls);
    f.per_second = window_s > 0 ? static_cast<double>(f.calls) / window_s : 0;
    f.p50 = nearest_rank(totals, 50);
    f.p95 = nearest_rank(totals, 95);
    f.p99 = nearest_rank(totals, 99);
    f.backend_share = total_sum > 0 ? std::min(1.0, backend_sum / total_sum) : 0;
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(), [](const tool_figures& a, const tool_figures& b) {
    return a.calls != b.calls ? a.calls > b.calls : a.tool < b.tool;
  });
  return out;
}

std::vector<slow_operation> request_stats::slowest(time_point now) const {
  auto cutoff = now - cfg_.slow_window;
  std::vector<const slow_entry*> in_window;
  for (const auto& e : slow_)
    if (e.at > cutoff)
      in_window.push_back(&e);
  // Slowest first; of equally slow ones, the most recent.
  std::sort(in_window.begin(), in_window.end(),
            [](const slow_entry* a, const slow_entry* b) {
              return a->total != b->total ? a->total > b->total : a->at > b->at;
            });
  if (in_window.size() > cfg_.slow_kept)
    in_window.resize(cfg_.slow_kept);
  std::vector<slow_operation> out;
  out.reserve(in_window.size());
  for (const auto* e : in_window) {
    slow_operation op;
    op.tool = e->tool;
    op.correlation = e->correlation;
    op.total_seconds = e->total;
    op.backend_seconds = e->backend;
    op.queue_seconds = std::max(0.0, e->total - e->backend);
    op.age_seconds = std::max(0.0, std::chrono::duration<double>(now - e->at).count());
    out.push_back(std::move(op));
  }
  return out;
}

} // namespace warren
