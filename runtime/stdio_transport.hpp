#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/interfaces.hpp"
#include "actors/session.hpp"

namespace warren {

/// Reading credit shared by the stdin reader and the session: the reader takes one
/// unit per line and blocks when none is left, so a client that sends faster than
/// warren answers is slowed down by the pipe instead of growing warren's memory.
class credit_gate {
public:
  explicit credit_gate(std::size_t credits) : available_(credits) {}

  /// Takes one unit, waiting for it; false once the gate is closed.
  bool acquire();
  /// Gives one unit back.
  void release();
  /// Wakes and refuses every waiter from now on.
  void close();

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::size_t available_;
  bool closed_ = false;
};

/// Writes lines to a file descriptor from its own thread, all lines that are ready in
/// one write, so a burst of answers costs one system call.
class line_writer {
public:
  explicit line_writer(int fd);
  ~line_writer();
  line_writer(const line_writer&) = delete;
  line_writer& operator=(const line_writer&) = delete;

  /// Queues one line (a newline is appended).
  void write(std::string line);
  /// Writes what is queued and stops the thread.
  void close();

private:
  void run();

  int fd_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string queued_;
  bool closing_ = false;
  std::thread thread_;
};

/// The session's view of stdio: lines to the writer, credit back to the gate.
class stdio_output : public session_output {
public:
  stdio_output(line_writer& writer, credit_gate& gate) : writer_(writer), gate_(gate) {}
  void respond(const std::string&, std::string line) override {
    writer_.write(std::move(line));
  }
  void notify(const std::string&, std::string line) override {
    writer_.write(std::move(line));
  }
  void release() override { gate_.release(); }

private:
  line_writer& writer_;
  credit_gate& gate_;
};

/// Reads newline-delimited messages from `fd` on its own thread and hands each to the
/// session. A line longer than `max_line_bytes` is not kept: the reader skips to its
/// end and reports only its size. On end of input, or when `wake_fd` becomes readable
/// (a signal asked warren to stop), it sends eof and ends.
class line_reader {
public:
  line_reader(int fd, int wake_fd, std::size_t max_line_bytes, credit_gate& gate,
              session_actor session);
  ~line_reader();
  line_reader(const line_reader&) = delete;
  line_reader& operator=(const line_reader&) = delete;

  void start();
  void join();

private:
  void run();
  bool deliver(std::string line);

  int fd_;
  int wake_fd_;
  std::size_t max_line_bytes_;
  credit_gate& gate_;
  session_actor session_;
  std::thread thread_;
};

} // namespace warren
