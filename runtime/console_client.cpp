#include "runtime/console_client.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

// readline's headers use FILE without including <cstdio> themselves.
#include <cstdio>
#include <readline/history.h>
#include <readline/readline.h>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <rapidjson/document.h>

#include "protocol/error.hpp"
#include "protocol/json_text.hpp"

namespace warren {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// The longest answer accepted. A real answer (the tree of a busy instance, a cache
// listing) stays far below; anything longer is a broken or hostile peer, and holding
// it would only eat memory.
constexpr std::size_t max_reply_bytes = 8u << 20;

// How much of a nonsensical answer an error message quotes.
constexpr std::size_t quoted_reply_bytes = 80;

// Lines kept in the history file: enough to find last week's commands, small enough
// to read at every start.
constexpr int history_lines = 1000;

// How often `top` refreshes in an interactive session.
constexpr milliseconds top_interval{1000};

constexpr const char* clear_screen = "\x1b[H\x1b[2J";

struct console_reply {
  bool ok = false;
  std::string output;
};

std::string errno_text(int code) {
  return std::generic_category().message(code);
}

std::string duration_text(milliseconds d) {
  if (d.count() % 1000 == 0)
    return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

// A peer's bytes made safe to quote in one line of an error message.
std::string quote(std::string_view bytes) {
  std::string clean = sanitize_utf8(bytes.substr(0, quoted_reply_bytes + 4));
  for (auto& c : clean)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = '?';
  return clip_utf8(clean, quoted_reply_bytes);
}

std::string trim(std::string_view text) {
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  };
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  return std::string(text);
}

bool ends_session(const std::string& command) {
  return command == "quit" || command == "exit";
}

// The first word of a command: "top" for "top --sort rate".
std::string verb_of(const std::string& command) {
  return command.substr(0, command.find_first_of(" \t"));
}

std::string with_json(const std::string& command, bool json) {
  constexpr std::string_view flag = "--json";
  bool has_flag = command.size() >= flag.size() &&
                  command.compare(command.size() - flag.size(), flag.size(), flag) == 0;
  if (!json || has_flag)
    return command;
  return command + " --json";
}

void print_output(std::ostream& to, const std::string& output) {
  to << output;
  if (!output.empty() && output.back() != '\n')
    to << '\n';
  to.flush();
}

// One connection to warren's console: writes command lines, reads answer lines.
class console_connection {
public:
  console_connection(std::string path, milliseconds timeout)
      : path_(std::move(path)), timeout_(timeout) {}

  ~console_connection() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  console_connection(const console_connection&) = delete;
  console_connection& operator=(const console_connection&) = delete;

  caf::error connect() {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.empty() || path_.size() >= sizeof(addr.sun_path))
      return make_error(ec::invalid_config,
                        "cannot connect to warren's console at " + path_ +
                            ": a Unix socket path must have 1 to " +
                            std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
      return make_error(ec::internal, "cannot create a socket: " + errno_text(errno));
    int rc = 0;
    do {
      rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    } while (rc != 0 && errno == EINTR);
    if (rc == 0)
      return {};
    int code = errno;
    std::string hint;
    if (code == EACCES || code == EPERM)
      hint = " (the socket is only for the user who started warren)";
    else if (code == ENOENT || code == ECONNREFUSED)
      hint = " (is warren running with --console-socket " + path_ + "?)";
    return make_error(ec::backend_unreachable,
                      "cannot connect to warren's console at " + path_ + ": " +
                          errno_text(code) + hint);
  }

  // Sends one command and waits for its answer.
  caf::expected<console_reply> ask(const std::string& command) {
    if (auto failed = send_line(command))
      return failed;
    auto line = read_line();
    if (!line)
      return line.error();
    return parse_reply(*line);
  }

