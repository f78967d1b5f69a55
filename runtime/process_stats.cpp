#include "runtime/process_stats.hpp"

#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace warren {

namespace {

double boot_time_seconds() {
  std::ifstream stat{"/proc/stat"};
  std::string word;
  while (stat >> word)
    if (word == "btime") {
      double btime = 0;
      stat >> btime;
      return btime;
    }
  return 0;
}

double open_fds() {
  double count = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (auto* entry = readdir(dir))
      if (entry->d_name[0] != '.')
        ++count;
    closedir(dir);
    --count; // the descriptor opendir itself holds
  }
  return count;
}

} // namespace

process_figures read_process_figures() {
  process_figures p;
  std::ifstream file{"/proc/self/stat"};
  std::string line;
  if (!std::getline(file, line))
    return p;
  // The command name (field 2) may hold spaces; the fields after it follow its ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos)
    return p;
  std::istringstream rest{line.substr(close + 2)};
  std::string field;
  double utime = 0, stime = 0, start_ticks = 0, vsize = 0, rss_pages = 0;
  // Fields from 3 (state) on; utime is 14, stime 15, starttime 22, vsize 23, rss 24.
  for (int i = 3; i <= 24 && rest >> field; ++i) {
    if (i == 14)
      utime = std::stod(field);
    else if (i == 15)
      stime = std::stod(field);
    else if (i == 22)
      start_ticks = std::stod(field);
    else if (i == 23)
      vsize = std::stod(field);
    else if (i == 24)
      rss_pages = std::stod(field);
  }
  auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  p.known = true;
  p.cpu_seconds = (utime + stime) / ticks;
  p.virtual_bytes = vsize;
  p.resident_bytes = rss_pages * static_cast<double>(sysconf(_SC_PAGESIZE));
  p.start_time_seconds = boot_time_seconds() + start_ticks / ticks;
  p.open_fds = open_fds();
  return p;
}

} // namespace warren
