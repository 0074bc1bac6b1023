/// \file
/// \brief GELU with GPT-2's tanh approximation: forward and backward.
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>

namespace pot::nn {

/// \brief `out[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` for x = `inp[i]`.
/// \param out (N)
/// \param inp (N)
/// \param N number of values
template <class Scalar>
void gelu_forward(Scalar* out, const Scalar* inp, std::size_t N) {
  using std::tanh;
  const Scalar sqrt_2_over_pi = Scalar(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);
  const Scalar cubic = Scalar(0.044715);
  for (std::size_t i = 0; i < N; ++i) {
    const Scalar x = inp[i];
    out[i] = Scalar(0.5) * x * (Scalar(1) + tanh(sqrt_2_over_pi * (x + cubic * x * x * x)));
  }
}

/// \brief Backward of gelu_forward; accumulates `dinp[i] += gelu'(inp[i]) * dout[i]`.
/// \param dinp (N) accumulated with +=
/// \param inp  (N) the forward input
/// \param dout (N)
/// \param N number of values
template <class Scalar>
void gelu_backward(Scalar* dinp, const Scalar* inp, const Scalar* dout, std::size_t N) {
  using std::tanh;
  const Scalar sqrt_2_over_pi = Scalar(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);
  const Scalar cubic = Scalar(0.044715);
  for (std::size_t i = 0; i < N; ++i) {
    const Scalar x = inp[i];
    const Scalar th = tanh(sqrt_2_over_pi * (x + cubic * x * x * x));
    const Scalar dth = sqrt_2_over_pi * (Scalar(1) + Scalar(3) * cubic * x * x) * (Scalar(1) - th * th);
    dinp[i] += (Scalar(0.5) * (Scalar(1) + th) + Scalar(0.5) * x * dth) * dout[i];
  }
}

}  // namespace pot::nn
