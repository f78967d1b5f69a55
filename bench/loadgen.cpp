// warren_loadgen: drives `warren serve` over stdio with a fixed number of requests in
// flight and reports throughput, latency percentiles and warren's peak RSS.
//
//   warren_loadgen --binary PATH --scenario ping|list_queues|<tool> --requests N
//                  --inflight W [--arguments JSON] [--env KEY=VALUE ...]
//                  [--warmup N] [--timeout SECONDS] [--json] [-- WARREN-FLAGS...]
//
// One thread writes requests to warren's stdin, the main thread reads its stdout, so a
// full pipe on one side never stalls the other.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "protocol/error.hpp"
#include "tests/kit/subprocess.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  std::string binary;
  std::string scenario = "ping";
  std::size_t requests = 10000;
  std::size_t inflight = 1;
  std::string arguments = "{}";
  std::vector<std::string> env;
  std::size_t warmup = 200;
  double timeout_s = 60;
  bool json = false;
  std::vector<std::string> warren_args;
};

struct phase_result {
  double seconds = 0;
  std::size_t answered = 0;
  std::size_t errors = 0;
  std::size_t unexpected = 0; ///< responses with an id we did not send or twice
  std::vector<int64_t> latencies_us;
  std::string failure; ///< non-empty when the phase could not finish
};

std::string quote(const std::string& text) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return buf.GetString();
}

// The request line for `id`, split around the id so building it is cheap.
struct request_template {
  std::string before_id = R"({"jsonrpc":"2.0","id":)";
  std::string after_id;

  std::string line(int64_t id) const {
    std::string s;
    s.reserve(before_id.size() + after_id.size() + 21);
    s += before_id;
    s += std::to_string(id);
    s += after_id;
    return s;
  }
};

request_template make_template(const options& opts) {
  request_template t;
  if (opts.scenario == "ping")
    t.after_id = R"(,"method":"ping"})";
  else
    t.after_id = R"(,"method":"tools/call","params":{"name":)" + quote(opts.scenario) +
                 R"(,"arguments":)" + opts.arguments + "}}";
  t.after_id += '\n';
  return t;
}

// Reads until the response with `id` arrives; false on timeout or EOF.
bool await_id(warren::subprocess& proc, int64_t id, std::chrono::milliseconds timeout,
              std::string* response) {
  auto deadline = clock_type::now() + timeout;
  auto want = std::to_string(id);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - clock_type::now());
    if (left.count() <= 0)
      return false;
    auto line = proc.read_line(left);
    if (!line)
      return false;
    rapidjson::Document doc;
    doc.Parse(line->data(), line->size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("id"))
      continue;
    if (doc["id"].IsInt64() && std::to_string(doc["id"].GetInt64()) == want) {
      *response = std::move(*line);
      return true;
    }
  }
}

bool is_error_response(const rapidjson::Document& doc) {
  if (doc.HasMember("error"))
    return true;
  auto it = doc.FindMember("result");
  if (it == doc.MemberEnd() || !it->value.IsObject())
    return true;
  auto err = it->value.FindMember("isError");
  return err != it->value.MemberEnd() && err->value.IsBool() && err->value.GetBool();
}

