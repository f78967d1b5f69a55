#pragma once

// A private temporary directory for a test's files, removed with everything in it.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <doctest/doctest.h>

namespace warren::test {

struct temp_dir {
  std::filesystem::path path;

  temp_dir() {
    auto pattern =
        (std::filesystem::temp_directory_path() / "warren-test-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }

  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// Writes `text` to the file `name` in the directory and returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    auto file = path / name;
    std::ofstream out(file);
    out << text;
    return file.string();
  }
};

} // namespace warren::test
