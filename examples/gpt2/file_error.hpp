/// \file
/// \brief The form of every message about a bad file: "pot: <file>: <what is wrong>".
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace gpt2 {

/// \brief "pot: <file>: <problem>". A \p problem that is itself a message of this
/// library (an exception of a lower layer, "pot: ...") loses its own "pot: " prefix.
std::string file_error_message(const std::filesystem::path& file, std::string_view problem);

/// \brief Throws std::runtime_error(file_error_message(file, problem)).
[[noreturn]] void throw_file_error(const std::filesystem::path& file, std::string_view problem);

}  // namespace gpt2
