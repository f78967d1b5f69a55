#include "tests/kit/subprocess.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "protocol/error.hpp"

extern char** environ;

namespace warren {

namespace {

using clock_type = std::chrono::steady_clock;

int remaining_ms(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                    clock_type::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
}

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

bool set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// A child that closes its stdin must turn our writes into EPIPE, not kill the test
// runner with SIGPIPE. Only a default disposition is changed; a caller's handler
// stays.
void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
      ::signal(SIGPIPE, SIG_IGN);
  });
}

std::string key_of(const std::string& entry) {
  return entry.substr(0, entry.find('='));
}

std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> result;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e)
    result.emplace_back(*e);
  for (const auto& entry : extra) {
    auto key = key_of(entry);
    auto same_key = [&](const std::string& x) { return key_of(x) == key; };
    result.erase(std::remove_if(result.begin(), result.end(), same_key), result.end());
    result.push_back(entry);
  }
  return result;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& s : strings)
    result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

int decode_status(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

} // namespace

std::size_t read_vm_hwm_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      // "VmHWM:     12345 kB"
      try {
        return static_cast<std::size_t>(std::stoull(line.substr(6))) * 1024;
      } catch (...) {
        return 0;
      }
    }
  }
  return 0;
}

struct subprocess::impl {
  pid_t pid = -1;
  int in_fd = -1;
  int out_fd = -1;
  int err_fd = -1;

  // stdout, owned by the reading thread.
  std::string out_buf;
  std::size_t out_pos = 0;
  bool out_eof = false;

  // stdin, owned by the writing thread.
  std::mutex in_mtx; // guards in_fd against close_stdin() from another thread

  // stderr and RSS samples, shared with the drain thread.
  mutable std::mutex err_mtx;
  std::string err_text;
  std::size_t hwm_sample = 0;
  std::atomic<bool> stop{false};
  std::thread drain;

  // Exit status.
  std::mutex wait_mtx;
  std::optional<int> exit;
  std::size_t rusage_maxrss = 0;
  std::atomic<bool> exited{false};

  void drain_loop() {
    char chunk[4096];
    while (!stop.load()) {
      if (err_fd >= 0) {
        pollfd p{err_fd, POLLIN, 0};
        int n = ::poll(&p, 1, 100);
        if (n > 0) {
          auto got = ::read(err_fd, chunk, sizeof(chunk));
          if (got > 0) {
            std::lock_guard<std::mutex> guard{err_mtx};
            err_text.append(chunk, static_cast<std::size_t>(got));
          } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
            close_fd(err_fd);
          }
        }
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      sample_hwm();
    }
  }

  void sample_hwm() {
    if (exited.load())
      return;
    auto now = read_vm_hwm_bytes(pid);
    std::lock_guard<std::mutex> guard{err_mtx};
    hwm_sample = std::max(hwm_sample, now);
  }

  // Reaps the child if it has exited; blocks when `block`.
  bool try_reap(bool block) {
    std::lock_guard<std::mutex> guard{wait_mtx};
    if (exit)
      return true;
    int status = 0;
    rusage usage{};
    pid_t r;
    do {
      r = ::wait4(pid, &status, block ? 0 : WNOHANG, &usage);
    } while (r < 0 && errno == EINTR);
    if (r == pid) {
      exit = decode_status(status);
      rusage_maxrss = static_cast<std::size_t>(usage.ru_maxrss) * 1024;
      exited.store(true);
      return true;
    }
    if (r < 0) {
      // Someone else reaped it (or it was never ours); treat it as gone.
      exit = -1;
      exited.store(true);
      return true;
    }
    return false;
  }

  bool write_all(std::string_view bytes, std::chrono::milliseconds timeout) {
    std::lock_guard<std::mutex> guard{in_mtx};
    auto deadline = clock_type::now() + timeout;
    while (!bytes.empty()) {
      if (in_fd < 0)
        return false;
      auto n = ::write(in_fd, bytes.data(), bytes.size());
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        return false; // EPIPE: the child closed its stdin
      int left = remaining_ms(deadline);
      if (left == 0)
        return false;
      pollfd p{in_fd, POLLOUT, 0};
      if (::poll(&p, 1, left) < 0 && errno != EINTR)
        return false;
      if (p.revents & (POLLERR | POLLHUP))
        return false;
    }
    return true;
  }
};

subprocess::subprocess(std::unique_ptr<impl> p) : impl_(std::move(p)) {
  // Nothing to do: spawn() builds the impl completely.
}

