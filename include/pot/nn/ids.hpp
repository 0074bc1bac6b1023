/// \file
/// \brief Range check for integer ids (tokens, targets) that index a table of V rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace pot::nn {

/// \brief Throws std::out_of_range naming the first id outside [0, V).
/// \param ids  (N)
/// \param what what the ids are, for the message ("token id", "target")
/// \param N number of values
/// \param V vocabulary size (number of classes)
inline void check_ids(const std::int32_t* ids, std::size_t N, std::size_t V, const char* what) {
  for (std::size_t i = 0; i < N; ++i) {
    if (ids[i] < 0 || static_cast<std::size_t>(ids[i]) >= V)
      throw std::out_of_range(std::string("pot: ") + what + " " + std::to_string(ids[i]) +
                              " at index " + std::to_string(i) + " is outside [0, V = " +
                              std::to_string(V) + ")");
  }
}

}  // namespace pot::nn
