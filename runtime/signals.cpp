#include "runtime/signals.hpp"

#include <csignal>
#include <pthread.h>
#include <unistd.h>

namespace warren {

namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR2); // used only to end the watcher itself
  return set;
}

} // namespace

signal_watcher::signal_watcher() {
  std::signal(SIGPIPE, SIG_IGN);
  auto set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (::pipe(pipe_) != 0)
    pipe_[0] = pipe_[1] = -1;
  thread_ = std::thread{[this, set] {
    int sig = 0;
    while (sigwait(&set, &sig) == 0) {
      if (sig == SIGUSR2)
        return;
      received_ = sig;
      char byte = 1;
      [[maybe_unused]] auto n = ::write(pipe_[1], &byte, 1);
    }
  }};
}

signal_watcher::~signal_watcher() {
  pthread_kill(thread_.native_handle(), SIGUSR2);
  thread_.join();
  for (int fd : pipe_)
    if (fd >= 0)
      ::close(fd);
}

} // namespace warren