caf::expected<std::unique_ptr<subprocess>>
subprocess::spawn(const std::vector<std::string>& argv,
                  const std::vector<std::string>& env) {
  if (argv.empty())
    return make_error(ec::internal, "subprocess::spawn needs at least a program name");
  ignore_sigpipe_once();
  int in_pipe[2] = {-1, -1};
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  auto close_all = [&] {
    for (int* fds : {in_pipe, out_pipe, err_pipe}) {
      close_fd(fds[0]);
      close_fd(fds[1]);
    }
  };
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    auto err = std::string{std::strerror(errno)};
    close_all();
    return make_error(ec::internal, "cannot create pipes for " + argv[0] + ": " + err);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  // The child must not inherit our ignored SIGPIPE or a blocked signal mask.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  auto args = argv;
  auto envs = merged_environment(env);
  auto c_args = c_strings(args);
  auto c_envs = c_strings(envs);
  pid_t pid = -1;
  int rc =
      ::posix_spawnp(&pid, c_args[0], &actions, &attr, c_args.data(), c_envs.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    close_all();
    return make_error(ec::internal,
                      "cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  close_fd(in_pipe[0]);
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);
  auto p = std::make_unique<impl>();
  p->pid = pid;
  p->in_fd = in_pipe[1];
  p->out_fd = out_pipe[0];
  p->err_fd = err_pipe[0];
  set_nonblocking(p->in_fd);
  set_nonblocking(p->out_fd);
  p->hwm_sample = read_vm_hwm_bytes(pid);
  auto* raw = p.get();
  p->drain = std::thread([raw] { raw->drain_loop(); });
  return std::unique_ptr<subprocess>(new subprocess(std::move(p)));
}

subprocess::~subprocess() {
  if (!impl_->try_reap(false)) {
    ::kill(impl_->pid, SIGKILL);
    impl_->try_reap(true);
  }
  impl_->stop.store(true);
  if (impl_->drain.joinable())
    impl_->drain.join();
  {
    std::lock_guard<std::mutex> guard{impl_->in_mtx};
    close_fd(impl_->in_fd);
  }
  close_fd(impl_->out_fd);
  close_fd(impl_->err_fd);
}

pid_t subprocess::pid() const {
  return impl_->pid;
}

bool subprocess::write_line(std::string_view line, std::chrono::milliseconds timeout) {
  if (!line.empty() && line.back() == '\n')
    return impl_->write_all(line, timeout);
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line);
  buf.push_back('\n');
  return impl_->write_all(buf, timeout);
}

bool subprocess::write_lines(const std::vector<std::string>& lines,
                             std::chrono::milliseconds timeout) {
  std::string buf;
  for (const auto& line : lines) {
    buf.append(line);
    if (line.empty() || line.back() != '\n')
      buf.push_back('\n');
  }
  return impl_->write_all(buf, timeout);
}

bool subprocess::write_raw(std::string_view bytes, std::chrono::milliseconds timeout) {
  return impl_->write_all(bytes, timeout);
}

std::optional<std::string> subprocess::read_line(std::chrono::milliseconds timeout) {
  auto& p = *impl_;
  auto deadline = clock_type::now() + timeout;
  std::size_t scanned = p.out_pos;
  for (;;) {
    auto nl = p.out_buf.find('\n', scanned);
    if (nl != std::string::npos) {
      std::string line = p.out_buf.substr(p.out_pos, nl - p.out_pos);
      p.out_pos = nl + 1;
      if (p.out_pos > 65536 && p.out_pos * 2 > p.out_buf.size()) {
        p.out_buf.erase(0, p.out_pos);
        p.out_pos = 0;
      }
      return line;
    }
    scanned = p.out_buf.size();
    if (p.out_eof) {
      if (p.out_pos < p.out_buf.size()) {
        std::string rest = p.out_buf.substr(p.out_pos);
        p.out_pos = p.out_buf.size();
        return rest;
      }
      return std::nullopt;
    }
    char chunk[65536];
    auto n = ::read(p.out_fd, chunk, sizeof(chunk));
    if (n > 0) {
      p.out_buf.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      p.out_eof = true;
      continue;
    }
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      p.out_eof = true;
      continue;
    }
    int left = remaining_ms(deadline);
    if (left == 0)
      return std::nullopt;
    pollfd pfd{p.out_fd, POLLIN, 0};
    ::poll(&pfd, 1, left);
  }
}

bool subprocess::stdout_eof() const {
  return impl_->out_eof && impl_->out_pos >= impl_->out_buf.size();
}

void subprocess::close_stdin() {
  std::lock_guard<std::mutex> guard{impl_->in_mtx};
  close_fd(impl_->in_fd);
}

std::optional<int> subprocess::wait(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    // Sample right before reaping so the figure covers as much of the run as possible.
    impl_->sample_hwm();
    if (impl_->try_reap(false))
      return impl_->exit;
    int left = remaining_ms(deadline);
    if (left == 0)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(left, 5)));
  }
}

std::optional<int> subprocess::exit_code() {
  if (impl_->try_reap(false))
    return impl_->exit;
  return std::nullopt;
}

bool subprocess::signal(int signo) {
  if (impl_->try_reap(false))
    return false;
  return ::kill(impl_->pid, signo) == 0;
}

std::string subprocess::stderr_text() const {
  std::lock_guard<std::mutex> guard{impl_->err_mtx};
  return impl_->err_text;
}

std::size_t subprocess::peak_rss_bytes() {
  impl_->sample_hwm();
  std::size_t sampled;
  {
    std::lock_guard<std::mutex> guard{impl_->err_mtx};
    sampled = impl_->hwm_sample;
  }
  std::lock_guard<std::mutex> guard{impl_->wait_mtx};
  return std::max(sampled, impl_->rusage_maxrss);
}

} // namespace warren
