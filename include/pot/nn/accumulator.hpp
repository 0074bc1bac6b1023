/// \file
/// \brief The type a layer accumulates long sums in.
#pragma once

#include <type_traits>

namespace pot::nn {

/// \brief Accumulator type for sums over a row: double for float, the type itself otherwise.
///
/// A float row sum over C = 768 terms loses about log2(768) bits in the worst case; the
/// sums are serial chains either way (their order is fixed without -ffast-math), so a
/// double accumulator costs no measurable time and keeps layernorm's statistics exact to
/// float precision (see docs/benchmarks.md, "Layers").
template <class Scalar>
using accumulator_t = std::conditional_t<std::is_same_v<Scalar, float>, double, Scalar>;

}  // namespace pot::nn