// Sends `count` requests with ids first_id.. keeping at most `window` in flight.
phase_result run_phase(warren::subprocess& proc, const request_template& tmpl,
                       int64_t first_id, std::size_t count, std::size_t window,
                       std::chrono::milliseconds timeout) {
  phase_result out;
  out.latencies_us.reserve(count);
  std::unique_ptr<std::atomic<int64_t>[]> sent_ns { new std::atomic<int64_t>[ count ] };
  std::unique_ptr<std::atomic<bool>[]> done { new std::atomic<bool>[ count ] };
  for (std::size_t i = 0; i < count; ++i) {
    sent_ns[i].store(0);
    done[i].store(false);
  }
  std::mutex mtx;
  std::condition_variable cv;
  std::size_t in_flight = 0;
  bool stop = false;
  std::string write_failure;

  auto start = clock_type::now();
  std::thread writer([&] {
    std::size_t next = 0;
    std::string batch;
    while (next < count) {
      std::size_t room;
      {
        std::unique_lock<std::mutex> guard{mtx};
        cv.wait(guard, [&] { return stop || in_flight < window; });
        if (stop)
          return;
        room = std::min(window - in_flight, count - next);
        in_flight += room;
      }
      // Requests that fit go out in one write, as a busy client would send them.
      batch.clear();
      auto now = clock_type::now().time_since_epoch().count();
      for (std::size_t k = 0; k < room; ++k) {
        sent_ns[next + k].store(now, std::memory_order_release);
        batch += tmpl.line(first_id + static_cast<int64_t>(next + k));
      }
      next += room;
      if (!proc.write_raw(batch, timeout)) {
        std::lock_guard<std::mutex> guard{mtx};
        write_failure =
            "writing to warren's stdin failed (it exited or stopped reading)";
        return;
      }
    }
  });

  while (out.answered < count) {
    auto line = proc.read_line(timeout);
    if (!line) {
      out.failure = proc.stdout_eof() ? "warren closed its stdout"
                                      : "no response within the timeout";
      break;
    }
    auto received = clock_type::now().time_since_epoch().count();
    rapidjson::Document doc;
    doc.Parse(line->data(), line->size());
    if (doc.HasParseError() || !doc.IsObject()) {
      ++out.unexpected;
      continue;
    }
    auto id_it = doc.FindMember("id");
    if (id_it == doc.MemberEnd())
      continue; // a notification (log message, progress)
    if (!id_it->value.IsInt64()) {
      ++out.unexpected;
      continue;
    }
    auto index = id_it->value.GetInt64() - first_id;
    if (index < 0 || static_cast<std::size_t>(index) >= count ||
        done[static_cast<std::size_t>(index)].exchange(true)) {
      ++out.unexpected;
      continue;
    }
    auto sent =
        sent_ns[static_cast<std::size_t>(index)].load(std::memory_order_acquire);
    out.latencies_us.push_back((received - sent) / 1000);
    if (is_error_response(doc))
      ++out.errors;
    ++out.answered;
    {
      std::lock_guard<std::mutex> guard{mtx};
      --in_flight;
    }
    cv.notify_one();
  }
  out.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  {
    std::lock_guard<std::mutex> guard{mtx};
    stop = true;
  }
  cv.notify_one();
  writer.join();
  if (out.failure.empty() && !write_failure.empty())
    out.failure = write_failure;
  return out;
}

// Nearest-rank percentile of sorted values.
int64_t percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * sorted.size()));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

