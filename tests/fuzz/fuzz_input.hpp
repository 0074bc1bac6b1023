/// \file
/// \brief What the fuzz targets share: a file for the parsers that read from a path, the
/// split of one input into several parts, and the checks every failure must pass.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pot_fuzz {

/// \brief Reports a broken property and aborts: libFuzzer then saves the input.
[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "pot fuzz: %s\n", what.c_str());
  std::abort();
}

/// \brief A file that holds the current input, in a directory of this process's own:
/// under /dev/shm where there is one (memory: the writers' fsync costs nothing there),
/// else the temporary directory. Removed when the process ends normally.
class scratch_file {
 public:
  explicit scratch_file(const std::string& name) : path_(directory() / name) {}
  scratch_file(const scratch_file&) = delete;
  scratch_file& operator=(const scratch_file&) = delete;
  ~scratch_file() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
    std::filesystem::remove(path_.parent_path(), ignored);  // once it is empty
  }

  /// \brief Replaces the file's contents with \p bytes.
  void write(std::string_view bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) fail("cannot write " + path_.string());
  }

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  static std::filesystem::path directory() {
    const std::filesystem::path memory = "/dev/shm";
    const auto base = std::filesystem::is_directory(memory) ? memory : std::filesystem::temp_directory_path();
    const auto own = base / ("pot-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(own);
    return own;
  }

  std::filesystem::path path_;
};

/// \brief The input as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// \brief The input cut at its first \p parts - 1 NUL bytes (missing parts are empty):
/// several files from one input, e.g. "encoder.json\0vocab.bpe\0text".
inline std::vector<std::string_view> split_at_nul(std::string_view input, std::size_t parts) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < parts) {
    const std::size_t nul = input.find('\0');
    if (nul == std::string_view::npos) break;
    out.push_back(input.substr(0, nul));
    input.remove_prefix(nul + 1);
  }
  out.push_back(input);
  out.resize(parts);
  return out;
}

/// \brief Aborts unless \p error's message has the form of every message about a bad
/// file, "pot: <file>: <problem>", for one of \p files.
inline void require_file_message(const std::exception& error, std::initializer_list<std::filesystem::path> files) {
  const std::string_view message = error.what();
  for (const auto& file : files)
    if (message.starts_with("pot: " + file.string() + ": ") &&
        message.size() > file.string().size() + 7 && !message.substr(file.string().size() + 7).starts_with("pot: "))
      return;
  fail("a message not of the form \"pot: FILE: problem\": " + std::string(message));
}

/// \brief Writes the input into \p file and returns what \p load makes of that file, or
/// nullopt when it throws a std::runtime_error of the form "pot: FILE: problem" (any other
/// exception escapes, and libFuzzer reports it).
template <class Load>
auto load_input(const scratch_file& file, const std::uint8_t* data, std::size_t size, const Load& load)
    -> std::optional<decltype(load(file.path()))> {
  file.write(as_text(data, size));
  try {
    return load(file.path());
  } catch (const std::runtime_error& error) {
    require_file_message(error, {file.path()});
    return std::nullopt;
  }
}

/// \brief Aborts unless \p error's message starts with "pot: ".
inline void require_pot_message(const std::exception& error) {
  if (!std::string_view(error.what()).starts_with("pot: "))
    fail("a message without \"pot: \": " + std::string(error.what()));
}

}  // namespace pot_fuzz
