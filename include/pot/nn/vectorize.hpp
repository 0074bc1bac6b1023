/// \file
/// \brief What the float fast paths of the nn layers share: when a layer runs the
/// dispatched float loops of simd/layer_loops.hpp, the element-wise sums every layer
/// needs, and sums in interleaved partial sums for the generic loops.
#pragma once

#include <cstddef>
#include <type_traits>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/layer_loops.hpp"

namespace pot::nn {

/// \brief True when Scalar is float and the build has the layer loops: then the layers
/// run simd/layer_loops.hpp's loops for the instruction set chosen at run time
/// (simd::active_isa()), and every other Scalar (double as the reference, autodiff
/// variables) the generic scalar loop.
template <class Scalar>
inline constexpr bool has_simd_path = std::is_same_v<Scalar, float> && simd::layer_loops_compiled;

/// \brief `sum over i < n of term(i)` in eight independent partial sums, added pairwise
/// at the end.
///
/// One running sum is a chain of dependent additions (4 cycles each on Zen 3); eight
/// chains overlap. The terms are unchanged, only the order of the additions differs from
/// the plain loop (and is fixed, so a result does not depend on anything but n and the
/// terms).
template <class Accumulator, class Term>
Accumulator sum_in_lanes(std::size_t n, Term term) {
  constexpr std::size_t lanes = 8;
  Accumulator partial[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (std::size_t lane = 0; lane < lanes; ++lane) partial[lane] += term(i + lane);
  for (std::size_t lane = 0; i < n; ++i, ++lane) partial[lane] += term(i);
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
         ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

namespace detail {

/// \brief `out[i] = a[i] + b[i]` for i < n; `out` may be `a` (then it accumulates `b`).
///
/// For float on the dispatched registers: g++ -O2 leaves the plain loop scalar (it would
/// need a run-time check that the pointers do not overlap), and bias adds, bias
/// gradients and residuals run it over every activation.
template <class Scalar>
void add(Scalar* out, const Scalar* a, const Scalar* b, std::size_t n, simd::isa isa) {
  if constexpr (has_simd_path<Scalar>) {
    simd::dispatch(isa, [&](auto tag) { simd::layer_loops_t<decltype(tag)>::add(out, a, b, n); });
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
  }
}

/// \brief `sums[j] += sum over r < rows of values[r * stride + j]` for j < width, each
/// column summed in row order.
///
/// The float path keeps a register of column sums across all rows instead of loading
/// and storing the sums once per row: the same additions in the same order, so the same
/// result as adding the rows one by one.
template <class Scalar>
void add_rows(Scalar* sums, const Scalar* values, std::size_t rows, std::size_t stride, std::size_t width,
              simd::isa isa) {
  if constexpr (has_simd_path<Scalar>) {
    simd::dispatch(isa, [&](auto tag) { simd::layer_loops_t<decltype(tag)>::add_rows(sums, values, rows, stride, width); });
  } else {
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t j = 0; j < width; ++j) sums[j] += values[r * stride + j];
  }
}

/// \brief The instruction set a layer call runs its float loops on, read once per call
/// (simd::active_isa()); the portable one for the generic loops, which ignore it.
template <class Scalar>
simd::isa layer_isa() {
  if constexpr (has_simd_path<Scalar>)
    return simd::active_isa();
  else
    return simd::isa::portable;
}

}  // namespace detail
}  // namespace pot::nn
