#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace warren {

/// How a request ended, as the metrics label it.
enum class request_outcome {
  ok,         ///< answered with a result
  tool_error, ///< a tools/call answered with isError (the broker refused, was down...)
  error,      ///< a JSON-RPC error (invalid params, unknown tool, bad request)
  cancelled,  ///< the client cancelled it
};

const char* to_string(request_outcome outcome);

/// One answered request.
struct request_sample {
  std::string method; ///< "tools/call", "ping", "initialize", ...
  std::string tool;   ///< the tool of a tools/call; empty otherwise
  request_outcome outcome = request_outcome::ok;
  std::chrono::nanoseconds total{0};   ///< from the line's arrival to its answer
  std::chrono::nanoseconds backend{0}; ///< of total, spent waiting on the broker
  std::string correlation;             ///< the request's correlation id
};

/// The latency histogram's upper bounds in seconds, ascending: 100 µs to 30 s, fine
/// enough (about six per decade) that p50/p95/p99 read from it are within ~25 %.
const std::vector<double>& latency_buckets();

/// Requests by method, tool and outcome since the start.
struct request_count {
  std::string method;
  std::string tool;
  request_outcome outcome = request_outcome::ok;
  uint64_t count = 0;
};

/// The latency histogram of one label value: the tool of a tools/call, else the
/// method. counts[i] is the number of requests with total <= latency_buckets()[i] and
/// above the bound before it; counts has one more entry for those above the last bound.
struct latency_histogram {
  std::string tool;
  std::vector<uint64_t> counts;
  double sum_seconds = 0;
  uint64_t count = 0;
};

/// One tool's (or method's) figures over the rolling window.
struct tool_figures {
  std::string tool; ///< the tool, or the method for requests that are not tools/call
  uint64_t calls = 0;
  double error_rate = 0;            ///< 0..1: tool_error and error outcomes over calls
  double per_second = 0;            ///< calls over the window's length
  double p50 = 0, p95 = 0, p99 = 0; ///< seconds, exact over the samples kept
  double backend_share = 0; ///< 0..1: summed backend time over summed total time
};

/// A slow request: where its time went.
struct slow_operation {
  std::string tool; ///< or method
  std::string correlation;
  double total_seconds = 0;
  double backend_seconds = 0;
  double queue_seconds = 0; ///< total - backend: time inside warren (mailboxes, pools)
  double age_seconds = 0;   ///< how long ago it was answered
};

/// Everything request_stats knows, taken at one moment: the request metrics and the
/// rolling figures of the performance report.
struct request_snapshot {
  std::vector<request_count> counts;
  std::vector<latency_histogram> histograms;
  std::vector<tool_figures> tools;
  std::vector<slow_operation> slowest;
  double window_seconds = 60;
};

/// Counters, histograms and a rolling window of recent requests: the figures behind
/// warren's request metrics and its performance report. Pure; the caller supplies the
/// time, so tests run on a made-up clock.
class request_stats {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  struct config {
    std::chrono::seconds window{60};       ///< rolling figures cover this long
    std::size_t samples_per_tool = 2048;   ///< at most kept per tool in the window
    std::size_t slow_kept = 10;            ///< slowest operations reported
    std::chrono::seconds slow_window{300}; ///< how far back the slowest list looks
  };

  request_stats() = default;
  explicit request_stats(config cfg) : cfg_(cfg) {}

  void record(const request_sample& sample, time_point now);

  /// All counts since the start, sorted by method, tool, outcome.
  std::vector<request_count> counts() const;

  /// One histogram per label value, sorted by label.
  std::vector<latency_histogram> histograms() const;

  /// Figures over the window ending at `now`, one per tool or method that had calls in
  /// it, busiest first.
  std::vector<tool_figures> rolling(time_point now) const;

  /// The slowest requests answered within slow_window before `now`, slowest first.
  std::vector<slow_operation> slowest(time_point now) const;

private:
  struct recent {
    time_point at;
    double total = 0;   ///< seconds
    double backend = 0; ///< seconds
    bool failed = false;
  };
  struct slow_entry {
    time_point at;
    std::string tool;
    std::string correlation;
    double total = 0;
    double backend = 0;
  };

  /// Drops expired slow entries and those that can no longer be reported; keeps
  /// slow_ within a few times slow_kept.
  void prune_slow(time_point now);

  config cfg_;
  std::map<std::tuple<std::string, std::string, request_outcome>, uint64_t> counts_;
  std::map<std::string, latency_histogram> histograms_;
  std::map<std::string, std::deque<recent>> recent_;
  std::vector<slow_entry> slow_;
};

} // namespace warren
