#include "file_error.hpp"

#include <stdexcept>

namespace gpt2 {

std::string file_error_message(const std::filesystem::path& file, std::string_view problem) {
  constexpr std::string_view prefix = "pot: ";
  if (problem.starts_with(prefix)) problem.remove_prefix(prefix.size());
  return std::string(prefix) + file.string() + ": " + std::string(problem);
}

void throw_file_error(const std::filesystem::path& file, std::string_view problem) {
  throw std::runtime_error(file_error_message(file, problem));
}

}  // namespace gpt2
