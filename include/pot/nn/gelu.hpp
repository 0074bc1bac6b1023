/// \file
/// \brief GELU with GPT-2's tanh approximation: forward and backward.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>

#include "pot/nn/vectorize.hpp"

namespace pot::nn {

namespace detail {

// The formula once for both loops: Value is Scalar itself, or an xsimd register of
// floats (then ADL picks xsimd::tanh).

/// \brief `tanh(sqrt(2/pi) (x + 0.044715 x^3))`.
template <class Scalar, class Value>
Value gelu_tanh(const Value& x) {
  using std::tanh;
  const Scalar sqrt_2_over_pi = Scalar(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);
  const Scalar cubic = Scalar(0.044715);
  return tanh(sqrt_2_over_pi * (x + cubic * x * x * x));
}

/// \brief `gelu(x) = 0.5 x (1 + th)` from th = gelu_tanh(x).
template <class Scalar, class Value>
Value gelu_value(const Value& x, const Value& th) {
  return Scalar(0.5) * x * (Scalar(1) + th);
}

/// \brief `gelu'(x)` from th = gelu_tanh(x).
template <class Scalar, class Value>
Value gelu_slope(const Value& x, const Value& th) {
  const Scalar sqrt_2_over_pi = Scalar(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);
  const Scalar cubic = Scalar(0.044715);
  const Value dth = sqrt_2_over_pi * (Scalar(1) + Scalar(3) * cubic * x * x) * (Scalar(1) - th * th);
  return Scalar(0.5) * (Scalar(1) + th) + Scalar(0.5) * x * dth;
}

}  // namespace detail

/// \brief `out[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` for x = `inp[i]`.
///
/// For float the loop runs on xsimd registers with xsimd's tanh (tests/nn/gelu.test.cpp
/// bounds its error against the double loop): libm's scalar tanhf made GELU the
/// costliest layer of a nanoGPT block (docs/benchmarks.md, "Layers").
/// \param out (N)
/// \param inp (N)
/// \param N number of values
template <class Scalar>
void gelu_forward(Scalar* out, const Scalar* inp, std::size_t N) {
  if constexpr (has_simd_path<Scalar>) {
    using batch = detail::float_batch;
    for (std::size_t i = 0; i < N; i += batch::size) {
      const std::size_t count = std::min(batch::size, N - i);
      const batch x = detail::load_batch(inp + i, count);
      detail::store_batch(out + i, detail::gelu_value<float>(x, detail::gelu_tanh<float>(x)), count);
    }
  } else {
    for (std::size_t i = 0; i < N; ++i)
      out[i] = detail::gelu_value<Scalar>(inp[i], detail::gelu_tanh<Scalar>(inp[i]));
  }
}

/// \brief Backward of gelu_forward; accumulates `dinp[i] += gelu'(inp[i]) * dout[i]`.
///
/// Recomputes the tanh rather than caching it: on the xsimd path that costs less than
/// writing and reading another (B, T, 4C) buffer.
/// \param dinp (N) accumulated with +=
/// \param inp  (N) the forward input
/// \param dout (N)
/// \param N number of values
template <class Scalar>
void gelu_backward(Scalar* dinp, const Scalar* inp, const Scalar* dout, std::size_t N) {
  if constexpr (has_simd_path<Scalar>) {
    using batch = detail::float_batch;
    for (std::size_t i = 0; i < N; i += batch::size) {
      const std::size_t count = std::min(batch::size, N - i);
      const batch x = detail::load_batch(inp + i, count);
      const batch slope = detail::gelu_slope<float>(x, detail::gelu_tanh<float>(x));
      detail::store_batch(dinp + i,
                          detail::load_batch(dinp + i, count) + slope * detail::load_batch(dout + i, count),
                          count);
    }
  } else {
    for (std::size_t i = 0; i < N; ++i)
      dinp[i] += detail::gelu_slope<Scalar>(inp[i], detail::gelu_tanh<Scalar>(inp[i])) * dout[i];
  }
}

}  // namespace pot::nn
