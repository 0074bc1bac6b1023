#pragma once
/// \file
/// \brief Fake quantization of PoT weights (quantize to `scale * P(x / scale)`, in floating
/// point) with its straight-through estimators: the forward pass writes the quantized
/// values and a mask, the backward pass (quant/ste.hpp) turns output gradients into input
/// gradients, and LSQ's scale gradient is computed here.
///
/// `y = scale * P(x / scale)` through the pot type's own rounding and saturation (`x /
/// scale` formed in the input's type, as the PyTorch reference's pot.py does in float).
/// The mask is the reference's "clip" rule: 1 where the exponent rounded *before*
/// saturation, `e`, satisfies `MinExp <= e <= MaxExp`. For `x == 0` the reference takes
/// `e` from `frexp(0) = (0, 0)`, i.e. `e = -1`, so 0 is masked out whenever `MinExp >= 0`;
/// we reproduce that. ±inf and NaN have mask 0; NaN gives NaN. (The rounding threshold is
/// the pot type's exact `sqrt(2)`; the reference compares with the float nearest
/// `sqrt(2)`, which differs for one mantissa only.)
///
/// LSQ for PoT. With `v = x / s` and `y = s * Q(v)`, the chain rule gives
/// `dy/ds = Q(v) + s * Q'(v) * (-x / s^2) = Q(v) - v * Q'(v)`, and the STE sets
/// `Q'(v) = mask`. So `dy/ds = Q(v) - v` inside the range and `Q(v)` (the saturated
/// level) outside, and `dy/dx = mask`. LSQ multiplies the scale gradient by
/// `g = 1 / sqrt(n * Qmax)` (lsq_gradient_scale(), Qmax = `2^MaxExp`), so the scale
/// learns at the pace of the weights.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <type_traits>

#include "pot/core/errors.hpp"
#include "pot/core/pot.hpp"
#include "pot/core/rounding.hpp"
#include "pot/core/traits.hpp"
#include "pot/quant/ste.hpp"

namespace pot {

/// \brief One PoT fake-quantized value and what its gradients need.
template <class T>
struct pot_fake_quantized {
  T value;        ///< \brief `scale * level`.
  T level;        ///< \brief `P(x / scale)` as a number (exact: a power of two or 0).
  T scaled;       ///< \brief `x / scale` (0 when the scale is 0).
  bool in_range;  ///< \brief The mask: the unsaturated exponent lies in [MinExp, MaxExp].

  /// \brief d value / d x under `estimator`.
  T input_partial(ste_estimator estimator) const noexcept {
    return estimator == ste_estimator::identity || in_range ? T(1) : T(0);
  }
  /// \brief LSQ's d value / d scale: `level - scaled` inside the range, `level` outside.
  T scale_partial() const noexcept { return in_range ? level - scaled : level; }
};

namespace detail {

/// \brief Throws std::invalid_argument unless a PoT scale is finite and >= 0 (0 is the
/// scale of an all-zero tensor, as pot_scale() gives it).
template <class T>
void require_pot_scale(T scale) {
  if (!std::isfinite(scale) || scale < T(0))
    throw std::invalid_argument(
        message("PoT fake-quantization needs a finite scale >= 0 (got ", scale, ")"));
}

}  // namespace detail

/// \brief Fake-quantizes `x` to `scale * P(x / scale)` and reports the mask.
/// \tparam P the pot type, whose rounding policy and saturation are used as they are
/// \throws std::invalid_argument if `scale` is negative, infinite or NaN.
template <pot_type P, class T>
  requires std::is_floating_point_v<T>
pot_fake_quantized<T> fake_quantize_pot(T x, T scale) {
  detail::require_pot_scale(scale);
  const T scaled = scale == T(0) ? T(0) : x / scale;
  if (std::isnan(scaled)) return {scaled, scaled, scaled, false};
  const double level = static_cast<double>(P(scaled));
  const rounded_power rounded = round_to_power_of_two<P::rounding_policy>(scaled);
  // The reference's frexp(0) = (0, 0) makes the exponent of 0 equal to -1.
  const int exponent = rounded.kind == float_kind::zero ? -1 : rounded.exponent;
  const bool in_range = rounded.kind != float_kind::infinite && P::min_exponent <= exponent &&
                        exponent <= P::max_exponent;
  return {static_cast<T>(static_cast<double>(scale) * level), static_cast<T>(level), scaled,
          in_range};
}

/// \brief Forward pass of PoT fake-quantization over a tensor: `y[i] = scale * P(x[i] /
/// scale)` and `mask[i]` (1 where the exponent was in range, else 0).
/// \throws std::invalid_argument if the spans' lengths differ or the scale is negative,
/// infinite or NaN.
template <pot_type P>
void fake_quantize_pot_forward(std::span<const float> x, float scale, std::span<float> y,
                               std::span<std::uint8_t> mask) {
  detail::require_same_size(x.size(), y.size(), "PoT fake-quantize forward (y)");
  detail::require_same_size(x.size(), mask.size(), "PoT fake-quantize forward (mask)");
  detail::require_pot_scale(scale);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const pot_fake_quantized<float> q = fake_quantize_pot<P>(x[i], scale);
    y[i] = q.value;
    mask[i] = q.in_range ? 1 : 0;
  }
}

/// \brief LSQ gradient of the loss with respect to a PoT scale:
/// `gradient_scale * sum_i dy[i] * (level_i - mask_i * x[i] / scale)`, summed in double.
/// \throws std::invalid_argument if the spans' lengths differ or the scale is invalid.
template <pot_type P>
double fake_quantize_pot_scale_gradient(std::span<const float> dy, std::span<const float> x,
                                        float scale, double gradient_scale = 1.0) {
  detail::require_same_size(x.size(), dy.size(), "PoT scale gradient (dy)");
  detail::require_pot_scale(scale);
  double sum = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i)
    sum += static_cast<double>(dy[i]) *
           static_cast<double>(fake_quantize_pot<P>(x[i], scale).scale_partial());
  return gradient_scale * sum;
}

}  // namespace pot
