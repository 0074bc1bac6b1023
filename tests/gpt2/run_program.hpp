/// \file
/// \brief Runs the `gpt2` program as a user does, for the tests of its subcommands.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <doctest/doctest.h>

#include "temporary_directory.hpp"

namespace gpt2_test {

/// \brief What a run printed and returned.
struct program_run {
  int exit_code = -1;
  std::string out, err;
};

/// \brief The bytes of \p path.
inline std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// \brief Runs `gpt2 <arguments>` (arguments without quotes or spaces inside them), under
/// the cross-compiling emulator if there is one, with stdout and stderr in \p dir.
inline program_run run_gpt2(const temporary_directory& dir, const std::string& arguments) {
  const std::string command = std::string(POT_GPT2_LAUNCHER) + "'" + POT_GPT2_PROGRAM + "' " + arguments + " >'" +
                              (dir / "stdout").string() + "' 2>'" + (dir / "stderr").string() + "'";
  const int status = std::system(command.c_str());
  REQUIRE(WIFEXITED(status));
  return {WEXITSTATUS(status), read_all(dir / "stdout"), read_all(dir / "stderr")};
}

/// \brief The number printed right after \p label in \p output.
inline double number_after(const std::string& output, const std::string& label) {
  const std::size_t at = output.find(label);
  REQUIRE_MESSAGE(at != std::string::npos, "no \"" << label << "\" in: " << output);
  return std::stod(output.substr(at + label.size()));
}

}  // namespace gpt2_test
