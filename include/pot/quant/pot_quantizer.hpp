#pragma once
/// \file
/// \brief PoT quantization of float weights: scale rules, per tensor or per output channel.
///
/// A weight `w` is stored as a pot `p = P(w / scale)` (the pot type's rounding and
/// saturation) and read back as `scale * p`. The scale is chosen from the weights it
/// covers (the whole tensor, or one row of a row-major (rows, cols) matrix) by a rule:
///
/// - scale_rule::max_abs, the paper's rule (and the PyTorch reference's pot.py):
///   `scale = max|w| / 2^MaxExp`, so the largest weight maps to `2^MaxExp`.
/// - scale_rule::power_of_two: `scale = 2^ceil(log2(max|w| / 2^MaxExp))`, the least power
///   of two not below the max_abs scale, so an integer pipeline rescales by a shift.
/// - scale_rule::min_error: of the 33 candidates `s_j = float(max_abs_scale * 2^(-j/16))`,
///   j = 0..32 (one octave down from the max rule in sixteenth-octave steps), the one with
///   the least sum of squared errors `sum (w - s * P(w / s))^2`; ties keep the smaller j.
///   Candidate 0 is the max_abs scale, so the error is never above the max rule's.
///
/// Special inputs: weights that are all zero get scale 0 (every code is `P(0.0f)`, and
/// every weight reads back as exactly 0). NaN or infinite weights throw
/// std::domain_error naming the index, and so does a max|w| so small that the max_abs
/// scale is not a normal float (or so large that it overflows).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <vector>

#include "pot/core/errors.hpp"
#include "pot/core/pot.hpp"
#include "pot/core/traits.hpp"

namespace pot {

/// \brief How a scale is chosen from the weights it covers (see the file comment).
enum class scale_rule {
  max_abs,       ///< \brief `max|w| / 2^MaxExp` (the paper's rule).
  power_of_two,  ///< \brief The least power of two not below the max_abs scale.
  min_error      ///< \brief Least squared error over 33 candidates below the max_abs scale.
};

/// \brief Whether a matrix has one scale, or one per output channel (row).
enum class scale_granularity {
  per_tensor,  ///< \brief One scale for the whole matrix.
  per_channel  ///< \brief One scale per row of a row-major (rows, cols) matrix.
};

/// \brief `P(w / scale)`, the pot that stores weight `w`; with scale 0 (an all-zero
/// tensor), `P(0.0f)`.
template <pot_type P>
constexpr P quantize_pot(float w, float scale) noexcept {
  return scale == 0.0f ? P(0.0f) : P(w / scale);
}

/// \brief The weight a pot stands for, `scale * p`: exact in double, rounded once to float.
template <pot_type P>
constexpr float dequantize_pot(P p, float scale) noexcept {
  return static_cast<float>(static_cast<double>(scale) * static_cast<double>(p));
}

/// \brief Sum of squared errors `sum (w - dequantize_pot(quantize_pot(w, scale), scale))^2`
/// in double.
template <pot_type P>
double pot_squared_error(std::span<const float> weights, float scale) noexcept {
  double sum = 0.0;
  for (const float w : weights) {
    const double error = static_cast<double>(w) - dequantize_pot(quantize_pot<P>(w, scale), scale);
    sum += error * error;
  }
  return sum;
}

namespace detail {

/// \brief max|w| of `weights`, whose first element has index `first_index` in the
/// caller's tensor (for the message).
/// \throws std::domain_error on a NaN or infinite weight.
inline float checked_max_abs(std::span<const float> weights, std::size_t first_index) {
  float max_abs = 0.0f;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (!std::isfinite(weights[i]))
      throw std::domain_error(message("weight ", weights[i], " at index ", first_index + i,
                                      " cannot be quantized to a power of two"));
    max_abs = std::max(max_abs, std::abs(weights[i]));
  }
  return max_abs;
}

}  // namespace detail

