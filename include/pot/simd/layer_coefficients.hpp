#pragma once
/// \file
/// \brief The constants the float loops of the nn layers (simd/layer_loops.hpp) take
/// besides pointers and sizes, defined once outside every target region.

#include <numbers>

namespace pot::simd {

/// \brief `sqrt(2 / pi)` in float, the factor of GELU's tanh approximation.
inline constexpr float gelu_sqrt_2_over_pi = static_cast<float>(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);

/// \brief One AdamW step's per-tensor factors in float (nn/adamw.hpp computes them from
/// its options and the step number).
struct adamw_coefficients {
  float beta1;            ///< decay of the first moment
  float beta2;            ///< decay of the second moment
  float one_minus_beta1;  ///< `1 - beta1` rounded to float, as the formula's float loop has it
  float one_minus_beta2;  ///< `1 - beta2` rounded to float
  float step_size;                         ///< lr / (1 - beta1^step)
  float inverse_sqrt_correction2;          ///< 1 / sqrt(1 - beta2^step)
  float epsilon;                           ///< added to the denominator
  float decay_factor;                      ///< 1 - lr * weight_decay, or 1 without decay
};

}  // namespace pot::simd
