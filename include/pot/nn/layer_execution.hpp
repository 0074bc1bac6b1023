/// \file
/// \brief How many threads a layer's own loops (not its GEMMs) may use.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <type_traits>

#include "pot/linalg/execution.hpp"

namespace pot::nn {

/// \brief \p exec narrowed for a layer pass over \p elements values.
///
/// For float and double: linalg::for_work(\p exec, \p elements), the grain-size rule
/// of linalg/execution.hpp; without \p elements, \p exec unchanged (for passes whose
/// items are large, such as attention heads). For every other Scalar one thread, since
/// an autodiff variable records onto its own thread's tape.
template <class Scalar>
linalg::execution layer_execution(linalg::execution exec,
                                  std::size_t elements = std::numeric_limits<std::size_t>::max()) noexcept {
  if constexpr (!std::is_floating_point_v<Scalar>) {
    return linalg::with_threads(exec, 1);
  } else {
    return linalg::for_work(exec, static_cast<double>(elements));
  }
}

}  // namespace pot::nn
