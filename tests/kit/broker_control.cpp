#include "tests/kit/broker_control.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <signal.h>
#include <sstream>
#include <thread>

#include "protocol/error.hpp"
#include "tests/kit/subprocess.hpp"

namespace warren {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct proc_stat {
  char state = '?';
  long session = 0;
};

// The fields of a /proc stat file (/proc/PID/stat, /proc/PID/task/TID/stat) after
// the command name (which may hold spaces and parentheses, hence the last ')').
std::optional<proc_stat> read_stat(const fs::path& file) {
  std::ifstream in{file};
  std::string text;
  if (!std::getline(in, text))
    return std::nullopt;
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return std::nullopt;
  std::istringstream rest{text.substr(close + 1)};
  proc_stat st;
  long ppid = 0;
  long pgrp = 0;
  if (!(rest >> st.state >> ppid >> pgrp >> st.session))
    return std::nullopt;
  return st;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// True when every thread of `pid` is stopped (or gone). A stop signal reaches one
// thread first, which then stops the others: until it has run, the rest of the
// process goes on and may still answer a request.
bool all_threads_stopped(pid_t pid) {
  std::error_code err;
  auto dir = fs::path{"/proc"} / std::to_string(pid) / "task";
  for (auto i = fs::directory_iterator(dir, err); !err && i != fs::directory_iterator();
       i.increment(err)) {
    auto st = read_stat(i->path() / "stat");
    if (st && st->state != 'T' && st->state != 't' && st->state != 'Z' &&
        st->state != 'X')
      return false;
  }
  return true;
}

long read_session_id(const std::string& dir) {
  auto text = read_file(dir + "/broker.pid");
  if (!text)
    return 0;
  return std::strtol(text->c_str(), nullptr, 10);
}

} // namespace

private_broker::private_broker(std::string script, std::string dir)
    : script_(std::move(script)), dir_(std::move(dir)) {}

caf::expected<std::unique_ptr<private_broker>>
private_broker::start(std::string script) {
  std::error_code err;
  auto base = fs::temp_directory_path(err);
  if (err)
    base = "/tmp";
  auto pattern = (base / "warren-broker-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    return make_error(ec::internal, "cannot make a temporary directory for a broker");
  std::unique_ptr<private_broker> broker{
      new private_broker(std::move(script), pattern)};
  if (auto failed = broker->run_script("start"))
    return failed;
  return broker;
}

private_broker::~private_broker() {
  (void)kill();
  (void)run_script("stop");
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

caf::error private_broker::run_script(const std::string& command) {
  auto proc = subprocess::spawn({"bash", script_, command, dir_});
  if (!proc)
    return proc.error();
  auto code = (*proc)->wait(180s);
  if (!code) {
    (*proc)->signal(SIGKILL);
    return make_error(ec::internal,
                      "local-broker " + command + " " + dir_ +
                          " did not finish within 180 s: " + (*proc)->stderr_text());
  }
  if (*code != 0)
    return make_error(ec::internal, "local-broker " + command + " " + dir_ +
                                        " failed (" + std::to_string(*code) +
                                        "): " + (*proc)->stderr_text());
  if (command != "start")
    return {};
  auto text = read_file(dir_ + "/env");
  auto parsed = text ? parse_broker_env(*text) : std::nullopt;
  if (!parsed)
    return make_error(ec::internal,
                      "local-broker start wrote no usable " + dir_ + "/env");
  if (env_.management_port != 0 && (parsed->management_port != env_.management_port ||
                                    parsed->amqp_port != env_.amqp_port))
    return make_error(ec::internal, "the broker came back on other ports (management " +
                                        std::to_string(parsed->management_port) +
                                        ", AMQP " + std::to_string(parsed->amqp_port) +
                                        ")");
  env_ = std::move(*parsed);
  return {};
}

std::vector<pid_t> private_broker::processes() const {
  std::vector<pid_t> result;
  auto session = read_session_id(dir_);
  if (session <= 0)
    return result;
  std::error_code err;
  for (const auto& entry : fs::directory_iterator("/proc", err)) {
    auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    auto st = read_stat(entry.path() / "stat");
    if (st && st->session == session && st->state != 'Z' && st->state != 'X')
      result.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return result;
}

caf::error private_broker::signal_all(int signo) {
  auto pids = processes();
  if (pids.empty())
    return make_error(ec::internal, "no process of the broker in " + dir_ + " runs");
  for (auto pid : pids)
    ::kill(pid, signo);
  return {};
}

caf::error private_broker::kill() {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    auto pids = processes();
    if (pids.empty())
      return {};
    if (std::chrono::steady_clock::now() > deadline)
      return make_error(ec::internal,
                        "the broker's processes outlived SIGKILL for 10 s");
    for (auto pid : pids)
      ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(20ms);
  }
}

caf::error private_broker::freeze() {
  if (auto err = signal_all(SIGSTOP))
    return err;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    auto pids = processes();
    bool stopped = true;
    for (auto pid : pids)
      stopped = stopped && all_threads_stopped(pid);
    if (stopped)
      return {};
    if (std::chrono::steady_clock::now() > deadline)
      return make_error(ec::internal, "the broker's threads were not all stopped "
                                      "10 s after SIGSTOP");
    std::this_thread::sleep_for(1ms);
  }
}

caf::error private_broker::thaw() {
  return signal_all(SIGCONT);
}

caf::error private_broker::restart() {
  if (auto err = kill())
    return err;
  return run_script("start");
}

std::size_t thread_count(pid_t pid) {
  std::error_code err;
  std::size_t n = 0;
  for (auto i = fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", err);
       !err && i != fs::directory_iterator(); i.increment(err))
    ++n;
  return n;
}

std::size_t rss_bytes(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, 6, "VmRSS:") == 0)
      return static_cast<std::size_t>(std::strtoull(line.c_str() + 6, nullptr, 10)) *
             1024;
  }
  return 0;
}

} // namespace warren