std::string tail(const std::string& text, std::size_t max_bytes) {
  return text.size() <= max_bytes ? text : "..." + text.substr(text.size() - max_bytes);
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  CLI::App app{"Drives `warren serve` over stdio and measures it."};
  app.add_option("--binary", opts.binary, "path of the warren binary")->required();
  app.add_option("--scenario", opts.scenario,
                 "ping, or the name of a tool to call (list_queues, ...)");
  app.add_option("--requests", opts.requests, "measured requests")
      ->check(CLI::PositiveNumber);
  app.add_option("--inflight", opts.inflight, "requests kept in flight")
      ->check(CLI::PositiveNumber);
  app.add_option("--arguments", opts.arguments, "tool arguments as a JSON object");
  app.add_option("--env", opts.env,
                 "KEY=VALUE added to warren's environment (repeat it)")
      ->allow_extra_args(false);
  app.add_option("--warmup", opts.warmup, "requests sent before measuring");
  app.add_option("--timeout", opts.timeout_s, "seconds to wait for any one response");
  app.add_flag("--json", opts.json, "print one JSON object instead of text");
  app.add_option("warren_args", opts.warren_args,
                 "flags for `warren serve` (after --)");
  CLI11_PARSE(app, argc, argv);

  rapidjson::Document args_doc;
  args_doc.Parse(opts.arguments.c_str());
  if (args_doc.HasParseError() || !args_doc.IsObject()) {
    std::cerr << "warren_loadgen: --arguments must be a JSON object\n";
    return 2;
  }
  for (const auto& kv : opts.env) {
    if (kv.find('=') == std::string::npos || kv.front() == '=') {
      std::cerr << "warren_loadgen: --env takes KEY=VALUE, got '" << kv << "'\n";
      return 2;
    }
  }

  std::vector<std::string> argv_warren{opts.binary, "serve"};
  argv_warren.insert(argv_warren.end(), opts.warren_args.begin(),
                     opts.warren_args.end());
  auto spawned = warren::subprocess::spawn(argv_warren, opts.env);
  if (!spawned) {
    std::cerr << "warren_loadgen: " << warren::message_of(spawned.error()) << "\n";
    return 1;
  }
  auto& proc = **spawned;
  auto timeout = std::chrono::milliseconds(static_cast<int64_t>(opts.timeout_s * 1000));
  auto fail = [&](const std::string& what) {
    std::cerr << "warren_loadgen: " << what << "\nwarren's stderr:\n"
              << tail(proc.stderr_text(), 4000) << "\n";
    return 1;
  };

  proc.write_line(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{)"
                  R"("protocolVersion":"2025-11-25","capabilities":{},)"
                  R"("clientInfo":{"name":"warren_loadgen","version":"1"}}})");
  std::string init;
  if (!await_id(proc, 0, timeout, &init))
    return fail("no answer to initialize");
  proc.write_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");

  auto tmpl = make_template(opts);
  int64_t next_id = 1;
  if (opts.warmup > 0) {
    auto warm = run_phase(proc, tmpl, next_id, opts.warmup, opts.inflight, timeout);
    if (!warm.failure.empty())
      return fail("warmup: " + warm.failure);
    next_id += static_cast<int64_t>(opts.warmup);
  }
  auto res = run_phase(proc, tmpl, next_id, opts.requests, opts.inflight, timeout);
  if (!res.failure.empty())
    return fail(res.failure + " (" + std::to_string(res.answered) + " of " +
                std::to_string(opts.requests) + " answered)");

  // VmHWM is only readable while warren runs; wait4's figure covers the rest.
  auto rss = proc.peak_rss_bytes();
  proc.close_stdin();
  auto code = proc.wait(std::chrono::seconds(15));
  rss = std::max(rss, proc.peak_rss_bytes());
  if (!code)
    std::cerr << "warren_loadgen: warren still ran 15 s after stdin EOF\n";

  auto sorted = res.latencies_us;
  std::sort(sorted.begin(), sorted.end());
  double throughput =
      res.seconds > 0 ? static_cast<double>(res.answered) / res.seconds : 0.0;
  double rss_mib = static_cast<double>(rss) / (1024.0 * 1024.0);
  auto p50 = percentile(sorted, 50);
  auto p95 = percentile(sorted, 95);
  auto p99 = percentile(sorted, 99);
  auto max = sorted.empty() ? 0 : sorted.back();

  if (opts.json) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w{buf};
    w.StartObject();
    w.Key("scenario");
    w.String(opts.scenario.c_str());
    w.Key("requests");
    w.Uint64(opts.requests);
    w.Key("inflight");
    w.Uint64(opts.inflight);
    w.Key("warmup");
    w.Uint64(opts.warmup);
    w.Key("seconds");
    w.Double(res.seconds);
    w.Key("throughput_rps");
    w.Double(throughput);
    w.Key("p50_us");
    w.Int64(p50);
    w.Key("p95_us");
    w.Int64(p95);
    w.Key("p99_us");
    w.Int64(p99);
    w.Key("max_us");
    w.Int64(max);
    w.Key("errors");
    w.Uint64(res.errors);
    w.Key("unexpected");
    w.Uint64(res.unexpected);
    w.Key("peak_rss_mib");
    w.Double(rss_mib);
    w.Key("exit_code");
    if (code)
      w.Int(*code);
    else
      w.Null();
    w.EndObject();
    std::cout << buf.GetString() << "\n";
  } else {
    std::printf("scenario:     %s\n", opts.scenario.c_str());
    std::printf("requests:     %zu (warmup %zu)\n", opts.requests, opts.warmup);
    std::printf("inflight:     %zu\n", opts.inflight);
    std::printf("seconds:      %.3f\n", res.seconds);
    std::printf("throughput:   %.0f req/s\n", throughput);
    std::printf("latency us:   p50 %lld  p95 %lld  p99 %lld  max %lld\n",
                static_cast<long long>(p50), static_cast<long long>(p95),
                static_cast<long long>(p99), static_cast<long long>(max));
    std::printf("errors:       %zu\n", res.errors);
    if (res.unexpected > 0)
      std::printf("unexpected:   %zu\n", res.unexpected);
    std::printf("peak RSS:     %.1f MiB\n", rss_mib);
    if (code && *code != 0)
      std::printf("exit code:    %d\n", *code);
  }
  return 0;
}
