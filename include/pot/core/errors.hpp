#pragma once
/// \file
/// \brief The library's error messages: "pot: " followed by what went wrong, and the size
/// check of every function that maps one span onto another.

#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>

namespace pot::detail {

/// \brief Formats a message as "pot: " followed by the streamed arguments.
template <class... Parts>
std::string message(const Parts&... parts) {
  std::ostringstream out;
  out << "pot: ";
  (out << ... << parts);
  return out.str();
}

/// \brief Throws std::invalid_argument unless two spans that are processed element by
/// element have the same length.
inline void require_same_size(std::size_t input, std::size_t output, const char* what) {
  if (input != output)
    throw std::invalid_argument(message(what, ": input has ", input, " elements but output has ", output));
}

}  // namespace pot::detail
