/// \file
/// \brief How many threads a layer's own loops (not its GEMMs) may use.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <type_traits>

#include "pot/linalg/execution.hpp"

namespace pot::nn {

/// \brief Values each thread of a layer's elementwise or per-row pass must get: below
/// this, handing the work to a pool worker costs more than it saves (a pass over 2^14
/// floats takes a few microseconds).
inline constexpr std::size_t min_elements_per_thread = std::size_t{1} << 14;

/// \brief \p exec narrowed for a layer pass over \p elements values.
///
/// For float and double: at most one thread per min_elements_per_thread values (at
/// least one), within thread_count(\p exec), on \p exec's pool; without \p elements,
/// \p exec unchanged (for passes whose items are large, such as attention heads). For
/// every other Scalar one thread, since an autodiff variable records onto its own
/// thread's tape.
template <class Scalar>
linalg::execution layer_execution(linalg::execution exec,
                                  std::size_t elements = std::numeric_limits<std::size_t>::max()) noexcept {
  if constexpr (!std::is_floating_point_v<Scalar>) {
    return linalg::with_threads(exec, 1);
  } else {
    const std::size_t useful = std::max<std::size_t>(1, elements / min_elements_per_thread);
    return linalg::with_threads(
        exec, static_cast<unsigned>(std::min<std::size_t>(useful, linalg::thread_count(exec))));
  }
}

}  // namespace pot::nn