  // Says goodbye; warren closes its side. Failures do not matter any more.
  void quit() {
    static constexpr char bye[] = "quit\n";
    if (fd_ >= 0)
      (void)::send(fd_, bye, sizeof(bye) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  }

private:
  caf::error closed_error() const {
    return make_error(ec::backend_unreachable,
                      "warren's console at " + path_ +
                          " closed the connection before answering (did warren stop?)");
  }

  caf::error timeout_error() const {
    return make_error(ec::backend_timeout, "warren's console at " + path_ +
                                               " did not answer within " +
                                               duration_text(timeout_));
  }

  // Milliseconds left until `deadline`, for poll.
  static int remaining(steady_clock::time_point deadline) {
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
  }

  // Waits for `events` on the socket; an error once the deadline has passed.
  caf::error wait_for(short events, steady_clock::time_point deadline) {
    for (;;) {
      pollfd p{fd_, events, 0};
      int n = ::poll(&p, 1, remaining(deadline));
      if (n > 0)
        return {};
      if (n == 0)
        return timeout_error();
      if (errno != EINTR)
        return make_error(ec::internal, "cannot wait for warren's console at " + path_ +
                                            ": " + errno_text(errno));
    }
  }

  caf::error send_line(const std::string& command) {
    std::string line = command + "\n";
    auto deadline = steady_clock::now() + timeout_;
    std::size_t sent = 0;
    while (sent < line.size()) {
      if (auto failed = wait_for(POLLOUT, deadline))
        return failed;
      auto n = ::send(fd_, line.data() + sent, line.size() - sent,
                      MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) {
        sent += static_cast<std::size_t>(n);
        continue;
      }
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
        continue;
      if (errno == EPIPE || errno == ECONNRESET)
        return closed_error();
      return make_error(ec::backend_unreachable, "cannot send to warren's console at " +
                                                     path_ + ": " + errno_text(errno));
    }
    return {};
  }

  caf::expected<std::string> read_line() {
    auto deadline = steady_clock::now() + timeout_;
    std::size_t scanned = 0;
    for (;;) {
      auto end = buffer_.find('\n', scanned);
      if (end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return line;
      }
      scanned = buffer_.size();
      if (buffer_.size() > max_reply_bytes)
        return make_error(ec::too_large, "warren's console at " + path_ +
                                             " sent an answer longer than " +
                                             std::to_string(max_reply_bytes >> 20) +
                                             " MiB; giving up on it");
      if (auto failed = wait_for(POLLIN, deadline))
        return failed;
      char chunk[65536];
      auto n = ::recv(fd_, chunk, sizeof(chunk), MSG_DONTWAIT);
      if (n > 0) {
        buffer_.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0)
        return closed_error();
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
        continue;
      if (errno == ECONNRESET)
        return closed_error();
      return make_error(ec::backend_unreachable,
                        "cannot read from warren's console at " + path_ + ": " +
                            errno_text(errno));
    }
  }

  caf::expected<console_reply> parse_reply(const std::string& line) const {
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    if (!doc.HasParseError() && doc.IsObject()) {
      auto ok = doc.FindMember("ok");
      auto output = doc.FindMember("output");
      if (ok != doc.MemberEnd() && ok->value.IsBool() && output != doc.MemberEnd() &&
          output->value.IsString())
        return console_reply{
            ok->value.GetBool(),
            std::string(output->value.GetString(), output->value.GetStringLength())};
    }
    return make_error(ec::backend_protocol, "warren's console at " + path_ +
                                                " answered with something other than "
                                                "{\"ok\":...,\"output\":\"...\"}: " +
                                                quote(line));
  }

  std::string path_;
  milliseconds timeout_;
  int fd_ = -1;
  std::string buffer_; // bytes received after the last complete line
};

// Prints an answer: output to `out`, a refusal to `err`. True if it ran.
bool print_reply(const console_reply& reply, std::ostream& out, std::ostream& err) {
  print_output(reply.ok ? out : err, reply.output);
  return reply.ok;
}

int fail(const caf::error& error, std::ostream& err) {
  err << message_of(error) << '\n';
  err.flush();
  return 1;
}

int run_one(const console_options& options, std::ostream& out, std::ostream& err) {
  auto command = trim(*options.command);
  if (command.find_first_of("\r\n") != std::string::npos) {
    err << "a console command is one line; run several with a script on stdin\n";
    return 2;
  }
  console_connection conn(options.socket_path, options.reply_timeout);
  if (auto failed = conn.connect())
    return fail(failed, err);
  if (ends_session(command)) {
    conn.quit();
    return 0;
  }
  auto reply = conn.ask(with_json(command, options.json));
  if (!reply)
    return fail(reply.error(), err);
  bool ran = print_reply(*reply, out, err);
  conn.quit();
  return ran ? 0 : 1;
}

int run_script(const console_options& options, std::istream& in, std::ostream& out,
               std::ostream& err) {
  console_connection conn(options.socket_path, options.reply_timeout);
  if (auto failed = conn.connect())
    return fail(failed, err);
  int rc = 0;
  for (std::string raw; std::getline(in, raw);) {
    auto command = trim(raw);
    if (command.empty() || command.front() == '#')
      continue;
    if (ends_session(command))
      break;
    auto reply = conn.ask(with_json(command, options.json));
    if (!reply)
      return fail(reply.error(), err);
    if (!print_reply(*reply, out, err))
      rc = 1;
  }
  conn.quit();
  return rc;
}

// The terminal in a mode where one key press (Ctrl-C included) can be read at once
// and is not echoed, for as long as `top` refreshes; restored, with anything typed
// and unread discarded, on the way out.
class raw_terminal {
public:
  raw_terminal() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0)
      return;
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO | ISIG));
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }

  ~raw_terminal() {
    if (active_)
      ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }

  raw_terminal(const raw_terminal&) = delete;
  raw_terminal& operator=(const raw_terminal&) = delete;

