// warren_loadgen: drives `warren serve` (or any MCP server on stdio) with a fixed
// number of requests in flight and reports throughput, latency percentiles and the
// server's peak RSS.
//
//   warren_loadgen --binary PATH --scenario ping|list_queues|<tool> --requests N
//                  --inflight W [--arguments JSON] [--env KEY=VALUE ...]
//                  [--warmup N] [--timeout SECONDS] [--json] [-- WARREN-FLAGS...]
//   warren_loadgen --binary PATH --mix '[{"tool":..,"arguments":{..},"weight":N},..]'
//                  [--seed N] [--after-warmup CMD] [--after-run CMD] ...
//   warren_loadgen --command "PROG ARGS..." ...   (instead of --binary: another server)
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
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>

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
  std::string command;
  std::string scenario = "ping";
  std::size_t requests = 10000;
  std::size_t inflight = 1;
  std::string arguments = "{}";
  std::string mix;
  uint64_t seed = 1;
  std::string after_warmup;
  std::string after_run;
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
  std::vector<std::size_t> calls;  ///< answered requests per tool of the workload
  std::vector<std::size_t> failed; ///< of those, errors
  std::string failure;             ///< non-empty when the phase could not finish
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

request_template make_template(const std::string& tool, const std::string& arguments) {
  request_template t;
  if (tool == "ping")
    t.after_id = R"(,"method":"ping"})";
  else
    t.after_id = R"(,"method":"tools/call","params":{"name":)" + quote(tool) +
                 R"(,"arguments":)" + arguments + "}}";
  t.after_id += '\n';
  return t;
}

// What to send: the request templates, the tool each one calls, and for every request
// of the session (warmup first) which template it uses.
struct workload {
  std::vector<request_template> templates;
  std::vector<std::size_t> tool_of; ///< template -> index into tools
  std::vector<std::string> tools;
  std::vector<uint32_t> order;

  const request_template& at(std::size_t seq) const {
    return templates[order.empty() ? 0 : order[seq]];
  }
  std::size_t tool_at(std::size_t seq) const {
    return order.empty() ? 0 : tool_of[order[seq]];
  }
};

workload single_workload(const options& opts) {
  workload w;
  w.templates.push_back(make_template(opts.scenario, opts.arguments));
  w.tool_of.push_back(0);
  w.tools.push_back(opts.scenario);
  return w;
}

std::string to_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  value.Accept(w);
  return buf.GetString();
}

// One entry of --mix: a tool, the argument objects its draws take in turn, a weight.
struct mix_entry {
  std::size_t tool = 0;
  std::size_t first_template = 0;
  std::size_t template_count = 0;
  uint32_t weight = 1;
  std::size_t draws = 0;
};

std::optional<std::string> parse_mix_entry(const rapidjson::Value& item, workload& w,
                                           mix_entry& e) {
  if (!item.IsObject())
    return "each element must be an object";
  for (auto& m : item.GetObject()) {
    std::string key = m.name.GetString();
    if (key != "tool" && key != "arguments" && key != "weight")
      return "unknown key '" + key + "' (expected tool, arguments, weight)";
  }
  auto tool = item.FindMember("tool");
  if (tool == item.MemberEnd() || !tool->value.IsString() ||
      tool->value.GetStringLength() == 0)
    return "'tool' must be a non-empty string";
  std::string name = tool->value.GetString();
  auto known = std::find(w.tools.begin(), w.tools.end(), name);
  e.tool = static_cast<std::size_t>(known - w.tools.begin());
  if (known == w.tools.end())
    w.tools.push_back(name);
  if (auto weight = item.FindMember("weight"); weight != item.MemberEnd()) {
    if (!weight->value.IsUint() || weight->value.GetUint() == 0 ||
        weight->value.GetUint() > 1000000)
      return "'weight' must be an integer from 1 to 1000000";
    e.weight = weight->value.GetUint();
  }
  // An array of argument objects is taken in turn, one per draw of the entry: a way
  // to rotate over queue names without a random pick ever repeating one too soon.
  std::vector<const rapidjson::Value*> args;
  auto arguments = item.FindMember("arguments");
  if (arguments == item.MemberEnd()) {
    static const rapidjson::Value empty{rapidjson::kObjectType};
    args.push_back(&empty);
  } else if (arguments->value.IsObject()) {
    args.push_back(&arguments->value);
  } else if (arguments->value.IsArray() && !arguments->value.Empty()) {
    for (auto& a : arguments->value.GetArray()) {
      if (!a.IsObject())
        return "'arguments' must be an object or a non-empty array of objects";
      args.push_back(&a);
    }
  } else {
    return "'arguments' must be an object or a non-empty array of objects";
  }
  e.first_template = w.templates.size();
  e.template_count = args.size();
  for (auto* a : args) {
    w.templates.push_back(make_template(name, to_json(*a)));
    w.tool_of.push_back(e.tool);
  }
  return std::nullopt;
}