/// \brief The scale for `weights` under `rule` (0 if they are all zero).
/// \tparam P the pot format the weights will be quantized to.
/// \param weights the tensor (or one row of it).
/// \param rule how the scale is chosen.
/// \param first_index index of `weights[0]` in the caller's tensor, used in messages.
/// \throws std::domain_error on a NaN or infinite weight, or a max|w| whose max_abs scale
/// is not a normal float.
template <pot_type P>
float pot_scale(std::span<const float> weights, scale_rule rule, std::size_t first_index = 0) {
  const float max_abs = detail::checked_max_abs(weights, first_index);
  if (max_abs == 0.0f) return 0.0f;
  const float max_rule = std::ldexp(max_abs, -P::max_exponent);
  if (!std::isnormal(max_rule))
    throw std::domain_error(detail::message("max|w| = ", max_abs, " gives the scale ", max_rule,
                                            " = max|w| / 2^", P::max_exponent,
                                            ", which is not a normal float"));
  switch (rule) {
    case scale_rule::max_abs:
      return max_rule;
    case scale_rule::power_of_two: {
      int exponent = 0;
      const float mantissa = std::frexp(max_rule, &exponent);  // max_rule = mantissa * 2^exponent
      return mantissa == 0.5f ? max_rule : std::ldexp(1.0f, exponent);
    }
    case scale_rule::min_error: {
      float best_scale = max_rule;
      double best_error = pot_squared_error<P>(weights, max_rule);
      for (int step = 1; step <= 32; ++step) {
        const auto candidate =
            static_cast<float>(static_cast<double>(max_rule) * std::exp2(-step / 16.0));
        const double error = pot_squared_error<P>(weights, candidate);
        if (error < best_error) {
          best_error = error;
          best_scale = candidate;
        }
      }
      return best_scale;
    }
  }
  throw std::invalid_argument("pot: unknown scale_rule");
}

/// \brief The scales of a row-major (rows, cols) matrix: one for the tensor, or one per row.
/// \throws std::invalid_argument if `weights` does not hold rows * cols values;
/// std::domain_error as pot_scale().
template <pot_type P>
std::vector<float> pot_scales(std::span<const float> weights, std::size_t rows, std::size_t cols,
                              scale_granularity granularity, scale_rule rule) {
  if (cols != 0 && rows > std::numeric_limits<std::size_t>::max() / cols)
    throw std::invalid_argument(detail::message("a ", rows, " x ", cols, " matrix is too large"));
  if (weights.size() != rows * cols)
    throw std::invalid_argument(detail::message("a ", rows, " x ", cols, " matrix needs ",
                                                rows * cols, " weights, got ", weights.size()));
  if (granularity == scale_granularity::per_tensor) return {pot_scale<P>(weights, rule)};
  std::vector<float> scales(rows);
  for (std::size_t r = 0; r < rows; ++r)
    scales[r] = pot_scale<P>(weights.subspan(r * cols, cols), rule, r * cols);
  return scales;
}

/// \brief Quantizes `weights` with one `scale` into pot codes `out` (same length).
/// \throws std::invalid_argument if the lengths differ.
template <pot_type P>
void quantize_pot(std::span<const float> weights, float scale,
                  std::span<typename P::code_type> out) {
  detail::require_same_size(weights.size(), out.size(), "pot quantize");
  for (std::size_t i = 0; i < weights.size(); ++i) out[i] = quantize_pot<P>(weights[i], scale).code();
}

/// \brief Dequantizes pot codes with one `scale` into `out` (same length).
/// \throws std::invalid_argument if the lengths differ or a code has no value.
template <pot_type P>
void dequantize_pot(std::span<const typename P::code_type> codes, float scale, std::span<float> out) {
  detail::require_same_size(codes.size(), out.size(), "pot dequantize");
  for (std::size_t i = 0; i < codes.size(); ++i) out[i] = dequantize_pot(P::from_code(codes[i]), scale);
}

}  // namespace pot