private:
  termios saved_{};
  bool active_ = false;
};

// Waits up to `interval` for input on stdin; true if something arrived (consumed).
bool key_pressed(milliseconds interval) {
  auto deadline = steady_clock::now() + interval;
  for (;;) {
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
    pollfd p{STDIN_FILENO, POLLIN, 0};
    int n = ::poll(&p, 1, left.count() > 0 ? static_cast<int>(left.count()) : 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0; // a broken stdin stops the refresh too
    // Consume what was typed so it does not end up at the next prompt.
    char drain[256];
    (void)::read(STDIN_FILENO, drain, sizeof(drain));
    return true;
  }
}

// `top` in an interactive session: the answer redrawn every second until a key.
caf::error run_top(console_connection& conn, const std::string& command, bool json,
                   std::ostream& out, std::ostream& err) {
  raw_terminal terminal;
  for (;;) {
    auto reply = conn.ask(with_json(command, json));
    if (!reply)
      return reply.error();
    if (!reply->ok) {
      print_output(err, reply->output);
      return {};
    }
    out << clear_screen;
    print_output(out, reply->output);
    out << "(refreshing every " << duration_text(top_interval)
        << "; press any key to stop)\n";
    out.flush();
    if (key_pressed(top_interval))
      return {};
  }
}

std::string history_file() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0')
    return {};
  return std::string(home) + "/.warren_console_history";
}

// Lets readline's Tab insert nothing rather than complete file names, which mean
// nothing to the console.
char** no_completion(const char*, int, int) {
  rl_attempted_completion_over = 1;
  return nullptr;
}

int run_interactive(const console_options& options, std::ostream& out,
                    std::ostream& err) {
  console_connection conn(options.socket_path, options.reply_timeout);
  if (auto failed = conn.connect())
    return fail(failed, err);

  auto history = history_file();
  using_history();
  stifle_history(history_lines);
  if (!history.empty()) {
    // Created private: commands may name queues and vhosts.
    int fd = ::open(history.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0)
      ::close(fd);
    read_history(history.c_str());
  }
  rl_attempted_completion_function = no_completion;

  out << "Connected to warren's console at " << options.socket_path
      << ". Type help for the commands, quit or Ctrl-D to leave.\n";
  out.flush();
  int rc = 0;
  for (;;) {
    char* raw = readline("warren> ");
    if (raw == nullptr) {
      out << '\n';
      break;
    }
    auto command = trim(raw);
    std::free(raw);
    if (command.empty())
      continue;
    add_history(command.c_str());
    if (!history.empty())
      append_history(1, history.c_str());
    if (ends_session(command))
      break;
    if (verb_of(command) == "top") {
      if (auto failed = run_top(conn, command, options.json, out, err)) {
        rc = fail(failed, err);
        break;
      }
      continue;
    }
    auto reply = conn.ask(with_json(command, options.json));
    if (!reply) {
      rc = fail(reply.error(), err);
      break;
    }
    print_reply(*reply, out, err);
  }
  if (!history.empty())
    history_truncate_file(history.c_str(), history_lines);
  if (rc == 0)
    conn.quit();
  return rc;
}

} // namespace

int run_console(const console_options& options, std::istream& in, std::ostream& out,
                std::ostream& err) {
  try {
    if (options.command)
      return run_one(options, out, err);
    return run_script(options, in, out, err);
  } catch (const std::exception& e) {
    // Only allocation failures can get here; report them rather than abort.
    err << "warren console failed: " << e.what() << '\n';
    return 1;
  }
}

int run_console(const std::string& socket_path, std::optional<std::string> command,
                bool json, std::ostream& out, std::ostream& err) {
  console_options options;
  options.socket_path = socket_path;
  options.command = std::move(command);
  options.json = json;
  if (!options.command && ::isatty(STDIN_FILENO)) {
    try {
      return run_interactive(options, out, err);
    } catch (const std::exception& e) {
      err << "warren console failed: " << e.what() << '\n';
      return 1;
    }
  }
  return run_console(options, std::cin, out, err);
}

int run_report(const std::string& socket_path, bool json, std::ostream& out,
               std::ostream& err) {
  return run_console(socket_path, std::string("report"), json, out, err);
}

} // namespace warren