// The order is a deck holding each entry `weight` times, shuffled anew for every pass
// by a seeded mt19937 (whose output the standard fixes), so the same --mix and --seed
// send the same requests in the same order on any machine.
std::optional<std::string> parse_mix(const std::string& text, uint64_t seed,
                                     std::size_t total, workload& w) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  if (doc.HasParseError() || !doc.IsArray() || doc.Empty())
    return std::string{"--mix must be a non-empty JSON array"};
  std::vector<mix_entry> entries(doc.Size());
  std::vector<uint32_t> deck;
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    if (auto err = parse_mix_entry(doc[i], w, entries[i]))
      return "--mix element " + std::to_string(i) + ": " + *err;
    deck.insert(deck.end(), entries[i].weight, i);
    if (deck.size() > 10000000)
      return std::string{"--mix: the weights add up to more than 10000000"};
  }
  std::mt19937 rng{static_cast<std::mt19937::result_type>(seed)};
  w.order.reserve(total);
  while (w.order.size() < total) {
    for (std::size_t i = deck.size(); i > 1; --i)
      std::swap(deck[i - 1], deck[rng() % i]);
    for (std::size_t k = 0; k < deck.size() && w.order.size() < total; ++k) {
      auto& e = entries[deck[k]];
      w.order.push_back(
          static_cast<uint32_t>(e.first_template + e.draws++ % e.template_count));
    }
  }
  return std::nullopt;
}

// Runs a shell command while warren keeps running; its stdout goes to our stderr so
// that it cannot mix with the report. False when it did not exit with 0.
bool run_hook(const std::string& what, const std::string& command) {
  if (command.empty())
    return true;
  std::cout.flush();
  auto status = std::system(("(" + command + "\n) 1>&2").c_str());
  if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return true;
  std::cerr << "warren_loadgen: " << what << " command failed ("
            << (status != -1 && WIFEXITED(status)
                    ? "exit code " + std::to_string(WEXITSTATUS(status))
                    : std::string{"did not exit normally"})
            << "): " << command << "\n";
  return false;
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

// Sends `count` requests with ids first_id.., which are the workload's requests from
// number first_id - 1 on, keeping at most `window` in flight.
phase_result run_phase(warren::subprocess& proc, const workload& work, int64_t first_id,
                       std::size_t count, std::size_t window,
                       std::chrono::milliseconds timeout) {
  phase_result out;
  out.latencies_us.reserve(count);
  out.calls.assign(work.tools.size(), 0);
  out.failed.assign(work.tools.size(), 0);
  auto seq_of = [&](std::size_t index) {
    return static_cast<std::size_t>(first_id - 1) + index;
  };
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
        batch +=
            work.at(seq_of(next + k)).line(first_id + static_cast<int64_t>(next + k));
      }
      next += room;
      if (!proc.write_raw(batch, timeout)) {
        std::lock_guard<std::mutex> guard{mtx};
        write_failure =
            "writing to the server's stdin failed (it exited or stopped reading)";
        return;
      }
    }
  });

  while (out.answered < count) {
    auto line = proc.read_line(timeout);
    if (!line) {
      out.failure = proc.stdout_eof() ? "the server closed its stdout"
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
    auto tool = work.tool_at(seq_of(static_cast<std::size_t>(index)));
    ++out.calls[tool];
    if (is_error_response(doc)) {
      ++out.errors;
      ++out.failed[tool];
    }
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

// Splits --command into words as a shell would, quotes and backslashes included, but
// without expansions, so that the program runs as loadgen's own child (its RSS is the
// server's, not a shell's). nullopt on an unbalanced quote.
std::optional<std::vector<std::string>> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote_char = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote_char == '\'') {
      if (c == '\'')
        quote_char = 0;
      else
        word += c;
    } else if (quote_char == '"') {
      if (c == '"')
        quote_char = 0;
      else if (c == '\\' && i + 1 < text.size() &&
               (text[i + 1] == '"' || text[i + 1] == '\\'))
        word += text[++i];
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote_char = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word)
        words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote_char != 0)
    return std::nullopt;
  if (in_word)
    words.push_back(std::move(word));
  return words;
}

