/// \file
/// \brief GELU with GPT-2's tanh approximation: forward and backward.
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>

#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/vectorize.hpp"

namespace pot::nn {

namespace detail {

// The formula of the generic loops; simd/detail/layer_loops.inl has it in the same
// operation order for float registers.

/// \brief `tanh(sqrt(2/pi) (x + 0.044715 x^3))`.
template <class Scalar>
Scalar gelu_tanh(const Scalar& x) {
  using std::tanh;
  const Scalar sqrt_2_over_pi = Scalar(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);
  const Scalar cubic = Scalar(0.044715);
  return tanh(sqrt_2_over_pi * (x + cubic * x * x * x));
}

/// \brief `gelu(x) = 0.5 x (1 + th)` from th = gelu_tanh(x).
template <class Scalar>
Scalar gelu_value(const Scalar& x, const Scalar& th) {
  return Scalar(0.5) * x * (Scalar(1) + th);
}

/// \brief `gelu'(x)` from th = gelu_tanh(x).
template <class Scalar>
Scalar gelu_slope(const Scalar& x, const Scalar& th) {
  const Scalar sqrt_2_over_pi = Scalar(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);
  const Scalar cubic = Scalar(0.044715);
  const Scalar dth = sqrt_2_over_pi * (Scalar(1) + Scalar(3) * cubic * x * x) * (Scalar(1) - th * th);
  return Scalar(0.5) * (Scalar(1) + th) + Scalar(0.5) * x * dth;
}

}  // namespace detail

/// \brief `out[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` for x = `inp[i]`.
///
/// For float the loop runs on the registers of the instruction set chosen at run time
/// (simd/layer_loops.hpp) with a vector tanh (tests/nn/gelu.test.cpp bounds its error
/// against the double loop for every instruction set): libm's scalar tanhf made GELU the
/// costliest layer of a nanoGPT block (docs/benchmarks.md, "Layers").
/// \param out (N)
/// \param inp (N)
/// \param N number of values
/// \param exec threads, over ranges of values (see layer_execution); every value is
///   computed alike wherever a range ends, so results do not depend on them
template <class Scalar>
void gelu_forward(Scalar* out, const Scalar* inp, std::size_t N, linalg::execution exec = {}) {
  linalg::parallel_for(0, N, [&](std::size_t first, std::size_t last) {
    if constexpr (has_simd_path<Scalar>) {
      simd::dispatch(detail::layer_isa<Scalar>(), [&](auto tag) {
        simd::layer_loops_t<decltype(tag)>::gelu_forward(out + first, inp + first, last - first);
      });
    } else {
      for (std::size_t i = first; i < last; ++i)
        out[i] = detail::gelu_value<Scalar>(inp[i], detail::gelu_tanh<Scalar>(inp[i]));
    }
  }, layer_execution<Scalar>(exec, N));
}

/// \brief Backward of gelu_forward; accumulates `dinp[i] += gelu'(inp[i]) * dout[i]`.
///
/// Recomputes the tanh rather than caching it: on the register path that costs less than
/// writing and reading another (B, T, 4C) buffer.
/// \param dinp (N) accumulated with +=
/// \param inp  (N) the forward input
/// \param dout (N)
/// \param N number of values
/// \param exec threads, over ranges of values (see layer_execution)
template <class Scalar>
void gelu_backward(Scalar* dinp, const Scalar* inp, const Scalar* dout, std::size_t N, linalg::execution exec = {}) {
  linalg::parallel_for(0, N, [&](std::size_t first, std::size_t last) {
    if constexpr (has_simd_path<Scalar>) {
      simd::dispatch(detail::layer_isa<Scalar>(), [&](auto tag) {
        simd::layer_loops_t<decltype(tag)>::gelu_backward(dinp + first, inp + first, dout + first, last - first);
      });
    } else {
      for (std::size_t i = first; i < last; ++i)
        dinp[i] += detail::gelu_slope<Scalar>(inp[i], detail::gelu_tanh<Scalar>(inp[i])) * dout[i];
    }
  }, layer_execution<Scalar>(exec, N));
}

}  // namespace pot::nn