std::string tail(const std::string& text, std::size_t max_bytes) {
  return text.size() <= max_bytes ? text : "..." + text.substr(text.size() - max_bytes);
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  CLI::App app{"Drives `warren serve` (or another MCP server) over stdio and measures "
               "it."};
  auto binary = app.add_option("--binary", opts.binary,
                               "path of the warren binary, started as `PATH serve`");
  app.add_option("--command", opts.command,
                 "instead of --binary: the command line of any MCP server on stdio, "
                 "split into words like a shell (quotes, no expansions) and started "
                 "without one; flags after -- are appended")
      ->excludes(binary);
  auto scenario =
      app.add_option("--scenario", opts.scenario,
                     "ping, or the name of a tool to call (list_queues, ...)");
  app.add_option("--requests", opts.requests, "measured requests")
      ->check(CLI::PositiveNumber);
  app.add_option("--inflight", opts.inflight, "requests kept in flight")
      ->check(CLI::PositiveNumber);
  auto arguments =
      app.add_option("--arguments", opts.arguments, "tool arguments as a JSON object");
  app.add_option("--mix", opts.mix,
                 "instead of --scenario: a JSON array of "
                 "{\"tool\":NAME,\"arguments\":{...},\"weight\":N}; requests are "
                 "drawn in a seeded, weighted order (arguments may be an array of "
                 "objects, taken in turn)")
      ->excludes(scenario)
      ->excludes(arguments);
  app.add_option("--seed", opts.seed, "seed of the --mix order");
  app.add_option("--after-warmup", opts.after_warmup,
                 "shell command run after the warmup, before measuring");
  app.add_option("--after-run", opts.after_run,
                 "shell command run after the measured requests, before warren stops");
  app.add_option("--env", opts.env,
                 "KEY=VALUE added to the server's environment (repeat it)")
      ->allow_extra_args(false);
  app.add_option("--warmup", opts.warmup, "requests sent before measuring");
  app.add_option("--timeout", opts.timeout_s, "seconds to wait for any one response");
  app.add_flag("--json", opts.json, "print one JSON object instead of text");
  app.add_option("warren_args", opts.warren_args,
                 "flags for `warren serve`, or appended to --command (after --)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits with 0; every other mistake is bad usage, 2 as documented.
    return app.exit(e) == 0 ? 0 : 2;
  }

  std::vector<std::string> server_argv;
  if (!opts.command.empty()) {
    auto words = split_words(opts.command);
    if (!words || words->empty()) {
      std::cerr << "warren_loadgen: --command must name a program (and may not have "
                   "an unbalanced quote)\n";
      return 2;
    }
    server_argv = std::move(*words);
  } else if (!opts.binary.empty()) {
    server_argv = {opts.binary, "serve"};
  } else {
    std::cerr << "warren_loadgen: --binary or --command is required\n";
    return 2;
  }
  server_argv.insert(server_argv.end(), opts.warren_args.begin(),
                     opts.warren_args.end());

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

  auto work = single_workload(opts);
  if (!opts.mix.empty()) {
    work = workload{};
    if (auto err = parse_mix(opts.mix, opts.seed, opts.warmup + opts.requests, work)) {
      std::cerr << "warren_loadgen: " << *err << "\n";
      return 2;
    }
  }

  auto spawned = warren::subprocess::spawn(server_argv, opts.env);
  if (!spawned) {
    std::cerr << "warren_loadgen: " << warren::message_of(spawned.error()) << "\n";
    return 1;
  }
  auto& proc = **spawned;
  auto timeout = std::chrono::milliseconds(static_cast<int64_t>(opts.timeout_s * 1000));
  auto fail = [&](const std::string& what) {
    std::cerr << "warren_loadgen: " << what << "\nthe server's stderr:\n"
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

  int64_t next_id = 1;
  if (opts.warmup > 0) {
    auto warm = run_phase(proc, work, next_id, opts.warmup, opts.inflight, timeout);
    if (!warm.failure.empty())
      return fail("warmup: " + warm.failure);
    next_id += static_cast<int64_t>(opts.warmup);
  }
  if (!run_hook("--after-warmup", opts.after_warmup))
    return 1;
  auto res = run_phase(proc, work, next_id, opts.requests, opts.inflight, timeout);
  if (!res.failure.empty())
    return fail(res.failure + " (" + std::to_string(res.answered) + " of " +
                std::to_string(opts.requests) + " answered)");
  if (!run_hook("--after-run", opts.after_run))
    return 1;

  // VmHWM is only readable while warren runs; wait4's figure covers the rest.
  auto rss = proc.peak_rss_bytes();
  proc.close_stdin();
  auto code = proc.wait(std::chrono::seconds(15));
  rss = std::max(rss, proc.peak_rss_bytes());
  if (!code)
    std::cerr << "warren_loadgen: the server still ran 15 s after stdin EOF\n";

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
    w.String(opts.mix.empty() ? opts.scenario.c_str() : "mix");
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
    if (!opts.mix.empty()) {
      // Not "requests"/"errors": the scripts pick fields out of this line by name.
      w.Key("tools");
      w.StartObject();
      for (std::size_t t = 0; t < work.tools.size(); ++t) {
        w.Key(work.tools[t].c_str());
        w.StartObject();
        w.Key("calls");
        w.Uint64(res.calls[t]);
        w.Key("failed");
        w.Uint64(res.failed[t]);
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndObject();
    std::cout << buf.GetString() << "\n";
  } else {
    if (opts.mix.empty())
      std::printf("scenario:     %s\n", opts.scenario.c_str());
    else
      std::printf("scenario:     mix of %zu tools (seed %llu)\n", work.tools.size(),
                  static_cast<unsigned long long>(opts.seed));
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
    if (!opts.mix.empty())
      for (std::size_t t = 0; t < work.tools.size(); ++t)
        std::printf("  %-24s %zu calls, %zu errors\n", work.tools[t].c_str(),
                    res.calls[t], res.failed[t]);
  }
  return 0;
}
